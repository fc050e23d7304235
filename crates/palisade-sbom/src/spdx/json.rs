//! SPDX 2.2/2.3 JSON reader: one borrowing serde pass into [`model::Document`],
//! and on failure a second pass that names the JSON path of the bad value.

use palisade_inventory::Inventory;

use super::model;
use crate::SbomError;
use crate::common::Limits;
use crate::json_error;

/// Reads an SPDX JSON document.
pub fn read(bytes: &[u8], source_name: &str, limits: &Limits) -> Result<Inventory, SbomError> {
    let doc: model::Document<'_> = match serde_json::from_slice(bytes) {
        Ok(d) => d,
        Err(e) => return Err(json_error::<model::Document<'_>>(bytes, source_name, e)),
    };
    super::to_inventory(doc, "spdx-json", source_name, limits)
}
