//! Typed errors for every catalogue source.
//!
//! Each error names the file it concerns (a path on disk, or a path inside an
//! image such as `sha256:ab12…!/var/lib/dpkg/status`) and, where the format
//! allows, the position of the fault: a line (and column) for text formats, a
//! JSON path for JSON documents, a byte offset for binaries, or an archive
//! entry. The CLI prints these as they are; nothing here panics on input.

use std::fmt;

/// Where in a file a fault was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Position {
    /// No finer position than the file.
    File,
    /// A 1-based line number.
    Line(usize),
    /// A 1-based line and column.
    LineColumn(usize, usize),
    /// A JSON path such as `$.packages["node_modules/a"].version`.
    JsonPath(String),
    /// A byte offset from the start of the file.
    Offset(u64),
    /// An entry inside an archive, by its path.
    Entry(String),
    /// A named section of an executable.
    Section(String),
    /// A record of a database or a keyed entry of a document.
    Record(String),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::File => f.write_str("whole file"),
            Position::Line(l) => write!(f, "line {l}"),
            Position::LineColumn(l, c) => write!(f, "line {l}, column {c}"),
            Position::JsonPath(p) => write!(f, "at {p}"),
            Position::Offset(o) => write!(f, "byte offset {o}"),
            Position::Entry(e) => write!(f, "archive entry {e:?}"),
            Position::Section(s) => write!(f, "section {s}"),
            Position::Record(r) => write!(f, "{r}"),
        }
    }
}

/// Everything that can go wrong while building an inventory.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The input is not well formed.
    #[error("{file}: {position}: {reason}")]
    Malformed {
        /// The file at fault.
        file: String,
        /// Where in it.
        position: Position,
        /// What is wrong, as a sentence fragment.
        reason: String,
    },
    /// The input exceeds a configured limit (size, depth, entry count).
    #[error("{file}: {what} exceeds the limit of {limit}")]
    Limit {
        /// The file at fault.
        file: String,
        /// What was too large (`size 3000000000 bytes`, `nesting depth 130`).
        what: String,
        /// The limit, with its unit.
        limit: String,
    },
    /// The input is a recognised format that Palisade does not read.
    #[error("{file}: {format} is not supported: {reason}")]
    Unsupported {
        /// The file at fault.
        file: String,
        /// The format recognised.
        format: String,
        /// Why, and what to do instead.
        reason: String,
    },
    /// The path is not anything Palisade knows how to inventory.
    #[error("{file}: not a recognised lockfile, package database, binary or image")]
    NotRecognised {
        /// The path.
        file: String,
    },
    /// Reading failed. The I/O error is part of the message rather than a
    /// `source`, so that error chains do not print it twice.
    #[error("{file}: {cause}")]
    Io {
        /// The file being read.
        file: String,
        /// The underlying error.
        cause: std::io::Error,
    },
}

impl CatalogError {
    /// A malformed-input error.
    pub fn malformed(file: &str, position: Position, reason: impl Into<String>) -> Self {
        CatalogError::Malformed {
            file: file.to_owned(),
            position,
            reason: reason.into(),
        }
    }

    /// A malformed-input error at a 1-based line.
    pub fn at_line(file: &str, line: usize, reason: impl Into<String>) -> Self {
        Self::malformed(file, Position::Line(line), reason)
    }

    /// An I/O error on a file.
    pub fn io(file: &str, source: std::io::Error) -> Self {
        CatalogError::Io {
            file: file.to_owned(),
            cause: source,
        }
    }

    /// Wraps a `serde_json` error, keeping its line and column.
    pub fn json(file: &str, err: &serde_json::Error) -> Self {
        let reason = strip_serde_position(&err.to_string());
        if err.line() == 0 {
            Self::malformed(file, Position::File, reason)
        } else {
            Self::malformed(file, Position::LineColumn(err.line(), err.column()), reason)
        }
    }

    /// The file this error concerns.
    pub fn file(&self) -> &str {
        match self {
            CatalogError::Malformed { file, .. }
            | CatalogError::Limit { file, .. }
            | CatalogError::Unsupported { file, .. }
            | CatalogError::NotRecognised { file }
            | CatalogError::Io { file, .. } => file,
        }
    }
}

/// `serde_json` appends " at line L column C" to its messages; the position is
/// kept separately, so it is removed from the reason.
fn strip_serde_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// The crate's result type.
pub type Result<T, E = CatalogError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_keep_line_and_column() {
        let err = serde_json::from_str::<serde_json::Value>("{\n  \"a\": }").err();
        let err = err.map(|e| CatalogError::json("x.json", &e));
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(text.starts_with("x.json: line 2, column 8: "), "{text}");
        assert!(!text.contains(" at line "), "{text}");
    }

    #[test]
    fn positions_display_as_sentences() {
        assert_eq!(Position::Line(3).to_string(), "line 3");
        assert_eq!(
            Position::JsonPath("$.packages".into()).to_string(),
            "at $.packages"
        );
        assert_eq!(Position::Offset(9).to_string(), "byte offset 9");
    }
}
