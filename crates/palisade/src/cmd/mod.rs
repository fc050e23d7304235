//! One module per command group. Each has a clap `Args`/`Subcommand` type and
//! a `run` function returning the process exit code.

#[cfg(feature = "attest")]
pub mod attest;
#[cfg(feature = "advisory")]
pub mod db;
#[cfg(feature = "policy")]
pub mod gate;
#[cfg(feature = "findings")]
pub mod import;
#[cfg(feature = "oci")]
pub mod oci;
#[cfg(feature = "policy")]
pub mod policy;
#[cfg(feature = "sbom")]
pub mod sbom;
#[cfg(all(feature = "catalog", feature = "sbom"))]
pub mod sbom_generate;
#[cfg(feature = "advisory")]
pub mod scan;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "attest")]
pub mod verify;
pub mod version;
