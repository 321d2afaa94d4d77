//! The HTTP proxy on the way to a host: whether `host:port` goes through it or is bypassed by a
//! `NO_PROXY` entry (read as curl reads it), and the CONNECT handshake that opens a tunnel. The
//! route is chosen per call from a [`ProxyPolicy`], so the same host can be tried as this shell
//! reaches it and as another process (with its own proxy variables) would.

use std::net::IpAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use url::Url;

/// Which proxy applies and which hosts bypass it: the proxy variables of one process.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProxyPolicy<'a> {
    pub url: Option<&'a Url>,
    /// Where the proxy came from: `--proxy`, `HTTPS_PROXY`…
    pub source: Option<&'a str>,
    /// The `NO_PROXY` entries and the variable they came from.
    pub no_proxy: &'a [String],
    pub no_proxy_source: Option<&'a str>,
}

impl ProxyPolicy<'_> {
    /// How `host:port` is reached under this policy.
    pub fn route(&self, host: &str, port: u16) -> Route {
        let Some(url) = self.url else { return Route::Direct };
        if let Some(entry) = no_proxy_match(self.no_proxy, host, port) {
            return Route::Bypassed { entry, source: self.no_proxy_source.unwrap_or("NO_PROXY").to_string() };
        }
        Route::Proxy { url: url.clone(), source: self.source.unwrap_or_default().to_string() }
    }
}

/// How a host is reached.
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

/// The proxy's answer to CONNECT, kept as data: its status code (when the line had one) and
/// its status line (at most 200 characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyAnswer {
    pub status: Option<u16>,
    pub line: String,
}

/// Why a CONNECT through the proxy failed. The texts name the proxy without its credentials.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The proxy itself could not be reached.
    #[error("{proxy}: {source}")]
    Unreachable { proxy: String, source: std::io::Error },
    #[error("{proxy}: timeout")]
    ConnectTimeout { proxy: String },
    /// The connection to the proxy broke during the CONNECT exchange.
    #[error("{proxy}: {source}")]
    Exchange { proxy: String, source: std::io::Error },
    #[error("{proxy}: no answer to CONNECT")]
    NoAnswer { proxy: String },
    #[error("connection closed without an answer")]
    Closed,
    /// A success whose head never ended (closed early, or endless headers) is no tunnel.
    #[error("{proxy}: answer head not terminated after {read} bytes")]
    Unterminated { proxy: String, read: usize },
    /// The proxy answered CONNECT with something other than 2xx.
    #[error("{}", .answer.line)]
    Refused { answer: ProxyAnswer },
}

impl ProxyError {
    /// Whether the proxy itself could not be reached (as opposed to refusing the tunnel).
    pub fn proxy_unreachable(&self) -> bool {
        matches!(self, ProxyError::Unreachable { .. } | ProxyError::ConnectTimeout { .. })
    }

    /// The proxy's answer, when it gave one.
    pub fn answer(&self) -> Option<&ProxyAnswer> {
        match self {
            ProxyError::Refused { answer } => Some(answer),
            _ => None,
        }
    }
}

/// The most of a CONNECT answer's head we read before giving up on it.
const MAX_HEAD: usize = 16 * 1024;

/// Connects to the proxy and opens a tunnel to `host:port` with CONNECT, sending the proxy
/// URL's credentials as `Proxy-Authorization: Basic`; every step bounded by `timeout`. The
/// returned stream speaks to the target.
pub async fn connect(proxy: &Url, host: &str, port: u16, timeout: Duration) -> Result<TcpStream, ProxyError> {
    let shown = display_url(proxy);
    let phost = proxy.host_str().unwrap_or("").trim_start_matches('[').trim_end_matches(']').to_string();
    let pport = proxy.port_or_known_default().unwrap_or(3128);
    let mut stream = match tokio::time::timeout(timeout, TcpStream::connect((phost.as_str(), pport))).await {
        Ok(Ok(s)) => s,
        Ok(Err(source)) => return Err(ProxyError::Unreachable { proxy: shown, source }),
        Err(_) => return Err(ProxyError::ConnectTimeout { proxy: shown }),
    };
    let authority = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: pen-doctor\r\n");
    if let Some(credentials) = super::auth::basic_from_url(proxy) {
        request.push_str(&format!("Proxy-Authorization: {}\r\n", credentials.expose()));
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
        Ok(Err(source)) => return Err(ProxyError::Exchange { proxy: shown, source }),
        Err(_) => return Err(ProxyError::NoAnswer { proxy: shown }),
    };
    let text = String::from_utf8_lossy(&head);
    let line = text.lines().next().unwrap_or("").trim().to_string();
    let mut words = line.split_whitespace();
    let status = match (words.next(), words.next()) {
        (Some(version), Some(code)) if version.starts_with("HTTP/") && code.len() == 3 => code.parse::<u16>().ok(),
        _ => None,
    };
    match status {
        _ if line.is_empty() => Err(ProxyError::Closed),
        Some(200..=299) if head_complete(&head) => Ok(stream),
        Some(200..=299) => Err(ProxyError::Unterminated { proxy: shown, read: head.len() }),
        _ => Err(ProxyError::Refused { answer: ProxyAnswer { status, line: line.chars().take(200).collect() } }),
    }
}

/// Whether an HTTP head ends here (a blank line; bare LF tolerated).
fn head_complete(head: &[u8]) -> bool {
    head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n")
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
    fn routes_per_policy() {
        let url = Url::parse("http://proxy.local:3128").unwrap();
        let no = list(".gov.br");
        let policy = ProxyPolicy { url: Some(&url), source: Some("--proxy"), no_proxy: &no, no_proxy_source: None };
        assert_eq!(
            policy.route("a.gov.br", 443),
            Route::Bypassed { entry: ".gov.br".into(), source: "NO_PROXY".into() }
        );
        assert_eq!(policy.route("example.org", 443).proxy(), Some(&url));
        assert_eq!(ProxyPolicy::default().route("example.org", 443), Route::Direct);
    }

    #[test]
    fn credentials_never_shown() {
        let u = Url::parse("http://user:secret@proxy.local:3128").unwrap();
        assert_eq!(display_url(&u), "http://proxy.local:3128");
    }

    /// A CONNECT answered by a real socket: the status line is kept as data.
    #[tokio::test]
    async fn refusal_keeps_status_and_line() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 1024];
            let n = s.read(&mut buf).await.unwrap();
            let request = String::from_utf8_lossy(&buf[..n]).into_owned();
            s.write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n")
                .await
                .unwrap();
            request
        });
        let url = Url::parse(&format!("http://u:p%40ss@{addr}")).unwrap();
        let err = connect(&url, "api.test", 443, Duration::from_secs(2)).await.unwrap_err();
        let answer = err.answer().expect("an answer");
        assert_eq!(answer.status, Some(407));
        assert_eq!(answer.line, "HTTP/1.1 407 Proxy Authentication Required");
        assert_eq!(err.to_string(), answer.line);
        let request = server.await.unwrap();
        assert!(request.starts_with("CONNECT api.test:443 HTTP/1.1\r\n"), "{request}");
        assert!(
            request.contains(&format!("Proxy-Authorization: {}\r\n", crate::net::auth::basic("u", "p@ss").expose()))
        );
    }
}
