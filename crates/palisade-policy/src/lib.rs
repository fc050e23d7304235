//! Rego policies per environment, exceptions with two-person approval,
//! decisions and their log.
//!
//! One function decides everywhere: the CI gate, the admission webhook,
//! background audit and the portal all call [`Engine::decide`] with a
//! [`PolicyInput`] (the versioned document of `docs/policy-input.schema.json`),
//! an environment name, the exceptions on offer and the time, and get a
//! [`Decision`]: `allow`, `warn` or `deny`, every violation with its policy,
//! rule, message and severity, the exceptions applied and the evaluation
//! errors. An undefined result never means allow, and every failure denies.
//!
//! Policies are Rego, evaluated in-process by regorus. A [`Bundle`] (a
//! directory or `.tar.gz`, see [`load`], or the built-in [`library`]) holds
//! the modules, their data and the environments file; its digest is defined
//! over a manifest of its files, and a signature over that manifest is
//! checked through the [`BundleVerifier`] hook, so this crate does no
//! cryptography and depends on no verifier.
//!
//! Modules:
//! * [`input`]: the input document and its limits.
//! * [`engine`]: compile once, decide many times; the evaluation limit.
//! * [`prepared`]: an artifact's input converted once for many decisions.
//! * [`decision`]: outcome, violations, errors, the decision-log record.
//! * [`environment`]: `off`/`audit`/`warn`/`enforce` per policy, with inheritance.
//! * [`exception`]: scoped, expiring, two-person approved exceptions and their events.
//! * [`bundle`]: files, digest, signature hook. [`load`]: reading bundles from disk.
//! * [`library`]: the built-in policy library.
//! * [`testing`]: an `opa test`-like runner for `test_*` rules.
//! * [`whatif`]: what a policy change would newly deny.

pub mod bundle;
mod canonical;
pub mod decision;
pub mod engine;
pub mod environment;
pub mod error;
pub mod exception;
pub mod input;
pub mod library;
pub mod load;
pub mod prepared;
mod recursion;
pub mod testing;
mod to_rego;
pub mod whatif;

pub use bundle::{Bundle, BundleSignature, BundleVerifier, VerifiedEnvelope};
pub use decision::{Decision, DecisionRecord, Effect, Outcome, RuleKind, Violation};
pub use engine::{Engine, EngineOptions, PolicyInfo, canonical_digest};
pub use environment::{EnvironmentsConfig, Mode};
pub use error::{PolicyError, Result};
pub use exception::{Exception, ExceptionEvent, ExceptionLedger, ExceptionScope, ExceptionStatus};
pub use input::{INPUT_VERSION, PolicyInput};
pub use prepared::PreparedArtifact;
pub use time::OffsetDateTime;

/// Parses an RFC 3339 time (for `--now` options and the like).
pub fn parse_rfc3339(text: &str) -> Result<OffsetDateTime> {
    input::parse_time("time", text)
}
