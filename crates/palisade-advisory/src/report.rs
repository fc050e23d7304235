//! The scan report: Palisade's JSON document (described by
//! `docs/scan-output.schema.json`) and its SARIF 2.1.0 rendering.
//!
//! The design decision: one [`ScanReport`] value carries everything a scan
//! says (target, store freshness, summary, findings with every id and alias,
//! upgrades, components that could not be evaluated), and every output
//! format is a pure function of it, so that the table, JSON and SARIF views
//! can never disagree. Field order and list order are fixed (findings sorted
//! by component then id), so the same inputs give byte-identical documents.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::matcher::{Finding, MatchReport, NotEvaluated, Upgrade};
use crate::severity::Rating;

/// The version of the JSON document's shape.
pub const SCAN_SCHEMA_VERSION: &str = "1";

/// The scanned thing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Target {
    /// The path as given on the command line.
    pub path: String,
    /// The input format (`cyclonedx-json 1.4`, `palisade-inventory`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// The advisory data a scan used.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StoreInfo {
    /// Records in the store.
    pub advisories: usize,
    /// When the store was last written (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub written_at: Option<String>,
    /// The newest `modified` time of any record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest_modified: Option<String>,
}

/// Counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Components in the input.
    pub components: usize,
    /// Components resolved and looked up.
    pub evaluated: usize,
    /// Components that could not be evaluated.
    pub not_evaluated: usize,
    /// Components with at least one finding.
    pub affected_components: usize,
    /// Findings.
    pub findings: usize,
    /// Findings per rating (`critical`, `high`, `medium`, `low`, `none`,
    /// `unknown`); every key is present.
    pub by_severity: BTreeMap<String, usize>,
}

/// Everything a scan says.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScanReport {
    /// [`SCAN_SCHEMA_VERSION`].
    pub schema_version: &'static str,
    /// The tool (`palisade` and its version).
    pub tool: Tool,
    /// The scanned thing.
    pub target: Target,
    /// The advisory data used.
    pub store: StoreInfo,
    /// Counts.
    pub summary: Summary,
    /// The findings.
    pub findings: Vec<Finding>,
    /// The smallest fixing upgrade per affected component.
    pub upgrades: Vec<Upgrade>,
    /// Components that could not be evaluated, and why.
    pub not_evaluated: Vec<NotEvaluated>,
}

/// The producing tool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tool {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
}

impl ScanReport {
    /// Builds the report from a match.
    pub fn new(tool: Tool, target: Target, store: StoreInfo, matched: MatchReport) -> ScanReport {
        let mut by_severity: BTreeMap<String, usize> =
            ["critical", "high", "medium", "low", "none", "unknown"]
                .into_iter()
                .map(|k| (k.to_owned(), 0))
                .collect();
        for f in &matched.findings {
            let key = f.severity.as_ref().map_or("unknown", |s| s.rating.as_str());
            *by_severity.entry(key.to_owned()).or_default() += 1;
        }
        let summary = Summary {
            components: matched.components,
            evaluated: matched.evaluated,
            not_evaluated: matched.not_evaluated.len(),
            affected_components: matched.upgrades.len(),
            findings: matched.findings.len(),
            by_severity,
        };
        ScanReport {
            schema_version: SCAN_SCHEMA_VERSION,
            tool,
            target,
            store,
            summary,
            findings: matched.findings,
            upgrades: matched.upgrades,
            not_evaluated: matched.not_evaluated,
        }
    }

    /// Whether any finding is rated at or above `threshold`. Findings
    /// without a rating count as below every threshold except `none`.
    pub fn has_findings_at_or_above(&self, threshold: Rating) -> bool {
        self.findings.iter().any(|f| match &f.severity {
            Some(s) => s.rating >= threshold,
            None => threshold == Rating::None,
        })
    }

    /// The SARIF 2.1.0 log: one rule per finding id, one result per finding.
    pub fn to_sarif(&self) -> Value {
        let mut rules: BTreeMap<&str, Value> = BTreeMap::new();
        for f in &self.findings {
            rules.entry(f.id.as_str()).or_insert_with(|| rule(f));
        }
        let rule_index: BTreeMap<&str, usize> =
            rules.keys().enumerate().map(|(i, k)| (*k, i)).collect();
        let results: Vec<Value> = self
            .findings
            .iter()
            .map(|f| {
                let level = level(f.severity.as_ref().map(|s| s.rating));
                let who = f
                    .component
                    .purl
                    .clone()
                    .unwrap_or_else(|| f.component.name.clone());
                let version = f.component.version.as_deref().unwrap_or("?");
                let mut text = format!("{who} {version} is affected by {}", f.ids.join(", "));
                if !f.aliases.is_empty() {
                    text.push_str(&format!(" (aliases: {})", f.aliases.join(", ")));
                }
                match &f.fix {
                    Some(fix) => text.push_str(&format!("; fixed in {fix}")),
                    None => text.push_str("; no fixed version is known"),
                }
                json!({
                    "ruleId": f.id,
                    "ruleIndex": rule_index.get(f.id.as_str()).copied().unwrap_or(0),
                    "level": level,
                    "message": { "text": text },
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": { "uri": uri(&self.target.path) }
                        },
                        "logicalLocations": [{
                            "name": who,
                            "fullyQualifiedName": format!("{who}@{version}"),
                            "kind": "package"
                        }]
                    }],
                    "partialFingerprints": {
                        "palisadeFinding/v1": format!("{}|{}|{}", f.id, who, version)
                    },
                    "properties": {
                        "ids": f.ids,
                        "aliases": f.aliases,
                        "fixedVersions": f.fixed_versions,
                    }
                })
            })
            .collect();
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {
                    "driver": {
                        "name": self.tool.name,
                        "version": self.tool.version,
                        "semanticVersion": self.tool.version,
                        "rules": rules.into_values().collect::<Vec<_>>(),
                    }
                },
                "artifacts": [{ "location": { "uri": uri(&self.target.path) } }],
                "results": results,
            }]
        })
    }
}

/// SARIF wants a URI reference: forward slashes, spaces and the like
/// percent-encoded.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn level(rating: Option<Rating>) -> &'static str {
    match rating {
        Some(Rating::Critical | Rating::High) => "error",
        Some(Rating::Medium) => "warning",
        _ => "note",
    }
}

fn rule(f: &Finding) -> Value {
    let short = f.summary.clone().unwrap_or_else(|| f.id.clone());
    let mut props = json!({ "tags": ["security", "vulnerability"] });
    if let (Some(s), Some(obj)) = (&f.severity, props.as_object_mut()) {
        if let Some(score) = s.score {
            // GitHub code scanning reads this as the CVSS base score.
            obj.insert("security-severity".into(), json!(format!("{score:.1}")));
        }
        obj.insert("severity".into(), json!(s.rating.as_str()));
        obj.insert("vector".into(), json!(s.vector));
    }
    json!({
        "id": f.id,
        "shortDescription": { "text": short },
        "fullDescription": { "text": format!("{} ({})", short, f.ids.iter().chain(&f.aliases).cloned().collect::<Vec<_>>().join(", ")) },
        "helpUri": format!("https://osv.dev/vulnerability/{}", f.id),
        "help": { "text": match &f.fix {
            Some(fix) => format!("Upgrade to {fix} or later."),
            None => "No fixed version is known.".to_owned(),
        }},
        "defaultConfiguration": { "level": level(f.severity.as_ref().map(|s| s.rating)) },
        "properties": props,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_encoded() {
        assert_eq!(uri("a b\\c.json"), "a%20b/c.json");
    }

    #[test]
    fn empty_report_is_valid_sarif_shape() {
        let r = ScanReport::new(
            Tool {
                name: "palisade".into(),
                version: "0".into(),
            },
            Target {
                path: "bom.json".into(),
                format: None,
            },
            StoreInfo::default(),
            MatchReport::default(),
        );
        let s = r.to_sarif();
        assert_eq!(s["version"], "2.1.0");
        assert_eq!(s["runs"][0]["results"].as_array().unwrap().len(), 0);
        assert_eq!(r.summary.by_severity.len(), 6);
        assert!(!r.has_findings_at_or_above(Rating::Low));
    }
}
