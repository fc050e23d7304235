//! Keys, DSSE envelopes, in-toto attestations and layouts, SLSA provenance,
//! and offline Sigstore bundle verification.
//!
//! The crate is pure logic: every function takes bytes or structs and returns
//! a typed result; reading files and running commands stays in the binary.
//! Two kinds of outcome are kept apart on purpose:
//!
//! * [`Error`] means the input could not be used at all (malformed JSON, a key
//!   of an unsupported type, a document over a size limit). Callers map it to
//!   a usage/input error.
//! * A [`Verification`] means the checks ran. It lists every check with its
//!   outcome and reason, and is verified only when every check passed and at
//!   least one check ran: nothing verifies by default.
//!
//! Cryptography is delegated to `aws-lc-rs`; Sigstore bundles to the sigstore
//! project's own `sigstore-verify` crate, wrapped so that its outcome becomes
//! a [`Verification`].

pub mod attestation;
pub mod cjson;
pub mod dsse;
pub mod inspection;
pub mod keys;
pub mod layout;
pub mod provenance;
pub mod sigstore;
pub mod statement;
pub mod verification;

pub use attestation::{AttestationPolicy, verify_attestation};
pub use dsse::{Envelope, Signature as DsseSignature};
pub use keys::{KeyAlgorithm, PrivateKey, PublicKey, Scheme};
pub use statement::{ResourceDescriptor, Statement};
/// The `time` crate, re-exported so that callers pass the same `OffsetDateTime`.
pub use time;
pub use verification::{Check, CheckStatus, Signer, Verification};

/// Why an input could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A document is larger than the parser accepts.
    #[error("{what} is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// What was being read.
        what: &'static str,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A JSON document is malformed or does not have the expected shape.
    #[error("{what} is not valid: {reason}")]
    Json {
        /// What was being read.
        what: &'static str,
        /// The parser's explanation.
        reason: String,
    },
    /// A base64 field could not be decoded.
    #[error("{what} is not valid base64: {reason}")]
    Base64 {
        /// Which field.
        what: &'static str,
        /// The decoder's explanation.
        reason: String,
    },
    /// A key could not be read or is of an unsupported type or size.
    #[error("key: {0}")]
    Key(String),
    /// Signing failed (the private key is unusable for the scheme).
    #[error("signing failed: {0}")]
    Signing(String),
    /// A digest string is malformed (`ALG:HEX` with a known algorithm and the right length).
    #[error(
        "digest {0:?} is malformed: expected sha256:<64 hex>, sha384:<96 hex> or sha512:<128 hex>"
    )]
    Digest(String),
    /// A document is structurally valid JSON but violates its format.
    #[error("{what}: {reason}")]
    Format {
        /// What was being read.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl Error {
    pub(crate) fn format(what: &'static str, reason: impl Into<String>) -> Self {
        Error::Format {
            what,
            reason: reason.into(),
        }
    }
}
