//! CycloneDX: the JSON and XML readers share one object model
//! ([`model`]) and one mapping to the inventory (this module), so the two
//! encodings of one BOM read to the same inventory; the writer is separate.
//!
//! Mapping decisions (each also documented in the crate README):
//! - `metadata.component` is the subject, not a component; nested components
//!   are flattened, keep their `bom-ref`s, and get a parent -> child edge
//!   (the same "contains" edge SPDX's `CONTAINS` gives).
//! - Names join `group` and `name` as the ecosystem spells them: `:` for
//!   Maven, `/` otherwise (`@angular/core`).
//! - Licences become one SPDX expression: ids as they are, expressions
//!   parenthesised, free-text names as `LicenseRef-...`, joined with `AND`.
//! - Properties named `palisade:*` carry inventory fields CycloneDX has no
//!   place for and are mapped back; all others are kept verbatim.

pub mod json;
pub mod model;
pub mod write;
pub mod xml;

use std::collections::BTreeMap;

use palisade_inventory::{
    Component, ComponentKind, Distro, Metadata, Scope, SourcePackage, Subject, Tool,
};

use crate::SbomError;
use crate::common::{self, Builder, Limits, props};

/// Maps a CycloneDX type to a component kind; `None` for types the
/// inventory has no kind for (they become `Other`).
pub fn kind_from_type(t: &str) -> Option<ComponentKind> {
    Some(match t {
        "library" => ComponentKind::Library,
        "application" => ComponentKind::Application,
        "framework" => ComponentKind::Framework,
        "container" => ComponentKind::Container,
        "operating-system" => ComponentKind::OperatingSystem,
        "firmware" => ComponentKind::Firmware,
        "file" => ComponentKind::File,
        _ => return None,
    })
}

/// The purl type of a purl string (`npm` for `pkg:npm/...`).
pub fn purl_type(purl: &str) -> Option<&str> {
    let rest = purl.strip_prefix("pkg:")?.trim_start_matches('/');
    rest.split('/').next()
}

/// Joins `group` and `name` as the ecosystem spells a full name.
fn full_name(group: Option<&str>, name: &str, purl: Option<&str>) -> String {
    match group.map(str::trim).filter(|g| !g.is_empty()) {
        None => name.to_owned(),
        Some(g) => {
            let sep = if purl.and_then(purl_type) == Some("maven") {
                ':'
            } else {
                '/'
            };
            format!("{g}{sep}{name}")
        }
    }
}

fn non_empty(s: &Option<std::borrow::Cow<'_, str>>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// Turns a parsed BOM into an inventory. `label` is `cyclonedx-json` or
/// `cyclonedx-xml`.
pub fn to_inventory(
    bom: model::Bom<'_>,
    label: &str,
    source_name: &str,
    limits: &Limits,
) -> Result<palisade_inventory::Inventory, SbomError> {
    let spec = bom.spec_version.as_deref().unwrap_or("unknown").to_owned();
    let mut metadata = Metadata {
        source_format: Some(format!("{label} {spec}")),
        ..Metadata::default()
    };
    let mut subject_component = None;
    let mut meta_props: BTreeMap<String, String> = BTreeMap::new();
    if let Some(m) = bom.metadata {
        metadata.timestamp = non_empty(&m.timestamp);
        for t in m.tools.tools {
            let Some(name) = non_empty(&t.name) else {
                continue;
            };
            let vendor = non_empty(&t.vendor)
                .or_else(|| t.supplier.as_ref().and_then(|s| non_empty(&s.name)))
                .or_else(|| t.provider.as_ref().and_then(|s| non_empty(&s.name)))
                .or_else(|| non_empty(&t.group))
                .or_else(|| non_empty(&t.publisher))
                .or_else(|| non_empty(&t.author));
            metadata.tools.push(Tool {
                vendor,
                name,
                version: non_empty(&t.version),
            });
        }
        for p in m.properties.unwrap_or_default() {
            if let (Some(n), Some(v)) = (p.name.as_deref(), p.value.as_deref()) {
                common::add_property(&mut meta_props, n, v);
            }
        }
        subject_component = m.component;
    }
    let mut b = Builder::new(source_name, limits, metadata);
    let tool_types: Vec<&'static str> = b
        .inventory
        .metadata
        .tools
        .iter()
        .filter_map(|t| crate::purl::type_from_tool(&t.name))
        .collect();
    if let Some(first) = tool_types.first()
        && tool_types.iter().all(|t| t == first)
    {
        b.tool_purl_type = Some(first);
    }
    // Distro from palisade properties.
    if let Some(id) = meta_props.remove(props::DISTRO_ID) {
        b.inventory.metadata.distro = Some(Distro {
            id,
            version_id: meta_props.remove(props::DISTRO_VERSION),
            codename: meta_props.remove(props::DISTRO_CODENAME),
        });
    }
    if !meta_props.is_empty() {
        let names: Vec<&String> = meta_props.keys().collect();
        b.warn(format!(
            "metadata.properties {names:?} are not kept in the inventory"
        ));
    }
    let mut nested_under_subject = Vec::new();
    if let Some(sc) = subject_component {
        let name = full_name(
            sc.group.as_deref(),
            sc.name.as_deref().unwrap_or(""),
            sc.purl.as_deref(),
        );
        let bom_ref = non_empty(&sc.bom_ref);
        if let Some(r) = &bom_ref {
            b.reserve_ref(r);
        }
        let mut digests = BTreeMap::new();
        for h in sc.hashes.unwrap_or_default() {
            if let (Some(a), Some(c)) = (h.alg.as_deref(), h.content.as_deref()) {
                digests.insert(common::normalize_hash_alg(a), c.trim().to_owned());
            }
        }
        let mut kind = sc
            .kind
            .as_deref()
            .and_then(kind_from_type)
            .unwrap_or(ComponentKind::Other);
        let mut bom_ref = bom_ref;
        for p in sc.properties.iter().flatten() {
            let (Some(n), Some(v)) = (p.name.as_deref(), p.value.as_deref()) else {
                continue;
            };
            if n == props::SUBJECT_REF {
                bom_ref = Some(v.to_owned());
                b.subject_ref = Some(v.to_owned());
            } else if n == props::KIND && v == "other" {
                kind = ComponentKind::Other;
            } else if let Some(alg) = n.strip_prefix(write::HASH_PROPERTY_PREFIX) {
                digests.insert(alg.to_owned(), v.to_owned());
            }
        }
        b.inventory.metadata.subject = Some(Subject {
            name,
            version: non_empty(&sc.version),
            digests,
            purl: non_empty(&sc.purl),
            kind,
            bom_ref: bom_ref.clone(),
        });
        // Components nested in the subject are part of the inventory.
        if let Some(children) = sc.components {
            nested_under_subject.push((bom_ref, children));
        }
    }
    let mut stack: Vec<(Option<String>, usize, model::Component<'_>)> = Vec::new();
    for c in bom.components.unwrap_or_default().into_iter().rev() {
        stack.push((None, 0, c));
    }
    for (parent, children) in nested_under_subject {
        for c in children.into_iter().rev() {
            stack.push((parent.clone(), 1, c));
        }
    }
    let mut index = 0usize;
    while let Some((parent, depth, c)) = stack.pop() {
        if depth > limits.max_depth {
            return Err(SbomError::limit(
                source_name,
                "component nesting",
                format!("{} levels", limits.max_depth),
            ));
        }
        index += 1;
        let (component, hint, group, children) = map_component(c, index, &mut b);
        let r = component.bom_ref.clone();
        if let Some(p) = parent {
            b.edge(&p, &r)?;
        }
        if hint.is_some() || group.is_some() {
            b.hints.insert(r.clone(), (hint, group));
        }
        b.push(component)?;
        for child in children.into_iter().rev() {
            stack.push((Some(r.clone()), depth + 1, child));
        }
    }
    for d in bom.dependencies.unwrap_or_default() {
        let Some(from) = non_empty(&d.reference) else {
            b.warn("a dependencies entry has no ref and was skipped".to_owned());
            continue;
        };
        // CycloneDX: "components that do not have their own dependencies
        // MUST be declared as empty elements within the graph", so an entry
        // without `dependsOn` is a known leaf, as is an empty list.
        match d.depends_on {
            None => b.leaves.push(from.clone()),
            Some(list) if list.is_empty() => b.leaves.push(from.clone()),
            Some(list) => {
                for to in list {
                    b.edge(&from, to.0.trim())?;
                }
            }
        }
    }
    Ok(b.finish())
}

/// Maps one component; returns it with its purl-type hint, its group (for
/// derivation) and its nested components.
fn map_component<'a>(
    c: model::Component<'a>,
    index: usize,
    b: &mut Builder,
) -> (
    Component,
    Option<&'static str>,
    Option<String>,
    Vec<model::Component<'a>>,
) {
    let purl = non_empty(&c.purl);
    let raw_name = c.name.as_deref().map(str::trim).unwrap_or("");
    let name = full_name(c.group.as_deref(), raw_name, purl.as_deref());
    let version = non_empty(&c.version);
    let fallback = match &purl {
        Some(p) => p.clone(),
        None => format!("component-{index}"),
    };
    let bom_ref = b.claim_ref(c.bom_ref.as_deref(), &fallback);
    if raw_name.is_empty() {
        b.warn(format!("component {bom_ref:?} has no name"));
    }
    let mut out = Component {
        bom_ref,
        name,
        version,
        purl,
        ..Component::default()
    };
    // Kind.
    if let Some(t) = c.kind.as_deref().map(str::trim) {
        match kind_from_type(t) {
            Some(k) => out.kind = k,
            None => {
                out.kind = ComponentKind::Other;
                out.properties
                    .insert(props::CDX_TYPE.to_owned(), t.to_owned());
            }
        }
    }
    // Scope.
    if let Some(s) = c.scope.as_deref() {
        out.scope = match s.trim() {
            "required" => Some(Scope::Required),
            "optional" => Some(Scope::Optional),
            "excluded" => Some(Scope::Excluded),
            other => {
                b.warn(format!(
                    "component {:?}: unknown scope {other:?} ignored",
                    out.bom_ref
                ));
                None
            }
        };
    }
    // Hashes.
    for h in c.hashes.unwrap_or_default() {
        if let (Some(a), Some(v)) = (h.alg.as_deref(), h.content.as_deref()) {
            out.hashes
                .insert(common::normalize_hash_alg(a), v.trim().to_owned());
        }
    }
    // Licences.
    let mut lic = Vec::new();
    for l in c.licenses.unwrap_or_default() {
        if let Some(e) = non_empty(&l.expression) {
            lic.push(e);
        } else if let Some(l) = l.license {
            if let Some(id) = non_empty(&l.id) {
                lic.push(id);
            } else if let Some(n) = non_empty(&l.name) {
                lic.push(common::license_from_name(&n));
            }
        }
    }
    out.license = common::join_licenses(&lic);
    // Supplier.
    out.supplier = c
        .supplier
        .as_ref()
        .and_then(|s| non_empty(&s.name))
        .or_else(|| c.manufacturer.as_ref().and_then(|s| non_empty(&s.name)))
        .or_else(|| non_empty(&c.publisher))
        .or_else(|| non_empty(&c.author));
    if let Some(cpe) = non_empty(&c.cpe) {
        out.properties.insert(props::CPE.to_owned(), cpe);
    }
    // Locations.
    if let Some(ev) = c.evidence {
        for o in ev.occurrences.unwrap_or_default() {
            if let Some(l) = non_empty(&o.location) {
                out.locations.insert(l);
            }
        }
    }
    // Properties, with palisade's own mapped back to fields.
    let mut hint = None;
    let mut src_name = None;
    let mut src_version = None;
    let mut palisade_kind_other = false;
    for p in c.properties.unwrap_or_default() {
        let (Some(n), Some(v)) = (p.name.as_deref(), p.value.as_deref()) else {
            continue;
        };
        match n {
            props::LAYER => out.layer = Some(v.to_owned()),
            props::SOURCE_NAME => src_name = Some(v.to_owned()),
            props::SOURCE_VERSION => src_version = Some(v.to_owned()),
            props::ECOSYSTEM => out.ecosystem = palisade_versions::Ecosystem::from_osv_name(v),
            props::PURL_DERIVED => out.purl_derived = v == "true",
            props::KIND => palisade_kind_other = v == "other",
            props::LOCATION => {
                out.locations.insert(v.to_owned());
            }
            _ if n.starts_with(write::HASH_PROPERTY_PREFIX) => {
                let alg = n
                    .get(write::HASH_PROPERTY_PREFIX.len()..)
                    .unwrap_or_default();
                out.hashes.insert(alg.to_owned(), v.to_owned());
            }
            _ => {
                if n == "syft:package:type" {
                    hint = crate::purl::type_from_syft(v);
                }
                if n == "aquasecurity:trivy:LayerDiffID" && out.layer.is_none() {
                    out.layer = Some(v.to_owned());
                }
                if n == "aquasecurity:trivy:SrcName" && src_name.is_none() {
                    src_name = Some(v.to_owned());
                }
                if n == "aquasecurity:trivy:SrcVersion" && src_version.is_none() {
                    src_version = Some(v.to_owned());
                }
                common::add_property(&mut out.properties, n, v);
            }
        }
    }
    if palisade_kind_other && out.kind == ComponentKind::Library {
        out.kind = ComponentKind::Other;
    }
    if let Some(name) = src_name {
        out.source_package = Some(SourcePackage {
            name,
            version: src_version,
        });
    }
    let group = non_empty(&c.group);
    (out, hint, group, c.components.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maven_names_join_with_colon() {
        assert_eq!(
            full_name(Some("org.x"), "a", Some("pkg:maven/org.x/a@1")),
            "org.x:a"
        );
        assert_eq!(full_name(Some("@s"), "a", Some("pkg:npm/%40s/a@1")), "@s/a");
        assert_eq!(full_name(None, "a", None), "a");
    }
}
