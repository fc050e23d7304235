//! OpenVEX (v0.0.1 to v0.2.0) import.
//!
//! Accepted beside v0.2.0's shapes: `vulnerability` as a plain string and
//! `products`/`subcomponents` as lists of strings (v0.0.x), a statement-level
//! `subcomponents` list (v0.0.x, applying to every product), and a product
//! named only by `identifiers` (`purl`, then `cpe23`, then `cpe22`).

use serde::Deserialize;

use super::{
    Justification, StatementSource, Status, VexDocument, VexError, VexFormat, VexStatement,
    VexWarning, cut, ident, invalid, push, read, text, timestamp,
};

const F: VexFormat = VexFormat::OpenVex;

#[derive(Deserialize)]
struct RawDoc {
    #[serde(rename = "@context", default)]
    context: Option<serde_json::Value>,
    #[serde(rename = "@id", default)]
    id: Option<String>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    last_updated: Option<String>,
    #[serde(default)]
    version: Option<serde_json::Value>,
    #[serde(default)]
    statements: Option<Vec<RawStatement>>,
}

#[derive(Deserialize)]
struct RawStatement {
    #[serde(default)]
    vulnerability: Option<RawVulnerability>,
    #[serde(default)]
    products: Option<Vec<RawProduct>>,
    #[serde(default)]
    subcomponents: Option<Vec<RawProduct>>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    justification: Option<String>,
    #[serde(default)]
    impact_statement: Option<String>,
    #[serde(default)]
    action_statement: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    last_updated: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawVulnerability {
    Name(String),
    Object {
        #[serde(rename = "@id", default)]
        id: Option<String>,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        aliases: Option<Vec<String>>,
    },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawProduct {
    Id(String),
    Object {
        #[serde(rename = "@id", default)]
        id: Option<String>,
        #[serde(default)]
        identifiers: Option<RawIdentifiers>,
        #[serde(default)]
        subcomponents: Option<Vec<RawProduct>>,
    },
}

#[derive(Deserialize)]
struct RawIdentifiers {
    #[serde(default)]
    purl: Option<String>,
    #[serde(default)]
    cpe23: Option<String>,
    #[serde(default)]
    cpe22: Option<String>,
}

impl RawProduct {
    fn identifier(&self, path: &str) -> Result<String, VexError> {
        match self {
            RawProduct::Id(s) => ident(F, path, s),
            RawProduct::Object {
                id, identifiers, ..
            } => {
                let from_ids = identifiers
                    .as_ref()
                    .and_then(|i| i.purl.clone().or(i.cpe23.clone()).or(i.cpe22.clone()));
                match id.clone().or(from_ids) {
                    Some(s) => ident(F, path, &s),
                    None => Err(invalid(
                        F,
                        path,
                        "product has neither @id nor identifiers (purl, cpe23, cpe22)",
                    )),
                }
            }
        }
    }

    fn subcomponents(&self) -> &[RawProduct] {
        match self {
            RawProduct::Id(_) => &[],
            RawProduct::Object { subcomponents, .. } => subcomponents.as_deref().unwrap_or(&[]),
        }
    }
}

fn status(path: &str, word: Option<&str>) -> Result<Status, VexError> {
    let Some(word) = word else {
        return Err(invalid(F, path, "statement has no status"));
    };
    let w = word.trim().to_ascii_lowercase();
    Status::ALL
        .into_iter()
        .find(|s| s.as_str() == w)
        .ok_or_else(|| {
            invalid(
                F,
                path,
                format!(
                    "unknown status {:?} (expected not_affected, affected, fixed or under_investigation)",
                    cut(word)
                ),
            )
        })
}

pub(super) fn parse(bytes: &[u8]) -> Result<VexDocument, VexError> {
    let raw: RawDoc = read(F, bytes)?;
    // JSON-LD allows a list of contexts.
    let contexts: Vec<String> = match raw.context {
        Some(serde_json::Value::String(s)) => vec![s],
        Some(serde_json::Value::Array(list)) => list
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    if !contexts
        .iter()
        .any(|c| c.trim().starts_with("https://openvex.dev/ns"))
    {
        let context = contexts.join(", ");
        return Err(invalid(
            F,
            "$.@context",
            format!(
                "{:?} is not an OpenVEX context (https://openvex.dev/ns/v0.2.0)",
                cut(&context)
            ),
        ));
    }
    let doc_id = match raw.id {
        Some(id) => Some(ident(F, "$.@id", &id)?),
        None => None,
    };
    let doc_time = match timestamp(F, "$.last_updated", raw.last_updated)? {
        Some(t) => Some(t),
        None => timestamp(F, "$.timestamp", raw.timestamp)?,
    };
    let Some(raw_statements) = raw.statements else {
        return Err(invalid(F, "$.statements", "document has no statements"));
    };
    let mut statements = Vec::new();
    let mut warnings = Vec::new();
    for (i, s) in raw_statements.into_iter().enumerate() {
        let at = format!("$.statements[{i}]");
        let (vulnerability, aliases) = match &s.vulnerability {
            None => return Err(invalid(F, format!("{at}.vulnerability"), "missing")),
            Some(RawVulnerability::Name(n)) => {
                (ident(F, &format!("{at}.vulnerability"), n)?, Vec::new())
            }
            Some(RawVulnerability::Object { id, name, aliases }) => {
                let name = name.clone().or(id.clone()).ok_or_else(|| {
                    invalid(F, format!("{at}.vulnerability"), "neither name nor @id")
                })?;
                let name = ident(F, &format!("{at}.vulnerability.name"), &name)?;
                let mut list = Vec::new();
                for (k, a) in aliases.iter().flatten().enumerate() {
                    list.push(ident(F, &format!("{at}.vulnerability.aliases[{k}]"), a)?);
                }
                (name, list)
            }
        };
        let status = status(&format!("{at}.status"), s.status.as_deref())?;
        let justification = match s.justification.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(j) => Some(Justification::from_word(j).ok_or_else(|| {
                invalid(
                    F,
                    format!("{at}.justification"),
                    format!("unknown justification {:?}", cut(j)),
                )
            })?),
        };
        let impact_statement = text(F, &format!("{at}.impact_statement"), s.impact_statement)?;
        let action_statement = text(F, &format!("{at}.action_statement"), s.action_statement)?;
        let stamp = match timestamp(F, &format!("{at}.last_updated"), s.last_updated)? {
            Some(t) => Some(t),
            None => timestamp(F, &format!("{at}.timestamp"), s.timestamp)?,
        };
        let products = s.products.as_deref().unwrap_or(&[]);
        if products.is_empty() {
            // A statement about no product in particular cannot be matched
            // safely; it is reported, never applied to everything.
            warnings.push(VexWarning {
                path: format!("{at}.products"),
                message: format!("statement about {vulnerability} names no product; skipped"),
            });
            continue;
        }
        let shared_subs = s.subcomponents.as_deref().unwrap_or(&[]);
        for (j, p) in products.iter().enumerate() {
            let p_at = format!("{at}.products[{j}]");
            let product = p.identifier(&p_at)?;
            let mut subs: Vec<(String, String)> = Vec::new();
            for (k, sub) in p.subcomponents().iter().enumerate() {
                let s_at = format!("{p_at}.subcomponents[{k}]");
                subs.push((sub.identifier(&s_at)?, s_at));
            }
            for (k, sub) in shared_subs.iter().enumerate() {
                let s_at = format!("{at}.subcomponents[{k}]");
                subs.push((sub.identifier(&s_at)?, s_at));
            }
            let make = |subcomponent: Option<String>, path: String| VexStatement {
                vulnerability: vulnerability.clone(),
                aliases: aliases.clone(),
                product: product.clone(),
                subcomponent,
                version: None,
                status,
                justification,
                impact_statement: impact_statement.clone(),
                action_statement: action_statement.clone(),
                timestamp: stamp.clone(),
                source: Some(StatementSource {
                    format: F,
                    document: doc_id.clone(),
                    document_timestamp: doc_time.clone(),
                    path,
                    original_status: status.as_str().to_owned(),
                    original_justification: justification.map(|j| j.as_str().to_owned()),
                }),
            };
            if subs.is_empty() {
                push(F, &mut statements, make(None, p_at))?;
            } else {
                for (sub, s_at) in subs {
                    push(F, &mut statements, make(Some(sub), s_at))?;
                }
            }
        }
    }
    Ok(VexDocument {
        format: F,
        id: doc_id,
        author: raw.author.filter(|a| !a.trim().is_empty()),
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
      "@context": "https://openvex.dev/ns/v0.2.0",
      "@id": "https://openvex.dev/docs/example/vex-9fb3463de1b57",
      "author": "Wolfi J Inkinson",
      "role": "Document Creator",
      "timestamp": "2023-01-08T18:02:03.647787998-06:00",
      "version": 1,
      "statements": [
        {
          "vulnerability": {"name": "CVE-2014-123456", "aliases": ["GHSA-xxxx-yyyy-zzzz"]},
          "timestamp": "2023-01-09T00:00:00Z",
          "products": [
            {"@id": "pkg:apk/distro/git@2.39.0-r1?arch=armv7"},
            {"@id": "pkg:oci/example@sha256:47fed8868b",
             "subcomponents": [{"@id": "pkg:apk/distro/git@2.39.0-r1"}, {"identifiers": {"purl": "pkg:npm/left-pad@1.0.0"}}]}
          ],
          "status": "not_affected",
          "justification": "inline_mitigations_already_exist",
          "impact_statement": "Included git is mitigated against CVE-2023-12345 !"
        },
        {
          "vulnerability": "CVE-2023-0001",
          "products": ["pkg:golang/example.com/a@v1.0.0"],
          "status": "affected",
          "action_statement": "Upgrade to v1.0.1"
        },
        {
          "vulnerability": {"name": "CVE-2023-0002"},
          "products": [],
          "status": "fixed"
        }
      ]
    }"#;

    #[test]
    fn flattens_products_and_subcomponents() {
        let d = super::super::parse(DOC.as_bytes()).unwrap();
        assert_eq!(d.format, VexFormat::OpenVex);
        assert_eq!(d.version.as_deref(), Some("1"));
        assert_eq!(d.statements.len(), 4);
        let s = &d.statements[0];
        assert_eq!(s.vulnerability, "CVE-2014-123456");
        assert_eq!(s.aliases, vec!["GHSA-xxxx-yyyy-zzzz"]);
        assert_eq!(s.product, "pkg:apk/distro/git@2.39.0-r1?arch=armv7");
        assert_eq!(
            s.justification,
            Some(Justification::InlineMitigationsAlreadyExist)
        );
        assert_eq!(s.timestamp.as_deref(), Some("2023-01-09T00:00:00Z"));
        let src = s.source.as_ref().unwrap();
        assert_eq!(src.path, "$.statements[0].products[0]");
        assert_eq!(
            src.document_timestamp.as_deref(),
            Some("2023-01-08T18:02:03.647787998-06:00")
        );
        assert_eq!(
            d.statements[2].subcomponent.as_deref(),
            Some("pkg:npm/left-pad@1.0.0")
        );
        assert_eq!(
            d.statements[2].source.as_ref().unwrap().path,
            "$.statements[0].products[1].subcomponents[1]"
        );
        let s = &d.statements[3];
        assert_eq!(
            (s.status, s.action_statement.as_deref()),
            (Status::Affected, Some("Upgrade to v1.0.1"))
        );
        assert_eq!(d.warnings.len(), 1);
        assert!(d.warnings[0].path.ends_with("statements[2].products"));
    }

    #[test]
    fn errors_have_paths() {
        for (from, to, path) in [
            (
                "\"status\": \"affected\"",
                "\"status\": \"maybe\"",
                "$.statements[1].status",
            ),
            (
                "\"justification\": \"inline_mitigations_already_exist\"",
                "\"justification\": \"trust me\"",
                "$.statements[0].justification",
            ),
            (
                "\"timestamp\": \"2023-01-09T00:00:00Z\"",
                "\"timestamp\": \"yesterday\"",
                "$.statements[0].timestamp",
            ),
            (
                "{\"@id\": \"pkg:apk/distro/git@2.39.0-r1?arch=armv7\"}",
                "{\"hashes\": {}}",
                "$.statements[0].products[0]",
            ),
            (
                "\"https://openvex.dev/ns/v0.2.0\"",
                "\"https://example.invalid/ns\"",
                "$.@context",
            ),
            ("\"status\": \"affected\",", "", "$.statements[1].status"),
        ] {
            let bad = DOC.replacen(from, to, 1);
            assert_ne!(bad, DOC, "{from}");
            let e = parse(bad.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(path), "{e} (wanted {path})");
        }
        let e = parse(
            br#"{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"status": 3}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("$.statements[0].status"), "{e}");
    }
}
