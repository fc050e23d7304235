//! Build information embedded in executables: Go's buildinfo and Rust's
//! `cargo auditable` dependency list.
//!
//! [`scan`] recognises an executable by its magic (ELF, Mach-O, PE), parses
//! it with the `object` crate to find sections and map virtual addresses,
//! and returns the components it declares, or `None` when it declares
//! nothing. It works on a byte slice so that image layers can hand over one
//! executable at a time; the caller bounds its size.

use palisade_inventory::Inventory;

use crate::common::Limits;
use crate::error::{CatalogError, Position, Result};

pub mod auditable;
pub mod gobuildinfo;

/// Whether the bytes start like an executable or shared object Palisade can
/// inspect (ELF, Mach-O thin or fat, PE).
pub fn looks_executable(head: &[u8]) -> bool {
    head.starts_with(b"\x7fELF")
        || head.starts_with(&[0xfe, 0xed, 0xfa, 0xce])
        || head.starts_with(&[0xfe, 0xed, 0xfa, 0xcf])
        || head.starts_with(&[0xce, 0xfa, 0xed, 0xfe])
        || head.starts_with(&[0xcf, 0xfa, 0xed, 0xfe])
        || head.starts_with(b"MZ")
}

/// Inspects one executable. `Ok(None)`: not an executable, or one without
/// embedded build information.
pub fn scan(file: &str, bytes: &[u8], limits: &Limits) -> Result<Option<Inventory>> {
    if !looks_executable(bytes) {
        return Ok(None);
    }
    if bytes.len() as u64 > limits.max_binary_bytes {
        return Err(CatalogError::Limit {
            file: file.to_owned(),
            what: format!("size {} bytes", bytes.len()),
            limit: format!("{} bytes", limits.max_binary_bytes),
        });
    }
    let obj = match object::File::parse(bytes) {
        Ok(o) => o,
        // A file that merely starts with `MZ` or an ELF magic but does not
        // parse is not a binary we can read; for a PE the magic is too weak
        // to call it an error.
        Err(_) if bytes.starts_with(b"MZ") => return Ok(None),
        Err(e) => {
            return Err(CatalogError::malformed(
                file,
                Position::Offset(0),
                format!("executable does not parse: {e}"),
            ));
        }
    };
    let mut parts = Vec::new();
    if let Some(inv) = gobuildinfo::scan(file, bytes, &obj)? {
        parts.push(inv);
    }
    if let Some(inv) = auditable::scan(file, &obj)? {
        parts.push(inv);
    }
    if parts.is_empty() {
        return Ok(None);
    }
    let mut inv = crate::common::merge_inventories(parts);
    inv.metadata.source_format = Some("binary".into());
    Ok(Some(inv))
}
