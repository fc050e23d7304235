//! `palisade scan PATH --scanners FILE`: the built-in matcher plus script
//! scanners written by the test, reported together; exit codes 0, 1 (at
//! `--fail-on`), 2 (bad configuration) and 3 (a scanner failed or timed
//! out, the other results still reported).

#![cfg(all(feature = "advisory", feature = "catalog", feature = "findings", unix))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ADVISORY, LOCKFILE};

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

const SARIF: &str = r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"testscan","version":"1.0"}},
"results":[{"ruleId":"R1","level":"warning","message":{"text":"something"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"src/a.js"},"region":{"startLine":3}}}]}]}]}"#;

struct World {
    data: tempfile::TempDir,
    work: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let w = World {
            data: tempfile::tempdir().unwrap(),
            work: tempfile::tempdir().unwrap(),
        };
        std::fs::write(w.work.path().join("advisory.json"), ADVISORY).unwrap();
        let out = w.palisade(&[
            "db",
            "import",
            w.work.path().join("advisory.json").to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        std::fs::create_dir(w.project()).unwrap();
        std::fs::write(w.project().join("package-lock.json"), LOCKFILE).unwrap();
        std::fs::write(w.work.path().join("report.sarif"), SARIF).unwrap();
        w.script(
            "sarif.sh",
            &format!(
                "printf '%s' \"$2\" > '{}/seen-target'\ncp '{}/report.sarif' \"$1\"\nexit 1",
                w.work.path().display(),
                w.work.path().display()
            ),
        );
        w.script("broken.sh", "echo 'fatal: no database' >&2\nexit 2");
        w.script("sleepy.sh", "sleep 30");
        let bin = w.work.path().display().to_string();
        std::fs::write(
            w.config(),
            format!(
                r#"
[[scanner]]
name = "sarif"
command = ['{bin}/sarif.sh', '{{output}}', '{{target}}']
format = "sarif"
targets = ["directory", "image"]
success_exit_codes = [0, 1]
timeout = "20s"

[[scanner]]
name = "broken"
command = ['{bin}/broken.sh']
format = "trivy"
targets = ["directory"]

[[scanner]]
name = "sleepy"
command = ['{bin}/sleepy.sh']
format = "grype"
targets = ["directory"]
timeout = "1s"
"#
            ),
        )
        .unwrap();
        w
    }

    fn project(&self) -> PathBuf {
        self.work.path().join("project")
    }

    fn config(&self) -> PathBuf {
        self.work.path().join("scanners.toml")
    }

    fn script(&self, name: &str, body: &str) {
        let p = self.work.path().join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn palisade(&self, args: &[&str]) -> Output {
        common::palisade_in(self.data.path(), args)
    }

    fn scan(&self, extra: &[&str]) -> Output {
        let project = self.project();
        let config = self.config();
        let mut args = vec![
            "--format",
            "json",
            "scan",
            project.to_str().unwrap(),
            "--scanners",
            config.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        self.palisade(&args)
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", String::from_utf8_lossy(&o.stdout), stderr(o)))
}

fn tools(v: &Value) -> Vec<String> {
    let mut t: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}:{}",
                f["tool"].as_str().unwrap(),
                f["id"].as_str().unwrap()
            )
        })
        .collect();
    t.sort();
    t
}

#[test]
fn builtin_and_script_findings_are_reported_together() {
    let w = World::new();
    let out = w.scan(&["--scanner", "sarif"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(
        tools(&v),
        ["palisade:PAL-TEST-0001", "testscan:R1"],
        "{v:#}"
    );
    assert_eq!(v["target"]["kind"], "directory");
    assert_eq!(v["scanners"][0]["name"], "sarif");
    assert_eq!(v["scanners"][0]["status"], "ok");
    assert_eq!(v["scanners"][0]["exit_code"], 1);
    assert_eq!(v["summary"]["scanners_failed"], 0);
    assert_eq!(v["builtin"]["summary"]["findings"], 1);
    // The scanner got the absolute directory as one argument.
    let seen = std::fs::read_to_string(w.work.path().join("seen-target")).unwrap();
    assert_eq!(Path::new(&seen), w.project());

    // --fail-on counts every tool's findings: the built-in one is critical.
    let out = w.scan(&["--scanner", "sarif", "--fail-on", "critical"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    // The table names each finding's tool and each scanner.
    let project = w.project();
    let config = w.config();
    let out = w.palisade(&[
        "scan",
        project.to_str().unwrap(),
        "--scanners",
        config.to_str().unwrap(),
        "--scanner",
        "sarif",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("testscan") && table.contains("palisade"),
        "{table}"
    );
    assert!(table.contains("scanner sarif: 1 findings"), "{table}");
}

#[test]
fn a_failing_or_timed_out_scanner_exits_3_and_keeps_the_other_results() {
    let w = World::new();
    let started = std::time::Instant::now();
    let out = w.scan(&[]);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("scanner broken: exited with code 2"), "{err}");
    assert!(err.contains("no database"), "{err}");
    assert!(err.contains("scanner sleepy: timed out after 1s"), "{err}");
    let v = json(&out);
    assert_eq!(
        tools(&v),
        ["palisade:PAL-TEST-0001", "testscan:R1"],
        "{v:#}"
    );
    let by_name = |n: &str| {
        v["scanners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == n)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_name("sarif")["status"], "ok");
    assert_eq!(by_name("broken")["status"], "failed");
    assert_eq!(by_name("broken")["reason"], "failed");
    assert_eq!(by_name("broken")["exit_code"], 2);
    assert_eq!(by_name("sleepy")["reason"], "timed-out");
    assert_eq!(v["summary"]["scanners_failed"], 2);
    // 3 wins over 1.
    let out = w.scan(&["--fail-on", "low"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}

#[test]
fn configuration_errors_exit_2_naming_file_and_key() {
    let w = World::new();
    let out = w.scan(&["--scanner", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no scanner named \"nope\""),
        "{}",
        stderr(&out)
    );

    let bad = w.work.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[scanner]]\nname = \"x\"\ncommand = [\"x\", \"{targte}\"]\nformat = \"sarif\"\n",
    )
    .unwrap();
    let project = w.project();
    let out = w.palisade(&[
        "scan",
        project.to_str().unwrap(),
        "--scanners",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("bad.toml") && err.contains("scanner[0].command[1]"),
        "{err}"
    );
}

#[test]
fn an_image_reference_runs_image_scanners_only() {
    let w = World::new();
    let config = w.config();
    let out = w.palisade(&[
        "--format",
        "json",
        "scan",
        "registry.example/shop/web:1.4",
        "--scanners",
        config.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["target"]["kind"], "image");
    assert!(v["builtin"].is_null());
    assert_eq!(tools(&v), ["testscan:R1"]);
    assert_eq!(v["scanners"].as_array().unwrap().len(), 1);
    let seen = std::fs::read_to_string(w.work.path().join("seen-target")).unwrap();
    assert_eq!(seen, "registry.example/shop/web:1.4");
}
