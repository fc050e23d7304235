//! Bounded JSON reading: a size and a nesting-depth limit checked on the raw
//! bytes before any parsing (so that a hostile document costs nothing), then
//! serde through `serde_path_to_error`, so that a value of the wrong type is
//! reported with its JSON path (`$.statements[2].status`).

use serde::de::DeserializeOwned;

/// The deepest nesting accepted (real VEX documents nest under ten levels;
/// CSAF product trees a few more).
pub const MAX_DEPTH: usize = 64;

/// Why a JSON document was refused before or while it was read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// Larger than the limit.
    #[error("document is {size} bytes; at most {max} are accepted")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Nested deeper than the limit.
    #[error("JSON nested deeper than {max} levels (at byte offset {offset})")]
    TooDeep {
        /// The limit.
        max: usize,
        /// Where the limit was crossed.
        offset: usize,
    },
    /// Not JSON, or a value of the wrong type.
    #[error("{path}: {reason}")]
    Invalid {
        /// The JSON path (`$` for the document itself).
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// Checks the size and nesting depth of `bytes` without parsing them.
pub fn check_limits(bytes: &[u8], max_bytes: usize, max_depth: usize) -> Result<(), JsonError> {
    if bytes.len() > max_bytes {
        return Err(JsonError::TooLarge {
            size: bytes.len(),
            max: max_bytes,
        });
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (offset, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max_depth {
                    return Err(JsonError::TooDeep {
                        max: max_depth,
                        offset,
                    });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Turns serde_path_to_error's path (`statements[2].status`, `.` for the
/// root) into a JSON path (`$.statements[2].status`, `$`).
pub(crate) fn json_path(path: &str) -> String {
    if path.is_empty() || path == "." {
        "$".to_owned()
    } else if path.starts_with('[') {
        format!("${path}")
    } else {
        format!("$.{path}")
    }
}

/// Reads `bytes` as a `T` under the limits; errors carry the JSON path.
pub fn from_slice<T: DeserializeOwned>(
    bytes: &[u8],
    max_bytes: usize,
    max_depth: usize,
) -> Result<T, JsonError> {
    check_limits(bytes, max_bytes, max_depth)?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| JsonError::Invalid {
        path: json_path(&e.path().to_string()),
        reason: e.into_inner().to_string(),
    })?;
    de.end().map_err(|e| JsonError::Invalid {
        path: "$".to_owned(),
        reason: format!("trailing data after the document: {e}"),
    })?;
    Ok(value)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Doc {
        #[allow(dead_code)]
        items: Vec<Item>,
    }

    #[derive(Debug, serde::Deserialize)]
    struct Item {
        #[allow(dead_code)]
        n: u32,
    }

    #[test]
    fn limits_and_paths() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(matches!(
            check_limits(deep.as_bytes(), 1 << 20, MAX_DEPTH),
            Err(JsonError::TooDeep { .. })
        ));
        // Brackets inside strings do not count.
        let quoted = format!("[\"{}\"]", "[".repeat(200));
        assert!(check_limits(quoted.as_bytes(), 1 << 20, MAX_DEPTH).is_ok());
        assert!(matches!(
            check_limits(b"[1,2,3]", 3, MAX_DEPTH),
            Err(JsonError::TooLarge { size: 7, max: 3 })
        ));
        let e =
            from_slice::<Doc>(br#"{"items": [{"n": 1}, {"n": "x"}]}"#, 1 << 20, 64).unwrap_err();
        assert!(e.to_string().starts_with("$.items[1].n: "), "{e}");
        let e = from_slice::<Doc>(br#"{"items": []} {}"#, 1 << 20, 64).unwrap_err();
        assert!(e.to_string().contains("trailing"), "{e}");
        let e = from_slice::<Doc>(b"nope", 1 << 20, 64).unwrap_err();
        assert!(e.to_string().starts_with("$: "), "{e}");
    }
}
