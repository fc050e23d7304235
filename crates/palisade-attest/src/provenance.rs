//! SLSA provenance: recording a build step (v1), reading v1 and v0.2, checking
//! provenance against expectations as slsa-verifier does, and issuing a
//! Verification Summary Attestation (VSA v1) for what passed.
//!
//! Design: the recorder takes plain data (materials and products with their
//! digests, builder id, build type, parameters, source, times) and emits a
//! Statement whose predicate follows the SLSA v1 schema; the source
//! repository and revision become the first `resolvedDependencies` entry
//! (`git+URI@REF` with a `gitCommit` digest), which is where slsa-verifier
//! and the SLSA specification look for them. The checker extracts one
//! neutral [`ProvenanceFacts`] from either schema version (v1:
//! `runDetails.builder.id`, `resolvedDependencies` or the GitHub workflow
//! parameters; v0.2: `builder.id`, `invocation.configSource`) and compares it
//! with the expectations, one check per expectation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Error;
use crate::statement::{ResourceDescriptor, Statement, predicate_types};
use crate::verification::Check;

/// The source a build consumed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// The repository URI (`https://git.example/org/repo`).
    pub repository: String,
    /// The revision (commit id).
    pub revision: String,
    /// The ref built (`refs/heads/main`, `refs/tags/v1.0`), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
}

/// What a build step did, to be recorded as SLSA v1 provenance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BuildRecord {
    /// The builder's id (a URI).
    pub builder_id: String,
    /// The build type (a URI naming the build's template).
    pub build_type: String,
    /// Invocation parameters set by the caller of the build.
    pub external_parameters: serde_json::Map<String, Value>,
    /// The source built, if any.
    pub source: Option<SourceInfo>,
    /// Materials consumed (besides the source).
    pub materials: Vec<ResourceDescriptor>,
    /// Products: the statement's subjects.
    pub products: Vec<ResourceDescriptor>,
    /// An identifier of this invocation.
    pub invocation_id: Option<String>,
    /// Start time, RFC 3339.
    pub started_on: Option<String>,
    /// Finish time, RFC 3339.
    pub finished_on: Option<String>,
}

impl BuildRecord {
    /// The SLSA v1 provenance statement for this record.
    pub fn to_statement(&self) -> Result<Statement, Error> {
        if self.products.is_empty() {
            return Err(Error::format(
                "provenance",
                "a build must record at least one product",
            ));
        }
        if self.builder_id.is_empty() || self.build_type.is_empty() {
            return Err(Error::format(
                "provenance",
                "builder id and build type are required",
            ));
        }
        let mut deps: Vec<Value> = Vec::new();
        let mut external = self.external_parameters.clone();
        if let Some(src) = &self.source {
            let uri = match &src.git_ref {
                Some(r) => format!("git+{}@{r}", src.repository),
                None => format!("git+{}", src.repository),
            };
            deps.push(json!({"uri": uri, "digest": {"gitCommit": src.revision}}));
            let mut s = serde_json::Map::new();
            s.insert("repository".into(), json!(src.repository));
            if let Some(r) = &src.git_ref {
                s.insert("ref".into(), json!(r));
            }
            external.entry("source").or_insert(Value::Object(s));
        }
        for m in &self.materials {
            deps.push(
                serde_json::to_value(m).map_err(|e| Error::format("provenance", e.to_string()))?,
            );
        }
        let mut metadata = serde_json::Map::new();
        if let Some(id) = &self.invocation_id {
            metadata.insert("invocationId".into(), json!(id));
        }
        if let Some(t) = &self.started_on {
            metadata.insert("startedOn".into(), json!(check_time(t)?));
        }
        if let Some(t) = &self.finished_on {
            metadata.insert("finishedOn".into(), json!(check_time(t)?));
        }
        let predicate = json!({
            "buildDefinition": {
                "buildType": self.build_type,
                "externalParameters": external,
                "resolvedDependencies": deps,
            },
            "runDetails": {
                "builder": {"id": self.builder_id},
                "metadata": metadata,
            }
        });
        let st = Statement::new(
            self.products.clone(),
            predicate_types::SLSA_PROVENANCE_V1,
            predicate,
        );
        st.validate()?;
        Ok(st)
    }
}

fn check_time(t: &str) -> Result<String, Error> {
    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
        .map_err(|e| Error::format("provenance", format!("{t:?} is not an RFC 3339 time: {e}")))?;
    Ok(t.to_string())
}

/// What provenance says, whatever its version.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenanceFacts {
    /// `v1` or `v0.2`.
    pub version: String,
    /// The builder id.
    pub builder_id: Option<String>,
    /// The build type.
    pub build_type: Option<String>,
    /// The source repository URI as written.
    pub source_uri: Option<String>,
    /// The source ref (`refs/heads/main`).
    pub source_ref: Option<String>,
    /// The source revision digests.
    pub source_digest: BTreeMap<String, String>,
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

fn split_git_uri(uri: &str) -> (String, Option<String>) {
    let uri = uri.strip_prefix("git+").unwrap_or(uri);
    // The ref follows the last '@' in the path (an '@' before the first '/'
    // after the scheme is a user name, as in `ssh://git@host/repo`).
    let host_start = uri.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = uri
        .get(host_start..)
        .and_then(|rest| rest.find('/'))
        .map(|i| host_start + i)
        .unwrap_or(uri.len());
    match uri.get(path_start..).and_then(|rest| rest.rfind('@')) {
        Some(at) => {
            let at = path_start + at;
            (
                uri.get(..at).unwrap_or(uri).to_string(),
                uri.get(at + 1..).map(str::to_string),
            )
        }
        None => (uri.to_string(), None),
    }
}

impl ProvenanceFacts {
    /// Extracts the facts from a provenance statement (v1 or v0.2).
    pub fn from_statement(st: &Statement) -> Result<Self, Error> {
        let p = &st.predicate;
        let mut f = ProvenanceFacts::default();
        match st.predicate_type.as_str() {
            predicate_types::SLSA_PROVENANCE_V1 => {
                f.version = "v1".into();
                f.builder_id = str_at(p, &["runDetails", "builder", "id"]).map(str::to_string);
                f.build_type = str_at(p, &["buildDefinition", "buildType"]).map(str::to_string);
                let ext = p.pointer("/buildDefinition/externalParameters");
                // GitHub Actions workflows (slsa-github-generator, GitHub attestations).
                if let Some(repo) = ext.and_then(|e| str_at(e, &["workflow", "repository"])) {
                    f.source_uri = Some(repo.to_string());
                    f.source_ref = ext
                        .and_then(|e| str_at(e, &["workflow", "ref"]))
                        .map(str::to_string);
                }
                let deps = p
                    .pointer("/buildDefinition/resolvedDependencies")
                    .and_then(Value::as_array);
                if let Some(dep) = deps.and_then(|d| {
                    d.iter().find(|x| {
                        x.get("uri")
                            .and_then(Value::as_str)
                            .is_some_and(|u| u.starts_with("git+"))
                    })
                }) {
                    let (uri, git_ref) =
                        split_git_uri(dep.get("uri").and_then(Value::as_str).unwrap_or(""));
                    if f.source_uri.is_none() {
                        f.source_uri = Some(uri);
                        f.source_ref = git_ref;
                    }
                    if let Some(d) = dep.get("digest").and_then(Value::as_object) {
                        f.source_digest = d
                            .iter()
                            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                            .collect();
                    }
                }
            }
            predicate_types::SLSA_PROVENANCE_V02 => {
                f.version = "v0.2".into();
                f.builder_id = str_at(p, &["builder", "id"]).map(str::to_string);
                f.build_type = str_at(p, &["buildType"]).map(str::to_string);
                if let Some(uri) = str_at(p, &["invocation", "configSource", "uri"]) {
                    let (uri, git_ref) = split_git_uri(uri);
                    f.source_uri = Some(uri);
                    f.source_ref = git_ref;
                }
                if let Some(d) = p
                    .pointer("/invocation/configSource/digest")
                    .and_then(Value::as_object)
                {
                    f.source_digest = d
                        .iter()
                        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                        .collect();
                }
            }
            other => {
                return Err(Error::format(
                    "provenance",
                    format!("predicate type {other} is not SLSA provenance v1 or v0.2"),
                ));
            }
        }
        Ok(f)
    }
}

/// What the provenance must show.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenanceExpectations {
    /// The builder id; without `@version`, any version of that builder matches.
    pub builder_id: Option<String>,
    /// The source repository (`github.com/org/repo`, with or without scheme).
    pub source_uri: Option<String>,
    /// The branch (`main` or `refs/heads/main`).
    pub branch: Option<String>,
    /// The tag (`v1.0` or `refs/tags/v1.0`).
    pub tag: Option<String>,
}

fn normalise_repo(uri: &str) -> String {
    let u = uri.strip_prefix("git+").unwrap_or(uri);
    let u = u.split_once("://").map(|(_, r)| r).unwrap_or(u);
    let u = u.trim_end_matches('/');
    u.strip_suffix(".git").unwrap_or(u).to_ascii_lowercase()
}

/// Compares the facts with the expectations; one check per expectation given.
pub fn check_expectations(facts: &ProvenanceFacts, exp: &ProvenanceExpectations) -> Vec<Check> {
    let mut checks = Vec::new();
    if let Some(want) = &exp.builder_id {
        let got = facts.builder_id.as_deref().unwrap_or("");
        let ok = got == want
            || (!want.contains('@') && got.split_once('@').is_some_and(|(name, _)| name == want));
        let reason = format!("The builder id is {got:?}; expected {want:?}.");
        checks.push(if ok {
            Check::pass("builder-id", None, reason)
        } else {
            Check::fail("builder-id", None, reason)
        });
    }
    if let Some(want) = &exp.source_uri {
        let got = facts.source_uri.as_deref().unwrap_or("");
        let ok = !got.is_empty() && normalise_repo(got) == normalise_repo(want);
        let reason = format!("The source repository is {got:?}; expected {want:?}.");
        checks.push(if ok {
            Check::pass("source-uri", None, reason)
        } else {
            Check::fail("source-uri", None, reason)
        });
    }
    for (name, want, prefix) in [
        ("source-branch", &exp.branch, "refs/heads/"),
        ("source-tag", &exp.tag, "refs/tags/"),
    ] {
        if let Some(want) = want {
            let full = if want.starts_with("refs/") {
                want.clone()
            } else {
                format!("{prefix}{want}")
            };
            let got = facts.source_ref.as_deref().unwrap_or("");
            let reason = format!("The source ref is {got:?}; expected {full:?}.");
            checks.push(if got == full {
                Check::pass(name, None, reason)
            } else {
                Check::fail(name, None, reason)
            });
        }
    }
    checks
}

/// The content of a VSA v1 to issue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VsaRecord {
    /// The verifier's id (a URI).
    pub verifier_id: String,
    /// When the verification happened, RFC 3339.
    pub time_verified: String,
    /// The resource verified (a URI).
    pub resource_uri: String,
    /// The policy applied (a URI).
    pub policy_uri: String,
    /// The attestations that were verified.
    pub input_attestations: Vec<ResourceDescriptor>,
    /// `PASSED` or `FAILED`.
    pub passed: bool,
    /// The SLSA levels verified (`SLSA_BUILD_LEVEL_2`).
    pub verified_levels: Vec<String>,
    /// The artifact(s) the summary is about.
    pub subjects: Vec<ResourceDescriptor>,
}

impl VsaRecord {
    /// The VSA v1 statement.
    pub fn to_statement(&self) -> Result<Statement, Error> {
        check_time(&self.time_verified)?;
        let predicate = json!({
            "verifier": {"id": self.verifier_id},
            "timeVerified": self.time_verified,
            "resourceUri": self.resource_uri,
            "policy": {"uri": self.policy_uri},
            "inputAttestations": self.input_attestations,
            "verificationResult": if self.passed { "PASSED" } else { "FAILED" },
            "verifiedLevels": self.verified_levels,
            "slsaVersion": "1.0",
        });
        let st = Statement::new(
            self.subjects.clone(),
            predicate_types::SLSA_VSA_V1,
            predicate,
        );
        st.validate()?;
        Ok(st)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statement::DigestRef;

    fn record() -> BuildRecord {
        BuildRecord {
            builder_id: "https://ci.example/builders/linux@v2".into(),
            build_type: "https://palisade.dev/build/script/v1".into(),
            external_parameters: serde_json::Map::from_iter([(
                "target".to_string(),
                json!("release"),
            )]),
            source: Some(SourceInfo {
                repository: "https://git.example/org/app".into(),
                revision: "a".repeat(40),
                git_ref: Some("refs/heads/main".into()),
            }),
            materials: vec![ResourceDescriptor::with_digest(
                "go.sum",
                &DigestRef::sha256_of(b"m"),
            )],
            products: vec![ResourceDescriptor::with_digest(
                "app",
                &DigestRef::sha256_of(b"p"),
            )],
            invocation_id: Some("run-1".into()),
            started_on: Some("2026-11-25T06:00:00Z".into()),
            finished_on: Some("2026-11-25T06:05:00Z".into()),
        }
    }

    #[test]
    fn recorded_provenance_round_trips_through_the_checker() -> Result<(), Error> {
        let st = record().to_statement()?;
        insta::assert_json_snapshot!("provenance_v1", st);
        let facts = ProvenanceFacts::from_statement(&st)?;
        assert_eq!(facts.source_ref.as_deref(), Some("refs/heads/main"));
        let exp = ProvenanceExpectations {
            builder_id: Some("https://ci.example/builders/linux".into()),
            source_uri: Some("git.example/org/app".into()),
            branch: Some("main".into()),
            tag: None,
        };
        let checks = check_expectations(&facts, &exp);
        assert_eq!(checks.len(), 3);
        assert!(
            checks
                .iter()
                .all(|c| c.status == crate::CheckStatus::Passed),
            "{checks:?}"
        );
        let wrong = ProvenanceExpectations {
            builder_id: Some("https://ci.example/builders/linux@v3".into()),
            source_uri: Some("git.example/org/other".into()),
            branch: None,
            tag: Some("v1".into()),
        };
        let checks = check_expectations(&facts, &wrong);
        assert!(
            checks
                .iter()
                .all(|c| c.status == crate::CheckStatus::Failed),
            "{checks:?}"
        );
        Ok(())
    }

    #[test]
    fn bad_times_and_missing_products_are_refused() {
        let mut r = record();
        r.started_on = Some("yesterday".into());
        assert!(r.to_statement().is_err());
        let mut r = record();
        r.products.clear();
        assert!(r.to_statement().is_err());
    }

    #[test]
    fn vsa_shape() -> Result<(), Error> {
        let st = VsaRecord {
            verifier_id: "https://palisade.dev/verifier".into(),
            time_verified: "2026-11-25T06:10:00Z".into(),
            resource_uri: "file:app".into(),
            policy_uri: "https://palisade.dev/policy/provenance".into(),
            input_attestations: vec![ResourceDescriptor::with_digest(
                "prov.json",
                &DigestRef::sha256_of(b"x"),
            )],
            passed: true,
            verified_levels: vec!["SLSA_BUILD_LEVEL_2".into()],
            subjects: vec![ResourceDescriptor::with_digest(
                "app",
                &DigestRef::sha256_of(b"p"),
            )],
        }
        .to_statement()?;
        insta::assert_json_snapshot!("vsa_v1", st);
        Ok(())
    }

    #[test]
    fn git_uri_splitting() {
        assert_eq!(
            split_git_uri("git+https://github.com/o/r@refs/tags/v1"),
            (
                "https://github.com/o/r".to_string(),
                Some("refs/tags/v1".to_string())
            )
        );
        assert_eq!(
            split_git_uri("git+ssh://git@host/o/r"),
            ("ssh://git@host/o/r".to_string(), None)
        );
    }
}
