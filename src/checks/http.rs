//! `http:<target>`: asks the service itself, over the connection `tls:<target>` verified (with
//! the client certificate for mutual-TLS targets): Tramita's `healthcheck` and
//! `tramites/pendentes?todas=0` (REST era) or its WSDL (SOAP era), built as the installed module
//! builds them (see [`crate::sei::webservice`]), the pendências long-poll, the Protocolo Integrado WSDL
//! (HTTP Basic), the Pucomex base URL. Every request of the run goes over that one connection;
//! when the server closes it, the next request opens another and says why in its evidence.
//! Tells a refused client certificate from server errors and from foreign answers.

use super::core::{Check, Ctx};
use super::facts::{self, DateSample, HttpFact, IdentityFact, TlsFact};
use super::host_curl::{self, CurlRequest, CurlSays};
use crate::duration::humanize;
use crate::model::check_id::CERT_PUCOMEX;
use crate::model::code;
use crate::model::Outcome;
use crate::model::{CheckId, Finding, Kind, TargetName};
use crate::net::http::{self, HttpError, Limits, Request, Response};
use crate::net::tls::{self, Client, ClientIdentity, HsError, Verify};
use crate::secret::Secret;
use crate::sei::webservice;
use crate::settings::Settings;
use crate::targets::Target;
use async_trait::async_trait;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use url::Url;

/// Why a request got no HTTP answer.
#[derive(Debug)]
pub enum ReqError {
    Handshake(HsError),
    /// Nothing (or not all) came back within the timeout.
    Timeout,
    Io(HsError),
    /// The answer breaks HTTP/1.x, its framing or the bounds.
    Answer(http::Malformed),
    Malformed(String),
}

impl From<HttpError> for ReqError {
    fn from(e: HttpError) -> Self {
        match e {
            HttpError::Timeout { .. } => ReqError::Timeout,
            HttpError::Closed => ReqError::Io(HsError::Io(e.to_string())),
            HttpError::Malformed(m) => ReqError::Answer(m),
            HttpError::Io(io) => ReqError::Io(HsError::from_io(io)),
        }
    }
}

fn looks_html(r: &Response) -> bool {
    let ct = r.header("content-type").unwrap_or("").to_ascii_lowercase();
    let head = r.text().chars().take(512).collect::<String>().to_ascii_lowercase();
    ct.contains("text/html") || head.trim_start().starts_with("<!doctype html") || head.contains("<html")
}

/// The connection `http:<target>` speaks over: the one `tls:<target>` verified and handed over,
/// then, when the server closes it, a new one along the same path with the same identity.
struct Link<'a> {
    fact: &'a TlsFact,
    identity: Option<ClientIdentity>,
    /// The identity could not be made usable for a handshake: no request can be made.
    identity_error: Option<String>,
    conn: Option<http::Connection<TlsStream<TcpStream>>>,
    /// Why the next request needs a new connection.
    reconnect_because: Option<&'static str>,
    /// Connections used so far (the one handed over counts).
    used: u32,
    timeout: Duration,
    /// The server's clock read from the `Date` of each answer (the tightest kept).
    clock: Option<DateSample>,
}

/// Where a request went: the connection's number and, when it was opened for this request, why.
struct Via {
    connection: u32,
    opened_because: Option<&'static str>,
}

impl<'a> Link<'a> {
    fn new(fact: &'a TlsFact, identity: Option<&facts::Identity>, timeout: Duration) -> Self {
        let (identity, identity_error) =
            match identity.map(|id| ClientIdentity::new(id.certs.clone(), id.key.clone_key())) {
                None => (None, None),
                Some(Ok(id)) => (Some(id), None),
                Some(Err(e)) => (None, Some(e.to_string())),
            };
        Link { fact, identity, identity_error, conn: None, reconnect_because: None, used: 0, timeout, clock: None }
    }

    /// A new connection along the verified path, within `timeout`; either way, where the
    /// request went.
    async fn open(&mut self, because: &'static str, timeout: Duration) -> (Result<(), ReqError>, Via) {
        self.used += 1;
        let via = Via { connection: self.used, opened_because: Some(because) };
        let name = match tls::server_name(&self.fact.host) {
            Ok(n) => n,
            Err(e) => return (Err(ReqError::Malformed(e.to_string())), via),
        };
        let client = Client::new(Verify::Roots(Arc::clone(&self.fact.roots)))
            .identity(self.identity.clone())
            .alpn(&[b"http/1.1"]);
        match client.open(&self.fact.path, &name, timeout).await {
            Ok(session) => {
                self.conn = Some(http::Connection::new(session.stream));
                (Ok(()), via)
            }
            Err(f) => (Err(ReqError::Handshake(f.error)), via),
        }
    }

    /// The connection for the next request: the current one, the one `tls:<target>` handed over,
    /// or a new one.
    async fn ready(&mut self, timeout: Duration) -> (Result<(), ReqError>, Via) {
        if self.conn.is_some() {
            return (Ok(()), Via { connection: self.used, opened_because: None });
        }
        if self.used == 0 {
            // The tls check's handshake is ours only if it offered the same identity.
            if self.fact.identity_offered == self.identity.is_some() {
                if let Some(refusal) = &self.fact.refused {
                    // What this request would meet: the refusal the tls check already met.
                    self.used = 1;
                    self.reconnect_because = Some("the server refused the previous handshake");
                    return (Err(ReqError::Handshake(refusal.clone())), Via { connection: 1, opened_because: None });
                }
                if let Some(session) = self.fact.session.take() {
                    self.used = 1;
                    self.conn = Some(http::Connection::new(session.stream));
                    return (Ok(()), Via { connection: 1, opened_because: None });
                }
            }
            return self.open("the verified connection was not available", timeout).await;
        }
        let because = self.reconnect_because.unwrap_or("the previous connection ended");
        self.open(because, timeout).await
    }

    /// One request over the link, the whole of it (a new handshake included) within the timeout.
    async fn send(&mut self, request: &Request<'_>) -> (Result<Response, ReqError>, Via) {
        let deadline = Instant::now() + self.timeout;
        let left = || deadline.saturating_duration_since(Instant::now());
        if let Some(e) = &self.identity_error {
            return (Err(ReqError::Malformed(e.clone())), Via { connection: 0, opened_because: None });
        }
        let (ready, mut via) = self.ready(left()).await;
        if let Err(e) = ready {
            return (Err(e), via);
        }
        let mut result = self.exchange(request, left()).await;
        // A connection that was already open may have been closed by the server while idle:
        // nothing came back. Once, on a new connection (the requests are idempotent GETs).
        if matches!(&result, Err(e) if e.nothing_received()) && via.opened_because.is_none() {
            let (opened, again) = self.open("the server had closed the idle connection", left()).await;
            via = again;
            if let Err(e) = opened {
                return (Err(e), via);
            }
            result = self.exchange(request, left()).await;
        }
        (result.map_err(ReqError::from), via)
    }

    /// A GET of `url` (with Basic credentials when given), for evidence and judgement.
    async fn get(&mut self, url: Url, auth: Option<&Secret>) -> Step {
        let start = Instant::now();
        let mut request = Request::get(&url).header("Accept", "*/*");
        if let Some(a) = auth {
            request = request.header("Authorization", a.expose());
        }
        let sent = SystemTime::now();
        let (result, via) = self.send(&request).await;
        let received = SystemTime::now();
        if let Ok(r) = &result {
            if let Some(sample) = r.date().and_then(|d| DateSample::new(url.as_str(), d, sent, received)) {
                if self.clock.as_ref().is_none_or(|c| sample.uncertainty_secs < c.uncertainty_secs) {
                    self.clock = Some(sample);
                }
            }
        }
        Step { url, result, ms: start.elapsed().as_millis() as u64, via }
    }

    async fn exchange(&mut self, request: &Request<'_>, timeout: Duration) -> Result<Response, HttpError> {
        let Some(conn) = self.conn.as_mut() else { return Err(HttpError::Closed) };
        let result = conn.send(request, Limits::default(), timeout).await;
        if !conn.reusable() {
            self.reconnect_because = Some(match &result {
                Ok(r) if r.truncated || r.cut_short => "the previous answer was not read to its end",
                Ok(_) => "the server closed the connection after the previous answer",
                Err(_) => "the previous request failed on that connection",
            });
            self.conn = None;
        }
        result
    }

    /// Closes the connection still open, politely and briefly.
    async fn close(mut self) -> u32 {
        if let Some(conn) = self.conn.take() {
            conn.close(Duration::from_millis(500).min(self.timeout)).await;
        }
        self.used
    }
}

/// Whether a body is a WSDL document: its root element is `definitions` (WSDL 1.1) or
/// `description` (WSDL 2.0) in the WSDL namespace.
pub fn is_wsdl(body: &str) -> bool {
    let mut rest = body.trim_start_matches('\u{feff}');
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("<?") {
            let Some(end) = r.find("?>") else { return false };
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix("<!--") {
            let Some(end) = r.find("-->") else { return false };
            rest = &r[end + 3..];
        } else if let Some(r) = rest.strip_prefix("<!") {
            let Some(end) = r.find('>') else { return false };
            rest = &r[end + 1..];
        } else {
            break;
        }
    }
    let Some(tag) = rest.strip_prefix('<') else { return false };
    let Some(end) = tag.find('>') else { return false };
    let tag = &tag[..end];
    let name = tag.split(|c: char| c.is_whitespace() || c == '/').next().unwrap_or("");
    let (prefix, local) = match name.split_once(':') {
        Some((p, l)) => (Some(p), l),
        None => (None, name),
    };
    let ns_attr = match prefix {
        Some(p) => format!("xmlns:{p}="),
        None => "xmlns=".to_string(),
    };
    let ns = tag.find(&ns_attr).and_then(|i| {
        let v = &tag[i + ns_attr.len()..];
        let q = v.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        v[1..].split(q).next().map(str::to_string)
    });
    matches!(
        (local, ns.as_deref()),
        ("definitions", Some("http://schemas.xmlsoap.org/wsdl/")) | ("description", Some("http://www.w3.org/ns/wsdl"))
    )
}

/// The 400 pages nginx answers when `ssl_verify_client` refuses the client certificate.
fn nginx_cert_page(r: &Response) -> bool {
    let t = r.text();
    r.status == 400
        && (t.contains("No required SSL certificate was sent")
            || t.contains("The SSL certificate error")
            || t.contains("SSL certificate error"))
}

pub struct HttpCheck {
    target: Target,
    /// The `cert:*` check that holds the identity (mutual-TLS targets only).
    cert_check: Option<CheckId>,
}

/// One `http:<target>` per target.
pub fn checks(settings: &Arc<Settings>) -> Vec<Box<dyn Check>> {
    settings
        .targets
        .iter()
        .map(|t| {
            let cert_check = t.mutual_tls.then(|| CheckId::cert_for(t.name));
            Box::new(HttpCheck { target: t.clone(), cert_check }) as Box<dyn Check>
        })
        .collect()
}

/// The outcome of one request, for evidence and judgement.
struct Step {
    url: Url,
    result: Result<Response, ReqError>,
    ms: u64,
    via: Via,
}

impl Step {
    fn evidence(&self) -> serde_json::Value {
        let mut v = match &self.result {
            Ok(r) => json!({"url": self.url.as_str(), "status": r.status, "ms": self.ms,
                            "content_type": r.header("content-type"), "bytes": r.body.len(),
                            "date": r.date()}),
            Err(e) => json!({"url": self.url.as_str(), "ms": self.ms, "error": describe(e)}),
        };
        v["connection"] = json!(self.via.connection);
        if let Some(why) = self.via.opened_because {
            v["new_connection"] = json!(why);
        }
        v
    }
}

fn describe(e: &ReqError) -> String {
    match e {
        ReqError::Handshake(h) | ReqError::Io(h) => h.to_string(),
        ReqError::Timeout => "timeout".into(),
        ReqError::Answer(m) => m.to_string(),
        ReqError::Malformed(m) => m.clone(),
    }
}

/// A refusal of the client certificate in a TLS-level error.
fn cert_alert(e: &ReqError) -> Option<String> {
    match e {
        ReqError::Handshake(HsError::Tls(rustls::Error::AlertReceived(a)))
        | ReqError::Io(HsError::Tls(rustls::Error::AlertReceived(a)))
            if tls::is_client_cert_alert(a) =>
        {
            Some(format!("TLS alert {a:?}"))
        }
        _ => None,
    }
}

/// When the server's CertificateRequest listed acceptable CAs and no certificate of the chain
/// we send is issued by (or is) one of them: our top issuer, and the names the server listed.
fn issuer_not_accepted(id: &facts::Identity, fact: &TlsFact) -> Option<(String, Vec<String>)> {
    let request = fact.seen.certificate_request.as_ref()?;
    if request.acceptable_cas.is_empty() {
        return None;
    }
    let infos: Vec<crate::pki::CertInfo> = id.certs.iter().filter_map(|d| crate::pki::cert_info(d)).collect();
    let listed = |name: &[u8]| request.acceptable_cas.iter().any(|ca| ca.as_slice() == name);
    if infos.is_empty() || infos.iter().any(|c| listed(&c.issuer_raw) || listed(&c.subject_raw)) {
        return None;
    }
    let top = infos.iter().find(|c| !infos.iter().any(|o| o.subject_raw == c.issuer_raw)).unwrap_or(&infos[0]);
    let names = request.acceptable_cas.iter().take(20).map(|der| super::tls::name_text(der)).collect();
    Some((top.issuer.clone(), names))
}

fn snippet(r: &Response) -> String {
    let t = r.text();
    let t: String = t.split_whitespace().collect::<Vec<_>>().join(" ");
    t.chars().take(120).collect()
}

/// What a verdict says, in words (said in Portuguese through `checks/phrases.toml`).
fn says_text(s: CurlSays) -> &'static str {
    match s {
        CurlSays::Ok => "the server answered over TLS",
        CurlSays::ServerUntrusted => "the server's certificate is not trusted",
        CurlSays::ClientCertUnusable => "the client certificate could not be used",
        CurlSays::ClientCertRejected => "the server refused the client certificate",
        CurlSays::Other => "no verdict",
    }
}

impl HttpCheck {
    /// Our own verdict on the first request, in the terms of the host's curl; `None` when the
    /// request got no answer for a reason that is not the certificates'.
    fn ours(&self, o: &Outcome, mtls: bool, cert_unusable: bool, answered: bool) -> Option<CurlSays> {
        let rejected = o.findings.iter().any(|f| {
            matches!(
                f.code,
                code::CLIENT_CERT_REJECTED | code::CLIENT_CERT_CHAIN_NOT_SENT | code::CLIENT_CERT_ISSUER_NOT_ACCEPTED
            )
        });
        if mtls && cert_unusable {
            Some(CurlSays::ClientCertUnusable)
        } else if mtls && rejected {
            Some(CurlSays::ClientCertRejected)
        } else if answered {
            Some(CurlSays::Ok)
        } else {
            None
        }
    }

    /// The host's `curl` on the first request, the way PHP's curl goes (PHP's store, the
    /// module's certificate and password, the same address or proxy): evidence, and
    /// `HOST_CURL_DISAGREES` when its verdict on the certificates differs from ours.
    async fn host_curl(&self, ctx: &Ctx, fact: &TlsFact, url: &Url, ours: CurlSays, o: &mut Outcome) {
        // Only where PHP's curl extension is, and a curl built on the same libcurl: elsewhere
        // the command's verdict is not PHP's, and its connection would be one more for nothing.
        let Some(php) = &fact.php_curl else { return };
        if !host_curl::stands_for_php(php.libcurl.as_deref()) {
            return;
        }
        let s = &ctx.settings;
        let left = s.deadline.saturating_sub(s.started.elapsed()).saturating_sub(Duration::from_secs(1));
        let timeout = ctx.timeout().min(left);
        if timeout < Duration::from_millis(200) {
            return;
        }
        let (file, password) = match &self.cert_check {
            Some(c) if *c == CERT_PUCOMEX => (s.pucomex_cert.as_deref(), s.pucomex_password.as_ref()),
            Some(_) => (s.cert.as_deref(), s.cert_password.as_ref()),
            None => (None, None),
        };
        let request =
            CurlRequest { url, store: &fact.store, cert: file.map(|f| (f, password)), path: &fact.path, timeout };
        let mtls = self.cert_check.is_some();
        let Some(verdict) = host_curl::curl_verdict(&request, mtls).await else { return };
        o.set_evidence("host_curl", &verdict);
        // Our handshake verified the chain with the same store: a ServerUntrusted differs too.
        if verdict.says != CurlSays::Other && verdict.says != ours {
            o.push(
                Finding::new(code::HOST_CURL_DISAGREES)
                    .with("host", &fact.host)
                    .with("tool", &verdict.tool)
                    .with("curl", format!("{} ({})", says_text(verdict.says), verdict.result))
                    .with("ours", says_text(ours)),
            );
        }
    }
}

#[async_trait]
impl Check for HttpCheck {
    fn id(&self) -> CheckId {
        CheckId::target(Kind::Http, self.target.name)
    }
    fn target(&self) -> Option<TargetName> {
        Some(self.target.name)
    }
    fn depends_on(&self) -> Vec<CheckId> {
        let mut d = vec![CheckId::target(Kind::Tls, self.target.name)];
        d.extend(self.cert_check.iter().cloned());
        d
    }

    async fn run(&self, ctx: &Ctx) -> Outcome {
        let tls_id = CheckId::target(Kind::Tls, self.target.name);
        let Some(fact) = ctx.fact::<TlsFact>(&tls_id) else {
            return Outcome::skipped(tls_id);
        };
        // Through an inspecting device the answers (and any refusal of the client certificate)
        // are the device's, not the service's: nothing to learn from asking.
        if let Some(vendor) = &fact.intercepted {
            return Outcome::skipped(format!("{tls_id}: TLS_INTERCEPTED ({vendor})"));
        }
        let timeout = ctx.timeout();
        let cert_fact = self.cert_check.as_ref().and_then(|c| ctx.fact::<IdentityFact>(c));
        let identity = cert_fact.and_then(|f| f.identity.clone());
        let cert_path = cert_fact.map(|f| f.path.clone());
        let sent = match (&identity, &self.cert_check) {
            (Some(id), _) => id.subject.clone(),
            (None, Some(_)) => match cert_path.as_deref() {
                None | Some(facts::NOT_CONFIGURED) => "none configured".to_string(),
                Some(p) => format!("{p} could not be loaded"),
            },
            (None, None) => "none (not required)".into(),
        };
        let mut o = Outcome::new().evidence("client_certificate", &sent);
        let mut steps: Vec<serde_json::Value> = Vec::new();
        let mut link = Link::new(fact, identity.as_deref(), timeout);
        let base = self.target.url.clone();
        let mtls = self.cert_check.is_some();
        // The judgement of a response common to every service: certificate refused, server error.
        let host = fact.host.clone();
        let addr = fact.path.describe();
        let chain_gap = cert_fact.and_then(|f| f.chain_gap.clone());
        let not_accepted = identity.as_deref().and_then(|id| issuer_not_accepted(id, fact));
        let common = |s: &Step| -> Option<Finding> {
            let rejected = |answer: String| {
                // What the server could not accept, when we can tell: a chain it cannot build
                // (the file lacks an intermediate), an issuer it does not list.
                if let (Some(id), Some(missing)) = (&identity, &chain_gap) {
                    return Some(
                        Finding::new(code::CLIENT_CERT_CHAIN_NOT_SENT)
                            .with("host", &host)
                            .with("subject", &id.subject)
                            .with("missing", missing)
                            .with("answer", &answer)
                            .with("url", s.url.as_str()),
                    );
                }
                if let Some((issuer, accepted)) = &not_accepted {
                    return Some(
                        Finding::new(code::CLIENT_CERT_ISSUER_NOT_ACCEPTED)
                            .with("host", &host)
                            .with("issuer", issuer)
                            .with("accepted", accepted.join("; "))
                            .with("answer", &answer)
                            .with("url", s.url.as_str()),
                    );
                }
                let reason = if identity.is_some() {
                    format!("{answer} (certificate sent: {sent})")
                } else {
                    format!("{answer} (no client certificate was sent: {sent})")
                };
                Some(
                    Finding::new(code::CLIENT_CERT_REJECTED)
                        .with("host", &host)
                        .with("reason", reason)
                        .with("url", s.url.as_str()),
                )
            };
            match &s.result {
                Err(e) => {
                    if let Some(a) = cert_alert(e) {
                        if mtls {
                            return rejected(a);
                        }
                    }
                    match e {
                        ReqError::Timeout => Some(
                            Finding::new(code::HTTP_TIMEOUT)
                                .with("url", s.url.as_str())
                                .with("timeout", humanize(timeout)),
                        ),
                        ReqError::Handshake(HsError::Timeout) => Some(
                            Finding::new(code::TLS_TIMEOUT)
                                .with("host", &host)
                                .with("addr", &addr)
                                .with("timeout", humanize(timeout)),
                        ),
                        ReqError::Handshake(h) => Some(
                            Finding::new(code::TLS_HANDSHAKE_FAILED)
                                .with("host", &host)
                                .with("addr", &addr)
                                .with("error", h.to_string()),
                        ),
                        other => Some(
                            Finding::new(code::HTTP_UNEXPECTED_RESPONSE)
                                .with("url", s.url.as_str())
                                .with("status", "-")
                                .with("detail", describe(other)),
                        ),
                    }
                }
                Ok(r) if nginx_cert_page(r) => rejected(format!("HTTP 400: {}", snippet(r))),
                Ok(r) if mtls && (r.status == 401 || r.status == 403) => rejected(format!("HTTP {}", r.status)),
                Ok(r) if r.status >= 500 => {
                    Some(Finding::new(code::HTTP_SERVER_ERROR).with("url", s.url.as_str()).with("status", r.status))
                }
                Ok(_) => None,
            }
        };
        let unexpected = |s: &Step, what: &str| {
            let (status, answer) = match &s.result {
                Ok(r) => (r.status.to_string(), snippet(r)),
                Err(e) => ("-".into(), describe(e)),
            };
            Finding::new(code::HTTP_UNEXPECTED_RESPONSE)
                .with("url", s.url.as_str())
                .with("status", status)
                .with("detail", format!("expected {what}, got: {answer}"))
        };
        let mut last_ok: Option<(String, u16)> = None;
        match self.target.name {
            TargetName::Tramita => {
                // What the installed module requests, as it builds it (REALITY §2): the era says
                // SOAP or REST; an unknown version goes by the address. `http` does not depend
                // on `config:sei` (its target's URL came with the settings, from flags or from
                // the installation read at start), so neither does the era it judges by.
                let sei = ctx.settings.sei.as_ref();
                let era = sei.and_then(|s| s.pen_era());
                let configured = match self.target.source {
                    crate::targets::UrlSource::SeiConfig => {
                        sei.and_then(|s| s.pen.as_ref()).and_then(|p| p.web_service.clone())
                    }
                    _ => None,
                }
                .unwrap_or_else(|| base.to_string());
                let api = webservice::api_of(&configured, era).unwrap_or(crate::eras::Api::Rest);
                o.set_evidence("api", api.as_str());
                o.set_evidence("era", era.map(|e| e.id.as_str()));
                match webservice::module_requests(&configured, api) {
                    Some(webservice::Requests::Soap { wsdl }) => {
                        let url = Url::parse(&wsdl).unwrap_or_else(|_| base.clone());
                        let s = link.get(url, None).await;
                        steps.push(s.evidence());
                        if let Some(f) = common(&s) {
                            o.push(f);
                        } else if let Ok(r) = &s.result {
                            if r.status == 200 && is_wsdl(&r.text()) {
                                last_ok = Some((s.url.to_string(), r.status));
                            } else {
                                o.push(unexpected(&s, "WSDL"));
                            }
                        }
                    }
                    Some(webservice::Requests::Rest { healthcheck, pendentes }) => {
                        let health = Url::parse(&healthcheck).unwrap_or_else(|_| base.clone());
                        let s = link.get(health, None).await;
                        steps.push(s.evidence());
                        let health_ok = match common(&s) {
                            Some(f) => {
                                o.push(f);
                                false
                            }
                            None => match &s.result {
                                Ok(r) if (200..300).contains(&r.status) && !looks_html(r) => true,
                                _ => {
                                    o.push(unexpected(&s, "healthcheck 200"));
                                    false
                                }
                            },
                        };
                        if health_ok {
                            last_ok = Some((s.url.to_string(), 200));
                            let pend = Url::parse(&pendentes).unwrap_or_else(|_| base.clone());
                            let s = link.get(pend, None).await;
                            steps.push(s.evidence());
                            match &s.result {
                                Ok(r) if (r.status == 401 || r.status == 403) && !nginx_cert_page(r) => o.push(
                                    Finding::new(code::TRAMITA_NOT_AUTHORIZED)
                                        .with("url", s.url.as_str())
                                        .with("status", r.status),
                                ),
                                _ => match common(&s) {
                                    Some(f) => o.push(f),
                                    None => match &s.result {
                                        Ok(r) if (200..300).contains(&r.status) && !looks_html(r) => {
                                            last_ok = Some((s.url.to_string(), r.status))
                                        }
                                        _ => o.push(unexpected(&s, "tramites/pendentes 200")),
                                    },
                                },
                            }
                        }
                    }
                    None => {
                        let s = link.get(base.clone(), None).await;
                        steps.push(s.evidence());
                        if let Some(f) = common(&s) {
                            o.push(f);
                        }
                    }
                }
            }
            TargetName::Pendencias => {
                let s = link.get(base.clone(), None).await;
                steps.push(s.evidence());
                match &s.result {
                    // The long-poll held open until our timeout: the service is there.
                    Err(ReqError::Timeout) => {
                        o.set_evidence("long_poll", "held");
                        last_ok = Some((s.url.to_string(), 0));
                    }
                    _ => match common(&s) {
                        Some(f) => o.push(f),
                        None => {
                            if let Ok(r) = &s.result {
                                last_ok = Some((s.url.to_string(), r.status));
                            }
                        }
                    },
                }
            }
            TargetName::ProtocoloIntegrado => {
                let mut url = base.clone();
                if url.query().is_none() {
                    url.set_query(Some("wsdl"));
                }
                let auth = ctx.settings.pi_user.as_ref().map(|u| {
                    crate::net::auth::basic(u, ctx.settings.pi_password.as_ref().map(Secret::expose).unwrap_or(""))
                });
                o.set_evidence("basic_auth_user", ctx.settings.pi_user.clone().unwrap_or_else(|| "(none)".into()));
                let s = link.get(url, auth.as_ref()).await;
                steps.push(s.evidence());
                match &s.result {
                    Ok(r) if r.status == 401 => o.push(
                        Finding::new(code::PI_WS_AUTH_FAILED)
                            .with("url", s.url.as_str())
                            .with("user", ctx.settings.pi_user.clone().unwrap_or_else(|| "(none)".into())),
                    ),
                    _ => match common(&s) {
                        Some(f) => o.push(f),
                        None => match &s.result {
                            Ok(r) if r.status == 200 && is_wsdl(&r.text()) => last_ok = Some((s.url.to_string(), 200)),
                            _ => o.push(unexpected(&s, "WSDL")),
                        },
                    },
                }
            }
            _ => {
                let s = link.get(base.clone(), None).await;
                steps.push(s.evidence());
                match common(&s) {
                    Some(f) => o.push(f),
                    None => {
                        if let Ok(r) = &s.result {
                            last_ok = Some((s.url.to_string(), r.status));
                        }
                    }
                }
            }
        }
        let first_url = steps.first().and_then(|s| s["url"].as_str()).and_then(|u| Url::parse(u).ok());
        let first_answered = steps.first().is_some_and(|s| s.get("status").is_some());
        o.set_evidence("requests", steps);
        let clock = link.clock.take();
        let connections = link.close().await;
        o.set_evidence("connections", connections);
        if let Some(url) = first_url {
            let cert_unusable = identity.is_none() && cert_path.as_deref().is_some_and(|p| p != facts::NOT_CONFIGURED);
            // Without a verdict of ours (a held long-poll, a timeout) there is nothing to compare.
            if let Some(ours) = self.ours(&o, mtls, cert_unusable, first_answered) {
                self.host_curl(ctx, fact, &url, ours, &mut o).await;
            }
        }
        if let Some((url, status)) = last_ok {
            o = o
                .summary("url", url)
                .summary("status", if status == 0 { "held (long-poll)".to_string() } else { status.to_string() });
        }
        o.set_fact(HttpFact { clock });
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wsdl_detection() {
        assert!(is_wsdl(
            r#"<?xml version="1.0"?><!-- x --><wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" name="a">"#
        ));
        assert!(is_wsdl(r#"<definitions xmlns="http://schemas.xmlsoap.org/wsdl/">"#));
        assert!(!is_wsdl("<html><body>login</body></html>"));
        assert!(!is_wsdl(""));
        assert!(!is_wsdl("<definitions xmlns='urn:other'>"));
    }

    #[test]
    fn random_documents_never_panic() {
        let seeds: [&[u8]; 2] = [
            br#"<?xml version="1.0"?><wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/">"#,
            br#"<!-- c --><description xmlns='http://www.w3.org/ns/wsdl'>"#,
        ];
        crate::mutation::mutants(&seeds, 5000, |v| {
            let _ = is_wsdl(&String::from_utf8_lossy(v));
        });
    }
}
