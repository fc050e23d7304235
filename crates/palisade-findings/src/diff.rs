//! Comparing a new scan with an artifact's previous findings.
//!
//! Given the previous (merged) findings of an artifact and a new scan from
//! one tool, every finding ends up in exactly one bucket:
//!
//! - **new**: the scan reports it and no previous finding matches it;
//! - **still present**: the scan reports it and a previous finding matches
//!   (same fingerprint, or for vulnerabilities the same component and a
//!   shared id, so that a newly learnt alias does not make it new). It keeps
//!   the previous fingerprint, and the previous sources from other tools;
//! - **resolved**: a previous finding that only the scanned tool reported,
//!   and that the scan no longer reports, with the reason
//!   `no longer reported by <tool> scan at <time>`;
//! - **unchanged**: previous findings the scan has no say on (other tools'
//!   findings), including those the scanned tool dropped but another tool
//!   still reports (the scanned tool's sources are removed from them).

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::merge::{Finding, id_key, merge, sort_findings};
use crate::model::{FindingKind, Import};

/// A finding that a newer scan no longer reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resolved {
    /// The finding as it was.
    pub finding: Finding,
    /// Why it is resolved.
    pub reason: String,
    /// When (the scan time given).
    pub resolved_at: String,
}

/// The buckets of [`diff`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanDiff {
    /// The scanned tools' names.
    pub tools: Vec<String>,
    /// The scan time.
    pub at: String,
    /// Reported now, not before.
    pub new: Vec<Finding>,
    /// Reported before and now (updated from the scan).
    pub still_present: Vec<Finding>,
    /// Reported before by this tool only, not any more.
    pub resolved: Vec<Resolved>,
    /// Previous findings the scan does not decide.
    pub unchanged: Vec<Finding>,
}

/// Compares `scan` (one tool's new scan of an artifact, taken at `at`) with
/// the artifact's `previous` findings.
pub fn diff(previous: &[Finding], scan: &Import, at: &str) -> ScanDiff {
    let current = merge(scan.findings.iter().cloned()).findings;
    let tools: Vec<String> = scan.tools.iter().map(|t| t.name.clone()).collect();
    diff_findings(previous, current, &tools, at)
}

/// [`diff`] on already merged findings of the scan, with the scanned tools'
/// names.
pub fn diff_findings(
    previous: &[Finding],
    current: Vec<Finding>,
    scan_tools: &[String],
    at: &str,
) -> ScanDiff {
    let scanned: BTreeSet<String> = scan_tools.iter().map(|t| t.trim().to_lowercase()).collect();
    let by_scan = |name: &str| scanned.contains(&name.trim().to_lowercase());

    // Index previous findings by fingerprint and by (component, id).
    let mut by_fp: HashMap<&str, usize> = HashMap::new();
    let mut by_component_id: HashMap<(String, String), Vec<usize>> = HashMap::new();
    for (i, p) in previous.iter().enumerate() {
        by_fp.entry(p.fingerprint.as_str()).or_insert(i);
        if p.kind == FindingKind::Vulnerability
            && let Some(key) = p.component_key()
        {
            for id in p.ids() {
                by_component_id
                    .entry((key.clone(), id_key(id)))
                    .or_default()
                    .push(i);
            }
        }
    }
    let mut matched = vec![false; previous.len()];
    let mut out = ScanDiff {
        tools: scan_tools.to_vec(),
        at: at.to_owned(),
        ..Default::default()
    };
    for c in current {
        let mut hit = by_fp
            .get(c.fingerprint.as_str())
            .copied()
            .filter(|&i| !matched.get(i).copied().unwrap_or(true));
        if hit.is_none()
            && c.kind == FindingKind::Vulnerability
            && let Some(key) = c.component_key()
        {
            hit = c
                .ids()
                .filter_map(|id| by_component_id.get(&(key.clone(), id_key(id))))
                .flatten()
                .copied()
                .find(|&i| !matched.get(i).copied().unwrap_or(true));
        }
        match hit.and_then(|i| previous.get(i).map(|p| (i, p))) {
            Some((i, p)) => {
                if let Some(m) = matched.get_mut(i) {
                    *m = true;
                }
                out.still_present.push(carry_over(p, c, &by_scan));
            }
            None => out.new.push(c),
        }
    }
    for (i, p) in previous.iter().enumerate() {
        if matched.get(i).copied().unwrap_or(false) {
            continue;
        }
        let reported_by_scan: Vec<&str> = p
            .sources
            .iter()
            .map(|s| s.tool.name.as_str())
            .filter(|t| by_scan(t))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if reported_by_scan.is_empty() {
            out.unchanged.push(p.clone());
        } else if p.sources.iter().all(|s| by_scan(&s.tool.name)) {
            out.resolved.push(Resolved {
                finding: p.clone(),
                reason: format!(
                    "no longer reported by {} scan at {at}",
                    reported_by_scan.join(", ")
                ),
                resolved_at: at.to_owned(),
            });
        } else {
            let mut kept = p.clone();
            kept.sources.retain(|s| !by_scan(&s.tool.name));
            kept.refresh_tools();
            out.unchanged.push(kept);
        }
    }
    sort_findings(&mut out.new);
    sort_findings(&mut out.still_present);
    sort_findings(&mut out.unchanged);
    out
}

/// The current finding, keeping the previous identity and the previous
/// sources from tools other than the scanned ones.
fn carry_over(previous: &Finding, current: Finding, by_scan: &dyn Fn(&str) -> bool) -> Finding {
    let mut f = current;
    f.fingerprint.clone_from(&previous.fingerprint);
    let others: Vec<_> = previous
        .sources
        .iter()
        .filter(|s| !by_scan(&s.tool.name))
        .cloned()
        .collect();
    f.sources.extend(others);
    let mut ids: BTreeSet<String> = f.aliases.iter().cloned().collect();
    ids.extend(previous.ids().map(str::to_owned));
    let own = id_key(&f.id);
    let mut seen = BTreeSet::from([own]);
    f.aliases = ids.into_iter().filter(|a| seen.insert(id_key(a))).collect();
    f.refresh_tools();
    f
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::adapters::{VulnParts, new_import, tool, vulnerability};
    use crate::model::{ComponentLocation, Format, RawFinding};

    fn vuln(tool_name: &str, id: &str, aliases: &[&str]) -> RawFinding {
        vulnerability(VulnParts {
            tool: tool(tool_name, None),
            id: id.into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            related: Vec::new(),
            title: None,
            description: None,
            severity: None,
            component: ComponentLocation {
                purl: Some("pkg:npm/a@1".into()),
                name: "a".into(),
                ..Default::default()
            },
            cwes: Vec::new(),
            references: Vec::new(),
            document: "d".into(),
            json_path: "$".into(),
        })
    }

    fn scan(tool_name: &str, findings: Vec<RawFinding>) -> Import {
        let mut i = new_import("scan", Format::Trivy);
        i.tools.push(tool(tool_name, None));
        i.findings = findings;
        i
    }

    #[test]
    fn new_still_present_resolved_unchanged() {
        let previous = merge([
            vuln("Trivy", "CVE-1", &[]),
            vuln("Trivy", "CVE-2", &[]),
            vuln("Trivy", "CVE-3", &[]),
            vuln("Grype", "CVE-3", &[]),
            vuln("Grype", "CVE-4", &[]),
        ])
        .findings;
        let d = diff(
            &previous,
            &scan(
                "Trivy",
                vec![
                    vuln("Trivy", "GHSA-1", &["CVE-1"]),
                    vuln("Trivy", "CVE-5", &[]),
                ],
            ),
            "2024-06-01T00:00:00Z",
        );
        let ids = |v: &[Finding]| v.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&d.new), vec!["CVE-5"]);
        assert_eq!(ids(&d.still_present), vec!["CVE-1"]);
        assert_eq!(d.still_present[0].aliases, vec!["GHSA-1"]);
        assert_eq!(d.resolved.len(), 1);
        assert_eq!(d.resolved[0].finding.id, "CVE-2");
        assert_eq!(
            d.resolved[0].reason,
            "no longer reported by Trivy scan at 2024-06-01T00:00:00Z"
        );
        assert_eq!(ids(&d.unchanged), vec!["CVE-3", "CVE-4"]);
        let cve3 = d.unchanged.iter().find(|f| f.id == "CVE-3").unwrap();
        assert_eq!(cve3.tools, vec!["Grype"]);
    }
}
