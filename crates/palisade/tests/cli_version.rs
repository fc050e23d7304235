//! `palisade version`: the built binary, run as a user would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn palisade(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env_remove("PALISADE_LOG")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run palisade");
    {
        let mut pipe = child.stdin.take().unwrap();
        if let Some(input) = stdin {
            pipe.write_all(input).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

#[test]
fn compare_prints_one_symbol() {
    for (eco, a, b, want) in [
        ("PyPI", "1.0rc1", "1.0", "<"),
        ("PyPI", "1.0", "1.0.0", "="),
        ("Maven", "1.0-SNAPSHOT", "1.0", "<"),
        ("Maven", "1.0.RC1", "1.0-rc-1", "="),
        ("npm", "2.0.0", "2.0.0-beta.1", ">"),
        ("Debian:12", "1:1.0", "2.0", ">"),
        ("Red Hat", "1.0~rc1", "1.0", "<"),
        ("Go", "v1.2.3", "v1.10.0", "<"),
    ] {
        let o = palisade(&["version", "compare", "--ecosystem", eco, a, b], None);
        assert_eq!(code(&o), 0, "{eco} {a} {b}: {}", stderr(&o));
        assert_eq!(stdout(&o), format!("{want}\n"), "{eco} {a} {b}");
    }
}

#[test]
fn compare_invalid_version_is_an_input_error_naming_both() {
    let o = palisade(
        &[
            "version",
            "compare",
            "--ecosystem",
            "npm",
            "1.0.0",
            "not a version",
        ],
        None,
    );
    assert_eq!(code(&o), 2);
    assert!(stdout(&o).is_empty());
    let err = stderr(&o);
    assert!(
        err.starts_with("error: invalid npm version \"not a version\""),
        "{err}"
    );
}

#[test]
fn compare_json_format() {
    let o = palisade(
        &[
            "version",
            "compare",
            "--ecosystem",
            "PyPI",
            "--format",
            "json",
            "1.0",
            "1.0.post1",
        ],
        None,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"ecosystem": "PyPI", "a": "1.0", "b": "1.0.post1", "result": "<"})
    );
}

#[test]
fn compare_stdin_reports_bad_pairs_in_place_and_exits_1_after_the_rest() {
    let input = b"1.0.0\t2.0.0\n1.0.0\tnot a version\n2.0.0\t2.0.0+build.1\nno tab here\n1.0.0-rc.1\t1.0.0\r\n";
    let o = palisade(
        &["version", "compare", "--ecosystem", "npm", "--stdin"],
        Some(input),
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let lines: Vec<String> = stdout(&o).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert_eq!(lines[0], "<");
    assert!(
        lines[1].starts_with("error: invalid npm version \"not a version\""),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], "=");
    assert_eq!(
        lines[3],
        "error: line 4: expected two versions separated by a tab"
    );
    assert_eq!(lines[4], "<");
}

#[test]
fn compare_stdin_all_good_exits_0_and_survives_non_utf8() {
    let o = palisade(
        &["version", "compare", "--ecosystem", "Maven", "--stdin"],
        Some(b"1\t1.0\n1-alpha\t1\n"),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), "=\n<\n");

    let o = palisade(
        &["version", "compare", "--ecosystem", "Maven", "--stdin"],
        Some(b"1\t\xff\xfe\n2\t1\n"),
    );
    assert_eq!(code(&o), 1);
    assert_eq!(stdout(&o), "error: line 1: not valid UTF-8\n>\n");
}

#[test]
fn compare_stdin_json() {
    let o = palisade(
        &[
            "version",
            "compare",
            "--ecosystem",
            "npm",
            "--stdin",
            "--format",
            "json",
        ],
        Some(b"1.0.0\t1.0.1\nx\t1.0.0\n"),
    );
    assert_eq!(code(&o), 1);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["ecosystem"], "npm");
    assert_eq!(v["results"][0]["result"], "<");
    assert_eq!(v["results"][0]["line"], 1);
    assert!(
        v["results"][1]["error"]
            .as_str()
            .unwrap()
            .starts_with("invalid npm version \"x\"")
    );
}

#[test]
fn sort_orders_ascending_and_keeps_equal_versions_in_input_order() {
    let o = palisade(
        &["version", "sort", "--ecosystem", "PyPI"],
        Some(b"2.0\n1.0.0\n1.0rc1\n\n1.0\n1!0.1\n1.0.post1\n1.0.dev1\n"),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "1.0.dev1\n1.0rc1\n1.0.0\n1.0\n1.0.post1\n2.0\n1!0.1\n"
    );
}

#[test]
fn sort_maven_versions_that_formed_cycles_in_maven_3_9() {
    // Maven 3.9's order had cycles among these, so a checking sort could
    // panic; the total order sorts them.
    let o = palisade(
        &["version", "sort", "--ecosystem", "Maven"],
        Some(b"1-1\n1.0.alpha.1\n1\n1.sp.1\n1-alpha\n1-SNAPSHOT\n1.0.1\n"),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "1-alpha\n1.0.alpha.1\n1-SNAPSHOT\n1\n1.sp.1\n1-1\n1.0.1\n"
    );
}

#[test]
fn sort_json_and_errors() {
    let o = palisade(
        &[
            "version",
            "sort",
            "--ecosystem",
            "Debian",
            "--format",
            "json",
        ],
        Some(b"1.0-1\n1:0.9\n1.0~rc1-1\n"),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v, serde_json::json!(["1.0~rc1-1", "1.0-1", "1:0.9"]));

    let o = palisade(
        &["version", "sort", "--ecosystem", "npm"],
        Some(b"1.0.0\nnope\n"),
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("stdin line 2"), "{}", stderr(&o));
}

#[test]
fn affected_with_a_vers_range() {
    let range = "vers:npm/>=1.0.0|<1.2.3";
    for (v, want) in [
        ("1.1.0", "affected"),
        ("1.0.0", "affected"),
        ("1.2.3", "not-affected"),
        ("0.9.9", "not-affected"),
    ] {
        let o = palisade(
            &[
                "version",
                "affected",
                "--ecosystem",
                "npm",
                "--range",
                range,
                v,
            ],
            None,
        );
        assert_eq!(code(&o), 0, "{v}: {}", stderr(&o));
        assert_eq!(stdout(&o), format!("{want}\n"), "{v}");
    }
    // A vers scheme with another ordering is refused.
    let o = palisade(
        &[
            "version",
            "affected",
            "--ecosystem",
            "PyPI",
            "--range",
            range,
            "1.1.0",
        ],
        None,
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("vers scheme"), "{}", stderr(&o));
}

#[test]
fn affected_with_osv_range_json() {
    let range = r#"{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.0"},{"introduced":"3.0rc1"},{"last_affected":"3.1"}]}"#;
    for (v, want) in [
        ("1.5", "affected"),
        ("2.0", "not-affected"),
        ("2.0rc1", "affected"),
        ("3.0", "affected"),
        ("3.1", "affected"),
        ("3.1.post1", "not-affected"),
    ] {
        let o = palisade(
            &[
                "version",
                "affected",
                "--ecosystem",
                "PyPI",
                "--range",
                range,
                v,
            ],
            None,
        );
        assert_eq!(code(&o), 0, "{v}: {}", stderr(&o));
        assert_eq!(stdout(&o), format!("{want}\n"), "{v}");
    }
}

#[test]
fn affected_with_an_osv_entry_json_format_and_file() {
    let entry = r#"{"package":{"ecosystem":"Maven","name":"g:a"},
        "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"1.0"},{"fixed":"1.5"}]},
                  {"type":"GIT","repo":"https://example.invalid/r","events":[{"introduced":"abc"}]}],
        "versions":["2.0-SNAPSHOT"]}"#;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("entry.json");
    std::fs::write(&file, entry).unwrap();
    let at_file = format!("@{}", file.display());

    let o = palisade(
        &[
            "version",
            "affected",
            "--ecosystem",
            "Maven",
            "--range",
            &at_file,
            "--format",
            "json",
            "1.2",
        ],
        None,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["result"], "affected");
    assert_eq!(v["matched"]["kind"], "range");
    assert_eq!(v["matched"]["interval"], "[1.0, 1.5)");
    assert_eq!(v["matched"]["fixed"], "1.5");
    assert_eq!(v["fixed"], serde_json::json!(["1.5"]));

    // Listed versions match under Maven equality (`-snapshot` = `-SNAPSHOT`).
    let o = palisade(
        &[
            "version",
            "affected",
            "--ecosystem",
            "Maven",
            "--range",
            entry,
            "2.0-snapshot",
        ],
        None,
    );
    assert_eq!(stdout(&o), "affected\n", "{}", stderr(&o));

    // Not affected: the GIT range is reported as not evaluated.
    let o = palisade(
        &[
            "version",
            "affected",
            "--ecosystem",
            "Maven",
            "--range",
            entry,
            "1.5",
        ],
        None,
    );
    assert_eq!(code(&o), 0);
    assert_eq!(stdout(&o), "not-affected\n");
    assert!(
        stderr(&o).contains("warning: ranges[1] was not evaluated"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn affected_rejects_bad_ranges_and_versions() {
    for (range, needle) in [
        ("1.0 - 2.0", "--range must be"),
        (
            r#"{"type":"SEMVER","events":[{"fixed":"1.0.0"}]}"#,
            "no \"introduced\" event",
        ),
        ("{not json", "invalid OSV JSON"),
    ] {
        let o = palisade(
            &[
                "version",
                "affected",
                "--ecosystem",
                "npm",
                "--range",
                range,
                "1.0.0",
            ],
            None,
        );
        assert_eq!(code(&o), 2, "{range}");
        assert!(stderr(&o).contains(needle), "{range}: {}", stderr(&o));
    }
}

#[test]
fn unknown_ecosystem_is_a_usage_error() {
    let o = palisade(
        &["version", "compare", "--ecosystem", "CPAN", "1", "2"],
        None,
    );
    assert_eq!(code(&o), 2);
    assert!(stdout(&o).is_empty());
    let err = stderr(&o);
    assert!(err.contains("unknown ecosystem \"CPAN\""), "{err}");
    assert!(err.contains("PyPI"), "{err}");
}

#[test]
fn help_is_available_on_every_version_subcommand() {
    for args in [
        &["version", "--help"][..],
        &["version", "compare", "--help"],
        &["version", "sort", "--help"],
        &["version", "affected", "--help"],
    ] {
        let o = palisade(args, None);
        assert_eq!(code(&o), 0, "{args:?}");
        let out = stdout(&o);
        assert!(out.contains("Usage: palisade version"), "{args:?}: {out}");
    }
    let o = palisade(&["version", "compare", "--help"], None);
    assert!(stdout(&o).contains("--stdin"));
    assert!(stdout(&o).contains("--ecosystem"));
}
