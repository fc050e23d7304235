//! Typed errors of the policy crate.
//!
//! Design: loading errors (a bundle that cannot be read, a policy that does
//! not parse, an environment file that contradicts itself) are returned as
//! [`PolicyError`], because nothing can be decided without a valid bundle.
//! Evaluation failures inside one decision are *not* errors of
//! [`crate::Engine::decide`]: they become part of the [`crate::Decision`]
//! (which is then `deny`), so that every caller fails closed the same way and
//! the reason lands in the decision log.

use thiserror::Error;

/// Everything that can go wrong while loading policies, environments,
/// exceptions or inputs.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A Rego module failed to parse or compile.
    #[error("policy {path}: {message}")]
    Rego {
        /// The module's path inside the bundle.
        path: String,
        /// regorus' message, with the source location.
        message: String,
    },
    /// A data document of the bundle is not valid JSON or YAML, or not an object.
    #[error("data file {path}: {message}")]
    Data {
        /// The file's path inside the bundle.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// The bundle is malformed (too large, a bad path, a missing file).
    #[error("bundle: {0}")]
    Bundle(String),
    /// The bundle's signature did not verify (or a signature was required and absent).
    #[error("bundle signature: {0}")]
    Signature(String),
    /// The environment configuration is invalid.
    #[error("environments: {0}")]
    Environment(String),
    /// An exception record is invalid, or an operation on it is not allowed.
    #[error("exception {id}: {message}")]
    Exception {
        /// The exception's identifier.
        id: String,
        /// Why the record or the operation is rejected.
        message: String,
    },
    /// The policy input does not follow the input schema.
    #[error("policy input: {0}")]
    Input(String),
    /// A limit on input size or depth was exceeded.
    #[error("limit exceeded: {0}")]
    Limit(String),
    /// An evaluation failed outside of a decision (the test runner, a direct query).
    #[error("evaluation: {0}")]
    Evaluation(String),
    /// Reading a file or directory failed (only in the loading edge, [`crate::load`]).
    #[error("{path}: {source}")]
    Io {
        /// The path that failed.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = PolicyError> = std::result::Result<T, E>;
