//! Rebuild triggers: when a fix is available for a dependency of a running
//! workload, ask CI to rebuild it (GitHub `repository_dispatch`, or any
//! webhook), once per (workload, component, fix version).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::NotifyError;
use crate::event::Severity;
use crate::http::OutboundRequest;
use crate::net::redact_url;
use crate::target::{DELIVERY_HEADER, EVENT_HEADER, signed_headers};

/// The kind of rebuild deliveries in the log.
pub const REBUILD_KIND: &str = "rebuild";
/// The default `event_type` of a repository dispatch.
pub const DEFAULT_EVENT_TYPE: &str = "palisade-rebuild";
/// GitHub's REST API.
pub const GITHUB_API: &str = "https://api.github.com";

/// Where a rebuild is requested.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RebuildKind {
    /// `POST {api_base}/repos/{owner}/{repo}/dispatches`.
    GithubDispatch {
        /// The API's base URL (GitHub Enterprise, or a test server).
        #[serde(default = "github_api")]
        api_base: String,
        /// The repository's owner.
        owner: String,
        /// The repository.
        repo: String,
        /// The `event_type` the workflow listens for.
        #[serde(default = "default_event_type")]
        event_type: String,
    },
    /// `POST url` with Palisade's rebuild document.
    Webhook {
        /// Where.
        url: String,
    },
}

fn github_api() -> String {
    GITHUB_API.to_owned()
}

fn default_event_type() -> String {
    DEFAULT_EVENT_TYPE.to_owned()
}

impl fmt::Debug for RebuildKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RebuildKind::GithubDispatch {
                api_base,
                owner,
                repo,
                event_type,
            } => f
                .debug_struct("GithubDispatch")
                .field("api_base", api_base)
                .field("owner", owner)
                .field("repo", repo)
                .field("event_type", event_type)
                .finish(),
            RebuildKind::Webhook { url } => f
                .debug_struct("Webhook")
                .field("url", &redact_url(url))
                .finish(),
        }
    }
}

/// A CI endpoint to call when fixes become available.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RebuildTarget {
    /// Its id.
    pub id: String,
    /// A name for people.
    pub name: String,
    /// Where and how.
    pub kind: RebuildKind,
    /// Sent as `Authorization: Bearer <token>` (a GitHub token with
    /// permission to create repository dispatches).
    #[serde(default, skip_serializing)]
    pub token: Option<String>,
    /// The HMAC key; requests are signed when set.
    #[serde(default, skip_serializing)]
    pub secret: Option<String>,
    /// Only workloads in these environments (empty: all).
    #[serde(default)]
    pub environments: Vec<String>,
    /// Only workloads whose namespace/name is one of these (empty: all).
    #[serde(default)]
    pub workloads: Vec<String>,
    /// Only fixes of findings at least this severe.
    #[serde(default)]
    pub min_severity: Option<Severity>,
    /// Whether its URL may resolve to a private or loopback address.
    #[serde(default)]
    pub allow_private: bool,
}

impl fmt::Debug for RebuildTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RebuildTarget")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("environments", &self.environments)
            .field("workloads", &self.workloads)
            .field("min_severity", &self.min_severity)
            .field("allow_private", &self.allow_private)
            .finish()
    }
}

/// One open finding with a fix, on an artifact a workload runs (a row of
/// the store's query).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FixCandidate {
    /// The workload's id.
    pub workload_id: String,
    /// `namespace/name`.
    pub workload: String,
    /// Its environment.
    pub environment: String,
    /// The artifact it runs.
    pub artifact_digest: String,
    /// The artifact's name (image reference).
    pub artifact_name: String,
    /// The component's key (purl or name@version).
    pub component_key: String,
    /// The component's name.
    pub component_name: String,
    /// Its version now.
    pub component_version: Option<String>,
    /// Its purl.
    pub purl: Option<String>,
    /// The version that fixes it.
    pub fix_version: String,
    /// The advisory.
    pub advisory: String,
    /// The finding's severity.
    pub severity: String,
}

/// A fix available for one component of one workload: what a rebuild is
/// asked for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FixAvailable {
    /// The workload's id.
    pub workload_id: String,
    /// `namespace/name`.
    pub workload: String,
    /// Its environment.
    pub environment: String,
    /// The artifact it runs.
    pub artifact_digest: String,
    /// The artifact's name.
    pub artifact_name: String,
    /// The component's key.
    pub component_key: String,
    /// The component's name.
    pub component_name: String,
    /// Its version now.
    pub current_version: Option<String>,
    /// Its purl.
    pub purl: Option<String>,
    /// The version to upgrade to.
    pub fix_version: String,
    /// The advisories it fixes, sorted.
    pub advisories: Vec<String>,
    /// The most severe of their severities.
    pub severity: Option<Severity>,
}

impl FixAvailable {
    /// `rebuild:<workload>:<component>:<fix version>`: a rebuild is
    /// requested once per key and target.
    pub fn dedup_key(&self) -> String {
        format!(
            "rebuild:{}:{}:{}",
            self.workload_id, self.component_key, self.fix_version
        )
    }

    /// What to upgrade, as sent (`client_payload` of a dispatch; GitHub
    /// accepts at most 10 top-level properties there).
    pub fn payload(&self) -> Value {
        json!({
            "workload": {"id": self.workload_id, "name": self.workload, "environment": self.environment},
            "artifact": {"digest": self.artifact_digest, "name": self.artifact_name},
            "upgrade": {
                "component": self.component_name,
                "purl": self.purl,
                "from": self.current_version,
                "to": self.fix_version,
            },
            "advisories": self.advisories,
            "severity": self.severity.map(Severity::as_str),
            "dedup_key": self.dedup_key(),
        })
    }
}

/// Groups candidates into one fix per (workload, component, fix version),
/// listing every advisory it fixes.
pub fn group(candidates: &[FixCandidate]) -> Vec<FixAvailable> {
    let mut by: BTreeMap<(String, String, String), FixAvailable> = BTreeMap::new();
    for c in candidates {
        if c.fix_version.is_empty() {
            continue;
        }
        let sev = c.severity.parse::<Severity>().ok();
        let e = by
            .entry((
                c.workload_id.clone(),
                c.component_key.clone(),
                c.fix_version.clone(),
            ))
            .or_insert_with(|| FixAvailable {
                workload_id: c.workload_id.clone(),
                workload: c.workload.clone(),
                environment: c.environment.clone(),
                artifact_digest: c.artifact_digest.clone(),
                artifact_name: c.artifact_name.clone(),
                component_key: c.component_key.clone(),
                component_name: c.component_name.clone(),
                current_version: c.component_version.clone(),
                purl: c.purl.clone(),
                fix_version: c.fix_version.clone(),
                advisories: Vec::new(),
                severity: None,
            });
        if !e.advisories.contains(&c.advisory) {
            e.advisories.push(c.advisory.clone());
            e.advisories.sort();
        }
        e.severity = e.severity.max(sev);
    }
    by.into_values().collect()
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl RebuildTarget {
    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), NotifyError> {
        match &self.kind {
            RebuildKind::GithubDispatch {
                owner,
                repo,
                event_type,
                ..
            } => {
                if !valid_name(owner) || !valid_name(repo) {
                    return Err(NotifyError::InvalidConfig(format!(
                        "owner and repo must be GitHub names (letters, digits, '-', '_', '.'): {owner:?}/{repo:?}"
                    )));
                }
                if event_type.is_empty() || event_type.len() > 100 {
                    return Err(NotifyError::InvalidConfig(
                        "event_type: 1 to 100 characters".into(),
                    ));
                }
                if self.token.as_deref().is_none_or(str::is_empty) {
                    return Err(NotifyError::InvalidConfig(
                        "a GitHub dispatch needs a token".into(),
                    ));
                }
            }
            RebuildKind::Webhook { .. } => {}
        }
        Ok(())
    }

    /// Whether this target wants `fix`.
    pub fn matches(&self, fix: &FixAvailable) -> bool {
        (self.environments.is_empty()
            || self
                .environments
                .iter()
                .any(|e| e.eq_ignore_ascii_case(&fix.environment)))
            && (self.workloads.is_empty() || self.workloads.contains(&fix.workload))
            && self
                .min_severity
                .is_none_or(|min| fix.severity.is_some_and(|s| s >= min))
    }

    /// The URL called.
    pub fn url(&self) -> String {
        match &self.kind {
            RebuildKind::GithubDispatch {
                api_base,
                owner,
                repo,
                ..
            } => format!(
                "{}/repos/{owner}/{repo}/dispatches",
                api_base.trim_end_matches('/')
            ),
            RebuildKind::Webhook { url } => url.clone(),
        }
    }

    /// The request that asks for the rebuild.
    pub fn request(
        &self,
        fix: &FixAvailable,
        delivery: &str,
        now_secs: i64,
    ) -> Result<OutboundRequest, NotifyError> {
        self.validate()?;
        let mut headers = vec![
            (EVENT_HEADER.to_owned(), REBUILD_KIND.to_owned()),
            (DELIVERY_HEADER.to_owned(), delivery.to_owned()),
        ];
        let body = match &self.kind {
            RebuildKind::GithubDispatch { event_type, .. } => {
                headers.push(("Accept".into(), "application/vnd.github+json".into()));
                headers.push(("X-GitHub-Api-Version".into(), "2022-11-28".into()));
                json!({"event_type": event_type, "client_payload": fix.payload()})
            }
            RebuildKind::Webhook { .. } => {
                let mut doc = fix.payload();
                if let Some(o) = doc.as_object_mut() {
                    o.insert("kind".into(), json!(REBUILD_KIND));
                    o.insert("version".into(), json!(crate::target::PAYLOAD_VERSION));
                }
                doc
            }
        };
        if let Some(token) = self.token.as_deref().filter(|t| !t.is_empty()) {
            headers.push(("Authorization".into(), format!("Bearer {token}")));
        }
        let body = body.to_string().into_bytes();
        signed_headers(self.secret.as_deref(), now_secs, &body, &mut headers);
        Ok(OutboundRequest {
            url: self.url(),
            headers,
            body,
            allow_private: self.allow_private,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(advisory: &str, fix: &str, severity: &str) -> FixCandidate {
        FixCandidate {
            workload_id: "w1".into(),
            workload: "shop/web".into(),
            environment: "prod".into(),
            artifact_digest: "sha256:11".into(),
            artifact_name: "registry.example/shop/web:1.4.0".into(),
            component_key: "pkg:npm/lodash@4.17.15".into(),
            component_name: "lodash".into(),
            component_version: Some("4.17.15".into()),
            purl: Some("pkg:npm/lodash@4.17.15".into()),
            fix_version: fix.into(),
            advisory: advisory.into(),
            severity: severity.into(),
        }
    }

    #[test]
    fn groups_per_workload_component_and_fix() {
        let g = group(&[
            cand("CVE-2", "4.17.21", "high"),
            cand("CVE-1", "4.17.21", "critical"),
            cand("CVE-3", "4.17.19", "low"),
            cand("CVE-4", "", "low"),
        ]);
        assert_eq!(g.len(), 2);
        let f = g.iter().find(|f| f.fix_version == "4.17.21").unwrap();
        assert_eq!(f.advisories, vec!["CVE-1", "CVE-2"]);
        assert_eq!(f.severity, Some(Severity::Critical));
        assert_eq!(f.dedup_key(), "rebuild:w1:pkg:npm/lodash@4.17.15:4.17.21");
    }

    #[test]
    fn github_dispatch_request() {
        let t = RebuildTarget {
            id: "r".into(),
            name: "shop CI".into(),
            kind: RebuildKind::GithubDispatch {
                api_base: "http://127.0.0.1:9/".into(),
                owner: "acme".into(),
                repo: "shop-web".into(),
                event_type: DEFAULT_EVENT_TYPE.into(),
            },
            token: Some("ghp_x".into()),
            secret: None,
            environments: vec!["prod".into()],
            workloads: vec![],
            min_severity: Some(Severity::High),
            allow_private: true,
        };
        let fix = &group(&[cand("CVE-1", "4.17.21", "critical")])[0];
        assert!(t.matches(fix));
        let r = t.request(fix, "d", 0).unwrap();
        assert_eq!(r.url, "http://127.0.0.1:9/repos/acme/shop-web/dispatches");
        assert_eq!(r.header("authorization"), Some("Bearer ghp_x"));
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["event_type"], "palisade-rebuild");
        assert_eq!(body["client_payload"]["upgrade"]["to"], "4.17.21");
        assert!(body["client_payload"].as_object().unwrap().len() <= 10);
        assert!(!format!("{t:?}").contains("ghp_x"));
        let mut low = fix.clone();
        low.severity = Some(Severity::Low);
        assert!(!t.matches(&low));
        let mut bad = t.clone();
        bad.kind = RebuildKind::GithubDispatch {
            api_base: GITHUB_API.into(),
            owner: "../x".into(),
            repo: "y".into(),
            event_type: "e".into(),
        };
        assert!(bad.validate().is_err());
    }
}
