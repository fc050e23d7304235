//! CSAF 2.0 VEX import.
//!
//! Why not the `csaf-rs` crate: it models the whole of CSAF (generated from
//! the JSON schema, with validation and the schema embedded) and brings a
//! large dependency tree (JSON-schema validation, regex engines, chrono, a
//! second CVSS implementation); VEX needs a small, tolerant subset, and
//! tolerant reading matters more here than schema-exact types. So these are
//! our own serde structs: unknown fields ignored, every list optional.
//!
//! The product tree is resolved to identifiers: a product's purl (its
//! `product_identification_helper.purl`), else its CPE, else, under a
//! `product_version` or `product_version_range` branch, the enclosing
//! `product_name` branch with the version as a narrowing, else its name.
//! A relationship (`default_component_of`, `installed_on`...) is a
//! subcomponent (`product_reference`) of a product
//! (`relates_to_product_reference`). Flags give the justification, `impact`
//! threats the impact statement, remediations the action statement, for the
//! products and groups they list.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{
    Justification, STATUS_TABLE, StatementSource, VexDocument, VexError, VexFormat, VexStatement,
    VexWarning, cut, ident, invalid, push, read, text, timestamp,
};
use crate::vex::purl_match::{purl_has_version, with_version};

const F: VexFormat = VexFormat::Csaf;

#[derive(Deserialize)]
struct RawCsaf {
    document: RawDocument,
    #[serde(default)]
    product_tree: Option<RawProductTree>,
    #[serde(default)]
    vulnerabilities: Option<Vec<RawVulnerability>>,
}

#[derive(Deserialize)]
struct RawDocument {
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    csaf_version: Option<String>,
    #[serde(default)]
    publisher: Option<RawPublisher>,
    #[serde(default)]
    tracking: Option<RawTracking>,
}

#[derive(Deserialize)]
struct RawPublisher {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct RawTracking {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    current_release_date: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawProductTree {
    #[serde(default)]
    branches: Option<Vec<RawBranch>>,
    #[serde(default)]
    full_product_names: Option<Vec<RawProduct>>,
    #[serde(default)]
    relationships: Option<Vec<RawRelationship>>,
    #[serde(default)]
    product_groups: Option<Vec<RawGroup>>,
}

#[derive(Deserialize)]
struct RawBranch {
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    branches: Option<Vec<RawBranch>>,
    #[serde(default)]
    product: Option<RawProduct>,
}

#[derive(Deserialize)]
struct RawProduct {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    product_id: Option<String>,
    #[serde(default)]
    product_identification_helper: Option<RawHelper>,
}

#[derive(Deserialize)]
struct RawHelper {
    #[serde(default)]
    purl: Option<String>,
    #[serde(default)]
    cpe: Option<String>,
}

#[derive(Deserialize)]
struct RawRelationship {
    #[serde(default)]
    product_reference: Option<String>,
    #[serde(default)]
    relates_to_product_reference: Option<String>,
    #[serde(default)]
    full_product_name: Option<RawProduct>,
}

#[derive(Deserialize)]
struct RawGroup {
    #[serde(default)]
    group_id: Option<String>,
    #[serde(default)]
    product_ids: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawVulnerability {
    #[serde(default)]
    cve: Option<String>,
    #[serde(default)]
    ids: Option<Vec<RawId>>,
    #[serde(default)]
    product_status: Option<BTreeMap<String, Option<Vec<String>>>>,
    #[serde(default)]
    flags: Option<Vec<RawScoped>>,
    #[serde(default)]
    threats: Option<Vec<RawScoped>>,
    #[serde(default)]
    remediations: Option<Vec<RawScoped>>,
}

#[derive(Deserialize)]
struct RawId {
    #[serde(default)]
    text: Option<String>,
}

/// A flag, threat or remediation: something said about some products.
#[derive(Deserialize)]
struct RawScoped {
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    product_ids: Option<Vec<String>>,
    #[serde(default)]
    group_ids: Option<Vec<String>>,
}

/// What a product id stands for.
#[derive(Clone)]
struct Resolved {
    product: String,
    subcomponent: Option<String>,
    version: Option<String>,
    /// The product's full name, used for it as the product of a
    /// relationship when it is narrowed by a version.
    full_name: String,
}

#[derive(Clone, Default)]
struct Context {
    product_name: Option<String>,
    version: Option<String>,
}

fn product_info(p: &RawProduct, ctx: &Context) -> Option<(String, Resolved)> {
    let id = p.product_id.as_deref()?.trim().to_owned();
    let helper = p.product_identification_helper.as_ref();
    let purl = helper
        .and_then(|h| h.purl.clone())
        .filter(|s| !s.trim().is_empty());
    let cpe = helper
        .and_then(|h| h.cpe.clone())
        .filter(|s| !s.trim().is_empty());
    let full_name = p.name.clone().unwrap_or_else(|| id.clone());
    let (product, version) = if let Some(purl) = purl {
        let v = if purl_has_version(&purl) {
            None
        } else {
            ctx.version.clone()
        };
        (purl.trim().to_owned(), v)
    } else if let Some(cpe) = cpe {
        (cpe.trim().to_owned(), None)
    } else if let (Some(name), Some(v)) = (&ctx.product_name, &ctx.version) {
        (name.clone(), Some(v.clone()))
    } else {
        (full_name.clone(), None)
    };
    Some((
        id,
        Resolved {
            product,
            subcomponent: None,
            version,
            full_name,
        },
    ))
}

fn walk(
    branches: &[RawBranch],
    ctx: &Context,
    out: &mut BTreeMap<String, Resolved>,
    warnings: &mut Vec<VexWarning>,
) {
    for b in branches {
        let mut ctx = ctx.clone();
        let name = b.name.clone().map(|n| n.trim().to_owned());
        match b.category.as_deref() {
            Some("product_name") => {
                ctx.product_name = name;
                ctx.version = None;
            }
            Some("product_version" | "product_version_range") => ctx.version = name,
            _ => {}
        }
        if let Some(p) = &b.product
            && let Some((id, r)) = product_info(p, &ctx)
        {
            insert(out, id, r, warnings);
        }
        if let Some(children) = &b.branches {
            walk(children, &ctx, out, warnings);
        }
    }
}

fn insert(
    out: &mut BTreeMap<String, Resolved>,
    id: String,
    r: Resolved,
    warnings: &mut Vec<VexWarning>,
) {
    match out.entry(id) {
        std::collections::btree_map::Entry::Occupied(e) => warnings.push(VexWarning {
            path: "$.product_tree".into(),
            message: format!(
                "product id {:?} is defined more than once; the first is used",
                cut(e.key())
            ),
        }),
        std::collections::btree_map::Entry::Vacant(e) => {
            e.insert(r);
        }
    }
}

fn resolve_tree(
    tree: &RawProductTree,
    warnings: &mut Vec<VexWarning>,
) -> BTreeMap<String, Resolved> {
    let mut out = BTreeMap::new();
    walk(
        tree.branches.as_deref().unwrap_or(&[]),
        &Context::default(),
        &mut out,
        warnings,
    );
    for p in tree.full_product_names.iter().flatten() {
        if let Some((id, r)) = product_info(p, &Context::default()) {
            insert(&mut out, id, r, warnings);
        }
    }
    for (i, rel) in tree.relationships.iter().flatten().enumerate() {
        let Some(fpn) = &rel.full_product_name else {
            continue;
        };
        let Some(id) = fpn.product_id.as_deref().map(str::trim) else {
            continue;
        };
        let component = rel
            .product_reference
            .as_deref()
            .and_then(|r| out.get(r.trim()))
            .cloned();
        let product = rel
            .relates_to_product_reference
            .as_deref()
            .and_then(|r| out.get(r.trim()))
            .cloned();
        match (component, product) {
            (Some(c), Some(p)) => {
                // A narrowing applies to the matched component, so a
                // product narrowed by a version is named in full instead: its
                // purl with the version, or its full product name.
                let product = match &p.version {
                    None => p.product,
                    Some(v) => match with_version(&p.product, v) {
                        Some(purl) => purl,
                        None => p.full_name,
                    },
                };
                let r = Resolved {
                    product,
                    subcomponent: Some(c.product),
                    version: c.version,
                    full_name: fpn.name.clone().unwrap_or_else(|| id.to_owned()),
                };
                insert(&mut out, id.to_owned(), r, warnings);
            }
            _ => warnings.push(VexWarning {
                path: format!("$.product_tree.relationships[{i}]"),
                message: "relationship refers to an unknown product id; skipped".into(),
            }),
        }
    }
    out
}

/// The product ids a flag, threat or remediation covers.
fn covers(s: &RawScoped, pid: &str, groups: &BTreeMap<String, Vec<String>>) -> bool {
    s.product_ids.iter().flatten().any(|p| p.trim() == pid)
        || s.group_ids.iter().flatten().any(|g| {
            groups
                .get(g.trim())
                .is_some_and(|ids| ids.iter().any(|p| p.trim() == pid))
        })
}

pub(super) fn parse(bytes: &[u8]) -> Result<VexDocument, VexError> {
    let raw: RawCsaf = read(F, bytes)?;
    let mut warnings = Vec::new();
    match raw.document.csaf_version.as_deref() {
        Some("2.0") => {}
        Some(v) => warnings.push(VexWarning {
            path: "$.document.csaf_version".into(),
            message: format!("CSAF {} read as 2.0", cut(v)),
        }),
        None => return Err(invalid(F, "$.document.csaf_version", "missing")),
    }
    match raw.document.category.as_deref() {
        Some("csaf_vex") => {}
        other => warnings.push(VexWarning {
            path: "$.document.category".into(),
            message: format!(
                "category {:?} is not csaf_vex; its product statuses are read as VEX statements",
                other.unwrap_or("")
            ),
        }),
    }
    let tracking = raw.document.tracking;
    let doc_id = match tracking.as_ref().and_then(|t| t.id.clone()) {
        Some(id) => Some(ident(F, "$.document.tracking.id", &id)?),
        None => None,
    };
    let doc_time = timestamp(
        F,
        "$.document.tracking.current_release_date",
        tracking
            .as_ref()
            .and_then(|t| t.current_release_date.clone()),
    )?;
    let tree = raw.product_tree.unwrap_or_default();
    let products = resolve_tree(&tree, &mut warnings);
    let groups: BTreeMap<String, Vec<String>> = tree
        .product_groups
        .iter()
        .flatten()
        .filter_map(|g| {
            Some((
                g.group_id.as_deref()?.trim().to_owned(),
                g.product_ids.clone().unwrap_or_default(),
            ))
        })
        .collect();

    let mut statements = Vec::new();
    for (i, v) in raw
        .vulnerabilities
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let at = format!("$.vulnerabilities[{i}]");
        let mut ids = Vec::new();
        for (k, id) in v.ids.iter().flatten().enumerate() {
            if let Some(t) = &id.text {
                ids.push(ident(F, &format!("{at}.ids[{k}].text"), t)?);
            }
        }
        let vulnerability = match &v.cve {
            Some(cve) => ident(F, &format!("{at}.cve"), cve)?,
            None => match ids.first() {
                Some(first) => first.clone(),
                None => return Err(invalid(F, at, "vulnerability has neither cve nor ids")),
            },
        };
        // Check flags, threats and remediations once, with their paths.
        for (k, f) in v.flags.iter().flatten().enumerate() {
            let label = f.label.as_deref().unwrap_or("");
            if Justification::from_word(label).is_none() {
                return Err(invalid(
                    F,
                    format!("{at}.flags[{k}].label"),
                    format!("unknown flag label {:?}", cut(label)),
                ));
            }
            timestamp(F, &format!("{at}.flags[{k}].date"), f.date.clone())?;
        }
        for (name, list) in [("threats", &v.threats), ("remediations", &v.remediations)] {
            for (k, t) in list.iter().flatten().enumerate() {
                timestamp(F, &format!("{at}.{name}[{k}].date"), t.date.clone())?;
                text(F, &format!("{at}.{name}[{k}].details"), t.details.clone())?;
            }
        }
        let Some(status_map) = &v.product_status else {
            warnings.push(VexWarning {
                path: format!("{at}.product_status"),
                message: format!("{vulnerability} has no product_status; skipped"),
            });
            continue;
        };
        for (key, list) in status_map {
            let Some((status, _, _, _)) = STATUS_TABLE
                .iter()
                .find(|(_, _, _, keys)| keys.contains(&key.as_str()))
            else {
                if key != "recommended" {
                    warnings.push(VexWarning {
                        path: format!("{at}.product_status.{key}"),
                        message: "not a VEX status; skipped".into(),
                    });
                }
                continue;
            };
            for (k, pid) in list.iter().flatten().enumerate() {
                let p_at = format!("{at}.product_status.{key}[{k}]");
                let pid = ident(F, &p_at, pid)?;
                let resolved = match products.get(&pid) {
                    Some(r) => r.clone(),
                    None => {
                        warnings.push(VexWarning {
                            path: p_at.clone(),
                            message: format!(
                                "product id {:?} is not in the product tree; used as the identifier",
                                cut(&pid)
                            ),
                        });
                        Resolved {
                            product: pid.clone(),
                            subcomponent: None,
                            version: None,
                            full_name: pid.clone(),
                        }
                    }
                };
                let flag = v.flags.iter().flatten().find(|f| covers(f, &pid, &groups));
                let threat =
                    v.threats.iter().flatten().find(|t| {
                        t.category.as_deref() == Some("impact") && covers(t, &pid, &groups)
                    });
                let remediation = v
                    .remediations
                    .iter()
                    .flatten()
                    .find(|r| covers(r, &pid, &groups));
                let justification = flag
                    .and_then(|f| f.label.as_deref())
                    .and_then(Justification::from_word);
                let stamp = [flag, threat, remediation]
                    .into_iter()
                    .flatten()
                    .find_map(|s| s.date.clone())
                    .map(|d| d.trim().to_owned());
                let s = VexStatement {
                    vulnerability: vulnerability.clone(),
                    aliases: ids.clone(),
                    product: resolved.product,
                    subcomponent: resolved.subcomponent,
                    version: resolved.version,
                    status: *status,
                    justification,
                    impact_statement: threat
                        .and_then(|t| t.details.clone())
                        .filter(|d| !d.trim().is_empty()),
                    action_statement: remediation
                        .and_then(|r| r.details.clone())
                        .filter(|d| !d.trim().is_empty()),
                    timestamp: stamp,
                    source: Some(StatementSource {
                        format: F,
                        document: doc_id.clone(),
                        document_timestamp: doc_time.clone(),
                        path: p_at,
                        original_status: key.clone(),
                        original_justification: flag.and_then(|f| f.label.clone()),
                    }),
                };
                push(F, &mut statements, s)?;
            }
        }
    }
    Ok(VexDocument {
        format: F,
        id: doc_id,
        author: raw.document.publisher.and_then(|p| p.name),
        timestamp: doc_time,
        version: tracking.and_then(|t| t.version),
        statements,
        warnings,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::vex::Status;

    const DOC: &str = r#"{
      "document": {
        "category": "csaf_vex",
        "csaf_version": "2.0",
        "publisher": {"category": "vendor", "name": "Example Company", "namespace": "https://example.invalid"},
        "title": "Example VEX",
        "tracking": {"id": "2022-EVD-UC-01-NA-001", "status": "final", "version": "2",
                     "initial_release_date": "2022-03-03T11:00:00.000Z",
                     "current_release_date": "2022-03-04T11:00:00.000Z",
                     "revision_history": [{"date": "2022-03-03T11:00:00.000Z", "number": "1", "summary": "Initial"}]}
      },
      "product_tree": {
        "branches": [{"category": "vendor", "name": "Example Company", "branches": [
          {"category": "product_name", "name": "DEF Server", "branches": [
            {"category": "product_version", "name": "4.2", "product": {"name": "Example Company DEF Server 4.2", "product_id": "CSAFPID-0001"}},
            {"category": "product_version_range", "name": "vers:npm/<4.2", "product": {"name": "DEF < 4.2", "product_id": "CSAFPID-0002",
               "product_identification_helper": {"purl": "pkg:npm/def-server"}}}
          ]}
        ]}],
        "full_product_names": [
          {"name": "log4j-core 2.14", "product_id": "CSAFPID-0003",
           "product_identification_helper": {"purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.0"}}
        ],
        "relationships": [
          {"category": "default_component_of", "product_reference": "CSAFPID-0003",
           "relates_to_product_reference": "CSAFPID-0001",
           "full_product_name": {"name": "log4j-core 2.14 as a component of DEF 4.2", "product_id": "CSAFPID-0004"}}
        ],
        "product_groups": [{"group_id": "CSAFGID-0001", "product_ids": ["CSAFPID-0004", "CSAFPID-0002"]}]
      },
      "vulnerabilities": [{
        "cve": "CVE-2021-44228",
        "ids": [{"system_name": "GitHub", "text": "GHSA-jfh8-c2jp-5v3q"}],
        "notes": [{"category": "description", "text": "Log4Shell"}],
        "product_status": {"known_not_affected": ["CSAFPID-0004", "CSAFPID-0002"], "known_affected": ["CSAFPID-0009"]},
        "flags": [{"label": "vulnerable_code_not_in_execute_path", "group_ids": ["CSAFGID-0001"], "date": "2022-03-04T10:00:00Z"}],
        "threats": [{"category": "impact", "details": "JNDI lookups are disabled.", "product_ids": ["CSAFPID-0004"]}],
        "remediations": [{"category": "vendor_fix", "details": "Upgrade.", "product_ids": ["CSAFPID-0009"]}]
      }]
    }"#;

    #[test]
    fn resolves_tree_relationships_and_groups() {
        let d = super::super::parse(DOC.as_bytes()).unwrap();
        assert_eq!(d.format, VexFormat::Csaf);
        assert_eq!(d.id.as_deref(), Some("2022-EVD-UC-01-NA-001"));
        assert_eq!(d.version.as_deref(), Some("2"));
        assert_eq!(d.statements.len(), 3);
        let s = &d.statements[0];
        assert_eq!(s.status, Status::Affected);
        assert_eq!(s.product, "CSAFPID-0009");
        assert_eq!(s.action_statement.as_deref(), Some("Upgrade."));
        let s = &d.statements[1];
        assert_eq!(s.status, Status::NotAffected);
        assert_eq!(s.product, "Example Company DEF Server 4.2");
        assert_eq!(s.version, None);
        assert_eq!(
            s.subcomponent.as_deref(),
            Some("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.0")
        );
        assert_eq!(
            s.justification,
            Some(Justification::VulnerableCodeNotInExecutePath)
        );
        assert_eq!(
            s.impact_statement.as_deref(),
            Some("JNDI lookups are disabled.")
        );
        assert_eq!(s.aliases, vec!["GHSA-jfh8-c2jp-5v3q"]);
        assert_eq!(s.timestamp.as_deref(), Some("2022-03-04T10:00:00Z"));
        let s = &d.statements[2];
        assert_eq!(
            (s.product.as_str(), s.version.as_deref()),
            ("pkg:npm/def-server", Some("vers:npm/<4.2"))
        );
        // The unknown product id is reported.
        assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
    }

    #[test]
    fn errors_have_paths() {
        for (from, to, path) in [
            (
                "\"vulnerable_code_not_in_execute_path\"",
                "\"nope\"",
                "$.vulnerabilities[0].flags[0].label",
            ),
            (
                "\"date\": \"2022-03-04T10:00:00Z\"",
                "\"date\": \"soon\"",
                "$.vulnerabilities[0].flags[0].date",
            ),
            ("\"csaf_version\": \"2.0\",", "", "$.document.csaf_version"),
            (
                "\"known_affected\": [\"CSAFPID-0009\"]",
                "\"known_affected\": [7]",
                "$.vulnerabilities[0].product_status.known_affected[0]",
            ),
            (
                "\"cve\": \"CVE-2021-44228\",",
                "",
                "$.vulnerabilities[0].ids[0].text",
            ),
        ] {
            let bad = DOC.replacen(from, to, 1);
            assert_ne!(bad, DOC, "{from}");
            match parse(bad.as_bytes()) {
                Err(e) => {
                    let e = e.to_string();
                    assert!(e.contains(path), "{e} (wanted {path})");
                }
                // Without a cve the first id is the vulnerability.
                Ok(d) => assert_eq!(
                    d.statements[0].vulnerability, "GHSA-jfh8-c2jp-5v3q",
                    "{path}"
                ),
            }
        }
    }
}
