//! CycloneDX JSON reader.
//!
//! The document is deserialised once, borrowing strings from the input, into
//! [`model::Bom`]. Only when that fails is it parsed a second time through
//! `serde_path_to_error`, to name the JSON path of the bad value: the happy
//! path pays nothing for good error messages.

use palisade_inventory::Inventory;

use super::model;
use crate::SbomError;
use crate::common::Limits;
use crate::json_error;

/// Reads a CycloneDX JSON document.
pub fn read(bytes: &[u8], source_name: &str, limits: &Limits) -> Result<Inventory, SbomError> {
    let bom: model::Bom<'_> = match serde_json::from_slice(bytes) {
        Ok(b) => b,
        Err(e) => return Err(json_error::<model::Bom<'_>>(bytes, source_name, e)),
    };
    let mut missing_format = false;
    match bom.bom_format.as_deref() {
        Some("CycloneDX") => {}
        Some(other) => {
            return Err(SbomError::UnknownFormat {
                source_name: source_name.to_owned(),
                reason: format!("bomFormat is {other:?}, expected \"CycloneDX\""),
            });
        }
        None => {
            // An in-toto statement whose keys follow its CycloneDX predicate
            // lands here; read the predicate.
            if let Ok(predicate) = crate::intoto::predicate(bytes, source_name) {
                return crate::read_predicate(&predicate, source_name, limits);
            }
            missing_format = true;
        }
    }
    check_spec_version(bom.spec_version.as_deref(), "cyclonedx-json", source_name)?;
    let mut inv = super::to_inventory(bom, "cyclonedx-json", source_name, limits)?;
    if missing_format {
        inv.warnings.push("the document has no bomFormat member; it was read as CycloneDX because it has specVersion and components".to_owned());
    }
    Ok(inv)
}

/// Accepts CycloneDX 1.0 to 1.7.
pub fn check_spec_version(
    v: Option<&str>,
    label: &str,
    source_name: &str,
) -> Result<(), SbomError> {
    match v {
        Some("1.0" | "1.1" | "1.2" | "1.3" | "1.4" | "1.5" | "1.6" | "1.7") => Ok(()),
        Some(other) => Err(SbomError::Unsupported {
            source_name: source_name.to_owned(),
            format: format!("{label} {other}"),
            reason: "Palisade reads CycloneDX 1.0 to 1.7".to_owned(),
        }),
        None => Err(SbomError::Syntax {
            source_name: source_name.to_owned(),
            position: "$.specVersion".to_owned(),
            message: "missing specVersion".to_owned(),
        }),
    }
}
