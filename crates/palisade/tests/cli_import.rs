//! `palisade import`: the built binary, run as a user would, on the
//! fixtures of `palisade-findings`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../palisade-findings/tests/fixtures")
        .join(name)
}

fn palisade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env_remove("PALISADE_LOG")
        .env("NO_COLOR", "1")
        .output()
        .expect("run palisade")
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

fn path(name: &str) -> String {
    fixture(name).display().to_string()
}

#[test]
fn imports_and_merges_every_format_as_a_table() {
    let files: Vec<String> = [
        "semgrep.sarif",
        "trivy.json",
        "grype.json",
        "osv-scanner.json",
        "zap.json",
        "falco.jsonl",
    ]
    .iter()
    .map(|f| path(f))
    .collect();
    let mut args = vec!["import"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["--artifact", "sha256:5f0a3c1b2e4d"]);
    let o = palisade(&args);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("artifact sha256:5f0a3c1b2e4d"), "{out}");
    assert!(out.contains("CVE-2021-23337"), "{out}");
    assert!(out.contains("GHSA-35jh-r3h4-6jhm"), "{out}");
    assert!(
        out.contains("26 raw results from 6 files -> 20 findings"),
        "{out}"
    );
    assert!(
        out.contains("trivy.json: trivy (Trivy 0.51.1), 7 results, 6 imported, 1 skipped"),
        "{out}"
    );
}

#[test]
fn json_output_with_the_global_format_before_or_after() {
    for args in [
        vec!["--format", "json", "import", "TRIVY", "GRYPE", "OSV"],
        vec!["import", "TRIVY", "GRYPE", "OSV", "--format", "json"],
    ] {
        let args: Vec<String> = args
            .iter()
            .map(|a| match *a {
                "TRIVY" => path("trivy.json"),
                "GRYPE" => path("grype.json"),
                "OSV" => path("osv-scanner.json"),
                other => other.to_owned(),
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = palisade(&args);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["summary"]["documents"], 3);
        assert_eq!(v["summary"]["raw"], 13);
        let lodash = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == "CVE-2021-23337")
            .unwrap();
        assert_eq!(
            lodash["tools"],
            serde_json::json!(["Trivy", "grype", "osv-scanner"])
        );
        assert_eq!(lodash["sources"].as_array().unwrap().len(), 3);
        assert_eq!(v["documents"][0]["format"], "trivy");
    }
}

#[test]
fn the_input_format_can_be_named() {
    let sarif = path("semgrep.sarif");
    for flag in ["--format", "--input-format", "--from"] {
        let o = palisade(&["--format", "json", "import", &sarif, flag, "sarif"]);
        assert_eq!(code(&o), 0, "{flag}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["documents"][0]["format"], "sarif");
        assert_eq!(v["summary"]["findings"], 3);
    }
    let o = palisade(&["import", &sarif, "--format=sarif", "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(serde_json::from_slice::<serde_json::Value>(&o.stdout).is_ok());
    // A named format that does not fit the file is a parse error.
    let o = palisade(&["import", &sarif, "--format", "trivy"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("semgrep.sarif: $.Results"),
        "{}",
        stderr(&o)
    );
    // An unknown format is a usage error.
    let o = palisade(&["import", &sarif, "--input-format", "nessus"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}

#[test]
fn parse_errors_exit_1_naming_file_and_json_path() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.sarif");
    std::fs::write(
        &bad,
        r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":{"oops":1}}]}"#,
    )
    .unwrap();
    let truncated = dir.path().join("cut.json");
    let trivy = std::fs::read(fixture("trivy.json")).unwrap();
    std::fs::write(&truncated, &trivy[..trivy.len() / 3]).unwrap();
    let good = path("grype.json");
    let o = palisade(&[
        "import",
        bad.to_str().unwrap(),
        truncated.to_str().unwrap(),
        &good,
    ]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(
        err.contains("broken.sarif: $.runs[0].results: expected an array, found an object"),
        "{err}"
    );
    assert!(err.contains("cut.json: $."), "{err}");
    assert!(err.contains("(line "), "{err}");
    // The file that could be read is still reported.
    assert!(stdout(&o).contains("grype.json: grype"), "{}", stdout(&o));

    let o = palisade(&["--format", "json", "import", bad.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["errors"][0]["path"], "$.runs[0].results");
    assert_eq!(v["summary"]["errors"], 1);
}

#[test]
fn unsupported_and_unreadable_files() {
    let dir = tempfile::tempdir().unwrap();
    let sbom = dir.path().join("bom.json");
    std::fs::write(&sbom, r#"{"bomFormat":"CycloneDX","specVersion":"1.5"}"#).unwrap();
    let o = palisade(&["import", sbom.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("CycloneDX"), "{}", stderr(&o));
    let missing = dir.path().join("nope.json");
    let o = palisade(&["import", missing.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("nope.json"), "{}", stderr(&o));
    let o = palisade(&["import"]);
    assert_eq!(code(&o), 2);
    let o = palisade(&["import", &path("trivy.json"), "--max-bytes", "100"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("at most 100"), "{}", stderr(&o));
}

#[test]
fn reuploading_the_same_scan_does_not_duplicate() {
    let s = path("semgrep.sarif");
    let o = palisade(&["--format", "json", "import", &s, &s]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["raw"], 6);
    assert_eq!(v["summary"]["findings"], 3);
}
