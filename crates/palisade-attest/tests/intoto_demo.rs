//! The in-toto reference implementation's demo supply chain: the layout
//! template is signed with alice's key (as the reference's tests do), then
//! verified with bob's and carl's links and the final product. It must
//! verify, and fail when a link, a product or a key is tampered with, and
//! when the inspection is not allowed to run.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use palisade_attest::inspection::CommandRunner;
use palisade_attest::layout::{NoInspections, Signed, verify_layout};
use palisade_attest::{PrivateKey, PublicKey, Verification};
use time::OffsetDateTime;

struct Demo {
    alice: PrivateKey,
    alice_pub: PublicKey,
    template: serde_json::Value,
    links: BTreeMap<String, Vec<u8>>,
    product: Vec<u8>,
}

#[allow(clippy::panic)]
fn demo(dir: &Path, link_dir: &Path) -> Demo {
    let alice = PrivateKey::from_pem(&common::read(&dir.join("alice")), None)
        .unwrap_or_else(|e| panic!("alice: {e}"));
    let alice_pub = PublicKey::from_pem(&common::read(&dir.join("alice.pub")), None)
        .unwrap_or_else(|e| panic!("alice.pub: {e}"));
    assert_eq!(alice.public(), &alice_pub);
    let template: serde_json::Value =
        serde_json::from_slice(&common::read(&link_dir.join("demo.layout.template")))
            .unwrap_or_else(|e| panic!("template: {e}"));
    let mut links = BTreeMap::new();
    for name in ["package.2f89b927.link", "write-code.776a00e2.link"] {
        links.insert(name.to_string(), common::read(&link_dir.join(name)));
    }
    Demo {
        alice,
        alice_pub,
        template,
        links,
        product: common::read(&dir.join("foo.tar.gz")),
    }
}

fn layout_payload(template: &serde_json::Value) -> serde_json::Value {
    // The classic template wraps the layout in {"signed": ...}; the DSSE one
    // is an envelope whose payload is the layout.
    let mut layout = match template.get("signed") {
        Some(s) => s.clone(),
        None => {
            let payload = template
                .get("payload")
                .and_then(|p| p.as_str())
                .unwrap_or("");
            let bytes =
                palisade_attest::dsse::decode_base64(payload, "payload").unwrap_or_default();
            serde_json::from_slice(&bytes).unwrap_or_default()
        }
    };
    if let Some(obj) = layout.as_object_mut() {
        obj.insert("expires".into(), serde_json::json!("2099-01-01T00:00:00Z"));
    }
    layout
}

fn sign_classic(d: &Demo, layout: &serde_json::Value) -> Vec<u8> {
    let mb = Signed::sign_metablock(layout, &[&d.alice]).unwrap_or_else(|_| {
        palisade_attest::layout::Metablock {
            signed: layout.clone(),
            signatures: vec![],
        }
    });
    serde_json::to_vec(&mb).unwrap_or_default()
}

/// Runs the demo's inspection in a scratch directory holding the product;
/// the reference's `python ./scripts/tar` helper is replaced by the system tar.
fn verify(
    d: &Demo,
    layout: &[u8],
    keys: &[PublicKey],
    links: &BTreeMap<String, Vec<u8>>,
    product: &[u8],
) -> Verification {
    let Ok(scratch) = tempfile::tempdir() else {
        return Verification::new("setup-failed");
    };
    if std::fs::write(scratch.path().join("foo.tar.gz"), product).is_err() {
        return Verification::new("setup-failed");
    }
    let mut runner = CommandRunner::new(scratch.path()).with_override(
        "untar",
        vec!["tar".into(), "xfz".into(), "foo.tar.gz".into()],
    );
    let _ = &d.alice_pub;
    match verify_layout(layout, keys, links, OffsetDateTime::now_utc(), &mut runner) {
        Ok(v) => v,
        Err(e) => {
            let mut v = Verification::new("error");
            v.push(palisade_attest::Check::fail("input", None, e.to_string()));
            v
        }
    }
}

/// Renames `foo.py` to `bar.py` inside the signed content of a link, in
/// either wrapper (the DSSE payload is base64).
fn tamper_link(bytes: &[u8]) -> Vec<u8> {
    let mut doc: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    if let Some(payload) = doc.get("payload").and_then(|p| p.as_str()) {
        let decoded = palisade_attest::dsse::decode_base64(payload, "payload").unwrap_or_default();
        let text = String::from_utf8_lossy(&decoded).replace("foo.py", "bar.py");
        doc["payload"] = serde_json::json!(palisade_attest::dsse::encode_base64(text.as_bytes()));
        serde_json::to_vec(&doc).unwrap_or_default()
    } else {
        String::from_utf8_lossy(bytes)
            .replace("foo.py", "bar.py")
            .into_bytes()
    }
}

fn failed(v: &Verification) -> Vec<String> {
    v.failures()
        .map(|c| {
            format!(
                "{} [{}]: {}",
                c.name,
                c.target.clone().unwrap_or_default(),
                c.reason
            )
        })
        .collect()
}

fn run_demo(sub: &str) {
    let Some(root) = common::corpus("intoto") else {
        return;
    };
    let d = demo(&root.join("demo_files"), &root.join(sub));
    let layout = layout_payload(&d.template);
    let signed = sign_classic(&d, &layout);
    let keys = vec![d.alice_pub.clone()];

    let v = verify(&d, &signed, &keys, &d.links, &d.product);
    assert!(v.verified, "{sub}: {:#?}", failed(&v));
    assert!(v.checks.iter().any(|c| c.name == "inspection"));

    // Without permission to run the inspection, nothing verifies.
    let v = verify_layout(
        &signed,
        &keys,
        &d.links,
        OffsetDateTime::now_utc(),
        &mut NoInspections,
    );
    assert!(
        v.as_ref()
            .is_ok_and(|v| !v.verified && v.failures().all(|c| c.name == "inspection")),
        "{v:?}"
    );

    // A tampered product: the inspection's MATCH rule no longer consumes it.
    let mut product = d.product.clone();
    if let Some(b) = product.last_mut() {
        *b ^= 1;
    }
    let v = verify(&d, &signed, &keys, &d.links, &product);
    assert!(!v.verified, "{sub}: tampered product verified");

    // A tampered link: its signature fails and the step lacks its threshold.
    let mut links = d.links.clone();
    if let Some(bytes) = links.get_mut("package.2f89b927.link") {
        *bytes = tamper_link(bytes);
    }
    let v = verify(&d, &signed, &keys, &links, &d.product);
    let f = failed(&v);
    assert!(
        !v.verified
            && f.iter()
                .any(|m| m.starts_with("link-signature [link package.2f89b927.link]")),
        "{f:#?}"
    );
    assert!(
        f.iter()
            .any(|m| m.starts_with("step-threshold [step package]")),
        "{f:#?}"
    );

    // A missing link.
    let mut links = d.links.clone();
    links.remove("write-code.776a00e2.link");
    let v = verify(&d, &signed, &keys, &links, &d.product);
    assert!(
        !v.verified
            && failed(&v)
                .iter()
                .any(|m| m.starts_with("step-threshold [step write-code]"))
    );

    // A tampered layout: the layout signature fails.
    let text = String::from_utf8_lossy(&signed).replace("\"threshold\":1", "\"threshold\":0");
    let v = verify(&d, text.as_bytes(), &keys, &d.links, &d.product);
    assert!(
        !v.verified && failed(&v).iter().any(|m| m.starts_with("layout-signature")),
        "{:#?}",
        failed(&v)
    );

    // A wrong layout key: bob's key did not sign the layout.
    let bob = PublicKey::from_pem(&common::read(&root.join("demo_files/bob.pub")), None);
    assert!(bob.is_ok());
    if let Ok(bob) = bob {
        let v = verify(&d, &signed, &[bob], &d.links, &d.product);
        assert!(!v.verified && failed(&v).iter().any(|m| m.starts_with("layout-signature")));
    }

    // A functionary key swapped in the layout (re-signed by alice): bob's link
    // no longer verifies with the key the layout names for it.
    let mut swapped = layout.clone();
    let carl_key = swapped
        .pointer("/keys/2f89b9272acfc8f4a0a0f094d789fdb0ba798b0fe41f2f5f417c12f0085ff498")
        .cloned();
    if let (Some(keys_obj), Some(mut carl)) = (
        swapped.get_mut("keys").and_then(|k| k.as_object_mut()),
        carl_key,
    ) {
        // Replace the write-code functionary's key with the package one under its id.
        if let Some(obj) = carl.as_object_mut() {
            obj.insert(
                "keyid".into(),
                serde_json::json!(
                    "776a00e29f3559e0141b3b096f696abc6cfb0c657ab40f441132b345b08453f5"
                ),
            );
        }
        keys_obj.insert(
            "776a00e29f3559e0141b3b096f696abc6cfb0c657ab40f441132b345b08453f5".into(),
            carl,
        );
    }
    let v = verify(&d, &sign_classic(&d, &swapped), &keys, &d.links, &d.product);
    assert!(!v.verified, "swapped functionary key verified");

    // An expired layout.
    let mut expired = layout.clone();
    if let Some(obj) = expired.as_object_mut() {
        obj.insert("expires".into(), serde_json::json!("2000-01-01T00:00:00Z"));
    }
    let v = verify(&d, &sign_classic(&d, &expired), &keys, &d.links, &d.product);
    assert!(!v.verified && failed(&v).iter().any(|m| m.starts_with("layout-expiry")));
}

#[test]
fn classic_demo_supply_chain() {
    run_demo("demo_files");
}

#[test]
fn dsse_demo_supply_chain() {
    run_demo("demo_dsse_files");
}

#[test]
fn demo_keys_have_the_reference_keyids() {
    let Some(root) = common::corpus("intoto/demo_files") else {
        return;
    };
    for (file, keyid) in [
        (
            "bob.pub",
            "776a00e29f3559e0141b3b096f696abc6cfb0c657ab40f441132b345b08453f5",
        ),
        (
            "carl.pub",
            "2f89b9272acfc8f4a0a0f094d789fdb0ba798b0fe41f2f5f417c12f0085ff498",
        ),
    ] {
        let key = PublicKey::from_pem(&common::read(&root.join(file)), None);
        assert!(
            key.as_ref().is_ok_and(|k| k.matches_keyid(keyid)),
            "{file}: {key:?}"
        );
    }
    // danny's ed25519 key is in the securesystemslib JSON format.
    let danny = PublicKey::from_bytes(&common::read(&root.join("danny.pub")), None);
    assert!(danny.is_ok(), "{danny:?}");
    let danny_private = PrivateKey::from_bytes(&common::read(&root.join("danny")), None);
    assert!(danny_private.is_ok(), "{danny_private:?}");
}

#[test]
fn reference_pem_keys_load() {
    let Some(root) = common::corpus("intoto/pems") else {
        return;
    };
    for f in ["ecdsa_public.pem", "ed25519_public.pem", "rsa_public.pem"] {
        let k = PublicKey::from_pem(&common::read(&root.join(f)), None);
        assert!(k.is_ok(), "{f}: {k:?}");
    }
    for f in [
        "ecdsa_private_unencrypted.pem",
        "ed25519_private_unencrypted.pem",
        "rsa_private_unencrypted.pem",
    ] {
        let k = PrivateKey::from_pem(&common::read(&root.join(f)), None);
        assert!(k.is_ok(), "{f}: {k:?}");
        if let Ok(k) = k {
            let sig = k.sign(b"m").unwrap_or_default();
            assert!(k.public().verify(b"m", &sig).is_ok());
        }
    }
    for f in ["ecdsa_private_encrypted.pem", "rsa_private_encrypted.pem"] {
        assert!(PrivateKey::from_pem(&common::read(&root.join(f)), None).is_err());
    }
}
