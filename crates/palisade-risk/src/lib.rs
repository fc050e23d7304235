//! Risk: which findings matter first, and which do not apply at all.
//!
//! Pure logic (bytes and structs in, typed results out; no I/O):
//!
//! - [`cvss`]: base scores from CVSS v2, v3.0, v3.1 and v4.0 vectors
//!   (through `palisade-advisory`'s scorer, the workspace's one CVSS
//!   implementation), including the unprefixed vectors SBOMs and scanners
//!   write beside a method name.
//! - [`epss`]: FIRST's EPSS CSV (plain or gzipped) → scores by CVE.
//! - [`kev`]: CISA's Known Exploited Vulnerabilities JSON → entries by CVE.
//! - [`priority`]: CVSS, EPSS, KEV and runtime context (production,
//!   internet-facing, loaded at runtime) → P1..P4 with a score, the
//!   contributing factors and an SLA due date. The model is specified in
//!   `docs/prioritisation.md`.
//! - [`vex`]: OpenVEX, CycloneDX VEX and CSAF VEX read into one statement
//!   model, applied to findings (a justified `not_affected` suppresses, and
//!   says which statement of which document did), and written back out
//!   deterministically. Described in `docs/vex.md`.
//!
//! Every parser bounds its input (size, nesting depth, counts) before
//! trusting it and reports errors with a line number or JSON path.

pub mod cvss;
pub mod epss;
pub mod json;
pub mod kev;
pub mod priority;
pub mod vex;

pub use cvss::{CvssError, CvssScore, CvssVersion};
pub use epss::{EpssData, EpssError, EpssScore};
pub use kev::{KevCatalog, KevEntry, KevError};
pub use priority::{
    Assessment, Factor, FactorKind, Policy, PolicyError, Priority, RuntimeContext, Signals, assess,
};
pub use vex::{
    Disposition, Justification, Status, VexDocument, VexError, VexFormat, VexOutcome, VexStatement,
};
