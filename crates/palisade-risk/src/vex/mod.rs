//! VEX: OpenVEX, CycloneDX VEX and CSAF VEX read into one statement model,
//! applied to findings, and written back out.
//!
//! The design decision: each format is read by its own tolerant serde model
//! (unknown fields ignored, the variants producers actually write accepted)
//! and *flattened* into [`VexStatement`]s, one per vulnerability and product
//! (and subcomponent), with the status and justification mapped onto one
//! vocabulary (the five CISA justifications that OpenVEX and CSAF share).
//! Applying statements to findings and exporting them then deal with one
//! shape only. The mapping tables are [`STATUS_TABLE`] and
//! [`JUSTIFICATION_TABLE`] (and `docs/vex.md`).
//!
//! What an imported statement does to a finding ([`apply`]): a
//! `not_affected` statement with a justification (or, as OpenVEX allows, an
//! impact statement) suppresses the finding, and a `fixed` statement does
//! too; `affected` and `under_investigation` keep it, annotated. Every
//! outcome names the statement, its document and its JSON path.

mod apply;
mod csaf;
mod cyclonedx;
mod export;
mod openvex;
mod purl_match;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::json::{self, JsonError};

pub use apply::{Disposition, VexOutcome, VexSubject, VexTarget, apply};
pub use export::{
    CycloneDxSpec, ExportError, ExportOptions, Exported, Skipped, export_csaf, export_cyclonedx,
    export_openvex,
};

/// The largest VEX document accepted.
pub const MAX_DOCUMENT_BYTES: usize = 32 * 1024 * 1024;
/// The most statements one document may flatten to.
pub const MAX_STATEMENTS: usize = 200_000;
/// The longest identifier (vulnerability id, alias, product) accepted.
pub const MAX_ID_LEN: usize = 4096;
/// The longest free text (impact or action statement) accepted.
pub const MAX_TEXT_LEN: usize = 64 * 1024;

/// A VEX format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VexFormat {
    /// OpenVEX (v0.0.1 to v0.2.0).
    OpenVex,
    /// CycloneDX `vulnerabilities[]` with `analysis` (1.4 to 1.6).
    CycloneDx,
    /// CSAF 2.0 (`csaf_vex`, or another category with product statuses).
    Csaf,
}

impl VexFormat {
    /// `openvex`, `cyclonedx` or `csaf`.
    pub fn as_str(self) -> &'static str {
        match self {
            VexFormat::OpenVex => "openvex",
            VexFormat::CycloneDx => "cyclonedx",
            VexFormat::Csaf => "csaf",
        }
    }
}

impl fmt::Display for VexFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VexFormat::OpenVex => "OpenVEX",
            VexFormat::CycloneDx => "CycloneDX VEX",
            VexFormat::Csaf => "CSAF VEX",
        })
    }
}

impl FromStr for VexFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', '_'], "")
            .as_str()
        {
            "openvex" => Ok(VexFormat::OpenVex),
            "cyclonedx" | "cdx" => Ok(VexFormat::CycloneDx),
            "csaf" | "csafvex" => Ok(VexFormat::Csaf),
            _ => Err(format!(
                "unknown VEX format {s:?} (expected openvex, cyclonedx or csaf)"
            )),
        }
    }
}

/// The status of a product with respect to a vulnerability.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not affected.
    NotAffected,
    /// Affected.
    Affected,
    /// Fixed in this product (version).
    Fixed,
    /// Not yet known.
    UnderInvestigation,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 4] = [
        Status::NotAffected,
        Status::Affected,
        Status::Fixed,
        Status::UnderInvestigation,
    ];

    /// The OpenVEX word (also ours).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotAffected => "not_affected",
            Status::Affected => "affected",
            Status::Fixed => "fixed",
            Status::UnderInvestigation => "under_investigation",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a product is not affected: the five CISA justifications, as OpenVEX
/// and CSAF (flag labels) spell them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Justification {
    /// The vulnerable component is not in the product.
    ComponentNotPresent,
    /// The component is, but the vulnerable code is not.
    VulnerableCodeNotPresent,
    /// The vulnerable code cannot be executed.
    VulnerableCodeNotInExecutePath,
    /// An attacker cannot control the vulnerable code.
    VulnerableCodeCannotBeControlledByAdversary,
    /// Built-in mitigations prevent exploitation.
    InlineMitigationsAlreadyExist,
}

impl Justification {
    /// Every justification.
    pub const ALL: [Justification; 5] = [
        Justification::ComponentNotPresent,
        Justification::VulnerableCodeNotPresent,
        Justification::VulnerableCodeNotInExecutePath,
        Justification::VulnerableCodeCannotBeControlledByAdversary,
        Justification::InlineMitigationsAlreadyExist,
    ];

    /// The OpenVEX / CSAF word.
    pub fn as_str(self) -> &'static str {
        match self {
            Justification::ComponentNotPresent => "component_not_present",
            Justification::VulnerableCodeNotPresent => "vulnerable_code_not_present",
            Justification::VulnerableCodeNotInExecutePath => "vulnerable_code_not_in_execute_path",
            Justification::VulnerableCodeCannotBeControlledByAdversary => {
                "vulnerable_code_cannot_be_controlled_by_adversary"
            }
            Justification::InlineMitigationsAlreadyExist => "inline_mitigations_already_exist",
        }
    }

    /// Reads an OpenVEX justification or CSAF flag label (case and `-`/`_`
    /// insensitive).
    pub fn from_word(word: &str) -> Option<Justification> {
        let w = word.trim().to_ascii_lowercase().replace('-', "_");
        Justification::ALL.into_iter().find(|j| j.as_str() == w)
    }

    /// The CycloneDX `analysis.justification` written on export.
    pub fn to_cyclonedx(self) -> &'static str {
        JUSTIFICATION_TABLE
            .iter()
            .find(|(_, j, export)| *j == self && *export)
            .map(|(c, _, _)| *c)
            .unwrap_or("code_not_present")
    }

    /// Reads a CycloneDX `analysis.justification`.
    pub fn from_cyclonedx(word: &str) -> Option<Justification> {
        let w = word.trim().to_ascii_lowercase();
        JUSTIFICATION_TABLE
            .iter()
            .find(|(c, _, _)| *c == w)
            .map(|(_, j, _)| *j)
    }
}

impl fmt::Display for Justification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status vocabularies, one row per normalised status: OpenVEX
/// `status`, CycloneDX `analysis.state` (the first is written, all are
/// read), CSAF `product_status` keys (the first is written, all are read).
pub const STATUS_TABLE: &[(Status, &str, &[&str], &[&str])] = &[
    (
        Status::NotAffected,
        "not_affected",
        &["not_affected", "false_positive"],
        &["known_not_affected"],
    ),
    (
        Status::Affected,
        "affected",
        &["exploitable"],
        &["known_affected", "first_affected", "last_affected"],
    ),
    (
        Status::Fixed,
        "fixed",
        &["resolved", "resolved_with_pedigree"],
        &["fixed", "first_fixed"],
    ),
    (
        Status::UnderInvestigation,
        "under_investigation",
        &["in_triage"],
        &["under_investigation"],
    ),
];

/// CycloneDX `analysis.justification` ↔ the normalised justification. All
/// nine CycloneDX values are read; the rows marked `true` are what each
/// normalised value is written as, so that export then import is lossless.
///
/// | CycloneDX | normalised (OpenVEX, CSAF) | written |
/// |---|---|---|
/// | `code_not_present` | `vulnerable_code_not_present` | yes |
/// | `code_not_reachable` | `vulnerable_code_not_in_execute_path` | yes |
/// | `requires_configuration` | `vulnerable_code_cannot_be_controlled_by_adversary` | yes |
/// | `requires_dependency` | `component_not_present` | yes |
/// | `requires_environment` | `vulnerable_code_cannot_be_controlled_by_adversary` | |
/// | `protected_by_compiler` | `inline_mitigations_already_exist` | |
/// | `protected_at_runtime` | `inline_mitigations_already_exist` | |
/// | `protected_at_perimeter` | `inline_mitigations_already_exist` | |
/// | `protected_by_mitigating_control` | `inline_mitigations_already_exist` | yes |
pub const JUSTIFICATION_TABLE: &[(&str, Justification, bool)] = &[
    (
        "code_not_present",
        Justification::VulnerableCodeNotPresent,
        true,
    ),
    (
        "code_not_reachable",
        Justification::VulnerableCodeNotInExecutePath,
        true,
    ),
    (
        "requires_configuration",
        Justification::VulnerableCodeCannotBeControlledByAdversary,
        true,
    ),
    (
        "requires_dependency",
        Justification::ComponentNotPresent,
        true,
    ),
    (
        "requires_environment",
        Justification::VulnerableCodeCannotBeControlledByAdversary,
        false,
    ),
    (
        "protected_by_compiler",
        Justification::InlineMitigationsAlreadyExist,
        false,
    ),
    (
        "protected_at_runtime",
        Justification::InlineMitigationsAlreadyExist,
        false,
    ),
    (
        "protected_at_perimeter",
        Justification::InlineMitigationsAlreadyExist,
        false,
    ),
    (
        "protected_by_mitigating_control",
        Justification::InlineMitigationsAlreadyExist,
        true,
    ),
];

/// Where an imported statement came from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StatementSource {
    /// The document's format.
    pub format: VexFormat,
    /// The document's id (OpenVEX `@id`, CycloneDX `serialNumber`, CSAF
    /// `tracking.id`), or what the caller named it (a file name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    /// The document's own timestamp, used when the statement has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_timestamp: Option<String>,
    /// The JSON path of the statement (and product) in the document.
    pub path: String,
    /// The status as the document wrote it (`false_positive`, `known_not_affected`...).
    pub original_status: String,
    /// The justification as the document wrote it (`code_not_reachable`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_justification: Option<String>,
}

/// One normalised VEX statement: one vulnerability, one product (and
/// optionally one subcomponent of it), one status.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct VexStatement {
    /// The vulnerability id (`CVE-2021-44228`, `GHSA-...`).
    pub vulnerability: String,
    /// Other ids of the same vulnerability, sorted, without `vulnerability`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// The product: a purl, or another identifier (a CycloneDX bom-ref or
    /// BOM-Link, a CPE, a CSAF product name).
    pub product: String,
    /// The component of the product the statement is about, when it names
    /// one (OpenVEX `subcomponents`, a CSAF relationship, a nested
    /// CycloneDX component): findings are matched against it, and the
    /// product must then be the scanned artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subcomponent: Option<String>,
    /// A version or `vers:` range narrowing the matched component (the
    /// subcomponent if any, else the product) when it is named without a
    /// version (CycloneDX `affects[].versions`, CSAF version branches).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The status.
    pub status: Status,
    /// Why not affected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<Justification>,
    /// Free text: why not affected, or what the impact is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact_statement: Option<String>,
    /// Free text: what to do (for `affected`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_statement: Option<String>,
    /// When the statement was made (RFC 3339), when the document says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// Where it was read from; `None` for statements made here (triage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<StatementSource>,
}

impl VexStatement {
    /// A statement with no justification, texts, timestamp or source.
    pub fn new(
        vulnerability: impl Into<String>,
        product: impl Into<String>,
        status: Status,
    ) -> VexStatement {
        VexStatement {
            vulnerability: vulnerability.into(),
            aliases: Vec::new(),
            product: product.into(),
            subcomponent: None,
            version: None,
            status,
            justification: None,
            impact_statement: None,
            action_statement: None,
            timestamp: None,
            source: None,
        }
    }

    /// Whether a `not_affected` statement says why (a justification or an
    /// impact statement, as OpenVEX and the CSAF VEX profile require).
    pub fn is_justified(&self) -> bool {
        self.justification.is_some()
            || self
                .impact_statement
                .as_deref()
                .is_some_and(|s| !s.trim().is_empty())
    }

    /// Sorts and deduplicates the aliases and drops the primary id from
    /// them.
    pub fn normalise_aliases(&mut self) {
        let primary = self.vulnerability.clone();
        self.aliases
            .retain(|a| !a.trim().is_empty() && !a.eq_ignore_ascii_case(&primary));
        self.aliases.sort();
        self.aliases.dedup();
    }

    /// The statement without its source (what exports carry).
    pub fn without_source(&self) -> VexStatement {
        VexStatement {
            source: None,
            ..self.clone()
        }
    }

    /// The effective time: the statement's own, else its document's.
    pub(crate) fn effective_time(&self) -> Option<time::OffsetDateTime> {
        self.timestamp
            .as_deref()
            .or(self
                .source
                .as_ref()
                .and_then(|s| s.document_timestamp.as_deref()))
            .and_then(|t| parse_time(t).ok())
    }
}

/// Something in an accepted document that Palisade did not use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VexWarning {
    /// Where.
    pub path: String,
    /// What was skipped and why.
    pub message: String,
}

impl fmt::Display for VexWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A parsed VEX document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VexDocument {
    /// The format.
    pub format: VexFormat,
    /// The document id, when it has one.
    pub id: Option<String>,
    /// The author or publisher.
    pub author: Option<String>,
    /// The document timestamp (RFC 3339).
    pub timestamp: Option<String>,
    /// The document version, as written.
    pub version: Option<String>,
    /// The flattened statements, in document order.
    pub statements: Vec<VexStatement>,
    /// What was skipped.
    pub warnings: Vec<VexWarning>,
}

impl VexDocument {
    /// Names the document (a file name) in every statement's source, for
    /// documents without an id or when the caller prefers its own name.
    pub fn set_document_name(&mut self, name: &str) {
        for s in &mut self.statements {
            if let Some(src) = s.source.as_mut() {
                src.document = Some(name.to_owned());
            }
        }
    }
}

/// Why a VEX document was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VexError {
    /// Not JSON, too large or too deep, or a value of the wrong type.
    #[error("{format}: {source}")]
    Json {
        /// The format being read (`VEX` before detection).
        format: String,
        /// The error, with its JSON path.
        source: JsonError,
    },
    /// JSON, but none of the three VEX formats.
    #[error(
        "not a VEX document: expected OpenVEX (\"@context\": \"https://openvex.dev/ns/...\"), CycloneDX (\"bomFormat\": \"CycloneDX\") or CSAF (\"document\": {{\"csaf_version\": ...}})"
    )]
    UnknownFormat,
    /// A value is invalid for the format.
    #[error("{format}: {path}: {reason}")]
    Invalid {
        /// The format.
        format: VexFormat,
        /// The JSON path.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// More statements than [`MAX_STATEMENTS`].
    #[error("{format}: more than {MAX_STATEMENTS} statements")]
    TooManyStatements {
        /// The format.
        format: VexFormat,
    },
}

pub(crate) fn invalid(
    format: VexFormat,
    path: impl Into<String>,
    reason: impl Into<String>,
) -> VexError {
    VexError::Invalid {
        format,
        path: path.into(),
        reason: reason.into(),
    }
}

pub(crate) fn cut(s: &str) -> String {
    s.chars().take(120).collect()
}

/// Checks an identifier: non-empty after trimming, at most [`MAX_ID_LEN`].
pub(crate) fn ident(format: VexFormat, path: &str, value: &str) -> Result<String, VexError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(invalid(format, path, "empty identifier"));
    }
    if v.len() > MAX_ID_LEN {
        return Err(invalid(
            format,
            path,
            format!(
                "identifier is {} bytes; at most {MAX_ID_LEN} are accepted",
                v.len()
            ),
        ));
    }
    Ok(v.to_owned())
}

/// Checks a free text: at most [`MAX_TEXT_LEN`]; empty becomes `None`.
pub(crate) fn text(
    format: VexFormat,
    path: &str,
    value: Option<String>,
) -> Result<Option<String>, VexError> {
    match value {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) if v.len() > MAX_TEXT_LEN => Err(invalid(
            format,
            path,
            format!(
                "text is {} bytes; at most {MAX_TEXT_LEN} are accepted",
                v.len()
            ),
        )),
        Some(v) => Ok(Some(v)),
    }
}

pub(crate) fn parse_time(t: &str) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(t.trim(), &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("{:?} is not an RFC 3339 date-time: {e}", cut(t)))
}

/// Checks a timestamp is RFC 3339; keeps it as written.
pub(crate) fn timestamp(
    format: VexFormat,
    path: &str,
    value: Option<String>,
) -> Result<Option<String>, VexError> {
    match value {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) => {
            parse_time(&v).map_err(|reason| invalid(format, path, reason))?;
            Ok(Some(v.trim().to_owned()))
        }
    }
}

pub(crate) fn read<T: serde::de::DeserializeOwned>(
    format: VexFormat,
    bytes: &[u8],
) -> Result<T, VexError> {
    json::from_slice(bytes, MAX_DOCUMENT_BYTES, json::MAX_DEPTH).map_err(|source| VexError::Json {
        format: format.to_string(),
        source,
    })
}

#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "@context", default)]
    context: Option<serde::de::IgnoredAny>,
    #[serde(rename = "bomFormat", default)]
    bom_format: Option<serde_json::Value>,
    #[serde(default)]
    document: Option<ProbeCsaf>,
    #[serde(default)]
    statements: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct ProbeCsaf {
    #[serde(default)]
    csaf_version: Option<serde::de::IgnoredAny>,
}

/// Which VEX format `bytes` are in, if any (`None` for anything else,
/// including invalid or oversized JSON).
pub fn detect_format(bytes: &[u8]) -> Option<VexFormat> {
    let probe: Probe = json::from_slice(bytes, MAX_DOCUMENT_BYTES, json::MAX_DEPTH).ok()?;
    if probe.bom_format.as_ref().and_then(|v| v.as_str()) == Some("CycloneDX") {
        Some(VexFormat::CycloneDx)
    } else if probe.document.is_some_and(|d| d.csaf_version.is_some()) {
        Some(VexFormat::Csaf)
    } else if probe.context.is_some() && probe.statements.is_some() {
        Some(VexFormat::OpenVex)
    } else {
        None
    }
}

/// Detects the format of `bytes` and reads them.
pub fn parse(bytes: &[u8]) -> Result<VexDocument, VexError> {
    json::check_limits(bytes, MAX_DOCUMENT_BYTES, json::MAX_DEPTH).map_err(|source| {
        VexError::Json {
            format: "VEX".into(),
            source,
        }
    })?;
    // Report syntax errors as such, not as an unknown format.
    let probe: Result<Probe, JsonError> =
        json::from_slice(bytes, MAX_DOCUMENT_BYTES, json::MAX_DEPTH);
    if let Err(source) = probe {
        return Err(VexError::Json {
            format: "VEX".into(),
            source,
        });
    }
    let format = detect_format(bytes).ok_or(VexError::UnknownFormat)?;
    parse_as(bytes, format)
}

/// Reads `bytes` as a document of `format`.
pub fn parse_as(bytes: &[u8], format: VexFormat) -> Result<VexDocument, VexError> {
    let mut doc = match format {
        VexFormat::OpenVex => openvex::parse(bytes)?,
        VexFormat::CycloneDx => cyclonedx::parse(bytes)?,
        VexFormat::Csaf => csaf::parse(bytes)?,
    };
    if doc.statements.len() > MAX_STATEMENTS {
        return Err(VexError::TooManyStatements { format });
    }
    for s in &mut doc.statements {
        s.normalise_aliases();
    }
    Ok(doc)
}

/// Guards the flattening loops against documents that multiply out
/// (statements × products × subcomponents).
pub(crate) fn push(
    format: VexFormat,
    out: &mut Vec<VexStatement>,
    s: VexStatement,
) -> Result<(), VexError> {
    if out.len() >= MAX_STATEMENTS {
        return Err(VexError::TooManyStatements { format });
    }
    out.push(s);
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn justification_table_round_trips() {
        for j in Justification::ALL {
            assert_eq!(Justification::from_word(j.as_str()), Some(j));
            assert_eq!(
                Justification::from_cyclonedx(j.to_cyclonedx()),
                Some(j),
                "{j}"
            );
            // Exactly one CycloneDX value is written for each.
            let written = JUSTIFICATION_TABLE
                .iter()
                .filter(|(_, x, w)| *x == j && *w)
                .count();
            assert_eq!(written, 1, "{j}");
        }
        assert_eq!(
            Justification::from_word("Vulnerable-Code-Not-Present"),
            Some(Justification::VulnerableCodeNotPresent)
        );
        assert_eq!(
            Justification::from_cyclonedx("protected_at_perimeter"),
            Some(Justification::InlineMitigationsAlreadyExist)
        );
        assert_eq!(Justification::from_cyclonedx("because"), None);
    }

    #[test]
    fn detects_formats() {
        assert_eq!(
            detect_format(br#"{"@context": "https://openvex.dev/ns/v0.2.0", "statements": []}"#),
            Some(VexFormat::OpenVex)
        );
        assert_eq!(
            detect_format(br#"{"bomFormat": "CycloneDX", "specVersion": "1.6"}"#),
            Some(VexFormat::CycloneDx)
        );
        assert_eq!(
            detect_format(br#"{"document": {"category": "csaf_vex", "csaf_version": "2.0"}}"#),
            Some(VexFormat::Csaf)
        );
        assert_eq!(detect_format(br#"{"spdxVersion": "SPDX-2.3"}"#), None);
        assert_eq!(detect_format(b"not json"), None);
        assert!(matches!(parse(b"[]"), Err(VexError::UnknownFormat)));
        assert!(matches!(parse(b"[1]"), Err(VexError::UnknownFormat)));
        assert!(matches!(parse(b"\"vex\""), Err(VexError::Json { .. })));
        assert!(matches!(parse(b"{}"), Err(VexError::UnknownFormat)));
        let e = parse(b"{\"a\": ").unwrap_err().to_string();
        assert!(e.starts_with("VEX: $"), "{e}");
        assert_eq!(
            "CycloneDX".parse::<VexFormat>().unwrap(),
            VexFormat::CycloneDx
        );
        assert_eq!("csaf-vex".parse::<VexFormat>().unwrap(), VexFormat::Csaf);
    }
}
