//! Stable fingerprints and the normalisations they rest on.
//!
//! A fingerprint is the first 128 bits (32 hex digits) of a SHA-256 over a
//! tagged list of parts, so that the same finding gets the same fingerprint
//! on every upload, whatever the order of results in the document:
//!
//! | kind | parts |
//! |---|---|
//! | vulnerability | component key, advisory id |
//! | code (SARIF, `fingerprints`) | tool, the `fingerprints` map, ordinal |
//! | code (SARIF, `partialFingerprints`) | tool, rule, path, logical location, the map, ordinal |
//! | code (otherwise) | tool, rule, path, logical location, message without digits, ordinal |
//! | misconfiguration | tool, rule, path, resource or message without digits, ordinal |
//! | secret | tool, rule, path, ordinal |
//! | licence | tool, licence, component key or file |
//! | DAST | tool, rule, method, normalised URL, parameter |
//! | runtime | tool, rule, host, container, image, namespace, pod, process |
//!
//! Nothing line-dependent and no code snippet enters a fingerprint, so that
//! an edit above a finding does not make it new. Two results that would
//! share a fingerprint in one document (the same rule twice in one file and
//! function) are told apart by their *ordinal*: their rank among those
//! results by position, which survives line shifts.

use std::collections::BTreeMap;

use palisade_versions::{Ecosystem, EcosystemSpec};
use sha2::{Digest, Sha256};

use crate::model::{ComponentLocation, FileLocation, Location, RawFinding};

/// The fingerprint of `parts` under `tag`.
pub fn hash(tag: &str, parts: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(tag.as_bytes());
    for p in parts {
        h.update([0x1f]);
        h.update(p.as_bytes());
    }
    let digest = h.finalize();
    hex::encode(digest.get(..16).unwrap_or_default())
}

/// A tool name for fingerprints: lower case, trimmed.
pub fn tool_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Normalises a file path or URI for fingerprints and display: a `file:`
/// scheme is dropped, `%XX` escapes decoded, backslashes become forward
/// slashes, `.` segments and leading `./` go, repeated slashes collapse, and
/// one of `base_prefixes` (absolute URIs of SARIF `originalUriBaseIds`) is
/// stripped when the path starts with it.
pub fn normalize_path(uri: &str, base_prefixes: &[String]) -> String {
    let mut s = uri.trim().replace('\\', "/");
    for base in base_prefixes {
        let b = base.trim().replace('\\', "/");
        if b.len() > 1 && s.starts_with(&b) {
            s = s.get(b.len()..).unwrap_or_default().to_owned();
            break;
        }
    }
    let lower = s.to_ascii_lowercase();
    if lower.starts_with("file://") {
        s = s.get(7..).unwrap_or_default().to_owned();
        // `file:///C:/x` → `C:/x`; `file:///home/x` stays absolute.
        let b = s.as_bytes();
        if b.len() > 3 && b[0] == b'/' && b[1].is_ascii_alphabetic() && b[2] == b':' {
            s.remove(0);
        }
    } else if lower.starts_with("file:") {
        s = s.get(5..).unwrap_or_default().to_owned();
    }
    let s = percent_decode(&s).replace('\\', "/");
    let absolute = s.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for seg in s.split('/') {
        match seg {
            "" | "." => {}
            other => out.push(other),
        }
    }
    let joined = out.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' && i + 2 < bytes.len() {
            let hi = (bytes[i + 1] as char).to_digit(16);
            let lo = (bytes[i + 2] as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A message for fingerprints: digits removed (they are line numbers and
/// counts more often than not), whitespace collapsed, lower case.
pub fn normalize_message(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len().min(1024));
    let mut space = false;
    for c in msg.chars().take(1024) {
        if c.is_ascii_digit() {
            continue;
        }
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.extend(c.to_lowercase());
    }
    out
}

/// A URL for fingerprints: scheme and host lower case, a default port
/// dropped, the fragment dropped, and the query reduced to its sorted
/// parameter names (values change between requests).
pub fn normalize_url(url: &str) -> String {
    let url = url.trim();
    let url = url.split('#').next().unwrap_or_default();
    let (before_query, query) = match url.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (url, None),
    };
    let (scheme, rest) = match before_query.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => (String::new(), before_query),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (
            rest.get(..i).unwrap_or_default(),
            rest.get(i..).unwrap_or("/"),
        ),
        None => (rest, "/"),
    };
    let mut host = authority.to_ascii_lowercase();
    for (sch, port) in [("http", ":80"), ("https", ":443")] {
        if scheme == sch && host.ends_with(port) {
            host.truncate(host.len() - port.len());
        }
    }
    let mut out = if scheme.is_empty() {
        format!("{host}{path}")
    } else {
        format!("{scheme}://{host}{path}")
    };
    if let Some(q) = query {
        let mut names: Vec<&str> = q
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split('=').next().unwrap_or_default())
            .collect();
        names.sort_unstable();
        names.dedup();
        if !names.is_empty() {
            out.push('?');
            out.push_str(&names.join("&"));
        }
    }
    out
}

/// The key under which components are the same package at the same
/// version, whichever tool named them: `Ecosystem/normalised-name@version`
/// from the purl when it resolves (qualifiers such as `arch` and `distro`
/// ignored, names normalised as the matcher does), else from the
/// ecosystem and name the tool gave, else `?/lower-case-name@version`.
pub fn component_key(c: &ComponentLocation) -> String {
    if let Some(purl) = c.purl.as_deref().filter(|p| p.starts_with("pkg:"))
        && let Ok(p) = palisade_inventory::purl::parse(purl)
    {
        let version = p
            .version
            .clone()
            .or_else(|| c.version.clone())
            .unwrap_or_default();
        let eco = match p.ecosystem {
            Some(e) => e.as_str().to_owned(),
            None => format!("purl-{}", p.purl_type),
        };
        return format!("{eco}/{}@{}", p.normalized_name(), version.trim());
    }
    let version = c.version.as_deref().unwrap_or_default().trim();
    if let Some(spec) = c
        .ecosystem
        .as_deref()
        .and_then(|e| e.parse::<EcosystemSpec>().ok())
    {
        let name = palisade_inventory::purl::normalize_name(spec.ecosystem, c.name.trim());
        return format!("{}/{name}@{version}", spec.ecosystem);
    }
    format!("?/{}@{version}", c.name.trim().to_lowercase())
}

/// The ecosystem of an OSV ecosystem string or a tool's package type word,
/// when one is known.
pub fn ecosystem_of(word: &str) -> Option<Ecosystem> {
    if let Ok(spec) = word.parse::<EcosystemSpec>() {
        return Some(spec.ecosystem);
    }
    Some(match word.trim().to_ascii_lowercase().as_str() {
        "npm" | "yarn" | "pnpm" | "node-pkg" | "javascript" | "bun" => Ecosystem::Npm,
        "pip" | "pipenv" | "poetry" | "python-pkg" | "python" | "uv" | "conda-pkg" => {
            Ecosystem::PyPI
        }
        "gomod" | "gobinary" | "go-module" | "golang" | "go" => Ecosystem::Go,
        "jar" | "pom" | "gradle" | "sbt" | "java-archive" | "java" | "maven" => Ecosystem::Maven,
        "cargo" | "rust-binary" | "rust-crate" | "rust" => Ecosystem::CratesIo,
        "composer" | "composer-vendor" | "php-composer" | "php" => Ecosystem::Packagist,
        "nuget" | "dotnet-core" | "packages-props" | "dotnet" => Ecosystem::NuGet,
        "bundler" | "gemspec" | "gem" | "ruby" => Ecosystem::RubyGems,
        "hex" | "mix" | "erlang-otp" => Ecosystem::Hex,
        "pub" | "dart" => Ecosystem::Pub,
        "conan" => Ecosystem::ConanCenter,
        "swift" => Ecosystem::SwiftUrl,
        "alpine" | "apk" => Ecosystem::Alpine,
        "debian" => Ecosystem::Debian,
        "ubuntu" => Ecosystem::Ubuntu,
        "wolfi" => Ecosystem::Wolfi,
        "chainguard" => Ecosystem::Chainguard,
        "redhat" | "rhel" => Ecosystem::RedHat,
        "rocky" | "rockylinux" => Ecosystem::RockyLinux,
        "alma" | "almalinux" => Ecosystem::AlmaLinux,
        "opensuse" | "opensuse-leap" | "opensuse-tumbleweed" | "opensuse.leap" => {
            Ecosystem::OpenSuse
        }
        "suse" | "sles" | "sle-micro" | "slem" => Ecosystem::Suse,
        "photon" => Ecosystem::PhotonOs,
        _ => return None,
    })
}

/// The fingerprint basis for a file finding without tool fingerprints.
pub(crate) fn file_parts(f: &FileLocation) -> (String, String) {
    (
        f.path.clone().unwrap_or_default(),
        f.logical.clone().unwrap_or_default(),
    )
}

/// Gives findings that share a fingerprint in one document distinct ones:
/// the first by position keeps it, the n-th gets `#n` folded in. Only
/// file findings take part (SARIF results, Trivy misconfigurations and
/// secrets): even SARIF `fingerprints` are context hashes that repeat on
/// identical lines (Flawfinder), while one advisory on one component, one
/// ZAP alert on one URL and one Falco rule in one container *are* one.
pub(crate) fn disambiguate(findings: &mut [RawFinding]) {
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        if f.fingerprint_basis.starts_with("computed") || f.fingerprint_basis.starts_with("sarif-")
        {
            groups.entry(f.fingerprint.clone()).or_default().push(i);
        }
    }
    for (fp, mut members) in groups {
        if members.len() < 2 {
            continue;
        }
        members.sort_by_key(|&i| {
            let (line, col) = match findings.get(i).map(|f| &f.location) {
                Some(Location::File(l)) => (l.start_line, l.start_column),
                _ => (None, None),
            };
            (line, col, i)
        });
        for (ordinal, &i) in members.iter().enumerate().skip(1) {
            if let Some(f) = findings.get_mut(i) {
                f.fingerprint = hash("ordinal", &[&fp, &ordinal.to_string()]);
            }
        }
    }
}

/// Extracts CWE ids (`CWE-79`) from free text such as SARIF tags
/// (`external/cwe/cwe-079`, `CWE-89: Improper Neutralization...`).
pub fn cwes_in(text: &str) -> Vec<String> {
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    while let Some(pos) = lower.get(start..).and_then(|s| s.find("cwe")) {
        let at = start + pos;
        let mut i = at + 3;
        if bytes
            .get(i)
            .is_some_and(|b| *b == b'-' || *b == b'_' || *b == b'/')
        {
            i += 1;
        }
        let digits_start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let before_ok = at == 0 || !bytes.get(at - 1).is_some_and(u8::is_ascii_alphanumeric);
        if i > digits_start && i - digits_start <= 6 && before_ok {
            let digits = lower.get(digits_start..i).unwrap_or_default();
            let n = digits.trim_start_matches('0');
            if !n.is_empty() {
                out.push(format!("CWE-{n}"));
            }
        }
        start = at + 3;
    }
    out
}

/// Sorts and removes duplicates.
pub(crate) fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// Trims and drops empty strings.
pub(crate) fn clean(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_stable_and_separated() {
        assert_eq!(hash("t", &["a", "b"]).len(), 32);
        assert_eq!(hash("t", &["a", "b"]), hash("t", &["a", "b"]));
        assert_ne!(hash("t", &["ab", ""]), hash("t", &["a", "b"]));
        assert_ne!(hash("t", &["a"]), hash("u", &["a"]));
    }

    #[test]
    fn paths_normalise() {
        assert_eq!(normalize_path("./src/a.py", &[]), "src/a.py");
        assert_eq!(normalize_path("src\\lib\\a.cs", &[]), "src/lib/a.cs");
        assert_eq!(normalize_path("src//./a%20b.py", &[]), "src/a b.py");
        assert_eq!(normalize_path("file:///home/u/x.c", &[]), "/home/u/x.c");
        assert_eq!(normalize_path("file:///C:/code/x.c", &[]), "C:/code/x.c");
        let bases = vec!["file:///home/u/repo/".to_owned()];
        assert_eq!(
            normalize_path("file:///home/u/repo/src/x.c", &bases),
            "src/x.c"
        );
        assert_eq!(normalize_path("%", &[]), "%");
        assert_eq!(normalize_path("a%4", &[]), "a%4");
        assert_eq!(normalize_path("a%41", &[]), "aA");
    }

    #[test]
    fn messages_drop_digits_and_case() {
        assert_eq!(
            normalize_message("Buffer  overrun at line 42\n in F()"),
            "buffer overrun at line in f()"
        );
    }

    #[test]
    fn urls_normalise() {
        assert_eq!(
            normalize_url("HTTP://Example.COM:80/a/b?z=1&a=2&z=3#frag"),
            "http://example.com/a/b?a&z"
        );
        assert_eq!(normalize_url("https://x:8443"), "https://x:8443/");
        assert_eq!(normalize_url("not a url"), "not a url/");
    }

    #[test]
    fn component_keys_agree_across_tools() {
        let trivy = ComponentLocation {
            purl: Some("pkg:apk/alpine/libcrypto1.1@1.1.1c-r0?arch=x86_64&distro=3.10.2".into()),
            name: "libcrypto1.1".into(),
            version: Some("1.1.1c-r0".into()),
            ..Default::default()
        };
        let grype = ComponentLocation {
            purl: Some(
                "pkg:apk/alpine/libcrypto1.1@1.1.1c-r0?arch=x86_64&upstream=openssl&distro=alpine-3.10.2"
                    .into(),
            ),
            name: "libcrypto1.1".into(),
            version: Some("1.1.1c-r0".into()),
            ..Default::default()
        };
        assert_eq!(component_key(&trivy), component_key(&grype));
        let osv = ComponentLocation {
            ecosystem: Some("PyPI".into()),
            name: "Django_Rest".into(),
            version: Some("1.0".into()),
            ..Default::default()
        };
        let purl = ComponentLocation {
            purl: Some("pkg:pypi/django-rest@1.0".into()),
            name: "django-rest".into(),
            ..Default::default()
        };
        assert_eq!(component_key(&osv), "PyPI/django-rest@1.0");
        assert_eq!(component_key(&osv), component_key(&purl));
        let unknown = ComponentLocation {
            name: "Foo".into(),
            version: Some("1".into()),
            ..Default::default()
        };
        assert_eq!(component_key(&unknown), "?/foo@1");
    }

    #[test]
    fn cwes_are_found_in_tags() {
        assert_eq!(cwes_in("external/cwe/cwe-079"), vec!["CWE-79"]);
        assert_eq!(
            cwes_in("CWE-89: Improper Neutralization; cwe_22"),
            vec!["CWE-89", "CWE-22"]
        );
        assert!(cwes_in("acwe-1 cwe- cwe-0").is_empty());
    }

    #[test]
    fn ecosystems_from_type_words() {
        assert_eq!(ecosystem_of("java-archive"), Some(Ecosystem::Maven));
        assert_eq!(ecosystem_of("Debian:10"), Some(Ecosystem::Debian));
        assert_eq!(ecosystem_of("gobinary"), Some(Ecosystem::Go));
        assert_eq!(ecosystem_of("binary"), None);
    }
}
