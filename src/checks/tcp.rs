//! `tcp:<target>`: opens a TCP connection to every address the target resolved to (IPv4 and
//! IPv6), or a tunnel through the HTTPS proxy, and tells a timeout (packets dropped: a firewall),
//! a refusal (reset) and an unreachable network apart.

use super::dns::Resolved;
use super::proxy::{self, ProxyError, Route};
use super::{Check, Ctx, Outcome};
use crate::duration::humanize;
use crate::report::model::Finding;
use crate::targets::Target;
use async_trait::async_trait;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use url::Url;

/// How the target can be reached: the fact `tls:<target>` connects through.
#[derive(Clone, Debug)]
pub struct Path {
    pub host: String,
    pub port: u16,
    /// Addresses that accepted a connection (empty when going through the proxy).
    pub reachable: Vec<SocketAddr>,
    /// The proxy to tunnel through, if any.
    pub proxy: Option<Url>,
}

impl Path {
    /// Opens a fresh connection along this path (direct to the first reachable address, or a
    /// CONNECT tunnel), bounded by `timeout`.
    pub async fn connect(&self, timeout: Duration) -> Result<TcpStream, String> {
        if let Some(p) = &self.proxy {
            return proxy::connect(p, &self.host, self.port, timeout).await.map_err(|e| e.to_string());
        }
        let mut last = "no reachable address".to_string();
        for addr in &self.reachable {
            match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
                Ok(Ok(s)) => return Ok(s),
                Ok(Err(e)) => last = format!("{addr}: {e}"),
                Err(_) => last = format!("{addr}: timeout"),
            }
        }
        Err(last)
    }
}

pub struct TcpCheck {
    target: Target,
}

impl TcpCheck {
    pub fn new(target: &Target) -> Self {
        TcpCheck { target: target.clone() }
    }

    fn dns_id(&self) -> String {
        format!("dns:{}", self.target.name)
    }
}

/// The result of one connection attempt.
#[derive(Debug, PartialEq)]
pub enum Attempt {
    Connected,
    Timeout,
    Refused,
    Unreachable(String),
}

/// Connects once to `addr`, classifying the failure.
pub async fn attempt(addr: SocketAddr, timeout: Duration) -> Attempt {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Err(_) => Attempt::Timeout,
        Ok(Ok(_)) => Attempt::Connected,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => Attempt::Refused,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::TimedOut => Attempt::Timeout,
        Ok(Err(e)) => Attempt::Unreachable(e.to_string()),
    }
}

#[async_trait]
impl Check for TcpCheck {
    fn id(&self) -> String {
        format!("tcp:{}", self.target.name)
    }
    fn kind(&self) -> &'static str {
        "tcp"
    }
    fn target(&self) -> Option<String> {
        Some(self.target.name.clone())
    }
    fn depends_on(&self) -> Vec<String> {
        vec![self.dns_id()]
    }

    async fn run(&self, ctx: &Ctx) -> Outcome {
        let host = self.target.host();
        let port = self.target.port();
        let timeout = ctx.timeout();
        let route = proxy::route(&ctx.settings.proxy, &host, port);

        if let Route::Proxy { url, source } = &route {
            let shown = proxy::display_url(url);
            let mut o = Outcome::new()
                .finding(Finding::new("PROXY_IN_USE").with("proxy", &shown).with("source", source))
                .evidence("via", "proxy")
                .evidence("proxy", &shown)
                .evidence("proxy_source", source);
            let start = Instant::now();
            match proxy::connect(url, &host, port, timeout).await {
                Ok(_) => {
                    o.set_evidence("connect_ms", start.elapsed().as_millis() as u64);
                    return o
                        .summary("host", &host)
                        .summary("port", port)
                        .summary("via", format!("proxy {shown}"))
                        .fact(Path { host, port, reachable: Vec::new(), proxy: Some(url.clone()) });
                }
                Err(e) => {
                    let answer = match &e {
                        ProxyError::Unreachable(s) | ProxyError::Refused(s) => s.clone(),
                    };
                    o.set_evidence("proxy_answer", &answer);
                    o.push(
                        Finding::new("PROXY_FAILED")
                            .with("proxy", &shown)
                            .with("host", &host)
                            .with("port", port)
                            .with("answer", answer),
                    );
                    return o;
                }
            }
        }

        let mut o = Outcome::new().evidence("via", "direct");
        if let Route::Bypassed { entry, source } = &route {
            o.push(Finding::new("PROXY_BYPASSED").with("host", &host).with("entry", entry).with("source", source));
            o.set_evidence("no_proxy_entry", entry);
        }
        let Some(resolved) = ctx.fact::<Resolved>(&self.dns_id()) else {
            return Outcome::skipped(self.dns_id());
        };
        let addrs: Vec<SocketAddr> = resolved.addrs.iter().map(|ip: &IpAddr| SocketAddr::new(*ip, port)).collect();
        let results = futures::future::join_all(addrs.iter().map(|a| async move {
            let start = Instant::now();
            (*a, attempt(*a, timeout).await, start.elapsed())
        }))
        .await;

        let mut reachable = Vec::new();
        let mut failed = Vec::new();
        let mut per_addr = Vec::new();
        for (addr, result, elapsed) in &results {
            let (state, finding) = match result {
                Attempt::Connected => ("connected".to_string(), None),
                Attempt::Timeout => (
                    "timeout".to_string(),
                    Some(
                        Finding::new("TCP_TIMEOUT")
                            .with("host", &host)
                            .with("addr", addr)
                            .with("timeout", humanize(timeout)),
                    ),
                ),
                Attempt::Refused => {
                    ("refused".to_string(), Some(Finding::new("TCP_REFUSED").with("host", &host).with("addr", addr)))
                }
                Attempt::Unreachable(e) => (
                    format!("unreachable: {e}"),
                    Some(Finding::new("TCP_UNREACHABLE").with("host", &host).with("addr", addr).with("error", e)),
                ),
            };
            per_addr
                .push(serde_json::json!({"addr": addr.to_string(), "result": state, "ms": elapsed.as_millis() as u64}));
            match finding {
                None => reachable.push(*addr),
                Some(f) => failed.push((addr, state, f)),
            }
        }
        o.set_evidence("attempts", per_addr);
        if reachable.is_empty() {
            for (_, _, f) in failed {
                o.push(f);
            }
            return o;
        }
        if !failed.is_empty() {
            let list: Vec<String> = failed.iter().map(|(a, s, _)| format!("{a} ({s})")).collect();
            let ok: Vec<String> = reachable.iter().map(|a| a.to_string()).collect();
            o.push(
                Finding::new("TCP_PARTIAL")
                    .with("host", &host)
                    .with("failed", list.join(", "))
                    .with("ok", ok.join(", ")),
            );
        }
        o.summary("host", &host)
            .summary("port", port)
            .summary("via", reachable.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", "))
            .fact(Path { host, port, reachable, proxy: None })
    }
}
