//! The matcher: components in, findings out.
//!
//! The design decision: every `affected[]` entry is compiled once, with the
//! shared evaluator of `palisade_versions::range` (the same code the
//! versions crate's corpus consistency test exercises), and filed under its
//! *package key*: the ecosystem and the name after
//! [`palisade_inventory::purl::normalize_name`]. A component is resolved to
//! the same key (from its purl, or its ecosystem and name; for Debian-
//! and Alpine-family packages, its source package, because those OSV records
//! name source packages), its version is parsed once, and matching is one
//! hash lookup plus a binary search per candidate entry, with no allocation
//! unless something matches.
//!
//! OS releases: an entry of `Debian:12` matches only components whose
//! release is 12; a component whose release is unknown matches entries of
//! every release (a visible over-approximation, never a silent miss).
//!
//! Findings of one component whose advisories are aliases of each other
//! (sharing an id or an alias, transitively) collapse into one finding that
//! lists every id. Withdrawn advisories are never indexed.
//!
//! Fixes: for each finding the smallest `fixed` version above the installed
//! one that none of the finding's advisories affects; for each component the
//! smallest upgrade that fixes all of its findings, preferring one that no
//! other known advisory of the package affects.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use palisade_inventory::purl::{self, normalize_name, normalize_release};
use palisade_inventory::{Component, Distro, Inventory};
use palisade_versions::range::{AffectedBy, AffectedRanges};
use palisade_versions::{Ecosystem, Scheme, Version};
use serde::{Deserialize, Serialize};

use crate::osv::{Advisory, Affected, Event};
use crate::severity::{self, Severity};

/// The coordinates an `affected[]` entry or a component is filed under.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PackageKey {
    /// The ecosystem.
    #[serde(with = "eco_serde")]
    pub ecosystem: Ecosystem,
    /// The normalised OS release (`12` for `Debian:12`), when the entry has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// The normalised name.
    pub name: String,
}

impl PackageKey {
    /// The key of an `affected[]` entry, or `None` when its ecosystem is unknown.
    pub fn of(affected: &Affected) -> Option<PackageKey> {
        let spec = affected.ecosystem_spec()?;
        let release = spec
            .release
            .as_deref()
            .and_then(|r| normalize_release(spec.ecosystem, r));
        Some(PackageKey {
            ecosystem: spec.ecosystem,
            release,
            name: normalize_name(spec.ecosystem, &affected.name).into_owned(),
        })
    }
}

impl fmt::Display for PackageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.release {
            Some(r) => write!(f, "{}:{}/{}", self.ecosystem, r, self.name),
            None => write!(f, "{}/{}", self.ecosystem, self.name),
        }
    }
}

mod eco_serde {
    //! Ecosystems are written by their OSV names.
    use palisade_versions::Ecosystem;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(e: &Ecosystem, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(e.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Ecosystem, D::Error> {
        let s = String::deserialize(d)?;
        Ecosystem::from_osv_name(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown ecosystem {s:?}")))
    }
}

/// A component resolved for matching.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// The ecosystem.
    pub ecosystem: Ecosystem,
    /// The normalised release, when known.
    pub release: Option<String>,
    /// The normalised name looked up (the source package for Debian- and
    /// Alpine-family packages).
    pub name: String,
    /// The version, parsed for the ecosystem.
    pub version: Version,
    /// The version as written.
    pub version_string: String,
}

impl Query {
    /// Builds a query from parts, normalising the name and release.
    pub fn new(
        ecosystem: Ecosystem,
        release: Option<&str>,
        name: &str,
        version: &str,
    ) -> Result<Query, String> {
        let parsed = parse_version(ecosystem, version)?;
        Ok(Query {
            ecosystem,
            release: release.and_then(|r| normalize_release(ecosystem, r)),
            name: normalize_name(ecosystem, name).into_owned(),
            version: parsed,
            version_string: version.to_owned(),
        })
    }
}

fn parse_version(ecosystem: Ecosystem, s: &str) -> Result<Version, String> {
    match Version::parse(ecosystem, s) {
        Ok(v) => Ok(v),
        Err(e) => {
            // OSV writes Go versions without the `v` Go requires.
            if ecosystem.scheme() == Scheme::Go
                && !s.starts_with('v')
                && let Ok(v) = Version::parse(ecosystem, &format!("v{s}"))
            {
                return Ok(v);
            }
            Err(e.to_string())
        }
    }
}

/// Ecosystems whose OSV records name source packages.
fn uses_source_packages(ecosystem: Ecosystem) -> bool {
    matches!(ecosystem.scheme(), Scheme::Dpkg | Scheme::Apk)
}

/// Whether an `os-release` id belongs to an ecosystem.
fn distro_matches(ecosystem: Ecosystem, id: &str) -> bool {
    let id = id.to_ascii_lowercase();
    match ecosystem {
        Ecosystem::Debian => id == "debian",
        Ecosystem::Ubuntu => id == "ubuntu",
        Ecosystem::Alpine => id == "alpine",
        Ecosystem::AlmaLinux => id == "almalinux",
        Ecosystem::RockyLinux => id == "rocky",
        _ => false,
    }
}

/// Resolves a component to a query: where the ecosystem, name and version
/// come from, or why it cannot be matched.
pub fn resolve(component: &Component, distro: Option<&Distro>) -> Result<Query, String> {
    let parsed = match &component.purl {
        Some(p) => Some(purl::parse(p).map_err(|e| e.to_string())?),
        None => None,
    };
    let ecosystem = parsed
        .as_ref()
        .and_then(|p| p.ecosystem)
        .or(component.ecosystem)
        .ok_or_else(|| match &parsed {
            Some(p) => format!(
                "purl type {:?} (namespace included) maps to no OSV ecosystem",
                p.purl_type
            ),
            None => "no purl and no ecosystem".to_owned(),
        })?;
    let mut release = parsed.as_ref().and_then(|p| p.release.clone());
    if release.is_none()
        && let Some(d) = distro
        && distro_matches(ecosystem, &d.id)
    {
        release = d
            .version_id
            .as_deref()
            .and_then(|v| normalize_release(ecosystem, v));
    }
    let version = parsed
        .as_ref()
        .and_then(|p| p.version.clone())
        .or_else(|| component.version.clone());
    let source = component
        .source_package
        .clone()
        .or_else(|| parsed.as_ref().and_then(|p| p.source.clone()))
        .filter(|_| uses_source_packages(ecosystem));
    let (name, version) = match source {
        Some(s) => (s.name, s.version.or(version)),
        None => (
            parsed
                .as_ref()
                .map(|p| p.name.clone())
                .unwrap_or_else(|| component.name.clone()),
            version,
        ),
    };
    let version = version.ok_or_else(|| "no version".to_owned())?;
    let parsed_version = parse_version(ecosystem, &version)?;
    Ok(Query {
        ecosystem,
        release,
        name: normalize_name(ecosystem, &name).into_owned(),
        version: parsed_version,
        version_string: version,
    })
}

/// One compiled `affected[]` entry in the index.
#[derive(Debug)]
struct Entry {
    advisory: u32,
    affected: u32,
    release: Option<String>,
    ranges: AffectedRanges,
}

/// An entry that could not be compiled: it never matches, and says why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unmatchable {
    /// The advisory id.
    pub id: String,
    /// The JSON path of the entry (`affected[2]`).
    pub path: String,
    /// Why.
    pub reason: String,
}

/// The in-memory index of compiled advisories.
#[derive(Debug, Default)]
pub struct Matcher {
    advisories: Vec<Arc<Advisory>>,
    index: HashMap<Ecosystem, HashMap<String, Vec<Entry>>>,
    unmatchable: Vec<Unmatchable>,
}

/// A raw hit: an `affected[]` entry that contains the queried version.
#[derive(Clone, Copy, Debug)]
pub struct Hit<'a> {
    /// The advisory.
    pub advisory: &'a Advisory,
    /// The entry.
    pub affected: &'a Affected,
    /// Why it matched.
    pub by: AffectedBy<'a>,
}

impl Matcher {
    /// Compiles and indexes advisories. Withdrawn ones are left out.
    pub fn new(advisories: impl IntoIterator<Item = Advisory>) -> Matcher {
        let mut m = Matcher::default();
        for a in advisories {
            m.add(a);
        }
        m
    }

    fn add(&mut self, advisory: Advisory) {
        if advisory.is_withdrawn() {
            return;
        }
        let Ok(index) = u32::try_from(self.advisories.len()) else {
            return;
        };
        for (i, affected) in advisory.affected.iter().enumerate() {
            let Some(key) = PackageKey::of(affected) else {
                continue;
            };
            match affected.compile() {
                Ok(ranges) => self
                    .index
                    .entry(key.ecosystem)
                    .or_default()
                    .entry(key.name)
                    .or_default()
                    .push(Entry {
                        advisory: index,
                        affected: u32::try_from(i).unwrap_or(u32::MAX),
                        release: key.release,
                        ranges,
                    }),
                Err(reason) => self.unmatchable.push(Unmatchable {
                    id: advisory.id.clone(),
                    path: format!("affected[{}]", affected.index),
                    reason,
                }),
            }
        }
        self.advisories.push(Arc::new(advisory));
    }

    /// How many advisories are indexed.
    pub fn len(&self) -> usize {
        self.advisories.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.advisories.is_empty()
    }

    /// Entries that can never match, and why.
    pub fn unmatchable(&self) -> &[Unmatchable] {
        &self.unmatchable
    }

    /// The indexed advisories.
    pub fn advisories(&self) -> impl Iterator<Item = &Advisory> {
        self.advisories.iter().map(|a| a.as_ref())
    }

    fn entries(&self, q: &Query) -> impl Iterator<Item = &Entry> {
        self.index
            .get(&q.ecosystem)
            .and_then(|m| m.get(q.name.as_str()))
            .into_iter()
            .flatten()
            .filter(move |e| match (&e.release, &q.release) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            })
    }

    fn hit<'a>(&'a self, e: &'a Entry, by: AffectedBy<'a>) -> Option<Hit<'a>> {
        let advisory = self.advisories.get(e.advisory as usize)?;
        let affected = advisory.affected.get(e.affected as usize)?;
        Some(Hit {
            advisory,
            affected,
            by,
        })
    }

    /// Every entry containing the queried version.
    pub fn match_query<'a>(&'a self, q: &Query) -> Vec<Hit<'a>> {
        let mut hits = Vec::new();
        for e in self.entries(q) {
            if let Some(by) = e.ranges.evaluate(&q.version).affected_by
                && let Some(h) = self.hit(e, by)
            {
                hits.push(h);
            }
        }
        hits
    }

    /// Whether any entry contains the queried version (the fastest path).
    pub fn is_affected(&self, q: &Query) -> bool {
        self.entries(q).any(|e| e.ranges.is_affected(&q.version))
    }

    /// The package keys an advisory touches (the reverse index), sorted.
    pub fn package_keys(&self, id: &str) -> Vec<PackageKey> {
        self.advisories
            .iter()
            .filter(|a| a.id == id)
            .flat_map(|a| a.affected.iter().filter_map(PackageKey::of))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// Matches one component whose query is already resolved (re-analysis of
    /// stored components): its findings, aliases collapsed, and the smallest
    /// upgrade that fixes them.
    pub fn match_component(
        &self,
        component: &Component,
        query: &Query,
    ) -> (Vec<Finding>, Option<Upgrade>) {
        let hits = self.match_query(query);
        if hits.is_empty() {
            return (Vec::new(), None);
        }
        let cref = ComponentRef::new(component, Some(query));
        self.findings(&cref, query, &hits)
    }

    /// Matches every component of an inventory.
    pub fn match_inventory(&self, inventory: &Inventory) -> MatchReport {
        let distro = inventory.metadata.distro.as_ref();
        let mut report = MatchReport {
            components: inventory.components.len(),
            ..MatchReport::default()
        };
        for c in &inventory.components {
            let query = match resolve(c, distro) {
                Ok(q) => q,
                Err(reason) => {
                    report.not_evaluated.push(NotEvaluated {
                        component: ComponentRef::new(c, None),
                        reason,
                    });
                    continue;
                }
            };
            report.evaluated += 1;
            let hits = self.match_query(&query);
            if hits.is_empty() {
                continue;
            }
            let cref = ComponentRef::new(c, Some(&query));
            let (findings, upgrade) = self.findings(&cref, &query, &hits);
            report.findings.extend(findings);
            if let Some(u) = upgrade {
                report.upgrades.push(u);
            }
        }
        report.sort();
        report
    }

    fn findings(
        &self,
        component: &ComponentRef,
        query: &Query,
        hits: &[Hit<'_>],
    ) -> (Vec<Finding>, Option<Upgrade>) {
        // Hits per advisory id (one advisory may match through two entries).
        let mut by_id: BTreeMap<&str, Vec<&Hit<'_>>> = BTreeMap::new();
        for h in hits {
            by_id.entry(h.advisory.id.as_str()).or_default().push(h);
        }
        let ids: Vec<&str> = by_id.keys().copied().collect();
        // Union-find over alias overlap.
        let mut parent: Vec<usize> = (0..ids.len()).collect();
        fn find(p: &mut [usize], mut i: usize) -> usize {
            while let Some(&next) = p.get(i) {
                if next == i {
                    break;
                }
                i = next;
            }
            i
        }
        let names: Vec<BTreeSet<&str>> = ids
            .iter()
            .map(|id| {
                let a = by_id.get(id).and_then(|v| v.first()).map(|h| h.advisory);
                std::iter::once(*id)
                    .chain(
                        a.into_iter()
                            .flat_map(|a| a.aliases.iter().map(String::as_str)),
                    )
                    .collect()
            })
            .collect();
        for i in 0..ids.len() {
            for j in (i + 1)..ids.len() {
                let (Some(a), Some(b)) = (names.get(i), names.get(j)) else {
                    continue;
                };
                if !a.is_disjoint(b) {
                    let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                    if ri != rj
                        && let Some(slot) = parent.get_mut(rj.max(ri))
                    {
                        *slot = ri.min(rj);
                    }
                }
            }
        }
        let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for i in 0..ids.len() {
            let root = find(&mut parent, i);
            groups.entry(root).or_default().push(i);
        }

        let mut findings = Vec::new();
        let mut all_fixes: Vec<&str> = Vec::new();
        for members in groups.values() {
            let member_hits: Vec<&Hit<'_>> = members
                .iter()
                .filter_map(|i| ids.get(*i))
                .filter_map(|id| by_id.get(id))
                .flatten()
                .copied()
                .collect();
            let Some(first) = member_hits.first() else {
                continue;
            };
            let mut group_ids: Vec<String> = members
                .iter()
                .filter_map(|i| ids.get(*i))
                .map(|s| (*s).to_owned())
                .collect();
            group_ids.sort();
            let primary = group_ids.first().cloned().unwrap_or_default();
            let aliases: Vec<String> = members
                .iter()
                .filter_map(|i| names.get(*i))
                .flatten()
                .filter(|n| **n != primary)
                .map(|n| (*n).to_owned())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let severity = member_hits
                .iter()
                .filter_map(|h| severity::assess(h.advisory, Some(h.affected)))
                .max_by(|a, b| {
                    a.rating
                        .cmp(&b.rating)
                        .then(a.score.unwrap_or(0.0).total_cmp(&b.score.unwrap_or(0.0)))
                });
            let summary = member_hits
                .iter()
                .find(|h| h.advisory.id == primary)
                .or(Some(first))
                .and_then(|h| h.advisory.summary.clone())
                .or_else(|| member_hits.iter().find_map(|h| h.advisory.summary.clone()));
            let entries: Vec<&Entry> = member_hits
                .iter()
                .filter_map(|h| self.entry_of(query, h))
                .collect();
            let fixed_strings: Vec<&str> = entries
                .iter()
                .flat_map(|e| e.ranges.fixed_versions())
                .collect();
            all_fixes.extend(fixed_strings.iter().copied());
            let fixed_versions = sorted_versions(query.ecosystem, &fixed_strings);
            let fix = smallest_clearing(query, &fixed_strings, &entries, &[]).map(|(v, _)| v);
            let matches = member_hits.iter().map(|h| MatchedRange::new(h)).collect();
            findings.push(Finding {
                component: component.clone(),
                id: primary,
                ids: group_ids,
                aliases,
                summary,
                severity,
                matches,
                fixed_versions,
                fix,
            });
        }

        // The component's upgrade: clears every finding, preferably every
        // other advisory of the package too.
        let current: Vec<&Entry> = hits
            .iter()
            .filter_map(|h| self.entry_of(query, h))
            .collect();
        let others: Vec<&Entry> = self.entries(query).collect();
        for e in &others {
            all_fixes.extend(e.ranges.fixed_versions());
        }
        let upgrade = smallest_clearing(query, &all_fixes, &current, &others).map(|(to, clean)| {
            let also: BTreeSet<String> = if clean {
                BTreeSet::new()
            } else {
                parse_version(query.ecosystem, &to)
                    .ok()
                    .map(|v| {
                        others
                            .iter()
                            .filter(|e| e.ranges.is_affected(&v))
                            .filter_map(|e| self.advisories.get(e.advisory as usize))
                            .map(|a| a.id.clone())
                            .collect()
                    })
                    .unwrap_or_default()
            };
            (Some(to), also)
        });
        let (to, also) = upgrade.unwrap_or((None, BTreeSet::new()));
        let upgrade = Upgrade {
            component: component.clone(),
            current: query.version_string.clone(),
            to,
            fixes: findings.iter().map(|f| f.id.clone()).collect(),
            still_affected_by: also.into_iter().collect(),
        };
        (findings, Some(upgrade))
    }

    fn entry_of(&self, query: &Query, hit: &Hit<'_>) -> Option<&Entry> {
        self.entries(query).find(|e| {
            self.advisories
                .get(e.advisory as usize)
                .is_some_and(|a| std::ptr::eq(a.as_ref(), hit.advisory))
                && hit
                    .advisory
                    .affected
                    .get(e.affected as usize)
                    .is_some_and(|a| std::ptr::eq(a, hit.affected))
        })
    }
}

/// Sorts version strings by the ecosystem's order, dropping duplicates;
/// strings that do not parse go last, as written.
fn sorted_versions(ecosystem: Ecosystem, list: &[&str]) -> Vec<String> {
    let mut parsed: Vec<(Option<Version>, &str)> = list
        .iter()
        .map(|s| (parse_version(ecosystem, s).ok(), *s))
        .collect();
    parsed.sort_by(|a, b| match (&a.0, &b.0) {
        (Some(x), Some(y)) => x.cmp(y).then(a.1.cmp(b.1)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.1.cmp(b.1),
    });
    parsed.dedup_by(|a, b| a.1 == b.1);
    parsed.into_iter().map(|(_, s)| s.to_owned()).collect()
}

/// The smallest candidate above the query's version that no entry of
/// `must_clear` affects; among those, the smallest that no entry of
/// `prefer_clear` affects either, if one exists. Returns the version as
/// written and whether it is also clear of `prefer_clear`.
fn smallest_clearing(
    query: &Query,
    candidates: &[&str],
    must_clear: &[&Entry],
    prefer_clear: &[&Entry],
) -> Option<(String, bool)> {
    let mut parsed: Vec<(Version, &str)> = candidates
        .iter()
        .filter_map(|s| parse_version(query.ecosystem, s).ok().map(|v| (v, *s)))
        .filter(|(v, _)| *v > query.version)
        .collect();
    parsed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)));
    parsed.dedup_by(|a, b| a.0 == b.0);
    let mut first_fix: Option<&str> = None;
    for (v, s) in &parsed {
        if must_clear.iter().any(|e| e.ranges.is_affected(v)) {
            continue;
        }
        if !prefer_clear.iter().any(|e| e.ranges.is_affected(v)) {
            return Some(((*s).to_owned(), true));
        }
        first_fix.get_or_insert(s);
    }
    first_fix.map(|s| (s.to_owned(), prefer_clear.is_empty()))
}

/// The component a finding is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ComponentRef {
    /// The purl, when the component has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// The component's `bom_ref`.
    pub bom_ref: String,
    /// Its name.
    pub name: String,
    /// Its version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The ecosystem matched in, with the release (`Debian:12`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ecosystem: Option<String>,
    /// The normalised package name looked up (the source package for
    /// Debian- and Alpine-family packages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
}

impl ComponentRef {
    fn new(c: &Component, q: Option<&Query>) -> ComponentRef {
        ComponentRef {
            purl: c.purl.clone(),
            bom_ref: c.bom_ref.clone(),
            name: c.name.clone(),
            version: c.version.clone(),
            ecosystem: q.map(|q| match &q.release {
                Some(r) => format!("{}:{}", q.ecosystem, r),
                None => q.ecosystem.as_str().to_owned(),
            }),
            package: q.map(|q| q.name.clone()),
        }
    }
}

/// How an advisory's entry matched.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MatchedRange {
    /// The advisory id.
    pub advisory: String,
    /// The entry's JSON path (`affected[0]`).
    pub path: String,
    /// The entry's ecosystem as written.
    pub ecosystem: String,
    /// The entry's package name as written.
    pub package: String,
    /// `SEMVER`, `ECOSYSTEM`, or `versions` for an explicit listing.
    pub kind: String,
    /// The matching interval (`[1.0, 1.2)`), for ranges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// The range's events as written, for ranges.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Event>,
    /// The listed version that matched, for `versions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl MatchedRange {
    fn new(h: &Hit<'_>) -> MatchedRange {
        let base = MatchedRange {
            advisory: h.advisory.id.clone(),
            path: format!("affected[{}]", h.affected.index),
            ecosystem: h.affected.ecosystem.clone(),
            package: h.affected.name.clone(),
            kind: String::new(),
            interval: None,
            events: Vec::new(),
            version: None,
        };
        match h.by {
            AffectedBy::Range {
                range, interval, ..
            } => {
                let r = h.affected.ranges.get(range);
                MatchedRange {
                    path: format!("affected[{}].ranges[{range}]", h.affected.index),
                    kind: r.map(|r| r.kind.clone()).unwrap_or_default(),
                    interval: Some(interval.to_string()),
                    events: r.map(|r| r.events.clone()).unwrap_or_default(),
                    ..base
                }
            }
            AffectedBy::Listed { index } => MatchedRange {
                path: format!("affected[{}].versions[{index}]", h.affected.index),
                kind: "versions".to_owned(),
                version: h.affected.versions.get(index).cloned(),
                ..base
            },
        }
    }
}

/// One finding: a component affected by one advisory (or by several that
/// are aliases of each other).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// The component.
    pub component: ComponentRef,
    /// The finding's id: the first of `ids`.
    pub id: String,
    /// Every advisory record collapsed into this finding, sorted.
    pub ids: Vec<String>,
    /// Every id and alias of those records except `id`, sorted (CVE, GHSA,
    /// PYSEC, RUSTSEC, GO...).
    pub aliases: Vec<String>,
    /// The summary of the primary record (or of the first that has one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The highest severity among the records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// What matched, per record and entry.
    pub matches: Vec<MatchedRange>,
    /// Every `fixed` version of the matched entries, in version order.
    pub fixed_versions: Vec<String>,
    /// The smallest version above the installed one that none of the
    /// records affects, when one is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// The smallest upgrade of a component that fixes all of its findings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Upgrade {
    /// The component.
    pub component: ComponentRef,
    /// The installed version.
    pub current: String,
    /// The version to upgrade to; `None` when no known version fixes every
    /// finding.
    pub to: Option<String>,
    /// The finding ids it fixes.
    pub fixes: Vec<String>,
    /// Other advisories of the package that still affect `to` (empty when
    /// a version clear of every known advisory exists among the fixes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub still_affected_by: Vec<String>,
}

/// A component that could not be matched, and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NotEvaluated {
    /// The component.
    pub component: ComponentRef,
    /// Why (no purl, unknown ecosystem, unparsable version...).
    pub reason: String,
}

/// The result of matching an inventory.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MatchReport {
    /// How many components the inventory has.
    pub components: usize,
    /// How many were resolved and looked up.
    pub evaluated: usize,
    /// The findings, sorted by component then id.
    pub findings: Vec<Finding>,
    /// One per affected component, sorted by component.
    pub upgrades: Vec<Upgrade>,
    /// Components that could not be matched.
    pub not_evaluated: Vec<NotEvaluated>,
}

impl MatchReport {
    fn sort(&mut self) {
        self.findings
            .sort_by(|a, b| (&a.component, &a.id).cmp(&(&b.component, &b.id)));
        self.upgrades.sort_by(|a, b| a.component.cmp(&b.component));
        self.not_evaluated.sort();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::osv::parse_record;

    fn adv(json: &str) -> Advisory {
        parse_record(json.as_bytes()).unwrap().advisory
    }

    #[test]
    fn keys_are_normalised_like_purls() {
        let a = adv(r#"{"id":"A","modified":"2024-01-01T00:00:00Z","affected":[
            {"package":{"ecosystem":"PyPI","name":"Django_Rest"}},
            {"package":{"ecosystem":"Debian:12","name":"openssl"}},
            {"package":{"ecosystem":"Ubuntu:22.04:LTS","name":"OpenSSL"}}]}"#);
        let keys: Vec<String> = a
            .affected
            .iter()
            .filter_map(PackageKey::of)
            .map(|k| k.to_string())
            .collect();
        assert_eq!(
            keys,
            vec![
                "PyPI/django-rest",
                "Debian:12/openssl",
                "Ubuntu:22.04/openssl"
            ]
        );
    }

    #[test]
    fn resolution_uses_source_packages_and_distro() {
        let c = Component {
            bom_ref: "x".into(),
            name: "libssl3".into(),
            version: Some("3.0.11-1~deb12u2".into()),
            purl: Some("pkg:deb/debian/libssl3@3.0.11-1~deb12u2?upstream=openssl".into()),
            ..Default::default()
        };
        let distro = Distro {
            id: "debian".into(),
            version_id: Some("12".into()),
            codename: None,
        };
        // The version scheme may not parse yet; the name and release must be right.
        match resolve(&c, Some(&distro)) {
            Ok(q) => {
                assert_eq!(q.name, "openssl");
                assert_eq!(q.release.as_deref(), Some("12"));
                assert_eq!(q.ecosystem, Ecosystem::Debian);
            }
            Err(e) => assert!(e.contains("invalid Debian version"), "{e}"),
        }
        let generic = Component {
            purl: Some("pkg:generic/foo@1".into()),
            ..Default::default()
        };
        assert!(resolve(&generic, None).unwrap_err().contains("generic"));
        let bare = Component {
            name: "x".into(),
            ..Default::default()
        };
        assert_eq!(
            resolve(&bare, None).unwrap_err(),
            "no purl and no ecosystem"
        );
    }

    #[test]
    fn withdrawn_advisories_are_not_indexed() {
        let a = adv(
            r#"{"id":"W","modified":"2024-01-01T00:00:00Z","withdrawn":"2024-02-01T00:00:00Z",
            "affected":[{"package":{"ecosystem":"npm","name":"a"},"versions":["1.0.0"]}]}"#,
        );
        let m = Matcher::new([a]);
        assert!(m.is_empty());
    }

    #[test]
    fn sorted_versions_keep_unparsable_last() {
        let v = sorted_versions(Ecosystem::OssFuzz, &["b", "a", "a"]);
        assert_eq!(v, vec!["a", "b"]);
    }
}
