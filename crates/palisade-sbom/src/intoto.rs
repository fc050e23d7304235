//! SBOMs inside attestations: an in-toto statement whose `predicate` is a
//! CycloneDX or SPDX JSON document, bare or wrapped in a DSSE envelope (what
//! `cosign attest --type cyclonedx|spdxjson` produces). Only the predicate is
//! extracted; verifying the envelope's signatures is the attest crate's job,
//! and reading an SBOM this way says nothing about its authenticity.

use base64::Engine;
use serde::Deserialize;
use std::borrow::Cow;

use crate::SbomError;

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, rename = "payloadType", default)]
    payload_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    payload: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "_type", default)]
    statement_type: Option<Cow<'a, str>>,
    #[serde(default)]
    predicate: Option<serde_json::Value>,
}

fn to_bytes(v: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

/// The predicate bytes of a statement or of a DSSE envelope holding one.
pub fn predicate(bytes: &[u8], source_name: &str) -> Result<Vec<u8>, SbomError> {
    let env: Envelope<'_> = serde_json::from_slice(bytes)
        .map_err(|e| crate::json_error::<Envelope<'_>>(bytes, source_name, e))?;
    if let Some(p) = env.predicate {
        if env.statement_type.is_none() {
            return Err(not_statement(source_name, "a `predicate` without `_type`"));
        }
        return Ok(to_bytes(&p));
    }
    let Some(payload) = env.payload.as_deref() else {
        return Err(not_statement(
            source_name,
            "neither a DSSE `payload` nor an in-toto `predicate`",
        ));
    };
    if let Some(t) = env.payload_type.as_deref()
        && t != "application/vnd.in-toto+json"
    {
        return Err(not_statement(
            source_name,
            &format!("DSSE payloadType {t:?} is not application/vnd.in-toto+json"),
        ));
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(payload.trim())
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(payload.trim()))
        .map_err(|e| SbomError::Syntax {
            source_name: source_name.to_owned(),
            position: "$.payload".to_owned(),
            message: format!("the DSSE payload is not base64: {e}"),
        })?;
    let inner: Envelope<'_> = serde_json::from_slice(&decoded).map_err(|e| SbomError::Syntax {
        source_name: source_name.to_owned(),
        position: format!(
            "$.payload (decoded), line {}, column {}",
            e.line(),
            e.column()
        ),
        message: format!("the DSSE payload is not an in-toto statement: {e}"),
    })?;
    match inner.predicate {
        Some(p) if inner.statement_type.is_some() => Ok(to_bytes(&p)),
        _ => Err(not_statement(
            source_name,
            "the DSSE payload has no in-toto `predicate`",
        )),
    }
}

fn not_statement(source_name: &str, why: &str) -> SbomError {
    SbomError::UnknownFormat {
        source_name: source_name.to_owned(),
        reason: format!("not an SBOM attestation: {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_predicates_bare_and_enveloped() {
        let statement = br#"{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://cyclonedx.org/bom","subject":[],"predicate":{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"a","purl":"pkg:npm/a@1"}]}}"#;
        let inv = crate::read(statement, "s.json").ok().unwrap_or_default();
        assert_eq!(inv.components.len(), 1);
        let b64 = base64::engine::general_purpose::STANDARD.encode(statement);
        let env = format!(
            r#"{{"payloadType":"application/vnd.in-toto+json","payload":"{b64}","signatures":[]}}"#
        );
        let inv = crate::read(env.as_bytes(), "e.json")
            .ok()
            .unwrap_or_default();
        assert_eq!(inv.components.len(), 1);
        let bad =
            br#"{"payloadType":"application/vnd.in-toto+json","payload":"!!!","signatures":[]}"#;
        let e = crate::read(bad, "bad.json")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("$.payload") && e.contains("base64"), "{e}");
    }

    #[test]
    fn statement_keys_after_the_predicate_still_read_as_an_attestation() {
        let late = br#"{"predicate":{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"a"}]},"_type":"https://in-toto.io/Statement/v1","predicateType":"https://cyclonedx.org/bom","subject":[]}"#;
        let inv = crate::read(late, "late.json").ok().unwrap_or_default();
        assert_eq!(inv.components.len(), 1);
    }
}
