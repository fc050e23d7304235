//! OSV ecosystem names and the version scheme each one uses.
//!
//! The list follows the OSV schema's `ecosystems.json`. An ecosystem string may
//! carry a release suffix after a colon (`Debian:12`, `Alpine:v3.20`,
//! `Ubuntu:22.04:LTS`); the suffix scopes packages but never changes how
//! versions compare, so it is kept aside in [`EcosystemSpec`].

use std::fmt;
use std::str::FromStr;

use crate::VersionError;

macro_rules! ecosystems {
    ($( $variant:ident => $name:literal => $scheme:ident ),* $(,)?) => {
        /// An ecosystem from the OSV schema's list.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Ecosystem {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl Ecosystem {
            /// Every ecosystem, in the order of the OSV list.
            pub const ALL: &'static [Ecosystem] = &[$(Ecosystem::$variant),*];

            /// The name exactly as the OSV schema spells it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Ecosystem::$variant => $name,)*
                }
            }

            /// The version scheme whose rules order this ecosystem's versions.
            pub fn scheme(self) -> Scheme {
                match self {
                    $(Ecosystem::$variant => Scheme::$scheme,)*
                }
            }

            /// Looks up an ecosystem by its OSV name, without a release suffix.
            /// The match is exact, as in OSV records, except that ASCII case is
            /// ignored (SBOM tools write `pypi`, `Npm`, `golang`...).
            pub fn from_osv_name(name: &str) -> Option<Ecosystem> {
                $(
                    if name.eq_ignore_ascii_case($name) {
                        return Some(Ecosystem::$variant);
                    }
                )*
                None
            }
        }
    };
}

ecosystems! {
    AlmaLinux => "AlmaLinux" => Rpm,
    Alpaquita => "Alpaquita" => Apk,
    Alpine => "Alpine" => Apk,
    Android => "Android" => Android,
    AzureLinux => "Azure Linux" => Rpm,
    BellSoftHardenedContainers => "BellSoft Hardened Containers" => Apk,
    Bioconductor => "Bioconductor" => Cran,
    Bitnami => "Bitnami" => SemVer,
    Chainguard => "Chainguard" => Apk,
    CleanStart => "CleanStart" => Apk,
    ConanCenter => "ConanCenter" => Conan,
    Cran => "CRAN" => Cran,
    CratesIo => "crates.io" => SemVer,
    Debian => "Debian" => Dpkg,
    DockerHardenedImages => "Docker Hardened Images" => Dpkg,
    Echo => "Echo" => Dpkg,
    FreeBsd => "FreeBSD" => FreeBsd,
    Ghc => "GHC" => Hackage,
    GitHubActions => "GitHub Actions" => SemVer,
    Go => "Go" => Go,
    Hackage => "Hackage" => Hackage,
    Hex => "Hex" => SemVer,
    Julia => "Julia" => SemVer,
    Kubernetes => "Kubernetes" => Go,
    Linux => "Linux" => Linux,
    Mageia => "Mageia" => Rpm,
    Maven => "Maven" => Maven,
    MinimOs => "MinimOS" => Apk,
    Npm => "npm" => Npm,
    NuGet => "NuGet" => NuGet,
    Opam => "opam" => Opam,
    OpenEuler => "openEuler" => Rpm,
    OpenSuse => "openSUSE" => Rpm,
    OssFuzz => "OSS-Fuzz" => Opaque,
    Packagist => "Packagist" => Composer,
    PhotonOs => "Photon OS" => Rpm,
    Pub => "Pub" => Pub,
    PyPI => "PyPI" => Pep440,
    RedHat => "Red Hat" => Rpm,
    RockyLinux => "Rocky Linux" => Rpm,
    Root => "Root" => Root,
    RubyGems => "RubyGems" => RubyGems,
    Suse => "SUSE" => Rpm,
    SwiftUrl => "SwiftURL" => SemVer,
    TuxCare => "TuxCare" => Rpm,
    Ubuntu => "Ubuntu" => Dpkg,
    VsCode => "VSCode" => SemVer,
    Wolfi => "Wolfi" => Apk,
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Ecosystem {
    type Err = VersionError;

    /// Parses an OSV ecosystem string; a release suffix (`Debian:12`) is accepted
    /// and dropped. Use [`EcosystemSpec`] to keep it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EcosystemSpec::from_str(s).map(|spec| spec.ecosystem)
    }
}

/// An ecosystem string as OSV writes it: the ecosystem and an optional release
/// (`Debian:12` is Debian, release `12`; `Ubuntu:Pro:22.04:LTS` keeps
/// `Pro:22.04:LTS` as the release).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EcosystemSpec {
    /// The ecosystem.
    pub ecosystem: Ecosystem,
    /// What followed the first colon, if anything did.
    pub release: Option<String>,
}

impl FromStr for EcosystemSpec {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (base, release) = match s.split_once(':') {
            Some((base, rest)) => (base, Some(rest.to_owned())),
            None => (s, None),
        };
        let ecosystem = Ecosystem::from_osv_name(base.trim())
            .ok_or_else(|| VersionError::UnknownEcosystem(s.to_owned()))?;
        Ok(EcosystemSpec { ecosystem, release })
    }
}

impl fmt::Display for EcosystemSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.release {
            Some(release) => write!(f, "{}:{}", self.ecosystem, release),
            None => write!(f, "{}", self.ecosystem),
        }
    }
}

/// A family of ordering rules shared by one or more ecosystems.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Scheme {
    /// Semantic Versioning 2.0.0 (crates.io, Hex, GitHub Actions, SwiftURL...).
    SemVer,
    /// node-semver as npm applies it.
    Npm,
    /// Go modules: SemVer with a `v` prefix, `+incompatible`, pseudo-versions.
    Go,
    /// Dart's pub_semver (build metadata orders).
    Pub,
    /// PEP 440, with pip's handling of legacy versions.
    Pep440,
    /// Maven's `ComparableVersion`.
    Maven,
    /// NuGet's `NuGetVersion`.
    NuGet,
    /// RubyGems' `Gem::Version`.
    RubyGems,
    /// Composer's `VersionParser` normalisation and `version_compare`.
    Composer,
    /// dpkg's `verrevcmp` with epoch and revision.
    Dpkg,
    /// apk-tools' version comparison.
    Apk,
    /// rpmvercmp with epoch, `~` and `^`.
    Rpm,
    /// Haskell's `Data.Version`: dot-separated numbers.
    Hackage,
    /// R's `package_version`: numbers separated by `.` or `-`.
    Cran,
    /// Conan's version model.
    Conan,
    /// opam's version ordering (Debian-like).
    Opam,
    /// FreeBSD pkg's `pkg_version_cmp`.
    FreeBsd,
    /// Android security bulletin versions and patch levels.
    Android,
    /// Linux kernel release versions.
    Linux,
    /// Root.io patched versions of upstream packages.
    Root,
    /// No order is defined; only equality and listed versions apply.
    Opaque,
}
