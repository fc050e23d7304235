//! Applying VEX statements to findings.
//!
//! A statement applies to a finding when
//!
//! 1. its vulnerability id or one of its aliases is the finding's id or one
//!    of its aliases (case-insensitively), and
//! 2. its product names the finding's component (by purl, see
//!    `purl_match`; or by the same bom-ref), or names the scanned artifact
//!    (a statement about the whole product covers every component in it);
//!    a statement with a subcomponent must name the component by its
//!    subcomponent *and* the artifact by its product.
//!
//! When several statements apply, the latest wins (the statement's
//! timestamp, else its document's; undated statements are the oldest), then
//! the most specific (subcomponent of this artifact, then exact version,
//! then any version, then the whole artifact), then the last given.
//!
//! What the winner does: `not_affected` with a justification or an impact
//! statement suppresses the finding; `fixed` suppresses it too (the
//! product's supplier says this version carries the fix, as distributions
//! do for backports); `affected` and `under_investigation` keep it; a
//! `not_affected` statement that gives no reason keeps it and says so.

use palisade_advisory::Finding;
use serde::{Deserialize, Serialize};

use super::purl_match::{Precision, matches};
use super::{Status, VexStatement};

/// A finding as VEX sees it.
pub trait VexTarget {
    /// Its vulnerability id and aliases.
    fn vulnerability_ids(&self) -> Vec<&str>;
    /// Its component's purl.
    fn purl(&self) -> Option<&str>;
    /// Its component's other identifier (a CycloneDX bom-ref).
    fn component_ref(&self) -> Option<&str> {
        None
    }
}

impl VexTarget for Finding {
    fn vulnerability_ids(&self) -> Vec<&str> {
        std::iter::once(self.id.as_str())
            .chain(self.ids.iter().map(String::as_str))
            .chain(self.aliases.iter().map(String::as_str))
            .collect()
    }

    fn purl(&self) -> Option<&str> {
        self.component.purl.as_deref()
    }

    fn component_ref(&self) -> Option<&str> {
        Some(self.component.bom_ref.as_str()).filter(|r| !r.is_empty())
    }
}

/// A finding from anywhere (another scanner's report, a test).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VexSubject {
    /// The vulnerability id and its aliases.
    pub ids: Vec<String>,
    /// The component's purl.
    pub purl: Option<String>,
    /// The component's other identifier.
    pub component_ref: Option<String>,
}

impl VexTarget for VexSubject {
    fn vulnerability_ids(&self) -> Vec<&str> {
        self.ids.iter().map(String::as_str).collect()
    }

    fn purl(&self) -> Option<&str> {
        self.purl.as_deref()
    }

    fn component_ref(&self) -> Option<&str> {
        self.component_ref.as_deref()
    }
}

/// What VEX says about one finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// `not_affected`, with a reason: suppressed.
    NotAffected,
    /// `fixed`: suppressed.
    Fixed,
    /// `affected`: kept, confirmed.
    Affected,
    /// `under_investigation`: kept.
    UnderInvestigation,
    /// `not_affected` without a justification or impact statement: kept.
    Unjustified,
    /// No statement applies: kept.
    NoStatement,
}

impl Disposition {
    /// Whether the finding is suppressed.
    pub fn suppresses(self) -> bool {
        matches!(self, Disposition::NotAffected | Disposition::Fixed)
    }
}

/// The outcome for one finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VexOutcome {
    /// The finding's index in the input.
    pub finding: usize,
    /// What the statements say.
    pub disposition: Disposition,
    /// Whether the finding is suppressed.
    pub suppressed: bool,
    /// The index of the deciding statement in the input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<usize>,
    /// The deciding statement, with its source (document and JSON path).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied: Option<VexStatement>,
    /// How many other statements applied and were overridden.
    pub overridden: usize,
    /// For people: what was decided, by which statement from which document.
    pub reason: String,
}

/// How specifically a statement named the finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Specificity {
    Artifact,
    AnyVersion,
    Version,
    Subcomponent,
}

fn vulnerability_matches(s: &VexStatement, ids: &[String]) -> bool {
    std::iter::once(&s.vulnerability)
        .chain(&s.aliases)
        .any(|v| ids.iter().any(|id| id.eq_ignore_ascii_case(v.trim())))
}

fn any_match(pattern: &str, narrowing: Option<&str>, candidates: &[&str]) -> Option<Precision> {
    candidates
        .iter()
        .filter_map(|c| matches(pattern, narrowing, c))
        .max()
}

/// Whether a statement applies, and how specifically; `Err(true)` when it
/// names the component as a subcomponent of a product that is not the
/// scanned artifact (a near miss, worth telling the user about).
fn specificity(
    s: &VexStatement,
    components: &[&str],
    artifacts: &[&str],
) -> Result<Specificity, bool> {
    match &s.subcomponent {
        Some(sub) => {
            any_match(sub, s.version.as_deref(), components).ok_or(false)?;
            if any_match(&s.product, None, artifacts).is_some() {
                Ok(Specificity::Subcomponent)
            } else {
                Err(true)
            }
        }
        None => match any_match(&s.product, s.version.as_deref(), components) {
            Some(Precision::Version) => Ok(Specificity::Version),
            Some(Precision::Package) => Ok(Specificity::AnyVersion),
            None => any_match(&s.product, s.version.as_deref(), artifacts)
                .map(|_| Specificity::Artifact)
                .ok_or(false),
        },
    }
}

fn describe_source(s: &VexStatement) -> String {
    match &s.source {
        Some(src) => {
            let doc = src
                .document
                .as_deref()
                .map(|d| format!(" {d}"))
                .unwrap_or_default();
            format!("{} document{doc} at {}", src.format, src.path)
        }
        None => "a triage statement".to_owned(),
    }
}

fn describe(s: &VexStatement) -> String {
    let subject = match &s.subcomponent {
        Some(sub) => format!("{sub} in {}", s.product),
        None => s.product.clone(),
    };
    let version = s
        .version
        .as_deref()
        .map(|v| format!(" (versions {v})"))
        .unwrap_or_default();
    format!(
        "{} for {subject}{version}, according to {}",
        s.vulnerability,
        describe_source(s)
    )
}

/// Applies `statements` to `findings`: one outcome per finding, in order.
/// `artifacts` identify what was scanned (its purl, its image reference,
/// the SBOM's `metadata.component` purl...), for statements about a whole
/// product and statements naming subcomponents.
pub fn apply<F: VexTarget>(
    statements: &[VexStatement],
    findings: &[F],
    artifacts: &[&str],
) -> Vec<VexOutcome> {
    findings
        .iter()
        .enumerate()
        .map(|(index, f)| outcome(statements, index, f, artifacts))
        .collect()
}

fn outcome<F: VexTarget>(
    statements: &[VexStatement],
    index: usize,
    finding: &F,
    artifacts: &[&str],
) -> VexOutcome {
    let ids: Vec<String> = finding
        .vulnerability_ids()
        .into_iter()
        .map(|s| s.trim().to_owned())
        .collect();
    let components: Vec<&str> = finding
        .purl()
        .into_iter()
        .chain(finding.component_ref())
        .collect();
    let mut applicable = Vec::new();
    let mut near_miss: Option<usize> = None;
    for (i, s) in statements.iter().enumerate() {
        if !vulnerability_matches(s, &ids) {
            continue;
        }
        match specificity(s, &components, artifacts) {
            Ok(spec) => applicable.push((s.effective_time(), spec, i)),
            Err(true) => near_miss = Some(i),
            Err(false) => {}
        }
    }
    let overridden = applicable.len().saturating_sub(1);
    let Some(&(_, _, chosen)) = applicable.iter().max() else {
        let reason = match near_miss.and_then(|m| statements.get(m).map(|s| (m, s))) {
            Some((m, s)) => format!(
                "no VEX statement applies; statement {m} ({}) names this component inside {}, which is not the scanned artifact",
                describe(s),
                s.product
            ),
            None => "no VEX statement applies".to_owned(),
        };
        return VexOutcome {
            finding: index,
            disposition: Disposition::NoStatement,
            suppressed: false,
            statement: None,
            applied: None,
            overridden: 0,
            reason,
        };
    };
    let Some(s) = statements.get(chosen) else {
        return VexOutcome {
            finding: index,
            disposition: Disposition::NoStatement,
            suppressed: false,
            statement: None,
            applied: None,
            overridden: 0,
            reason: "no VEX statement applies".to_owned(),
        };
    };
    let (disposition, what) = match s.status {
        Status::NotAffected if s.is_justified() => {
            let why = match (&s.justification, &s.impact_statement) {
                (Some(j), Some(i)) => format!("{j}: {i}"),
                (Some(j), None) => j.to_string(),
                (None, Some(i)) => i.clone(),
                (None, None) => String::new(),
            };
            (
                Disposition::NotAffected,
                format!("suppressed: not affected ({why})"),
            )
        }
        Status::NotAffected => (
            Disposition::Unjustified,
            "kept: the not_affected statement gives no justification or impact statement"
                .to_owned(),
        ),
        Status::Fixed => (Disposition::Fixed, "suppressed: fixed".to_owned()),
        Status::Affected => {
            let action = s
                .action_statement
                .as_deref()
                .map(|a| format!(" (action: {a})"))
                .unwrap_or_default();
            (Disposition::Affected, format!("kept: affected{action}"))
        }
        Status::UnderInvestigation => (
            Disposition::UnderInvestigation,
            "kept: under investigation".to_owned(),
        ),
    };
    let overrides = if overridden > 0 {
        format!(" (overrides {overridden} older or less specific statement(s))")
    } else {
        String::new()
    };
    VexOutcome {
        finding: index,
        disposition,
        suppressed: disposition.suppresses(),
        statement: Some(chosen),
        applied: Some(s.clone()),
        overridden,
        reason: format!("{what} by statement {chosen}: {}{overrides}", describe(s)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::vex::{Justification, StatementSource, VexFormat};

    fn subject(ids: &[&str], purl: &str) -> VexSubject {
        VexSubject {
            ids: ids.iter().map(|s| s.to_string()).collect(),
            purl: Some(purl.to_owned()),
            component_ref: None,
        }
    }

    fn not_affected(vuln: &str, product: &str) -> VexStatement {
        VexStatement {
            justification: Some(Justification::VulnerableCodeNotInExecutePath),
            source: Some(StatementSource {
                format: VexFormat::OpenVex,
                document: Some("doc-1".into()),
                document_timestamp: None,
                path: "$.statements[0].products[0]".into(),
                original_status: "not_affected".into(),
                original_justification: None,
            }),
            ..VexStatement::new(vuln, product, Status::NotAffected)
        }
    }

    #[test]
    fn suppresses_by_alias_and_package() {
        let mut s = not_affected(
            "CVE-2021-44228",
            "pkg:maven/org.apache.logging.log4j/log4j-core",
        );
        s.aliases = vec!["GHSA-jfh8-c2jp-5v3q".into()];
        let findings = [
            subject(
                &["GHSA-jfh8-c2jp-5v3q"],
                "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            ),
            subject(
                &["CVE-2021-44228"],
                "pkg:maven/org.apache.logging.log4j/log4j-api@2.14.1",
            ),
            subject(
                &["CVE-2021-45046"],
                "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            ),
        ];
        let out = apply(&[s], &findings, &[]);
        assert!(out[0].suppressed);
        assert_eq!(out[0].disposition, Disposition::NotAffected);
        assert_eq!(out[0].statement, Some(0));
        assert!(
            out[0]
                .reason
                .contains("suppressed: not affected (vulnerable_code_not_in_execute_path)")
                && out[0]
                    .reason
                    .contains("OpenVEX document doc-1 at $.statements[0].products[0]"),
            "{}",
            out[0].reason
        );
        assert!(!out[1].suppressed && !out[2].suppressed);
        assert_eq!(out[1].disposition, Disposition::NoStatement);
    }

    #[test]
    fn versions_and_artifacts() {
        let pinned = not_affected("CVE-1", "pkg:npm/a@1.0.0");
        let f1 = subject(&["CVE-1"], "pkg:npm/a@1.0.0");
        let f2 = subject(&["CVE-1"], "pkg:npm/a@1.0.1");
        let out = apply(
            std::slice::from_ref(&pinned),
            &[f1.clone(), f2.clone()],
            &[],
        );
        assert!(out[0].suppressed && !out[1].suppressed);

        // A subcomponent statement needs its product to be the artifact.
        let mut sub = not_affected("CVE-1", "pkg:oci/app@sha256:abc");
        sub.subcomponent = Some("pkg:npm/a".into());
        let out = apply(std::slice::from_ref(&sub), std::slice::from_ref(&f2), &[]);
        assert!(!out[0].suppressed);
        assert!(
            out[0].reason.contains("not the scanned artifact"),
            "{}",
            out[0].reason
        );
        let out = apply(
            std::slice::from_ref(&sub),
            std::slice::from_ref(&f2),
            &["pkg:oci/app@sha256:abc?repository_url=example.invalid/app"],
        );
        assert!(out[0].suppressed);

        // A whole-product statement covers every component of the artifact.
        let whole = not_affected("CVE-1", "pkg:oci/app@sha256:abc");
        let out = apply(
            std::slice::from_ref(&whole),
            std::slice::from_ref(&f2),
            &["pkg:oci/app@sha256:abc"],
        );
        assert!(out[0].suppressed);
        let out = apply(&[whole], &[f2], &["pkg:oci/other@sha256:abc"]);
        assert!(!out[0].suppressed);
    }

    #[test]
    fn latest_then_most_specific_wins() {
        let mut old = not_affected("CVE-1", "pkg:npm/a");
        old.timestamp = Some("2024-01-01T00:00:00Z".into());
        let mut new = VexStatement::new("CVE-1", "pkg:npm/a", Status::Affected);
        new.timestamp = Some("2024-06-01T00:00:00Z".into());
        new.action_statement = Some("upgrade to 2.0.0".into());
        let f = subject(&["CVE-1"], "pkg:npm/a@1.0.0");
        let out = apply(&[new.clone(), old.clone()], std::slice::from_ref(&f), &[]);
        assert_eq!(
            (out[0].disposition, out[0].statement, out[0].overridden),
            (Disposition::Affected, Some(0), 1)
        );
        assert!(
            out[0].reason.contains("action: upgrade to 2.0.0"),
            "{}",
            out[0].reason
        );
        assert!(
            out[0].reason.contains("a triage statement"),
            "{}",
            out[0].reason
        );

        // Same time: the version-specific statement beats the package one.
        let mut general = VexStatement::new("CVE-1", "pkg:npm/a", Status::Affected);
        general.timestamp = old.timestamp.clone();
        let mut specific = not_affected("CVE-1", "pkg:npm/a@1.0.0");
        specific.timestamp = old.timestamp.clone();
        let out = apply(&[specific, general], std::slice::from_ref(&f), &[]);
        assert_eq!(out[0].statement, Some(0));
        assert!(out[0].suppressed);
    }

    #[test]
    fn unjustified_fixed_and_under_investigation() {
        let f = subject(&["CVE-1"], "pkg:npm/a@1.0.0");
        let bare = VexStatement::new("CVE-1", "pkg:npm/a", Status::NotAffected);
        let out = apply(&[bare], std::slice::from_ref(&f), &[]);
        assert_eq!(out[0].disposition, Disposition::Unjustified);
        assert!(!out[0].suppressed);
        let mut with_impact = VexStatement::new("CVE-1", "pkg:npm/a", Status::NotAffected);
        with_impact.impact_statement = Some("We never call it.".into());
        assert!(apply(&[with_impact], std::slice::from_ref(&f), &[])[0].suppressed);
        let fixed = VexStatement::new("cve-1", "pkg:npm/a@1.0.0", Status::Fixed);
        let out = apply(&[fixed], std::slice::from_ref(&f), &[]);
        assert_eq!(
            (out[0].disposition, out[0].suppressed),
            (Disposition::Fixed, true)
        );
        let ui = VexStatement::new("CVE-1", "pkg:npm/a", Status::UnderInvestigation);
        let out = apply(&[ui], std::slice::from_ref(&f), &[]);
        assert_eq!(
            (out[0].disposition, out[0].suppressed),
            (Disposition::UnderInvestigation, false)
        );
    }

    #[test]
    fn bom_refs_match_exactly() {
        let s = not_affected("CVE-1", "component-7");
        let f = VexSubject {
            ids: vec!["CVE-1".into()],
            purl: None,
            component_ref: Some("component-7".into()),
        };
        assert!(apply(&[s], &[f], &[])[0].suppressed);
    }
}
