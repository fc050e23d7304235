//! Property tests: every parser returns (an inventory or an error) on
//! arbitrary and on mutated-valid input, never panics; and the
//! requirements parser keeps every pinned line.

use palisade_catalog::Limits;
use palisade_catalog::lockfile::{LockfileKind, parse};
use proptest::prelude::*;

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

const SEEDS: [&str; 4] = [
    "version = 4\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\ndependencies = [\"b\"]\n[[package]]\nname = \"b\"\nversion = \"2.0.0\"\n",
    "{\"lockfileVersion\": 3, \"packages\": {\"\": {}, \"node_modules/a\": {\"version\": \"1.0.0\", \"dependencies\": {\"b\": \"1\"}}}}",
    "# yarn lockfile v1\n\na@^1:\n  version \"1.0.0\"\n  dependencies:\n    b \"^2\"\n",
    "GEM\n  remote: https://rubygems.org/\n  specs:\n    a (1.0)\n      b (~> 2)\n",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(kind in 0usize..16, bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(KINDS[kind], "x", &bytes, Some(&bytes), &Limits::default());
        let _ = palisade_catalog::os::dpkg::parse("status", &bytes, None, &Limits::default());
        let _ = palisade_catalog::os::apk::parse("installed", &bytes, None, &Limits::default());
        let _ = palisade_catalog::os::rpm::parse_header(&bytes);
        let _ = palisade_catalog::binary::scan("bin", &bytes, &Limits::default());
    }

    #[test]
    fn mutated_seeds_never_panic(kind in 0usize..16, seed in 0usize..4, at in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let mut bytes = SEEDS[seed].as_bytes().to_vec();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        bytes.truncate(cut.index(bytes.len() + 1).max(1));
        let _ = parse(KINDS[kind], "x", &bytes, None, &Limits::default());
    }

    #[test]
    fn every_pinned_requirement_is_kept(names in proptest::collection::btree_set("[a-z][a-z0-9]{0,8}", 1..20), minor in 0u32..100) {
        let text: String = names.iter().map(|n| format!("{n}==1.{minor}\n")).collect();
        let inv = parse(LockfileKind::Requirements, "requirements.txt", text.as_bytes(), None, &Limits::default()).unwrap_or_default();
        prop_assert_eq!(inv.components.len(), names.len());
        for c in &inv.components {
            let expected = format!("1.{minor}");
            prop_assert_eq!(c.version.as_deref(), Some(expected.as_str()));
        }
    }
}
