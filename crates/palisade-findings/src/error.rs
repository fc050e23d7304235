//! Why a document could not be imported.

/// Why a document could not be imported. Every variant names the document;
/// those about content name the JSON path (`$.runs[0].results`) too.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The input is larger than the configured limit.
    #[error("{document}: input is {len} bytes; at most {max} are accepted")]
    TooLarge {
        /// The document name.
        document: String,
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The input holds nothing but whitespace.
    #[error("{document}: empty input: no JSON document")]
    Empty {
        /// The document name.
        document: String,
    },
    /// The input is not well-formed JSON.
    #[error("{document}: {path}: invalid JSON: {reason} (line {line}, column {column})")]
    Syntax {
        /// The document name.
        document: String,
        /// The JSON path reached when the error was found.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What serde_json said.
        reason: String,
    },
    /// The input nests deeper than the configured limit.
    #[error("{document}: {path}: JSON nested deeper than {max} levels")]
    TooDeep {
        /// The document name.
        document: String,
        /// The first value beyond the limit.
        path: String,
        /// The limit.
        max: usize,
    },
    /// Well-formed JSON whose structure is not the format's.
    #[error("{document}: {path}: {reason}")]
    Invalid {
        /// The document name.
        document: String,
        /// Where.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The content matches no supported format.
    #[error("{document}: not a supported scanner report: {reason}")]
    UnknownFormat {
        /// The document name.
        document: String,
        /// What was seen instead.
        reason: String,
    },
}

impl ImportError {
    /// The document the error is about.
    pub fn document(&self) -> &str {
        match self {
            ImportError::TooLarge { document, .. }
            | ImportError::Empty { document }
            | ImportError::Syntax { document, .. }
            | ImportError::TooDeep { document, .. }
            | ImportError::Invalid { document, .. }
            | ImportError::UnknownFormat { document, .. } => document,
        }
    }

    /// The JSON path, for errors about content.
    pub fn path(&self) -> Option<&str> {
        match self {
            ImportError::Syntax { path, .. }
            | ImportError::TooDeep { path, .. }
            | ImportError::Invalid { path, .. } => Some(path),
            _ => None,
        }
    }

    pub(crate) fn invalid(document: &str, path: &str, reason: impl Into<String>) -> ImportError {
        ImportError::Invalid {
            document: document.to_owned(),
            path: path.to_owned(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_document_and_path() {
        let e = ImportError::invalid("r.sarif", "$.runs[0].results", "expected an array");
        assert_eq!(
            e.to_string(),
            "r.sarif: $.runs[0].results: expected an array"
        );
        assert_eq!(e.path(), Some("$.runs[0].results"));
        assert_eq!(e.document(), "r.sarif");
    }
}
