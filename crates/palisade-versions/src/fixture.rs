//! The osv-scalibr version-ordering fixtures: which scheme answers each file,
//! the lines we knowingly answer differently (each with the reason), and the
//! checker that runs one file's text.
//!
//! This module is public only so that the unit tests and the integration
//! test `tests/corpus.rs` share one runner; it is not part of the API. It does
//! no I/O: the fixtures live outside the repository (in the shared corpus,
//! found through `PALISADE_CORPUS`), and the caller reads them.
//!
//! Every comparison is checked both ways round (`A < B` also asserts
//! `B > A`), `==` must agree with `Ord`, and every `=` line also asserts that
//! the two values hash alike, because `Eq` and `Hash` must agree with `Ord`.
//! A line listed as a known disagreement must really fail, so that a fix
//! which makes it pass is noticed and the exemption removed.

use std::cmp::Ordering;
use std::collections::hash_map::DefaultHasher;
use std::fmt::Debug;
use std::hash::{Hash, Hasher};

use crate::{Scheme, Version};

/// A fixture line we answer differently from the fixture, and why.
#[derive(Clone, Copy, Debug)]
pub struct Known {
    /// The line, exactly as in the file (trimmed).
    pub line: &'static str,
    /// Why our answer differs.
    pub reason: &'static str,
}

/// One fixture file checked against one scheme.
#[derive(Clone, Copy, Debug)]
pub struct FixtureSpec {
    /// File name under `versions/` of the corpus.
    pub file: &'static str,
    /// The scheme whose parser and order answer the file.
    pub scheme: Scheme,
    /// Lines we knowingly answer differently.
    pub known: &'static [Known],
}

const NODE_SEMVER_REJECTS: &str = "node-semver rejects these versions: core numbers above \
     Number.MAX_SAFE_INTEGER (\"Invalid major version\"), and a fourth numeric part, so npm \
     never compares them";

/// Every fixture file, with the scheme(s) that must answer it.
pub const FIXTURES: &[FixtureSpec] = &[
    FixtureSpec {
        file: "semver-versions.txt",
        scheme: Scheme::SemVer,
        known: &[],
    },
    FixtureSpec {
        file: "semver-versions.txt",
        scheme: Scheme::Npm,
        known: &[
            Known {
                line: "999999999999999999999999999991 < 999999999999999999999999999999",
                reason: NODE_SEMVER_REJECTS,
            },
            Known {
                line: "999999999999999999999999999991.999999999999999999999999999991.999999999999999999999999999991 < 999999999999999999999999999999.999999999999999999999999999991.999999999999999999999999999991",
                reason: NODE_SEMVER_REJECTS,
            },
            Known {
                line: "1.1.3.4.5 = 1.1.3.4.5",
                reason: NODE_SEMVER_REJECTS,
            },
        ],
    },
    FixtureSpec {
        file: "semver-versions.txt",
        scheme: Scheme::Go,
        known: &[Known {
            line: "1.1.3.4.5 = 1.1.3.4.5",
            reason: "`semver.IsValid(\"v1.1.3.4.5\")` is false: Go has no fourth part",
        }],
    },
    FixtureSpec {
        file: "pypi-versions.txt",
        scheme: Scheme::Pep440,
        known: &[],
    },
    FixtureSpec {
        file: "maven-versions.txt",
        scheme: Scheme::Maven,
        known: &[Known {
            line: "1-1 = 1-ga-1",
            reason: "`1-ga-1` reads as [1, [ga1]] (the hyphen before a digit joins `ga` and \
                     `1` into one combination item) while `1-1` is [1, [1]]; a number beats \
                     a combination, so ComparableVersion says `1-ga-1 < 1-1` (Maven 3.8, \
                     3.9 and the newest compat code agree). The fixture's equality follows \
                     the prose of Maven's version-order specification, not its code",
        }],
    },
    FixtureSpec {
        file: "nuget-versions.txt",
        scheme: Scheme::NuGet,
        known: &[],
    },
    FixtureSpec {
        file: "rubygems-versions.txt",
        scheme: Scheme::RubyGems,
        known: &[
            Known {
                line: "1 > 1beta",
                reason: "`Gem::Version.new(\"1beta\")` raises \"Malformed version number \
                         string\" (a letter may only follow a dot or a hyphen): rejected, \
                         not guessed",
            },
            Known {
                line: "1 > 1gamma",
                reason: "`Gem::Version.new(\"1gamma\")` raises \"Malformed version number \
                         string\": rejected, not guessed",
            },
        ],
    },
    FixtureSpec {
        file: "packagist-versions.txt",
        scheme: Scheme::Composer,
        known: &[
            Known {
                line: "1.2.3.# = 1.2.3",
                reason: "PHP's version_compare turns `#` into a separator, so `1.2.3.#` is \
                         `1.2.3` with a trailing separator and cannot equal both `1.2.3` and \
                         `1.2.3.1`; osv-scalibr's tokeniser keeps `#` as a word equal to any \
                         number, which makes equality non-transitive. PHP answers `<`",
            },
            Known {
                line: "1.2.3.# = 1.2.3.1",
                reason: "as for `1.2.3.# = 1.2.3`: PHP answers `<`",
            },
        ],
    },
    FixtureSpec {
        file: "debian-versions.txt",
        scheme: Scheme::Dpkg,
        known: &[],
    },
    FixtureSpec {
        file: "alpine-versions.txt",
        scheme: Scheme::Apk,
        known: &[Known {
            line: "1-ruff2 = 1--ruff1",
            reason: "osv-scalibr compares two invalid versions by string but a valid and an \
                     invalid one part by part, which cannot be a total order; here the valid \
                     `1-ruff2` sorts before the invalid `1--ruff1`, and the fixture's own \
                     comment says current apk-tools answers `<` too",
        }],
    },
    FixtureSpec {
        file: "redhat-versions.txt",
        scheme: Scheme::Rpm,
        known: &[],
    },
    FixtureSpec {
        file: "pub-versions.txt",
        scheme: Scheme::Pub,
        known: &[],
    },
    FixtureSpec {
        file: "cran-versions.txt",
        scheme: Scheme::Cran,
        known: &[],
    },
    FixtureSpec {
        file: "hackage-versions.txt",
        scheme: Scheme::Hackage,
        known: &[],
    },
];

/// The specs checking `file`.
pub fn specs_for(file: &str) -> impl Iterator<Item = &'static FixtureSpec> + '_ {
    FIXTURES.iter().filter(move |s| s.file == file)
}

fn hash_of<T: Hash>(value: &T) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// The comparison lines of a fixture text: trimmed, without blank lines and
/// `#` or `//` comments.
pub fn comparisons(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("//"))
}

/// Checks one comparison line (`A < B`, `A = B` or `A > B`); `Err`
/// describes the disagreement.
pub fn check_line<T, F>(line: &str, parse: &F) -> Result<(), String>
where
    T: Ord + Hash + Debug,
    F: Fn(&str) -> Result<T, String>,
{
    let parts: Vec<&str> = line.split(' ').filter(|p| !p.is_empty()).collect();
    let [a, op, b] = parts.as_slice() else {
        return Err(format!("malformed fixture line {line:?}"));
    };
    let expected = match *op {
        "<" => Ordering::Less,
        "=" => Ordering::Equal,
        ">" => Ordering::Greater,
        other => return Err(format!("unknown operator {other:?}")),
    };
    let va = parse(a).map_err(|e| format!("cannot parse {a:?}: {e}"))?;
    let vb = parse(b).map_err(|e| format!("cannot parse {b:?}: {e}"))?;
    let got = va.cmp(&vb);
    if got != expected {
        return Err(format!("{a} cmp {b} gave {got:?}, expected {expected:?}"));
    }
    let back = vb.cmp(&va);
    if back != expected.reverse() {
        return Err(format!("{b} cmp {a} gave {back:?}, not the reverse"));
    }
    if (va == vb) != (expected == Ordering::Equal) {
        return Err(format!("{a} == {b} disagrees with Ord"));
    }
    if expected == Ordering::Equal && hash_of(&va) != hash_of(&vb) {
        return Err(format!("{a} and {b} are equal but hash differently"));
    }
    Ok(())
}

/// The outcome of one fixture file against one scheme.
#[derive(Clone, Debug, Default)]
pub struct FixtureReport {
    /// Comparison lines that hold.
    pub passed: usize,
    /// Known disagreements that still disagree, as expected.
    pub known: usize,
    /// Lines that fail and are not known disagreements, with why.
    pub failures: Vec<String>,
    /// Lines listed as known disagreements that now pass.
    pub unexpectedly_passing: Vec<String>,
    /// Known disagreements that are not in the file at all.
    pub missing_known: Vec<String>,
}

impl FixtureReport {
    /// Whether the file matched expectations exactly.
    pub fn is_ok(&self) -> bool {
        self.failures.is_empty()
            && self.unexpectedly_passing.is_empty()
            && self.missing_known.is_empty()
    }

    /// Every problem, one per line, for an assertion message.
    pub fn problems(&self) -> String {
        let mut out = Vec::new();
        out.extend(self.failures.iter().map(|f| format!("FAIL {f}")));
        out.extend(
            self.unexpectedly_passing
                .iter()
                .map(|l| format!("NOW PASSES (remove the known disagreement) {l}")),
        );
        out.extend(
            self.missing_known
                .iter()
                .map(|l| format!("KNOWN LINE NOT IN FILE {l}")),
        );
        out.join("\n")
    }
}

/// Runs every comparison of a fixture `text` through `parse`. Lines in
/// `known` (exact text) must fail; all others must pass.
pub fn run_text<T, F>(text: &str, parse: F, known: &[&str]) -> FixtureReport
where
    T: Ord + Hash + Debug,
    F: Fn(&str) -> Result<T, String>,
{
    let mut report = FixtureReport::default();
    for line in comparisons(text) {
        let outcome = check_line(line, &parse);
        match (outcome, known.contains(&line)) {
            (Ok(()), false) => report.passed += 1,
            (Ok(()), true) => report.unexpectedly_passing.push(line.to_owned()),
            (Err(_), true) => report.known += 1,
            (Err(e), false) => report.failures.push(format!("{line}: {e}")),
        }
    }
    for k in known {
        if !comparisons(text).any(|l| l == *k) {
            report.missing_known.push((*k).to_owned());
        }
    }
    report
}

/// Runs a fixture `text` against `spec`'s scheme and known disagreements.
pub fn run_spec(spec: &FixtureSpec, text: &str) -> FixtureReport {
    let known: Vec<&str> = spec.known.iter().map(|k| k.line).collect();
    let scheme = spec.scheme;
    run_text(text, |s| Version::parse_scheme(scheme, s), &known)
}
