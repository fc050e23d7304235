//! Notification targets and the payloads they receive.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::event::Event;
use crate::filter::Filter;
use crate::http::OutboundRequest;
use crate::net::redact_url;
use crate::sign::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};

/// The version of the webhook payload.
pub const PAYLOAD_VERSION: u32 = 1;

/// The header naming the event kind.
pub const EVENT_HEADER: &str = "X-Palisade-Event";
/// The header carrying the delivery's id (the same on every retry).
pub const DELIVERY_HEADER: &str = "X-Palisade-Delivery";

/// What a target receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// Palisade's JSON document (see `docs/notifications.md`).
    Webhook,
    /// A Slack-compatible message (`text` and `blocks`), for Slack's
    /// incoming webhooks and the chat tools that accept the same.
    Slack,
}

impl TargetKind {
    /// `webhook` or `slack`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Webhook => "webhook",
            TargetKind::Slack => "slack",
        }
    }
}

/// A notification target.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// Its id.
    pub id: String,
    /// A name for people.
    pub name: String,
    /// What it receives.
    pub kind: TargetKind,
    /// Where to POST.
    pub url: String,
    /// The HMAC key; requests are signed when set.
    #[serde(default, skip_serializing)]
    pub secret: Option<String>,
    /// Which events it receives.
    #[serde(default)]
    pub filter: Filter,
    /// Whether its URL may resolve to a private or loopback address.
    #[serde(default)]
    pub allow_private: bool,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("url", &redact_url(&self.url))
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("filter", &self.filter)
            .field("allow_private", &self.allow_private)
            .finish()
    }
}

/// RFC 3339 (UTC) of a time in ms.
pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// The generic webhook document of an event.
pub fn webhook_body(event: &Event) -> Value {
    json!({
        "version": PAYLOAD_VERSION,
        "id": event.id,
        "kind": event.kind,
        "subject": event.subject,
        "at": rfc3339(event.at),
        "title": event.title(),
        "dedup_key": event.dedup_key(),
        "data": event.payload,
    })
}

/// Escapes text for Slack's mrkdwn (`&`, `<`, `>`).
fn mrkdwn(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The Slack-compatible message of an event: `text` (the fallback shown in
/// notifications) and `blocks` (a header section and the details).
pub fn slack_body(event: &Event) -> Value {
    let title = event.title();
    let mut fields = Vec::new();
    let mut field = |label: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            fields.push(json!({"type": "mrkdwn", "text": format!("*{label}*\n{}", mrkdwn(&v))}));
        }
    };
    let text = |k: &str| event.text(k).map(str::to_owned);
    field("Severity", text("severity"));
    field("Priority", text("priority").filter(|p| !p.is_empty()));
    field("Advisory", text("advisory"));
    field("Fix", text("fix_version"));
    field(
        "Artifact",
        text("artifact_name").or_else(|| text("artifact")),
    );
    field("Environments", event.environments().map(|e| e.join(", ")));
    field("Workload", text("workload"));
    field(
        "Expires",
        event
            .payload
            .get("expires_at")
            .and_then(|v| v.as_i64())
            .map(rfc3339),
    );
    fields.truncate(10); // Slack's limit per section.
    let mut blocks = vec![json!({
        "type": "section",
        "text": {"type": "mrkdwn", "text": format!("*{}*", mrkdwn(&title))}
    })];
    if !fields.is_empty() {
        blocks.push(json!({"type": "section", "fields": fields}));
    }
    if let Some(reasons) = event.payload.get("reasons").and_then(|r| r.as_array()) {
        let list: Vec<String> = reasons
            .iter()
            .filter_map(|r| r.as_str())
            .take(10)
            .map(|r| format!("• {}", mrkdwn(r)))
            .collect();
        if !list.is_empty() {
            blocks.push(
                json!({"type": "section", "text": {"type": "mrkdwn", "text": list.join("\n")}}),
            );
        }
    }
    if let Some(summary) = text("summary").filter(|s| !s.is_empty()) {
        blocks
            .push(json!({"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn(&summary)}}));
    }
    blocks.push(json!({
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": format!("Palisade · {} · {}", event.kind, rfc3339(event.at))}]
    }));
    json!({"text": title, "blocks": blocks})
}

/// Adds the signature headers for `body` when there is a secret.
pub fn signed_headers(
    secret: Option<&str>,
    now_secs: i64,
    body: &[u8],
    headers: &mut Vec<(String, String)>,
) {
    if let Some(secret) = secret.filter(|s| !s.is_empty()) {
        headers.push((TIMESTAMP_HEADER.to_owned(), now_secs.to_string()));
        headers.push((
            SIGNATURE_HEADER.to_owned(),
            sign(secret.as_bytes(), now_secs, body),
        ));
    }
}

impl Target {
    /// The request that notifies `event` (signed at `now_secs` when the
    /// target has a secret); `delivery` is the delivery's id.
    pub fn request(&self, event: &Event, delivery: &str, now_secs: i64) -> OutboundRequest {
        let body = match self.kind {
            TargetKind::Webhook => webhook_body(event),
            TargetKind::Slack => slack_body(event),
        };
        let body = body.to_string().into_bytes();
        let mut headers = vec![
            (EVENT_HEADER.to_owned(), event.kind.clone()),
            (DELIVERY_HEADER.to_owned(), delivery.to_owned()),
        ];
        signed_headers(self.secret.as_deref(), now_secs, &body, &mut headers);
        OutboundRequest {
            url: self.url.clone(),
            headers,
            body,
            allow_private: self.allow_private,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::verify;

    fn event() -> Event {
        Event {
            id: "01hx".into(),
            at: 1_700_000_000_000,
            kind: "finding.new".into(),
            subject: "f1".into(),
            payload: json!({"severity": "critical", "advisory": "CVE-2099-1", "component_name": "lodash",
                "component_version": "4.17.15", "fix_version": "4.17.21", "artifact_name": "shop/web",
                "environments": ["prod"], "summary": "Prototype <pollution>"}),
        }
    }

    #[test]
    fn webhook_document() {
        let b = webhook_body(&event());
        assert_eq!(b["version"], 1);
        assert_eq!(b["kind"], "finding.new");
        assert_eq!(b["at"], "2023-11-14T22:13:20Z");
        assert_eq!(b["dedup_key"], "finding.new:f1");
        assert_eq!(b["data"]["fix_version"], "4.17.21");
        assert_eq!(
            b["title"],
            "New critical finding CVE-2099-1 in lodash@4.17.15 (shop/web)"
        );
    }

    #[test]
    fn slack_message() {
        let b = slack_body(&event());
        assert_eq!(
            b["text"],
            "New critical finding CVE-2099-1 in lodash@4.17.15 (shop/web)"
        );
        let blocks = b["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "section");
        assert!(blocks.iter().any(|bl| {
            bl["text"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("&lt;pollution&gt;"))
        }));
        assert_eq!(blocks.last().unwrap()["type"], "context");
    }

    #[test]
    fn requests_are_signed() {
        let t = Target {
            id: "t".into(),
            name: "n".into(),
            kind: TargetKind::Webhook,
            url: "https://hooks.example/in".into(),
            secret: Some("s3cret".into()),
            filter: Filter::default(),
            allow_private: false,
        };
        let r = t.request(&event(), "d1", 1_700_000_000);
        let ts = r.header(TIMESTAMP_HEADER).unwrap();
        let sig = r.header(SIGNATURE_HEADER).unwrap();
        assert_eq!(ts, "1700000000");
        assert!(verify(b"s3cret", ts, sig, &r.body, 1_700_000_010, 300).is_ok());
        assert_eq!(r.header(EVENT_HEADER), Some("finding.new"));
        assert!(!format!("{t:?}").contains("s3cret"));
        assert!(!serde_json::to_string(&t).unwrap().contains("s3cret"));
        let unsigned = Target { secret: None, ..t };
        assert!(
            unsigned
                .request(&event(), "d1", 0)
                .header(SIGNATURE_HEADER)
                .is_none()
        );
    }
}
