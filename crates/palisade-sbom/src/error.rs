//! The one error type of the crate.
//!
//! Every error names the source (a file name or `<stdin>`, whatever the caller
//! passed as `source_name`) and, where the input has one, the position: a
//! line and column for JSON, XML and tag-value, plus the JSON path of the
//! offending value when it can be computed. Callers print the error with
//! `Display`; nothing here panics on input.

use thiserror::Error;

/// Reading or writing an SBOM failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SbomError {
    /// The document is not well-formed or does not match the format's shape.
    #[error("{source_name}: {position}: {message}")]
    Syntax {
        /// The file (or other source) that was read.
        source_name: String,
        /// Where: `line L, column C`, and the JSON path when known.
        position: String,
        /// What is wrong.
        message: String,
    },
    /// The document could not be recognised as a supported SBOM format.
    #[error("{source_name}: not a recognised SBOM: {reason}")]
    UnknownFormat {
        /// The file (or other source) that was read.
        source_name: String,
        /// Why detection failed.
        reason: String,
    },
    /// The format was recognised, but this version or variant is not
    /// supported (SPDX 3.0, CycloneDX 2.x...).
    #[error("{source_name}: unsupported {format}: {reason}")]
    Unsupported {
        /// The file (or other source) that was read.
        source_name: String,
        /// The recognised format and version.
        format: String,
        /// What is missing.
        reason: String,
    },
    /// A size, count or depth limit was exceeded.
    #[error("{source_name}: {what} exceeds the limit of {limit}")]
    Limit {
        /// The file (or other source) that was read.
        source_name: String,
        /// What grew too large.
        what: String,
        /// The limit.
        limit: String,
    },
    /// An inventory could not be written in the requested format.
    #[error("cannot write {format}: {reason}")]
    Write {
        /// The target format.
        format: String,
        /// Why.
        reason: String,
    },
}

impl SbomError {
    /// A syntax error at a line and column.
    pub(crate) fn at(
        source_name: &str,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Self {
        SbomError::Syntax {
            source_name: source_name.to_owned(),
            position: format!("line {line}, column {column}"),
            message: message.into(),
        }
    }

    /// A limit error.
    pub(crate) fn limit(
        source_name: &str,
        what: impl Into<String>,
        limit: impl Into<String>,
    ) -> Self {
        SbomError::Limit {
            source_name: source_name.to_owned(),
            what: what.into(),
            limit: limit.into(),
        }
    }
}

/// Line and column (both 1-based) of a byte offset in `text`.
pub(crate) fn line_column(text: &[u8], offset: usize) -> (usize, usize) {
    let end = offset.min(text.len());
    let before = text.get(..end).unwrap_or_default();
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    // Columns count characters, not bytes, so that editors agree.
    let column = String::from_utf8_lossy(before.get(line_start..).unwrap_or_default())
        .chars()
        .count()
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_from_one() {
        assert_eq!(line_column(b"ab\ncd", 0), (1, 1));
        assert_eq!(line_column(b"ab\ncd", 4), (2, 2));
        assert_eq!(line_column("é\nx".as_bytes(), 2), (1, 2));
        assert_eq!(line_column(b"ab", 99), (1, 3));
    }
}
