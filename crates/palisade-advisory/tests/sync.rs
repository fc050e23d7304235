//! `db sync` downloads against a local HTTP server started by the test:
//! a full download, a `304 Not Modified` on the second run (ETag and
//! Last-Modified), a transfer cut half-way and resumed with `Range`, a
//! changed export replacing the partial file, and errors.

#![cfg(feature = "sync")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use palisade_advisory::sync::{Downloader, Outcome, SyncState};
use palisade_advisory::{AdvisoryStore, Source};

/// What the server serves and how it misbehaves.
#[derive(Clone, Debug, Default)]
struct Served {
    body: Vec<u8>,
    etag: String,
    /// Cut the next full response after this many body bytes.
    cut_after: Option<usize>,
    /// Every request's headers, lower-cased, for assertions.
    log: Vec<Vec<(String, String)>>,
}

fn serve(state: Arc<Mutex<Served>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut headers = Vec::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some((k, v)) = line.split_once(':') {
                    headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
                }
            }
            let mut s = state.lock().unwrap();
            s.log.push(headers.clone());
            let get = |name: &str| {
                headers
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            };
            let last_modified = "Wed, 21 Oct 2026 07:28:00 GMT";
            let path = request_line.split_whitespace().nth(1).unwrap_or("");
            let response: Vec<u8> = if !path.ends_with("/npm/all.zip") {
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
            } else if get("if-none-match").as_deref() == Some(s.etag.as_str()) {
                format!(
                    "HTTP/1.1 304 Not Modified\r\nETag: {}\r\nConnection: close\r\n\r\n",
                    s.etag
                )
                .into_bytes()
            } else if let (Some(range), true) =
                (get("range"), get("if-range").is_none_or(|v| v == s.etag))
            {
                let start: usize = range
                    .trim_start_matches("bytes=")
                    .trim_end_matches('-')
                    .parse()
                    .unwrap();
                let total = s.body.len();
                if start >= total {
                    format!("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{total}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").into_bytes()
                } else {
                    let mut r = format!(
                        "HTTP/1.1 206 Partial Content\r\nETag: {}\r\nLast-Modified: {last_modified}\r\nContent-Range: bytes {start}-{}/{total}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        s.etag,
                        total - 1,
                        total - start
                    )
                    .into_bytes();
                    r.extend_from_slice(&s.body[start..]);
                    r
                }
            } else {
                let mut r = format!(
                    "HTTP/1.1 200 OK\r\nETag: {}\r\nLast-Modified: {last_modified}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    s.etag,
                    s.body.len()
                )
                .into_bytes();
                match s.cut_after.take() {
                    Some(n) => r.extend_from_slice(&s.body[..n]),
                    None => r.extend_from_slice(&s.body),
                }
                r
            };
            drop(s);
            let _ = stream.write_all(&response);
            let _ = stream.flush();
            // Drain what the client may still send, then close.
            let _ = stream.shutdown(std::net::Shutdown::Write);
            let mut sink = [0u8; 64];
            let _ = reader.get_mut().read(&mut sink);
        }
    });
    format!("http://{addr}")
}

fn export_zip(ids: &[&str]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default();
        for id in ids {
            w.start_file(format!("{id}.json"), opts).unwrap();
            // Padding makes the archive large enough to cut in the middle.
            let details = "x".repeat(4000);
            write!(
                w,
                r#"{{"id":"{id}","modified":"2026-10-01T00:00:00Z","details":"{details}","affected":[{{"package":{{"ecosystem":"npm","name":"left-pad"}},"ranges":[{{"type":"SEMVER","events":[{{"introduced":"0"}},{{"fixed":"1.3.0"}}]}}]}}]}}"#
            )
            .unwrap();
        }
        w.finish().unwrap();
    }
    buf.into_inner()
}

#[test]
fn download_not_modified_resume_and_import() {
    let served = Arc::new(Mutex::new(Served {
        body: export_zip(&["NPM-1", "NPM-2", "NPM-3"]),
        etag: "\"v1\"".into(),
        ..Default::default()
    }));
    let base = serve(served.clone());
    let tmp = tempfile::tempdir().unwrap();
    let downloads = tmp.path().join("downloads");
    let d = Downloader::new(&base, &downloads);

    // 1. A full download.
    let mut seen = 0;
    let out = d.fetch("npm", &mut |done, _| seen = done).unwrap();
    let size = served.lock().unwrap().body.len() as u64;
    assert_eq!(
        out,
        Outcome::Downloaded {
            bytes: size,
            resumed_from: 0
        }
    );
    assert_eq!(seen, size);
    let state = SyncState::load(&downloads);
    assert_eq!(state.exports["npm"].etag.as_deref(), Some("\"v1\""));

    // 2. Unchanged: a conditional request and a 304.
    assert_eq!(
        d.fetch("npm", &mut |_, _| {}).unwrap(),
        Outcome::NotModified
    );
    {
        let s = served.lock().unwrap();
        let last = s.log.last().unwrap();
        assert!(
            last.iter()
                .any(|(k, v)| k == "if-none-match" && v == "\"v1\"")
        );
        assert!(last.iter().any(|(k, _)| k == "if-modified-since"));
    }

    // 3. A new export, cut half-way: the error says to resume, the complete
    //    old export stays, and the next run resumes with Range.
    {
        let mut s = served.lock().unwrap();
        s.body = export_zip(&["NPM-1", "NPM-2", "NPM-3", "NPM-4"]);
        s.etag = "\"v2\"".into();
        s.cut_after = Some(s.body.len() / 2);
    }
    let err = d.fetch("npm", &mut |_, _| {}).unwrap_err().to_string();
    assert!(err.contains("resume"), "{err}");
    let old = std::fs::read(d.zip_path("npm")).unwrap();
    assert_eq!(old.len() as u64, size);
    let half = (served.lock().unwrap().body.len() / 2) as u64;
    let out = d.fetch("npm", &mut |_, _| {}).unwrap();
    let new_size = served.lock().unwrap().body.len() as u64;
    assert_eq!(
        out,
        Outcome::Downloaded {
            bytes: new_size,
            resumed_from: half
        }
    );
    {
        let s = served.lock().unwrap();
        let last = s.log.last().unwrap();
        assert!(
            last.iter()
                .any(|(k, v)| k == "range" && *v == format!("bytes={half}-"))
        );
        assert!(last.iter().any(|(k, v)| k == "if-range" && v == "\"v2\""));
    }
    assert_eq!(
        std::fs::read(d.zip_path("npm")).unwrap(),
        served.lock().unwrap().body
    );

    // 4. The downloaded export imports.
    let mut store = AdvisoryStore::open(&tmp.path().join("store")).unwrap();
    let r = store
        .import(&[Source::open(&d.zip_path("npm")).unwrap()], &mut |_| {})
        .unwrap();
    assert_eq!((r.counts.new, r.counts.rejected), (4, 0));
}

#[test]
fn a_changed_export_restarts_a_partial_download() {
    let served = Arc::new(Mutex::new(Served {
        body: export_zip(&["NPM-1", "NPM-2"]),
        etag: "\"a\"".into(),
        ..Default::default()
    }));
    let base = serve(served.clone());
    let tmp = tempfile::tempdir().unwrap();
    let d = Downloader::new(&base, tmp.path());
    {
        let mut s = served.lock().unwrap();
        s.cut_after = Some(s.body.len() / 3);
    }
    assert!(d.fetch("npm", &mut |_, _| {}).is_err());
    // The export changes before the resume: If-Range fails, a full 200 comes.
    {
        let mut s = served.lock().unwrap();
        s.body = export_zip(&["NPM-1", "NPM-2", "NPM-9"]);
        s.etag = "\"b\"".into();
    }
    let out = d.fetch("npm", &mut |_, _| {}).unwrap();
    let size = served.lock().unwrap().body.len() as u64;
    assert_eq!(
        out,
        Outcome::Downloaded {
            bytes: size,
            resumed_from: 0
        }
    );
    assert_eq!(
        std::fs::read(d.zip_path("npm")).unwrap(),
        served.lock().unwrap().body
    );
}

#[test]
fn http_errors_are_reported() {
    let served = Arc::new(Mutex::new(Served::default()));
    let base = serve(served);
    let tmp = tempfile::tempdir().unwrap();
    let d = Downloader::new(&base, tmp.path());
    let err = d.fetch("PyPI", &mut |_, _| {}).unwrap_err().to_string();
    assert!(err.contains("404"), "{err}");
    assert!(err.contains("/PyPI/all.zip"), "{err}");
    // Nothing listens here.
    let d = Downloader::new("http://127.0.0.1:9", tmp.path());
    assert!(d.fetch("npm", &mut |_, _| {}).is_err());
}
