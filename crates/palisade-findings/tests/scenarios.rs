//! Merging and scan-diff scenarios written as data: every file in
//! `tests/scenarios/` holds input documents (inline JSON, JSON lines, or a
//! fixture) and the expected findings. See any of them for the shape.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use palisade_findings::{Finding, Import, ImportOptions, RawFinding, diff, import, merge};
use serde_json::Value;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn document(doc: &Value) -> Import {
    let name = doc["name"].as_str().unwrap();
    let bytes: Vec<u8> = if let Some(content) = doc.get("content") {
        serde_json::to_vec_pretty(content).unwrap()
    } else if let Some(lines) = doc.get("lines") {
        lines
            .as_array()
            .unwrap()
            .iter()
            .map(|l| serde_json::to_string(l).unwrap() + "\n")
            .collect::<String>()
            .into_bytes()
    } else if let Some(f) = doc.get("fixture") {
        std::fs::read(dir().join("fixtures").join(f.as_str().unwrap())).unwrap()
    } else {
        panic!("document {name} has no content, lines or fixture");
    };
    import(&bytes, name, None, &ImportOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn raw(docs: &Value) -> Vec<RawFinding> {
    docs.as_array()
        .unwrap()
        .iter()
        .flat_map(|d| document(d).findings)
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// Whether `f` has every property `want` lists.
fn fits(f: &Finding, want: &Value) -> bool {
    let obj = want.as_object().unwrap();
    obj.iter().all(|(k, v)| match k.as_str() {
        "id" => f.id == v.as_str().unwrap(),
        "kind" => f.kind.as_str() == v.as_str().unwrap(),
        "location" => f.location.summary() == v.as_str().unwrap(),
        "aliases" => f.aliases == strings(v),
        "tools" => f.tools == strings(v),
        "sources" => f.sources.len() as u64 == v.as_u64().unwrap(),
        "first_seen" => f.first_seen.as_deref() == v.as_str(),
        "last_seen" => f.last_seen.as_deref() == v.as_str(),
        "fixed_versions" => match &f.location {
            palisade_findings::Location::Component(c) => c.fixed_versions == strings(v),
            _ => false,
        },
        other => panic!("unknown expectation {other}"),
    })
}

fn check_merge(name: &str, s: &Value) {
    let raw = raw(&s["documents"]);
    let expect = &s["expect"];
    let merged = merge(raw.clone());
    if let Some(n) = expect.get("raw") {
        assert_eq!(merged.raw as u64, n.as_u64().unwrap(), "{name}: raw");
    }
    let summary: Vec<String> = merged
        .findings
        .iter()
        .map(|f| {
            format!(
                "{} {} [{}] x{}",
                f.id,
                f.location.summary(),
                f.tools.join(","),
                f.sources.len()
            )
        })
        .collect();
    if let Some(n) = expect.get("findings") {
        assert_eq!(
            merged.findings.len() as u64,
            n.as_u64().unwrap(),
            "{name}: findings {summary:#?}"
        );
    }
    if let Some(n) = expect.get("notes") {
        assert_eq!(
            merged.notes.len() as u64,
            n.as_u64().unwrap(),
            "{name}: {:?}",
            merged.notes
        );
    }
    // Each expectation must be met by a distinct finding.
    let mut used = vec![false; merged.findings.len()];
    for want in expect["contains"].as_array().unwrap() {
        let hit = merged
            .findings
            .iter()
            .enumerate()
            .find(|(i, f)| !used[*i] && fits(f, want));
        match hit {
            Some((i, _)) => used[i] = true,
            None => panic!("{name}: no finding fits {want}; findings: {summary:#?}"),
        }
    }
    // Merging is insensitive to input order.
    let mut reversed = raw;
    reversed.reverse();
    assert_eq!(merge(reversed), merged, "{name}: order");
}

fn check_diff(name: &str, s: &Value) {
    let previous = merge(raw(&s["previous"])).findings;
    let scan = document(&s["scan"]);
    let at = s["at"].as_str().unwrap();
    let d = diff(&previous, &scan, at);
    let expect = &s["expect"];
    let ids = |v: &[Finding]| v.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&d.new), strings(&expect["new"]), "{name}: new");
    assert_eq!(
        ids(&d.still_present),
        strings(&expect["still_present"]),
        "{name}: still present"
    );
    let resolved = expect["resolved"].as_array().unwrap();
    assert_eq!(
        d.resolved.len(),
        resolved.len(),
        "{name}: resolved {:?}",
        d.resolved
    );
    for (got, want) in d.resolved.iter().zip(resolved) {
        assert_eq!(got.finding.id, want["id"].as_str().unwrap(), "{name}");
        assert_eq!(got.reason, want["reason"].as_str().unwrap(), "{name}");
        assert_eq!(got.resolved_at, at);
    }
    let unchanged = expect["unchanged"].as_array().unwrap();
    assert_eq!(d.unchanged.len(), unchanged.len(), "{name}: unchanged");
    for want in unchanged {
        assert!(
            d.unchanged.iter().any(|f| fits(f, want)),
            "{name}: unchanged has nothing like {want}"
        );
    }
    // Every previous finding lands in exactly one bucket.
    assert_eq!(
        d.still_present.len() + d.resolved.len() + d.unchanged.len(),
        previous.len(),
        "{name}: buckets"
    );
    // Still-present findings keep their previous fingerprint.
    for f in &d.still_present {
        assert!(
            previous.iter().any(|p| p.fingerprint == f.fingerprint),
            "{name}"
        );
    }
}

#[test]
fn scenarios() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 10, "{}", paths.len());
    for p in paths {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let s: Value = serde_json::from_slice(&std::fs::read(&p).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(s["description"].is_string(), "{name}: description");
        if s.get("scan").is_some() {
            check_diff(&name, &s);
        } else {
            check_merge(&name, &s);
        }
        eprintln!("ok {name}");
    }
}
