//! `tls:<target>`: a TLS handshake (rustls, SNI) over the connection `tcp:<target>` opened, that
//! verifies the server chain against exactly the `ca:store` bundle and, for a mutual-TLS target,
//! offers the client certificate of `cert:*` when that check is part of the run. The verified
//! connection is handed to `http:<target>`, which sends every request of the run over it. On
//! failure a second, capture-only handshake records the chain the server presented and the
//! finding names the cause (missing root, expired root, hostname, expired certificate, incomplete
//! chain). OpenSSL's verdict on the same bundle is recorded too, and a disagreement reported.

use super::core::{Check, Ctx};
pub use super::facts::TlsFact;
use super::facts::{IdentityFact, Reached};
pub use super::trust::roots_of;
use super::trust::TrustStore;
use crate::duration::humanize;
use crate::model::check_id::CA_STORE;
use crate::model::code;
use crate::model::Outcome;
use crate::model::{CheckId, Finding, Kind, TargetName};
use crate::net::tls::{self, Client, ClientIdentity, HsError, Seen, Verify};
use crate::net::Handoff;
use crate::pki::{self, CertInfo};
use crate::settings::Settings;
use crate::targets::Target;
use async_trait::async_trait;
use rustls::pki_types::CertificateDer;
use serde_json::json;
use std::sync::Arc;

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
        return Finding::new(code::TLS_HANDSHAKE_FAILED)
            .with("host", host)
            .with("error", "the server presented no certificate");
    };
    if leaf.expired_at(now) {
        return Finding::new(code::SERVER_CERT_EXPIRED)
            .with("host", host)
            .with("subject", &leaf.subject)
            .with("not_after", &leaf.not_after);
    }
    let name_ok = match (leaf_der, tls::server_name(host)) {
        (Some(der), Ok(name)) => rustls::server::ParsedCertificate::try_from(der)
            .map(|p| rustls::client::verify_server_name(&p, &name).is_ok())
            .unwrap_or(false),
        _ => false,
    };
    if !name_ok {
        let names = if leaf.dns_names.is_empty() { leaf.subject.clone() } else { leaf.dns_names.join(", ") };
        return Finding::new(code::SERVER_CERT_HOSTNAME_MISMATCH)
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
                return Finding::new(code::SERVER_CERT_EXPIRED)
                    .with("host", host)
                    .with("subject", &bad.subject)
                    .with("not_after", &bad.not_after);
            }
            return Finding::new(code::SERVER_CERT_UNTRUSTED)
                .with("host", host)
                .with("path", &store.path)
                .with("root", &cur.issuer);
        }
        if let Some(old) = store.by_subject(&cur.issuer_raw).find(|c| c.info.expired_at(now)) {
            return Finding::new(code::SERVER_CHAIN_EXPIRED_ROOT)
                .with("host", host)
                .with("root", &old.info.subject)
                .with("not_after", &old.info.not_after);
        }
        if let Some(next) = chain.iter().find(|c| c.subject_raw == cur.issuer_raw && c.sha256 != cur.sha256) {
            cur = next;
            continue;
        }
        if cur.self_issued() {
            return Finding::new(code::SERVER_CERT_UNTRUSTED)
                .with("host", host)
                .with("path", &store.path)
                .with("root", &cur.subject);
        }
        if std::ptr::eq(cur, leaf) {
            return Finding::new(code::SERVER_CHAIN_INCOMPLETE).with("host", host).with("issuer", &cur.issuer);
        }
        return Finding::new(code::SERVER_CERT_UNTRUSTED)
            .with("host", host)
            .with("path", &store.path)
            .with("root", &cur.issuer);
    }
    Finding::new(code::SERVER_CERT_UNTRUSTED).with("host", host).with("path", &store.path).with("root", &cur.issuer)
}

/// The ICP-Brasil roots ITI publishes (v5, v10, v11, v12), for the verdict of a public store.
const ICP_BRASIL_ROOTS: &[&str] = &[
    include_str!("../../fixtures/real-certs/icp-brasil/ICP-Brasilv5.pem"),
    include_str!("../../fixtures/real-certs/icp-brasil/ICP-Brasilv10.pem"),
    include_str!("../../fixtures/real-certs/icp-brasil/ICP-Brasilv11.pem"),
    include_str!("../../fixtures/real-certs/icp-brasil/ICP-Brasilv12.pem"),
];

/// The name of the public store judged beside PHP's.
pub const PUBLIC_STORE: &str = "webpki-roots (Mozilla) + ICP-Brasil v5/v10/v11/v12";

/// Other stores' OpenSSL verdicts on a chain PHP's store refused: the distribution's bundle
/// (when PHP uses another file) and the public roots with ICP-Brasil's. `(store, verified, words)`.
fn other_stores(
    php_store: &str,
    family: crate::host::OsFamily,
    chain: &[CertificateDer<'_>],
    host: &str,
) -> Vec<(String, bool, String)> {
    use crate::host::OsFamily;
    let mut out = Vec::new();
    let (debian, rhel) = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt");
    let order = match family {
        OsFamily::Rhel6 | OsFamily::Rhel7 | OsFamily::Rhel8 => [rhel, debian],
        _ => [debian, rhel],
    };
    if let Some(system) = order.iter().find(|p| crate::hostfs::path(p).is_file()) {
        let real = crate::hostfs::path(system);
        if real != std::path::Path::new(php_store) && *system != php_store {
            if let Ok(parsed) = super::store::load(&real) {
                let (ok, words) = tls::openssl_verdict(parsed.certs.iter().map(|c| c.der.as_slice()), chain, host);
                out.push((system.to_string(), ok, words));
            }
        }
    }
    let mut public = tls::public_roots();
    for pem in ICP_BRASIL_ROOTS {
        if let Some(der) = pki::split_pem(pem).blocks.into_iter().find_map(|b| b.der) {
            let _ = public.add(CertificateDer::from(der));
        }
    }
    let (ok, words) = tls::rustls_verdict(Arc::new(public), chain, host);
    out.push((PUBLIC_STORE.to_string(), ok, words));
    out
}

pub struct TlsCheck {
    target: Target,
    /// The `cert:*` check that holds the identity (mutual-TLS targets only).
    cert_check: Option<CheckId>,
}

/// One `tls:<target>` per target.
pub fn checks(settings: &Arc<Settings>) -> Vec<Box<dyn Check>> {
    settings
        .targets
        .iter()
        .map(|t| {
            let cert_check = t.mutual_tls.then(|| CheckId::cert_for(t.name));
            Box::new(TlsCheck { target: t.clone(), cert_check }) as Box<dyn Check>
        })
        .collect()
}

/// An X.500 name (DER) as text, like the subjects of the chain.
pub fn name_text(der: &[u8]) -> String {
    use x509_parser::prelude::FromDer;
    match x509_parser::x509::X509Name::from_der(der) {
        Ok((_, name)) => name.to_string(),
        Err(_) => format!("(unreadable name, {} bytes)", der.len()),
    }
}

fn session_evidence(o: &mut Outcome, seen: &Seen) -> String {
    let version = seen.version.clone().unwrap_or_else(|| "?".into());
    o.set_evidence("version", &version);
    if let Some(cipher) = &seen.cipher {
        o.set_evidence("cipher", cipher);
    }
    if let Some(alpn) = &seen.alpn {
        o.set_evidence("alpn", String::from_utf8_lossy(alpn));
    }
    version
}

#[async_trait]
impl Check for TlsCheck {
    fn id(&self) -> CheckId {
        CheckId::target(Kind::Tls, self.target.name)
    }
    fn target(&self) -> Option<TargetName> {
        Some(self.target.name)
    }
    fn depends_on(&self) -> Vec<CheckId> {
        vec![CheckId::target(Kind::Tcp, self.target.name), CA_STORE]
    }
    fn uses(&self) -> Vec<CheckId> {
        self.cert_check.iter().cloned().collect()
    }

    async fn run(&self, ctx: &Ctx) -> Outcome {
        let tcp_id = CheckId::target(Kind::Tcp, self.target.name);
        let Some(reached) = ctx.fact::<Reached>(&tcp_id) else {
            return Outcome::skipped(tcp_id);
        };
        let Some(store) = ctx.fact::<TrustStore>(&CA_STORE) else {
            return Outcome::skipped(CA_STORE);
        };
        let path = reached.path.clone();
        let host = path.host.clone();
        let timeout = ctx.timeout();
        let mut o = Outcome::new().evidence("host", &host).evidence("store", &store.path);
        let handshake_failed = |e: String| {
            Finding::new(code::TLS_HANDSHAKE_FAILED).with("host", &host).with("addr", path.describe()).with("error", e)
        };
        let name = match tls::server_name(&host) {
            Ok(n) => n,
            Err(e) => return o.finding(handshake_failed(e.to_string())),
        };
        // The client certificate, when the target wants one and `cert:*` loaded it: the
        // connection handed to `http:<target>` must be the one it will use.
        let identity = self
            .cert_check
            .as_ref()
            .and_then(|c| ctx.fact::<IdentityFact>(c))
            .and_then(|f| f.identity.as_ref())
            .and_then(|id| ClientIdentity::new(id.certs.clone(), id.key.clone_key()).ok());
        let identity_offered = identity.is_some();
        let roots = Arc::new(roots_of(store));
        let client = Client::new(Verify::Roots(Arc::clone(&roots))).identity(identity).alpn(&[b"http/1.1"]);
        let first = match reached.conn.take() {
            Some(tcp) => client.handshake(tcp, &name, timeout).await,
            None => client.open(&path, &name, timeout).await,
        };
        let (session, seen, failure) = match first {
            Ok(s) => {
                let seen = s.seen.clone();
                (Some(s), seen, None)
            }
            Err(f) => (None, f.seen, Some(f.error)),
        };
        let mut version = "?".to_string();
        let mut refused = None;
        let verified = match &failure {
            None => {
                version = session_evidence(&mut o, &seen);
                true
            }
            Some(e @ HsError::Tls(rustls::Error::AlertReceived(a)))
                if matches!(seen.verdict, Some(Ok(()))) && tls::is_client_cert_alert(a) =>
            {
                // The chain verified; the server then refused to go on (without, or with our,
                // client certificate).
                let key = if identity_offered { "client_certificate_refused" } else { "client_certificate_demanded" };
                o.set_evidence(key, format!("{a:?}"));
                refused = Some(e.clone());
                true
            }
            Some(HsError::Tls(rustls::Error::InvalidCertificate(_))) => false,
            Some(HsError::Timeout) => {
                return o.finding(
                    Finding::new(code::TLS_TIMEOUT)
                        .with("host", &host)
                        .with("addr", path.describe())
                        .with("timeout", humanize(timeout)),
                );
            }
            Some(e) if seen.chain.is_empty() || !matches!(seen.verdict, Some(Err(_))) => {
                return o.finding(handshake_failed(e.to_string()));
            }
            Some(_) => false,
        };
        if let Some(request) = &seen.certificate_request {
            // The server asked for a client certificate, naming the CAs it accepts.
            let names: Vec<String> = request.acceptable_cas.iter().map(|der| name_text(der)).collect();
            o.set_evidence(
                "client_certificate_request",
                json!({"acceptable_cas": names, "answered": request.answered}),
            );
        }
        let mut chain: Vec<CertificateDer<'static>> = seen.chain.clone();
        let mut rustls_error = None;
        if !verified {
            rustls_error = seen.verdict.clone().and_then(|v| v.err()).map(|e| e.to_string());
            // Second handshake, capture only: the chain as presented, and the session parameters.
            match Client::new(Verify::CaptureOnly).open(&path, &name, timeout).await {
                Ok(s) => {
                    version = session_evidence(&mut o, &s.seen);
                    chain = s.seen.chain;
                }
                Err(f) if !f.seen.chain.is_empty() => chain = f.seen.chain,
                Err(_) => {}
            }
        }
        let infos: Vec<CertInfo> = chain.iter().filter_map(|d| pki::cert_info(d)).collect();
        o.set_evidence("chain", &infos);
        // The server's leaf: its expiry, for monitoring.
        if let Some(leaf) = infos.first() {
            o.measures = crate::model::Measures::certificate(leaf.not_after_ts, pki::now_ts());
        }
        let (ossl_ok, ossl_msg) = tls::openssl_verdict(store.certs.iter().map(|c| c.der.as_slice()), &chain, &host);
        o.set_evidence("openssl", json!({"verified": ossl_ok, "result": ossl_msg}));
        if let Some(e) = &rustls_error {
            o.set_evidence("rustls", json!({"verified": false, "result": e}));
        } else {
            o.set_evidence("rustls", json!({"verified": true}));
        }
        if ossl_ok != verified {
            o.push(
                Finding::new(code::TLS_VERDICT_DISAGREEMENT)
                    .with("host", &host)
                    .with("rustls", rustls_error.clone().unwrap_or_else(|| "ok".into()))
                    .with("openssl", &ossl_msg),
            );
        }
        // The host's own `openssl` on the same chain and store: evidence, and a finding when it
        // disagrees with ours while built on the library PHP's curl uses (or that is unknown).
        if let Some(tool) = super::host_tools::openssl_verify(&store.path, &chain, &host, timeout).await {
            let same = match (&tool.library, &store.tls_library) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            o.set_evidence("host_openssl", &tool);
            if tool.verified != verified && same {
                o.push(
                    Finding::new(code::TLS_HOST_TOOL_DISAGREES)
                        .with("host", &host)
                        .with("tool", &tool.tool)
                        .with("result", &tool.result)
                        .with("ours", rustls_error.clone().unwrap_or_else(|| "ok".into())),
                );
            }
        }
        // A chain made by a TLS-inspecting device, trusted or not: that is the cause to name.
        let expected = crate::targets::expected_issuers(self.target.name, &host);
        let interception = crate::interception::detect(&infos, expected);
        if let Some(i) = &interception {
            o.set_evidence("interception", i);
            o.push(
                Finding::new(code::TLS_INTERCEPTED)
                    .with("host", &host)
                    .with("vendor", &i.vendor)
                    .with("issuer", &i.issuer),
            );
        }
        if !verified {
            if interception.is_none() {
                o.push(classify(&infos, chain.first(), store, &host));
                // Would another store trust it? Then the fault is the store PHP uses.
                let (php_store, family, owned, name) =
                    (store.path.clone(), ctx.settings.os_family, chain.clone(), host.clone());
                let others = tokio::task::spawn_blocking(move || other_stores(&php_store, family, &owned, &name))
                    .await
                    .unwrap_or_default();
                let mut stores = vec![json!({"store": &store.path, "verified": ossl_ok, "result": &ossl_msg})];
                stores.extend(others.iter().map(|(s, ok, w)| json!({"store": s, "verified": ok, "result": w})));
                o.set_evidence("stores", stores);
                if !ossl_ok {
                    if let Some((other, _, _)) = others.iter().find(|(_, ok, _)| *ok) {
                        o.push(
                            Finding::new(code::TLS_OTHER_STORE_TRUSTS)
                                .with("host", &host)
                                .with("path", &store.path)
                                .with("other", other),
                        );
                    }
                }
            }
            return o;
        }
        let anchor = anchor_of(&infos, store).unwrap_or_else(|| "?".into());
        o.set_evidence("anchor", &anchor);
        o.summary("host", &host).summary("version", version).summary("anchor", anchor).fact(TlsFact {
            path,
            roots,
            host,
            store: store.path.clone(),
            php_curl: store.php_curl.clone(),
            session: Handoff::new(session),
            identity_offered,
            refused,
            seen,
            intercepted: interception.map(|i| i.vendor),
        })
    }
}
