//! Operating-system package databases and the distribution they belong to.
//!
//! The distribution comes from `os-release` (`/etc/os-release`, falling back
//! to `/usr/lib/os-release`) and is recorded three ways, because consumers
//! look in different places: in the inventory's `metadata.distro`; in each
//! purl as the `distro` qualifier (`distro=debian-12`, the form syft and
//! Trivy write) with the purl namespace set to the distribution's ID; and as
//! the OSV ecosystem of each component (Debian, Ubuntu, Alpine, Red Hat…),
//! which the matcher combines with the release.
//!
//! Each component also records its source package (dpkg `Source:`, apk
//! `o:` origin, rpm `SOURCERPM`), also written as the purl's `upstream`
//! qualifier, because distributions publish advisories per source package.

use palisade_inventory::Distro;
use palisade_versions::Ecosystem;

pub mod apk;
pub mod dpkg;
pub mod rpm;

/// Parses an `os-release` file (`KEY=value` lines, values optionally quoted
/// with shell-style escapes). Returns `None` when it names no `ID`.
pub fn parse_os_release(text: &str) -> Option<Distro> {
    let mut id = None;
    let mut version_id = None;
    let mut codename = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = unquote(v.trim());
        match k.trim() {
            "ID" => id = Some(v),
            "VERSION_ID" => version_id = Some(v),
            "VERSION_CODENAME" => codename = Some(v).filter(|c| !c.is_empty()),
            _ => {}
        }
    }
    Some(Distro {
        id: id.filter(|i| !i.is_empty())?,
        version_id: version_id.filter(|v| !v.is_empty()),
        codename,
    })
}

fn unquote(v: &str) -> String {
    let inner = v
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
        .unwrap_or(v);
    let mut out = String::with_capacity(inner.len());
    let mut esc = false;
    for ch in inner.chars() {
        if esc {
            out.push(ch);
            esc = false;
        } else if ch == '\\' {
            esc = true;
        } else {
            out.push(ch);
        }
    }
    out
}

/// The `distro` purl qualifier: `ID-VERSION_ID`, or the ID alone.
pub fn distro_qualifier(d: &Distro) -> String {
    match &d.version_id {
        Some(v) => format!("{}-{v}", d.id),
        None => d.id.clone(),
    }
}

/// The OSV ecosystem for packages of a distribution, when OSV has one.
pub fn ecosystem_for(d: &Distro) -> Option<Ecosystem> {
    let id = d.id.to_ascii_lowercase();
    Some(match id.as_str() {
        "debian" => Ecosystem::Debian,
        "ubuntu" => Ecosystem::Ubuntu,
        "alpine" => Ecosystem::Alpine,
        "wolfi" => Ecosystem::Wolfi,
        "chainguard" => Ecosystem::Chainguard,
        "alpaquita" => Ecosystem::Alpaquita,
        "minimos" => Ecosystem::MinimOs,
        "rhel" => Ecosystem::RedHat,
        "almalinux" => Ecosystem::AlmaLinux,
        "rocky" => Ecosystem::RockyLinux,
        "opensuse" | "opensuse-leap" | "opensuse-tumbleweed" => Ecosystem::OpenSuse,
        "sles" | "sled" | "sle-micro" | "sles_sap" => Ecosystem::Suse,
        "azurelinux" | "mariner" => Ecosystem::AzureLinux,
        "photon" => Ecosystem::PhotonOs,
        "openeuler" => Ecosystem::OpenEuler,
        "mageia" => Ecosystem::Mageia,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_quotes_and_fields() {
        let text = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n";
        let d = parse_os_release(text);
        assert_eq!(d.as_ref().map(|d| d.id.as_str()), Some("debian"));
        assert_eq!(d.as_ref().and_then(|d| d.version_id.as_deref()), Some("12"));
        assert_eq!(
            d.as_ref().and_then(|d| d.codename.as_deref()),
            Some("bookworm")
        );
        assert_eq!(
            d.as_ref().map(distro_qualifier).as_deref(),
            Some("debian-12")
        );
        assert_eq!(d.as_ref().and_then(ecosystem_for), Some(Ecosystem::Debian));
        assert_eq!(parse_os_release("NAME=x\n"), None);
    }
}
