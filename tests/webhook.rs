//! `webhook:<name>` against real receivers: nginx over HTTPS with a certificate from a test CA
//! (trusted through `--ca-bundle`), nginx with a certificate from another CA, nginx over plain
//! HTTP, and a late responder behind nginx for the slow cases.

#[path = "support/web.rs"]
mod web;

use serde_json::Value;
use std::process::Command;
use std::time::Duration;
use web::{free_port, late_responder, Ca, Nginx};

struct Lab {
    _dir: tempfile::TempDir,
    ca: std::path::PathBuf,
    trusted: u16,
    untrusted: u16,
    plain: u16,
    nginx: Nginx,
}

const HOST: &str = "receptor.sefaz.test";

/// nginx with: a trusted HTTPS receiver (`/ok` answers 200 only to a JSON POST carrying the
/// test header, `/fail` 500, `/slow` and `/hang` proxied to late responders), an HTTPS receiver
/// whose certificate comes from a CA outside the bundle, and a plain HTTP receiver.
fn lab() -> Lab {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ca = Ca::new(d, "ca-bundle");
    let other = Ca::new(d, "ca-other");
    let (cert, key) = ca.server("trusted", &[HOST, "127.0.0.1"]);
    let (ocert, okey) = other.server("untrusted", &[HOST, "127.0.0.1"]);
    let (trusted, untrusted, plain) = (free_port(), free_port(), free_port());
    let slow = late_responder(Duration::from_millis(1300));
    let hang = late_responder(Duration::from_secs(6));
    let receiver = r#"
      default_type application/json;
      location = /ok {
        if ($request_method != POST) { return 405; }
        if ($http_x_pen_doctor_test != "1") { return 400; }
        if ($content_type != "application/json") { return 415; }
        return 200 '{"ok":true}';
      }
      location = /fail { return 500 '{"erro":"falha interna"}'; }
    "#;
    let servers = format!(
        r#"
    server {{
      listen 127.0.0.1:{trusted} ssl;
      ssl_certificate {cert};
      ssl_certificate_key {key};
      {receiver}
      location = /slow {{ proxy_pass http://127.0.0.1:{slow}; proxy_read_timeout 20s; }}
      location = /hang {{ proxy_pass http://127.0.0.1:{hang}; proxy_read_timeout 20s; }}
    }}
    server {{
      listen 127.0.0.1:{untrusted} ssl;
      ssl_certificate {ocert};
      ssl_certificate_key {okey};
      {receiver}
    }}
    server {{
      listen 127.0.0.1:{plain};
      {receiver}
    }}"#,
        cert = cert.display(),
        key = key.display(),
        ocert = ocert.display(),
        okey = okey.display(),
    );
    let nginx = Nginx::start(d, &servers, &[trusted, untrusted, plain]);
    Lab { ca: ca.cert.clone(), _dir: dir, trusted, untrusted, plain, nginx }
}

fn run_json(args: &[&str]) -> Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pen-doctor"));
    cmd.arg("check").args(args).args(["--only", "webhook", "--format", "json", "--timeout", "2s"]);
    for v in ["HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"] {
        cmd.env_remove(v);
    }
    let out = cmd.output().expect("pen-doctor runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(matches!(out.status.code(), Some(0) | Some(1)), "{text}{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no check {id} in {report:#}"))
}

fn codes(check: &Value) -> Vec<&str> {
    check["findings"].as_array().map(|f| f.iter().filter_map(|f| f["code"].as_str()).collect()).unwrap_or_default()
}

#[test]
fn receiver_answering_200_passes() {
    let lab = lab();
    let url = format!("https://{HOST}:{}/ok", lab.trusted);
    let resolve = format!("{HOST}:{}:127.0.0.1", lab.trusted);
    let report = run_json(&[
        "--webhook",
        &format!("sefaz={url}"),
        "--resolve",
        &resolve,
        "--ca-bundle",
        lab.ca.to_str().unwrap(),
    ]);
    let c = check(&report, "webhook:sefaz");
    assert_eq!(c["status"], "ok", "{c:#}");
    assert_eq!(c["evidence"]["status"], 200);
    assert_eq!(c["evidence"]["body"], "{\"ok\":true}");
    assert!(c["evidence"]["tls_version"].as_str().unwrap_or("").starts_with("TLSv1."), "{c:#}");
    assert!(c["evidence"]["elapsed_ms"].as_u64().is_some());
    // nginx answered 200 only because the POST carried the test header and a JSON body.
    let log = lab.nginx.access_log();
    assert!(log.contains("\"POST /ok HTTP/1.1\" 200"), "{log}");
}

#[test]
fn receiver_answering_500_is_bad_status() {
    let lab = lab();
    let report = run_json(&[
        "--webhook",
        &format!("https://127.0.0.1:{}/fail", lab.trusted),
        "--ca-bundle",
        lab.ca.to_str().unwrap(),
    ]);
    let c = check(&report, "webhook:default");
    assert_eq!(codes(c), vec!["WEBHOOK_BAD_STATUS"]);
    assert_eq!(c["findings"][0]["params"]["status"], "500");
    assert_eq!(c["evidence"]["body"], "{\"erro\":\"falha interna\"}");
    assert_eq!(c["findings"][0]["kb"]["article"], "PUCOMEX-WEBHOOKS");
}

#[test]
fn plain_http_receiver_is_refused() {
    let lab = lab();
    let report = run_json(&["--webhook", &format!("sefaz=http://127.0.0.1:{}/ok", lab.plain)]);
    let c = check(&report, "webhook:sefaz");
    assert_eq!(codes(c), vec!["WEBHOOK_NOT_HTTPS"]);
    assert_eq!(c["status"], "fail");
    assert!(lab.nginx.access_log().is_empty(), "no notification is sent over plain HTTP");
}

#[test]
fn certificate_from_an_unknown_ca_is_untrusted() {
    let lab = lab();
    let report = run_json(&[
        "--webhook",
        &format!("outra=https://127.0.0.1:{}/ok", lab.untrusted),
        "--ca-bundle",
        lab.ca.to_str().unwrap(),
    ]);
    let c = check(&report, "webhook:outra");
    assert_eq!(codes(c), vec!["WEBHOOK_TLS_UNTRUSTED"], "{c:#}");
    // Without --ca-bundle the publicly trusted roots decide: a private CA is not among them.
    let report = run_json(&["--webhook", &format!("sefaz=https://127.0.0.1:{}/ok", lab.trusted)]);
    assert_eq!(codes(check(&report, "webhook:sefaz")), vec!["WEBHOOK_TLS_UNTRUSTED"]);
    assert!(lab.nginx.access_log().is_empty(), "nothing is posted to an untrusted receiver");
}

#[test]
fn slow_and_silent_receivers() {
    let lab = lab();
    let ca = lab.ca.to_str().unwrap();
    let report = run_json(&[
        "--webhook",
        &format!("lento=https://127.0.0.1:{}/slow", lab.trusted),
        "--webhook",
        &format!("mudo=https://127.0.0.1:{}/hang", lab.trusted),
        "--ca-bundle",
        ca,
    ]);
    let slow = check(&report, "webhook:lento");
    assert_eq!(codes(slow), vec!["WEBHOOK_SLOW"], "{slow:#}");
    assert_eq!(slow["status"], "warn");
    assert_eq!(slow["findings"][0]["params"]["limit"], "1s");
    let silent = check(&report, "webhook:mudo");
    assert_eq!(codes(silent), vec!["WEBHOOK_UNREACHABLE"], "{silent:#}");
    assert!(silent["findings"][0]["params"]["error"].as_str().unwrap().contains("no HTTP answer within 2s"));
}

#[test]
fn closed_port_is_unreachable() {
    let port = free_port();
    let report = run_json(&["--webhook", &format!("https://127.0.0.1:{port}/ok")]);
    let c = check(&report, "webhook:default");
    assert_eq!(codes(c), vec!["WEBHOOK_UNREACHABLE"]);
    assert!(c["findings"][0]["params"]["error"].as_str().unwrap().contains("refused"), "{c:#}");
}

#[test]
fn explanations_carry_the_pucomex_delivery_rules() {
    for (lang, words) in
        [("pt", ["3 tentativas", "5 minutos", "200", "IP"]), ("en", ["3 attempts", "5 minutes", "200", "IP"])]
    {
        for code in ["WEBHOOK_BAD_STATUS", "WEBHOOK_SLOW", "WEBHOOK_UNREACHABLE"] {
            let out = Command::new(env!("CARGO_BIN_EXE_pen-doctor"))
                .args(["explain", code, "--lang", lang])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            for w in words {
                assert!(text.contains(w), "{code} ({lang}) lacks '{w}':\n{text}");
            }
        }
    }
}
