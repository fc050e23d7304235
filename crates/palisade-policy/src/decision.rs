//! The decision model: outcome, violations, exceptions applied, errors, and
//! the record appended to the decision log.
//!
//! Design: a [`Decision`] carries everything needed to explain it without
//! re-running it: every violation with its policy, rule, message, severity
//! and effect; the violations that exceptions waived and which exception
//! waived each; the exceptions that were offered but did not apply and why;
//! and every evaluation error. The outcome is derived from those lists by
//! one rule ([`Decision::compute_outcome`]): any error or unwaived `deny`
//! effect denies, else any unwaived `warn` warns, else allow. Errors cannot be
//! waived. Lists are sorted, so the same input gives byte-identical output.

use serde::{Deserialize, Serialize};

use crate::environment::Mode;
use crate::exception::{EventKind, ExceptionEvent, ExceptionStatus};
use crate::input::Severity;

/// The answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Nothing stands in the way.
    Allow,
    /// Allowed, with violations someone should look at.
    Warn,
    /// Refused.
    Deny,
}

impl Outcome {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Warn => "warn",
            Self::Deny => "deny",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one violation does to the outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// Recorded only (policy in `audit` mode).
    Audit,
    /// Makes the outcome at least `warn`.
    Warn,
    /// Denies.
    Deny,
}

impl Effect {
    /// The effect of a violation from `rule` of a policy in `mode`.
    pub fn of(mode: Mode, rule: RuleKind) -> Option<Self> {
        match (mode, rule) {
            (Mode::Off, _) => None,
            (Mode::Audit, _) => Some(Self::Audit),
            (Mode::Warn, _) | (Mode::Enforce, RuleKind::Warn) => Some(Self::Warn),
            (Mode::Enforce, _) => Some(Self::Deny),
        }
    }

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Audit => "audit",
            Self::Warn => "warn",
            Self::Deny => "deny",
        }
    }
}

/// The rules of a policy package that the engine reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// `deny contains v if ...`: a set of violations.
    Deny,
    /// `violation contains v if ...` (Gatekeeper style): a set of violations.
    Violation,
    /// `warn contains v if ...`: violations that never deny, even when enforced.
    Warn,
    /// `allow if ...`: must be `true`; false or undefined is one violation.
    Allow,
}

impl RuleKind {
    /// All kinds, in evaluation order.
    pub const ALL: [RuleKind; 4] = [Self::Deny, Self::Violation, Self::Warn, Self::Allow];

    /// The rule's name in Rego.
    pub fn name(self) -> &'static str {
        match self {
            Self::Deny => "deny",
            Self::Violation => "violation",
            Self::Warn => "warn",
            Self::Allow => "allow",
        }
    }
}

/// One violation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    /// The policy id.
    pub policy: String,
    /// The rule that produced it.
    pub rule: RuleKind,
    /// The message.
    pub message: String,
    /// Its severity (from the violation object; `high` for deny rules, `medium` for warn rules otherwise).
    pub severity: Severity,
    /// What it does to the outcome.
    pub effect: Effect,
    /// The vulnerability it is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerability: Option<String>,
    /// Further fields of the violation object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
    /// The exception that waived it, in [`Decision::waived`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waived_by: Option<String>,
}

/// An exception that waived at least one violation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedException {
    /// Its id.
    pub id: String,
    /// Its reason.
    pub reason: String,
    /// Who asked.
    pub requested_by: String,
    /// Who approved.
    pub approved_by: String,
    /// When it expires (RFC 3339).
    pub expires_at: String,
    /// How many violations it waived.
    pub waived: usize,
}

/// An exception that was offered but does not apply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IgnoredException {
    /// Its id.
    pub id: String,
    /// Why it does not apply.
    #[serde(flatten)]
    pub status: ExceptionStatus,
}

/// The kind of an evaluation error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The environment is not defined.
    Environment,
    /// The input is invalid.
    Input,
    /// The evaluation limit stopped a policy.
    Limit,
    /// A policy failed at run time (a builtin error, a conflict, a panic).
    Evaluation,
    /// A policy returned something that is not a violation set or a boolean.
    Protocol,
}

/// An evaluation error; every error denies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionError {
    /// The policy, when the error is one policy's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The rule, when the error is one rule's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleKind>,
    /// The kind.
    pub kind: ErrorKind,
    /// The message.
    pub message: String,
}

/// How one policy fared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyResult {
    /// The policy id.
    pub policy: String,
    /// Its mode in the environment.
    pub mode: Mode,
    /// Where the mode came from.
    pub mode_source: String,
    /// `passed`, `violated`, `error` or `off`.
    pub status: PolicyStatus,
    /// Violations it produced, waived ones included.
    pub violations: usize,
}

/// The status of one policy in a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyStatus {
    /// No violation.
    Passed,
    /// At least one violation (waived or not).
    Violated,
    /// Evaluation failed.
    Error,
    /// Not evaluated.
    Off,
}

/// The artifact a decision is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactRef {
    /// Its name.
    pub name: String,
    /// Its digest.
    pub digest: String,
}

/// A decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The outcome.
    pub outcome: Outcome,
    /// The environment.
    pub environment: String,
    /// The decision time (RFC 3339).
    pub time: String,
    /// The artifact.
    pub artifact: ArtifactRef,
    /// The workload, `namespace/name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    /// `sha256:` of the canonical JSON (RFC 8785) of the input as evaluated;
    /// absent when the input could not be prepared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_digest: Option<String>,
    /// The policy bundle digest.
    pub bundle_digest: String,
    /// Each policy's mode and status, by policy id.
    pub policies: Vec<PolicyResult>,
    /// Violations in force (audit effects included).
    pub violations: Vec<Violation>,
    /// Violations waived by exceptions.
    pub waived: Vec<Violation>,
    /// Exceptions that waived something.
    pub exceptions_applied: Vec<AppliedException>,
    /// Exceptions offered that do not apply.
    pub exceptions_ignored: Vec<IgnoredException>,
    /// Evaluation errors (each one denies).
    pub errors: Vec<DecisionError>,
}

impl Decision {
    /// The outcome the lists imply.
    pub fn compute_outcome(violations: &[Violation], errors: &[DecisionError]) -> Outcome {
        if !errors.is_empty() || violations.iter().any(|v| v.effect == Effect::Deny) {
            Outcome::Deny
        } else if violations.iter().any(|v| v.effect == Effect::Warn) {
            Outcome::Warn
        } else {
            Outcome::Allow
        }
    }

    /// The reasons, one line each: errors first, then deny, warn and audit violations.
    pub fn reasons(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .errors
            .iter()
            .map(|e| match (&e.policy, e.rule) {
                (Some(p), Some(r)) => format!("error in {p}.{}: {}", r.name(), e.message),
                (Some(p), None) => format!("error in {p}: {}", e.message),
                _ => format!("error: {}", e.message),
            })
            .collect();
        for effect in [Effect::Deny, Effect::Warn, Effect::Audit] {
            for v in self.violations.iter().filter(|v| v.effect == effect) {
                out.push(format!("{} {}: {}", effect.as_str(), v.policy, v.message));
            }
        }
        out
    }

    /// One `used` event per exception applied.
    pub fn exception_events(&self) -> Vec<ExceptionEvent> {
        let at =
            time::OffsetDateTime::parse(&self.time, &time::format_description::well_known::Rfc3339)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        self.exceptions_applied
            .iter()
            .map(|a| ExceptionEvent {
                at,
                kind: EventKind::Used,
                exception_id: a.id.clone(),
                actor: None,
                detail: Some(format!(
                    "waived {} violation(s) for {} in {} (input {})",
                    a.waived,
                    self.artifact.digest,
                    self.environment,
                    self.input_digest.as_deref().unwrap_or("unknown")
                )),
            })
            .collect()
    }

    /// The record for the decision log.
    pub fn record(&self) -> DecisionRecord {
        DecisionRecord {
            time: self.time.clone(),
            environment: self.environment.clone(),
            artifact: self.artifact.clone(),
            workload: self.workload.clone(),
            input_digest: self.input_digest.clone(),
            bundle_digest: self.bundle_digest.clone(),
            decision: self.outcome,
            reasons: self.reasons(),
            exceptions_applied: self
                .exceptions_applied
                .iter()
                .map(|e| e.id.clone())
                .collect(),
        }
    }
}

/// One line of the decision log (JSON lines).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// The decision time.
    pub time: String,
    /// The environment.
    pub environment: String,
    /// The artifact.
    pub artifact: ArtifactRef,
    /// The workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    /// The input digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_digest: Option<String>,
    /// The policy bundle digest.
    pub bundle_digest: String,
    /// The outcome.
    pub decision: Outcome,
    /// Why, one line each.
    pub reasons: Vec<String>,
    /// The exceptions applied, by id.
    pub exceptions_applied: Vec<String>,
}

impl DecisionRecord {
    /// The record as one line of JSON, without the newline.
    pub fn to_json_line(&self) -> String {
        // Serialising these plain types cannot fail; keep a visible fallback anyway.
        serde_json::to_string(self)
            .unwrap_or_else(|e| format!("{{\"error\":\"cannot serialise record: {e}\"}}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(effect: Effect) -> Violation {
        Violation {
            policy: "p".into(),
            rule: RuleKind::Deny,
            message: "m".into(),
            severity: Severity::High,
            effect,
            vulnerability: None,
            details: None,
            waived_by: None,
        }
    }

    #[test]
    fn outcome_rule() {
        assert_eq!(Decision::compute_outcome(&[], &[]), Outcome::Allow);
        assert_eq!(
            Decision::compute_outcome(&[v(Effect::Audit)], &[]),
            Outcome::Allow
        );
        assert_eq!(
            Decision::compute_outcome(&[v(Effect::Audit), v(Effect::Warn)], &[]),
            Outcome::Warn
        );
        assert_eq!(
            Decision::compute_outcome(&[v(Effect::Warn), v(Effect::Deny)], &[]),
            Outcome::Deny
        );
        let e = DecisionError {
            policy: None,
            rule: None,
            kind: ErrorKind::Limit,
            message: "x".into(),
        };
        assert_eq!(Decision::compute_outcome(&[], &[e]), Outcome::Deny);
    }

    #[test]
    fn effects_by_mode() {
        assert_eq!(Effect::of(Mode::Off, RuleKind::Deny), None);
        assert_eq!(Effect::of(Mode::Audit, RuleKind::Deny), Some(Effect::Audit));
        assert_eq!(Effect::of(Mode::Warn, RuleKind::Allow), Some(Effect::Warn));
        assert_eq!(
            Effect::of(Mode::Enforce, RuleKind::Violation),
            Some(Effect::Deny)
        );
        assert_eq!(
            Effect::of(Mode::Enforce, RuleKind::Warn),
            Some(Effect::Warn)
        );
    }
}
