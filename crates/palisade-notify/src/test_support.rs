//! A local HTTP/1.1 receiver for tests (feature `test-support`): it
//! answers a script of replies and records every request, so that the
//! delivery tests here and the server's notification tests check what
//! really went over the wire.

#![allow(clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// What the receiver answers to one request.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// How long to wait before answering.
    pub delay: Duration,
}

/// A reply with `status`, no headers, at once.
pub fn reply(status: u16) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        delay: Duration::ZERO,
    }
}

/// A request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    /// When it arrived.
    pub at: Instant,
    /// The request path.
    pub path: String,
    /// The headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Received {
    /// A header's value (names compared without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The body as JSON (`null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// A tiny HTTP/1.1 server on 127.0.0.1 that answers with `script` in order
/// (then 200) and records every request.
#[derive(Debug)]
pub struct Receiver {
    addr: SocketAddr,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    /// Starts a receiver answering with `script` (then 200).
    pub fn start(script: Vec<Reply>) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("test receiver");
        let addr = listener.local_addr().expect("test receiver");
        let got = Arc::new(Mutex::new(Vec::new()));
        let got2 = got.clone();
        let script = Arc::new(Mutex::new(script));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let got = got2.clone();
                let script = script.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().expect("test receiver"));
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
                    let mut headers = Vec::new();
                    loop {
                        let mut h = String::new();
                        reader.read_line(&mut h).expect("test receiver");
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':') {
                            headers.push((k.trim().to_owned(), v.trim().to_owned()));
                        }
                    }
                    let len: usize = headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                        .map(|(_, v)| v.parse().expect("test receiver"))
                        .unwrap_or(0);
                    let mut body = vec![0; len];
                    reader.read_exact(&mut body).expect("test receiver");
                    got.lock().expect("test receiver").push(Received {
                        at: Instant::now(),
                        path,
                        headers,
                        body,
                    });
                    let r = {
                        let mut s = script.lock().expect("test receiver");
                        if s.is_empty() {
                            reply(200)
                        } else {
                            s.remove(0)
                        }
                    };
                    std::thread::sleep(r.delay);
                    let mut out = format!(
                        "HTTP/1.1 {} X\r\nContent-Length: 2\r\nConnection: close\r\n",
                        r.status
                    );
                    for (k, v) in &r.headers {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                    out.push_str("\r\nok");
                    let _ = stream.write_all(out.as_bytes());
                });
            }
        });
        Receiver { addr, got }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of `path` on the receiver.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The requests to `path` so far.
    pub fn on(&self, path: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.got.lock().expect("test receiver").clone()
    }
}
