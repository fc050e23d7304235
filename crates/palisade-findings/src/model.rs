//! The finding model every adapter produces: one [`RawFinding`] per result
//! a tool reported, inside an [`Import`] that says what was read.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

pub use palisade_advisory::Rating;
pub use palisade_inventory::Tool;
use serde::{Deserialize, Serialize};

/// A scanner output format this crate reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// SARIF 2.1.0 (and the 2.0.0 drafts still found in the wild): Semgrep,
    /// CodeQL, Bandit and any other SARIF producer.
    Sarif,
    /// Trivy's JSON report (schema version 2, the legacy array form, and the
    /// `trivy k8s` resource list).
    Trivy,
    /// Grype's JSON report.
    Grype,
    /// osv-scanner's JSON report.
    OsvScanner,
    /// OWASP ZAP's traditional JSON report.
    Zap,
    /// Falco JSON events, one object per line.
    Falco,
}

impl Format {
    /// Every format, in the order above.
    pub const ALL: &'static [Format] = &[
        Format::Sarif,
        Format::Trivy,
        Format::Grype,
        Format::OsvScanner,
        Format::Zap,
        Format::Falco,
    ];

    /// The name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Sarif => "sarif",
            Format::Trivy => "trivy",
            Format::Grype => "grype",
            Format::OsvScanner => "osv-scanner",
            Format::Zap => "zap",
            Format::Falco => "falco",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Format::ALL
            .iter()
            .copied()
            .find(|f| f.as_str() == lower || (lower == "osv" && *f == Format::OsvScanner))
            .ok_or_else(|| {
                format!(
                    "unknown format {s:?} (expected one of: {})",
                    Format::ALL
                        .iter()
                        .map(|f| f.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }
}

/// What kind of problem a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A known vulnerability in a component (an advisory id on a package).
    Vulnerability,
    /// A static-analysis result in source code (SARIF).
    Code,
    /// A configuration check that failed (Trivy misconfigurations).
    Misconfiguration,
    /// A secret found in a file.
    Secret,
    /// A licence a scanner flagged.
    License,
    /// A dynamic-scanning (DAST) alert on a URL.
    Dast,
    /// A runtime security event (Falco).
    Runtime,
}

impl FindingKind {
    /// The snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Vulnerability => "vulnerability",
            FindingKind::Code => "code",
            FindingKind::Misconfiguration => "misconfiguration",
            FindingKind::Secret => "secret",
            FindingKind::License => "license",
            FindingKind::Dast => "dast",
            FindingKind::Runtime => "runtime",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How severe a tool says a finding is.
///
/// `rating` is the tool's own word when it gave one (Trivy's `HIGH`, SARIF's
/// `error`, ZAP's risk code, Falco's priority), mapped onto the common
/// scale; otherwise it follows the score. `score` is computed from `vector`
/// when the vector is a complete CVSS vector (as `palisade-advisory` does for
/// OSV records), else it is the score the tool printed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Severity {
    /// The rating on the common scale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
    /// A CVSS base score (or SARIF `security-severity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The CVSS vector the score comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<String>,
    /// The tool's own severity word, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl Severity {
    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.rating.is_none()
            && self.score.is_none()
            && self.vector.is_none()
            && self.label.is_none()
    }

    /// For ordering severities: rating first, then score.
    pub fn rank(&self) -> (Option<Rating>, i64) {
        // Scores are 0.0..=10.0 with one decimal: compare in tenths.
        let tenths = self.score.map_or(-1, |s| {
            if s.is_finite() {
                (s * 10.0).round().clamp(-1.0, 1000.0) as i64
            } else {
                -1
            }
        });
        (self.rating, tenths)
    }
}

/// Where a finding is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Location {
    /// A software component (package) and where it was found.
    Component(ComponentLocation),
    /// A file, and a region in it when known.
    File(FileLocation),
    /// A URL (dynamic scanning).
    Url(UrlLocation),
    /// A host, container and process (runtime events).
    Runtime(RuntimeLocation),
}

impl Location {
    /// A one-line description for tables.
    pub fn summary(&self) -> String {
        match self {
            Location::Component(c) => {
                let who = c.purl.clone().unwrap_or_else(|| match &c.ecosystem {
                    Some(e) => format!("{e}/{}", c.name),
                    None => c.name.clone(),
                });
                match (&c.version, who.contains('@')) {
                    (Some(v), false) => format!("{who}@{v}"),
                    _ => who,
                }
            }
            Location::File(f) => {
                let mut s = f
                    .path
                    .clone()
                    .or_else(|| f.logical.clone())
                    .unwrap_or_else(|| "-".to_owned());
                match (f.start_line, f.end_line) {
                    (Some(a), Some(b)) if b > a => s.push_str(&format!(":{a}-{b}")),
                    (Some(a), _) => s.push_str(&format!(":{a}")),
                    _ => {}
                }
                s
            }
            Location::Url(u) => {
                let mut s = match &u.method {
                    Some(m) => format!("{m} {}", u.url),
                    None => u.url.clone(),
                };
                if let Some(p) = &u.param {
                    s.push_str(&format!(" [{p}]"));
                }
                s
            }
            Location::Runtime(r) => {
                let mut parts = Vec::new();
                if let Some(h) = &r.hostname {
                    parts.push(format!("host {h}"));
                }
                if let (Some(ns), Some(pod)) = (&r.namespace, &r.pod) {
                    parts.push(format!("pod {ns}/{pod}"));
                }
                match (&r.container_name, &r.container_id) {
                    (Some(n), _) => parts.push(format!("container {n}")),
                    (None, Some(id)) => parts.push(format!("container {id}")),
                    _ => {}
                }
                if let Some(p) = &r.process {
                    parts.push(format!("process {p}"));
                }
                if parts.is_empty() {
                    "-".to_owned()
                } else {
                    parts.join(", ")
                }
            }
        }
    }
}

/// A component a vulnerability (or licence) was reported on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentLocation {
    /// Its purl, as the tool wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// Its OSV ecosystem (`npm`, `Debian:10`), from the purl or the tool's
    /// package type; else the tool's type word (`rpm`, `java-archive`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem: Option<String>,
    /// The package name as the tool wrote it.
    pub name: String,
    /// The installed version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Versions that fix the finding, as the tool listed them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed_versions: Vec<String>,
    /// Files the component was found in (lockfile, package database, jar).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// The image layer that introduced it, when the tool says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
}

/// A place in a file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileLocation {
    /// The path, normalised: forward slashes, no leading `./`, relative to
    /// the SARIF `uriBaseId` when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// First line (1-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_line: Option<u64>,
    /// Last line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u64>,
    /// First column (1-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_column: Option<u64>,
    /// Column after the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_column: Option<u64>,
    /// A logical location (function, class, resource), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logical: Option<String>,
}

/// A URL probed by a dynamic scanner.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlLocation {
    /// The URL.
    pub url: String,
    /// The HTTP method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The parameter or header concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// The attack string sent, when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attack: Option<String>,
    /// The evidence found in the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

/// Where a runtime event happened.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeLocation {
    /// The host (node) name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// The container id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<String>,
    /// The container name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    /// The container image (`repository:tag`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The Kubernetes namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The Kubernetes pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// The process name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    /// The process command line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmdline: Option<String>,
    /// The process id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u64>,
    /// The user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// One result as a tool reported it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RawFinding {
    /// The tool that reported it.
    pub tool: Tool,
    /// What kind of finding it is.
    pub kind: FindingKind,
    /// The rule or advisory id (`CVE-2021-44228`, `python.lang.security...`,
    /// `KSV001`, ZAP plugin `10038-1`, Falco rule name).
    pub rule_id: String,
    /// Other ids of the same vulnerability the tool gave (GHSA, distro
    /// advisories), sorted, without `rule_id`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Ids of related but distinct vulnerabilities (OSV `related`); kept,
    /// never used to merge.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    /// A short title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The description or message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The severity the tool gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Where it is.
    pub location: Location,
    /// CWE ids (`CWE-79`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cwes: Vec<String>,
    /// Reference URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// Tags or categories the tool attached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// A stable fingerprint of this result (see [`crate::fingerprint`]).
    pub fingerprint: String,
    /// What the fingerprint was computed from (`sarif-fingerprints`,
    /// `sarif-partial-fingerprints`, `rule+location`, `component+id`...).
    pub fingerprint_basis: String,
    /// The document it came from (the name given to [`crate::import`]).
    pub document: String,
    /// Where in the document (`$.runs[0].results[3]`, `line 7`).
    pub json_path: String,
    /// When the tool observed it (Falco events), RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_at: Option<String>,
    /// Whether the tool marked it suppressed (SARIF `suppressions`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suppressed: bool,
}

impl RawFinding {
    /// The rule id followed by the aliases.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.rule_id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// Something in an accepted document that was skipped or could not be used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportWarning {
    /// Where (`$.runs[0].results[3].locations`, `line 12`).
    pub path: String,
    /// What and why.
    pub reason: String,
}

impl fmt::Display for ImportWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

/// Counts for one document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportStats {
    /// Results the document states (SARIF results, Trivy vulnerabilities +
    /// misconfigurations + secrets + licences, Grype matches, osv-scanner
    /// package vulnerabilities, ZAP alert instances, Falco events).
    pub results: usize,
    /// Results turned into findings.
    pub imported: usize,
    /// Results deliberately not imported, by reason (`sarif kind pass`,
    /// `trivy misconfiguration status PASS`...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub skipped: BTreeMap<String, usize>,
}

impl ImportStats {
    pub(crate) fn skip(&mut self, reason: &str) {
        *self.skipped.entry(reason.to_owned()).or_default() += 1;
    }
}

/// One document read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Import {
    /// The document name given to [`crate::import`].
    pub document: String,
    /// The format it was read as.
    pub format: Format,
    /// The tools that produced it (SARIF logs may hold several runs).
    pub tools: Vec<Tool>,
    /// What was scanned (image, directory, site), when the document says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// When the document was produced, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Counts.
    pub stats: ImportStats,
    /// The findings, in document order.
    pub findings: Vec<RawFinding>,
    /// What was skipped or could not be used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<ImportWarning>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip_their_names() {
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>().unwrap(), *f);
        }
        assert_eq!("OSV".parse::<Format>().unwrap(), Format::OsvScanner);
        assert!("cyclonedx".parse::<Format>().is_err());
    }

    #[test]
    fn severity_rank_orders_rating_then_score() {
        let a = Severity {
            rating: Some(Rating::High),
            score: Some(7.5),
            ..Default::default()
        };
        let b = Severity {
            rating: Some(Rating::High),
            score: Some(8.1),
            ..Default::default()
        };
        let c = Severity {
            rating: Some(Rating::Critical),
            score: None,
            ..Default::default()
        };
        assert!(a.rank() < b.rank() && b.rank() < c.rank());
        let nan = Severity {
            score: Some(f64::NAN),
            ..Default::default()
        };
        assert_eq!(nan.rank(), (None, -1));
    }

    #[test]
    fn location_summaries() {
        let c = Location::Component(ComponentLocation {
            purl: Some("pkg:npm/lodash@4.17.20".into()),
            name: "lodash".into(),
            version: Some("4.17.20".into()),
            ..Default::default()
        });
        assert_eq!(c.summary(), "pkg:npm/lodash@4.17.20");
        let f = Location::File(FileLocation {
            path: Some("src/a.py".into()),
            start_line: Some(3),
            end_line: Some(5),
            ..Default::default()
        });
        assert_eq!(f.summary(), "src/a.py:3-5");
        let u = Location::Url(UrlLocation {
            url: "http://x/".into(),
            method: Some("GET".into()),
            param: Some("q".into()),
            ..Default::default()
        });
        assert_eq!(u.summary(), "GET http://x/ [q]");
    }
}
