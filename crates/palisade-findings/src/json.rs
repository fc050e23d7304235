//! JSON under limits, and a small path-tracking view for tolerant reading.
//!
//! Documents are parsed into a `serde_json::Value` through
//! `serde_path_to_error`, so that a syntax error names the JSON path reached
//! (`$.runs[0].results[3].message`) as well as the line and column. Adapters
//! then walk the value with [`Node`], which carries the path of every value
//! it hands out: a structural problem becomes an [`ImportError::Invalid`]
//! naming that path, a field of the wrong type is read as absent.

use serde_json::{Map, Value};

use crate::error::ImportError;

/// The default largest document, in bytes.
pub const DEFAULT_MAX_BYTES: usize = 64 * 1024 * 1024;
/// The default deepest nesting. Real reports nest about 15 levels (SARIF
/// code flows); serde_json itself refuses more than 128 in any case.
pub const DEFAULT_MAX_DEPTH: usize = 64;
/// serde_json's own recursion limit.
pub const SERDE_JSON_DEPTH: usize = 128;
/// The longest description or message kept, in bytes; longer ones are cut
/// at a character boundary and end with `…`.
pub const MAX_TEXT_LEN: usize = 64 * 1024;
/// The longest id, name, path or other short string kept.
pub const MAX_SHORT_LEN: usize = 4 * 1024;

/// Limits applied before and while parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    /// The largest input accepted, in bytes.
    pub max_bytes: usize,
    /// The deepest JSON nesting accepted (at most [`SERDE_JSON_DEPTH`]
    /// applies whatever the value).
    pub max_depth: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            max_bytes: DEFAULT_MAX_BYTES,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

/// A UTF-8 byte-order mark is skipped, as many Windows tools write one.
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Parses one JSON document under the limits.
pub(crate) fn parse(
    bytes: &[u8],
    document: &str,
    options: &ImportOptions,
) -> Result<Value, ImportError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: Value = match serde_path_to_error::deserialize(&mut de) {
        Ok(v) => v,
        Err(e) => {
            let path = format_path(e.path());
            return Err(syntax(document, path, &e.into_inner()));
        }
    };
    if let Err(e) = de.end() {
        return Err(syntax(document, "$".to_owned(), &e));
    }
    check_depth(&value, document, options.max_depth)?;
    Ok(value)
}

fn syntax(document: &str, path: String, e: &serde_json::Error) -> ImportError {
    let text = e.to_string();
    let reason = match text.rsplit_once(" at line ") {
        Some((r, _)) => r.to_owned(),
        None => text,
    };
    if reason.contains("recursion limit exceeded") {
        return ImportError::TooDeep {
            document: document.to_owned(),
            path,
            max: SERDE_JSON_DEPTH,
        };
    }
    ImportError::Syntax {
        document: document.to_owned(),
        path,
        line: e.line(),
        column: e.column(),
        reason,
    }
}

/// Refuses values nested deeper than `max` (the root is depth 1), naming
/// the first value beyond the limit.
pub(crate) fn check_depth(value: &Value, document: &str, max: usize) -> Result<(), ImportError> {
    fn walk(v: &Value, depth: usize, max: usize, path: &mut String) -> bool {
        let container = matches!(v, Value::Array(_) | Value::Object(_));
        if container && depth > max {
            return false;
        }
        match v {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    if !walk(item, depth + 1, max, path) {
                        return false;
                    }
                    path.truncate(len);
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    let len = path.len();
                    push_key(path, k);
                    if !walk(item, depth + 1, max, path) {
                        return false;
                    }
                    path.truncate(len);
                }
            }
            _ => {}
        }
        true
    }
    if max >= SERDE_JSON_DEPTH {
        return Ok(());
    }
    let mut path = "$".to_owned();
    if walk(value, 1, max, &mut path) {
        Ok(())
    } else {
        Err(ImportError::TooDeep {
            document: document.to_owned(),
            path,
            max,
        })
    }
}

fn format_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = "$".to_owned();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => push_key(&mut out, key),
            Segment::Enum { variant } => push_key(&mut out, variant),
            Segment::Unknown => out.push_str(".?"),
        }
    }
    out
}

/// Appends `.key`, or `["key"]` when the key is not an identifier.
pub(crate) fn push_key(path: &mut String, key: &str) {
    let ident = !key.is_empty()
        && key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ident {
        path.push('.');
        path.push_str(key);
    } else {
        path.push_str("[\"");
        for c in key.chars().take(200) {
            match c {
                '"' => path.push_str("\\\""),
                '\\' => path.push_str("\\\\"),
                c if c.is_control() => path.push('?'),
                c => path.push(c),
            }
        }
        path.push_str("\"]");
    }
}

/// Cuts `s` to at most `max` bytes at a character boundary.
pub(crate) fn cap(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max.saturating_sub(3);
        while end > 0 && !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

/// A JSON value and its path in the document.
#[derive(Clone, Debug)]
pub(crate) struct Node<'a> {
    pub value: &'a Value,
    pub path: String,
}

impl<'a> Node<'a> {
    pub fn root(value: &'a Value) -> Node<'a> {
        Node {
            value,
            path: "$".to_owned(),
        }
    }

    /// A node for `value` under an arbitrary path prefix (Falco lines).
    pub fn at(value: &'a Value, path: String) -> Node<'a> {
        Node { value, path }
    }

    pub fn object(&self) -> Option<&'a Map<String, Value>> {
        self.value.as_object()
    }

    pub fn child_path(&self, key: &str) -> String {
        let mut p = self.path.clone();
        push_key(&mut p, key);
        p
    }

    /// The member `key`, when present and not `null`.
    pub fn get(&self, key: &str) -> Option<Node<'a>> {
        match self.value.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(Node {
                value: v,
                path: self.child_path(key),
            }),
        }
    }

    /// The member `key` when it is an object.
    pub fn obj(&self, key: &str) -> Option<Node<'a>> {
        self.get(key).filter(|n| n.value.is_object())
    }

    /// Follows a chain of object members.
    pub fn at_path(&self, keys: &[&str]) -> Option<Node<'a>> {
        let mut node = self.clone();
        for k in keys {
            node = node.get(k)?;
        }
        Some(node)
    }

    /// This value as a short string: strings as written (empty ones are
    /// absent), numbers and booleans in their JSON spelling.
    pub fn as_string(&self) -> Option<String> {
        scalar_string(self.value).map(|s| cap(s, MAX_SHORT_LEN))
    }

    /// The member `key` as a short string.
    pub fn str(&self, key: &str) -> Option<String> {
        self.value
            .get(key)
            .and_then(scalar_string)
            .map(|s| cap(s, MAX_SHORT_LEN))
    }

    /// The member `key` as a long text (descriptions), capped.
    pub fn text(&self, key: &str) -> Option<String> {
        self.value
            .get(key)
            .and_then(scalar_string)
            .map(|s| cap(s, MAX_TEXT_LEN))
    }

    /// The member `key` as a non-negative integer (a number, or a string of
    /// digits as ZAP writes them).
    pub fn u64(&self, key: &str) -> Option<u64> {
        self.value.get(key).and_then(value_u64)
    }

    /// The member `key` as a finite number (or a numeric string).
    pub fn f64(&self, key: &str) -> Option<f64> {
        self.value.get(key).and_then(value_f64)
    }

    /// The member `key` as a list of short strings: an array's scalar
    /// members, or a single scalar.
    pub fn strings(&self, key: &str) -> Vec<String> {
        match self.value.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(scalar_string)
                .map(|s| cap(s, MAX_SHORT_LEN))
                .collect(),
            Some(v) => scalar_string(v)
                .map(|s| cap(s, MAX_SHORT_LEN))
                .into_iter()
                .collect(),
            None => Vec::new(),
        }
    }

    /// The member `key` as an array: absent or `null` is empty, anything
    /// else is a structural error naming the path.
    pub fn array(&self, key: &str, document: &str) -> Result<Vec<Node<'a>>, ImportError> {
        match self.value.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => {
                let base = self.child_path(key);
                Ok(items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Node {
                        value: v,
                        path: format!("{base}[{i}]"),
                    })
                    .collect())
            }
            Some(other) => Err(ImportError::invalid(
                document,
                &self.child_path(key),
                format!("expected an array, found {}", kind(other)),
            )),
        }
    }

    /// Like [`Node::array`], and every element must be an object.
    pub fn objects(&self, key: &str, document: &str) -> Result<Vec<Node<'a>>, ImportError> {
        let items = self.array(key, document)?;
        for item in &items {
            item.expect_object(document)?;
        }
        Ok(items)
    }

    /// A structural error unless this is an object.
    pub fn expect_object(&self, document: &str) -> Result<(), ImportError> {
        if self.value.is_object() {
            Ok(())
        } else {
            Err(ImportError::invalid(
                document,
                &self.path,
                format!("expected an object, found {}", kind(self.value)),
            ))
        }
    }

    /// The elements of this value when it is an array (no path error).
    pub fn elements(&self) -> Vec<Node<'a>> {
        match self.value {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| Node {
                    value: v,
                    path: format!("{}[{i}]", self.path),
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// A JSON type's name for messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(crate) fn value_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0 && f.fract() == 0.0 && *f < 1e18)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(crate) fn value_f64(v: &Value) -> Option<f64> {
    let f = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }?;
    f.is_finite().then_some(f)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn opts() -> ImportOptions {
        ImportOptions::default()
    }

    #[test]
    fn syntax_errors_name_the_path() {
        let e = parse(br#"{"runs":[{"results":[{"ruleId": }]}]}"#, "x", &opts()).unwrap_err();
        match e {
            ImportError::Syntax {
                path, line, column, ..
            } => {
                assert_eq!(path, "$.runs[0].results[0].ruleId");
                assert_eq!((line, column), (1, 33));
            }
            other => panic!("{other:?}"),
        }
        let e = parse(b"{} {}", "x", &opts()).unwrap_err();
        assert!(e.to_string().contains("trailing characters"), "{e}");
    }

    #[test]
    fn depth_is_limited_with_a_path() {
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(10), "]".repeat(10));
        let o = ImportOptions {
            max_depth: 5,
            ..opts()
        };
        let e = parse(deep.as_bytes(), "x", &o).unwrap_err();
        assert_eq!(e.path(), Some("$.a[0][0][0][0]"));
        let very = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let e = parse(very.as_bytes(), "x", &opts()).unwrap_err();
        assert!(matches!(e, ImportError::TooDeep { .. }), "{e:?}");
    }

    #[test]
    fn keys_that_are_not_identifiers_are_quoted() {
        let mut p = "$".to_owned();
        push_key(&mut p, "@version");
        push_key(&mut p, "a_b");
        push_key(&mut p, "x\"y");
        assert_eq!(p, "$[\"@version\"].a_b[\"x\\\"y\"]");
    }

    #[test]
    fn cap_respects_char_boundaries() {
        let s = cap("ééééé".to_owned(), 6);
        assert!(s.len() <= 6 + '…'.len_utf8() && s.ends_with('…'), "{s}");
        assert_eq!(cap("abc".into(), 10), "abc");
    }

    #[test]
    fn tolerant_scalars() {
        let v: Value = serde_json::json!({"n": "12", "f": 7.5, "s": "", "b": true, "neg": -1});
        let n = Node::root(&v);
        assert_eq!(n.u64("n"), Some(12));
        assert_eq!(n.f64("f"), Some(7.5));
        assert_eq!(n.str("s"), None);
        assert_eq!(n.str("b").as_deref(), Some("true"));
        assert_eq!(n.u64("neg"), None);
        let e = Node::root(&v).array("n", "d").unwrap_err();
        assert_eq!(e.to_string(), "d: $.n: expected an array, found a string");
    }
}
