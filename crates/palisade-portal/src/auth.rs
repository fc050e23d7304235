//! Sign-in, sessions and CSRF protection.
//!
//! - Passwords are hashed with argon2id (PHC strings in `users`); a sign-in
//!   for an unknown user still verifies against a dummy hash, so the answer
//!   takes as long either way. Failed attempts per username are limited.
//! - A session is 256 random bits in the `palisade_session` cookie
//!   (`HttpOnly`, `SameSite=Lax`, `Secure` over TLS); the store keeps only
//!   its SHA-256. Signing in always makes a new session (no fixation).
//! - Every form carries the session's CSRF token (synchronizer pattern).
//!   [`Posted`] checks it before reading anything else from the form and
//!   answers 403 when it is missing or wrong. The sign-in form, which comes
//!   before any session, is protected by a double-submit cookie.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use palisade_server::AppState;
use palisade_store::model::Scope;
use palisade_store::tokens::Role;
use palisade_store::users::{Session, SessionOwner};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::{PageError, Portal, html};

/// The session cookie.
pub const SESSION_COOKIE: &str = "palisade_session";
/// The sign-in form's double-submit cookie.
pub const LOGIN_COOKIE: &str = "palisade_login";
/// The form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";
/// Largest form accepted.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// A random secret: `bytes` random bytes, base64url without padding.
pub(crate) fn random_secret(bytes: usize) -> Result<String, PageError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| {
        tracing::error!(error = %e, "no randomness");
        PageError::new(StatusCode::INTERNAL_SERVER_ERROR, "no randomness available")
    })?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf))
}

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
#[error("cannot hash the password: {0}")]
pub struct HashError(String);

/// Hashes a password with argon2id (default parameters) into a PHC string.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| HashError(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| HashError(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches the PHC string `phc` (false for a malformed
/// hash).
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when the user does not exist, so that the
/// answer takes as long as for a real user.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$aCowbBJyZEv+3XMEDPacRg$qfM90HIR76/WNjnxuVydEJkWBVehxjDFR5ZZNOqhw+M";

/// Equality that takes as long for every input of one length.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Whether the request arrived over TLS, as far as the settings let us know.
fn over_tls(portal: &Portal, headers: &HeaderMap) -> bool {
    portal.config.secure_cookies
        || (portal.config.trust_forwarded_proto
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("https")))
}

fn cookie(
    name: &str,
    value: &str,
    path: &str,
    same_site: &str,
    max_age: i64,
    secure: bool,
) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}"
    ))
    .ok()
}

/// A local path to return to after signing in, or `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.len() <= 2000
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// Who is looking at a page: a signed-in session.
#[derive(Clone, Debug)]
pub struct Viewer {
    /// The session and its owner.
    pub session: Session,
}

impl Viewer {
    /// What the viewer may see: the same rule as API tokens.
    pub fn scope(&self) -> Scope {
        match (&self.session.role, &self.session.team_id) {
            (_, Some(team)) => Scope::Team(team.clone()),
            (_, None) => Scope::All,
        }
    }

    /// The name recorded as actor (`user:alice`, `token:ci`).
    pub fn actor(&self) -> String {
        match self.session.user_id {
            Some(_) => format!("user:{}", self.session.name),
            None => format!("token:{}", self.session.name),
        }
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.session.role
    }

    /// May triage findings and request exceptions.
    pub fn can_triage(&self) -> bool {
        matches!(
            self.session.role,
            Role::Admin | Role::Security | Role::Developer
        )
    }

    /// May approve exceptions (the second person).
    pub fn can_approve(&self) -> bool {
        matches!(self.session.role, Role::Admin | Role::Security)
    }

    /// Fails unless the viewer may triage.
    pub(crate) fn require_triage(&self) -> Result<(), PageError> {
        if self.can_triage() {
            Ok(())
        } else {
            Err(PageError::forbidden(format!(
                "the {} role may not change findings or request exceptions",
                self.session.role.as_str()
            )))
        }
    }

    /// The CSRF token of the session.
    pub fn csrf(&self) -> &str {
        &self.session.csrf_token
    }
}

/// Where an unauthenticated request is sent: the sign-in page for a page
/// view, 403 for anything else.
fn not_signed_in(parts: &Parts) -> Response {
    if parts.method == Method::GET || parts.method == Method::HEAD {
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let query = serde_urlencoded::to_string([("next", path)]).unwrap_or_default();
        Redirect::to(&format!("/login?{query}")).into_response()
    } else {
        PageError::forbidden("sign in first").into_response()
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(secret) = read_cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(not_signed_in(parts));
        };
        match state.store.session(&secret).await {
            Ok(Some(session)) => Ok(Viewer { session }),
            Ok(None) => Err(not_signed_in(parts)),
            Err(e) => Err(PageError::from(e).into_response()),
        }
    }
}

/// A form posted by a signed-in viewer, whose CSRF token matched the
/// session's. Anything else is refused before the form is read: no session
/// or a missing or wrong token gives 403.
#[derive(Debug)]
pub struct Posted<T> {
    /// Who posted.
    pub viewer: Viewer,
    /// The form.
    pub form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Posted<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        // A browser says when a request comes from another site: refuse it
        // outright (defence in depth; the token below is the protection).
        if parts
            .headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == "cross-site")
        {
            return Err(PageError::forbidden("cross-site form posts are refused").into_response());
        }
        let viewer = Viewer::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let bytes = axum::body::to_bytes(req.into_body(), MAX_FORM_BYTES)
            .await
            .map_err(|_| {
                PageError::new(StatusCode::PAYLOAD_TOO_LARGE, "the form is too large")
                    .into_response()
            })?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        let token = pairs
            .iter()
            .find(|(k, _)| k == CSRF_FIELD)
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        if token.is_empty() || !constant_time_eq(token, viewer.csrf()) {
            return Err(PageError::forbidden(
                "the form's security token is missing or does not match your session; reload the page and try again",
            )
            .into_response());
        }
        let form = serde_urlencoded::from_bytes::<T>(&bytes).map_err(|e| {
            PageError::bad_request(format!("the form is incomplete: {e}")).into_response()
        })?;
        Ok(Posted { viewer, form })
    }
}

/// Failed sign-ins per username: at most [`SignInLimiter::MAX_FAILURES`] in
/// [`SignInLimiter::WINDOW`].
#[derive(Debug, Default)]
pub struct SignInLimiter {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl SignInLimiter {
    /// Failures allowed per window.
    pub const MAX_FAILURES: u32 = 10;
    /// The window.
    pub const WINDOW: Duration = Duration::from_secs(15 * 60);

    fn blocked(&self, key: &str) -> bool {
        let Ok(map) = self.failures.lock() else {
            return false;
        };
        map.get(key)
            .is_some_and(|(n, since)| *n >= Self::MAX_FAILURES && since.elapsed() < Self::WINDOW)
    }

    fn fail(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            if map.len() > 100_000 {
                map.retain(|_, (_, since)| since.elapsed() < Self::WINDOW);
            }
            let e = map.entry(key.to_owned()).or_insert((0, Instant::now()));
            if e.1.elapsed() >= Self::WINDOW {
                *e = (0, Instant::now());
            }
            e.0 += 1;
        }
    }

    fn succeed(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

/// Query of the sign-in page.
#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// `GET /login`: the sign-in forms.
pub(crate) async fn login_page(
    State(s): State<AppState>,
    Extension(portal): Extension<Arc<Portal>>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    if let Some(secret) = read_cookie(&headers, SESSION_COOKIE)
        && let Ok(Some(_)) = s.store.session(&secret).await
    {
        return Redirect::to(&safe_next(q.next.as_deref())).into_response();
    }
    login_form(&portal, &headers, q.next.as_deref(), None, StatusCode::OK)
}

fn login_form(
    portal: &Portal,
    headers: &HeaderMap,
    next: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let token = match read_cookie(headers, LOGIN_COOKIE) {
        Some(t) if t.len() >= 32 && t.len() <= 64 => t,
        _ => match random_secret(32) {
            Ok(t) => t,
            Err(e) => return e.into_response(),
        },
    };
    let body = html::login_page(&token, &safe_next(next), error);
    let mut resp = (status, body).into_response();
    if let Some(c) = cookie(
        LOGIN_COOKIE,
        &token,
        "/login",
        "Strict",
        3600,
        over_tls(portal, headers),
    ) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

/// The sign-in form.
#[derive(Debug, Default, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /login`: checks the double-submit token, then the password or the
/// API token, and starts a new session.
pub(crate) async fn login(
    State(s): State<AppState>,
    Extension(portal): Extension<Arc<Portal>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: LoginForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let cookie_token = read_cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if form.csrf.is_empty()
        || cookie_token.is_empty()
        || !constant_time_eq(&form.csrf, &cookie_token)
    {
        return PageError::forbidden(
            "the sign-in form's security token is missing or does not match; reload the sign-in page and try again",
        )
        .into_response();
    }
    let next = form.next.as_deref();
    let owner = if !form.token.trim().is_empty() {
        let key = "token:";
        if portal.limiter.blocked(key) {
            return too_many();
        }
        match s.store.authenticate(form.token.trim()).await {
            Ok(Some(p)) => {
                portal.limiter.succeed(key);
                SessionOwner::Token(p.token_id)
            }
            Ok(None) => {
                portal.limiter.fail(key);
                return login_form(
                    &portal,
                    &headers,
                    next,
                    Some("That token is unknown or revoked."),
                    StatusCode::UNAUTHORIZED,
                );
            }
            Err(e) => return PageError::from(e).into_response(),
        }
    } else {
        let username = form.username.trim().to_owned();
        let key = format!("user:{}", username.to_lowercase());
        if portal.limiter.blocked(&key) {
            return too_many();
        }
        let creds = match s.store.user_credentials(&username).await {
            Ok(c) => c,
            Err(e) => return PageError::from(e).into_response(),
        };
        let password = form.password.clone();
        let (user, phc) = match creds {
            Some((u, h)) => (Some(u), h),
            None => (None, DUMMY_HASH.to_owned()),
        };
        let ok = tokio::task::spawn_blocking(move || verify_password(&password, &phc))
            .await
            .unwrap_or(false);
        match (user, ok) {
            (Some(u), true) => {
                portal.limiter.succeed(&key);
                SessionOwner::User(u.id)
            }
            _ => {
                portal.limiter.fail(&key);
                return login_form(
                    &portal,
                    &headers,
                    next,
                    Some("Unknown username or wrong password."),
                    StatusCode::UNAUTHORIZED,
                );
            }
        }
    };
    let (secret, csrf) = match (random_secret(32), random_secret(32)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let ttl_ms = portal.config.session_seconds.saturating_mul(1000);
    if let Err(e) = s.store.create_session(&secret, &owner, &csrf, ttl_ms).await {
        return PageError::from(e).into_response();
    }
    // Old sessions are swept now and then (cheap: an indexed delete).
    let _ = s
        .store
        .delete_expired_sessions(palisade_store::now_ms())
        .await;
    let tls = over_tls(&portal, &headers);
    let mut resp = Redirect::to(&safe_next(next)).into_response();
    if let Some(c) = cookie(
        SESSION_COOKIE,
        &secret,
        "/",
        "Lax",
        portal.config.session_seconds,
        tls,
    ) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    if let Some(c) = cookie(LOGIN_COOKIE, "", "/login", "Strict", 0, tls) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

fn too_many() -> Response {
    PageError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many failed sign-ins for this account; wait 15 minutes and try again.",
    )
    .into_response()
}

/// The sign-out form (only the CSRF token).
#[derive(Debug, Deserialize)]
pub struct LogoutForm {}

/// `POST /logout`: ends the session and clears the cookie.
pub(crate) async fn logout(
    State(s): State<AppState>,
    Extension(portal): Extension<Arc<Portal>>,
    headers: HeaderMap,
    posted: Posted<LogoutForm>,
) -> Response {
    let _ = posted.viewer;
    if let Some(secret) = read_cookie(&headers, SESSION_COOKIE)
        && let Err(e) = s.store.delete_session(&secret).await
    {
        return PageError::from(e).into_response();
    }
    let mut resp = Redirect::to("/login").into_response();
    if let Some(c) = cookie(
        SESSION_COOKIE,
        "",
        "/",
        "Lax",
        0,
        over_tls(&portal, &headers),
    ) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip_and_dummy_hash_parses() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn next_must_be_local() {
        assert_eq!(safe_next(Some("/workloads/1")), "/workloads/1");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn cookies_are_read() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; palisade_session=xyz; b=2"),
        );
        assert_eq!(read_cookie(&h, SESSION_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(read_cookie(&h, "c"), None);
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
