//! Package URLs mapped to OSV package coordinates.
//!
//! A purl (`pkg:type/namespace/name@version?qualifiers#subpath`) is how SBOMs
//! and lockfile readers name a package; OSV names the same package by an
//! ecosystem (`PyPI`, `Debian:12`) and a name spelled the ecosystem's way
//! (`@scope/name`, `group:artifact`, a Go module path). This module turns the
//! first into the second, with no I/O.
//!
//! The design decision: one normalisation, [`normalize_name`] and
//! [`normalize_release`], is applied to *both* sides of a match: to the names
//! found in OSV records and to the names derived from purls. Matching then
//! compares normalised keys byte for byte, and every rule lives here:
//!
//! - PyPI: PEP 503 (lower case, runs of `-`, `_`, `.` become one `-`).
//! - npm: lower case. The purl specification lower-cases npm names, while OSV
//!   keeps legacy mixed-case names (`JSONStream`); npm forbids new names that
//!   differ only in case, so comparing lower-cased names loses nothing.
//! - Go: lower case. The purl specification lower-cases the `golang`
//!   namespace, while OSV writes module paths as published
//!   (`github.com/BurntSushi/toml`); the module proxy's case-encoding makes
//!   paths differing only in case practically non-existent.
//! - NuGet, Packagist, Hex, Pub, Debian, Ubuntu, Alpine: lower case (their
//!   package names are case-insensitive or always lower case).
//! - crates.io: lower case, `_` as `-` (crates.io refuses a new crate whose
//!   name equals an existing one under exactly this folding).
//! - Maven: `group:artifact`, case kept (coordinates are case-sensitive).
//! - Everything else: the name as written.
//!
//! Releases of OS ecosystems are normalised to the form OSV uses in its
//! ecosystem suffix: `Debian:12` (from `debian-12.4`, `12`, `bookworm`),
//! `Alpine:v3.20` (from `3.20.1`, `alpine-3.20`), `Ubuntu:22.04` (OSV's `:LTS`
//! marker is dropped on both sides), `AlmaLinux:9`, `Rocky Linux:9`.
//!
//! OS packages also carry the source package they were built from, from the
//! `upstream` qualifier (Syft; `name`, `name@version` or an RPM's
//! `name-version-release.src.rpm`), the `origin` qualifier (apk) or the
//! `source` qualifier: OSV's Debian and Alpine records name source packages.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use packageurl::PackageUrl;
use palisade_versions::Ecosystem;

use crate::SourcePackage;

/// The longest purl accepted. Real purls are a few hundred bytes at most.
pub const MAX_PURL_LEN: usize = 4096;

/// Why a purl could not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PurlError {
    /// The purl is longer than [`MAX_PURL_LEN`].
    #[error("purl is {len} bytes long; at most {MAX_PURL_LEN} are accepted")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The purl does not follow the purl specification.
    #[error("invalid purl {purl:?}: {reason}")]
    Invalid {
        /// The purl, cut to 200 characters.
        purl: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// A purl resolved to OSV coordinates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurlPackage {
    /// The purl type, lower case (`npm`, `deb`...).
    pub purl_type: String,
    /// The OSV ecosystem, when the type (and for OS packages the namespace)
    /// maps to one; `None` for `generic`, `oci`, unknown distributions...
    pub ecosystem: Option<Ecosystem>,
    /// The normalised release of an OS ecosystem (`12` for `Debian:12`,
    /// `v3.20` for `Alpine:v3.20`), when the `distro` qualifier gives it.
    pub release: Option<String>,
    /// The package name as OSV spells it (`@scope/name`, `group:artifact`,
    /// `github.com/org/module`), before [`normalize_name`].
    pub name: String,
    /// The version, with an RPM or deb `epoch` qualifier folded in
    /// (`1:1.0.2k-16.el7`).
    pub version: Option<String>,
    /// The source package of an OS package, from the qualifiers.
    pub source: Option<SourcePackage>,
    /// The canonical form of the purl.
    pub canonical: String,
}

impl PurlPackage {
    /// The OSV ecosystem string, with the release when known (`Debian:12`).
    pub fn ecosystem_string(&self) -> Option<String> {
        let eco = self.ecosystem?;
        Some(match &self.release {
            Some(r) => format!("{eco}:{r}"),
            None => eco.as_str().to_owned(),
        })
    }

    /// The name after [`normalize_name`], the form used for matching.
    pub fn normalized_name(&self) -> Cow<'_, str> {
        match self.ecosystem {
            Some(eco) => normalize_name(eco, &self.name),
            None => Cow::Borrowed(&self.name),
        }
    }
}

impl fmt::Display for PurlPackage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

impl FromStr for PurlPackage {
    type Err = PurlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

fn invalid(purl: &str, reason: impl fmt::Display) -> PurlError {
    PurlError::Invalid {
        purl: purl.chars().take(200).collect(),
        reason: reason.to_string(),
    }
}

/// Parses a purl and maps it to OSV coordinates.
pub fn parse(purl: &str) -> Result<PurlPackage, PurlError> {
    if purl.len() > MAX_PURL_LEN {
        return Err(PurlError::TooLong { len: purl.len() });
    }
    let parsed = PackageUrl::from_str(purl.trim()).map_err(|e| invalid(purl, e))?;
    let ty = parsed.ty().to_ascii_lowercase();
    let namespace = parsed.namespace().filter(|n| !n.is_empty());
    let raw_name = parsed.name();
    let qualifier = |key: &str| {
        parsed
            .qualifiers()
            .get(key)
            .map(|v| v.as_ref())
            .filter(|v| !v.is_empty())
    };
    let joined = |sep: &str| match namespace {
        Some(ns) => format!("{ns}{sep}{raw_name}"),
        None => raw_name.to_owned(),
    };

    let (ecosystem, name) = match ty.as_str() {
        "npm" => (Some(Ecosystem::Npm), joined("/")),
        "pypi" => (Some(Ecosystem::PyPI), raw_name.to_owned()),
        "maven" => match namespace {
            Some(group) => (Some(Ecosystem::Maven), format!("{group}:{raw_name}")),
            None => return Err(invalid(purl, "a Maven purl needs a group (namespace)")),
        },
        "golang" => (Some(Ecosystem::Go), joined("/")),
        "nuget" => (Some(Ecosystem::NuGet), raw_name.to_owned()),
        "cargo" => (Some(Ecosystem::CratesIo), raw_name.to_owned()),
        "gem" => (Some(Ecosystem::RubyGems), raw_name.to_owned()),
        "composer" => (Some(Ecosystem::Packagist), joined("/")),
        "hex" => (Some(Ecosystem::Hex), raw_name.to_owned()),
        "pub" => (Some(Ecosystem::Pub), raw_name.to_owned()),
        "hackage" => (Some(Ecosystem::Hackage), raw_name.to_owned()),
        "cran" => (Some(Ecosystem::Cran), raw_name.to_owned()),
        "conan" => (Some(Ecosystem::ConanCenter), raw_name.to_owned()),
        "swift" => (Some(Ecosystem::SwiftUrl), joined("/")),
        "bitnami" => (Some(Ecosystem::Bitnami), raw_name.to_owned()),
        "julia" => (Some(Ecosystem::Julia), raw_name.to_owned()),
        "opam" => (Some(Ecosystem::Opam), raw_name.to_owned()),
        "githubactions" => (Some(Ecosystem::GitHubActions), joined("/")),
        "deb" => (deb_ecosystem(namespace), raw_name.to_owned()),
        "rpm" => (rpm_ecosystem(namespace), raw_name.to_owned()),
        "apk" => (apk_ecosystem(namespace), raw_name.to_owned()),
        // `pkg:alpine/...` is an old spelling some scanners still write.
        "alpine" => (Some(Ecosystem::Alpine), raw_name.to_owned()),
        _ => (None, joined("/")),
    };

    let release = match (ecosystem, qualifier("distro")) {
        (Some(eco), Some(distro)) => normalize_release(eco, distro),
        _ => None,
    };

    let mut version = parsed.version().map(str::to_owned);
    if matches!(ty.as_str(), "rpm" | "deb")
        && let (Some(v), Some(epoch)) = (version.as_mut(), qualifier("epoch"))
        && !v.contains(':')
        && epoch != "0"
    {
        *v = format!("{epoch}:{v}");
    }

    let source = match ty.as_str() {
        "deb" | "apk" | "alpine" => qualifier("upstream")
            .or_else(|| qualifier("origin"))
            .or_else(|| qualifier("source"))
            .and_then(split_source),
        "rpm" => qualifier("upstream")
            .or_else(|| qualifier("sourcerpm"))
            .and_then(split_source_rpm),
        _ => None,
    };

    Ok(PurlPackage {
        purl_type: ty,
        ecosystem,
        release,
        name,
        version,
        source,
        canonical: parsed.to_string(),
    })
}

fn deb_ecosystem(namespace: Option<&str>) -> Option<Ecosystem> {
    match namespace?.to_ascii_lowercase().as_str() {
        "debian" => Some(Ecosystem::Debian),
        "ubuntu" => Some(Ecosystem::Ubuntu),
        "echo" => Some(Ecosystem::Echo),
        _ => None,
    }
}

fn rpm_ecosystem(namespace: Option<&str>) -> Option<Ecosystem> {
    match namespace?.to_ascii_lowercase().as_str() {
        "redhat" | "rhel" => Some(Ecosystem::RedHat),
        "almalinux" => Some(Ecosystem::AlmaLinux),
        "rocky" | "rockylinux" | "rocky-linux" => Some(Ecosystem::RockyLinux),
        "opensuse" => Some(Ecosystem::OpenSuse),
        "suse" | "sles" => Some(Ecosystem::Suse),
        "mageia" => Some(Ecosystem::Mageia),
        "openeuler" => Some(Ecosystem::OpenEuler),
        "photon" => Some(Ecosystem::PhotonOs),
        "azurelinux" | "mariner" | "cbl-mariner" => Some(Ecosystem::AzureLinux),
        _ => None,
    }
}

fn apk_ecosystem(namespace: Option<&str>) -> Option<Ecosystem> {
    match namespace?.to_ascii_lowercase().as_str() {
        "alpine" => Some(Ecosystem::Alpine),
        "wolfi" => Some(Ecosystem::Wolfi),
        "chainguard" => Some(Ecosystem::Chainguard),
        "alpaquita" => Some(Ecosystem::Alpaquita),
        "minimos" => Some(Ecosystem::MinimOs),
        _ => None,
    }
}

/// Splits a deb or apk source qualifier: `name`, `name@version` or dpkg's
/// `name (version)`.
fn split_source(value: &str) -> Option<SourcePackage> {
    let value = value.trim();
    let (name, version) = if let Some((n, v)) = value.split_once('@') {
        (n.trim(), Some(v.trim()))
    } else if let Some((n, rest)) = value.split_once(" (") {
        (n.trim(), rest.strip_suffix(')').map(str::trim))
    } else {
        (value, None)
    };
    if name.is_empty() {
        return None;
    }
    Some(SourcePackage {
        name: name.to_owned(),
        version: version.filter(|v| !v.is_empty()).map(str::to_owned),
    })
}

/// Splits an RPM source qualifier: a bare name, or a source RPM file name
/// `name-version-release.src.rpm` (the name may itself contain dashes).
fn split_source_rpm(value: &str) -> Option<SourcePackage> {
    let value = value.trim();
    let Some(stem) = value
        .strip_suffix(".src.rpm")
        .or_else(|| value.strip_suffix(".nosrc.rpm"))
    else {
        return split_source(value);
    };
    let mut parts = stem.rsplitn(3, '-');
    let release = parts.next()?;
    let version = parts.next()?;
    let name = parts.next()?;
    if name.is_empty() || version.is_empty() || release.is_empty() {
        return None;
    }
    Some(SourcePackage {
        name: name.to_owned(),
        version: Some(format!("{version}-{release}")),
    })
}

/// Normalises a package name of `ecosystem` for matching (see the module
/// documentation for the rules). Borrowed when nothing changes.
pub fn normalize_name(ecosystem: Ecosystem, name: &str) -> Cow<'_, str> {
    match ecosystem {
        Ecosystem::PyPI => pep503(name),
        Ecosystem::CratesIo => {
            if name.bytes().any(|b| b.is_ascii_uppercase() || b == b'_') {
                Cow::Owned(name.to_ascii_lowercase().replace('_', "-"))
            } else {
                Cow::Borrowed(name)
            }
        }
        Ecosystem::Npm
        | Ecosystem::Go
        | Ecosystem::NuGet
        | Ecosystem::Packagist
        | Ecosystem::Hex
        | Ecosystem::Pub
        | Ecosystem::Debian
        | Ecosystem::Ubuntu
        | Ecosystem::Alpine
        | Ecosystem::Wolfi
        | Ecosystem::Chainguard => lower(name),
        _ => Cow::Borrowed(name),
    }
}

fn lower(name: &str) -> Cow<'_, str> {
    if name.chars().any(char::is_uppercase) {
        Cow::Owned(name.to_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

/// PEP 503: `re.sub(r"[-_.]+", "-", name).lower()`.
fn pep503(name: &str) -> Cow<'_, str> {
    let separator = |c: char| matches!(c, '-' | '_' | '.');
    let bytes = name.as_bytes();
    let already = !name.chars().any(char::is_uppercase)
        && !name.contains(['_', '.'])
        && !bytes.windows(2).any(|w| w == b"--");
    if already {
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if separator(c) {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            in_run = false;
            out.extend(c.to_lowercase());
        }
    }
    Cow::Owned(out)
}

/// Normalises the release part of an OS ecosystem, from either an OSV
/// ecosystem suffix (`12`, `v3.20`, `22.04:LTS`) or a purl `distro`
/// qualifier (`debian-12.4`, `bookworm`, `3.20.1`, `ubuntu-22.04`,
/// `almalinux-9.4`). Returns `None` when the value cannot be understood, and
/// for ecosystems without releases.
pub fn normalize_release(ecosystem: Ecosystem, release: &str) -> Option<String> {
    let raw = release.trim();
    if raw.is_empty() {
        return None;
    }
    let lower = raw.to_ascii_lowercase();
    // Drop a leading distribution id (`debian-12`, `alpine-3.20`).
    let value = match lower.split_once('-') {
        Some((id, rest)) if id.chars().all(|c| c.is_ascii_alphabetic()) && !rest.is_empty() => {
            rest.to_owned()
        }
        _ => lower.clone(),
    };
    match ecosystem {
        Ecosystem::Debian => {
            let major = value.split('.').next().unwrap_or_default();
            if !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()) {
                return Some(major.trim_start_matches('0').to_owned()).filter(|m| !m.is_empty());
            }
            debian_codename(&value).map(str::to_owned)
        }
        Ecosystem::Ubuntu => {
            // OSV: `22.04:LTS`, `Pro:18.04:LTS`, `24.10`. Purl: `ubuntu-22.04`, `jammy`.
            let mut parts: Vec<&str> = raw.split(':').collect();
            if parts.last().is_some_and(|p| p.eq_ignore_ascii_case("lts")) {
                parts.pop();
            }
            if parts.len() > 1 {
                return Some(parts.join(":"));
            }
            let single = value.split(':').next().unwrap_or_default();
            if let Some(v) = ubuntu_codename(single) {
                return Some(v.to_owned());
            }
            let mut nums = single.split('.');
            match (nums.next(), nums.next()) {
                (Some(y), Some(m)) if is_digits(y) && is_digits(m) => Some(format!("{y}.{m}")),
                _ => None,
            }
        }
        Ecosystem::Alpine => {
            let v = value.trim_start_matches('v');
            let mut nums = v.split('.');
            match (nums.next(), nums.next()) {
                (Some(major), Some(minor)) if is_digits(major) && is_digits(minor) => {
                    Some(format!("v{major}.{minor}"))
                }
                _ if v == "edge" => Some("edge".to_owned()),
                _ => None,
            }
        }
        Ecosystem::AlmaLinux | Ecosystem::RockyLinux => {
            let major = value.split(['.', ':']).next().unwrap_or_default();
            is_digits(major).then(|| major.to_owned())
        }
        // Other ecosystems either have no releases or releases whose form
        // (Red Hat CPE-like streams, SUSE product names) a purl cannot give;
        // they are compared as written.
        _ => Some(raw.to_owned()),
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn debian_codename(name: &str) -> Option<&'static str> {
    Some(match name {
        "wheezy" => "7",
        "jessie" => "8",
        "stretch" => "9",
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        _ => return None,
    })
}

fn ubuntu_codename(name: &str) -> Option<&'static str> {
    Some(match name {
        "xenial" => "16.04",
        "bionic" => "18.04",
        "focal" => "20.04",
        "jammy" => "22.04",
        "lunar" => "23.04",
        "mantic" => "23.10",
        "noble" => "24.04",
        "oracular" => "24.10",
        "plucky" => "25.04",
        "questing" => "25.10",
        _ => return None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn p(s: &str) -> PurlPackage {
        parse(s).unwrap()
    }

    #[test]
    fn npm_scoped_and_plain() {
        let a = p("pkg:npm/%40angular/core@12.0.0");
        assert_eq!(a.ecosystem, Some(Ecosystem::Npm));
        assert_eq!(a.name, "@angular/core");
        assert_eq!(a.version.as_deref(), Some("12.0.0"));
        assert_eq!(a.ecosystem_string().as_deref(), Some("npm"));
        let b = p("pkg:npm/lodash@4.17.20");
        assert_eq!(b.name, "lodash");
        assert_eq!(normalize_name(Ecosystem::Npm, "JSONStream"), "jsonstream");
    }

    #[test]
    fn maven_group_artifact() {
        let a = p("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar");
        assert_eq!(a.ecosystem, Some(Ecosystem::Maven));
        assert_eq!(a.name, "org.apache.logging.log4j:log4j-core");
        assert_eq!(a.normalized_name(), "org.apache.logging.log4j:log4j-core");
        assert!(parse("pkg:maven/log4j-core@2.14.1").is_err());
    }

    #[test]
    fn pypi_pep503() {
        let a = p("pkg:pypi/Django_REST.framework@3.0");
        assert_eq!(a.ecosystem, Some(Ecosystem::PyPI));
        assert_eq!(a.normalized_name(), "django-rest-framework");
        assert_eq!(normalize_name(Ecosystem::PyPI, "Foo.__Bar"), "foo-bar");
        assert_eq!(normalize_name(Ecosystem::PyPI, "foo--bar"), "foo-bar");
        assert!(matches!(
            normalize_name(Ecosystem::PyPI, "requests"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn go_module_paths() {
        let a = p("pkg:golang/github.com/BurntSushi/toml@v1.2.0");
        assert_eq!(a.ecosystem, Some(Ecosystem::Go));
        assert_eq!(a.normalized_name(), "github.com/burntsushi/toml");
        assert_eq!(
            normalize_name(Ecosystem::Go, "github.com/BurntSushi/toml"),
            "github.com/burntsushi/toml"
        );
        let std = p("pkg:golang/stdlib@1.20.1");
        assert_eq!(std.name, "stdlib");
        let deep = p("pkg:golang/golang.org/x/net/http2@v0.1.0");
        assert_eq!(deep.name, "golang.org/x/net/http2");
    }

    #[test]
    fn nuget_cargo_and_others() {
        let a = p("pkg:nuget/Newtonsoft.Json@12.0.1");
        assert_eq!(a.ecosystem, Some(Ecosystem::NuGet));
        assert_eq!(a.normalized_name(), "newtonsoft.json");
        let c = p("pkg:cargo/Serde_JSON@1.0.0");
        assert_eq!(c.ecosystem, Some(Ecosystem::CratesIo));
        assert_eq!(c.normalized_name(), "serde-json");
        let g = p("pkg:gem/Rails@6.0.0");
        assert_eq!(g.ecosystem, Some(Ecosystem::RubyGems));
        assert_eq!(g.normalized_name(), "Rails");
        let php = p("pkg:composer/laravel/framework@7.12.0");
        assert_eq!(php.ecosystem, Some(Ecosystem::Packagist));
        assert_eq!(php.name, "laravel/framework");
        let generic = p("pkg:generic/openssl@1.1.1");
        assert_eq!(generic.ecosystem, None);
        assert_eq!(generic.ecosystem_string(), None);
        assert_eq!(generic.name, "openssl");
    }

    #[test]
    fn debian_distro_and_source() {
        let a =
            p("pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&upstream=glibc&distro=debian-12");
        assert_eq!(a.ecosystem, Some(Ecosystem::Debian));
        assert_eq!(a.release.as_deref(), Some("12"));
        assert_eq!(a.ecosystem_string().as_deref(), Some("Debian:12"));
        assert_eq!(a.version.as_deref(), Some("2.36-9+deb12u4"));
        assert_eq!(
            a.source,
            Some(SourcePackage {
                name: "glibc".into(),
                version: None
            })
        );
        let b = p("pkg:deb/debian/bash@5.0-4?distro=debian-10.2");
        assert_eq!(b.release.as_deref(), Some("10"));
        let c = p("pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie");
        assert_eq!(c.release.as_deref(), Some("8"));
        let d = p("pkg:deb/debian/libssl3@3.0.11-1?upstream=openssl%403.0.11-1~deb12u2");
        assert_eq!(
            d.source,
            Some(SourcePackage {
                name: "openssl".into(),
                version: Some("3.0.11-1~deb12u2".into())
            })
        );
        let e = p("pkg:deb/debian/libssl3@3.0.11-1?upstream=openssl%20(3.0.11-1)");
        assert_eq!(e.source.unwrap().version.as_deref(), Some("3.0.11-1"));
    }

    #[test]
    fn deb_epoch_is_folded_into_the_version() {
        let a = p("pkg:deb/ubuntu/libcrypt1@4.4.27-1?epoch=1&distro=ubuntu-22.04");
        assert_eq!(a.ecosystem, Some(Ecosystem::Ubuntu));
        assert_eq!(a.version.as_deref(), Some("1:4.4.27-1"));
        assert_eq!(a.release.as_deref(), Some("22.04"));
        let b = p("pkg:deb/ubuntu/x@1:2.0?epoch=1");
        assert_eq!(b.version.as_deref(), Some("1:2.0"));
    }

    #[test]
    fn alpine_release_and_origin() {
        let a = p("pkg:apk/alpine/zlib@1.2.12-r1?arch=x86_64&distro=3.22.0&origin=zlib");
        assert_eq!(a.ecosystem, Some(Ecosystem::Alpine));
        assert_eq!(a.ecosystem_string().as_deref(), Some("Alpine:v3.22"));
        assert_eq!(a.source.unwrap().name, "zlib");
        let b = p("pkg:apk/alpine/libcrypto3@3.1.4-r0?distro=alpine-3.19.1&upstream=openssl");
        assert_eq!(b.release.as_deref(), Some("v3.19"));
        assert_eq!(b.source.unwrap().name, "openssl");
        let w = p("pkg:apk/wolfi/glibc@2.39-r1");
        assert_eq!(w.ecosystem, Some(Ecosystem::Wolfi));
        assert_eq!(w.release, None);
    }

    #[test]
    fn rpm_families() {
        let a = p(
            "pkg:rpm/centos/openssl-libs@1.0.2k-16.el7?arch=x86_64&epoch=1&distro=centos-7.6.1810",
        );
        assert_eq!(a.ecosystem, None);
        assert_eq!(a.version.as_deref(), Some("1:1.0.2k-16.el7"));
        let b = p(
            "pkg:rpm/almalinux/openssl-libs@3.0.7-16.el9?distro=almalinux-9.4&upstream=openssl-3.0.7-16.el9.src.rpm",
        );
        assert_eq!(b.ecosystem_string().as_deref(), Some("AlmaLinux:9"));
        assert_eq!(
            b.source,
            Some(SourcePackage {
                name: "openssl".into(),
                version: Some("3.0.7-16.el9".into())
            })
        );
        let c = p("pkg:rpm/rocky/bash@5.1.8-6.el9?distro=rocky-9.3");
        assert_eq!(c.ecosystem_string().as_deref(), Some("Rocky Linux:9"));
        let d = p("pkg:rpm/redhat/bash@5.1.8-6.el9?epoch=0");
        assert_eq!(d.ecosystem, Some(Ecosystem::RedHat));
        assert_eq!(d.version.as_deref(), Some("5.1.8-6.el9"));
        assert_eq!(
            split_source_rpm("java-17-openjdk-17.0.9.0.9-2.el9.src.rpm"),
            Some(SourcePackage {
                name: "java-17-openjdk".into(),
                version: Some("17.0.9.0.9-2.el9".into())
            })
        );
    }

    #[test]
    fn releases_from_osv_suffixes_agree_with_purls() {
        use Ecosystem::*;
        assert_eq!(normalize_release(Debian, "12").as_deref(), Some("12"));
        assert_eq!(normalize_release(Debian, "bookworm").as_deref(), Some("12"));
        assert_eq!(
            normalize_release(Debian, "debian-12.4").as_deref(),
            Some("12")
        );
        assert_eq!(normalize_release(Alpine, "v3.20").as_deref(), Some("v3.20"));
        assert_eq!(
            normalize_release(Alpine, "3.20.3").as_deref(),
            Some("v3.20")
        );
        assert_eq!(normalize_release(Alpine, "edge").as_deref(), Some("edge"));
        assert_eq!(
            normalize_release(Ubuntu, "22.04:LTS").as_deref(),
            Some("22.04")
        );
        assert_eq!(
            normalize_release(Ubuntu, "ubuntu-22.04").as_deref(),
            Some("22.04")
        );
        assert_eq!(normalize_release(Ubuntu, "jammy").as_deref(), Some("22.04"));
        assert_eq!(normalize_release(Ubuntu, "24.10").as_deref(), Some("24.10"));
        assert_eq!(
            normalize_release(Ubuntu, "Pro:18.04:LTS").as_deref(),
            Some("Pro:18.04")
        );
        assert_eq!(normalize_release(AlmaLinux, "9").as_deref(), Some("9"));
        assert_eq!(
            normalize_release(RockyLinux, "rocky-8.9").as_deref(),
            Some("8")
        );
        assert_eq!(normalize_release(Debian, "sid?"), None);
        assert_eq!(normalize_release(Debian, ""), None);
    }

    #[test]
    fn bad_purls_are_errors_not_panics() {
        assert!(matches!(
            parse("npm/lodash"),
            Err(PurlError::Invalid { .. })
        ));
        assert!(matches!(parse("pkg:"), Err(PurlError::Invalid { .. })));
        assert!(matches!(
            parse("pkg:pypi/a/b@1"),
            Err(PurlError::Invalid { .. })
        ));
        let long = format!("pkg:npm/{}", "a".repeat(MAX_PURL_LEN));
        assert!(matches!(parse(&long), Err(PurlError::TooLong { .. })));
        let err = parse("pkg:npm/%ff@1").unwrap_err().to_string();
        assert!(err.contains("%ff"), "{err}");
    }

    #[test]
    fn canonical_form_sorts_qualifiers() {
        let a = p("pkg:deb/debian/curl@7.50.3-1?distro=jessie&arch=i386");
        assert_eq!(
            a.canonical,
            "pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie"
        );
        assert_eq!(a.to_string(), a.canonical);
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            let _ = parse(&s);
            let _ = parse(&format!("pkg:{s}"));
        }

        #[test]
        fn normalisation_is_idempotent(name in "[A-Za-z0-9._@/:-]{0,40}") {
            for eco in Ecosystem::ALL {
                let once = normalize_name(*eco, &name).into_owned();
                let twice = normalize_name(*eco, &once).into_owned();
                proptest::prop_assert_eq!(&once, &twice, "{}", eco);
            }
        }

        #[test]
        fn pep503_matches_the_reference(name in "[A-Za-z0-9._-]{0,30}") {
            // The reference: re.sub(r"[-_.]+", "-", name).lower().
            let mut reference = String::new();
            let mut prev_sep = false;
            for c in name.chars() {
                if matches!(c, '-' | '_' | '.') {
                    if !prev_sep { reference.push('-'); }
                    prev_sep = true;
                } else {
                    prev_sep = false;
                    reference.push(c.to_ascii_lowercase());
                }
            }
            proptest::prop_assert_eq!(normalize_name(Ecosystem::PyPI, &name), reference);
        }
    }
}
