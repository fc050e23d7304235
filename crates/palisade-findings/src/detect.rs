//! Format detection from content alone (file names lie: Trivy's goldens
//! end in `.golden`, SARIF files in `.json`).
//!
//! | format | recognised by |
//! |---|---|
//! | SARIF | an object with a `runs` array (and a `2.x` `version` or a SARIF `$schema`) |
//! | Trivy | `SchemaVersion` with `Results`/`ArtifactName`, `ClusterName` with `Resources`, or an array of objects with `Target` |
//! | Grype | a `matches` array (of objects with `vulnerability` and `artifact`) |
//! | osv-scanner | a `results` array of objects with `packages` or `source` (and no `errors`) |
//! | ZAP | a `site` member with `@version`, `@programName` or `@generated` |
//! | Falco | objects with `rule` and `priority` (and `output` or `output_fields`), one per line |
//!
//! Known formats that are not scanner reports (CycloneDX, SPDX, GitLab,
//! ASFF, Semgrep's and Bandit's native JSON, XML) are named in the error.

use serde_json::{Map, Value};

use crate::model::Format;

/// Detects the format of a parsed document, or says what it looks like.
pub(crate) fn detect_value(value: &Value) -> Result<Format, String> {
    match value {
        Value::Object(map) => detect_object(map),
        Value::Array(items) => {
            let Some(first) = items.first() else {
                return Err("an empty JSON array".to_owned());
            };
            let obj = first.as_object();
            if obj.is_some_and(|o| o.contains_key("Target")) {
                Ok(Format::Trivy)
            } else if obj.is_some_and(is_falco_event) {
                Ok(Format::Falco)
            } else {
                Err(format!(
                    "a JSON array whose first element is {}",
                    describe(first)
                ))
            }
        }
        other => Err(format!("a JSON value that is {}", crate::json::kind(other))),
    }
}

pub(crate) fn is_falco_event(o: &Map<String, Value>) -> bool {
    o.get("rule").is_some_and(Value::is_string)
        && o.contains_key("priority")
        && (o.contains_key("output") || o.contains_key("output_fields"))
}

fn detect_object(o: &Map<String, Value>) -> Result<Format, String> {
    let array = |k: &str| o.get(k).is_some_and(Value::is_array);
    let first_of =
        |k: &str| -> Option<&Map<String, Value>> { o.get(k)?.as_array()?.first()?.as_object() };
    if array("runs") {
        return Ok(Format::Sarif);
    }
    if (o.contains_key("SchemaVersion")
        && (o.contains_key("Results") || o.contains_key("ArtifactName")))
        || (o.contains_key("ClusterName") && o.contains_key("Resources"))
    {
        return Ok(Format::Trivy);
    }
    if array("matches") {
        return Ok(Format::Grype);
    }
    if o.contains_key("site")
        && (o.contains_key("@version")
            || o.contains_key("@programName")
            || o.contains_key("@generated"))
    {
        return Ok(Format::Zap);
    }
    if is_falco_event(o) {
        return Ok(Format::Falco);
    }
    if array("results") {
        let first = first_of("results");
        if first.is_some_and(|r| r.contains_key("check_id")) {
            return Err("Semgrep's native JSON (run Semgrep with --sarif instead)".to_owned());
        }
        if first.is_some_and(|r| r.contains_key("test_id")) || o.contains_key("metrics") {
            return Err("Bandit's native JSON (run Bandit with -f sarif instead)".to_owned());
        }
        let osv_like = first.is_none_or(|r| r.contains_key("packages") || r.contains_key("source"));
        if osv_like && !o.contains_key("errors") {
            return Ok(Format::OsvScanner);
        }
    }
    if o.contains_key("externalizedProperties")
        || o.get("$schema")
            .and_then(Value::as_str)
            .is_some_and(|s| s.contains("external-propert"))
    {
        return Err("a SARIF external property file: it holds no results (import the SARIF log that refers to it)".to_owned());
    }
    if o.contains_key("bomFormat") {
        return Err("a CycloneDX document: an SBOM, not a scanner report (read it with `palisade sbom` or scan it with `palisade scan`)".to_owned());
    }
    if o.contains_key("spdxVersion") {
        return Err("an SPDX document: an SBOM, not a scanner report (read it with `palisade sbom` or scan it with `palisade scan`)".to_owned());
    }
    if o.contains_key("vulnerabilities") && o.contains_key("scan") {
        return Err(
            "a GitLab security report (use the tool's JSON or SARIF output instead)".to_owned(),
        );
    }
    if array("Findings") {
        return Err(
            "an AWS Security Finding Format document (use the tool's JSON or SARIF output instead)"
                .to_owned(),
        );
    }
    if o.contains_key("manifests") && o.contains_key("detector") {
        return Err("a GitHub dependency snapshot (not a scanner report)".to_owned());
    }
    Err(format!("a JSON object {}", describe_keys(o)))
}

fn describe(v: &Value) -> String {
    match v {
        Value::Object(o) => format!("an object {}", describe_keys(o)),
        other => crate::json::kind(other).to_owned(),
    }
}

fn describe_keys(o: &Map<String, Value>) -> String {
    if o.is_empty() {
        return "with no members".to_owned();
    }
    let keys: Vec<String> = o.keys().take(8).map(|k| format!("{k:?}")).collect();
    let more = if o.len() > 8 { ", ..." } else { "" };
    format!("with members {}{more}", keys.join(", "))
}

/// Says what non-JSON bytes look like.
pub(crate) fn describe_non_json(bytes: &[u8]) -> String {
    let first = bytes.iter().copied().find(|b| !b.is_ascii_whitespace());
    match first {
        Some(b'<') => {
            let text =
                String::from_utf8_lossy(bytes.get(..4096.min(bytes.len())).unwrap_or_default())
                    .to_ascii_lowercase();
            if text.contains("owaspzapreport") {
                "ZAP's XML report (export ZAP's JSON report instead)".to_owned()
            } else if text.contains("<testsuite") {
                "a JUnit XML report (use the tool's JSON or SARIF output instead)".to_owned()
            } else {
                "XML, not JSON".to_owned()
            }
        }
        Some(_) if bytes.len() > 262 && bytes.get(257..262) == Some(b"ustar") => {
            "a tar archive, not JSON".to_owned()
        }
        _ => "not a JSON object or array (the first character is neither '{' nor '[')".to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn detects_each_format() {
        let cases = [
            (json!({"version": "2.1.0", "runs": []}), Format::Sarif),
            (
                json!({"SchemaVersion": 2, "ArtifactName": "x"}),
                Format::Trivy,
            ),
            (
                json!([{"Target": "x", "Vulnerabilities": []}]),
                Format::Trivy,
            ),
            (json!({"ClusterName": "c", "Resources": []}), Format::Trivy),
            (json!({"matches": []}), Format::Grype),
            (json!({"results": []}), Format::OsvScanner),
            (
                json!({"results": [{"source": {}, "packages": []}]}),
                Format::OsvScanner,
            ),
            (json!({"@version": "2.14.0", "site": []}), Format::Zap),
            (
                json!({"rule": "r", "priority": "Warning", "output": "o"}),
                Format::Falco,
            ),
        ];
        for (doc, want) in cases {
            assert_eq!(detect_value(&doc).unwrap(), want, "{doc}");
        }
    }

    #[test]
    fn names_what_it_is_not() {
        let e = detect_value(&json!({"bomFormat": "CycloneDX"})).unwrap_err();
        assert!(e.contains("CycloneDX"), "{e}");
        let e = detect_value(&json!({"results": [{"check_id": "x"}], "errors": []})).unwrap_err();
        assert!(e.contains("Semgrep"), "{e}");
        let e = detect_value(&json!({"a": 1})).unwrap_err();
        assert_eq!(e, "a JSON object with members \"a\"");
        assert!(detect_value(&json!([])).is_err());
        assert!(describe_non_json(b"<?xml version='1.0'?><OWASPZAPReport>").contains("ZAP"));
    }
}
