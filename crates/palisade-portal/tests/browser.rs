//! The portal in real headless Chromium: starts a server with the demo data
//! in this process and runs `browser/portal.test.mjs` (node's test runner,
//! playwright-core, Debian's chromium) against it. Each step saves a
//! screenshot under the target directory; with
//! `PALISADE_UPDATE_SCREENSHOT=1` the overview's is copied to
//! `docs/portal.png`, which the README shows.
//!
//! Without node or chromium the test skips with a visible `SKIPPED:` line;
//! with `PALISADE_REQUIRE_BROWSER=1` (CI) it fails instead.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use palisade_portal::PortalConfig;
use palisade_store::test_support;

fn required() -> bool {
    std::env::var("PALISADE_REQUIRE_BROWSER").is_ok_and(|v| v == "1")
}

/// Skips (or, when the browser is required, fails) with a reason.
fn unavailable(reason: &str) {
    if required() {
        panic!("browser test cannot run (PALISADE_REQUIRE_BROWSER=1): {reason}");
    }
    eprintln!("SKIPPED: browser test: {reason} (install node and Debian's chromium to run it)");
}

fn chromium() -> Option<PathBuf> {
    let candidates = [
        std::env::var("CHROMIUM").ok(),
        Some("/usr/bin/chromium".to_owned()),
        Some("/usr/bin/chromium-browser".to_owned()),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

fn node_ok() -> bool {
    Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn ensure_node_modules(dir: &Path) -> Result<(), String> {
    if dir
        .join("node_modules/playwright-core/package.json")
        .is_file()
    {
        return Ok(());
    }
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot run npm: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "npm ci failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_in_headless_chromium() {
    let Some(browser) = chromium() else {
        unavailable("no chromium at /usr/bin/chromium (or $CHROMIUM)");
        return;
    };
    if !node_ok() {
        unavailable("node is not installed");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser");
    let prepared = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || ensure_node_modules(&dir))
            .await
            .unwrap()
    };
    if let Err(e) = prepared {
        unavailable(&e);
        return;
    }
    let db = test_support::sqlite().await;
    let srv = common::start_demo(db.store.clone(), PortalConfig::default()).await;
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("portal-screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    let base = srv.base.clone();
    let shots_for_node = shots.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args([
                "--test",
                "--test-concurrency=1",
                "--test-reporter=spec",
                "portal.test.mjs",
            ])
            .current_dir(&dir)
            .env("PORTAL_URL", &base)
            .env("SCREENSHOT_DIR", &shots_for_node)
            .env("CHROMIUM", &browser)
            .output()
            .expect("run node")
    })
    .await
    .unwrap();
    println!("{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    srv.stop().await;
    db.finish().await;
    assert!(out.status.success(), "the browser tests failed (see above)");
    let mut names: Vec<String> = std::fs::read_dir(&shots)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    println!("screenshots in {}: {}", shots.display(), names.join(", "));
    assert_eq!(names.len(), 7, "one screenshot per step: {names:?}");
    if std::env::var("PALISADE_UPDATE_SCREENSHOT").is_ok_and(|v| v == "1") {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/portal.png");
        std::fs::copy(shots.join("02-overview.png"), &docs).unwrap();
        println!("updated {}", docs.display());
    }
}
