//! Pieces every parser shares: limits, purl building, component construction
//! and the merging of per-file results into one inventory.
//!
//! Parsers produce an [`Inventory`] fragment per file: components whose
//! `bom_ref` is their purl (or, without one, `location#name@version`), the
//! dependency edges the file records, and warnings. Keying by purl lets the
//! same package found in two lockfiles, or at two paths of one
//! `package-lock.json`, merge into one component with both locations instead
//! of appearing twice. Merging is deterministic: locations are sets, scope
//! takes the strongest claim (required over optional over excluded), and the
//! first layer seen is kept.

use std::borrow::{Borrow, Cow};
use std::collections::{BTreeSet, HashMap};
use std::fmt;

use palisade_inventory::{Component, Inventory, Scope};
use palisade_versions::Ecosystem;

use crate::error::{CatalogError, Result};

/// Size and count limits that bound the work any input can cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest lockfile, manifest or package database read, in bytes.
    pub max_file_bytes: u64,
    /// Largest executable inspected for embedded build information, in bytes.
    pub max_binary_bytes: u64,
    /// Most components one file may yield.
    pub max_components: usize,
    /// Most entries one archive (outer image tar or one layer) may hold.
    pub max_archive_entries: u64,
    /// Most decompressed bytes one layer may expand to (size-bomb guard).
    pub max_layer_bytes: u64,
    /// Deepest nesting accepted in YAML, TOML and XML documents (JSON is
    /// bounded by `serde_json`'s own limit of 128).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 256 << 20,
            max_binary_bytes: 512 << 20,
            max_components: 2_000_000,
            max_archive_entries: 4_000_000,
            max_layer_bytes: 16 << 30,
            max_depth: 64,
        }
    }
}

impl Limits {
    /// Fails when `len` exceeds the file-size limit.
    pub fn check_file_size(&self, file: &str, len: u64) -> Result<()> {
        if len > self.max_file_bytes {
            return Err(CatalogError::Limit {
                file: file.to_owned(),
                what: format!("size {len} bytes"),
                limit: format!("{} bytes", self.max_file_bytes),
            });
        }
        Ok(())
    }

    /// Fails when a file has yielded more components than allowed.
    pub fn check_components(&self, file: &str, count: usize) -> Result<()> {
        if count > self.max_components {
            return Err(CatalogError::Limit {
                file: file.to_owned(),
                what: format!("component count {count}"),
                limit: format!("{} components", self.max_components),
            });
        }
        Ok(())
    }
}

/// Builds a canonical purl string. Type-specific normalisation (lower-casing
/// PyPI names, for instance) is the `packageurl` crate's, which follows the
/// purl specification's type definitions.
pub fn purl(
    ty: &str,
    namespace: Option<&str>,
    name: &str,
    version: Option<&str>,
    qualifiers: &[(&str, &str)],
) -> std::result::Result<String, String> {
    let mut p = packageurl::PackageUrl::new(ty, name).map_err(|e| e.to_string())?;
    if let Some(ns) = namespace.filter(|n| !n.is_empty()) {
        p.with_namespace(ns).map_err(|e| e.to_string())?;
    }
    if let Some(v) = version.filter(|v| !v.is_empty()) {
        p.with_version(v).map_err(|e| e.to_string())?;
    }
    for (k, v) in qualifiers {
        if !v.is_empty() {
            p.add_qualifier(*k, *v).map_err(|e| e.to_string())?;
        }
    }
    Ok(p.to_string())
}

/// A package as a parser found it, before it becomes a [`Component`].
#[derive(Clone, Debug, Default)]
pub struct Pkg<'a> {
    /// purl type (`npm`, `cargo`, `deb`...).
    pub ty: &'a str,
    /// purl namespace (npm scope without `@`... as the type defines it).
    pub namespace: Option<&'a str>,
    /// Name within the namespace.
    pub name: &'a str,
    /// Version, when known.
    pub version: Option<&'a str>,
    /// Extra purl qualifiers.
    pub qualifiers: Vec<(&'a str, &'a str)>,
    /// The name as the ecosystem spells it (`@scope/name`, `group:artifact`).
    pub display_name: Option<String>,
    /// The OSV ecosystem.
    pub ecosystem: Option<Ecosystem>,
}

/// Turns a found package into a component recorded at `location`. A purl
/// that cannot be built is reported in `warnings` and the component kept
/// without one, so nothing is silently lost.
pub fn component(pkg: &Pkg<'_>, location: &str, warnings: &mut Vec<String>) -> Component {
    let purl = match purl(
        pkg.ty,
        pkg.namespace,
        pkg.name,
        pkg.version,
        &pkg.qualifiers,
    ) {
        Ok(p) => Some(p),
        Err(e) => {
            warnings.push(format!(
                "{location}: cannot build a purl for {:?} {:?}: {e}",
                pkg.name, pkg.version
            ));
            None
        }
    };
    let name = pkg
        .display_name
        .clone()
        .unwrap_or_else(|| match pkg.namespace {
            Some(ns) if !ns.is_empty() => format!("{ns}/{}", pkg.name),
            _ => pkg.name.to_owned(),
        });
    let version = pkg.version.filter(|v| !v.is_empty()).map(str::to_owned);
    let bom_ref = purl
        .clone()
        .unwrap_or_else(|| format!("{location}#{name}@{}", version.as_deref().unwrap_or("")));
    let mut locations = BTreeSet::new();
    locations.insert(location.to_owned());
    Component {
        bom_ref,
        name,
        version,
        ecosystem: pkg.ecosystem,
        purl,
        purl_derived: true,
        locations,
        ..Component::default()
    }
}

/// Accumulates components and edges for one file, merging duplicates.
#[derive(Debug, Default)]
pub struct Collector {
    /// `bom_ref` -> index in `inventory.components`. A hash map: it is only
    /// looked up, never iterated, so its order cannot leak into the output.
    index: HashMap<String, usize>,
    /// The inventory being built.
    pub inventory: Inventory,
}

impl Collector {
    /// Adds a component, merging it into an existing one with the same
    /// `bom_ref`. Returns the `bom_ref`.
    pub fn add(&mut self, component: Component) -> String {
        let key = component.bom_ref.clone();
        match self.index.get(&key).copied() {
            Some(i) => {
                if let Some(existing) = self.inventory.components.get_mut(i) {
                    merge_component(existing, component);
                }
            }
            None => {
                self.index
                    .insert(key.clone(), self.inventory.components.len());
                self.inventory.components.push(component);
            }
        }
        key
    }

    /// Records that `from` depends on `to` (both `bom_ref`s).
    pub fn edge(&mut self, from: &str, to: &str) {
        if from == to {
            return;
        }
        // Look up before inserting: `entry` would allocate `from` every time.
        match self.inventory.dependencies.get_mut(from) {
            Some(tos) => {
                if !tos.contains(to) {
                    tos.insert(to.to_owned());
                }
            }
            None => {
                self.inventory
                    .dependencies
                    .insert(from.to_owned(), BTreeSet::from([to.to_owned()]));
            }
        }
    }

    /// Records a warning.
    pub fn warn(&mut self, warning: String) {
        self.inventory.warnings.push(warning);
    }

    /// Number of distinct components so far.
    pub fn len(&self) -> usize {
        self.inventory.components.len()
    }

    /// Whether nothing was collected.
    pub fn is_empty(&self) -> bool {
        self.inventory.components.is_empty()
    }

    /// The `bom_ref` of a component by its `bom_ref`, if present.
    pub fn contains(&self, bom_ref: &str) -> bool {
        self.index.contains_key(bom_ref)
    }

    /// Mutable access to a component by `bom_ref`.
    pub fn get_mut(&mut self, bom_ref: &str) -> Option<&mut Component> {
        let i = *self.index.get(bom_ref)?;
        self.inventory.components.get_mut(i)
    }

    /// Finishes: drops edges to unknown components (reported), sorts.
    pub fn finish(mut self) -> Inventory {
        let known = &self.index;
        let mut dropped = Vec::new();
        for (from, tos) in self.inventory.dependencies.iter_mut() {
            tos.retain(|t| {
                let ok = known.contains_key(t);
                if !ok {
                    dropped.push(format!("dependency edge {from} -> {t} names no component"));
                }
                ok
            });
        }
        self.inventory.dependencies.retain(|_, v| !v.is_empty());
        self.inventory.warnings.extend(dropped);
        self.inventory.sort();
        self.inventory.warnings.sort();
        self.inventory.warnings.dedup();
        self.inventory
    }
}

/// Scope rank: a component required by anything is required.
fn scope_rank(s: Option<Scope>) -> u8 {
    match s {
        Some(Scope::Required) | None => 3,
        Some(Scope::Optional) => 2,
        Some(Scope::Excluded) => 1,
    }
}

/// Merges `other` into `into` (same `bom_ref`).
pub fn merge_component(into: &mut Component, other: Component) {
    into.locations.extend(other.locations);
    if scope_rank(other.scope) > scope_rank(into.scope) {
        into.scope = other.scope;
    }
    for (k, v) in other.hashes {
        into.hashes.entry(k).or_insert(v);
    }
    for (k, v) in other.properties {
        into.properties.entry(k).or_insert(v);
    }
    if into.license.is_none() {
        into.license = other.license;
    }
    if into.layer.is_none() {
        into.layer = other.layer;
    }
    if into.source_package.is_none() {
        into.source_package = other.source_package;
    }
    if into.supplier.is_none() {
        into.supplier = other.supplier;
    }
}

/// Merges several fragments into one inventory, deduplicating components by
/// `bom_ref` and uniting their edges and warnings.
pub fn merge_inventories(parts: impl IntoIterator<Item = Inventory>) -> Inventory {
    let mut c = Collector::default();
    for part in parts {
        for comp in part.components {
            c.add(comp);
        }
        for (from, tos) in part.dependencies {
            for to in tos {
                c.edge(&from, &to);
            }
        }
        c.inventory.warnings.extend(part.warnings);
        if c.inventory.metadata.distro.is_none() {
            c.inventory.metadata.distro = part.metadata.distro;
        }
    }
    c.finish()
}

/// Lower-case hex of `bytes`. `hex::encode` collects a `char` iterator, which
/// showed in profiles of lockfiles with an integrity hash on every entry.
pub fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// A string read by serde that borrows from the input when it can (JSON and
/// TOML strings without escapes) and is copied only when it must be. Unlike
/// `Cow<str>`, which serde always copies, it also borrows as a map key.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text<'a>(pub Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Text<'_> {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> std::result::Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(
                self,
                v: &str,
            ) -> std::result::Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(
                self,
                v: String,
            ) -> std::result::Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Converts input bytes to text, reporting the first invalid byte's line.
pub fn utf8<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = bytes.get(..e.valid_up_to()).unwrap_or_default();
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        CatalogError::at_line(file, line, "the file is not valid UTF-8")
    })
}

/// Parses JSON with `serde_json`, whose recursion limit (128) bounds depth.
pub fn json<'a, T: serde::Deserialize<'a>>(file: &str, bytes: &'a [u8]) -> Result<T> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    serde_json::from_slice(bytes).map_err(|e| CatalogError::json(file, &e))
}

/// Parses YAML after checking its indentation depth against the limit
/// (`serde_yaml_ng` bounds recursion too, but its error is less clear).
pub fn yaml<T: serde::de::DeserializeOwned>(file: &str, text: &str, limits: &Limits) -> Result<T> {
    for (i, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        // Flow collections nest without indentation; count their openers.
        let flow = line.bytes().filter(|b| *b == b'[' || *b == b'{').count();
        if indent / 2 + flow > limits.max_depth * 2 {
            return Err(CatalogError::Limit {
                file: file.to_owned(),
                what: format!("nesting at line {}", i + 1),
                limit: format!("depth {}", limits.max_depth),
            });
        }
    }
    serde_yaml_ng::from_str(text).map_err(|e| match e.location() {
        Some(loc) => CatalogError::malformed(
            file,
            crate::error::Position::LineColumn(loc.line(), loc.column()),
            strip_yaml_position(&e.to_string()),
        ),
        None => CatalogError::malformed(file, crate::error::Position::File, e.to_string()),
    })
}

fn strip_yaml_position(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// Parses TOML; `toml` reports byte spans, converted here to a line. `T`
/// may borrow from `text` (strings without escapes are not copied).
pub fn toml<'a, T: serde::Deserialize<'a>>(file: &str, text: &'a str) -> Result<T> {
    toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .and_then(|s| text.get(..s.start))
            .map(|before| before.bytes().filter(|b| *b == b'\n').count() + 1);
        let reason = e.message().to_owned();
        match line {
            Some(l) => CatalogError::at_line(file, l, reason),
            None => CatalogError::malformed(file, crate::error::Position::File, reason),
        }
    })
}

/// A JSON path segment for an object key, quoted as JSONPath does.
pub fn jkey(key: &str) -> String {
    format!("[{}]", serde_json::Value::String(key.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_are_normalised_by_type() {
        assert_eq!(
            purl("pypi", None, "Django_Rest", Some("1.0"), &[])
                .ok()
                .as_deref(),
            Some("pkg:pypi/django-rest@1.0")
        );
        assert_eq!(
            purl("npm", Some("@babel"), "core", Some("7.0.0"), &[])
                .ok()
                .as_deref(),
            Some("pkg:npm/%40babel/core@7.0.0")
        );
    }

    #[test]
    fn merging_keeps_every_location_and_the_strongest_scope() {
        let mut w = Vec::new();
        let p = Pkg {
            ty: "npm",
            name: "a",
            version: Some("1.0.0"),
            ..Pkg::default()
        };
        let mut a = component(&p, "x/package-lock.json", &mut w);
        a.scope = Some(Scope::Optional);
        let b = component(&p, "y/package-lock.json", &mut w);
        let mut c = Collector::default();
        c.add(a);
        c.add(b);
        let inv = c.finish();
        assert_eq!(inv.components.len(), 1);
        let comp = &inv.components[0];
        assert_eq!(comp.locations.len(), 2);
        assert_eq!(comp.scope, None);
    }

    #[test]
    fn dangling_edges_are_reported_not_kept() {
        let mut c = Collector::default();
        let mut w = Vec::new();
        let a = c.add(component(
            &Pkg {
                ty: "npm",
                name: "a",
                version: Some("1"),
                ..Pkg::default()
            },
            "l",
            &mut w,
        ));
        c.edge(&a, "pkg:npm/missing@1");
        let inv = c.finish();
        assert!(inv.dependencies.is_empty());
        assert_eq!(inv.warnings.len(), 1);
    }

    #[test]
    fn hex_lower_matches_the_hex_crate() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(hex_lower(&bytes), hex::encode(&bytes));
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let err = utf8("f", b"ok\nok\n\xff").err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("f: line 3: the file is not valid UTF-8")
        );
    }
}
