"""Interoperability and speed checks against the reference implementations.

Driven by run.sh, with the venv it creates (in-toto, securesystemslib,
sigstore from the package registry). Each subcommand prints one JSON line
on stdout; run.sh compares and summarises.

  peer.py sign-dsse ALG OUTDIR          reference signs a statement (DSSE); writes envelope + key
  peer.py verify-dsse ENVELOPE PUBPEM   reference verifies an envelope Palisade signed
  peer.py sign-layout DEMO OUT [TEMPLATE]   reference (in-toto) signs the demo layout (or TEMPLATE) with alice
  peer.py sign-layout-dsse DEMO TEMPLATE OUT   reference signs the DSSE demo layout (a DSSE envelope) with alice
  peer.py verify-layout LAYOUT DIR [KEY]    reference verifies a layout with the links and foo.tar.gz
                                            in DIR (runs the inspection); KEY defaults to DIR/alice.pub
  peer.py rate-dsse ENVELOPE PUBPEM S   reference DSSE verifications per second
  peer.py rate-raw ENVELOPE PUBPEM S    the signature primitive alone (cryptography, OpenSSL), parsed once
  peer.py rate-bundle BUNDLE ARTIFACT ROOT IDENTITY ISSUER S   sigstore-python verifications per second
"""

import json
import os
import shutil
import sys
import tempfile
import time

from cryptography.hazmat.primitives import serialization
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner, SSlibKey


def statement(subject_digest):
    return json.dumps(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "artifact", "digest": {"sha256": subject_digest}}],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {"buildDefinition": {"buildType": "https://example.com/t"}, "runDetails": {"builder": {"id": "https://example.com/b"}}},
        },
        separators=(",", ":"),
    ).encode()


def sign_dsse(alg, outdir):
    signer = {"ed25519": CryptoSigner.generate_ed25519, "ecdsa": CryptoSigner.generate_ecdsa, "rsa": CryptoSigner.generate_rsa}[alg]()
    env = Envelope(statement("a" * 64), "application/vnd.in-toto+json", {})
    env.sign(signer)
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "envelope.json"), "w") as f:
        json.dump(env.to_dict(), f)
    pem = signer.public_key.to_dict()["keyval"]["public"]
    if alg == "ed25519":
        pub = serialization.load_der_public_key(b"0*0\x05\x06\x03+ep\x03!\x00" + bytes.fromhex(pem))
        pem = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with open(os.path.join(outdir, "key.pub"), "w") as f:
        f.write(pem)
    print(json.dumps({"signed": alg, "keyid": signer.public_key.keyid}))


def load_pub(pem_path):
    with open(pem_path, "rb") as f:
        pub = serialization.load_pem_public_key(f.read())
    return SSlibKey.from_crypto(pub)


def verify_dsse(env_path, pem_path):
    with open(env_path) as f:
        env = Envelope.from_dict(json.load(f))
    key = load_pub(pem_path)
    # The envelope's keyid hint must name the key the reference computes.
    accepted = env.verify([key], 1)
    print(json.dumps({"verified": bool(accepted), "keyids": sorted(accepted)}))


def sign_layout(demo, out, template=None):
    from in_toto.models.layout import Layout
    from in_toto.models.metadata import Metablock

    with open(template or os.path.join(demo, "demo.layout.template")) as f:
        data = json.load(f)
    layout = Layout.read(data["signed"])
    layout.set_relative_expiration(months=12)
    with open(os.path.join(demo, "alice"), "rb") as f:
        priv = serialization.load_pem_private_key(f.read(), None)
    signer = CryptoSigner(priv)
    mb = Metablock(signed=layout)
    mb.create_signature(signer)
    mb.dump(out)
    print(json.dumps({"signed_layout": out, "keyid": signer.public_key.keyid}))


def sign_layout_dsse(demo, template, out):
    import base64

    from in_toto.models.layout import Layout
    from in_toto.models.metadata import Envelope

    with open(template) as f:
        data = json.loads(base64.b64decode(json.load(f)["payload"]))
    layout = Layout.read(data)
    layout.set_relative_expiration(months=12)
    with open(os.path.join(demo, "alice"), "rb") as f:
        priv = serialization.load_pem_private_key(f.read(), None)
    signer = CryptoSigner(priv)
    env = Envelope.from_signable(layout)
    env.create_signature(signer)
    env.dump(out)
    print(json.dumps({"signed_layout": out, "keyid": signer.public_key.keyid}))


def verify_layout(layout_path, demo, key_path=None):
    from in_toto.models.metadata import Metadata
    from in_toto.verifylib import in_toto_verify

    layout = Metadata.load(layout_path)  # a classic metablock or a DSSE envelope
    alice = load_pub(key_path or os.path.join(demo, "alice.pub"))
    work = tempfile.mkdtemp()
    try:
        for name in os.listdir(demo):
            if name.endswith(".link") or name == "foo.tar.gz":
                shutil.copy(os.path.join(demo, name), work)
        # The demo inspection runs `python ./scripts/tar xfz foo.tar.gz`; this
        # stand-in helper runs the system tar.
        os.makedirs(os.path.join(work, "scripts"))
        with open(os.path.join(work, "scripts", "tar"), "w") as f:
            f.write("import subprocess, sys\nsys.exit(subprocess.call(['tar'] + sys.argv[1:]))\n")
        cwd = os.getcwd()
        os.chdir(work)
        try:
            in_toto_verify(layout, {alice.keyid: dict(alice.to_dict(), keyid=alice.keyid)})
            ok, err = True, None
        except Exception as e:  # the reference raises on any failed check
            ok, err = False, f"{type(e).__name__}: {e}"
        finally:
            os.chdir(cwd)
    finally:
        shutil.rmtree(work)
    print(json.dumps({"verified": ok, "error": err}))


def rate(fn, seconds):
    for _ in range(5):
        fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n, n / (time.perf_counter() - start)


def rate_dsse(env_path, pem_path, seconds):
    with open(env_path) as f:
        raw = f.read()
    key = load_pub(pem_path)

    def once():
        env = Envelope.from_dict(json.loads(raw))
        if not env.verify([key], 1):
            raise SystemExit("did not verify")

    n, per = rate(once, float(seconds))
    print(json.dumps({"what": "dsse", "iterations": n, "per_second": round(per, 1)}))


def rate_raw(env_path, pem_path, seconds):
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    with open(env_path) as f:
        env = json.load(f)
    payload = base64.b64decode(env["payload"])
    ptype = env["payloadType"].encode()
    message = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(payload), payload)
    sig = base64.b64decode(env["signatures"][0]["sig"])
    with open(pem_path, "rb") as f:
        pub = serialization.load_pem_public_key(f.read())
    if isinstance(pub, ed25519.Ed25519PublicKey):
        once = lambda: pub.verify(sig, message)  # noqa: E731
    elif isinstance(pub, ec.EllipticCurvePublicKey):
        once = lambda: pub.verify(sig, message, ec.ECDSA(hashes.SHA256()))  # noqa: E731
    else:
        raise SystemExit("rate-raw: Ed25519 or ECDSA keys only")
    n, per = rate(once, float(seconds))
    print(json.dumps({"what": "raw", "iterations": n, "per_second": round(per, 1)}))


def rate_bundle(bundle_path, artifact_path, root_path, identity, issuer, seconds):
    from sigstore.models import Bundle, ClientTrustConfig, TrustedRoot
    from sigstore.verify import Verifier, policy

    with open(bundle_path) as f:
        raw = f.read()
    with open(artifact_path, "rb") as f:
        artifact = f.read()
    trusted_root = TrustedRoot.from_file(root_path)
    try:
        verifier = Verifier(trusted_root=trusted_root)
    except TypeError:
        verifier = Verifier._from_trust_config(ClientTrustConfig.production())
    pol = policy.Identity(identity=identity, issuer=issuer)

    def once():
        verifier.verify_artifact(artifact, Bundle.from_json(raw), pol)

    n, per = rate(once, float(seconds))
    print(json.dumps({"what": "bundle", "iterations": n, "per_second": round(per, 1)}))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {
        "sign-dsse": sign_dsse,
        "verify-dsse": verify_dsse,
        "sign-layout": sign_layout,
        "sign-layout-dsse": sign_layout_dsse,
        "verify-layout": verify_layout,
        "rate-dsse": rate_dsse,
        "rate-raw": rate_raw,
        "rate-bundle": rate_bundle,
    }[cmd](*args)
