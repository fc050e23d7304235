//! Which events go to a target.

use serde::{Deserialize, Serialize};

use crate::event::{
    DECISION_DENY, EXCEPTION_EXPIRING, Event, FINDING_NEW, FINDING_REOPENED, KINDS, Priority,
    Severity,
};

/// A target's subscription. An event passes when its kind is listed and,
/// for finding events, it meets the minimum severity and priority; when
/// `environments` is set, an event that names environments must name one of
/// them (events that name none, such as exception events, pass).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// Event kinds (exact, or a prefix ending in `.*` such as `finding.*`).
    #[serde(default = "default_kinds")]
    pub kinds: Vec<String>,
    /// Findings at least this severe.
    #[serde(default)]
    pub min_severity: Option<Severity>,
    /// Findings at least this urgent (`P1` most urgent). Until a finding is
    /// prioritised its severity stands in (critical P1, high P2, medium
    /// P3, low P4).
    #[serde(default = "default_min_priority")]
    pub min_priority: Option<Priority>,
    /// Only these environments (empty: all).
    #[serde(default)]
    pub environments: Vec<String>,
}

fn default_kinds() -> Vec<String> {
    [
        FINDING_NEW,
        FINDING_REOPENED,
        DECISION_DENY,
        EXCEPTION_EXPIRING,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

fn default_min_priority() -> Option<Priority> {
    Some(Priority::P2)
}

impl Default for Filter {
    /// New and reopened findings of priority P2 or higher, policy denials
    /// and expiring exceptions, in every environment.
    fn default() -> Self {
        Filter {
            kinds: default_kinds(),
            min_severity: None,
            min_priority: default_min_priority(),
            environments: Vec::new(),
        }
    }
}

impl Filter {
    /// Checks the kinds are known; returns the first problem.
    pub fn validate(&self) -> Result<(), String> {
        if self.kinds.is_empty() {
            return Err("filter.kinds: at least one event kind".into());
        }
        for k in &self.kinds {
            let known = match k.strip_suffix(".*") {
                Some(prefix) => KINDS
                    .iter()
                    .any(|known| known.starts_with(&format!("{prefix}."))),
                None => KINDS.contains(&k.as_str()),
            };
            if !known {
                return Err(format!(
                    "filter.kinds: unknown event kind {k:?} (known: {})",
                    KINDS.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// Whether `kind` is subscribed.
    pub fn wants_kind(&self, kind: &str) -> bool {
        self.kinds.iter().any(|k| match k.strip_suffix(".*") {
            Some(prefix) => kind
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('.')),
            None => k == kind,
        })
    }

    /// Whether `event` goes to the target.
    pub fn matches(&self, event: &Event) -> bool {
        if !self.wants_kind(&event.kind) {
            return false;
        }
        if event.is_finding() {
            if let Some(min) = self.min_severity {
                match event.severity() {
                    Some(s) if s >= min => {}
                    _ => return false,
                }
            }
            if let Some(min) = self.min_priority {
                match event.priority() {
                    Some(p) if p.meets(min) => {}
                    _ => return false,
                }
            }
        }
        if !self.environments.is_empty()
            && let Some(envs) = event.environments()
            && !envs
                .iter()
                .any(|e| self.environments.iter().any(|w| w.eq_ignore_ascii_case(e)))
        {
            return false;
        }
        true
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
            subject: "x".into(),
            payload,
        }
    }

    #[test]
    fn default_sends_high_priority_new_findings_denials_and_expiring() {
        let f = Filter::default();
        assert!(f.matches(&ev(FINDING_NEW, json!({"severity": "critical"}))));
        assert!(f.matches(&ev(FINDING_NEW, json!({"severity": "high"}))));
        assert!(!f.matches(&ev(FINDING_NEW, json!({"severity": "medium"}))));
        assert!(f.matches(&ev(
            FINDING_NEW,
            json!({"severity": "medium", "priority": "P1"})
        )));
        assert!(!f.matches(&ev(FINDING_NEW, json!({"severity": "unknown"}))));
        assert!(!f.matches(&ev("finding.resolved", json!({"severity": "critical"}))));
        assert!(f.matches(&ev(DECISION_DENY, json!({"environment": "prod"}))));
        assert!(f.matches(&ev(EXCEPTION_EXPIRING, json!({}))));
        assert!(!f.matches(&ev("exception.expired", json!({}))));
    }

    #[test]
    fn severity_wildcards_and_environments() {
        let f: Filter = serde_json::from_value(json!({
            "kinds": ["finding.*", "decision.deny"],
            "min_severity": "medium",
            "min_priority": null,
            "environments": ["prod"]
        }))
        .unwrap_or_default();
        assert!(f.validate().is_ok());
        assert!(f.matches(&ev(
            "finding.resolved",
            json!({"severity": "medium", "environments": ["prod", "dev"]})
        )));
        assert!(!f.matches(&ev(
            "finding.new",
            json!({"severity": "low", "environments": ["prod"]})
        )));
        assert!(!f.matches(&ev(
            "finding.new",
            json!({"severity": "high", "environments": ["dev"]})
        )));
        assert!(!f.matches(&ev(DECISION_DENY, json!({"environment": "dev"}))));
        assert!(f.matches(&ev(DECISION_DENY, json!({"environment": "PROD"}))));
        assert!(!f.wants_kind("findings.new"));
    }

    #[test]
    fn validation() {
        let mut f = Filter {
            kinds: vec!["finding.nope".into()],
            ..Filter::default()
        };
        assert!(f.validate().is_err());
        f.kinds = vec!["exception.*".into()];
        assert!(f.validate().is_ok());
        assert!(serde_json::from_value::<Filter>(json!({"kind": []})).is_err());
    }
}
