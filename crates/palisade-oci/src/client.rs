//! The registry client: the distribution API over HTTP.
//!
//! Why not `oci-client`: it was considered (0.18, which has
//! `pull_referrers`). It brings reqwest, hyper-util and a second TLS set-up
//! that the workspace does not otherwise build, it leaves the Docker
//! configuration and credential helpers to the caller, and its errors and
//! size handling are its own. The part of the distribution API Palisade
//! needs (manifests, blobs, referrers with the tag fallback, monolithic
//! uploads, the token flow) is small, so this client is written over
//! `ureq` 3, the blocking HTTP client the workspace already uses for
//! `db sync` (rustls with the webpki roots). Being blocking suits both
//! callers: the command line, and the server's workers through
//! `spawn_blocking`.
//!
//! Invariants: every manifest read is at most [`MAX_MANIFEST_BYTES`] and its
//! digest is computed over the bytes as served (and checked against the
//! digest asked for and `Docker-Content-Digest`); every blob is at most the
//! configured limit and checked against its descriptor's digest and size;
//! plain HTTP only to loopback and explicitly insecure registries; no
//! credential is sent over plain HTTP to anything else.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use ureq::Body;
use ureq::http::Response;

use crate::Error;
use crate::auth::{Challenge, TokenAnswer, encode_query, parse_challenge};
use crate::credentials::{Credential, DockerConfig};
use crate::manifest::{Descriptor, MANIFEST_ACCEPT, Manifest, media};
use crate::reference::{Digest, Reference};

/// The largest manifest read (the distribution specification's common
/// limit).
pub const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;
/// The default largest blob read.
pub const DEFAULT_MAX_BLOB_BYTES: u64 = 32 * 1024 * 1024;
/// The largest error body read for its explanation.
const MAX_ERROR_BODY: u64 = 64 * 1024;
/// The most pages of a referrers list followed.
const MAX_REFERRER_PAGES: usize = 16;

/// Where registry credentials come from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum DockerConfigSource {
    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    #[default]
    Default,
    /// This file.
    Path(PathBuf),
    /// No Docker configuration (only [`ClientOptions::credentials`]).
    Disabled,
}

/// Client settings.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Registries (`host[:port]`) reached over plain HTTP. Loopback
    /// registries (`localhost`, `127.0.0.0/8`, `[::1]`) always are.
    pub insecure_registries: Vec<String>,
    /// Where the Docker configuration is.
    pub docker_config: DockerConfigSource,
    /// Credentials per registry, before the Docker configuration's.
    pub credentials: BTreeMap<String, Credential>,
    /// The host to contact for a registry name (`host[:port]`), for
    /// mirrors and for registries whose API host differs from their name.
    pub endpoints: BTreeMap<String, String>,
    /// The largest blob read.
    pub max_blob_bytes: u64,
    /// The most referrers (and cosign artifacts) read for one image.
    pub max_referrers: usize,
    /// Time limit of each request.
    pub timeout: Duration,
    /// The `User-Agent`.
    pub user_agent: String,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            insecure_registries: Vec::new(),
            docker_config: DockerConfigSource::Default,
            credentials: BTreeMap::new(),
            endpoints: BTreeMap::new(),
            max_blob_bytes: DEFAULT_MAX_BLOB_BYTES,
            max_referrers: 64,
            timeout: Duration::from_secs(60),
            user_agent: concat!("palisade/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// What a request needs the token to allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    Pull,
    Push,
}

impl Access {
    fn scope(self, repository: &str) -> String {
        match self {
            Access::Pull => format!("repository:{repository}:pull"),
            Access::Push => format!("repository:{repository}:pull,push"),
        }
    }
}

#[derive(Clone, Debug)]
enum Mode {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

#[derive(Default)]
struct AuthState {
    modes: HashMap<String, Mode>,
    tokens: HashMap<(String, String), (String, Instant)>,
    credentials: HashMap<String, Option<Credential>>,
}

/// A manifest's resolution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The reference asked about.
    pub reference: Reference,
    /// The digest of the manifest the reference names.
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// The manifest itself.
    pub manifest: Manifest,
}

impl Resolved {
    /// The manifest's descriptor (what a `subject` points at).
    pub fn descriptor(&self) -> Descriptor {
        self.manifest.descriptor()
    }
}

/// A manifest pushed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushedManifest {
    /// Its descriptor.
    pub descriptor: Descriptor,
    /// The `OCI-Subject` the registry answered: it indexes referrers
    /// itself, so no fallback tag is needed.
    pub oci_subject: Option<String>,
}

/// How a referrers list was obtained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReferrersPath {
    /// The OCI 1.1 referrers API answered.
    Api,
    /// The API answered 404; the fallback tag (`sha256-<hex>`) was read (it
    /// may not exist: then the list is empty).
    FallbackTag {
        /// The tag.
        tag: String,
        /// Whether the tag existed.
        found: bool,
    },
}

impl std::fmt::Display for ReferrersPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReferrersPath::Api => f.write_str("referrers API"),
            ReferrersPath::FallbackTag { tag, found: true } => {
                write!(f, "referrers tag schema ({tag})")
            }
            ReferrersPath::FallbackTag { tag, found: false } => {
                write!(f, "referrers tag schema ({tag}, absent)")
            }
        }
    }
}

/// A referrers list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Referrers {
    /// How it was obtained.
    pub path: ReferrersPath,
    /// The referring manifests' descriptors (with `artifactType` and
    /// annotations).
    pub descriptors: Vec<Descriptor>,
}

pub(crate) struct Target<'a> {
    pub registry: &'a str,
    pub repository: &'a str,
}

impl<'a> Target<'a> {
    pub fn of(r: &'a Reference) -> Target<'a> {
        Target {
            registry: &r.registry,
            repository: &r.repository,
        }
    }
}

struct Req<'a> {
    method: &'static str,
    url: String,
    accept: Option<&'a str>,
    content_type: Option<&'a str>,
    body: Option<&'a [u8]>,
    operation: String,
}

/// A registry client. Cheap to share: it is `Send + Sync` and keeps its
/// connection pool, tokens and credentials for the registries it talks to.
pub struct Client {
    agent: ureq::Agent,
    options: ClientOptions,
    docker: DockerConfig,
    state: Mutex<AuthState>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("insecure_registries", &self.options.insecure_registries)
            .field("docker_config", &self.options.docker_config)
            .field("endpoints", &self.options.endpoints)
            .field("max_blob_bytes", &self.options.max_blob_bytes)
            .finish_non_exhaustive()
    }
}

fn is_loopback(host_port: &str) -> bool {
    let host = if let Some(rest) = host_port.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The `host[:port]` of an absolute URL.
fn url_host(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    rest.get(..end)
}

fn header(resp: &Response<Body>, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The explanation in a registry's error body.
fn error_detail(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        #[serde(default)]
        errors: Vec<ErrorItem>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorItem {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    if let Ok(e) = serde_json::from_slice::<Errors>(body)
        && !e.errors.is_empty()
    {
        return e
            .errors
            .iter()
            .map(|i| match (i.code.is_empty(), i.message.is_empty()) {
                (false, false) => format!("{} ({})", i.message, i.code),
                (false, true) => i.code.clone(),
                _ => i.message.clone(),
            })
            .collect::<Vec<_>>()
            .join("; ");
    }
    let text = String::from_utf8_lossy(body);
    text.trim().chars().take(300).collect()
}

impl Client {
    /// A client with `options`; reads the Docker configuration now, so a
    /// malformed one is reported at once.
    pub fn new(options: ClientOptions) -> Result<Client, Error> {
        let docker = match &options.docker_config {
            DockerConfigSource::Default => DockerConfig::load_default()?,
            DockerConfigSource::Path(p) => DockerConfig::load(p)?,
            DockerConfigSource::Disabled => DockerConfig::default(),
        };
        Ok(Client::with_docker_config(options, docker))
    }

    /// A client with an already-read Docker configuration.
    pub fn with_docker_config(options: ClientOptions, docker: DockerConfig) -> Client {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(options.timeout))
            .user_agent(options.user_agent.as_str())
            .max_redirects(5)
            .build();
        Client {
            agent: ureq::Agent::new_with_config(config),
            options,
            docker,
            state: Mutex::new(AuthState::default()),
        }
    }

    /// The options.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, AuthState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn endpoint<'a>(&'a self, registry: &'a str) -> &'a str {
        self.options
            .endpoints
            .get(registry)
            .map_or(registry, String::as_str)
    }

    fn plain_http_allowed(&self, host: &str) -> bool {
        is_loopback(host)
            || self
                .options
                .insecure_registries
                .iter()
                .any(|r| r.eq_ignore_ascii_case(host))
    }

    fn origin(&self, registry: &str) -> String {
        let endpoint = self.endpoint(registry);
        let scheme = if self.plain_http_allowed(endpoint) || self.plain_http_allowed(registry) {
            "http"
        } else {
            "https"
        };
        format!("{scheme}://{endpoint}")
    }

    pub(crate) fn repo_url(&self, t: &Target<'_>) -> String {
        format!("{}/v2/{}", self.origin(t.registry), t.repository)
    }

    fn credential(&self, registry: &str) -> Result<Option<Credential>, Error> {
        if let Some(c) = self.options.credentials.get(registry) {
            return Ok(Some(c.clone()));
        }
        if let Some(c) = self.lock().credentials.get(registry) {
            return Ok(c.clone());
        }
        // Outside the lock: a helper may take a while.
        let c = self.docker.credential_for(registry)?;
        self.lock()
            .credentials
            .insert(registry.to_owned(), c.clone());
        Ok(c)
    }

    fn basic_header(username: &str, password: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
        )
    }

    /// The Authorization header already known for `registry` and `scope`.
    fn cached_authorization(&self, registry: &str, scope: &str) -> Result<Option<String>, Error> {
        let mode = self.lock().modes.get(registry).cloned();
        match mode {
            None => Ok(None),
            Some(Mode::Basic) => Ok(match self.credential(registry)? {
                Some(Credential::Basic { username, password }) => {
                    Some(Client::basic_header(&username, &password))
                }
                Some(Credential::RegistryToken(t)) => Some(format!("Bearer {t}")),
                _ => None,
            }),
            Some(Mode::Bearer { realm, service }) => {
                let cached = self
                    .lock()
                    .tokens
                    .get(&(registry.to_owned(), scope.to_owned()))
                    .filter(|(_, until)| Instant::now() < *until)
                    .map(|(t, _)| format!("Bearer {t}"));
                if cached.is_some() {
                    return Ok(cached);
                }
                // The registry uses tokens: ask for this scope's now rather
                // than after a 401. A failure here is answered by the
                // challenge path, which reports it.
                let credential = self.credential(registry)?;
                let t = Target {
                    registry,
                    repository: "",
                };
                match self.fetch_token(
                    &t,
                    &realm,
                    service.as_deref(),
                    &[scope.to_owned()],
                    credential,
                ) {
                    Ok((token, ttl)) => {
                        self.lock().tokens.insert(
                            (registry.to_owned(), scope.to_owned()),
                            (token.clone(), Instant::now() + ttl),
                        );
                        Ok(Some(format!("Bearer {token}")))
                    }
                    Err(_) => Ok(None),
                }
            }
        }
    }

    /// Answers a challenge: the Authorization header to retry with.
    fn authorize(
        &self,
        t: &Target<'_>,
        scope: &str,
        challenge: Challenge,
    ) -> Result<String, Error> {
        let unauthorized = |detail: String| Error::Unauthorized {
            registry: t.registry.to_owned(),
            repository: t.repository.to_owned(),
            status: 401,
            detail,
        };
        let credential = self.credential(t.registry)?;
        match challenge {
            Challenge::Basic => {
                self.lock().modes.insert(t.registry.to_owned(), Mode::Basic);
                match credential {
                    Some(Credential::Basic { username, password }) => {
                        Ok(Client::basic_header(&username, &password))
                    }
                    Some(Credential::RegistryToken(tok)) => Ok(format!("Bearer {tok}")),
                    Some(Credential::IdentityToken(_)) => Err(unauthorized(
                        "the registry asks for basic authentication, and the configured credential is an identity token".into(),
                    )),
                    None => Err(unauthorized(
                        "the registry asks for credentials and none are configured for it (Docker configuration auths, credHelpers or credsStore)".into(),
                    )),
                }
            }
            Challenge::Bearer {
                realm,
                service,
                scope: asked,
            } => {
                if let Some(Credential::RegistryToken(tok)) = &credential {
                    return Ok(format!("Bearer {tok}"));
                }
                self.lock().modes.insert(
                    t.registry.to_owned(),
                    Mode::Bearer {
                        realm: realm.clone(),
                        service: service.clone(),
                    },
                );
                // Ask for the scope the registry named and the one the
                // operation needs.
                let mut scopes = vec![scope.to_owned()];
                if let Some(a) = asked
                    && a != scope
                {
                    scopes.push(a);
                }
                let (token, ttl) =
                    self.fetch_token(t, &realm, service.as_deref(), &scopes, credential)?;
                self.lock().tokens.insert(
                    (t.registry.to_owned(), scope.to_owned()),
                    (token.clone(), Instant::now() + ttl),
                );
                Ok(format!("Bearer {token}"))
            }
        }
    }

    fn fetch_token(
        &self,
        t: &Target<'_>,
        realm: &str,
        service: Option<&str>,
        scopes: &[String],
        credential: Option<Credential>,
    ) -> Result<(String, Duration), Error> {
        let fail = |reason: String| Error::Token {
            registry: t.registry.to_owned(),
            realm: realm.to_owned(),
            reason,
        };
        let host = url_host(realm).ok_or_else(|| fail("the realm is not an http(s) URL".into()))?;
        if realm.starts_with("http://") && !self.plain_http_allowed(host) {
            return Err(Error::Insecure {
                url: realm.to_owned(),
                host: host.to_owned(),
            });
        }
        let mut query = Vec::new();
        if let Some(s) = service {
            query.push(format!("service={}", encode_query(s)));
        }
        for s in scopes {
            query.push(format!("scope={}", encode_query(s)));
        }
        let result = match &credential {
            Some(Credential::IdentityToken(refresh)) => {
                // OAuth2 refresh-token grant.
                let mut form = vec![
                    "grant_type=refresh_token".to_owned(),
                    format!("refresh_token={}", encode_query(refresh)),
                    "client_id=palisade".to_owned(),
                ];
                form.extend(query.iter().cloned());
                let body = form.join("&");
                let req = ureq::http::Request::builder()
                    .method("POST")
                    .uri(realm)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(body)
                    .map_err(|e| fail(e.to_string()))?;
                self.agent.run(req)
            }
            other => {
                let sep = if realm.contains('?') { '&' } else { '?' };
                let url = if query.is_empty() {
                    realm.to_owned()
                } else {
                    format!("{realm}{sep}{}", query.join("&"))
                };
                let mut b = ureq::http::Request::builder().method("GET").uri(url);
                if let Some(Credential::Basic { username, password }) = other {
                    b = b.header("Authorization", Client::basic_header(username, password));
                }
                let req = b.body(()).map_err(|e| fail(e.to_string()))?;
                self.agent.run(req)
            }
        };
        let mut resp = result.map_err(|e| fail(e.to_string()))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_ERROR_BODY * 16)
            .read_to_vec()
            .map_err(|e| fail(e.to_string()))?;
        if status == 401 || status == 403 {
            return Err(Error::Unauthorized {
                registry: t.registry.to_owned(),
                repository: t.repository.to_owned(),
                status,
                detail: format!(
                    "the token endpoint {realm} refused the credentials: {}",
                    error_detail(&body)
                ),
            });
        }
        if status != 200 {
            return Err(fail(format!("HTTP {status}: {}", error_detail(&body))));
        }
        let answer: TokenAnswer = serde_json::from_slice(&body)
            .map_err(|e| fail(format!("the answer is not a token document: {e}")))?;
        let token = answer
            .token
            .or(answer.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| fail("the answer holds no token".into()))?;
        // The specification's default lifetime is 60 s; keep a margin.
        let ttl = Duration::from_secs(answer.expires_in.unwrap_or(60).clamp(10, 86_400) - 5);
        Ok((token, ttl))
    }

    fn raw(
        &self,
        t: &Target<'_>,
        req: &Req<'_>,
        authorization: Option<&str>,
    ) -> Result<Response<Body>, Error> {
        let transport = |reason: String| Error::Transport {
            registry: t.registry.to_owned(),
            repository: t.repository.to_owned(),
            operation: req.operation.clone(),
            reason,
        };
        let host = url_host(&req.url).ok_or_else(|| transport("not an http(s) URL".into()))?;
        if req.url.starts_with("http://") && !self.plain_http_allowed(host) {
            return Err(Error::Insecure {
                url: req.url.clone(),
                host: host.to_owned(),
            });
        }
        // Credentials go only to the registry's own endpoint (an upload
        // location may point elsewhere).
        let same_host = host.eq_ignore_ascii_case(self.endpoint(t.registry));
        let mut b = ureq::http::Request::builder()
            .method(req.method)
            .uri(&req.url);
        if let (Some(a), true) = (authorization, same_host) {
            b = b.header("Authorization", a);
        }
        if let Some(a) = req.accept {
            b = b.header("Accept", a);
        }
        if let Some(c) = req.content_type {
            b = b.header("Content-Type", c);
        }
        let result = match req.body {
            Some(body) => {
                let r = b.body(body).map_err(|e| transport(e.to_string()))?;
                self.agent.run(r)
            }
            None => {
                let r = b.body(()).map_err(|e| transport(e.to_string()))?;
                self.agent.run(r)
            }
        };
        result.map_err(|e| transport(e.to_string()))
    }

    /// Sends a request, answering one authentication challenge.
    fn execute(
        &self,
        t: &Target<'_>,
        access: Access,
        req: &Req<'_>,
    ) -> Result<Response<Body>, Error> {
        let scope = access.scope(t.repository);
        let auth = self.cached_authorization(t.registry, &scope)?;
        let resp = self.raw(t, req, auth.as_deref())?;
        if resp.status().as_u16() != 401 {
            return Ok(resp);
        }
        let challenge = header(&resp, "www-authenticate")
            .as_deref()
            .and_then(parse_challenge)
            .ok_or_else(|| Error::Unauthorized {
                registry: t.registry.to_owned(),
                repository: t.repository.to_owned(),
                status: 401,
                detail: "HTTP 401 without a usable WWW-Authenticate challenge".into(),
            })?;
        let auth = self.authorize(t, &scope, challenge)?;
        let mut resp = self.raw(t, req, Some(&auth))?;
        if resp.status().as_u16() == 401 {
            let body = read_error_body(&mut resp);
            return Err(Error::Unauthorized {
                registry: t.registry.to_owned(),
                repository: t.repository.to_owned(),
                status: 401,
                detail: format!("the credentials were refused: {}", error_detail(&body)),
            });
        }
        Ok(resp)
    }

    fn failure(t: &Target<'_>, operation: &str, what: &str, resp: &mut Response<Body>) -> Error {
        let status = resp.status().as_u16();
        let body = read_error_body(resp);
        let detail = error_detail(&body);
        match status {
            404 => Error::NotFound {
                registry: t.registry.to_owned(),
                repository: t.repository.to_owned(),
                what: what.to_owned(),
            },
            401 | 403 => Error::Unauthorized {
                registry: t.registry.to_owned(),
                repository: t.repository.to_owned(),
                status,
                detail: if detail.is_empty() {
                    "access denied".into()
                } else {
                    detail
                },
            },
            _ => Error::Status {
                registry: t.registry.to_owned(),
                repository: t.repository.to_owned(),
                operation: operation.to_owned(),
                status,
                detail,
            },
        }
    }

    fn read_limited(
        t: &Target<'_>,
        what: &str,
        resp: &mut Response<Body>,
        limit: u64,
    ) -> Result<Vec<u8>, Error> {
        let too_large = || Error::TooLarge {
            registry: t.registry.to_owned(),
            repository: t.repository.to_owned(),
            what: what.to_owned(),
            limit,
        };
        if header(resp, "content-length")
            .and_then(|l| l.trim().parse::<u64>().ok())
            .is_some_and(|l| l > limit)
        {
            return Err(too_large());
        }
        resp.body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => too_large(),
                other => Error::Transport {
                    registry: t.registry.to_owned(),
                    repository: t.repository.to_owned(),
                    operation: format!("reading {what}"),
                    reason: other.to_string(),
                },
            })
    }

    /// Fetches a manifest by tag or digest (`reference`), with the Accept
    /// header of every manifest type this crate reads. The digest is that
    /// of the bytes as served; it must equal the digest asked for and the
    /// `Docker-Content-Digest` the registry announced.
    pub fn get_manifest(&self, image: &Reference, reference: &str) -> Result<Manifest, Error> {
        let t = Target::of(image);
        let what = format!("manifest {reference}");
        let req = Req {
            method: "GET",
            url: format!("{}/manifests/{reference}", self.repo_url(&t)),
            accept: Some(MANIFEST_ACCEPT),
            content_type: None,
            body: None,
            operation: format!("GET {what}"),
        };
        let mut resp = self.execute(&t, Access::Pull, &req)?;
        if resp.status().as_u16() != 200 {
            return Err(Client::failure(&t, &req.operation, &what, &mut resp));
        }
        let content_type = header(&resp, "content-type")
            .map(|c| media::essence(&c).to_owned())
            .unwrap_or_default();
        let announced = header(&resp, "docker-content-digest");
        let bytes = Client::read_limited(&t, &what, &mut resp, MAX_MANIFEST_BYTES)?;
        let mismatch = |expected: String, actual: String| Error::DigestMismatch {
            registry: t.registry.to_owned(),
            repository: t.repository.to_owned(),
            what: what.clone(),
            expected,
            actual,
        };
        let mut digest = Digest::sha256(&bytes);
        if let Ok(asked) = Digest::parse(reference) {
            let actual = asked.compute_like(&bytes);
            if actual != asked {
                return Err(mismatch(asked.to_string(), actual.to_string()));
            }
            digest = asked;
        }
        if let Some(a) = announced
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            let announced = Digest::parse(a).map_err(|_| Error::Format {
                what: "Docker-Content-Digest header",
                reason: format!(
                    "{:?} is not a digest",
                    a.chars().take(200).collect::<String>()
                ),
            })?;
            let actual = announced.compute_like(&bytes);
            if actual != announced {
                return Err(mismatch(announced.to_string(), actual.to_string()));
            }
        }
        // A generic Content-Type says nothing: read the document's own.
        let media_type = if content_type.is_empty()
            || content_type == "application/json"
            || content_type == "text/plain"
            || content_type == "application/octet-stream"
        {
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v.get("mediaType")?.as_str().map(str::to_owned))
                .unwrap_or_default()
        } else {
            content_type
        };
        Ok(Manifest {
            bytes,
            media_type,
            digest,
        })
    }

    /// Resolves a reference (its tag, or `latest`) to the digest of the
    /// manifest it names. A digest-pinned reference is checked: the
    /// manifest must exist and have that digest. The manifest is fetched
    /// with GET rather than HEAD so that the digest is computed over the
    /// bytes, not taken on the registry's word.
    pub fn resolve(&self, image: &Reference) -> Result<Resolved, Error> {
        let manifest = self.get_manifest(image, &image.manifest_reference())?;
        Ok(Resolved {
            reference: image.clone(),
            digest: manifest.digest.clone(),
            media_type: manifest.media_type.clone(),
            size: u64::try_from(manifest.bytes.len()).unwrap_or(u64::MAX),
            manifest,
        })
    }

    /// Fetches a blob, at most the configured blob limit, checked against
    /// the descriptor's size and digest.
    pub fn get_blob(&self, image: &Reference, desc: &Descriptor) -> Result<Vec<u8>, Error> {
        self.get_blob_limited(image, desc, self.options.max_blob_bytes)
    }

    /// [`Client::get_blob`] with an explicit limit.
    pub fn get_blob_limited(
        &self,
        image: &Reference,
        desc: &Descriptor,
        limit: u64,
    ) -> Result<Vec<u8>, Error> {
        let t = Target::of(image);
        let what = format!("blob {}", desc.digest);
        if desc.size > limit {
            return Err(Error::TooLarge {
                registry: t.registry.to_owned(),
                repository: t.repository.to_owned(),
                what: format!("{what} ({} bytes)", desc.size),
                limit,
            });
        }
        let req = Req {
            method: "GET",
            url: format!("{}/blobs/{}", self.repo_url(&t), desc.digest),
            accept: None,
            content_type: None,
            body: None,
            operation: format!("GET {what}"),
        };
        let mut resp = self.execute(&t, Access::Pull, &req)?;
        if resp.status().as_u16() != 200 {
            return Err(Client::failure(&t, &req.operation, &what, &mut resp));
        }
        // Read one byte past the announced size to catch longer content.
        let bytes = Client::read_limited(
            &t,
            &what,
            &mut resp,
            desc.size.saturating_add(1).min(limit.max(1)),
        )?;
        let actual = desc.digest.compute_like(&bytes);
        if actual != desc.digest || u64::try_from(bytes.len()).ok() != Some(desc.size) {
            return Err(Error::DigestMismatch {
                registry: t.registry.to_owned(),
                repository: t.repository.to_owned(),
                what: format!("{what} ({} bytes, {} announced)", bytes.len(), desc.size),
                expected: desc.digest.to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(bytes)
    }

    /// Whether the repository has a blob.
    pub fn blob_exists(&self, image: &Reference, digest: &Digest) -> Result<bool, Error> {
        let t = Target::of(image);
        let what = format!("blob {digest}");
        let req = Req {
            method: "HEAD",
            url: format!("{}/blobs/{digest}", self.repo_url(&t)),
            accept: None,
            content_type: None,
            body: None,
            operation: format!("HEAD {what}"),
        };
        let mut resp = self.execute(&t, Access::Pull, &req)?;
        match resp.status().as_u16() {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(Client::failure(&t, &req.operation, &what, &mut resp)),
        }
    }

    fn absolute(&self, registry: &str, location: &str) -> String {
        if location.starts_with("http://") || location.starts_with("https://") {
            location.to_owned()
        } else if location.starts_with('/') {
            format!("{}{location}", self.origin(registry))
        } else {
            format!("{}/{location}", self.origin(registry))
        }
    }

    /// Uploads a blob (monolithic POST then PUT), unless the repository
    /// already has it. Returns its descriptor.
    pub fn push_blob(
        &self,
        image: &Reference,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Descriptor, Error> {
        let desc = Descriptor::of(media_type, bytes);
        if self.blob_exists(image, &desc.digest)? {
            return Ok(desc);
        }
        let t = Target::of(image);
        let what = format!("blob upload {}", desc.digest);
        let start = Req {
            method: "POST",
            url: format!("{}/blobs/uploads/", self.repo_url(&t)),
            accept: None,
            content_type: None,
            body: Some(&[]),
            operation: format!("POST {what}"),
        };
        let mut resp = self.execute(&t, Access::Push, &start)?;
        if resp.status().as_u16() != 202 {
            return Err(Client::failure(&t, &start.operation, &what, &mut resp));
        }
        let location = header(&resp, "location").ok_or_else(|| Error::Status {
            registry: t.registry.to_owned(),
            repository: t.repository.to_owned(),
            operation: start.operation.clone(),
            status: 202,
            detail: "no Location header".into(),
        })?;
        let location = self.absolute(t.registry, &location);
        let sep = if location.contains('?') { '&' } else { '?' };
        let put = Req {
            method: "PUT",
            url: format!(
                "{location}{sep}digest={}",
                encode_query(&desc.digest.to_string())
            ),
            accept: None,
            content_type: Some("application/octet-stream"),
            body: Some(bytes),
            operation: format!("PUT {what}"),
        };
        let mut resp = self.execute(&t, Access::Push, &put)?;
        if resp.status().as_u16() != 201 {
            return Err(Client::failure(&t, &put.operation, &what, &mut resp));
        }
        if let Some(a) = header(&resp, "docker-content-digest")
            && a.trim() != desc.digest.to_string()
        {
            return Err(Error::DigestMismatch {
                registry: t.registry.to_owned(),
                repository: t.repository.to_owned(),
                what,
                expected: desc.digest.to_string(),
                actual: a,
            });
        }
        Ok(desc)
    }

    /// Pushes a manifest under `reference` (a tag, or its own digest).
    pub fn push_manifest(
        &self,
        image: &Reference,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<PushedManifest, Error> {
        let t = Target::of(image);
        let what = format!("manifest {reference}");
        if bytes.len() as u64 > MAX_MANIFEST_BYTES {
            return Err(Error::TooLarge {
                registry: t.registry.to_owned(),
                repository: t.repository.to_owned(),
                what,
                limit: MAX_MANIFEST_BYTES,
            });
        }
        let descriptor = Descriptor::of(media_type, bytes);
        let req = Req {
            method: "PUT",
            url: format!("{}/manifests/{reference}", self.repo_url(&t)),
            accept: None,
            content_type: Some(media_type),
            body: Some(bytes),
            operation: format!("PUT {what}"),
        };
        let mut resp = self.execute(&t, Access::Push, &req)?;
        if !resp.status().is_success() {
            return Err(Client::failure(&t, &req.operation, &what, &mut resp));
        }
        if let Some(a) = header(&resp, "docker-content-digest")
            && Digest::parse(a.trim()).is_ok_and(|d| d.algorithm() == descriptor.digest.algorithm())
            && a.trim() != descriptor.digest.to_string()
        {
            return Err(Error::DigestMismatch {
                registry: t.registry.to_owned(),
                repository: t.repository.to_owned(),
                what,
                expected: descriptor.digest.to_string(),
                actual: a,
            });
        }
        Ok(PushedManifest {
            descriptor,
            oci_subject: header(&resp, "oci-subject"),
        })
    }

    /// Deletes a manifest by digest (the registry must allow deletes).
    pub fn delete_manifest(&self, image: &Reference, digest: &Digest) -> Result<(), Error> {
        let t = Target::of(image);
        let what = format!("manifest {digest}");
        let req = Req {
            method: "DELETE",
            url: format!("{}/manifests/{digest}", self.repo_url(&t)),
            accept: None,
            content_type: None,
            body: None,
            operation: format!("DELETE {what}"),
        };
        let mut resp = self.execute(&t, Access::Push, &req)?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(Client::failure(&t, &req.operation, &what, &mut resp))
        }
    }

    /// The referrers of `subject` in the image's repository, from the OCI
    /// 1.1 referrers API, or, when it answers 404, from the fallback tag
    /// `sha256-<hex>`. With `artifact_type`, only referrers of that type.
    pub fn referrers(
        &self,
        image: &Reference,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Referrers, Error> {
        let t = Target::of(image);
        let what = format!("referrers of {subject}");
        let mut url = format!("{}/referrers/{subject}", self.repo_url(&t));
        if let Some(a) = artifact_type {
            url.push_str(&format!("?artifactType={}", encode_query(a)));
        }
        let mut descriptors = Vec::new();
        for page in 0..MAX_REFERRER_PAGES {
            let req = Req {
                method: "GET",
                url: url.clone(),
                accept: Some(media::OCI_INDEX),
                content_type: None,
                body: None,
                operation: format!("GET {what}"),
            };
            let mut resp = self.execute(&t, Access::Pull, &req)?;
            let status = resp.status().as_u16();
            if status == 404 && page == 0 {
                return self.referrers_by_tag(image, subject, artifact_type);
            }
            if status != 200 {
                return Err(Client::failure(&t, &req.operation, &what, &mut resp));
            }
            let next = header(&resp, "link").and_then(|l| next_link(&l));
            let bytes = Client::read_limited(&t, &what, &mut resp, MAX_MANIFEST_BYTES)?;
            let index: crate::manifest::ImageIndex =
                serde_json::from_slice(&bytes).map_err(|e| Error::Format {
                    what: "referrers list",
                    reason: e.to_string(),
                })?;
            descriptors.extend(index.manifests);
            match next {
                Some(n) => url = self.absolute(t.registry, &n),
                None => break,
            }
        }
        filter_type(&mut descriptors, artifact_type);
        Ok(Referrers {
            path: ReferrersPath::Api,
            descriptors,
        })
    }

    /// The referrers list kept under the fallback tag `sha256-<hex>`.
    pub fn referrers_by_tag(
        &self,
        image: &Reference,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Referrers, Error> {
        let tag = subject.tag_prefix();
        match self.get_manifest(image, &tag) {
            Err(e) if e.is_not_found() => Ok(Referrers {
                path: ReferrersPath::FallbackTag { tag, found: false },
                descriptors: Vec::new(),
            }),
            Err(e) => Err(e),
            Ok(m) => {
                let mut descriptors = match m.parse()? {
                    crate::manifest::Parsed::Index(i) => i.manifests,
                    crate::manifest::Parsed::Image(_) => {
                        return Err(Error::Format {
                            what: "referrers fallback tag",
                            reason: format!("{tag} is an image manifest, not an index"),
                        });
                    }
                };
                filter_type(&mut descriptors, artifact_type);
                Ok(Referrers {
                    path: ReferrersPath::FallbackTag { tag, found: true },
                    descriptors,
                })
            }
        }
    }
}

fn filter_type(descriptors: &mut Vec<Descriptor>, artifact_type: Option<&str>) {
    if let Some(a) = artifact_type {
        descriptors.retain(|d| d.artifact_type.as_deref() == Some(a));
    }
}

fn read_error_body(resp: &mut Response<Body>) -> Vec<u8> {
    resp.body_mut()
        .with_config()
        .limit(MAX_ERROR_BODY)
        .read_to_vec()
        .unwrap_or_default()
}

/// The `rel="next"` target of a `Link` header.
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        if !params.contains("rel=\"next\"") && !params.contains("rel=next") {
            return None;
        }
        let target = target.trim();
        Some(target.strip_prefix('<')?.strip_suffix('>')?.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_hosts() {
        assert!(is_loopback("localhost:5000"));
        assert!(is_loopback("127.0.0.1:5000"));
        assert!(is_loopback("127.3.4.5"));
        assert!(is_loopback("[::1]:5000"));
        assert!(!is_loopback("registry.example:5000"));
        assert!(!is_loopback("10.0.0.1"));
        assert_eq!(
            url_host("http://127.0.0.1:1/token?x=1"),
            Some("127.0.0.1:1")
        );
        assert_eq!(url_host("ftp://x"), None);
    }

    #[test]
    fn plain_http_only_where_allowed() -> Result<(), Error> {
        let c = Client::new(ClientOptions {
            docker_config: DockerConfigSource::Disabled,
            insecure_registries: vec!["registry.example:5000".into()],
            ..ClientOptions::default()
        })?;
        assert_eq!(
            c.origin("registry.example:5000"),
            "http://registry.example:5000"
        );
        assert_eq!(c.origin("127.0.0.1:5000"), "http://127.0.0.1:5000");
        assert_eq!(c.origin("registry.example"), "https://registry.example");
        Ok(())
    }

    #[test]
    fn links_and_errors() {
        assert_eq!(
            next_link(r#"</v2/a/referrers/sha256:x?n=2&last=y>; rel="next""#).as_deref(),
            Some("/v2/a/referrers/sha256:x?n=2&last=y")
        );
        assert_eq!(next_link(r#"<x>; rel="prev""#), None);
        assert_eq!(
            error_detail(
                br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#
            ),
            "manifest unknown (MANIFEST_UNKNOWN)"
        );
        assert_eq!(error_detail(b"404 page not found\n"), "404 page not found");
    }
}
