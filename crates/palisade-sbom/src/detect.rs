//! Format detection by content, never by file name.
//!
//! JSON documents are told apart by their marker member: CycloneDX has
//! `"bomFormat"`, SPDX 2.x has `"spdxVersion"`, SPDX 3 is JSON-LD with an
//! `@context` naming the SPDX 3 vocabulary. The search is a byte search
//! (`memchr::memmem`, several GB/s) for the earliest marker rather than a
//! parse, so detection costs almost nothing beside the real parse, which then
//! checks the marker's value. XML goes to the CycloneDX XML reader, which
//! checks the namespace of the root element; tag-value is recognised by an
//! `SPDXVersion:` tag at the start of a line.

use memchr::memmem;

use crate::SbomError;

/// A detected input format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detected {
    /// CycloneDX JSON.
    CycloneDxJson,
    /// CycloneDX XML.
    CycloneDxXml,
    /// SPDX 2.x JSON.
    SpdxJson,
    /// SPDX 2.x tag-value.
    SpdxTagValue,
    /// An in-toto statement (or a DSSE envelope holding one, as `cosign
    /// attest` writes) whose predicate is an SBOM.
    InToto,
}

/// Detects the format of `bytes`; `source_name` is for the error.
pub fn detect(bytes: &[u8], source_name: &str) -> Result<Detected, SbomError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes.iter().position(|b| !b.is_ascii_whitespace());
    let Some(first) = first else {
        return Err(SbomError::UnknownFormat {
            source_name: source_name.to_owned(),
            reason: "the document is empty".to_owned(),
        });
    };
    match bytes.get(first) {
        Some(b'{') => {
            // Fast path: a marker near the start decides, unless an in-toto
            // statement's keys come before it (a DSSE envelope cannot hold
            // the marker literally: its payload is base64).
            let head = bytes.get(..bytes.len().min(1 << 16)).unwrap_or(bytes);
            let markers: [(&[u8], Detected); 2] = [
                (b"\"bomFormat\"", Detected::CycloneDxJson),
                (b"\"spdxVersion\"", Detected::SpdxJson),
            ];
            for (marker, kind) in markers {
                if let Some(p) = memmem::find(head, marker) {
                    let before = bytes.get(..p).unwrap_or_default();
                    if memmem::find(before, b"\"predicateType\"").is_some()
                        || memmem::find(before, b"\"payloadType\"").is_some()
                    {
                        return Ok(Detected::InToto);
                    }
                    return Ok(kind);
                }
            }
            if memmem::find(bytes, b"\"payloadType\"").is_some()
                && memmem::find(bytes, b"\"payload\"").is_some()
                || memmem::find(bytes, b"\"predicateType\"").is_some()
                    && memmem::find(bytes, b"\"_type\"").is_some()
            {
                return Ok(Detected::InToto);
            }
            let cdx = memmem::find(bytes, b"\"bomFormat\"");
            let spdx = memmem::find(bytes, b"\"spdxVersion\"");
            match (cdx, spdx) {
                (Some(c), Some(s)) if s < c => Ok(Detected::SpdxJson),
                (Some(_), _) => Ok(Detected::CycloneDxJson),
                (None, Some(_)) => Ok(Detected::SpdxJson),
                (None, None)
                    if memmem::find(bytes, b"\"specVersion\"").is_some()
                        && memmem::find(bytes, b"\"components\"").is_some() =>
                {
                    // Some generators omit the required `bomFormat`; the
                    // reader accepts them with a warning.
                    Ok(Detected::CycloneDxJson)
                }
                (None, None) => {
                    if memmem::find(bytes, b"\"artifacts\"").is_some()
                        && memmem::find(bytes, b"\"artifactRelationships\"").is_some()
                    {
                        return Err(SbomError::Unsupported {
                            source_name: source_name.to_owned(),
                            format: "syft JSON".to_owned(),
                            reason: "Palisade reads CycloneDX and SPDX; ask syft for `-o cyclonedx-json` or `-o spdx-json`".to_owned(),
                        });
                    }
                    if memmem::find(bytes, b"\"@context\"").is_some()
                        && memmem::find(bytes, b"spdx.org/rdf/3").is_some()
                    {
                        Err(SbomError::Unsupported {
                            source_name: source_name.to_owned(),
                            format: "SPDX 3 (JSON-LD)".to_owned(),
                            reason:
                                "Palisade reads SPDX 2.2 and 2.3; convert SPDX 3 documents first"
                                    .to_owned(),
                        })
                    } else {
                        Err(SbomError::UnknownFormat {
                            source_name: source_name.to_owned(),
                            reason: "a JSON document with neither \"bomFormat\" (CycloneDX) nor \"spdxVersion\" (SPDX)".to_owned(),
                        })
                    }
                }
            }
        }
        Some(b'<') => Ok(Detected::CycloneDxXml),
        Some(b'[') => Err(SbomError::UnknownFormat {
            source_name: source_name.to_owned(),
            reason: "a JSON array, not an SBOM document".to_owned(),
        }),
        _ => {
            let head = bytes.get(first..).unwrap_or_default();
            let tag_at_line_start = head.starts_with(b"SPDXVersion:")
                || memmem::find(head, b"\nSPDXVersion:").is_some();
            if tag_at_line_start {
                Ok(Detected::SpdxTagValue)
            } else {
                Err(SbomError::UnknownFormat {
                    source_name: source_name.to_owned(),
                    reason: "neither JSON, XML nor SPDX tag-value (no line starting with \"SPDXVersion:\")".to_owned(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_content() {
        assert_eq!(
            detect(br#"{"bomFormat":"CycloneDX"}"#, "t").ok(),
            Some(Detected::CycloneDxJson)
        );
        assert_eq!(
            detect(br#" {"spdxVersion":"SPDX-2.3"}"#, "t").ok(),
            Some(Detected::SpdxJson)
        );
        assert_eq!(
            detect(b"<?xml version=\"1.0\"?><bom/>", "t").ok(),
            Some(Detected::CycloneDxXml)
        );
        assert_eq!(
            detect(b"## c\nSPDXVersion: SPDX-2.2\n", "t").ok(),
            Some(Detected::SpdxTagValue)
        );
        assert!(matches!(
            detect(b"", "t"),
            Err(SbomError::UnknownFormat { .. })
        ));
        assert!(matches!(
            detect(b"hello", "t"),
            Err(SbomError::UnknownFormat { .. })
        ));
        assert!(matches!(
            detect(
                br#"{"@context":"https://spdx.org/rdf/3.0.1/spdx-context.jsonld"}"#,
                "t"
            ),
            Err(SbomError::Unsupported { .. })
        ));
    }
}
