//! Container images: a `docker save` tarball, or an OCI image layout as a
//! directory or a tar.
//!
//! The archive is never extracted and never held whole in memory. An outer
//! tar is indexed in one pass that records each member's offset and size
//! (seeking past contents); members are then read back by offset when
//! needed. The manifest and config are small JSON documents; each layer is
//! streamed through its decompressor (gzip, zstd or none, recognised by
//! magic bytes) and its tar entries applied in order to a *virtual* file
//! index (path -> the layer that last wrote it), honouring whiteouts:
//! `dir/.wh.name` deletes `dir/name` and everything under it from lower
//! layers, `dir/.wh..wh..opq` deletes everything under `dir` from lower
//! layers. Only the contents of files that matter are read into memory:
//! package databases, `os-release`, lockfiles (each bounded by
//! [`Limits::max_file_bytes`]) and executables, which are scanned for build
//! information as they stream past and then dropped.
//!
//! Paths inside layers are normalised (`./`, leading `/` removed) and any
//! path with a `..` component is refused with a warning: nothing is written
//! to disk, so such paths cannot escape anywhere, but they must not alias
//! real paths in the index either. Symbolic links are followed only within
//! the index (`/etc/os-release -> ../usr/lib/os-release`), with a hop limit.
//! Each layer's decompressed size is bounded ([`Limits::max_layer_bytes`])
//! against decompression bombs, and every blob is checked against its digest
//! while it streams, so a corrupted or truncated archive is an error naming
//! the layer.
//!
//! Package databases are whole-file: the layer that "introduced" a package
//! is the earliest layer from which every later version of the database
//! still lists the same name, version and architecture. Files that belong
//! to one package (`status.d` entries, lockfiles, executables) are
//! attributed to the layer that wrote them last.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use palisade_inventory::{ComponentKind, Distro, Inventory, Subject};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::common::{Limits, merge_inventories};
use crate::error::{CatalogError, Position, Result};
use crate::lockfile::LockfileKind;
use crate::{binary, lockfile, os};

/// Progress of long work: bytes of layer data read so far and in total.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Bytes done.
    pub done: u64,
    /// Bytes in all.
    pub total: u64,
    /// What is being read.
    pub message: String,
}

/// A callback receiving [`Progress`].
pub type ProgressFn<'a> = dyn FnMut(&Progress) + 'a;

/// Options for image cataloguing.
#[derive(Clone, Debug, Default)]
pub struct ImageOptions {
    /// Limits on sizes and counts.
    pub limits: Limits,
    /// `os/arch` to pick from a multi-platform index (default: the host's,
    /// as Go names it: `linux/amd64`, `linux/arm64`).
    pub platform: Option<String>,
}

/// What an image archive member or layout blob is called.
trait Store {
    /// Reads a small member whole (manifests, configs), bounded by `limit`.
    fn read_small(&mut self, name: &str, limit: u64) -> Result<Vec<u8>>;
    /// Opens a member for streaming; returns the reader and its size.
    fn open(&mut self, name: &str) -> Result<(Box<dyn Read + '_>, u64)>;
    /// The label for error messages.
    fn label(&self) -> &str;
}

/// An image tar indexed by member offsets.
struct TarStore {
    label: String,
    file: std::fs::File,
    members: HashMap<String, (u64, u64)>,
    links: HashMap<String, String>,
}

/// Normalises a tar member name: no `./`, no leading `/`, no empty or `.`
/// components; `None` when it has a `..` component.
pub fn normalise_path(raw: &str) -> Option<String> {
    let mut parts = Vec::new();
    for p in raw.split('/') {
        match p {
            "" | "." => {}
            ".." => return None,
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// Resolves a link `target` written in member `from` to an index path.
fn resolve_link(from: &str, target: &str) -> Option<String> {
    if target.starts_with('/') {
        return normalise_path(target);
    }
    let dir = from.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for p in target.split('/') {
        match p {
            "" | "." => {}
            // `..` above the root stays at the root, as the kernel does.
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

impl TarStore {
    fn index(label: &str, path: &Path, limits: &Limits) -> Result<TarStore> {
        let file = std::fs::File::open(path).map_err(|e| CatalogError::io(label, e))?;
        let mut members = HashMap::new();
        let mut links = HashMap::new();
        {
            let mut archive = tar::Archive::new(BufReader::new(&file));
            let entries = archive.entries_with_seek().map_err(|e| {
                CatalogError::malformed(
                    label,
                    Position::Offset(0),
                    format!("not a tar archive: {e}"),
                )
            })?;
            let mut count = 0u64;
            let mut last = String::from("(start)");
            for entry in entries {
                let entry = entry.map_err(|e| {
                    CatalogError::malformed(
                        label,
                        Position::Entry(last.clone()),
                        format!("tar archive is damaged or truncated after this entry: {e}"),
                    )
                })?;
                count += 1;
                if count > limits.max_archive_entries {
                    return Err(CatalogError::Limit {
                        file: label.to_owned(),
                        what: "number of archive members".into(),
                        limit: format!("{} entries", limits.max_archive_entries),
                    });
                }
                let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
                last.clone_from(&raw);
                let Some(name) = normalise_path(&raw) else {
                    continue;
                };
                match entry.header().entry_type() {
                    tar::EntryType::Regular | tar::EntryType::Continuous => {
                        members.insert(name, (entry.raw_file_position(), entry.size()));
                    }
                    tar::EntryType::Symlink | tar::EntryType::Link => {
                        if let Some(t) = entry.link_name_bytes() {
                            let t = String::from_utf8_lossy(&t).into_owned();
                            let resolved = if entry.header().entry_type() == tar::EntryType::Link {
                                normalise_path(&t)
                            } else {
                                resolve_link(&name, &t)
                            };
                            if let Some(r) = resolved {
                                links.insert(name, r);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        // Seeking past contents does not notice a truncated file: check
        // that every member lies within it.
        let len = file
            .metadata()
            .map_err(|e| CatalogError::io(label, e))?
            .len();
        let mut past: Vec<&String> = members
            .iter()
            .filter(|(_, (off, size))| off.saturating_add(*size) > len)
            .map(|(name, _)| name)
            .collect();
        past.sort();
        if let Some(first) = past.first() {
            return Err(CatalogError::malformed(
                label,
                Position::Entry((*first).clone()),
                format!(
                    "the member extends past the end of the archive ({len} bytes): the archive is truncated"
                ),
            ));
        }
        Ok(TarStore {
            label: label.to_owned(),
            file,
            members,
            links,
        })
    }

    fn locate(&self, name: &str) -> Option<(u64, u64)> {
        let mut n = normalise_path(name)?;
        for _ in 0..8 {
            if let Some(m) = self.members.get(&n) {
                return Some(*m);
            }
            n = self.links.get(&n)?.clone();
        }
        None
    }
}

impl Store for TarStore {
    fn read_small(&mut self, name: &str, limit: u64) -> Result<Vec<u8>> {
        let (mut r, size) = self.open(name)?;
        if size > limit {
            return Err(CatalogError::Limit {
                file: name.to_owned(),
                what: format!("size {size} bytes"),
                limit: format!("{limit} bytes"),
            });
        }
        let mut buf = Vec::new();
        r.read_to_end(&mut buf)
            .map_err(|e| CatalogError::io(name, e))?;
        Ok(buf)
    }

    fn open(&mut self, name: &str) -> Result<(Box<dyn Read + '_>, u64)> {
        let (off, size) = self.locate(name).ok_or_else(|| {
            CatalogError::malformed(
                &self.label,
                Position::Entry(name.to_owned()),
                "the archive has no such member",
            )
        })?;
        self.file
            .seek(SeekFrom::Start(off))
            .map_err(|e| CatalogError::io(&self.label, e))?;
        Ok((
            Box::new(BufReader::with_capacity(1 << 16, (&self.file).take(size))),
            size,
        ))
    }

    fn label(&self) -> &str {
        &self.label
    }
}

/// An OCI layout directory.
struct DirStore {
    label: String,
    root: PathBuf,
}

impl DirStore {
    fn path(&self, name: &str) -> Result<PathBuf> {
        // Names come from the layout's own JSON: refuse anything that could
        // leave the layout directory.
        let n = normalise_path(name)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                CatalogError::malformed(
                    &self.label,
                    Position::Entry(name.to_owned()),
                    "the name leaves the layout directory",
                )
            })?;
        Ok(self.root.join(n))
    }
}

impl Store for DirStore {
    fn read_small(&mut self, name: &str, limit: u64) -> Result<Vec<u8>> {
        let (mut r, size) = self.open(name)?;
        if size > limit {
            return Err(CatalogError::Limit {
                file: name.to_owned(),
                what: format!("size {size} bytes"),
                limit: format!("{limit} bytes"),
            });
        }
        let mut buf = Vec::new();
        r.read_to_end(&mut buf)
            .map_err(|e| CatalogError::io(name, e))?;
        Ok(buf)
    }

    fn open(&mut self, name: &str) -> Result<(Box<dyn Read + '_>, u64)> {
        let p = self.path(name)?;
        let label = format!("{}/{}", self.label, name);
        let f = std::fs::File::open(&p).map_err(|e| CatalogError::io(&label, e))?;
        let size = f.metadata().map_err(|e| CatalogError::io(&label, e))?.len();
        Ok((Box::new(BufReader::with_capacity(1 << 16, f)), size))
    }

    fn label(&self) -> &str {
        &self.label
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerManifest {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    #[serde(default)]
    media_type: Option<String>,
    digest: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    platform: Option<Platform>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Platform {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OciIndexOrManifest {
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
}

#[derive(Deserialize)]
struct ImageConfig {
    #[serde(default)]
    rootfs: Option<RootFs>,
}

#[derive(Deserialize)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

/// One layer to apply.
struct LayerPlan {
    /// Member name in the store.
    member: String,
    /// Digest the member's bytes must have (`sha256:…`), when known.
    expect: Option<String>,
    /// The label recorded on components: the diff ID when known, else the digest.
    label: String,
    size: u64,
}

/// What the image is, and its layers in order.
struct Plan {
    subject: Subject,
    layers: Vec<LayerPlan>,
    warnings: Vec<String>,
}

const SMALL: u64 = 16 << 20;

fn host_platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        other => other,
    };
    format!("linux/{arch}")
}

fn blob_name(label: &str, digest: &str) -> Result<String> {
    let (alg, hex) = digest.split_once(':').ok_or_else(|| {
        CatalogError::malformed(
            label,
            Position::Record(format!("digest {digest:?}")),
            "a digest is algorithm:hex",
        )
    })?;
    let alg_ok = !alg.is_empty()
        && alg.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'+' | b'.' | b'_' | b'-')
        });
    let hex_ok = !hex.is_empty()
        && hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b.is_ascii_lowercase());
    if !alg_ok || !hex_ok {
        return Err(CatalogError::malformed(
            label,
            Position::Record(format!("digest {digest:?}")),
            "not a valid digest",
        ));
    }
    Ok(format!("blobs/{alg}/{hex}"))
}

fn json_at<T: serde::de::DeserializeOwned>(label: &str, member: &str, bytes: &[u8]) -> Result<T> {
    crate::common::json(&format!("{label}!/{member}"), bytes)
}

fn diff_ids(store: &mut dyn Store, config_member: &str) -> Result<Vec<String>> {
    let label = store.label().to_owned();
    let bytes = store.read_small(config_member, SMALL)?;
    let cfg: ImageConfig = json_at(&label, config_member, &bytes)?;
    Ok(cfg.rootfs.map(|r| r.diff_ids).unwrap_or_default())
}

fn plan_oci(store: &mut dyn Store, opts: &ImageOptions) -> Result<Plan> {
    let label = store.label().to_owned();
    let mut warnings = Vec::new();
    let index_bytes = store.read_small("index.json", SMALL)?;
    let mut doc: OciIndexOrManifest = json_at(&label, "index.json", &index_bytes)?;
    let want = opts.platform.clone().unwrap_or_else(host_platform);
    let mut chosen: Option<Descriptor> = None;
    let mut ref_name: Option<String> = None;
    for depth in 0..4 {
        let Some(manifests) = doc.manifests.take() else {
            break;
        };
        if manifests.is_empty() {
            return Err(CatalogError::malformed(
                &label,
                Position::Record("index.json".into()),
                "the index lists no manifests",
            ));
        }
        let pick = manifests.iter().position(|d| {
            d.platform.as_ref().is_some_and(|p| {
                let base = format!("{}/{}", p.os, p.architecture);
                base == want
                    || p.variant
                        .as_ref()
                        .is_some_and(|v| format!("{base}/{v}") == want)
            })
        });
        let with_platform = manifests.iter().filter(|d| d.platform.is_some()).count();
        let idx = match pick {
            Some(i) => i,
            None => {
                if manifests.len() > 1 {
                    warnings.push(format!(
                        "{label}: the index lists {} manifests and none for platform {want}; the first was used",
                        manifests.len()
                    ));
                } else if with_platform > 0 && depth > 0 {
                    warnings.push(format!(
                        "{label}: the only manifest is not for platform {want}"
                    ));
                }
                0
            }
        };
        let d = manifests.into_iter().nth(idx).ok_or_else(|| {
            CatalogError::malformed(&label, Position::Record("index.json".into()), "no manifest")
        })?;
        if ref_name.is_none() {
            ref_name = d
                .annotations
                .get("org.opencontainers.image.ref.name")
                .cloned();
        }
        let member = blob_name(&label, &d.digest)?;
        let bytes = store.read_small(&member, SMALL)?;
        check_digest(&label, &member, &d.digest, &bytes)?;
        doc = json_at(&label, &member, &bytes)?;
        chosen = Some(d);
        if doc.manifests.is_none() {
            break;
        }
    }
    let manifest_desc = chosen.ok_or_else(|| {
        CatalogError::malformed(
            &label,
            Position::Record("index.json".into()),
            "no image manifest found",
        )
    })?;
    let config = doc.config.ok_or_else(|| {
        CatalogError::malformed(
            &label,
            Position::Record(format!("manifest {}", manifest_desc.digest)),
            "the manifest has no config",
        )
    })?;
    let layers = doc.layers.unwrap_or_default();
    let ids = diff_ids(store, &blob_name(&label, &config.digest)?)?;
    if !ids.is_empty() && ids.len() != layers.len() {
        warnings.push(format!(
            "{label}: the config lists {} diff IDs for {} layers",
            ids.len(),
            layers.len()
        ));
    }
    let mut plans = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        if l.media_type
            .as_deref()
            .is_some_and(|m| m.contains("nondistributable") || m.contains("foreign"))
        {
            warnings.push(format!(
                "{label}: layer {} is non-distributable and may be absent",
                l.digest
            ));
        }
        plans.push(LayerPlan {
            member: blob_name(&label, &l.digest)?,
            expect: Some(l.digest.clone()),
            label: ids.get(i).cloned().unwrap_or_else(|| l.digest.clone()),
            size: l.size,
        });
    }
    let (hex_alg, hex) = manifest_desc
        .digest
        .split_once(':')
        .unwrap_or(("sha256", ""));
    let name = ref_name
        .clone()
        .unwrap_or_else(|| label.rsplit('/').next().unwrap_or(&label).to_owned());
    let mut digests = BTreeMap::new();
    digests.insert(hex_alg.to_owned(), hex.to_owned());
    let purl = oci_purl(&name, &manifest_desc.digest);
    Ok(Plan {
        subject: Subject {
            name,
            version: ref_name.filter(|r| !r.contains('/')),
            digests,
            purl,
            kind: ComponentKind::Container,
            ..Subject::default()
        },
        layers: plans,
        warnings,
    })
}

/// `pkg:oci/name@sha256%3A…`: the purl specification's OCI type writes the
/// digest as the version, with its colon percent-encoded.
fn oci_purl(name: &str, digest: &str) -> Option<String> {
    let p = crate::common::purl("oci", None, image_basename(name), Some(digest), &[]).ok()?;
    Some(match p.split_once('@') {
        Some((head, v)) => format!("{head}@{}", v.replacen(':', "%3A", 1)),
        None => p,
    })
}

fn image_basename(name: &str) -> &str {
    let no_tag = match name.rfind(':') {
        Some(i) if !name.get(i..).unwrap_or_default().contains('/') => {
            name.get(..i).unwrap_or(name)
        }
        _ => name,
    };
    let last = no_tag.rsplit('/').next().unwrap_or(no_tag);
    if last.is_empty() { "image" } else { last }
}

fn plan_docker(store: &mut dyn Store) -> Result<Plan> {
    let label = store.label().to_owned();
    let bytes = store.read_small("manifest.json", SMALL)?;
    let manifests: Vec<DockerManifest> = json_at(&label, "manifest.json", &bytes)?;
    let mut warnings = Vec::new();
    if manifests.len() > 1 {
        warnings.push(format!(
            "{label}: the archive holds {} images; only the first is inventoried",
            manifests.len()
        ));
    }
    let m = manifests.into_iter().next().ok_or_else(|| {
        CatalogError::malformed(
            &label,
            Position::Record("manifest.json".into()),
            "the manifest lists no image",
        )
    })?;
    let config_bytes = store.read_small(&m.config, SMALL)?;
    let config_digest = hex::encode(Sha256::digest(&config_bytes));
    let cfg: ImageConfig = json_at(&label, &m.config, &config_bytes)?;
    let ids = cfg.rootfs.map(|r| r.diff_ids).unwrap_or_default();
    let mut layers = Vec::new();
    for (i, member) in m.layers.iter().enumerate() {
        // A legacy `layer.tar` is uncompressed: its digest is its diff ID.
        // An OCI-style member under `blobs/` is checked by its own name.
        let expect = if let Some(hex) = member.strip_prefix("blobs/sha256/") {
            Some(format!("sha256:{hex}"))
        } else {
            ids.get(i).cloned()
        };
        let size = store.open(member).map(|(_, s)| s)?;
        layers.push(LayerPlan {
            member: member.clone(),
            expect,
            label: ids.get(i).cloned().unwrap_or_else(|| member.clone()),
            size,
        });
    }
    let tag = m.repo_tags.and_then(|t| t.into_iter().next());
    let name = tag
        .clone()
        .unwrap_or_else(|| label.rsplit('/').next().unwrap_or(&label).to_owned());
    let mut digests = BTreeMap::new();
    // `docker save` without an OCI index carries no registry manifest digest;
    // the image ID (the config's SHA-256) is the digest it does carry.
    digests.insert("sha256".to_owned(), config_digest.clone());
    let purl = oci_purl(&name, &format!("sha256:{config_digest}"));
    Ok(Plan {
        subject: Subject {
            name,
            version: tag.and_then(|t| t.rsplit_once(':').map(|(_, v)| v.to_owned())),
            digests,
            purl,
            kind: ComponentKind::Container,
            ..Subject::default()
        },
        layers,
        warnings,
    })
}

fn check_digest(label: &str, member: &str, expect: &str, bytes: &[u8]) -> Result<()> {
    if let Some(hex) = expect.strip_prefix("sha256:") {
        let got = hex::encode(Sha256::digest(bytes));
        if got != hex {
            return Err(CatalogError::malformed(
                label,
                Position::Entry(member.to_owned()),
                format!("digest mismatch: expected sha256:{hex}, content is sha256:{got}"),
            ));
        }
    }
    Ok(())
}

/// Counts and hashes the bytes read from a blob.
struct Tap<R> {
    inner: R,
    hasher: Sha256,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(b) = buf.get(..n) {
            self.hasher.update(b);
        }
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Fails once more than `limit` bytes have been read (decompression bombs).
struct Bounded<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(io::Error::other(format!(
                "layer expands beyond the limit of {} bytes",
                self.limit
            )));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// What a file in the virtual index holds for us.
#[derive(Clone)]
enum Payload {
    /// Nothing read (not interesting).
    None,
    /// Contents of a package database, `os-release` or lockfile.
    Bytes(Rc<Vec<u8>>),
    /// An executable already scanned.
    Scanned(Rc<Inventory>),
}

#[derive(Clone)]
struct Node {
    layer: usize,
    link: Option<String>,
    payload: Payload,
}

/// Kinds of interesting path.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Interest {
    OsRelease,
    Dpkg,
    DpkgStatusD,
    Apk,
    RpmSqlite,
    RpmLegacy,
    Lockfile,
    GoSum,
}

const DPKG_STATUS: &str = "var/lib/dpkg/status";
const APK_INSTALLED: &str = "lib/apk/db/installed";
const RPM_SQLITE: [&str; 2] = [
    "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
];
const RPM_LEGACY: [&str; 4] = [
    "var/lib/rpm/Packages",
    "var/lib/rpm/Packages.db",
    "usr/lib/sysimage/rpm/Packages",
    "usr/lib/sysimage/rpm/Packages.db",
];

fn interest(path: &str) -> Option<Interest> {
    match path {
        "etc/os-release" | "usr/lib/os-release" => return Some(Interest::OsRelease),
        DPKG_STATUS => return Some(Interest::Dpkg),
        APK_INSTALLED => return Some(Interest::Apk),
        _ => {}
    }
    if RPM_SQLITE.contains(&path) {
        return Some(Interest::RpmSqlite);
    }
    if RPM_LEGACY.contains(&path) {
        return Some(Interest::RpmLegacy);
    }
    if let Some(rest) = path.strip_prefix("var/lib/dpkg/status.d/")
        && !rest.contains('/')
        && !rest.ends_with(".md5sums")
    {
        return Some(Interest::DpkgStatusD);
    }
    // Lockfiles of applications, not the package caches of installers.
    if path
        .split('/')
        .any(|c| c == "node_modules" || c == ".cargo" || c == "site-packages")
    {
        return None;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    if name == "go.sum" {
        return Some(Interest::GoSum);
    }
    LockfileKind::detect(path).map(|_| Interest::Lockfile)
}

/// The layered virtual filesystem.
#[derive(Default)]
struct Index {
    files: BTreeMap<String, Node>,
}

impl Index {
    fn remove_lower(&mut self, prefix: &str, layer: usize, include_self: bool) {
        let start = if include_self {
            prefix.to_owned()
        } else {
            format!("{prefix}/")
        };
        let dir_prefix = format!("{prefix}/");
        let doomed: Vec<String> = self
            .files
            .range(start..)
            .take_while(|(k, _)| {
                (include_self && k.as_str() == prefix)
                    || k.starts_with(&dir_prefix)
                    || (prefix.is_empty())
            })
            .filter(|(k, n)| n.layer < layer && (include_self || k.as_str() != prefix))
            .map(|(k, _)| k.clone())
            .collect();
        for k in doomed {
            self.files.remove(&k);
        }
    }

    /// Follows symlinks inside the index.
    fn resolve(&self, path: &str) -> Option<(&str, &Node)> {
        let mut p = path.to_owned();
        for _ in 0..40 {
            let (k, n) = self.files.get_key_value(&p)?;
            match &n.link {
                Some(t) => p = t.clone(),
                None => return Some((k.as_str(), n)),
            }
        }
        None
    }
}

/// Keys identifying a package across database versions.
type PkgKey = (String, String, String);

fn db_keys(inv: &Inventory) -> BTreeSet<PkgKey> {
    inv.components
        .iter()
        .map(|c| {
            let arch = c.properties.get("dpkg:architecture").cloned().or_else(|| {
                c.purl
                    .as_deref()
                    .and_then(|p| p.split_once("arch="))
                    .map(|(_, r)| r.split('&').next().unwrap_or_default().to_owned())
            });
            (
                c.name.clone(),
                c.version.clone().unwrap_or_default(),
                arch.unwrap_or_default(),
            )
        })
        .collect()
}

fn parse_db(
    kind: Interest,
    path: &str,
    bytes: &[u8],
    distro: Option<&Distro>,
    limits: &Limits,
) -> Result<Inventory> {
    match kind {
        Interest::Dpkg | Interest::DpkgStatusD => os::dpkg::parse(path, bytes, distro, limits),
        Interest::Apk => os::apk::parse(path, bytes, distro, limits),
        Interest::RpmSqlite => os::rpm::parse(path, bytes, distro, limits),
        _ => Ok(Inventory::default()),
    }
}

/// Inventories an image at `path`: a `docker save` or OCI tar, or an OCI
/// layout directory.
pub fn catalog_image(
    path: &Path,
    opts: &ImageOptions,
    progress: &mut ProgressFn<'_>,
) -> Result<Inventory> {
    let label = path.display().to_string();
    if path.is_dir() {
        if !path.join("oci-layout").is_file() || !path.join("index.json").is_file() {
            return Err(CatalogError::NotRecognised { file: label });
        }
        let mut store = DirStore {
            label: label.clone(),
            root: path.to_owned(),
        };
        let plan = plan_oci(&mut store, opts)?;
        return apply(&mut store, plan, opts, progress);
    }
    let mut store = TarStore::index(&label, path, &opts.limits)?;
    let plan = if store.locate("index.json").is_some() && store.locate("oci-layout").is_some() {
        plan_oci(&mut store, opts)?
    } else if store.locate("manifest.json").is_some() {
        plan_docker(&mut store)?
    } else {
        return Err(CatalogError::malformed(
            &label,
            Position::File,
            "a tar without manifest.json (docker save) or index.json and oci-layout (OCI layout) is not an image",
        ));
    };
    apply(&mut store, plan, opts, progress)
}

/// Whether a tar at `path` looks like an image (cheap: checks for the
/// marker members in the first few entries is not possible without reading
/// the whole index, so this only checks that it is a tar).
pub fn looks_like_tar(head: &[u8]) -> bool {
    head.get(257..262) == Some(b"ustar")
}

fn apply(
    store: &mut dyn Store,
    plan: Plan,
    opts: &ImageOptions,
    progress: &mut ProgressFn<'_>,
) -> Result<Inventory> {
    let label = store.label().to_owned();
    let limits = &opts.limits;
    let total: u64 = plan.layers.iter().map(|l| l.size).sum();
    let mut done_before = 0u64;
    let mut index = Index::default();
    let mut warnings = plan.warnings;
    // Per database path: (layer, its package keys) for each layer that wrote it.
    let mut history: BTreeMap<&'static str, Vec<(usize, BTreeSet<PkgKey>)>> = BTreeMap::new();
    for (li, layer) in plan.layers.iter().enumerate() {
        let where_ = format!("{label}!/{}", layer.member);
        let count = Rc::new(Cell::new(0u64));
        let (raw, _) = store.open(&layer.member)?;
        let mut tap = Tap {
            inner: raw,
            hasher: Sha256::new(),
            count: count.clone(),
        };
        let mut head = [0u8; 4];
        let got = read_up_to(&mut tap, &mut head).map_err(|e| CatalogError::io(&where_, e))?;
        let head_bytes = head.get(..got).unwrap_or_default().to_vec();
        let chained = io::Cursor::new(head_bytes.clone()).chain(&mut tap);
        let decoder: Box<dyn Read + '_> = if head_bytes.starts_with(&[0x1f, 0x8b]) {
            Box::new(flate2::read::MultiGzDecoder::new(chained))
        } else if head_bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Box::new(
                ruzstd::decoding::StreamingDecoder::new(chained).map_err(|e| {
                    CatalogError::malformed(&where_, Position::Offset(0), format!("zstd: {e}"))
                })?,
            )
        } else {
            Box::new(chained)
        };
        let bounded = Bounded {
            inner: decoder,
            left: limits.max_layer_bytes,
            limit: limits.max_layer_bytes,
        };
        let mut archive = tar::Archive::new(bounded);
        let mut touched: BTreeSet<&'static str> = BTreeSet::new();
        {
            let entries = archive.entries().map_err(|e| {
                CatalogError::malformed(&where_, Position::Offset(0), e.to_string())
            })?;
            let mut n = 0u64;
            let mut last = String::from("(start)");
            for entry in entries {
                let mut entry = entry.map_err(|e| {
                    CatalogError::malformed(
                        &where_,
                        Position::Entry(last.clone()),
                        format!("layer is damaged or truncated after this entry: {e}"),
                    )
                })?;
                n += 1;
                if n > limits.max_archive_entries {
                    return Err(CatalogError::Limit {
                        file: where_.clone(),
                        what: "number of layer entries".into(),
                        limit: format!("{} entries", limits.max_archive_entries),
                    });
                }
                let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
                last.clone_from(&raw);
                let Some(path) = normalise_path(&raw) else {
                    warnings.push(format!(
                        "{where_}: entry {raw:?} has a `..` component; ignored"
                    ));
                    continue;
                };
                let (dir, name) = match path.rsplit_once('/') {
                    Some((d, n)) => (d.to_owned(), n.to_owned()),
                    None => (String::new(), path.clone()),
                };
                if name == ".wh..wh..opq" {
                    index.remove_lower(&dir, li, false);
                    continue;
                }
                if let Some(hidden) = name.strip_prefix(".wh.") {
                    let victim = if dir.is_empty() {
                        hidden.to_owned()
                    } else {
                        format!("{dir}/{hidden}")
                    };
                    index.remove_lower(&victim, li, true);
                    for db in [DPKG_STATUS, APK_INSTALLED, RPM_SQLITE[0], RPM_SQLITE[1]] {
                        if db == victim || db.starts_with(&format!("{victim}/")) {
                            touched.insert(db);
                        }
                    }
                    continue;
                }
                let et = entry.header().entry_type();
                let node = match et {
                    tar::EntryType::Symlink => {
                        let t = entry
                            .link_name_bytes()
                            .map(|t| String::from_utf8_lossy(&t).into_owned())
                            .unwrap_or_default();
                        Node {
                            layer: li,
                            link: resolve_link(&path, &t),
                            payload: Payload::None,
                        }
                    }
                    tar::EntryType::Link => {
                        let t = entry
                            .link_name_bytes()
                            .map(|t| String::from_utf8_lossy(&t).into_owned())
                            .unwrap_or_default();
                        let target = normalise_path(&t);
                        let payload = target
                            .as_ref()
                            .and_then(|t| index.files.get(t))
                            .map(|n| n.payload.clone())
                            .unwrap_or(Payload::None);
                        Node {
                            layer: li,
                            link: None,
                            payload,
                        }
                    }
                    tar::EntryType::Regular | tar::EntryType::Continuous => {
                        let size = entry.size();
                        let mode = entry.header().mode().unwrap_or(0);
                        let payload = match interest(&path) {
                            Some(Interest::RpmLegacy) => {
                                let mut head = [0u8; 16];
                                let got = read_up_to(&mut entry, &mut head)
                                    .map_err(|e| CatalogError::io(&where_, e))?;
                                Payload::Bytes(Rc::new(
                                    head.get(..got).unwrap_or_default().to_vec(),
                                ))
                            }
                            Some(kind) => {
                                if size > limits.max_file_bytes {
                                    warnings.push(format!("{where_}: /{path} is {size} bytes, over the limit of {}; not read", limits.max_file_bytes));
                                    Payload::None
                                } else {
                                    let mut buf =
                                        Vec::with_capacity(usize::try_from(size).unwrap_or(0));
                                    entry.read_to_end(&mut buf).map_err(|e| {
                                        CatalogError::malformed(
                                            &where_,
                                            Position::Entry(raw.clone()),
                                            format!("cannot read: {e}"),
                                        )
                                    })?;
                                    match kind {
                                        Interest::Dpkg => {
                                            touched.insert(DPKG_STATUS);
                                        }
                                        Interest::Apk => {
                                            touched.insert(APK_INSTALLED);
                                        }
                                        Interest::RpmSqlite => {
                                            touched.insert(if path == RPM_SQLITE[0] {
                                                RPM_SQLITE[0]
                                            } else {
                                                RPM_SQLITE[1]
                                            });
                                        }
                                        _ => {}
                                    }
                                    Payload::Bytes(Rc::new(buf))
                                }
                            }
                            None if mode & 0o111 != 0
                                && size >= 64
                                && size <= limits.max_binary_bytes =>
                            {
                                let mut head = [0u8; 4];
                                let got = read_up_to(&mut entry, &mut head)
                                    .map_err(|e| CatalogError::io(&where_, e))?;
                                if binary::looks_executable(head.get(..got).unwrap_or_default()) {
                                    let mut buf =
                                        Vec::with_capacity(usize::try_from(size).unwrap_or(0));
                                    buf.extend_from_slice(head.get(..got).unwrap_or_default());
                                    entry.read_to_end(&mut buf).map_err(|e| {
                                        CatalogError::malformed(
                                            &where_,
                                            Position::Entry(raw.clone()),
                                            format!("cannot read: {e}"),
                                        )
                                    })?;
                                    match binary::scan(&format!("/{path}"), &buf, limits) {
                                        Ok(Some(inv)) => Payload::Scanned(Rc::new(inv)),
                                        Ok(None) => Payload::None,
                                        Err(e) => {
                                            warnings.push(format!("{where_}: {e}"));
                                            Payload::None
                                        }
                                    }
                                } else {
                                    Payload::None
                                }
                            }
                            None => Payload::None,
                        };
                        Node {
                            layer: li,
                            link: None,
                            payload,
                        }
                    }
                    tar::EntryType::Directory => Node {
                        layer: li,
                        link: None,
                        payload: Payload::None,
                    },
                    _ => continue,
                };
                // A new entry replaces whatever a lower layer had at the path,
                // including a directory's children if it is no longer one.
                if et != tar::EntryType::Directory {
                    index.remove_lower(&path, li, false);
                }
                index.files.insert(path, node);
                progress(&Progress {
                    done: done_before + count.get(),
                    total,
                    message: layer.label.clone(),
                });
            }
        }
        // Drain the rest (tar padding) so the digest covers the whole blob.
        let mut inner = archive.into_inner();
        io::copy(&mut inner, &mut io::sink()).map_err(|e| {
            CatalogError::malformed(
                &where_,
                Position::File,
                format!("layer is damaged or truncated: {e}"),
            )
        })?;
        drop(inner);
        let digest = format!("sha256:{}", hex::encode(tap.hasher.finalize_reset()));
        done_before += count.get();
        progress(&Progress {
            done: done_before,
            total,
            message: layer.label.clone(),
        });
        if let Some(expect) = layer.expect.as_deref().filter(|e| e.starts_with("sha256:")) {
            // A legacy layer.tar is checked against its diff ID; a
            // compressed blob against its descriptor digest.
            if expect != digest {
                return Err(CatalogError::malformed(
                    &label,
                    Position::Entry(layer.member.clone()),
                    format!("layer digest mismatch: expected {expect}, content is {digest}"),
                ));
            }
        }
        for db in touched {
            let kind = match db {
                DPKG_STATUS => Interest::Dpkg,
                APK_INSTALLED => Interest::Apk,
                _ => Interest::RpmSqlite,
            };
            let keys = match index.files.get(db).map(|n| &n.payload) {
                Some(Payload::Bytes(b)) => match parse_db(kind, db, b, None, limits) {
                    Ok(inv) => db_keys(&inv),
                    Err(_) => BTreeSet::new(),
                },
                _ => BTreeSet::new(),
            };
            history.entry(db).or_default().push((li, keys));
        }
    }
    finish(
        &label,
        plan.subject,
        &plan.layers,
        index,
        history,
        warnings,
        limits,
    )
}

fn read_up_to<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        let n = r.read(buf.get_mut(got..).unwrap_or_default())?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok(got)
}

fn finish(
    label: &str,
    subject: Subject,
    layers: &[LayerPlan],
    index: Index,
    history: BTreeMap<&'static str, Vec<(usize, BTreeSet<PkgKey>)>>,
    mut warnings: Vec<String>,
    limits: &Limits,
) -> Result<Inventory> {
    let layer_label = |i: usize| layers.get(i).map(|l| l.label.clone());
    let distro = ["etc/os-release", "usr/lib/os-release"]
        .iter()
        .find_map(|p| match index.resolve(p) {
            Some((
                _,
                Node {
                    payload: Payload::Bytes(b),
                    ..
                },
            )) => os::parse_os_release(&String::from_utf8_lossy(b)),
            _ => None,
        });
    let mut parts = Vec::new();
    for (path, node) in &index.files {
        let Some(kind) = interest(path) else {
            if let Payload::Scanned(inv) = &node.payload {
                let mut inv = (**inv).clone();
                for c in &mut inv.components {
                    c.layer = layer_label(node.layer);
                }
                parts.push(inv);
            }
            continue;
        };
        let Payload::Bytes(bytes) = &node.payload else {
            continue;
        };
        let location = format!("/{path}");
        let result = match kind {
            Interest::OsRelease | Interest::GoSum => continue,
            Interest::RpmLegacy => {
                match os::rpm::parse(&location, bytes, distro.as_ref(), limits) {
                    Err(e @ CatalogError::Unsupported { .. }) => warnings.push(e.to_string()),
                    _ => warnings.push(format!(
                        "{location}: an RPM database in a legacy format was found and not read"
                    )),
                }
                continue;
            }
            Interest::Lockfile => {
                let Some(lk) = LockfileKind::detect(path) else {
                    continue;
                };
                let sibling = if lk == LockfileKind::GoMod {
                    let sum = format!("{}go.sum", path.strip_suffix("go.mod").unwrap_or_default());
                    match index.files.get(&sum).map(|n| &n.payload) {
                        Some(Payload::Bytes(b)) => Some(b.clone()),
                        _ => None,
                    }
                } else {
                    None
                };
                lockfile::parse(
                    lk,
                    &location,
                    bytes,
                    sibling.as_deref().map(Vec::as_slice),
                    limits,
                )
            }
            db => parse_db(db, &location, bytes, distro.as_ref(), limits),
        };
        match result {
            Ok(mut inv) => {
                let hist = history.get(match kind {
                    Interest::Dpkg => DPKG_STATUS,
                    Interest::Apk => APK_INSTALLED,
                    Interest::RpmSqlite if path == RPM_SQLITE[0] => RPM_SQLITE[0],
                    Interest::RpmSqlite => RPM_SQLITE[1],
                    _ => "",
                });
                for c in &mut inv.components {
                    c.layer = match hist {
                        Some(h) => {
                            let key = db_keys(&Inventory {
                                components: vec![c.clone()],
                                ..Inventory::default()
                            });
                            introduced(h, key.iter().next()).and_then(layer_label)
                        }
                        None => layer_label(node.layer),
                    };
                }
                parts.push(inv);
            }
            // One bad file inside an image is reported, not fatal: the rest
            // of the image is still worth inventorying.
            Err(e) => warnings.push(format!("{label}: {e}")),
        }
    }
    let mut inv = merge_inventories(parts);
    inv.warnings.extend(warnings);
    inv.warnings.sort();
    inv.warnings.dedup();
    inv.metadata.distro = distro;
    inv.metadata.subject = Some(subject);
    inv.metadata.source_format = Some("container-image".into());
    Ok(inv)
}

/// The earliest layer from which every later version of a database lists `key`.
fn introduced(history: &[(usize, BTreeSet<PkgKey>)], key: Option<&PkgKey>) -> Option<usize> {
    let key = key?;
    let mut since = None;
    for (layer, keys) in history {
        if keys.contains(key) {
            since.get_or_insert(*layer);
        } else {
            since = None;
        }
    }
    since
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalise_and_refuse_parent_components() {
        assert_eq!(
            normalise_path("./var/lib/dpkg/status").as_deref(),
            Some("var/lib/dpkg/status")
        );
        assert_eq!(
            normalise_path("/etc//os-release").as_deref(),
            Some("etc/os-release")
        );
        assert_eq!(normalise_path("../../etc/passwd"), None);
        assert_eq!(normalise_path("a/../b"), None);
        assert_eq!(
            resolve_link("etc/os-release", "../usr/lib/os-release").as_deref(),
            Some("usr/lib/os-release")
        );
        assert_eq!(resolve_link("a/b", "../../../../x").as_deref(), Some("x"));
        assert_eq!(resolve_link("a/b", "/abs/p").as_deref(), Some("abs/p"));
    }

    #[test]
    fn introduced_layer_is_the_start_of_continuous_presence() {
        let k: PkgKey = ("a".into(), "1".into(), "amd64".into());
        let with: BTreeSet<PkgKey> = [k.clone()].into();
        let without = BTreeSet::new();
        assert_eq!(
            introduced(&[(0, with.clone()), (2, with.clone())], Some(&k)),
            Some(0)
        );
        assert_eq!(
            introduced(
                &[(0, with.clone()), (1, without), (3, with.clone())],
                Some(&k)
            ),
            Some(3)
        );
    }

    #[test]
    fn digests_that_could_escape_are_refused() {
        assert!(blob_name("x", "sha256:../../etc/passwd").is_err());
        assert!(blob_name("x", "sha256").is_err());
        assert_eq!(
            blob_name("x", "sha256:abc123").ok().as_deref(),
            Some("blobs/sha256/abc123")
        );
    }

    #[test]
    fn interesting_paths() {
        assert_eq!(interest("var/lib/dpkg/status"), Some(Interest::Dpkg));
        assert_eq!(
            interest("var/lib/dpkg/status.d/base"),
            Some(Interest::DpkgStatusD)
        );
        assert_eq!(interest("var/lib/dpkg/status.d/base.md5sums"), None);
        assert_eq!(interest("app/package-lock.json"), Some(Interest::Lockfile));
        assert_eq!(interest("app/node_modules/x/package-lock.json"), None);
        assert_eq!(
            interest("usr/lib/sysimage/rpm/rpmdb.sqlite"),
            Some(Interest::RpmSqlite)
        );
    }
}
