//! Image references and content digests.
//!
//! A reference is normalised the way Docker does it: a first path component
//! with a `.` or a `:`, or `localhost`, names the registry; otherwise the
//! image lives on Docker Hub (`docker.io`), and a single-component name is
//! an official image under `library/` (`nginx` → `docker.io/library/nginx`).
//! A reference without tag or digest means the tag `latest`.

use std::fmt;

use sha2::Digest as _;

use crate::Error;

/// Docker Hub's registry name in normalised references.
pub const DOCKER_HUB: &str = "docker.io";

/// The longest reference accepted (Docker's limit is 255 for the name).
const MAX_REFERENCE_LEN: usize = 1024;

/// A digest algorithm the registry protocol uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// SHA-256 (`sha256:` + 64 hex digits), the algorithm of every registry.
    Sha256,
    /// SHA-512 (`sha512:` + 128 hex digits).
    Sha512,
}

impl Algorithm {
    /// The prefix before the `:`.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
}

/// A content digest, `algorithm:hex` (hex in lower case).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

impl Digest {
    /// Parses `sha256:<64 hex>` or `sha512:<128 hex>`; upper-case hex is
    /// refused as the image specification requires.
    pub fn parse(text: &str) -> Result<Digest, Error> {
        let bad = || Error::Digest(text.chars().take(200).collect());
        let (alg, hex) = text.split_once(':').ok_or_else(bad)?;
        let algorithm = match alg {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            _ => return Err(bad()),
        };
        if hex.len() != algorithm.hex_len()
            || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(bad());
        }
        Ok(Digest {
            algorithm,
            hex: hex.to_owned(),
        })
    }

    /// The SHA-256 digest of `bytes`.
    pub fn sha256(bytes: &[u8]) -> Digest {
        Digest {
            algorithm: Algorithm::Sha256,
            hex: hex::encode(sha2::Sha256::digest(bytes)),
        }
    }

    /// The digest of `bytes` with this digest's algorithm.
    pub fn compute_like(&self, bytes: &[u8]) -> Digest {
        let hex = match self.algorithm {
            Algorithm::Sha256 => hex::encode(sha2::Sha256::digest(bytes)),
            Algorithm::Sha512 => hex::encode(sha2::Sha512::digest(bytes)),
        };
        Digest {
            algorithm: self.algorithm,
            hex,
        }
    }

    /// Whether `bytes` have this digest.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        self.compute_like(bytes) == *self
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The hex part.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The tag of cosign's and the referrers fallback's tag schemes:
    /// `sha256-<hex>` (suffixed `.sig`, `.att`, `.sbom` by cosign).
    pub fn tag_prefix(&self) -> String {
        format!("{}-{}", self.algorithm.as_str(), self.hex)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.as_str(), self.hex)
    }
}

impl std::str::FromStr for Digest {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Digest::parse(s)
    }
}

/// A normalised image reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    /// The registry, `host[:port]` (`docker.io` for Docker Hub).
    pub registry: String,
    /// The repository path (`library/nginx`).
    pub repository: String,
    /// The tag, if the reference names one.
    pub tag: Option<String>,
    /// The digest, if the reference pins one.
    pub digest: Option<Digest>,
}

impl Reference {
    /// Parses and normalises an image reference: `registry/repo:tag`,
    /// `repo@sha256:...`, `repo:tag@sha256:...`, Docker Hub short names,
    /// registries with ports (`registry.example:5000/app`).
    pub fn parse(text: &str) -> Result<Reference, Error> {
        let invalid = |reason: &str| Error::Reference {
            reference: text.chars().take(200).collect(),
            reason: reason.to_owned(),
        };
        if text.is_empty() {
            return Err(invalid("empty reference"));
        }
        if text.len() > MAX_REFERENCE_LEN {
            return Err(invalid("longer than 1024 characters"));
        }
        if text.contains("://") {
            return Err(invalid(
                "a reference has no scheme (write registry.example/repo:tag)",
            ));
        }
        let (rest, digest) = match text.split_once('@') {
            Some((r, d)) => (r, Some(Digest::parse(d)?)),
            None => (text, None),
        };
        // The tag follows the last ':' after the last '/' (a port's ':' is
        // followed by a '/').
        let slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest.get(slash..).and_then(|last| last.rfind(':')) {
            Some(i) => (
                rest.get(..slash + i).unwrap_or_default(),
                rest.get(slash + i + 1..).map(str::to_owned),
            ),
            None => (rest, None),
        };
        if let Some(t) = &tag
            && !valid_tag(t)
        {
            return Err(invalid(
                "the tag must match [A-Za-z0-9_][A-Za-z0-9._-]{0,127}",
            ));
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_owned(), path.to_owned())
            }
            Some(_) => (DOCKER_HUB.to_owned(), name.to_owned()),
            None => (DOCKER_HUB.to_owned(), format!("library/{name}")),
        };
        if !valid_registry(&registry) {
            return Err(invalid("the registry must be host[:port]"));
        }
        if !valid_repository(&repository) {
            return Err(invalid(
                "the repository must be lower-case path components of [a-z0-9] separated by '.', '_', '__' or '-'",
            ));
        }
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The same repository at `digest`.
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: None,
            digest: Some(digest),
        }
    }

    /// The same repository at `tag`.
    pub fn with_tag(&self, tag: &str) -> Reference {
        Reference {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: Some(tag.to_owned()),
            digest: None,
        }
    }

    /// What to ask the manifests endpoint for: the digest if pinned, else
    /// the tag, else `latest`.
    pub fn manifest_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_owned(),
        }
    }

    /// `registry/repository` (the name an artifact is known by).
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Reference {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

/// Whether a tag matches `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn valid_tag(tag: &str) -> bool {
    let mut bytes = tag.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphanumeric() || b == b'_' => {}
        _ => return false,
    }
    tag.len() <= 128 && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn valid_registry(registry: &str) -> bool {
    let bracketed = registry.starts_with('[');
    let (host, port) = if let Some(rest) = registry.strip_prefix('[') {
        // [IPv6]:port
        match rest.split_once(']') {
            Some((h, p)) => (h, p.strip_prefix(':').map(Some).unwrap_or(None)),
            None => return false,
        }
    } else {
        match registry.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (registry, None),
        }
    };
    let host_ok = !host.is_empty()
        && host.bytes().all(|b| {
            b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || (bracketed && b == b':')
        });
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.parse::<u16>().is_ok());
    host_ok && port_ok
}

fn valid_repository(repository: &str) -> bool {
    !repository.is_empty() && repository.len() <= 255 && repository.split('/').all(valid_component)
}

fn valid_component(c: &str) -> bool {
    // [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
    let bytes = c.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !bytes.first().is_some_and(|&b| alnum(b)) {
        return false;
    }
    if !bytes.last().is_some_and(|&b| alnum(b)) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes.get(i).copied().unwrap_or(0);
        if alnum(b) {
            i += 1;
            continue;
        }
        // A separator run: '.', '_', '__' or '-'+.
        let start = i;
        while i < bytes.len() && !alnum(bytes.get(i).copied().unwrap_or(0)) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Reference {
        match Reference::parse(s) {
            Ok(r) => r,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn docker_hub_short_names() {
        let r = parse("nginx");
        assert_eq!(r.registry, "docker.io");
        assert_eq!(r.repository, "library/nginx");
        assert_eq!(r.tag, None);
        assert_eq!(r.manifest_reference(), "latest");
        let r = parse("bitnami/redis:7.2");
        assert_eq!(r.registry, "docker.io");
        assert_eq!(r.repository, "bitnami/redis");
        assert_eq!(r.tag.as_deref(), Some("7.2"));
        assert_eq!(r.to_string(), "docker.io/bitnami/redis:7.2");
    }

    #[test]
    fn registries_with_ports_and_digests() {
        let d = format!("sha256:{}", "a".repeat(64));
        let r = parse(&format!("registry.example:5000/team/app:1.0@{d}"));
        assert_eq!(r.registry, "registry.example:5000");
        assert_eq!(r.repository, "team/app");
        assert_eq!(r.tag.as_deref(), Some("1.0"));
        assert_eq!(r.digest.as_ref().map(ToString::to_string), Some(d.clone()));
        assert_eq!(r.manifest_reference(), d);
        let r = parse("localhost/app");
        assert_eq!(r.registry, "localhost");
        let r = parse("127.0.0.1:5000/app");
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.tag, None);
        let r = parse("[::1]:5000/app:v1");
        assert_eq!(r.registry, "[::1]:5000");
        assert_eq!(r.tag.as_deref(), Some("v1"));
    }

    #[test]
    fn malformed_references_are_refused() {
        for bad in [
            "",
            "Upper/Case",
            "registry.example/app:",
            "registry.example/app:-x",
            "registry.example/app@sha256:abc",
            "registry.example/app@md5:0123",
            "https://registry.example/app",
            "registry.example//app",
            "registry.example/a..b",
            "registry.example:99999/app",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn digests() {
        let d = Digest::sha256(b"{}");
        assert_eq!(
            d.to_string(),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert!(d.matches(b"{}"));
        assert!(!d.matches(b"{ }"));
        assert_eq!(d.tag_prefix(), format!("sha256-{}", d.hex()));
        assert!(Digest::parse(&d.to_string().to_uppercase()).is_err());
        assert!(Digest::parse("sha256:").is_err());
    }
}
