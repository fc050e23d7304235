//! Running script scanners written by the tests themselves: a SARIF
//! writer, one that sleeps past its limit (with a child of its own), one
//! that writes garbage, one that exits 2, one that floods stdout, and one
//! that `cat`s a real SARIF file from the shared corpus (skipped visibly
//! without it).

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use palisade_findings::Format;
use palisade_scanners::{Config, RunError, Target, TargetKind, run, run_all};

const SARIF: &str = r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"testscan","version":"1.0"}},
"results":[
 {"ruleId":"R1","level":"error","message":{"text":"first"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"src/a.py"},"region":{"startLine":3}}}]},
 {"ruleId":"R2","level":"warning","message":{"text":"second"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"src/b.py"},"region":{"startLine":9}}}]}
]}]}"#;

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn config(toml: &str) -> Config {
    Config::parse(toml, "test.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn dir_target(dir: &Path) -> Target {
    Target::path(TargetKind::Directory, dir).unwrap()
}

#[test]
fn a_sarif_writer_is_read_and_its_exit_1_counts_as_success() {
    let bin = tempfile::tempdir().unwrap();
    std::fs::write(bin.path().join("report.sarif"), SARIF).unwrap();
    // The script records its arguments, one per line, then writes the report.
    let s = script(
        bin.path(),
        "sarif.sh",
        &format!(
            "for a in \"$@\"; do printf '%s\\n' \"$a\"; done > '{}/args'\ncp '{}/report.sarif' \"$2\"\necho 'found 2' >&2\nexit 1",
            bin.path().display(),
            bin.path().display()
        ),
    );
    let c = config(&format!(
        "[[scanner]]\nname = \"sarif-writer\"\ncommand = ['{}', '--target={{target}}', '{{output}}', '{{kind}}']\nformat = \"sarif\"\ntargets = [\"directory\"]\ntimeout = \"20s\"\nsuccess_exit_codes = [0, 1]\n",
        s.display()
    ));
    // A target whose name would do harm through a shell.
    let work = tempfile::tempdir().unwrap();
    let evil = work.path().join("a dir; touch pwned $(id)");
    std::fs::create_dir(&evil).unwrap();
    let r = run(&c.scanners[0], &dir_target(&evil)).unwrap();
    assert_eq!(r.format, Format::Sarif);
    assert_eq!(r.exit_code, Some(1));
    assert_eq!(r.import.findings.len(), 2);
    assert_eq!(r.import.findings[0].tool.name, "testscan");
    assert!(r.stderr.contains("found 2"));
    let args = std::fs::read_to_string(bin.path().join("args")).unwrap();
    let args: Vec<&str> = args.lines().collect();
    assert_eq!(args[0], format!("--target={}", evil.display()));
    assert!(args[1].ends_with("output.sarif"), "{args:?}");
    assert_eq!(args[2], "directory");
    assert!(!Path::new("pwned").exists() && !work.path().join("pwned").exists());
    // The temporary output directory is gone.
    assert!(!Path::new(args[1]).exists());
}

#[test]
fn sleeping_past_the_limit_kills_the_whole_group() {
    let bin = tempfile::tempdir().unwrap();
    let pidfile = bin.path().join("child.pid");
    let s = script(
        bin.path(),
        "sleepy.sh",
        &format!(
            "sleep 60 &\necho $! > '{}'\necho 'starting' >&2\nsleep 60",
            pidfile.display()
        ),
    );
    let c = config(&format!(
        "[[scanner]]\nname = \"sleepy\"\ncommand = ['{}']\nformat = \"sarif\"\ntimeout = \"1s\"\n",
        s.display()
    ));
    let started = Instant::now();
    let e = run(&c.scanners[0], &dir_target(bin.path())).unwrap_err();
    let took = started.elapsed();
    assert!(matches!(e, RunError::TimedOut { .. }), "{e}");
    assert_eq!(e.reason(), "timed-out");
    assert_eq!(e.scanner(), "sleepy");
    assert!(e.to_string().contains("timed out after 1s"), "{e}");
    assert!(e.to_string().contains("starting"), "{e}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    // The background child was killed with its parent.
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    let proc_dir = PathBuf::from(format!("/proc/{}", pid.trim()));
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(&proc_dir) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!alive(&proc_dir), "child {} survived", pid.trim());
}

/// Alive and not a zombie waiting for its (dead) parent's reaper.
fn alive(proc_dir: &Path) -> bool {
    match std::fs::read_to_string(proc_dir.join("stat")) {
        Ok(stat) => !stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
        Err(_) => false,
    }
}

#[test]
fn a_child_left_holding_stdout_cannot_outlive_the_limit() {
    let bin = tempfile::tempdir().unwrap();
    let s = script(
        bin.path(),
        "leaver.sh",
        &format!(
            "cat '{}'\nsleep 60 &\nexit 0",
            bin.path().join("r.sarif").display()
        ),
    );
    std::fs::write(bin.path().join("r.sarif"), SARIF).unwrap();
    let c = config(&format!(
        "[[scanner]]\nname = \"leaver\"\ncommand = ['{}']\nformat = \"sarif\"\ntimeout = \"1s\"\n",
        s.display()
    ));
    let started = Instant::now();
    let e = run(&c.scanners[0], &dir_target(bin.path())).unwrap_err();
    assert!(matches!(e, RunError::TimedOut { .. }), "{e}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn garbage_output_is_a_parse_error_naming_the_scanner() {
    let bin = tempfile::tempdir().unwrap();
    let s = script(bin.path(), "garbage.sh", "echo '{\"runs\": 42}'");
    let c = config(&format!(
        "[[scanner]]\nname = \"garbage\"\ncommand = ['{}', '{{target}}']\nformat = \"sarif\"\n",
        s.display()
    ));
    let e = run(&c.scanners[0], &dir_target(bin.path())).unwrap_err();
    assert!(matches!(e, RunError::Parse { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.starts_with("scanner garbage: output is not valid sarif"),
        "{msg}"
    );

    let s = script(bin.path(), "text.sh", "echo 'hello, I am not JSON'");
    let c = config(&format!(
        "[[scanner]]\nname = \"text\"\ncommand = ['{}']\nformat = \"trivy\"\n",
        s.display()
    ));
    let e = run(&c.scanners[0], &dir_target(bin.path())).unwrap_err();
    assert_eq!(e.reason(), "parse", "{e}");

    let s = script(bin.path(), "silent.sh", "exit 0");
    let c = config(&format!(
        "[[scanner]]\nname = \"silent\"\ncommand = ['{}', '{{output}}']\nformat = \"grype\"\n",
        s.display()
    ));
    let e = run(&c.scanners[0], &dir_target(bin.path())).unwrap_err();
    assert_eq!(e.reason(), "no-output", "{e}");
    assert!(e.to_string().contains("{output}"), "{e}");
}

#[test]
fn an_unexpected_exit_code_is_a_failure_with_stderr() {
    let bin = tempfile::tempdir().unwrap();
    let s = script(
        bin.path(),
        "exit2.sh",
        "echo 'error: database missing' >&2\nexit 2",
    );
    let c = config(&format!(
        "[[scanner]]\nname = \"exit2\"\ncommand = ['{}']\nformat = \"sarif\"\nsuccess_exit_codes = [0, 1]\n",
        s.display()
    ));
    let e = run(&c.scanners[0], &dir_target(bin.path())).unwrap_err();
    match &e {
        RunError::Failed { code, stderr, .. } => {
            assert_eq!(*code, Some(2));
            assert!(stderr.contains("database missing"));
        }
        other => panic!("{other}"),
    }
    let msg = e.to_string();
    assert!(msg.contains("exited with code 2"), "{msg}");
    assert!(msg.contains("database missing"), "{msg}");
}

#[test]
fn a_missing_program_and_oversized_output_are_typed_errors() {
    let bin = tempfile::tempdir().unwrap();
    let c = config(
        "[[scanner]]\nname = \"ghost\"\ncommand = ['/no/such/scanner', '{target}']\nformat = \"sarif\"\n",
    );
    let e = run(&c.scanners[0], &dir_target(bin.path())).unwrap_err();
    assert_eq!(e.reason(), "spawn", "{e}");
    assert!(e.to_string().contains("/no/such/scanner"), "{e}");

    let s = script(bin.path(), "flood.sh", "head -c 200000 /dev/zero");
    let c = config(&format!(
        "[[scanner]]\nname = \"flood\"\ncommand = ['{}']\nformat = \"sarif\"\nmax_output_bytes = 1000\n",
        s.display()
    ));
    let e = run(&c.scanners[0], &dir_target(bin.path())).unwrap_err();
    assert_eq!(e.reason(), "output-too-large", "{e}");

    let c = config(&format!(
        "[[scanner]]\nname = \"img-only\"\ncommand = ['{}']\nformat = \"sarif\"\ntargets = [\"image\"]\n",
        s.display()
    ));
    let e = run(&c.scanners[0], &dir_target(bin.path())).unwrap_err();
    assert_eq!(e.reason(), "not-applicable", "{e}");
}

#[test]
fn environment_and_stdout_reports() {
    let bin = tempfile::tempdir().unwrap();
    std::fs::write(bin.path().join("r.sarif"), SARIF).unwrap();
    let s = script(
        bin.path(),
        "env.sh",
        "test \"$SCAN_KIND\" = image || exit 7\ntest \"$SCAN_TARGET\" = 'alpine:3.20' || exit 8\ncat \"$REPORT\"",
    );
    let c = config(&format!(
        "[[scanner]]\nname = \"env\"\ncommand = ['{}']\nformat = \"sarif\"\nenv = {{ SCAN_KIND = \"{{kind}}\", SCAN_TARGET = \"{{target}}\", REPORT = '{}' }}\n",
        s.display(),
        bin.path().join("r.sarif").display()
    ));
    let r = run(&c.scanners[0], &Target::image("alpine:3.20").unwrap()).unwrap();
    assert_eq!(r.import.findings.len(), 2);
    assert_eq!(r.exit_code, Some(0));
}

#[test]
fn one_failing_scanner_does_not_lose_the_others() {
    let bin = tempfile::tempdir().unwrap();
    std::fs::write(bin.path().join("r.sarif"), SARIF).unwrap();
    let good = script(
        bin.path(),
        "good.sh",
        &format!("cat '{}'", bin.path().join("r.sarif").display()),
    );
    let bad = script(bin.path(), "bad.sh", "exit 3");
    let c = config(&format!(
        "[[scanner]]\nname = \"bad\"\ncommand = ['{}']\nformat = \"sarif\"\n[[scanner]]\nname = \"good\"\ncommand = ['{}']\nformat = \"sarif\"\n[[scanner]]\nname = \"off\"\ncommand = ['{}']\nformat = \"sarif\"\nenabled = false\n",
        bad.display(),
        good.display(),
        good.display()
    ));
    let selected = c.select(TargetKind::Directory, &[]).unwrap();
    assert_eq!(selected.len(), 2);
    let mut seen = Vec::new();
    let results = run_all(&selected, &dir_target(bin.path()), |s| {
        seen.push(s.name.clone())
    });
    assert_eq!(seen, ["bad", "good"]);
    assert!(results[0].1.is_err());
    assert_eq!(results[1].1.as_ref().unwrap().import.findings.len(), 2);
    // Naming a disabled scanner runs it.
    assert_eq!(
        c.select(TargetKind::Directory, &["off".into()])
            .unwrap()
            .len(),
        1
    );
}

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("PALISADE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    if dir.join("scanners/sarif").is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: corpus not found at {}", dir.display());
        None
    }
}

#[test]
fn a_scanner_that_cats_a_real_corpus_sarif_file() {
    let Some(corpus) = corpus() else { return };
    let file = corpus.join("scanners/sarif/ConverterTestData__AndroidStudio__twoIssues.xml.sarif");
    if !file.is_file() {
        eprintln!("SKIPPED: {} not in the corpus", file.display());
        return;
    }
    let bytes = std::fs::read(&file).unwrap();
    let direct = palisade_findings::import(
        &bytes,
        "direct",
        Some(Format::Sarif),
        &palisade_findings::ImportOptions::default(),
    )
    .unwrap();
    let c = config(&format!(
        "[[scanner]]\nname = \"cat\"\ncommand = ['cat', '{}']\nformat = \"sarif\"\n",
        file.display()
    ));
    let r = run(&c.scanners[0], &dir_target(&corpus)).unwrap();
    assert_eq!(r.import.findings.len(), direct.findings.len());
    assert_eq!(r.import.stats, direct.stats);
}
