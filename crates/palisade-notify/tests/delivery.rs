//! Delivery against a local HTTP receiver on 127.0.0.1: signatures,
//! retries with backoff, no retry on 4xx, deduplication, refusal of private
//! and loopback targets, redirects not followed, pinned resolution and the
//! GitHub repository_dispatch rebuild trigger.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use palisade_notify::deliver::{Deliverer, DeliveryInfo, Outcome, SystemClock};
use palisade_notify::event::{DECISION_DENY, Event, FINDING_NEW};
use palisade_notify::http::{HttpTransport, Transport};
use palisade_notify::net::{NetPolicy, Resolve};
use palisade_notify::rebuild::{FixAvailable, RebuildKind, RebuildTarget};
use palisade_notify::test_support::{Receiver, Reply, reply};
use palisade_notify::{
    Filter, Notifier, RetryPolicy, SIGNATURE_HEADER, Severity, TIMESTAMP_HEADER, Target,
    TargetKind, verify,
};
use serde_json::{Value, json};

fn event(kind: &str, subject: &str, payload: Value) -> Event {
    Event {
        id: format!("ev-{subject}"),
        at: palisade_notify::now_ms(),
        kind: kind.into(),
        subject: subject.into(),
        payload,
    }
}

fn finding() -> Event {
    event(
        FINDING_NEW,
        "f1",
        json!({"severity": "critical", "advisory": "CVE-2099-0001", "component_name": "lodash",
            "component_version": "4.17.15", "fix_version": "4.17.21", "artifact_name": "shop/web"}),
    )
}

fn target(kind: TargetKind, url: String, allow_private: bool) -> Target {
    Target {
        id: "t1".into(),
        name: "receiver".into(),
        kind,
        url,
        secret: Some("whsec-test".into()),
        filter: Filter::default(),
        allow_private,
    }
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(150),
        max_delay: Duration::from_secs(2),
        max_retry_after: Duration::from_secs(5),
        jitter: 0.0,
    }
}

fn notifier(transport: HttpTransport) -> Notifier {
    let mut d = Deliverer::new(Arc::new(transport));
    d.retry = fast_retries();
    Notifier::new(d, Duration::from_secs(3600))
}

fn quick_transport() -> HttpTransport {
    HttpTransport {
        timeout: Duration::from_millis(500),
        connect_timeout: Duration::from_millis(500),
        ..HttpTransport::default()
    }
}

#[test]
fn signature_verifies_at_the_receiver() {
    let rx = Receiver::start(vec![]);
    let n = notifier(quick_transport());
    let out = n.notify(
        &[target(TargetKind::Webhook, rx.url("/hook"), true)],
        &finding(),
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].outcome, Outcome::Delivered, "{:?}", out[0]);
    let got = rx.received();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.path, "/hook");
    let ts = r.header(TIMESTAMP_HEADER).unwrap();
    let sig = r.header(SIGNATURE_HEADER).unwrap();
    let now = palisade_notify::now_ms() / 1000;
    verify(b"whsec-test", ts, sig, &r.body, now, 300).unwrap();
    assert!(verify(b"wrong", ts, sig, &r.body, now, 300).is_err());
    let doc = r.json();
    assert_eq!(doc["kind"], "finding.new");
    assert_eq!(doc["data"]["fix_version"], "4.17.21");
    assert_eq!(r.header("X-Palisade-Event"), Some("finding.new"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(n.log().len(), 1);
}

#[test]
fn slack_payload_has_text_and_blocks() {
    let rx = Receiver::start(vec![]);
    let n = notifier(quick_transport());
    let out = n.notify(
        &[target(TargetKind::Slack, rx.url("/services/x"), true)],
        &finding(),
    );
    assert_eq!(out[0].outcome, Outcome::Delivered);
    let doc = rx.received()[0].json();
    assert_eq!(
        doc["text"],
        "New critical finding CVE-2099-0001 in lodash@4.17.15 (shop/web)"
    );
    assert!(doc["blocks"].as_array().unwrap().len() >= 2);
}

#[test]
fn retries_500_with_backoff_then_succeeds() {
    let rx = Receiver::start(vec![reply(500), reply(502)]);
    let n = notifier(quick_transport());
    let out = n.notify(
        &[target(TargetKind::Webhook, rx.url("/"), true)],
        &finding(),
    );
    let d = &out[0];
    assert_eq!(d.outcome, Outcome::Delivered, "{d:?}");
    assert_eq!(d.attempts.len(), 3);
    assert_eq!(d.attempts[0].status, Some(500));
    assert_eq!(d.attempts[0].wait_ms, Some(150));
    assert_eq!(d.attempts[1].wait_ms, Some(300), "exponential");
    assert_eq!(d.attempts[2].status, Some(200));
    let got = rx.received();
    assert_eq!(got.len(), 3);
    assert!(got[1].at - got[0].at >= Duration::from_millis(150));
    assert!(got[2].at - got[1].at >= Duration::from_millis(300));
    // The same delivery id on every retry.
    let ids: Vec<_> = got
        .iter()
        .map(|r| r.header("X-Palisade-Delivery"))
        .collect();
    assert!(ids.iter().all(|i| *i == ids[0] && i.is_some()));
}

#[test]
fn gives_up_after_max_attempts() {
    let rx = Receiver::start(vec![reply(500); 10]);
    let n = notifier(quick_transport());
    let out = n.notify(
        &[target(TargetKind::Webhook, rx.url("/"), true)],
        &finding(),
    );
    assert_eq!(out[0].outcome, Outcome::Failed);
    assert_eq!(rx.received().len(), 4);
    // A failed delivery does not hold the dedup slot: the next one tries.
    let rx2 = Receiver::start(vec![]);
    let out = n.notify(
        &[target(TargetKind::Webhook, rx2.url("/"), true)],
        &finding(),
    );
    assert_eq!(out[0].outcome, Outcome::Delivered);
}

#[test]
fn four_xx_is_not_retried_but_429_is_after_retry_after() {
    for status in [400, 401, 403, 404, 410, 422] {
        let rx = Receiver::start(vec![reply(status)]);
        let n = notifier(quick_transport());
        let out = n.notify(
            &[target(TargetKind::Webhook, rx.url("/"), true)],
            &finding(),
        );
        assert_eq!(out[0].outcome, Outcome::Failed, "{status}");
        assert_eq!(out[0].status, Some(status));
        assert_eq!(rx.received().len(), 1, "{status} is not retried");
    }
    let rx = Receiver::start(vec![Reply {
        status: 429,
        headers: vec![("Retry-After", "1".into())],
        delay: Duration::ZERO,
    }]);
    let n = notifier(quick_transport());
    let out = n.notify(
        &[target(TargetKind::Webhook, rx.url("/"), true)],
        &finding(),
    );
    assert_eq!(out[0].outcome, Outcome::Delivered);
    assert_eq!(out[0].attempts[0].wait_ms, Some(1000));
    let got = rx.received();
    assert_eq!(got.len(), 2);
    assert!(got[1].at - got[0].at >= Duration::from_secs(1));
}

#[test]
fn timeouts_are_retried() {
    let rx = Receiver::start(vec![Reply {
        status: 200,
        headers: vec![],
        delay: Duration::from_millis(1500),
    }]);
    let n = notifier(quick_transport());
    let out = n.notify(
        &[target(TargetKind::Webhook, rx.url("/"), true)],
        &finding(),
    );
    assert_eq!(out[0].outcome, Outcome::Delivered, "{:?}", out[0]);
    assert_eq!(out[0].attempts.len(), 2);
    assert!(
        out[0].attempts[0]
            .error
            .as_deref()
            .unwrap()
            .contains("timed out")
    );
}

#[test]
fn connection_refused_is_retried() {
    // A port nothing listens on.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let n = notifier(quick_transport());
    let out = n.notify(
        &[target(
            TargetKind::Webhook,
            format!("http://127.0.0.1:{port}/"),
            true,
        )],
        &finding(),
    );
    assert_eq!(out[0].outcome, Outcome::Failed);
    assert_eq!(out[0].attempts.len(), 4);
}

#[test]
fn dedup_sends_once_per_window() {
    let rx = Receiver::start(vec![]);
    let n = notifier(quick_transport());
    let t = [target(TargetKind::Webhook, rx.url("/"), true)];
    assert_eq!(n.notify(&t, &finding())[0].outcome, Outcome::Delivered);
    assert_eq!(n.notify(&t, &finding())[0].outcome, Outcome::Duplicate);
    // Denials of the same workload under new decision ids are one
    // notification.
    let deny = |id: &str| {
        event(
            DECISION_DENY,
            id,
            json!({"environment": "prod", "workload": "shop/web", "reasons": ["critical CVE"]}),
        )
    };
    assert_eq!(n.notify(&t, &deny("d1"))[0].outcome, Outcome::Delivered);
    assert_eq!(n.notify(&t, &deny("d2"))[0].outcome, Outcome::Duplicate);
    assert_eq!(rx.received().len(), 2);
    // Another target gets its own copy.
    let mut other = t[0].clone();
    other.id = "t2".into();
    assert_eq!(
        n.notify(&[other], &finding())[0].outcome,
        Outcome::Delivered
    );
    assert_eq!(rx.received().len(), 3);
    // A zero window sends every time.
    let mut d = Deliverer::new(Arc::new(quick_transport()));
    d.retry = fast_retries();
    let n0 = Notifier::new(d, Duration::ZERO);
    n0.notify(&t, &finding());
    n0.notify(&t, &finding());
    assert_eq!(rx.received().len(), 5);
}

#[test]
fn filters_decide_what_is_sent() {
    let rx = Receiver::start(vec![]);
    let n = notifier(quick_transport());
    let t = [target(TargetKind::Webhook, rx.url("/"), true)];
    let low = event(FINDING_NEW, "f-low", json!({"severity": "low"}));
    assert!(n.notify(&t, &low).is_empty());
    let resolved = event("finding.resolved", "f1", json!({"severity": "critical"}));
    assert!(n.notify(&t, &resolved).is_empty());
    assert!(rx.received().is_empty());
}

#[test]
fn private_and_loopback_targets_are_refused_unless_allowed() {
    let rx = Receiver::start(vec![]);
    let port = rx.addr().port();
    let n = notifier(quick_transport());
    for url in [
        rx.url("/"),
        format!("http://localhost:{port}/"),
        format!("http://[::1]:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://0.0.0.0:{port}/"),
        format!("http://2130706433:{port}/"),
        format!("http://169.254.169.254:{port}/latest/meta-data/"),
        format!("http://10.0.0.1:{port}/"),
        format!("http://100.64.0.1:{port}/"),
        format!("http://[fd00::1]:{port}/"),
        format!("http://[fe80::1]:{port}/"),
    ] {
        let mut t = target(TargetKind::Webhook, url.clone(), false);
        t.id = url.clone();
        let out = n.notify(&[t], &finding());
        assert_eq!(out[0].outcome, Outcome::Refused, "{url}: {:?}", out[0]);
        assert_eq!(out[0].attempts.len(), 1, "refused before any retry");
        assert!(
            out[0].error.as_deref().unwrap().contains("refused"),
            "{:?}",
            out[0].error
        );
    }
    assert!(rx.received().is_empty(), "nothing reached the receiver");

    // Allowed per target, or by the global allow-list.
    let mut t = target(
        TargetKind::Webhook,
        format!("http://localhost:{port}/"),
        true,
    );
    t.id = "allowed".into();
    assert_eq!(n.notify(&[t], &finding())[0].outcome, Outcome::Delivered);
    let listed = notifier(HttpTransport {
        policy: NetPolicy {
            allow_private: false,
            allow: vec!["127.0.0.1/32".parse().unwrap()],
        },
        ..quick_transport()
    });
    let t = target(TargetKind::Webhook, rx.url("/"), false);
    assert_eq!(
        listed.notify(&[t], &finding())[0].outcome,
        Outcome::Delivered
    );
    assert_eq!(rx.received().len(), 2);
}

#[test]
fn redirects_are_not_followed() {
    let elsewhere = Receiver::start(vec![]);
    let rx = Receiver::start(vec![Reply {
        status: 302,
        headers: vec![("Location", elsewhere.url("/stolen"))],
        delay: Duration::ZERO,
    }]);
    let n = notifier(quick_transport());
    let out = n.notify(
        &[target(TargetKind::Webhook, rx.url("/"), true)],
        &finding(),
    );
    assert_eq!(out[0].outcome, Outcome::Failed);
    assert_eq!(out[0].status, Some(302));
    assert!(out[0].error.as_deref().unwrap().contains("redirect"));
    assert_eq!(rx.received().len(), 1, "not retried");
    assert!(elsewhere.received().is_empty(), "not followed");
}

/// Resolves one name to a fixed address, counting look-ups.
#[derive(Debug)]
struct Table {
    name: String,
    addr: std::net::IpAddr,
    lookups: AtomicUsize,
}

impl Resolve for Table {
    fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        if host == self.name {
            Ok(vec![SocketAddr::new(self.addr, port)])
        } else {
            Err(std::io::Error::new(std::io::ErrorKind::NotFound, "unknown"))
        }
    }
}

#[test]
fn the_connection_goes_to_the_checked_address() {
    // `hooks.palisade.test` exists only in this resolver: the request can
    // only arrive if the client connects to the address that was checked,
    // not to a second look-up of its own.
    let rx = Receiver::start(vec![reply(500)]);
    let table = Arc::new(Table {
        name: "hooks.palisade.test".into(),
        addr: "127.0.0.1".parse().unwrap(),
        lookups: AtomicUsize::new(0),
    });
    let transport = HttpTransport {
        resolver: table.clone(),
        ..quick_transport()
    };
    // Refused while the name resolves to loopback and nothing allows it.
    let url = format!("http://hooks.palisade.test:{}/in", rx.addr().port());
    let n = notifier(transport.clone());
    let mut t = target(TargetKind::Webhook, url.clone(), false);
    assert_eq!(
        n.notify(&[t.clone()], &finding())[0].outcome,
        Outcome::Refused
    );
    assert_eq!(table.lookups.load(Ordering::SeqCst), 1);
    // Allowed: one look-up per attempt, and the Host header keeps the name.
    t.allow_private = true;
    t.id = "t-allowed".into();
    let out = n.notify(&[t], &finding());
    assert_eq!(out[0].outcome, Outcome::Delivered, "{:?}", out[0]);
    assert_eq!(
        table.lookups.load(Ordering::SeqCst),
        3,
        "checked per attempt"
    );
    let got = rx.received();
    assert_eq!(got.len(), 2);
    assert!(
        got[0]
            .header("host")
            .unwrap()
            .starts_with("hooks.palisade.test")
    );
    // A raw send through the transport checks too.
    let req = palisade_notify::OutboundRequest {
        url,
        headers: vec![],
        body: b"{}".to_vec(),
        allow_private: false,
    };
    assert!(matches!(
        transport.send(&req),
        Err(palisade_notify::http::SendError::Refused(_))
    ));
}

fn fix(version: &str) -> FixAvailable {
    FixAvailable {
        workload_id: "w1".into(),
        workload: "shop/web".into(),
        environment: "prod".into(),
        artifact_digest: format!("sha256:{}", "1".repeat(64)),
        artifact_name: "registry.example/shop/web:1.4.0".into(),
        component_key: "pkg:npm/lodash@4.17.15".into(),
        component_name: "lodash".into(),
        current_version: Some("4.17.15".into()),
        purl: Some("pkg:npm/lodash@4.17.15".into()),
        fix_version: version.into(),
        advisories: vec!["CVE-2099-0001".into()],
        severity: Some(Severity::Critical),
    }
}

#[test]
fn rebuild_trigger_sends_repository_dispatch_once_per_fix() {
    let rx = Receiver::start(vec![Reply {
        status: 204,
        headers: vec![],
        delay: Duration::ZERO,
    }]);
    let n = notifier(quick_transport());
    let targets = [RebuildTarget {
        id: "gh".into(),
        name: "shop-web CI".into(),
        kind: RebuildKind::GithubDispatch {
            api_base: format!("http://{}", rx.addr()),
            owner: "acme".into(),
            repo: "shop-web".into(),
            event_type: "palisade-rebuild".into(),
        },
        token: Some("ghp_test_token".into()),
        secret: None,
        environments: vec![],
        workloads: vec![],
        min_severity: None,
        allow_private: true,
    }];
    let out = n.trigger_rebuild(&targets, &fix("4.17.21"));
    assert_eq!(out[0].outcome, Outcome::Delivered, "{:?}", out[0]);
    assert_eq!(
        n.trigger_rebuild(&targets, &fix("4.17.21"))[0].outcome,
        Outcome::Duplicate
    );
    let got = rx.received();
    assert_eq!(got.len(), 1, "once per fix");
    let r = &got[0];
    assert_eq!(r.path, "/repos/acme/shop-web/dispatches");
    assert_eq!(r.header("authorization"), Some("Bearer ghp_test_token"));
    assert_eq!(r.header("accept"), Some("application/vnd.github+json"));
    let body = r.json();
    assert_eq!(body["event_type"], "palisade-rebuild");
    let p = &body["client_payload"];
    assert_eq!(p["upgrade"]["component"], "lodash");
    assert_eq!(p["upgrade"]["from"], "4.17.15");
    assert_eq!(p["upgrade"]["to"], "4.17.21");
    assert_eq!(p["workload"]["name"], "shop/web");
    assert_eq!(p["advisories"], json!(["CVE-2099-0001"]));
    // A newer fix is a new rebuild.
    assert_eq!(
        n.trigger_rebuild(&targets, &fix("4.17.22"))[0].outcome,
        Outcome::Delivered
    );
    assert_eq!(rx.received().len(), 2);
    // The token is never in the log.
    assert!(!format!("{:?}", n.log()).contains("ghp_test_token"));
}

#[test]
fn rebuild_webhook_is_signed() {
    let rx = Receiver::start(vec![]);
    let n = notifier(quick_transport());
    let targets = [RebuildTarget {
        id: "ci".into(),
        name: "generic CI".into(),
        kind: RebuildKind::Webhook {
            url: rx.url("/rebuild"),
        },
        token: None,
        secret: Some("rb-secret".into()),
        environments: vec!["prod".into()],
        workloads: vec![],
        min_severity: Some(Severity::High),
        allow_private: true,
    }];
    assert_eq!(
        n.trigger_rebuild(&targets, &fix("4.17.21"))[0].outcome,
        Outcome::Delivered
    );
    let mut dev = fix("4.17.21");
    dev.environment = "dev".into();
    dev.workload_id = "w2".into();
    assert!(n.trigger_rebuild(&targets, &dev).is_empty(), "filtered");
    let got = rx.received();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    verify(
        b"rb-secret",
        r.header(TIMESTAMP_HEADER).unwrap(),
        r.header(SIGNATURE_HEADER).unwrap(),
        &r.body,
        palisade_notify::now_ms() / 1000,
        300,
    )
    .unwrap();
    assert_eq!(r.json()["kind"], "rebuild");
}

#[test]
fn deliverer_is_usable_directly() {
    let rx = Receiver::start(vec![]);
    let d = Deliverer {
        transport: Arc::new(quick_transport()),
        retry: fast_retries(),
        clock: Arc::new(SystemClock),
    };
    let t = target(TargetKind::Webhook, rx.url("/"), true);
    let req = t.request(&finding(), "d-1", palisade_notify::now_ms() / 1000);
    let info = DeliveryInfo {
        id: "d-1",
        target_id: &t.id,
        event_id: Some("ev-f1"),
        kind: FINDING_NEW,
        dedup_key: "finding.new:f1",
    };
    let out = d.send(&info, &req);
    assert_eq!(out.outcome, Outcome::Delivered);
    assert_eq!(out.response.as_deref(), Some("ok"));
}
