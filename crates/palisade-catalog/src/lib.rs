//! Build an inventory from where software lives: lockfiles, OS package
//! databases, binaries and container images.
//!
//! The crate is split between pure parsers and thin edges. Every parser
//! ([`lockfile`], [`os`], [`binary`]) takes bytes and a location label and
//! returns an [`Inventory`] fragment; none touches the filesystem. The edges
//! ([`walk`] for directories and single files, [`image`] for container
//! images) find the inputs, read them within [`Limits`], call the parsers and
//! merge the fragments. Images are streamed: their tar is never held whole in
//! memory and no entry is ever written to disk.

pub mod binary;
pub mod common;
pub mod error;
pub mod image;
pub mod lockfile;
pub mod os;
pub mod walk;

pub use common::Limits;
pub use error::{CatalogError, Position, Result};
pub use image::{ImageOptions, Progress, catalog_image};
pub use palisade_inventory::Inventory;
pub use walk::{CatalogOptions, catalog_path};
