//! Refusing targets on private networks (SSRF protection).
//!
//! A target's URL is resolved here, every address it resolves to is
//! checked, and the connection is then made to those checked addresses
//! only (see [`crate::http`]): a DNS answer that changes between the check
//! and the connection (DNS rebinding) cannot move the request to another
//! address. A target is refused when any of its addresses is loopback,
//! private (RFC 1918), carrier-grade NAT (RFC 6598), link-local, unique
//! local (IPv6), unspecified, multicast, broadcast, reserved or
//! documentation space, including those addresses written inside IPv6
//! (IPv4-mapped, IPv4-compatible, NAT64, 6to4; Teredo is refused), unless
//! the target allows private addresses or the address is in the global
//! allow-list.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::NotifyError;

/// Why an address is not public, or `None` when it is.
pub fn non_public_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    let reason = match o {
        [0, ..] => "unspecified (0.0.0.0/8)",
        [10, ..] => "private (10.0.0.0/8)",
        [100, b, ..] if (64..128).contains(&b) => "carrier-grade NAT (100.64.0.0/10)",
        [127, ..] => "loopback (127.0.0.0/8)",
        [169, 254, ..] => "link-local (169.254.0.0/16)",
        [172, b, ..] if (16..32).contains(&b) => "private (172.16.0.0/12)",
        [192, 168, ..] => "private (192.168.0.0/16)",
        [192, 0, 0, _] => "IETF protocol assignments (192.0.0.0/24)",
        [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _] => "documentation",
        [198, b, ..] if b == 18 || b == 19 => "benchmarking (198.18.0.0/15)",
        [255, 255, 255, 255] => "broadcast",
        [a, ..] if a >= 240 => "reserved (240.0.0.0/4)",
        [a, ..] if (224..240).contains(&a) => "multicast (224.0.0.0/4)",
        _ => return None,
    };
    Some(reason)
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some("unspecified (::)");
    }
    if ip.is_loopback() {
        return Some("loopback (::1)");
    }
    // IPv4 written in IPv6: judge the IPv4 address.
    if let Some(v4) = embedded_v4(ip) {
        return v4_reason(v4);
    }
    let reason = match s[0] {
        x if x & 0xffc0 == 0xfe80 => "link-local (fe80::/10)",
        x if x & 0xffc0 == 0xfec0 => "site-local (fec0::/10)",
        x if x & 0xfe00 == 0xfc00 => "unique local (fc00::/7)",
        x if x & 0xff00 == 0xff00 => "multicast (ff00::/8)",
        0x2001 if s[1] == 0 => "Teredo (2001::/32)",
        0x2001 if s[1] == 0x0db8 => "documentation (2001:db8::/32)",
        0x0100 if s[1..4] == [0, 0, 0] => "discard (100::/64)",
        0 => "reserved (::/8)",
        _ => return None,
    };
    Some(reason)
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) or 6to4
/// (`2002:aabb:ccdd::`) address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if s[..5] == [0, 0, 0, 0, 0] && (s[5] == 0xffff || s[5] == 0) {
        return Some(tail(s[6], s[7]));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(tail(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return Some(tail(s[1], s[2]));
    }
    None
}

/// An address range (`10.0.0.0/8`, `fd00::/8`, or one address).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` is in the range (IPv4-mapped IPv6 addresses count as
    /// their IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map(IpAddr::V4)
                .unwrap_or(IpAddr::V6(v6)),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not an address or CIDR range (10.0.0.0/8, fd00::/8)");
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Cidr { addr, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl fmt::Debug for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Cidr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// What non-public addresses may be reached.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetPolicy {
    /// Any address (a target's `allow_private`).
    #[serde(default)]
    pub allow_private: bool,
    /// Ranges allowed although not public (the global allow-list).
    #[serde(default)]
    pub allow: Vec<Cidr>,
}

impl NetPolicy {
    /// Why `ip` may not be reached, or `None` when it may.
    pub fn refusal(&self, ip: IpAddr) -> Option<&'static str> {
        let reason = non_public_reason(ip)?;
        if self.allow_private || self.allow.iter().any(|c| c.contains(ip)) {
            None
        } else {
            Some(reason)
        }
    }
}

/// Resolves host names (the system resolver, or a fixed table in tests).
pub trait Resolve: Send + Sync + fmt::Debug {
    /// The addresses of `host` (a name, never an IP literal) on `port`.
    fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>>;
}

/// The system's resolver (`getaddrinfo`).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        Ok((host, port).to_socket_addrs()?.collect())
    }
}

/// A URL that passed the check, with the addresses to connect to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    /// The URL, normalised (how it is sent).
    pub url: url::Url,
    /// The host as written in the URL (a name or an IP literal).
    pub host: String,
    /// The checked addresses; the connection is made to these only.
    pub addrs: Vec<SocketAddr>,
}

/// Parses `url` (http or https only), resolves its host and checks every
/// address against `policy`.
pub fn check_url(
    url: &str,
    policy: &NetPolicy,
    resolver: &dyn Resolve,
) -> Result<Checked, NotifyError> {
    let parsed = url::Url::parse(url).map_err(|e| NotifyError::InvalidUrl {
        url: redact_url(url),
        reason: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(NotifyError::InvalidUrl {
            url: redact_url(url),
            reason: format!("scheme {:?} (only http and https)", parsed.scheme()),
        });
    }
    let port = parsed
        .port_or_known_default()
        .ok_or_else(|| NotifyError::InvalidUrl {
            url: redact_url(url),
            reason: "no port".into(),
        })?;
    let (host, addrs) = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => (ip.to_string(), vec![SocketAddr::new(IpAddr::V4(ip), port)]),
        Some(url::Host::Ipv6(ip)) => (
            format!("[{ip}]"),
            vec![SocketAddr::new(IpAddr::V6(ip), port)],
        ),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_owned();
            let addrs = resolver
                .resolve(&name, port)
                .map_err(|source| NotifyError::Resolve {
                    host: name.clone(),
                    source,
                })?;
            (name, addrs)
        }
        None => {
            return Err(NotifyError::InvalidUrl {
                url: redact_url(url),
                reason: "no host".into(),
            });
        }
    };
    if addrs.is_empty() {
        return Err(NotifyError::Resolve {
            host: host.clone(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no addresses"),
        });
    }
    for a in &addrs {
        if let Some(reason) = policy.refusal(a.ip()) {
            return Err(NotifyError::Refused {
                host,
                addr: a.ip(),
                reason,
            });
        }
    }
    Ok(Checked {
        url: parsed,
        host,
        addrs,
    })
}

/// Checks that `url` is an http or https URL with a host (without
/// resolving it: addresses are checked when a request is sent).
pub fn validate_url(url: &str) -> Result<(), String> {
    let u = url::Url::parse(url).map_err(|e| format!("url {}: {e}", redact_url(url)))?;
    if !matches!(u.scheme(), "http" | "https") || u.host().is_none() {
        return Err(format!(
            "url {}: an http or https URL with a host",
            redact_url(url)
        ));
    }
    Ok(())
}

/// The URL as shown to people: without password, query or fragment, or
/// only its origin when `origin_only` (a Slack webhook's path is its
/// secret).
pub fn shown_url(url: &str, origin_only: bool) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if !origin_only => {
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        _ => redact_url(url),
    }
}

/// The URL without its password, query or fragment (for messages: Slack
/// webhook paths are secrets too, so only the origin is kept).
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => {
            let origin = u.origin().ascii_serialization();
            if origin == "null" {
                "<invalid URL>".to_owned()
            } else {
                format!("{origin}/…")
            }
        }
        Err(_) => "<invalid URL>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(ip: &str) -> bool {
        non_public_reason(ip.parse().unwrap()).is_some()
    }

    #[test]
    fn classifies_v4() {
        for ip in [
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.2.7",
        ] {
            assert!(refused(ip), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "172.15.0.1",
            "172.32.0.1",
            "100.63.0.1",
            "100.128.0.1",
            "1.1.1.1",
        ] {
            assert!(!refused(ip), "{ip}");
        }
    }

    #[test]
    fn classifies_v6() {
        for ip in [
            "::",
            "::1",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::10.0.0.1",
            "2002:7f00:1::",
            "2001::1",
            "2001:db8::1",
        ] {
            assert!(refused(ip), "{ip}");
        }
        for ip in [
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:0808:0808::",
        ] {
            assert!(!refused(ip), "{ip}");
        }
    }

    #[test]
    fn cidrs() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains("10.9.9.9".parse().unwrap()));
        assert!(c.contains("::ffff:10.9.9.9".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        let one: Cidr = "127.0.0.1".parse().unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("1.2.3.4".parse().unwrap()));
        let v6: Cidr = "fd00::/8".parse().unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nope".parse::<Cidr>().is_err());
    }

    #[derive(Debug)]
    struct Table(Vec<SocketAddr>);
    impl Resolve for Table {
        fn resolve(&self, _: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
            Ok(self
                .0
                .iter()
                .map(|a| SocketAddr::new(a.ip(), port))
                .collect())
        }
    }

    #[test]
    fn checks_every_resolved_address() {
        let mixed = Table(vec![
            "93.184.215.14:0".parse().unwrap(),
            "10.0.0.5:0".parse().unwrap(),
        ]);
        let p = NetPolicy::default();
        let err = check_url("https://hooks.example/x", &p, &mixed).unwrap_err();
        assert!(matches!(err, NotifyError::Refused { .. }), "{err}");
        let public = Table(vec!["93.184.215.14:0".parse().unwrap()]);
        let ok = check_url("https://hooks.example/x", &p, &public).unwrap();
        assert_eq!(ok.addrs, vec!["93.184.215.14:443".parse().unwrap()]);
        // IP literals, in every spelling the URL standard normalises.
        for u in [
            "http://127.0.0.1/",
            "http://0x7f.1/",
            "http://2130706433/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::1]:8080/",
            "http://0/",
        ] {
            assert!(
                matches!(check_url(u, &p, &public), Err(NotifyError::Refused { .. })),
                "{u}"
            );
        }
        let allowed = NetPolicy {
            allow_private: false,
            allow: vec!["10.0.0.0/24".parse().unwrap()],
        };
        assert!(check_url("http://10.0.0.9/", &allowed, &public).is_ok());
        assert!(check_url("http://10.0.1.9/", &allowed, &public).is_err());
        assert!(matches!(
            check_url("file:///etc/passwd", &p, &public),
            Err(NotifyError::InvalidUrl { .. })
        ));
    }

    #[test]
    fn shows_urls_without_secrets() {
        assert_eq!(
            shown_url("https://u:pw@hooks.example/in?token=abc#x", false),
            "https://u@hooks.example/in"
        );
        assert_eq!(
            shown_url("https://hooks.slack.example/services/T/B/x", true),
            "https://hooks.slack.example/…"
        );
        assert!(validate_url("https://hooks.example/in").is_ok());
        assert!(validate_url("ftp://hooks.example/in").is_err());
        assert!(validate_url("not a url").is_err());
    }

    #[test]
    fn redacts() {
        assert_eq!(
            redact_url("https://hooks.slack.example/services/T0/B0/secret?x=1"),
            "https://hooks.slack.example/…"
        );
    }
}
