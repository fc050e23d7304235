//! Every lockfile parser on arbitrary bytes: the first byte picks the
//! parser, the rest is the file. Errors are fine; panics are bugs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_catalog::Limits;
use palisade_catalog::lockfile::{LockfileKind, parse};

const KINDS: [LockfileKind; 16] = [
    LockfileKind::CargoLock,
    LockfileKind::NpmLock,
    LockfileKind::YarnLock,
    LockfileKind::PnpmLock,
    LockfileKind::Requirements,
    LockfileKind::PoetryLock,
    LockfileKind::PipfileLock,
    LockfileKind::UvLock,
    LockfileKind::GoMod,
    LockfileKind::GemfileLock,
    LockfileKind::ComposerLock,
    LockfileKind::NugetLock,
    LockfileKind::GradleLockfile,
    LockfileKind::MixLock,
    LockfileKind::PubspecLock,
    LockfileKind::PomXml,
];

fuzz_target!(|data: &[u8]| {
    let Some((&k, rest)) = data.split_first() else { return };
    let kind = KINDS[usize::from(k) % KINDS.len()];
    let limits = Limits { max_components: 10_000, ..Limits::default() };
    // go.mod gets the second half as its go.sum.
    let (main, sibling) = rest.split_at(rest.len() / 2);
    let _ = parse(kind, "fuzz", rest, None, &limits);
    if kind == LockfileKind::GoMod {
        let _ = parse(kind, "go.mod", main, Some(sibling), &limits);
    }
});
