//! The page shell (skip link, navigation, who is signed in) and the small
//! pieces every page uses: times, digests, badges, links to findings.

use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use palisade_risk::Priority;

use crate::auth::{CSRF_FIELD, Viewer};

/// Renders markup as an HTML response.
pub fn render(m: Markup) -> Response {
    Html(m.into_string()).into_response()
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · Palisade" }
            link rel="stylesheet" href="/assets/portal.css";
        }
    }
}

/// Which navigation entry is current.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Teams,
    Workloads,
    Findings,
    Exceptions,
    Decisions,
    Search,
}

/// A full page for a signed-in viewer.
pub fn page(viewer: &Viewer, title: &str, nav: Nav, body: Markup) -> Response {
    let s = &viewer.session;
    let item = |n: Nav, href: &str, label: &str| {
        html! {
            li { a href=(href) aria-current=[(n == nav).then_some("page")] { (label) } }
        }
    };
    render(html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                a.skip href="#main" { "Skip to main content" }
                header.top {
                    a.brand href="/" { "Palisade" }
                    nav aria-label="Main" {
                        ul {
                            (item(Nav::Overview, "/", "Overview"))
                            (item(Nav::Teams, "/teams", "Teams"))
                            (item(Nav::Workloads, "/workloads", "Workloads"))
                            (item(Nav::Findings, "/findings", "Findings"))
                            (item(Nav::Exceptions, "/exceptions", "Exceptions"))
                            (item(Nav::Decisions, "/decisions", "Policy decisions"))
                        }
                    }
                    form.search role="search" action="/search" method="get" {
                        label for="q-top" class="visually-hidden" { "Search workloads, packages and advisories" }
                        input id="q-top" type="search" name="q" placeholder="Search workloads, packages, advisories";
                        button type="submit" { "Search" }
                    }
                    div.who {
                        span data-testid="who" {
                            (s.display_name) " · " (s.role.as_str())
                            @if let Some(t) = &s.team_name { " · team " (t) }
                        }
                        form method="post" action="/logout" {
                            (csrf(viewer))
                            button.link type="submit" { "Sign out" }
                        }
                    }
                }
                main id="main" tabindex="-1" {
                    (body)
                }
                footer { "Palisade · every number links to the findings behind it · times in UTC" }
            }
        }
    })
}

/// A page without navigation (errors).
pub fn bare_page(title: &str, message: &str) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                (head(title))
                body {
                    a.skip href="#main" { "Skip to main content" }
                    main id="main" tabindex="-1" class="narrow" {
                        h1 { (title) }
                        p.error role="alert" { (message) }
                        p { a href="/" { "Back to the overview" } }
                    }
                }
            }
        }
        .into_string(),
    )
}

/// The sign-in page.
pub fn login_page(token: &str, next: &str, error: Option<&str>) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                (head("Sign in"))
                body {
                    a.skip href="#main" { "Skip to main content" }
                    main id="main" tabindex="-1" class="narrow" {
                        h1 { "Sign in to Palisade" }
                        @if let Some(e) = error { p.error role="alert" { (e) } }
                        form.card method="post" action="/login" {
                            h2 { "With your username" }
                            input type="hidden" name=(CSRF_FIELD) value=(token);
                            input type="hidden" name="next" value=(next);
                            p {
                                label for="username" { "Username" }
                                input id="username" name="username" autocomplete="username" required autofocus;
                            }
                            p {
                                label for="password" { "Password" }
                                input id="password" name="password" type="password" autocomplete="current-password" required;
                            }
                            button type="submit" { "Sign in" }
                        }
                        form.card method="post" action="/login" {
                            h2 { "With an API token" }
                            input type="hidden" name=(CSRF_FIELD) value=(token);
                            input type="hidden" name="next" value=(next);
                            p {
                                label for="token" { "API token" }
                                input id="token" name="token" type="password" autocomplete="off" required;
                            }
                            button type="submit" { "Sign in with token" }
                        }
                    }
                }
            }
        }
        .into_string(),
    )
}

/// The hidden CSRF field of a form.
pub fn csrf(viewer: &Viewer) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(viewer.csrf()); }
}

/// `2026-11-25 09:30 UTC`.
pub fn when(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// `3 days ago`, `in 5 days`, `just now`.
pub fn ago(now: i64, ms: i64) -> String {
    let d = now - ms;
    let (abs, future) = (d.unsigned_abs(), d < 0);
    let minute = 60_000u64;
    let text = match abs {
        a if a < minute => return "just now".to_owned(),
        a if a < 60 * minute => plural(a / minute, "minute"),
        a if a < 48 * 60 * minute => plural(a / (60 * minute), "hour"),
        a => plural(a / (24 * 60 * minute), "day"),
    };
    if future {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

/// `1 finding`, `2 findings`.
pub fn plural(n: impl Into<u64>, word: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// A time with its relative form as a tooltip-free, readable pair.
pub fn time_el(now: i64, ms: i64) -> Markup {
    html! { time datetime=(when(ms)) { (ago(now, ms)) } span.muted { " (" (when(ms)) ")" } }
}

/// `sha256:1b6f0c1a9f6a…` with the whole digest available to copy.
pub fn digest(d: &str) -> Markup {
    let short: String = d.chars().take(19).collect();
    html! { code.digest title=(d) { (short) "…" } }
}

/// A priority badge.
pub fn priority(p: Priority) -> Markup {
    html! { span class=(format!("badge {}", p.as_str().to_ascii_lowercase())) { (p.as_str()) " " span.muted { (p.label()) } } }
}

/// A severity badge.
pub fn severity(s: &str) -> Markup {
    html! { span class=(format!("badge sev-{}", css_word(s))) { (s) } }
}

/// A triage state badge.
pub fn state(s: &str) -> Markup {
    html! { span class=(format!("badge state-{}", css_word(s))) { (s.replace('_', " ")) } }
}

/// A policy outcome badge.
pub fn outcome(s: &str) -> Markup {
    html! { span class=(format!("badge outcome-{}", css_word(s))) { (s) } }
}

/// A word safe as a CSS class part.
fn css_word(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(32)
        .collect()
}

/// A count that links to what it counts. Zero is shown plainly.
pub fn count(n: usize, href: &str, label: &str) -> Markup {
    html! {
        @if n == 0 {
            span.zero aria-label=(format!("0 {label}")) { "0" }
        } @else {
            a.count href=(href) aria-label=(format!("{n} {label}")) { (n) }
        }
    }
}

/// A URL-encoded path segment.
pub fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A link only when the URL is http(s); anything else is shown as text.
pub fn external(url: &str) -> Markup {
    let lower = url.trim().to_ascii_lowercase();
    html! {
        @if lower.starts_with("https://") || lower.starts_with("http://") {
            a href=(url.trim()) rel="noopener noreferrer nofollow" { (url) }
        } @else {
            span { (url) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_segments() {
        assert_eq!(when(0), "1970-01-01 00:00 UTC");
        assert_eq!(ago(3 * 86_400_000, 0), "3 days ago");
        assert_eq!(ago(0, 2 * 3_600_000), "in 2 hours");
        assert_eq!(seg("a b/<c>"), "a%20b%2F%3Cc%3E");
        assert!(
            external("javascript:alert(1)")
                .into_string()
                .starts_with("<span>")
        );
    }
}
