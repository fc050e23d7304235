//! Trivy JSON reports: schema version 2 (`Results`), the legacy top-level
//! array of results, and `trivy k8s` reports (`Resources[].Results`).
//!
//! Every `Vulnerabilities`, `Misconfigurations`, `Secrets` and `Licenses`
//! entry is one result; misconfigurations whose `Status` is `PASS` or
//! `EXCEPTION` are counted as skipped. Trivy gives no aliases besides
//! `VendorIDs` (distribution advisories), which are read as aliases.
//! The CVSS vector is taken from the `SeveritySource` vendor, then NVD, then
//! any vendor, newest CVSS version first; the rating is Trivy's `Severity`.

use serde_json::Value;

use super::{
    VulnParts, add_tool, dedup_keep_order, located_fingerprint, new_import, tool, vulnerability,
};
use crate::error::ImportError;
use crate::fingerprint::{
    self, component_key, ecosystem_of, normalize_message, normalize_path, sorted,
};
use crate::json::Node;
use crate::model::{
    ComponentLocation, FileLocation, FindingKind, Format, Import, Location, RawFinding, Tool,
};
use crate::severity::{best_vector, build, rating_of_word};

/// Reads a Trivy report.
pub(crate) fn import(value: &Value, document: &str) -> Result<Import, ImportError> {
    let root = Node::root(value);
    let mut import = new_import(document, Format::Trivy);
    let version = root
        .at_path(&["Trivy", "Version"])
        .and_then(|n| n.as_string());
    let tool = tool("Trivy", version);
    add_tool(&mut import, &tool);
    if value.is_array() {
        for result in root.elements() {
            result.expect_object(document)?;
            read_result(&result, None, &tool, document, &mut import)?;
        }
        fingerprint::disambiguate(&mut import.findings);
        return Ok(import);
    }
    root.expect_object(document)?;
    import.target = root.str("ArtifactName").or_else(|| root.str("ClusterName"));
    import.created_at = root.str("CreatedAt");
    let mut any = false;
    if root.get("Results").is_some() {
        any = true;
        for result in root.objects("Results", document)? {
            read_result(&result, None, &tool, document, &mut import)?;
        }
    }
    // `trivy k8s`: resources, each with its own results.
    for key in ["Resources", "Vulnerabilities", "Misconfigurations"] {
        let Some(list) = root.get(key) else { continue };
        if !list.value.is_array() {
            continue;
        }
        any = true;
        for resource in root.objects(key, document)? {
            let name = [
                resource.str("Namespace"),
                resource.str("Kind"),
                resource.str("Name"),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("/");
            let prefix = (!name.is_empty()).then_some(name);
            for result in resource.objects("Results", document)? {
                read_result(&result, prefix.as_deref(), &tool, document, &mut import)?;
            }
        }
    }
    if !any && root.get("SchemaVersion").is_none() {
        return Err(ImportError::invalid(
            document,
            "$.Results",
            "missing: a Trivy report has Results (or Resources for trivy k8s)",
        ));
    }
    fingerprint::disambiguate(&mut import.findings);
    Ok(import)
}

fn read_result(
    result: &Node<'_>,
    resource: Option<&str>,
    tool: &Tool,
    document: &str,
    import: &mut Import,
) -> Result<(), ImportError> {
    let target = result.str("Target").unwrap_or_default();
    let class = result.str("Class").unwrap_or_default();
    let kind_word = result.str("Type").unwrap_or_default();
    // For language packages the target is the lockfile; for OS packages it
    // is the image and distribution, not a path.
    let is_path = !matches!(class.as_str(), "os-pkgs" | "license" | "custom");

    for v in result.objects("Vulnerabilities", document)? {
        import.stats.results += 1;
        import.stats.imported += 1;
        let f = read_vulnerability(&v, tool, &target, &kind_word, is_path, resource, document);
        if f.rule_id == "(no id)" {
            import.warnings.push(crate::model::ImportWarning {
                path: v.child_path("VulnerabilityID"),
                reason: "missing; the finding cannot be merged with other tools'".into(),
            });
        }
        import.findings.push(f);
    }
    for m in result.objects("Misconfigurations", document)? {
        import.stats.results += 1;
        let status = m.str("Status").unwrap_or_else(|| "FAIL".into());
        if status != "FAIL" {
            import
                .stats
                .skip(&format!("trivy misconfiguration status {status}"));
            continue;
        }
        import.stats.imported += 1;
        import
            .findings
            .push(read_misconfiguration(&m, tool, &target, resource, document));
    }
    for s in result.objects("Secrets", document)? {
        import.stats.results += 1;
        import.stats.imported += 1;
        import
            .findings
            .push(read_secret(&s, tool, &target, resource, document));
    }
    for l in result.objects("Licenses", document)? {
        import.stats.results += 1;
        import.stats.imported += 1;
        import
            .findings
            .push(read_license(&l, tool, &target, &kind_word, document));
    }
    Ok(())
}

fn severity(node: &Node<'_>) -> Option<crate::model::Severity> {
    let label = node.str("Severity");
    let rating = label.as_deref().and_then(rating_of_word);
    let mut vector = None;
    let mut score = None;
    if let Some(cvss) = node.value.get("CVSS").and_then(Value::as_object) {
        let source = node.str("SeveritySource");
        let mut vendors: Vec<&String> = cvss.keys().collect();
        // The severity source first, then NVD, then the rest by name.
        vendors.sort_by_key(|k| {
            (
                Some(k.as_str()) != source.as_deref(),
                k.as_str() != "nvd",
                k.as_str().to_owned(),
            )
        });
        for vendor in vendors {
            let Some(entry) = cvss.get(vendor) else {
                continue;
            };
            let vectors: Vec<&str> = ["V40Vector", "V3Vector", "V2Vector"]
                .iter()
                .filter_map(|k| entry.get(k).and_then(Value::as_str))
                .collect();
            if let Some(best) = best_vector(vectors) {
                let score_key = if best.starts_with("CVSS:4.") {
                    "V40Score"
                } else if best.starts_with("CVSS:3.") {
                    "V3Score"
                } else {
                    "V2Score"
                };
                score = entry.get(score_key).and_then(crate::json::value_f64);
                vector = Some(best);
                break;
            }
        }
    }
    build(label, rating, vector, score)
}

fn read_vulnerability(
    v: &Node<'_>,
    tool: &Tool,
    target: &str,
    kind_word: &str,
    is_path: bool,
    resource: Option<&str>,
    document: &str,
) -> RawFinding {
    let purl = v
        .at_path(&["PkgIdentifier", "PURL"])
        .and_then(|n| n.as_string());
    let ecosystem = purl
        .as_deref()
        .and_then(|p| palisade_inventory::purl::parse(p).ok())
        .and_then(|p| p.ecosystem_string())
        .or_else(|| ecosystem_of(kind_word).map(|e| e.as_str().to_owned()))
        .or_else(|| (!kind_word.is_empty()).then(|| kind_word.to_owned()));
    let mut paths = Vec::new();
    if let Some(p) = v.str("PkgPath") {
        paths.push(normalize_path(&p, &[]));
    } else if is_path && !target.is_empty() {
        paths.push(normalize_path(target, &[]));
    }
    if let Some(r) = resource {
        paths.push(r.to_owned());
    }
    let fixed: Vec<String> = v
        .str("FixedVersion")
        .map(|f| f.split(',').map(|s| s.trim().to_owned()).collect())
        .unwrap_or_default();
    let layer = v
        .at_path(&["Layer", "DiffID"])
        .or_else(|| v.at_path(&["Layer", "Digest"]))
        .and_then(|n| n.as_string());
    let component = ComponentLocation {
        purl,
        ecosystem,
        name: v.str("PkgName").unwrap_or_default(),
        version: v.str("InstalledVersion"),
        fixed_versions: fixed,
        paths,
        layer,
    };
    let mut references: Vec<String> = v.str("PrimaryURL").into_iter().collect();
    references.extend(v.strings("References"));
    vulnerability(VulnParts {
        tool: tool.clone(),
        id: v.str("VulnerabilityID").unwrap_or_else(|| "(no id)".into()),
        aliases: v.strings("VendorIDs"),
        related: Vec::new(),
        title: v.str("Title"),
        description: v.text("Description"),
        severity: severity(v),
        component,
        cwes: v.strings("CweIDs"),
        references,
        document: document.to_owned(),
        json_path: v.path.clone(),
    })
}

fn file_finding(
    kind: FindingKind,
    tool: &Tool,
    rule_id: String,
    location: FileLocation,
    context: &str,
    node: &Node<'_>,
    document: &str,
) -> RawFinding {
    let path = location.path.clone().unwrap_or_default();
    RawFinding {
        fingerprint: located_fingerprint(kind, tool, &[&rule_id, &path, context]),
        fingerprint_basis: "computed:rule+location".to_owned(),
        tool: tool.clone(),
        kind,
        rule_id,
        aliases: Vec::new(),
        related: Vec::new(),
        title: node.str("Title"),
        description: None,
        severity: severity(node),
        location: Location::File(location),
        cwes: Vec::new(),
        references: Vec::new(),
        tags: Vec::new(),
        document: document.to_owned(),
        json_path: node.path.clone(),
        observed_at: None,
        suppressed: false,
    }
}

fn read_misconfiguration(
    m: &Node<'_>,
    tool: &Tool,
    target: &str,
    resource: Option<&str>,
    document: &str,
) -> RawFinding {
    let id = m
        .str("ID")
        .or_else(|| m.str("AVDID"))
        .unwrap_or_else(|| "(no id)".into());
    let cause = m.obj("CauseMetadata");
    let logical = cause
        .as_ref()
        .and_then(|c| c.str("Resource"))
        .or_else(|| resource.map(str::to_owned));
    let location = FileLocation {
        path: Some(normalize_path(target, &[])).filter(|p| !p.is_empty()),
        start_line: cause
            .as_ref()
            .and_then(|c| c.u64("StartLine"))
            .filter(|l| *l > 0),
        end_line: cause
            .as_ref()
            .and_then(|c| c.u64("EndLine"))
            .filter(|l| *l > 0),
        start_column: None,
        end_column: None,
        logical: logical.clone(),
    };
    let message = m.text("Message");
    let context = match &logical {
        Some(l) => l.clone(),
        None => normalize_message(message.as_deref().unwrap_or_default()),
    };
    let mut f = file_finding(
        FindingKind::Misconfiguration,
        tool,
        id.clone(),
        location,
        &context,
        m,
        document,
    );
    f.fingerprint_basis = "computed:rule+location+resource".into();
    f.aliases = m.str("AVDID").filter(|a| *a != id).into_iter().collect();
    f.description = fingerprint::clean(match (message, m.text("Description")) {
        (Some(msg), Some(d)) => Some(format!("{msg}\n\n{d}")),
        (a, b) => a.or(b),
    });
    let mut refs: Vec<String> = m.str("PrimaryURL").into_iter().collect();
    refs.extend(m.strings("References"));
    f.references = dedup_keep_order(refs);
    f.tags = sorted(m.str("Type").into_iter().collect());
    f
}

fn read_secret(
    s: &Node<'_>,
    tool: &Tool,
    target: &str,
    resource: Option<&str>,
    document: &str,
) -> RawFinding {
    let id = s.str("RuleID").unwrap_or_else(|| "(no id)".into());
    let location = FileLocation {
        path: Some(normalize_path(target, &[])).filter(|p| !p.is_empty()),
        start_line: s.u64("StartLine").filter(|l| *l > 0),
        end_line: s.u64("EndLine").filter(|l| *l > 0),
        logical: resource.map(str::to_owned),
        ..Default::default()
    };
    let mut f = file_finding(FindingKind::Secret, tool, id, location, "", s, document);
    f.tags = sorted(s.str("Category").into_iter().collect());
    f
}

fn read_license(
    l: &Node<'_>,
    tool: &Tool,
    target: &str,
    kind_word: &str,
    document: &str,
) -> RawFinding {
    let name = l.str("Name").unwrap_or_else(|| "(unknown licence)".into());
    let pkg = l.str("PkgName");
    let file = l.str("FilePath").map(|p| normalize_path(&p, &[]));
    let (location, key) = match pkg {
        Some(p) => {
            let c = ComponentLocation {
                ecosystem: ecosystem_of(kind_word)
                    .or_else(|| ecosystem_of(target))
                    .map(|e| e.as_str().to_owned()),
                name: p,
                paths: file.into_iter().collect(),
                ..Default::default()
            };
            let key = component_key(&c);
            (Location::Component(c), key)
        }
        None => {
            let path = file.unwrap_or_else(|| normalize_path(target, &[]));
            (
                Location::File(FileLocation {
                    path: Some(path.clone()).filter(|p| !p.is_empty()),
                    ..Default::default()
                }),
                path,
            )
        }
    };
    let category = l.str("Category");
    RawFinding {
        fingerprint: located_fingerprint(FindingKind::License, tool, &[&name, &key]),
        fingerprint_basis: "licence+component".to_owned(),
        tool: tool.clone(),
        kind: FindingKind::License,
        title: Some(match &category {
            Some(c) => format!("Licence {name} ({c})"),
            None => format!("Licence {name}"),
        }),
        rule_id: name,
        aliases: Vec::new(),
        related: Vec::new(),
        description: None,
        severity: severity(l),
        location,
        cwes: Vec::new(),
        references: l.str("Link").into_iter().collect(),
        tags: category.into_iter().collect(),
        document: document.to_owned(),
        json_path: l.path.clone(),
        observed_at: None,
        suppressed: false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::Rating;

    #[test]
    fn reads_each_result_kind() {
        let doc = serde_json::json!({
            "SchemaVersion": 2, "ArtifactName": "img", "Trivy": {"Version": "0.50.0"},
            "Results": [
                {"Target": "app/package-lock.json", "Class": "lang-pkgs", "Type": "npm", "Vulnerabilities": [{
                    "VulnerabilityID": "CVE-2021-23337", "VendorIDs": ["GHSA-35jh-r3h4-6jhm"],
                    "PkgName": "lodash", "InstalledVersion": "4.17.20", "FixedVersion": "4.17.21, 5.0.0",
                    "Severity": "HIGH", "SeveritySource": "ghsa",
                    "CVSS": {"nvd": {"V3Vector": "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", "V3Score": 7.2}},
                    "CweIDs": ["CWE-94"]
                }]},
                {"Target": "Dockerfile", "Class": "config", "Misconfigurations": [
                    {"ID": "DS002", "AVDID": "AVD-DS-0002", "Status": "FAIL", "Severity": "HIGH", "Message": "root user",
                     "CauseMetadata": {"StartLine": 3, "EndLine": 3}},
                    {"ID": "DS001", "Status": "PASS"}
                ]},
                {"Target": "a.sh", "Class": "secret", "Secrets": [{"RuleID": "aws-access-key-id", "Severity": "CRITICAL", "StartLine": 2, "EndLine": 2}]},
                {"Target": "Java", "Class": "license", "Licenses": [{"Name": "GPL-3.0", "PkgName": "x:y", "Severity": "HIGH", "Category": "restricted"}]}
            ]
        });
        let i = import(&doc, "t.json").unwrap();
        assert_eq!(i.stats.results, 5);
        assert_eq!(i.stats.imported, 4);
        assert_eq!(i.tools[0].version.as_deref(), Some("0.50.0"));
        let v = &i.findings[0];
        assert_eq!(v.aliases, vec!["GHSA-35jh-r3h4-6jhm"]);
        let s = v.severity.as_ref().unwrap();
        assert_eq!((s.rating, s.score), (Some(Rating::High), Some(7.2)));
        match &v.location {
            Location::Component(c) => {
                assert_eq!(c.ecosystem.as_deref(), Some("npm"));
                assert_eq!(c.fixed_versions, vec!["4.17.21", "5.0.0"]);
                assert_eq!(c.paths, vec!["app/package-lock.json"]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(i.findings[1].kind, FindingKind::Misconfiguration);
        assert_eq!(i.findings[2].kind, FindingKind::Secret);
        assert_eq!(i.findings[3].kind, FindingKind::License);
    }

    #[test]
    fn legacy_array_and_errors() {
        let doc = serde_json::json!([{"Target": "x (debian 10)", "Vulnerabilities": [
            {"VulnerabilityID": "CVE-1", "PkgName": "a", "InstalledVersion": "1"}]}]);
        assert_eq!(import(&doc, "t").unwrap().findings.len(), 1);
        let bad = serde_json::json!({"SchemaVersion": 2, "Results": [{"Vulnerabilities": {}}]});
        assert_eq!(
            import(&bad, "t").unwrap_err().path(),
            Some("$.Results[0].Vulnerabilities")
        );
    }
}
