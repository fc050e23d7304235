//! Property tests: every scheme's order is a total order consistent with
//! `Eq`, `Hash` and its own normalisation, over generated versions.
//!
//! For each scheme family a strategy produces realistic version strings of
//! that ecosystem (the shapes real registries publish, with small numbers so
//! that ties and equal spellings are frequent), and a second strategy
//! produces pairs of spellings the ecosystem's rules call equal (`1.0a1` and
//! `1.0-ALPHA.1` in PyPI, `0:1.0` and `1.0` in Debian...). On a generated list
//! the tests check:
//!
//! - every realistic string parses;
//! - reflexivity (`a == a`), antisymmetry (`cmp(a, b) == cmp(b, a).reverse()`)
//!   and transitivity over every triple of the list (for `<=` and for `==`);
//! - `==` agrees with `cmp() == Equal`, and equal values hash alike;
//! - the displayed form re-parses to an equal value;
//! - sorting is consistent: the sorted list is ordered pairwise (not only
//!   neighbours), a stable sort keeps equal versions in input order, and
//!   sorting the reversed input gives an equal sequence.
//!
//! A further test per scheme throws short strings over the characters that
//! drive its parser (not realistic at all) at the same laws, for totality on
//! whatever parses; that is where Maven 3.9's cycles were found (see
//! `scheme::maven`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cmp::Ordering;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use palisade_versions::{Scheme, Version};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestCaseError;

fn hash_of(v: &Version) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

fn parse(scheme: Scheme, s: &str) -> Result<Version, String> {
    Version::parse_scheme(scheme, s)
}

/// Checks the order laws on `inputs`. With `require_parse`, every input
/// must parse; otherwise the ones that do not are dropped.
fn check_laws(scheme: Scheme, inputs: &[String], require_parse: bool) -> Result<(), TestCaseError> {
    let mut vs: Vec<(String, Version)> = Vec::with_capacity(inputs.len());
    for s in inputs {
        match parse(scheme, s) {
            Ok(v) => vs.push((s.clone(), v)),
            Err(e) if require_parse => {
                return Err(TestCaseError::fail(format!(
                    "{scheme:?} rejects {s:?}: {e}"
                )));
            }
            Err(_) => {}
        }
    }
    for (sa, a) in &vs {
        prop_assert_eq!(a.cmp(a), Ordering::Equal, "{} != itself", sa);
        prop_assert!(a.eq(a), "{} == itself is false", sa);
        let shown = a.to_string();
        let again = parse(scheme, &shown)
            .map_err(|e| TestCaseError::fail(format!("display {shown:?} of {sa:?}: {e}")))?;
        prop_assert_eq!(&again, a, "display of {} re-parses unequal", sa);
        for (sb, b) in &vs {
            let ab = a.cmp(b);
            prop_assert_eq!(ab, b.cmp(a).reverse(), "{} vs {} not antisymmetric", sa, sb);
            prop_assert_eq!(
                a == b,
                ab == Ordering::Equal,
                "{} == {} disagrees with Ord",
                sa,
                sb
            );
            if ab == Ordering::Equal {
                prop_assert_eq!(hash_of(a), hash_of(b), "{} = {} hash apart", sa, sb);
            }
            if ab == Ordering::Greater {
                continue;
            }
            for (sc, c) in &vs {
                let bc = b.cmp(c);
                if bc != Ordering::Greater {
                    let ac = a.cmp(c);
                    prop_assert_ne!(
                        ac,
                        Ordering::Greater,
                        "not transitive: {} <= {} <= {} but {} > {}",
                        sa,
                        sb,
                        sc,
                        sa,
                        sc
                    );
                    if ab == Ordering::Equal && bc == Ordering::Equal {
                        prop_assert_eq!(
                            ac,
                            Ordering::Equal,
                            "{} = {} = {} but {} != {}",
                            sa,
                            sb,
                            sc,
                            sa,
                            sc
                        );
                    }
                }
            }
        }
    }
    // Sorting: pairwise order, stability, and independence of input order.
    let mut indexed: Vec<(usize, &Version)> = vs.iter().map(|(_, v)| v).enumerate().collect();
    indexed.sort_by(|x, y| x.1.cmp(y.1));
    for (i, (ia, a)) in indexed.iter().enumerate() {
        for (ib, b) in indexed.iter().skip(i + 1) {
            prop_assert_ne!(a.cmp(b), Ordering::Greater, "sorted list out of order");
            if a == b {
                prop_assert!(ia < ib, "stable sort moved equal versions");
            }
        }
    }
    let mut reversed: Vec<&Version> = vs.iter().rev().map(|(_, v)| v).collect();
    reversed.sort();
    let forward: Vec<&Version> = indexed.iter().map(|(_, v)| *v).collect();
    prop_assert_eq!(forward, reversed, "sort depends on input order");
    Ok(())
}

/// Checks that two spellings are equal, compare `Equal` both ways and hash
/// alike.
fn check_same(scheme: Scheme, a: &str, b: &str) -> Result<(), TestCaseError> {
    let va = parse(scheme, a).map_err(|e| TestCaseError::fail(format!("{a:?}: {e}")))?;
    let vb = parse(scheme, b).map_err(|e| TestCaseError::fail(format!("{b:?}: {e}")))?;
    prop_assert_eq!(va.cmp(&vb), Ordering::Equal, "{} vs {}", a, b);
    prop_assert_eq!(vb.cmp(&va), Ordering::Equal, "{} vs {}", b, a);
    prop_assert!(va == vb);
    prop_assert_eq!(hash_of(&va), hash_of(&vb), "{} and {} hash apart", a, b);
    Ok(())
}

// ---------------------------------------------------------------------------
// Building blocks.
// ---------------------------------------------------------------------------

/// A version number, mostly small so that ties happen.
fn num() -> impl Strategy<Value = u64> {
    prop_oneof![6 => 0u64..4, 3 => 0u64..30, 1 => 0u64..3000]
}

fn nums(min: usize, max: usize) -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(num(), min..=max)
}

fn dotted(parts: &[u64]) -> String {
    parts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

fn opt<S: Strategy<Value = String>>(s: S) -> impl Strategy<Value = String> {
    prop_oneof![1 => Just(String::new()), 1 => s]
}

fn list_of<S: Strategy<Value = String>>(s: S) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(s, 2..10)
}

/// A SemVer core with a prerelease and build metadata drawn from common
/// shapes.
fn semver_like() -> impl Strategy<Value = String> {
    (
        num(),
        num(),
        num(),
        opt(select(vec![
            "alpha",
            "alpha.1",
            "alpha.beta",
            "beta",
            "beta.2",
            "beta.11",
            "rc.1",
            "rc1",
            "0",
            "1",
            "2",
            "11",
            "x-y",
            "SNAPSHOT",
            "next.0",
            "canary.3",
        ])
        .prop_map(|p| format!("-{p}"))),
        opt(
            select(vec!["build.1", "sha.5114f85", "001", "20130313144700"])
                .prop_map(|b| format!("+{b}")),
        ),
    )
        .prop_map(|(a, b, c, pre, build)| format!("{a}.{b}.{c}{pre}{build}"))
}

// ---------------------------------------------------------------------------
// Realistic generators, one per scheme family.
// ---------------------------------------------------------------------------

fn go_like() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => semver_like().prop_map(|s| format!("v{}", s.split('+').next().unwrap_or(&s))),
        1 => (num(), num(), num()).prop_map(|(a, b, c)| format!("v{a}.{b}.{c}+incompatible")),
        // Pseudo-versions of the three forms.
        1 => (select(vec!["20191109021931", "20200101000000", "20191109021932"]), select(vec!["daa7c04131f5", "abcdefabcdef"]))
            .prop_map(|(t, h)| format!("v0.0.0-{t}-{h}")),
        1 => (num(), num(), num(), select(vec!["20191109021931", "20200101000000"]))
            .prop_map(|(a, b, c, t)| format!("v{a}.{b}.{c}-0.{t}-daa7c04131f5")),
        1 => (num(), num(), num(), select(vec!["20191109021931", "20200101000000"]))
            .prop_map(|(a, b, c, t)| format!("v{a}.{b}.{}-0.{t}-daa7c04131f5", c + 1)),
    ]
}

fn pep440_like() -> impl Strategy<Value = String> {
    (
        opt(select(vec!["1!", "2!"]).prop_map(String::from)),
        nums(1, 4),
        opt((
            select(vec!["a", "b", "rc", "alpha", "beta", "c", "pre"]),
            num(),
        )
            .prop_map(|(p, n)| format!("{p}{n}"))),
        opt(prop_oneof![
            num().prop_map(|n| format!(".post{n}")),
            num().prop_map(|n| format!("-{n}"))
        ]),
        opt(num().prop_map(|n| format!(".dev{n}"))),
        opt(select(vec!["+ubuntu.1", "+local.7", "+abc", "+1.2"]).prop_map(String::from)),
    )
        .prop_map(|(e, r, pre, post, dev, local)| {
            format!("{e}{}{pre}{post}{dev}{local}", dotted(&r))
        })
}

fn maven_like() -> impl Strategy<Value = String> {
    (
        nums(1, 4),
        opt(select(vec![
            "-SNAPSHOT",
            "-alpha-1",
            "-alpha1",
            "-beta2",
            "-beta-2",
            "-RC1",
            "-rc-2",
            ".RC1",
            ".Final",
            ".FINAL",
            "-jre",
            "-android",
            "-M3",
            ".M1",
            "-sp1",
            "-sp",
            "-1",
            "-2",
            "-20190101.123456-3",
            "-ga",
            ".GA",
            ".redhat-00001",
            "-incubating",
            "-cr1",
            "-alpha-1-SNAPSHOT",
            "a",
            "b1",
            "-xyz",
            ".Beta1",
            "-milestone-2",
        ])
        .prop_map(String::from)),
    )
        .prop_map(|(r, q)| format!("{}{q}", dotted(&r)))
}

fn nuget_like() -> impl Strategy<Value = String> {
    (
        nums(3, 4),
        opt(select(vec![
            "-alpha",
            "-beta.2",
            "-rc.1",
            "-preview1",
            "-PREVIEW.3",
            "-1",
            "-alpha-1",
            "-beta.11",
        ])
        .prop_map(String::from)),
        opt(select(vec!["+build.5", "+abc"]).prop_map(String::from)),
    )
        .prop_map(|(r, pre, build)| format!("{}{pre}{build}", dotted(&r)))
}

fn rubygems_like() -> impl Strategy<Value = String> {
    (
        nums(1, 4),
        opt(prop_oneof![
            select(vec![
                ".pre", ".rc1", ".beta.2", ".alpha", ".a", ".rc.3", ".pre.1"
            ])
            .prop_map(String::from),
            num().prop_map(|n| format!(".beta{n}")),
        ]),
    )
        .prop_map(|(r, pre)| format!("{}{pre}", dotted(&r)))
}

fn composer_like() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (
            opt(Just("v".to_owned())),
            nums(1, 4),
            opt((select(vec!["alpha", "beta", "RC", "rc", "dev", "patch", "p", "pl", "b", "a"]), opt(num().prop_map(|n| n.to_string())))
                .prop_map(|(s, n)| format!("-{s}{n}"))),
        )
            .prop_map(|(v, r, s)| format!("{v}{}{s}", dotted(&r))),
        1 => select(vec!["dev-master", "dev-main", "dev-feature"]).prop_map(String::from),
    ]
}

fn dpkg_like() -> impl Strategy<Value = String> {
    (
        opt(num().prop_map(|e| format!("{e}:"))),
        nums(1, 3),
        opt(select(vec![
            "~rc1",
            "~beta2",
            "+dfsg",
            "+dfsg1",
            "a",
            "+git20200101",
            "~~",
            "~",
        ])
        .prop_map(String::from)),
        opt((
            num(),
            opt(
                select(vec!["ubuntu1", "+deb11u1", "~bpo10+1", "build1", ".1"])
                    .prop_map(String::from),
            ),
        )
            .prop_map(|(n, s)| format!("-{n}{s}"))),
    )
        .prop_map(|(e, up, suf, rev)| format!("{e}{}{suf}{rev}", dotted(&up)))
}

fn apk_like() -> impl Strategy<Value = String> {
    (
        nums(1, 4),
        opt(select(vec!["a", "b", "z"]).prop_map(String::from)),
        opt((
            select(vec![
                "_alpha", "_beta", "_pre", "_rc", "_p", "_cvs", "_svn", "_git", "_hg",
            ]),
            opt(num().prop_map(|n| n.to_string())),
        )
            .prop_map(|(s, n)| format!("{s}{n}"))),
        opt(num().prop_map(|n| format!("-r{n}"))),
    )
        .prop_map(|(r, l, s, rel)| format!("{}{l}{s}{rel}", dotted(&r)))
}

fn rpm_like() -> impl Strategy<Value = String> {
    (
        opt(num().prop_map(|e| format!("{e}:"))),
        nums(1, 4),
        opt(select(vec!["~rc1", "^20200101git", "a", "~beta", "^", "~"]).prop_map(String::from)),
        opt((
            num(),
            opt(
                select(vec![".el8", ".el9_1", ".fc38", ".1", "_2", ".el8.1"])
                    .prop_map(String::from),
            ),
        )
            .prop_map(|(n, s)| format!("-{n}{s}"))),
    )
        .prop_map(|(e, v, s, rel)| format!("{e}{}{s}{rel}", dotted(&v)))
}

fn hackage_like() -> impl Strategy<Value = String> {
    nums(1, 5).prop_map(|r| dotted(&r))
}

fn cran_like() -> impl Strategy<Value = String> {
    (nums(2, 4), prop::collection::vec(prop::bool::ANY, 3)).prop_map(|(r, seps)| {
        let mut out = String::new();
        for (i, n) in r.iter().enumerate() {
            if i > 0 {
                out.push(if seps.get(i - 1).copied().unwrap_or(false) {
                    '-'
                } else {
                    '.'
                });
            }
            out.push_str(&n.to_string());
        }
        out
    })
}

fn conan_like() -> impl Strategy<Value = String> {
    (
        nums(1, 4),
        opt(select(vec!["-pre", "-alpha.1", "-rc2", "+build1", "-beta"]).prop_map(String::from)),
    )
        .prop_map(|(r, s)| format!("{}{s}", dotted(&r)))
}

fn opam_like() -> impl Strategy<Value = String> {
    (
        nums(1, 3),
        opt(select(vec!["~beta1", "~rc2", "+dev", "+4.14", "~alpha", "-1"]).prop_map(String::from)),
    )
        .prop_map(|(r, s)| format!("{}{s}", dotted(&r)))
}

fn freebsd_like() -> impl Strategy<Value = String> {
    (
        nums(1, 3),
        opt(select(vec!["a", "b3", "p1", "rc2", ".b"]).prop_map(String::from)),
        opt(num().prop_map(|n| format!("_{n}"))),
        opt(num().prop_map(|n| format!(",{n}"))),
    )
        .prop_map(|(r, l, rev, ep)| format!("{}{l}{rev}{ep}", dotted(&r)))
}

fn android_like() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec!["10", "11", "12", "12L", "13", "14", "15", "8.1", "9"]).prop_map(String::from),
        (2015u32..2026, 1u32..13, select(vec![1u32, 5]))
            .prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02}")),
    ]
}

fn linux_like() -> impl Strategy<Value = String> {
    (
        select(vec![2u64, 3, 4, 5, 6]),
        num(),
        opt(prop_oneof![
            num().prop_map(|n| format!(".{n}")),
            (1u64..9).prop_map(|n| format!("-rc{n}"))
        ]),
    )
        .prop_map(|(a, b, s)| format!("{a}.{b}{s}"))
}

fn root_like() -> impl Strategy<Value = String> {
    (
        nums(1, 3),
        opt(prop_oneof![
            num().prop_map(|n| format!("-r{n}")),
            num().prop_map(|n| format!("+root.io.{n}")),
            num().prop_map(|n| format!("-root.io.{n}")),
        ]),
    )
        .prop_map(|(r, s)| format!("{}{s}", dotted(&r)))
}

fn opaque_like() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-z0-9._-]{1,12}").expect("valid regex")
}

// ---------------------------------------------------------------------------
// Spellings that must be equal, per scheme.
// ---------------------------------------------------------------------------

fn flip_case(s: &str, mask: u64) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

fn semver_same() -> impl Strategy<Value = (String, String)> {
    (
        num(),
        num(),
        num(),
        select(vec!["", "-alpha.1", "-rc.2", "-0"]),
        select(vec!["+b.1", "+sha.5114f85", "+0"]),
    )
        .prop_map(|(a, b, c, pre, build)| {
            (
                format!("{a}.{b}.{c}{pre}"),
                format!("{a}.{b}.{c}{pre}{build}"),
            )
        })
}

fn npm_same() -> impl Strategy<Value = (String, String)> {
    (semver_same(), select(vec!["", "v", "=", "v="]))
        .prop_map(|((a, b), prefix)| (a, format!("{prefix}{b}")))
}

fn go_same() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        (num(), num()).prop_map(|(a, b)| (format!("v{a}.{b}"), format!("v{a}.{b}.0"))),
        num().prop_map(|a| (format!("v{a}"), format!("v{a}.0.0"))),
        (num(), num(), num())
            .prop_map(|(a, b, c)| (format!("v{a}.{b}.{c}"), format!("v{a}.{b}.{c}+meta"))),
    ]
}

fn pep440_same() -> impl Strategy<Value = (String, String)> {
    (
        nums(1, 3),
        0usize..3,
        select(vec![
            ("a", "alpha"),
            ("b", "beta"),
            ("rc", "c"),
            ("rc", "pre"),
            ("rc", "preview"),
        ]),
        num(),
        select(vec!["", ".", "-", "_"]),
        select(vec![
            ("", ""),
            (".post1", "-1"),
            (".post2", "post2"),
            (".post0", ".post"),
            (".post3", "-post3"),
        ]),
        select(vec![
            ("", ""),
            (".dev1", "-dev1"),
            (".dev0", ".dev"),
            (".dev2", "dev2"),
        ]),
        select(vec![
            ("", ""),
            ("+ubuntu.1", "+ubuntu-1"),
            ("+abc.2", "+ABC_2"),
        ]),
        0u64..u64::MAX,
        prop::bool::ANY,
    )
        .prop_map(
            |(r, zeros, (p1, p2), n, sep, (o1, o2), (d1, d2), (l1, l2), mask, v)| {
                let release = dotted(&r);
                let padded = format!("{release}{}", ".0".repeat(zeros));
                let a = format!("{release}{p1}{n}{o1}{d1}{l1}");
                let b = format!(
                    "{}{padded}{sep}{}{n}{o2}{d2}{l2}",
                    if v { "v" } else { "" },
                    flip_case(p2, mask)
                );
                (a, b)
            },
        )
}

fn maven_same() -> impl Strategy<Value = (String, String)> {
    (
        nums(1, 3),
        0usize..3,
        select(vec![
            ("", ""),
            ("", "-ga"),
            ("", ".final"),
            ("", "-release"),
            ("-alpha-1", "a1"),
            ("-beta-2", "-b2"),
            ("-milestone-3", "m3"),
            ("-rc-1", "-cr1"),
            ("-snapshot", ".SNAPSHOT"),
            ("-x", ".x"),
            ("-sp", "-SP"),
        ]),
        0u64..u64::MAX,
    )
        .prop_map(|(r, zeros, (q1, q2), mask)| {
            let release = dotted(&r);
            (
                format!("{release}{q1}"),
                flip_case(&format!("{release}{}{q2}", ".0".repeat(zeros)), mask),
            )
        })
}

fn nuget_same() -> impl Strategy<Value = (String, String)> {
    (
        nums(3, 3),
        select(vec!["", "-alpha", "-beta.2", "-rc.1.x"]),
        0u64..u64::MAX,
        select(vec!["", "+meta", "+B.1"]),
    )
        .prop_map(|(r, pre, mask, build)| {
            let release = dotted(&r);
            (
                format!("{release}{pre}"),
                format!("{release}.0{}{build}", flip_case(pre, mask)),
            )
        })
}

fn rubygems_same() -> impl Strategy<Value = (String, String)> {
    (nums(1, 3), 1usize..3, select(vec!["", ".pre.1", ".rc2"])).prop_map(|(r, zeros, pre)| {
        let release = dotted(&r);
        (
            format!("{release}{pre}"),
            format!("{release}{}{pre}", ".0".repeat(zeros)),
        )
    })
}

/// `version_compare` turns `-`, `_` and `+` into `.` and puts a `.` between
/// a digit and a letter; special forms match by prefix (`a` is `alpha`, `p`
/// is `pl`); Composer drops a leading `v`. It does not pad (`1.0 < 1.0.0`).
fn composer_same() -> impl Strategy<Value = (String, String)> {
    (
        nums(1, 4),
        select(vec![
            ("RC1", "rc1"),
            ("alpha1", "a1"),
            ("beta2", "b2"),
            ("pl1", "p1"),
            ("dev", "dev"),
            ("alpha", "a"),
        ]),
        select(vec!["-", "", ".", "_", "+"]),
        prop::bool::ANY,
    )
        .prop_map(|(r, (s1, s2), sep, v)| {
            let release = dotted(&r);
            (
                format!("{release}-{s1}"),
                format!("{}{release}{sep}{s2}", if v { "v" } else { "" }),
            )
        })
}

fn dpkg_same() -> impl Strategy<Value = (String, String)> {
    (dpkg_like(), select(vec!["0:", "00:"])).prop_map(|(v, e)| {
        if v.contains(':') {
            (v.clone(), v)
        } else {
            (v.clone(), format!("{e}{v}"))
        }
    })
}

fn rpm_same() -> impl Strategy<Value = (String, String)> {
    rpm_like().prop_map(|v| {
        if v.contains(':') {
            (v.clone(), v)
        } else {
            (v.clone(), format!("0:{v}"))
        }
    })
}

fn cran_same() -> impl Strategy<Value = (String, String)> {
    cran_like().prop_map(|v| (v.clone(), v.replace('-', ".")))
}

// ---------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------

macro_rules! scheme_properties {
    ($( $name:ident: $scheme:expr, $gen:expr, [$($same:tt)*], $chars:expr; )*) => {
        $(
            mod $name {
                use super::*;

                proptest! {
                    #![proptest_config(ProptestConfig::with_cases(192))]

                    #[test]
                    fn realistic_versions_are_totally_ordered(inputs in list_of($gen)) {
                        check_laws($scheme, &inputs, true)?;
                    }

                    #[test]
                    fn arbitrary_strings_that_parse_are_totally_ordered(
                        inputs in prop::collection::vec($chars, 2..14)
                    ) {
                        check_laws($scheme, &inputs, false)?;
                    }
                }

                scheme_properties!(@same $scheme, $($same)*);
            }
        )*
    };
    (@same $scheme:expr,) => {};
    (@same $scheme:expr, $same:expr) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn equal_spellings_are_equal((a, b) in $same) {
                check_same($scheme, &a, &b)?;
            }
        }
    };
}

scheme_properties! {
    semver: Scheme::SemVer, semver_like(), [semver_same()], "v?[0-9]{1,2}(\\.[0-9]{1,2}){0,3}(-[0-9a-z.-]{1,6})?(\\+[0-9a-z.]{1,4})?";
    npm: Scheme::Npm, semver_like(), [npm_same()], "[v=]{0,2}[0-9]{1,2}(\\.[0-9]{1,2}){0,3}(-?[0-9a-z.-]{1,6})?";
    go: Scheme::Go, go_like(), [go_same()], "v[0-9]{1,2}(\\.[0-9]{1,2}){0,2}(-[0-9a-z.-]{1,12})?(\\+incompatible)?";
    pub_semver: Scheme::Pub, semver_like(), [], "[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{1,2}(-[0-9a-z.]{1,6})?(\\+[0-9a-z.]{1,4})?";
    pep440: Scheme::Pep440, pep440_like(), [pep440_same()], "[0-9a-z.!+_-]{1,10}";
    maven: Scheme::Maven, maven_like(), [maven_same()], "[0-9a-z.-]{1,10}";
    nuget: Scheme::NuGet, nuget_like(), [nuget_same()], "[0-9]{1,2}(\\.[0-9]{1,2}){0,3}(-[0-9a-zA-Z.-]{1,6})?(\\+[0-9a-z]{1,3})?";
    rubygems: Scheme::RubyGems, rubygems_like(), [rubygems_same()], "[0-9a-z.-]{1,10}";
    composer: Scheme::Composer, composer_like(), [composer_same()], "v?[0-9a-zA-Z.#_+-]{1,10}";
    dpkg: Scheme::Dpkg, dpkg_like(), [dpkg_same()], "[0-9]{0,2}:?[0-9][0-9a-z.+~-]{0,8}";
    apk: Scheme::Apk, apk_like(), [], "[0-9a-z._-]{1,10}";
    rpm: Scheme::Rpm, rpm_like(), [rpm_same()], "[0-9a-z.~^_:+-]{1,10}";
    hackage: Scheme::Hackage, hackage_like(), [], "[0-9.]{1,10}";
    cran: Scheme::Cran, cran_like(), [cran_same()], "[0-9.-]{1,10}";
    conan: Scheme::Conan, conan_like(), [], "[0-9a-z.+-]{1,10}";
    opam: Scheme::Opam, opam_like(), [], "[0-9a-z.~+-]{1,10}";
    freebsd: Scheme::FreeBsd, freebsd_like(), [], "[0-9a-z._,]{1,10}";
    android: Scheme::Android, android_like(), [], "[0-9L.-]{1,10}";
    linux: Scheme::Linux, linux_like(), [], "[0-9a-z.-]{1,10}";
    root: Scheme::Root, root_like(), [], "[0-9a-z.+-]{1,12}";
    opaque: Scheme::Opaque, opaque_like(), [], "[a-z0-9._-]{1,8}";
}

/// The Maven 3.9 cycles, kept as regression cases of the property.
#[test]
fn maven_former_cycles_sort_without_panic() {
    let inputs: Vec<String> = [
        "1.0.alpha.1",
        "1",
        "1-1",
        "1-alpha",
        "1.sp.1",
        "1-sp",
        "1.0-1",
        "1-ga-1",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    check_laws(Scheme::Maven, &inputs, true).unwrap();
}

/// Token soup over the items that drive Maven's corner cases (zeros,
/// separators, release-equal and known qualifiers, digit-letter
/// transitions): where Maven 3.9's order had cycles.
fn maven_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        select(vec![
            "0", "1", "2", "10", ".", "-", "-", ".", "a", "alpha", "sp", "ga", "final", "rc", "x",
            "snapshot", "b",
        ]),
        1..8,
    )
    .prop_map(|tokens| tokens.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn maven_token_soup_is_totally_ordered(inputs in prop::collection::vec(maven_soup(), 2..16)) {
        check_laws(Scheme::Maven, &inputs, true)?;
    }
}
