//! Errors. Each names the registry and repository it concerns and, for
//! answers the registry gave, the HTTP status and the registry's own
//! explanation (`{"errors":[{"code","message"}]}`).

use std::path::PathBuf;

/// What went wrong talking to a registry or reading its answers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An image reference is malformed.
    #[error("image reference {reference:?} is not valid: {reason}")]
    Reference {
        /// The reference (cut to 200 characters).
        reference: String,
        /// What is wrong.
        reason: String,
    },
    /// A digest is malformed.
    #[error("digest {0:?} is malformed: expected sha256:<64 hex> or sha512:<128 hex>, lower case")]
    Digest(String),
    /// A document is not what it should be.
    #[error("{what} is not valid: {reason}")]
    Format {
        /// What was read.
        what: &'static str,
        /// Why it is refused.
        reason: String,
    },
    /// The registry answered a status the operation does not accept.
    #[error("{registry}/{repository}: {operation}: HTTP {status}{}", detail_suffix(.detail))]
    Status {
        /// The registry.
        registry: String,
        /// The repository.
        repository: String,
        /// What was asked (`GET manifest v1`).
        operation: String,
        /// The HTTP status.
        status: u16,
        /// The registry's explanation, if any.
        detail: String,
    },
    /// The content does not exist.
    #[error("{registry}/{repository}: {what} not found (HTTP 404)")]
    NotFound {
        /// The registry.
        registry: String,
        /// The repository.
        repository: String,
        /// What was looked for.
        what: String,
    },
    /// The registry refused the credentials (or wants some and has none).
    #[error("{registry}/{repository}: unauthorized (HTTP {status}): {detail}")]
    Unauthorized {
        /// The registry.
        registry: String,
        /// The repository.
        repository: String,
        /// 401 or 403.
        status: u16,
        /// Why.
        detail: String,
    },
    /// The connection failed (DNS, TCP, TLS, time-out).
    #[error("{registry}/{repository}: {operation}: {reason}")]
    Transport {
        /// The registry.
        registry: String,
        /// The repository.
        repository: String,
        /// What was asked.
        operation: String,
        /// The transport's explanation.
        reason: String,
    },
    /// A manifest or blob is over its size limit.
    #[error("{registry}/{repository}: {what} is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The registry.
        registry: String,
        /// The repository.
        repository: String,
        /// What was read.
        what: String,
        /// The limit.
        limit: u64,
    },
    /// Content does not have the digest it was asked for or announced.
    #[error(
        "{registry}/{repository}: {what}: expected digest {expected}, the content has {actual}"
    )]
    DigestMismatch {
        /// The registry.
        registry: String,
        /// The repository.
        repository: String,
        /// What was read.
        what: String,
        /// The digest asked for or announced.
        expected: String,
        /// The digest of the bytes.
        actual: String,
    },
    /// Plain HTTP to a registry that is not allowed to be insecure.
    #[error(
        "{url}: plain HTTP is used only for loopback and explicitly insecure registries (add {host} to the insecure registries)"
    )]
    Insecure {
        /// The URL refused.
        url: String,
        /// The host to allow.
        host: String,
    },
    /// The token endpoint failed or answered nonsense.
    #[error("{registry}: token endpoint {realm}: {reason}")]
    Token {
        /// The registry.
        registry: String,
        /// The realm URL.
        realm: String,
        /// Why.
        reason: String,
    },
    /// The Docker configuration cannot be read.
    #[error("Docker configuration {}: {reason}", path.display())]
    DockerConfig {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A Docker credential helper failed or is missing.
    #[error("credential helper docker-credential-{helper} for {registry}: {reason}")]
    CredentialHelper {
        /// The helper's name (`desktop`, `ecr-login`, ...).
        helper: String,
        /// The registry whose credentials were asked for.
        registry: String,
        /// Why.
        reason: String,
    },
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

impl Error {
    /// The HTTP status, when the registry answered one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Status { status, .. } | Error::Unauthorized { status, .. } => Some(*status),
            Error::NotFound { .. } => Some(404),
            _ => None,
        }
    }

    /// Whether the content was not found.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }
}
