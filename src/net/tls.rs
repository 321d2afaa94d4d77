//! TLS on a connection we opened, with rustls (ring). One client builder ([`Client`]) for every
//! handshake: a verifier that records the chain the server presented and its verdict against
//! exactly the roots given (or captures without judging), a client-certificate resolver that
//! offers the identity when there is one and records what the server asked for (its
//! CertificateRequest and the acceptable CA names in it), and the negotiated version, cipher
//! and ALPN. Also the one root-store loader and OpenSSL's own verdict on a chain (the library
//! SEI's PHP uses), to set beside rustls's.

use super::Path;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{AlertDescription, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// The crypto provider of every handshake (ring).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A root store of exactly these certificates (DER). Callers leave out what must not anchor
/// (an expired root, as OpenSSL would).
pub fn root_store<'a>(ders: impl IntoIterator<Item = &'a [u8]>) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    for der in ders {
        let _ = roots.add(CertificateDer::from(der.to_vec()));
    }
    roots
}

/// The publicly trusted roots (the Mozilla set browsers trust).
pub fn public_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    roots
}

/// How the server's chain is judged.
#[derive(Clone, Debug)]
pub enum Verify {
    /// Against exactly these roots (an empty store verifies nothing).
    Roots(Arc<RootCertStore>),
    /// Accept whatever is presented: only to record it.
    CaptureOnly,
}

/// A client certificate and its key, ready to sign handshakes.
#[derive(Clone, Debug)]
pub struct ClientIdentity(Arc<CertifiedKey>);

impl ClientIdentity {
    /// Fails when rustls cannot use the key (an algorithm it does not sign with) or it does not
    /// match the certificate.
    pub fn new(certs: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Result<Self, HsError> {
        CertifiedKey::from_der(certs, key, &provider())
            .map(|k| ClientIdentity(Arc::new(k)))
            .map_err(|e| HsError::Setup(e.to_string()))
    }
}

/// The server's request for a client certificate, as the handshake saw it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertificateRequest {
    /// The acceptable CA names (DER-encoded X.500 names) the server listed; empty when none.
    pub acceptable_cas: Vec<Vec<u8>>,
    /// Whether a certificate was sent in answer.
    pub answered: bool,
}

/// What one handshake saw, however it ended: kept as data for the checks (and later ones).
#[derive(Clone, Debug, Default)]
pub struct Seen {
    /// The chain as presented, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The verifier's verdict (`None`: the server never presented a chain).
    pub verdict: Option<Result<(), rustls::Error>>,
    /// `Some` when the server asked for a client certificate.
    pub certificate_request: Option<CertificateRequest>,
    /// Negotiated parameters (when the handshake completed): `TLSv1.3`, the cipher suite, ALPN.
    pub version: Option<String>,
    pub cipher: Option<String>,
    pub alpn: Option<Vec<u8>>,
}

/// Why a handshake did not complete.
#[derive(Clone, Debug, thiserror::Error)]
pub enum HsError {
    #[error("connect: {0}")]
    Connect(String),
    #[error("timeout")]
    Timeout,
    #[error("{0}")]
    Tls(rustls::Error),
    #[error("{0}")]
    Io(String),
    /// The client side could not be set up (an unusable key, a bad name).
    #[error("{0}")]
    Setup(String),
}

impl HsError {
    pub fn from_io(e: std::io::Error) -> Self {
        match tls_error(&e) {
            Some(t) => HsError::Tls(t.clone()),
            None if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                HsError::Io("connection closed by the server during the handshake".into())
            }
            None => HsError::Io(e.to_string()),
        }
    }

    /// The TLS alert the server sent, if that is what ended the connection.
    pub fn alert(&self) -> Option<&AlertDescription> {
        match self {
            HsError::Tls(rustls::Error::AlertReceived(a)) => Some(a),
            _ => None,
        }
    }
}

/// The rustls error inside an I/O error of a TLS stream (an alert received, a bad record).
pub fn tls_error(e: &std::io::Error) -> Option<&rustls::Error> {
    e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>())
}

/// A handshake that did not complete, with what it saw until then.
#[derive(Debug)]
pub struct Failed {
    pub error: HsError,
    pub seen: Seen,
}

/// A completed handshake: the stream to speak over and what the handshake saw.
pub struct Session<S> {
    pub stream: TlsStream<S>,
    pub seen: Seen,
}

/// The server name for SNI and verification.
pub fn server_name(host: &str) -> Result<ServerName<'static>, HsError> {
    ServerName::try_from(host.to_string()).map_err(|e| HsError::Setup(format!("invalid server name '{host}': {e}")))
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

/// The one client builder: how to judge the server, which identity to offer, which ALPN.
#[derive(Clone, Debug)]
pub struct Client {
    verify: Verify,
    identity: Option<ClientIdentity>,
    alpn: Vec<Vec<u8>>,
}

impl Client {
    pub fn new(verify: Verify) -> Self {
        Client { verify, identity: None, alpn: Vec::new() }
    }

    /// Offer this client certificate when the server asks for one.
    pub fn identity(mut self, identity: Option<ClientIdentity>) -> Self {
        self.identity = identity;
        self
    }

    /// Offer these application protocols (ALPN), e.g. `http/1.1`.
    pub fn alpn(mut self, protocols: &[&[u8]]) -> Self {
        self.alpn = protocols.iter().map(|p| p.to_vec()).collect();
        self
    }

    pub fn offers_identity(&self) -> bool {
        self.identity.is_some()
    }

    /// A fresh configuration with fresh recorders (one per handshake: they hold its record).
    fn prepare(&self) -> Result<(ClientConfig, Arc<Recorder>, Arc<ClientCertRecorder>), HsError> {
        let recorder = Arc::new(Recorder::new(&self.verify));
        let client_cert = Arc::new(ClientCertRecorder { identity: self.identity.clone(), request: Mutex::new(None) });
        let mut config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| HsError::Setup(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::clone(&recorder) as Arc<dyn ServerCertVerifier>)
            .with_client_cert_resolver(Arc::clone(&client_cert) as Arc<dyn ResolvesClientCert>);
        config.alpn_protocols = self.alpn.clone();
        Ok((config, recorder, client_cert))
    }

    async fn run<S, C>(&self, connect: C, name: &ServerName<'static>, timeout: Duration) -> Result<Session<S>, Failed>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        C: Future<Output = Result<S, HsError>>,
    {
        let (config, recorder, client_cert) =
            self.prepare().map_err(|error| Failed { error, seen: Seen::default() })?;
        let seen = || Seen {
            chain: recorder.chain(),
            verdict: recorder.verdict(),
            certificate_request: client_cert.request(),
            ..Seen::default()
        };
        let fut = async {
            let io = connect.await?;
            TlsConnector::from(Arc::new(config)).connect(name.clone(), io).await.map_err(HsError::from_io)
        };
        match tokio::time::timeout(timeout, fut).await {
            Ok(Ok(stream)) => {
                let conn = stream.get_ref().1;
                let seen = Seen {
                    version: conn.protocol_version().map(version_name),
                    cipher: conn.negotiated_cipher_suite().map(|cs| format!("{:?}", cs.suite())),
                    alpn: conn.alpn_protocol().map(<[u8]>::to_vec),
                    ..seen()
                };
                Ok(Session { stream, seen })
            }
            Ok(Err(error)) => Err(Failed { error, seen: seen() }),
            Err(_) => Err(Failed { error: HsError::Timeout, seen: seen() }),
        }
    }

    /// A handshake over a connection already open, bounded by `timeout`.
    pub async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        io: S,
        name: &ServerName<'static>,
        timeout: Duration,
    ) -> Result<Session<S>, Failed> {
        self.run(async { Ok(io) }, name, timeout).await
    }

    /// A fresh connection along `path` and a handshake over it, both within `timeout`.
    pub async fn open(
        &self,
        path: &Path,
        name: &ServerName<'static>,
        timeout: Duration,
    ) -> Result<Session<TcpStream>, Failed> {
        let connect = async { path.connect(timeout).await.map_err(|e| HsError::Connect(e.to_string())) };
        self.run(connect, name, timeout).await
    }
}

/// `TLSv1.3`, `TLSv1.2`…
pub fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        other => format!("{other:?}"),
    }
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
struct Recorder {
    mode: Mode,
    provider: Arc<CryptoProvider>,
    chain: Mutex<Vec<CertificateDer<'static>>>,
    verdict: Mutex<Option<Result<(), rustls::Error>>>,
}

impl Recorder {
    fn new(verify: &Verify) -> Self {
        let provider = provider();
        let mode = match verify {
            Verify::CaptureOnly => Mode::Capture,
            Verify::Roots(roots) if roots.is_empty() => Mode::NoRoots,
            Verify::Roots(roots) => {
                match WebPkiServerVerifier::builder_with_provider(Arc::clone(roots), Arc::clone(&provider)).build() {
                    Ok(v) => Mode::Verify(v),
                    Err(_) => Mode::NoRoots,
                }
            }
        };
        Recorder { mode, provider, chain: Mutex::new(Vec::new()), verdict: Mutex::new(None) }
    }

    fn chain(&self) -> Vec<CertificateDer<'static>> {
        self.chain.lock().map(|c| c.clone()).unwrap_or_default()
    }

    fn verdict(&self) -> Option<Result<(), rustls::Error>> {
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

/// Offers the identity (if any) when the server asks, and records the request.
#[derive(Debug)]
struct ClientCertRecorder {
    identity: Option<ClientIdentity>,
    request: Mutex<Option<CertificateRequest>>,
}

impl ClientCertRecorder {
    fn request(&self) -> Option<CertificateRequest> {
        self.request.lock().ok().and_then(|r| r.clone())
    }
}

impl ResolvesClientCert for ClientCertRecorder {
    fn resolve(&self, root_hint_subjects: &[&[u8]], sigschemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        let offered = self.identity.as_ref().map(|i| Arc::clone(&i.0));
        // rustls sends the certificate only when its key can sign with a scheme the server takes.
        let answered = offered.as_ref().is_some_and(|k| k.key.choose_scheme(sigschemes).is_some());
        if let Ok(mut r) = self.request.lock() {
            *r = Some(CertificateRequest {
                acceptable_cas: root_hint_subjects.iter().map(|s| s.to_vec()).collect(),
                answered,
            });
        }
        offered
    }

    fn has_certs(&self) -> bool {
        self.identity.is_some()
    }
}

/// rustls's verdict on `chain` (leaf first) for `host` against `roots`, now, without a
/// connection: whether it verifies, and the error's words.
pub fn rustls_verdict(roots: Arc<RootCertStore>, chain: &[CertificateDer<'_>], host: &str) -> (bool, String) {
    let Some((leaf, rest)) = chain.split_first() else { return (false, "no certificate presented".into()) };
    let verifier = match WebPkiServerVerifier::builder_with_provider(roots, provider()).build() {
        Ok(v) => v,
        Err(e) => return (false, e.to_string()),
    };
    let name = match server_name(host) {
        Ok(n) => n,
        Err(e) => return (false, e.to_string()),
    };
    match verifier.verify_server_cert(leaf, rest, &name, &[], UnixTime::now()) {
        Ok(_) => (true, "ok".into()),
        Err(e) => (false, e.to_string()),
    }
}

/// OpenSSL's verdict on `chain` (leaf first) for `host`, against exactly the `store`
/// certificates (DER): whether it verifies, and OpenSSL's own words.
pub fn openssl_verdict<'a>(
    store: impl IntoIterator<Item = &'a [u8]>,
    chain: &[CertificateDer<'_>],
    host: &str,
) -> (bool, String) {
    use openssl::stack::Stack;
    use openssl::x509::store::X509StoreBuilder;
    use openssl::x509::verify::X509VerifyParam;
    use openssl::x509::{X509StoreContext, X509};
    let run = || -> Result<(bool, String), openssl::error::ErrorStack> {
        let mut b = X509StoreBuilder::new()?;
        for der in store {
            if let Ok(x) = X509::from_der(der) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_names() {
        assert!(!public_roots().is_empty());
        assert!(root_store([b"not a certificate".as_slice()]).is_empty());
        assert!(server_name("api.test").is_ok());
        assert!(matches!(server_name("bad name"), Err(HsError::Setup(_))));
        assert!(is_client_cert_alert(&AlertDescription::CertificateRequired));
        assert!(!is_client_cert_alert(&AlertDescription::ProtocolVersion));
    }

    /// A handshake against a peer that is not TLS at all fails with what it saw (nothing).
    #[tokio::test]
    async fn garbage_peer_fails_with_an_empty_record() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        });
        let tcp = TcpStream::connect(addr).await.unwrap();
        let client = Client::new(Verify::Roots(Arc::new(public_roots())));
        let failed =
            client.handshake(tcp, &server_name("api.test").unwrap(), Duration::from_secs(2)).await.err().unwrap();
        assert!(failed.seen.chain.is_empty() && failed.seen.verdict.is_none());
        assert!(!matches!(failed.error, HsError::Timeout), "{:?}", failed.error);
    }
}
