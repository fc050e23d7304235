//! SPDX 2.3 JSON writer.
//!
//! Each component becomes a package; the dependency graph becomes
//! `DEPENDS_ON` relationships (a component known to have no dependencies gets
//! `DEPENDS_ON NONE`, SPDX's way of saying so), and the subject is what the
//! document `DESCRIBES`. SPDX ids are the `bom_ref`s when those are valid
//! SPDX ids, otherwise derived from them; the original `bom_ref` is then kept
//! in an annotation so that reading the document gives the same inventory.
//!
//! Inventory fields SPDX has no field for (scope, layer, locations, source
//! package, properties...) are written as package annotations by the tool
//! `palisade`, one `name=value` comment each, which the reader maps back.
//! A subject that is not one of the components is written as a package
//! annotated `palisade:role=subject`, which the reader does not count as a
//! component. The document namespace is `urn:uuid:` plus a UUID derived from
//! the content unless [`WriteOptions`] asks otherwise.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use palisade_inventory::{Component, ComponentKind, Inventory, Scope};

use super::{LICENSE_DECLARED, PURPOSE, ROLE_SUBJECT};
use crate::common::props;
use crate::{SbomError, SerialNumber, WriteOptions};

/// SPDX 2.3 checksum algorithms, by their CycloneDX spelling.
fn spdx_alg(alg: &str) -> Option<&'static str> {
    Some(match alg {
        "SHA-1" => "SHA1",
        "SHA-224" => "SHA224",
        "SHA-256" => "SHA256",
        "SHA-384" => "SHA384",
        "SHA-512" => "SHA512",
        "SHA3-256" => "SHA3-256",
        "SHA3-384" => "SHA3-384",
        "SHA3-512" => "SHA3-512",
        "BLAKE2b-256" => "BLAKE2b-256",
        "BLAKE2b-384" => "BLAKE2b-384",
        "BLAKE2b-512" => "BLAKE2b-512",
        "BLAKE3" => "BLAKE3",
        "MD2" => "MD2",
        "MD4" => "MD4",
        "MD5" => "MD5",
        "MD6" => "MD6",
        "ADLER32" => "ADLER32",
        _ => return None,
    })
}

fn purpose(kind: ComponentKind) -> &'static str {
    match kind {
        ComponentKind::Library => "LIBRARY",
        ComponentKind::Application => "APPLICATION",
        ComponentKind::Framework => "FRAMEWORK",
        ComponentKind::Container => "CONTAINER",
        ComponentKind::OperatingSystem => "OPERATING_SYSTEM",
        ComponentKind::Firmware => "FIRMWARE",
        ComponentKind::File => "FILE",
        ComponentKind::Other => "OTHER",
    }
}

const PURPOSES: &[&str] = &[
    "OTHER",
    "INSTALL",
    "ARCHIVE",
    "FIRMWARE",
    "APPLICATION",
    "FRAMEWORK",
    "LIBRARY",
    "CONTAINER",
    "SOURCE",
    "DEVICE",
    "OPERATING_SYSTEM",
    "FILE",
];

/// Whether `id` is a valid SPDX element id.
pub fn is_spdx_id(id: &str) -> bool {
    id.strip_prefix("SPDXRef-").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    })
}

/// Assigns SPDX ids: the bom_ref when valid, else a sanitised form, unique.
struct Ids {
    taken: BTreeSet<String>,
}

impl Ids {
    fn assign(&mut self, bom_ref: &str) -> String {
        let base = if is_spdx_id(bom_ref) {
            bom_ref.to_owned()
        } else {
            let cleaned: String = bom_ref
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect();
            format!("SPDXRef-{cleaned}")
        };
        let mut id = base.clone();
        let mut n = 2;
        while self.taken.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        self.taken.insert(id.clone());
        id
    }
}

/// Writes an inventory as SPDX 2.3 JSON.
pub fn write(inv: &Inventory, options: &WriteOptions) -> Result<Vec<u8>, SbomError> {
    let created = options
        .timestamp
        .clone()
        .or_else(|| inv.metadata.timestamp.clone())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned());
    let annotator = if options.tool_name.is_empty() {
        super::ANNOTATOR_PREFIX.to_owned()
    } else {
        format!("{}-{}", super::ANNOTATOR_PREFIX, options.tool_version)
    };
    let note = |k: &str, v: &str| -> Value {
        json!({
            "annotationDate": created,
            "annotationType": "OTHER",
            "annotator": annotator,
            "comment": format!("{k}={v}"),
        })
    };

    let mut ids = Ids {
        taken: BTreeSet::from(["SPDXRef-DOCUMENT".to_owned()]),
    };
    let mut ref_to_id: BTreeMap<&str, String> = BTreeMap::new();
    for c in &inv.components {
        let id = ids.assign(&c.bom_ref);
        ref_to_id.insert(c.bom_ref.as_str(), id);
    }

    let mut packages: Vec<Value> = Vec::new();
    let mut relationships: Vec<Value> = Vec::new();
    let mut described: Option<String> = None;
    let mut doc_notes: Vec<Value> = Vec::new();

    // The subject.
    if let Some(s) = &inv.metadata.subject {
        match s.bom_ref.as_deref().and_then(|r| ref_to_id.get(r)) {
            Some(id) => described = Some(id.clone()),
            None => {
                let id = ids.assign(s.bom_ref.as_deref().unwrap_or("SPDXRef-subject"));
                if let Some(r) = &s.bom_ref {
                    ref_to_id.insert(r.as_str(), id.clone());
                }
                let mut m = Map::new();
                m.insert("name".into(), Value::String(s.name.clone()));
                m.insert("SPDXID".into(), Value::String(id.clone()));
                if let Some(v) = &s.version {
                    m.insert("versionInfo".into(), Value::String(v.clone()));
                }
                m.insert(
                    "downloadLocation".into(),
                    Value::String("NOASSERTION".into()),
                );
                m.insert("filesAnalyzed".into(), Value::Bool(false));
                let mut notes = vec![note(ROLE_SUBJECT, "subject")];
                if let Some(r) = &s.bom_ref {
                    notes.push(note(props::BOM_REF, r));
                }
                let (checksums, extra) = checksums(&s.digests);
                for (alg, v) in extra {
                    notes.push(note(
                        &format!("{}{alg}", crate::cyclonedx::write::HASH_PROPERTY_PREFIX),
                        &v,
                    ));
                }
                if !checksums.is_empty() {
                    m.insert("checksums".into(), Value::Array(checksums));
                }
                if let Some(p) = &s.purl {
                    m.insert(
                        "externalRefs".into(),
                        json!([{ "referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": p }]),
                    );
                }
                m.insert(
                    "primaryPackagePurpose".into(),
                    Value::String(purpose(s.kind).into()),
                );
                m.insert("annotations".into(), Value::Array(notes));
                packages.push(Value::Object(m));
                described = Some(id);
            }
        }
    }
    if let Some(d) = &inv.metadata.distro {
        doc_notes.push(note(props::DISTRO_ID, &d.id));
        if let Some(v) = &d.version_id {
            doc_notes.push(note(props::DISTRO_VERSION, v));
        }
        if let Some(v) = &d.codename {
            doc_notes.push(note(props::DISTRO_CODENAME, v));
        }
    }

    for c in &inv.components {
        let id = ref_to_id
            .get(c.bom_ref.as_str())
            .cloned()
            .unwrap_or_default();
        packages.push(package(c, &id, &note));
    }

    if let Some(d) = &described {
        relationships.push(json!({ "spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": d }));
    }
    for (from, tos) in &inv.dependencies {
        let Some(f) = ref_to_id.get(from.as_str()) else {
            continue;
        };
        if tos.is_empty() {
            relationships.push(json!({ "spdxElementId": f, "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "NONE" }));
        }
        for to in tos {
            if let Some(t) = ref_to_id.get(to.as_str()) {
                relationships.push(json!({ "spdxElementId": f, "relationshipType": "DEPENDS_ON", "relatedSpdxElement": t }));
            }
        }
    }

    let mut creators: Vec<String> = Vec::new();
    if !options.tool_name.is_empty() {
        creators.push(format!(
            "Tool: {}-{}",
            options.tool_name, options.tool_version
        ));
    }
    for t in &inv.metadata.tools {
        creators.push(match &t.version {
            Some(v) => format!("Tool: {}-{v}", t.name),
            None => format!("Tool: {}", t.name),
        });
    }
    if creators.is_empty() {
        creators.push("Organization: NOASSERTION".to_owned());
    }
    creators.sort();
    creators.dedup();

    let name = inv
        .metadata
        .subject
        .as_ref()
        .map(|s| s.name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "inventory".to_owned());
    let mut doc = Map::new();
    doc.insert("spdxVersion".into(), Value::String("SPDX-2.3".into()));
    doc.insert("dataLicense".into(), Value::String("CC0-1.0".into()));
    doc.insert("SPDXID".into(), Value::String("SPDXRef-DOCUMENT".into()));
    doc.insert("name".into(), Value::String(name));
    doc.insert("documentNamespace".into(), Value::Null);
    doc.insert(
        "creationInfo".into(),
        json!({ "created": created, "creators": creators }),
    );
    if let Some(d) = &described {
        doc.insert("documentDescribes".into(), json!([d]));
    }
    if !doc_notes.is_empty() {
        doc.insert("annotations".into(), Value::Array(doc_notes));
    }
    doc.insert("packages".into(), Value::Array(packages));
    doc.insert("relationships".into(), Value::Array(relationships));

    let namespace = match &options.serial_number {
        SerialNumber::Fixed(s) => s.clone(),
        SerialNumber::Random => format!("urn:uuid:{}", crate::random_uuid()),
        SerialNumber::Derived => {
            let body = serde_json::to_vec(&doc).map_err(|e| SbomError::Write {
                format: "spdx-2.3-json".into(),
                reason: e.to_string(),
            })?;
            format!(
                "urn:uuid:{}",
                crate::uuid_from_digest(&Sha256::digest(&body))
            )
        }
    };
    doc.insert("documentNamespace".into(), Value::String(namespace));
    let value = Value::Object(doc);
    let out = if options.pretty {
        serde_json::to_vec_pretty(&value)
    } else {
        serde_json::to_vec(&value)
    };
    let mut out = out.map_err(|e| SbomError::Write {
        format: "spdx-2.3-json".into(),
        reason: e.to_string(),
    })?;
    out.push(b'\n');
    Ok(out)
}

/// SPDX checksums, and the hashes SPDX has no algorithm for.
fn checksums(hashes: &BTreeMap<String, String>) -> (Vec<Value>, Vec<(String, String)>) {
    let mut list = Vec::new();
    let mut extra = Vec::new();
    for (alg, v) in hashes {
        match spdx_alg(alg) {
            Some(a) => list.push(json!({ "algorithm": a, "checksumValue": v })),
            None => extra.push((alg.clone(), v.clone())),
        }
    }
    (list, extra)
}

fn package(c: &Component, id: &str, note: &dyn Fn(&str, &str) -> Value) -> Value {
    let mut m = Map::new();
    let mut notes = Vec::new();
    m.insert("name".into(), Value::String(c.name.clone()));
    m.insert("SPDXID".into(), Value::String(id.to_owned()));
    if id != c.bom_ref {
        notes.push(note(props::BOM_REF, &c.bom_ref));
    }
    if let Some(v) = &c.version {
        m.insert("versionInfo".into(), Value::String(v.clone()));
    }
    if let Some(s) = &c.supplier {
        m.insert(
            "supplier".into(),
            Value::String(format!("Organization: {s}")),
        );
    }
    m.insert(
        "downloadLocation".into(),
        Value::String("NOASSERTION".into()),
    );
    m.insert("filesAnalyzed".into(), Value::Bool(false));
    let (list, extra) = checksums(&c.hashes);
    if !list.is_empty() {
        m.insert("checksums".into(), Value::Array(list));
    }
    for (alg, v) in extra {
        notes.push(note(
            &format!("{}{alg}", crate::cyclonedx::write::HASH_PROPERTY_PREFIX),
            &v,
        ));
    }
    // Licences: a separately kept declared licence means the inventory's
    // licence was the concluded one.
    let noassertion = || Value::String("NOASSERTION".into());
    match (&c.license, c.properties.get(LICENSE_DECLARED)) {
        (Some(l), Some(d)) => {
            m.insert("licenseConcluded".into(), Value::String(l.clone()));
            m.insert("licenseDeclared".into(), Value::String(d.clone()));
        }
        (Some(l), None) => {
            m.insert("licenseConcluded".into(), noassertion());
            m.insert("licenseDeclared".into(), Value::String(l.clone()));
        }
        (None, _) => {
            m.insert("licenseConcluded".into(), noassertion());
            m.insert("licenseDeclared".into(), noassertion());
        }
    }
    m.insert("copyrightText".into(), noassertion());
    let mut refs = Vec::new();
    if let Some(p) = &c.purl {
        refs.push(json!({ "referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": p }));
    }
    if let Some(extra) = c.properties.get("purl") {
        for p in extra.split('\n') {
            refs.push(json!({ "referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": p }));
        }
    }
    if let Some(cpes) = c.properties.get(props::CPE) {
        for cpe in cpes.split('\n') {
            let ty = if cpe.starts_with("cpe:2.3:") {
                "cpe23Type"
            } else {
                "cpe22Type"
            };
            refs.push(json!({ "referenceCategory": "SECURITY", "referenceType": ty, "referenceLocator": cpe }));
        }
    }
    if !refs.is_empty() {
        m.insert("externalRefs".into(), Value::Array(refs));
    }
    let p = match (c.kind, c.properties.get(PURPOSE)) {
        (ComponentKind::Other, Some(p)) if PURPOSES.contains(&p.as_str()) => p.clone(),
        (k, _) => purpose(k).to_owned(),
    };
    m.insert("primaryPackagePurpose".into(), Value::String(p));
    if let Some(s) = c.scope {
        let s = match s {
            Scope::Required => "required",
            Scope::Optional => "optional",
            Scope::Excluded => "excluded",
        };
        notes.push(note(props::SCOPE, s));
    }
    if let Some(l) = &c.layer {
        notes.push(note(props::LAYER, l));
    }
    if let Some(s) = &c.source_package {
        notes.push(note(props::SOURCE_NAME, &s.name));
        if let Some(v) = &s.version {
            notes.push(note(props::SOURCE_VERSION, v));
        }
    }
    if let Some(e) = c.ecosystem {
        let from_purl = c.purl.as_deref().and_then(crate::purl_bridge::ecosystem_of);
        if from_purl != Some(e) {
            notes.push(note(props::ECOSYSTEM, e.as_str()));
        }
    }
    if c.purl_derived {
        notes.push(note(props::PURL_DERIVED, "true"));
    }
    for l in &c.locations {
        notes.push(note(props::LOCATION, l));
    }
    for (k, v) in &c.properties {
        if k == props::CPE || k == "purl" || k == LICENSE_DECLARED || k == PURPOSE {
            continue;
        }
        for one in v.split('\n') {
            notes.push(note(&format!("property:{k}"), one));
        }
    }
    if !notes.is_empty() {
        m.insert("annotations".into(), Value::Array(notes));
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spdx_ids() {
        assert!(is_spdx_id("SPDXRef-a.b-1"));
        assert!(!is_spdx_id("SPDXRef-"));
        assert!(!is_spdx_id("pkg:npm/a@1"));
        let mut ids = Ids {
            taken: BTreeSet::new(),
        };
        assert_eq!(ids.assign("pkg:npm/a@1"), "SPDXRef-pkg-npm-a-1");
        assert_eq!(ids.assign("pkg:npm/a@1"), "SPDXRef-pkg-npm-a-1-2");
        assert_eq!(ids.assign("SPDXRef-x"), "SPDXRef-x");
    }
}
