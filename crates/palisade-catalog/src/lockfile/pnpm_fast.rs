//! A line reader for `pnpm-lock.yaml` in the layout pnpm itself writes.
//!
//! pnpm writes block mappings indented by two spaces, one `key: value` per
//! line, scalars on one line (plain, or single/double quoted), and small
//! one-line flow collections (`resolution: {integrity: ...}`, `os: [x]`).
//! This reader accepts exactly that subset and builds the same typed
//! [`Doc`] the YAML deserialiser builds. Anything else — comments, tabs,
//! anchors, tags, block scalars, multi-line scalars or flow collections,
//! escapes, document markers, unusual indentation, a duplicate field, a plain
//! scalar YAML would resolve to a number, boolean or null where a string or
//! a boolean is read — makes it return `None`, and the caller falls back to
//! the full YAML parser, so errors and odd documents are handled there.

use std::borrow::Cow;

use super::{DepValue, Doc, Importer, Lenient, Node, Ordered, Resolution, Scalar};

/// A value after `key:` (or after `- `).
enum Val<'a> {
    /// Nothing on the line: a nested block follows, or null.
    Empty,
    Plain(&'a str),
    Quoted(Cow<'a, str>),
    /// A one-line flow collection, already checked to be well formed.
    Flow(Flow<'a>),
}

/// A parsed one-line flow node.
enum Flow<'a> {
    Str(Cow<'a, str>, bool),
    Map(Vec<(Cow<'a, str>, Flow<'a>)>),
    Seq,
}

struct Line<'a> {
    indent: usize,
    /// `None` for a sequence item (`- value`).
    key: Option<Cow<'a, str>>,
    val: Val<'a>,
}

/// Reads the document, or `None` if it is not in pnpm's own layout.
pub(super) fn read(text: &str, max_depth: usize) -> Option<Doc> {
    let mut p = P {
        lines: lines(text, max_depth)?,
        pos: 0,
    };
    let mut doc = Doc {
        lockfile_version: None,
        importers: None,
        packages: None,
        snapshots: None,
    };
    let mut seen = 0u8;
    p.map(0, |p, key, val| {
        let bit = match key.as_ref() {
            "lockfileVersion" => 1,
            "importers" => 2,
            "packages" => 4,
            "snapshots" => 8,
            _ => return p.skip(0, &val),
        };
        if seen & bit != 0 {
            return None;
        }
        seen |= bit;
        match bit {
            1 => doc.lockfile_version = Some(Scalar(text_of(val)?)),
            2 => doc.importers = Some(p.ordered(0, val, P::importer)?),
            4 => doc.packages = Some(p.ordered(0, val, P::node)?),
            _ => doc.snapshots = Some(p.ordered(0, val, P::node)?),
        }
        Some(())
    })?;
    if p.pos != p.lines.len() || doc.lockfile_version.is_none() {
        return None;
    }
    Some(doc)
}

/// Splits and classifies the lines; `None` on anything outside the subset.
fn lines(text: &str, max_depth: usize) -> Option<Vec<Line<'_>>> {
    let mut out = Vec::with_capacity(text.len() / 32);
    for raw in text.split('\n') {
        if !printable(raw) {
            return None;
        }
        let rest = raw.trim_start_matches(' ');
        if rest.is_empty() {
            continue;
        }
        let indent = raw.len() - rest.len();
        // The same nesting limit the YAML path applies before parsing.
        let flow = rest.bytes().filter(|b| matches!(b, b'[' | b'{')).count();
        if indent / 2 + flow > max_depth.saturating_mul(2) || rest.ends_with(' ') {
            return None;
        }
        let line = match rest.strip_prefix("- ") {
            Some(item) => Line {
                indent,
                key: None,
                val: value(item)?,
            },
            None => {
                let (key, after) = key(rest)?;
                let val = if after.is_empty() {
                    Val::Empty
                } else {
                    value(after.strip_prefix(' ')?.trim_start_matches(' '))?
                };
                Line {
                    indent,
                    key: Some(key),
                    val,
                }
            }
        };
        out.push(line);
    }
    Some(out)
}

/// Printable in YAML's sense, and no tab, carriage return, BOM or the
/// Unicode line and paragraph separators (line breaks to libyaml).
fn printable(line: &str) -> bool {
    if line.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return true;
    }
    line.chars().all(|c| {
        matches!(c, '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{2027}' | '\u{202a}'..='\u{d7ff}' | '\u{e000}'..='\u{fefe}' | '\u{ff00}'..='\u{fffd}' | '\u{10000}'..)
    })
}

/// Whether a plain scalar may start with this text (conservatively: no
/// indicator character at all).
fn plain_start(s: &str) -> bool {
    s.bytes().next().is_some_and(|b| {
        !matches!(
            b,
            b'-' | b'?'
                | b':'
                | b','
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'#'
                | b'&'
                | b'*'
                | b'!'
                | b'|'
                | b'>'
                | b'\''
                | b'"'
                | b'%'
                | b'@'
                | b'`'
                | b' '
        )
    })
}

/// `key:` at the start of `rest`; returns the key and what follows the colon.
fn key(rest: &str) -> Option<(Cow<'_, str>, &str)> {
    let (k, after) = match rest.as_bytes().first()? {
        b'\'' => {
            let (k, n) = single_quoted(rest)?;
            (k, rest.get(n..)?)
        }
        b'"' => {
            let (k, n) = double_quoted(rest)?;
            (k, rest.get(n..)?)
        }
        _ => {
            if !plain_start(rest) {
                return None;
            }
            let end = match rest.find(": ") {
                Some(i) => i,
                None if rest.ends_with(':') => rest.len() - 1,
                None => return None,
            };
            let k = rest.get(..end)?;
            if k.ends_with(' ') || k.contains(" #") || k == "<<" {
                return None;
            }
            (Cow::Borrowed(k), rest.get(end..)?)
        }
    };
    // YAML limits an implicit key to 1024 characters.
    if rest.len() - after.len() > 1000 {
        return None;
    }
    let after = after.strip_prefix(':')?;
    if !(after.is_empty() || after.starts_with(' ')) {
        return None;
    }
    Some((k, after))
}

/// A value filling the rest of the line.
fn value(s: &str) -> Option<Val<'_>> {
    match s.as_bytes().first()? {
        b'\'' => {
            let (v, n) = single_quoted(s)?;
            (n == s.len()).then_some(Val::Quoted(v))
        }
        b'"' => {
            let (v, n) = double_quoted(s)?;
            (n == s.len()).then_some(Val::Quoted(v))
        }
        b'{' | b'[' => {
            let mut f = FlowParser { s, i: 0 };
            let node = f.node(0)?;
            (f.i == s.len()).then_some(Val::Flow(node))
        }
        _ => (plain_start(s) && !s.contains(": ") && !s.contains(" #") && !s.ends_with(':'))
            .then_some(Val::Plain(s)),
    }
}

/// `'...'` at the start of `s` (`''` is a quote): the text and bytes used.
fn single_quoted(s: &str) -> Option<(Cow<'_, str>, usize)> {
    let body = s.get(1..)?;
    let mut owned: Option<String> = None;
    let mut start = 0;
    let mut i = 0;
    let bytes = body.as_bytes();
    loop {
        let q = start + body.get(start..)?.find('\'')?;
        if bytes.get(q + 1) == Some(&b'\'') {
            owned
                .get_or_insert_with(String::new)
                .push_str(body.get(i..q + 1)?);
            start = q + 2;
            i = start;
            continue;
        }
        let text = match owned {
            Some(mut o) => {
                o.push_str(body.get(i..q)?);
                Cow::Owned(o)
            }
            None => Cow::Borrowed(body.get(..q)?),
        };
        return Some((text, q + 2));
    }
}

/// `"..."` without escapes at the start of `s`.
fn double_quoted(s: &str) -> Option<(Cow<'_, str>, usize)> {
    let body = s.get(1..)?;
    let q = body.find('"')?;
    let text = body.get(..q)?;
    (!text.contains('\\')).then_some((Cow::Borrowed(text), q + 2))
}

/// A one-line flow collection parser (no nesting beyond a few levels, no
/// trailing commas, no implicit entries).
struct FlowParser<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> FlowParser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }

    fn ws(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }

    fn node(&mut self, depth: usize) -> Option<Flow<'a>> {
        if depth > 4 {
            return None;
        }
        self.ws();
        match self.peek()? {
            b'{' => {
                self.i += 1;
                self.ws();
                let mut entries = Vec::new();
                if self.peek()? == b'}' {
                    self.i += 1;
                    return Some(Flow::Map(entries));
                }
                loop {
                    let (k, _) = self.scalar()?;
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.i += 1;
                    if self.peek()? != b' ' {
                        return None;
                    }
                    let v = self.node(depth + 1)?;
                    entries.push((k, v));
                    self.ws();
                    match self.peek()? {
                        b',' => {
                            self.i += 1;
                            self.ws();
                            if self.peek()? == b'}' {
                                return None;
                            }
                        }
                        b'}' => {
                            self.i += 1;
                            return Some(Flow::Map(entries));
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.i += 1;
                self.ws();
                if self.peek()? == b']' {
                    self.i += 1;
                    return Some(Flow::Seq);
                }
                loop {
                    self.node(depth + 1)?;
                    self.ws();
                    match self.peek()? {
                        b',' => {
                            self.i += 1;
                            self.ws();
                            if self.peek()? == b']' {
                                return None;
                            }
                        }
                        b']' => {
                            self.i += 1;
                            return Some(Flow::Seq);
                        }
                        _ => return None,
                    }
                }
            }
            _ => {
                let (text, plain) = self.scalar()?;
                Some(Flow::Str(text, plain))
            }
        }
    }

    /// A scalar; the bool is whether it was plain.
    fn scalar(&mut self) -> Option<(Cow<'a, str>, bool)> {
        self.ws();
        let rest = self.s.get(self.i..)?;
        match rest.as_bytes().first()? {
            b'\'' => {
                let (t, n) = single_quoted(rest)?;
                self.i += n;
                Some((t, false))
            }
            b'"' => {
                let (t, n) = double_quoted(rest)?;
                self.i += n;
                Some((t, false))
            }
            _ => {
                if !plain_start(rest) {
                    return None;
                }
                let b = rest.as_bytes();
                let mut end = 0;
                while let Some(&c) = b.get(end) {
                    match c {
                        b',' | b'[' | b']' | b'{' | b'}' => break,
                        b'#' => return None,
                        b':' => match b.get(end + 1) {
                            Some(b' ') => break,
                            None | Some(b',' | b'?' | b'[' | b']' | b'{' | b'}') => return None,
                            _ => {}
                        },
                        _ => {}
                    }
                    end += 1;
                }
                let t = rest.get(..end)?.trim_end_matches(' ');
                if t.is_empty() {
                    return None;
                }
                self.i += end;
                Some((Cow::Borrowed(t), true))
            }
        }
    }
}

/// Text of a scalar read as `Option<String>` (a plain null is declined).
fn text_of(val: Val<'_>) -> Option<String> {
    match val {
        Val::Plain(s) => (!matches!(s, "null" | "Null" | "NULL" | "~")).then(|| s.to_owned()),
        Val::Quoted(s) => Some(s.into_owned()),
        Val::Empty | Val::Flow(_) => None,
    }
}

/// Whether YAML's core schema (as `serde_yaml_ng` applies it) certainly
/// resolves this plain scalar to a string, not a null, boolean or number.
fn surely_string(s: &str) -> bool {
    let Some(&b) = s.as_bytes().first() else {
        return false;
    };
    if b.is_ascii_alphabetic() {
        return !matches!(
            s,
            "true" | "True" | "TRUE" | "false" | "False" | "FALSE" | "null" | "Null" | "NULL"
        );
    }
    if b == b'/' {
        return true;
    }
    b.is_ascii_digit()
        && (s.bytes().filter(|&c| c == b'.').count() >= 2
            || s.bytes()
                .any(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'.' | b'+' | b'-'))))
}

struct P<'a> {
    lines: Vec<Line<'a>>,
    pos: usize,
}

impl<'a> P<'a> {
    /// The indentation of the block under a key at `indent`, if one follows.
    fn child(&self, indent: usize) -> Option<usize> {
        self.lines
            .get(self.pos)
            .map(|l| l.indent)
            .filter(|&c| c > indent)
    }

    /// A block mapping at `indent`: `f` gets each entry and must consume the
    /// entry's nested block, if any.
    fn map(
        &mut self,
        indent: usize,
        mut f: impl FnMut(&mut Self, Cow<'a, str>, Val<'a>) -> Option<()>,
    ) -> Option<()> {
        while let Some(l) = self.lines.get_mut(self.pos) {
            if l.indent < indent {
                break;
            }
            if l.indent > indent {
                return None;
            }
            let key = l.key.take()?;
            let val = std::mem::replace(&mut l.val, Val::Empty);
            self.pos += 1;
            f(self, key, val)?;
        }
        Some(())
    }

    /// Skips (and checks) the value of a key at `indent`.
    fn skip(&mut self, indent: usize, val: &Val<'a>) -> Option<()> {
        match val {
            Val::Empty => self.skip_block(indent, 0),
            _ => Some(()),
        }
    }

    fn skip_block(&mut self, indent: usize, depth: usize) -> Option<()> {
        let Some(c) = self.child(indent) else {
            return Some(());
        };
        if depth > 32 {
            return None;
        }
        let is_map = self.lines.get(self.pos)?.key.is_some();
        while let Some(l) = self.lines.get(self.pos) {
            if l.indent < c {
                break;
            }
            if l.indent > c || l.key.is_some() != is_map {
                return None;
            }
            let empty = matches!(l.val, Val::Empty);
            self.pos += 1;
            if empty {
                self.skip_block(c, depth + 1)?;
            }
        }
        Some(())
    }

    /// A mapping with string keys (`Ordered`), as a nested block or `{}`.
    fn ordered<T>(
        &mut self,
        indent: usize,
        val: Val<'a>,
        item: fn(&mut Self, usize, Val<'a>) -> Option<T>,
    ) -> Option<Ordered<T>> {
        match val {
            Val::Flow(Flow::Map(m)) if m.is_empty() => Some(Ordered(Vec::new())),
            Val::Empty => {
                let c = self.child(indent)?;
                let mut out = Vec::new();
                self.map(c, |p, k, v| {
                    out.push((k.into_owned(), item(p, c, v)?));
                    Some(())
                })?;
                Some(Ordered(out))
            }
            _ => None,
        }
    }

    /// The nested block of a struct-like entry (`{}` is an empty one).
    fn fields(
        &mut self,
        indent: usize,
        val: Val<'a>,
        f: impl FnMut(&mut Self, usize, Cow<'a, str>, Val<'a>) -> Option<()>,
    ) -> Option<()> {
        let mut f = f;
        match val {
            Val::Flow(Flow::Map(m)) if m.is_empty() => Some(()),
            Val::Empty => {
                let c = self.child(indent)?;
                self.map(c, |p, k, v| f(p, c, k, v))
            }
            _ => None,
        }
    }

    fn importer(&mut self, indent: usize, val: Val<'a>) -> Option<Importer> {
        let mut out = Importer::default();
        let mut seen = 0u8;
        self.fields(indent, val, |p, c, k, v| {
            let (bit, slot) = match k.as_ref() {
                "dependencies" => (1, &mut out.dependencies),
                "optionalDependencies" => (2, &mut out.optional_dependencies),
                "devDependencies" => (4, &mut out.dev_dependencies),
                _ => return p.skip(c, &v),
            };
            if seen & bit != 0 {
                return None;
            }
            seen |= bit;
            *slot = Some(p.ordered(c, v, P::dep_value)?);
            Some(())
        })?;
        Some(out)
    }

    fn node(&mut self, indent: usize, val: Val<'a>) -> Option<Node> {
        let mut out = Node::default();
        let mut seen = 0u8;
        self.fields(indent, val, |p, c, k, v| {
            let bit = match k.as_ref() {
                "name" => 1,
                "version" => 2,
                "resolution" => 4,
                "dev" => 8,
                "optional" => 16,
                "dependencies" => 32,
                "optionalDependencies" => 64,
                _ => return p.skip(c, &v),
            };
            if seen & bit != 0 {
                return None;
            }
            seen |= bit;
            match bit {
                1 => out.name = Some(Scalar(text_of(v)?)),
                2 => out.version = Some(Scalar(text_of(v)?)),
                4 => out.resolution = Some(resolution(v)?),
                8 => out.dev = Some(boolean(v)?),
                16 => out.optional = Some(boolean(v)?),
                32 => out.dependencies = Some(p.ordered(c, v, P::dep_value)?),
                _ => out.optional_dependencies = Some(p.ordered(c, v, P::dep_value)?),
            }
            Some(())
        })?;
        Some(out)
    }

    /// A dependency's value: a string scalar, or a block with `version`.
    fn dep_value(&mut self, indent: usize, val: Val<'a>) -> Option<DepValue> {
        match val {
            Val::Plain(s) => surely_string(s).then(|| DepValue(Some(s.to_owned()))),
            Val::Quoted(s) => Some(DepValue(Some(s.into_owned()))),
            Val::Empty => {
                let c = self.child(indent)?;
                let mut version = None;
                self.map(c, |p, k, v| {
                    if k != "version" {
                        return p.skip(c, &v);
                    }
                    if version.is_some() {
                        return None;
                    }
                    version = Some(match v {
                        Val::Plain(s) if surely_string(s) => s.to_owned(),
                        Val::Quoted(s) => s.into_owned(),
                        _ => return None,
                    });
                    Some(())
                })?;
                Some(DepValue(version))
            }
            Val::Flow(_) => None,
        }
    }
}

/// `dev: true` / `optional: false`.
fn boolean(val: Val<'_>) -> Option<Lenient<bool>> {
    match val {
        Val::Plain("true") => Some(Lenient(Some(true))),
        Val::Plain("false") => Some(Lenient(Some(false))),
        _ => None,
    }
}

/// `resolution: {integrity: ..., tarball: ..., repo: ...}`.
fn resolution(val: Val<'_>) -> Option<Resolution> {
    let Val::Flow(Flow::Map(entries)) = val else {
        return None;
    };
    let mut out = Resolution::default();
    for (k, v) in entries {
        let slot = match k.as_ref() {
            "integrity" => &mut out.integrity,
            "tarball" => &mut out.tarball,
            "repo" => &mut out.repo,
            _ => continue,
        };
        if slot.is_some() {
            return None;
        }
        let text = match v {
            Flow::Str(s, true) if surely_string(&s) => s.into_owned(),
            Flow::Str(s, false) => s.into_owned(),
            _ => return None,
        };
        *slot = Some(Lenient(Some(text)));
    }
    Some(out)
}
