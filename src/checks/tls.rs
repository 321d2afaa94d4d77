//! `tls:<target>`: a TLS handshake (rustls, SNI) along the `tcp:<target>` path that verifies the
//! server chain against exactly the `ca:store` bundle. On failure a second, capture-only handshake
//! records the chain the server presented and the finding names the cause (missing root, expired
//! root, hostname, expired certificate, incomplete chain). OpenSSL's verdict on the same bundle is
//! recorded too, and a disagreement reported.

use super::store::TrustStore;
use super::tcp::Path;
use super::{Check, Ctx, Outcome};
use crate::duration::humanize;
use crate::pki::{self, CertInfo};
use crate::report::model::Finding;
use crate::settings::Settings;
use crate::targets::Target;
use async_trait::async_trait;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{AlertDescription, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// The crypto provider of every handshake (ring).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The trust anchors of a store, as OpenSSL would use them: expired certificates are left out,
/// because OpenSSL rejects a chain that ends in an expired root.
pub fn roots_of(store: &TrustStore) -> RootCertStore {
    let now = pki::now_ts();
    let mut roots = RootCertStore::empty();
    for c in store.certs.iter().filter(|c| !c.info.expired_at(now)) {
        let _ = roots.add(CertificateDer::from(c.der.clone()));
    }
    roots
}

/// How the recording verifier judges the chain.
#[derive(Debug)]
enum Mode {
    Verify(Arc<WebPkiServerVerifier>),
    /// The store has no usable anchor: nothing can verify.
    NoRoots,
    /// Capture only: accept whatever the server presents.
    Capture,
}

/// A server-certificate verifier that records the chain presented and its own verdict.
#[derive(Debug)]
pub struct Recorder {
    mode: Mode,
    provider: Arc<CryptoProvider>,
    pub chain: Mutex<Vec<CertificateDer<'static>>>,
    pub verdict: Mutex<Option<Result<(), rustls::Error>>>,
}

impl Recorder {
    pub fn verifying(roots: Arc<RootCertStore>) -> Arc<Self> {
        let provider = provider();
        let mode = if roots.is_empty() {
            Mode::NoRoots
        } else {
            match WebPkiServerVerifier::builder_with_provider(roots, Arc::clone(&provider)).build() {
                Ok(v) => Mode::Verify(v),
                Err(_) => Mode::NoRoots,
            }
        };
        Arc::new(Recorder { mode, provider, chain: Mutex::new(Vec::new()), verdict: Mutex::new(None) })
    }

    pub fn capturing() -> Arc<Self> {
        Arc::new(Recorder {
            mode: Mode::Capture,
            provider: provider(),
            chain: Mutex::new(Vec::new()),
            verdict: Mutex::new(None),
        })
    }

    pub fn chain(&self) -> Vec<CertificateDer<'static>> {
        self.chain.lock().map(|c| c.clone()).unwrap_or_default()
    }

    pub fn verdict(&self) -> Option<Result<(), rustls::Error>> {
        self.verdict.lock().ok().and_then(|v| v.clone())
    }
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut c) = self.chain.lock() {
            *c = std::iter::once(end_entity).chain(intermediates).map(|d| d.clone().into_owned()).collect();
        }
        let result = match &self.mode {
            Mode::Verify(v) => v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now),
            Mode::NoRoots => Err(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)),
            Mode::Capture => Ok(ServerCertVerified::assertion()),
        };
        if let Ok(mut v) = self.verdict.lock() {
            *v = Some(result.as_ref().map(|_| ()).map_err(|e| e.clone()));
        }
        result
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// A client configuration around a verifier, with or without a client certificate.
pub fn client_config(
    verifier: Arc<Recorder>,
    identity: Option<&super::client_cert::Identity>,
) -> Result<ClientConfig, String> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    match identity {
        Some(id) => builder.with_client_auth_cert(id.certs.clone(), id.key.clone_key()).map_err(|e| e.to_string()),
        None => Ok(builder.with_no_client_auth()),
    }
}

/// Why a handshake did not complete.
#[derive(Debug)]
pub enum HsError {
    Connect(String),
    Timeout,
    Tls(rustls::Error),
    Io(String),
}

impl HsError {
    pub fn from_io(e: std::io::Error) -> Self {
        match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            Some(t) => HsError::Tls(t.clone()),
            None if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                HsError::Io("connection closed by the server during the handshake".into())
            }
            None => HsError::Io(e.to_string()),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            HsError::Connect(e) => format!("connect: {e}"),
            HsError::Timeout => "timeout".into(),
            HsError::Tls(e) => e.to_string(),
            HsError::Io(e) => e.clone(),
        }
    }
}

/// The server name for SNI and verification.
pub fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(host.to_string()).map_err(|e| format!("invalid server name '{host}': {e}"))
}

/// Connects along the path and completes a handshake, all within `timeout`.
pub async fn handshake(
    path: &Path,
    config: ClientConfig,
    name: ServerName<'static>,
    timeout: Duration,
) -> Result<TlsStream<TcpStream>, HsError> {
    let fut = async {
        let tcp = path.connect(timeout).await.map_err(HsError::Connect)?;
        TlsConnector::from(Arc::new(config)).connect(name, tcp).await.map_err(HsError::from_io)
    };
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(HsError::Timeout),
    }
}

/// TLS alerts that mean "your client certificate is not acceptable".
pub fn is_client_cert_alert(a: &AlertDescription) -> bool {
    matches!(
        a,
        AlertDescription::BadCertificate
            | AlertDescription::UnknownCA
            | AlertDescription::CertificateRequired
            | AlertDescription::AccessDenied
            | AlertDescription::CertificateUnknown
            | AlertDescription::CertificateExpired
            | AlertDescription::CertificateRevoked
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::HandshakeFailure
            | AlertDescription::DecryptError
    )
}

/// The address a path connects to, for messages: the first reachable address or the proxy.
pub fn addr_of(path: &Path) -> String {
    match (&path.proxy, path.reachable.first()) {
        (Some(p), _) => format!("{}:{} via {}", path.host, path.port, super::proxy::display_url(p)),
        (None, Some(a)) => a.to_string(),
        (None, None) => format!("{}:{}", path.host, path.port),
    }
}

/// What the fact of `tls:<target>` carries for `http:<target>`.
#[derive(Clone)]
pub struct TlsFact {
    pub path: Path,
    pub roots: Arc<RootCertStore>,
    pub host: String,
}

/// OpenSSL's verdict on the chain against the same bundle (the library of SEI's PHP).
pub fn openssl_verdict(store: &TrustStore, chain: &[CertificateDer<'_>], host: &str) -> (bool, String) {
    use openssl::stack::Stack;
    use openssl::x509::store::X509StoreBuilder;
    use openssl::x509::verify::X509VerifyParam;
    use openssl::x509::{X509StoreContext, X509};
    let run = || -> Result<(bool, String), openssl::error::ErrorStack> {
        let mut b = X509StoreBuilder::new()?;
        for c in &store.certs {
            if let Ok(x) = X509::from_der(&c.der) {
                let _ = b.add_cert(x);
            }
        }
        let mut param = X509VerifyParam::new()?;
        match host.parse::<std::net::IpAddr>() {
            Ok(ip) => param.set_ip(ip)?,
            Err(_) => param.set_host(host)?,
        }
        b.set_param(&param)?;
        let built = b.build();
        let Some(leaf) = chain.first().and_then(|d| X509::from_der(d).ok()) else {
            return Ok((false, "no certificate presented".into()));
        };
        let mut rest = Stack::new()?;
        for d in chain.iter().skip(1) {
            if let Ok(x) = X509::from_der(d) {
                rest.push(x)?;
            }
        }
        let mut ctx = X509StoreContext::new()?;
        ctx.init(&built, &leaf, &rest, |c| {
            let ok = c.verify_cert()?;
            Ok((ok, c.error().error_string().to_string()))
        })
    };
    run().unwrap_or_else(|e| (false, format!("OpenSSL error: {e}")))
}

/// The certificate in the store (valid, as OpenSSL would use it) that anchors the chain.
pub fn anchor_of(chain: &[CertInfo], store: &TrustStore) -> Option<String> {
    let now = pki::now_ts();
    let mut cur = chain.first()?;
    for _ in 0..10 {
        if let Some(a) = store.certs.iter().find(|c| c.info.sha256 == cur.sha256 && !c.info.expired_at(now)) {
            return Some(pki::short_name(&a.info));
        }
        if let Some(a) = store.by_subject(&cur.issuer_raw).find(|c| !c.info.expired_at(now)) {
            return Some(pki::short_name(&a.info));
        }
        cur = chain.iter().find(|c| c.subject_raw == cur.issuer_raw && c.sha256 != cur.sha256)?;
    }
    None
}

/// Names the cause of a chain that did not verify.
pub fn classify(chain: &[CertInfo], leaf_der: Option<&CertificateDer<'_>>, store: &TrustStore, host: &str) -> Finding {
    let now = pki::now_ts();
    let Some(leaf) = chain.first() else {
        return Finding::new("TLS_HANDSHAKE_FAILED")
            .with("host", host)
            .with("error", "the server presented no certificate");
    };
    if leaf.expired_at(now) {
        return Finding::new("SERVER_CERT_EXPIRED")
            .with("host", host)
            .with("subject", &leaf.subject)
            .with("not_after", &leaf.not_after);
    }
    let name_ok = match (leaf_der, server_name(host)) {
        (Some(der), Ok(name)) => rustls::server::ParsedCertificate::try_from(der)
            .map(|p| rustls::client::verify_server_name(&p, &name).is_ok())
            .unwrap_or(false),
        _ => false,
    };
    if !name_ok {
        let names = if leaf.dns_names.is_empty() { leaf.subject.clone() } else { leaf.dns_names.join(", ") };
        return Finding::new("SERVER_CERT_HOSTNAME_MISMATCH")
            .with("host", host)
            .with("names", names)
            .with("issuer", &leaf.issuer);
    }
    let mut cur = leaf;
    for _ in 0..10 {
        if store.by_subject(&cur.issuer_raw).any(|c| !c.info.expired_at(now))
            || store.certs.iter().any(|c| c.info.sha256 == cur.sha256 && !c.info.expired_at(now))
        {
            // The path reaches a valid anchor: something on the way is wrong.
            if let Some(bad) = chain.iter().find(|c| c.expired_at(now) || now < c.not_before_ts) {
                return Finding::new("SERVER_CERT_EXPIRED")
                    .with("host", host)
                    .with("subject", &bad.subject)
                    .with("not_after", &bad.not_after);
            }
            return Finding::new("SERVER_CERT_UNTRUSTED")
                .with("host", host)
                .with("path", &store.path)
                .with("root", &cur.issuer);
        }
        if let Some(old) = store.by_subject(&cur.issuer_raw).find(|c| c.info.expired_at(now)) {
            return Finding::new("SERVER_CHAIN_EXPIRED_ROOT")
                .with("host", host)
                .with("root", &old.info.subject)
                .with("not_after", &old.info.not_after);
        }
        if let Some(next) = chain.iter().find(|c| c.subject_raw == cur.issuer_raw && c.sha256 != cur.sha256) {
            cur = next;
            continue;
        }
        if cur.self_issued() {
            return Finding::new("SERVER_CERT_UNTRUSTED")
                .with("host", host)
                .with("path", &store.path)
                .with("root", &cur.subject);
        }
        if std::ptr::eq(cur, leaf) {
            return Finding::new("SERVER_CHAIN_INCOMPLETE").with("host", host).with("issuer", &cur.issuer);
        }
        return Finding::new("SERVER_CERT_UNTRUSTED")
            .with("host", host)
            .with("path", &store.path)
            .with("root", &cur.issuer);
    }
    Finding::new("SERVER_CERT_UNTRUSTED").with("host", host).with("path", &store.path).with("root", &cur.issuer)
}

pub struct TlsCheck {
    target: Target,
}

/// One `tls:<target>` per target.
pub fn checks(settings: &Arc<Settings>) -> Vec<Box<dyn Check>> {
    settings.targets.iter().map(|t| Box::new(TlsCheck { target: t.clone() }) as Box<dyn Check>).collect()
}

fn version_name(v: Option<rustls::ProtocolVersion>) -> String {
    match v {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".into(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".into(),
        Some(other) => format!("{other:?}"),
        None => "?".into(),
    }
}

fn session_evidence(o: &mut Outcome, s: &TlsStream<TcpStream>) -> String {
    let conn = s.get_ref().1;
    let version = version_name(conn.protocol_version());
    o.set_evidence("version", &version);
    if let Some(cs) = conn.negotiated_cipher_suite() {
        o.set_evidence("cipher", format!("{:?}", cs.suite()));
    }
    version
}

#[async_trait]
impl Check for TlsCheck {
    fn id(&self) -> String {
        format!("tls:{}", self.target.name)
    }
    fn kind(&self) -> &'static str {
        "tls"
    }
    fn target(&self) -> Option<String> {
        Some(self.target.name.clone())
    }
    fn depends_on(&self) -> Vec<String> {
        vec![format!("tcp:{}", self.target.name), "ca:store".into()]
    }

    async fn run(&self, ctx: &Ctx) -> Outcome {
        let tcp_id = format!("tcp:{}", self.target.name);
        let Some(path) = ctx.fact::<Path>(&tcp_id).cloned() else {
            return Outcome::skipped(tcp_id);
        };
        let Some(store) = ctx.fact::<TrustStore>("ca:store").cloned() else {
            return Outcome::skipped("ca:store");
        };
        let host = path.host.clone();
        let timeout = ctx.timeout();
        let mut o = Outcome::new().evidence("host", &host).evidence("store", &store.path);
        let name = match server_name(&host) {
            Ok(n) => n,
            Err(e) => {
                return o.finding(
                    Finding::new("TLS_HANDSHAKE_FAILED")
                        .with("host", &host)
                        .with("addr", addr_of(&path))
                        .with("error", e),
                )
            }
        };
        let roots = Arc::new(roots_of(&store));
        let recorder = Recorder::verifying(Arc::clone(&roots));
        let config = match client_config(Arc::clone(&recorder), None) {
            Ok(c) => c,
            Err(e) => {
                return o.finding(
                    Finding::new("TLS_HANDSHAKE_FAILED")
                        .with("host", &host)
                        .with("addr", addr_of(&path))
                        .with("error", e),
                )
            }
        };
        let first = handshake(&path, config, name.clone(), timeout).await;
        let mut version = "?".to_string();
        let verified = match &first {
            Ok(s) => {
                version = session_evidence(&mut o, s);
                true
            }
            Err(HsError::Tls(rustls::Error::AlertReceived(a)))
                if matches!(recorder.verdict(), Some(Ok(()))) && is_client_cert_alert(a) =>
            {
                // The chain verified; the server then refused to go on without a client certificate.
                o.set_evidence("client_certificate_demanded", format!("{a:?}"));
                true
            }
            Err(HsError::Tls(rustls::Error::InvalidCertificate(_))) => false,
            Err(HsError::Timeout) => {
                return o.finding(
                    Finding::new("TLS_TIMEOUT")
                        .with("host", &host)
                        .with("addr", addr_of(&path))
                        .with("timeout", humanize(timeout)),
                );
            }
            Err(e) if recorder.chain().is_empty() || !matches!(recorder.verdict(), Some(Err(_))) => {
                return o.finding(
                    Finding::new("TLS_HANDSHAKE_FAILED")
                        .with("host", &host)
                        .with("addr", addr_of(&path))
                        .with("error", e.describe()),
                );
            }
            Err(_) => false,
        };
        let mut chain = recorder.chain();
        let mut rustls_error = None;
        if !verified {
            rustls_error = recorder.verdict().and_then(|v| v.err()).map(|e| e.to_string());
            // Second handshake, capture only: the chain as presented, and the session parameters.
            let capture = Recorder::capturing();
            if let Ok(cfg) = client_config(Arc::clone(&capture), None) {
                if let Ok(s) = handshake(&path, cfg, name.clone(), timeout).await {
                    version = session_evidence(&mut o, &s);
                }
                if !capture.chain().is_empty() {
                    chain = capture.chain();
                }
            }
        }
        let infos: Vec<CertInfo> = chain.iter().filter_map(|d| pki::cert_info(d)).collect();
        o.set_evidence("chain", &infos);
        let (ossl_ok, ossl_msg) = openssl_verdict(&store, &chain, &host);
        o.set_evidence("openssl", json!({"verified": ossl_ok, "result": ossl_msg}));
        if let Some(e) = &rustls_error {
            o.set_evidence("rustls", json!({"verified": false, "result": e}));
        } else {
            o.set_evidence("rustls", json!({"verified": true}));
        }
        if ossl_ok != verified {
            o.push(
                Finding::new("TLS_VERDICT_DISAGREEMENT")
                    .with("host", &host)
                    .with("rustls", rustls_error.clone().unwrap_or_else(|| "ok".into()))
                    .with("openssl", &ossl_msg),
            );
        }
        if !verified {
            o.push(classify(&infos, chain.first(), &store, &host));
            return o;
        }
        let anchor = anchor_of(&infos, &store).unwrap_or_else(|| "?".into());
        o.set_evidence("anchor", &anchor);
        o.summary("host", &host).summary("version", version).summary("anchor", anchor).fact(TlsFact {
            path,
            roots,
            host,
        })
    }
}
