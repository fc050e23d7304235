//! Matcher semantics on records written for these tests: alias collapse,
//! withdrawn records, releases, fixes and the smallest upgrade, the reverse
//! index, and order independence.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palisade_advisory::osv::parse_record;
use palisade_advisory::report::{ScanReport, StoreInfo, Target, Tool};
use palisade_advisory::{Advisory, Matcher, Rating};
use palisade_inventory::{Component, Inventory};
use proptest::prelude::*;

fn adv(json: &str) -> Advisory {
    parse_record(json.as_bytes()).unwrap().advisory
}

fn component(purl: &str) -> Component {
    Component {
        bom_ref: purl.to_owned(),
        name: purl.to_owned(),
        purl: Some(purl.to_owned()),
        ..Default::default()
    }
}

fn inventory(purls: &[&str]) -> Inventory {
    Inventory {
        components: purls.iter().map(|p| component(p)).collect(),
        ..Default::default()
    }
}

/// GHSA and PYSEC records for one package, aliases of each other through a
/// shared CVE; a second, unrelated advisory; a withdrawn one.
fn records() -> Vec<Advisory> {
    vec![
        adv(
            r#"{"id":"GHSA-aaaa-bbbb-cccc","modified":"2024-01-01T00:00:00Z",
            "aliases":["CVE-2024-0001"],"summary":"Path traversal",
            "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
            "affected":[{"package":{"ecosystem":"PyPI","name":"Demo_Pkg"},
              "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.4.2"}]}]}]}"#,
        ),
        adv(r#"{"id":"PYSEC-2024-1","modified":"2024-01-01T00:00:00Z",
            "aliases":["CVE-2024-0001"],"details":"same",
            "affected":[{"package":{"ecosystem":"PyPI","name":"demo-pkg"},
              "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"1.0"},{"fixed":"1.4.1"}]}]}]}"#),
        adv(
            r#"{"id":"GHSA-dddd-eeee-ffff","modified":"2024-01-01T00:00:00Z",
            "aliases":["CVE-2024-0002"],"summary":"Denial of service",
            "database_specific":{"severity":"MODERATE"},
            "affected":[{"package":{"ecosystem":"PyPI","name":"demo.pkg"},
              "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"1.2"},{"fixed":"1.5.0"}]}]}]}"#,
        ),
        adv(
            r#"{"id":"GHSA-wwww-wwww-wwww","modified":"2024-01-01T00:00:00Z",
            "withdrawn":"2024-02-01T00:00:00Z",
            "affected":[{"package":{"ecosystem":"PyPI","name":"demo-pkg"},
              "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}"#,
        ),
        adv(r#"{"id":"GHSA-later","modified":"2024-01-01T00:00:00Z",
            "affected":[{"package":{"ecosystem":"PyPI","name":"demo-pkg"},
              "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"1.5.0"},{"fixed":"1.6.0"}]}]}]}"#),
    ]
}

#[test]
fn aliases_collapse_and_withdrawn_never_match() {
    let m = Matcher::new(records());
    let r = m.match_inventory(&inventory(&["pkg:pypi/demo-pkg@1.3"]));
    assert_eq!(r.findings.len(), 2, "{:#?}", r.findings);
    let first = &r.findings[0];
    assert_eq!(first.id, "GHSA-aaaa-bbbb-cccc");
    assert_eq!(first.ids, vec!["GHSA-aaaa-bbbb-cccc", "PYSEC-2024-1"]);
    assert_eq!(first.aliases, vec!["CVE-2024-0001", "PYSEC-2024-1"]);
    assert_eq!(first.summary.as_deref(), Some("Path traversal"));
    assert_eq!(first.severity.as_ref().unwrap().rating, Rating::High);
    assert_eq!(first.severity.as_ref().unwrap().score, Some(7.5));
    assert_eq!(first.fixed_versions, vec!["1.4.1", "1.4.2"]);
    // 1.4.1 still lies in the GHSA range: the finding's fix is 1.4.2.
    assert_eq!(first.fix.as_deref(), Some("1.4.2"));
    assert_eq!(first.matches.len(), 2);
    assert_eq!(first.matches[0].path, "affected[0].ranges[0]");
    let second = &r.findings[1];
    assert_eq!(second.id, "GHSA-dddd-eeee-ffff");
    assert_eq!(second.severity.as_ref().unwrap().rating, Rating::Medium);
    assert!(
        r.findings
            .iter()
            .all(|f| !f.ids.iter().any(|i| i.contains("wwww")))
    );
    // The upgrade fixing both is 1.5.0, but GHSA-later affects it, and no
    // listed fix clears everything but 1.6.0.
    assert_eq!(r.upgrades.len(), 1);
    assert_eq!(r.upgrades[0].to.as_deref(), Some("1.6.0"));
    assert!(r.upgrades[0].still_affected_by.is_empty());
}

#[test]
fn unaffected_versions_and_unknown_packages_give_nothing() {
    let m = Matcher::new(records());
    let r = m.match_inventory(&inventory(&[
        "pkg:pypi/demo-pkg@1.6.0",
        "pkg:pypi/other@1.0",
        "pkg:generic/thing@1",
        "pkg:npm/left-pad@not%20a%20version",
    ]));
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert_eq!(r.evaluated, 2);
    assert_eq!(r.not_evaluated.len(), 2);
    let reasons: Vec<&str> = r.not_evaluated.iter().map(|n| n.reason.as_str()).collect();
    assert!(reasons.iter().any(|x| x.contains("generic")), "{reasons:?}");
    assert!(
        reasons.iter().any(|x| x.contains("invalid npm version")),
        "{reasons:?}"
    );
}

#[test]
fn reverse_index_names_package_keys() {
    let m = Matcher::new(records());
    let keys: Vec<String> = m
        .package_keys("GHSA-aaaa-bbbb-cccc")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(keys, vec!["PyPI/demo-pkg"]);
    assert!(m.package_keys("GHSA-wwww-wwww-wwww").is_empty());
}

#[test]
fn explicit_versions_and_npm_scopes() {
    let m = Matcher::new([adv(r#"{"id":"X-1","modified":"2024-01-01T00:00:00Z",
        "affected":[{"package":{"ecosystem":"npm","name":"@Scope/Pkg"},"versions":["2.0.0"]}]}"#)]);
    let r = m.match_inventory(&inventory(&[
        "pkg:npm/%40scope/pkg@2.0.0",
        "pkg:npm/%40scope/pkg@2.0.1",
    ]));
    assert_eq!(r.findings.len(), 1);
    assert_eq!(r.findings[0].matches[0].kind, "versions");
    assert_eq!(r.findings[0].matches[0].version.as_deref(), Some("2.0.0"));
    assert_eq!(r.findings[0].fix, None);
    assert_eq!(r.upgrades[0].to, None);
}

#[test]
fn fail_on_thresholds_and_sarif() {
    let m = Matcher::new(records());
    let matched = m.match_inventory(&inventory(&["pkg:pypi/demo-pkg@1.3"]));
    let report = ScanReport::new(
        Tool {
            name: "palisade".into(),
            version: "0.1.0".into(),
        },
        Target {
            path: "sboms/my app.json".into(),
            format: None,
        },
        StoreInfo::default(),
        matched,
    );
    assert!(report.has_findings_at_or_above(Rating::High));
    assert!(!report.has_findings_at_or_above(Rating::Critical));
    assert_eq!(report.summary.by_severity["high"], 1);
    assert_eq!(report.summary.by_severity["medium"], 1);
    let sarif = report.to_sarif();
    insta::assert_json_snapshot!("sarif_demo", sarif);
    insta::assert_json_snapshot!("scan_json_demo", report);
}

proptest! {
    /// The order records are indexed in and the order components come in
    /// change nothing in the report.
    #[test]
    fn order_does_not_matter(
        recs in Just(records()).prop_shuffle(),
        comps in Just(vec!["pkg:pypi/demo-pkg@1.3", "pkg:pypi/demo-pkg@1.0", "pkg:pypi/demo-pkg@1.5.0"]).prop_shuffle(),
    ) {
        let reference = Matcher::new(records()).match_inventory(&inventory(&["pkg:pypi/demo-pkg@1.0", "pkg:pypi/demo-pkg@1.3", "pkg:pypi/demo-pkg@1.5.0"]));
        let got = Matcher::new(recs).match_inventory(&inventory(&comps));
        prop_assert_eq!(got, reference);
    }
}

/// Debian records name source packages and are scoped by release.
#[test]
fn debian_source_packages_and_releases() {
    let m = Matcher::new([
        adv(r#"{"id":"DSA-12","modified":"2024-01-01T00:00:00Z",
            "affected":[{"package":{"ecosystem":"Debian:12","name":"openssl"},
              "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.0.13-1~deb12u1"}]}]}]}"#),
        adv(r#"{"id":"DSA-11","modified":"2024-01-01T00:00:00Z",
            "affected":[{"package":{"ecosystem":"Debian:11","name":"openssl"},
              "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.1.1w-0+deb11u1"}]}]}]}"#),
    ]);
    let ids = |inv: &Inventory| -> Vec<String> {
        m.match_inventory(inv)
            .findings
            .iter()
            .map(|f| f.id.clone())
            .collect()
    };
    // Release from the purl, source package from `upstream`.
    let inv = inventory(&[
        "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&upstream=openssl&distro=debian-12",
    ]);
    assert_eq!(ids(&inv), vec!["DSA-12"]);
    let r = m.match_inventory(&inv);
    assert_eq!(
        r.findings[0].component.ecosystem.as_deref(),
        Some("Debian:12")
    );
    assert_eq!(r.findings[0].component.package.as_deref(), Some("openssl"));
    assert_eq!(r.findings[0].fix.as_deref(), Some("3.0.13-1~deb12u1"));
    // Release from the inventory's os-release, source from the component.
    let mut inv = inventory(&["pkg:deb/debian/libssl3@3.0.11-1~deb12u2"]);
    inv.metadata.distro = Some(palisade_inventory::Distro {
        id: "debian".into(),
        version_id: Some("12".into()),
        codename: None,
    });
    inv.components[0].source_package = Some(palisade_inventory::SourcePackage {
        name: "openssl".into(),
        version: None,
    });
    assert_eq!(ids(&inv), vec!["DSA-12"]);
    // A fixed version does not match; an unknown release matches every release.
    let inv = inventory(&["pkg:deb/debian/openssl@3.0.13-1~deb12u1?distro=bookworm"]);
    assert!(ids(&inv).is_empty());
    let inv = inventory(&["pkg:deb/debian/openssl@1.1.1n-0+deb11u5"]);
    assert_eq!(ids(&inv), vec!["DSA-11", "DSA-12"]);
}
