//! `tcp:<target>`: opens a TCP connection to every address the target resolved to (IPv4 and
//! IPv6), or a tunnel through the HTTPS proxy, and tells a timeout (packets dropped: a firewall),
//! a refusal (reset) and an unreachable network apart. The first connection that succeeded stays
//! open in the fact: `tls:<target>` does its handshake over it instead of opening another.

use super::core::{Check, Ctx};
pub use super::facts::Reached;
use super::facts::{IdentityFact, Resolved};
use super::trust::TrustStore;
use crate::duration::humanize;
use crate::model::check_id::CA_STORE;
use crate::model::code;
use crate::model::Outcome;
use crate::model::{CheckId, Finding, Kind, TargetName};
use crate::net::connect::{self, Attempt};
use crate::net::proxy::{self, Route};
use crate::net::{Handoff, Path};
use crate::targets::Target;
use async_trait::async_trait;
use std::net::SocketAddr;
use std::time::Instant;
use tokio::net::TcpStream;

pub struct TcpCheck {
    target: Target,
}

/// How far a service's route went: each step's result in words, and the route's failure.
#[derive(Default)]
struct RouteWalk {
    tcp: String,
    tls: Option<String>,
    http: Option<String>,
    /// The step that failed and why.
    failed: Option<(&'static str, String)>,
}

impl TcpCheck {
    pub fn new(target: &Target) -> Self {
        TcpCheck { target: target.clone() }
    }

    fn dns_id(&self) -> CheckId {
        CheckId::target(Kind::Dns, self.target.name)
    }
}

#[async_trait]
impl Check for TcpCheck {
    fn id(&self) -> CheckId {
        CheckId::target(Kind::Tcp, self.target.name)
    }
    fn target(&self) -> Option<TargetName> {
        Some(self.target.name)
    }
    fn depends_on(&self) -> Vec<CheckId> {
        vec![self.dns_id()]
    }
    /// The store and the client certificate, for the TLS and HTTP of the services' routes
    /// (when they are part of the run).
    fn uses(&self) -> Vec<CheckId> {
        let mut u = vec![CA_STORE];
        if self.target.mutual_tls {
            u.push(CheckId::cert_for(self.target.name));
        }
        u
    }

    async fn run(&self, ctx: &Ctx) -> Outcome {
        let mut o = self.own_path(ctx).await;
        self.service_paths(ctx, &mut o).await;
        o
    }
}

/// The proxy finding for a CONNECT that failed: 407, 403, or any other answer.
fn proxy_finding(e: &proxy::ProxyError, shown: &str, host: &str, port: u16) -> Finding {
    let code = match e.answer().and_then(|a| a.status) {
        Some(407) => code::PROXY_AUTH_REQUIRED,
        Some(403) => code::PROXY_DENIED,
        _ => code::PROXY_FAILED,
    };
    Finding::new(code).with("proxy", shown).with("host", host).with("port", port).with("answer", e.to_string())
}

impl TcpCheck {
    /// The routes the services that run SEI take to the target, when they differ from this
    /// shell's: said (`PROXY_SERVICE_DIFFERS`), and each such route tried once (a CONNECT through
    /// the service's proxy, or a direct connection), its failure reported like ours.
    /// Only on a host where SEI was found: elsewhere the services are not SEI's. (`tcp` does not
    /// depend on `config:sei`: whether SEI was found is the installation read at start.)
    async fn service_paths(&self, ctx: &Ctx, o: &mut Outcome) {
        if ctx.settings.sei.as_ref().is_none_or(|s| s.files_read.is_empty()) {
            return;
        }
        let host = self.target.host();
        let port = self.target.port();
        let timeout = ctx.timeout();
        let ours = super::service_proxy::route_text(&ctx.settings.proxy.policy().route(&host, port));
        let services = tokio::task::spawn_blocking(super::service_proxy::services).await.unwrap_or_default();
        // Distinct routes, each with the services that take it.
        let mut routes: Vec<(Route, String, Vec<String>)> = Vec::new();
        for s in services {
            let route = s.policy().route(&host, port);
            let text = super::service_proxy::route_text(&route);
            if text == ours {
                continue;
            }
            match routes.iter_mut().find(|(_, t, _)| *t == text) {
                Some(r) => r.2.push(s.service.clone()),
                None => routes.push((route, text, vec![s.service.clone()])),
            }
        }
        if routes.is_empty() {
            return;
        }
        let mut evidence = Vec::new();
        for (route, text, names) in routes {
            o.push(
                Finding::new(code::PROXY_SERVICE_DIFFERS)
                    .with("services", names.join(", "))
                    .with("host", &host)
                    .with("port", port)
                    .with("route", &text)
                    .with("ours", &ours),
            );
            let services = names.join(", ");
            // The route's one failure, said naming the services that take it and their proxy.
            let route_failed = |step: &str, error: String| {
                Finding::new(code::SERVICE_ROUTE_FAILED)
                    .with("services", &services)
                    .with("route", &text)
                    .with("host", &host)
                    .with("step", step)
                    .with("error", error)
            };
            let mut walk = RouteWalk::default();
            let stream = match &route {
                Route::Proxy { url, .. } => match proxy::connect(url, &host, port, timeout).await {
                    Ok(stream) => Some(stream),
                    Err(e) => {
                        o.push(proxy_finding(&e, &text, &host, port));
                        walk.failed = Some(("proxy", e.to_string()));
                        walk.tcp = e.to_string();
                        None
                    }
                },
                _ => {
                    let addr = ctx.fact::<Resolved>(&self.dns_id()).and_then(|r| r.addrs.first().copied());
                    match addr {
                        None => {
                            walk.tcp = "not tried: the name has no address here".to_string();
                            None
                        }
                        Some(ip) => {
                            let addr = SocketAddr::new(ip, port);
                            let attempt = match connect::attempt(addr, timeout).await {
                                Attempt::Connected(stream) => Ok(stream),
                                Attempt::Timeout => Err((
                                    "timeout".to_string(),
                                    Finding::new(code::TCP_TIMEOUT)
                                        .with("host", &host)
                                        .with("addr", addr)
                                        .with("timeout", humanize(timeout)),
                                )),
                                Attempt::Refused => Err((
                                    "refused".to_string(),
                                    Finding::new(code::TCP_REFUSED).with("host", &host).with("addr", addr),
                                )),
                                Attempt::Unreachable(e) => Err((
                                    format!("unreachable: {e}"),
                                    Finding::new(code::TCP_UNREACHABLE)
                                        .with("host", &host)
                                        .with("addr", addr)
                                        .with("error", &e),
                                )),
                            };
                            match attempt {
                                Ok(stream) => Some(stream),
                                Err((state, finding)) => {
                                    o.push(finding);
                                    walk.failed = Some(("tcp", format!("{addr}: {state}")));
                                    walk.tcp = state;
                                    None
                                }
                            }
                        }
                    }
                }
            };
            if let Some(stream) = stream {
                walk.tcp = "connected".to_string();
                // TLS and HTTP over that same connection, as the service would get them.
                if let Some(f) = self.tls_and_http(ctx, stream, &host, timeout, &mut walk).await {
                    o.push(f);
                }
            }
            if let Some((step, error)) = walk.failed.clone() {
                o.push(route_failed(step, error));
            }
            let mut said = format!("via {text} ({services}): TCP {}", walk.tcp);
            if let Some(t) = &walk.tls {
                said += &format!("; TLS {t}");
            }
            if let Some(h) = &walk.http {
                said += &format!("; HTTP {h}");
            }
            evidence.push(serde_json::json!({"services": names, "route": text, "result": walk.tcp,
                                             "tls": walk.tls, "http": walk.http, "said": said}));
        }
        o.set_evidence("service_routes", evidence);
    }

    /// TLS over a service's connection and one request of the target's address over it: verified
    /// against `ca:store` with the client certificate of `cert:*` when they are part of the run
    /// (else only the chain is captured and judged for interception). What happened goes in
    /// `walk`; the finding returned is an interception.
    async fn tls_and_http(
        &self,
        ctx: &Ctx,
        stream: TcpStream,
        host: &str,
        timeout: std::time::Duration,
        walk: &mut RouteWalk,
    ) -> Option<Finding> {
        use crate::net::tls::{Client, ClientIdentity, HsError, Verify};
        let Ok(name) = crate::net::tls::server_name(host) else { return None };
        let roots = ctx.fact::<TrustStore>(&CA_STORE).map(|s| std::sync::Arc::new(super::trust::roots_of(s)));
        let mtls = self.target.mutual_tls;
        let identity = if mtls {
            ctx.fact::<IdentityFact>(&CheckId::cert_for(self.target.name))
                .and_then(|f| f.identity.as_ref())
                .and_then(|id| ClientIdentity::new(id.certs.clone(), id.key.clone_key()).ok())
        } else {
            None
        };
        let verify = match &roots {
            Some(r) => Verify::Roots(std::sync::Arc::clone(r)),
            None => Verify::CaptureOnly,
        };
        let client = Client::new(verify).identity(identity).alpn(&[b"http/1.1"]);
        let (session, seen, error) = match client.handshake(stream, &name, timeout).await {
            Ok(s) => {
                let seen = s.seen.clone();
                (Some(s), seen, None)
            }
            Err(f) => (None, f.seen, Some(f.error)),
        };
        let infos: Vec<crate::pki::CertInfo> = seen.chain.iter().filter_map(|d| crate::pki::cert_info(d)).collect();
        let expected = crate::targets::expected_issuers(self.target.name, host);
        if let Some(i) = crate::interception::detect(&infos, expected) {
            walk.tls = Some(format!("intercepted ({})", i.vendor));
            walk.failed = Some(("tls", format!("the chain was made by {} ({})", i.vendor, i.issuer)));
            return Some(
                Finding::new(code::TLS_INTERCEPTED)
                    .with("host", host)
                    .with("vendor", &i.vendor)
                    .with("issuer", &i.issuer),
            );
        }
        let cert_refused = |e: &HsError| matches!(e, HsError::Tls(rustls::Error::AlertReceived(a)) if crate::net::tls::is_client_cert_alert(a));
        let session = match (session, error) {
            (Some(s), _) => s,
            (None, Some(e)) if roots.is_none() => {
                // Not judged without the store (ca:store is not part of this run), as on ours.
                walk.tls = Some(format!("not judged (ca:store is not part of this run): {e}"));
                return None;
            }
            (None, Some(e)) if mtls && cert_refused(&e) => {
                // The certificate's refusal, not the route's: `http:<target>` says it on ours.
                walk.tls = Some(format!("the server refused the client certificate: {e}"));
                return None;
            }
            (None, Some(e)) => {
                walk.tls = Some(format!("failed: {e}"));
                walk.failed = Some(("tls", e.to_string()));
                return None;
            }
            (None, None) => return None,
        };
        let version = seen.version.clone().unwrap_or_else(|| "?".into());
        if roots.is_none() {
            // Nothing to verify against: the chain was only captured.
            walk.tls = Some(format!("{version}, not verified (ca:store is not part of this run)"));
            return None;
        }
        walk.tls = Some(format!("{version}, verified"));
        let mut conn = crate::net::http::Connection::new(session.stream);
        let request = crate::net::http::Request::get(&self.target.url).header("Accept", "*/*");
        let result = conn.send(&request, crate::net::http::Limits::default(), timeout).await;
        let failure = match result {
            Ok(r) if mtls && super::host_curl::cert_page(r.status, &r.text()) => {
                // The certificate's refusal, not the route's (as above).
                walk.http = Some(format!("{} (the server refused the client certificate)", r.status));
                None
            }
            Ok(r) => {
                walk.http = Some(r.status.to_string());
                None
            }
            Err(crate::net::http::HttpError::Io(io)) => {
                let e = HsError::from_io(io);
                if mtls && cert_refused(&e) {
                    walk.http = Some(format!("the server refused the client certificate: {e}"));
                    None
                } else {
                    walk.http = Some(format!("failed: {e}"));
                    Some(e.to_string())
                }
            }
            Err(e) => {
                walk.http = Some(format!("failed: {e}"));
                Some(e.to_string())
            }
        };
        conn.close(std::time::Duration::from_millis(300).min(timeout)).await;
        walk.failed = failure.map(|e| ("http", e));
        None
    }

    /// The target as this shell reaches it.
    async fn own_path(&self, ctx: &Ctx) -> Outcome {
        let host = self.target.host();
        let port = self.target.port();
        let timeout = ctx.timeout();
        let route = ctx.settings.proxy.policy().route(&host, port);

        if let Route::Proxy { url, source } = &route {
            let shown = proxy::display_url(url);
            let mut o = Outcome::new()
                .finding(Finding::new(code::PROXY_IN_USE).with("proxy", &shown).with("source", source))
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
                    if let Some(status) = e.answer().and_then(|a| a.status) {
                        o.set_evidence("proxy_status", status);
                    }
                    o.push(proxy_finding(&e, &shown, &host, port));
                    return o;
                }
            }
        }

        let mut o = Outcome::new().evidence("via", "direct");
        if let Route::Bypassed { entry, source } = &route {
            o.push(Finding::new(code::PROXY_BYPASSED).with("host", &host).with("entry", entry).with("source", source));
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
                        Finding::new(code::TCP_TIMEOUT)
                            .with("host", &host)
                            .with("addr", addr)
                            .with("timeout", humanize(timeout)),
                    ),
                ),
                Attempt::Refused => (
                    "refused".to_string(),
                    Some(Finding::new(code::TCP_REFUSED).with("host", &host).with("addr", addr)),
                ),
                Attempt::Unreachable(e) => (
                    format!("unreachable: {e}"),
                    Some(Finding::new(code::TCP_UNREACHABLE).with("host", &host).with("addr", addr).with("error", e)),
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
                Finding::new(code::TCP_PARTIAL)
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
