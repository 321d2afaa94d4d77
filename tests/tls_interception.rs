//! TLS interception against a real nginx: a certificate issued on the fly by a CA named like a
//! FortiGate's (trusted by the store and not), and a built-in target reached at its official
//! host presenting a chain outside its expected issuers, next to one inside them (no alarm).

mod support;
use support::pki_tls;

use pki_tls::*;
use std::sync::Arc;
use support::{Running, Scenario, Site};

const TRAMITA_HOST: &str = "api.conectagov.processoeletronico.gov.br";

/// A [`Scenario`] serving `api.test` with a leaf a FortiGate-named CA forged, and beside it in
/// the same nginx the official Tramita host with a Let's Encrypt-named chain or one of the
/// suite's own CA.
struct Lab {
    lab: Running,
    forti: Issued,
    le_root: Issued,
}

impl Lab {
    /// `official_is_genuine`: whether the official Tramita host is served the Let's Encrypt-named
    /// chain (else the chain of the test's own CA).
    fn new(official_is_genuine: bool) -> Lab {
        let pki = Arc::new(Pki::new());
        // The inspection CA a FortiGate generates, and a leaf it made for the host asked for.
        let forti = issue(&Spec { org: "Fortinet", ..Spec::ca("FortiGate CA") }, ec_key(), None);
        let (forged_key, forged_chain) = pki.serve_from(&forti, &["api.test", TRAMITA_HOST]);
        // A chain named like the service's own (Let's Encrypt) and one of another CA.
        let le_root =
            issue(&Spec { org: "Internet Security Research Group", ..Spec::ca("ISRG Root X1") }, ec_key(), None);
        let le_inter = issue(&Spec { org: "Let's Encrypt", ..Spec::ca("R11") }, ec_key(), Some(&le_root));
        let (le_key, le_chain) = pki.serve_from(&le_inter, &[TRAMITA_HOST, "le.test"]);
        let (other_key, other_chain) = pki.serve_from(&pki.inter, &[TRAMITA_HOST, "other.test"]);
        let (le_names, other_names) = if official_is_genuine {
            (format!("le.test {TRAMITA_HOST}"), "other.test".to_string())
        } else {
            ("le.test".to_string(), format!("other.test {TRAMITA_HOST}"))
        };
        let ok = Site::ok().nginx();
        let others = Nginx::tls_server(&le_names, &le_chain, &le_key, &ok)
            + &Nginx::tls_server(&other_names, &other_chain, &other_key, &ok);
        let lab = Scenario::new()
            .pki(pki)
            .host("api.test")
            .identity(&forged_chain, &forged_key)
            .site(Site::ok())
            .also_serve(&others)
            .start();
        Lab { lab, forti, le_root }
    }

    fn pki(&self) -> &Pki {
        self.lab.pki()
    }

    fn tls(&self, target: &str, host: &str, roots: &[&Issued]) -> serde_json::Value {
        tls(&self.lab, target, host, roots)
    }

    fn run(&self, target: &str, host: &str, roots: &[&Issued], only: &str) -> serde_json::Value {
        run(&self.lab, target, host, roots, only)
    }
}

/// `check --only tls` of `target` at `https://host:port/` of `lab`, the store holding `roots`.
fn tls(lab: &Running, target: &str, host: &str, roots: &[&Issued]) -> serde_json::Value {
    check(&run(lab, target, host, roots, "tls"), &format!("tls:{target}")).clone()
}

/// The report of `check --only ONLY` of `target` at `https://host:port/` of `lab`.
fn run(lab: &Running, target: &str, host: &str, roots: &[&Issued], only: &str) -> serde_json::Value {
    let store = lab
        .pki()
        .write(&format!("store-{}.pem", roots.len()), roots.iter().map(|r| r.pem()).collect::<Vec<_>>().concat());
    let args = lab.endpoint(CheckArgs::new().target(target), target, host, "/");
    let args = args.only(only).timeout("2s").json().ca_bundle(&store);
    pen_doctor(&args.strs(), &[]).json()
}

#[test]
fn an_inspection_ca_is_named_whether_trusted_or_not() {
    let lab = Lab::new(true);
    // Untrusted: not SERVER_CERT_UNTRUSTED, the interception.
    let tls = lab.tls("protocolo-integrado", "api.test", &[&lab.pki().root]);
    assert_eq!(codes(&tls), vec!["TLS_INTERCEPTED"], "{tls:#}");
    assert_eq!(tls["status"], "fail");
    let f = finding(&tls, "TLS_INTERCEPTED");
    assert_eq!(f["params"]["vendor"], "Fortinet FortiGate");
    assert!(f["params"]["issuer"].as_str().unwrap().contains("FortiGate CA"), "{f:#}");
    assert!(f["message"].as_str().unwrap().contains("api.test"), "{f:#}");
    assert_eq!(tls["evidence"]["interception"]["by"], "vendor");

    // Trusted (its CA added to the store): the handshake verifies, and it is still a failure.
    let tls = lab.tls("protocolo-integrado", "api.test", &[&lab.pki().root, &lab.forti]);
    assert_eq!(codes(&tls), vec!["TLS_INTERCEPTED"], "{tls:#}");
    assert_eq!(tls["status"], "fail");
    assert_eq!(tls["evidence"]["rustls"]["verified"], true);

    // What the device answers is not the service's: http is skipped naming the interception,
    // instead of judging the device's answers (a confusing certificate refusal for mTLS).
    let run = lab.run("protocolo-integrado", "api.test", &[&lab.pki().root, &lab.forti], "http");
    let http = check(&run, "http:protocolo-integrado");
    assert_eq!(http["status"], "skip", "{http:#}");
    assert!(http["skipped_because"].to_string().contains("TLS_INTERCEPTED"), "{http:#}");
}

#[test]
fn a_builtin_host_outside_its_expected_issuers_is_intercepted_and_inside_is_not() {
    // The official host presenting a Let's Encrypt chain: no alarm.
    let lab = Lab::new(true);
    let tls = lab.tls("tramita", TRAMITA_HOST, &[&lab.le_root]);
    assert_eq!(tls["status"], "ok", "a chain of the expected issuers: {tls:#}");
    assert!(codes(&tls).is_empty(), "{tls:#}");

    // The official host presenting a chain of another CA the store trusts: an inspecting device
    // without a known vendor name, named by the issuer's organisation.
    let lab = Lab::new(false);
    let tls = lab.tls("tramita", TRAMITA_HOST, &[&lab.pki().root]);
    assert_eq!(codes(&tls), vec!["TLS_INTERCEPTED"], "{tls:#}");
    assert_eq!(tls["evidence"]["interception"]["by"], "unexpected-issuer");
    assert_eq!(finding(&tls, "TLS_INTERCEPTED")["params"]["vendor"], "pen-doctor test");

    // The same chain at a host outside the table is not judged by the table's issuers.
    let tls = lab.tls("tramita", "other.test", &[&lab.pki().root]);
    assert_eq!(tls["status"], "ok", "{tls:#}");
}

#[test]
fn protocolo_integrado_is_judged_by_issuer_only_at_its_production_host() {
    // The issuer of Protocolo Integrado is known for production only: its preprod host serving
    // a chain of another CA (the suite's, trusted by the store) raises no alarm; the production
    // host serving the same chain does.
    const PROD: &str = "protocolointegrado.gov.br";
    const PREPROD: &str = "protocolointegrado.preprod.nuvem.gov.br";
    let lab = Scenario::new().host(PROD).also(PREPROD).site(Site::ok()).start();
    let tls = tls(&lab, "protocolo-integrado", PREPROD, &[&lab.pki().root]);
    assert_eq!(tls["status"], "ok", "the preprod host's issuer is not known: {tls:#}");
    assert!(codes(&tls).is_empty(), "{tls:#}");
    let tls = self::tls(&lab, "protocolo-integrado", PROD, &[&lab.pki().root]);
    assert_eq!(codes(&tls), vec!["TLS_INTERCEPTED"], "{tls:#}");
    assert_eq!(tls["evidence"]["interception"]["by"], "unexpected-issuer");
}
