//! Python: pip requirements files, `poetry.lock`, `Pipfile.lock` and
//! `uv.lock`.
//!
//! Requirements files are pip's line format: `name[extras]==version`,
//! environment markers after `;`, `--hash` options, `\` continuations and
//! comments. Only `==` and `===` pins name a version; other requirements are
//! kept without a version, with a warning naming the line, since a range is
//! not an inventory. Options that refer elsewhere (`-r`, `-c`, `-e`, URLs)
//! are reported, not followed: the parser is pure.
//!
//! The lockfiles list exactly one version per package name, so their
//! dependency edges resolve by normalised name (PEP 503). Poetry marks dev
//! packages by `category = "dev"` (before 1.5) or by groups; uv and Pipenv by
//! their `dev-dependencies` / `develop` sections, and for uv the dev set is
//! what is reachable only through the workspace members' dev dependencies.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use palisade_inventory::{Component, Inventory, Scope};
use palisade_versions::Ecosystem;
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::common::{Collector, Limits, Pkg, Text, component, json, toml, utf8};
use crate::error::{CatalogError, Result};

/// PEP 503 normalisation: lower case, runs of `-`, `_`, `.` become `-`.
pub fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for ch in name.chars() {
        if matches!(ch, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.extend(ch.to_lowercase());
        }
    }
    out
}

fn pypi(name: &str, version: Option<&str>, file: &str, warnings: &mut Vec<String>) -> Component {
    let norm = normalise(name);
    component(
        &Pkg {
            ty: "pypi",
            name: &norm,
            version,
            ecosystem: Some(Ecosystem::PyPI),
            display_name: Some(name.to_owned()),
            ..Pkg::default()
        },
        file,
        warnings,
    )
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// Parses a pip requirements file.
pub fn parse_requirements(file: &str, bytes: &[u8], limits: &Limits) -> Result<Inventory> {
    let text = utf8(file, bytes)?;
    let mut c = Collector::default();
    let mut warnings = Vec::new();
    // Join `\` continuations, remembering each logical line's first line.
    let mut logical: Vec<(usize, String)> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let (start, mut acc) = pending.take().unwrap_or((i + 1, String::new()));
        match raw.strip_suffix('\\') {
            Some(part) => {
                acc.push_str(part);
                acc.push(' ');
                pending = Some((start, acc));
            }
            None => {
                acc.push_str(raw);
                logical.push((start, acc));
            }
        }
    }
    if let Some(p) = pending {
        logical.push(p);
    }
    for (line_no, line) in logical {
        // A comment starts at `#` preceded by whitespace or at line start.
        let line = match line
            .find(" #")
            .or_else(|| line.starts_with('#').then_some(0))
        {
            Some(i) => line.get(..i).unwrap_or_default(),
            None => line.as_str(),
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('-') {
            let opt = line.split_whitespace().next().unwrap_or_default();
            if matches!(
                opt,
                "-r" | "--requirement" | "-c" | "--constraint" | "-e" | "--editable"
            ) || opt.starts_with("--requirement=")
                || opt.starts_with("-r")
                || opt.starts_with("-e")
            {
                warnings.push(format!("{file}: line {line_no}: {line:?} refers to another file or an editable install; not followed"));
            }
            continue;
        }
        // Drop markers and options (`; python_version < "3"`, `--hash=...`).
        let spec = line.split(';').next().unwrap_or_default();
        let spec = spec.split(" --").next().unwrap_or_default().trim();
        let name_end = spec.find(|c: char| !is_name_char(c)).unwrap_or(spec.len());
        let name = spec.get(..name_end).unwrap_or_default();
        if name.is_empty()
            || spec.contains("://") && !spec.contains(" @ ") && name_end == spec.len()
        {
            warnings.push(format!(
                "{file}: line {line_no}: {line:?} names no package; skipped"
            ));
            continue;
        }
        let mut rest = spec.get(name_end..).unwrap_or_default().trim_start();
        if rest.starts_with('[') {
            let close = rest
                .find(']')
                .ok_or_else(|| CatalogError::at_line(file, line_no, "unclosed extras bracket"))?;
            rest = rest.get(close + 1..).unwrap_or_default().trim_start();
        }
        if rest.starts_with('@') {
            warnings.push(format!("{file}: line {line_no}: {name} is a direct URL reference; recorded without a version"));
            let mut comp = pypi(name, None, file, &mut warnings);
            comp.properties.insert(
                "palisade:vcs".into(),
                rest.trim_start_matches('@').trim().to_owned(),
            );
            c.add(comp);
            continue;
        }
        let pinned = rest
            .strip_prefix("===")
            .or_else(|| rest.strip_prefix("=="))
            .map(str::trim)
            .filter(|v| !v.is_empty() && !v.contains(',') && !v.contains('*'));
        let mut comp = match pinned {
            Some(v) => pypi(name, Some(v), file, &mut warnings),
            None => {
                warnings.push(format!(
                    "{file}: line {line_no}: {name} is not pinned with == ({:?}); recorded without a version",
                    rest
                ));
                let mut comp = pypi(name, None, file, &mut warnings);
                comp.properties
                    .insert("palisade:pinned".into(), "false".into());
                comp
            }
        };
        for h in line
            .split_whitespace()
            .filter_map(|t| t.strip_prefix("--hash="))
        {
            if let Some(hex) = h.strip_prefix("sha256:") {
                comp.hashes
                    .entry("SHA-256".into())
                    .or_insert_with(|| hex.to_owned());
            }
        }
        c.add(comp);
        limits.check_components(file, c.len())?;
    }
    for w in warnings {
        c.warn(w);
    }
    Ok(c.finish())
}

// Strings borrow from the lockfile text when they have no escapes; the
// values of `dependencies` (constraints, markers) are skipped, not built.
#[derive(Deserialize)]
struct PoetryLock<'a> {
    #[serde(borrow, default)]
    package: Vec<PoetryPackage<'a>>,
}

#[derive(Deserialize)]
struct PoetryPackage<'a> {
    #[serde(borrow)]
    name: Text<'a>,
    #[serde(borrow)]
    version: Text<'a>,
    #[serde(borrow, default)]
    category: Option<Text<'a>>,
    #[serde(borrow, default)]
    groups: Option<Vec<Text<'a>>>,
    #[serde(default)]
    optional: bool,
    #[serde(borrow, default)]
    dependencies: BTreeMap<Text<'a>, IgnoredAny>,
    #[serde(default)]
    source: Option<PoetrySource>,
    #[serde(borrow, default)]
    files: Vec<PoetryFile<'a>>,
}

#[derive(Deserialize)]
struct PoetrySource {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    resolved_reference: Option<String>,
}

#[derive(Deserialize)]
struct PoetryFile<'a> {
    #[serde(borrow, default)]
    hash: Option<Text<'a>>,
}

/// Parses a `poetry.lock`.
pub fn parse_poetry(file: &str, bytes: &[u8], limits: &Limits) -> Result<Inventory> {
    let text = utf8(file, bytes)?;
    let lock: PoetryLock<'_> = toml(file, text)?;
    limits.check_components(file, lock.package.len())?;
    let mut c = Collector::default();
    let mut warnings = Vec::new();
    let mut by_name: HashMap<String, String> = HashMap::new();
    for p in &lock.package {
        let mut comp = pypi(&p.name, Some(&p.version), file, &mut warnings);
        let dev = p.category.as_deref() == Some("dev")
            || p.groups
                .as_ref()
                .is_some_and(|g| !g.is_empty() && !g.iter().any(|x| &**x == "main"));
        if dev {
            comp.properties.insert("python:dev".into(), "true".into());
        }
        if dev || p.optional {
            comp.scope = Some(Scope::Optional);
        }
        if let Some(src) = &p.source {
            let kind = src.kind.as_deref().unwrap_or_default();
            if matches!(kind, "git" | "directory" | "file" | "url") {
                let mut v = src.url.clone().unwrap_or_default();
                if let Some(r) = &src.resolved_reference {
                    v = format!("{v}@{r}");
                }
                comp.properties.insert(format!("poetry:source-{kind}"), v);
            }
        }
        // One archive's hash is not the package's: keep them only when
        // there is exactly one file (an sdist-only release).
        if let [only] = p.files.as_slice()
            && let Some(h) = only.hash.as_deref().and_then(|h| h.strip_prefix("sha256:"))
        {
            comp.hashes.insert("SHA-256".into(), h.to_owned());
        }
        by_name.insert(normalise(&p.name), c.add(comp));
    }
    for p in &lock.package {
        let Some(from) = by_name.get(&normalise(&p.name)).cloned() else {
            continue;
        };
        for dep in p.dependencies.keys() {
            // Dependencies restricted by markers to other platforms or
            // Python versions are legitimately absent.
            if let Some(to) = by_name.get(&normalise(dep)) {
                c.edge(&from, to);
            }
        }
    }
    for w in warnings {
        c.warn(w);
    }
    Ok(c.finish())
}

#[derive(Deserialize)]
struct PipfileLock {
    #[serde(default)]
    default: BTreeMap<String, PipfileEntry>,
    #[serde(default)]
    develop: BTreeMap<String, PipfileEntry>,
}

#[derive(Deserialize)]
struct PipfileEntry {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    git: Option<String>,
    #[serde(default, rename = "ref")]
    reference: Option<String>,
    #[serde(default)]
    path: Option<String>,
}

/// Parses a `Pipfile.lock`.
pub fn parse_pipfile(file: &str, bytes: &[u8], limits: &Limits) -> Result<Inventory> {
    let lock: PipfileLock = json(file, bytes)?;
    let mut c = Collector::default();
    let mut warnings = Vec::new();
    for (section, entries, dev) in [
        ("default", &lock.default, false),
        ("develop", &lock.develop, true),
    ] {
        for (name, e) in entries {
            let version = e
                .version
                .as_deref()
                .map(|v| v.trim_start_matches("===").trim_start_matches("=="));
            if version.is_none() {
                warnings.push(format!(
                    "{file}: $.{section}[{name:?}]: no pinned version (git or path source); recorded without one"
                ));
            }
            let mut comp = pypi(name, version, file, &mut warnings);
            if let Some(g) = &e.git {
                let r = e
                    .reference
                    .as_deref()
                    .map(|r| format!("@{r}"))
                    .unwrap_or_default();
                comp.properties
                    .insert("palisade:vcs".into(), format!("{g}{r}"));
            }
            if let Some(p) = &e.path {
                comp.properties.insert("python:path".into(), p.clone());
            }
            if dev {
                comp.scope = Some(Scope::Optional);
                comp.properties.insert("python:dev".into(), "true".into());
            }
            c.add(comp);
            limits.check_components(file, c.len())?;
        }
    }
    for w in warnings {
        c.warn(w);
    }
    Ok(c.finish())
}

#[derive(Deserialize)]
struct UvLock {
    version: u32,
    #[serde(default)]
    package: Vec<UvPackage>,
}

#[derive(Deserialize)]
struct UvPackage {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    source: BTreeMap<String, toml::Value>,
    #[serde(default)]
    dependencies: Vec<UvDep>,
    #[serde(default, rename = "optional-dependencies")]
    optional_dependencies: BTreeMap<String, Vec<UvDep>>,
    #[serde(default, rename = "dev-dependencies")]
    dev_dependencies: BTreeMap<String, Vec<UvDep>>,
    #[serde(default)]
    sdist: Option<UvArtifact>,
}

#[derive(Deserialize)]
struct UvDep {
    name: String,
    #[serde(default)]
    version: Option<String>,
}

#[derive(Deserialize)]
struct UvArtifact {
    #[serde(default)]
    hash: Option<String>,
}

/// Parses a `uv.lock`.
pub fn parse_uv(file: &str, bytes: &[u8], limits: &Limits) -> Result<Inventory> {
    let text = utf8(file, bytes)?;
    let lock: UvLock = toml(file, text)?;
    if lock.version != 1 {
        return Err(CatalogError::Unsupported {
            file: file.to_owned(),
            format: format!("uv.lock version {}", lock.version),
            reason: "only version 1 is defined".into(),
        });
    }
    limits.check_components(file, lock.package.len())?;
    let mut c = Collector::default();
    let mut warnings = Vec::new();
    // name -> [(version, bom_ref)]; uv repeats the version in a dependency
    // only when the name is ambiguous.
    let mut by_name: HashMap<String, Vec<(Option<String>, String)>> = HashMap::new();
    let mut members = Vec::new();
    for (i, p) in lock.package.iter().enumerate() {
        let local = ["editable", "virtual", "directory", "path"]
            .iter()
            .find(|k| p.source.contains_key(**k));
        let mut comp = pypi(&p.name, p.version.as_deref(), file, &mut warnings);
        if let Some(kind) = local {
            let v = p
                .source
                .get(*kind)
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            comp.properties.insert(format!("uv:{kind}"), v.to_owned());
            if matches!(*kind, "editable" | "virtual") {
                members.push(i);
            }
        }
        for k in ["git", "url"] {
            if let Some(v) = p.source.get(k).and_then(|v| v.as_str()) {
                comp.properties.insert("palisade:vcs".into(), v.to_owned());
            }
        }
        if let Some(h) = p
            .sdist
            .as_ref()
            .and_then(|s| s.hash.as_deref())
            .and_then(|h| h.strip_prefix("sha256:"))
        {
            comp.properties
                .insert("uv:sdist-sha256".into(), h.to_owned());
        }
        let r = c.add(comp);
        by_name
            .entry(normalise(&p.name))
            .or_default()
            .push((p.version.clone(), r));
    }
    let find = |d: &UvDep| -> Option<String> {
        let cands = by_name.get(&normalise(&d.name))?;
        match (&d.version, cands.as_slice()) {
            (_, [(_, r)]) => Some(r.clone()),
            (Some(v), many) => many
                .iter()
                .find(|(cv, _)| cv.as_deref() == Some(v))
                .map(|(_, r)| r.clone()),
            (None, _) => None,
        }
    };
    let mut prod_roots = Vec::new();
    for (i, p) in lock.package.iter().enumerate() {
        let from = by_name
            .get(&normalise(&p.name))
            .and_then(|c| c.iter().find(|(v, _)| v == &p.version))
            .map(|(_, r)| r.clone())
            .unwrap_or_default();
        if members.contains(&i) {
            prod_roots.push(from.clone());
        }
        let optional = p.optional_dependencies.values().flatten();
        for d in p.dependencies.iter().chain(optional) {
            match find(d) {
                Some(to) => c.edge(&from, &to),
                None => warnings.push(format!(
                    "{file}: package {}: dependency {:?} is missing or ambiguous",
                    p.name, d.name
                )),
            }
        }
        for d in p.dev_dependencies.values().flatten() {
            match find(d) {
                Some(to) => c.edge(&from, &to),
                None => warnings.push(format!(
                    "{file}: package {}: dev dependency {:?} is missing or ambiguous",
                    p.name, d.name
                )),
            }
        }
    }
    if !members.is_empty() {
        // Production reach: from members through non-dev edges only.
        let mut prod = BTreeSet::new();
        let mut queue: VecDeque<String> = prod_roots.into();
        let mut non_dev: HashMap<String, Vec<String>> = HashMap::new();
        for p in &lock.package {
            let from = by_name
                .get(&normalise(&p.name))
                .and_then(|c| c.iter().find(|(v, _)| v == &p.version))
                .map(|(_, r)| r.clone())
                .unwrap_or_default();
            for d in p
                .dependencies
                .iter()
                .chain(p.optional_dependencies.values().flatten())
            {
                if let Some(to) = find(d) {
                    non_dev.entry(from.clone()).or_default().push(to);
                }
            }
        }
        while let Some(r) = queue.pop_front() {
            if prod.insert(r.clone()) {
                queue.extend(non_dev.get(&r).into_iter().flatten().cloned());
            }
        }
        let all: Vec<String> = c
            .inventory
            .components
            .iter()
            .map(|x| x.bom_ref.clone())
            .collect();
        for r in all {
            if !prod.contains(&r)
                && let Some(comp) = c.get_mut(&r)
            {
                comp.scope = Some(Scope::Optional);
                comp.properties.insert("python:dev".into(), "true".into());
            }
        }
    }
    for w in warnings {
        c.warn(w);
    }
    Ok(c.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purls(inv: &Inventory) -> Vec<&str> {
        inv.components
            .iter()
            .filter_map(|c| c.purl.as_deref())
            .collect()
    }

    #[test]
    fn requirements_pins_markers_hashes_and_continuations() {
        let req = "# top\nDjango==4.2.1 ; python_version >= \"3.8\" \\\n    --hash=sha256:abcd\nrequests[socks]===2.31.0  # pinned\nflask>=2\n-r other.txt\n\nzope.interface==6.0\n";
        let inv = parse_requirements("requirements.txt", req.as_bytes(), &Limits::default())
            .unwrap_or_default();
        assert_eq!(
            purls(&inv),
            [
                "pkg:pypi/django@4.2.1",
                "pkg:pypi/flask",
                "pkg:pypi/requests@2.31.0",
                "pkg:pypi/zope-interface@6.0"
            ]
        );
        let django = inv.components.iter().find(|c| c.name == "Django");
        assert_eq!(django.map(|c| c.hashes["SHA-256"].as_str()), Some("abcd"));
        assert!(
            inv.warnings
                .iter()
                .any(|w| w.contains("line 5: flask is not pinned"))
        );
        assert!(
            inv.warnings
                .iter()
                .any(|w| w.contains("line 6: \"-r other.txt\""))
        );
    }

    #[test]
    fn poetry_dev_groups_and_edges() {
        let lock = r#"
[[package]]
name = "Requests"
version = "2.31.0"
groups = ["main"]
[package.dependencies]
urllib3 = ">=1.21.1,<3"
idna = {version = ">=2.5,<4", markers = "python_version < '3'"}

[[package]]
name = "urllib3"
version = "2.0.7"
category = "main"

[[package]]
name = "pytest"
version = "7.4.0"
category = "dev"
"#;
        let inv =
            parse_poetry("poetry.lock", lock.as_bytes(), &Limits::default()).unwrap_or_default();
        assert_eq!(
            purls(&inv),
            [
                "pkg:pypi/pytest@7.4.0",
                "pkg:pypi/requests@2.31.0",
                "pkg:pypi/urllib3@2.0.7"
            ]
        );
        assert!(inv.dependencies["pkg:pypi/requests@2.31.0"].contains("pkg:pypi/urllib3@2.0.7"));
        let pytest = inv.components.iter().find(|c| c.name == "pytest");
        assert_eq!(pytest.and_then(|c| c.scope), Some(Scope::Optional));
    }

    #[test]
    fn pipfile_sections() {
        let lock = r#"{"_meta": {}, "default": {"six": {"version": "==1.16.0"}}, "develop": {"pytest": {"version": "==7.0.0"}, "lib": {"git": "https://x/lib.git", "ref": "abc"}}}"#;
        let inv =
            parse_pipfile("Pipfile.lock", lock.as_bytes(), &Limits::default()).unwrap_or_default();
        assert_eq!(
            purls(&inv),
            [
                "pkg:pypi/lib",
                "pkg:pypi/pytest@7.0.0",
                "pkg:pypi/six@1.16.0"
            ]
        );
        assert!(
            inv.warnings
                .iter()
                .any(|w| w.contains("$.develop[\"lib\"]"))
        );
    }

    #[test]
    fn uv_members_dev_reach_and_ambiguous_versions() {
        let lock = r#"version = 1
requires-python = ">=3.12"

[[package]]
name = "demo"
version = "0.1.0"
source = { editable = "." }
dependencies = [{ name = "anyio" }]
[package.dev-dependencies]
dev = [{ name = "pytest" }]

[[package]]
name = "anyio"
version = "4.4.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "idna" }]
sdist = { url = "https://x/anyio.tar.gz", hash = "sha256:5aadc6a1bbb7cdb0bede386cac5e2940f5e2ff3aa20277e991cf028e0585ce94" }

[[package]]
name = "idna"
version = "3.7"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "pytest"
version = "8.2.2"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "idna" }]
"#;
        let inv = parse_uv("uv.lock", lock.as_bytes(), &Limits::default()).unwrap_or_default();
        assert_eq!(
            purls(&inv),
            [
                "pkg:pypi/anyio@4.4.0",
                "pkg:pypi/demo@0.1.0",
                "pkg:pypi/idna@3.7",
                "pkg:pypi/pytest@8.2.2"
            ]
        );
        let scope = |n: &str| {
            inv.components
                .iter()
                .find(|c| c.name == n)
                .and_then(|c| c.scope)
        };
        assert_eq!(scope("pytest"), Some(Scope::Optional));
        assert_eq!(scope("idna"), None);
        assert!(inv.dependencies["pkg:pypi/demo@0.1.0"].contains("pkg:pypi/pytest@8.2.2"));
        let bad = parse_uv("uv.lock", b"version = 2\n", &Limits::default())
            .err()
            .map(|e| e.to_string());
        assert!(
            bad.unwrap_or_default()
                .contains("uv.lock version 2 is not supported")
        );
    }
}
