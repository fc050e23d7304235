//! Exact version semantics for every OSV ecosystem.
//!
//! Everything Palisade says about a vulnerability rests on one question: is
//! version V of package P inside this affected range? This crate answers it the
//! way each ecosystem's own package manager does, with no I/O and no panics on
//! input.
//!
//! The design decision: a version is parsed once into a scheme-specific value
//! ([`Version`]) whose `Ord` is the ecosystem's order, so comparing pre-parsed
//! versions is cheap enough to match a whole portfolio. `Eq` agrees with `Ord`
//! (`1.0` equals `1.0.0` in PyPI), and `Hash` hashes the normalised form.
//!
//! ```
//! use palisade_versions::{Ecosystem, Version};
//! let a = Version::parse(Ecosystem::PyPI, "1.0rc1").unwrap();
//! let b = Version::parse(Ecosystem::PyPI, "1.0").unwrap();
//! assert!(a < b);
//! ```
//!
//! Each scheme lives in its own module under [`scheme`], exposing a
//! `XVersion` type and `parse(&str) -> Result<XVersion, String>` where the
//! error string is the reason, without the input (the caller adds context).

mod ecosystem;
#[doc(hidden)]
pub mod fixture;
pub mod range;
pub mod scheme;
pub mod vers;

use std::cmp::Ordering;
use std::fmt;

pub use ecosystem::{Ecosystem, EcosystemSpec, Scheme};
pub use range::{
    AffectedBy, AffectedRanges, Bound, CompiledRange, Evaluation, Interval, OsvAffected, OsvEvent,
    OsvPackage, OsvRange, RangeError, RangeStatus, RangeType, SetMatch, VersionSet,
};
pub use vers::{VersError, VersRange};

/// The longest version string we accept. Real versions are short; the limit
/// keeps hostile input from costing memory or time.
pub const MAX_VERSION_LEN: usize = 256;

/// Why a version or ecosystem could not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VersionError {
    /// The ecosystem name is not in the OSV list.
    #[error(
        "unknown ecosystem {0:?} (expected a name from the OSV schema, such as \"PyPI\" or \"Debian:12\")"
    )]
    UnknownEcosystem(String),
    /// The ecosystem knows no such version.
    #[error("invalid {ecosystem} version {version:?}: {reason}")]
    Invalid {
        /// The ecosystem whose rules were applied.
        ecosystem: Ecosystem,
        /// The input, cut to [`MAX_VERSION_LEN`] characters.
        version: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The ecosystem defines no order for its versions (for example OSS-Fuzz,
    /// whose ranges are git commits), so a range over it cannot be evaluated.
    #[error("{0} versions have no defined order; only exact versions can be matched")]
    Unordered(Ecosystem),
}

macro_rules! versions {
    ($( $scheme:ident => $module:ident :: $ty:ident ),* $(,)?) => {
        /// A parsed version. Values of one scheme compare by that scheme's
        /// rules; values of different schemes order by scheme (never a
        /// meaningful comparison, but total, so that sorting cannot panic).
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Version {
            $(
                #[doc = concat!("A [`Scheme::", stringify!($scheme), "`] version.")]
                $scheme(scheme::$module::$ty),
            )*
        }

        impl Version {
            /// Parses `input` by the rules of `scheme`.
            pub fn parse_scheme(scheme: Scheme, input: &str) -> Result<Version, String> {
                if input.len() > MAX_VERSION_LEN {
                    return Err(format!("longer than {MAX_VERSION_LEN} bytes"));
                }
                match scheme {
                    $(Scheme::$scheme => scheme::$module::parse(input).map(Version::$scheme),)*
                }
            }

            /// The scheme this version belongs to.
            pub fn scheme(&self) -> Scheme {
                match self {
                    $(Version::$scheme(_) => Scheme::$scheme,)*
                }
            }
        }

        impl fmt::Display for Version {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $(Version::$scheme(v) => fmt::Display::fmt(v, f),)*
                }
            }
        }
    };
}

versions! {
    SemVer => semver::SemVersion,
    Npm => npm::NpmVersion,
    Go => go::GoVersion,
    Pub => pub_semver::PubVersion,
    Pep440 => pep440::Pep440Version,
    Maven => maven::MavenVersion,
    NuGet => nuget::NuGetVersion,
    RubyGems => rubygems::GemVersion,
    Composer => composer::ComposerVersion,
    Dpkg => dpkg::DpkgVersion,
    Apk => apk::ApkVersion,
    Rpm => rpm::RpmVersion,
    Hackage => hackage::HackageVersion,
    Cran => cran::CranVersion,
    Conan => conan::ConanVersion,
    Opam => opam::OpamVersion,
    FreeBsd => freebsd::FreeBsdVersion,
    Android => android::AndroidVersion,
    Linux => linux::LinuxVersion,
    Root => root::RootVersion,
    Opaque => opaque::OpaqueVersion,
}

impl Version {
    /// Parses `input` as a version of `ecosystem`. The error names both.
    pub fn parse(ecosystem: Ecosystem, input: &str) -> Result<Version, VersionError> {
        Version::parse_scheme(ecosystem.scheme(), input).map_err(|reason| VersionError::Invalid {
            ecosystem,
            version: input.chars().take(MAX_VERSION_LEN).collect(),
            reason,
        })
    }
}

/// Compares two version strings of one ecosystem.
pub fn compare(ecosystem: Ecosystem, a: &str, b: &str) -> Result<Ordering, VersionError> {
    let a = Version::parse(ecosystem, a)?;
    let b = Version::parse(ecosystem, b)?;
    Ok(a.cmp(&b))
}
