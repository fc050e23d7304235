//! When to try a delivery again, and after how long.
//!
//! Retried: 5xx responses, 429 (after its `Retry-After`), timeouts and
//! connection failures. Not retried: 2xx (done), 3xx (redirects are not
//! followed), other 4xx, refused targets. The wait before retry `n` (from
//! 0) is `base * 2^n`, capped at `max_delay`, less a random part of up to
//! `jitter` of it (so receivers coming back up are not hit in lock-step);
//! a `Retry-After` on 429 or 503 replaces it, up to `max_retry_after`
//! (longer, and the delivery gives up).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::http::{HttpResponse, SendError};

/// How deliveries are retried.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Attempts in all (the first included).
    pub max_attempts: u32,
    /// The first wait.
    pub base_delay: Duration,
    /// The longest wait.
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured.
    pub max_retry_after: Duration,
    /// The random part of each wait, 0 to 1.
    pub jitter: f64,
}

impl Default for RetryPolicy {
    /// 5 attempts; waits of about 1, 2, 4 and 8 s; `Retry-After` up to
    /// 2 minutes.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(120),
            jitter: 0.25,
        }
    }
}

/// What to do after an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Delivered.
    Delivered,
    /// Try again; the receiver asked for this wait (`Retry-After`).
    Retry(Option<Duration>),
    /// Give up: it will not get better.
    Permanent(String),
}

impl RetryPolicy {
    /// The wait before retry `retry` (0 for the first retry), with
    /// `random` in `[0, 1)` for the jitter.
    pub fn backoff(&self, retry: u32, random: f64) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32.checked_shl(retry.min(30)).unwrap_or(u32::MAX));
        let capped = exp.min(self.max_delay);
        let jitter = self.jitter.clamp(0.0, 1.0) * random.clamp(0.0, 1.0);
        capped.mul_f64(1.0 - jitter)
    }
}

/// Classifies the outcome of one attempt.
pub fn classify(result: &Result<HttpResponse, SendError>, now_secs: i64) -> Verdict {
    match result {
        Ok(r) if (200..300).contains(&r.status) => Verdict::Delivered,
        Ok(r) if (300..400).contains(&r.status) => Verdict::Permanent(format!(
            "HTTP {}: redirects are not followed{}",
            r.status,
            r.location
                .as_deref()
                .map(|l| format!(" (to {})", crate::net::redact_url(l)))
                .unwrap_or_default()
        )),
        Ok(r) if r.status == 429 || r.status == 503 => Verdict::Retry(
            r.retry_after
                .as_deref()
                .and_then(|v| parse_retry_after(v, now_secs)),
        ),
        Ok(r) if r.status >= 500 => Verdict::Retry(None),
        Ok(r) => Verdict::Permanent(format!("HTTP {}: not retried", r.status)),
        Err(e) if e.retryable() => Verdict::Retry(None),
        Err(e) => Verdict::Permanent(e.to_string()),
    }
}

/// Parses a `Retry-After` value: delay-seconds, or an HTTP date
/// (`Sun, 06 Nov 1994 08:49:37 GMT`) relative to `now_secs`.
pub fn parse_retry_after(value: &str, now_secs: i64) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(v, &format).ok()?;
    let at = at.assume_utc().unix_timestamp();
    Some(Duration::from_secs(
        u64::try_from(at.saturating_sub(now_secs)).unwrap_or(0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, retry_after: Option<&str>) -> Result<HttpResponse, SendError> {
        Ok(HttpResponse {
            status,
            retry_after: retry_after.map(str::to_owned),
            location: None,
            body: String::new(),
        })
    }

    #[test]
    fn classifies() {
        assert_eq!(classify(&resp(204, None), 0), Verdict::Delivered);
        assert_eq!(classify(&resp(500, None), 0), Verdict::Retry(None));
        assert_eq!(classify(&resp(502, None), 0), Verdict::Retry(None));
        assert_eq!(
            classify(&resp(429, Some("3")), 0),
            Verdict::Retry(Some(Duration::from_secs(3)))
        );
        assert!(matches!(
            classify(&resp(400, None), 0),
            Verdict::Permanent(_)
        ));
        assert!(matches!(
            classify(&resp(404, None), 0),
            Verdict::Permanent(_)
        ));
        assert!(matches!(
            classify(&resp(408, None), 0),
            Verdict::Permanent(_)
        ));
        assert!(matches!(
            classify(&resp(302, None), 0),
            Verdict::Permanent(_)
        ));
        assert_eq!(
            classify(&Err(SendError::Timeout("x".into())), 0),
            Verdict::Retry(None)
        );
        assert_eq!(
            classify(&Err(SendError::Connect("x".into())), 0),
            Verdict::Retry(None)
        );
        assert!(matches!(
            classify(&Err(SendError::Refused("x".into())), 0),
            Verdict::Permanent(_)
        ));
    }

    #[test]
    fn backoff_grows_caps_and_jitters() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
            jitter: 0.5,
            ..RetryPolicy::default()
        };
        assert_eq!(p.backoff(0, 0.0), Duration::from_millis(100));
        assert_eq!(p.backoff(1, 0.0), Duration::from_millis(200));
        assert_eq!(p.backoff(2, 0.0), Duration::from_millis(400));
        assert_eq!(p.backoff(3, 0.0), Duration::from_millis(500));
        assert_eq!(p.backoff(40, 0.0), Duration::from_millis(500));
        assert_eq!(p.backoff(1, 1.0), Duration::from_millis(100));
        let j = p.backoff(2, 0.5);
        assert!(j >= Duration::from_millis(200) && j <= Duration::from_millis(400));
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("120", 0), Some(Duration::from_secs(120)));
        // 1994-11-06T08:49:37Z is 784111777.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_770),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_800),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", 0), None);
    }
}
