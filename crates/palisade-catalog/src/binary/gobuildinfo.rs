//! Go build information, as `go version -m` prints it.
//!
//! The Go linker writes a 32-byte header starting with the magic
//! `"\xff Go buildinf:"` at a 16-byte aligned address, in the
//! `.go.buildinfo` section (ELF), `__go_buildinfo` (Mach-O) or near the
//! start of the data segment (other formats). Byte 14 is the pointer size,
//! byte 15 holds flags: bit 0 big-endian, bit 1 "inline strings".
//!
//! - Go 1.18 and later (flag bit 1): the header is followed by two
//!   varint-length-prefixed strings, the Go version and the module info.
//! - Before 1.18: the header holds two pointers, at offsets 16 and
//!   16 + pointer size, to Go string headers `{data pointer, length}` in
//!   the binary's memory image; they are followed through the segment table
//!   (virtual address to file offset).
//!
//! The module info is framed by 16-byte sentinels (stripped when present)
//! and holds tab-separated lines: `path`, `mod` (the main module), `dep`,
//! `=>` (replaces the preceding `dep`), `build` (settings). Every `dep`
//! becomes a `golang` component; the main module is an application
//! component; the standard library is `pkg:golang/stdlib@v<go version>`,
//! as OSV's Go database names it.

use object::{Object, ObjectSection, ObjectSegment};
use palisade_inventory::{ComponentKind, Inventory};
use palisade_versions::Ecosystem;

use crate::common::{Collector, Pkg, component};
use crate::error::{CatalogError, Position, Result};
use crate::lockfile::golang::split_module;

const MAGIC: &[u8] = b"\xff Go buildinf:";
const MAX_STRING: u64 = 16 << 20;

/// The raw strings from a buildinfo blob.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildInfo {
    /// `runtime.buildVersion`, such as `go1.22.4`.
    pub go_version: String,
    /// The module info text, sentinels removed.
    pub modinfo: String,
}

fn uvarint(b: &[u8]) -> Option<(u64, usize)> {
    let mut x: u64 = 0;
    for (i, byte) in b.iter().enumerate().take(10) {
        x |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((x, i + 1));
        }
    }
    None
}

fn decode_string(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let (n, used) = uvarint(b)?;
    let n = usize::try_from(n)
        .ok()
        .filter(|n| (*n as u64) <= MAX_STRING)?;
    let start = used;
    Some((b.get(start..start.checked_add(n)?)?, b.get(start + n..)?))
}

/// Finds the 16-byte-aligned magic in `data`.
fn find_header(data: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(rel) = data
        .get(from..)?
        .windows(MAGIC.len())
        .position(|w| w == MAGIC)
    {
        let i = from + rel;
        if i % 16 == 0 && data.len() - i >= 32 {
            return Some(i);
        }
        from = i + 1;
    }
    None
}

/// Reads `len` bytes at virtual address `addr` through the segment table.
fn read_at(obj: &object::File<'_>, bytes: &[u8], addr: u64, len: u64) -> Option<Vec<u8>> {
    for seg in obj.segments() {
        let start = seg.address();
        let (off, fsize) = seg.file_range();
        if addr >= start && addr.checked_add(len)? <= start.checked_add(fsize)? {
            let o = usize::try_from(off.checked_add(addr - start)?).ok()?;
            let l = usize::try_from(len).ok()?;
            return bytes.get(o..o.checked_add(l)?).map(<[u8]>::to_vec);
        }
    }
    for sec in obj.sections() {
        let start = sec.address();
        if let Some((off, fsize)) = sec.file_range()
            && addr >= start
            && addr.checked_add(len)? <= start.checked_add(fsize)?
        {
            let o = usize::try_from(off.checked_add(addr - start)?).ok()?;
            let l = usize::try_from(len).ok()?;
            return bytes.get(o..o.checked_add(l)?).map(<[u8]>::to_vec);
        }
    }
    None
}

/// Locates and decodes the buildinfo blob. `Ok(None)` if there is none.
pub fn read(file: &str, bytes: &[u8], obj: &object::File<'_>) -> Result<Option<BuildInfo>> {
    // Search the dedicated section first, then the whole file.
    let (region, region_off) = match obj
        .section_by_name(".go.buildinfo")
        .or_else(|| obj.section_by_name("__go_buildinfo"))
        .and_then(|s| s.file_range())
    {
        Some((off, size)) => {
            let o = usize::try_from(off).unwrap_or(usize::MAX);
            let s = usize::try_from(size).unwrap_or(0);
            match bytes.get(o..o.saturating_add(s)) {
                Some(r) => (r, o),
                None => (bytes, 0),
            }
        }
        None => (bytes, 0),
    };
    let Some(at) = find_header(region) else {
        return Ok(None);
    };
    let abs = region_off + at;
    let bad = |reason: &str| {
        CatalogError::malformed(
            file,
            Position::Offset(abs as u64),
            format!("Go buildinfo: {reason}"),
        )
    };
    let hdr = region.get(at..).ok_or_else(|| bad("truncated header"))?;
    let ptr_size = usize::from(*hdr.get(14).ok_or_else(|| bad("truncated header"))?);
    let flags = *hdr.get(15).ok_or_else(|| bad("truncated header"))?;
    let (vers, modinfo) = if flags & 2 != 0 {
        let rest = hdr.get(32..).ok_or_else(|| bad("truncated header"))?;
        let (v, rest) = decode_string(rest).ok_or_else(|| bad("bad version string"))?;
        let (m, _) = decode_string(rest).ok_or_else(|| bad("bad module info string"))?;
        (v.to_vec(), m.to_vec())
    } else {
        if ptr_size != 4 && ptr_size != 8 {
            return Err(bad(&format!("pointer size {ptr_size} is neither 4 nor 8")));
        }
        let big = flags & 1 != 0;
        let read_ptr = |b: &[u8]| -> Option<u64> {
            let s = b.get(..ptr_size)?;
            Some(match (ptr_size, big) {
                (4, false) => u64::from(u32::from_le_bytes(s.try_into().ok()?)),
                (4, true) => u64::from(u32::from_be_bytes(s.try_into().ok()?)),
                (_, false) => u64::from_le_bytes(s.try_into().ok()?),
                (_, true) => u64::from_be_bytes(s.try_into().ok()?),
            })
        };
        let read_string = |ptr_addr: u64| -> Option<Vec<u8>> {
            let hdr = read_at(obj, bytes, ptr_addr, 2 * ptr_size as u64)?;
            let data = read_ptr(&hdr)?;
            let len = read_ptr(hdr.get(ptr_size..)?)?;
            if len > MAX_STRING {
                return None;
            }
            read_at(obj, bytes, data, len)
        };
        let vp =
            read_ptr(hdr.get(16..).unwrap_or_default()).ok_or_else(|| bad("truncated header"))?;
        let mp = read_ptr(hdr.get(16 + ptr_size..).unwrap_or_default())
            .ok_or_else(|| bad("truncated header"))?;
        let v = read_string(vp).ok_or_else(|| bad("the version pointer leads outside the file"))?;
        let m = read_string(mp).unwrap_or_default();
        (v, m)
    };
    if vers.is_empty() {
        return Ok(None);
    }
    let modinfo = if modinfo.len() >= 33 && modinfo.get(modinfo.len() - 17) == Some(&b'\n') {
        modinfo
            .get(16..modinfo.len() - 16)
            .unwrap_or_default()
            .to_vec()
    } else {
        Vec::new()
    };
    Ok(Some(BuildInfo {
        go_version: String::from_utf8_lossy(&vers).into_owned(),
        modinfo: String::from_utf8_lossy(&modinfo).into_owned(),
    }))
}

/// Turns build info into an inventory.
pub fn to_inventory(file: &str, info: &BuildInfo) -> Inventory {
    let mut c = Collector::default();
    let mut warnings = Vec::new();
    let mut main: Option<String> = None;
    let mut settings = Vec::new();
    // The dep lines, with `=>` applied to the preceding one.
    let mut deps: Vec<(String, String, Option<String>, Option<String>)> = Vec::new();
    for line in info.modinfo.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["mod", path, version, ..] => {
                let (ns, n) = split_module(path);
                let v = (*version != "(devel)").then_some(*version);
                let mut comp = component(
                    &Pkg {
                        ty: "golang",
                        namespace: ns,
                        name: n,
                        version: v,
                        ecosystem: Some(Ecosystem::Go),
                        display_name: Some((*path).to_owned()),
                        ..Pkg::default()
                    },
                    file,
                    &mut warnings,
                );
                comp.kind = ComponentKind::Application;
                main = Some(c.add(comp));
            }
            ["dep", path, version, rest @ ..] => {
                deps.push((
                    (*path).to_owned(),
                    (*version).to_owned(),
                    rest.first().map(|s| (*s).to_owned()),
                    None,
                ));
            }
            ["=>", path, version, ..] => {
                if let Some(last) = deps.last_mut() {
                    last.3 = Some(format!("{}@{}", last.0, last.1));
                    last.0 = (*path).to_owned();
                    last.1 = (*version).to_owned();
                    last.2 = f.get(3).map(|s| (*s).to_owned());
                }
            }
            ["build", kv] => settings.push((*kv).to_owned()),
            _ => {}
        }
    }
    let mut dep_refs = Vec::new();
    for (path, version, sum, replaces) in deps {
        let (ns, n) = split_module(&path);
        // A replacement by a local directory has no version.
        let v = (!version.is_empty()).then_some(version.as_str());
        let mut comp = component(
            &Pkg {
                ty: "golang",
                namespace: ns,
                name: n,
                version: v,
                ecosystem: Some(Ecosystem::Go),
                display_name: Some(path.clone()),
                ..Pkg::default()
            },
            file,
            &mut warnings,
        );
        if let Some(s) = sum.filter(|s| !s.is_empty()) {
            comp.properties.insert("go:h1".into(), s);
        }
        if let Some(r) = replaces {
            comp.properties.insert("go:replaces".into(), r);
        }
        dep_refs.push(c.add(comp));
    }
    let go_version = info
        .go_version
        .split_whitespace()
        .next()
        .unwrap_or_default();
    match go_version.strip_prefix("go") {
        Some(v) if v.starts_with(|ch: char| ch.is_ascii_digit()) => {
            let mut comp = component(
                &Pkg {
                    ty: "golang",
                    name: "stdlib",
                    version: Some(&format!("v{v}")),
                    ecosystem: Some(Ecosystem::Go),
                    ..Pkg::default()
                },
                file,
                &mut warnings,
            );
            comp.properties
                .insert("go:toolchain".into(), info.go_version.clone());
            dep_refs.push(c.add(comp));
        }
        _ => warnings.push(format!(
            "{file}: Go version {:?} is not a release; the standard library is not inventoried",
            info.go_version
        )),
    }
    if let Some(m) = &main {
        for d in &dep_refs {
            c.edge(m, d);
        }
        if let Some(comp) = c.get_mut(m) {
            for s in settings {
                if let Some((k, v)) = s.split_once('=') {
                    comp.properties
                        .insert(format!("go:build:{k}"), v.to_owned());
                }
            }
        }
    }
    for w in warnings {
        c.warn(w);
    }
    c.finish()
}

/// Reads Go build information from a parsed executable.
pub fn scan(file: &str, bytes: &[u8], obj: &object::File<'_>) -> Result<Option<Inventory>> {
    Ok(read(file, bytes, obj)?.map(|info| to_inventory(file, &info)))
}

/// Encodes a Go ≥ 1.18 inline buildinfo blob (header and strings); for tests
/// and fuzz seeds, and as executable documentation of the format.
pub fn encode_inline(go_version: &str, modinfo: &str) -> Vec<u8> {
    fn put(out: &mut Vec<u8>, s: &[u8]) {
        let mut n = s.len() as u64;
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                break;
            }
            out.push(b | 0x80);
        }
        out.extend_from_slice(s);
    }
    let mut out = MAGIC.to_vec();
    out.push(8);
    out.push(2);
    out.resize(32, 0);
    put(&mut out, go_version.as_bytes());
    let framed = format!("0123456789abcdef{modinfo}\n0123456789abcdef");
    let framed = framed.replace("\n\n0123456789abcdef", "\n0123456789abcdef");
    put(&mut out, framed.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modinfo_lines_become_components() {
        let info = BuildInfo {
            go_version: "go1.22.4".into(),
            modinfo: "path\texample.com/cmd/app\nmod\texample.com\t(devel)\t\ndep\tgithub.com/google/uuid\tv1.6.0\th1:abc=\ndep\tgolang.org/x/sys\tv0.1.0\th1:old=\n=>\tgolang.org/x/sys\tv0.20.0\th1:new=\nbuild\tGOOS=linux\n".into(),
        };
        let inv = to_inventory("app", &info);
        let purls: Vec<_> = inv
            .components
            .iter()
            .filter_map(|c| c.purl.as_deref())
            .collect();
        assert_eq!(
            purls,
            [
                "pkg:golang/example.com",
                "pkg:golang/github.com/google/uuid@v1.6.0",
                "pkg:golang/golang.org/x/sys@v0.20.0",
                "pkg:golang/stdlib@v1.22.4"
            ]
        );
        assert_eq!(inv.components[0].properties["go:build:GOOS"], "linux");
        assert_eq!(
            inv.components[2].properties["go:replaces"],
            "golang.org/x/sys@v0.1.0"
        );
        assert_eq!(inv.dependencies["pkg:golang/example.com"].len(), 3);
    }

    #[test]
    fn inline_header_is_found_and_decoded() {
        let mut blob = vec![0u8; 48];
        blob.extend(encode_inline("go1.21.0", "mod\tx.io/y\tv1.0.0\t"));
        let at = find_header(&blob);
        assert_eq!(at, Some(48));
        let rest = blob.get(48 + 32..).unwrap_or_default();
        let (v, rest) = decode_string(rest).unwrap_or_default();
        assert_eq!(v, b"go1.21.0");
        let (m, _) = decode_string(rest).unwrap_or_default();
        assert!(m.len() >= 33 && m[m.len() - 17] == b'\n');
    }

    #[test]
    fn varints_are_bounded() {
        assert_eq!(uvarint(&[0x96, 0x01]), Some((150, 2)));
        assert_eq!(uvarint(&[0xff; 11]), None);
        assert!(decode_string(&[0xff, 0xff, 0xff, 0x7f]).is_none());
    }
}
