//! SPDX 2.2/2.3 tag-value reader.
//!
//! The format is a sequence of `Tag: value` lines; a value may span lines
//! inside `<text>...</text>`. Which element a tag belongs to depends on the
//! section it appears in: `PackageName` opens a package, `FileName` a file,
//! `SnippetSPDXID` a snippet, `LicenseID` an extracted licence, `Annotator`
//! an annotation, and tags before any of them belong to the document. The
//! reader is a single pass over the bytes with `memchr`, borrowing every
//! value from the input, so it runs at memory speed; a line that is neither
//! blank, a `#` comment nor `Tag: value`, or an unterminated `<text>`, is an
//! error naming its line.

use std::borrow::Cow;

use memchr::memchr;
use palisade_inventory::Inventory;

use super::model::{Annotation, Checksum, Document, Element, ExternalRef, Package, Relationship};
use crate::SbomError;
use crate::common::Limits;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    Document,
    Package,
    File,
    Snippet,
    License,
    Annotation,
    Review,
}

/// Reads an SPDX tag-value document.
pub fn read(bytes: &[u8], source_name: &str, limits: &Limits) -> Result<Inventory, SbomError> {
    let doc = parse(bytes, source_name)?;
    super::to_inventory(doc, "spdx-tag-value", source_name, limits)
}

/// Parses tag-value text into the shared model.
pub fn parse<'a>(bytes: &'a [u8], source_name: &str) -> Result<Document<'a>, SbomError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let (line, column) = crate::error::line_column(bytes, e.valid_up_to());
            return Err(SbomError::at(
                source_name,
                line,
                column,
                "the document is not valid UTF-8",
            ));
        }
    };
    let mut doc = Document::default();
    let mut packages: Vec<Package<'a>> = Vec::new();
    let mut files: Vec<Element<'a>> = Vec::new();
    let mut snippets: Vec<Element<'a>> = Vec::new();
    let mut relationships: Vec<Relationship<'a>> = Vec::new();
    let mut doc_annotations: Vec<Annotation<'a>> = Vec::new();
    let mut annotations: Vec<Annotation<'a>> = Vec::new();
    let mut creators: Vec<Cow<'a, str>> = Vec::new();
    let mut created = None;
    let mut section = Section::Document;

    let mut pos = 0usize;
    let mut line_no = 0usize;
    let len = text.len();
    while pos < len {
        line_no += 1;
        let rest = text.get(pos..).unwrap_or_default();
        let end = memchr(b'\n', rest.as_bytes()).unwrap_or(rest.len());
        let raw = rest.get(..end).unwrap_or_default();
        let line_start = pos;
        pos += end + 1;
        let line = raw.trim_end_matches('\r');
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let Some(colon) = memchr(b':', trimmed.as_bytes()) else {
            return Err(SbomError::at(
                source_name,
                line_no,
                1,
                format!("expected `Tag: value`, found {:?}", truncate(trimmed)),
            ));
        };
        let tag = trimmed.get(..colon).unwrap_or_default().trim();
        let mut value: &'a str = trimmed.get(colon + 1..).unwrap_or_default().trim();
        if tag.is_empty() || tag.contains(char::is_whitespace) {
            return Err(SbomError::at(
                source_name,
                line_no,
                1,
                format!("expected `Tag: value`, found {:?}", truncate(trimmed)),
            ));
        }
        // Multi-line `<text>` values.
        if let Some(after) = value.strip_prefix("<text>") {
            if let Some(close) = after.find("</text>") {
                value = after.get(..close).unwrap_or_default();
            } else {
                // The value continues on later lines up to `</text>`.
                let start_in_text = line_start + (raw.len() - raw.trim_start().len()) + colon + 1;
                let tail = text.get(start_in_text..).unwrap_or_default();
                let open = tail.find("<text>").unwrap_or(0) + "<text>".len();
                let body = tail.get(open..).unwrap_or_default();
                let Some(close) = body.find("</text>") else {
                    return Err(SbomError::at(
                        source_name,
                        line_no,
                        colon + 2,
                        format!("`{tag}`: <text> is never closed by </text>"),
                    ));
                };
                value = body.get(..close).unwrap_or_default();
                let consumed_to = start_in_text + open + close + "</text>".len();
                // Count the lines the value spans, then skip to the end of
                // the line holding `</text>`.
                line_no += value.bytes().filter(|&b| b == b'\n').count();
                let after_close = text.get(consumed_to..).unwrap_or_default();
                let eol =
                    memchr(b'\n', after_close.as_bytes()).map_or(after_close.len(), |i| i + 1);
                pos = consumed_to + eol;
            }
        }
        match tag {
            "SPDXVersion" => doc.spdx_version = Some(Cow::Borrowed(value)),
            "DocumentName" => doc.name = Some(Cow::Borrowed(value)),
            "DocumentNamespace" => doc.document_namespace = Some(Cow::Borrowed(value)),
            "Creator" => creators.push(Cow::Borrowed(value)),
            "Created" => created = Some(Cow::Borrowed(value)),
            "PackageName" => {
                section = Section::Package;
                packages.push(Package {
                    name: Some(Cow::Borrowed(value)),
                    ..Package::default()
                });
            }
            "FileName" => {
                section = Section::File;
                files.push(Element::default());
            }
            "SnippetSPDXID" => {
                section = Section::Snippet;
                snippets.push(Element {
                    spdx_id: Some(Cow::Borrowed(value)),
                });
            }
            "LicenseID" => section = Section::License,
            "Reviewer" => section = Section::Review,
            "Annotator" => {
                section = Section::Annotation;
                annotations.push(Annotation {
                    annotator: Some(Cow::Borrowed(value)),
                    ..Annotation::default()
                });
            }
            "SPDXREF" if section == Section::Annotation => {
                if let Some(a) = annotations.last_mut() {
                    a.target = Some(Cow::Borrowed(value));
                }
            }
            "AnnotationComment" if section == Section::Annotation => {
                if let Some(a) = annotations.last_mut() {
                    a.comment = Some(Cow::Borrowed(value));
                }
            }
            "Relationship" => {
                let mut parts = value.split_whitespace();
                match (parts.next(), parts.next(), parts.next(), parts.next()) {
                    (Some(a), Some(t), Some(z), None) => relationships.push(Relationship {
                        spdx_element_id: Some(Cow::Borrowed(a)),
                        relationship_type: Some(Cow::Borrowed(t)),
                        related_spdx_element: Some(Cow::Borrowed(z)),
                    }),
                    _ => {
                        return Err(SbomError::at(
                            source_name,
                            line_no,
                            colon + 2,
                            format!(
                                "`Relationship` needs `ELEMENT TYPE ELEMENT`, found {:?}",
                                truncate(value)
                            ),
                        ));
                    }
                }
            }
            "SPDXID" => match section {
                Section::Document => doc.spdx_id = Some(Cow::Borrowed(value)),
                Section::Package => {
                    if let Some(p) = packages.last_mut() {
                        p.spdx_id = Some(Cow::Borrowed(value));
                    }
                }
                Section::File => {
                    if let Some(f) = files.last_mut() {
                        f.spdx_id = Some(Cow::Borrowed(value));
                    }
                }
                _ => {}
            },
            _ if section == Section::Package => {
                let Some(p) = packages.last_mut() else {
                    continue;
                };
                match tag {
                    "PackageVersion" => p.version_info = Some(Cow::Borrowed(value)),
                    "PackageSupplier" => p.supplier = Some(Cow::Borrowed(value)),
                    "PackageOriginator" => p.originator = Some(Cow::Borrowed(value)),
                    "PackageLicenseConcluded" => p.license_concluded = Some(Cow::Borrowed(value)),
                    "PackageLicenseDeclared" => p.license_declared = Some(Cow::Borrowed(value)),
                    "PrimaryPackagePurpose" => {
                        p.primary_package_purpose = Some(Cow::Borrowed(value))
                    }
                    "PackageChecksum" => {
                        let Some((alg, sum)) = value.split_once(':') else {
                            return Err(SbomError::at(
                                source_name,
                                line_no,
                                colon + 2,
                                format!(
                                    "`PackageChecksum` needs `ALGORITHM: value`, found {:?}",
                                    truncate(value)
                                ),
                            ));
                        };
                        p.checksums.get_or_insert_with(Vec::new).push(Checksum {
                            algorithm: Some(Cow::Borrowed(alg.trim())),
                            checksum_value: Some(Cow::Borrowed(sum.trim())),
                        });
                    }
                    "ExternalRef" => {
                        let mut parts = value.split_whitespace();
                        match (parts.next(), parts.next(), parts.next()) {
                            (Some(cat), Some(ty), Some(loc)) => {
                                p.external_refs
                                    .get_or_insert_with(Vec::new)
                                    .push(ExternalRef {
                                        reference_category: Some(Cow::Borrowed(cat)),
                                        reference_type: Some(Cow::Borrowed(ty)),
                                        reference_locator: Some(Cow::Borrowed(loc)),
                                    });
                            }
                            _ => {
                                return Err(SbomError::at(
                                    source_name,
                                    line_no,
                                    colon + 2,
                                    format!(
                                        "`ExternalRef` needs `CATEGORY TYPE LOCATOR`, found {:?}",
                                        truncate(value)
                                    ),
                                ));
                            }
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    // Attach annotations to their targets.
    let doc_id = doc
        .spdx_id
        .as_deref()
        .unwrap_or("SPDXRef-DOCUMENT")
        .to_owned();
    for a in annotations {
        let target = a.target.as_deref().unwrap_or(&doc_id).to_owned();
        if target == doc_id {
            doc_annotations.push(a);
        } else if let Some(p) = packages
            .iter_mut()
            .find(|p| p.spdx_id.as_deref() == Some(target.as_str()))
        {
            p.annotations.get_or_insert_with(Vec::new).push(a);
        }
    }
    doc.creation_info = Some(super::model::CreationInfo {
        created,
        creators: Some(creators),
    });
    doc.packages = Some(packages);
    doc.files = Some(files);
    doc.snippets = Some(snippets);
    doc.relationships = Some(relationships);
    doc.annotations = Some(doc_annotations);
    Ok(doc)
}

/// The start of a long value, for messages.
fn truncate(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if out.len() < s.len() {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: t\n\
Creator: Tool: syft-0.90.0\nCreated: 2024-01-01T00:00:00Z\n\n\
PackageName: a\nSPDXID: SPDXRef-a\nPackageVersion: 1.0\nPackageDownloadLocation: NOASSERTION\n\
PackageLicenseConcluded: MIT\nPackageComment: <text>line one\nline two: still text\n</text>\n\
ExternalRef: PACKAGE-MANAGER purl pkg:npm/a@1.0\nPackageChecksum: SHA256: abcd\n\n\
PackageName: b\nSPDXID: SPDXRef-b\n\
Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-a\nRelationship: SPDXRef-a DEPENDS_ON SPDXRef-b\n";

    #[test]
    fn reads_packages_text_and_relationships() {
        let doc = parse(DOC.as_bytes(), "t.spdx").ok().unwrap_or_default();
        let pkgs = doc.packages.unwrap_or_default();
        assert_eq!(pkgs.len(), 2);
        assert_eq!(
            pkgs.first().and_then(|p| p.version_info.as_deref()),
            Some("1.0")
        );
        assert_eq!(doc.relationships.map(|r| r.len()), Some(2));
    }

    #[test]
    fn errors_name_the_line() {
        let bad = "SPDXVersion: SPDX-2.3\nthis is not a tag\n";
        let err = parse(bad.as_bytes(), "x.spdx")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.starts_with("x.spdx: line 2, column 1:"), "{err}");
        let open = "SPDXVersion: SPDX-2.3\nPackageName: a\nPackageComment: <text>never closed\n";
        let err = parse(open.as_bytes(), "y.spdx")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("line 3") && err.contains("never closed"),
            "{err}"
        );
    }

    #[test]
    fn line_numbers_count_text_blocks() {
        let s = "SPDXVersion: SPDX-2.3\nDocumentComment: <text>a\nb\nc</text>\nbroken line\n";
        let err = parse(s.as_bytes(), "z")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("line 5"), "{err}");
    }
}
