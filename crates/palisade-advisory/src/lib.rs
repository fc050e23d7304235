//! OSV advisory store, import and sync, name normalisation, and the matcher:
//! components in, findings out.
//!
//! The pieces, in the order data flows through them:
//!
//! - [`source`]: where records come from (a JSON file, a directory tree, an
//!   osv.dev `all.zip` export), each record with its origin.
//! - [`osv`]: tolerant parsing of one record under size and depth limits,
//!   into the normalised [`Advisory`]; errors name the JSON path.
//! - [`store`]: the on-disk snapshot ([`AdvisoryStore`]): idempotent
//!   imports, atomic replacement, an index that opens fast and reads records
//!   on demand, and the reverse index (advisory → package keys).
//! - [`matcher`]: compiled ranges filed by package key; inventories in,
//!   findings with aliases, severity and fixes out.
//! - [`severity`]: CVSS v2/v3.x/v4 scoring and database ratings.
//! - [`report`]: the scan report (JSON, described by
//!   `docs/scan-output.schema.json`) and its SARIF 2.1.0 rendering.
//! - [`sync`] (feature `sync`): conditional, resumable downloads of
//!   osv.dev's per-ecosystem exports.
//!
//! Name normalisation lives in `palisade_inventory::purl`, so that SBOM
//! readers, catalogers and the matcher agree on package keys.

pub mod matcher;
pub mod osv;
pub mod report;
pub mod severity;
pub mod source;
pub mod store;
#[cfg(feature = "sync")]
pub mod sync;

pub use matcher::{Finding, MatchReport, Matcher, PackageKey, Query, Upgrade};
pub use osv::Advisory;
pub use severity::{Rating, Severity};
pub use source::Source;
pub use store::{AdvisoryStore, ImportReport, StoreError};
