//! SPDX 2.2 and 2.3: the JSON and tag-value readers fill one model
//! ([`model`]) and share the mapping to the inventory (this module); the
//! writer is separate.
//!
//! Mapping decisions:
//! - Every package is a component (so counts match the document's
//!   `packages`), except a package Palisade itself wrote only to carry the
//!   subject (annotated `palisade:role=subject`). Files and snippets are not
//!   components; relationships that name them are counted in one warning.
//! - The subject is the one described package (`documentDescribes` or a
//!   `DESCRIBES` relationship from the document); with several, the subject
//!   is the document itself, named after it.
//! - `licenseConcluded` wins over `licenseDeclared`; `NOASSERTION` and
//!   `NONE` are no licence. A differing declared licence is kept in the
//!   property `spdx:licenseDeclared`.
//! - `DEPENDS_ON` and `CONTAINS` give an edge from the element to the related
//!   one; `*_DEPENDENCY_OF` and `CONTAINED_BY` the reverse edge.

pub mod json;
pub mod model;
pub mod tagvalue;
pub mod write;

use std::collections::{BTreeMap, BTreeSet};

use palisade_inventory::{
    Component, ComponentKind, Distro, Inventory, Metadata, Scope, SourcePackage, Subject, Tool,
};

use crate::SbomError;
use crate::common::{self, Builder, Limits, props};

/// The annotator prefix of annotations Palisade writes.
pub const ANNOTATOR_PREFIX: &str = "Tool: palisade";

/// The property keeping a declared licence that differs from the concluded.
pub const LICENSE_DECLARED: &str = "spdx:licenseDeclared";

/// The property keeping a package purpose the inventory has no kind for.
pub const PURPOSE: &str = "spdx:primaryPackagePurpose";

/// The annotation marking a package written only to carry the subject.
pub const ROLE_SUBJECT: &str = "palisade:role";

fn non_empty(s: &Option<std::borrow::Cow<'_, str>>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// A licence value that is an actual expression (not `NOASSERTION`/`NONE`).
fn real_license(s: &Option<std::borrow::Cow<'_, str>>) -> Option<String> {
    non_empty(s).filter(|v| v != "NOASSERTION" && v != "NONE")
}

/// `Organization: X` -> `X`; `NOASSERTION` -> none.
fn actor(s: &Option<std::borrow::Cow<'_, str>>) -> Option<String> {
    let v = non_empty(s)?;
    if v == "NOASSERTION" {
        return None;
    }
    for prefix in ["Organization:", "Person:", "Tool:"] {
        if let Some(rest) = v.strip_prefix(prefix) {
            let rest = rest.trim();
            // Drop a trailing `(email)`.
            let rest = match rest.rfind(" (") {
                Some(i) if rest.ends_with(')') => rest.get(..i).unwrap_or(rest),
                _ => rest,
            };
            return Some(rest.trim().to_owned()).filter(|r| !r.is_empty());
        }
    }
    Some(v)
}

/// The kind for a `primaryPackagePurpose`.
pub fn kind_from_purpose(p: &str) -> Option<ComponentKind> {
    Some(match p {
        "APPLICATION" => ComponentKind::Application,
        "FRAMEWORK" => ComponentKind::Framework,
        "LIBRARY" => ComponentKind::Library,
        "CONTAINER" => ComponentKind::Container,
        "OPERATING-SYSTEM" | "OPERATING_SYSTEM" => ComponentKind::OperatingSystem,
        "FIRMWARE" => ComponentKind::Firmware,
        "FILE" => ComponentKind::File,
        _ => return None,
    })
}

/// A Palisade annotation's `name=value` comment.
fn palisade_pair<'c>(a: &'c model::Annotation<'_>) -> Option<(&'c str, &'c str)> {
    let annotator = a.annotator.as_deref()?.trim();
    if !annotator.starts_with(ANNOTATOR_PREFIX) {
        return None;
    }
    a.comment.as_deref()?.split_once('=')
}

/// Maps a parsed SPDX document to an inventory. `label` is `spdx-json` or
/// `spdx-tag-value`.
pub fn to_inventory(
    doc: model::Document<'_>,
    label: &str,
    source_name: &str,
    limits: &Limits,
) -> Result<Inventory, SbomError> {
    let version = non_empty(&doc.spdx_version).unwrap_or_default();
    let short = version.strip_prefix("SPDX-").unwrap_or(&version).to_owned();
    match short.as_str() {
        "2.2" | "2.3" => {}
        "2.0" | "2.1" => {}
        v if v.starts_with('3') => {
            return Err(SbomError::Unsupported {
                source_name: source_name.to_owned(),
                format: format!("SPDX {v}"),
                reason: "Palisade reads SPDX 2.2 and 2.3".to_owned(),
            });
        }
        "" => {
            return Err(SbomError::Syntax {
                source_name: source_name.to_owned(),
                position: if label == "spdx-json" {
                    "$.spdxVersion".to_owned()
                } else {
                    "SPDXVersion".to_owned()
                },
                message: "missing SPDX version".to_owned(),
            });
        }
        other => {
            return Err(SbomError::Unsupported {
                source_name: source_name.to_owned(),
                format: format!("SPDX {other}"),
                reason: "Palisade reads SPDX 2.2 and 2.3".to_owned(),
            });
        }
    }
    let mut metadata = Metadata {
        source_format: Some(format!("{label} {short}")),
        ..Metadata::default()
    };
    if let Some(ci) = &doc.creation_info {
        metadata.timestamp = non_empty(&ci.created);
        for c in ci.creators.iter().flatten() {
            let Some(tool) = c.trim().strip_prefix("Tool:") else {
                continue;
            };
            let tool = tool.trim();
            // `name-version` by SPDX convention; the version starts at the
            // last `-` followed by a digit or `v`.
            let split = tool
                .char_indices()
                .filter(|&(_, ch)| ch == '-')
                .map(|(i, _)| i)
                .rfind(|&i| {
                    tool.get(i + 1..)
                        .and_then(|r| r.chars().next())
                        .is_some_and(|ch| ch.is_ascii_digit() || ch == 'v')
                });
            let (name, ver) = match split {
                Some(i) => (tool.get(..i).unwrap_or(tool), tool.get(i + 1..)),
                None => (tool, None),
            };
            metadata.tools.push(Tool {
                vendor: None,
                name: name.to_owned(),
                version: ver.map(str::to_owned).filter(|v| !v.is_empty()),
            });
        }
    }
    let doc_id = non_empty(&doc.spdx_id).unwrap_or_else(|| "SPDXRef-DOCUMENT".to_owned());
    let mut b = Builder::new(source_name, limits, metadata);

    // Document annotations written by Palisade.
    let mut subject_ref_hint = None;
    for a in doc.annotations.iter().flatten() {
        if let Some((k, v)) = palisade_pair(a) {
            match k {
                props::DISTRO_ID => {
                    b.inventory
                        .metadata
                        .distro
                        .get_or_insert_with(Distro::default)
                        .id = v.to_owned()
                }
                props::DISTRO_VERSION => {
                    b.inventory
                        .metadata
                        .distro
                        .get_or_insert_with(Distro::default)
                        .version_id = Some(v.to_owned());
                }
                props::DISTRO_CODENAME => {
                    b.inventory
                        .metadata
                        .distro
                        .get_or_insert_with(Distro::default)
                        .codename = Some(v.to_owned());
                }
                props::SUBJECT_REF => subject_ref_hint = Some(v.to_owned()),
                _ => b.warn(format!("document annotation {k:?} is not kept")),
            }
        }
    }

    let files: BTreeSet<String> = doc
        .files
        .iter()
        .flatten()
        .chain(doc.snippets.iter().flatten())
        .filter_map(|f| non_empty(&f.spdx_id))
        .collect();

    // Described elements.
    let mut described: Vec<String> = doc
        .document_describes
        .iter()
        .flatten()
        .map(|d| d.trim().to_owned())
        .collect();
    let mut edges: Vec<(String, String)> = Vec::new();
    let mut file_relationships = 0usize;
    let mut external_relationships = 0usize;
    let mut other_types: BTreeMap<String, usize> = BTreeMap::new();
    let mut leaves: Vec<String> = Vec::new();
    for r in doc.relationships.iter().flatten() {
        let (Some(a), Some(t), Some(z)) = (
            non_empty(&r.spdx_element_id),
            non_empty(&r.relationship_type),
            non_empty(&r.related_spdx_element),
        ) else {
            b.warn(
                "a relationship lacks an element, a type or a related element and was skipped"
                    .to_owned(),
            );
            continue;
        };
        if z == "NOASSERTION" {
            continue;
        }
        if z == "NONE" {
            // `X DEPENDS_ON NONE`: X is known to have no dependencies.
            if t == "DEPENDS_ON" && !files.contains(&a) {
                leaves.push(a);
            }
            continue;
        }
        let (from, to) = match t.as_str() {
            "DESCRIBES" if a == doc_id => {
                if !described.contains(&z) {
                    described.push(z);
                }
                continue;
            }
            "DESCRIBED_BY" if z == doc_id => {
                if !described.contains(&a) {
                    described.push(a);
                }
                continue;
            }
            "DEPENDS_ON" | "CONTAINS" => (a, z),
            "DEPENDENCY_OF"
            | "DEV_DEPENDENCY_OF"
            | "BUILD_DEPENDENCY_OF"
            | "OPTIONAL_DEPENDENCY_OF"
            | "PROVIDED_DEPENDENCY_OF"
            | "TEST_DEPENDENCY_OF"
            | "RUNTIME_DEPENDENCY_OF"
            | "CONTAINED_BY" => (z, a),
            other => {
                *other_types.entry(other.to_owned()).or_default() += 1;
                continue;
            }
        };
        if files.contains(&from) || files.contains(&to) {
            file_relationships += 1;
            continue;
        }
        if from.starts_with("DocumentRef-") || to.starts_with("DocumentRef-") {
            external_relationships += 1;
            continue;
        }
        edges.push((from, to));
    }

    // Packages.
    let mut subject_pkg: Option<Subject> = None;
    let mut id_to_ref: BTreeMap<String, String> = BTreeMap::new();
    for (i, p) in doc.packages.unwrap_or_default().into_iter().enumerate() {
        let id = non_empty(&p.spdx_id).unwrap_or_else(|| format!("SPDXRef-package-{}", i + 1));
        let mut c = Component {
            name: non_empty(&p.name).unwrap_or_default(),
            version: non_empty(&p.version_info).filter(|v| v != "NOASSERTION"),
            ..Component::default()
        };
        if c.name.is_empty() {
            b.warn(format!("package {id:?} has no name"));
        }
        // Licences.
        let concluded = real_license(&p.license_concluded);
        let declared = real_license(&p.license_declared);
        c.license = concluded.clone().or_else(|| declared.clone());
        if let (Some(con), Some(dec)) = (&concluded, &declared)
            && con != dec
        {
            c.properties
                .insert(LICENSE_DECLARED.to_owned(), dec.clone());
        }
        c.supplier = actor(&p.supplier).or_else(|| actor(&p.originator));
        for ck in p.checksums.iter().flatten() {
            if let (Some(a), Some(v)) = (non_empty(&ck.algorithm), non_empty(&ck.checksum_value)) {
                c.hashes.insert(common::normalize_hash_alg(&a), v);
            }
        }
        if let Some(purpose) = non_empty(&p.primary_package_purpose) {
            match kind_from_purpose(&purpose) {
                Some(k) => c.kind = k,
                None if purpose == "OTHER" => c.kind = ComponentKind::Other,
                None => {
                    c.kind = ComponentKind::Other;
                    c.properties.insert(PURPOSE.to_owned(), purpose);
                }
            }
        }
        let mut derived = None;
        let mut unusable = Vec::new();
        for r in p.external_refs.iter().flatten() {
            let cat = r.reference_category.as_deref().unwrap_or("").trim();
            let ty = r.reference_type.as_deref().unwrap_or("").trim();
            let Some(loc) = non_empty(&r.reference_locator) else {
                continue;
            };
            match (cat, ty) {
                ("PACKAGE-MANAGER" | "PACKAGE_MANAGER", "purl") => {
                    if c.purl.is_none() {
                        c.purl = Some(loc);
                    } else if c.purl.as_deref() != Some(loc.as_str()) {
                        common::add_property(&mut c.properties, "purl", &loc);
                    }
                }
                ("PACKAGE-MANAGER" | "PACKAGE_MANAGER", kind) => {
                    match crate::purl::from_spdx_locator(kind, &loc) {
                        Some(p) => derived = derived.or(Some(p)),
                        None => unusable.push(format!("{kind} {loc}")),
                    }
                }
                ("SECURITY", "cpe23Type" | "cpe22Type") => {
                    common::add_property(&mut c.properties, props::CPE, &loc)
                }
                _ => {}
            }
        }
        if c.purl.is_none()
            && let Some(d) = derived
        {
            c.purl = Some(d);
            c.purl_derived = true;
        }
        // Palisade's own annotations.
        let mut bom_ref = None;
        let mut role_subject = false;
        let mut src_name = None;
        let mut src_version = None;
        let mut kind_other = false;
        for a in p.annotations.iter().flatten() {
            let Some((k, v)) = palisade_pair(a) else {
                continue;
            };
            match k {
                props::BOM_REF => bom_ref = Some(v.to_owned()),
                ROLE_SUBJECT => role_subject = v == "subject",
                props::LAYER => c.layer = Some(v.to_owned()),
                props::SOURCE_NAME => src_name = Some(v.to_owned()),
                props::SOURCE_VERSION => src_version = Some(v.to_owned()),
                props::ECOSYSTEM => c.ecosystem = palisade_versions::Ecosystem::from_osv_name(v),
                props::PURL_DERIVED => c.purl_derived = v == "true",
                props::KIND => kind_other = v == "other",
                props::CDX_TYPE => {
                    c.properties
                        .insert(props::CDX_TYPE.to_owned(), v.to_owned());
                }
                props::SCOPE => {
                    c.scope = match v {
                        "required" => Some(Scope::Required),
                        "optional" => Some(Scope::Optional),
                        "excluded" => Some(Scope::Excluded),
                        _ => None,
                    }
                }
                props::LOCATION => {
                    c.locations.insert(v.to_owned());
                }
                _ if k.starts_with(crate::cyclonedx::write::HASH_PROPERTY_PREFIX) => {
                    let alg = k
                        .get(crate::cyclonedx::write::HASH_PROPERTY_PREFIX.len()..)
                        .unwrap_or_default();
                    c.hashes.insert(alg.to_owned(), v.to_owned());
                }
                _ => {
                    let name = k.strip_prefix("property:").unwrap_or(k);
                    common::add_property(&mut c.properties, name, v);
                }
            }
        }
        if kind_other {
            c.kind = ComponentKind::Other;
        }
        if let Some(name) = src_name {
            c.source_package = Some(SourcePackage {
                name,
                version: src_version,
            });
        }
        if c.purl.is_none() && !unusable.is_empty() {
            b.warn(format!("package {id:?}: package-manager references {unusable:?} cannot be turned into a purl"));
        }
        if role_subject {
            if let Some(r) = &bom_ref {
                b.reserve_ref(r);
                id_to_ref.insert(id.clone(), r.clone());
            }
            subject_pkg = Some(Subject {
                name: c.name,
                version: c.version,
                digests: c.hashes,
                purl: c.purl,
                kind: c.kind,
                bom_ref,
            });
            continue;
        }
        c.bom_ref = b.claim_ref(bom_ref.as_deref().or(Some(id.as_str())), &id);
        id_to_ref.insert(id, c.bom_ref.clone());
        b.push(c)?;
    }

    // Subject.
    if let Some(s) = subject_pkg {
        b.subject_ref = s.bom_ref.clone();
        b.inventory.metadata.subject = Some(s);
    } else {
        let described_pkgs: Vec<&String> = described
            .iter()
            .filter(|d| id_to_ref.contains_key(*d))
            .collect();
        match described_pkgs.as_slice() {
            [one] => {
                let r = id_to_ref.get(*one).cloned().unwrap_or_default();
                if let Some(c) = b.inventory.components.iter().find(|c| c.bom_ref == r) {
                    b.inventory.metadata.subject = Some(Subject {
                        name: c.name.clone(),
                        version: c.version.clone(),
                        digests: c.hashes.clone(),
                        purl: c.purl.clone(),
                        kind: c.kind,
                        bom_ref: Some(r.clone()),
                    });
                }
                b.subject_ref = Some(r);
            }
            [] => {}
            _ => {
                // Several described packages: the document itself is the
                // subject.
                if let Some(name) = non_empty(&doc.name) {
                    b.inventory.metadata.subject = Some(Subject {
                        name,
                        ..Subject::default()
                    });
                }
            }
        }
    }
    if let (Some(hint), Some(s)) = (subject_ref_hint, b.inventory.metadata.subject.as_mut()) {
        s.bom_ref = Some(hint);
    }

    for leaf in leaves {
        let l = id_to_ref.get(&leaf).cloned().unwrap_or(leaf);
        b.leaves.push(l);
    }
    for (from, to) in edges {
        let f = id_to_ref.get(&from).cloned().unwrap_or(from);
        let t = id_to_ref.get(&to).cloned().unwrap_or(to);
        b.edge(&f, &t)?;
    }
    if file_relationships > 0 {
        b.warn(format!("{file_relationships} relationship(s) with files or snippets are not represented (files are not components)"));
    }
    if external_relationships > 0 {
        b.warn(format!("{external_relationships} relationship(s) naming other documents (DocumentRef-...) are not represented"));
    }
    if !other_types.is_empty() {
        b.warn(format!(
            "relationship types without a dependency meaning were not mapped: {other_types:?}"
        ));
    }
    if !files.is_empty() {
        b.warn(format!(
            "{} file(s) and snippet(s) are not components and were not kept",
            files.len()
        ));
    }
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn actors_lose_their_prefix_and_email() {
        assert_eq!(
            actor(&Some(Cow::Borrowed("Organization: ACME (a@b.c)"))).as_deref(),
            Some("ACME")
        );
        assert_eq!(actor(&Some(Cow::Borrowed("NOASSERTION"))), None);
        assert_eq!(
            actor(&Some(Cow::Borrowed("Person: Jane"))).as_deref(),
            Some("Jane")
        );
    }

    #[test]
    fn noassertion_is_no_license() {
        assert_eq!(real_license(&Some(Cow::Borrowed("NOASSERTION"))), None);
        assert_eq!(real_license(&Some(Cow::Borrowed("NONE"))), None);
        assert_eq!(
            real_license(&Some(Cow::Borrowed("MIT"))).as_deref(),
            Some("MIT")
        );
    }
}
