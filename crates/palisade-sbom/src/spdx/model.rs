//! The part of the SPDX 2.2/2.3 model that Palisade reads, shared by the
//! JSON and tag-value readers.
//!
//! As for CycloneDX, strings are `Cow<'a, str>` borrowed from the input where
//! possible, and only inventory-relevant fields are materialised; files are
//! read only for their ids, so that relationships naming them can be told
//! apart from relationships naming something unknown.

use std::borrow::Cow;

use serde::Deserialize;

/// An SPDX 2.x document.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Document<'a> {
    /// `SPDX-2.2`, `SPDX-2.3`.
    #[serde(borrow, default)]
    pub spdx_version: Option<Cow<'a, str>>,
    /// `SPDXRef-DOCUMENT`.
    #[serde(borrow, default, rename = "SPDXID")]
    pub spdx_id: Option<Cow<'a, str>>,
    /// Document name.
    #[serde(borrow, default)]
    pub name: Option<Cow<'a, str>>,
    /// Document namespace URI.
    #[serde(borrow, default)]
    pub document_namespace: Option<Cow<'a, str>>,
    /// Creators and time.
    #[serde(borrow, default)]
    pub creation_info: Option<CreationInfo<'a>>,
    /// Described elements (2.2; deprecated in 2.3 in favour of `DESCRIBES`).
    #[serde(borrow, default)]
    pub document_describes: Option<Vec<Cow<'a, str>>>,
    /// Packages.
    #[serde(borrow, default)]
    pub packages: Option<Vec<Package<'a>>>,
    /// Files, read for their ids.
    #[serde(borrow, default)]
    pub files: Option<Vec<Element<'a>>>,
    /// Snippets, read for their ids.
    #[serde(borrow, default)]
    pub snippets: Option<Vec<Element<'a>>>,
    /// Relationships.
    #[serde(borrow, default)]
    pub relationships: Option<Vec<Relationship<'a>>>,
    /// Document-level annotations.
    #[serde(borrow, default)]
    pub annotations: Option<Vec<Annotation<'a>>>,
}

/// `creationInfo`.
#[derive(Debug, Default, Deserialize)]
pub struct CreationInfo<'a> {
    /// RFC 3339 time.
    #[serde(borrow, default)]
    pub created: Option<Cow<'a, str>>,
    /// `Tool: name-version`, `Organization: ...`, `Person: ...`.
    #[serde(borrow, default)]
    pub creators: Option<Vec<Cow<'a, str>>>,
}

/// A package.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Package<'a> {
    /// `SPDXRef-...`.
    #[serde(borrow, default, rename = "SPDXID")]
    pub spdx_id: Option<Cow<'a, str>>,
    /// Name.
    #[serde(borrow, default)]
    pub name: Option<Cow<'a, str>>,
    /// Version.
    #[serde(borrow, default)]
    pub version_info: Option<Cow<'a, str>>,
    /// `Organization: X`, `Person: X` or `NOASSERTION`.
    #[serde(borrow, default)]
    pub supplier: Option<Cow<'a, str>>,
    /// `Organization: X`, `Person: X` or `NOASSERTION`.
    #[serde(borrow, default)]
    pub originator: Option<Cow<'a, str>>,
    /// Concluded licence expression.
    #[serde(borrow, default)]
    pub license_concluded: Option<Cow<'a, str>>,
    /// Declared licence expression.
    #[serde(borrow, default)]
    pub license_declared: Option<Cow<'a, str>>,
    /// Checksums.
    #[serde(borrow, default)]
    pub checksums: Option<Vec<Checksum<'a>>>,
    /// External references (purl, CPE...).
    #[serde(borrow, default)]
    pub external_refs: Option<Vec<ExternalRef<'a>>>,
    /// `APPLICATION`, `LIBRARY`, `CONTAINER`... (2.3).
    #[serde(borrow, default)]
    pub primary_package_purpose: Option<Cow<'a, str>>,
    /// Annotations on the package.
    #[serde(borrow, default)]
    pub annotations: Option<Vec<Annotation<'a>>>,
}

/// A file or snippet, for its id only.
#[derive(Debug, Default, Deserialize)]
pub struct Element<'a> {
    /// `SPDXRef-...`.
    #[serde(borrow, default, rename = "SPDXID")]
    pub spdx_id: Option<Cow<'a, str>>,
}

/// `checksums[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checksum<'a> {
    /// `SHA256`, `SHA1`...
    #[serde(borrow, default)]
    pub algorithm: Option<Cow<'a, str>>,
    /// Hex value.
    #[serde(borrow, default)]
    pub checksum_value: Option<Cow<'a, str>>,
}

/// `externalRefs[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalRef<'a> {
    /// `PACKAGE-MANAGER` (`PACKAGE_MANAGER` in 2.3), `SECURITY`...
    #[serde(borrow, default)]
    pub reference_category: Option<Cow<'a, str>>,
    /// `purl`, `cpe23Type`, `maven-central`...
    #[serde(borrow, default)]
    pub reference_type: Option<Cow<'a, str>>,
    /// The reference itself.
    #[serde(borrow, default)]
    pub reference_locator: Option<Cow<'a, str>>,
}

/// `relationships[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Relationship<'a> {
    /// The subject of the relationship.
    #[serde(borrow, default)]
    pub spdx_element_id: Option<Cow<'a, str>>,
    /// `DEPENDS_ON`, `CONTAINS`, `DESCRIBES`...
    #[serde(borrow, default)]
    pub relationship_type: Option<Cow<'a, str>>,
    /// The object of the relationship.
    #[serde(borrow, default)]
    pub related_spdx_element: Option<Cow<'a, str>>,
}

/// `annotations[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Annotation<'a> {
    /// `Tool: name-version`, `Person: ...`.
    #[serde(borrow, default)]
    pub annotator: Option<Cow<'a, str>>,
    /// Free text.
    #[serde(borrow, default)]
    pub comment: Option<Cow<'a, str>>,
    /// The annotated element (tag-value `SPDXREF`; implied by nesting in JSON).
    #[serde(skip)]
    pub target: Option<Cow<'a, str>>,
}
