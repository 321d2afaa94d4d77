//! `cert:client` and `cert:pucomex`: loads the client certificate (PEM with its key, encrypted in
//! either PEM form, or PKCS#12), checks the password, key match, validity, clientAuth usage and
//! issuer, and hands the loaded identity to `http:<target>`. Also `pen-doctor cert FILE`.
//!
//! A certificate that is not configured at all (no `--cert`, no `LocalizacaoCertificado`) is
//! `CLIENT_CERT_NOT_CONFIGURED` (a warning). The check still delivers its fact (with
//! no identity), so `http:<target>` runs without a client certificate and the server's own answer
//! (TLS alert, 400/401/403) is reported as `CLIENT_CERT_REJECTED`, saying none was sent. The same
//! happens when the file exists but cannot be used (bad password, no key, key mismatch).
//! The issuer counts as ICP-Brasil when a certificate of the file's chain was issued by a name
//! with `O=ICP-Brasil` (every ICP-Brasil CA carries it); anything else is `info` for the PEN
//! (the server's acceptance is what `http` proves) and `fail` for Pucomex.

use super::core::{Check, Ctx};
pub use super::facts::{Identity, IdentityFact, NOT_CONFIGURED};
use crate::hostfs::{self, Kind, Reason};
use crate::model::check_id::{CERT_CLIENT, CERT_PUCOMEX};
use crate::model::code;
use crate::model::Outcome;
use crate::model::{CertFact, CertFactLabel, CertFactValue, CheckId, Finding, Severity};
use crate::pki::{self, KeyState};
use crate::secret::Secret;
use crate::settings::Settings;
use async_trait::async_trait;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Days before `notAfter` from which a certificate is reported as expiring.
pub const EXPIRING_DAYS: i64 = 30;

/// The two certificate checks: the PEN certificate and the Pucomex (ICP-Brasil A1) one.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Which {
    Client,
    Pucomex,
}

pub struct CertCheck {
    which: Which,
    path: Option<PathBuf>,
    password: Option<Secret>,
    /// The path came from the SEI configuration: `config:sei` is a prerequisite.
    from_sei: bool,
}

/// The `cert` checks: `cert:client` (the PEN certificate) and `cert:pucomex` (each where it
/// applies: `plan::applies`).
pub fn checks(settings: &Arc<Settings>) -> Vec<Box<dyn Check>> {
    let sei_path = settings.sei.as_ref().and_then(|s| s.pen.as_ref()).and_then(|p| p.cert_path.clone());
    let from_sei = settings.cert.is_some() && settings.cert == sei_path;
    vec![
        Box::new(CertCheck {
            which: Which::Client,
            path: settings.cert.clone(),
            password: settings.cert_password.clone(),
            from_sei,
        }),
        Box::new(CertCheck {
            which: Which::Pucomex,
            path: settings.pucomex_cert.clone(),
            password: settings.pucomex_password.clone(),
            from_sei: false,
        }),
    ]
}

#[async_trait]
impl Check for CertCheck {
    fn id(&self) -> CheckId {
        match self.which {
            Which::Client => CERT_CLIENT,
            Which::Pucomex => CERT_PUCOMEX,
        }
    }
    fn depends_on(&self) -> Vec<CheckId> {
        super::core::config_dependency(self.from_sei)
    }
    async fn run(&self, _ctx: &Ctx) -> Outcome {
        let (path, password, which) = (self.path.clone(), self.password.clone(), self.which);
        tokio::task::spawn_blocking(move || inspect(path.as_deref(), password.as_ref(), which, true))
            .await
            .unwrap_or_else(|_| Outcome::error(Finding::new(code::CHECK_INTERNAL_ERROR).with("error", "panic")))
    }
}

/// Whether an X.500 name (as text) is an ICP-Brasil root's: they are all named "Autoridade
/// Certificadora Raiz Brasileira vN"; every other ICP-Brasil CA is an intermediate.
fn is_icp_root_name(name: &str) -> bool {
    name.contains("CN=Autoridade Certificadora Raiz Brasileira")
}

/// The issuer whose certificate the file lacks between its leaf and the root: the chain in the
/// file is followed from the leaf up; when it stops below a root and the missing issuer is
/// known to be an intermediate (an ICP-Brasil CA other than a root), that issuer is returned.
/// An issuer pen-doctor cannot tell from a root yields `None` (no false alarm).
pub fn chain_gap(infos: &[pki::CertInfo]) -> Option<String> {
    let mut cur = infos.first()?;
    for _ in 0..10 {
        if cur.self_issued() {
            return None;
        }
        match infos.iter().find(|c| c.subject_raw == cur.issuer_raw && c.sha256 != cur.sha256) {
            Some(next) => cur = next,
            None => break,
        }
    }
    (cur.issuer.contains("O=ICP-Brasil") && !is_icp_root_name(&cur.issuer)).then(|| cur.issuer.clone())
}

/// Whether the chain names an ICP-Brasil issuer (every ICP-Brasil CA carries `O=ICP-Brasil`).
fn issued_by_icp_brasil(infos: &[pki::CertInfo]) -> bool {
    infos.iter().any(|i| i.issuer.contains("O=ICP-Brasil"))
}

/// Inspects a certificate file. `judge_access`: also check that a web-server user can read it.
pub fn inspect(path: Option<&Path>, password: Option<&Secret>, which: Which, judge_access: bool) -> Outcome {
    let Some(path) = path else {
        return Outcome::new()
            .finding(Finding::new(code::CLIENT_CERT_NOT_CONFIGURED))
            .evidence("file", NOT_CONFIGURED)
            .fact(IdentityFact { identity: None, path: NOT_CONFIGURED.into(), chain_gap: None });
    };
    let shown = path.display().to_string();
    let mut o = Outcome::new().evidence("file", &shown);
    let no_identity = || IdentityFact { identity: None, path: shown.clone(), chain_gap: None };
    let bytes = match hostfs::read_file(path, Kind::Certificate) {
        Ok(b) => b,
        Err(e) => {
            o.push(unreadable(path, &shown, e.reason));
            o.set_fact(no_identity());
            return o;
        }
    };
    let loaded = match pki::load_identity_bytes(&bytes, password) {
        Ok(l) => l,
        Err(error) => {
            o.push(Finding::new(code::CLIENT_CERT_INVALID_FORMAT).with("path", &shown).with("error", error));
            o.set_fact(no_identity());
            return o;
        }
    };
    if loaded.format == "PKCS#12" {
        let legacy = pki::pkcs12_legacy_algorithms(&bytes);
        if !legacy.is_empty() {
            o.set_evidence("pkcs12_encryption", &legacy);
            o.push(
                Finding::new(code::CLIENT_CERT_LEGACY_PKCS12)
                    .with("path", &shown)
                    .with("algorithms", legacy.join(", ")),
            );
        }
    }
    drop(bytes);
    o.set_evidence("format", loaded.format);
    o.set_evidence("password", if password.is_some() { "configured" } else { "not configured" });
    let infos: Vec<pki::CertInfo> = loaded.certs.iter().filter_map(|d| pki::cert_info(d)).collect();
    if let Some(leaf) = infos.first() {
        o.set_evidence("certificate", leaf);
        if infos.len() > 1 {
            o.set_evidence("chain", &infos[1..]);
        }
    }
    let chain_gap = chain_gap(&infos);
    if let (Some(missing), Some(leaf)) = (&chain_gap, infos.first()) {
        o.set_evidence("chain_missing", missing);
        o.push(
            Finding::new(code::CLIENT_CERT_CHAIN_INCOMPLETE)
                .with("path", &shown)
                .with("subject", &leaf.subject)
                .with("missing", missing),
        );
    }
    let key = match loaded.key {
        KeyState::Present(k) => Some(k),
        KeyState::Absent => {
            o.push(Finding::new(code::CLIENT_CERT_NO_KEY).with("path", &shown));
            None
        }
        KeyState::BadPassword { configured: true } => {
            o.push(Finding::new(code::CLIENT_CERT_BAD_PASSWORD).with("path", &shown));
            None
        }
        KeyState::BadPassword { configured: false } => {
            o.push(Finding::new(code::CLIENT_CERT_NO_PASSWORD).with("path", &shown));
            None
        }
        KeyState::Unsupported { detail } => {
            o.push(
                Finding::new(code::CLIENT_CERT_ALGORITHM_UNSUPPORTED)
                    .with("path", &shown)
                    .with("format", loaded.format)
                    .with("error", detail),
            );
            None
        }
        KeyState::TooCostly { iterations } => {
            o.push(
                Finding::new(code::CLIENT_CERT_KDF_TOO_COSTLY)
                    .with("path", &shown)
                    .with("iterations", iterations)
                    .with("limit", pki::MAX_KDF_ITERATIONS),
            );
            None
        }
    };
    if let Some(k) = &key {
        o.set_evidence(
            "key",
            serde_json::json!({"type": key_type(k), "bits": k.bits(), "matches_certificate": loaded.key_matches}),
        );
        if !loaded.key_matches {
            o.push(
                Finding::new(code::CLIENT_CERT_KEY_MISMATCH)
                    .with("path", &shown)
                    .with("subject", infos.first().map(|i| i.subject.clone()).unwrap_or_default()),
            );
        }
    }
    let now = pki::now_ts();
    if let Some(leaf) = infos.first() {
        let days = leaf.days_left(now);
        o.set_evidence("days_left", days);
        o.measures = crate::model::Measures::certificate(leaf.not_after_ts, now);
        if now < leaf.not_before_ts {
            o.push(
                Finding::new(code::CLIENT_CERT_NOT_YET_VALID)
                    .with("subject", &leaf.subject)
                    .with("not_before", &leaf.not_before)
                    .with("now", pki::format_time(now)),
            );
        } else if leaf.expired_at(now) {
            o.push(
                Finding::new(code::CLIENT_CERT_EXPIRED)
                    .with("subject", &leaf.subject)
                    .with("not_after", &leaf.not_after)
                    // Whole days since it expired: 3 days and some hours ago is "3 days ago".
                    .with("days", (now - leaf.not_after_ts).div_euclid(86_400)),
            );
        } else if days < EXPIRING_DAYS {
            o.push(
                Finding::new(code::CLIENT_CERT_EXPIRING)
                    .with("subject", &leaf.subject)
                    .with("not_after", &leaf.not_after)
                    .with("days", days),
            );
        }
        if !leaf.allows_client_auth() {
            o.push(
                Finding::new(code::CLIENT_CERT_NO_CLIENT_AUTH)
                    .with("subject", &leaf.subject)
                    .with("usages", leaf.extended_key_usage.clone().unwrap_or_default().join(", ")),
            );
        }
        let icp = issued_by_icp_brasil(&infos);
        o.set_evidence("icp_brasil", icp);
        if !icp {
            let top = infos.last().map(|i| i.issuer.clone()).unwrap_or_default();
            let f = Finding::new(code::CLIENT_CERT_ISSUER_UNKNOWN).with("subject", &leaf.subject).with("issuer", top);
            o.push(if which == Which::Pucomex { f.severity(Severity::Fail) } else { f });
        }
        o = o.summary("subject", pki::short_name(leaf)).summary("not_after", &leaf.not_after).summary("days", days);
    }
    if judge_access {
        let users = hostfs::web_users();
        if !users.is_empty() && !users.iter().any(|u| hostfs::user_can_read(path, u)) {
            let (owner, mode) = hostfs::owner_and_mode(path).unwrap_or_else(|| ("?".into(), "?".into()));
            o.push(
                Finding::new(code::CLIENT_CERT_UNREADABLE)
                    .with("path", &shown)
                    .with("error", "the file's mode does not let this user read it")
                    .with("owner", owner)
                    .with("mode", mode)
                    .with("web_user", users.join(", ")),
            );
        }
    }
    let identity = match (key, loaded.key_matches) {
        (Some(k), true) => k.private_key_to_pkcs8().ok().map(|der| {
            Arc::new(Identity {
                certs: loaded.certs.iter().map(|d| CertificateDer::from(d.clone())).collect(),
                key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der)),
                subject: infos.first().map(|i| i.subject.clone()).unwrap_or_default(),
            })
        }),
        _ => None,
    };
    o.set_fact(IdentityFact { identity, path: shown, chain_gap });
    o
}

/// The finding for a certificate file that could not be read at all.
fn unreadable(path: &Path, shown: &str, reason: Reason) -> Finding {
    match reason {
        Reason::NotFound => Finding::new(code::CLIENT_CERT_MISSING).with("path", shown),
        Reason::TooLarge { size, limit } => Finding::new(code::CLIENT_CERT_TOO_LARGE)
            .with("path", shown)
            .with("size", size.map(|n| format!("{n} bytes")).unwrap_or_else(|| format!("more than {limit} bytes")))
            .with("limit", hostfs::human_size(limit)),
        Reason::PermissionDenied { user } => {
            let (owner, mode) = hostfs::owner_and_mode(path).unwrap_or_else(|| ("?".into(), "?".into()));
            Finding::new(code::CLIENT_CERT_UNREADABLE)
                .with("path", shown)
                .with("error", "permission denied")
                .with("owner", owner)
                .with("mode", mode)
                .with("web_user", user)
        }
        // A FIFO, a device, a directory, a kernel file, an I/O error: not a certificate file.
        other => Finding::new(code::CLIENT_CERT_INVALID_FORMAT).with("path", shown).with("error", other),
    }
}

fn key_type(k: &openssl::pkey::PKey<openssl::pkey::Private>) -> &'static str {
    use openssl::pkey::Id;
    match k.id() {
        Id::RSA => "RSA",
        Id::EC => "EC",
        Id::ED25519 => "Ed25519",
        _ => "other",
    }
}

/// The certificate facts of an inspection for `pen-doctor cert`, typed by what each line is: the
/// certificate's own fields from its evidence, the days left from the typed measures.
pub fn facts(ev: &serde_json::Map<String, serde_json::Value>, measures: &crate::model::Measures) -> Vec<CertFact> {
    let mut out = Vec::new();
    let s = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if let Some(f) = ev.get("file") {
        out.push(CertFact::text(CertFactLabel::File, s(f)));
    }
    if let Some(f) = ev.get("format") {
        out.push(CertFact::text(CertFactLabel::Format, s(f)));
    }
    if let Some(c) = ev.get("certificate") {
        for (label, key) in [
            (CertFactLabel::Subject, "subject"),
            (CertFactLabel::Issuer, "issuer"),
            (CertFactLabel::Serial, "serial"),
            (CertFactLabel::NotBefore, "not_before"),
            (CertFactLabel::NotAfter, "not_after"),
            (CertFactLabel::Sha256, "sha256"),
            (CertFactLabel::Cnpj, "icp_cnpj"),
            (CertFactLabel::Cpf, "icp_cpf"),
        ] {
            if let Some(v) = c.get(key) {
                out.push(CertFact::text(label, s(v)));
            }
        }
        if let Some(d) = measures.days_left {
            out.push(CertFact::text(CertFactLabel::DaysLeft, d.to_string()));
        }
        if let (Some(t), Some(b)) = (c.get("key_type"), c.get("key_bits")) {
            out.push(CertFact::text(CertFactLabel::Key, format!("{} {}", s(t), s(b))));
        }
        if let Some(e) = c.get("extended_key_usage").and_then(|e| e.as_array()) {
            out.push(CertFact::text(CertFactLabel::Eku, e.iter().map(s).collect::<Vec<_>>().join(", ")));
        }
    }
    if let Some(chain) = ev.get("chain").and_then(|c| c.as_array()) {
        for c in chain {
            out.push(CertFact {
                label: CertFactLabel::Chain,
                value: CertFactValue::ChainLink {
                    subject: c.get("subject").map(s).unwrap_or_default(),
                    issuer: c.get("issuer").map(s).unwrap_or_default(),
                },
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{self, Given};
    use crate::model::check_id::CERT_CLIENT;
    use openssl::asn1::Asn1Time;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkey::PKey;
    use openssl::x509::extension::ExtendedKeyUsage;
    use openssl::x509::{X509Builder, X509NameBuilder};

    /// A self-issued certificate for client authentication, valid from `from_days` to `to_days`
    /// around now, and its key: one PEM file, as a PEN client certificate is often kept.
    fn client_pem(from_days: i64, to_days: i64) -> Vec<u8> {
        let key =
            PKey::from_ec_key(EcKey::generate(&EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap()).unwrap())
                .unwrap();
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_nid(Nid::COMMONNAME, "sei.orgao.example").unwrap();
        let name = name.build();
        let at = |days: i64| Asn1Time::from_unix(pki::now_ts() + days * 86_400).unwrap();
        let mut b = X509Builder::new().unwrap();
        b.set_version(2).unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&at(from_days)).unwrap();
        b.set_not_after(&at(to_days)).unwrap();
        b.append_extension(ExtendedKeyUsage::new().client_auth().build().unwrap()).unwrap();
        b.sign(&key, MessageDigest::sha256()).unwrap();
        let mut pem = b.build().to_pem().unwrap();
        pem.extend(key.private_key_to_pem_pkcs8().unwrap());
        pem
    }

    /// `cert:client` run in-process on `pem` given as `--cert`.
    fn run_on(pem: Option<&[u8]>) -> Outcome {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("certificado.pem");
        if let Some(pem) = pem {
            std::fs::write(&path, pem).expect("the certificate file");
        }
        let mut settings = testing::settings();
        settings.cert = Some(path);
        testing::run_one_blocking(settings, &CERT_CLIENT, Given::new())
    }

    fn fact(o: &Outcome) -> &IdentityFact {
        o.fact.as_ref().and_then(|f| f.downcast_ref::<IdentityFact>()).expect("the identity fact")
    }

    fn codes(o: &Outcome) -> Vec<&str> {
        o.findings.iter().map(|f| f.code.as_ref()).collect()
    }

    #[test]
    fn a_valid_certificate_is_handed_on_as_the_identity() {
        let o = run_on(Some(&client_pem(-1, 365)));
        let c = codes(&o);
        assert!(!c.iter().any(|c| c.starts_with("CLIENT_CERT_EXPIR") || *c == "CLIENT_CERT_INVALID_FORMAT"), "{c:?}");
        let identity = fact(&o).identity.as_ref().expect("loaded");
        assert!(identity.subject.contains("sei.orgao.example"), "{}", identity.subject);
        let days = o.evidence["days_left"].as_i64().expect("days left");
        assert!((364..=365).contains(&days), "{days}");
    }

    #[test]
    fn an_expired_certificate_says_since_when() {
        let o = run_on(Some(&client_pem(-400, -10)));
        let f = o.findings.iter().find(|f| f.code == "CLIENT_CERT_EXPIRED").expect("expired");
        assert_eq!(f.params["days"], "10");
    }

    #[test]
    fn a_missing_or_damaged_file_leaves_the_dependents_without_an_identity() {
        let o = run_on(None);
        assert_eq!(codes(&o), ["CLIENT_CERT_MISSING"]);
        assert!(fact(&o).identity.is_none());
        let o = run_on(Some(b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"));
        assert_eq!(codes(&o), ["CLIENT_CERT_INVALID_FORMAT"]);
        assert!(fact(&o).identity.is_none());
    }
}
