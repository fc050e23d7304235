//! Go modules: `go.mod`, with `go.sum` beside it when present.
//!
//! Since Go 1.17, `go.mod` lists every module that provides a package to the
//! main module's build (graph pruning), indirect ones marked `// indirect`;
//! so the `require` directives, after `replace` and `exclude` are applied,
//! are the inventory. For an older `go` directive the list is incomplete,
//! and the modules whose content `go.sum` records (lines without the
//! `/go.mod` suffix) are added, marked `go:from = go.sum`. `go.sum`'s `h1:`
//! hashes are dirhashes (a SHA-256 over a file list), not digests of any one
//! file, so they are kept as the `go:h1` property rather than as hashes.
//!
//! A replacement by a local path (`=> ../fork`) keeps the original module
//! with the property `go:replace`; a replacement by another module version
//! records the replacement, which is what is built.

use std::collections::BTreeMap;

use palisade_inventory::Inventory;
use palisade_versions::Ecosystem;

use crate::common::{Collector, Limits, Pkg, component, utf8};
use crate::error::{CatalogError, Result};

/// One `require` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Require {
    /// Module path.
    pub path: String,
    /// Version (`v1.2.3`, pseudo-versions included).
    pub version: String,
    /// Marked `// indirect`.
    pub indirect: bool,
    /// 1-based line.
    pub line: usize,
}

/// A module path with an optional version, as `replace` writes it.
pub type ModuleRef = (String, Option<String>);

/// A parsed `go.mod`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GoMod {
    /// The `module` path.
    pub module: Option<String>,
    /// The `go` directive.
    pub go: Option<String>,
    /// `require` directives.
    pub requires: Vec<Require>,
    /// `replace` directives: (path, optional version) -> (path, optional version).
    pub replaces: Vec<(ModuleRef, ModuleRef)>,
    /// `exclude` directives.
    pub excludes: Vec<(String, String)>,
}

/// Splits a line into tokens, honouring Go's quoted strings and dropping a
/// trailing `//` comment (returned separately).
fn tokens(line: &str) -> (Vec<String>, Option<&str>) {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.char_indices().peekable();
    let mut comment = None;
    while let Some((i, ch)) = chars.next() {
        match ch {
            '/' if chars.peek().map(|(_, c)| *c) == Some('/') => {
                comment = line.get(i + 2..).map(str::trim);
                break;
            }
            '"' | '`' => {
                let quote = ch;
                for (_, c) in chars.by_ref() {
                    if c == quote {
                        break;
                    }
                    cur.push(c);
                }
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    (out, comment)
}

/// Parses `go.mod` text.
pub fn parse_go_mod(file: &str, text: &str) -> Result<GoMod> {
    let mut m = GoMod::default();
    let mut block: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let (toks, comment) = tokens(raw);
        if toks.is_empty() {
            continue;
        }
        let (verb, args): (String, &[String]) = match &block {
            Some(_) if toks.first().map(String::as_str) == Some(")") => {
                block = None;
                continue;
            }
            Some(b) => (b.clone(), &toks[..]),
            None => {
                let verb = toks.first().cloned().unwrap_or_default();
                let rest = toks.get(1..).unwrap_or_default();
                if rest.first().map(String::as_str) == Some("(") {
                    block = Some(verb);
                    continue;
                }
                (verb, rest)
            }
        };
        match verb.as_str() {
            "module" => m.module = args.first().cloned(),
            "go" => m.go = args.first().cloned(),
            "require" => {
                let [path, version, ..] = args else {
                    return Err(CatalogError::at_line(
                        file,
                        line_no,
                        "require needs a module path and a version",
                    ));
                };
                m.requires.push(Require {
                    path: path.clone(),
                    version: version.clone(),
                    indirect: comment.is_some_and(|c| c.split(';').any(|p| p.trim() == "indirect")),
                    line: line_no,
                });
            }
            "replace" => {
                let arrow = args
                    .iter()
                    .position(|a| a == "=>")
                    .ok_or_else(|| CatalogError::at_line(file, line_no, "replace needs `=>`"))?;
                let left = args.get(..arrow).unwrap_or_default();
                let right = args.get(arrow + 1..).unwrap_or_default();
                let (Some(lp), Some(rp)) = (left.first(), right.first()) else {
                    return Err(CatalogError::at_line(
                        file,
                        line_no,
                        "replace needs a module on both sides",
                    ));
                };
                m.replaces.push((
                    (lp.clone(), left.get(1).cloned()),
                    (rp.clone(), right.get(1).cloned()),
                ));
            }
            "exclude" => {
                if let [path, version, ..] = args {
                    m.excludes.push((path.clone(), version.clone()));
                }
            }
            "toolchain" | "retract" | "godebug" | "tool" | "ignore" => {}
            other => {
                return Err(CatalogError::at_line(
                    file,
                    line_no,
                    format!("unknown directive {other:?}"),
                ));
            }
        }
    }
    if block.is_some() {
        return Err(CatalogError::at_line(
            file,
            text.lines().count(),
            "unclosed `(` block",
        ));
    }
    Ok(m)
}

/// The purl namespace and name of a module path: all but the last segment,
/// and the last.
pub(crate) fn split_module(path: &str) -> (Option<&str>, &str) {
    match path.rsplit_once('/') {
        Some((ns, n)) => (Some(ns), n),
        None => (None, path),
    }
}

fn go_less_than_117(go: Option<&str>) -> bool {
    let Some(v) = go else { return true };
    let mut parts = v.split('.');
    let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(1);
    let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (major, minor) < (1, 17)
}

/// Parses `go.mod` (and `go.sum`, when given) into an inventory.
pub fn parse(
    file: &str,
    bytes: &[u8],
    go_sum: Option<&[u8]>,
    limits: &Limits,
) -> Result<Inventory> {
    let text = utf8(file, bytes)?;
    let m = parse_go_mod(file, text)?;
    let sum_file = format!("{}go.sum", file.strip_suffix("go.mod").unwrap_or_default());
    // (path, version) -> h1 for module content lines of go.sum.
    let mut sums: BTreeMap<(String, String), String> = BTreeMap::new();
    if let Some(sum) = go_sum {
        let sum_text = utf8(&sum_file, sum)?;
        for (i, line) in sum_text.lines().enumerate() {
            let parts: Vec<&str> = line.split_whitespace().collect();
            match parts.as_slice() {
                [] => {}
                [path, version, hash] => {
                    if !version.ends_with("/go.mod") {
                        sums.insert(
                            ((*path).to_owned(), (*version).to_owned()),
                            (*hash).to_owned(),
                        );
                    }
                }
                _ => {
                    return Err(CatalogError::at_line(
                        &sum_file,
                        i + 1,
                        "a go.sum line has three fields: module, version, hash",
                    ));
                }
            }
        }
    }
    let mut c = Collector::default();
    let mut warnings = Vec::new();
    let mut add = |c: &mut Collector, path: &str, version: &str, props: Vec<(&str, String)>| {
        let (ns, n) = split_module(path);
        let mut comp = component(
            &Pkg {
                ty: "golang",
                namespace: ns,
                name: n,
                version: Some(version),
                ecosystem: Some(Ecosystem::Go),
                display_name: Some(path.to_owned()),
                ..Pkg::default()
            },
            file,
            &mut warnings,
        );
        if let Some(h) = sums.get(&(path.to_owned(), version.to_owned())) {
            comp.properties.insert("go:h1".into(), h.clone());
        }
        for (k, v) in props {
            comp.properties.insert(k.to_owned(), v);
        }
        c.add(comp);
    };
    for r in &m.requires {
        if m.excludes
            .iter()
            .any(|(p, v)| *p == r.path && *v == r.version)
        {
            continue;
        }
        let replacement = m
            .replaces
            .iter()
            .find(|((p, v), _)| *p == r.path && v.as_ref().is_none_or(|v| *v == r.version));
        let mut props = Vec::new();
        if r.indirect {
            props.push(("go:indirect", "true".to_owned()));
        }
        match replacement {
            Some((_, (to, Some(to_version)))) => {
                props.push(("go:replaces", format!("{}@{}", r.path, r.version)));
                add(&mut c, to, to_version, props);
            }
            Some((_, (to, None))) => {
                props.push(("go:replace", to.clone()));
                add(&mut c, &r.path, &r.version, props);
            }
            None => add(&mut c, &r.path, &r.version, props),
        }
        limits.check_components(file, c.len())?;
    }
    if go_less_than_117(m.go.as_deref()) {
        let listed: Vec<(String, String)> = m
            .requires
            .iter()
            .map(|r| (r.path.clone(), r.version.clone()))
            .collect();
        let extra: Vec<(String, String)> = sums
            .keys()
            .filter(|k| !listed.contains(k))
            .cloned()
            .collect();
        for (path, version) in extra {
            add(
                &mut c,
                &path,
                &version,
                vec![("go:from", "go.sum".to_owned())],
            );
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

    const GO_MOD: &str = r#"module example.com/app

go 1.22

toolchain go1.22.4

require (
	github.com/google/uuid v1.6.0
	golang.org/x/net v0.25.0 // indirect
	"github.com/quoted/mod" v0.1.0
)

require github.com/old/lib v1.0.0

replace github.com/old/lib => github.com/new/lib v1.1.0
replace golang.org/x/net v0.25.0 => ../net // local fork
"#;

    #[test]
    fn requires_replaces_and_sums() {
        let sum = b"github.com/google/uuid v1.6.0 h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=\ngithub.com/google/uuid v1.6.0/go.mod h1:TIyPZe4MgqvfeYDBFedMoGGpEw/LqOeaOT+nhxU+yHo=\n";
        let inv =
            parse("go.mod", GO_MOD.as_bytes(), Some(sum), &Limits::default()).unwrap_or_default();
        let purls: Vec<_> = inv
            .components
            .iter()
            .filter_map(|c| c.purl.as_deref())
            .collect();
        assert_eq!(
            purls,
            [
                "pkg:golang/github.com/google/uuid@v1.6.0",
                "pkg:golang/github.com/new/lib@v1.1.0",
                "pkg:golang/github.com/quoted/mod@v0.1.0",
                "pkg:golang/golang.org/x/net@v0.25.0"
            ]
        );
        let uuid = &inv.components[0];
        assert_eq!(
            uuid.properties["go:h1"],
            "h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0="
        );
        let net = &inv.components[3];
        assert_eq!(net.properties["go:indirect"], "true");
        assert_eq!(net.properties["go:replace"], "../net");
    }

    #[test]
    fn old_go_adds_go_sum_modules_and_errors_name_lines() {
        let m = "module x\ngo 1.16\nrequire a.example/b v1.0.0\n";
        let sum = b"a.example/b v1.0.0 h1:x=\nc.example/d v2.0.0+incompatible h1:y=\nc.example/e v1.0.0/go.mod h1:z=\n";
        let inv = parse("go.mod", m.as_bytes(), Some(sum), &Limits::default()).unwrap_or_default();
        assert_eq!(inv.components.len(), 2);
        let err = parse(
            "dir/go.mod",
            m.as_bytes(),
            Some(b"broken line\n"),
            &Limits::default(),
        )
        .err();
        assert_eq!(
            err.map(|e| e.to_string()).as_deref(),
            Some("dir/go.sum: line 1: a go.sum line has three fields: module, version, hash")
        );
        let err = parse(
            "go.mod",
            b"module x\nrequire (\n a v1\n",
            None,
            &Limits::default(),
        )
        .err();
        assert!(
            err.map(|e| e.to_string())
                .unwrap_or_default()
                .contains("unclosed")
        );
    }
}
