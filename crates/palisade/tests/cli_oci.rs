//! `palisade oci` and the server's `fetch-evidence` job against a real
//! registry on loopback (Debian's `docker-registry`), started here and
//! stopped when each test ends. Without the package the tests print
//! `SKIPPED:`; with `PALISADE_REQUIRE_REGISTRY=1` they fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use palisade_attest::keys::GenerateAlgorithm;
use palisade_attest::{Envelope, PrivateKey};
use palisade_oci::manifest::{Descriptor, ImageManifest, media};
use palisade_oci::{Client, ClientOptions, Digest, DockerConfigSource, Reference};

struct Registry {
    child: Child,
    _dir: tempfile::TempDir,
    addr: String,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn registry_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PALISADE_DOCKER_REGISTRY") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|d| d.join("docker-registry"))
        .find(|p| p.is_file())
}

/// Starts a registry, or skips (visibly) or fails when it is not installed.
fn start_registry(test: &str) -> Option<Registry> {
    let Some(bin) = registry_binary() else {
        if std::env::var("PALISADE_REQUIRE_REGISTRY").is_ok_and(|v| v == "1") {
            panic!("{test}: docker-registry is not installed (PALISADE_REQUIRE_REGISTRY=1)");
        }
        // Past the harness's capture, so that the skip is always seen.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: {test}: docker-registry is not installed (apt-get install -y docker-registry)"
        );
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let config = dir.path().join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n  secret: palisade-test-secret\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
    let child = Command::new(bin)
        .arg("serve")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut reg = Registry {
        child,
        _dir: dir,
        addr,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(Some(s)) = reg.child.try_wait() {
            panic!("docker-registry exited: {s}");
        }
        if let Ok(mut s) = TcpStream::connect(&reg.addr) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = s.write_all(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut buf = String::new();
            let _ = s.read_to_string(&mut buf);
            if buf.starts_with("HTTP/1.1 200") {
                break;
            }
        }
        assert!(Instant::now() < deadline, "docker-registry did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(reg)
}

fn client() -> Client {
    Client::new(ClientOptions {
        docker_config: DockerConfigSource::Disabled,
        ..ClientOptions::default()
    })
    .unwrap()
}

/// Pushes a one-layer OCI image; returns its descriptor.
fn push_image(client: &Client, image: &Reference, tag: &str) -> Descriptor {
    let config = client
        .push_blob(
            image,
            media::OCI_CONFIG,
            br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#,
        )
        .unwrap();
    let layer = client
        .push_blob(image, media::OCI_LAYER_GZIP, tag.as_bytes())
        .unwrap();
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.into()),
        artifact_type: None,
        config,
        layers: vec![layer],
        subject: None,
        annotations: BTreeMap::new(),
    };
    let bytes = serde_json::to_vec(&manifest).unwrap();
    client
        .push_manifest(image, tag, media::OCI_MANIFEST, &bytes)
        .unwrap()
        .descriptor
}

/// A DSSE envelope of an in-toto statement about `digest`, signed by `key`.
fn envelope(key: &PrivateKey, digest: &Digest, predicate_type: &str) -> Vec<u8> {
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "app", "digest": {"sha256": digest.hex()}}],
        "predicateType": predicate_type,
        "predicate": {"note": "test"},
    });
    let env = Envelope::sign(
        "application/vnd.in-toto+json",
        &serde_json::to_vec(&statement).unwrap(),
        &[key],
    )
    .unwrap();
    env.to_json().unwrap().into_bytes()
}

fn palisade(args: &[&str], docker_config: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env_remove("PALISADE_LOG")
        .env("NO_COLOR", "1")
        .env("DOCKER_CONFIG", docker_config)
        .output()
        .expect("run palisade")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn oci_resolve_attach_and_referrers() {
    let Some(reg) = start_registry("oci_resolve_attach_and_referrers") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let client = client();
    let reference = format!("{}/team/app:v1", reg.addr);
    let image = Reference::parse(&reference).unwrap();
    let desc = push_image(&client, &image, "v1");

    // resolve
    let out = palisade(
        &["oci", "resolve", &reference, "--format", "json"],
        home.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["digest"], desc.digest.to_string());
    assert_eq!(v["media_type"], media::OCI_MANIFEST);
    let out = palisade(&["oci", "resolve", &reference], home.path());
    assert_eq!(
        text(&out.stdout).trim(),
        format!("{}/team/app@{}", reg.addr, desc.digest)
    );

    // attach
    let key = PrivateKey::generate(GenerateAlgorithm::Ed25519).unwrap();
    let file = home.path().join("provenance.dsse.json");
    std::fs::write(
        &file,
        envelope(&key, &desc.digest, "https://slsa.dev/provenance/v1"),
    )
    .unwrap();
    let out = palisade(
        &[
            "oci",
            "attach",
            "--attestation",
            file.to_str().unwrap(),
            "--cosign-tag",
            "--annotation",
            "org.opencontainers.image.created=2026-01-01T00:00:00Z",
            &reference,
            "--format",
            "json",
        ],
        home.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let pushed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(pushed["subject"], desc.digest.to_string());
    eprintln!("oci attach: found by {}", pushed["referrers"]);
    assert_eq!(
        pushed["cosign_tag"],
        format!("{}.att", desc.digest.tag_prefix())
    );

    // referrers: the artifact through the referrers list and cosign's tag.
    let out = palisade(
        &["oci", "referrers", &reference, "--format", "json"],
        home.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!("oci referrers: path {}", list["referrers_path"]);
    let artifacts = list["artifacts"].as_array().unwrap();
    assert_eq!(artifacts.len(), 2, "{list:#}");
    assert!(artifacts.iter().all(|a| {
        a["evidence"][0]["kind"] == "dsse"
            && a["evidence"][0]["predicate_type"] == "https://slsa.dev/provenance/v1"
    }));
    assert!(artifacts.iter().any(|a| a["source"]["via"] == "cosign-tag"));
    assert!(
        artifacts
            .iter()
            .any(|a| a["source"]["via"] == "referrers-tag" || a["source"]["via"] == "referrers-api")
    );
    let out = palisade(&["oci", "referrers", &reference], home.path());
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("dsse (https://slsa.dev/provenance/v1)"));

    // Errors: a missing tag names the registry and repository; a file that
    // is not an envelope is refused before any push.
    let missing = format!("{}/team/app:nope", reg.addr);
    let out = palisade(&["oci", "resolve", &missing], home.path());
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains(&reg.addr) && err.contains("team/app") && err.contains("404"),
        "{err}"
    );
    let junk = home.path().join("junk.json");
    std::fs::write(&junk, "{}").unwrap();
    let out = palisade(
        &[
            "oci",
            "attach",
            "--attestation",
            junk.to_str().unwrap(),
            &reference,
        ],
        home.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not a DSSE envelope"));
}

/// The admission path: an image the store cannot resolve queues
/// `fetch-evidence`; the job resolves it in the registry, records the name
/// → digest mapping and stores the verdicts of the attached attestations
/// that verify, so that the next decision finds digest and evidence
/// without any network.
#[test]
fn fetch_evidence_job_feeds_the_next_decision() {
    let Some(reg) = start_registry("fetch_evidence_job_feeds_the_next_decision") else {
        return;
    };
    let client = client();
    let reference = format!("{}/team/service:2.0", reg.addr);
    let image = Reference::parse(&reference).unwrap();
    let desc = push_image(&client, &image, "2.0");
    let trusted = PrivateKey::generate(GenerateAlgorithm::Ed25519).unwrap();
    let stranger = PrivateKey::generate(GenerateAlgorithm::Ed25519).unwrap();
    // A verifiable attestation as an OCI 1.1 referrer, one by an unknown key
    // in cosign's `.att` tag.
    client
        .push_attestation(
            &image,
            &desc,
            &envelope(&trusted, &desc.digest, "https://slsa.dev/provenance/v1"),
            &palisade_oci::AttachOptions::default(),
        )
        .unwrap();
    client
        .push_attestation(
            &image,
            &desc,
            &envelope(&stranger, &desc.digest, "https://example.com/unsigned/v1"),
            &palisade_oci::AttachOptions {
                cosign_tag: true,
                ..Default::default()
            },
        )
        .unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store = palisade_store::Store::open_in_dir(dir.path())
            .await
            .unwrap();
        let engine =
            palisade_policy::Engine::builtin(palisade_policy::EngineOptions::default()).unwrap();
        let environment = engine.environment_names()[0].to_owned();
        palisade_server::sync_environments(&store, &engine, &[])
            .await
            .unwrap();
        let trust = palisade_server::trust::Trust {
            keys: vec![("ci".into(), trusted.public().clone())],
            ..Default::default()
        };
        let mut state = palisade_server::AppState::with(store.clone(), engine, trust).unwrap();
        state.oci = Some(std::sync::Arc::new(client));
        let subject = palisade_server::decide::Subject {
            environment,
            reference: reference.clone(),
            source: "admission".into(),
            ..Default::default()
        };

        // First decision: unknown image, no network on this path.
        let (d, _) = palisade_server::decide::decide(&state, &subject)
            .await
            .unwrap();
        assert!(d.artifact.digest.is_empty());
        palisade_server::evidence::request_fetch(&state, &reference, &d.artifact.digest).await;
        // A second admission while it is queued adds no job.
        palisade_server::evidence::request_fetch(&state, &reference, "").await;

        let ran = palisade_server::worker::drain(&state, "test-worker", 30_000)
            .await
            .unwrap();
        assert_eq!(ran, 1);

        // The name → digest mapping and one verified attestation.
        assert_eq!(
            palisade_server::decide::resolve_digest(&store, &reference)
                .await
                .unwrap(),
            Some(desc.digest.to_string())
        );
        let stored = store
            .attestations_of(&desc.digest.to_string())
            .await
            .unwrap();
        assert_eq!(stored.len(), 1, "{stored:?}");
        assert!(stored[0].verified);
        assert_eq!(stored[0].predicate_type, "https://slsa.dev/provenance/v1");
        assert_eq!(stored[0].signer.as_deref(), Some("ci"));

        // The next decision finds digest and evidence.
        let (d, _) = palisade_server::decide::decide(&state, &subject)
            .await
            .unwrap();
        assert_eq!(d.artifact.digest, desc.digest.to_string());
        let input = palisade_server::decide::input_for(&store, &subject, &d.artifact.digest)
            .await
            .unwrap();
        assert_eq!(input.attestations.len(), 1);

        // Known now: no further fetch is queued; running the job again
        // stores nothing twice.
        palisade_server::evidence::request_fetch(&state, &reference, &d.artifact.digest).await;
        assert_eq!(
            palisade_server::worker::drain(&state, "test-worker", 30_000)
                .await
                .unwrap(),
            0
        );
        let again = palisade_server::evidence::fetch_job(
            &state,
            &serde_json::json!({"image": reference}).to_string(),
        )
        .await
        .unwrap();
        eprintln!("fetch-evidence result: {again}");
        assert_eq!(again["refused"].as_array().unwrap().len(), 1, "{again:#}");
        assert_eq!(
            store
                .attestations_of(&desc.digest.to_string())
                .await
                .unwrap()
                .len(),
            1
        );
    });
}
