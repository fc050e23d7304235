//! Events as the store records them (`events` rows), their severity and
//! priority, and the key that deduplicates their notifications.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A finding appeared.
pub const FINDING_NEW: &str = "finding.new";
/// A finding's advisory details changed (severity, fix...).
pub const FINDING_CHANGED: &str = "finding.changed";
/// A resolved finding was matched again.
pub const FINDING_REOPENED: &str = "finding.reopened";
/// A finding is no longer reported.
pub const FINDING_RESOLVED: &str = "finding.resolved";
/// A policy decision denied something.
pub const DECISION_DENY: &str = "decision.deny";
/// An exception expired.
pub const EXCEPTION_EXPIRED: &str = "exception.expired";
/// An exception expires within the configured number of days.
pub const EXCEPTION_EXPIRING: &str = "exception.expiring";
/// A test notification sent on request.
pub const TEST: &str = "test";

/// Every kind a target can subscribe to.
pub const KINDS: &[&str] = &[
    FINDING_NEW,
    FINDING_CHANGED,
    FINDING_REOPENED,
    FINDING_RESOLVED,
    DECISION_DENY,
    EXCEPTION_EXPIRED,
    EXCEPTION_EXPIRING,
    TEST,
];

/// One event: what happened (`kind`), to what (`subject`: a finding,
/// decision or exception id) and the details (`payload`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The event's id (sortable by time).
    pub id: String,
    /// When, ms since the Unix epoch.
    pub at: i64,
    /// One of [`KINDS`].
    pub kind: String,
    /// The id of what it is about.
    pub subject: String,
    /// Details (JSON object); see `docs/notifications.md`.
    pub payload: serde_json::Value,
}

/// Severity of a finding, least to most severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// No impact.
    None,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(Severity::None),
            "low" => Ok(Severity::Low),
            "medium" | "moderate" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity {other:?} (expected none, low, medium, high or critical)"
            )),
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Priority of a finding (`docs/prioritisation.md`): `P1` is the most
/// urgent, so `P1 < P2` and a finding meets a minimum when it is `<=` it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Priority {
    /// Urgent.
    P1,
    /// High.
    P2,
    /// Medium.
    P3,
    /// Low.
    P4,
}

impl Priority {
    /// `P1`..`P4`.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::P1 => "P1",
            Priority::P2 => "P2",
            Priority::P3 => "P3",
            Priority::P4 => "P4",
        }
    }

    /// The priority a severity stands for while a finding has not been
    /// prioritised yet: critical P1, high P2, medium P3, anything else P4.
    pub fn from_severity(s: Severity) -> Priority {
        match s {
            Severity::Critical => Priority::P1,
            Severity::High => Priority::P2,
            Severity::Medium => Priority::P3,
            Severity::Low | Severity::None => Priority::P4,
        }
    }

    /// Whether this priority is at least as urgent as `min`.
    pub fn meets(self, min: Priority) -> bool {
        self <= min
    }
}

impl FromStr for Priority {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_uppercase().as_str() {
            "P1" => Ok(Priority::P1),
            "P2" => Ok(Priority::P2),
            "P3" => Ok(Priority::P3),
            "P4" => Ok(Priority::P4),
            other => Err(format!(
                "unknown priority {other:?} (expected P1, P2, P3 or P4)"
            )),
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Event {
    /// Whether it is about a finding (`finding.*`).
    pub fn is_finding(&self) -> bool {
        self.kind.starts_with("finding.")
    }

    /// A text field of the payload.
    pub fn text(&self, field: &str) -> Option<&str> {
        self.payload.get(field).and_then(|v| v.as_str())
    }

    /// The finding's severity, when the payload has a known one.
    pub fn severity(&self) -> Option<Severity> {
        self.text("severity").and_then(|s| s.parse().ok())
    }

    /// The finding's priority: the stored one (`payload.priority`), or the
    /// one its severity stands for until it is prioritised.
    pub fn priority(&self) -> Option<Priority> {
        self.text("priority")
            .and_then(|p| p.parse().ok())
            .or_else(|| self.severity().map(Priority::from_severity))
    }

    /// The environments the event concerns, when the payload says
    /// (`environments`: the findings' artifact runs there; `environment`: a
    /// decision's). `None` when the payload does not say.
    pub fn environments(&self) -> Option<Vec<String>> {
        if let Some(list) = self.payload.get("environments").and_then(|v| v.as_array()) {
            return Some(
                list.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
            );
        }
        self.text("environment").map(|e| vec![e.to_owned()])
    }

    /// What makes two events "the same notification": the kind and the
    /// logical subject. For findings and exceptions that is the id; for a
    /// denial it is where it happened (environment, workload or artifact),
    /// since every re-decision of the same deployment is a new decision id.
    pub fn dedup_key(&self) -> String {
        if self.kind == DECISION_DENY {
            let env = self.text("environment").unwrap_or("");
            let what = self
                .text("workload")
                .or_else(|| self.text("artifact"))
                .unwrap_or(&self.subject);
            return format!("{}:{env}/{what}", self.kind);
        }
        format!("{}:{}", self.kind, self.subject)
    }

    /// A one-line human summary (the Slack `text`, the webhook `title`).
    pub fn title(&self) -> String {
        let artifact = self
            .text("artifact_name")
            .or_else(|| self.text("artifact"))
            .unwrap_or("an artifact");
        let component = match (self.text("component_name"), self.text("component_version")) {
            (Some(n), Some(v)) => format!("{n}@{v}"),
            (Some(n), None) => n.to_owned(),
            _ => self.text("component").unwrap_or("a component").to_owned(),
        };
        let advisory = self.text("advisory").unwrap_or(&self.subject);
        let severity = self.text("severity").unwrap_or("unknown");
        match self.kind.as_str() {
            FINDING_NEW => {
                format!("New {severity} finding {advisory} in {component} ({artifact})")
            }
            FINDING_REOPENED => {
                format!("Reopened {severity} finding {advisory} in {component} ({artifact})")
            }
            FINDING_CHANGED => {
                format!("Finding {advisory} in {component} changed ({artifact})")
            }
            FINDING_RESOLVED => {
                format!("Finding {advisory} in {component} resolved ({artifact})")
            }
            DECISION_DENY => {
                let what = self
                    .text("workload")
                    .or_else(|| self.text("artifact"))
                    .unwrap_or("a deployment");
                let env = self.text("environment").unwrap_or("an environment");
                format!("Policy denied {what} in {env}")
            }
            EXCEPTION_EXPIRING => {
                let days = self
                    .payload
                    .get("days_left")
                    .and_then(|d| d.as_i64())
                    .unwrap_or(0);
                let when = match days {
                    0 => "today".to_owned(),
                    1 => "within a day".to_owned(),
                    n => format!("within {n} days"),
                };
                format!("Exception {} expires {when}", self.subject)
            }
            EXCEPTION_EXPIRED => format!("Exception {} expired", self.subject),
            TEST => "Palisade test notification".to_owned(),
            other => format!("Palisade event {other} about {}", self.subject),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(kind: &str, payload: serde_json::Value) -> Event {
        Event {
            id: "01".into(),
            at: 0,
            kind: kind.into(),
            subject: "s1".into(),
            payload,
        }
    }

    #[test]
    fn priority_orders_by_urgency() {
        assert!(Priority::P1.meets(Priority::P2));
        assert!(Priority::P2.meets(Priority::P2));
        assert!(!Priority::P3.meets(Priority::P2));
        assert_eq!("p2".parse::<Priority>(), Ok(Priority::P2));
    }

    #[test]
    fn priority_falls_back_to_severity() {
        let e = ev(FINDING_NEW, json!({"severity": "critical"}));
        assert_eq!(e.priority(), Some(Priority::P1));
        let e = ev(
            FINDING_NEW,
            json!({"severity": "critical", "priority": "P3"}),
        );
        assert_eq!(e.priority(), Some(Priority::P3));
        let e = ev(FINDING_NEW, json!({"severity": "unknown", "priority": ""}));
        assert_eq!(e.priority(), None);
    }

    #[test]
    fn denials_deduplicate_by_place_not_decision() {
        let a = ev(
            DECISION_DENY,
            json!({"environment": "prod", "workload": "shop/web"}),
        );
        let mut b = a.clone();
        b.subject = "another-decision".into();
        assert_eq!(a.dedup_key(), b.dedup_key());
        assert_eq!(a.dedup_key(), "decision.deny:prod/shop/web");
        let f = ev(FINDING_NEW, json!({}));
        assert_eq!(f.dedup_key(), "finding.new:s1");
    }

    #[test]
    fn titles() {
        let e = ev(
            FINDING_NEW,
            json!({"severity": "high", "advisory": "CVE-1", "component_name": "lodash", "component_version": "4.17.15", "artifact_name": "web"}),
        );
        assert_eq!(e.title(), "New high finding CVE-1 in lodash@4.17.15 (web)");
        let e = ev(EXCEPTION_EXPIRING, json!({"days_left": 3}));
        assert_eq!(e.title(), "Exception s1 expires within 3 days");
    }
}
