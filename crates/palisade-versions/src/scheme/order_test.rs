//! Test helper that checks, on pseudo-random inputs, that a scheme's `Ord`
//! is a total order that agrees with `Eq` and `Hash`.
//!
//! The fixtures check answers; this checks the laws a sort or a hash map
//! relies on, on inputs nobody thought to write down. Several schemes here
//! deliberately depart from their reference tool where the tool's
//! comparison is not transitive (apk, Composer, Conan), so the laws need
//! their own test. The generator is a fixed linear congruential sequence, so
//! a failure reproduces exactly.

use std::cmp::Ordering;
use std::collections::hash_map::DefaultHasher;
use std::fmt::Debug;
use std::hash::{Hash, Hasher};

fn hash_of<T: Hash>(value: &T) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Builds `count` strings of 1 to `max_len` bytes drawn from `alphabet`
/// (ASCII only), plus the `seeds`, parses those the scheme accepts, and
/// checks reflexivity, antisymmetry, transitivity and that equal values hash
/// alike. Returns how many inputs parsed, so that callers can assert the
/// generator is not producing only rejected strings.
pub(crate) fn check_total_order<T, F>(
    alphabet: &[u8],
    max_len: usize,
    count: usize,
    seeds: &[&str],
    parse: F,
) -> usize
where
    T: Ord + Hash + Debug,
    F: Fn(&str) -> Result<T, String>,
{
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(state >> 33).unwrap_or(0)
    };
    let mut inputs: Vec<String> = seeds.iter().map(|s| (*s).to_owned()).collect();
    for _ in 0..count {
        let len = 1 + next() % max_len.max(1);
        let s: Vec<u8> = (0..len)
            .map(|_| {
                alphabet
                    .get(next() % alphabet.len().max(1))
                    .copied()
                    .unwrap_or(b'0')
            })
            .collect();
        inputs.push(String::from_utf8_lossy(&s).into_owned());
    }
    let values: Vec<(String, T)> = inputs
        .into_iter()
        .filter_map(|s| parse(&s).ok().map(|v| (s, v)))
        .collect();
    for (sa, a) in &values {
        assert_eq!(a.cmp(a), Ordering::Equal, "{sa} is not equal to itself");
        for (sb, b) in &values {
            let ab = a.cmp(b);
            assert_eq!(ab, b.cmp(a).reverse(), "{sa} vs {sb} is not antisymmetric");
            assert_eq!(
                a == b,
                ab == Ordering::Equal,
                "{sa} == {sb} disagrees with Ord"
            );
            if ab == Ordering::Equal {
                assert_eq!(
                    hash_of(a),
                    hash_of(b),
                    "{sa} and {sb} are equal but hash apart"
                );
            }
            if ab == Ordering::Greater {
                continue;
            }
            for (sc, c) in &values {
                if b.cmp(c) != Ordering::Greater {
                    assert_ne!(
                        a.cmp(c),
                        Ordering::Greater,
                        "not transitive: {sa} <= {sb} <= {sc} but {sa} > {sc}"
                    );
                }
            }
        }
    }
    values.len()
}

/// Asserts that every version in the real OSV records under `dir` of the
/// corpus parses with `parse` (skipping visibly when the corpus is absent),
/// and returns how many there were.
pub(crate) fn assert_real_versions_parse<T, F>(dir: &str, label: &str, parse: F) -> usize
where
    F: Fn(&str) -> Result<T, String>,
{
    let Some(versions) = super::fixture_test::osv_versions(dir) else {
        return 0;
    };
    let rejected: Vec<String> = versions
        .iter()
        .filter_map(|(v, file)| parse(v).err().map(|e| format!("{v:?} in {file}: {e}")))
        .collect();
    eprintln!(
        "{label}: {} versions, {} rejected",
        versions.len(),
        rejected.len()
    );
    assert!(rejected.is_empty(), "{}", rejected.join("\n"));
    versions.len()
}

/// Every version in the OSV records under `dir` of the corpus whose
/// ecosystem (before any `:` suffix) is `ecosystem`, from `affected[].ranges`
/// events (except `introduced: "0"` and GIT ranges) and `versions` lists.
/// `None` when the corpus is absent (reported on stderr).
pub(crate) fn osv_versions_of(dir: &str, ecosystem: &str) -> Option<Vec<(String, String)>> {
    let root = super::fixture_test::corpus_dir().join(dir);
    let Ok(entries) = std::fs::read_dir(&root) else {
        eprintln!("SKIPPED: corpus not found at {}", root.display());
        return None;
    };
    let mut out = Vec::new();
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(record) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let name = path.display().to_string();
        for a in record["affected"].as_array().into_iter().flatten() {
            let eco = a["package"]["ecosystem"].as_str().unwrap_or_default();
            if eco.split(':').next() != Some(ecosystem) {
                continue;
            }
            for range in a["ranges"].as_array().into_iter().flatten() {
                if range["type"] == "GIT" {
                    continue;
                }
                for event in range["events"].as_array().into_iter().flatten() {
                    for key in ["introduced", "fixed", "last_affected"] {
                        if let Some(v) = event[key].as_str()
                            && v != "0"
                        {
                            out.push((v.to_owned(), name.clone()));
                        }
                    }
                }
            }
            for v in a["versions"].as_array().into_iter().flatten() {
                if let Some(v) = v.as_str() {
                    out.push((v.to_owned(), name.clone()));
                }
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::check_total_order;

    const N: usize = 110;

    #[test]
    fn dpkg_is_a_total_order() {
        let n = check_total_order(b"0019.~+-:a", 7, N, &["1.0", "1:0", "1.0-0"], dpkg::parse);
        assert!(n > N / 4, "only {n} inputs parsed");
    }

    #[test]
    fn rpm_is_a_total_order() {
        let n = check_total_order(b"0019.~^-:a_", 7, N, &["1.0", "1.0^", "1.0~"], rpm::parse);
        assert!(n > N / 4, "only {n} inputs parsed");
    }

    #[test]
    fn apk_is_a_total_order() {
        let n = check_total_order(
            b"0109._-rpa~",
            8,
            N,
            &[
                "1.0_p1", "1.0-r1", ".1", ".2", "1-ruff2", "1--ruff1", "1.00", "1",
            ],
            apk::parse,
        );
        assert!(n > N / 2, "only {n} inputs parsed");
    }

    #[test]
    fn rubygems_is_a_total_order() {
        let n = check_total_order(
            b"0019.-ab",
            7,
            N,
            &["1.0", "1", "1.a", "1-a"],
            rubygems::parse,
        );
        assert!(n > N / 8, "only {n} inputs parsed");
    }

    #[test]
    fn composer_is_a_total_order() {
        let n = check_total_order(
            b"019.-_+#vpabRCdev",
            7,
            N,
            &["1.0-", "1.0", "1.0.", "1.2.3.#", "1.2.3.1"],
            composer::parse,
        );
        assert!(n > N / 2, "only {n} inputs parsed");
    }

    #[test]
    fn conan_is_a_total_order() {
        let n = check_total_order(
            b"0190.-+aw",
            7,
            N,
            &["9", "10", "1w", "01w", "1.0"],
            conan::parse,
        );
        assert!(n > N / 2, "only {n} inputs parsed");
    }

    #[test]
    fn freebsd_is_a_total_order() {
        let n = check_total_order(
            b"0109.+*_,ap",
            7,
            N,
            &["1.0", "1.0_1", "1.0,1", "2.*"],
            freebsd::parse,
        );
        assert!(n > N / 8, "only {n} inputs parsed");
    }

    #[test]
    fn small_schemes_are_total_orders() {
        assert!(check_total_order(b"0109.", 6, N, &["1", "1.0"], hackage::parse) > 0);
        assert!(check_total_order(b"0109.-", 6, N, &["1.0", "1-0"], cran::parse) > 0);
        assert!(check_total_order(b"019.~-+a", 6, N, &["1.0"], opam::parse) > 0);
        assert!(check_total_order(b"019.-rc", 6, N, &["6.8-rc1"], linux::parse) > 0);
        assert!(check_total_order(b"0129.-L", 7, N, &["12L", "2023-03-01"], android::parse) > 0);
        assert!(
            check_total_order(
                b"019.-r+otl",
                9,
                N,
                &["1.0-r1", "1.0+root.io.1"],
                root::parse
            ) > 0
        );
        assert!(check_total_order(b"01a.", 4, N, &["a"], opaque::parse) > 0);
    }

    #[test]
    fn real_osv_versions_parse() {
        use super::assert_real_versions_parse as check;
        // AlmaLinux 9 errata: RPM EVRs.
        check("extra/osv/almalinux", "AlmaLinux", rpm::parse);
        // Haskell security advisories: Hackage and GHC versions.
        check("extra/osv/hackage", "Hackage", hackage::parse);
        // R Consortium advisories: CRAN versions.
        check("extra/osv/cran", "CRAN", cran::parse);
        // Drupal advisories on a Packagist repository.
        check(
            "extra/osv/packagist-drupal",
            "Packagist (Drupal)",
            composer::parse,
        );
        // OSS-Fuzz `versions` lists (tags); GIT ranges are skipped.
        check("extra/osv/oss-fuzz", "OSS-Fuzz", opaque::parse);
    }

    #[test]
    fn real_osv_versions_of_mixed_samples_parse() {
        let mut total = 0;
        for (dir, ecosystem, scheme) in [
            (
                "extra/osv/grype-osv-transformer-samples",
                "Chainguard",
                "apk",
            ),
            ("extra/osv/grype-osv-transformer-samples", "Wolfi", "apk"),
            (
                "extra/osv/grype-osv-transformer-samples",
                "AlmaLinux",
                "rpm",
            ),
            ("extra/osv/grype-osv-transformer-samples", "Root", "root"),
            (
                "extra/osv/osv-scanner-offline-db-samples/Alpine",
                "Alpine",
                "apk",
            ),
            (
                "extra/osv/osv-scanner-offline-db-samples/Debian",
                "Debian",
                "dpkg",
            ),
        ] {
            let Some(versions) = super::osv_versions_of(dir, ecosystem) else {
                return;
            };
            let parse = |v: &str| -> Result<(), String> {
                match scheme {
                    "apk" => apk::parse(v).map(drop),
                    "rpm" => rpm::parse(v).map(drop),
                    "dpkg" => dpkg::parse(v).map(drop),
                    _ => root::parse(v).map(drop),
                }
            };
            let rejected: Vec<String> = versions
                .iter()
                .filter_map(|(v, file)| parse(v).err().map(|e| format!("{v:?} in {file}: {e}")))
                .collect();
            eprintln!(
                "{ecosystem} in {dir}: {} versions, {} rejected",
                versions.len(),
                rejected.len()
            );
            assert!(rejected.is_empty(), "{}", rejected.join("\n"));
            total += versions.len();
        }
        assert!(total > 0, "no versions found in the mixed samples");
    }
}
