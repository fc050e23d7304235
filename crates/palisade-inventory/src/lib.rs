//! The normalised inventory: what software an artifact contains.
//!
//! Every source of inventory (a CycloneDX or SPDX document, a lockfile, an OS
//! package database, a container image) becomes an [`Inventory`], and every
//! consumer (the matcher, the SBOM writers, the server) reads only this type.
//! It is pure data: no I/O here.
//!
//! Ordering is deterministic: components sort by purl, then name and version,
//! and the dependency graph is a `BTreeMap` of `BTreeSet`s, so that written
//! documents can be signed and compared.
//!
//! The serde form is Palisade's own inventory JSON (`schema_version` 1); it is
//! what the server stores, not an interchange format.

pub mod purl;

use std::collections::{BTreeMap, BTreeSet};

use palisade_versions::Ecosystem;
use serde::{Deserialize, Serialize};

/// The version of the serde form below.
pub const INVENTORY_SCHEMA_VERSION: u32 = 1;

/// What an artifact contains.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// Where the inventory came from and what it describes.
    pub metadata: Metadata,
    /// The components, sorted by [`Inventory::sort`].
    pub components: Vec<Component>,
    /// `bom_ref` -> the `bom_ref`s it depends on directly.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dependencies: BTreeMap<String, BTreeSet<String>>,
    /// Things the reader could not represent or derive (a component without a
    /// purl, an unknown field value), each saying where.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Metadata about the inventory as a whole.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// The thing described: an image, a source repository, a directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    /// Tools that produced the source document or this inventory.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
    /// RFC 3339 time the source document was created, when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// The format the inventory was read from (`cyclonedx-json 1.4`,
    /// `spdx-tag-value 2.3`, `cargo-lock`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_format: Option<String>,
    /// Distribution of an OS inventory (`os-release` ID and VERSION_ID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distro: Option<Distro>,
}

/// What an inventory describes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// A name: image reference, repository URL, directory or file name.
    pub name: String,
    /// Its version or tag, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Content digests, `algorithm -> hex` (an image's `sha256`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digests: BTreeMap<String, String>,
    /// Its purl, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// What kind of thing it is.
    #[serde(default)]
    pub kind: ComponentKind,
    /// Its identifier in the source document (CycloneDX `metadata.component`
    /// `bom-ref`, or the SPDX id of the described package), so that
    /// `dependencies` can start from the subject. When it names one of the
    /// components (SPDX describes one of its own packages), that component
    /// is the subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bom_ref: Option<String>,
}

/// A tool that produced a document.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Tool {
    /// Vendor or organisation, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// Tool name.
    pub name: String,
    /// Tool version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// An operating-system distribution, from `os-release`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distro {
    /// `ID` (`debian`, `alpine`, `rhel`...).
    pub id: String,
    /// `VERSION_ID` (`12`, `3.20.1`, `9.4`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// `VERSION_CODENAME`, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codename: Option<String>,
}

/// One piece of software.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    /// Identifier unique within the inventory, used by `dependencies`.
    pub bom_ref: String,
    /// Name as the ecosystem spells it (for Maven `group:artifact`).
    pub name: String,
    /// Version string as found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The OSV ecosystem, when known (from the purl or the source).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "ecosystem_serde"
    )]
    pub ecosystem: Option<Ecosystem>,
    /// Package URL, canonical form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// Whether the purl was derived by Palisade rather than read.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub purl_derived: bool,
    /// Licences as one SPDX expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Content hashes, `algorithm -> hex` (`SHA-256` style names as CycloneDX spells them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hashes: BTreeMap<String, String>,
    /// Supplier or author organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<String>,
    /// Whether the component is needed at run time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// What kind of component it is.
    #[serde(default)]
    pub kind: ComponentKind,
    /// The image layer (diff id or digest) that introduced it, for images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// Files the component was found in (lockfile, package database).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub locations: BTreeSet<String>,
    /// For OS packages: the source package it was built from, which OSV's
    /// Debian and Alpine records name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_package: Option<SourcePackage>,
    /// Anything else worth keeping, `name -> value`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
}

/// The source package of a binary OS package.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcePackage {
    /// Source package name.
    pub name: String,
    /// Source package version, when it differs from the binary's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// CycloneDX's component scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Needed at run time.
    Required,
    /// Optional at run time (dev dependencies land here).
    Optional,
    /// Not part of the running software (build or test only).
    Excluded,
}

/// The kind of a component, after CycloneDX's component types.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComponentKind {
    /// A library or package (the default).
    #[default]
    Library,
    /// An application.
    Application,
    /// A framework.
    Framework,
    /// A container image.
    Container,
    /// An operating system.
    OperatingSystem,
    /// A device or firmware.
    Firmware,
    /// A file.
    File,
    /// Anything else.
    Other,
}

impl Inventory {
    /// Sorts components (by purl, then name, version and bom-ref) and
    /// warnings, so output is deterministic.
    pub fn sort(&mut self) {
        self.components.sort_by(|a, b| {
            (a.purl.as_deref(), &a.name, a.version.as_deref(), &a.bom_ref).cmp(&(
                b.purl.as_deref(),
                &b.name,
                b.version.as_deref(),
                &b.bom_ref,
            ))
        });
        self.metadata.tools.sort();
        self.metadata.tools.dedup();
    }
}

mod ecosystem_serde {
    //! Ecosystems are written by their OSV names.
    use palisade_versions::Ecosystem;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<Ecosystem>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(e) => s.serialize_str(e.as_str()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Ecosystem>, D::Error> {
        let name: Option<String> = Option::deserialize(d)?;
        match name {
            None => Ok(None),
            Some(n) => Ecosystem::from_osv_name(&n)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom(format!("unknown ecosystem {n:?}"))),
        }
    }
}
