//! The filesystem edge: what a path given on the command line is, and the
//! walk of a directory.
//!
//! A directory is walked with the `ignore` crate, honouring `.gitignore`,
//! `.ignore` and git's exclude files (also outside a git repository) and
//! skipping hidden entries, so `node_modules/` and build output that a
//! project ignores are not inventoried twice. An OCI image layout directory
//! is an image, not a tree. In a tree, files are recognised by name
//! (lockfiles), by path relative to the root (OS package databases, when the
//! directory is a root filesystem) and, optionally, by content (executables
//! with build information). One unreadable or malformed file in a tree is
//! reported as a warning in the inventory and the walk goes on; a single
//! file given directly fails with its error.
//!
//! Locations are recorded relative to the given root, with `/` separators,
//! so the same tree gives the same inventory wherever it is checked out.

use std::io::Read;
use std::path::{Path, PathBuf};

use palisade_inventory::{ComponentKind, Distro, Inventory, Subject};

use crate::common::{Limits, merge_inventories};
use crate::error::{CatalogError, Result};
use crate::image::{self, ImageOptions, Progress, ProgressFn};
use crate::lockfile::{self, LockfileKind};
use crate::{binary, os};

/// Options for [`catalog_path`].
#[derive(Clone, Debug)]
pub struct CatalogOptions {
    /// Size and count limits.
    pub limits: Limits,
    /// Platform to pick from a multi-platform image index (`linux/arm64`).
    pub platform: Option<String>,
    /// Whether executables found in a directory are scanned for embedded
    /// build information (Go, `cargo auditable`).
    pub scan_binaries: bool,
}

impl Default for CatalogOptions {
    fn default() -> Self {
        CatalogOptions {
            limits: Limits::default(),
            platform: None,
            scan_binaries: true,
        }
    }
}

/// What a single file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A lockfile or manifest.
    Lockfile(LockfileKind),
    /// dpkg `status` or a `status.d` entry.
    DpkgStatus,
    /// apk `installed`.
    ApkInstalled,
    /// An RPM database.
    RpmDb,
    /// An image archive (tar).
    ImageArchive,
    /// An executable.
    Executable,
}

fn read_limited(label: &str, path: &Path, limit: u64) -> Result<Vec<u8>> {
    let f = std::fs::File::open(path).map_err(|e| CatalogError::io(label, e))?;
    let len = f.metadata().map_err(|e| CatalogError::io(label, e))?.len();
    if len > limit {
        return Err(CatalogError::Limit {
            file: label.to_owned(),
            what: format!("size {len} bytes"),
            limit: format!("{limit} bytes"),
        });
    }
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    f.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| CatalogError::io(label, e))?;
    Ok(buf)
}

fn read_head(path: &Path, n: usize) -> std::io::Result<Vec<u8>> {
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; n];
    let mut got = 0;
    while got < n {
        let k = f.read(buf.get_mut(got..).unwrap_or_default())?;
        if k == 0 {
            break;
        }
        got += k;
    }
    buf.truncate(got);
    Ok(buf)
}

/// Classifies an OS database by its path (relative to a root, or a bare
/// file name when given directly).
fn os_kind(rel: &str) -> Option<FileKind> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    if rel.ends_with("var/lib/dpkg/status") || rel == "status" {
        return Some(FileKind::DpkgStatus);
    }
    if rel.contains("var/lib/dpkg/status.d/") && !name.ends_with(".md5sums") {
        return Some(FileKind::DpkgStatus);
    }
    if rel.ends_with("lib/apk/db/installed") || rel == "installed" {
        return Some(FileKind::ApkInstalled);
    }
    if name == "rpmdb.sqlite"
        || ((name == "Packages" || name == "Packages.db") && rel.contains("rpm"))
    {
        return Some(FileKind::RpmDb);
    }
    None
}

/// The distribution of a root filesystem, from its `os-release`.
fn distro_of(root: &Path) -> Option<Distro> {
    ["etc/os-release", "usr/lib/os-release"]
        .iter()
        .find_map(|p| {
            let bytes = read_limited(p, &root.join(p), 1 << 20).ok()?;
            os::parse_os_release(&String::from_utf8_lossy(&bytes))
        })
}

/// The root filesystem a database path belongs to (`/x/var/lib/dpkg/status` -> `/x`).
fn root_of(path: &Path) -> Option<PathBuf> {
    let s = path.to_string_lossy().replace('\\', "/");
    for suffix in [
        "var/lib/dpkg/status",
        "lib/apk/db/installed",
        "var/lib/rpm/rpmdb.sqlite",
        "usr/lib/sysimage/rpm/rpmdb.sqlite",
    ] {
        if let Some(root) = s.strip_suffix(suffix) {
            return Some(PathBuf::from(if root.is_empty() { "." } else { root }));
        }
    }
    if let Some(i) = s.find("var/lib/dpkg/status.d/") {
        return Some(PathBuf::from(
            s.get(..i).filter(|r| !r.is_empty()).unwrap_or("."),
        ));
    }
    None
}

fn parse_file(
    kind: FileKind,
    label: &str,
    path: &Path,
    distro: Option<&Distro>,
    opts: &CatalogOptions,
) -> Result<Option<Inventory>> {
    let limits = &opts.limits;
    match kind {
        FileKind::Lockfile(lk) => {
            let bytes = read_limited(label, path, limits.max_file_bytes)?;
            let sibling = if lk == LockfileKind::GoMod {
                let sum = path.with_file_name("go.sum");
                if sum.is_file() {
                    Some(read_limited(
                        &format!("{label}/../go.sum"),
                        &sum,
                        limits.max_file_bytes,
                    )?)
                } else {
                    None
                }
            } else {
                None
            };
            lockfile::parse(lk, label, &bytes, sibling.as_deref(), limits).map(Some)
        }
        FileKind::DpkgStatus => {
            let bytes = read_limited(label, path, limits.max_file_bytes)?;
            os::dpkg::parse(label, &bytes, distro, limits).map(Some)
        }
        FileKind::ApkInstalled => {
            let bytes = read_limited(label, path, limits.max_file_bytes)?;
            os::apk::parse(label, &bytes, distro, limits).map(Some)
        }
        FileKind::RpmDb => {
            let bytes = read_limited(label, path, limits.max_file_bytes)?;
            os::rpm::parse(label, &bytes, distro, limits).map(Some)
        }
        FileKind::Executable => {
            let bytes = read_limited(label, path, limits.max_binary_bytes)?;
            binary::scan(label, &bytes, limits)
        }
        FileKind::ImageArchive => Err(CatalogError::NotRecognised {
            file: label.to_owned(),
        }),
    }
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &std::fs::Metadata) -> bool {
    true
}

/// Inventories a path: a directory tree, an OCI layout, an image archive, a
/// lockfile, an OS package database or an executable.
pub fn catalog_path(
    path: &Path,
    opts: &CatalogOptions,
    progress: &mut ProgressFn<'_>,
) -> Result<Inventory> {
    let label = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| CatalogError::io(&label, e))?;
    let image_opts = ImageOptions {
        limits: opts.limits.clone(),
        platform: opts.platform.clone(),
    };
    if meta.is_dir() {
        if path.join("oci-layout").is_file() && path.join("index.json").is_file() {
            return image::catalog_image(path, &image_opts, progress);
        }
        return catalog_dir(path, opts, progress);
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut inv = if let Some(lk) = LockfileKind::detect(&name) {
        parse_file(FileKind::Lockfile(lk), &label, path, None, opts)?.unwrap_or_default()
    } else if let Some(k) =
        os_kind(&path.to_string_lossy().replace('\\', "/")).or_else(|| os_kind(&name))
    {
        let distro = root_of(path).and_then(|r| distro_of(&r));
        let mut inv = parse_file(k, &label, path, distro.as_ref(), opts)?.unwrap_or_default();
        inv.metadata.distro = distro;
        inv
    } else {
        let head = read_head(path, 512).map_err(|e| CatalogError::io(&label, e))?;
        if image::looks_like_tar(&head) {
            return image::catalog_image(path, &image_opts, progress);
        }
        if head.starts_with(&[0x1f, 0x8b]) || head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            return Err(CatalogError::Unsupported {
                file: label,
                format: "compressed archive".into(),
                reason: "an image archive must be an uncompressed tar (as `docker save` writes it); decompress it first".into(),
            });
        }
        if binary::looks_executable(&head) {
            match parse_file(FileKind::Executable, &label, path, None, opts)? {
                Some(inv) => inv,
                None => {
                    let mut inv = Inventory::default();
                    inv.warnings.push(format!("{label}: the executable carries no Go build information or cargo-auditable data"));
                    inv
                }
            }
        } else {
            return Err(CatalogError::NotRecognised { file: label });
        }
    };
    inv.metadata.subject = Some(Subject {
        name,
        kind: ComponentKind::File,
        ..Subject::default()
    });
    Ok(inv)
}

fn catalog_dir(
    root: &Path,
    opts: &CatalogOptions,
    progress: &mut ProgressFn<'_>,
) -> Result<Inventory> {
    let label = root.display().to_string();
    let distro = distro_of(root);
    let mut parts = Vec::new();
    let mut warnings = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(true)
        .git_ignore(true)
        .git_exclude(true)
        .require_git(false)
        .follow_links(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .build();
    let mut seen = 0u64;
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                warnings.push(format!("{label}: {e}"));
                continue;
            }
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        seen += 1;
        let path = entry.path();
        let rel = path
            .strip_prefix(root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        progress(&Progress {
            done: seen,
            total: 0,
            message: rel.clone(),
        });
        let in_installer_cache = rel
            .split('/')
            .any(|c| c == "node_modules" || c == "site-packages" || c == "vendor");
        let kind = if let Some(k) = os_kind(&rel).filter(|_| rel.contains('/')) {
            Some(k)
        } else if let Some(lk) = LockfileKind::detect(&rel).filter(|_| !in_installer_cache) {
            Some(FileKind::Lockfile(lk))
        } else if opts.scan_binaries {
            let meta = entry.metadata().ok();
            let candidate = meta.as_ref().is_some_and(|m| {
                is_executable(m) && m.len() >= 64 && m.len() <= opts.limits.max_binary_bytes
            });
            let head = if candidate {
                read_head(path, 4).unwrap_or_default()
            } else {
                Vec::new()
            };
            binary::looks_executable(&head).then_some(FileKind::Executable)
        } else {
            None
        };
        let Some(kind) = kind else { continue };
        match parse_file(kind, &rel, path, distro.as_ref(), opts) {
            Ok(Some(inv)) => parts.push(inv),
            Ok(None) => {}
            Err(e) => warnings.push(e.to_string()),
        }
    }
    let mut inv = merge_inventories(parts);
    inv.warnings.extend(warnings);
    inv.warnings.sort();
    inv.warnings.dedup();
    inv.metadata.distro = distro;
    inv.metadata.source_format = Some("directory".into());
    let name = std::fs::canonicalize(root)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or(label);
    inv.metadata.subject = Some(Subject {
        name,
        kind: ComponentKind::Application,
        ..Subject::default()
    });
    Ok(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_database_paths_and_roots() {
        assert_eq!(os_kind("var/lib/dpkg/status"), Some(FileKind::DpkgStatus));
        assert_eq!(
            os_kind("var/lib/dpkg/status.d/libc6"),
            Some(FileKind::DpkgStatus)
        );
        assert_eq!(os_kind("var/lib/dpkg/status.d/libc6.md5sums"), None);
        assert_eq!(
            os_kind("lib/apk/db/installed"),
            Some(FileKind::ApkInstalled)
        );
        assert_eq!(os_kind("var/lib/rpm/rpmdb.sqlite"), Some(FileKind::RpmDb));
        assert_eq!(os_kind("src/Packages"), None);
        assert_eq!(
            root_of(Path::new("/img/var/lib/dpkg/status")),
            Some(PathBuf::from("/img/"))
        );
    }
}
