//! The client chain the server wants, against a real nginx that verifies client certificates
//! (`ssl_verify_client on`, the client root only in `ssl_client_certificate`, `ssl_verify_depth
//! 2`): an ICP-Brasil-shaped client certificate issued by an intermediate, in a file with and
//! without that intermediate.

mod support;
use support::pki_tls;

use pki_tls::*;
use support::{Mtls, Running, Scenario, Site, TRAMITA_SOAP_PATH};

const PASS: &str = "Senha-Da-Cadeia-3";

/// A [`Scenario`]: nginx serving the WSDL on `api.test`, requiring a client certificate of the
/// client root (`ssl_verify_depth 2`); an ICP-Brasil-shaped intermediate under that root and a
/// leaf it issued.
struct Lab {
    lab: Running,
    inter: Issued,
    leaf: Issued,
}

impl Lab {
    fn new() -> Lab {
        let lab = Scenario::new()
            .host("api.test")
            .mtls(Mtls::On)
            .client(false)
            .verify_depth(2)
            .site(Site::wsdl())
            .target("tramita", "api.test", TRAMITA_SOAP_PATH)
            .start();
        let client_ca = &lab.pki().client_ca;
        let inter =
            issue(&Spec { org: "ICP-Brasil", ..Spec::ca("AC Teste Intermediaria v5") }, ec_key(), Some(client_ca));
        let leaf = issue(&Spec::client("ORGAO CADEIA:00394460000141", "ICP-Brasil"), rsa_key(), Some(&inter));
        Lab { lab, inter, leaf }
    }

    fn run(&self, cert: &std::path::Path) -> serde_json::Value {
        let args =
            self.lab.target_args().only("http").timeout("2s").json().ca_bundle(self.lab.store()).cert(cert, "CP");
        let run = pen_doctor(&args.strs(), &[("CP", PASS)]);
        assert!(!run.stdout.contains(PASS) && !run.stderr.contains(PASS), "the password leaked");
        run.json()
    }
}

#[test]
fn leaf_without_its_intermediate_is_incomplete_and_refused_for_it() {
    let lab = Lab::new();
    let file = lab.lab.pki().write("leaf-only.pem", lab.leaf.pem() + &lab.leaf.key_pem_pkcs8_encrypted(PASS));
    let json = lab.run(&file);
    let cert = check(&json, "cert:client");
    assert_eq!(codes(cert), vec!["CLIENT_CERT_CHAIN_INCOMPLETE"], "{cert:#}");
    assert_eq!(cert["status"], "warn");
    let f = finding(cert, "CLIENT_CERT_CHAIN_INCOMPLETE");
    assert!(f["params"]["missing"].as_str().unwrap().contains("AC Teste Intermediaria v5"), "{f:#}");
    let http = check(&json, "http:tramita");
    assert_eq!(codes(http), vec!["CLIENT_CERT_CHAIN_NOT_SENT"], "{http:#}");
    assert_eq!(http["status"], "fail");
    let f = finding(http, "CLIENT_CERT_CHAIN_NOT_SENT");
    assert!(f["params"]["answer"].as_str().unwrap().contains("400"), "nginx's own refusal: {f:#}");
    assert!(f["params"]["missing"].as_str().unwrap().contains("AC Teste Intermediaria v5"), "{f:#}");
}

#[test]
fn leaf_with_its_intermediate_passes() {
    let lab = Lab::new();
    let file = lab
        .lab
        .pki()
        .write("leaf-chain.pem", lab.leaf.pem() + &lab.inter.pem() + &lab.leaf.key_pem_pkcs8_encrypted(PASS));
    let json = lab.run(&file);
    let cert = check(&json, "cert:client");
    assert!(codes(cert).is_empty(), "{cert:#}");
    let http = check(&json, "http:tramita");
    assert_eq!(http["status"], "ok", "{http:#}");

    // The same chain in a PKCS#12 (leaf, key and intermediate), as OpenSSL 3 exports it.
    let p12 = lab.lab.pki().write("leaf-chain.p12", lab.leaf.p12(PASS, &[&lab.inter]));
    let json = lab.run(&p12);
    assert!(codes(check(&json, "cert:client")).is_empty());
    assert_eq!(check(&json, "http:tramita")["status"], "ok");

    // Without the intermediate, the PKCS#12 is incomplete too.
    let p12 = lab.lab.pki().write("leaf-only.p12", lab.leaf.p12(PASS, &[]));
    let json = lab.run(&p12);
    assert_eq!(codes(check(&json, "cert:client")), vec!["CLIENT_CERT_CHAIN_INCOMPLETE"]);
    assert_eq!(codes(check(&json, "http:tramita")), vec!["CLIENT_CERT_CHAIN_NOT_SENT"]);
}
