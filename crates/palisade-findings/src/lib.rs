//! Other scanners' findings in one model: adapters, merging and scan diffs.
//!
//! Security teams run many tools; this crate reads their native outputs
//! into one finding model, merges what is the same, and tells which
//! findings a newer scan no longer reports. It is pure: bytes in, typed
//! values out, no I/O.
//!
//! The pieces, in the order data flows through them:
//!
//! - [`import`] reads one document ([`detect`]ed or of a given [`Format`]:
//!   SARIF 2.1.0, Trivy JSON, Grype JSON, osv-scanner JSON, OWASP ZAP JSON,
//!   Falco JSON lines) under size and depth limits ([`ImportOptions`]) into
//!   an [`Import`]: the tool, what was scanned, counts, and one
//!   [`RawFinding`] per result with its rule or advisory id and aliases,
//!   severity, [`Location`] (component, file and lines, URL, or runtime
//!   context) and a stable fingerprint ([`fingerprint`]). A malformed
//!   document is an [`ImportError`] naming the document and the JSON path.
//! - [`merge`] turns raw findings from any number of documents into
//!   [`Finding`]s: the same vulnerability on the same component under any
//!   alias, or the same code finding (by fingerprint), is one finding that
//!   lists every [`Source`].
//! - [`diff`] compares an artifact's previous findings with a new scan from
//!   one tool: new, still present, resolved (with the reason), unchanged.
//!
//! The design decision: adapters are tolerant *inside* a result (a field of
//! the wrong type is read as absent, whatever cannot be used is a warning)
//! and strict about *structure* (the list of results not being a list is an
//! error with its path), so that every result a document states is either
//! imported, deliberately skipped with a counted reason, or the whole
//! document is refused: counts never silently drift.

mod adapters;
pub mod detect;
pub mod diff;
mod error;
pub mod fingerprint;
mod json;
pub mod merge;
mod model;
pub mod severity;

pub use diff::{Resolved, ScanDiff, diff, diff_findings};
pub use error::ImportError;
pub use json::{DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, ImportOptions, MAX_TEXT_LEN};
pub use merge::{Finding, Merged, Source, merge};
pub use model::{
    ComponentLocation, FileLocation, FindingKind, Format, Import, ImportStats, ImportWarning,
    Location, Rating, RawFinding, RuntimeLocation, Severity, Tool, UrlLocation,
};

/// Detects the format of a document from its content.
///
/// Errors: [`ImportError::Empty`], [`ImportError::Syntax`] for broken JSON,
/// [`ImportError::UnknownFormat`] saying what the document looks like
/// instead (an SBOM, Semgrep's native JSON, ZAP's XML...).
pub fn detect(bytes: &[u8]) -> Result<Format, ImportError> {
    detect_named(bytes, "input", &ImportOptions::default())
}

fn detect_named(
    bytes: &[u8],
    document: &str,
    options: &ImportOptions,
) -> Result<Format, ImportError> {
    let bytes = json::strip_bom(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ImportError::Empty {
            document: document.to_owned(),
        });
    }
    if !starts_like_json(bytes) {
        return Err(unknown(document, detect::describe_non_json(bytes)));
    }
    match json::parse(bytes, document, options) {
        Ok(v) => detect::detect_value(&v).map_err(|r| unknown(document, r)),
        Err(e) if looks_like_falco_lines(bytes, options) => {
            let _ = e;
            Ok(Format::Falco)
        }
        Err(e) => Err(e),
    }
}

/// Reads one document. `document` names it in errors and in every
/// finding's `document`; `format` `None` detects it.
pub fn import(
    bytes: &[u8],
    document: &str,
    format: Option<Format>,
    options: &ImportOptions,
) -> Result<Import, ImportError> {
    if bytes.len() > options.max_bytes {
        return Err(ImportError::TooLarge {
            document: document.to_owned(),
            len: bytes.len(),
            max: options.max_bytes,
        });
    }
    let bytes = json::strip_bom(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ImportError::Empty {
            document: document.to_owned(),
        });
    }
    if format == Some(Format::Falco) {
        return adapters::falco::import_lines(bytes, document, options);
    }
    if format.is_none() && !starts_like_json(bytes) {
        return Err(unknown(document, detect::describe_non_json(bytes)));
    }
    let value = match json::parse(bytes, document, options) {
        Ok(v) => v,
        Err(e) => {
            if format.is_none() && looks_like_falco_lines(bytes, options) {
                return adapters::falco::import_lines(bytes, document, options);
            }
            return Err(e);
        }
    };
    let format = match format {
        Some(f) => f,
        None => detect::detect_value(&value).map_err(|r| unknown(document, r))?,
    };
    match format {
        Format::Sarif => adapters::sarif::import(&value, document),
        Format::Trivy => adapters::trivy::import(&value, document),
        Format::Grype => adapters::grype::import(&value, document),
        Format::OsvScanner => adapters::osv_scanner::import(&value, document),
        Format::Zap => adapters::zap::import(&value, document),
        Format::Falco => adapters::falco::import_value(&value, document),
    }
}

fn unknown(document: &str, reason: String) -> ImportError {
    ImportError::UnknownFormat {
        document: document.to_owned(),
        reason,
    }
}

fn starts_like_json(bytes: &[u8]) -> bool {
    matches!(
        bytes.iter().copied().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

/// Whether the first non-blank line is a Falco event on its own.
fn looks_like_falco_lines(bytes: &[u8], options: &ImportOptions) -> bool {
    let Some(line) = bytes
        .split(|b| *b == b'\n')
        .map(<[u8]>::trim_ascii)
        .find(|l| !l.is_empty())
    else {
        return false;
    };
    match json::parse(line, "", options) {
        Ok(serde_json::Value::Object(o)) => detect::is_falco_event(&o),
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_non_json_inputs() {
        let o = ImportOptions::default();
        assert!(matches!(
            import(b" \n", "e", None, &o),
            Err(ImportError::Empty { .. })
        ));
        let e = import(
            b"<?xml version=\"1.0\"?><testsuites><testsuite/>",
            "j.xml",
            None,
            &o,
        )
        .unwrap_err();
        assert!(e.to_string().contains("JUnit"), "{e}");
        assert!(matches!(
            import(b"{}", "x", Some(Format::Grype), &o),
            Err(ImportError::Invalid { .. })
        ));
        let small = ImportOptions { max_bytes: 3, ..o };
        assert!(matches!(
            import(b"[1,2]", "x", None, &small),
            Err(ImportError::TooLarge { .. })
        ));
    }

    #[test]
    fn falco_lines_are_detected() {
        let lines = b"{\"rule\":\"r\",\"priority\":\"Error\",\"output\":\"o\"}\n{\"rule\":\"r\",\"priority\":\"Error\",\"output\":\"o\"}\n";
        assert_eq!(detect(lines).unwrap(), Format::Falco);
        let i = import(lines, "f", None, &ImportOptions::default()).unwrap();
        assert_eq!(i.findings.len(), 2);
        let one = b"{\"rule\":\"r\",\"priority\":\"Error\",\"output\":\"o\"}";
        assert_eq!(detect(one).unwrap(), Format::Falco);
    }
}
