//! OCI registries: image references resolved to digests; the signatures,
//! attestations and SBOMs attached to an image, by cosign's tag scheme and
//! by the OCI 1.1 referrers API (with its fallback tag); Palisade's own
//! attestations pushed the same ways; credentials from the Docker
//! configuration and the registry token flow.
//!
//! This crate does network I/O and nothing else: it verifies digests and
//! sizes, never signatures. What it fetches goes to `palisade-attest` at
//! ingest (the server's `fetch-evidence` job, `palisade oci`), so that a
//! policy decision stays a lookup of stored verdicts with no network.
//!
//! ```no_run
//! use palisade_oci::{Client, ClientOptions, FetchOptions, Reference};
//! # fn main() -> Result<(), palisade_oci::Error> {
//! let client = Client::new(ClientOptions::default())?;
//! let image = Reference::parse("registry.example/team/app:1.0")?;
//! let resolved = client.resolve(&image)?;
//! let attached = client.attached(&image, &resolved.digest, FetchOptions::default())?;
//! for (artifact, evidence) in attached.evidence() {
//!     println!("{:?}: {}", artifact.source, evidence.kind());
//! }
//! # Ok(())
//! # }
//! ```

pub mod attached;
pub mod auth;
pub mod client;
pub mod credentials;
mod error;
pub mod manifest;
pub mod reference;

pub use attached::{
    Artifact, AttachOptions, Attached, Evidence, FetchOptions, PushedAttestation, Source,
    cosign_tag,
};
pub use client::{
    Client, ClientOptions, DockerConfigSource, MAX_MANIFEST_BYTES, PushedManifest, Referrers,
    ReferrersPath, Resolved,
};
pub use credentials::{Credential, DockerConfig};
pub use error::Error;
pub use manifest::{Descriptor, ImageIndex, ImageManifest, Manifest, Parsed};
pub use reference::{Digest, Reference};
