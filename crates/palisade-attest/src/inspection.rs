//! Running layout inspections: the one place in this crate that touches the
//! file system and starts processes.
//!
//! Design: [`crate::layout`] is pure and asks an [`InspectionRunner`] for the
//! link an inspection produces. This module is the runner the binary and the
//! tests share. It runs nothing unless constructed with permission, records
//! every regular file under the working directory before (materials) and
//! after (products) the command, as the reference's `in_toto_run` does with
//! `["."]`, and bounds the walk (file count, depth, file size read at once).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::layout::{Artifacts, Inspection, InspectionRunner, Link};

/// The most files recorded under a working directory.
pub const MAX_FILES: usize = 100_000;
/// The deepest directory nesting walked.
pub const MAX_DEPTH: usize = 64;

/// Runs inspections as processes in a working directory.
#[derive(Debug, Clone)]
pub struct CommandRunner {
    dir: PathBuf,
    overrides: BTreeMap<String, Vec<String>>,
}

impl CommandRunner {
    /// A runner in `dir`. Creating one is the permission to run commands.
    pub fn new(dir: &Path) -> Self {
        CommandRunner {
            dir: dir.to_path_buf(),
            overrides: BTreeMap::new(),
        }
    }

    /// Replaces the command of the inspection `name` (for a layout whose
    /// helper script is not present here); the rules still apply.
    pub fn with_override(mut self, name: &str, argv: Vec<String>) -> Self {
        self.overrides.insert(name.to_string(), argv);
        self
    }
}

/// Records every regular file under `dir` with its SHA-256, paths relative
/// and `/`-separated.
pub fn record_artifacts(dir: &Path) -> Result<Artifacts, String> {
    let mut out = Artifacts::new();
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    while let Some((d, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(format!(
                "{} is nested deeper than {MAX_DEPTH} levels",
                d.display()
            ));
        }
        let entries =
            std::fs::read_dir(&d).map_err(|e| format!("cannot list {}: {e}", d.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot list {}: {e}", d.display()))?;
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path)
                .map_err(|e| format!("cannot stat {}: {e}", path.display()))?;
            if meta.is_dir() {
                stack.push((path, depth + 1));
            } else if meta.is_file() {
                if out.len() >= MAX_FILES {
                    return Err(format!(
                        "more than {MAX_FILES} files under {}",
                        dir.display()
                    ));
                }
                let rel = path
                    .strip_prefix(dir)
                    .map_err(|e| e.to_string())?
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().to_string())
                    .collect::<Vec<_>>()
                    .join("/");
                let mut file = std::fs::File::open(&path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                let mut hasher = Sha256::new();
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = file
                        .read(&mut buf)
                        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                    if n == 0 {
                        break;
                    }
                    hasher.update(buf.get(..n).unwrap_or_default());
                }
                out.insert(
                    rel,
                    BTreeMap::from([("sha256".to_string(), hex::encode(hasher.finalize()))]),
                );
            }
        }
    }
    Ok(out)
}

impl InspectionRunner for CommandRunner {
    fn run(&mut self, inspection: &Inspection) -> Result<Link, String> {
        let argv = self
            .overrides
            .get(&inspection.name)
            .cloned()
            .unwrap_or_else(|| inspection.run.clone());
        let Some((program, args)) = argv.split_first() else {
            return Err(format!("Inspection {:?} has no command.", inspection.name));
        };
        let materials = record_artifacts(&self.dir)?;
        let output = Command::new(program)
            .args(args)
            .current_dir(&self.dir)
            .output()
            .map_err(|e| {
                format!(
                    "Inspection {:?} could not start {program:?}: {e}.",
                    inspection.name
                )
            })?;
        if !output.status.success() {
            return Err(format!(
                "Inspection {:?} ran {argv:?} and it exited with {}: {}",
                inspection.name,
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        let products = record_artifacts(&self.dir)?;
        let mut byproducts = serde_json::Map::new();
        byproducts.insert(
            "return-value".into(),
            serde_json::json!(output.status.code()),
        );
        byproducts.insert(
            "stdout".into(),
            serde_json::json!(String::from_utf8_lossy(&output.stdout)),
        );
        byproducts.insert(
            "stderr".into(),
            serde_json::json!(String::from_utf8_lossy(&output.stderr)),
        );
        Ok(Link {
            type_: "link".into(),
            name: inspection.name.clone(),
            command: argv,
            materials,
            products,
            byproducts,
            environment: serde_json::Map::new(),
        })
    }
}
