//! What every reader shares: limits, licence and hash normalisation, and the
//! final pass that turns collected components into a valid [`Inventory`].
//!
//! Readers map their format's records to [`Component`]s and edges, then hand
//! them to [`Builder::finish`], which (in this order) makes `bom_ref`s unique,
//! fills the ecosystem from the purl, derives purls where the document allows,
//! drops edges to refs that name nothing (with a warning), and sorts. Doing
//! this once keeps the formats consistent: the same SBOM in CycloneDX or SPDX
//! ends as the same inventory, which is what the round-trip tests check.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use palisade_inventory::{Component, Inventory, Metadata};

use crate::SbomError;

/// Size, count and depth limits that bound the work any input can cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest document accepted, in bytes.
    pub max_bytes: usize,
    /// Most components (after flattening) one document may hold.
    pub max_components: usize,
    /// Most dependency edges one document may hold.
    pub max_edges: usize,
    /// Deepest element nesting accepted in XML, and deepest component nesting
    /// in any format (JSON is also bounded by `serde_json`'s limit of 128).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 512 << 20,
            max_components: 2_000_000,
            max_edges: 20_000_000,
            max_depth: 64,
        }
    }
}

/// Property names Palisade writes for inventory fields the target format has
/// no place for; readers map them back.
pub mod props {
    /// The image layer that introduced a component.
    pub const LAYER: &str = "palisade:layer";
    /// The source package name of an OS package.
    pub const SOURCE_NAME: &str = "palisade:source-package:name";
    /// The source package version of an OS package.
    pub const SOURCE_VERSION: &str = "palisade:source-package:version";
    /// The OSV ecosystem, when the purl does not give it.
    pub const ECOSYSTEM: &str = "palisade:ecosystem";
    /// `true` when the purl was derived by Palisade.
    pub const PURL_DERIVED: &str = "palisade:purl-derived";
    /// The component kind, when the format has no exact equivalent.
    pub const KIND: &str = "palisade:kind";
    /// The CycloneDX component type that Palisade read as `other`.
    pub const CDX_TYPE: &str = "palisade:cyclonedx-type";
    /// The scope (SPDX only; CycloneDX has a field).
    pub const SCOPE: &str = "palisade:scope";
    /// A location (SPDX only; CycloneDX 1.6+ has evidence occurrences).
    pub const LOCATION: &str = "palisade:location";
    /// The original bom-ref (SPDX only, when it is not a valid SPDX id).
    pub const BOM_REF: &str = "palisade:bom-ref";
    /// The component's CPE (SPDX security reference, CycloneDX field).
    pub const CPE: &str = "cpe";
    /// Distribution `ID`.
    pub const DISTRO_ID: &str = "palisade:distro:id";
    /// Distribution `VERSION_ID`.
    pub const DISTRO_VERSION: &str = "palisade:distro:version-id";
    /// Distribution `VERSION_CODENAME`.
    pub const DISTRO_CODENAME: &str = "palisade:distro:codename";
    /// The subject's bom-ref (SPDX only).
    pub const SUBJECT_REF: &str = "palisade:subject:bom-ref";
}

/// Adds `value` under `name`, joining repeated names with a newline so that
/// no value is lost (CycloneDX allows a property name to repeat; the
/// inventory keeps one string per name, and the writers split it again).
pub fn add_property(map: &mut BTreeMap<String, String>, name: &str, value: &str) {
    match map.get_mut(name) {
        Some(existing) => {
            if !existing.split('\n').any(|v| v == value) {
                existing.push('\n');
                existing.push_str(value);
            }
        }
        None => {
            map.insert(name.to_owned(), value.to_owned());
        }
    }
}

/// The CycloneDX spelling of a hash algorithm name from either format
/// (`SHA256`, `sha-256`, `SHA-256` all become `SHA-256`).
pub fn normalize_hash_alg(alg: &str) -> String {
    let upper = alg.trim().to_ascii_uppercase();
    let known = match upper.as_str() {
        "MD2" | "MD4" | "MD5" | "MD6" => return upper,
        "SHA1" | "SHA-1" => "SHA-1",
        "SHA224" | "SHA-224" => "SHA-224",
        "SHA256" | "SHA-256" => "SHA-256",
        "SHA384" | "SHA-384" => "SHA-384",
        "SHA512" | "SHA-512" => "SHA-512",
        "SHA3-256" | "SHA3_256" => "SHA3-256",
        "SHA3-384" | "SHA3_384" => "SHA3-384",
        "SHA3-512" | "SHA3_512" => "SHA3-512",
        "BLAKE2B-256" => "BLAKE2b-256",
        "BLAKE2B-384" => "BLAKE2b-384",
        "BLAKE2B-512" => "BLAKE2b-512",
        "BLAKE3" => "BLAKE3",
        "ADLER32" => "ADLER32",
        "STREEBOG-256" => "Streebog-256",
        "STREEBOG-512" => "Streebog-512",
        _ => return alg.trim().to_owned(),
    };
    known.to_owned()
}

/// Wraps a compound SPDX expression in parentheses so it can be joined.
fn parenthesize(expr: &str) -> String {
    let e = expr.trim();
    if e.contains(' ') && !(e.starts_with('(') && e.ends_with(')')) {
        format!("({e})")
    } else {
        e.to_owned()
    }
}

/// Joins licence expressions with `AND`, as CycloneDX tools and syft do for a
/// list of licences. Returns `None` for an empty list.
pub fn join_licenses(parts: &[String]) -> Option<String> {
    let mut uniq: Vec<&String> = Vec::new();
    for p in parts {
        if !p.trim().is_empty() && !uniq.contains(&p) {
            uniq.push(p);
        }
    }
    match uniq.as_slice() {
        [] => None,
        [one] => Some(one.trim().to_owned()),
        many => Some(
            many.iter()
                .map(|p| parenthesize(p))
                .collect::<Vec<_>>()
                .join(" AND "),
        ),
    }
}

/// A free-text licence name as an SPDX identifier: kept when it already is a
/// single identifier token, otherwise `LicenseRef-` plus the name with every
/// character outside `[A-Za-z0-9.-]` replaced by `-`.
pub fn license_from_name(name: &str) -> String {
    let n = name.trim();
    let is_token = !n.is_empty()
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'));
    if is_token {
        return n.to_owned();
    }
    let cleaned: String = n
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("LicenseRef-{cleaned}")
}

/// Collects a document's components and edges, then finishes the inventory.
#[derive(Debug, Default)]
pub struct Builder {
    /// The inventory being built.
    pub inventory: Inventory,
    /// Which `bom_ref`s are taken, to keep them unique (a hash set: only
    /// membership matters, and it is on the hot path).
    refs: HashSet<String>,
    /// Purl type implied by the document's tools, for derivation.
    pub tool_purl_type: Option<&'static str>,
    /// Per-component purl type hints (bom_ref -> type) and CycloneDX group.
    pub hints: BTreeMap<String, (Option<&'static str>, Option<String>)>,
    /// A bom_ref that should not be warned about when it has no purl (the
    /// document's subject).
    pub subject_ref: Option<String>,
    /// Edges as read, resolved at the end.
    pub edges: Vec<(String, String)>,
    /// Refs that appear as dependents with an explicitly empty list.
    pub leaves: Vec<String>,
    limits: Limits,
    source_name: String,
}

impl Builder {
    /// A builder for one document.
    pub fn new(source_name: &str, limits: &Limits, metadata: Metadata) -> Self {
        Builder {
            inventory: Inventory {
                metadata,
                ..Inventory::default()
            },
            limits: limits.clone(),
            source_name: source_name.to_owned(),
            ..Builder::default()
        }
    }

    /// Records a warning.
    pub fn warn(&mut self, w: String) {
        self.inventory.warnings.push(w);
    }

    /// Takes a `bom_ref` for a new component: the wanted one when it is free,
    /// otherwise a suffixed variant (with a warning when the document itself
    /// repeated the ref). Returns the ref used.
    pub fn claim_ref(&mut self, wanted: Option<&str>, fallback: &str) -> String {
        let base = match wanted.map(str::trim).filter(|w| !w.is_empty()) {
            Some(w) => {
                if !self.refs.contains(w) {
                    self.refs.insert(w.to_owned());
                    return w.to_owned();
                }
                self.inventory.warnings.push(format!(
                    "bom-ref {w:?} is used by more than one component; later ones were renamed"
                ));
                w.to_owned()
            }
            None => {
                if !self.refs.contains(fallback) {
                    self.refs.insert(fallback.to_owned());
                    return fallback.to_owned();
                }
                fallback.to_owned()
            }
        };
        let mut n = 2usize;
        loop {
            let candidate = format!("{base}#{n}");
            if !self.refs.contains(&candidate) {
                self.refs.insert(candidate.clone());
                return candidate;
            }
            n += 1;
        }
    }

    /// Reserves a ref that is not a component (the subject's), so that no
    /// component takes it.
    pub fn reserve_ref(&mut self, r: &str) {
        self.refs.insert(r.to_owned());
    }

    /// Adds a component, enforcing the component limit.
    pub fn push(&mut self, c: Component) -> Result<(), SbomError> {
        if self.inventory.components.len() >= self.limits.max_components {
            return Err(SbomError::limit(
                &self.source_name,
                "the number of components",
                format!("{} components", self.limits.max_components),
            ));
        }
        self.inventory.components.push(c);
        Ok(())
    }

    /// Adds an edge, enforcing the edge limit.
    pub fn edge(&mut self, from: &str, to: &str) -> Result<(), SbomError> {
        if self.edges.len() >= self.limits.max_edges {
            return Err(SbomError::limit(
                &self.source_name,
                "the number of dependency edges",
                format!("{} edges", self.limits.max_edges),
            ));
        }
        self.edges.push((from.to_owned(), to.to_owned()));
        Ok(())
    }

    /// Fills ecosystems, derives purls, resolves edges and sorts.
    pub fn finish(mut self) -> Inventory {
        let mut warnings = std::mem::take(&mut self.inventory.warnings);
        for c in &mut self.inventory.components {
            if c.purl.is_none() {
                let (hint, group) = self.hints.get(&c.bom_ref).cloned().unwrap_or((None, None));
                let derived = hint.or(self.tool_purl_type).and_then(|ty| {
                    crate::purl::from_name(ty, group.as_deref(), &c.name, c.version.as_deref())
                });
                match derived {
                    Some(p) => {
                        c.purl = Some(p);
                        c.purl_derived = true;
                    }
                    None => {
                        if self.subject_ref.as_deref() != Some(c.bom_ref.as_str()) {
                            warnings.push(format!(
                                "component {:?} (bom-ref {:?}) has no purl and the document does not say which ecosystem it belongs to",
                                display_name(c),
                                c.bom_ref
                            ));
                        }
                    }
                }
            }
            if let Some(p) = c.purl.as_deref() {
                match crate::purl_bridge::resolve(p) {
                    Ok((eco, source)) => {
                        if c.ecosystem.is_none() {
                            c.ecosystem = eco;
                        }
                        if c.source_package.is_none() {
                            c.source_package = source;
                        }
                    }
                    Err(e) => warnings.push(format!(
                        "component {:?} (bom-ref {:?}): {e}",
                        display_name(c),
                        c.bom_ref
                    )),
                }
            }
        }
        // Resolve edges: both ends must name a component or the subject.
        let mut known: HashSet<&str> = self
            .inventory
            .components
            .iter()
            .map(|c| c.bom_ref.as_str())
            .collect();
        let subject_ref = self
            .inventory
            .metadata
            .subject
            .as_ref()
            .and_then(|s| s.bom_ref.clone());
        if let Some(s) = subject_ref.as_deref() {
            known.insert(s);
        }
        let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut dangling: BTreeSet<String> = BTreeSet::new();
        for leaf in &self.leaves {
            if known.contains(leaf.as_str()) {
                deps.entry(leaf.clone()).or_default();
            } else {
                dangling.insert(leaf.clone());
            }
        }
        for (from, to) in std::mem::take(&mut self.edges) {
            let f = known.contains(from.as_str());
            let t = known.contains(to.as_str());
            if f && t {
                let set = deps.entry(from.clone()).or_default();
                if from != to {
                    set.insert(to);
                }
            } else {
                if !f {
                    dangling.insert(from);
                }
                if !t {
                    dangling.insert(to);
                }
            }
        }
        if !dangling.is_empty() {
            let sample: Vec<&String> = dangling.iter().take(5).collect();
            warnings.push(format!(
                "{} dependency ref(s) name no component and their edges were dropped (first: {:?})",
                dangling.len(),
                sample
            ));
        }
        self.inventory.dependencies = deps;
        // The distribution, when the document has no explicit one but lists
        // exactly one operating-system component (syft, Trivy).
        if self.inventory.metadata.distro.is_none() {
            let mut os = self
                .inventory
                .components
                .iter()
                .filter(|c| c.kind == palisade_inventory::ComponentKind::OperatingSystem);
            if let (Some(one), None) = (os.next(), os.next())
                && !one.name.is_empty()
            {
                self.inventory.metadata.distro = Some(palisade_inventory::Distro {
                    id: one.name.to_ascii_lowercase(),
                    version_id: one.version.clone(),
                    codename: None,
                });
            }
        }
        self.inventory.warnings = warnings;
        self.inventory.sort();
        self.inventory
    }
}

/// `name@version` for messages.
pub fn display_name(c: &Component) -> String {
    match &c.version {
        Some(v) => format!("{}@{v}", c.name),
        None => c.name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_names_take_cyclonedx_spelling() {
        assert_eq!(normalize_hash_alg("SHA256"), "SHA-256");
        assert_eq!(normalize_hash_alg("sha1"), "SHA-1");
        assert_eq!(normalize_hash_alg("BLAKE2b-256"), "BLAKE2b-256");
        assert_eq!(normalize_hash_alg("md5"), "MD5");
    }

    #[test]
    fn licenses_join_with_and() {
        assert_eq!(join_licenses(&[]), None);
        assert_eq!(join_licenses(&["MIT".into()]).as_deref(), Some("MIT"));
        assert_eq!(
            join_licenses(&[
                "MIT".into(),
                "Apache-2.0 OR BSD-3-Clause".into(),
                "MIT".into()
            ])
            .as_deref(),
            Some("MIT AND (Apache-2.0 OR BSD-3-Clause)")
        );
    }

    #[test]
    fn free_text_names_become_license_refs() {
        assert_eq!(license_from_name("MIT"), "MIT");
        assert_eq!(
            license_from_name("The MIT License"),
            "LicenseRef-The-MIT-License"
        );
    }

    #[test]
    fn repeated_properties_are_joined_not_lost() {
        let mut m = BTreeMap::new();
        add_property(&mut m, "a", "1");
        add_property(&mut m, "a", "2");
        add_property(&mut m, "a", "1");
        assert_eq!(m.get("a").map(String::as_str), Some("1\n2"));
    }

    #[test]
    fn refs_stay_unique() {
        let mut b = Builder::new("t", &Limits::default(), Metadata::default());
        assert_eq!(b.claim_ref(Some("x"), "f"), "x");
        assert_eq!(b.claim_ref(Some("x"), "f"), "x#2");
        assert_eq!(b.claim_ref(None, "x"), "x#3");
        assert_eq!(b.inventory.warnings.len(), 1);
    }
}
