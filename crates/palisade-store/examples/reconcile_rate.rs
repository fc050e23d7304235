//! How fast the store writes the findings of one new advisory across a
//! portfolio: the write phase of re-analysis, without HTTP, parsing or
//! matching, so that storage changes can be compared in minutes.
//!
//! ```text
//! cargo run --release -p palisade-store --example reconcile_rate -- \
//!     [--database sqlite:///tmp/r.db | postgres://...] [--artifacts 10000] \
//!     [--components 100] [--findings 11667] [--rounds 5]
//! ```
//!
//! The portfolio (artifacts with `--components` components and 10 findings
//! each) is built once per database and reused. Each round then stores the
//! findings of a new advisory (a GHSA id with a CVE alias) on its first
//! component, and on its second for every third artifact, as
//! `Store::reconcile_artifacts` does after an advisory import, and prints the
//! time it took. `bench/server` measures the whole path; this isolates the
//! writes.

use std::collections::BTreeSet;
use std::time::Instant;

use palisade_store::Store;
use palisade_store::findings::{ArtifactFindings, ComponentRow, NewFinding, Reach, SbomIngest};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn number(args: &[String], name: &str, default: usize) -> Result<usize, String> {
    match arg(args, name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| format!("{name} wants a whole number, not {v:?}")),
    }
}

fn finding(artifact: usize, component: usize, id: &str, alias: &str) -> NewFinding {
    NewFinding {
        component_key: format!("pkg:npm/package-{component}@1.{artifact}.0"),
        component_name: format!("package-{component}"),
        component_version: Some(format!("1.{artifact}.0")),
        purl: Some(format!("pkg:npm/package-{component}@1.{artifact}.0")),
        package_key: Some(format!("npm/package-{component}")),
        advisory_id: id.to_owned(),
        aliases: vec![alias.to_owned()],
        summary: "Prototype pollution in a widely used package".to_owned(),
        severity: "high".to_owned(),
        score: Some(7.5),
        fix_version: Some("4.17.21".to_owned()),
        fixed_versions: vec!["4.17.21".to_owned()],
        sources: vec!["palisade".to_owned()],
        rank: 7500,
        vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N".to_owned()),
    }
}

fn digest(artifact: usize) -> String {
    format!("sha256:{artifact:064x}")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = tempfile::tempdir()?;
    let url = arg(&args, "--database")
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("r.db").display()));
    let artifacts = number(&args, "--artifacts", 10_000)?;
    let components = number(&args, "--components", 100)?.max(10);
    let wanted = number(&args, "--findings", 11_667)?;
    let rounds = number(&args, "--rounds", 5)?;
    let store = Store::open(&url).await?;

    let started = Instant::now();
    let mut built = 0;
    // A portfolio whose last artifact is stored was built by an earlier run.
    let reused = artifacts == 0 || !store.sboms_of(&digest(artifacts - 1)).await?.is_empty();
    for a in (0..artifacts).filter(|_| !reused) {
        let ing = SbomIngest {
            artifact_digest: digest(a),
            artifact_name: format!("registry.example/app-{a}"),
            team_id: None,
            document_digest: format!("sha256:{a:064x}"),
            source_format: "CycloneDX 1.6".to_owned(),
            inventory: "{}".to_owned(),
            components: (0..components)
                .map(|c| ComponentRow {
                    component_key: format!("pkg:npm/package-{c}@1.{a}.0"),
                    bom_ref: format!("ref-{c}"),
                    name: format!("package-{c}"),
                    version: Some(format!("1.{a}.0")),
                    purl: Some(format!("pkg:npm/package-{c}@1.{a}.0")),
                    package_key: Some(format!("npm/package-{c}")),
                    release: None,
                    match_version: Some(format!("1.{a}.0")),
                    license: Some("MIT".to_owned()),
                })
                .collect(),
            findings: (0..10)
                .map(|c| finding(a, c, &format!("GHSA-base-{c}"), &format!("CVE-2020-{c}")))
                .collect(),
            actor: "bench".to_owned(),
        };
        if !store.ingest_sbom(&ing).await?.duplicate {
            built += 1;
        }
    }
    eprintln!(
        "portfolio: {artifacts} artifacts ({built} new) in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Two findings for every third artifact, one for the others, until
    // `wanted` findings are spread over as few artifacts as that allows.
    let touched = (wanted * 3).div_ceil(4).min(artifacts);
    let tag = ulid_like();
    let mut times = Vec::new();
    for round in 0..rounds {
        let id = format!("GHSA-{tag}-{round}");
        let alias = format!("CVE-2026-{tag}{round}");
        let mut left = wanted;
        let parts: Vec<ArtifactFindings> = (0..touched)
            .map(|a| {
                let n = if a % 3 == 0 && left > touched - a {
                    2
                } else {
                    1
                }
                .min(left);
                left -= n;
                let findings: Vec<NewFinding> =
                    (0..n).map(|c| finding(a, c, &id, &alias)).collect();
                ArtifactFindings {
                    artifact: digest(a),
                    component_keys: findings.iter().map(|f| f.component_key.clone()).collect(),
                    findings,
                }
            })
            .collect();
        let count: usize = parts.iter().map(|p| p.findings.len()).sum();
        let closure: BTreeSet<String> = [id.clone(), alias.clone()].into();
        let t = Instant::now();
        let changes = store
            .reconcile_artifacts(
                &parts,
                Reach::Ids(&closure),
                "palisade",
                "advisory changed",
                None,
            )
            .await?;
        let took = t.elapsed().as_secs_f64();
        times.push(took);
        println!(
            "round {round}: {count} findings in {} artifacts, {} new, {:.3} s",
            parts.len(),
            changes.new.len(),
            took
        );
    }
    times.sort_by(f64::total_cmp);
    if let Some(median) = times.get(times.len() / 2) {
        println!(
            "median {median:.3} s, min {:.3} s, max {:.3} s over {rounds} rounds",
            times[0],
            times[times.len() - 1]
        );
    }
    store.close().await;
    Ok(())
}

/// A tag unique to this run, so that rounds of later runs on the same
/// database store new findings too.
fn ulid_like() -> String {
    let id = palisade_store::new_id();
    id[id.len() - 6..].to_uppercase()
}
