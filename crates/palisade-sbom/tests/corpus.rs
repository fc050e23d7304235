//! Every SBOM in the shared corpus is read, and its component count and purls
//! are compared with what the document itself says. The expected values are
//! computed here independently of the reader under test: by walking a plain
//! `serde_json::Value` for JSON, by a small element-stack walk over the XML
//! events for CycloneDX XML, and by scanning lines for tag-value.
//!
//! Files that are not SBOMs (READMEs, licences, a Maven POM), SPDX 3
//! documents, and the conformance suite's deliberately invalid documents are
//! expected to be refused with a clear error; anything else that fails to
//! read fails the test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use quick_xml::events::Event;

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("PALISADE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: corpus not found at {}", dir.display());
        None
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// What the document itself says: component count and purls (sorted).
struct Expected {
    count: usize,
    purls: Vec<String>,
}

fn cdx_json_components(v: &serde_json::Value, e: &mut Expected) {
    for c in v
        .get("components")
        .and_then(|c| c.as_array())
        .into_iter()
        .flatten()
    {
        e.count += 1;
        if let Some(p) = c
            .get("purl")
            .and_then(|p| p.as_str())
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            e.purls.push(p.to_owned());
        }
        cdx_json_components(c, e);
    }
}

/// The SBOM inside an in-toto statement or a DSSE envelope holding one.
fn unwrap_attestation(v: serde_json::Value) -> serde_json::Value {
    use base64::Engine;
    if let Some(p) = v.get("payload").and_then(|p| p.as_str()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(p)
            .unwrap_or_default();
        let statement: serde_json::Value = serde_json::from_slice(&decoded).unwrap_or_default();
        return unwrap_attestation(statement);
    }
    match v.get("predicate") {
        Some(p) if v.get("_type").is_some() => p.clone(),
        _ => v,
    }
}

fn expected_json(bytes: &[u8]) -> Option<Expected> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let v = unwrap_attestation(v);
    let mut e = Expected {
        count: 0,
        purls: Vec::new(),
    };
    if v.get("bomFormat").is_some() {
        cdx_json_components(&v, &mut e);
        if let Some(mc) = v.get("metadata").and_then(|m| m.get("component")) {
            cdx_json_components(mc, &mut e);
        }
    } else if v.get("spdxVersion").is_some() {
        for p in v
            .get("packages")
            .and_then(|p| p.as_array())
            .into_iter()
            .flatten()
        {
            e.count += 1;
            let purl = p
                .get("externalRefs")
                .and_then(|r| r.as_array())
                .into_iter()
                .flatten()
                .find(|r| r.get("referenceType").and_then(|t| t.as_str()) == Some("purl"))
                .and_then(|r| r.get("referenceLocator").and_then(|l| l.as_str()));
            if let Some(p) = purl {
                e.purls.push(p.trim().to_owned());
            }
        }
    } else {
        return None;
    }
    e.purls.sort();
    Some(e)
}

fn expected_xml(bytes: &[u8]) -> Option<Expected> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut r = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Vec<u8>> = Vec::new();
    let mut e = Expected {
        count: 0,
        purls: Vec::new(),
    };
    // A component counts when its parent is `components` whose parent is
    // `bom` or a counted component, or when it is `metadata`'s child (whose
    // own children then count).
    let mut counted: Vec<bool> = Vec::new();
    let mut in_purl = false;
    let mut buf = String::new();
    loop {
        match r.read_event().ok()? {
            Event::Start(s) => {
                let name = s.local_name().as_ref().to_vec();
                let n = stack.len();
                let parent = n.checked_sub(1).and_then(|i| stack.get(i));
                let grand_counted = n >= 2 && counted.get(n - 2).copied().unwrap_or(false);
                let grand_is_bom = n >= 2 && stack.get(n - 2).map(Vec::as_slice) == Some(b"bom");
                let is_counted_component = name == b"component"
                    && parent.map(Vec::as_slice) == Some(b"components")
                    && (grand_counted || grand_is_bom);
                let is_subject =
                    name == b"component" && parent.map(Vec::as_slice) == Some(b"metadata");
                if is_counted_component {
                    e.count += 1;
                }
                in_purl =
                    name == b"purl" && counted.last().copied().unwrap_or(false) && !is_subject;
                counted.push(is_counted_component || is_subject);
                stack.push(name);
            }
            Event::Empty(s) => {
                let n = stack.len();
                let parent = n.checked_sub(1).and_then(|i| stack.get(i));
                let grand_counted = n >= 2 && counted.get(n - 2).copied().unwrap_or(false);
                let grand_is_bom = n >= 2 && stack.get(n - 2).map(Vec::as_slice) == Some(b"bom");
                if s.local_name().as_ref() == b"component"
                    && parent.map(Vec::as_slice) == Some(b"components")
                    && (grand_counted || grand_is_bom)
                {
                    e.count += 1;
                }
            }
            Event::Text(t) if in_purl => buf.push_str(&String::from_utf8_lossy(&t.into_inner())),
            Event::CData(t) if in_purl => buf.push_str(&String::from_utf8_lossy(&t.into_inner())),
            Event::GeneralRef(r) if in_purl => {
                let name = String::from_utf8_lossy(&r.into_inner()).into_owned();
                buf.push_str(quick_xml::escape::resolve_predefined_entity(&name).unwrap_or(""));
            }
            Event::End(_) => {
                if in_purl {
                    let n = stack.len();
                    // Only a purl directly inside a counted component (not
                    // the subject's own purl).
                    let owner_is_component =
                        n >= 2 && stack.get(n - 2).map(Vec::as_slice) == Some(b"component");
                    let owner_parent_is_metadata =
                        n >= 3 && stack.get(n - 3).map(Vec::as_slice) == Some(b"metadata");
                    let p = buf.trim();
                    if owner_is_component && !owner_parent_is_metadata && !p.is_empty() {
                        e.purls.push(p.to_owned());
                    }
                }
                buf.clear();
                stack.pop();
                counted.pop();
                in_purl = false;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    e.purls.sort();
    Some(e)
}

fn expected_tag_value(bytes: &[u8]) -> Option<Expected> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut e = Expected {
        count: 0,
        purls: Vec::new(),
    };
    let mut current_has_purl = false;
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with("PackageName:") {
            e.count += 1;
            current_has_purl = false;
        } else if let Some(rest) = l.strip_prefix("ExternalRef:") {
            let parts: Vec<&str> = rest.split_whitespace().collect();
            if let [cat, "purl", loc] = parts.as_slice()
                && (*cat == "PACKAGE-MANAGER" || *cat == "PACKAGE_MANAGER")
                && !current_has_purl
            {
                e.purls.push((*loc).to_owned());
                current_has_purl = true;
            }
        }
    }
    e.purls.sort();
    Some(e)
}

/// Whether a file is expected to be refused, and why.
fn expected_refusal(rel: &str, bytes: &[u8]) -> Option<&'static str> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    if name.ends_with(".md")
        || name == "LICENSE"
        || name == "COPYING"
        || name.ends_with(".csv")
        || name.ends_with(".toml")
        || name.ends_with(".license")
    {
        return Some("not an SBOM");
    }
    if rel.contains("spdx3")
        || rel.contains("/spdx3.0/")
        || rel.ends_with("spdx_3_unsupported.json")
    {
        return Some("SPDX 3");
    }
    if name.starts_with("invalid-") {
        return Some("deliberately invalid (conformance suite)");
    }
    if name == "pom-with-spdx-plugin.xml" {
        return Some("a Maven POM");
    }
    let head = String::from_utf8_lossy(bytes.get(..bytes.len().min(4096)).unwrap_or_default())
        .into_owned();
    if !head.contains("bomFormat")
        && !head.contains("spdxVersion")
        && !head.contains("SPDXVersion")
        && !head.contains("cyclonedx.org/schema/bom")
    {
        // Scanner outputs, attestations and the like: not SBOM documents.
        if !bytes.windows(11).any(|w| w == b"\"bomFormat\"")
            && !bytes.windows(13).any(|w| w == b"\"spdxVersion\"")
        {
            return Some("not an SBOM document");
        }
    }
    None
}

#[test]
fn every_corpus_sbom_reads_with_its_own_counts_and_purls() {
    let Some(root) = corpus() else { return };
    let mut files = Vec::new();
    walk(&root.join("sbom"), &mut files);
    walk(&root.join("extra/sbom"), &mut files);
    let mut failures = Vec::new();
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    let mut refused = 0usize;
    for f in &files {
        let Ok(bytes) = std::fs::read(f) else {
            continue;
        };
        let rel = f.strip_prefix(&root).unwrap_or(f).display().to_string();
        let result = palisade_sbom::read(&bytes, &rel);
        let refusal = expected_refusal(&rel, &bytes);
        let inv = match (result, refusal) {
            (Ok(inv), _) => inv,
            (Err(e), Some(_)) => {
                let msg = e.to_string();
                assert!(msg.starts_with(&rel), "error does not name the file: {msg}");
                refused += 1;
                continue;
            }
            (Err(e), None) => {
                failures.push(format!("{rel}: unexpected error: {e}"));
                continue;
            }
        };
        let trimmed = bytes
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .and_then(|i| bytes.get(i));
        let (kind, expected) = match trimmed {
            Some(b'{') => ("json", expected_json(&bytes)),
            Some(b'<') => ("xml", expected_xml(&bytes)),
            _ => ("tag-value", expected_tag_value(&bytes)),
        };
        let Some(expected) = expected else {
            failures.push(format!(
                "{rel}: read by Palisade but not by the independent counter"
            ));
            continue;
        };
        *by_kind.entry(kind).or_default() += 1;
        if inv.components.len() != expected.count {
            failures.push(format!(
                "{rel}: {} components, the document has {}",
                inv.components.len(),
                expected.count
            ));
        }
        let mut purls: Vec<String> = inv
            .components
            .iter()
            .filter(|c| !c.purl_derived)
            .filter_map(|c| c.purl.clone())
            .collect();
        purls.sort();
        if purls != expected.purls {
            let missing: Vec<&String> = expected
                .purls
                .iter()
                .filter(|p| !purls.contains(p))
                .take(3)
                .collect();
            let extra: Vec<&String> = purls
                .iter()
                .filter(|p| !expected.purls.contains(p))
                .take(3)
                .collect();
            failures.push(format!(
                "{rel}: {} purls, the document has {} (missing e.g. {missing:?}, extra e.g. {extra:?})",
                purls.len(),
                expected.purls.len()
            ));
        }
    }
    eprintln!(
        "corpus: {by_kind:?} documents compared, {refused} refused as expected, {} files",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        by_kind.values().sum::<usize>() > 100,
        "too few documents compared: {by_kind:?}"
    );
}
