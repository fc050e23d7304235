//! Running one configured scanner against one target.
//!
//! The command is spawned directly (no shell: the target is one argument
//! whatever it holds), in its own process group, with stdin closed and
//! stdout and stderr captured under size caps. When the time limit passes,
//! the whole group is killed (the scanner and anything it started) and the
//! run is a [`RunError::TimedOut`]. The output (the `{output}` file, or
//! stdout) is read by the `palisade-findings` adapter for the configured
//! format.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use palisade_findings::{Format, Import, ImportError, ImportOptions, ImportStats};
use serde::Serialize;

use crate::config::{Scanner, TargetKind, Values, expand};

/// What a scanner is run against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Target {
    /// Its kind.
    pub kind: TargetKind,
    /// The absolute path of the directory or file, or the image reference.
    pub value: String,
}

impl Target {
    /// A directory or file target: the path is made absolute (so that it can
    /// never be read as an option) and must exist.
    pub fn path(kind: TargetKind, path: &Path) -> std::io::Result<Target> {
        let abs = std::path::absolute(path)?;
        std::fs::metadata(&abs)?;
        Ok(Target {
            kind,
            value: abs.to_string_lossy().into_owned(),
        })
    }

    /// An image reference. References that could be read as an option
    /// (starting with `-`) or that hold control characters or whitespace
    /// are refused.
    pub fn image(reference: &str) -> Result<Target, String> {
        if reference.is_empty()
            || reference.starts_with('-')
            || reference
                .chars()
                .any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(format!("{reference:?} is not an image reference"));
        }
        Ok(Target {
            kind: TargetKind::Image,
            value: reference.to_owned(),
        })
    }
}

/// Why a scanner run produced no findings. Each names the scanner.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The scanner does not apply to this kind of target.
    #[error("scanner {scanner}: does not apply to a {kind} target")]
    NotApplicable {
        /// The scanner.
        scanner: String,
        /// The target kind.
        kind: TargetKind,
    },
    /// The program could not be started (not installed, not executable).
    #[error("scanner {scanner}: cannot start {program:?}: {source}")]
    Spawn {
        /// The scanner.
        scanner: String,
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It ran past its time limit and was killed with its process group.
    #[error("scanner {scanner}: timed out after {}s and was killed{}", limit.as_secs_f64(), tail(stderr))]
    TimedOut {
        /// The scanner.
        scanner: String,
        /// The limit.
        limit: Duration,
        /// The end of its stderr.
        stderr: String,
    },
    /// It exited with a code not configured as success, or by a signal.
    #[error("scanner {scanner}: {} (success is {success:?}){}", describe_exit(*code, *signal), tail(stderr))]
    Failed {
        /// The scanner.
        scanner: String,
        /// The exit code.
        code: Option<i32>,
        /// The signal that ended it.
        signal: Option<i32>,
        /// The configured success codes.
        success: Vec<i32>,
        /// The end of its stderr.
        stderr: String,
    },
    /// It succeeded but wrote no output.
    #[error("scanner {scanner}: no output: {reason}")]
    NoOutput {
        /// The scanner.
        scanner: String,
        /// What was missing.
        reason: String,
    },
    /// Its output was larger than `max_output_bytes`.
    #[error("scanner {scanner}: output larger than {max} bytes")]
    OutputTooLarge {
        /// The scanner.
        scanner: String,
        /// The limit.
        max: usize,
    },
    /// Its output could not be read as the configured format.
    #[error("scanner {scanner}: output is not valid {format}: {source}")]
    Parse {
        /// The scanner.
        scanner: String,
        /// The configured format.
        format: Format,
        /// The adapter's error (names the JSON path).
        #[source]
        source: ImportError,
    },
    /// Preparing or collecting the run failed (temporary directory, pipes).
    #[error("scanner {scanner}: {what}: {source}")]
    Io {
        /// The scanner.
        scanner: String,
        /// What was being done.
        what: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl RunError {
    /// The scanner it is about.
    pub fn scanner(&self) -> &str {
        match self {
            RunError::NotApplicable { scanner, .. }
            | RunError::Spawn { scanner, .. }
            | RunError::TimedOut { scanner, .. }
            | RunError::Failed { scanner, .. }
            | RunError::NoOutput { scanner, .. }
            | RunError::OutputTooLarge { scanner, .. }
            | RunError::Parse { scanner, .. }
            | RunError::Io { scanner, .. } => scanner,
        }
    }

    /// A short machine-readable reason: `not-applicable`, `spawn`,
    /// `timed-out`, `failed`, `no-output`, `output-too-large`, `parse`, `io`.
    pub fn reason(&self) -> &'static str {
        match self {
            RunError::NotApplicable { .. } => "not-applicable",
            RunError::Spawn { .. } => "spawn",
            RunError::TimedOut { .. } => "timed-out",
            RunError::Failed { .. } => "failed",
            RunError::NoOutput { .. } => "no-output",
            RunError::OutputTooLarge { .. } => "output-too-large",
            RunError::Parse { .. } => "parse",
            RunError::Io { .. } => "io",
        }
    }

    /// The end of the scanner's stderr, when it ran.
    pub fn stderr(&self) -> Option<&str> {
        match self {
            RunError::TimedOut { stderr, .. } | RunError::Failed { stderr, .. } => Some(stderr),
            _ => None,
        }
    }
}

fn describe_exit(code: Option<i32>, signal: Option<i32>) -> String {
    match (code, signal) {
        (Some(c), _) => format!("exited with code {c}"),
        (None, Some(s)) => format!("killed by signal {s}"),
        (None, None) => "ended without an exit code".into(),
    }
}

fn tail(stderr: &str) -> String {
    let last: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let start = last.len().saturating_sub(3);
    match last.get(start..) {
        Some(l) if !l.is_empty() => format!("; stderr: {}", l.join(" | ")),
        _ => String::new(),
    }
}

/// A successful run.
#[derive(Debug, Serialize)]
pub struct ScanRun {
    /// The scanner.
    pub scanner: String,
    /// The format its output was read as.
    pub format: Format,
    /// Its exit code (one of the configured success codes).
    pub exit_code: Option<i32>,
    /// How long it ran.
    #[serde(serialize_with = "as_millis")]
    pub duration: Duration,
    /// The end of its stderr (capped).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub stderr: String,
    /// What its output held.
    pub import: Import,
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Runs `scanner` against `target` and reads its output.
pub fn run(scanner: &Scanner, target: &Target) -> Result<ScanRun, RunError> {
    let name = scanner.name.clone();
    if !scanner.applies_to(target.kind) {
        return Err(RunError::NotApplicable {
            scanner: name,
            kind: target.kind,
        });
    }
    let io = |what: &str| {
        let scanner = name.clone();
        let what = what.to_owned();
        move |source| RunError::Io {
            scanner,
            what,
            source,
        }
    };
    let tmp = tempfile::Builder::new()
        .prefix(&format!("palisade-scan-{}-", scanner.name))
        .tempdir()
        .map_err(io("creating a temporary directory"))?;
    let output_path: PathBuf = tmp
        .path()
        .join(format!("output.{}", extension(scanner.format)));
    let tmp_s = tmp.path().to_string_lossy().into_owned();
    let out_s = output_path.to_string_lossy().into_owned();
    let values = Values {
        target: &target.value,
        output: &out_s,
        kind: target.kind,
        tmpdir: &tmp_s,
    };
    let argv: Vec<String> = scanner.command.iter().map(|a| expand(a, &values)).collect();
    let Some((program, args)) = argv.split_first() else {
        return Err(RunError::NoOutput {
            scanner: name,
            reason: "empty command".into(),
        });
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if scanner.clear_env {
        cmd.env_clear();
    }
    for (k, v) in &scanner.env {
        cmd.env(k, expand(v, &values));
    }
    if let Some(dir) = &scanner.workdir {
        cmd.current_dir(dir);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|source| RunError::Spawn {
        scanner: name.clone(),
        program: program.clone(),
        source,
    })?;

    // stdout is the report when there is no {output}; otherwise only a
    // little of it is kept.
    let stdout_cap = if scanner.output_from_file {
        scanner.max_stderr_bytes
    } else {
        scanner.max_output_bytes
    };
    let (tx, rx) = mpsc::channel::<(Stream, Captured)>();
    if let Some(out) = child.stdout.take() {
        spawn_reader(
            out,
            Stream::Stdout,
            stdout_cap,
            !scanner.output_from_file,
            tx.clone(),
        );
    }
    if let Some(err) = child.stderr.take() {
        spawn_reader(
            err,
            Stream::Stderr,
            scanner.max_stderr_bytes,
            false,
            tx.clone(),
        );
    }
    drop(tx);

    let deadline = started + scanner.timeout;
    let status = match wait_until(&mut child, deadline) {
        Ok(Some(s)) => s,
        Ok(None) => {
            kill_group(&mut child);
            let (_, stderr) = collect(&rx, Instant::now() + Duration::from_secs(2));
            return Err(RunError::TimedOut {
                scanner: name,
                limit: scanner.timeout,
                stderr: lossy(&stderr.bytes),
            });
        }
        Err(e) => {
            kill_group(&mut child);
            return Err(io("waiting for the scanner")(e));
        }
    };
    // The scanner exited; whatever it left running still holds the pipes
    // open until the deadline, then the group is killed.
    let (stdout, stderr, all) = {
        let (mut out, mut err) = (Captured::default(), Captured::default());
        let mut n = 0;
        let mut timed_out = false;
        while n < 2 {
            let now = Instant::now();
            let wait = deadline.saturating_duration_since(now);
            match rx.recv_timeout(wait) {
                Ok((Stream::Stdout, c)) => {
                    out = c;
                    n += 1;
                }
                Ok((Stream::Stderr, c)) => {
                    err = c;
                    n += 1;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    timed_out = true;
                    break;
                }
            }
        }
        (out, err, !timed_out)
    };
    if !all {
        kill_group(&mut child);
        return Err(RunError::TimedOut {
            scanner: name,
            limit: scanner.timeout,
            stderr: lossy(&stderr.bytes),
        });
    }
    let duration = started.elapsed();
    let stderr_text = lossy(&stderr.bytes);
    let code = status.code();
    if !code.is_some_and(|c| scanner.success_exit_codes.contains(&c)) {
        return Err(RunError::Failed {
            scanner: name,
            code,
            signal: signal_of(&status),
            success: scanner.success_exit_codes.clone(),
            stderr: stderr_text,
        });
    }

    let bytes = if scanner.output_from_file {
        match std::fs::metadata(&output_path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(RunError::NoOutput {
                    scanner: name,
                    reason: "it did not write the {output} file".into(),
                });
            }
            Err(e) => return Err(io("reading its output file")(e)),
            Ok(m) if m.len() > u64::try_from(scanner.max_output_bytes).unwrap_or(u64::MAX) => {
                return Err(RunError::OutputTooLarge {
                    scanner: name,
                    max: scanner.max_output_bytes,
                });
            }
            Ok(_) => std::fs::read(&output_path).map_err(io("reading its output file"))?,
        }
    } else {
        if stdout.overflow {
            return Err(RunError::OutputTooLarge {
                scanner: name,
                max: scanner.max_output_bytes,
            });
        }
        stdout.bytes
    };
    let document = format!("scanner {}", scanner.name);
    let options = ImportOptions {
        max_bytes: scanner.max_output_bytes,
        ..ImportOptions::default()
    };
    let import = match palisade_findings::import(&bytes, &document, Some(scanner.format), &options)
    {
        Ok(i) => i,
        // Falco writes nothing when nothing happened.
        Err(ImportError::Empty { .. }) if scanner.format == Format::Falco => Import {
            document,
            format: Format::Falco,
            tools: Vec::new(),
            target: None,
            created_at: None,
            stats: ImportStats::default(),
            findings: Vec::new(),
            warnings: Vec::new(),
        },
        Err(ImportError::Empty { .. }) => {
            return Err(RunError::NoOutput {
                scanner: name,
                reason: if scanner.output_from_file {
                    "the {output} file is empty".into()
                } else {
                    "stdout is empty".into()
                },
            });
        }
        Err(source) => {
            return Err(RunError::Parse {
                scanner: name,
                format: scanner.format,
                source,
            });
        }
    };
    Ok(ScanRun {
        scanner: name,
        format: scanner.format,
        exit_code: code,
        duration,
        stderr: stderr_text,
        import,
    })
}

fn extension(f: Format) -> &'static str {
    match f {
        Format::Sarif => "sarif",
        Format::Falco => "jsonl",
        _ => "json",
    }
}

#[derive(Clone, Copy, Debug)]
enum Stream {
    Stdout,
    Stderr,
}

#[derive(Debug, Default)]
struct Captured {
    bytes: Vec<u8>,
    /// More than the cap was written.
    overflow: bool,
}

/// Reads a pipe to its end. `keep_head` keeps the first `cap` bytes (a
/// report), otherwise the last `cap` bytes (a log); either way the pipe is
/// drained so that the scanner never blocks on it.
fn spawn_reader<R: Read + Send + 'static>(
    mut r: R,
    which: Stream,
    cap: usize,
    keep_head: bool,
    tx: mpsc::Sender<(Stream, Captured)>,
) {
    std::thread::spawn(move || {
        let mut c = Captured::default();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            let chunk = buf.get(..n).unwrap_or_default();
            if keep_head {
                let room = cap.saturating_sub(c.bytes.len());
                if n > room {
                    c.overflow = true;
                }
                c.bytes
                    .extend_from_slice(chunk.get(..room.min(n)).unwrap_or_default());
            } else {
                c.bytes.extend_from_slice(chunk);
                if c.bytes.len() > cap.saturating_mul(2).max(8192) {
                    let cut = c.bytes.len() - cap;
                    c.bytes.drain(..cut);
                    c.overflow = true;
                }
            }
        }
        if !keep_head && c.bytes.len() > cap {
            let cut = c.bytes.len() - cap;
            c.bytes.drain(..cut);
            c.overflow = true;
        }
        let _ = tx.send((which, c));
    });
}

/// Collects what the readers have until `deadline`: (stdout, stderr).
fn collect(rx: &mpsc::Receiver<(Stream, Captured)>, deadline: Instant) -> (Captured, Captured) {
    let (mut out, mut err) = (Captured::default(), Captured::default());
    for _ in 0..2 {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok((Stream::Stdout, c)) => out = c,
            Ok((Stream::Stderr, c)) => err = c,
            Err(_) => break,
        }
    }
    (out, err)
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Waits for the child until `deadline`; `None` when it is still running.
fn wait_until(child: &mut Child, deadline: Instant) -> std::io::Result<Option<ExitStatus>> {
    let mut pause = Duration::from_millis(2);
    loop {
        if let Some(s) = child.try_wait()? {
            return Ok(Some(s));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Kills the child's whole process group (it leads it), then reaps it.
fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    {
        use rustix::process::{Pid, Signal, kill_process_group};
        if let Some(pid) = i32::try_from(child.id()).ok().and_then(Pid::from_raw) {
            let _ = kill_process_group(pid, Signal::KILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(unix)]
fn signal_of(s: &ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    s.signal()
}

#[cfg(not(unix))]
fn signal_of(_: &ExitStatus) -> Option<i32> {
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn image_references_that_look_like_options_are_refused() {
        assert!(Target::image("alpine:3.20").is_ok());
        assert!(Target::image("--config=/etc/passwd").is_err());
        assert!(Target::image("a b").is_err());
        assert!(Target::image("").is_err());
    }

    #[test]
    fn stderr_tail_is_short() {
        assert_eq!(tail("a\n\nb\nc\nd\n"), "; stderr: b | c | d");
        assert_eq!(tail(""), "");
    }

    #[test]
    fn paths_become_absolute() {
        let t = Target::path(TargetKind::Directory, Path::new(".")).unwrap();
        assert!(t.value.starts_with('/'), "{}", t.value);
        assert!(Target::path(TargetKind::Artifact, Path::new("/no/such/file")).is_err());
    }
}
