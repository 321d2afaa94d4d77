//! `webhook:<name>`: a Pucomex webhook receiver must be HTTPS, trusted by publicly trusted roots
//! (or the `--ca-bundle` given), and answer a test notification POST with HTTP 200 in time.
//!
//! A connection that cannot be opened (DNS, refusal, connect timeout) and a receiver that
//! accepted the connection but gave no HTTP answer within `--timeout` are both
//! `WEBHOOK_UNREACHABLE` (the notification was not delivered: Pucomex would count the attempt as
//! failed); an answer of 200 slower than half the timeout is `WEBHOOK_SLOW` (warn).

use super::proxy::{self, Route};
use super::{Check, Ctx, Outcome};
use crate::duration::humanize;
use crate::report::model::Finding;
use crate::settings::Settings;
use async_trait::async_trait;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use url::Url;

/// The `webhook` checks of this run: one per `--webhook`.
pub fn checks(settings: &Arc<Settings>) -> Vec<Box<dyn Check>> {
    settings.webhooks.iter().map(|(name, url)| Box::new(WebhookCheck::new(name, url)) as Box<dyn Check>).collect()
}

pub struct WebhookCheck {
    name: String,
    /// The URL as given: used for the request only.
    url: String,
    /// The URL without a password it may carry (`https://user:pass@host/`): what is shown.
    shown: String,
    /// That password, to scrub from error texts.
    password: Option<String>,
}

impl WebhookCheck {
    pub fn new(name: &str, url: &str) -> Self {
        let parsed = Url::parse(url).ok();
        let password = parsed.as_ref().and_then(|u| u.password()).filter(|p| !p.is_empty()).map(str::to_string);
        let shown = match parsed {
            Some(mut u) if password.is_some() => {
                let _ = u.set_password(None);
                u.to_string()
            }
            _ => url.to_string(),
        };
        WebhookCheck { name: name.to_string(), url: url.to_string(), shown, password }
    }

    fn scrub(&self, text: impl ToString) -> String {
        let text = text.to_string();
        match &self.password {
            Some(p) => text.replace(p.as_str(), "***"),
            None => text,
        }
    }
}

/// The roots a receiver must chain to: the `--ca-bundle` file when given, else the publicly
/// trusted roots (the Mozilla set that browsers and Pucomex's clients trust).
pub fn root_store(ca_bundle: Option<&Path>) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    match ca_bundle {
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!("{}: no certificate", path.display()));
            }
        }
    }
    Ok(roots)
}

/// A rustls client configuration with the ring provider, verifying against `roots`.
pub fn client_config(roots: RootCertStore) -> Result<ClientConfig, String> {
    let mut config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The test notification's body: it says plainly that it is a test and where it came from.
fn test_body(host: &str) -> Vec<u8> {
    let sent_at =
        time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    serde_json::to_vec(&serde_json::json!({
        "pen_doctor_test": true,
        "evento": "teste",
        "mensagem": "Notificação de TESTE enviada pelo pen-doctor para verificar este receptor de webhooks do Pucomex. Pode ser descartada.",
        "message": "TEST notification sent by pen-doctor to check this Pucomex webhook receiver. It can be discarded.",
        "sent_at": sent_at,
        "from_host": host,
    }))
    .unwrap_or_default()
}

/// Why the TLS handshake failed: the certificate is not trusted, or something else.
enum TlsFailure {
    Untrusted(String),
    Other(String),
}

fn classify_tls(e: &std::io::Error) -> TlsFailure {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    match inner {
        Some(err @ rustls::Error::InvalidCertificate(_)) => TlsFailure::Untrusted(err.to_string()),
        Some(other) => TlsFailure::Other(other.to_string()),
        None => TlsFailure::Other(e.to_string()),
    }
}

impl WebhookCheck {
    /// Opens the TCP connection the handshake probe uses: through the proxy, or direct to the
    /// `--resolve` address or the host's resolver's.
    async fn connect(&self, ctx: &Ctx, route: &Route, host: &str, port: u16) -> Result<TcpStream, String> {
        let timeout = ctx.timeout();
        if let Route::Proxy { url, .. } = route {
            return proxy::connect(url, host, port, timeout).await.map_err(|e| e.to_string());
        }
        let addrs: Vec<SocketAddr> = match override_addr(&ctx.settings, host, port) {
            Some(a) => vec![a],
            None => match tokio::time::timeout(timeout, tokio::net::lookup_host((host, port))).await {
                Ok(Ok(a)) => a.collect(),
                Ok(Err(e)) => return Err(format!("{host}: {e}")),
                Err(_) => return Err(format!("{host}: DNS timeout")),
            },
        };
        let mut last = format!("{host}: no address");
        for addr in addrs {
            match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
                Ok(Ok(s)) => return Ok(s),
                Ok(Err(e)) => last = format!("{addr}: {e}"),
                Err(_) => last = format!("{addr}: connect timeout ({})", humanize(timeout)),
            }
        }
        Err(last)
    }
}

fn override_addr(settings: &Settings, host: &str, port: u16) -> Option<SocketAddr> {
    let host = host.to_ascii_lowercase();
    settings.resolve.iter().find(|r| r.host == host && r.port == port).map(|r| SocketAddr::new(r.addr, port))
}

#[async_trait]
impl Check for WebhookCheck {
    fn id(&self) -> String {
        format!("webhook:{}", self.name)
    }
    fn kind(&self) -> &'static str {
        "webhook"
    }

    async fn run(&self, ctx: &Ctx) -> Outcome {
        let settings = &ctx.settings;
        let timeout = ctx.timeout();
        let mut o = Outcome::new().evidence("url", &self.shown);
        let url = match Url::parse(&self.url) {
            Ok(u) if u.host_str().is_some() => u,
            _ => {
                return o
                    .finding(Finding::new("WEBHOOK_UNREACHABLE").with("url", &self.shown).with("error", "invalid URL"))
            }
        };
        if url.scheme() != "https" {
            return o.finding(Finding::new("WEBHOOK_NOT_HTTPS").with("url", &self.shown).with("scheme", url.scheme()));
        }
        let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_string();
        let port = url.port_or_known_default().unwrap_or(443);
        let route = proxy::route(&settings.proxy, &host, port);
        match &route {
            Route::Proxy { url: p, .. } => o.set_evidence("via", format!("proxy {}", proxy::display_url(p))),
            _ => o.set_evidence("via", "direct"),
        }
        let config = match root_store(settings.ca_bundle.as_deref()).and_then(client_config) {
            Ok(c) => Arc::new(c),
            Err(e) => {
                return Outcome::error(Finding::new("WEBHOOK_UNREACHABLE").with("url", &self.shown).with("error", e));
            }
        };
        o.set_evidence(
            "trust",
            settings.ca_bundle.as_ref().map(|p| p.display().to_string()).unwrap_or("public roots".into()),
        );

        // 1. The handshake on its own: the TLS version, and an untrusted certificate told apart.
        let stream = match self.connect(ctx, &route, &host, port).await {
            Ok(s) => s,
            Err(e) => return o.finding(Finding::new("WEBHOOK_UNREACHABLE").with("url", &self.shown).with("error", e)),
        };
        let Ok(server_name) = ServerName::try_from(host.clone()) else {
            return o.finding(
                Finding::new("WEBHOOK_UNREACHABLE").with("url", &self.shown).with("error", "invalid host name"),
            );
        };
        let connector = tokio_rustls::TlsConnector::from(Arc::clone(&config));
        match tokio::time::timeout(timeout, connector.connect(server_name, stream)).await {
            Err(_) => {
                return o.finding(
                    Finding::new("WEBHOOK_UNREACHABLE")
                        .with("url", &self.shown)
                        .with("error", format!("TLS handshake timeout ({})", humanize(timeout))),
                )
            }
            Ok(Err(e)) => {
                return match classify_tls(&e) {
                    TlsFailure::Untrusted(why) => {
                        o.finding(Finding::new("WEBHOOK_TLS_UNTRUSTED").with("url", &self.shown).with("error", why))
                    }
                    TlsFailure::Other(why) => o.finding(
                        Finding::new("WEBHOOK_UNREACHABLE")
                            .with("url", &self.shown)
                            .with("error", format!("TLS: {why}")),
                    ),
                }
            }
            Ok(Ok(tls)) => {
                let version = tls.get_ref().1.protocol_version().map(|v| format!("{v:?}").replace('_', "."));
                o.set_evidence("tls_version", version);
            }
        }

        // 2. The test notification, as Pucomex would send it.
        let mut builder = reqwest::Client::builder()
            .use_preconfigured_tls((*config).clone())
            .connect_timeout(timeout)
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("pen-doctor/", env!("CARGO_PKG_VERSION")));
        builder = match &route {
            Route::Proxy { url: p, .. } => match reqwest::Proxy::all(p.as_str()) {
                Ok(px) => builder.proxy(px),
                Err(_) => builder.no_proxy(),
            },
            _ => builder.no_proxy(),
        };
        if let Some(addr) = override_addr(settings, &host, port) {
            builder = builder.resolve(&host, addr);
        }
        let client = match builder.build() {
            Ok(c) => c,
            Err(e) => {
                return Outcome::error(Finding::new("WEBHOOK_UNREACHABLE").with("url", &self.shown).with("error", e))
            }
        };
        let start = Instant::now();
        let sent = client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Pen-Doctor-Test", "1")
            .body(test_body(&settings.host.hostname))
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) if e.is_timeout() && !e.is_connect() => {
                o.set_evidence("elapsed_ms", start.elapsed().as_millis() as u64);
                return o.finding(
                    Finding::new("WEBHOOK_UNREACHABLE")
                        .with("url", &self.shown)
                        .with("error", format!("no HTTP answer within {}", humanize(timeout))),
                );
            }
            Err(e) => {
                let why = self
                    .scrub(std::error::Error::source(&e).map(|s| format!("{e}: {s}")).unwrap_or_else(|| e.to_string()));
                return o.finding(Finding::new("WEBHOOK_UNREACHABLE").with("url", &self.shown).with("error", why));
            }
        };
        let status = response.status().as_u16();
        let body = tokio::time::timeout(timeout.saturating_sub(start.elapsed()), response.text()).await;
        let elapsed = start.elapsed();
        let body: String = match body {
            Ok(Ok(t)) => t.chars().take(200).collect(),
            _ => String::new(),
        };
        o.set_evidence("status", status);
        o.set_evidence("elapsed_ms", elapsed.as_millis() as u64);
        o.set_evidence("body", &body);
        if status != 200 {
            return o.finding(Finding::new("WEBHOOK_BAD_STATUS").with("url", &self.shown).with("status", status));
        }
        let elapsed_text = humanize(Duration::from_millis(elapsed.as_millis() as u64));
        if elapsed > timeout / 2 {
            o.push(
                Finding::new("WEBHOOK_SLOW")
                    .with("url", &self.shown)
                    .with("elapsed", &elapsed_text)
                    .with("limit", humanize(timeout / 2)),
            );
        }
        o.summary("url", &self.shown).summary("elapsed", elapsed_text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_says_it_is_a_test() {
        let v: serde_json::Value = serde_json::from_slice(&test_body("h")).unwrap();
        assert_eq!(v["pen_doctor_test"], true);
        assert!(v["message"].as_str().unwrap().contains("TEST"));
    }

    #[test]
    fn public_roots_load() {
        assert!(!root_store(None).unwrap().is_empty());
        assert!(root_store(Some(Path::new("/nonexistent"))).is_err());
    }
}
