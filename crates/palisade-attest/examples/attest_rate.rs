//! Prints verifications per second as JSON, for `bench/attest/run.sh`, which
//! times the reference implementations on the same inputs.
//!
//! Usage: `attest_rate dsse ENVELOPE PUBKEY [SECONDS]`,
//! `attest_rate bundle BUNDLE ARTIFACT TRUSTED_ROOT IDENTITY ISSUER [SECONDS]`, or
//! `attest_rate raw ENVELOPE PUBKEY [SECONDS]`: the signature primitive alone
//! (the envelope's first signature over its PAE, parsed once), the ceiling
//! that `dsse` approaches.

use std::time::{Duration, Instant};

use palisade_attest::dsse::{Envelope, decode_base64, pae};
use palisade_attest::sigstore::{ArtifactInput, BundleVerifier, SignerPolicy};
use palisade_attest::{AttestationPolicy, PublicKey};

fn read(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{path}: {e}"))
}

fn rate(seconds: f64, mut f: impl FnMut() -> Result<(), String>) -> Result<(u64, f64), String> {
    // Warm up, then count whole verifications in the time budget.
    for _ in 0..10 {
        f()?;
    }
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        f()?;
        n += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    Ok((n, n as f64 / secs))
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| {
        args.get(i)
            .cloned()
            .ok_or_else(|| "missing argument; see the file header".to_string())
    };
    match arg(1)?.as_str() {
        "dsse" => {
            let envelope = read(&arg(2)?)?;
            let key = PublicKey::from_bytes(&read(&arg(3)?)?, None).map_err(|e| e.to_string())?;
            let seconds: f64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(3.0);
            let keys = vec![key];
            let policy = AttestationPolicy {
                threshold: 1,
                ..Default::default()
            };
            let (n, per_sec) = rate(seconds, || {
                let v = palisade_attest::verify_attestation(&envelope, &keys, &policy)
                    .map_err(|e| e.to_string())?;
                if v.verified {
                    Ok(())
                } else {
                    Err(format!(
                        "did not verify: {:?}",
                        v.failures().collect::<Vec<_>>()
                    ))
                }
            })?;
            println!("{{\"what\": \"dsse\", \"iterations\": {n}, \"per_second\": {per_sec:.1}}}");
        }
        "raw" => {
            let envelope = Envelope::from_json(&read(&arg(2)?)?).map_err(|e| e.to_string())?;
            let key = PublicKey::from_bytes(&read(&arg(3)?)?, None).map_err(|e| e.to_string())?;
            let seconds: f64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(3.0);
            let payload = envelope.decoded_payload().map_err(|e| e.to_string())?;
            let message = pae(&envelope.payload_type, &payload);
            let first = envelope
                .signatures
                .first()
                .ok_or_else(|| "the envelope has no signature".to_string())?;
            let signature = decode_base64(&first.sig, "signature").map_err(|e| e.to_string())?;
            let (n, per_sec) = rate(seconds, || {
                key.verify(&message, &signature).map_err(|e| e.to_string())
            })?;
            println!("{{\"what\": \"raw\", \"iterations\": {n}, \"per_second\": {per_sec:.1}}}");
        }
        "bundle" => {
            let bundle = read(&arg(2)?)?;
            let artifact = read(&arg(3)?)?;
            let verifier = BundleVerifier::new(&read(&arg(4)?)?).map_err(|e| e.to_string())?;
            let policy = SignerPolicy::Identity {
                identity: arg(5)?,
                issuer: arg(6)?,
            };
            let seconds: f64 = args.get(7).and_then(|s| s.parse().ok()).unwrap_or(3.0);
            let (n, per_sec) = rate(seconds, || {
                let v = verifier.verify(&bundle, ArtifactInput::Bytes(&artifact), &policy);
                if v.verified {
                    Ok(())
                } else {
                    Err(format!(
                        "did not verify: {:?}",
                        v.failures().collect::<Vec<_>>()
                    ))
                }
            })?;
            println!("{{\"what\": \"bundle\", \"iterations\": {n}, \"per_second\": {per_sec:.1}}}");
        }
        other => return Err(format!("unknown mode {other:?}")),
    }
    Ok(())
}
