//! The assets under `deploy/` stay true to the code: every `palisade`
//! command the GitHub Actions workflow runs exists with the flags it
//! passes, every API call it makes is in the server's OpenAPI document,
//! it reacts to the rebuild trigger's dispatch, and the Kubernetes webhook
//! configurations point at the admission route with a failure policy and a
//! timeout.

#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_yaml_ng::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn workflow() -> Value {
    let path = root().join("deploy/github-actions/palisade.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The shell of every `run:` step, continuation lines joined.
fn run_scripts(wf: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (_, job) in wf["jobs"].as_mapping().unwrap() {
        for step in job["steps"].as_sequence().unwrap() {
            if let Some(run) = step.get("run").and_then(Value::as_str) {
                out.push(run.replace("\\\n", " "));
            }
        }
    }
    out
}

/// The `palisade ...` command lines of the scripts (a command ends at a
/// pipe, `||`, `;`, a redirection or the end of the line).
fn palisade_commands(scripts: &[String]) -> Vec<Vec<String>> {
    let mut cmds = Vec::new();
    for script in scripts {
        for line in script.lines() {
            let mut rest = line.trim();
            while let Some(i) = rest.find("palisade ") {
                let before = &rest[..i];
                let starts_command = before.trim_end().is_empty()
                    || before.trim_end().ends_with("||")
                    || before.trim_end().ends_with("&&");
                let after = &rest[i + "palisade ".len()..];
                if starts_command {
                    let end = after.find(['|', ';', '>']).unwrap_or(after.len());
                    let words: Vec<String> =
                        after[..end].split_whitespace().map(str::to_owned).collect();
                    cmds.push(words);
                }
                rest = after;
            }
        }
    }
    cmds
}

fn help(words: &[&str]) -> Option<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(words)
        .arg("--help")
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn the_workflow_runs_commands_and_flags_that_exist() {
    let wf = workflow();
    let cmds = palisade_commands(&run_scripts(&wf));
    let names: Vec<String> = cmds.iter().map(|c| c.join(" ")).collect();
    for expected in [
        "sbom generate",
        "db sync",
        "scan",
        "attest provenance",
        "version",
    ] {
        assert!(
            names.iter().any(|n| n.starts_with(expected)),
            "the workflow no longer runs `palisade {expected}`: {names:#?}"
        );
    }
    for cmd in &cmds {
        // The longest prefix of plain words that is a (sub)command.
        let plain: Vec<&str> = cmd
            .iter()
            .take_while(|w| !w.starts_with('-'))
            .map(String::as_str)
            .collect();
        let (path, text) = (1..=plain.len().min(2))
            .rev()
            .find_map(|n| help(&plain[..n]).map(|h| (plain[..n].join(" "), h)))
            .unwrap_or_else(|| panic!("`palisade {}` is not a command", cmd.join(" ")));
        for flag in cmd.iter().filter(|w| w.starts_with("--")) {
            let flag = flag.split('=').next().unwrap();
            assert!(
                text.contains(flag),
                "`palisade {path}` has no {flag} (the workflow passes it)"
            );
        }
    }
}

#[test]
fn the_workflow_rebuilds_on_palisade_dispatches() {
    let wf = workflow();
    // YAML 1.1 reads the key `on` as a boolean; serde_yaml_ng keeps it a
    // string, but accept both.
    let on = wf
        .get("on")
        .or_else(|| wf.get(Value::Bool(true)))
        .expect("the workflow has triggers");
    let types: Vec<&str> = on["repository_dispatch"]["types"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        types.contains(&palisade_notify_event_type()),
        "repository_dispatch types {types:?}"
    );
    assert!(on.get("push").is_some() && on.get("workflow_call").is_some());
}

/// The event type the rebuild trigger sends by default (see
/// docs/notifications.md).
fn palisade_notify_event_type() -> &'static str {
    "palisade-rebuild"
}

#[test]
fn the_workflow_calls_api_routes_that_exist() {
    let scripts = run_scripts(&workflow()).join("\n");
    let (_, doc) = palisade_server::api::router().split_for_parts();
    let doc = serde_json::to_value(&doc).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let mut called = Vec::new();
    for (i, _) in scripts.match_indices("/api/v1/") {
        let route: String = scripts[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_'))
            .collect();
        called.push(route);
    }
    assert!(called.len() >= 3, "{called:?}");
    for route in called {
        let item = paths
            .get(&route)
            .unwrap_or_else(|| panic!("the workflow calls {route}, which the API does not have"));
        assert!(item.get("post").is_some(), "{route} takes no POST");
    }
}

#[derive(Deserialize)]
struct Manifest {
    kind: String,
    #[serde(default)]
    webhooks: Vec<serde_yaml_ng::Value>,
}

#[test]
fn the_webhook_configurations_point_at_the_admission_route() {
    let text = std::fs::read_to_string(root().join("deploy/kubernetes/webhook.yaml")).unwrap();
    let mut configs = 0;
    for doc in serde_yaml_ng::Deserializer::from_str(&text) {
        let Ok(m) = Manifest::deserialize(doc) else {
            continue;
        };
        if m.kind != "ValidatingWebhookConfiguration" {
            continue;
        }
        configs += 1;
        for w in &m.webhooks {
            assert_eq!(w["clientConfig"]["service"]["path"], "/k8s/admission");
            let policy = w["failurePolicy"].as_str().unwrap();
            assert!(matches!(policy, "Fail" | "Ignore"), "{policy}");
            let timeout = w["timeoutSeconds"].as_u64().unwrap();
            assert!((1..=30).contains(&timeout), "timeoutSeconds {timeout}");
            assert_eq!(w["admissionReviewVersions"][0], "v1");
        }
    }
    assert!(configs >= 1, "no ValidatingWebhookConfiguration");
}
