//! Registry credentials from the Docker configuration
//! (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`):
//!
//! * `credHelpers.<registry>`: a credential helper for that registry;
//! * `auths.<registry>`: `auth` (base64 `user:password`), or `username` and
//!   `password`, or `identitytoken` (an OAuth2 refresh token for the token
//!   endpoint), or `registrytoken` (a bearer token sent as is);
//! * `credsStore`: the helper for every other registry.
//!
//! A helper is the program `docker-credential-<name>`, run as
//! `docker-credential-<name> get` with the server URL on standard input; it
//! answers `{"ServerURL","Username","Secret"}` (a `Username` of `<token>`
//! means the secret is an identity token).
//!
//! `auths` keys may be written `registry.example`, `https://registry.example`
//! or `https://registry.example/v1/`: they are compared by host. Docker Hub
//! (`docker.io`) matches keys on `docker.io` and any host under it, where
//! Docker keeps its credentials.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde::Deserialize;

use crate::Error;
use crate::reference::DOCKER_HUB;

/// The largest Docker configuration file read.
const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;
/// The largest answer read from a credential helper.
const MAX_HELPER_OUTPUT: usize = 1024 * 1024;

/// A credential for a registry.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// A user name and password (basic auth, or exchanged for a token).
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
    /// An OAuth2 refresh token, exchanged at the token endpoint.
    IdentityToken(String),
    /// A bearer token sent to the registry as is.
    RegistryToken(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets.
        match self {
            Credential::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Credential::IdentityToken(_) => f.write_str("IdentityToken(<redacted>)"),
            Credential::RegistryToken(_) => f.write_str("RegistryToken(<redacted>)"),
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
    #[serde(default)]
    registrytoken: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default)]
    creds_store: Option<String>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
}

/// A Docker configuration file, read.
#[derive(Clone, Debug, Default)]
pub struct DockerConfig {
    path: Option<PathBuf>,
    file: ConfigFile,
    /// Where credential helpers are looked for (default: `PATH`).
    helper_dir: Option<PathBuf>,
}

/// The default location: `$DOCKER_CONFIG/config.json`, else
/// `~/.docker/config.json`.
pub fn default_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    dirs::home_dir().map(|h| h.join(".docker").join("config.json"))
}

/// The host of an `auths` key: scheme and path removed, lower case.
fn key_host(key: &str) -> String {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    rest.split('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

fn host_matches(registry: &str, key: &str) -> bool {
    let host = key_host(key);
    let registry = registry.to_ascii_lowercase();
    if host == registry {
        return true;
    }
    registry == DOCKER_HUB && host.ends_with(".docker.io")
}

impl DockerConfig {
    /// Reads the configuration at `path`; a missing file is an empty
    /// configuration.
    pub fn load(path: &Path) -> Result<DockerConfig, Error> {
        let bad = |reason: String| Error::DockerConfig {
            path: path.to_owned(),
            reason,
        };
        let bytes = match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(DockerConfig {
                    path: Some(path.to_owned()),
                    ..DockerConfig::default()
                });
            }
            Err(e) => return Err(bad(e.to_string())),
            Ok(m) if m.len() > MAX_CONFIG_BYTES => {
                return Err(bad(format!("larger than {MAX_CONFIG_BYTES} bytes")));
            }
            Ok(_) => std::fs::read(path).map_err(|e| bad(e.to_string()))?,
        };
        let mut config = DockerConfig::from_json(&bytes).map_err(|e| match e {
            Error::DockerConfig { reason, .. } => bad(reason),
            other => other,
        })?;
        config.path = Some(path.to_owned());
        Ok(config)
    }

    /// Reads the default configuration (see [`default_path`]).
    pub fn load_default() -> Result<DockerConfig, Error> {
        match default_path() {
            Some(p) => DockerConfig::load(&p),
            None => Ok(DockerConfig::default()),
        }
    }

    /// Parses a configuration document.
    pub fn from_json(bytes: &[u8]) -> Result<DockerConfig, Error> {
        let file: ConfigFile = serde_json::from_slice(bytes).map_err(|e| Error::DockerConfig {
            path: PathBuf::from("<config.json>"),
            reason: e.to_string(),
        })?;
        Ok(DockerConfig {
            path: None,
            file,
            helper_dir: None,
        })
    }

    /// Looks credential helpers up in `dir` instead of `PATH` (tests).
    pub fn with_helper_dir(mut self, dir: &Path) -> DockerConfig {
        self.helper_dir = Some(dir.to_owned());
        self
    }

    /// The credential for `registry` (`host[:port]`), if any.
    pub fn credential_for(&self, registry: &str) -> Result<Option<Credential>, Error> {
        let matching: Vec<(&String, &AuthEntry)> = self
            .file
            .auths
            .iter()
            .filter(|(k, _)| host_matches(registry, k))
            .collect();
        // The server URLs to ask a helper about: the registry, then the
        // keys Docker stored for it.
        let mut urls = vec![registry.to_owned()];
        urls.extend(matching.iter().map(|(k, _)| (*k).clone()));
        if let Some(helper) = self
            .file
            .cred_helpers
            .iter()
            .find(|(k, _)| host_matches(registry, k))
            .map(|(_, h)| h.clone())
        {
            return self.ask_helper(&helper, registry, &urls);
        }
        for (key, entry) in &matching {
            if let Some(c) = entry_credential(entry).map_err(|reason| Error::DockerConfig {
                path: self.path.clone().unwrap_or_default(),
                reason: format!("auths.{key}: {reason}"),
            })? {
                return Ok(Some(c));
            }
        }
        if let Some(store) = &self.file.creds_store
            && !store.is_empty()
        {
            return self.ask_helper(store, registry, &urls);
        }
        Ok(None)
    }

    fn ask_helper(
        &self,
        helper: &str,
        registry: &str,
        urls: &[String],
    ) -> Result<Option<Credential>, Error> {
        let fail = |reason: String| Error::CredentialHelper {
            helper: helper.to_owned(),
            registry: registry.to_owned(),
            reason,
        };
        if helper.is_empty()
            || !helper
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(fail(
                "the helper name may hold only letters, digits, '-', '_' and '.'".into(),
            ));
        }
        let program = match &self.helper_dir {
            Some(dir) => dir.join(format!("docker-credential-{helper}")),
            None => PathBuf::from(format!("docker-credential-{helper}")),
        };
        let mut seen = std::collections::BTreeSet::new();
        for url in urls {
            if !seen.insert(url.clone()) {
                continue;
            }
            match run_helper(&program, url) {
                Ok(Some(c)) => return Ok(Some(c)),
                Ok(None) => continue,
                Err(HelperError::Missing) => {
                    return Err(fail(format!(
                        "{} is not installed or not on PATH (install it, or remove credsStore/credHelpers from the Docker configuration)",
                        program.display()
                    )));
                }
                Err(HelperError::Failed(reason)) => return Err(fail(reason)),
            }
        }
        Ok(None)
    }
}

fn entry_credential(entry: &AuthEntry) -> Result<Option<Credential>, String> {
    if let Some(token) = entry.registrytoken.as_deref().filter(|t| !t.is_empty()) {
        return Ok(Some(Credential::RegistryToken(token.to_owned())));
    }
    if let Some(token) = entry.identitytoken.as_deref().filter(|t| !t.is_empty()) {
        return Ok(Some(Credential::IdentityToken(token.to_owned())));
    }
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|e| format!("auth is not base64: {e}"))?;
        let text = String::from_utf8(decoded).map_err(|_| "auth is not UTF-8".to_owned())?;
        let (username, password) = text
            .split_once(':')
            .ok_or_else(|| "auth is not base64 of user:password".to_owned())?;
        return Ok(Some(Credential::Basic {
            username: username.to_owned(),
            password: password.to_owned(),
        }));
    }
    if let (Some(u), Some(p)) = (&entry.username, &entry.password)
        && !u.is_empty()
    {
        return Ok(Some(Credential::Basic {
            username: u.clone(),
            password: p.clone(),
        }));
    }
    Ok(None)
}

enum HelperError {
    Missing,
    Failed(String),
}

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

fn run_helper(program: &Path, server_url: &str) -> Result<Option<Credential>, HelperError> {
    let mut child = match Command::new(program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(HelperError::Missing),
        Err(e) => return Err(HelperError::Failed(format!("cannot run it: {e}"))),
    };
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading is answered by its status.
        let _ = stdin.write_all(server_url.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| HelperError::Failed(format!("cannot read its answer: {e}")))?;
    if out.stdout.len() > MAX_HELPER_OUTPUT {
        return Err(HelperError::Failed("its answer is over 1 MiB".into()));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        // The helpers' protocol: "credentials not found in native keychain".
        if stdout
            .to_ascii_lowercase()
            .contains("credentials not found")
        {
            return Ok(None);
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let msg = format!("{} {}", stdout.trim(), stderr.trim());
        return Err(HelperError::Failed(format!(
            "exited with {}: {}",
            out.status,
            msg.trim().chars().take(300).collect::<String>()
        )));
    }
    let answer: HelperAnswer = serde_json::from_slice(&out.stdout)
        .map_err(|e| HelperError::Failed(format!("its answer is not the helper JSON: {e}")))?;
    if answer.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(if answer.username == "<token>" {
        Credential::IdentityToken(answer.secret)
    } else {
        Credential::Basic {
            username: answer.username,
            password: answer.secret,
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> DockerConfig {
        match DockerConfig::from_json(json.as_bytes()) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn auths_by_host_with_any_key_spelling() -> Result<(), Error> {
        let c = config(
            r#"{"auths":{
                "https://registry.example/v1/":{"auth":"dXNlcjpwYTpzcw=="},
                "registry.example:5000":{"identitytoken":"refresh"},
                "other.example":{"username":"u","password":"p"},
                "empty.example":{}
            }}"#,
        );
        assert_eq!(
            c.credential_for("registry.example")?,
            Some(Credential::Basic {
                username: "user".into(),
                password: "pa:ss".into()
            })
        );
        assert_eq!(
            c.credential_for("registry.example:5000")?,
            Some(Credential::IdentityToken("refresh".into()))
        );
        assert!(matches!(
            c.credential_for("other.example")?,
            Some(Credential::Basic { .. })
        ));
        assert_eq!(c.credential_for("empty.example")?, None);
        assert_eq!(c.credential_for("unknown.example")?, None);
        Ok(())
    }

    #[test]
    fn docker_hub_keys_are_found_under_its_domain() -> Result<(), Error> {
        let c = config(r#"{"auths":{"https://index.docker.io/v1/":{"auth":"dTpw"}}}"#);
        assert!(c.credential_for("docker.io")?.is_some());
        assert!(c.credential_for("registry.example")?.is_none());
        Ok(())
    }

    #[test]
    fn malformed_auth_is_an_error() {
        let c = config(r#"{"auths":{"registry.example":{"auth":"%%%"}}}"#);
        assert!(c.credential_for("registry.example").is_err());
        let c = config(r#"{"auths":{"registry.example":{"auth":"bm9jb2xvbg=="}}}"#);
        assert!(c.credential_for("registry.example").is_err());
        assert!(DockerConfig::from_json(b"{\"auths\": 3}").is_err());
    }

    #[test]
    fn a_missing_helper_is_a_clear_error() {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        let c = config(r#"{"credsStore":"palisade-nonexistent"}"#).with_helper_dir(dir.path());
        let err = match c.credential_for("registry.example") {
            Err(e) => e.to_string(),
            Ok(c) => panic!("{c:?}"),
        };
        assert!(
            err.contains("docker-credential-palisade-nonexistent"),
            "{err}"
        );
        assert!(err.contains("not installed"), "{err}");
        let c = config(r#"{"credHelpers":{"registry.example":"../evil"}}"#);
        assert!(c.credential_for("registry.example").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn helpers_are_run_with_the_server_url() -> Result<(), Box<dyn std::error::Error>> {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir()?;
        let helper = dir.path().join("docker-credential-test");
        std::fs::write(
            &helper,
            "#!/bin/sh\n[ \"$1\" = get ] || exit 3\nread url\ncase \"$url\" in\n  registry.example) echo '{\"ServerURL\":\"registry.example\",\"Username\":\"alice\",\"Secret\":\"s3cret\"}' ;;\n  tok.example) echo '{\"ServerURL\":\"tok.example\",\"Username\":\"<token>\",\"Secret\":\"rt\"}' ;;\n  *) echo 'credentials not found in native keychain'; exit 1 ;;\nesac\n",
        )?;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755))?;
        let c = config(r#"{"credsStore":"test","credHelpers":{"tok.example":"test"}}"#)
            .with_helper_dir(dir.path());
        assert_eq!(
            c.credential_for("registry.example")?,
            Some(Credential::Basic {
                username: "alice".into(),
                password: "s3cret".into()
            })
        );
        assert_eq!(
            c.credential_for("tok.example")?,
            Some(Credential::IdentityToken("rt".into()))
        );
        assert_eq!(c.credential_for("none.example")?, None);
        Ok(())
    }
}
