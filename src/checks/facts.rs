//! The facts checks hand each other, and the small shared knowledge behind them: what `tcp`
//! gives `tls`, what `tls` and `cert:*` give `http`, which node runs the PEN workers. Families
//! import these from here, never from each other.

use crate::model::code;
use crate::net::tls::{HsError, Seen, Session};
use crate::net::{Handoff, Path};
use crate::settings::Settings;
use rustls::RootCertStore;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;
use tokio::net::TcpStream;

/// The addresses a target resolved to: the fact `dns:<target>` hands `tcp:<target>`.
pub type Resolved = crate::net::resolve::Resolved;

/// The fact of `tcp:<target>`: how the target is reached, and the connection already open
/// along that path (for the first taker: `tls:<target>`).
#[derive(Debug)]
pub struct Reached {
    pub path: Path,
    pub conn: Handoff<TcpStream>,
}

/// What the fact of `tls:<target>` carries for `http:<target>`.
pub struct TlsFact {
    pub path: Path,
    pub roots: Arc<RootCertStore>,
    pub host: String,
    /// The CA store the chain was verified against (`ca:store`'s path).
    pub store: String,
    /// PHP's curl extension found with that store (`ca:store`), if any.
    pub php_curl: Option<super::trust::PhpCurl>,
    /// The verified connection, for the first taker (`http:<target>`); empty when the server
    /// refused to go on after verifying (see `refused`).
    pub session: Handoff<Session<TcpStream>>,
    /// Whether that handshake offered the client certificate.
    pub identity_offered: bool,
    /// The server verified fine, then refused our client certificate (or its absence) with
    /// this alert: what a request would meet again.
    pub refused: Option<HsError>,
    /// What the handshake saw: the chain presented, the server's certificate request with its
    /// acceptable CA names, the negotiated version.
    pub seen: Seen,
    /// The vendor of the TLS-inspecting device the chain came from, when it did.
    pub intercepted: Option<String>,
}

/// A client identity held in memory only: the certificate chain (leaf first) and its key.
pub struct Identity {
    pub certs: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    pub subject: String,
}

/// What `cert:*` hands to `http:<target>`: the identity when it could be loaded.
pub struct IdentityFact {
    pub identity: Option<Arc<Identity>>,
    /// The certificate path, or `(not configured)`.
    pub path: String,
    /// The issuer whose certificate the file lacks on the way from the leaf to its root: what
    /// the server cannot build a path through.
    pub chain_gap: Option<String>,
}

/// Shown as the path when no certificate is configured.
pub const NOT_CONFIGURED: &str = "(not configured)";

/// The workers of mod-sei-pen 4.x.
pub const SCRIPTS_4X: &[&str] =
    &["MonitoramentoEnvioTarefasPEN.php", "MonitoramentoRecebimentoTarefasPEN.php", "ProcessamentoTarefasPEN.php"];
/// The workers of mod-sei-pen 1.x–3.x.
pub const SCRIPTS_LEGACY: &[&str] = &["PendenciasTramiteRN.php", "ProcessarPendenciasRN.php"];

/// Whether this host is an SEI node with the PEN module (enabled in `Modulos`, or configured):
/// then the node checks (gearman, supervisor, workers, contingency cron) are planned.
pub fn pen_node(settings: &Settings) -> bool {
    // An installation whose configuration cannot be read may well be one: its node checks are
    // planned, and shown as skipped behind `config:sei`, rather than left out.
    let unreadable = |s: &crate::sei::SeiInstall| {
        s.problems.iter().any(|f| matches!(f.code, code::SEI_CONFIG_UNREADABLE | code::SEI_CONFIG_TIMEOUT))
    };
    settings.sei.as_ref().is_some_and(|s| s.pen_enabled() || s.pen.is_some() || unreadable(s))
}

/// The server's clock read from an HTTP answer's `Date` header: a second clock, good to about
/// a second, for when no NTP server answers.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DateSample {
    pub url: String,
    /// The header as sent.
    pub date: String,
    /// The offset (server minus local) nearest zero that the `Date` (whole seconds) and the
    /// request's round trip allow: 0 when the clocks may agree, so a slow answer never alarms.
    pub offset_secs: f64,
    /// The width of the interval the true offset lies in (1 s of `Date` plus the round trip).
    pub uncertainty_secs: f64,
}

/// What `http:<target>` hands on: the server's clock as its answers' `Date` told it (the
/// second clock of `ntp` when no NTP server answers).
pub struct HttpFact {
    pub clock: Option<DateSample>,
}
