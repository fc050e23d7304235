//! Any text as a scanners configuration (TOML): loading may refuse it, with
//! an error naming the file, but must never panic; durations go through
//! their own parser too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = palisade_scanners::config::parse_duration(text);
    if let Err(e) = palisade_scanners::Config::parse(text, "fuzz.toml") {
        assert!(e.to_string().contains("fuzz.toml"), "{e}");
    }
});
