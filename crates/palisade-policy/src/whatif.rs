//! What-if: what a policy change would newly deny.
//!
//! Design: a what-if run decides every input twice, with the current and the
//! candidate engine, in the same environment, with the same exceptions and
//! the same `now`, and compares. It is pure: the CLI feeds it files, the
//! server will feed it everything running. A case is *newly denied* when the
//! current outcome is not `deny` and the candidate's is; the report also
//! lists cases no longer denied and, for every changed case, the violations
//! that appear or disappear (compared by policy, rule, vulnerability and
//! message).

use serde::Serialize;
use time::OffsetDateTime;

use crate::decision::{Outcome, Violation};
use crate::engine::Engine;
use crate::exception::Exception;
use crate::input::PolicyInput;

/// How one case changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Not denied before, denied now.
    NewlyDenied,
    /// Denied before, not now.
    NoLongerDenied,
    /// The outcome changed between allow and warn.
    Changed,
    /// Same outcome (violations may still differ).
    Unchanged,
}

/// One case's comparison.
#[derive(Clone, Debug, Serialize)]
pub struct WhatIfCase {
    /// The case's name (a file name, a workload).
    pub name: String,
    /// The outcome with the current policies.
    pub current: Outcome,
    /// The outcome with the candidate policies.
    pub candidate: Outcome,
    /// The change.
    pub change: Change,
    /// Violations only the candidate reports.
    pub added: Vec<Violation>,
    /// Violations only the current policies report.
    pub removed: Vec<Violation>,
    /// The candidate's errors, if any (they deny).
    pub candidate_errors: Vec<String>,
}

/// The report.
#[derive(Clone, Debug, Serialize)]
pub struct WhatIfReport {
    /// The environment.
    pub environment: String,
    /// The current bundle digest.
    pub current_bundle: String,
    /// The candidate bundle digest.
    pub candidate_bundle: String,
    /// Every case, in the order given.
    pub cases: Vec<WhatIfCase>,
    /// How many are newly denied.
    pub newly_denied: usize,
    /// How many are no longer denied.
    pub no_longer_denied: usize,
}

fn key(v: &Violation) -> (String, &'static str, Option<String>, String) {
    (
        v.policy.clone(),
        v.rule.name(),
        v.vulnerability.clone(),
        v.message.clone(),
    )
}

/// Compares two engines over named inputs.
pub fn what_if(
    current: &Engine,
    candidate: &Engine,
    inputs: &[(String, PolicyInput)],
    environment: &str,
    exceptions: &[Exception],
    now: OffsetDateTime,
) -> WhatIfReport {
    let mut cases = Vec::with_capacity(inputs.len());
    for (name, input) in inputs {
        let before = current.decide(input, environment, exceptions, now);
        let after = candidate.decide(input, environment, exceptions, now);
        let before_keys: Vec<_> = before.violations.iter().map(key).collect();
        let after_keys: Vec<_> = after.violations.iter().map(key).collect();
        let added: Vec<Violation> = after
            .violations
            .iter()
            .filter(|v| !before_keys.contains(&key(v)))
            .cloned()
            .collect();
        let removed: Vec<Violation> = before
            .violations
            .iter()
            .filter(|v| !after_keys.contains(&key(v)))
            .cloned()
            .collect();
        let change = match (before.outcome, after.outcome) {
            (b, Outcome::Deny) if b != Outcome::Deny => Change::NewlyDenied,
            (Outcome::Deny, a) if a != Outcome::Deny => Change::NoLongerDenied,
            (b, a) if b != a => Change::Changed,
            _ => Change::Unchanged,
        };
        cases.push(WhatIfCase {
            name: name.clone(),
            current: before.outcome,
            candidate: after.outcome,
            change,
            added,
            removed,
            candidate_errors: after.errors.iter().map(|e| e.message.clone()).collect(),
        });
    }
    WhatIfReport {
        environment: environment.to_string(),
        current_bundle: current.bundle_digest().to_string(),
        candidate_bundle: candidate.bundle_digest().to_string(),
        newly_denied: cases
            .iter()
            .filter(|c| c.change == Change::NewlyDenied)
            .count(),
        no_longer_denied: cases
            .iter()
            .filter(|c| c.change == Change::NoLongerDenied)
            .count(),
        cases,
    }
}
