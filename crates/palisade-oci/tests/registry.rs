//! Against a real registry on loopback (Debian's `docker-registry`,
//! distribution 2.8), started by each test and stopped when it ends. The
//! tests write their own images there. Without the package they print
//! `SKIPPED:`; with `PALISADE_REQUIRE_REGISTRY=1` they fail instead.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use base64::Engine as _;
use common::{Answer, Auth, Registry, TinyServer};
use palisade_oci::manifest::{Descriptor, ImageManifest, annotations, media};
use palisade_oci::{
    AttachOptions, Client, ClientOptions, Digest, DockerConfigSource, Error, Evidence,
    FetchOptions, Parsed, Reference, ReferrersPath, Source,
};

fn envelope(statement: &serde_json::Value) -> Vec<u8> {
    let payload =
        base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(statement).unwrap());
    serde_json::to_vec(&serde_json::json!({
        "payloadType": "application/vnd.in-toto+json",
        "payload": payload,
        "signatures": [{"keyid": "test", "sig": "c2lnbmF0dXJl"}],
    }))
    .unwrap()
}

fn statement(subject: &Digest, predicate_type: &str) -> serde_json::Value {
    serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "app", "digest": {"sha256": subject.hex()}}],
        "predicateType": predicate_type,
        "predicate": {},
    })
}

#[test]
fn resolves_tags_digests_indexes_and_docker_manifests() {
    let Some(reg) = Registry::start(
        "resolves_tags_digests_indexes_and_docker_manifests",
        Auth::None,
    ) else {
        return;
    };
    let client = common::client();
    let image = reg.reference("team/app");
    let (bytes, desc) = common::push_image(&client, &image, "v1", "one");
    assert_eq!(desc.digest.to_string(), common::sha256(&bytes));

    // By tag: the digest of the bytes as served, verified.
    let r = client.resolve(&image.with_tag("v1")).unwrap();
    assert_eq!(r.digest, desc.digest);
    assert_eq!(r.media_type, media::OCI_MANIFEST);
    assert_eq!(r.manifest.bytes, bytes);
    // By digest.
    let r = client
        .resolve(&image.with_digest(desc.digest.clone()))
        .unwrap();
    assert_eq!(r.digest, desc.digest);
    // A reference with both: the digest wins.
    let both = Reference::parse(&format!("{}/team/app:nope@{}", reg.addr, desc.digest)).unwrap();
    assert_eq!(client.resolve(&both).unwrap().digest, desc.digest);

    // An index of two images.
    let (_, d2) = common::push_image(&client, &image, "v2", "two");
    let (ibytes, idesc) = common::push_index(&client, &image, "multi", vec![desc.clone(), d2]);
    let r = client.resolve(&image.with_tag("multi")).unwrap();
    assert_eq!(r.digest, idesc.digest);
    assert_eq!(r.media_type, media::OCI_INDEX);
    assert_eq!(r.manifest.bytes, ibytes);
    match r.manifest.parse().unwrap() {
        Parsed::Index(i) => assert_eq!(i.manifests.len(), 2),
        Parsed::Image(_) => panic!("an index was read as an image"),
    }

    // A Docker schema 2 manifest.
    let config = client
        .push_blob(
            &image,
            "application/vnd.docker.container.image.v1+json",
            br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#,
        )
        .unwrap();
    let layer = client
        .push_blob(
            &image,
            "application/vnd.docker.image.rootfs.diff.tar.gzip",
            b"docker layer",
        )
        .unwrap();
    let docker = ImageManifest {
        schema_version: 2,
        media_type: Some(media::DOCKER_MANIFEST.into()),
        artifact_type: None,
        config,
        layers: vec![layer],
        subject: None,
        annotations: BTreeMap::new(),
    };
    let dbytes = serde_json::to_vec(&docker).unwrap();
    client
        .push_manifest(&image, "docker", media::DOCKER_MANIFEST, &dbytes)
        .unwrap();
    let r = client.resolve(&image.with_tag("docker")).unwrap();
    assert_eq!(r.media_type, media::DOCKER_MANIFEST);
    assert_eq!(r.digest.to_string(), common::sha256(&dbytes));

    // Unknown tags and repositories: NotFound naming registry and repository.
    let e = client.resolve(&image.with_tag("missing")).unwrap_err();
    assert!(e.is_not_found(), "{e}");
    let text = e.to_string();
    assert!(
        text.contains(&reg.addr) && text.contains("team/app"),
        "{text}"
    );
    let e = client
        .resolve(&reg.reference("nobody/here:v1"))
        .unwrap_err();
    assert_eq!(e.status(), Some(404), "{e}");

    // Deletes (the test registry allows them).
    client.delete_manifest(&image, &idesc.digest).unwrap();
    assert!(
        client
            .resolve(&image.with_tag("multi"))
            .unwrap_err()
            .is_not_found()
    );
}

#[test]
fn cosign_tag_scheme_signatures_attestations_and_sboms() {
    let Some(reg) = Registry::start(
        "cosign_tag_scheme_signatures_attestations_and_sboms",
        Auth::None,
    ) else {
        return;
    };
    let client = common::client();
    let image = reg.reference("team/signed");
    let (_, desc) = common::push_image(&client, &image, "v1", "signed");
    let digest = desc.digest.clone();

    // `.sig`: a simple-signing payload with cosign's annotations.
    let payload = serde_json::to_vec(&serde_json::json!({
        "critical": {
            "identity": {"docker-reference": image.name()},
            "image": {"docker-manifest-digest": digest.to_string()},
            "type": "cosign container image signature",
        },
        "optional": null,
    }))
    .unwrap();
    let rekor_bundle = r#"{"SignedEntryTimestamp":"MEUC","Payload":{"body":"e30=","integratedTime":1,"logIndex":2,"logID":"ab"}}"#;
    common::push_cosign_artifact(
        &client,
        &image,
        &palisade_oci::cosign_tag(&digest, "sig"),
        &[(
            &payload,
            media::COSIGN_SIMPLE_SIGNING,
            &[
                (annotations::COSIGN_SIGNATURE, "MEUCIQDsig=="),
                (annotations::COSIGN_BUNDLE, rekor_bundle),
            ],
        )],
    );
    // `.att`: two DSSE envelopes.
    let provenance = envelope(&statement(&digest, "https://slsa.dev/provenance/v1"));
    let vuln = envelope(&statement(
        &digest,
        "https://cosign.sigstore.dev/attestation/vuln/v1",
    ));
    common::push_cosign_artifact(
        &client,
        &image,
        &palisade_oci::cosign_tag(&digest, "att"),
        &[
            (
                &provenance,
                media::DSSE_ENVELOPE,
                &[(
                    annotations::PREDICATE_TYPE,
                    "https://slsa.dev/provenance/v1",
                )],
            ),
            (
                &vuln,
                media::DSSE_ENVELOPE,
                &[(
                    annotations::PREDICATE_TYPE,
                    "https://cosign.sigstore.dev/attestation/vuln/v1",
                )],
            ),
        ],
    );
    // `.sbom`: a CycloneDX document.
    let sbom = br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[]}"#;
    common::push_cosign_artifact(
        &client,
        &image,
        &palisade_oci::cosign_tag(&digest, "sbom"),
        &[(sbom, "application/vnd.cyclonedx+json", &[])],
    );

    let attached = client
        .attached(
            &image,
            &digest,
            FetchOptions {
                cosign: true,
                referrers: false,
            },
        )
        .unwrap();
    assert!(attached.problems.is_empty(), "{:?}", attached.problems);
    assert_eq!(attached.artifacts.len(), 3);
    let evidence = attached.evidence();
    let sigs: Vec<_> = evidence
        .iter()
        .filter_map(|(a, e)| match e {
            Evidence::CosignSignature {
                payload: p,
                signature,
                bundle,
                ..
            } => {
                assert!(
                    matches!(&a.source, Source::CosignTag { tag, .. } if tag.ends_with(".sig"))
                );
                Some((p.clone(), signature.clone(), bundle.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        sigs,
        vec![(
            payload,
            "MEUCIQDsig==".to_owned(),
            Some(rekor_bundle.to_owned())
        )]
    );
    let envelopes: Vec<_> = evidence
        .iter()
        .filter_map(|(_, e)| match e {
            Evidence::Dsse {
                envelope,
                predicate_type,
                ..
            } => Some((envelope.clone(), predicate_type.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        envelopes,
        vec![
            (
                provenance,
                Some("https://slsa.dev/provenance/v1".to_owned())
            ),
            (
                vuln,
                Some("https://cosign.sigstore.dev/attestation/vuln/v1".to_owned())
            ),
        ]
    );
    assert!(
        evidence
            .iter()
            .any(|(_, e)| matches!(e, Evidence::Sbom { document, .. } if document == sbom))
    );

    // An image with nothing attached.
    let (_, bare) = common::push_image(&client, &image, "bare", "bare");
    let none = client
        .attached(&image, &bare.digest, FetchOptions::default())
        .unwrap();
    assert!(
        none.artifacts.is_empty() && none.problems.is_empty(),
        "{none:?}"
    );
}

#[test]
fn referrers_fallback_and_pushing_attestations_with_subject() {
    let Some(reg) = Registry::start(
        "referrers_fallback_and_pushing_attestations_with_subject",
        Auth::None,
    ) else {
        return;
    };
    let client = common::client();
    let image = reg.reference("team/attested");
    let (_, desc) = common::push_image(&client, &image, "v1", "attested");
    let digest = desc.digest.clone();

    // Nothing yet: which path the registry takes is reported.
    let before = client.referrers(&image, &digest, None).unwrap();
    eprintln!(
        "registry referrers path for an image without referrers: {}",
        before.path
    );
    assert!(before.descriptors.is_empty());

    let env = envelope(&statement(&digest, "https://slsa.dev/provenance/v1"));
    let options = AttachOptions {
        cosign_tag: true,
        predicate_type: Some("https://slsa.dev/provenance/v1".into()),
        annotations: BTreeMap::from([(
            annotations::CREATED.to_owned(),
            "2026-01-01T00:00:00Z".to_owned(),
        )]),
    };
    let pushed = client
        .push_attestation(&image, &desc, &env, &options)
        .unwrap();
    eprintln!("push_attestation: referrers via {}", pushed.referrers);
    let cosign_tag = palisade_oci::cosign_tag(&digest, "att");
    assert_eq!(pushed.cosign_tag.as_deref(), Some(cosign_tag.as_str()));

    // The artifact manifest as stored: OCI 1.1 artifact with subject.
    let m = client
        .get_manifest(&image, &pushed.artifact.descriptor.digest.to_string())
        .unwrap();
    let Parsed::Image(artifact) = m.parse().unwrap() else {
        panic!("not a manifest");
    };
    assert_eq!(
        artifact.artifact_type.as_deref(),
        Some(media::DSSE_ENVELOPE)
    );
    assert_eq!(artifact.config, Descriptor::empty());
    assert_eq!(artifact.subject.as_ref().map(|s| &s.digest), Some(&digest));
    assert_eq!(
        artifact.layers[0]
            .annotations
            .get(annotations::PREDICATE_TYPE)
            .map(String::as_str),
        Some("https://slsa.dev/provenance/v1")
    );

    // The referrers list finds it, by whichever path the registry supports.
    let list = client.referrers(&image, &digest, None).unwrap();
    eprintln!("registry referrers path after the push: {}", list.path);
    match &list.path {
        ReferrersPath::Api => eprintln!("the registry implements the referrers API"),
        ReferrersPath::FallbackTag { tag, found } => {
            eprintln!("the registry has no referrers API (404): fallback tag {tag} used");
            assert!(found);
            assert_eq!(tag, &digest.tag_prefix());
            // The fallback tag is an OCI index.
            let idx = client.get_manifest(&image, tag).unwrap();
            assert_eq!(idx.media_type, media::OCI_INDEX);
        }
    }
    assert_eq!(list.descriptors.len(), 1);
    let entry = &list.descriptors[0];
    assert_eq!(entry.digest, pushed.artifact.descriptor.digest);
    assert_eq!(entry.artifact_type.as_deref(), Some(media::DSSE_ENVELOPE));
    assert_eq!(
        entry
            .annotations
            .get(annotations::CREATED)
            .map(String::as_str),
        Some("2026-01-01T00:00:00Z")
    );
    // Filtering by artifact type.
    assert_eq!(
        client
            .referrers(&image, &digest, Some(media::DSSE_ENVELOPE))
            .unwrap()
            .descriptors
            .len(),
        1
    );
    assert!(
        client
            .referrers(&image, &digest, Some("application/example"))
            .unwrap()
            .descriptors
            .is_empty()
    );

    // Pushing the same again changes nothing; a second one is added.
    let again = client
        .push_attestation(&image, &desc, &env, &options)
        .unwrap();
    assert_eq!(again.artifact.descriptor, pushed.artifact.descriptor);
    let env2 = envelope(&statement(
        &digest,
        "https://in-toto.io/attestation/vulns/v0.2",
    ));
    client
        .push_attestation(
            &image,
            &desc,
            &env2,
            &AttachOptions {
                cosign_tag: true,
                ..AttachOptions::default()
            },
        )
        .unwrap();
    assert_eq!(
        client
            .referrers(&image, &digest, None)
            .unwrap()
            .descriptors
            .len(),
        2
    );

    // Everything attached: each envelope through the referrers, and
    // through cosign's `.att` (one manifest with two layers).
    let attached = client
        .attached(&image, &digest, FetchOptions::default())
        .unwrap();
    assert!(attached.problems.is_empty(), "{:?}", attached.problems);
    let via_referrers = attached
        .artifacts
        .iter()
        .filter(|a| matches!(a.source, Source::ReferrersApi | Source::ReferrersTag { .. }))
        .count();
    assert_eq!(via_referrers, 2);
    let cosign: Vec<_> = attached
        .artifacts
        .iter()
        .filter(|a| matches!(&a.source, Source::CosignTag { tag, .. } if *tag == cosign_tag))
        .collect();
    assert_eq!(cosign.len(), 1);
    assert_eq!(cosign[0].layers.len(), 2);
    let envelopes: Vec<Vec<u8>> = attached
        .evidence()
        .into_iter()
        .filter_map(|(_, e)| match e {
            Evidence::Dsse { envelope, .. } => Some(envelope),
            _ => None,
        })
        .collect();
    assert_eq!(envelopes.iter().filter(|e| **e == env).count(), 2);
    assert_eq!(envelopes.iter().filter(|e| **e == env2).count(), 2);
}

#[test]
fn blob_limits_and_digest_checks() {
    let Some(reg) = Registry::start("blob_limits_and_digest_checks", Auth::None) else {
        return;
    };
    let client = common::client();
    let image = reg.reference("team/limits");
    let big = vec![7u8; 4096];
    let desc = client
        .push_blob(&image, "application/octet-stream", &big)
        .unwrap();
    assert_eq!(client.get_blob(&image, &desc).unwrap(), big);
    // Over the limit: refused before reading.
    let small = Client::new(ClientOptions {
        docker_config: DockerConfigSource::Disabled,
        max_blob_bytes: 1024,
        ..ClientOptions::default()
    })
    .unwrap();
    let e = small.get_blob(&image, &desc).unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
    // A descriptor whose size lies.
    let mut lying = desc.clone();
    lying.size = 10;
    let e = client.get_blob(&image, &lying).unwrap_err();
    assert!(
        matches!(e, Error::TooLarge { .. } | Error::DigestMismatch { .. }),
        "{e}"
    );
    // A blob that does not exist.
    let missing = Descriptor::of("application/octet-stream", b"never pushed");
    assert!(
        client
            .get_blob(&image, &missing)
            .unwrap_err()
            .is_not_found()
    );
    assert!(!client.blob_exists(&image, &missing.digest).unwrap());
}

#[test]
fn basic_auth_with_htpasswd() {
    let test = "basic_auth_with_htpasswd";
    if common::registry_binary().is_none() {
        common::missing::<()>(
            test,
            "docker-registry is not installed (apt-get install -y docker-registry)",
        );
        return;
    }
    let Some(htpasswd) = which("htpasswd") else {
        common::missing::<()>(
            test,
            "htpasswd is not installed (apt-get install -y apache2-utils)",
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("htpasswd");
    let out = std::process::Command::new(htpasswd)
        .args(["-Bbn", "alice", "wonderland"])
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(&file, out.stdout).unwrap();
    let Some(reg) = Registry::start(test, Auth::Htpasswd(file)) else {
        return;
    };
    let image = reg.reference("private/app");

    // No credentials: a clear refusal.
    let anonymous = common::client();
    let e = anonymous.resolve(&image.with_tag("v1")).unwrap_err();
    let text = e.to_string();
    assert!(
        matches!(e, Error::Unauthorized { status: 401, .. }),
        "{text}"
    );
    assert!(
        text.contains(&reg.addr) && text.contains("private/app"),
        "{text}"
    );
    assert!(text.contains("none are configured"), "{text}");

    // Credentials from a Docker configuration: push and resolve.
    let authed = common::client_with_docker_config(
        dir.path(),
        &common::docker_config_for(&reg.addr, "alice", "wonderland"),
    );
    let (_, desc) = common::push_image(&authed, &image, "v1", "private");
    assert_eq!(
        authed.resolve(&image.with_tag("v1")).unwrap().digest,
        desc.digest
    );

    // A wrong password.
    let wrong_dir = tempfile::tempdir().unwrap();
    let wrong = common::client_with_docker_config(
        wrong_dir.path(),
        &common::docker_config_for(&reg.addr, "alice", "queen"),
    );
    let e = wrong.resolve(&image.with_tag("v1")).unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e}");
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The registry's token flow: a token server on loopback issues ES256 JWTs
/// (signed with a key whose self-signed certificate the registry trusts);
/// anonymous callers get pull access, alice gets what she asks for.
#[test]
fn token_auth_flow() {
    let test = "token_auth_flow";
    if common::registry_binary().is_none() {
        common::missing::<()>(
            test,
            "docker-registry is not installed (apt-get install -y docker-registry)",
        );
        return;
    }
    let Some(openssl) = which("openssl") else {
        common::missing::<()>(
            test,
            "openssl is not installed (it makes the token signing certificate)",
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.pem");
    let cert = dir.path().join("cert.pem");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(&openssl)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        cert.to_str().unwrap(),
        "-subj",
        "/CN=palisade-test-token",
        "-days",
        "2",
    ]);
    let key_der = run(&[
        "pkcs8",
        "-topk8",
        "-nocrypt",
        "-in",
        key.to_str().unwrap(),
        "-outform",
        "DER",
    ]);
    let cert_der = run(&["x509", "-in", cert.to_str().unwrap(), "-outform", "DER"]);
    let signer = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &key_der,
    )
    .unwrap();
    let x5c = base64::engine::general_purpose::STANDARD.encode(&cert_der);
    let service = "palisade-test-registry";
    let issuer = "palisade-test-issuer";
    let token_server = TinyServer::start(Box::new(move |req| {
        let q = common::query(&req.target);
        let form = common::query(&format!("?{}", String::from_utf8_lossy(&req.body)));
        let basic = req
            .headers
            .get("authorization")
            .and_then(|a| a.strip_prefix("Basic "))
            .map(|b| {
                String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(b)
                        .unwrap_or_default(),
                )
                .unwrap_or_default()
            });
        let refresh = form
            .iter()
            .find(|(k, _)| k == "refresh_token")
            .map(|(_, v)| v.clone());
        let who = match (basic.as_deref(), refresh.as_deref()) {
            (Some("alice:wonderland"), _) | (_, Some("alice-refresh")) => Some("alice"),
            (None, None) => None,
            _ => return Answer::new(401, r#"{"details":"bad credentials"}"#),
        };
        let mut access = Vec::new();
        for (k, v) in q.iter().chain(form.iter()) {
            if k != "scope" {
                continue;
            }
            let mut parts = v.splitn(3, ':');
            let (Some(kind), Some(name), Some(actions)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let granted: Vec<&str> = actions
                .split(',')
                .filter(|a| who.is_some() || *a == "pull")
                .collect();
            access.push(serde_json::json!({"type": kind, "name": name, "actions": granted}));
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let b64 = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
        };
        let header = b64(&serde_json::json!({"typ": "JWT", "alg": "ES256", "x5c": [x5c]}));
        let claims = b64(&serde_json::json!({
            "iss": issuer, "sub": who.unwrap_or(""), "aud": service,
            "exp": now + 300, "nbf": now - 10, "iat": now, "jti": format!("{now}-{}", access.len()),
            "access": access,
        }));
        let signing_input = format!("{header}.{claims}");
        let sig = signer
            .sign(
                &aws_lc_rs::rand::SystemRandom::new(),
                signing_input.as_bytes(),
            )
            .unwrap();
        let jwt = format!(
            "{signing_input}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig.as_ref())
        );
        Answer::new(
            200,
            serde_json::to_vec(&serde_json::json!({"token": jwt, "expires_in": 300})).unwrap(),
        )
        .header("Content-Type", "application/json")
    }));
    let Some(reg) = Registry::start(
        test,
        Auth::Token {
            realm: format!("http://{}/token", token_server.addr),
            service: service.into(),
            issuer: issuer.into(),
            root_cert: cert,
        },
    ) else {
        return;
    };
    let image = reg.reference("tokens/app");

    // alice pushes (token with pull,push), then resolves.
    let authed = common::client_with_docker_config(
        dir.path(),
        &common::docker_config_for(&reg.addr, "alice", "wonderland"),
    );
    let (_, desc) = common::push_image(&authed, &image, "v1", "tokens");
    assert_eq!(
        authed.resolve(&image.with_tag("v1")).unwrap().digest,
        desc.digest
    );
    let pushed = authed
        .push_attestation(
            &image,
            &desc,
            &envelope(&statement(&desc.digest, "https://slsa.dev/provenance/v1")),
            &AttachOptions::default(),
        )
        .unwrap();
    eprintln!(
        "token flow: attestation pushed, referrers via {}",
        pushed.referrers
    );

    // Anonymous: pull works with an anonymous token, push is refused.
    let anonymous = common::client();
    assert_eq!(
        anonymous.resolve(&image.with_tag("v1")).unwrap().digest,
        desc.digest
    );
    let attached = anonymous
        .attached(&image, &desc.digest, FetchOptions::default())
        .unwrap();
    assert_eq!(attached.evidence().len(), 1, "{:?}", attached.problems);
    let e = anonymous
        .push_blob(&image, "application/octet-stream", b"not allowed")
        .unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e}");

    // An identity token (OAuth2 refresh-token grant).
    let id_dir = tempfile::tempdir().unwrap();
    let by_identity = common::client_with_docker_config(
        id_dir.path(),
        &serde_json::json!({"auths": {reg.addr.clone(): {"identitytoken": "alice-refresh"}}}),
    );
    by_identity
        .push_blob(
            &image,
            "application/octet-stream",
            b"allowed by identity token",
        )
        .unwrap();

    // Wrong credentials: the token endpoint refuses, and the error says so.
    let bad_dir = tempfile::tempdir().unwrap();
    let bad = common::client_with_docker_config(
        bad_dir.path(),
        &common::docker_config_for(&reg.addr, "alice", "queen"),
    );
    let e = bad.resolve(&image.with_tag("v1")).unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e}");
    assert!(e.to_string().contains("token endpoint"), "{e}");

    let seen = token_server.seen.lock().unwrap();
    assert!(
        seen.iter().any(|r| r
            .target
            .contains("scope=repository%3Atokens%2Fapp%3Apull%2Cpush")
            || r.target.contains("scope=repository%3Atokens%2Fapp%3Apull")),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|r| r.method == "POST"),
        "the identity token was not exchanged"
    );
}

/// The referrers API path and misbehaving registries, against a canned
/// server (distribution 2.8 has no referrers API).
#[test]
fn referrers_api_and_misbehaving_registries() {
    let subject = Digest::sha256(b"image");
    let artifact_manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "artifactType": media::DSSE_ENVELOPE,
        "config": Descriptor::empty(),
        "layers": [Descriptor::of(media::DSSE_ENVELOPE, b"{\"payloadType\":\"x\",\"payload\":\"\",\"signatures\":[]}")],
        "subject": {"mediaType": media::OCI_MANIFEST, "digest": subject.to_string(), "size": 5},
    }))
    .unwrap();
    let artifact_digest = Digest::sha256(&artifact_manifest);
    let list = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_INDEX,
        "manifests": [{
            "mediaType": media::OCI_MANIFEST, "digest": artifact_digest.to_string(),
            "size": artifact_manifest.len(), "artifactType": media::DSSE_ENVELOPE,
        }],
    }))
    .unwrap();
    let envelope_blob = b"{\"payloadType\":\"x\",\"payload\":\"\",\"signatures\":[]}".to_vec();
    let subject2 = subject.clone();
    let (am, ad) = (artifact_manifest.clone(), artifact_digest.clone());
    let server = TinyServer::start(Box::new(move |req| {
        let t = req.target.as_str();
        if t == format!("/v2/api/app/referrers/{subject2}") {
            return Answer::new(200, list.clone()).header("Content-Type", media::OCI_INDEX);
        }
        if t == format!("/v2/api/app/manifests/{ad}") {
            return Answer::new(200, am.clone())
                .header("Content-Type", media::OCI_MANIFEST)
                .header("Docker-Content-Digest", &ad.to_string());
        }
        if t.starts_with("/v2/api/app/blobs/") {
            return Answer::new(200, envelope_blob.clone());
        }
        if t.starts_with("/v2/api/app/manifests/sha256-") {
            return Answer::new(404, "");
        }
        if t == "/v2/bad/app/manifests/lying" {
            return Answer::new(200, br#"{"schemaVersion":2}"#.to_vec())
                .header("Content-Type", media::OCI_MANIFEST)
                .header(
                    "Docker-Content-Digest",
                    &Digest::sha256(b"other").to_string(),
                );
        }
        if t == "/v2/bad/app/manifests/huge" {
            return Answer::new(200, vec![b' '; 5 * 1024 * 1024])
                .header("Content-Type", media::OCI_MANIFEST);
        }
        if t.starts_with("/v2/bad/app/referrers/") {
            return Answer::new(200, b"{not json".to_vec())
                .header("Content-Type", media::OCI_INDEX);
        }
        if t == "/v2/bad/app/manifests/err" {
            return Answer::new(
                500,
                br#"{"errors":[{"code":"UNKNOWN","message":"disk on fire"}]}"#.to_vec(),
            );
        }
        Answer::new(
            404,
            r#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}"#,
        )
    }));
    let client = common::client();
    let image = Reference::parse(&format!("{}/api/app", server.addr)).unwrap();
    let r = client.referrers(&image, &subject, None).unwrap();
    assert_eq!(r.path, ReferrersPath::Api);
    assert_eq!(r.descriptors.len(), 1);
    let attached = client
        .attached(&image, &subject, FetchOptions::default())
        .unwrap();
    assert!(attached.problems.is_empty(), "{:?}", attached.problems);
    assert_eq!(attached.artifacts.len(), 1);
    assert_eq!(attached.artifacts[0].source, Source::ReferrersApi);
    assert_eq!(attached.evidence().len(), 1);

    let bad = Reference::parse(&format!("{}/bad/app", server.addr)).unwrap();
    let e = client.resolve(&bad.with_tag("lying")).unwrap_err();
    assert!(matches!(e, Error::DigestMismatch { .. }), "{e}");
    let e = client.resolve(&bad.with_tag("huge")).unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
    let e = client.referrers(&bad, &subject, None).unwrap_err();
    assert!(matches!(e, Error::Format { .. }), "{e}");
    let e = client.resolve(&bad.with_tag("err")).unwrap_err();
    assert_eq!(e.status(), Some(500));
    assert!(e.to_string().contains("disk on fire"), "{e}");
    // A digest reference whose content does not match.
    let e = client
        .get_manifest(&bad, &Digest::sha256(b"x").to_string())
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");

    // Plain HTTP is refused to a registry that is neither loopback nor
    // declared insecure.
    let remote = Client::new(ClientOptions {
        docker_config: DockerConfigSource::Disabled,
        endpoints: BTreeMap::from([("registry.example".to_owned(), server.addr.clone())]),
        ..ClientOptions::default()
    })
    .unwrap();
    // The endpoint is loopback, so it is reached over HTTP.
    let mapped = Reference::parse("registry.example/api/app").unwrap();
    assert_eq!(
        remote
            .referrers(&mapped, &subject, None)
            .unwrap()
            .descriptors
            .len(),
        1
    );
}
