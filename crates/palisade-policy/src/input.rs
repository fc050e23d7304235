//! The policy input document, version 1 (`docs/policy-input.schema.json`).
//!
//! Design: the input is a typed Rust structure, not free JSON, so that every
//! producer (the CI gate, the admission webhook, background audit, the
//! portal) builds exactly the same shape and a misspelt field is an error
//! rather than a silently absent value that a policy would read as
//! "undefined". Unknown fields are rejected everywhere except inside the
//! in-toto statement, the environment parameters and the labels, which are
//! open by nature.
//!
//! Three fields belong to the engine and are overwritten on every decision,
//! whatever the caller put there: `now` (the decision time, so that policies
//! never read a clock), `environment` (the resolved environment and its
//! parameters, so that a caller cannot claim to be in `dev`) and `exceptions`
//! (only the exceptions actually in force, so that a policy reading them
//! cannot be fooled by a self-approved or expired one). The finding ages
//! `age_days` and `fix_age_days` are computed from `published` and
//! `fix_published` against `now` when those dates are present.
//!
//! Attestations in the input are already verified: the verifier's identity
//! result is in `signer`, and `subject_matches_artifact` says whether the
//! statement's subjects include the artifact digest. The policies still check
//! the subject digests themselves, so a producer bug cannot make an
//! attestation for another artifact count.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{PolicyError, Result};

/// The schema version this crate produces and accepts.
pub const INPUT_VERSION: &str = "palisade.dev/policy-input/v1";

/// The JSON Schema of the input document, as shipped in `docs/`.
pub const INPUT_SCHEMA: &str = include_str!("../../../docs/policy-input.schema.json");

/// Limits on the input document, checked by [`PolicyInput::validate`].
pub mod limits {
    /// The most findings one input may carry.
    pub const MAX_FINDINGS: usize = 100_000;
    /// The most attestations one input may carry.
    pub const MAX_ATTESTATIONS: usize = 1_000;
    /// The most SBOM components one input may carry.
    pub const MAX_COMPONENTS: usize = 200_000;
    /// The most exceptions one decision may consider.
    pub const MAX_EXCEPTIONS: usize = 10_000;
    /// The deepest nesting of arrays and objects anywhere in the input.
    pub const MAX_DEPTH: usize = 64;
    /// The longest input document, in bytes, that the loaders accept.
    pub const MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;
}

/// The input document given to every policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    /// Always [`INPUT_VERSION`].
    pub version: String,
    /// The decision time (RFC 3339, UTC), set by the engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now: Option<String>,
    /// The environment the decision is for, set by the engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<EnvironmentInfo>,
    /// Where the artifact runs or is about to run; absent in CI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<Workload>,
    /// The artifact the decision is about.
    pub artifact: Artifact,
    /// Verified attestations about the artifact (or its source).
    #[serde(default)]
    pub attestations: Vec<VerifiedAttestation>,
    /// A summary of the artifact's SBOM, when one is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbom: Option<SbomSummary>,
    /// Vulnerability findings for the artifact.
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// The exceptions in force for this decision, set by the engine.
    #[serde(default)]
    pub exceptions: Vec<crate::exception::Exception>,
}

/// The resolved environment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentInfo {
    /// The environment's name (`dev`, `prod`...).
    pub name: String,
    /// The merged policy parameters of the environment and its ancestors.
    #[serde(default)]
    pub params: serde_json::Map<String, serde_json::Value>,
}

/// The workload an artifact runs as.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// The workload's name, unique within its namespace.
    pub name: String,
    /// The namespace (Kubernetes) or team space.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The kind (`Deployment`, `CronJob`, `Lambda`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The cluster or account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Free-form labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl Workload {
    /// The workload's qualified name, `namespace/name` or `name`, which is
    /// what exception scopes name.
    pub fn qualified_name(&self) -> String {
        match &self.namespace {
            Some(ns) if !ns.is_empty() => format!("{ns}/{}", self.name),
            _ => self.name.clone(),
        }
    }
}

/// The artifact under decision.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// The artifact's name without tag or digest (`registry.example/team/app`).
    pub name: String,
    /// The content digest, `algorithm:hex` (`sha256:...`), lower-case.
    pub digest: String,
    /// The reference as written in the deployment (`name:tag` or `name@digest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The tag, when the reference has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// The source the artifact claims to be built from, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRef>,
}

/// A source repository and revision.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceRef {
    /// The repository URI.
    pub repository: String,
    /// The revision (commit id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
}

/// An attestation whose signature was verified before policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifiedAttestation {
    /// The statement's predicate type URI.
    pub predicate_type: String,
    /// Who signed it, as established by the verifier.
    pub signer: Signer,
    /// Whether one of the statement's subjects has the artifact's digest.
    pub subject_matches_artifact: bool,
    /// When it was verified (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<String>,
    /// The in-toto statement (`_type`, `subject`, `predicateType`, `predicate`).
    pub statement: serde_json::Value,
}

/// The verified identity of a signer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signer {
    /// The identity: a certificate subject (e-mail, URI) or a key name.
    pub identity: String,
    /// The OIDC issuer for keyless signatures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The key identifier for key-based signatures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// `key` or `keyless`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

/// What the artifact's SBOM says, in brief.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SbomSummary {
    /// `CycloneDX` or `SPDX`.
    pub format: String,
    /// The specification version (`1.6`, `2.3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_version: Option<String>,
    /// The number of components.
    pub component_count: u64,
    /// The components (possibly fewer than `component_count` if truncated by the producer).
    #[serde(default)]
    pub components: Vec<Component>,
}

/// One SBOM component.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// The name.
    pub name: String,
    /// The version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The package URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// Declared or concluded licences, as SPDX expressions.
    #[serde(default)]
    pub licenses: Vec<String>,
}

/// A severity, ordered from `none` to `critical`; `unknown` sorts lowest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// No rating is known.
    Unknown,
    /// No impact.
    None,
    /// Low.
    Low,
    /// Medium (OSV `MODERATE`).
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// The lower-case name used in the input and in Rego.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::None => "none",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// Parses a name case-insensitively; `moderate` is `medium`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "unknown" => Some(Self::Unknown),
            "none" => Some(Self::None),
            "low" => Some(Self::Low),
            "medium" | "moderate" => Some(Self::Medium),
            "high" => Some(Self::High),
            "critical" => Some(Self::Critical),
            _ => None,
        }
    }
}

/// A vulnerability finding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// The advisory identifier (`GHSA-...`, `CVE-...`).
    pub id: String,
    /// Other identifiers of the same vulnerability.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The severity.
    pub severity: Severity,
    /// A triage priority assigned upstream (free text, such as `p1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// Whether CISA's Known Exploited Vulnerabilities catalogue lists it.
    #[serde(default)]
    pub kev: bool,
    /// The EPSS probability (0 to 1), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epss: Option<f64>,
    /// When the advisory was published (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// Whole days since `published`; computed by the engine when `published` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_days: Option<i64>,
    /// Whether a fixed version exists.
    #[serde(default)]
    pub fix_available: bool,
    /// The fixed versions, when known.
    #[serde(default)]
    pub fixed_versions: Vec<String>,
    /// When the fix became available (RFC 3339), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix_published: Option<String>,
    /// Whole days since `fix_published`; computed by the engine when `fix_published` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix_age_days: Option<i64>,
    /// The affected package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<PackageRef>,
}

impl Finding {
    /// Whether `id` names this finding (its id or one of its aliases),
    /// ignoring ASCII case.
    pub fn is_named(&self, id: &str) -> bool {
        self.id.eq_ignore_ascii_case(id) || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(id))
    }
}

/// The package a finding is in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageRef {
    /// The name.
    pub name: String,
    /// The installed version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The package URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// The OSV ecosystem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem: Option<String>,
}

/// Parses an RFC 3339 timestamp, naming the field in the error.
pub(crate) fn parse_time(field: &str, value: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .map_err(|e| PolicyError::Input(format!("{field}: {value:?} is not an RFC 3339 time: {e}")))
}

/// Formats a time as RFC 3339 in UTC.
pub(crate) fn format_time(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// Whether `s` is `algorithm:hex` with a known algorithm, the right length and lower-case hex.
pub fn is_valid_digest(s: &str) -> bool {
    let Some((alg, hex)) = s.split_once(':') else {
        return false;
    };
    let len = match alg {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == len
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl PolicyInput {
    /// A minimal input for an artifact.
    pub fn new(artifact: Artifact) -> Self {
        Self {
            version: INPUT_VERSION.to_string(),
            now: None,
            environment: None,
            workload: None,
            artifact,
            attestations: Vec::new(),
            sbom: None,
            findings: Vec::new(),
            exceptions: Vec::new(),
        }
    }

    /// Parses an input document from JSON, checking its size, depth and version.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > limits::MAX_INPUT_BYTES {
            return Err(PolicyError::Limit(format!(
                "input is {} bytes, more than the {} allowed",
                bytes.len(),
                limits::MAX_INPUT_BYTES
            )));
        }
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| PolicyError::Input(format!("not valid JSON: {e}")))?;
        Self::from_value(value)
    }

    /// Converts a JSON value into an input, checking depth and version.
    pub fn from_value(value: serde_json::Value) -> Result<Self> {
        check_depth(&value, limits::MAX_DEPTH)?;
        match value.get("version").and_then(|v| v.as_str()) {
            Some(INPUT_VERSION) => {}
            Some(other) => {
                return Err(PolicyError::Input(format!(
                    "version {other:?} is not supported; expected {INPUT_VERSION:?}"
                )));
            }
            None => {
                return Err(PolicyError::Input(format!(
                    "missing \"version\" (expected {INPUT_VERSION:?})"
                )));
            }
        }
        let input: Self =
            serde_json::from_value(value).map_err(|e| PolicyError::Input(e.to_string()))?;
        input.validate()?;
        Ok(input)
    }

    /// Checks the invariants the schema states: the version, the artifact
    /// digest's form, the counts, the timestamps and EPSS range.
    pub fn validate(&self) -> Result<()> {
        if self.version != INPUT_VERSION {
            return Err(PolicyError::Input(format!(
                "version {:?} is not supported; expected {INPUT_VERSION:?}",
                self.version
            )));
        }
        if self.artifact.name.is_empty() {
            return Err(PolicyError::Input("artifact.name is empty".into()));
        }
        if !is_valid_digest(&self.artifact.digest) {
            return Err(PolicyError::Input(format!(
                "artifact.digest {:?} is not `sha256:`, `sha384:` or `sha512:` followed by lower-case hex of the right length",
                self.artifact.digest
            )));
        }
        let count = |what: &str, n: usize, max: usize| {
            if n > max {
                Err(PolicyError::Limit(format!(
                    "{n} {what}, more than the {max} allowed"
                )))
            } else {
                Ok(())
            }
        };
        count("findings", self.findings.len(), limits::MAX_FINDINGS)?;
        count(
            "attestations",
            self.attestations.len(),
            limits::MAX_ATTESTATIONS,
        )?;
        count("exceptions", self.exceptions.len(), limits::MAX_EXCEPTIONS)?;
        if let Some(sbom) = &self.sbom {
            count(
                "SBOM components",
                sbom.components.len(),
                limits::MAX_COMPONENTS,
            )?;
        }
        for (i, f) in self.findings.iter().enumerate() {
            if f.id.is_empty() {
                return Err(PolicyError::Input(format!("findings[{i}].id is empty")));
            }
            if let Some(e) = f.epss
                && !(0.0..=1.0).contains(&e)
            {
                return Err(PolicyError::Input(format!(
                    "findings[{i}].epss {e} is not between 0 and 1"
                )));
            }
            // The field's path is only formatted for the error.
            if let Some(p) = &f.published
                && parse_time("published", p).is_err()
            {
                parse_time(&format!("findings[{i}].published"), p)?;
            }
            if let Some(p) = &f.fix_published
                && parse_time("fix_published", p).is_err()
            {
                parse_time(&format!("findings[{i}].fix_published"), p)?;
            }
        }
        for (i, a) in self.attestations.iter().enumerate() {
            if a.predicate_type.is_empty() {
                return Err(PolicyError::Input(format!(
                    "attestations[{i}].predicate_type is empty"
                )));
            }
            if !a.statement.is_object() {
                return Err(PolicyError::Input(format!(
                    "attestations[{i}].statement is not an object"
                )));
            }
        }
        Ok(())
    }

    /// Sets the engine-owned fields for a decision at `now`: the time, the
    /// environment, the exceptions in force, and the finding ages.
    pub(crate) fn prepare(
        &mut self,
        now: OffsetDateTime,
        environment: EnvironmentInfo,
        exceptions: Vec<crate::exception::Exception>,
    ) -> Result<()> {
        let ages = self.ages(now)?;
        self.now = Some(format_time(now));
        self.environment = Some(environment);
        self.exceptions = exceptions;
        for (f, (age, fix_age)) in self.findings.iter_mut().zip(ages) {
            f.age_days = age;
            f.fix_age_days = fix_age;
        }
        Ok(())
    }

    /// Each finding's `age_days` and `fix_age_days` at `now`: computed from
    /// `published` and `fix_published` when present, else as given.
    fn ages(&self, now: OffsetDateTime) -> Result<Vec<(Option<i64>, Option<i64>)>> {
        Ok(self.ages_at(&self.finding_times()?, now))
    }

    /// Each finding's `published` and `fix_published`, parsed.
    pub(crate) fn finding_times(&self) -> Result<Vec<FindingTimes>> {
        let mut out = Vec::with_capacity(self.findings.len());
        for (i, f) in self.findings.iter().enumerate() {
            // The field's path is only formatted for the error.
            let published = match &f.published {
                Some(p) => Some(
                    parse_time("published", p)
                        .or_else(|_| parse_time(&format!("findings[{i}].published"), p))?,
                ),
                None => None,
            };
            let fix_published = match &f.fix_published {
                Some(p) => Some(
                    parse_time("fix_published", p)
                        .or_else(|_| parse_time(&format!("findings[{i}].fix_published"), p))?,
                ),
                None => None,
            };
            out.push((published, fix_published));
        }
        Ok(out)
    }

    /// The ages at `now` from the times of [`Self::finding_times`]: whole
    /// days since each date (never negative), else as given.
    pub(crate) fn ages_at(
        &self,
        times: &[FindingTimes],
        now: OffsetDateTime,
    ) -> Vec<(Option<i64>, Option<i64>)> {
        let days = |t: Option<OffsetDateTime>, given: Option<i64>| match t {
            Some(t) => Some((now - t).whole_days().max(0)),
            None => given,
        };
        self.findings
            .iter()
            .zip(times)
            .map(|(f, (published, fix_published))| {
                (
                    days(*published, f.age_days),
                    days(*fix_published, f.fix_age_days),
                )
            })
            .collect()
    }
}

/// A finding's `published` and `fix_published`, parsed.
pub(crate) type FindingTimes = (Option<OffsetDateTime>, Option<OffsetDateTime>);

/// The input as [`PolicyInput::prepare`] would make it, as a borrowed view
/// that serialises to the same document without cloning the input (for the
/// digest's fallback, [`crate::prepared`]). The workload is the view's own,
/// so that one artifact's input can be viewed for several workloads.
#[derive(Debug)]
pub(crate) struct PreparedView<'a> {
    pub(crate) input: &'a PolicyInput,
    pub(crate) now: String,
    pub(crate) environment: &'a EnvironmentInfo,
    pub(crate) workload: Option<&'a Workload>,
    pub(crate) exceptions: &'a [crate::exception::Exception],
    pub(crate) ages: Vec<(Option<i64>, Option<i64>)>,
}

impl Serialize for PreparedView<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        // Destructured without `..`: a new field is a compile error here
        // until the view serialises it as the derive does.
        let PolicyInput {
            version,
            now: _,
            environment: _,
            workload: _,
            artifact,
            attestations,
            sbom,
            findings,
            exceptions: _,
        } = self.input;
        let workload = &self.workload;
        let mut st = serializer.serialize_struct("PolicyInput", 9)?;
        st.serialize_field("version", version)?;
        st.serialize_field("now", &self.now)?;
        st.serialize_field("environment", self.environment)?;
        if workload.is_some() {
            st.serialize_field("workload", workload)?;
        }
        st.serialize_field("artifact", artifact)?;
        st.serialize_field("attestations", attestations)?;
        if sbom.is_some() {
            st.serialize_field("sbom", sbom)?;
        }
        let aged: Vec<AgedFinding<'_>> = findings
            .iter()
            .zip(&self.ages)
            .map(|(finding, (age, fix_age))| AgedFinding {
                finding,
                age: *age,
                fix_age: *fix_age,
            })
            .collect();
        st.serialize_field("findings", &aged)?;
        st.serialize_field("exceptions", self.exceptions)?;
        st.end()
    }
}

/// A finding with its ages at the decision time.
pub(crate) struct AgedFinding<'a> {
    pub(crate) finding: &'a Finding,
    pub(crate) age: Option<i64>,
    pub(crate) fix_age: Option<i64>,
}

impl Serialize for AgedFinding<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let Finding {
            id,
            aliases,
            severity,
            priority,
            kev,
            epss,
            published,
            age_days: _,
            fix_available,
            fixed_versions,
            fix_published,
            fix_age_days: _,
            package,
        } = self.finding;
        let mut st = serializer.serialize_struct("Finding", 13)?;
        st.serialize_field("id", id)?;
        st.serialize_field("aliases", aliases)?;
        st.serialize_field("severity", severity)?;
        if priority.is_some() {
            st.serialize_field("priority", priority)?;
        }
        st.serialize_field("kev", kev)?;
        if epss.is_some() {
            st.serialize_field("epss", epss)?;
        }
        if published.is_some() {
            st.serialize_field("published", published)?;
        }
        if self.age.is_some() {
            st.serialize_field("age_days", &self.age)?;
        }
        st.serialize_field("fix_available", fix_available)?;
        st.serialize_field("fixed_versions", fixed_versions)?;
        if fix_published.is_some() {
            st.serialize_field("fix_published", fix_published)?;
        }
        if self.fix_age.is_some() {
            st.serialize_field("fix_age_days", &self.fix_age)?;
        }
        if package.is_some() {
            st.serialize_field("package", package)?;
        }
        st.end()
    }
}

/// Rejects JSON nested deeper than `max` (iteratively, so a hostile document
/// cannot overflow the stack here).
pub fn check_depth(value: &serde_json::Value, max: usize) -> Result<()> {
    let mut stack = vec![(value, 1usize)];
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &serde_json::Value>> = match v {
            serde_json::Value::Array(a) => Box::new(a.iter()),
            serde_json::Value::Object(o) => Box::new(o.values()),
            _ => continue,
        };
        if depth > max {
            return Err(PolicyError::Limit(format!(
                "input nests deeper than {max} levels"
            )));
        }
        stack.extend(children.map(|c| (c, depth + 1)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest() -> String {
        format!("sha256:{}", "a".repeat(64))
    }

    fn minimal() -> serde_json::Value {
        serde_json::json!({
            "version": INPUT_VERSION,
            "artifact": {"name": "registry.example/app", "digest": digest()}
        })
    }

    #[test]
    fn minimal_input_parses() -> Result<()> {
        let input = PolicyInput::from_value(minimal())?;
        assert_eq!(input.artifact.name, "registry.example/app");
        assert!(input.findings.is_empty());
        Ok(())
    }

    #[test]
    fn wrong_or_missing_version_is_rejected() {
        let mut v = minimal();
        v["version"] = "palisade.dev/policy-input/v2".into();
        let err = PolicyInput::from_value(v)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("not supported"), "{err}");
        let mut v = minimal();
        if let Some(o) = v.as_object_mut() {
            o.remove("version");
        }
        assert!(PolicyInput::from_value(v).is_err());
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let mut v = minimal();
        v["artifact"]["digets"] = "x".into();
        let err = PolicyInput::from_value(v)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("digets"), "{err}");
    }

    #[test]
    fn digests_are_checked_strictly() {
        assert!(is_valid_digest(&digest()));
        assert!(!is_valid_digest(&format!("sha256:{}", "A".repeat(64))));
        assert!(!is_valid_digest(&format!("sha256:{}", "a".repeat(63))));
        assert!(!is_valid_digest(&format!("md5:{}", "a".repeat(32))));
        assert!(!is_valid_digest("latest"));
        let mut v = minimal();
        v["artifact"]["digest"] = "sha256:abc".into();
        assert!(PolicyInput::from_value(v).is_err());
    }

    #[test]
    fn deep_nesting_is_rejected_without_recursion() {
        let mut v = serde_json::json!(1);
        for _ in 0..100 {
            v = serde_json::json!([v]);
        }
        let mut input = minimal();
        input["attestations"] = serde_json::json!([{
            "predicate_type": "x", "signer": {"identity": "a"},
            "subject_matches_artifact": true, "statement": {"deep": v}
        }]);
        let err = PolicyInput::from_value(input)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("deeper"), "{err}");
    }

    #[test]
    fn bad_epss_and_times_are_rejected() {
        let mut v = minimal();
        v["findings"] = serde_json::json!([{"id": "CVE-1", "severity": "high", "epss": 1.5}]);
        assert!(PolicyInput::from_value(v).is_err());
        let mut v = minimal();
        v["findings"] =
            serde_json::json!([{"id": "CVE-1", "severity": "high", "published": "yesterday"}]);
        assert!(PolicyInput::from_value(v).is_err());
    }

    #[test]
    fn prepare_computes_ages() -> Result<()> {
        let mut v = minimal();
        v["findings"] = serde_json::json!([{
            "id": "CVE-1", "severity": "critical", "published": "2026-01-01T00:00:00Z",
            "fix_available": true, "fix_published": "2026-01-11T12:00:00Z"
        }]);
        let mut input = PolicyInput::from_value(v)?;
        let now = parse_time("now", "2026-01-31T00:00:00Z")?;
        input.prepare(
            now,
            EnvironmentInfo {
                name: "prod".into(),
                params: Default::default(),
            },
            vec![],
        )?;
        let f = &input.findings[0];
        assert_eq!(f.age_days, Some(30));
        assert_eq!(f.fix_age_days, Some(19));
        assert_eq!(input.now.as_deref(), Some("2026-01-31T00:00:00Z"));
        Ok(())
    }

    #[test]
    fn severity_orders_and_parses() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Unknown < Severity::None);
        assert_eq!(Severity::parse("MODERATE"), Some(Severity::Medium));
        assert_eq!(Severity::parse("bogus"), None);
    }

    #[test]
    fn qualified_workload_name() {
        let w = Workload {
            name: "api".into(),
            namespace: Some("pay".into()),
            ..Default::default()
        };
        assert_eq!(w.qualified_name(), "pay/api");
    }
}
