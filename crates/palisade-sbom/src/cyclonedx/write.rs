//! CycloneDX 1.6 and 1.7 JSON writer.
//!
//! The document is built as a `serde_json` value with members in the order
//! the specification lists them (the workspace enables `preserve_order`), from
//! an inventory whose components are already sorted, so the bytes depend only
//! on the inventory. The serial number is by default a UUID derived from the
//! SHA-256 of the document written without it.
//!
//! Every inventory field has a home, so reading the output gives the same
//! inventory back: fields CycloneDX has no place for (layer, source package,
//! a purl-less ecosystem, "purl derived") become `palisade:*` properties, a
//! hash CycloneDX cannot carry (an algorithm outside its list, or a value
//! that is not hex of a known length) becomes a `palisade:hash:ALG`
//! property, and a property whose value holds several lines (how the
//! inventory keeps a repeated property name) is written as repeated
//! properties again.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use palisade_inventory::{Component, ComponentKind, Inventory, Scope};

use crate::common::props;
use crate::{SbomError, SerialNumber, WriteOptions};

/// The specification version written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// CycloneDX 1.6.
    V1_6,
    /// CycloneDX 1.7.
    V1_7,
}

impl Version {
    fn as_str(self) -> &'static str {
        match self {
            Version::V1_6 => "1.6",
            Version::V1_7 => "1.7",
        }
    }
}

/// The component types both 1.6 and 1.7 allow.
const TYPES: &[&str] = &[
    "application",
    "framework",
    "library",
    "container",
    "platform",
    "operating-system",
    "device",
    "device-driver",
    "firmware",
    "file",
    "machine-learning-model",
    "data",
    "cryptographic-asset",
];

/// The hash algorithms CycloneDX 1.6 and 1.7 allow.
const HASH_ALGS: &[&str] = &[
    "MD5",
    "SHA-1",
    "SHA-256",
    "SHA-384",
    "SHA-512",
    "SHA3-256",
    "SHA3-384",
    "SHA3-512",
    "BLAKE2b-256",
    "BLAKE2b-384",
    "BLAKE2b-512",
    "BLAKE3",
];

/// The prefix of properties carrying hashes CycloneDX cannot hold.
pub const HASH_PROPERTY_PREFIX: &str = "palisade:hash:";

fn is_cdx_hash(alg: &str, content: &str) -> bool {
    HASH_ALGS.contains(&alg)
        && matches!(content.len(), 32 | 40 | 64 | 96 | 128)
        && content.bytes().all(|b| b.is_ascii_hexdigit())
}

fn kind_type(kind: ComponentKind) -> &'static str {
    match kind {
        ComponentKind::Library | ComponentKind::Other => "library",
        ComponentKind::Application => "application",
        ComponentKind::Framework => "framework",
        ComponentKind::Container => "container",
        ComponentKind::OperatingSystem => "operating-system",
        ComponentKind::Firmware => "firmware",
        ComponentKind::File => "file",
    }
}

fn push_prop(list: &mut Vec<Value>, name: &str, value: &str) {
    list.push(json!({ "name": name, "value": value }));
}

/// Writes an inventory as CycloneDX JSON.
pub fn write(
    inv: &Inventory,
    version: Version,
    options: &WriteOptions,
) -> Result<Vec<u8>, SbomError> {
    let mut doc = Map::new();
    doc.insert(
        "$schema".into(),
        Value::String(format!(
            "http://cyclonedx.org/schema/bom-{}.schema.json",
            version.as_str()
        )),
    );
    doc.insert("bomFormat".into(), Value::String("CycloneDX".into()));
    doc.insert("specVersion".into(), Value::String(version.as_str().into()));
    doc.insert("serialNumber".into(), Value::Null);
    doc.insert("version".into(), json!(1));

    let component_refs: std::collections::BTreeSet<&str> =
        inv.components.iter().map(|c| c.bom_ref.as_str()).collect();

    // Metadata.
    let mut meta = Map::new();
    if let Some(ts) = options
        .timestamp
        .as_ref()
        .or(inv.metadata.timestamp.as_ref())
    {
        meta.insert("timestamp".into(), Value::String(ts.clone()));
    }
    let mut tools: Vec<palisade_inventory::Tool> = inv.metadata.tools.clone();
    if !options.tool_name.is_empty() {
        tools.push(palisade_inventory::Tool {
            vendor: None,
            name: options.tool_name.clone(),
            version: Some(options.tool_version.clone()).filter(|v| !v.is_empty()),
        });
    }
    tools.sort();
    tools.dedup();
    if !tools.is_empty() {
        let list: Vec<Value> = tools
            .iter()
            .map(|t| {
                let mut m = Map::new();
                m.insert("type".into(), Value::String("application".into()));
                if let Some(v) = &t.vendor {
                    m.insert("supplier".into(), json!({ "name": v }));
                }
                m.insert("name".into(), Value::String(t.name.clone()));
                if let Some(v) = &t.version {
                    m.insert("version".into(), Value::String(v.clone()));
                }
                Value::Object(m)
            })
            .collect();
        meta.insert("tools".into(), json!({ "components": list }));
    }
    if let Some(s) = &inv.metadata.subject {
        let mut m = Map::new();
        m.insert("type".into(), Value::String(kind_type(s.kind).into()));
        let mut sprops = Vec::new();
        match &s.bom_ref {
            Some(r) if component_refs.contains(r.as_str()) => {
                push_prop(&mut sprops, props::SUBJECT_REF, r)
            }
            Some(r) => {
                m.insert("bom-ref".into(), Value::String(r.clone()));
            }
            None => {}
        }
        if s.kind == ComponentKind::Other {
            push_prop(&mut sprops, props::KIND, "other");
        }
        m.insert("name".into(), Value::String(s.name.clone()));
        if let Some(v) = &s.version {
            m.insert("version".into(), Value::String(v.clone()));
        }
        let mut hashes = Vec::new();
        for (alg, content) in &s.digests {
            if is_cdx_hash(alg, content) {
                hashes.push(json!({ "alg": alg, "content": content }));
            } else {
                push_prop(
                    &mut sprops,
                    &format!("{HASH_PROPERTY_PREFIX}{alg}"),
                    content,
                );
            }
        }
        if !hashes.is_empty() {
            m.insert("hashes".into(), Value::Array(hashes));
        }
        if let Some(p) = &s.purl {
            m.insert("purl".into(), Value::String(p.clone()));
        }
        if !sprops.is_empty() {
            m.insert("properties".into(), Value::Array(sprops));
        }
        meta.insert("component".into(), Value::Object(m));
    }
    if let Some(d) = &inv.metadata.distro {
        let mut p = Vec::new();
        push_prop(&mut p, props::DISTRO_ID, &d.id);
        if let Some(v) = &d.version_id {
            push_prop(&mut p, props::DISTRO_VERSION, v);
        }
        if let Some(v) = &d.codename {
            push_prop(&mut p, props::DISTRO_CODENAME, v);
        }
        meta.insert("properties".into(), Value::Array(p));
    }
    if !meta.is_empty() {
        doc.insert("metadata".into(), Value::Object(meta));
    }

    // Components.
    let components: Vec<Value> = inv.components.iter().map(component).collect();
    doc.insert("components".into(), Value::Array(components));

    // Dependencies.
    if !inv.dependencies.is_empty() {
        let deps: Vec<Value> = inv
            .dependencies
            .iter()
            .map(|(from, to)| {
                let mut m = Map::new();
                m.insert("ref".into(), Value::String(from.clone()));
                m.insert(
                    "dependsOn".into(),
                    Value::Array(to.iter().map(|t| Value::String(t.clone())).collect()),
                );
                Value::Object(m)
            })
            .collect();
        doc.insert("dependencies".into(), Value::Array(deps));
    }

    // Serial number.
    let serial = match &options.serial_number {
        SerialNumber::Fixed(s) => Some(s.clone()),
        SerialNumber::Random => Some(format!("urn:uuid:{}", crate::random_uuid())),
        SerialNumber::Derived => {
            doc.shift_remove("serialNumber");
            let body = serde_json::to_vec(&doc).map_err(|e| SbomError::Write {
                format: format!("cyclonedx-{}-json", version.as_str()),
                reason: e.to_string(),
            })?;
            let digest = Sha256::digest(&body);
            let uuid = format!("urn:uuid:{}", crate::uuid_from_digest(&digest));
            // Put it back in its place, after specVersion.
            let mut ordered = Map::new();
            for (k, v) in std::mem::take(&mut doc) {
                let after_spec = k == "specVersion";
                ordered.insert(k, v);
                if after_spec {
                    ordered.insert("serialNumber".into(), Value::Null);
                }
            }
            doc = ordered;
            Some(uuid)
        }
    };
    match serial {
        Some(s) => {
            doc.insert("serialNumber".into(), Value::String(s));
        }
        None => {
            doc.shift_remove("serialNumber");
        }
    }
    let value = Value::Object(doc);
    let out = if options.pretty {
        serde_json::to_vec_pretty(&value)
    } else {
        serde_json::to_vec(&value)
    };
    let mut out = out.map_err(|e| SbomError::Write {
        format: format!("cyclonedx-{}-json", version.as_str()),
        reason: e.to_string(),
    })?;
    out.push(b'\n');
    Ok(out)
}

fn component(c: &Component) -> Value {
    let mut m = Map::new();
    let mut plist: Vec<Value> = Vec::new();
    // Type.
    let ty = match c.kind {
        ComponentKind::Other => match c.properties.get(props::CDX_TYPE) {
            Some(t) if TYPES.contains(&t.as_str()) => t.clone(),
            _ => {
                push_prop(&mut plist, props::KIND, "other");
                "library".to_owned()
            }
        },
        k => kind_type(k).to_owned(),
    };
    m.insert("type".into(), Value::String(ty));
    m.insert("bom-ref".into(), Value::String(c.bom_ref.clone()));
    if let Some(s) = &c.supplier {
        m.insert("supplier".into(), json!({ "name": s }));
    }
    m.insert("name".into(), Value::String(c.name.clone()));
    if let Some(v) = &c.version {
        m.insert("version".into(), Value::String(v.clone()));
    }
    if let Some(s) = c.scope {
        let s = match s {
            Scope::Required => "required",
            Scope::Optional => "optional",
            Scope::Excluded => "excluded",
        };
        m.insert("scope".into(), Value::String(s.into()));
    }
    let mut hashes = Vec::new();
    for (alg, content) in &c.hashes {
        if is_cdx_hash(alg, content) {
            hashes.push(json!({ "alg": alg, "content": content }));
        } else {
            push_prop(&mut plist, &format!("{HASH_PROPERTY_PREFIX}{alg}"), content);
        }
    }
    if !hashes.is_empty() {
        m.insert("hashes".into(), Value::Array(hashes));
    }
    if let Some(l) = &c.license {
        m.insert("licenses".into(), json!([{ "expression": l }]));
    }
    let mut cpes = c
        .properties
        .get(props::CPE)
        .map(|v| v.split('\n'))
        .into_iter()
        .flatten();
    if let Some(first) = cpes.next() {
        m.insert("cpe".into(), Value::String(first.to_owned()));
    }
    for extra in cpes {
        push_prop(&mut plist, props::CPE, extra);
    }
    if let Some(p) = &c.purl {
        m.insert("purl".into(), Value::String(p.clone()));
    }
    // Fields without a CycloneDX home.
    if let Some(l) = &c.layer {
        push_prop(&mut plist, props::LAYER, l);
    }
    if let Some(s) = &c.source_package {
        push_prop(&mut plist, props::SOURCE_NAME, &s.name);
        if let Some(v) = &s.version {
            push_prop(&mut plist, props::SOURCE_VERSION, v);
        }
    }
    if let Some(e) = c.ecosystem {
        let from_purl = c.purl.as_deref().and_then(crate::purl_bridge::ecosystem_of);
        if from_purl != Some(e) {
            push_prop(&mut plist, props::ECOSYSTEM, e.as_str());
        }
    }
    if c.purl_derived {
        push_prop(&mut plist, props::PURL_DERIVED, "true");
    }
    for (name, value) in &c.properties {
        if name == props::CPE || name == props::CDX_TYPE {
            continue;
        }
        for v in value.split('\n') {
            push_prop(&mut plist, name, v);
        }
    }
    if !plist.is_empty() {
        m.insert("properties".into(), Value::Array(plist));
    }
    if !c.locations.is_empty() {
        let occ: Vec<Value> = c
            .locations
            .iter()
            .map(|l| json!({ "location": l }))
            .collect();
        m.insert("evidence".into(), json!({ "occurrences": occ }));
    }
    Value::Object(m)
}
