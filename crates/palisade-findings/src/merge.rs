//! Merging: many reports of one problem become one [`Finding`] that lists
//! every [`Source`].
//!
//! Vulnerabilities on components merge when they are on the same component
//! (by [`component_key`](crate::fingerprint::component_key): ecosystem,
//! normalised name and version, whatever purl qualifiers each tool wrote)
//! and their ids are connected: every report links its id with its aliases
//! (OSV `aliases`, Grype `relatedVulnerabilities`, Trivy `VendorIDs`), and a
//! union-find over all reports' ids makes the classes. CVE vs GHSA vs
//! distribution ids thus meet through whichever tool named both.
//!
//! One guard: a link that would put two *different* CVE ids into one class
//! is refused (and noted), because distribution advisories (`DSA-4539-1`,
//! `RHSA-...`) bundle several CVEs, and merging through them would make
//! distinct vulnerabilities one. OSV `related` ids are never links.
//!
//! The merged finding's id is the class's CVE when it has one, else its
//! GHSA, else the smallest id; its fingerprint is the component key and
//! that id. Everything else (code, misconfiguration, secret, licence, DAST,
//! runtime) merges by fingerprint.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::fingerprint::{component_key, hash};
use crate::model::{ComponentLocation, FindingKind, Location, RawFinding, Severity, Tool};

/// One problem, with every report of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The stable fingerprint: for vulnerabilities the component key and
    /// id; otherwise the sources' fingerprint.
    pub fingerprint: String,
    /// What kind of finding it is.
    pub kind: FindingKind,
    /// The id: the CVE (else GHSA, else smallest id) for vulnerabilities,
    /// the rule otherwise.
    pub id: String,
    /// Every other id the sources gave.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Related but distinct ids (OSV `related`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    /// A title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The most severe of the sources' severities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Where it is (for components: fixed versions and paths of every
    /// source together).
    pub location: Location,
    /// CWE ids of every source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cwes: Vec<String>,
    /// Reference URLs of every source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// The names of the tools that reported it, sorted.
    pub tools: Vec<String>,
    /// Every report.
    pub sources: Vec<Source>,
    /// The earliest observation time of a source (runtime events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    /// The latest observation time of a source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    /// Whether every source marked it suppressed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suppressed: bool,
}

/// One report of a finding by one tool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// The tool.
    pub tool: Tool,
    /// The rule or advisory id it used.
    pub rule_id: String,
    /// The aliases it gave.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Its own fingerprint of the result.
    pub fingerprint: String,
    /// The severity it gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// The location it gave.
    pub location: Location,
    /// The document.
    pub document: String,
    /// Where in the document.
    pub json_path: String,
    /// When it was observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_at: Option<String>,
    /// Whether it was marked suppressed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suppressed: bool,
}

impl Finding {
    /// The component key of a vulnerability's component.
    pub fn component_key(&self) -> Option<String> {
        match &self.location {
            Location::Component(c) => Some(component_key(c)),
            _ => None,
        }
    }

    /// The id and every alias.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    pub(crate) fn refresh_tools(&mut self) {
        self.tools = self
            .sources
            .iter()
            .map(|s| s.tool.name.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        self.suppressed = !self.sources.is_empty() && self.sources.iter().all(|s| s.suppressed);
        self.first_seen = self
            .sources
            .iter()
            .filter_map(|s| s.observed_at.clone())
            .min();
        self.last_seen = self
            .sources
            .iter()
            .filter_map(|s| s.observed_at.clone())
            .max();
    }
}

/// The result of [`merge`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Merged {
    /// Raw findings in.
    pub raw: usize,
    /// Findings out, most severe first.
    pub findings: Vec<Finding>,
    /// Alias links refused by the CVE guard, and other remarks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Normalised id for comparisons: trimmed, upper case.
pub(crate) fn id_key(id: &str) -> String {
    id.trim().to_ascii_uppercase()
}

fn is_cve(key: &str) -> bool {
    key.starts_with("CVE-")
}

/// Union-find over ids, refusing to join two different CVEs.
struct Classes {
    index: HashMap<String, usize>,
    parent: Vec<usize>,
    cves: Vec<BTreeSet<String>>,
    notes: Vec<String>,
}

impl Classes {
    fn new() -> Classes {
        Classes {
            index: HashMap::new(),
            parent: Vec::new(),
            cves: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn node(&mut self, key: &str) -> usize {
        if let Some(&i) = self.index.get(key) {
            return i;
        }
        let i = self.parent.len();
        self.parent.push(i);
        let mut cves = BTreeSet::new();
        if is_cve(key) {
            cves.insert(key.to_owned());
        }
        self.cves.push(cves);
        self.index.insert(key.to_owned(), i);
        i
    }

    fn find(&mut self, mut i: usize) -> usize {
        let mut root = i;
        while let Some(&p) = self.parent.get(root) {
            if p == root {
                break;
            }
            root = p;
        }
        while let Some(&p) = self.parent.get(i) {
            if p == root {
                break;
            }
            if let Some(slot) = self.parent.get_mut(i) {
                *slot = root;
            }
            i = p;
        }
        root
    }

    fn root_of(&mut self, key: &str) -> usize {
        let n = self.node(key);
        self.find(n)
    }

    /// Joins the classes of ids `a` and `b` (as written; compared by
    /// [`id_key`]).
    fn union(&mut self, a: &str, b: &str, why: &str) {
        let (ra, rb) = (self.root_of(&id_key(a)), self.root_of(&id_key(b)));
        if ra == rb {
            return;
        }
        let ca = self.cves.get(ra).cloned().unwrap_or_default();
        let cb = self.cves.get(rb).cloned().unwrap_or_default();
        if !ca.is_empty() && !cb.is_empty() && ca != cb {
            self.notes.push(format!(
                "not merging {a} with {b} ({why}): they name different CVEs ({} / {})",
                ca.iter().cloned().collect::<Vec<_>>().join(", "),
                cb.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
            return;
        }
        let (keep, gone) = if ra < rb { (ra, rb) } else { (rb, ra) };
        if let Some(slot) = self.parent.get_mut(gone) {
            *slot = keep;
        }
        let moved = self.cves.get(gone).cloned().unwrap_or_default();
        if let Some(set) = self.cves.get_mut(keep) {
            set.extend(moved);
        }
    }
}

/// The preferred id among `ids`: a CVE (lowest year and number), else a
/// GHSA, else the smallest.
pub(crate) fn preferred_id<'a>(ids: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    ids.into_iter().min_by_key(|id| {
        let k = id_key(id);
        let class = if is_cve(&k) {
            0
        } else if k.starts_with("GHSA-") {
            1
        } else {
            2
        };
        // CVE-YYYY-NNNN: compare numerically.
        let mut nums = (u64::MAX, u64::MAX);
        if class == 0 {
            let mut parts = k.split('-').skip(1);
            let y = parts
                .next()
                .and_then(|p| p.parse().ok())
                .unwrap_or(u64::MAX);
            let n = parts
                .next()
                .and_then(|p| p.parse().ok())
                .unwrap_or(u64::MAX);
            nums = (y, n);
        }
        (class, nums, k)
    })
}

/// Merges raw findings (from any number of documents and tools).
pub fn merge(raw: impl IntoIterator<Item = RawFinding>) -> Merged {
    let mut raw: Vec<RawFinding> = raw.into_iter().collect();
    let count = raw.len();
    // Deterministic whatever the input order.
    raw.sort_by(|a, b| {
        (&a.fingerprint, &a.tool.name, &a.document, &a.json_path).cmp(&(
            &b.fingerprint,
            &b.tool.name,
            &b.document,
            &b.json_path,
        ))
    });
    let (vulns, others): (Vec<RawFinding>, Vec<RawFinding>) = raw.into_iter().partition(|f| {
        f.kind == FindingKind::Vulnerability && matches!(f.location, Location::Component(_))
    });

    let mut classes = Classes::new();
    for f in &vulns {
        classes.node(&id_key(&f.rule_id));
        for a in &f.aliases {
            classes.union(&f.rule_id, a, &format!("from {}", f.tool.name));
        }
    }
    let keys = component_keys(&vulns);
    let mut groups: BTreeMap<(String, usize), Vec<RawFinding>> = BTreeMap::new();
    for (f, key) in vulns.into_iter().zip(keys) {
        let root = classes.root_of(&id_key(&f.rule_id));
        groups.entry((key, root)).or_default().push(f);
    }
    let mut findings: Vec<Finding> = Vec::new();
    for ((key, root), members) in groups {
        findings.push(vulnerability_finding(&key, root, members, &mut classes));
    }

    let mut by_fp: BTreeMap<(FindingKind, String), Vec<RawFinding>> = BTreeMap::new();
    for f in others {
        by_fp
            .entry((f.kind, f.fingerprint.clone()))
            .or_default()
            .push(f);
    }
    for ((_, fp), members) in by_fp {
        findings.push(other_finding(fp, members));
    }
    sort_findings(&mut findings);
    Merged {
        raw: count,
        findings,
        notes: classes.notes,
    }
}

/// Most severe first, then kind, id, location and fingerprint.
pub(crate) fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by_cached_key(|f| {
        (
            Reverse(f.severity.as_ref().map(Severity::rank)),
            f.kind,
            f.id.clone(),
            f.location.summary(),
            f.fingerprint.clone(),
        )
    });
}

/// Component keys, with `?/name@version` keys (no ecosystem known) folded
/// into the one known-ecosystem key of the same name and version, if there
/// is exactly one.
fn component_keys(vulns: &[RawFinding]) -> Vec<String> {
    let keys: Vec<String> = vulns
        .iter()
        .map(|f| match &f.location {
            Location::Component(c) => component_key(c),
            _ => String::new(),
        })
        .collect();
    let tail = |k: &str| -> String {
        k.split_once('/')
            .map(|(_, t)| t.to_lowercase())
            .unwrap_or_default()
    };
    let mut known: HashMap<String, BTreeSet<String>> = HashMap::new();
    for k in &keys {
        if !k.starts_with("?/") && !k.starts_with("purl-") {
            known.entry(tail(k)).or_default().insert(k.clone());
        }
    }
    keys.into_iter()
        .map(|k| {
            if k.starts_with("?/")
                && let Some(set) = known.get(&tail(&k))
                && set.len() == 1
                && let Some(only) = set.iter().next()
            {
                return only.clone();
            }
            k
        })
        .collect()
}

fn source_of(f: &RawFinding) -> Source {
    Source {
        tool: f.tool.clone(),
        rule_id: f.rule_id.clone(),
        aliases: f.aliases.clone(),
        fingerprint: f.fingerprint.clone(),
        severity: f.severity.clone(),
        location: f.location.clone(),
        document: f.document.clone(),
        json_path: f.json_path.clone(),
        observed_at: f.observed_at.clone(),
        suppressed: f.suppressed,
    }
}

fn max_severity(members: &[RawFinding]) -> Option<Severity> {
    members
        .iter()
        .filter_map(|m| m.severity.as_ref())
        .max_by_key(|s| s.rank())
        .cloned()
}

fn union_sorted<'a>(lists: impl IntoIterator<Item = &'a Vec<String>>) -> Vec<String> {
    lists
        .into_iter()
        .flatten()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn union_ordered<'a>(lists: impl IntoIterator<Item = &'a Vec<String>>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    lists
        .into_iter()
        .flatten()
        .filter(|s| seen.insert((*s).clone()))
        .take(100)
        .cloned()
        .collect()
}

fn vulnerability_finding(
    key: &str,
    root: usize,
    mut members: Vec<RawFinding>,
    classes: &mut Classes,
) -> Finding {
    // Tools in name order, so the first title or description is stable.
    members.sort_by(|a, b| {
        (&a.tool.name, &a.rule_id, &a.document, &a.json_path).cmp(&(
            &b.tool.name,
            &b.rule_id,
            &b.document,
            &b.json_path,
        ))
    });
    let all_ids: Vec<&str> = members.iter().flat_map(|m| m.ids()).collect();
    let in_class: Vec<&str> = all_ids
        .iter()
        .copied()
        .filter(|id| classes.root_of(&id_key(id)) == root)
        .collect();
    let id = preferred_id(in_class.iter().copied())
        .or_else(|| preferred_id(all_ids.iter().copied()))
        .unwrap_or_default()
        .trim()
        .to_owned();
    let idk = id_key(&id);
    let mut seen = BTreeSet::from([idk.clone()]);
    let mut aliases: Vec<String> = Vec::new();
    for a in &all_ids {
        if seen.insert(id_key(a)) {
            aliases.push(a.trim().to_owned());
        }
    }
    aliases.sort();
    let related: Vec<String> = union_sorted(members.iter().map(|m| &m.related))
        .into_iter()
        .filter(|r| !seen.contains(&id_key(r)))
        .collect();

    let mut component = ComponentLocation::default();
    let mut fixed: Vec<&Vec<String>> = Vec::new();
    let mut paths: Vec<&Vec<String>> = Vec::new();
    for m in &members {
        if let Location::Component(c) = &m.location {
            if component.purl.is_none() {
                component.purl.clone_from(&c.purl);
            }
            let better_eco = match (&component.ecosystem, &c.ecosystem) {
                (None, Some(_)) => true,
                (Some(a), Some(b)) => !a.contains(':') && b.contains(':'),
                _ => false,
            };
            if better_eco {
                component.ecosystem.clone_from(&c.ecosystem);
            }
            if component.name.is_empty() {
                component.name.clone_from(&c.name);
            }
            if component.version.is_none() {
                component.version.clone_from(&c.version);
            }
            if component.layer.is_none() {
                component.layer.clone_from(&c.layer);
            }
            fixed.push(&c.fixed_versions);
            paths.push(&c.paths);
        }
    }
    component.fixed_versions = union_sorted(fixed);
    component.paths = union_sorted(paths);

    let mut f = Finding {
        fingerprint: hash("vulnerability", &[key, &idk]),
        kind: FindingKind::Vulnerability,
        id,
        aliases,
        related,
        title: members.iter().find_map(|m| m.title.clone()),
        description: members.iter().find_map(|m| m.description.clone()),
        severity: max_severity(&members),
        location: Location::Component(component),
        cwes: union_sorted(members.iter().map(|m| &m.cwes)),
        references: union_ordered(members.iter().map(|m| &m.references)),
        tools: Vec::new(),
        sources: members.iter().map(source_of).collect(),
        first_seen: None,
        last_seen: None,
        suppressed: false,
    };
    f.refresh_tools();
    f
}

fn other_finding(fingerprint: String, mut members: Vec<RawFinding>) -> Finding {
    members.sort_by(|a, b| {
        (&a.tool.name, &a.document, &a.json_path).cmp(&(&b.tool.name, &b.document, &b.json_path))
    });
    let id = members
        .first()
        .map(|m| m.rule_id.clone())
        .unwrap_or_default();
    let idk = id_key(&id);
    let mut seen = BTreeSet::from([idk]);
    let mut aliases: Vec<String> = members
        .iter()
        .flat_map(|m| m.ids())
        .filter(|a| seen.insert(id_key(a)))
        .map(str::to_owned)
        .collect();
    aliases.sort();
    let kind = members.first().map_or(FindingKind::Code, |m| m.kind);
    let location = members
        .first()
        .map(|m| m.location.clone())
        .unwrap_or(Location::File(Default::default()));
    let mut f = Finding {
        fingerprint,
        kind,
        id,
        aliases,
        related: union_sorted(members.iter().map(|m| &m.related)),
        title: members.iter().find_map(|m| m.title.clone()),
        description: members.iter().find_map(|m| m.description.clone()),
        severity: max_severity(&members),
        location,
        cwes: union_sorted(members.iter().map(|m| &m.cwes)),
        references: union_ordered(members.iter().map(|m| &m.references)),
        tools: Vec::new(),
        sources: members.iter().map(source_of).collect(),
        first_seen: None,
        last_seen: None,
        suppressed: false,
    };
    f.refresh_tools();
    f
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::adapters::{VulnParts, tool, vulnerability};

    fn vuln(tool_name: &str, id: &str, aliases: &[&str], purl: &str) -> RawFinding {
        vulnerability(VulnParts {
            tool: tool(tool_name, None),
            id: id.into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            related: Vec::new(),
            title: None,
            description: None,
            severity: None,
            component: ComponentLocation {
                purl: Some(purl.into()),
                name: "x".into(),
                ..Default::default()
            },
            cwes: Vec::new(),
            references: Vec::new(),
            document: "d".into(),
            json_path: format!("$.{tool_name}"),
        })
    }

    #[test]
    fn aliases_join_across_tools() {
        let m = merge([
            vuln("Trivy", "CVE-2021-23337", &[], "pkg:npm/lodash@4.17.20"),
            vuln(
                "Grype",
                "GHSA-35jh-r3h4-6jhm",
                &["CVE-2021-23337"],
                "pkg:npm/lodash@4.17.20",
            ),
            vuln(
                "osv-scanner",
                "GHSA-35jh-r3h4-6jhm",
                &[],
                "pkg:npm/lodash@4.17.20",
            ),
            vuln("Trivy", "CVE-2021-23337", &[], "pkg:npm/lodash@4.17.19"),
        ]);
        assert_eq!(m.raw, 4);
        assert_eq!(m.findings.len(), 2);
        let f = m.findings.iter().find(|f| f.sources.len() == 3).unwrap();
        assert_eq!(f.id, "CVE-2021-23337");
        assert_eq!(f.aliases, vec!["GHSA-35jh-r3h4-6jhm"]);
        assert_eq!(f.tools, vec!["Grype", "Trivy", "osv-scanner"]);
    }

    #[test]
    fn distro_bundles_do_not_join_different_cves() {
        let m = merge([
            vuln(
                "Trivy",
                "CVE-2019-1547",
                &["DSA-4539-1"],
                "pkg:deb/debian/openssl@1.1.1c",
            ),
            vuln(
                "Trivy",
                "CVE-2019-1549",
                &["DSA-4539-1"],
                "pkg:deb/debian/openssl@1.1.1c",
            ),
        ]);
        assert_eq!(m.findings.len(), 2);
        assert_eq!(m.notes.len(), 1, "{:?}", m.notes);
    }

    #[test]
    fn preferred_ids() {
        assert_eq!(
            preferred_id(["GHSA-x", "CVE-2021-999", "CVE-2021-1000", "GO-1"]),
            Some("CVE-2021-999")
        );
        assert_eq!(preferred_id(["PYSEC-1", "GHSA-b"]), Some("GHSA-b"));
    }

    #[test]
    fn order_does_not_matter() {
        let a = vec![
            vuln("A", "CVE-1", &["GHSA-1"], "pkg:npm/a@1"),
            vuln("B", "GHSA-1", &["OSV-1"], "pkg:npm/a@1"),
            vuln("C", "OSV-1", &[], "pkg:npm/a@1"),
        ];
        let mut b = a.clone();
        b.reverse();
        assert_eq!(merge(a), merge(b));
    }
}
