//! An artifact's input, prepared once for many decisions.
//!
//! A decision sees one document: the artifact's evidence (the artifact, its
//! attestations, its SBOM summary, its findings) and what the engine adds
//! for the moment (the time, the environment, the workload, the exceptions
//! in force, and each finding's age). Turning the evidence into a regorus
//! value and writing its canonical JSON for the input digest costs more
//! than evaluating every policy on it (about 1.45 ms of a 2.8 ms decision
//! with 500 findings and 300 components), and it is the same work for every
//! decision about the same artifact: every replica of a workload, every
//! environment it is promoted to, every background audit until the evidence
//! changes.
//!
//! [`PreparedArtifact`] does that work once. It keeps each part of the
//! evidence as a regorus value (reference counted, so a decision's document
//! shares it) beside its canonical text, and the findings with the ages of
//! the last decision. A decision builds only the small parts (time,
//! environment, workload, exceptions), re-converts only the findings whose
//! age in whole days has changed since the previous decision, and hashes
//! the canonical texts in key order: the same value and the same digest, to
//! the byte, as converting the whole document at once (the tests compare
//! both with regorus's parse of serde_json's text and with
//! `serde_json_canonicalizer`).
//!
//! A prepared artifact is tied to the evidence it was made from: whoever
//! keeps one (the server, per artifact digest and evidence generation) must
//! drop it when the evidence changes. [`crate::Engine::decide`] prepares the
//! input afresh for each call.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::error::{PolicyError, Result};
use crate::exception::Exception;
use crate::input::{
    AgedFinding, EnvironmentInfo, FindingTimes, PolicyInput, PreparedView, Workload, format_time,
};

/// A part of the document: its value and its canonical text (`None` when
/// the canonical writer cannot express it and the digest falls back to
/// `serde_json_canonicalizer` on the typed document).
#[derive(Debug)]
struct Part {
    value: regorus::Value,
    text: Option<Vec<u8>>,
}

impl Part {
    fn of<T: Serialize + ?Sized>(typed: &T) -> Result<Self> {
        let value = crate::to_rego::to_value(typed)
            .map_err(|e| PolicyError::Input(format!("cannot convert the input: {e}")))?;
        let mut text = Vec::new();
        let text = crate::canonical::append(&value, &mut text).map(|()| text);
        Ok(Self { value, text })
    }
}

/// The findings with their ages at a decision time.
#[derive(Debug)]
struct AgedFindings {
    ages: Vec<(Option<i64>, Option<i64>)>,
    /// The array of findings.
    value: regorus::Value,
    /// Its canonical text, and where each finding's text lies in it.
    text: Option<(Vec<u8>, Vec<Range<usize>>)>,
}

/// An artifact's evidence converted once for many decisions (see the
/// module documentation). `Send + Sync`: decisions on several threads share
/// one. An input that fails its checks ([`PolicyInput::validate`]) is
/// prepared too: every decision about it denies with the reason.
#[derive(Debug)]
pub struct PreparedArtifact<'a> {
    input: Cow<'a, PolicyInput>,
    ready: std::result::Result<Ready, String>,
}

/// The converted evidence of a valid input.
#[derive(Debug)]
struct Ready {
    times: Vec<FindingTimes>,
    version: Part,
    artifact: Part,
    attestations: Part,
    sbom: Option<Part>,
    /// The findings at the ages of the last decision.
    findings: Mutex<Option<Arc<AgedFindings>>>,
}

impl<'a> PreparedArtifact<'a> {
    /// Checks `input` and converts its evidence, borrowing it.
    pub fn new(input: &'a PolicyInput) -> Self {
        Self::from_cow(Cow::Borrowed(input))
    }

    /// As [`Self::new`], owning the input (to keep in a cache).
    pub fn owned(input: PolicyInput) -> PreparedArtifact<'static> {
        PreparedArtifact::from_cow(Cow::Owned(input))
    }

    fn from_cow(input: Cow<'a, PolicyInput>) -> Self {
        let ready = Ready::of(&input).map_err(|e| e.to_string());
        Self { input, ready }
    }

    /// The input the artifact was prepared from.
    pub fn input(&self) -> &PolicyInput {
        &self.input
    }

    /// Why the input cannot be decided on, if it cannot.
    pub fn error(&self) -> Option<&str> {
        self.ready.as_ref().err().map(String::as_str)
    }

    /// The document the policies see at `now`, and its digest (the SHA-256
    /// of its RFC 8785 canonical JSON, `sha256:<hex>`); the error's text
    /// when the input is invalid.
    pub(crate) fn document(
        &self,
        now: OffsetDateTime,
        environment: &EnvironmentInfo,
        workload: Option<&Workload>,
        exceptions: &[Exception],
    ) -> std::result::Result<(regorus::Value, String), String> {
        let ready = self.ready.as_ref().map_err(String::clone)?;
        ready
            .document(&self.input, now, environment, workload, exceptions)
            .map_err(|e| e.to_string())
    }
}

impl Ready {
    fn of(input: &PolicyInput) -> Result<Self> {
        input.validate()?;
        Ok(Self {
            times: input.finding_times()?,
            version: Part::of(&input.version)?,
            artifact: Part::of(&input.artifact)?,
            attestations: Part::of(&input.attestations)?,
            sbom: input.sbom.as_ref().map(Part::of).transpose()?,
            findings: Mutex::new(None),
        })
    }

    /// The findings at `ages`: the last ones when no age changed, else
    /// rebuilt, converting only the findings whose ages changed.
    fn findings_at(
        &self,
        input: &PolicyInput,
        ages: Vec<(Option<i64>, Option<i64>)>,
    ) -> Result<Arc<AgedFindings>> {
        let last = self
            .findings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(last) = &last
            && last.ages == ages
        {
            return Ok(last.clone());
        }
        let built = Arc::new(build_findings(input, ages, last.as_deref())?);
        *self.findings.lock().unwrap_or_else(PoisonError::into_inner) = Some(built.clone());
        Ok(built)
    }

    /// The document at `now` (see [`PreparedArtifact::document`]).
    fn document(
        &self,
        input: &PolicyInput,
        now: OffsetDateTime,
        environment: &EnvironmentInfo,
        workload: Option<&Workload>,
        exceptions: &[Exception],
    ) -> Result<(regorus::Value, String)> {
        let findings = self.findings_at(input, input.ages_at(&self.times, now))?;
        let now_text = format_time(now);
        let now_part = Part::of(now_text.as_str())?;
        let environment_part = Part::of(environment)?;
        let exceptions_part = Part::of(exceptions)?;
        let workload_part = workload.map(Part::of).transpose()?;
        let findings_text = findings.text.as_ref().map(|(t, _)| t.as_slice());
        // The members in the order of their keys, which is RFC 8785's order
        // (UTF-16 code units; these keys are ASCII).
        let members: Vec<(&'static str, &regorus::Value, Option<&[u8]>)> = [
            Some(("artifact", &self.artifact)),
            Some(("attestations", &self.attestations)),
            Some(("environment", &environment_part)),
            Some(("exceptions", &exceptions_part)),
        ]
        .into_iter()
        .flatten()
        .map(|(k, p)| (k, &p.value, p.text.as_deref()))
        .chain([("findings", &findings.value, findings_text)])
        .chain(
            [
                Some(("now", &now_part)),
                self.sbom.as_ref().map(|p| ("sbom", p)),
                Some(("version", &self.version)),
                workload_part.as_ref().map(|p| ("workload", p)),
            ]
            .into_iter()
            .flatten()
            .map(|(k, p)| (k, &p.value, p.text.as_deref())),
        )
        .collect();
        let value = regorus::Value::from(
            members
                .iter()
                .map(|(k, v, _)| (regorus::Value::from(*k), (*v).clone()))
                .collect::<BTreeMap<_, _>>(),
        );
        let sha256: [u8; 32] = if members.iter().all(|(_, _, t)| t.is_some()) {
            let mut hasher = Sha256::new();
            hasher.update(b"{");
            for (i, (k, _, text)) in members.iter().enumerate() {
                if i > 0 {
                    hasher.update(b",");
                }
                hasher.update(b"\"");
                hasher.update(k.as_bytes());
                hasher.update(b"\":");
                hasher.update(text.unwrap_or_default());
            }
            hasher.update(b"}");
            hasher.finalize().into()
        } else {
            let view = PreparedView {
                input,
                now: now_text,
                environment,
                workload,
                exceptions,
                ages: findings.ages.clone(),
            };
            Sha256::digest(
                serde_json_canonicalizer::to_vec(&view)
                    .map_err(|e| PolicyError::Input(format!("cannot canonicalise: {e}")))?,
            )
            .into()
        };
        Ok((value, format!("sha256:{}", hex::encode(sha256))))
    }
}

/// The findings of `input` at `ages`, sharing what `last` had at the same
/// ages.
fn build_findings(
    input: &PolicyInput,
    ages: Vec<(Option<i64>, Option<i64>)>,
    last: Option<&AgedFindings>,
) -> Result<AgedFindings> {
    let findings = &input.findings;
    let last_items = last.and_then(|l| match &l.value {
        regorus::Value::Array(items) if items.len() == findings.len() => Some((l, items)),
        _ => None,
    });
    let mut items = Vec::with_capacity(findings.len());
    let capacity = last
        .and_then(|l| l.text.as_ref())
        .map_or(0, |(t, _)| t.len() + 64);
    let mut text: Option<(Vec<u8>, Vec<Range<usize>>)> = Some((
        Vec::with_capacity(capacity),
        Vec::with_capacity(findings.len()),
    ));
    if let Some((buf, _)) = &mut text {
        buf.push(b'[');
    }
    for (i, (finding, &(age, fix_age))) in findings.iter().zip(&ages).enumerate() {
        let reused = last_items.and_then(|(l, items)| {
            (l.ages.get(i) == Some(&(age, fix_age)))
                .then(|| items.get(i).map(|v| (l, v)))
                .flatten()
        });
        let value = match reused {
            Some((_, v)) => v.clone(),
            None => crate::to_rego::to_value(&AgedFinding {
                finding,
                age,
                fix_age,
            })
            .map_err(|e| PolicyError::Input(format!("cannot convert the input: {e}")))?,
        };
        if let Some((buf, spans)) = &mut text {
            if i > 0 {
                buf.push(b',');
            }
            let start = buf.len();
            let old = reused.and_then(|(l, _)| {
                let (t, s) = l.text.as_ref()?;
                t.get(s.get(i)?.clone())
            });
            let written = match old {
                Some(old) => {
                    buf.extend_from_slice(old);
                    Some(())
                }
                None => crate::canonical::append(&value, buf),
            };
            match written {
                Some(()) => spans.push(start..buf.len()),
                None => text = None,
            }
        }
        items.push(value);
    }
    if let Some((buf, _)) = &mut text {
        buf.push(b']');
    }
    Ok(AgedFindings {
        ages,
        value: regorus::Value::from(items),
        text,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::input::Workload;

    fn env() -> EnvironmentInfo {
        EnvironmentInfo {
            name: "prod".into(),
            params: serde_json::json!({"n": 30, "f": 0.5, "neg": -3, "list": ["a", null, true]})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        }
    }

    /// The input of the scenarios, with a workload whose label needs the
    /// UTF-16 re-sort, a finding with a given age and no dates, and a
    /// non-integral number that the canonical writer hands to the library.
    fn input() -> PolicyInput {
        let text = include_str!("../tests/scenarios/base-input.json");
        let mut input = PolicyInput::from_json(text.as_bytes()).unwrap();
        input.workload = Some(Workload {
            name: "api".into(),
            labels: [("tier\u{e9}".to_string(), "1".to_string())].into(),
            ..Default::default()
        });
        let mut given = input.findings[0].clone();
        given.id = "CVE-GIVEN".into();
        given.published = None;
        given.fix_published = None;
        given.age_days = Some(7);
        given.package = None;
        given.epss = Some(0.123_456_789);
        input.findings.push(given);
        input
    }

    /// The reference: the typed input prepared at `now`, as serde_json's
    /// text parsed by regorus, and its `serde_json_canonicalizer` digest.
    fn reference(
        input: &PolicyInput,
        now: OffsetDateTime,
        workload: Option<&Workload>,
    ) -> (regorus::Value, String) {
        let mut prepared = input.clone();
        prepared.workload = workload.cloned();
        prepared.prepare(now, env(), Vec::new()).unwrap();
        let json = serde_json::to_string(&prepared).unwrap();
        let parsed = regorus::Value::from_json_str(&json).unwrap();
        let value = serde_json::to_value(&prepared).unwrap();
        (parsed, crate::engine::canonical_digest(&value).unwrap())
    }

    #[test]
    fn the_document_is_what_regorus_parses_from_the_json_text_at_every_time() {
        let input = input();
        let prepared = PreparedArtifact::new(&input);
        let other = Workload {
            name: "worker".into(),
            namespace: Some("shop".into()),
            ..Default::default()
        };
        // The same prepared artifact at times where some ages change and
        // some do not, then back, and for two workloads.
        for (now, workload) in [
            ("2026-06-01T00:00:00Z", input.workload.as_ref()),
            ("2026-06-01T12:00:00Z", input.workload.as_ref()),
            ("2026-06-01T12:00:01Z", Some(&other)),
            ("2026-09-17T08:30:00Z", None),
            ("2026-06-01T00:00:00Z", input.workload.as_ref()),
        ] {
            let now = crate::parse_rfc3339(now).unwrap();
            let (value, digest) = prepared.document(now, &env(), workload, &[]).unwrap();
            let (parsed, expected) = reference(&input, now, workload);
            assert_eq!(value, parsed, "at {now}");
            assert_eq!(digest, expected, "at {now}");
        }
    }

    #[test]
    fn a_finding_whose_age_did_not_change_is_shared_not_rebuilt() {
        let input = input();
        let prepared = PreparedArtifact::new(&input);
        let at = |t: &str| crate::parse_rfc3339(t).unwrap();
        let first = prepared
            .document(at("2026-06-01T00:00:00Z"), &env(), None, &[])
            .unwrap();
        let ready = prepared.ready.as_ref().unwrap();
        let first_findings = ready.findings.lock().unwrap().clone().unwrap();
        // A second later no age changes: the very same findings.
        prepared
            .document(at("2026-06-01T00:00:01Z"), &env(), None, &[])
            .unwrap();
        let same = ready.findings.lock().unwrap().clone().unwrap();
        assert!(Arc::ptr_eq(&first_findings, &same));
        // A year later every dated finding is rebuilt; the one with a given
        // age and no dates is shared.
        let (_, digest) = prepared
            .document(at("2027-06-01T00:00:00Z"), &env(), None, &[])
            .unwrap();
        assert_ne!(digest, first.1);
        let later = ready.findings.lock().unwrap().clone().unwrap();
        let (regorus::Value::Array(a), regorus::Value::Array(b)) = (&same.value, &later.value)
        else {
            panic!("findings are arrays");
        };
        let last = a.len() - 1;
        let (regorus::Value::Object(x), regorus::Value::Object(y)) = (&a[last], &b[last]) else {
            panic!("findings are objects");
        };
        assert!(Arc::ptr_eq(x, y));
        let (regorus::Value::Object(x), regorus::Value::Object(y)) = (&a[0], &b[0]) else {
            panic!("findings are objects");
        };
        assert!(!Arc::ptr_eq(x, y));
    }

    #[test]
    fn an_invalid_input_is_refused_when_prepared() {
        let mut input = input();
        input.findings[0].published = Some("yesterday".into());
        let prepared = PreparedArtifact::new(&input);
        let err = prepared.error().unwrap();
        assert!(err.contains("findings[0].published"), "{err}");
        let now = crate::parse_rfc3339("2026-06-01T00:00:00Z").unwrap();
        assert_eq!(prepared.document(now, &env(), None, &[]).unwrap_err(), err);
    }
}
