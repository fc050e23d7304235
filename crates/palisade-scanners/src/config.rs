//! The scanners configuration file (TOML).
//!
//! ```toml
//! [[scanner]]
//! name = "semgrep"
//! command = ["semgrep", "scan", "--sarif", "--output", "{output}", "--config", "auto", "{target}"]
//! format = "sarif"
//! targets = ["directory"]
//! timeout = "10m"
//! success_exit_codes = [0, 1]
//! env = { SEMGREP_SEND_METRICS = "off" }
//! ```
//!
//! Every error names the file and the key (`scanner[1].timeout`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use palisade_findings::Format;
use serde::{Deserialize, Serialize};

/// The default time limit of a scanner.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// The longest time limit accepted.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// How much of a scanner's stderr is kept (the last bytes), by default.
pub const DEFAULT_STDERR_BYTES: usize = 64 * 1024;
/// The largest configuration file read.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// What a scanner can be pointed at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    /// A source or file-system directory.
    Directory,
    /// A container image reference (`registry/repo:tag`, `repo@sha256:...`).
    Image,
    /// A single file: an SBOM, a lockfile, a binary, an image archive.
    #[serde(alias = "sbom", alias = "file")]
    Artifact,
}

impl TargetKind {
    /// Every kind.
    pub const ALL: &'static [TargetKind] = &[
        TargetKind::Directory,
        TargetKind::Image,
        TargetKind::Artifact,
    ];

    /// The name used in the configuration, on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Directory => "directory",
            TargetKind::Image => "image",
            TargetKind::Artifact => "artifact",
        }
    }
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TargetKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "directory" | "dir" => Ok(TargetKind::Directory),
            "image" => Ok(TargetKind::Image),
            "artifact" | "sbom" | "file" => Ok(TargetKind::Artifact),
            _ => Err(format!(
                "unknown target kind {s:?} (expected directory, image or artifact)"
            )),
        }
    }
}

/// A configuration that could not be loaded. Each names the file and,
/// where there is one, the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: cannot read the scanners configuration: {source}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_CONFIG_BYTES`].
    #[error("{file}: the scanners configuration is {len} bytes, more than the {max} accepted")]
    TooLarge {
        /// The file.
        file: String,
        /// Its size.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// Not TOML, or not the expected shape.
    #[error("{file}: {}{message}", key.as_deref().map(|k| format!("key `{k}`: ")).unwrap_or_default())]
    Syntax {
        /// The file.
        file: String,
        /// The key, when known.
        key: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// Well-formed but not usable.
    #[error("{file}: key `{key}`: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// The key (`scanner[0].command[2]`).
        key: String,
        /// What is wrong.
        message: String,
    },
}

impl ConfigError {
    /// The key the error is about, when there is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Syntax { key, .. } => key.as_deref(),
            ConfigError::Invalid { key, .. } => Some(key),
            ConfigError::Read { .. } | ConfigError::TooLarge { .. } => None,
        }
    }
}

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    version: Option<u32>,
    #[serde(default)]
    scanner: Vec<RawScanner>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScanner {
    name: String,
    command: Vec<String>,
    format: String,
    #[serde(default)]
    targets: Option<Vec<TargetKind>>,
    #[serde(default)]
    timeout: Option<RawDuration>,
    #[serde(default)]
    success_exit_codes: Option<Vec<i32>>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    clear_env: bool,
    #[serde(default)]
    workdir: Option<PathBuf>,
    #[serde(default)]
    max_output_bytes: Option<usize>,
    #[serde(default)]
    max_stderr_bytes: Option<usize>,
    #[serde(default = "yes")]
    enabled: bool,
}

fn yes() -> bool {
    true
}

/// `timeout = 90` (seconds) or `timeout = "90s"`, `"10m"`, `"1h"`, `"500ms"`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawDuration {
    Seconds(u64),
    Text(String),
}

/// One configured scanner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Scanner {
    /// Its name (unique in the file): `[A-Za-z0-9._-]`, names the scanner in
    /// every report and error.
    pub name: String,
    /// The program and its arguments, with placeholders ([`Placeholder`]).
    /// Run directly, never through a shell.
    pub command: Vec<String>,
    /// The format of what it produces.
    pub format: Format,
    /// The kinds of target it applies to.
    pub targets: Vec<TargetKind>,
    /// The time limit.
    #[serde(with = "duration_ms")]
    pub timeout: Duration,
    /// Exit codes meaning success (many scanners exit 1 when they find
    /// something).
    pub success_exit_codes: Vec<i32>,
    /// Environment variables set for it (values may use placeholders).
    pub env: BTreeMap<String, String>,
    /// Start from an empty environment instead of Palisade's own.
    pub clear_env: bool,
    /// The working directory; the caller's by default.
    pub workdir: Option<PathBuf>,
    /// The largest output accepted, in bytes (the `{output}` file or stdout).
    pub max_output_bytes: usize,
    /// How much of stderr is kept for reports (the last bytes).
    pub max_stderr_bytes: usize,
    /// Whether the output is read from the `{output}` file (the command
    /// names `{output}`) or from stdout.
    pub output_from_file: bool,
    /// Disabled scanners are kept in the file but never run.
    pub enabled: bool,
}

mod duration_ms {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

impl Scanner {
    /// Whether it applies to a target of this kind.
    pub fn applies_to(&self, kind: TargetKind) -> bool {
        self.targets.contains(&kind)
    }
}

/// A placeholder in a command template or environment value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placeholder {
    /// `{target}`: the directory or file (absolute path) or image reference.
    Target,
    /// `{output}`: a file in a fresh private temporary directory for the
    /// scanner to write its report to.
    Output,
    /// `{kind}`: `directory`, `image` or `artifact`.
    Kind,
    /// `{tmpdir}`: that fresh private temporary directory.
    TmpDir,
}

impl Placeholder {
    fn parse(name: &str) -> Option<Placeholder> {
        match name {
            "target" => Some(Placeholder::Target),
            "output" => Some(Placeholder::Output),
            "kind" => Some(Placeholder::Kind),
            "tmpdir" => Some(Placeholder::TmpDir),
            _ => None,
        }
    }
}

/// One piece of a template.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Text(std::borrow::Cow<'a, str>),
    Hole(Placeholder),
}

/// Splits a template into text and placeholders. `{{` and `}}` are literal
/// braces.
fn pieces(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        text.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(t) = tail.strip_prefix("{{") {
            text.push('{');
            rest = t;
        } else if let Some(t) = tail.strip_prefix("}}") {
            text.push('}');
            rest = t;
        } else if let Some(t) = tail.strip_prefix('{') {
            let Some(end) = t.find('}') else {
                return Err(format!(
                    "unclosed `{{` in {template:?} (write `{{{{` for a brace)"
                ));
            };
            let name = &t[..end];
            let hole = Placeholder::parse(name).ok_or_else(|| {
                format!(
                    "unknown placeholder `{{{name}}}` (expected {{target}}, {{output}}, {{kind}} or {{tmpdir}}; write `{{{{` for a brace)"
                )
            })?;
            if !text.is_empty() {
                out.push(Piece::Text(std::mem::take(&mut text).into()));
            }
            out.push(Piece::Hole(hole));
            rest = &t[end + 1..];
        } else {
            return Err(format!(
                "stray `}}` in {template:?} (write `}}}}` for a brace)"
            ));
        }
    }
    text.push_str(rest);
    if !text.is_empty() {
        out.push(Piece::Text(text.into()));
    }
    Ok(out)
}

/// The values placeholders take for one run.
#[derive(Clone, Debug)]
pub struct Values<'a> {
    /// `{target}`.
    pub target: &'a str,
    /// `{output}`.
    pub output: &'a str,
    /// `{kind}`.
    pub kind: TargetKind,
    /// `{tmpdir}`.
    pub tmpdir: &'a str,
}

/// Fills a template that [`Config`] already validated. Each argument stays
/// one argument whatever the values hold: there is no shell.
pub fn expand(template: &str, v: &Values<'_>) -> String {
    match pieces(template) {
        Ok(ps) => {
            let mut s = String::with_capacity(template.len());
            for p in ps {
                match p {
                    Piece::Text(t) => s.push_str(&t),
                    Piece::Hole(Placeholder::Target) => s.push_str(v.target),
                    Piece::Hole(Placeholder::Output) => s.push_str(v.output),
                    Piece::Hole(Placeholder::Kind) => s.push_str(v.kind.as_str()),
                    Piece::Hole(Placeholder::TmpDir) => s.push_str(v.tmpdir),
                }
            }
            s
        }
        // Not reachable for validated templates; keep the text as written.
        Err(_) => template.to_owned(),
    }
}

fn uses(template: &str, hole: Placeholder) -> bool {
    pieces(template).is_ok_and(|ps| ps.contains(&Piece::Hole(hole)))
}

/// A loaded scanners configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Config {
    /// Where it was read from (for messages).
    pub file: String,
    /// The scanners, in file order.
    pub scanners: Vec<Scanner>,
}

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let read = |source| ConfigError::Read {
            file: file.clone(),
            source,
        };
        let len = std::fs::metadata(path).map_err(read)?.len();
        if len > MAX_CONFIG_BYTES {
            return Err(ConfigError::TooLarge {
                file,
                len,
                max: MAX_CONFIG_BYTES,
            });
        }
        let text = std::fs::read_to_string(path).map_err(read)?;
        Config::parse(&text, &file)
    }

    /// Parses and validates configuration text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let syntax = |key: Option<String>, message: String| ConfigError::Syntax {
            file: file.to_owned(),
            key,
            message,
        };
        let de = toml::Deserializer::parse(text).map_err(|e| syntax(None, one_line(&e)))?;
        let raw: RawConfig = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let key = (path != ".").then_some(path);
            syntax(key, one_line(e.inner()))
        })?;
        let invalid = |key: String, message: String| ConfigError::Invalid {
            file: file.to_owned(),
            key,
            message,
        };
        if let Some(v) = raw.version
            && v != 1
        {
            return Err(invalid(
                "version".into(),
                format!("version {v} is not supported (expected 1)"),
            ));
        }
        let mut scanners: Vec<Scanner> = Vec::with_capacity(raw.scanner.len());
        for (i, r) in raw.scanner.into_iter().enumerate() {
            let key = |k: &str| format!("scanner[{i}].{k}");
            if r.name.is_empty()
                || r.name.len() > 64
                || !r
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            {
                return Err(invalid(
                    key("name"),
                    format!(
                        "{:?} is not a scanner name (1 to 64 of A-Z a-z 0-9 . _ -)",
                        r.name
                    ),
                ));
            }
            if scanners.iter().any(|s| s.name == r.name) {
                return Err(invalid(
                    key("name"),
                    format!("scanner {:?} is configured twice", r.name),
                ));
            }
            let Some(program) = r.command.first() else {
                return Err(invalid(
                    key("command"),
                    "empty command (give the program and its arguments as a list)".into(),
                ));
            };
            if program.trim().is_empty() {
                return Err(invalid(key("command[0]"), "empty program name".into()));
            }
            for (j, arg) in r.command.iter().enumerate() {
                pieces(arg).map_err(|m| invalid(key(&format!("command[{j}]")), m))?;
            }
            if pieces(program).is_ok_and(|ps| ps.iter().any(|p| matches!(p, Piece::Hole(_)))) {
                return Err(invalid(
                    key("command[0]"),
                    "the program cannot be a placeholder".into(),
                ));
            }
            for (k, v) in &r.env {
                if k.is_empty() || k.contains('=') || k.contains('\0') {
                    return Err(invalid(
                        key(&format!("env.{k}")),
                        "not an environment variable name".into(),
                    ));
                }
                pieces(v).map_err(|m| invalid(key(&format!("env.{k}")), m))?;
            }
            let format: Format = r.format.parse().map_err(|m| invalid(key("format"), m))?;
            let targets = r.targets.unwrap_or_else(|| TargetKind::ALL.to_vec());
            if targets.is_empty() {
                return Err(invalid(
                    key("targets"),
                    "no target kinds (directory, image, artifact)".into(),
                ));
            }
            let timeout = match r.timeout {
                None => DEFAULT_TIMEOUT,
                Some(RawDuration::Seconds(s)) => Duration::from_secs(s),
                Some(RawDuration::Text(t)) => {
                    parse_duration(&t).map_err(|m| invalid(key("timeout"), m))?
                }
            };
            if timeout.is_zero() || timeout > MAX_TIMEOUT {
                return Err(invalid(
                    key("timeout"),
                    "the time limit must be more than 0 and at most 24h".into(),
                ));
            }
            let success_exit_codes = r.success_exit_codes.unwrap_or_else(|| vec![0]);
            if success_exit_codes.is_empty() {
                return Err(invalid(
                    key("success_exit_codes"),
                    "no exit code would count as success".into(),
                ));
            }
            let max_output_bytes = r
                .max_output_bytes
                .unwrap_or(palisade_findings::DEFAULT_MAX_BYTES);
            if max_output_bytes == 0 {
                return Err(invalid(
                    key("max_output_bytes"),
                    "must be more than 0".into(),
                ));
            }
            let output_from_file = r.command.iter().any(|a| uses(a, Placeholder::Output));
            scanners.push(Scanner {
                name: r.name,
                command: r.command,
                format,
                targets,
                timeout,
                success_exit_codes,
                env: r.env,
                clear_env: r.clear_env,
                workdir: r.workdir,
                max_output_bytes,
                max_stderr_bytes: r.max_stderr_bytes.unwrap_or(DEFAULT_STDERR_BYTES),
                output_from_file,
                enabled: r.enabled,
            });
        }
        Ok(Config {
            file: file.to_owned(),
            scanners,
        })
    }

    /// The scanner of this name.
    pub fn get(&self, name: &str) -> Option<&Scanner> {
        self.scanners.iter().find(|s| s.name == name)
    }

    /// The enabled scanners that apply to `kind`, restricted to `only` when
    /// it is not empty. A name in `only` that is not configured is an error
    /// (naming it); one that does not apply to `kind` is skipped.
    pub fn select<'a>(
        &'a self,
        kind: TargetKind,
        only: &[String],
    ) -> Result<Vec<&'a Scanner>, ConfigError> {
        for n in only {
            if self.get(n).is_none() {
                return Err(ConfigError::Invalid {
                    file: self.file.clone(),
                    key: "scanner".into(),
                    message: format!(
                        "no scanner named {n:?} (configured: {})",
                        self.scanners
                            .iter()
                            .map(|s| s.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
        }
        Ok(self
            .scanners
            .iter()
            .filter(|s| s.applies_to(kind))
            .filter(|s| {
                if only.is_empty() {
                    s.enabled
                } else {
                    only.contains(&s.name)
                }
            })
            .collect())
    }
}

fn one_line(e: &dyn fmt::Display) -> String {
    let s = e.to_string();
    let lines: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    lines.join("; ")
}

/// `"90"`, `"90s"`, `"10m"`, `"1h"`, `"500ms"`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (such as 90s, 10m, 1h, 500ms)"))?;
    let d = match unit.trim() {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" | "min" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        u => return Err(format!("{s:?}: unknown unit {u:?} (ms, s, m, h)")),
    };
    Ok(d)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
version = 1
[[scanner]]
name = "semgrep"
command = ["semgrep", "--sarif", "--output", "{output}", "{target}"]
format = "sarif"
targets = ["directory"]
timeout = "2m"
success_exit_codes = [0, 1]
env = { SEMGREP_SEND_METRICS = "off" }

[[scanner]]
name = "trivy-image"
command = ["trivy", "image", "--format", "json", "{target}"]
format = "trivy"
targets = ["image", "sbom"]
timeout = 30
"#;

    #[test]
    fn reads_a_good_file() {
        let c = Config::parse(GOOD, "s.toml").unwrap();
        assert_eq!(c.scanners.len(), 2);
        let s = &c.scanners[0];
        assert_eq!(s.format, Format::Sarif);
        assert_eq!(s.timeout, Duration::from_secs(120));
        assert!(s.output_from_file);
        assert_eq!(s.success_exit_codes, [0, 1]);
        let t = &c.scanners[1];
        assert!(!t.output_from_file);
        assert_eq!(t.targets, [TargetKind::Image, TargetKind::Artifact]);
        assert_eq!(t.timeout, Duration::from_secs(30));
        assert_eq!(t.success_exit_codes, [0]);
        let names = |v: Vec<&Scanner>| v.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(c.select(TargetKind::Directory, &[]).unwrap()),
            ["semgrep"]
        );
        assert_eq!(
            names(c.select(TargetKind::Artifact, &[]).unwrap()),
            ["trivy-image"]
        );
        assert!(
            c.select(TargetKind::Image, &["semgrep".into()])
                .unwrap()
                .is_empty()
        );
        let e = c
            .select(TargetKind::Image, &["nope".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("nope") && e.contains("s.toml"), "{e}");
    }

    fn err(text: &str) -> ConfigError {
        Config::parse(text, "bad.toml").unwrap_err()
    }

    #[test]
    fn errors_name_the_file_and_the_key() {
        let e =
            err("[[scanner]]\nname = \"a\"\ncommand = [\"x\"]\nformat = \"sarif\"\ntiemout = 3\n");
        assert!(e.to_string().starts_with("bad.toml: "), "{e}");
        assert!(e.to_string().contains("tiemout"), "{e}");

        let e = err(
            "[[scanner]]\nname = \"a\"\ncommand = [\"x\"]\nformat = \"sarif\"\ntimeout = \"3 fortnights\"\n",
        );
        assert_eq!(e.key(), Some("scanner[0].timeout"), "{e}");

        let e =
            err("[[scanner]]\nname = \"a\"\ncommand = [\"x\", \"{targte}\"]\nformat = \"sarif\"\n");
        assert_eq!(e.key(), Some("scanner[0].command[1]"), "{e}");
        assert!(e.to_string().contains("{targte}"), "{e}");

        let e = err("[[scanner]]\nname = \"a\"\ncommand = []\nformat = \"sarif\"\n");
        assert_eq!(e.key(), Some("scanner[0].command"), "{e}");

        let e = err("[[scanner]]\nname = \"a\"\ncommand = [\"x\"]\nformat = \"xml\"\n");
        assert_eq!(e.key(), Some("scanner[0].format"), "{e}");

        let e = err("[[scanner]]\nname = \"a b\"\ncommand = [\"x\"]\nformat = \"zap\"\n");
        assert_eq!(e.key(), Some("scanner[0].name"), "{e}");

        let e = err(
            "[[scanner]]\nname = \"a\"\ncommand = [\"x\"]\nformat = \"zap\"\n[[scanner]]\nname = \"a\"\ncommand = [\"y\"]\nformat = \"zap\"\n",
        );
        assert_eq!(e.key(), Some("scanner[1].name"), "{e}");

        let e = err(
            "[[scanner]]\nname = \"a\"\ncommand = [\"x\"]\nformat = \"zap\"\ntargets = [\"vm\"]\n",
        );
        assert!(e.to_string().contains("scanner[0].targets"), "{e}");

        let e = err("[[scanner]]\nname = \"a\"\ncommand = [\"{target}\"]\nformat = \"zap\"\n");
        assert_eq!(e.key(), Some("scanner[0].command[0]"), "{e}");

        let e = err(
            "[[scanner]]\nname = \"a\"\ncommand = [\"x\"]\nformat = \"zap\"\nsuccess_exit_codes = []\n",
        );
        assert_eq!(e.key(), Some("scanner[0].success_exit_codes"), "{e}");

        let e = err("not toml = = =");
        assert!(e.to_string().starts_with("bad.toml: "), "{e}");
    }

    #[test]
    fn templates_expand_into_single_arguments() {
        let v = Values {
            target: "/tmp/a dir; rm -rf /",
            output: "/t/out.json",
            kind: TargetKind::Directory,
            tmpdir: "/t",
        };
        assert_eq!(expand("{target}", &v), "/tmp/a dir; rm -rf /");
        assert_eq!(expand("--out={output}", &v), "--out=/t/out.json");
        assert_eq!(expand("{{literal}} {kind}", &v), "{literal} directory");
        assert_eq!(expand("{tmpdir}/x", &v), "/t/x");
        assert!(pieces("{nope}").is_err());
        assert!(pieces("{open").is_err());
        assert!(pieces("close}").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5d").is_err());
    }
}
