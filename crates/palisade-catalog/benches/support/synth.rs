//! Synthetic inputs shared by the catalog bench and the `image_peak`
//! example: a 10,000-package dpkg `status` file and a `docker save` archive
//! of pseudo-random file layers, each carrying that status file. Everything
//! is deterministic and generated, so no large fixture is committed.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;

/// Entries in every generated package list.
pub const N: usize = 10_000;

/// A dpkg `status` file of [`N`] installed packages with sources and
/// dependencies.
pub fn dpkg_status() -> String {
    (0..N)
        .map(|i| {
            format!(
                "Package: pkg{i}\nStatus: install ok installed\nArchitecture: amd64\nSource: src{}\nVersion: 1.{}-{}\nDepends: pkg{} (>= 1.0), pkg{} | other\nDescription: a package\n multi-line text\n\n",
                i / 3,
                i % 50,
                i % 9,
                (i * 7 + 1) % N,
                (i * 3 + 2) % N
            )
        })
        .collect()
}

/// One uncompressed layer: `files` files of `size` pseudo-random bytes
/// (xorshift from `seed`) under `usr/share/data{l}/`, and the dpkg status.
fn layer_tar(l: usize, files: usize, size: usize, seed: &mut u64, status: &str) -> Vec<u8> {
    let mut inner = tar::Builder::new(Vec::new());
    for f in 0..files {
        let mut data = vec![0u8; size];
        for chunk in data.chunks_mut(8) {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            let bytes = seed.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        inner
            .append_data(&mut h, format!("usr/share/data{l}/file{f}.bin"), &data[..])
            .unwrap();
    }
    let mut h = tar::Header::new_gnu();
    h.set_size(status.len() as u64);
    h.set_mode(0o644);
    inner
        .append_data(&mut h, "var/lib/dpkg/status", status.as_bytes())
        .unwrap();
    inner.into_inner().unwrap()
}

fn append(outer: &mut tar::Builder<impl std::io::Write>, name: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    outer.append_data(&mut h, name, data).unwrap();
}

fn sha256(data: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(data)))
}

/// Writes an OCI image layout as a tar (`oci-layout`, `index.json`, blobs)
/// with the same layers as [`write_image`], gzip-compressed (fastest level),
/// to `path`; returns its size. Random data does not compress, so the
/// archive is about as big as the docker one, and every layer byte goes
/// through the decompressor when it is read.
pub fn write_oci(
    path: &std::path::Path,
    layers: usize,
    files_per_layer: usize,
    file_size: usize,
) -> u64 {
    let file = std::fs::File::create(path).unwrap();
    let mut outer = tar::Builder::new(std::io::BufWriter::new(file));
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let status = dpkg_status();
    let mut diff_ids = Vec::new();
    let mut descs = Vec::new();
    append(
        &mut outer,
        "oci-layout",
        br#"{"imageLayoutVersion": "1.0.0"}"#,
    );
    for l in 0..layers {
        let layer = layer_tar(l, files_per_layer, file_size, &mut seed, &status);
        diff_ids.push(sha256(&layer));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&layer).unwrap();
        drop(layer);
        let blob = gz.finish().unwrap();
        let digest = sha256(&blob);
        append(&mut outer, &format!("blobs/sha256/{}", &digest[7..]), &blob);
        descs.push(serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest, "size": blob.len()}));
    }
    let config = serde_json::to_vec(&serde_json::json!({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diff_ids}})).unwrap();
    let cd = sha256(&config);
    append(&mut outer, &format!("blobs/sha256/{}", &cd[7..]), &config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": config.len()},
        "layers": descs
    }))
    .unwrap();
    let md = sha256(&manifest);
    append(&mut outer, &format!("blobs/sha256/{}", &md[7..]), &manifest);
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": manifest.len(),
                       "annotations": {"org.opencontainers.image.ref.name": "bench"}}]
    }))
    .unwrap();
    append(&mut outer, "index.json", &index);
    let mut w = outer.into_inner().unwrap();
    w.flush().unwrap();
    std::fs::metadata(path).unwrap().len()
}

/// Writes a `docker save` archive of `layers` uncompressed layers, each
/// holding `files_per_layer` files of `file_size` pseudo-random bytes plus a
/// dpkg status file, to `path`; returns its size.
pub fn write_image(
    path: &std::path::Path,
    layers: usize,
    files_per_layer: usize,
    file_size: usize,
) -> u64 {
    let file = std::fs::File::create(path).unwrap();
    let mut outer = tar::Builder::new(std::io::BufWriter::new(file));
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut names = Vec::new();
    let mut diff_ids = Vec::new();
    let status = dpkg_status();
    for l in 0..layers {
        let layer = layer_tar(l, files_per_layer, file_size, &mut seed, &status);
        use sha2::Digest;
        diff_ids.push(format!(
            "sha256:{}",
            hex::encode(sha2::Sha256::digest(&layer))
        ));
        let name = format!("layer{l}/layer.tar");
        let mut h = tar::Header::new_gnu();
        h.set_size(layer.len() as u64);
        h.set_mode(0o644);
        outer.append_data(&mut h, &name, &layer[..]).unwrap();
        names.push(name);
    }
    let config = serde_json::to_vec(
        &serde_json::json!({"rootfs": {"type": "layers", "diff_ids": diff_ids}}),
    )
    .unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_size(config.len() as u64);
    h.set_mode(0o644);
    outer
        .append_data(&mut h, "config.json", &config[..])
        .unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!([{"Config": "config.json", "RepoTags": ["bench:latest"], "Layers": names}])).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_size(manifest.len() as u64);
    h.set_mode(0o644);
    outer
        .append_data(&mut h, "manifest.json", &manifest[..])
        .unwrap();
    let mut w = outer.into_inner().unwrap();
    w.flush().unwrap();
    std::fs::metadata(path).unwrap().len()
}
