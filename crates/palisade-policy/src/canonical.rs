//! RFC 8785 (JCS) canonical JSON of a regorus value, for the input digest.
//!
//! Every decision digests its prepared input as canonical JSON. Running
//! `serde_json_canonicalizer` over the typed input took about 40% of a
//! decision on the benchmark input (it buffers and re-sorts every object's
//! members with UTF-16 keys); the policies need the input as a regorus value
//! anyway, and that value's objects are already sorted. So the digest is
//! written from it in one pass, with the same bytes:
//!
//! * members in UTF-16 code-unit order of their keys (regorus sorts by
//!   UTF-8 bytes, which agrees for ASCII; objects with other keys are
//!   re-sorted);
//! * strings escaped as ECMAScript's `JSON.stringify` does, which is what
//!   `serde_json` does too (`\"`, `\\`, `\b\t\n\f\r`, other controls as
//!   lower-case `\u00xx`, nothing else);
//! * numbers as ECMAScript prints the nearest double, as JCS does:
//!   integral values up to 2^53 as their digits, every other finite double
//!   through `serde_json_canonicalizer` itself.
//!
//! The text of each part of the input is kept beside its value
//! ([`crate::prepared`]), so that a decision hashes the parts it did not
//! have to convert again.
//!
//! Whatever this writer cannot express (a non-finite or unconvertible
//! number, a set, a non-string key) makes it return `None`, and the caller
//! falls back to `serde_json_canonicalizer` on the typed input. The tests
//! compare both on random documents.

/// The largest integer every double represents exactly.
const EXACT: f64 = 9_007_199_254_740_992.0;

/// The canonical JSON of `value`, or `None` when the fallback must decide.
#[cfg(test)]
pub(crate) fn to_vec(value: &regorus::Value) -> Option<Vec<u8>> {
    let mut buf = Vec::with_capacity(64 * 1024);
    append(value, &mut buf)?;
    Some(buf)
}

/// Appends the canonical JSON of `value` to `out`; `None` (with `out` in
/// an unspecified state) when the fallback must decide.
pub(crate) fn append(value: &regorus::Value, out: &mut Vec<u8>) -> Option<()> {
    write(value, out)
}

fn write(value: &regorus::Value, out: &mut Vec<u8>) -> Option<()> {
    match value {
        regorus::Value::Null => out.extend_from_slice(b"null"),
        regorus::Value::Bool(true) => out.extend_from_slice(b"true"),
        regorus::Value::Bool(false) => out.extend_from_slice(b"false"),
        regorus::Value::Number(n) => {
            // JCS prints every number as ECMAScript prints the double
            // nearest to it (serde_json_canonicalizer converts integers to
            // f64 too).
            let f = n.as_f64()?;
            if !f.is_finite() {
                return None;
            }
            if f.fract() == 0.0 && f.abs() <= EXACT {
                write_integer(f as i64, out);
            } else {
                out.extend(serde_json_canonicalizer::to_vec(&f).ok()?);
            }
        }
        regorus::Value::String(s) => write_str(s, out)?,
        regorus::Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, out)?;
            }
            out.push(b']');
        }
        regorus::Value::Object(members) => {
            // Keys are strings; all ASCII (the usual case), they are already
            // in UTF-16 order.
            let mut ascii = true;
            for (k, _) in members.iter() {
                let regorus::Value::String(k) = k else {
                    return None;
                };
                ascii &= k.is_ascii();
            }
            out.push(b'{');
            if ascii {
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    let regorus::Value::String(k) = k else {
                        return None;
                    };
                    write_str(k, out)?;
                    out.push(b':');
                    write(v, out)?;
                }
            } else {
                let mut pairs: Vec<(&str, &regorus::Value)> = Vec::with_capacity(members.len());
                for (k, v) in members.iter() {
                    let regorus::Value::String(k) = k else {
                        return None;
                    };
                    pairs.push((k, v));
                }
                pairs.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
                for (i, (k, v)) in pairs.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_str(k, out)?;
                    out.push(b':');
                    write(v, out)?;
                }
            }
            out.push(b'}');
        }
        // Sets and undefined do not come out of a JSON text.
        regorus::Value::Set(_) | regorus::Value::Undefined => return None,
    }
    Some(())
}

/// An integer's decimal digits.
fn write_integer(n: i64, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[i..]);
}

fn write_str(s: &str, out: &mut Vec<u8>) -> Option<()> {
    // Nothing to escape (the usual case): the text between quotes.
    // (A fold without early exit, which the compiler vectorises.)
    if !s.bytes().fold(false, |acc, b| {
        acc | (b < 0x20) | (b == b'"') | (b == b'\\')
    }) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return Some(());
    }
    serde_json::to_writer(&mut *out, s).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use proptest::prelude::*;

    fn reference(v: &serde_json::Value) -> Vec<u8> {
        serde_json_canonicalizer::to_vec(v).unwrap()
    }

    fn ours(v: &serde_json::Value) -> Option<Vec<u8>> {
        let text = serde_json::to_string(v).unwrap();
        super::to_vec(&regorus::Value::from_json_str(&text).unwrap())
    }

    fn check(v: &serde_json::Value) {
        if let Some(bytes) = ours(v) {
            assert_eq!(
                String::from_utf8_lossy(&bytes),
                String::from_utf8_lossy(&reference(v)),
                "{v}"
            );
        }
    }

    #[test]
    fn known_cases() {
        for text in [
            r#"{"b":1,"a":[true,false,null],"c":{"z":"\u0000\u001f\"\\/\u007f\u00e9\ud83d\ude00"}}"#,
            r#"{"\ue000":1,"\ud83d\ude00":2,"a":3}"#,
            r#"[0,-0.0,1.5,1e21,1e-7,123456789012,9007199254740992,-9007199254740992,0.1,1e300,5e-324,30.0]"#,
            r#"{"epss":0.042,"age_days":91,"s":"line\nbreak\ttab\r\u0008\u000c"}"#,
        ] {
            let v: serde_json::Value = serde_json::from_str(text).unwrap();
            assert!(ours(&v).is_some(), "{text}");
            check(&v);
        }
        // regorus holds integers beyond 2^53 exactly and will not round
        // them: the reference decides.
        let v: serde_json::Value =
            serde_json::from_str("[9007199254740993,18446744073709551615,-9223372036854775808]")
                .unwrap();
        assert!(ours(&v).is_none());
    }

    fn json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(|n| serde_json::json!(n)),
            any::<u64>().prop_map(|n| serde_json::json!(n)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| serde_json::json!(f)),
            (-1_000_000i64..1_000_000).prop_map(|n| serde_json::json!(n as f64 / 1000.0)),
            any::<String>().prop_map(serde_json::Value::String),
            "[a-z\u{e000}-\u{e002}\u{1f600}\u{10000}]{0,4}".prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::Array),
                prop::collection::vec(
                    (
                        prop_oneof![
                            any::<String>(),
                            "[a-zA-Z_\u{e000}\u{ffff}\u{1f600}\u{10000}]{0,4}"
                        ],
                        inner
                    ),
                    0..8
                )
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn same_bytes_as_serde_json_canonicalizer(v in json()) {
            check(&v);
        }
    }
}
