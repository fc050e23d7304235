//! `WWW-Authenticate` challenges and the registry token flow.
//!
//! A registry that wants credentials answers 401 with a challenge:
//! `Basic realm="..."`, or `Bearer realm="https://auth.example/token",
//! service="registry.example",scope="repository:app:pull"`. For `Bearer`
//! the client asks the realm for a token (anonymously, with basic
//! credentials, or with an identity token as an OAuth2 refresh token) and
//! retries with `Authorization: Bearer <token>`.

use std::collections::BTreeMap;

/// A parsed challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Challenge {
    /// HTTP basic authentication.
    Basic,
    /// The token flow.
    Bearer {
        /// The token endpoint.
        realm: String,
        /// The `service` parameter.
        service: Option<String>,
        /// The scope the registry asked for.
        scope: Option<String>,
    },
}

/// Parses the first challenge of a `WWW-Authenticate` value; `None` when
/// the scheme is neither `Basic` nor `Bearer`, or a bearer challenge has
/// no realm.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = match header.split_once(char::is_whitespace) {
        Some((s, r)) => (s, r),
        None => (header, ""),
    };
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let params = parse_params(rest);
    let realm = params.get("realm")?.clone();
    Some(Challenge::Bearer {
        realm,
        service: params.get("service").cloned(),
        scope: params.get("scope").cloned(),
    })
}

/// `key=value` or `key="quoted, value"` pairs separated by commas; keys in
/// lower case.
fn parse_params(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() && chars.peek().is_none() {
            break;
        }
        if chars.peek() != Some(&'=') {
            // A token without a value (or a second challenge's scheme): skip.
            if chars.peek().is_none() {
                break;
            }
            chars.next();
            continue;
        }
        chars.next();
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.insert(key.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
    out
}

/// The token endpoint's answer.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct TokenAnswer {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// Percent-encodes a query value.
pub(crate) fn encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges() {
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:team/app:pull,push""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into()),
                scope: Some("repository:team/app:pull,push".into()),
            })
        );
        assert_eq!(
            parse_challenge(r#"bearer realm=http://127.0.0.1:1/t"#),
            Some(Challenge::Bearer {
                realm: "http://127.0.0.1:1/t".into(),
                service: None,
                scope: None
            })
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Bearer service=x"), None);
        assert_eq!(parse_challenge("Negotiate"), None);
        assert_eq!(parse_challenge(""), None);
        // Never panics on junk.
        for junk in [
            "Bearer =",
            "Bearer realm=\"",
            "Bearer ,,,=,",
            "Bearer realm=\"a\\",
        ] {
            let _ = parse_challenge(junk);
        }
    }

    #[test]
    fn query_encoding() {
        assert_eq!(
            encode_query("repository:a/b:pull,push"),
            "repository%3Aa%2Fb%3Apull%2Cpush"
        );
    }
}
