//! Exceptions: scoped, expiring, two-person approved waivers of violations.
//!
//! Design: this module is pure logic. An [`Exception`] names a scope (a
//! workload, an artifact, a vulnerability and/or a policy; every field that
//! is set must match, at least one must be set), a reason, a requester, an
//! approver and an expiry. Whether it applies is a function of the record and
//! a given `now` ([`Exception::status`]), never of a clock, so that the same
//! record gives the same answer in CI, at admission and in an audit replay.
//!
//! The two-person rule is checked when the exception is used, not only when
//! it is approved: a record that arrives from a file or an older store with
//! `approved_by` equal to `requested_by` (compared without case and
//! surrounding spaces) is [`ExceptionStatus::SelfApproved`] and never applies.
//! An exception whose approval time lies after `now` is still pending; one
//! whose `expires_at` is at or before `now` has expired by itself.
//!
//! Every grant, approval, use and expiry is an [`ExceptionEvent`]. The
//! [`ExceptionLedger`] keeps exceptions and their events in memory and is the
//! reference behaviour for the server's store: grant → (approve | rejected
//! self-approval) → used* → expired (recorded once, by [`ExceptionLedger::sweep`]).
//! Uses are recorded from a [`crate::Decision`] with [`ExceptionLedger::record_use`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{PolicyError, Result};

/// The longest an exception may be granted for.
pub const MAX_LIFETIME_DAYS: i64 = 366;

/// What an exception covers. Unset fields match anything; at least one is set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExceptionScope {
    /// A workload, as `namespace/name` (or `name` when it has no namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    /// An artifact: a digest (`sha256:...`) matches the artifact's digest,
    /// anything else matches the artifact's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<String>,
    /// A vulnerability id or alias; matches only violations that name a
    /// vulnerability, by the finding's id or any of its aliases (ASCII case ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerability: Option<String>,
    /// A policy id (the Rego package without `data.`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

impl ExceptionScope {
    /// Whether no field is set (such a scope is rejected).
    pub fn is_empty(&self) -> bool {
        self.workload.is_none()
            && self.artifact.is_none()
            && self.vulnerability.is_none()
            && self.policy.is_none()
    }
}

/// An exception record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    /// A unique identifier.
    pub id: String,
    /// What it covers.
    pub scope: ExceptionScope,
    /// Why it is needed.
    pub reason: String,
    /// Who asked for it.
    pub requested_by: String,
    /// When it was asked for.
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    /// Who approved it; must be a different person than the requester.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// When it was approved.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub approved_at: Option<OffsetDateTime>,
    /// When it stops applying, by itself.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// Whether an exception applies at a given time, and if not, why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", content = "detail", rename_all = "snake_case")]
pub enum ExceptionStatus {
    /// Approved by another person, not expired: it applies.
    Active,
    /// Not (yet) approved at this time.
    Pending,
    /// Approved by its own requester: it never applies.
    SelfApproved,
    /// Past its expiry.
    Expired,
    /// The record itself is malformed (the reason says how).
    Invalid(String),
}

impl ExceptionStatus {
    /// A short lower-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Pending => "pending",
            Self::SelfApproved => "self_approved",
            Self::Expired => "expired",
            Self::Invalid(_) => "invalid",
        }
    }
}

/// Whether two identities name the same person: equal after trimming, ignoring ASCII case.
pub fn same_person(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// The facts about one violation that exception scopes are matched against.
#[derive(Clone, Copy, Debug)]
pub struct MatchTarget<'a> {
    /// The workload's qualified name, if the decision has a workload.
    pub workload: Option<&'a str>,
    /// The artifact's name.
    pub artifact_name: &'a str,
    /// The artifact's digest.
    pub artifact_digest: &'a str,
    /// The violation's policy id.
    pub policy: &'a str,
    /// The finding the violation names, if any: its id and aliases.
    pub vulnerability: Option<(&'a str, &'a [String])>,
}

impl Exception {
    /// Checks the record's own consistency: identifiers, scope, reason,
    /// requester, and that expiry follows the request by at most
    /// [`MAX_LIFETIME_DAYS`].
    pub fn validate(&self) -> Result<()> {
        let err = |message: String| PolicyError::Exception {
            id: self.id.clone(),
            message,
        };
        if self.id.trim().is_empty() {
            return Err(err("the id is empty".into()));
        }
        if self.scope.is_empty() {
            return Err(err(
                "the scope is empty: name at least one of workload, artifact, vulnerability, policy".into(),
            ));
        }
        for (name, v) in [
            ("workload", &self.scope.workload),
            ("artifact", &self.scope.artifact),
            ("vulnerability", &self.scope.vulnerability),
            ("policy", &self.scope.policy),
        ] {
            if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
                return Err(err(format!("scope.{name} is set but empty")));
            }
        }
        if self.reason.trim().is_empty() {
            return Err(err("the reason is empty".into()));
        }
        if self.requested_by.trim().is_empty() {
            return Err(err("requested_by is empty".into()));
        }
        if self
            .approved_by
            .as_deref()
            .is_some_and(|a| a.trim().is_empty())
        {
            return Err(err("approved_by is set but empty".into()));
        }
        if self.approved_by.is_some() != self.approved_at.is_some() {
            return Err(err(
                "approved_by and approved_at must be set together".into()
            ));
        }
        if self.expires_at <= self.requested_at {
            return Err(err("expires_at is not after requested_at".into()));
        }
        if (self.expires_at - self.requested_at).whole_days() > MAX_LIFETIME_DAYS {
            return Err(err(format!(
                "it would last more than {MAX_LIFETIME_DAYS} days"
            )));
        }
        if let Some(at) = self.approved_at
            && at < self.requested_at
        {
            return Err(err("approved_at is before requested_at".into()));
        }
        Ok(())
    }

    /// The exception's status at `now`. Self-approval is reported before
    /// expiry, because it is the graver fault.
    pub fn status(&self, now: OffsetDateTime) -> ExceptionStatus {
        if let Err(e) = self.validate() {
            return ExceptionStatus::Invalid(match e {
                PolicyError::Exception { message, .. } => message,
                other => other.to_string(),
            });
        }
        match (&self.approved_by, self.approved_at) {
            (Some(approver), _) if same_person(approver, &self.requested_by) => {
                ExceptionStatus::SelfApproved
            }
            _ if now >= self.expires_at => ExceptionStatus::Expired,
            (Some(_), Some(at)) if at <= now => ExceptionStatus::Active,
            _ => ExceptionStatus::Pending,
        }
    }

    /// Whether the scope covers a violation.
    pub fn matches(&self, t: &MatchTarget<'_>) -> bool {
        let s = &self.scope;
        if let Some(w) = &s.workload
            && t.workload != Some(w.as_str())
        {
            return false;
        }
        if let Some(a) = &s.artifact {
            let hit = if crate::input::is_valid_digest(a) {
                a == t.artifact_digest
            } else {
                a == t.artifact_name
            };
            if !hit {
                return false;
            }
        }
        if let Some(p) = &s.policy
            && p != t.policy
        {
            return false;
        }
        if let Some(v) = &s.vulnerability {
            match t.vulnerability {
                Some((id, aliases)) => {
                    if !(id.eq_ignore_ascii_case(v)
                        || aliases.iter().any(|a| a.eq_ignore_ascii_case(v)))
                    {
                        return false;
                    }
                }
                None => return false,
            }
        }
        true
    }
}

/// Parses a list of exceptions from JSON or YAML, checking the count limit
/// (each record is checked again, by its status, when it is used).
pub fn parse_exceptions(bytes: &[u8]) -> Result<Vec<Exception>> {
    let list: Vec<Exception> =
        serde_yaml_ng::from_slice(bytes).map_err(|e| PolicyError::Exception {
            id: "-".into(),
            message: format!("not a list of exceptions: {e}"),
        })?;
    if list.len() > crate::input::limits::MAX_EXCEPTIONS {
        return Err(PolicyError::Limit(format!(
            "{} exceptions, more than the {} allowed",
            list.len(),
            crate::input::limits::MAX_EXCEPTIONS
        )));
    }
    Ok(list)
}

/// What happened to an exception.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The requester filed it (it does not apply until approved).
    Granted,
    /// A different person approved it.
    Approved,
    /// An approval was refused (self-approval, expired, already approved).
    ApprovalRejected,
    /// A decision applied it to at least one violation.
    Used,
    /// It passed its expiry.
    Expired,
}

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionEvent {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What.
    pub kind: EventKind,
    /// Which exception.
    pub exception_id: String,
    /// Who acted, when a person did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Context: the refusal's reason, or the decision's input digest for a use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A request for a new exception.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExceptionRequest {
    /// The identifier to give it.
    pub id: String,
    /// What it covers.
    pub scope: ExceptionScope,
    /// Why.
    pub reason: String,
    /// Who asks.
    pub requested_by: String,
    /// Until when.
    pub expires_at: OffsetDateTime,
}

/// Exceptions and their event history, in memory.
#[derive(Clone, Debug, Default)]
pub struct ExceptionLedger {
    exceptions: BTreeMap<String, Exception>,
    events: Vec<ExceptionEvent>,
}

impl ExceptionLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// Files a new exception at `at`; it is pending until approved.
    pub fn grant(&mut self, request: ExceptionRequest, at: OffsetDateTime) -> Result<&Exception> {
        if self.exceptions.contains_key(&request.id) {
            return Err(PolicyError::Exception {
                id: request.id,
                message: "an exception with this id exists".into(),
            });
        }
        let exception = Exception {
            id: request.id.clone(),
            scope: request.scope,
            reason: request.reason,
            requested_by: request.requested_by.clone(),
            requested_at: at,
            approved_by: None,
            approved_at: None,
            expires_at: request.expires_at,
        };
        exception.validate()?;
        self.events.push(ExceptionEvent {
            at,
            kind: EventKind::Granted,
            exception_id: request.id.clone(),
            actor: Some(request.requested_by),
            detail: None,
        });
        Ok(self.exceptions.entry(request.id).or_insert(exception))
    }

    /// Approves an exception. Refused (and recorded as refused) when the
    /// approver is the requester, when it has expired, or when it is already approved.
    pub fn approve(&mut self, id: &str, approver: &str, at: OffsetDateTime) -> Result<&Exception> {
        let Some(exception) = self.exceptions.get_mut(id) else {
            return Err(PolicyError::Exception {
                id: id.into(),
                message: "no such exception".into(),
            });
        };
        let refusal = if approver.trim().is_empty() {
            Some("the approver is empty".to_string())
        } else if same_person(approver, &exception.requested_by) {
            Some(format!(
                "{approver} requested it and cannot also approve it (two-person rule)"
            ))
        } else if at >= exception.expires_at {
            Some("it has expired".to_string())
        } else if at < exception.requested_at {
            Some("the approval time is before the request".to_string())
        } else {
            exception
                .approved_by
                .as_ref()
                .map(|previous| format!("it is already approved by {previous}"))
        };
        if let Some(message) = refusal {
            self.events.push(ExceptionEvent {
                at,
                kind: EventKind::ApprovalRejected,
                exception_id: id.into(),
                actor: Some(approver.into()),
                detail: Some(message.clone()),
            });
            return Err(PolicyError::Exception {
                id: id.into(),
                message,
            });
        }
        exception.approved_by = Some(approver.into());
        exception.approved_at = Some(at);
        self.events.push(ExceptionEvent {
            at,
            kind: EventKind::Approved,
            exception_id: id.into(),
            actor: Some(approver.into()),
            detail: None,
        });
        Ok(exception)
    }

    /// Records an `expired` event, once, for every exception whose expiry is
    /// at or before `now`; returns the new events.
    pub fn sweep(&mut self, now: OffsetDateTime) -> Vec<ExceptionEvent> {
        let mut new = Vec::new();
        for e in self.exceptions.values() {
            let already = self
                .events
                .iter()
                .any(|ev| ev.kind == EventKind::Expired && ev.exception_id == e.id);
            if !already && now >= e.expires_at {
                new.push(ExceptionEvent {
                    at: e.expires_at,
                    kind: EventKind::Expired,
                    exception_id: e.id.clone(),
                    actor: None,
                    detail: None,
                });
            }
        }
        self.events.extend(new.iter().cloned());
        new
    }

    /// Records a `used` event for every exception a decision applied.
    pub fn record_use(&mut self, decision: &crate::Decision) -> Vec<ExceptionEvent> {
        let new: Vec<ExceptionEvent> = decision.exception_events();
        self.events.extend(new.iter().cloned());
        new
    }

    /// All exceptions, by id.
    pub fn exceptions(&self) -> impl Iterator<Item = &Exception> {
        self.exceptions.values()
    }

    /// One exception.
    pub fn get(&self, id: &str) -> Option<&Exception> {
        self.exceptions.get(id)
    }

    /// The events, in the order they were recorded.
    pub fn events(&self) -> &[ExceptionEvent] {
        &self.events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn exc() -> Exception {
        Exception {
            id: "EX-1".into(),
            scope: ExceptionScope {
                vulnerability: Some("CVE-2024-1".into()),
                ..Default::default()
            },
            reason: "no fix upstream".into(),
            requested_by: "alice@example.com".into(),
            requested_at: datetime!(2026-01-01 0:00 UTC),
            approved_by: Some("bob@example.com".into()),
            approved_at: Some(datetime!(2026-01-02 0:00 UTC)),
            expires_at: datetime!(2026-02-01 0:00 UTC),
        }
    }

    #[test]
    fn status_over_time() {
        let e = exc();
        assert_eq!(
            e.status(datetime!(2026-01-01 12:00 UTC)),
            ExceptionStatus::Pending
        );
        assert_eq!(
            e.status(datetime!(2026-01-15 0:00 UTC)),
            ExceptionStatus::Active
        );
        assert_eq!(
            e.status(datetime!(2026-02-01 0:00 UTC)),
            ExceptionStatus::Expired
        );
    }

    #[test]
    fn self_approval_never_applies_whatever_the_case() {
        let mut e = exc();
        e.approved_by = Some("  Alice@Example.com ".into());
        assert_eq!(
            e.status(datetime!(2026-01-15 0:00 UTC)),
            ExceptionStatus::SelfApproved
        );
    }

    #[test]
    fn malformed_records_are_invalid() {
        let mut e = exc();
        e.scope = ExceptionScope::default();
        assert!(matches!(
            e.status(datetime!(2026-01-15 0:00 UTC)),
            ExceptionStatus::Invalid(_)
        ));
        let mut e = exc();
        e.expires_at = datetime!(2028-01-01 0:00 UTC);
        assert!(matches!(
            e.status(datetime!(2026-01-15 0:00 UTC)),
            ExceptionStatus::Invalid(_)
        ));
        let mut e = exc();
        e.approved_at = None;
        assert!(e.validate().is_err());
        let mut e = exc();
        e.reason = " ".into();
        assert!(e.validate().is_err());
    }

    #[test]
    fn scope_matching() {
        let aliases = vec!["GHSA-xxxx".to_string()];
        let digest = format!("sha256:{}", "a".repeat(64));
        let t = MatchTarget {
            workload: Some("pay/api"),
            artifact_name: "reg/app",
            artifact_digest: &digest,
            policy: "palisade.vulnerabilities",
            vulnerability: Some(("cve-2024-1", &aliases)),
        };
        let mut e = exc();
        assert!(e.matches(&t));
        e.scope.vulnerability = Some("ghsa-XXXX".into());
        assert!(e.matches(&t), "aliases match too");
        e.scope.workload = Some("pay/other".into());
        assert!(!e.matches(&t), "every set field must match");
        e.scope.workload = Some("pay/api".into());
        e.scope.artifact = Some(digest.clone());
        assert!(e.matches(&t));
        e.scope.artifact = Some("reg/app".into());
        assert!(e.matches(&t));
        e.scope.artifact = Some(format!("sha256:{}", "b".repeat(64)));
        assert!(!e.matches(&t));
        let no_vuln = MatchTarget {
            vulnerability: None,
            ..t
        };
        let mut e = exc();
        assert!(
            !e.matches(&no_vuln),
            "a vulnerability scope needs a vulnerability"
        );
        e.scope = ExceptionScope {
            policy: Some("palisade.vulnerabilities".into()),
            ..Default::default()
        };
        assert!(e.matches(&no_vuln));
    }

    #[test]
    fn ledger_records_every_step() {
        let mut l = ExceptionLedger::new();
        let req = ExceptionRequest {
            id: "EX-9".into(),
            scope: ExceptionScope {
                policy: Some("p".into()),
                ..Default::default()
            },
            reason: "migration".into(),
            requested_by: "alice".into(),
            expires_at: datetime!(2026-03-01 0:00 UTC),
        };
        l.grant(req.clone(), datetime!(2026-01-01 0:00 UTC))
            .unwrap();
        assert!(
            l.grant(req, datetime!(2026-01-01 0:00 UTC)).is_err(),
            "duplicate id"
        );
        let err = l
            .approve("EX-9", "ALICE", datetime!(2026-01-02 0:00 UTC))
            .unwrap_err();
        assert!(err.to_string().contains("two-person"), "{err}");
        l.approve("EX-9", "bob", datetime!(2026-01-02 0:00 UTC))
            .unwrap();
        assert!(
            l.approve("EX-9", "carol", datetime!(2026-01-03 0:00 UTC))
                .is_err()
        );
        assert!(l.sweep(datetime!(2026-02-01 0:00 UTC)).is_empty());
        assert_eq!(l.sweep(datetime!(2026-03-02 0:00 UTC)).len(), 1);
        assert!(
            l.sweep(datetime!(2026-03-03 0:00 UTC)).is_empty(),
            "expiry recorded once"
        );
        let kinds: Vec<EventKind> = l.events().iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            vec![
                EventKind::Granted,
                EventKind::ApprovalRejected,
                EventKind::Approved,
                EventKind::ApprovalRejected,
                EventKind::Expired
            ]
        );
        assert_eq!(
            l.get("EX-9")
                .unwrap()
                .status(datetime!(2026-02-01 0:00 UTC)),
            ExceptionStatus::Active
        );
    }

    #[test]
    fn approving_an_expired_exception_is_refused() {
        let mut l = ExceptionLedger::new();
        l.grant(
            ExceptionRequest {
                id: "EX-2".into(),
                scope: ExceptionScope {
                    policy: Some("p".into()),
                    ..Default::default()
                },
                reason: "r".into(),
                requested_by: "alice".into(),
                expires_at: datetime!(2026-01-05 0:00 UTC),
            },
            datetime!(2026-01-01 0:00 UTC),
        )
        .unwrap();
        assert!(
            l.approve("EX-2", "bob", datetime!(2026-01-06 0:00 UTC))
                .is_err()
        );
        assert!(
            l.approve("nope", "bob", datetime!(2026-01-02 0:00 UTC))
                .is_err()
        );
    }
}
