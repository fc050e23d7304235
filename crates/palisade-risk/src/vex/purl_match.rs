//! Matching a statement's product (or subcomponent) against a finding's
//! component or the scanned artifact.
//!
//! Purls are compared by package, not by text: the type, the namespace
//! (case-insensitively) and the name normalised the ecosystem's way
//! (`palisade_inventory::purl::normalize_name`: PEP 503 for PyPI, lower
//! case for npm...). The statement's version, when it has one, must equal
//! the component's by the ecosystem's rules (`1.0 == 1.0.0` in PyPI); a
//! statement without a version matches every version, unless it carries a
//! narrowing (`version`: an exact version or a `vers:` range). Qualifiers
//! the statement gives must agree with the component's when the component
//! has them too (`arch=x86_64` does not match `arch=aarch64`); qualifiers
//! either side lacks are ignored. Other identifiers (bom-refs, CPEs,
//! names) match only the same text.

use std::collections::BTreeMap;
use std::str::FromStr;

use packageurl::PackageUrl;
use palisade_versions::{Ecosystem, VersRange, Version};

/// A purl taken apart for matching.
struct Parsed {
    ty: String,
    namespace: Option<String>,
    name: String,
    ecosystem: Option<Ecosystem>,
    version: Option<String>,
    qualifiers: BTreeMap<String, String>,
    subpath: Option<String>,
}

fn parse(s: &str) -> Option<Parsed> {
    let s = s.trim();
    if !s.starts_with("pkg:") || s.len() > palisade_inventory::purl::MAX_PURL_LEN {
        return None;
    }
    let p = PackageUrl::from_str(s).ok()?;
    let mapped = palisade_inventory::purl::parse(s).ok();
    let (ecosystem, name) = match &mapped {
        Some(m) => (m.ecosystem, m.normalized_name().into_owned()),
        None => (None, p.name().to_owned()),
    };
    Some(Parsed {
        ty: p.ty().to_ascii_lowercase(),
        namespace: p
            .namespace()
            .filter(|n| !n.is_empty())
            .map(str::to_ascii_lowercase),
        name,
        ecosystem,
        version: p.version().filter(|v| !v.is_empty()).map(str::to_owned),
        qualifiers: p
            .qualifiers()
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect(),
        subpath: p.subpath().filter(|s| !s.is_empty()).map(str::to_owned),
    })
}

/// Whether `s` is a purl with a version.
pub(crate) fn purl_has_version(s: &str) -> bool {
    parse(s).is_some_and(|p| p.version.is_some())
}

/// Whether `s` parses as a purl.
pub(crate) fn is_purl(s: &str) -> bool {
    parse(s).is_some()
}

/// `purl` with `version` added, when `purl` is a purl without a version and
/// `version` is an exact version (not a `vers:` range).
pub(crate) fn with_version(purl: &str, version: &str) -> Option<String> {
    if version.trim().starts_with("vers:") || version.trim().is_empty() {
        return None;
    }
    let mut p = PackageUrl::from_str(purl.trim()).ok()?;
    if p.version().is_some_and(|v| !v.is_empty()) {
        return None;
    }
    p.with_version(version.trim().to_owned()).ok()?;
    Some(p.to_string())
}

/// The package name of a purl (for CycloneDX component names), or the text.
pub(crate) fn display_name(s: &str) -> String {
    PackageUrl::from_str(s.trim())
        .map(|p| p.name().to_owned())
        .unwrap_or_else(|_| s.trim().to_owned())
}

fn versions_equal(ecosystem: Option<Ecosystem>, a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match ecosystem {
        Some(e) => match (Version::parse(e, a), Version::parse(e, b)) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        },
        None => false,
    }
}

/// How well a statement's identifier matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Precision {
    /// Any version of the package.
    Package,
    /// A version, a range of versions, or an exact non-purl identifier.
    Version,
}

/// Whether `pattern` (narrowed by `narrowing`) names `candidate`.
pub(crate) fn matches(
    pattern: &str,
    narrowing: Option<&str>,
    candidate: &str,
) -> Option<Precision> {
    let (pattern, candidate) = (pattern.trim(), candidate.trim());
    let Some(p) = parse(pattern) else {
        // Not a purl: the same text, and no narrowing to check.
        return (narrowing.is_none() && pattern == candidate).then_some(Precision::Version);
    };
    let c = parse(candidate)?;
    if p.ty != c.ty || p.namespace != c.namespace || p.name != c.name {
        return None;
    }
    if let Some(sp) = &p.subpath
        && c.subpath.as_ref() != Some(sp)
    {
        return None;
    }
    for (k, v) in &p.qualifiers {
        if let Some(cv) = c.qualifiers.get(k)
            && cv != v
        {
            return None;
        }
    }
    let ecosystem = p.ecosystem.or(c.ecosystem);
    if let Some(pv) = &p.version {
        let cv = c.version.as_deref()?;
        return versions_equal(ecosystem, pv, cv).then_some(Precision::Version);
    }
    let Some(n) = narrowing.map(str::trim) else {
        return Some(Precision::Package);
    };
    let cv = c.version.as_deref()?;
    if n.starts_with("vers:") {
        let range = VersRange::parse(n).ok()?;
        range
            .contains_str(cv)
            .ok()
            .filter(|&inside| inside)
            .map(|_| Precision::Version)
    } else {
        versions_equal(ecosystem, n, cv).then_some(Precision::Version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_match_by_package_then_version() {
        let m = |p: &str, n: Option<&str>, c: &str| matches(p, n, c);
        assert_eq!(
            m("pkg:npm/lodash", None, "pkg:npm/lodash@4.17.20"),
            Some(Precision::Package)
        );
        assert_eq!(
            m("pkg:npm/lodash@4.17.20", None, "pkg:npm/lodash@4.17.20"),
            Some(Precision::Version)
        );
        assert_eq!(
            m("pkg:npm/lodash@4.17.21", None, "pkg:npm/lodash@4.17.20"),
            None
        );
        assert_eq!(m("pkg:npm/lodash@4.17.21", None, "pkg:npm/lodash"), None);
        assert_eq!(
            m(
                "pkg:pypi/Django_Rest@1.0",
                None,
                "pkg:pypi/django-rest@1.0.0"
            ),
            Some(Precision::Version)
        );
        assert_eq!(m("pkg:npm/lodash", None, "pkg:npm/underscore@1.0.0"), None);
        assert_eq!(m("pkg:npm/lodash", None, "pkg:pypi/lodash@1.0.0"), None);
        // Qualifiers: ignored when the statement has none, compared when both have them.
        assert!(
            m(
                "pkg:apk/wolfi/git@2.39.0-r1",
                None,
                "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64"
            )
            .is_some()
        );
        assert!(
            m(
                "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64",
                None,
                "pkg:apk/wolfi/git@2.39.0-r1"
            )
            .is_some()
        );
        assert!(
            m(
                "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64",
                None,
                "pkg:apk/wolfi/git@2.39.0-r1?arch=aarch64"
            )
            .is_none()
        );
        // Narrowings.
        assert_eq!(
            m(
                "pkg:npm/a",
                Some("vers:npm/>=1.0.0|<2.0.0"),
                "pkg:npm/a@1.5.0"
            ),
            Some(Precision::Version)
        );
        assert_eq!(
            m(
                "pkg:npm/a",
                Some("vers:npm/>=1.0.0|<2.0.0"),
                "pkg:npm/a@2.0.0"
            ),
            None
        );
        assert_eq!(
            m("pkg:npm/a", Some("1.5.0"), "pkg:npm/a@1.5.0"),
            Some(Precision::Version)
        );
        assert_eq!(m("pkg:npm/a", Some("1.5.0"), "pkg:npm/a"), None);
        assert_eq!(
            m("pkg:npm/a", Some("vers:generic/>=1"), "pkg:npm/a@1.5.0"),
            None
        );
        // Other identifiers.
        assert_eq!(
            m("product-ABC", None, "product-ABC"),
            Some(Precision::Version)
        );
        assert_eq!(m("product-ABC", None, "product-abc"), None);
        assert_eq!(m("product-ABC", Some("2.4"), "product-ABC"), None);
        assert_eq!(m("pkg:npm/a", None, "not a purl"), None);
    }

    #[test]
    fn helpers() {
        assert!(purl_has_version("pkg:npm/a@1"));
        assert!(!purl_has_version("pkg:npm/a"));
        assert!(!purl_has_version("product"));
        assert_eq!(
            with_version("pkg:npm/a?x=y", "1.0.0").as_deref(),
            Some("pkg:npm/a@1.0.0?x=y")
        );
        assert_eq!(with_version("pkg:npm/a@2", "1.0.0"), None);
        assert_eq!(with_version("pkg:npm/a", "vers:npm/<2"), None);
        assert_eq!(with_version("product", "1"), None);
        assert_eq!(display_name("pkg:maven/org.x/y@1"), "y");
        assert!(is_purl("pkg:npm/a") && !is_purl("npm/a"));
    }
}
