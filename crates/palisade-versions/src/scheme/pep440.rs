//! PyPI versions: PEP 440 as `packaging.version.Version` reads and orders it,
//! and every other string as the old `packaging.version.LegacyVersion` did.
//!
//! The design decision: parse each version once into the very sort key
//! `packaging` builds (`_cmpkey`), as a small struct whose derived order is
//! the key's tuple order, so comparison is a field-by-field walk with no
//! allocation. The PEP 440 reader follows `VERSION_PATTERN` exactly:
//! surrounding whitespace, ASCII case and a leading `v` are ignored; an
//! optional `N!` epoch; a release of dot-separated numbers; an optional
//! prerelease spelled `a`/`alpha`, `b`/`beta`, `rc`/`c`/`pre`/`preview`, each
//! optionally preceded and followed by one of `-_.` and with an implicit `0`;
//! an optional post-release (`-N`, or `post`/`rev`/`r` spelled like a
//! prerelease); an optional `dev` release; an optional `+local` whose parts
//! are separated by `-_.`. The key then drops trailing zeros from the release
//! (`1.0 == 1.0.0`), puts a dev-only release before its prereleases
//! (`1.0.dev0 < 1.0a0`), a release before its post-releases, a dev release
//! before its non-dev form, and a local version after its public version,
//! with local parts compared as numbers when all digits (after any text).
//!
//! A string that is not PEP 440 is a legacy version, as pip and `packaging`
//! before 22.0 treated it, and as the osv-scalibr fixture expects: its key is
//! `_legacy_cmpkey` (numeric runs zero-padded to eight characters, words
//! prefixed with `*`, `pre`/`preview`/`rc` read as `c`, `dev` as `@`, `-` as
//! `final-`, trailing zeros of each numeric series dropped) and, with its
//! implied epoch of -1, it sorts before every PEP 440 version. Only an empty
//! (or all-whitespace) string is rejected.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use super::semver::Num;

/// A prerelease phase; the order is PEP 440's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Phase {
    Alpha,
    Beta,
    Rc,
}

/// The prerelease slot of the key, in `_cmpkey`'s order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum PreSlot {
    /// A dev release with neither pre- nor post-release: `NegativeInfinity`.
    DevOnly,
    /// A prerelease.
    Pre(Phase, Num),
    /// No prerelease: `Infinity`.
    None,
}

/// The dev slot of the key: a dev release sorts before none (`Infinity`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Dev {
    Dev(Num),
    None,
}

/// One local version part: text sorts before numbers.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum LocalPart {
    Text(Box<str>),
    Num(Num),
}

/// The `_cmpkey` of a PEP 440 version, fields in key order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Pep440Key {
    epoch: Num,
    /// The release numbers without trailing zeros.
    release: Box<[Num]>,
    pre: PreSlot,
    /// `None` is `NegativeInfinity`: no post-release sorts first.
    post: Option<Num>,
    dev: Dev,
    /// `None` is `NegativeInfinity`: no local version sorts first.
    local: Option<Box<[LocalPart]>>,
}

/// The sort key; legacy versions (epoch -1) sort before all PEP 440 ones.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Key {
    Legacy(Box<[Box<str>]>),
    Pep440(Pep440Key),
}

/// A PyPI version.
#[derive(Clone, Debug)]
pub struct Pep440Version {
    key: Key,
    original: Box<str>,
}

impl Pep440Version {
    /// Whether the version is not PEP 440 and was read as a legacy version.
    pub fn is_legacy(&self) -> bool {
        matches!(self.key, Key::Legacy(_))
    }

    /// Whether this is a pre- or dev release (`packaging`'s `is_prerelease`).
    pub fn is_prerelease(&self) -> bool {
        match &self.key {
            Key::Pep440(k) => matches!(k.pre, PreSlot::Pre(..)) || matches!(k.dev, Dev::Dev(_)),
            Key::Legacy(_) => false,
        }
    }
}

impl PartialEq for Pep440Version {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for Pep440Version {}

impl Hash for Pep440Version {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

impl Ord for Pep440Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

impl PartialOrd for Pep440Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Pep440Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Parses a PyPI version: PEP 440 when it is one, legacy otherwise.
pub fn parse(input: &str) -> Result<Pep440Version, String> {
    if python_strip(input).is_empty() {
        return Err("empty version".to_owned());
    }
    let key = match parse_pep440(input) {
        Some(key) => Key::Pep440(key),
        None => Key::Legacy(legacy_key(input)),
    };
    Ok(Pep440Version {
        key,
        original: input.into(),
    })
}

/// Parses a strict PEP 440 version (no legacy fallback), with the reason it
/// is not one.
pub fn parse_strict(input: &str) -> Result<Pep440Version, String> {
    match parse_pep440(input) {
        Some(key) => Ok(Pep440Version {
            key: Key::Pep440(key),
            original: input.into(),
        }),
        None => Err("not a PEP 440 version".to_owned()),
    }
}

/// Strips what Python's `\s` matches at both ends: Unicode white space plus
/// the information separators U+001C to U+001F, which `str.isspace` also
/// counts.
fn python_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// A cursor over the ASCII-lowercased version.
struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_separator(&mut self) -> bool {
        match self.peek() {
            Some(b'-' | b'_' | b'.') => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let end = self.pos + word.len();
        if self.s.get(self.pos..end) == Some(word.as_bytes()) {
            self.pos = end;
            true
        } else {
            false
        }
    }

    /// The first of `words` present here (the regex tries them in order).
    fn eat_any<T: Copy>(&mut self, words: &[(&str, T)]) -> Option<T> {
        words
            .iter()
            .find(|(word, _)| self.eat_word(word))
            .map(|(_, value)| *value)
    }

    fn digits(&mut self) -> Option<Num> {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        let digits = self.s.get(start..self.pos)?;
        if digits.is_empty() {
            return None;
        }
        std::str::from_utf8(digits).ok().map(Num::from_digits)
    }
}

/// `[-_.]? label [-_.]? [0-9]*` with the number defaulting to zero; the
/// cursor is left unmoved when no label is present.
fn labelled<T: Copy>(c: &mut Cursor<'_>, labels: &[(&str, T)]) -> Option<(T, Num)> {
    let start = c.pos;
    c.eat_separator();
    let Some(label) = c.eat_any(labels) else {
        c.pos = start;
        return None;
    };
    c.eat_separator();
    Some((label, c.digits().unwrap_or(Num::Small(0))))
}

const PRE_LABELS: &[(&str, Phase)] = &[
    ("alpha", Phase::Alpha),
    ("a", Phase::Alpha),
    ("beta", Phase::Beta),
    ("b", Phase::Beta),
    ("preview", Phase::Rc),
    ("pre", Phase::Rc),
    ("c", Phase::Rc),
    ("rc", Phase::Rc),
];

const POST_LABELS: &[(&str, ())] = &[("post", ()), ("rev", ()), ("r", ())];

const DEV_LABELS: &[(&str, ())] = &[("dev", ())];

/// Reads `VERSION_PATTERN` into `_cmpkey`, or `None` if the input does not
/// match it.
fn parse_pep440(input: &str) -> Option<Pep440Key> {
    let lower = python_strip(input).to_ascii_lowercase();
    let mut c = Cursor {
        s: lower.as_bytes(),
        pos: 0,
    };
    c.eat(b'v');
    // An epoch is digits followed by '!'; otherwise those digits start the
    // release.
    let start = c.pos;
    let epoch = match c.digits() {
        Some(n) if c.eat(b'!') => n,
        _ => {
            c.pos = start;
            Num::Small(0)
        }
    };
    let mut release = vec![c.digits()?];
    while c.peek() == Some(b'.') && c.s.get(c.pos + 1).is_some_and(u8::is_ascii_digit) {
        c.pos += 1;
        release.push(c.digits()?);
    }
    while release.last().is_some_and(Num::is_zero) {
        release.pop();
    }
    let pre = labelled(&mut c, PRE_LABELS);
    let post = {
        let start = c.pos;
        let implicit = if c.eat(b'-') { c.digits() } else { None };
        match implicit {
            Some(n) => Some(n),
            None => {
                c.pos = start;
                labelled(&mut c, POST_LABELS).map(|((), n)| n)
            }
        }
    };
    let dev = labelled(&mut c, DEV_LABELS).map(|((), n)| n);
    let local = if c.eat(b'+') {
        let rest = c.s.get(c.pos..)?;
        c.pos = c.s.len();
        Some(local_parts(rest)?)
    } else {
        None
    };
    if c.pos != c.s.len() {
        return None;
    }
    let pre = match (pre, &post, &dev) {
        (Some((phase, n)), _, _) => PreSlot::Pre(phase, n),
        (None, None, Some(_)) => PreSlot::DevOnly,
        (None, _, _) => PreSlot::None,
    };
    Some(Pep440Key {
        epoch,
        release: release.into(),
        pre,
        post,
        dev: dev.map_or(Dev::None, Dev::Dev),
        local,
    })
}

/// `[a-z0-9]+([-_.][a-z0-9]+)*`, each part a number when all digits.
fn local_parts(s: &[u8]) -> Option<Box<[LocalPart]>> {
    let s = std::str::from_utf8(s).ok()?;
    s.split(['-', '_', '.'])
        .map(|part| {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_alphanumeric()) {
                None
            } else if part.bytes().all(|b| b.is_ascii_digit()) {
                Some(LocalPart::Num(Num::from_digits(part)))
            } else {
                Some(LocalPart::Text(part.into()))
            }
        })
        .collect()
}

/// `LegacyVersion`'s `_legacy_cmpkey` parts (the epoch of -1 is implied by
/// the variant).
fn legacy_key(input: &str) -> Box<[Box<str>]> {
    let mut parts: Vec<Box<str>> = Vec::new();
    for part in legacy_parts(&input.to_lowercase()) {
        if part.starts_with('*') {
            // Remove "-" before a prerelease tag.
            if part.as_str() < "*final" {
                while parts.last().is_some_and(|p| &**p == "*final-") {
                    parts.pop();
                }
            }
            // Remove trailing zeros from each series of numeric parts.
            while parts.last().is_some_and(|p| &**p == "00000000") {
                parts.pop();
            }
        }
        parts.push(part.into());
    }
    parts.into()
}

/// `_parse_version_parts`: split at `(\d+|[a-z]+|\.|-)` keeping the
/// separators and the text between them, map the special words, pad numbers
/// to eight digits and mark everything else with `*`, then add `*final`.
fn legacy_parts(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |token: &str| {
        let token = match token {
            "pre" | "preview" | "rc" => "c",
            "-" => "final-",
            "dev" => "@",
            other => other,
        };
        if token.is_empty() || token == "." {
            return;
        }
        if token.starts_with(|c: char| c.is_ascii_digit()) {
            out.push(format!("{token:0>8}"));
        } else {
            out.push(format!("*{token}"));
        }
    };
    let mut other_start = 0;
    let mut i = 0;
    let bytes = s.as_bytes();
    let run = |from: usize, pred: fn(&u8) -> bool| {
        from + bytes
            .get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| pred(b))
            .count()
    };
    while let Some(&b) = bytes.get(i) {
        let end = if b.is_ascii_digit() {
            run(i, u8::is_ascii_digit)
        } else if b.is_ascii_lowercase() {
            run(i, u8::is_ascii_lowercase)
        } else if b == b'.' || b == b'-' {
            i + 1
        } else {
            i += 1;
            continue;
        };
        // The text between two matches is a part of its own.
        push(s.get(other_start..i).unwrap_or(""));
        push(s.get(i..end).unwrap_or(""));
        i = end;
        other_start = end;
    }
    push(s.get(other_start..).unwrap_or(""));
    out.push("*final".to_owned());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::fixture_test::{assert_table, osv_versions};

    #[test]
    fn every_version_in_real_osv_records_parses() {
        let Some(versions) = osv_versions("osv/PyPI") else {
            return;
        };
        let rejected: Vec<String> = versions
            .iter()
            .filter_map(|(v, file)| parse(v).err().map(|e| format!("{v:?} in {file}: {e}")))
            .collect();
        eprintln!(
            "PyPI: {} versions, {} rejected",
            versions.len(),
            rejected.len()
        );
        let legacy: std::collections::BTreeSet<&str> = versions
            .iter()
            .filter(|(v, _)| parse(v).is_ok_and(|p| p.is_legacy()))
            .map(|(v, _)| v.as_str())
            .collect();
        eprintln!("{} distinct legacy (non-PEP 440) versions", legacy.len());
        // Real records do use legacy versions, so the fallback matters.
        assert!(legacy.contains("0.7.1.fix1") && legacy.contains("trunk"));
        assert!(rejected.is_empty(), "{}", rejected.join("\n"));
    }

    #[test]
    fn pep440_spellings_normalise() {
        // PEP 440's "Normalization" section.
        assert_table(
            &[
                "1.0 = 1.0.0",
                "1.0.0.0 = 1",
                "v1.0 = 1.0",
                "V1.0 = 1.0",
                "1.0a1 = 1.0-ALPHA.1",
                "1.0a1 = 1.0alpha1",
                "1.0a1 = 1.0_a_1",
                "1.0b2 = 1.0beta2",
                "1.0rc1 = 1.0c1",
                "1.0rc1 = 1.0pre1",
                "1.0rc1 = 1.0preview1",
                "1.0rc1 = 1.0-rc-1",
                "1.0a0 = 1.0a",
                "1.0.post0 = 1.0.post",
                "1.0.post1 = 1.0-1",
                "1.0.post1 = 1.0-r1",
                "1.0.post1 = 1.0rev1",
                "1.0.post1 = 1.0-post-1",
                "1.0.post1 = 1.0_post_1",
                "1.0.dev0 = 1.0.dev",
                "1.0.dev1 = 1.0-dev1",
                "1.0.dev1 = 1.0_DEV_1",
                "0!1.0 = 1.0",
                "1.0+ubuntu-1 = 1.0+ubuntu.1",
                "1.0+ubuntu_1 = 1.0+UBUNTU.1",
                "1.0+1 = 1.0+01",
                "1.0a. = 1.0a0",
            ],
            parse,
        );
        let padded = parse("  1.0rc1\n\u{1f}").unwrap();
        assert_eq!(padded, parse("1.0rc1").unwrap());
        assert!(!padded.is_legacy());
    }

    #[test]
    fn pep440_summary_of_permitted_suffixes_is_in_order() {
        // PEP 440's "Summary of permitted suffixes and relative ordering".
        let sorted = [
            "1.dev0",
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1.dev456",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.0.15",
            "1.1.dev1",
        ];
        for pair in sorted.windows(2) {
            if let [a, b] = pair {
                let (va, vb) = (parse(a).unwrap(), parse(b).unwrap());
                assert!(va < vb, "{a} < {b}");
                assert!(!va.is_legacy() && !vb.is_legacy());
            }
        }
        assert_table(&["1!0.1 > 2.0", "1.0+local.a < 1.0+local.0"], parse);
    }

    #[test]
    fn legacy_versions_sort_first_as_packaging_21_did() {
        // Keys checked against packaging 21.3's LegacyVersion._key.
        assert_eq!(
            &*legacy_key("1.0-rc1"),
            ["00000001", "*c", "00000001", "*final"].map(Box::from)
        );
        assert_eq!(
            &*legacy_key("2.0b1pl0"),
            ["00000002", "*b", "00000001", "*pl", "*final"].map(Box::from)
        );
        assert_eq!(
            &*legacy_key("1.0_x"),
            ["00000001", "*_", "*x", "*final"].map(Box::from)
        );
        assert_table(
            &[
                "0.1-bulbasaur < 0.1-charmander",
                "french_toast < 0.0.0.dev0",
                "1.0_x < 0!0",
                "1.0_x = 1.0_X",
                "2.0b1pl0 < 2.0b1",
                "1.0-SNAPSHOT < 1.0.dev0",
            ],
            parse,
        );
        assert!(parse("1.0_x").unwrap().is_legacy());
        assert!(parse("1.0+").unwrap().is_legacy());
        assert!(parse("1.0+a..b").unwrap().is_legacy());
        assert!(parse("1.0-").unwrap().is_legacy());
        assert!(parse_strict("1.0_x").is_err());
        assert!(parse(" ").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn big_numbers_and_flags() {
        assert_table(
            &[
                "99999999999999999999999 > 99999999999999999998",
                "1.0.99999999999999999999999 > 1.0.9",
                "1!0 > 0!99999999999999999999999",
            ],
            parse,
        );
        assert!(parse("1.0.dev1").unwrap().is_prerelease());
        assert!(parse("1.0rc1").unwrap().is_prerelease());
        assert!(!parse("1.0.post1").unwrap().is_prerelease());
        assert_eq!(parse(" 1.0-ALPHA.1 ").unwrap().to_string(), " 1.0-ALPHA.1 ");
    }
    #[test]
    fn ordering_laws_hold_on_generated_inputs() {
        // PyPI (with legacy versions): reflexive, antisymmetric, transitive, and equal values hash
        // alike, on pseudo-random strings.
        let n = crate::scheme::order_test::check_total_order(
            b"019.-_+!abcdeprvlost",
            8,
            110,
            &[
                "1.0",
                "1.0.dev0",
                "1.0a1",
                "1.0.post1",
                "1.0+l.1",
                "1.0_x",
                "2!1",
            ],
            parse,
        );
        assert!(n > 20, "only {n} inputs parsed");
    }
}
