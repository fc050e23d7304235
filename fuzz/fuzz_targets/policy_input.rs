//! Any bytes as a policy input, an exceptions file and an environments
//! file: parsing may refuse them but must never panic. An accepted input is
//! decided by the built-in library in every environment (a decision never
//! fails: it denies with the reason), and an artifact prepared once must
//! decide exactly as a fresh preparation at a later time, when the finding
//! ages have moved on.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use palisade_policy::{Engine, EngineOptions, PolicyInput, PreparedArtifact};

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| match Engine::builtin(EngineOptions::default()) {
        Ok(engine) => engine,
        Err(e) => panic!("the built-in library does not compile: {e}"),
    })
}

fuzz_target!(|data: &[u8]| {
    let exceptions = palisade_policy::exception::parse_exceptions(data).unwrap_or_default();
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = palisade_policy::EnvironmentsConfig::from_yaml(text);
    }
    let Ok(input) = PolicyInput::from_json(data) else {
        return;
    };
    let engine = engine();
    let Ok(first) = palisade_policy::parse_rfc3339("2026-06-01T00:00:00Z") else {
        return;
    };
    let later = first + time::Duration::days(40) + time::Duration::hours(5);
    let prepared = PreparedArtifact::new(&input);
    for env in engine.environment_names() {
        let a = engine.decide_prepared(&prepared, input.workload.as_ref(), env, &exceptions, first);
        assert!(a.input_digest.is_some() || !a.errors.is_empty(), "{a:?}");
        let b = engine.decide_prepared(&prepared, input.workload.as_ref(), env, &exceptions, later);
        let fresh = engine.decide(&input, env, &exceptions, later);
        assert_eq!(b, fresh, "a prepared artifact decided differently from a fresh one");
    }
});
