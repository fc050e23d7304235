//! CycloneDX VEX (1.4 to 1.6) import: `vulnerabilities[]` with `analysis`.
//!
//! `affects[].ref` is resolved against the document's components: a
//! component nested in another (or listed under a `metadata.component`)
//! becomes a subcomponent of its top-most ancestor, the product; a
//! top-level component (without `metadata.component`) is the product
//! itself. A BOM-Link (`urn:cdx:<serial>/<version>#<ref>`) into this
//! document is resolved the same way; one into another BOM is kept whole
//! (or as its purl fragment). An unresolved ref is taken as the product
//! identifier itself (Trivy writes purls there). `affects[].versions[]`
//! narrow the statement to versions or `vers:` ranges, each with its own
//! status (`affected`, `unaffected`, `unknown`).
//!
//! A vulnerability without `analysis` (an SBOM's or VDR's finding) or
//! without `analysis.state` is not a VEX statement: it is skipped with a
//! warning.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{
    Justification, STATUS_TABLE, StatementSource, Status, VexDocument, VexError, VexFormat,
    VexStatement, VexWarning, cut, ident, invalid, push, read, text, timestamp,
};

const F: VexFormat = VexFormat::CycloneDx;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBom {
    #[serde(default)]
    bom_format: Option<String>,
    #[serde(default)]
    spec_version: Option<String>,
    #[serde(default)]
    serial_number: Option<String>,
    #[serde(default)]
    version: Option<serde_json::Value>,
    #[serde(default)]
    metadata: Option<RawMetadata>,
    #[serde(default)]
    components: Option<Vec<RawComponent>>,
    #[serde(default)]
    vulnerabilities: Option<Vec<RawVulnerability>>,
}

#[derive(Deserialize)]
struct RawMetadata {
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    component: Option<RawComponent>,
    #[serde(default)]
    authors: Option<Vec<RawNamed>>,
    #[serde(default)]
    manufacturer: Option<RawNamed>,
    #[serde(default)]
    manufacture: Option<RawNamed>,
    #[serde(default)]
    supplier: Option<RawNamed>,
}

#[derive(Deserialize)]
struct RawNamed {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct RawComponent {
    #[serde(rename = "bom-ref", default)]
    bom_ref: Option<String>,
    #[serde(default)]
    purl: Option<String>,
    #[serde(default)]
    cpe: Option<String>,
    #[serde(default)]
    components: Option<Vec<RawComponent>>,
}

#[derive(Deserialize)]
struct RawVulnerability {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    references: Option<Vec<RawReference>>,
    #[serde(default)]
    analysis: Option<RawAnalysis>,
    #[serde(default)]
    affects: Option<Vec<RawAffects>>,
    #[serde(default)]
    recommendation: Option<String>,
    #[serde(default)]
    workaround: Option<String>,
}

#[derive(Deserialize)]
struct RawReference {
    #[serde(default)]
    id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAnalysis {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    justification: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    first_issued: Option<String>,
    #[serde(default)]
    last_updated: Option<String>,
}

#[derive(Deserialize)]
struct RawAffects {
    #[serde(rename = "ref", default)]
    reference: Option<String>,
    #[serde(default)]
    versions: Option<Vec<RawVersion>>,
}

#[derive(Deserialize)]
struct RawVersion {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    range: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

/// A component's identifier and the identifier of its top-most ancestor.
struct Node {
    identifier: String,
    root: Option<String>,
}

fn identifier(c: &RawComponent) -> Option<String> {
    [&c.purl, &c.cpe, &c.bom_ref]
        .into_iter()
        .flatten()
        .map(|s| s.trim())
        .find(|s| !s.is_empty())
        .map(str::to_owned)
}

fn index(components: &[RawComponent], root: Option<&str>, out: &mut BTreeMap<String, Node>) {
    for c in components {
        let id = identifier(c);
        if let (Some(r), Some(id)) = (&c.bom_ref, &id) {
            out.entry(r.trim().to_owned()).or_insert(Node {
                identifier: id.clone(),
                root: root.map(str::to_owned),
            });
        }
        let child_root = root.map(str::to_owned).or(id);
        if let Some(children) = &c.components {
            index(children, child_root.as_deref(), out);
        }
    }
}

/// `%xx` decoding of a BOM-Link fragment (invalid escapes kept as written).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%'
            && let (Some(h), Some(l)) = (bytes.get(i + 1), bytes.get(i + 2))
            && let (Some(h), Some(l)) = ((*h as char).to_digit(16), (*l as char).to_digit(16))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Resolves `affects[].ref` to (product, subcomponent).
fn resolve(
    reference: &str,
    serial: Option<&str>,
    nodes: &BTreeMap<String, Node>,
) -> (String, Option<String>) {
    let local = |r: &str| {
        nodes.get(r).map(|n| match &n.root {
            Some(root) if *root != n.identifier => (root.clone(), Some(n.identifier.clone())),
            _ => (n.identifier.clone(), None),
        })
    };
    if let Some(rest) = reference.strip_prefix("urn:cdx:")
        && let Some((doc, fragment)) = rest.split_once('#')
    {
        let fragment = percent_decode(fragment);
        let this_doc = serial
            .and_then(|s| s.strip_prefix("urn:uuid:"))
            .is_some_and(|uuid| doc.split('/').next() == Some(uuid));
        if this_doc && let Some(hit) = local(&fragment) {
            return hit;
        }
        if fragment.starts_with("pkg:") {
            return (fragment, None);
        }
        return (reference.to_owned(), None);
    }
    local(reference).unwrap_or_else(|| (reference.to_owned(), None))
}

fn state(path: &str, word: &str) -> Result<Status, VexError> {
    let w = word.trim().to_ascii_lowercase();
    STATUS_TABLE
        .iter()
        .find(|(_, _, cdx, _)| cdx.contains(&w.as_str()))
        .map(|(s, _, _, _)| *s)
        .ok_or_else(|| {
            invalid(
                F,
                path,
                format!(
                    "unknown analysis state {:?} (expected resolved, resolved_with_pedigree, exploitable, in_triage, false_positive or not_affected)",
                    cut(word)
                ),
            )
        })
}

/// The status of one `affects[].versions[]` entry, given the analysis state.
fn version_status(path: &str, word: Option<&str>, analysis: Status) -> Result<Status, VexError> {
    let Some(word) = word.map(str::trim).filter(|w| !w.is_empty()) else {
        return Ok(analysis);
    };
    match word.to_ascii_lowercase().as_str() {
        "affected" => Ok(Status::Affected),
        "unaffected" if analysis == Status::Fixed => Ok(Status::Fixed),
        "unaffected" => Ok(Status::NotAffected),
        "unknown" => Ok(Status::UnderInvestigation),
        _ => Err(invalid(
            F,
            path,
            format!(
                "unknown version status {:?} (expected affected, unaffected or unknown)",
                cut(word)
            ),
        )),
    }
}

pub(super) fn parse(bytes: &[u8]) -> Result<VexDocument, VexError> {
    let raw: RawBom = read(F, bytes)?;
    if raw.bom_format.as_deref() != Some("CycloneDX") {
        return Err(invalid(F, "$.bomFormat", "expected \"CycloneDX\""));
    }
    let mut warnings = Vec::new();
    match raw.spec_version.as_deref() {
        Some("1.4" | "1.5" | "1.6" | "1.7") => {}
        Some(v) => warnings.push(VexWarning {
            path: "$.specVersion".into(),
            message: format!(
                "CycloneDX {} has no VEX analysis (1.4 and later do); read as 1.6",
                cut(v)
            ),
        }),
        None => warnings.push(VexWarning {
            path: "$.specVersion".into(),
            message: "no specVersion; read as 1.6".into(),
        }),
    }
    let serial = match raw.serial_number {
        Some(s) => Some(ident(F, "$.serialNumber", &s)?),
        None => None,
    };
    let metadata = raw.metadata;
    let doc_time = match metadata.as_ref().and_then(|m| m.timestamp.clone()) {
        Some(t) => timestamp(F, "$.metadata.timestamp", Some(t))?,
        None => None,
    };
    let author = metadata.as_ref().and_then(|m| {
        m.authors
            .iter()
            .flatten()
            .chain(&m.manufacturer)
            .chain(&m.manufacture)
            .chain(&m.supplier)
            .find_map(|n| n.name.clone())
    });

    let mut nodes = BTreeMap::new();
    let meta_component = metadata.and_then(|m| m.component);
    if let Some(mc) = &meta_component {
        let root = identifier(mc);
        index(std::slice::from_ref(mc), None, &mut nodes);
        index(
            raw.components.as_deref().unwrap_or(&[]),
            root.as_deref(),
            &mut nodes,
        );
    } else {
        index(raw.components.as_deref().unwrap_or(&[]), None, &mut nodes);
    }

    let mut statements = Vec::new();
    for (i, v) in raw
        .vulnerabilities
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let at = format!("$.vulnerabilities[{i}]");
        let Some(id) = v.id.as_deref() else {
            warnings.push(VexWarning {
                path: format!("{at}.id"),
                message: "vulnerability has no id; skipped".into(),
            });
            continue;
        };
        let vulnerability = ident(F, &format!("{at}.id"), id)?;
        let Some(analysis) = v.analysis else {
            warnings.push(VexWarning {
                path: format!("{at}.analysis"),
                message: format!("{vulnerability} has no analysis (not a VEX statement); skipped"),
            });
            continue;
        };
        let Some(state_word) = analysis.state.as_deref() else {
            warnings.push(VexWarning {
                path: format!("{at}.analysis.state"),
                message: format!("{vulnerability} has no analysis state; skipped"),
            });
            continue;
        };
        let analysis_status = state(&format!("{at}.analysis.state"), state_word)?;
        let justification = match analysis.justification.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(j) => Some(Justification::from_cyclonedx(j).ok_or_else(|| {
                invalid(
                    F,
                    format!("{at}.analysis.justification"),
                    format!("unknown justification {:?}", cut(j)),
                )
            })?),
        };
        let mut aliases = Vec::new();
        for (k, r) in v.references.iter().flatten().enumerate() {
            if let Some(rid) = &r.id {
                aliases.push(ident(F, &format!("{at}.references[{k}].id"), rid)?);
            }
        }
        let impact_statement = text(F, &format!("{at}.analysis.detail"), analysis.detail)?;
        let action_statement = match text(F, &format!("{at}.recommendation"), v.recommendation)? {
            Some(a) => Some(a),
            None => text(F, &format!("{at}.workaround"), v.workaround)?,
        };
        let stamp = match timestamp(
            F,
            &format!("{at}.analysis.lastUpdated"),
            analysis.last_updated,
        )? {
            Some(t) => Some(t),
            None => timestamp(
                F,
                &format!("{at}.analysis.firstIssued"),
                analysis.first_issued,
            )?,
        };
        let affects = v.affects.unwrap_or_default();
        if affects.is_empty() {
            warnings.push(VexWarning {
                path: format!("{at}.affects"),
                message: format!("analysis of {vulnerability} affects no component; skipped"),
            });
            continue;
        }
        for (j, a) in affects.iter().enumerate() {
            let a_at = format!("{at}.affects[{j}]");
            let Some(reference) = &a.reference else {
                return Err(invalid(F, format!("{a_at}.ref"), "missing"));
            };
            let reference = ident(F, &format!("{a_at}.ref"), reference)?;
            let (product, subcomponent) = resolve(&reference, serial.as_deref(), &nodes);
            let make = |version: Option<String>, status: Status, path: String, original: String| {
                VexStatement {
                    vulnerability: vulnerability.clone(),
                    aliases: aliases.clone(),
                    product: product.clone(),
                    subcomponent: subcomponent.clone(),
                    version,
                    status,
                    justification,
                    impact_statement: impact_statement.clone(),
                    action_statement: action_statement.clone(),
                    timestamp: stamp.clone(),
                    source: Some(StatementSource {
                        format: F,
                        document: serial.clone(),
                        document_timestamp: doc_time.clone(),
                        path,
                        original_status: original,
                        original_justification: analysis.justification.clone(),
                    }),
                }
            };
            let versions = a.versions.as_deref().unwrap_or(&[]);
            if versions.is_empty() {
                let s = make(None, analysis_status, a_at, state_word.trim().to_owned());
                push(F, &mut statements, s)?;
                continue;
            }
            for (k, ver) in versions.iter().enumerate() {
                let v_at = format!("{a_at}.versions[{k}]");
                let version = match (&ver.version, &ver.range) {
                    (Some(v), _) => ident(F, &format!("{v_at}.version"), v)?,
                    (None, Some(r)) => ident(F, &format!("{v_at}.range"), r)?,
                    (None, None) => {
                        return Err(invalid(F, v_at, "neither version nor range"));
                    }
                };
                let status = version_status(
                    &format!("{v_at}.status"),
                    ver.status.as_deref(),
                    analysis_status,
                )?;
                let original = match &ver.status {
                    Some(vs) => format!("{} ({vs})", state_word.trim()),
                    None => state_word.trim().to_owned(),
                };
                push(
                    F,
                    &mut statements,
                    make(Some(version), status, v_at, original),
                )?;
            }
        }
    }
    Ok(VexDocument {
        format: F,
        id: serial,
        author,
        timestamp: doc_time,
        version: raw.version.map(|v| match v {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        }),
        statements,
        warnings,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const DOC: &str = r#"{
      "bomFormat": "CycloneDX",
      "specVersion": "1.5",
      "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
      "version": 1,
      "metadata": {"timestamp": "2024-01-01T00:00:00Z"},
      "components": [
        {"type": "application", "bom-ref": "app", "name": "app", "purl": "pkg:oci/app@sha256:abc",
         "components": [{"type": "library", "bom-ref": "jd", "name": "jackson-databind",
                         "purl": "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.10.0?type=jar"}]}
      ],
      "vulnerabilities": [
        {"id": "CVE-2020-25649",
         "references": [{"id": "GHSA-288c-cq4h-88gq", "source": {"name": "GitHub"}}],
         "analysis": {"state": "not_affected", "justification": "code_not_reachable",
                      "response": ["will_not_fix"], "detail": "Not reachable.",
                      "lastUpdated": "2024-02-01T00:00:00Z"},
         "affects": [{"ref": "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#jd"},
                     {"ref": "pkg:npm/lodash@4.17.20"},
                     {"ref": "urn:cdx:00000000-0000-0000-0000-000000000000/1#product-ABC"}]},
        {"id": "CVE-2021-44228",
         "analysis": {"state": "resolved"},
         "affects": [{"ref": "app", "versions": [{"version": "2.4", "status": "unaffected"},
                                                  {"range": "vers:generic/>=2.9|<=4.1", "status": "affected"}]}]},
        {"id": "CVE-2022-0001", "ratings": []}
      ]
    }"#;

    #[test]
    fn resolves_refs_and_versions() {
        let d = super::super::parse(DOC.as_bytes()).unwrap();
        assert_eq!(d.format, VexFormat::CycloneDx);
        assert_eq!(
            d.id.as_deref(),
            Some("urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79")
        );
        let s: Vec<_> = d
            .statements
            .iter()
            .map(|s| {
                (
                    s.product.as_str(),
                    s.subcomponent.as_deref(),
                    s.version.as_deref(),
                    s.status,
                )
            })
            .collect();
        assert_eq!(
            s,
            vec![
                (
                    "pkg:oci/app@sha256:abc",
                    Some("pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.10.0?type=jar"),
                    None,
                    Status::NotAffected
                ),
                ("pkg:npm/lodash@4.17.20", None, None, Status::NotAffected),
                (
                    "urn:cdx:00000000-0000-0000-0000-000000000000/1#product-ABC",
                    None,
                    None,
                    Status::NotAffected
                ),
                ("pkg:oci/app@sha256:abc", None, Some("2.4"), Status::Fixed),
                (
                    "pkg:oci/app@sha256:abc",
                    None,
                    Some("vers:generic/>=2.9|<=4.1"),
                    Status::Affected
                ),
            ]
        );
        let first = &d.statements[0];
        assert_eq!(first.aliases, vec!["GHSA-288c-cq4h-88gq"]);
        assert_eq!(
            first.justification,
            Some(Justification::VulnerableCodeNotInExecutePath)
        );
        assert_eq!(first.impact_statement.as_deref(), Some("Not reachable."));
        assert_eq!(first.timestamp.as_deref(), Some("2024-02-01T00:00:00Z"));
        let src = first.source.as_ref().unwrap();
        assert_eq!(
            src.original_justification.as_deref(),
            Some("code_not_reachable")
        );
        assert_eq!(src.path, "$.vulnerabilities[0].affects[0]");
        assert_eq!(
            d.statements[3].source.as_ref().unwrap().original_status,
            "resolved (unaffected)"
        );
        assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
    }

    #[test]
    fn metadata_component_is_the_product() {
        let doc = r#"{"bomFormat": "CycloneDX", "specVersion": "1.4",
          "metadata": {"component": {"bom-ref": "product-ABC", "name": "ABC"}},
          "components": [{"bom-ref": "lib", "purl": "pkg:npm/lib@1.0.0", "name": "lib"}],
          "vulnerabilities": [
            {"id": "CVE-1", "analysis": {"state": "false_positive"}, "affects": [{"ref": "lib"}, {"ref": "product-ABC"}]}
          ]}"#;
        let d = super::super::parse(doc.as_bytes()).unwrap();
        assert_eq!(d.statements[0].product, "product-ABC");
        assert_eq!(
            d.statements[0].subcomponent.as_deref(),
            Some("pkg:npm/lib@1.0.0")
        );
        assert_eq!(d.statements[0].status, Status::NotAffected);
        assert_eq!(d.statements[1].product, "product-ABC");
        assert_eq!(d.statements[1].subcomponent, None);
    }

    #[test]
    fn errors_have_paths() {
        for (from, to, path) in [
            (
                "\"state\": \"resolved\"",
                "\"state\": \"maybe\"",
                "$.vulnerabilities[1].analysis.state",
            ),
            (
                "\"code_not_reachable\"",
                "\"code_is_fine\"",
                "$.vulnerabilities[0].analysis.justification",
            ),
            (
                "\"status\": \"unaffected\"",
                "\"status\": \"fine\"",
                "$.vulnerabilities[1].affects[0].versions[0].status",
            ),
            (
                "{\"ref\": \"pkg:npm/lodash@4.17.20\"}",
                "{}",
                "$.vulnerabilities[0].affects[1].ref",
            ),
            (
                "\"lastUpdated\": \"2024-02-01T00:00:00Z\"",
                "\"lastUpdated\": 7",
                "$.vulnerabilities[0].analysis.lastUpdated",
            ),
            ("\"CycloneDX\"", "\"SPDX\"", "$.bomFormat"),
        ] {
            let bad = DOC.replacen(from, to, 1);
            assert_ne!(bad, DOC, "{from}");
            let e = parse(bad.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(path), "{e} (wanted {path})");
        }
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(
            percent_decode("pkg:npm/%40scope/a%401.0"),
            "pkg:npm/@scope/a@1.0"
        );
        assert_eq!(percent_decode("bad%zz%4"), "bad%zz%4");
    }
}
