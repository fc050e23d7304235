//! One module per version scheme. Each exposes a version type whose `Ord` is
//! the scheme's order (with `Eq` and `Hash` consistent with it) and
//! `parse(&str) -> Result<T, String>`, the error being the reason only.

pub mod android;
pub mod apk;
pub mod composer;
pub mod conan;
pub mod cran;
pub(crate) mod digits;
pub mod dpkg;
#[cfg(test)]
mod fixture_test;
pub mod freebsd;
pub mod go;
pub mod hackage;
pub mod linux;
pub mod maven;
pub mod npm;
pub mod nuget;
pub mod opam;
pub mod opaque;
#[cfg(test)]
mod order_test;
pub mod pep440;
pub mod pub_semver;
pub mod root;
pub mod rpm;
pub mod rubygems;
pub mod semver;
