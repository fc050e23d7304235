//! Fixture builders shared by the integration tests: image tarballs and
//! layouts assembled in memory with the `tar` crate, so no fixture archive
//! is committed.

// Fixture construction may panic: a failure here is a broken test, not input.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::Write;

use sha2::{Digest, Sha256};

/// One tar entry to write.
pub enum E<'a> {
    File(&'a str, &'a [u8], u32),
    Symlink(&'a str, &'a str),
    Dir(&'a str),
    /// A raw name, written without validation (hostile paths).
    RawFile(&'a [u8], &'a [u8]),
}

pub fn tar(entries: &[E<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        match e {
            E::File(p, data, mode) => {
                let mut h = tar::Header::new_gnu();
                h.set_size(data.len() as u64);
                h.set_mode(*mode);
                h.set_entry_type(tar::EntryType::Regular);
                b.append_data(&mut h, p, *data).unwrap();
            }
            E::Symlink(p, target) => {
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                h.set_mode(0o777);
                b.append_link(&mut h, p, target).unwrap();
            }
            E::Dir(p) => {
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                h.set_mode(0o755);
                b.append_data(&mut h, p, std::io::empty()).unwrap();
            }
            E::RawFile(name, data) => {
                let mut h = tar::Header::new_old();
                h.as_old_mut().name[..name.len()].copy_from_slice(name);
                h.set_size(data.len() as u64);
                h.set_mode(0o644);
                h.set_entry_type(tar::EntryType::Regular);
                h.set_cksum();
                b.append(&h, *data).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub fn sha256(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

pub const OS_RELEASE: &[u8] = b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n";

pub const STATUS_1: &[u8] = b"Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u7\n\nPackage: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b7\nDepends: libc6 (>= 2.36)\n";

pub const STATUS_2: &[u8] = b"Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u7\n\nPackage: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b7\nDepends: libc6 (>= 2.36)\n\nPackage: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88.1-10+deb12u6\nDepends: libc6\n";

pub const PACKAGE_LOCK: &[u8] = br#"{"lockfileVersion": 3, "packages": {"": {}, "node_modules/left-pad": {"version": "1.3.0"}}}"#;

pub const CARGO_LOCK: &[u8] = b"version = 4\n\n[[package]]\nname = \"itoa\"\nversion = \"1.0.11\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";

/// The three layers of the test image, uncompressed.
pub fn layers() -> Vec<Vec<u8>> {
    let l1 = tar(&[
        E::Dir("etc/"),
        E::Symlink("etc/os-release", "../usr/lib/os-release"),
        E::File("usr/lib/os-release", OS_RELEASE, 0o644),
        E::File("var/lib/dpkg/status", STATUS_1, 0o644),
        E::File("app/package-lock.json", PACKAGE_LOCK, 0o644),
        E::File("tmp/cache/Cargo.lock", CARGO_LOCK, 0o644),
    ]);
    let l2 = tar(&[
        E::File("var/lib/dpkg/status", STATUS_2, 0o644),
        E::File("app/.wh.package-lock.json", b"", 0o644),
        E::File("tmp/.wh..wh..opq", b"", 0o644),
        E::RawFile(b"../../escape/Cargo.lock", CARGO_LOCK),
    ]);
    let l3 = tar(&[E::File("srv/Cargo.lock", CARGO_LOCK, 0o644)]);
    vec![l1, l2, l3]
}

pub fn config(diff_ids: &[String]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids}
    }))
    .unwrap()
}

/// A legacy `docker save` archive (uncompressed `layer.tar` members).
pub fn docker_save() -> Vec<u8> {
    let layers = layers();
    let ids: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
    let cfg = config(&ids);
    let cfg_name = format!("{}.json", &sha256(&cfg)[7..]);
    let names: Vec<String> = (0..layers.len())
        .map(|i| format!("layer{i}/layer.tar"))
        .collect();
    let manifest = serde_json::to_vec(&serde_json::json!([
        {"Config": cfg_name, "RepoTags": ["example/app:1.0"], "Layers": names}
    ]))
    .unwrap();
    let mut entries = vec![E::File(&cfg_name, &cfg, 0o644)];
    for (n, l) in names.iter().zip(&layers) {
        entries.push(E::File(n, l, 0o644));
    }
    entries.push(E::File("manifest.json", &manifest, 0o644));
    tar(&entries)
}

/// An OCI layout's files (path, bytes) with gzip layers; the manifest digest.
pub fn oci_layout() -> (Vec<(String, Vec<u8>)>, String) {
    let layers = layers();
    let ids: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
    let gz: Vec<Vec<u8>> = layers.iter().map(|l| gzip(l)).collect();
    let cfg = config(&ids);
    let mut files = Vec::new();
    let blob = |d: &str| format!("blobs/sha256/{}", &d[7..]);
    let layer_descs: Vec<serde_json::Value> = gz
        .iter()
        .map(|g| serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha256(g), "size": g.len()}))
        .collect();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(&cfg), "size": cfg.len()},
        "layers": layer_descs
    }))
    .unwrap();
    let md = sha256(&manifest);
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": manifest.len(),
                       "annotations": {"org.opencontainers.image.ref.name": "1.0"}}]
    }))
    .unwrap();
    files.push((
        "oci-layout".to_owned(),
        br#"{"imageLayoutVersion": "1.0.0"}"#.to_vec(),
    ));
    files.push(("index.json".to_owned(), index));
    files.push((blob(&md), manifest));
    files.push((blob(&sha256(&cfg)), cfg.clone()));
    for g in gz {
        files.push((blob(&sha256(&g)), g));
    }
    (files, md)
}

pub fn oci_tar() -> (Vec<u8>, String) {
    let (files, md) = oci_layout();
    let entries: Vec<E<'_>> = files.iter().map(|(p, d)| E::File(p, d, 0o644)).collect();
    (tar(&entries), md)
}

/// The corpus root, or `None` (with a visible SKIPPED line) when absent.
pub fn corpus() -> Option<std::path::PathBuf> {
    let root = std::env::var_os("PALISADE_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/corpus"
            ))
        });
    if root.is_dir() {
        Some(root)
    } else {
        eprintln!("SKIPPED: corpus not found at {}", root.display());
        None
    }
}
