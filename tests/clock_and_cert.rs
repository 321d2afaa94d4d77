//! A certificate that looks "not yet valid" on a host whose clock is off: both the certificate
//! check and the clock check point at each other, so the operator fixes the clock first.

mod support;

use support::node;
use support::*;

const PASSWORD: &str = "Relogio-Cert-1";

fn run(cert: &std::path::Path, ntp_port: u16) -> serde_json::Value {
    let run = pen_doctor(Host)
        .args(["check", "--only", "cert,ntp", "--format", "json", "--timeout", "2s"])
        .arg("--cert")
        .arg(cert)
        .args(["--cert-password-env", "PDT_CLOCK_PW", "--ntp-server", &format!("127.0.0.1:{ntp_port}")])
        .env("PDT_CLOCK_PW", PASSWORD)
        .run();
    run.assert_code(1);
    run.json()
}

fn codes_of(report: &serde_json::Value, id: &str) -> Vec<String> {
    codes(check(report, id))
}

#[test]
fn a_not_yet_valid_certificate_and_a_clock_behind_name_each_other() {
    let pki = Pki::new();
    let root = pki.root("Clock Test Root");
    let future = pki.leaf(&root, LeafSpec::client("orgao-relogio.gov.br").not_yet_valid());
    let pem = pki.combined_pem(&future, PASSWORD);
    // The NTP server says the real time is two hours ahead of this host's clock.
    let ntp = node::responder(node::Behaviour::Offset(7200.0));
    let report = run(&pem, ntp);
    let cert = codes_of(&report, "cert:client");
    assert!(
        cert.contains(&"CLIENT_CERT_NOT_YET_VALID".into()) && cert.contains(&"CERT_NOT_YET_VALID_CLOCK_OFF".into()),
        "{cert:?}"
    );
    let clock = codes_of(&report, "ntp");
    assert!(
        clock.contains(&"NTP_OFFSET_HIGH".into()) && clock.contains(&"CERT_NOT_YET_VALID_CLOCK_OFF".into()),
        "{clock:?}"
    );
}

#[test]
fn a_valid_certificate_is_not_blamed_on_the_clock() {
    let pki = Pki::new();
    let root = pki.root("Clock Test Root 2");
    let good = pki.leaf(&root, LeafSpec::client("orgao-ok.gov.br"));
    let pem = pki.combined_pem(&good, PASSWORD);
    let ntp = node::responder(node::Behaviour::Offset(7200.0));
    let report = run(&pem, ntp);
    assert!(!codes_of(&report, "cert:client").contains(&"CERT_NOT_YET_VALID_CLOCK_OFF".into()));
    assert!(!codes_of(&report, "ntp").contains(&"CERT_NOT_YET_VALID_CLOCK_OFF".into()));
}
