//! `tcp:<target>`: opens a TCP connection to every address the target resolved to (IPv4 and
//! IPv6), or a tunnel through the HTTPS proxy, and tells a timeout (packets dropped: a firewall),
//! a refusal (reset) and an unreachable network apart. The first connection that succeeded stays
//! open in the fact: `tls:<target>` does its handshake over it instead of opening another.

use super::dns::Resolved;
use super::{Check, Ctx, Outcome};
use crate::duration::humanize;
use crate::net::connect::{self, Attempt};
use crate::net::proxy::{self, Route};
use crate::net::{Handoff, Path};
use crate::report::model::Finding;
use crate::targets::Target;
use async_trait::async_trait;
use std::net::SocketAddr;
use std::time::Instant;
use tokio::net::TcpStream;

/// The fact of `tcp:<target>`: how the target is reached, and the connection already open
/// along that path (for the first taker: `tls:<target>`).
#[derive(Debug)]
pub struct Reached {
    pub path: Path,
    pub conn: Handoff<TcpStream>,
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
        let route = ctx.settings.proxy.policy().route(&host, port);

        if let Route::Proxy { url, source } = &route {
            let shown = proxy::display_url(url);
            let mut o = Outcome::new()
                .finding(Finding::new("PROXY_IN_USE").with("proxy", &shown).with("source", source))
                .evidence("via", "proxy")
                .evidence("proxy", &shown)
                .evidence("proxy_source", source);
            let start = Instant::now();
            match proxy::connect(url, &host, port, timeout).await {
                Ok(stream) => {
                    o.set_evidence("connect_ms", start.elapsed().as_millis() as u64);
                    let path = Path { host: host.clone(), port, reachable: Vec::new(), proxy: Some(url.clone()) };
                    return o
                        .summary("host", &host)
                        .summary("port", port)
                        .summary("via", format!("proxy {shown}"))
                        .fact(Reached { path, conn: Handoff::new(Some(stream)) });
                }
                Err(e) => {
                    let answer = e.to_string();
                    o.set_evidence("proxy_answer", &answer);
                    let status = e.answer().and_then(|a| a.status);
                    if let Some(status) = status {
                        o.set_evidence("proxy_status", status);
                    }
                    let code = match status {
                        Some(407) => "PROXY_AUTH_REQUIRED",
                        Some(403) => "PROXY_DENIED",
                        _ => "PROXY_FAILED",
                    };
                    o.push(
                        Finding::new(code)
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
        let addrs: Vec<SocketAddr> = resolved.addrs.iter().map(|ip| SocketAddr::new(*ip, port)).collect();
        let results = futures::future::join_all(addrs.iter().map(|a| async move {
            let start = Instant::now();
            (*a, connect::attempt(*a, timeout).await, start.elapsed())
        }))
        .await;

        let mut reachable = Vec::new();
        let mut kept: Option<TcpStream> = None;
        let mut failed = Vec::new();
        let mut per_addr = Vec::new();
        for (addr, result, elapsed) in results {
            let (state, finding) = match result {
                Attempt::Connected(stream) => {
                    // The first address that accepted carries on; the others are closed now.
                    kept.get_or_insert(stream);
                    ("connected".to_string(), None)
                }
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
                None => reachable.push(addr),
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
            .fact(Reached { path: Path { host, port, reachable, proxy: None }, conn: Handoff::new(kept) })
    }
}
