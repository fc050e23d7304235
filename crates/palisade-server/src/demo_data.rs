//! The demo's evidence, written by us: advisories for well-known
//! vulnerabilities (our own wording; ids `PALISADE-DEMO-*` with the real
//! CVE as alias), an SBOM per demo image, signed SLSA provenance for some of
//! them, a triaged finding, a pending exception and a first round of policy
//! decisions. It goes through the same paths as uploads (matching, the
//! store, verification), and history is spread over the past weeks so the
//! trend chart has a shape.

use palisade_attest::PrivateKey;
use palisade_attest::attestation::{AttestationPolicy, sign_statement, verify_envelope};
use palisade_attest::keys::GenerateAlgorithm;
use palisade_attest::provenance::{BuildRecord, SourceInfo};
use palisade_attest::statement::ResourceDescriptor;
use palisade_store::governance::{AttestationRow, ExceptionRequest};
use palisade_store::model::Scope;
use palisade_store::{Store, StoreError, now_ms};
use serde_json::{Value, json};

use crate::analysis;

/// (id, CVE, summary, ecosystem, package, introduced, fixed, CVSS vector)
type DemoAdvisory = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const ADVISORIES: &[DemoAdvisory] = &[
    (
        "PALISADE-DEMO-0001",
        "CVE-2021-44228",
        "Log4Shell: JNDI lookups in logged messages let an attacker run code",
        "Maven",
        "org.apache.logging.log4j:log4j-core",
        "2.0-beta9",
        "2.15.0",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
    ),
    (
        "PALISADE-DEMO-0002",
        "CVE-2022-42889",
        "Text4Shell: string interpolation in commons-text can run code",
        "Maven",
        "org.apache.commons:commons-text",
        "1.5",
        "1.10.0",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    ),
    (
        "PALISADE-DEMO-0003",
        "CVE-2021-23337",
        "Command injection through lodash's template function",
        "npm",
        "lodash",
        "0",
        "4.17.21",
        "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H",
    ),
    (
        "PALISADE-DEMO-0004",
        "CVE-2023-32681",
        "requests leaks Proxy-Authorization headers to destination servers on redirect",
        "PyPI",
        "requests",
        "2.3.0",
        "2.31.0",
        "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N",
    ),
    (
        "PALISADE-DEMO-0005",
        "CVE-2023-39325",
        "HTTP/2 rapid reset: a client can exhaust a server's resources",
        "Go",
        "golang.org/x/net",
        "0",
        "0.17.0",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
    ),
    (
        "PALISADE-DEMO-0006",
        "CVE-2022-25883",
        "Regular expression denial of service in semver's range parsing",
        "npm",
        "semver",
        "6.0.0",
        "6.3.1",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
    ),
];

/// (digest, image, components as purls)
const IMAGES: &[(&str, &str, &[&str])] = &[
    (
        "sha256:1b6f0c1a9f6a7c1d6d7b9f1d0c7e1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b",
        "registry.example/payments/checkout:1.4.2",
        &[
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            "pkg:maven/org.apache.commons/commons-text@1.9",
            "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.15.2",
            "pkg:maven/org.slf4j/slf4j-api@1.7.36",
        ],
    ),
    (
        "sha256:2c7f1d2b0a7b8d2e7e8c0a2e1d8f2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c",
        "registry.example/payments/checkout-worker:1.4.2",
        &[
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1",
            "pkg:maven/org.apache.commons/commons-text@1.9",
            "pkg:maven/org.slf4j/slf4j-api@1.7.36",
        ],
    ),
    (
        "sha256:3d8a2e3c1b8c9e3f8f9d1b3f2e9a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d",
        "registry.example/payments/ledger:2.0.0",
        &[
            "pkg:golang/golang.org/x/net@v0.10.0",
            "pkg:golang/github.com/lib/pq@v1.10.9",
            "pkg:golang/golang.org/x/text@v0.14.0",
        ],
    ),
    (
        "sha256:4e9b3f4d2c9daf4a9a0e2c4a3f0b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e",
        "registry.example/search/indexer:0.9.1",
        &[
            "pkg:pypi/requests@2.28.1",
            "pkg:pypi/urllib3@1.26.18",
            "pkg:pypi/flask@2.3.3",
        ],
    ),
    (
        "sha256:5fa04a5e3d0eb05b0b1f3d5b4a1c5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f",
        "registry.example/search/web:3.2.0",
        &[
            "pkg:npm/lodash@4.17.20",
            "pkg:npm/semver@6.3.0",
            "pkg:npm/express@4.18.2",
            "pkg:npm/react@18.2.0",
        ],
    ),
];

fn advisory(a: &DemoAdvisory) -> Value {
    let (id, cve, summary, eco, name, introduced, fixed, vector) = *a;
    json!({
        "schema_version": "1.6.0",
        "id": id,
        "modified": "2026-11-01T00:00:00Z",
        "published": "2026-09-15T00:00:00Z",
        "aliases": [cve],
        "summary": summary,
        "details": format!("{summary}. Written for Palisade's demo; see {cve} for the authoritative record."),
        "severity": [{"type": "CVSS_V3", "score": vector}],
        "affected": [{
            "package": {"ecosystem": eco, "name": name},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": introduced}, {"fixed": fixed}]}]
        }],
        "references": [{"type": "ADVISORY", "url": format!("https://www.cve.org/CVERecord?id={cve}")}]
    })
}

fn sbom(image: &str, digest: &str, purls: &[&str]) -> Value {
    let components: Vec<Value> = purls
        .iter()
        .map(|p| {
            let (path, version) = p.rsplit_once('@').unwrap_or((p, ""));
            let name = path.rsplit('/').next().unwrap_or(path);
            json!({"type": "library", "bom-ref": p, "name": name, "version": version, "purl": p})
        })
        .collect();
    let (name, version) = image.rsplit_once(':').unwrap_or((image, ""));
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {
            "timestamp": "2026-11-01T00:00:00Z",
            "tools": {"components": [{"type": "application", "name": "palisade", "version": env!("CARGO_PKG_VERSION")}]},
            "component": {"type": "container", "bom-ref": "image", "name": name, "version": version,
                "hashes": [{"alg": "SHA-256", "content": digest.trim_start_matches("sha256:")}]}
        },
        "components": components
    })
}

/// Seeds the evidence (idempotent: advisories upsert by `modified`, SBOMs by
/// document digest).
pub async fn seed_evidence(store: &Store) -> Result<(), StoreError> {
    let rows: Vec<_> = ADVISORIES
        .iter()
        .filter_map(|a| analysis::row_of_value(&advisory(a)).ok())
        .collect();
    store.upsert_advisories(&rows).await?;
    let mut fresh = false;
    for (digest, image, purls) in IMAGES {
        let doc = sbom(image, digest, purls).to_string();
        let Ok(inventory) = palisade_sbom::read(doc.as_bytes(), "demo") else {
            continue;
        };
        let (components, findings) = analysis::analyse(store, &inventory).await?;
        let out = store
            .ingest_sbom(&palisade_store::findings::SbomIngest {
                artifact_digest: (*digest).to_owned(),
                artifact_name: (*image).to_owned(),
                team_id: None,
                document_digest: analysis::sha256_digest(doc.as_bytes()),
                source_format: inventory.metadata.source_format.clone().unwrap_or_default(),
                inventory: serde_json::to_string(&inventory).unwrap_or_default(),
                components,
                findings,
                actor: "demo".to_owned(),
            })
            .await?;
        if !out.duplicate {
            crate::prioritise::prioritise_artifact(
                store,
                &palisade_risk::priority::Policy::default(),
                digest,
            )
            .await?;
        }
        fresh |= !out.duplicate;
    }
    if !fresh {
        return Ok(());
    }
    attest(store).await?;
    // Spread first sightings over the past eight weeks, and let some older
    // findings have been fixed, so the trend has a shape.
    let now = now_ms();
    let day = 86_400_000i64;
    let page = store
        .list_findings(
            &Scope::All,
            &palisade_store::findings::FindingFilter {
                states: vec!["all".to_owned()],
                ..Default::default()
            },
            None,
            500,
        )
        .await?;
    for (i, f) in page.items.iter().enumerate() {
        let age = i64::try_from(i % 8).unwrap_or(0) * 7 + 3;
        store.backdate_finding(&f.id, now - age * day).await?;
    }
    if let Some(f) = page
        .items
        .iter()
        .find(|f| f.advisory_id == "PALISADE-DEMO-0006")
    {
        store
            .triage(
                &Scope::All,
                &f.id,
                "not_affected",
                Some("vulnerable_code_not_in_execute_path"),
                Some("semver is only used at build time to compare plugin versions"),
                "user:bob",
            )
            .await?;
    }
    let expires = now + 14 * day;
    let team = store.ensure_team("payments").await?;
    store
        .request_exception(
            &ExceptionRequest {
                team_id: Some(team.id),
                workload: Some("payments/worker".to_owned()),
                artifact: None,
                vulnerability: Some("CVE-2022-42889".to_owned()),
                policy: None,
                reason: "commons-text 1.10.0 upgrade is in review; interpolation is not used"
                    .to_owned(),
                expires_at: expires,
            },
            "user:alice",
        )
        .await?;
    Ok(())
}

/// Signed SLSA provenance for the checkout images, verified and stored the
/// way an upload is (with a key generated for the demo).
async fn attest(store: &Store) -> Result<(), StoreError> {
    let Ok(key) = PrivateKey::generate(GenerateAlgorithm::EcdsaP256) else {
        return Ok(());
    };
    for (digest, image, _) in IMAGES.iter().take(2) {
        let product = ResourceDescriptor {
            name: (*image).to_owned(),
            digest: [(
                "sha256".to_owned(),
                digest.trim_start_matches("sha256:").to_owned(),
            )]
            .into(),
            ..ResourceDescriptor::default()
        };
        let record = BuildRecord {
            builder_id: "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.0.0".to_owned(),
            build_type: "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1".to_owned(),
            external_parameters: serde_json::Map::new(),
            source: Some(SourceInfo {
                repository: "https://github.com/example/checkout".to_owned(),
                revision: "9f2c1e0b7a4d3c2b1a0f9e8d7c6b5a4938271605".to_owned(),
                git_ref: Some("refs/tags/v1.4.2".to_owned()),
            }),
            materials: Vec::new(),
            products: vec![product],
            invocation_id: Some("demo-1".to_owned()),
            started_on: Some("2026-11-01T09:00:00Z".to_owned()),
            finished_on: Some("2026-11-01T09:04:10Z".to_owned()),
        };
        let Ok(statement) = record.to_statement() else {
            continue;
        };
        let Ok(envelope) = sign_statement(&statement, &[&key]) else {
            continue;
        };
        let Ok(v) = verify_envelope(
            &envelope,
            std::slice::from_ref(key.public()),
            &AttestationPolicy {
                threshold: 1,
                ..AttestationPolicy::default()
            },
        ) else {
            continue;
        };
        let bytes = serde_json::to_vec(&envelope).unwrap_or_default();
        store
            .record_attestation(
                &AttestationRow {
                    id: String::new(),
                    artifact_digest: (*digest).to_owned(),
                    envelope_digest: analysis::sha256_digest(&bytes),
                    predicate_type: v.predicate_type.clone().unwrap_or_default(),
                    verified: v.verified,
                    signer: Some("demo-build-key".to_owned()),
                    verdict: serde_json::to_value(&v).unwrap_or(Value::Null),
                    statement: v.statement.clone(),
                    created_at: now_ms(),
                },
                image,
                None,
            )
            .await?;
    }
    Ok(())
}
