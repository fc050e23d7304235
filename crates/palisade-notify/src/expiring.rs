//! `exception.expiring` events: approved exceptions that expire within a
//! number of days.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What the scan needs of an exception.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionInfo {
    /// Id.
    pub id: String,
    /// The owning team.
    pub team_id: Option<String>,
    /// Workload scope.
    pub workload: Option<String>,
    /// Artifact scope.
    pub artifact: Option<String>,
    /// Vulnerability scope.
    pub vulnerability: Option<String>,
    /// Policy scope.
    pub policy: Option<String>,
    /// Why it was granted.
    pub reason: String,
    /// Who asked.
    pub requested_by: String,
    /// Who approved (none: pending, not in force).
    pub approved_by: Option<String>,
    /// Expiry, ms.
    pub expires_at: i64,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// An `exception.expiring` event to record: (subject, payload).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expiring {
    /// The exception's id (the event's subject).
    pub subject: String,
    /// The event's payload.
    pub payload: Value,
}

const DAY_MS: i64 = 86_400_000;

/// The approved, unrevoked exceptions that expire after `now` and within
/// `within_days` days of it, soonest first.
pub fn scan(exceptions: &[ExceptionInfo], now: i64, within_days: u32) -> Vec<Expiring> {
    let horizon = now.saturating_add(i64::from(within_days).saturating_mul(DAY_MS));
    let mut list: Vec<&ExceptionInfo> = exceptions
        .iter()
        .filter(|e| {
            !e.revoked && e.approved_by.is_some() && e.expires_at > now && e.expires_at <= horizon
        })
        .collect();
    list.sort_by(|a, b| a.expires_at.cmp(&b.expires_at).then(a.id.cmp(&b.id)));
    list.into_iter()
        .map(|e| Expiring {
            subject: e.id.clone(),
            payload: json!({
                "expires_at": e.expires_at,
                "days_left": (e.expires_at - now) / DAY_MS,
                "team": e.team_id,
                "workload": e.workload,
                "artifact": e.artifact,
                "vulnerability": e.vulnerability,
                "policy": e.policy,
                "reason": e.reason,
                "requested_by": e.requested_by,
                "approved_by": e.approved_by,
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(id: &str, expires_at: i64, approved: bool, revoked: bool) -> ExceptionInfo {
        ExceptionInfo {
            id: id.into(),
            team_id: None,
            workload: Some("shop/web".into()),
            artifact: None,
            vulnerability: Some("CVE-1".into()),
            policy: None,
            reason: "r".into(),
            requested_by: "a".into(),
            approved_by: approved.then(|| "b".to_owned()),
            expires_at,
            revoked,
        }
    }

    #[test]
    fn finds_those_expiring_within_the_window() {
        let now = 10 * DAY_MS;
        let list = [
            ex("in-3-days", now + 3 * DAY_MS + 5, true, false),
            ex("in-1-hour", now + 3_600_000, true, false),
            ex("in-30-days", now + 30 * DAY_MS, true, false),
            ex("expired", now - 1, true, false),
            ex("pending", now + DAY_MS, false, false),
            ex("revoked", now + DAY_MS, true, true),
        ];
        let out = scan(&list, now, 7);
        let ids: Vec<&str> = out.iter().map(|e| e.subject.as_str()).collect();
        assert_eq!(ids, vec!["in-1-hour", "in-3-days"]);
        assert_eq!(out[1].payload["days_left"], 3);
        assert_eq!(out[0].payload["days_left"], 0);
    }
}
