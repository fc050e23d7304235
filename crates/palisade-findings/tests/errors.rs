//! Bad input: malformed documents give a typed error naming the document
//! and the JSON path, limits hold, and nothing panics (every prefix of
//! every fixture, and bytes flipped at random, are tried).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use palisade_findings::{Format, ImportError, ImportOptions, detect, import, merge};

const FIXTURES: [&str; 6] = [
    "semgrep.sarif",
    "trivy.json",
    "grype.json",
    "osv-scanner.json",
    "zap.json",
    "falco.jsonl",
];

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

fn err(bytes: &[u8], format: Option<Format>) -> ImportError {
    match import(bytes, "bad.json", format, &ImportOptions::default()) {
        Ok(i) => panic!("accepted: {} findings", i.findings.len()),
        Err(e) => e,
    }
}

#[test]
fn truncated_documents_name_the_path_line_and_column() {
    for name in FIXTURES.iter().filter(|n| !n.ends_with(".jsonl")) {
        let doc = fixture(name);
        let cut = &doc[..doc.len() / 2];
        let e = err(cut, None);
        let text = e.to_string();
        assert!(text.starts_with("bad.json: $"), "{name}: {text}");
        assert!(
            text.contains("(line ") && text.contains("column"),
            "{name}: {text}"
        );
        match e {
            ImportError::Syntax { path, .. } => assert!(path.len() > 1, "{name}: {path}"),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn wrong_structure_names_the_path() {
    let cases: [(&str, Option<Format>, &str); 9] = [
        (
            r#"{"version":"2.1.0","runs":[{"results":"none"}]}"#,
            None,
            "$.runs[0].results",
        ),
        (
            r#"{"version":"2.1.0","runs":{}}"#,
            Some(Format::Sarif),
            "$.runs",
        ),
        (
            r#"{"SchemaVersion":2,"Results":[{"Target":"x","Vulnerabilities":{"a":1}}]}"#,
            None,
            "$.Results[0].Vulnerabilities",
        ),
        (
            r#"{"SchemaVersion":2,"Results":[{"Secrets":[7]}]}"#,
            None,
            "$.Results[0].Secrets[0]",
        ),
        (
            r#"{"matches":[{"vulnerability":{"id":"CVE-1"},"artifact":"lodash"}]}"#,
            None,
            "$.matches[0].artifact",
        ),
        (
            r#"{"results":[{"source":{},"packages":"lodash"}]}"#,
            None,
            "$.results[0].packages",
        ),
        (
            r#"{"results":[{"packages":[{"vulnerabilities":[]}]}]}"#,
            None,
            "$.results[0].packages[0].package",
        ),
        (
            r#"{"@version":"2.15.0","site":[{"alerts":[{"instances":5}]}]}"#,
            None,
            "$.site[0].alerts[0].instances",
        ),
        (
            r#"{"@version":"2.15.0","site":[{"alerts":[{"instances":[{"uri":"x"}, null]}]}]}"#,
            None,
            "$.site[0].alerts[0].instances[1]",
        ),
    ];
    for (doc, format, path) in cases {
        let e = err(doc.as_bytes(), format);
        assert_eq!(e.path(), Some(path), "{doc}: {e}");
        assert!(
            e.to_string().starts_with(&format!("bad.json: {path}: ")),
            "{e}"
        );
    }
}

#[test]
fn a_forced_format_that_does_not_fit_is_refused() {
    let trivy = fixture("trivy.json");
    for format in [
        Format::Sarif,
        Format::Grype,
        Format::OsvScanner,
        Format::Zap,
    ] {
        let e = err(&trivy, Some(format));
        assert!(matches!(e, ImportError::Invalid { .. }), "{format}: {e}");
    }
    let e = err(&trivy, Some(Format::Falco));
    assert!(e.to_string().contains("line 1"), "{e}");
}

#[test]
fn unknown_documents_say_what_they_are() {
    let cases = [
        (
            r#"{"bomFormat":"CycloneDX","specVersion":"1.5"}"#,
            "CycloneDX",
        ),
        (r#"{"spdxVersion":"SPDX-2.3"}"#, "SPDX"),
        (r#"{"results":[{"check_id":"x"}],"errors":[]}"#, "Semgrep"),
        (r#"{"results":[],"metrics":{},"errors":[]}"#, "Bandit"),
        (r#"{"hello":"world"}"#, "\"hello\""),
        (
            "<?xml version=\"1.0\"?><OWASPZAPReport version=\"2.9.0\"/>",
            "ZAP's XML",
        ),
        (
            "name,version\nlodash,4.17.20\n",
            "not a JSON object or array",
        ),
        ("[]", "empty JSON array"),
        ("42", "not a JSON object or array"),
    ];
    for (doc, says) in cases {
        let e = detect(doc.as_bytes()).unwrap_err();
        assert!(
            matches!(e, ImportError::UnknownFormat { .. }),
            "{doc}: {e:?}"
        );
        assert!(e.to_string().contains(says), "{doc}: {e}");
    }
    assert!(matches!(detect(b"   "), Err(ImportError::Empty { .. })));
}

#[test]
fn limits_hold() {
    let doc = fixture("trivy.json");
    let small = ImportOptions {
        max_bytes: 100,
        ..ImportOptions::default()
    };
    let e = import(&doc, "big.json", None, &small).unwrap_err();
    assert!(matches!(e, ImportError::TooLarge { len, max: 100, .. } if len == doc.len()));
    let shallow = ImportOptions {
        max_depth: 2,
        ..ImportOptions::default()
    };
    let e = import(&doc, "t.json", None, &shallow).unwrap_err();
    assert!(matches!(e, ImportError::TooDeep { max: 2, .. }), "{e:?}");
    assert_eq!(e.path(), Some("$.Metadata.OS"));
    let bomb = format!(
        "{{\"runs\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let e = err(bomb.as_bytes(), None);
    assert!(matches!(e, ImportError::TooDeep { .. }), "{e:?}");
}

#[test]
fn every_prefix_of_every_fixture_is_handled() {
    for name in FIXTURES {
        let doc = fixture(name);
        let step = (doc.len() / 400).max(1);
        for end in (0..=doc.len()).step_by(step) {
            let cut = &doc[..end];
            let _ = detect(cut);
            if let Ok(i) = import(cut, name, None, &ImportOptions::default()) {
                let _ = merge(i.findings);
            }
        }
    }
}

#[test]
fn flipped_bytes_never_panic() {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for name in FIXTURES {
        let doc = fixture(name);
        for _ in 0..300 {
            let mut d = doc.clone();
            for _ in 0..(1 + next() % 4) {
                let i = (next() as usize) % d.len();
                d[i] = (next() & 0xff) as u8;
            }
            for format in [None, Some(Format::Sarif), Some(Format::Falco)] {
                if let Ok(i) = import(&d, name, format, &ImportOptions::default()) {
                    let m = merge(i.findings.clone());
                    let _ = serde_json::to_string(&m).unwrap();
                    let _ = palisade_findings::diff(&m.findings, &i, "2024-01-01T00:00:00Z");
                }
            }
        }
    }
}
