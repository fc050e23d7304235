//! Lockfile and manifest parsers, one module per ecosystem.
//!
//! Every parser is pure: it takes the file's bytes and the label to record as
//! the component's location, and returns an [`Inventory`] fragment. Which
//! parser applies is decided from the file name alone ([`LockfileKind::detect`]),
//! as package managers themselves do; nothing sniffs contents. `go.mod` reads
//! its sibling `go.sum` when the caller supplies it, which is the one case of
//! a parser needing two files.

use palisade_inventory::Inventory;

use crate::common::Limits;
use crate::error::Result;

pub mod cargo;
pub mod composer;
pub mod dart;
pub mod gem;
pub mod golang;
pub mod gradle;
pub mod hex;
pub mod maven;
pub mod npm;
pub mod nuget;
pub mod pnpm;
pub mod python;
pub mod yarn;

/// The lockfiles and manifests Palisade reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockfileKind {
    /// Rust `Cargo.lock` (versions 1 to 4).
    CargoLock,
    /// npm `package-lock.json` (v1 to v3) or `npm-shrinkwrap.json`.
    NpmLock,
    /// Yarn `yarn.lock`, classic (v1) or Berry (YAML).
    YarnLock,
    /// `pnpm-lock.yaml` (lockfile versions 5, 6 and 9).
    PnpmLock,
    /// A pip requirements file.
    Requirements,
    /// `poetry.lock`.
    PoetryLock,
    /// `Pipfile.lock`.
    PipfileLock,
    /// `uv.lock`.
    UvLock,
    /// `go.mod` (with `go.sum` beside it when present).
    GoMod,
    /// Bundler `Gemfile.lock` (or `gems.locked`).
    GemfileLock,
    /// `composer.lock`.
    ComposerLock,
    /// NuGet `packages.lock.json`.
    NugetLock,
    /// Gradle `gradle.lockfile` (or `*.lockfile` under `gradle/dependency-locks`).
    GradleLockfile,
    /// Elixir `mix.lock`.
    MixLock,
    /// Dart and Flutter `pubspec.lock`.
    PubspecLock,
    /// Maven `pom.xml`: declared versions only.
    PomXml,
}

impl LockfileKind {
    /// Recognises a lockfile by its path (only the file name matters, except
    /// for Gradle's per-configuration lock directory).
    pub fn detect(path: &str) -> Option<LockfileKind> {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        let kind = match name {
            "Cargo.lock" => LockfileKind::CargoLock,
            "package-lock.json" | "npm-shrinkwrap.json" => LockfileKind::NpmLock,
            "yarn.lock" => LockfileKind::YarnLock,
            "pnpm-lock.yaml" => LockfileKind::PnpmLock,
            "poetry.lock" => LockfileKind::PoetryLock,
            "Pipfile.lock" => LockfileKind::PipfileLock,
            "uv.lock" => LockfileKind::UvLock,
            "go.mod" => LockfileKind::GoMod,
            "Gemfile.lock" | "gems.locked" => LockfileKind::GemfileLock,
            "composer.lock" => LockfileKind::ComposerLock,
            "packages.lock.json" => LockfileKind::NugetLock,
            "gradle.lockfile" => LockfileKind::GradleLockfile,
            "mix.lock" => LockfileKind::MixLock,
            "pubspec.lock" => LockfileKind::PubspecLock,
            "pom.xml" => LockfileKind::PomXml,
            _ if is_requirements_name(name) => LockfileKind::Requirements,
            _ if name.ends_with(".lockfile") && path.contains("dependency-locks") => {
                LockfileKind::GradleLockfile
            }
            _ => return None,
        };
        Some(kind)
    }

    /// The format name recorded as the inventory's `source_format`.
    pub fn format_name(self) -> &'static str {
        match self {
            LockfileKind::CargoLock => "cargo-lock",
            LockfileKind::NpmLock => "npm-package-lock",
            LockfileKind::YarnLock => "yarn-lock",
            LockfileKind::PnpmLock => "pnpm-lock",
            LockfileKind::Requirements => "pip-requirements",
            LockfileKind::PoetryLock => "poetry-lock",
            LockfileKind::PipfileLock => "pipfile-lock",
            LockfileKind::UvLock => "uv-lock",
            LockfileKind::GoMod => "go-mod",
            LockfileKind::GemfileLock => "gemfile-lock",
            LockfileKind::ComposerLock => "composer-lock",
            LockfileKind::NugetLock => "nuget-packages-lock",
            LockfileKind::GradleLockfile => "gradle-lockfile",
            LockfileKind::MixLock => "mix-lock",
            LockfileKind::PubspecLock => "pubspec-lock",
            LockfileKind::PomXml => "maven-pom",
        }
    }
}

/// `requirements.txt`, `requirements-dev.txt`, `requirements/prod.txt` style
/// names, and pip-tools' `*.txt` output named after `requirements`.
fn is_requirements_name(name: &str) -> bool {
    name.ends_with(".txt") && name.starts_with("requirements")
}

/// Parses one lockfile. `location` is recorded on every component; for
/// `go.mod`, `sibling` is the content of `go.sum` when one exists.
pub fn parse(
    kind: LockfileKind,
    location: &str,
    bytes: &[u8],
    sibling: Option<&[u8]>,
    limits: &Limits,
) -> Result<Inventory> {
    limits.check_file_size(location, bytes.len() as u64)?;
    let mut inv = match kind {
        LockfileKind::CargoLock => cargo::parse(location, bytes, limits),
        LockfileKind::NpmLock => npm::parse(location, bytes, limits),
        LockfileKind::YarnLock => yarn::parse(location, bytes, limits),
        LockfileKind::PnpmLock => pnpm::parse(location, bytes, limits),
        LockfileKind::Requirements => python::parse_requirements(location, bytes, limits),
        LockfileKind::PoetryLock => python::parse_poetry(location, bytes, limits),
        LockfileKind::PipfileLock => python::parse_pipfile(location, bytes, limits),
        LockfileKind::UvLock => python::parse_uv(location, bytes, limits),
        LockfileKind::GoMod => golang::parse(location, bytes, sibling, limits),
        LockfileKind::GemfileLock => gem::parse(location, bytes, limits),
        LockfileKind::ComposerLock => composer::parse(location, bytes, limits),
        LockfileKind::NugetLock => nuget::parse(location, bytes, limits),
        LockfileKind::GradleLockfile => gradle::parse(location, bytes, limits),
        LockfileKind::MixLock => hex::parse(location, bytes, limits),
        LockfileKind::PubspecLock => dart::parse(location, bytes, limits),
        LockfileKind::PomXml => maven::parse(location, bytes, limits),
    }?;
    limits.check_components(location, inv.components.len())?;
    inv.metadata.source_format = Some(kind.format_name().to_owned());
    Ok(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_file_name() {
        assert_eq!(
            LockfileKind::detect("a/b/Cargo.lock"),
            Some(LockfileKind::CargoLock)
        );
        assert_eq!(
            LockfileKind::detect("npm-shrinkwrap.json"),
            Some(LockfileKind::NpmLock)
        );
        assert_eq!(
            LockfileKind::detect("requirements-dev.txt"),
            Some(LockfileKind::Requirements)
        );
        assert_eq!(
            LockfileKind::detect("gradle/dependency-locks/compileClasspath.lockfile"),
            Some(LockfileKind::GradleLockfile)
        );
        assert_eq!(LockfileKind::detect("README.md"), None);
        assert_eq!(LockfileKind::detect("notes.txt"), None);
    }
}
