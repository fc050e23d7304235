//! The single place that asks the shared purl module
//! (`palisade_inventory::purl`) what a purl means, so that Palisade has one
//! purl-to-ecosystem mapping.

use palisade_inventory::SourcePackage;
use palisade_inventory::purl::{self, PurlError};
use palisade_versions::Ecosystem;

/// What the shared module makes of a purl: its OSV ecosystem (when the type
/// has one) and the source package its qualifiers name.
pub fn resolve(p: &str) -> Result<(Option<Ecosystem>, Option<SourcePackage>), PurlError> {
    let pkg = purl::parse(p)?;
    Ok((pkg.ecosystem, pkg.source))
}

/// The OSV ecosystem of `purl`, or `None` when the purl does not parse or its
/// type has no OSV ecosystem.
pub fn ecosystem_of(p: &str) -> Option<Ecosystem> {
    resolve(p).ok().and_then(|(e, _)| e)
}
