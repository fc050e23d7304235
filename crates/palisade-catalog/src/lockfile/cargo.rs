//! `Cargo.lock`, versions 1 to 4.
//!
//! Every `[[package]]` becomes a component, workspace members included (they
//! have no `source`; they are marked `cargo:source = local`). Dependency
//! entries are `name`, `name version` or `name version (source)`, the short
//! forms being used only when unambiguous, so they are resolved in that order
//! against the package table. Checksums come from the package's `checksum`
//! (v2+) or the v1 `[metadata]` table (`"checksum name version (source)"`).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use palisade_inventory::Inventory;
use palisade_versions::Ecosystem;
use serde::Deserialize;

use crate::common::{Collector, Limits, Pkg, component, toml, utf8};
use crate::error::{CatalogError, Result};

// Strings borrow from the lockfile text when they have no escapes (all of a
// Cargo-written lockfile), so the table is read without copying.
#[derive(Deserialize)]
struct Lock<'a> {
    #[serde(borrow, default)]
    package: Vec<Package<'a>>,
    #[serde(default)]
    metadata: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct Package<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    version: Cow<'a, str>,
    #[serde(borrow, default)]
    source: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    checksum: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    dependencies: Vec<Cow<'a, str>>,
}

/// Reads a lockfile in the exact shape Cargo writes (`version = N`, then
/// `[[package]]` tables of `key = "string"` lines and `dependencies` arrays
/// of strings, one per line or inline), without a TOML parser: about 40 % of
/// the time on large lockfiles went to building the `toml` crate's document.
/// Anything else (another table such as v1's `[metadata]`, escapes, other
/// value types, duplicate keys, a truncated array) returns `None` and the
/// file is read by the TOML parser, which also produces the error messages.
fn fast(text: &str) -> Option<Vec<Package<'_>>> {
    fn string(v: &str) -> Option<&str> {
        let inner = v.strip_prefix('"')?.strip_suffix('"')?;
        (!inner.contains(['"', '\\'])).then_some(inner)
    }
    fn set<'a>(slot: &mut Option<Cow<'a, str>>, v: &'a str) -> Option<()> {
        if slot.is_some() {
            return None;
        }
        *slot = Some(Cow::Borrowed(string(v)?));
        Some(())
    }
    struct Partial<'a> {
        name: Option<Cow<'a, str>>,
        version: Option<Cow<'a, str>>,
        source: Option<Cow<'a, str>>,
        checksum: Option<Cow<'a, str>>,
        dependencies: Option<Vec<Cow<'a, str>>>,
    }
    fn close<'a>(p: Partial<'a>, out: &mut Vec<Package<'a>>) -> Option<()> {
        out.push(Package {
            name: p.name?,
            version: p.version?,
            source: p.source,
            checksum: p.checksum,
            dependencies: p.dependencies.unwrap_or_default(),
        });
        Some(())
    }
    let mut out = Vec::new();
    let mut current: Option<Partial<'_>> = None;
    let mut top_version = false;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "[[package]]" {
            if let Some(p) = current.take() {
                close(p, &mut out)?;
            }
            current = Some(Partial {
                name: None,
                version: None,
                source: None,
                checksum: None,
                dependencies: None,
            });
            continue;
        }
        let (key, value) = line.split_once(" = ")?;
        if !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return None;
        }
        let Some(p) = current.as_mut() else {
            // Before the first package only `version = N` is expected.
            if key != "version" || top_version || !value.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            top_version = true;
            continue;
        };
        match key {
            "name" => set(&mut p.name, value)?,
            "version" => set(&mut p.version, value)?,
            "source" => set(&mut p.source, value)?,
            "checksum" => set(&mut p.checksum, value)?,
            "dependencies" => {
                if p.dependencies.is_some() {
                    return None;
                }
                let mut deps = Vec::new();
                if value == "[" {
                    loop {
                        let item = lines.next()?.trim();
                        if item == "]" {
                            break;
                        }
                        deps.push(Cow::Borrowed(string(item.strip_suffix(',')?)?));
                    }
                } else {
                    let inner = value.strip_prefix('[')?.strip_suffix(']')?.trim();
                    let inner = inner.strip_suffix(',').unwrap_or(inner);
                    if !inner.is_empty() {
                        for item in inner.split(',') {
                            deps.push(Cow::Borrowed(string(item.trim())?));
                        }
                    }
                }
                p.dependencies = Some(deps);
            }
            _ => return None,
        }
    }
    if let Some(p) = current.take() {
        close(p, &mut out)?;
    }
    Some(out)
}

/// Parses a `Cargo.lock`.
pub fn parse(file: &str, bytes: &[u8], _limits: &Limits) -> Result<Inventory> {
    let text = utf8(file, bytes)?;
    let lock: Lock<'_> = match fast(text) {
        Some(package) => Lock {
            package,
            metadata: BTreeMap::new(),
        },
        None => toml(file, text)?,
    };
    let mut c = Collector::default();
    let mut warnings = Vec::new();
    // Per package (by index): its bom_ref. Lookups by (name, version,
    // source) and by name borrow from the parsed table.
    let mut refs: Vec<String> = Vec::with_capacity(lock.package.len());
    let mut by_full: HashMap<(&str, &str, &str), usize> = HashMap::new();
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, p) in lock.package.iter().enumerate() {
        let mut comp = component(
            &Pkg {
                ty: "cargo",
                name: &p.name,
                version: Some(&p.version),
                ecosystem: Some(Ecosystem::CratesIo),
                ..Pkg::default()
            },
            file,
            &mut warnings,
        );
        let source = p.source.as_deref().unwrap_or_default();
        let checksum = p.checksum.as_deref().map(str::to_owned).or_else(|| {
            let key = format!("checksum {} {} ({})", p.name, p.version, source);
            lock.metadata
                .get(&key)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        });
        if let Some(sum) =
            checksum.filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            comp.hashes
                .insert("SHA-256".into(), sum.to_ascii_lowercase());
        }
        let source_label = if source.is_empty() { "local" } else { source };
        comp.properties
            .insert("cargo:source".into(), source_label.to_owned());
        if source.starts_with("git+") {
            // A git dependency's purl names the crate, not a registry release.
            comp.properties
                .insert("palisade:vcs".into(), source.to_owned());
        }
        refs.push(c.add(comp));
        by_full.insert((&p.name, &p.version, source), i);
        by_name.entry(&p.name).or_default().push(i);
    }
    for w in warnings {
        c.warn(w);
    }
    for (i, p) in lock.package.iter().enumerate() {
        let Some(from) = refs.get(i) else { continue };
        for dep in &p.dependencies {
            let mut parts = dep.splitn(3, ' ');
            let name = parts.next().unwrap_or_default();
            let version = parts.next();
            let source = parts
                .next()
                .map(|s| s.trim_start_matches('(').trim_end_matches(')'));
            let target = match (version, source) {
                (Some(v), Some(s)) => by_full.get(&(name, v, s)).copied(),
                (Some(v), None) => by_name.get(name).and_then(|cands| {
                    cands
                        .iter()
                        .copied()
                        .find(|j| lock.package.get(*j).is_some_and(|q| q.version == v))
                }),
                _ => match by_name.get(name).map(Vec::as_slice) {
                    Some([j]) => Some(*j),
                    _ => None,
                },
            };
            match target.and_then(|j| refs.get(j)) {
                Some(t) => c.edge(from, t),
                None => {
                    return Err(CatalogError::malformed(
                        file,
                        crate::error::Position::Record(format!("package[{i}].dependencies")),
                        format!(
                            "package {} {} depends on {dep:?}, which is not in the lockfile or is ambiguous",
                            p.name, p.version
                        ),
                    ));
                }
            }
        }
    }
    Ok(c.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["serde", "rand 0.8.5", "rand 0.9.0 (registry+https://github.com/rust-lang/crates.io-index)"]

[[package]]
name = "serde"
version = "1.0.200"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "ddc6f9cc94d67c0e21aaf7eda3a010fd3af78ebf6e096aa6e2e13c79749cce4f"

[[package]]
name = "rand"
version = "0.8.5"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "rand"
version = "0.9.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;

    #[test]
    fn reads_packages_checksums_and_edges() {
        let inv = parse("Cargo.lock", LOCK.as_bytes(), &Limits::default()).ok();
        let inv = inv.unwrap_or_default();
        let purls: Vec<_> = inv
            .components
            .iter()
            .filter_map(|c| c.purl.clone())
            .collect();
        assert_eq!(
            purls,
            [
                "pkg:cargo/app@0.1.0",
                "pkg:cargo/rand@0.8.5",
                "pkg:cargo/rand@0.9.0",
                "pkg:cargo/serde@1.0.200"
            ]
        );
        let app = &inv.dependencies["pkg:cargo/app@0.1.0"];
        assert_eq!(app.len(), 3);
        let serde = inv.components.iter().find(|c| c.name == "serde");
        assert_eq!(
            serde
                .and_then(|c| c.hashes.get("SHA-256"))
                .map(String::as_str),
            Some("ddc6f9cc94d67c0e21aaf7eda3a010fd3af78ebf6e096aa6e2e13c79749cce4f")
        );
    }

    /// The fast reader and the TOML parser agree wherever the fast one
    /// answers, and it declines what it does not recognise.
    #[test]
    fn fast_reader_matches_toml() {
        type Flat = (String, String, Option<String>, Option<String>, Vec<String>);
        fn via_toml(text: &str) -> Vec<Flat> {
            let lock: Lock<'_> = toml("Cargo.lock", text).unwrap_or(Lock {
                package: Vec::new(),
                metadata: BTreeMap::new(),
            });
            lock.package.iter().map(flat).collect()
        }
        fn flat(p: &Package<'_>) -> Flat {
            (
                p.name.to_string(),
                p.version.to_string(),
                p.source.as_deref().map(str::to_owned),
                p.checksum.as_deref().map(str::to_owned),
                p.dependencies.iter().map(|d| d.to_string()).collect(),
            )
        }
        let multi = "# generated\nversion = 4\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\ndependencies = [\n \"b\",\n \"c 2.0.0 (registry+https://example.invalid/index)\",\n]\n\n[[package]]\nname = \"b\"\nversion = \"0.1.0\"\nsource = \"git+https://example.invalid/b#abc\"\n\n[[package]]\nname = \"c\"\nversion = \"2.0.0\"\nsource = \"registry+https://example.invalid/index\"\nchecksum = \"ddc6f9cc94d67c0e21aaf7eda3a010fd3af78ebf6e096aa6e2e13c79749cce4f\"\ndependencies = []\n";
        for text in [LOCK, multi] {
            let fast = fast(text).map(|v| v.iter().map(flat).collect::<Vec<_>>());
            assert_eq!(fast, Some(via_toml(text)), "{text}");
        }
        let own = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock"));
        if let Ok(own) = own {
            let fast = fast(&own).map(|v| v.iter().map(flat).collect::<Vec<_>>());
            assert_eq!(fast, Some(via_toml(&own)));
        }
        for declined in [
            "version = 3\n[[package]]\nname = \"a\"\nversion = \"1\"\n\n[metadata]\n\"checksum a 1 (x)\" = \"00\"\n",
            "[[package]]\nname = \"a\\u0041\"\nversion = \"1\"\n",
            "[[package]]\nname = 'a'\nversion = \"1\"\n",
            "[[package]]\nname = \"a\"\nname = \"b\"\nversion = \"1\"\n",
            "[[package]]\nname = \"a\"\nversion = \"1\"\ndependencies = [\n \"b\",\n",
            "[[package]]\nname = \"a\"\n",
            "[[package]]\nname = \"a\"\nversion = \"1\"\nextra = 1\n",
            "[[package]]\nname=\"a\"\nversion = \"1\"\n",
        ] {
            assert!(fast(declined).is_none(), "{declined}");
        }
    }

    #[test]
    fn ambiguous_short_dependency_is_an_error() {
        let bad = LOCK.replace("\"rand 0.8.5\"", "\"rand\"");
        let err = parse("Cargo.lock", bad.as_bytes(), &Limits::default()).err();
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("package[0].dependencies"), "{msg}");
        assert!(msg.contains("ambiguous"), "{msg}");
    }

    #[test]
    fn toml_errors_name_the_line() {
        let err = parse(
            "Cargo.lock",
            b"version = 3\n[[package]\nname = 1\n",
            &Limits::default(),
        )
        .err();
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.starts_with("Cargo.lock: line 2"), "{msg}");
    }
}
