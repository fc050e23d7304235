//! Real SLSA provenance from slsa-github-generator (slsa-verifier's test data):
//! v0.2 and v1 statements are read, and the expectations slsa-verifier's
//! regression tests use (builder, source repository, tag) pass, while a wrong
//! builder, repository or branch fails. The signatures of these files are
//! Fulcio-certificate DSSE envelopes outside a bundle; only the content is
//! checked here.

mod common;

use palisade_attest::CheckStatus;
use palisade_attest::dsse::Envelope;
use palisade_attest::provenance::{ProvenanceExpectations, ProvenanceFacts, check_expectations};
use palisade_attest::statement::Statement;

fn statement_of(path: &std::path::Path) -> Option<Statement> {
    let text = common::read(path);
    let line = text.split(|b| *b == b'\n').next()?;
    let value: serde_json::Value = serde_json::from_slice(line).ok()?;
    let env_value = value.get("dsseEnvelope").cloned().unwrap_or(value);
    let env: Envelope = serde_json::from_value(env_value).ok()?;
    Statement::from_json(&env.decoded_payload().ok()?).ok()
}

#[test]
fn slsa_github_generator_provenance_meets_its_expectations() {
    let Some(dir) = common::corpus("extra/attestation/slsa-verifier-testdata") else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(dir.join("gha_generic"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("binary-linux-amd64-push-v14.intoto.jsonl"))
        .chain(
            std::fs::read_dir(dir.join("gha_container-based"))
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| {
                    e.path()
                        .join("binary-linux-amd64-push-v14.intoto.build.slsa")
                }),
        )
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() >= 5,
        "expected provenance files, found {files:?}"
    );
    let mut versions = std::collections::BTreeSet::new();
    for f in &files {
        let st = statement_of(f);
        assert!(st.is_some(), "{}: not a provenance statement", f.display());
        let Some(st) = st else { continue };
        let facts = ProvenanceFacts::from_statement(&st);
        assert!(facts.is_ok(), "{}: {facts:?}", f.display());
        let Ok(facts) = facts else { continue };
        versions.insert(facts.version.clone());
        let builder = if f.to_string_lossy().contains("container-based") {
            "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_container-based_slsa3.yml"
        } else {
            "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml"
        };
        let good = ProvenanceExpectations {
            builder_id: Some(builder.into()),
            source_uri: Some("github.com/slsa-framework/example-package".into()),
            branch: None,
            tag: Some("v14".into()),
        };
        let checks = check_expectations(&facts, &good);
        assert!(
            checks.iter().all(|c| c.status == CheckStatus::Passed),
            "{}: {checks:#?} {facts:?}",
            f.display()
        );
        let bad = ProvenanceExpectations {
            builder_id: Some("https://github.com/evil/generator.yml".into()),
            source_uri: Some("github.com/slsa-framework/other".into()),
            branch: Some("main".into()),
            tag: None,
        };
        let checks = check_expectations(&facts, &bad);
        assert!(
            checks.iter().all(|c| c.status == CheckStatus::Failed),
            "{}: {checks:#?}",
            f.display()
        );
    }
    assert!(
        versions.contains("v0.2") && versions.contains("v1"),
        "{versions:?}"
    );
}
