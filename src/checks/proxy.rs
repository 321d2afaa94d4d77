//! The proxy path: whether a target goes through the HTTPS proxy (`--proxy`, `HTTPS_PROXY`)
//! or is bypassed by a `NO_PROXY` entry, and the HTTP CONNECT handshake through it.

use crate::settings::ProxySettings;
use std::net::IpAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use url::Url;

/// How a target is reached.
#[derive(Clone, Debug, PartialEq)]
pub enum Route {
    Direct,
    /// Through the proxy; `source` is where it came from (`--proxy`, `HTTPS_PROXY`…).
    Proxy {
        url: Url,
        source: String,
    },
    /// A `NO_PROXY` entry matched.
    Bypassed {
        entry: String,
        source: String,
    },
}

impl Route {
    pub fn proxy(&self) -> Option<&Url> {
        match self {
            Route::Proxy { url, .. } => Some(url),
            _ => None,
        }
    }
}

/// The proxy URL without credentials, safe to show.
pub fn display_url(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string().trim_end_matches('/').to_string()
}

fn cidr_contains(entry: &str, ip: IpAddr) -> bool {
    let Some((net, bits)) = entry.split_once('/') else { return false };
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else { return false };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) if bits <= 32 => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) if bits <= 128 => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// The `NO_PROXY` entry that matches `host:port`, as curl reads the list: `*`, a domain (with or
/// without a leading dot) matching itself and its subdomains, an IP, a CIDR, optional `:port`.
pub fn no_proxy_match(entries: &[String], host: &str, port: u16) -> Option<String> {
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    for raw in entries {
        let entry = raw.trim().to_ascii_lowercase();
        if entry == "*" {
            return Some(raw.clone());
        }
        let (name, entry_port) = match entry.rsplit_once(':') {
            Some((n, p)) if !n.contains(':') && p.parse::<u16>().is_ok() => (n.to_string(), p.parse::<u16>().ok()),
            _ => (entry.clone(), None),
        };
        if entry_port.is_some_and(|p| p != port) {
            continue;
        }
        let name = name.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = host.parse::<IpAddr>() {
            if name.parse::<IpAddr>().ok() == Some(ip) || cidr_contains(name, ip) {
                return Some(raw.clone());
            }
            continue;
        }
        let domain = name.trim_start_matches("*.").trim_start_matches('.');
        if !domain.is_empty() && (host == domain || host.ends_with(&format!(".{domain}"))) {
            return Some(raw.clone());
        }
    }
    None
}

/// How `host:port` is reached under these settings.
pub fn route(settings: &ProxySettings, host: &str, port: u16) -> Route {
    let Some(url) = &settings.url else { return Route::Direct };
    if let Some(entry) = no_proxy_match(&settings.no_proxy, host, port) {
        return Route::Bypassed {
            entry,
            source: settings.no_proxy_source.clone().unwrap_or_else(|| "NO_PROXY".into()),
        };
    }
    Route::Proxy { url: url.clone(), source: settings.source.clone().unwrap_or_default() }
}

/// Why a CONNECT through the proxy failed.
#[derive(Debug)]
pub enum ProxyError {
    /// The proxy itself could not be reached (connect error or timeout).
    Unreachable(String),
    /// The proxy answered CONNECT with something other than 2xx: its status line.
    Refused(String),
}

impl std::fmt::Display for ProxyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProxyError::Unreachable(e) | ProxyError::Refused(e) => f.write_str(e),
        }
    }
}

/// Connects to the proxy and opens a tunnel to `host:port` with CONNECT; every step bounded by
/// `timeout`. The returned stream speaks to the target.
pub async fn connect(proxy: &Url, host: &str, port: u16, timeout: Duration) -> Result<TcpStream, ProxyError> {
    let phost = proxy.host_str().unwrap_or("").trim_start_matches('[').trim_end_matches(']').to_string();
    let pport = proxy.port_or_known_default().unwrap_or(3128);
    let mut stream = match tokio::time::timeout(timeout, TcpStream::connect((phost.as_str(), pport))).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(ProxyError::Unreachable(format!("{}: {e}", display_url(proxy)))),
        Err(_) => return Err(ProxyError::Unreachable(format!("{}: timeout", display_url(proxy)))),
    };
    let authority = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: pen-doctor\r\n");
    if !proxy.username().is_empty() {
        let user = percent_decode(proxy.username());
        let pass = percent_decode(proxy.password().unwrap_or(""));
        request.push_str(&format!(
            "Proxy-Authorization: Basic {}\r\n",
            openssl::base64::encode_block(format!("{user}:{pass}").as_bytes())
        ));
    }
    request.push_str("\r\n");
    let io = async {
        stream.write_all(request.as_bytes()).await?;
        // Read the answer's head byte by byte so no tunnelled byte is consumed; bounded size.
        let mut head = Vec::with_capacity(256);
        let mut byte = [0u8; 1];
        while !head_complete(&head) && head.len() < MAX_HEAD {
            if stream.read(&mut byte).await? == 0 {
                break;
            }
            head.push(byte[0]);
        }
        Ok::<_, std::io::Error>(head)
    };
    let head = match tokio::time::timeout(timeout, io).await {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => return Err(ProxyError::Refused(format!("{}: {e}", display_url(proxy)))),
        Err(_) => return Err(ProxyError::Refused(format!("{}: no answer to CONNECT", display_url(proxy)))),
    };
    let text = String::from_utf8_lossy(&head);
    let status_line = text.lines().next().unwrap_or("").trim().to_string();
    let mut words = status_line.split_whitespace();
    let code = match (words.next(), words.next()) {
        (Some(version), Some(code)) if version.starts_with("HTTP/") && code.len() == 3 => code.parse::<u16>().ok(),
        _ => None,
    };
    match code {
        _ if status_line.is_empty() => Err(ProxyError::Refused("connection closed without an answer".into())),
        // A success whose head never ended (closed early, or endless headers) is no tunnel.
        Some(200..=299) if head_complete(&head) => Ok(stream),
        Some(200..=299) => Err(ProxyError::Refused(format!(
            "{}: answer head not terminated after {} bytes",
            display_url(proxy),
            head.len()
        ))),
        _ => Err(ProxyError::Refused(status_line.chars().take(200).collect())),
    }
}

/// The most of a CONNECT answer's head we read before giving up on it.
const MAX_HEAD: usize = 16 * 1024;

/// Whether an HTTP head ends here (a blank line; bare LF tolerated).
fn head_complete(head: &[u8]) -> bool {
    head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n")
}

/// A URL component (user, password, path) with its %XX escapes decoded.
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(s: &str) -> Vec<String> {
        s.split(',').map(|x| x.trim().to_string()).collect()
    }

    #[test]
    fn no_proxy_rules() {
        let l = list("localhost, .gov.br, 10.0.0.0/8, example.org:8443, ::1");
        assert_eq!(no_proxy_match(&l, "api.conectagov.processoeletronico.gov.br", 443).as_deref(), Some(".gov.br"));
        assert_eq!(no_proxy_match(&l, "gov.br", 443).as_deref(), Some(".gov.br"));
        assert_eq!(no_proxy_match(&l, "notgov.br", 443), None);
        assert_eq!(no_proxy_match(&l, "10.2.3.4", 443).as_deref(), Some("10.0.0.0/8"));
        assert_eq!(no_proxy_match(&l, "example.org", 443), None);
        assert_eq!(no_proxy_match(&l, "example.org", 8443).as_deref(), Some("example.org:8443"));
        assert_eq!(no_proxy_match(&l, "::1", 443).as_deref(), Some("::1"));
        assert_eq!(no_proxy_match(&list("*"), "anything", 1).as_deref(), Some("*"));
    }

    #[test]
    fn basic_credentials() {
        assert_eq!(percent_decode("p%40ss"), "p@ss");
        assert_eq!(percent_decode("%a\u{e9}%zz%"), "%a\u{e9}%zz%", "bad escapes stay as they are");
    }

    #[test]
    fn credentials_never_shown() {
        let u = Url::parse("http://user:secret@proxy.local:3128").unwrap();
        assert_eq!(display_url(&u), "http://proxy.local:3128");
    }
}
