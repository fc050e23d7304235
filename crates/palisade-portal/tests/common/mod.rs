//! An in-process server with the portal over a test store, and a small
//! cookie-keeping HTTP client that behaves like a browser without script.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use palisade_portal::PortalConfig;
use palisade_server::{AppState, bind, serve_with};
use palisade_store::Store;

/// A running server.
pub struct Running {
    pub base: String,
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<()>,
}

impl Running {
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = self.handle.await;
    }
}

/// Seeds the demo organisation (users, tokens, evidence) and records the
/// policy decisions of what runs.
pub async fn seed_demo(state: &AppState) {
    palisade_server::sync_environments(&state.store, &state.engine, &["prod".to_owned()])
        .await
        .unwrap();
    palisade_server::demo::seed(&state.store).await.unwrap();
    palisade_server::worker::audit(state).await.unwrap();
}

/// A server with the portal over `store`, demo data seeded.
pub async fn start_demo(store: Store, config: PortalConfig) -> Running {
    let state = AppState::new(store).unwrap();
    seed_demo(&state).await;
    start(state, config).await
}

/// A server with the portal over `state`.
pub async fn start(state: AppState, config: PortalConfig) -> Running {
    let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let st = state.clone();
    let handle = tokio::spawn(async move {
        serve_with(
            listener,
            st,
            palisade_portal::routes_with(config),
            async {
                let _ = rx.await;
            },
            Duration::from_secs(5),
            None,
        )
        .await
        .unwrap();
    });
    Running {
        base,
        state,
        stop: Some(tx),
        handle,
    }
}

/// A response.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
}

/// A client that keeps cookies, follows nothing by itself.
#[derive(Debug, Clone)]
pub struct Client {
    pub base: String,
    pub cookies: BTreeMap<String, String>,
    pub headers: Vec<(String, String)>,
}

impl Client {
    pub fn new(base: &str) -> Client {
        Client {
            base: base.to_owned(),
            cookies: BTreeMap::new(),
            headers: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn request(&mut self, method: &str, path: &str, form: Option<String>) -> Resp {
        let url = format!("{}{path}", self.base);
        let cookie = self.cookie_header();
        let method = method.to_owned();
        let headers = self.headers.clone();
        let resp = tokio::task::spawn_blocking(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .build()
                .into();
            let mut req = ureq::http::Request::builder()
                .method(method.as_str())
                .uri(&url);
            if !cookie.is_empty() {
                req = req.header("Cookie", cookie);
            }
            for (k, v) in &headers {
                req = req.header(k.as_str(), v.as_str());
            }
            let resp = match form {
                Some(body) => agent
                    .run(
                        req.header("Content-Type", "application/x-www-form-urlencoded")
                            .body(body.into_bytes())
                            .unwrap(),
                    )
                    .unwrap(),
                None => agent.run(req.body(()).unwrap()).unwrap(),
            };
            let status = resp.status().as_u16();
            let location = resp
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_owned());
            let set_cookies: Vec<String> = resp
                .headers()
                .get_all("set-cookie")
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect();
            let body = resp.into_body().read_to_string().unwrap_or_default();
            Resp {
                status,
                location,
                set_cookies,
                body,
            }
        })
        .await
        .unwrap();
        for c in &resp.set_cookies {
            let first = c.split(';').next().unwrap();
            let (k, v) = first.split_once('=').unwrap();
            if v.is_empty() || c.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        resp
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        self.request("GET", path, None).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = serde_urlencoded::to_string(fields).unwrap();
        self.request("POST", path, Some(body)).await
    }

    /// Signs in with a username and password; returns the sign-in response.
    pub async fn sign_in(&mut self, username: &str, password: &str) -> Resp {
        let page = self.get("/login").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let csrf = csrf_of(&page.body).expect("the sign-in form has a token");
        self.post(
            "/login",
            &[
                ("csrf", &csrf),
                ("username", username),
                ("password", password),
                ("next", "/"),
            ],
        )
        .await
    }

    /// Signs in as a demo user and checks it worked.
    pub async fn demo(base: &str, username: &str) -> Client {
        let mut c = Client::new(base);
        let r = c
            .sign_in(username, &format!("{username}-demo-password"))
            .await;
        assert_eq!(r.status, 303, "{username} cannot sign in: {}", r.body);
        c
    }

    /// The CSRF token of a page's first form.
    pub async fn csrf(&mut self, path: &str) -> String {
        let page = self.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        csrf_of(&page.body).expect("the page has a form with a token")
    }
}

/// The value of the first `name="csrf"` field.
pub fn csrf_of(html: &str) -> Option<String> {
    let i = html.find("name=\"csrf\" value=\"")?;
    let rest = &html[i + "name=\"csrf\" value=\"".len()..];
    Some(rest[..rest.find('"')?].to_owned())
}

/// Every `href` value in a page (HTML-unescaped).
pub fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|s| s.replace("&amp;", "&"))
        .collect()
}

/// The first link whose target starts with `prefix`.
pub fn first_link(html: &str, prefix: &str) -> Option<String> {
    links(html).into_iter().find(|l| l.starts_with(prefix))
}
