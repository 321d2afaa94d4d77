//! `http:<target>`: asks the service itself, over the verified TLS path and with the client
//! certificate for mutual-TLS targets: Tramita REST `healthcheck` and `tramites/pendentes` or the
//! SOAP WSDL, the pendências long-poll, the Protocolo Integrado WSDL (HTTP Basic), the Pucomex
//! base URL. Tells a refused client certificate from server errors and from foreign answers.

use super::client_cert::{self, IdentityFact};
use super::tls::{self, HsError, Recorder, TlsFact};
use super::{Check, Ctx, Outcome};
use crate::duration::humanize;
use crate::report::model::Finding;
use crate::settings::Settings;
use crate::targets::Target;
use async_trait::async_trait;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

/// Most bytes read of a response body.
pub const MAX_BODY: usize = 1024 * 1024;
/// Most bytes of a response head (status line and headers).
pub const MAX_HEAD: usize = 64 * 1024;

/// One HTTP answer.
#[derive(Debug, Default)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn looks_html(&self) -> bool {
        let ct = self.header("content-type").unwrap_or("").to_ascii_lowercase();
        let head = self.text().chars().take(512).collect::<String>().to_ascii_lowercase();
        ct.contains("text/html") || head.trim_start().starts_with("<!doctype html") || head.contains("<html")
    }
}

/// Why a request got no HTTP answer.
#[derive(Debug)]
pub enum ReqError {
    Handshake(HsError),
    /// Nothing (or not all) came back within the timeout; `started` tells whether bytes arrived.
    Timeout,
    Io(HsError),
    Malformed(String),
}

/// A parsed response head: where the body starts, the status, the headers.
pub type Head = (usize, u16, Vec<(String, String)>);

/// Parses a response head; `None` when incomplete, `Err` when malformed.
pub fn parse_head(buf: &[u8]) -> Option<Result<Head, String>> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let proto = parts.next().unwrap_or("");
    let status = parts.next().and_then(|s| s.parse::<u16>().ok());
    let Some(status) = status.filter(|_| proto.starts_with("HTTP/")) else {
        return Some(Err(format!("not an HTTP answer: {:?}", status_line.chars().take(80).collect::<String>())));
    };
    let headers =
        lines.filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))).collect();
    Some(Ok((end + 4, status, headers)))
}

/// Decodes a chunked body as far as it goes (bounded by [`MAX_BODY`]); `true` when complete.
pub fn dechunk(raw: &[u8], out: &mut Vec<u8>) -> bool {
    let mut rest = raw;
    loop {
        let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else { return false };
        let size_text = String::from_utf8_lossy(&rest[..eol]);
        let Ok(size) = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16) else {
            return true;
        };
        if size == 0 {
            return true;
        }
        let start = eol + 2;
        let end = match start.checked_add(size) {
            Some(end) if end <= rest.len() => end,
            // Not all there (yet), or a size no answer can have.
            _ => {
                out.extend_from_slice(&rest[start.min(rest.len())..]);
                out.truncate(MAX_BODY);
                return false;
            }
        };
        out.extend_from_slice(&rest[start..end]);
        if out.len() >= MAX_BODY {
            out.truncate(MAX_BODY);
            return true;
        }
        rest = rest.get(end + 2..).unwrap_or(&[]);
    }
}

/// One GET over a fresh TLS connection along the verified path, bounded by `timeout`.
pub async fn get(
    fact: &TlsFact,
    identity: Option<&client_cert::Identity>,
    url: &Url,
    auth: Option<&str>,
    timeout: Duration,
) -> Result<Response, ReqError> {
    let recorder = Recorder::verifying(Arc::clone(&fact.roots));
    let config = tls::client_config(recorder, identity).map_err(|e| ReqError::Malformed(e.to_string()))?;
    let name = tls::server_name(&fact.host).map_err(ReqError::Malformed)?;
    let deadline = Instant::now() + timeout;
    let mut stream = tls::handshake(&fact.path, config, name, timeout).await.map_err(ReqError::Handshake)?;
    let mut target = url.path().to_string();
    if let Some(q) = url.query() {
        target.push('?');
        target.push_str(q);
    }
    let host_header = match url.port() {
        Some(p) => format!("{}:{p}", fact.host),
        None => fact.host.clone(),
    };
    let mut req = format!(
        "GET {target} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: pen-doctor/{}\r\nAccept: */*\r\nConnection: close\r\n",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(a) = auth {
        req.push_str(&format!("Authorization: Basic {a}\r\n"));
    }
    req.push_str("\r\n");
    let remaining = deadline.saturating_duration_since(Instant::now());
    let io = async {
        stream.write_all(req.as_bytes()).await.map_err(|e| ReqError::Io(HsError::from_io(e)))?;
        stream.flush().await.map_err(|e| ReqError::Io(HsError::from_io(e)))?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        let mut head: Option<Head> = None;
        loop {
            let n = match stream.read(&mut chunk).await {
                Ok(n) => n,
                // A peer that closes without close_notify: treat as the end of the body.
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && head.is_some() => 0,
                Err(e) => return Err(ReqError::Io(HsError::from_io(e))),
            };
            buf.extend_from_slice(&chunk[..n]);
            if head.is_none() {
                match parse_head(&buf) {
                    Some(Ok(h)) => head = Some(h),
                    Some(Err(e)) => return Err(ReqError::Malformed(e)),
                    None if buf.len() > MAX_HEAD => {
                        return Err(ReqError::Malformed("response headers too large".into()))
                    }
                    None if n == 0 => {
                        return Err(ReqError::Io(HsError::Io("connection closed without an HTTP answer".into())))
                    }
                    None => continue,
                }
            }
            let Some((start, status, headers)) = &head else { continue };
            let body_raw = &buf[*start..];
            let resp = |body: Vec<u8>| Response { status: *status, headers: headers.clone(), body };
            let chunked = headers.iter().any(|(k, v)| {
                k.eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked")
            });
            let length = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.parse::<usize>().ok());
            if chunked {
                let mut body = Vec::new();
                if dechunk(body_raw, &mut body) || n == 0 {
                    return Ok(resp(body));
                }
            } else if let Some(len) = length {
                if body_raw.len() >= len.min(MAX_BODY) || n == 0 {
                    return Ok(resp(body_raw[..body_raw.len().min(len).min(MAX_BODY)].to_vec()));
                }
            } else if n == 0 || body_raw.len() >= MAX_BODY || *status == 204 || *status == 304 {
                return Ok(resp(body_raw[..body_raw.len().min(MAX_BODY)].to_vec()));
            }
            if body_raw.len() >= MAX_BODY {
                return Ok(resp(body_raw[..MAX_BODY].to_vec()));
            }
        }
    };
    match tokio::time::timeout(remaining, io).await {
        Ok(r) => r,
        Err(_) => Err(ReqError::Timeout),
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
    cert_check: Option<&'static str>,
}

/// One `http:<target>` per target.
pub fn checks(settings: &Arc<Settings>) -> Vec<Box<dyn Check>> {
    settings
        .targets
        .iter()
        .map(|t| {
            let cert_check = t.mutual_tls.then(|| client_cert::check_id_for(&t.name));
            Box::new(HttpCheck { target: t.clone(), cert_check }) as Box<dyn Check>
        })
        .collect()
}

/// The outcome of one request, for evidence and judgement.
struct Step {
    url: Url,
    result: Result<Response, ReqError>,
    ms: u64,
}

impl Step {
    fn evidence(&self) -> serde_json::Value {
        match &self.result {
            Ok(r) => json!({"url": self.url.as_str(), "status": r.status, "ms": self.ms,
                            "content_type": r.header("content-type"), "bytes": r.body.len()}),
            Err(e) => json!({"url": self.url.as_str(), "ms": self.ms, "error": describe(e)}),
        }
    }
}

fn describe(e: &ReqError) -> String {
    match e {
        ReqError::Handshake(h) | ReqError::Io(h) => h.describe(),
        ReqError::Timeout => "timeout".into(),
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

fn snippet(r: &Response) -> String {
    let t = r.text();
    let t: String = t.split_whitespace().collect::<Vec<_>>().join(" ");
    t.chars().take(120).collect()
}

#[async_trait]
impl Check for HttpCheck {
    fn id(&self) -> String {
        format!("http:{}", self.target.name)
    }
    fn kind(&self) -> &'static str {
        "http"
    }
    fn target(&self) -> Option<String> {
        Some(self.target.name.clone())
    }
    fn depends_on(&self) -> Vec<String> {
        let mut d = vec![format!("tls:{}", self.target.name)];
        if let Some(c) = self.cert_check {
            d.push(c.to_string());
        }
        d
    }

    async fn run(&self, ctx: &Ctx) -> Outcome {
        let tls_id = format!("tls:{}", self.target.name);
        let Some(fact) = ctx.fact::<TlsFact>(&tls_id).cloned() else {
            return Outcome::skipped(tls_id);
        };
        let timeout = ctx.timeout();
        let identity = self.cert_check.and_then(|c| ctx.fact::<IdentityFact>(c)).and_then(|f| f.identity.clone());
        let cert_path = self.cert_check.and_then(|c| ctx.fact::<IdentityFact>(c)).map(|f| f.path.clone());
        let sent = match (&identity, self.cert_check) {
            (Some(id), _) => id.subject.clone(),
            (None, Some(_)) => match cert_path.as_deref() {
                None | Some(client_cert::NOT_CONFIGURED) => "none configured".to_string(),
                Some(p) => format!("{p} could not be loaded"),
            },
            (None, None) => "none (not required)".into(),
        };
        let mut o = Outcome::new().evidence("client_certificate", &sent);
        let mut steps: Vec<serde_json::Value> = Vec::new();
        let do_get = |url: Url, auth: Option<String>| {
            let fact = fact.clone();
            let identity = identity.clone();
            async move {
                let start = Instant::now();
                let result = get(&fact, identity.as_deref(), &url, auth.as_deref(), timeout).await;
                Step { url, result, ms: start.elapsed().as_millis() as u64 }
            }
        };
        let base = self.target.url.clone();
        let mtls = self.cert_check.is_some();
        // The judgement of a response common to every service: certificate refused, server error.
        let host = fact.host.clone();
        let addr = tls::addr_of(&fact.path);
        let common = |s: &Step| -> Option<Finding> {
            let rejected = |answer: String| {
                let reason = if identity.is_some() {
                    format!("{answer} (certificate sent: {sent})")
                } else {
                    format!("{answer} (no client certificate was sent: {sent})")
                };
                Some(
                    Finding::new("CLIENT_CERT_REJECTED")
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
                            Finding::new("HTTP_TIMEOUT").with("url", s.url.as_str()).with("timeout", humanize(timeout)),
                        ),
                        ReqError::Handshake(HsError::Timeout) => Some(
                            Finding::new("TLS_TIMEOUT")
                                .with("host", &host)
                                .with("addr", &addr)
                                .with("timeout", humanize(timeout)),
                        ),
                        ReqError::Handshake(h) => Some(
                            Finding::new("TLS_HANDSHAKE_FAILED")
                                .with("host", &host)
                                .with("addr", &addr)
                                .with("error", h.describe()),
                        ),
                        other => Some(
                            Finding::new("HTTP_UNEXPECTED_RESPONSE")
                                .with("url", s.url.as_str())
                                .with("status", "-")
                                .with("detail", describe(other)),
                        ),
                    }
                }
                Ok(r) if nginx_cert_page(r) => rejected(format!("HTTP 400: {}", snippet(r))),
                Ok(r) if mtls && (r.status == 401 || r.status == 403) => rejected(format!("HTTP {}", r.status)),
                Ok(r) if r.status >= 500 => {
                    Some(Finding::new("HTTP_SERVER_ERROR").with("url", s.url.as_str()).with("status", r.status))
                }
                Ok(_) => None,
            }
        };
        let unexpected = |s: &Step, what: &str| {
            let (status, answer) = match &s.result {
                Ok(r) => (r.status.to_string(), snippet(r)),
                Err(e) => ("-".into(), describe(e)),
            };
            Finding::new("HTTP_UNEXPECTED_RESPONSE")
                .with("url", s.url.as_str())
                .with("status", status)
                .with("detail", format!("expected {what}, got: {answer}"))
        };
        let mut last_ok: Option<(String, u16)> = None;
        match self.target.name.as_str() {
            "tramita" => {
                let path = base.path().to_string();
                let soap = path.contains("/soap/");
                let version = ctx.settings.sei.as_ref().and_then(|s| s.pen_version.clone());
                let rest_too = !soap || version.as_deref().is_none_or(|v| version_at_least(v, 3, 8));
                if soap {
                    let mut url = base.clone();
                    url.set_query(Some("wsdl"));
                    let s = do_get(url, None).await;
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
                if rest_too && o.findings.is_empty() {
                    let rest_base = match base.join(&path.replace("/soap/", "/rest/")) {
                        Ok(u) => u,
                        Err(_) => base.clone(),
                    };
                    let health = rest_base.join("healthcheck").unwrap_or_else(|_| rest_base.clone());
                    let s = do_get(health, None).await;
                    steps.push(s.evidence());
                    let health_ok = match common(&s) {
                        Some(f) => {
                            o.push(f);
                            false
                        }
                        None => match &s.result {
                            Ok(r) if (200..300).contains(&r.status) && !r.looks_html() => true,
                            _ => {
                                o.push(unexpected(&s, "healthcheck 200"));
                                false
                            }
                        },
                    };
                    if health_ok {
                        last_ok = Some((s.url.to_string(), 200));
                        let pend =
                            rest_base.join("tramites/pendentes?todas=false").unwrap_or_else(|_| rest_base.clone());
                        let s = do_get(pend, None).await;
                        steps.push(s.evidence());
                        match &s.result {
                            Ok(r) if (r.status == 401 || r.status == 403) && !nginx_cert_page(r) => o.push(
                                Finding::new("TRAMITA_NOT_AUTHORIZED")
                                    .with("url", s.url.as_str())
                                    .with("status", r.status),
                            ),
                            _ => match common(&s) {
                                Some(f) => o.push(f),
                                None => match &s.result {
                                    Ok(r) if (200..300).contains(&r.status) && !r.looks_html() => {
                                        last_ok = Some((s.url.to_string(), r.status))
                                    }
                                    _ => o.push(unexpected(&s, "tramites/pendentes 200")),
                                },
                            },
                        }
                    }
                }
            }
            "pendencias" => {
                let s = do_get(base.clone(), None).await;
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
            "protocolo-integrado" => {
                let mut url = base.clone();
                if url.query().is_none() {
                    url.set_query(Some("wsdl"));
                }
                let auth = match (&ctx.settings.pi_user, &ctx.settings.pi_password) {
                    (Some(u), Some(p)) => Some(openssl::base64::encode_block(format!("{u}:{}", p.expose()).as_bytes())),
                    (Some(u), None) => Some(openssl::base64::encode_block(format!("{u}:").as_bytes())),
                    _ => None,
                };
                o.set_evidence("basic_auth_user", ctx.settings.pi_user.clone().unwrap_or_else(|| "(none)".into()));
                let s = do_get(url, auth).await;
                steps.push(s.evidence());
                match &s.result {
                    Ok(r) if r.status == 401 => o.push(
                        Finding::new("PI_WS_AUTH_FAILED")
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
                let s = do_get(base.clone(), None).await;
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
        o.set_evidence("requests", steps);
        if let Some((url, status)) = last_ok {
            o = o
                .summary("url", url)
                .summary("status", if status == 0 { "held (long-poll)".to_string() } else { status.to_string() });
        }
        o
    }
}

/// `3.8.1` ≥ 3.8?
pub fn version_at_least(v: &str, major: u32, minor: u32) -> bool {
    let mut it = v.trim().split('.').map(|p| p.trim().parse::<u32>().unwrap_or(0));
    let (a, b) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
    (a, b) >= (major, minor)
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
    fn chunked_and_heads() {
        let mut out = Vec::new();
        assert!(dechunk(b"3\r\nabc\r\n0\r\n\r\n", &mut out));
        assert_eq!(out, b"abc");
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nA: b\r\n").is_none());
        assert!(matches!(parse_head(b"garbage\r\n\r\n"), Some(Err(_))));
        assert!(version_at_least("3.8.0", 3, 8) && !version_at_least("3.7.9", 3, 8) && version_at_least("4.0", 3, 8));
    }

    #[test]
    fn random_answers_never_panic() {
        let seeds: [&[u8]; 4] = [
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            br#"<?xml version="1.0"?><wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/">"#,
            b"3\r\nabc\r\nffffffffffffffff\r\nx",
        ];
        crate::mutation::mutants(&seeds, 5000, |v| {
            let _ = parse_head(v);
            let mut out = Vec::new();
            let _ = dechunk(v, &mut out);
            let _ = is_wsdl(&String::from_utf8_lossy(v));
        });
    }
}
