//! Elixir `mix.lock`.
//!
//! The file is one Elixir map literal from app name to a lock tuple:
//! `{:hex, :package, "version", "inner_sha", [managers], [deps], "repo",
//! "outer_sha"}` for Hex packages and `{:git, "url", "sha", [opts]}` for git
//! dependencies. It is read with a small parser for the subset of Elixir
//! term syntax that Mix writes (maps, tuples, lists, keyword lists, atoms,
//! strings, integers, booleans), bounded in depth, never by evaluating
//! anything. The outer checksum is the SHA-256 of the package tarball. Each
//! Hex dependency tuple `{:app, "requirement", [hex: :package, ...]}` becomes
//! an edge to the entry locked under that app name.

use std::collections::HashMap;

use palisade_inventory::Inventory;
use palisade_versions::Ecosystem;

use crate::common::{Collector, Limits, Pkg, component, utf8};
use crate::error::{CatalogError, Result};

/// An Elixir term, as far as `mix.lock` needs.
#[derive(Clone, Debug, PartialEq)]
pub enum Term {
    /// `%{k => v}` or `%{"k": v}`.
    Map(Vec<(Term, Term)>),
    /// `{a, b}`.
    Tuple(Vec<Term>),
    /// `[a, b]`; keyword entries become two-element tuples.
    List(Vec<Term>),
    /// `:atom`, also `true`, `false`, `nil`.
    Atom(String),
    /// `"string"`.
    Str(String),
    /// An integer.
    Int(i64),
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    file: &'a str,
    max_depth: usize,
}

impl Parser<'_> {
    fn line(&self) -> usize {
        self.s
            .get(..self.pos)
            .map_or(1, |b| b.iter().filter(|c| **c == b'\n').count() + 1)
    }

    fn err(&self, msg: impl Into<String>) -> CatalogError {
        CatalogError::at_line(self.file, self.line(), msg)
    }

    fn skip_ws(&mut self) {
        while let Some(&c) = self.s.get(self.pos) {
            if c.is_ascii_whitespace() {
                self.pos += 1;
            } else if c == b'#' {
                while self.s.get(self.pos).is_some_and(|c| *c != b'\n') {
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.pos).copied()
    }

    fn expect(&mut self, c: u8) -> Result<()> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(format!("expected {:?}", c as char)))
        }
    }

    fn string(&mut self) -> Result<String> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            match self.s.get(self.pos).copied() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    let esc = self
                        .s
                        .get(self.pos + 1)
                        .copied()
                        .ok_or_else(|| self.err("unterminated escape"))?;
                    out.push(match esc {
                        b'n' => b'\n',
                        b't' => b'\t',
                        other => other,
                    });
                    self.pos += 2;
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
        String::from_utf8(out).map_err(|_| self.err("string is not UTF-8"))
    }

    fn ident(&mut self) -> String {
        let start = self.pos;
        while self.s.get(self.pos).is_some_and(|c| {
            c.is_ascii_alphanumeric() || matches!(c, b'_' | b'?' | b'!' | b'.' | b'@')
        }) {
            self.pos += 1;
        }
        String::from_utf8_lossy(self.s.get(start..self.pos).unwrap_or_default()).into_owned()
    }

    /// After a key (`"name"` or `name`), a `:` followed by whitespace makes it
    /// a keyword key.
    fn keyword_colon(&mut self) -> bool {
        if self.s.get(self.pos) == Some(&b':')
            && self
                .s
                .get(self.pos + 1)
                .is_some_and(|c| c.is_ascii_whitespace())
        {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn seq(&mut self, close: u8, depth: usize) -> Result<Vec<Term>> {
        let mut items = Vec::new();
        loop {
            if self.peek() == Some(close) {
                self.pos += 1;
                return Ok(items);
            }
            items.push(self.term_or_keyword(depth)?);
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(c) if c == close => {}
                _ => return Err(self.err(format!("expected ',' or {:?}", close as char))),
            }
        }
    }

    fn term_or_keyword(&mut self, depth: usize) -> Result<Term> {
        // A keyword entry `key: value` (also `"key": value`).
        let save = self.pos;
        match self.peek() {
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                let id = self.ident();
                if self.keyword_colon() {
                    let v = self.term(depth + 1)?;
                    return Ok(Term::Tuple(vec![Term::Atom(id), v]));
                }
                self.pos = save;
            }
            Some(b'"') => {
                let s = self.string()?;
                if self.keyword_colon() {
                    let v = self.term(depth + 1)?;
                    return Ok(Term::Tuple(vec![Term::Atom(s), v]));
                }
                self.pos = save;
            }
            _ => {}
        }
        self.term(depth)
    }

    fn term(&mut self, depth: usize) -> Result<Term> {
        if depth > self.max_depth {
            return Err(self.err(format!("nesting deeper than {}", self.max_depth)));
        }
        match self.peek() {
            Some(b'%') => {
                self.pos += 1;
                self.expect(b'{')?;
                let mut entries = Vec::new();
                loop {
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        return Ok(Term::Map(entries));
                    }
                    let entry = self.term_or_keyword(depth + 1)?;
                    let pair = match entry {
                        Term::Tuple(mut kv) if kv.len() == 2 && self.peek() != Some(b'=') => {
                            let v = kv.pop().unwrap_or(Term::Atom("nil".into()));
                            let k = kv.pop().unwrap_or(Term::Atom("nil".into()));
                            (
                                match k {
                                    Term::Atom(a) => Term::Str(a),
                                    other => other,
                                },
                                v,
                            )
                        }
                        key => {
                            self.expect(b'=')?;
                            self.expect(b'>')?;
                            (key, self.term(depth + 1)?)
                        }
                    };
                    entries.push(pair);
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {}
                        _ => return Err(self.err("expected ',' or '}' in a map")),
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                Ok(Term::Tuple(self.seq(b'}', depth + 1)?))
            }
            Some(b'[') => {
                self.pos += 1;
                Ok(Term::List(self.seq(b']', depth + 1)?))
            }
            Some(b'"') => Ok(Term::Str(self.string()?)),
            Some(b':') => {
                self.pos += 1;
                if self.s.get(self.pos) == Some(&b'"') {
                    Ok(Term::Atom(self.string()?))
                } else {
                    let id = self.ident();
                    if id.is_empty() {
                        return Err(self.err("empty atom"));
                    }
                    Ok(Term::Atom(id))
                }
            }
            Some(c) if c.is_ascii_digit() || c == b'-' => {
                let start = self.pos;
                self.pos += 1;
                while self
                    .s
                    .get(self.pos)
                    .is_some_and(|c| c.is_ascii_digit() || *c == b'_')
                {
                    self.pos += 1;
                }
                let text: String =
                    String::from_utf8_lossy(self.s.get(start..self.pos).unwrap_or_default())
                        .replace('_', "");
                text.parse()
                    .map(Term::Int)
                    .map_err(|_| self.err("bad integer"))
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let id = self.ident();
                match id.as_str() {
                    "true" | "false" | "nil" => Ok(Term::Atom(id)),
                    _ => Err(self.err(format!("unexpected identifier {id:?}"))),
                }
            }
            Some(c) => Err(self.err(format!("unexpected character {:?}", c as char))),
            None => Err(self.err("unexpected end of input")),
        }
    }
}

/// Parses an Elixir term as Mix writes it.
pub fn parse_term(file: &str, text: &str, max_depth: usize) -> Result<Term> {
    let mut p = Parser {
        s: text.as_bytes(),
        pos: 0,
        file,
        max_depth,
    };
    let t = p.term(0)?;
    if p.peek().is_some() {
        return Err(p.err("trailing content after the term"));
    }
    Ok(t)
}

fn as_str(t: Option<&Term>) -> Option<&str> {
    match t {
        Some(Term::Str(s) | Term::Atom(s)) => Some(s),
        _ => None,
    }
}

/// Parses a `mix.lock`.
pub fn parse(file: &str, bytes: &[u8], limits: &Limits) -> Result<Inventory> {
    let text = utf8(file, bytes)?;
    let Term::Map(entries) = parse_term(file, text, limits.max_depth)? else {
        return Err(CatalogError::at_line(file, 1, "mix.lock is not a map"));
    };
    limits.check_components(file, entries.len())?;
    let mut c = Collector::default();
    let mut warnings = Vec::new();
    let mut by_app: HashMap<String, String> = HashMap::new();
    let mut deps: Vec<(String, Vec<String>)> = Vec::new();
    for (k, v) in &entries {
        let Some(app) = as_str(Some(k)) else { continue };
        let Term::Tuple(items) = v else {
            warnings.push(format!(
                "{file}: entry {app:?} is not a lock tuple; skipped"
            ));
            continue;
        };
        match as_str(items.first()) {
            Some("hex") => {
                let package = as_str(items.get(1)).unwrap_or(app);
                let version = as_str(items.get(2));
                let mut comp = component(
                    &Pkg {
                        ty: "hex",
                        name: package,
                        version,
                        ecosystem: Some(Ecosystem::Hex),
                        ..Pkg::default()
                    },
                    file,
                    &mut warnings,
                );
                if let Some(sum) = as_str(items.get(7)).filter(|s| s.len() == 64) {
                    comp.hashes.insert("SHA-256".into(), sum.to_owned());
                }
                if let Some(repo) = as_str(items.get(6)).filter(|r| *r != "hexpm") {
                    comp.properties.insert("hex:repo".into(), repo.to_owned());
                }
                let mut targets = Vec::new();
                if let Some(Term::List(ds)) = items.get(5) {
                    for d in ds {
                        if let Term::Tuple(parts) = d
                            && let Some(name) = as_str(parts.first())
                        {
                            targets.push(name.to_owned());
                        }
                    }
                }
                let r = c.add(comp);
                deps.push((r.clone(), targets));
                by_app.insert(app.to_owned(), r);
            }
            Some("git") => {
                let url = as_str(items.get(1)).unwrap_or_default();
                let rev = as_str(items.get(2)).unwrap_or_default();
                warnings.push(format!(
                    "{file}: entry {app:?} is a git dependency; recorded without a version"
                ));
                let mut comp = component(
                    &Pkg {
                        ty: "hex",
                        name: app,
                        ecosystem: Some(Ecosystem::Hex),
                        ..Pkg::default()
                    },
                    file,
                    &mut warnings,
                );
                comp.properties
                    .insert("palisade:vcs".into(), format!("{url}@{rev}"));
                by_app.insert(app.to_owned(), c.add(comp));
            }
            other => warnings.push(format!(
                "{file}: entry {app:?} has unknown lock kind {other:?}; skipped"
            )),
        }
    }
    for (from, targets) in deps {
        for t in targets {
            if let Some(to) = by_app.get(&t) {
                c.edge(&from, to);
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

    const LOCK: &str = r#"%{
  "cowboy": {:hex, :cowboy, "2.10.0", "ff9ffeff91dae4ae270dd975642997afe2a1179d94b1887863e43f681a203e26", [:make, :rebar3], [{:cowlib, "2.12.1", [hex: :cowlib, repo: "hexpm", optional: false]}], "hexpm", "3afdccb7183cc6f143cb14d3cf51fa00e53db9ec80cdcd525482f5e99bc41d6b"},
  "cowlib": {:hex, :cowlib, "2.12.1", "a9fa9a625f1d2025fe6b462cb865881329b5caff8f1854d1cbc9f9533f00e1e1", [:make, :rebar3], [], "hexpm", "163b73f6367a7341b33c794c4e88e7dbfe6498ac42dcd69ef44c5bc5507c8db0"},
  "mydep": {:git, "https://github.com/x/mydep.git", "0123abcd", [branch: "main"]},
}
"#;

    #[test]
    fn hex_git_and_edges() {
        let inv = parse("mix.lock", LOCK.as_bytes(), &Limits::default()).unwrap_or_default();
        let purls: Vec<_> = inv
            .components
            .iter()
            .filter_map(|c| c.purl.as_deref())
            .collect();
        assert_eq!(
            purls,
            [
                "pkg:hex/cowboy@2.10.0",
                "pkg:hex/cowlib@2.12.1",
                "pkg:hex/mydep"
            ]
        );
        assert!(inv.dependencies["pkg:hex/cowboy@2.10.0"].contains("pkg:hex/cowlib@2.12.1"));
        assert_eq!(
            inv.components[0].hashes["SHA-256"],
            "3afdccb7183cc6f143cb14d3cf51fa00e53db9ec80cdcd525482f5e99bc41d6b"
        );
    }

    #[test]
    fn errors_name_the_line_and_depth_is_bounded() {
        let e = parse(
            "mix.lock",
            b"%{\n  \"a\": {:hex, :a, \"1\"\n",
            &Limits::default(),
        )
        .err()
        .map(|e| e.to_string());
        assert!(e.unwrap_or_default().starts_with("mix.lock: line 3"));
        let deep = format!("%{{\"a\": {}{}}}", "[".repeat(500), "]".repeat(500));
        let e = parse("mix.lock", deep.as_bytes(), &Limits::default())
            .err()
            .map(|e| e.to_string());
        assert!(e.unwrap_or_default().contains("nesting deeper than 64"));
    }
}
