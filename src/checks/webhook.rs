//! `webhook:<name>`: a Pucomex webhook receiver must be HTTPS, trusted by publicly trusted roots
//! (or the `--ca-bundle` given), and answer a test notification POST with HTTP 200 in time.
//!
//! One connection, as Pucomex's would be: the name resolved as every target's is (`--resolve`,
//! `/etc/hosts`, DNS or `--dns-server`), a TCP connection (direct or through the proxy), one
//! handshake (its version recorded, an untrusted certificate told apart), then the POST over
//! it, the whole exchange within `--timeout` and at most 1 MiB of the answer read.
//!
//! A connection that cannot be opened (DNS, refusal, connect timeout) and a receiver that
//! accepted the connection but gave no HTTP answer within `--timeout` are both
//! `WEBHOOK_UNREACHABLE` (the notification was not delivered: Pucomex would count the attempt as
//! failed); an answer of 200 slower than half the timeout is `WEBHOOK_SLOW` (warn); a 200 whose
//! body does not end within the timeout or runs past 1 MiB is `WEBHOOK_BAD_RESPONSE` (a client
//! waiting for the end of the answer would wait in vain).

use super::core::{Check, Ctx};
use super::trust::{self, TrustStore};
use crate::duration::humanize;
use crate::model::code;
use crate::model::Outcome;
use crate::model::{CheckId, Finding, Kind};
use crate::net::connect::{self, ConnectError};
use crate::net::http::{self, HttpError, Limits, Request};
use crate::net::proxy::{self, Route};
use crate::net::resolve;
use crate::net::tls::{self, Client, HsError, Verify};
use crate::settings::Settings;
use async_trait::async_trait;
use rustls::RootCertStore;
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

/// The roots a receiver must chain to: the `--ca-bundle` file when given (read as the trust
/// store is, expired roots left out), else the publicly trusted roots (the Mozilla set that
/// browsers and Pucomex's clients trust).
pub fn root_store(ca_bundle: Option<&Path>) -> Result<RootCertStore, String> {
    let Some(path) = ca_bundle else { return Ok(tls::public_roots()) };
    let parsed = trust::load(path).map_err(|e| format!("{}: {}", path.display(), e))?;
    let bundle = TrustStore {
        path: path.display().to_string(),
        source: "--ca-bundle".into(),
        certs: parsed.certs,
        ..TrustStore::default()
    };
    let roots = trust::roots_of(&bundle);
    if roots.is_empty() {
        return Err(format!("{}: no certificate", path.display()));
    }
    Ok(roots)
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

/// Opens the TCP connection: through the proxy, or direct to the addresses the name resolves
/// to (`--resolve`, `/etc/hosts`, DNS or `--dns-server`).
async fn open(settings: &Settings, route: &Route, host: &str, port: u16) -> Result<TcpStream, String> {
    let timeout = settings.timeout;
    if let Route::Proxy { url, .. } = route {
        return proxy::connect(url, host, port, timeout).await.map_err(|e| e.to_string());
    }
    let resolved = resolve::resolve(&settings.resolve_config(), host, port).await.map_err(|e| e.to_string())?;
    connect::first_of(&resolved.socket_addrs(), timeout).await.map_err(|e| match e {
        ConnectError::Timeout { addr } => format!("{addr}: connect timeout ({})", humanize(timeout)),
        other => other.to_string(),
    })
}

#[async_trait]
impl Check for WebhookCheck {
    fn id(&self) -> CheckId {
        CheckId::new(Kind::Webhook, self.name.clone())
    }

    async fn run(&self, ctx: &Ctx) -> Outcome {
        let settings = &ctx.settings;
        let timeout = ctx.timeout();
        let mut o = Outcome::new().evidence("url", &self.shown);
        let unreachable =
            |error: String| Finding::new(code::WEBHOOK_UNREACHABLE).with("url", &self.shown).with("error", error);
        let url = match Url::parse(&self.url) {
            Ok(u) if u.host_str().is_some() => u,
            _ => return o.finding(unreachable("invalid URL".into())),
        };
        if url.scheme() != "https" {
            return o
                .finding(Finding::new(code::WEBHOOK_NOT_HTTPS).with("url", &self.shown).with("scheme", url.scheme()));
        }
        let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_string();
        let port = url.port_or_known_default().unwrap_or(443);
        let route = settings.proxy.policy().route(&host, port);
        match &route {
            Route::Proxy { url: p, .. } => o.set_evidence("via", format!("proxy {}", proxy::display_url(p))),
            _ => o.set_evidence("via", "direct"),
        }
        let roots = match root_store(settings.ca_bundle.as_deref()) {
            Ok(r) => Arc::new(r),
            Err(e) => return Outcome::error(unreachable(e)),
        };
        o.set_evidence(
            "trust",
            settings.ca_bundle.as_ref().map(|p| p.display().to_string()).unwrap_or("public roots".into()),
        );

        // 1. The connection and its handshake: the TLS version, and an untrusted certificate
        //    told apart.
        let tcp = match open(settings, &route, &host, port).await {
            Ok(s) => s,
            Err(e) => return o.finding(unreachable(self.scrub(e))),
        };
        let Ok(name) = tls::server_name(&host) else {
            return o.finding(unreachable("invalid host name".into()));
        };
        let client = Client::new(Verify::Roots(roots)).alpn(&[b"http/1.1"]);
        let session = match client.handshake(tcp, &name, timeout).await {
            Ok(s) => s,
            Err(f) => {
                return o.finding(match f.error {
                    HsError::Timeout => unreachable(format!("TLS handshake timeout ({})", humanize(timeout))),
                    HsError::Tls(e @ rustls::Error::InvalidCertificate(_)) => {
                        Finding::new(code::WEBHOOK_TLS_UNTRUSTED).with("url", &self.shown).with("error", e.to_string())
                    }
                    other => unreachable(format!("TLS: {other}")),
                })
            }
        };
        o.set_evidence("tls_version", &session.seen.version);

        // 2. The test notification over that connection, as Pucomex would send it.
        let body = test_body(&settings.host.hostname);
        let mut request = Request::post(&url, &body)
            .header("Accept", "*/*")
            .header("Content-Type", "application/json")
            .header("X-Pen-Doctor-Test", "1")
            .header("Connection", "close");
        if let Some(credentials) = crate::net::auth::basic_from_url(&url) {
            request = request.header("Authorization", credentials.expose());
        }
        let mut conn = http::Connection::new(session.stream);
        let start = Instant::now();
        let result = conn.send(&request, Limits::default(), timeout).await;
        let elapsed = start.elapsed();
        o.set_evidence("elapsed_ms", elapsed.as_millis() as u64);
        let bad_response = |status: u16| {
            Finding::new(code::WEBHOOK_BAD_RESPONSE)
                .with("url", &self.shown)
                .with("status", status)
                .with("timeout", humanize(timeout))
                .with("limit", "1 MiB")
        };
        let response = match result {
            Ok(r) => r,
            Err(HttpError::Timeout { status: None, .. }) => {
                return o.finding(unreachable(format!("no HTTP answer within {}", humanize(timeout))));
            }
            Err(HttpError::Timeout { status: Some(status), body_bytes }) => {
                // The head came, the body never ended.
                o.set_evidence("status", status);
                o.set_evidence("body_bytes", body_bytes);
                if status != 200 {
                    return o.finding(
                        Finding::new(code::WEBHOOK_BAD_STATUS).with("url", &self.shown).with("status", status),
                    );
                }
                return o.finding(bad_response(status));
            }
            Err(e) => return o.finding(unreachable(self.scrub(e))),
        };
        let status = response.status;
        let shown_body: String = response.text().chars().take(200).collect();
        o.set_evidence("status", status);
        o.set_evidence("body", &shown_body);
        if response.truncated {
            // Only this much was read; the answer went on.
            o.set_evidence("body_bytes", response.body.len());
            o.set_evidence("body_truncated", true);
        }
        if status != 200 {
            return o.finding(Finding::new(code::WEBHOOK_BAD_STATUS).with("url", &self.shown).with("status", status));
        }
        if response.truncated {
            return o.finding(bad_response(status));
        }
        let elapsed_text = humanize(Duration::from_millis(elapsed.as_millis() as u64));
        if elapsed > timeout / 2 {
            o.push(
                Finding::new(code::WEBHOOK_SLOW)
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
