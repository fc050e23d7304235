//! Test set-up: a real registry (Debian's `docker-registry`, distribution
//! 2.8) on loopback, started per test and stopped when dropped; a tiny HTTP
//! server for canned answers (a token endpoint, a misbehaving registry);
//! and helpers that write small test images.
//!
//! Without `docker-registry` the registry tests print `SKIPPED:` and pass,
//! unless `PALISADE_REQUIRE_REGISTRY=1`, where they fail.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use palisade_oci::manifest::{Descriptor, ImageIndex, ImageManifest, media};
use palisade_oci::{Client, ClientOptions, Digest, DockerConfigSource, Reference};

/// Whether a missing tool fails the test instead of skipping it.
pub fn required() -> bool {
    std::env::var("PALISADE_REQUIRE_REGISTRY").is_ok_and(|v| v == "1")
}

/// Skips (returns `None` after a visible `SKIPPED:` line) or fails when
/// `what` is missing.
pub fn missing<T>(test: &str, what: &str) -> Option<T> {
    if required() {
        panic!("{test}: {what} (PALISADE_REQUIRE_REGISTRY=1)");
    }
    // Written to the process's stderr directly, past the test harness's
    // capture, so that a skip is seen in every run.
    let _ = writeln!(std::io::stderr(), "SKIPPED: {test}: {what}");
    None
}

fn find_program(name: &str, env: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        // An override that names nothing means "not installed".
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The registry binary, if installed.
pub fn registry_binary() -> Option<PathBuf> {
    find_program("docker-registry", "PALISADE_DOCKER_REGISTRY")
}

/// A free loopback port.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// How the registry authenticates.
pub enum Auth {
    None,
    /// An htpasswd file (bcrypt).
    Htpasswd(PathBuf),
    /// The token flow.
    Token {
        realm: String,
        service: String,
        issuer: String,
        root_cert: PathBuf,
    },
}

/// A running registry; stopped (killed and reaped) on drop.
pub struct Registry {
    child: Child,
    pub dir: tempfile::TempDir,
    /// `127.0.0.1:<port>`.
    pub addr: String,
}

impl Registry {
    /// Starts the registry, or skips the test (`None`).
    pub fn start(test: &str, auth: Auth) -> Option<Registry> {
        let Some(bin) = registry_binary() else {
            return missing(
                test,
                "docker-registry is not installed (apt-get install -y docker-registry)",
            );
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let auth_yaml = match &auth {
            Auth::None => String::new(),
            Auth::Htpasswd(file) => format!(
                "auth:\n  htpasswd:\n    realm: palisade-test\n    path: {}\n",
                file.display()
            ),
            Auth::Token {
                realm,
                service,
                issuer,
                root_cert,
            } => format!(
                "auth:\n  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    rootcertbundle: {}\n",
                root_cert.display()
            ),
        };
        let config = format!(
            "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n  secret: palisade-test-secret\n{auth_yaml}",
            dir.path().join("data").display()
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).expect("write config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("log");
        let child = Command::new(&bin)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut registry = Registry { child, dir, addr };
        registry.wait_ready();
        Some(registry)
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "docker-registry exited ({status}) before answering:\n{}",
                    self.log()
                );
            }
            if let Ok(mut s) = TcpStream::connect(&self.addr) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let _ = s.write_all(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                let mut buf = String::new();
                let _ = s.read_to_string(&mut buf);
                if buf.starts_with("HTTP/1.1 200") || buf.starts_with("HTTP/1.1 401") {
                    return;
                }
            }
            if Instant::now() > deadline {
                panic!("docker-registry did not answer in 20 s:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The registry's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// A reference in this registry.
    pub fn reference(&self, repo_and_tag: &str) -> Reference {
        Reference::parse(&format!("{}/{repo_and_tag}", self.addr)).expect("reference")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client that reads no Docker configuration of the person running the
/// tests.
pub fn client() -> Client {
    Client::new(ClientOptions {
        docker_config: DockerConfigSource::Disabled,
        timeout: Duration::from_secs(20),
        ..ClientOptions::default()
    })
    .expect("client")
}

/// A client whose credentials come from a Docker configuration written to
/// `dir`.
pub fn client_with_docker_config(dir: &Path, config: &serde_json::Value) -> Client {
    let path = dir.join("config.json");
    std::fs::write(&path, serde_json::to_vec(config).expect("json")).expect("write");
    Client::new(ClientOptions {
        docker_config: DockerConfigSource::Path(path),
        timeout: Duration::from_secs(20),
        ..ClientOptions::default()
    })
    .expect("client")
}

/// A Docker configuration with basic credentials for `registry`.
pub fn docker_config_for(registry: &str, user: &str, password: &str) -> serde_json::Value {
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    serde_json::json!({"auths": {format!("http://{registry}"): {"auth": auth}}})
}

/// Pushes a small OCI image (config blob, one layer, manifest) under `tag`;
/// returns the manifest bytes and descriptor.
pub fn push_image(
    client: &Client,
    image: &Reference,
    tag: &str,
    seed: &str,
) -> (Vec<u8>, Descriptor) {
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": {"seed": seed}},
        "rootfs": {"type": "layers", "diff_ids": []},
    }))
    .expect("json");
    let config = client
        .push_blob(image, media::OCI_CONFIG, &config)
        .expect("push config");
    let layer = client
        .push_blob(
            image,
            media::OCI_LAYER_GZIP,
            format!("layer of {seed}").as_bytes(),
        )
        .expect("push layer");
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.into()),
        artifact_type: None,
        config,
        layers: vec![layer],
        subject: None,
        annotations: BTreeMap::new(),
    };
    let bytes = serde_json::to_vec_pretty(&manifest).expect("json");
    let pushed = client
        .push_manifest(image, tag, media::OCI_MANIFEST, &bytes)
        .expect("push manifest");
    (bytes, pushed.descriptor)
}

/// Pushes an OCI index of `manifests` under `tag`.
pub fn push_index(
    client: &Client,
    image: &Reference,
    tag: &str,
    manifests: Vec<Descriptor>,
) -> (Vec<u8>, Descriptor) {
    let mut index = ImageIndex::new();
    index.manifests = manifests;
    let bytes = serde_json::to_vec(&index).expect("json");
    let pushed = client
        .push_manifest(image, tag, media::OCI_INDEX, &bytes)
        .expect("push index");
    (bytes, pushed.descriptor)
}

/// A layer: content, media type, annotations.
pub type CosignLayer<'a> = (&'a [u8], &'a str, &'a [(&'a str, &'a str)]);

/// Pushes an artifact in cosign's layout under `tag`: an image config and
/// the given layers (content, media type, annotations).
pub fn push_cosign_artifact(
    client: &Client,
    image: &Reference,
    tag: &str,
    layers: &[CosignLayer<'_>],
) -> Descriptor {
    let mut descs = Vec::new();
    for (content, media_type, annotations) in layers {
        let mut d = client
            .push_blob(image, media_type, content)
            .expect("push layer");
        for (k, v) in *annotations {
            d.annotations.insert((*k).into(), (*v).into());
        }
        descs.push(d);
    }
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "", "os": "", "config": {},
        "rootfs": {"type": "layers", "diff_ids": descs.iter().map(|d| d.digest.to_string()).collect::<Vec<_>>()},
    }))
    .expect("json");
    let config = client
        .push_blob(image, media::OCI_CONFIG, &config)
        .expect("push config");
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.into()),
        artifact_type: None,
        config,
        layers: descs,
        subject: None,
        annotations: BTreeMap::new(),
    };
    let bytes = serde_json::to_vec(&manifest).expect("json");
    client
        .push_manifest(image, tag, media::OCI_MANIFEST, &bytes)
        .expect("push cosign manifest")
        .descriptor
}

/// A canned HTTP request as the tiny server saw it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// A canned answer.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }
    pub fn header(mut self, k: &str, v: &str) -> Answer {
        self.headers.push((k.into(), v.into()));
        self
    }
}

type Handler = dyn Fn(&Request) -> Answer + Send + Sync;

/// A tiny HTTP/1.1 server on loopback (one request per connection); stops
/// on drop.
pub struct TinyServer {
    pub addr: String,
    stop: Arc<AtomicBool>,
    pub seen: Arc<Mutex<Vec<Request>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TinyServer {
    pub fn start(handler: Box<Handler>) -> TinyServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr").to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (stop2, seen2) = (stop.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            while !stop2.load(Ordering::SeqCst) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        if let Some(req) = serve_one(stream, &*handler) {
                            seen2.lock().expect("lock").push(req);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        TinyServer {
            addr,
            stop,
            seen,
            thread: Some(thread),
        }
    }
}

impl Drop for TinyServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_one(stream: TcpStream, handler: &Handler) -> Option<Request> {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    let req = Request {
        method,
        target,
        headers,
        body,
    };
    let answer = handler(&req);
    let mut out = stream;
    let reason = match answer.status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Status",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n",
        answer.status,
        answer.body.len()
    );
    for (k, v) in &answer.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = out.write_all(head.as_bytes());
    if req.method != "HEAD" {
        let _ = out.write_all(&answer.body);
    }
    let _ = out.flush();
    Some(req)
}

/// Decodes `%XX` and `+` in a query value.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => out.push(b),
                    Err(_) => out.extend_from_slice(&bytes[i..i + 3]),
                }
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query parameters of a request target (repeated keys kept).
pub fn query(target: &str) -> Vec<(String, String)> {
    target
        .split_once('?')
        .map(|(_, q)| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (percent_decode(k), percent_decode(v)))
                .collect()
        })
        .unwrap_or_default()
}

/// The digest of bytes, as text.
pub fn sha256(bytes: &[u8]) -> String {
    Digest::sha256(bytes).to_string()
}
