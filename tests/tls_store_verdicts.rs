//! Per-store verdicts against a real nginx: when the store SEI's PHP uses refuses the chain and
//! the distribution's bundle trusts it, one finding says so (the host's files are read under a
//! test root, `PEN_DOCTOR_ROOT`).

mod support;
use support::pki_tls;

use pki_tls::*;
use support::{Running, Scenario, Site};

fn tls(lab: &Running, php_store: &std::path::Path, root: &std::path::Path) -> serde_json::Value {
    let args = CheckArgs::new()
        .service("protocolo-integrado", "pi.test", lab.port(), "/")
        .only("tls")
        .timeout("2s")
        .json()
        .ca_bundle(php_store);
    let run = pen_doctor(&args.strs(), &[("PEN_DOCTOR_ROOT", root.to_str().unwrap())]);
    check(&run.json(), "tls:protocolo-integrado").clone()
}

#[test]
fn php_store_refuses_and_the_system_bundle_trusts() {
    let lab = Scenario::new().host("pi.test").site(Site::ok()).start();
    let pki = lab.pki();
    // The host: a distribution bundle that holds the root.
    let host = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(host.path().join("etc/ssl/certs")).unwrap();
    let system = host.path().join("etc/ssl/certs/ca-certificates.crt");
    std::fs::write(&system, pki.root.pem()).unwrap();

    // PHP's own (stale) bundle lacks it.
    let stale = pki.write("php-bundle.pem", pki.stranger.pem());
    let c = tls(&lab, &stale, host.path());
    assert_eq!(c["status"], "fail", "{c:#}");
    assert!(codes(&c).contains(&"SERVER_CERT_UNTRUSTED".to_string()), "{c:#}");
    let f = finding(&c, "TLS_OTHER_STORE_TRUSTS");
    assert_eq!(f["severity"], "info");
    assert_eq!(f["params"]["other"], "/etc/ssl/certs/ca-certificates.crt", "{f:#}");
    let stores = c["evidence"]["stores"].as_array().unwrap();
    assert_eq!(stores[0]["verified"], false);
    assert_eq!(stores[1]["verified"], true, "{stores:?}");

    // Neither trusts it: no such line.
    std::fs::write(&system, pki.stranger.pem()).unwrap();
    let c = tls(&lab, &stale, host.path());
    assert!(!codes(&c).contains(&"TLS_OTHER_STORE_TRUSTS".to_string()), "{c:#}");
    assert!(c["evidence"]["stores"].as_array().unwrap().iter().all(|s| s["verified"] == false), "{c:#}");
}
