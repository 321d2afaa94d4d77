//! `tls:<target>` and `http:<target>` against a real nginx on loopback serving every case: good
//! chain, expired, wrong host, missing intermediate, a chain that only reaches an expired
//! cross-signing root, mutual TLS with good and refused client certificates, 401/403/503, a login
//! page, Protocolo Integrado's Basic auth, a held long-poll; and hostile servers.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use support::pki_tls::*;
use support::{
    tls_server_config, verify_client, Host, Mtls, Running, Scenario, Site, TcpBehaviour, TcpServer, Tinyproxy, WSDL,
};

const PASS: &str = "Senha-Do-Certificado-9";
const PI_PASS: &str = "Senha-Do-PI-7";

const GOOD_HOSTS: &[&str] = &[
    "good.test",
    "api.test",
    "noauth.test",
    "err.test",
    "login.test",
    "deny.test",
    "pi.test",
    "pend.test",
    "pucomex.test",
    "xsign.test",
    "incomplete.test",
    "slow.test",
    "localhost",
];

/// A [`Scenario`] serving `good.test` (its certificate names every host of [`GOOD_HOSTS`]) and
/// beside it, in the same nginx, a virtual host per case; the scenario's client certificate
/// (PEM with its key encrypted with [`PASS`]) and its PKCS#12.
struct Lab {
    lab: Running,
    client_p12: PathBuf,
}

impl Lab {
    fn new() -> Lab {
        Lab::with_protocols("TLSv1.2 TLSv1.3")
    }

    fn with_protocols(protocols: &str) -> Lab {
        let pki = Arc::new(Pki::new());
        let mut spec = Spec::server("good.test");
        spec.dns = GOOD_HOSTS.to_vec();
        let good = pki.server_leaf(&spec);
        let expired = pki.server_leaf(&Spec::server("expired.test").valid(now() - 400 * DAY, now() - 2 * DAY));
        let other = pki.server_leaf(&Spec::server("other.test"));
        let w = |name: &str, s: String| pki.write(name, s).display().to_string();
        let good_key = w("good.key", good.key_pem());
        let good_chain = w("good-chain.pem", good.pem() + &pki.inter.pem());
        let good_only = w("good-only.pem", good.pem());
        let xsign_chain = w("xsign-chain.pem", good.pem() + &pki.inter.pem() + &pki.cross.pem());
        let expired_key = w("expired.key", expired.key_pem());
        let expired_chain = w("expired-chain.pem", expired.pem() + &pki.inter.pem());
        let other_key = w("other.key", other.key_pem());
        let other_chain = w("other-chain.pem", other.pem() + &pki.inter.pem());
        let hole = black_hole();
        let pi_auth = openssl::base64::encode_block(format!("usuario-pi:{PI_PASS}").as_bytes());

        let protocols = format!("ssl_protocols {protocols};\n");
        let server = |name: &str, chain: &str, key: &str, mtls: bool, site: Site| {
            let verify = verify_client(&pki, if mtls { Mtls::On } else { Mtls::Off }, 3);
            Nginx::tls_server(name, chain, key, &format!("{protocols}{verify}{}", site.nginx()))
        };
        let tramita_ok = Site::tramita().soap_wsdl();
        let mut conf = String::new();
        conf += &server("expired.test", &expired_chain, &expired_key, false, Site::ok());
        conf += &server("wrong.test", &other_chain, &other_key, false, Site::ok());
        conf += &server("incomplete.test", &good_only, &good_key, false, Site::ok());
        conf += &server("xsign.test", &xsign_chain, &good_key, false, Site::ok());
        conf += &server("api.test", &good_chain, &good_key, true, tramita_ok.clone());
        conf += &server("localhost", &good_chain, &good_key, true, tramita_ok);
        conf += &server(
            "pucomex.test",
            &good_chain,
            &good_key,
            true,
            Site::empty().answer_elsewhere("return 200 'portal';"),
        );
        conf += &server(
            "noauth.test",
            &good_chain,
            &good_key,
            true,
            Site::empty()
                .location("location = /interoperabilidade/rest/v3/healthcheck { return 200 '{\"status\":\"ok\"}'; }")
                .answer_elsewhere("return 403;"),
        );
        conf += &server("err.test", &good_chain, &good_key, true, Site::empty().answer_elsewhere("return 503;"));
        conf += &server("deny.test", &good_chain, &good_key, true, Site::empty().answer_elsewhere("return 401;"));
        conf += &server(
            "login.test",
            &good_chain,
            &good_key,
            true,
            Site::empty().answer_elsewhere(
                "default_type text/html; return 200 '<!DOCTYPE html><html><body><form>Login do proxy</form></body></html>';",
            ),
        );
        conf += &server(
            "pi.test",
            &good_chain,
            &good_key,
            false,
            Site::empty().location(&format!(
                "location /ProtocoloWS/integradorService {{ default_type text/xml; \
                 if ($http_authorization != \"Basic {pi_auth}\") {{ return 401; }} return 200 '{WSDL}'; }}"
            )),
        );
        conf += &server("pend.test", &good_chain, &good_key, true, Site::long_poll(hole));
        conf += &server("slow.test", &good_chain, &good_key, true, Site::long_poll(hole));
        let lab = Scenario::new()
            .pki(Arc::clone(&pki))
            .host("good.test")
            .identity(Path::new(&good_chain), Path::new(&good_key))
            .server_extra(&protocols)
            .site(Site::ok())
            .client(true)
            .password(PASS)
            .also_serve(&conf)
            .start();
        let c = lab.client();
        let client_p12 = pki.write("client.p12", c.p12(PASS, &[&pki.client_ca]));
        Lab { lab, client_p12 }
    }

    fn pki(&self) -> &Pki {
        self.lab.pki()
    }

    fn port(&self) -> u16 {
        self.lab.port()
    }

    /// The store with the public root and ISRG Root X1.
    fn store(&self) -> &Path {
        self.lab.store()
    }

    /// The good client certificate (PEM, PKCS#8-encrypted key).
    fn client(&self) -> &Path {
        self.lab.client_pem()
    }

    /// Runs `check` for one target whose endpoint is `https://host:port/path`.
    fn run(&self, target: &str, host: &str, path: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
        let mut args = CheckArgs::new().service(target, host, self.port(), path);
        if !extra.contains(&"--timeout") {
            args = args.timeout("2s");
        }
        if !extra.contains(&"--format") {
            args = args.json();
        }
        if !extra.contains(&"--ca-bundle") {
            args = args.ca_bundle(self.store());
        }
        let run = pen_doctor(&args.args(extra).strs(), env);
        for secret in [PASS, PI_PASS] {
            assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret), "a password leaked");
        }
        run
    }

    fn tls_only(&self, host: &str, store: &str) -> serde_json::Value {
        let run = self.run("protocolo-integrado", host, "/", &["--only", "tls", "--ca-bundle", store], &[]);
        check(&run.json(), "tls:protocolo-integrado").clone()
    }

    fn with_client(&self, host: &str, path: &str, cert: &str) -> serde_json::Value {
        let run = self.run(
            "tramita",
            host,
            path,
            &["--only", "http", "--cert", cert, "--cert-password-env", "CP"],
            &[("CP", PASS)],
        );
        run.json()
    }
}

#[test]
fn good_chain_and_mutual_tls_soap_and_rest() {
    let lab = Lab::new();
    let json = lab.with_client("api.test", "/interoperabilidade/soap/v3/", lab.client().to_str().unwrap());
    let tls = check(&json, "tls:tramita");
    assert_eq!(tls["status"], "ok", "{tls:#}");
    assert_eq!(tls["evidence"]["anchor"], "Teste Root X1");
    assert_eq!(tls["evidence"]["chain"].as_array().unwrap().len(), 2);
    assert_eq!(tls["evidence"]["openssl"]["verified"], true);
    assert!(tls["evidence"]["version"].as_str().unwrap().starts_with("TLSv1."));
    assert!(tls["evidence"]["cipher"].is_string());
    let http = check(&json, "http:tramita");
    assert_eq!(http["status"], "ok", "{http:#}");
    // A SOAP address (no module version off an SEI node): the WSDL, as a SOAP module asks.
    let urls: Vec<&str> =
        http["evidence"]["requests"].as_array().unwrap().iter().map(|r| r["url"].as_str().unwrap()).collect();
    assert_eq!(urls.len(), 1, "{urls:?}");
    assert!(urls[0].ends_with("/soap/v3/?wsdl"));
    assert_eq!(check(&json, "cert:client")["status"], "ok");
    assert_eq!(json["summary"]["fail"], 0, "{json:#}");
    // A REST address: healthcheck, then tramites/pendentes with `todas` false sent as 0.
    let json = lab.with_client("api.test", "/interoperabilidade/rest/v3/", lab.client().to_str().unwrap());
    let http = check(&json, "http:tramita");
    assert_eq!(http["status"], "ok", "{http:#}");
    let urls: Vec<&str> =
        http["evidence"]["requests"].as_array().unwrap().iter().map(|r| r["url"].as_str().unwrap()).collect();
    assert_eq!(urls.len(), 2, "{urls:?}");
    assert!(urls[0].ends_with("/rest/v3/healthcheck"), "{urls:?}");
    assert!(urls[1].ends_with("/rest/v3/tramites/pendentes?todas=0"), "{urls:?}");
}

#[test]
fn server_chain_failures_are_named() {
    let lab = Lab::new();
    let store = lab.store().to_str().unwrap();

    let tls = lab.tls_only("expired.test", store);
    assert_eq!(codes(&tls), vec!["SERVER_CERT_EXPIRED"], "{tls:#}");

    let tls = lab.tls_only("wrong.test", store);
    assert_eq!(codes(&tls), vec!["SERVER_CERT_HOSTNAME_MISMATCH"], "{tls:#}");
    let f = finding(&tls, "SERVER_CERT_HOSTNAME_MISMATCH");
    assert_eq!(f["params"]["names"], "other.test");
    assert!(f["params"]["issuer"].as_str().unwrap().contains("Teste Intermediaria R3"));

    let tls = lab.tls_only("incomplete.test", store);
    assert_eq!(codes(&tls), vec!["SERVER_CHAIN_INCOMPLETE"], "{tls:#}");
    assert!(finding(&tls, "SERVER_CHAIN_INCOMPLETE")["params"]["issuer"]
        .as_str()
        .unwrap()
        .contains("Intermediaria R3"));

    let stranger = lab.pki().write("stranger.pem", lab.pki().stranger.pem());
    let tls = lab.tls_only("good.test", stranger.to_str().unwrap());
    assert_eq!(codes(&tls), vec!["SERVER_CERT_UNTRUSTED"], "{tls:#}");
    let untrusted = finding(&tls, "SERVER_CERT_UNTRUSTED");
    assert!(untrusted["params"]["root"].as_str().unwrap().contains("Teste Root X1"));
    // Protocolo Integrado's untrusted chain is its own support article (the Sectigo chain update).
    assert_eq!(untrusted["kb"]["article"], "PI-ATENDIMENTO-CADEIA-CERTIFICADO", "{untrusted:#}");
    assert_eq!(tls["evidence"]["openssl"]["verified"], false);
}

#[test]
fn chain_to_an_expired_cross_signing_root() {
    let lab = Lab::new();
    let old_only = lab.pki().write("old-store.pem", lab.pki().old_root.pem());
    let run = lab.run(
        "protocolo-integrado",
        "xsign.test",
        "/",
        &["--only", "tls", "--ca-bundle", old_only.to_str().unwrap()],
        &[],
    );
    let json = run.json();
    let tls = check(&json, "tls:protocolo-integrado");
    assert_eq!(codes(tls), vec!["SERVER_CHAIN_EXPIRED_ROOT"], "{tls:#}");
    let f = finding(tls, "SERVER_CHAIN_EXPIRED_ROOT");
    assert!(f["params"]["root"].as_str().unwrap().contains("Teste Old Root X3"));
    assert_eq!(f["kb"]["cause"], 2);
    assert_eq!(tls["evidence"]["chain"].as_array().unwrap().len(), 3);
    assert_eq!(tls["evidence"]["openssl"]["verified"], false);
    // The store check flags the expired root as well.
    assert_eq!(codes(check(&json, "ca:store")), vec!["CA_STORE_EXPIRED_ROOTS", "CA_STORE_MISSING_ISRG_ROOT_X1"]);
    assert_eq!(run.code, Some(1));
}

#[test]
fn openssl_disagreement_is_reported() {
    // An intermediate alone in the store: rustls takes it as an anchor, OpenSSL wants the root.
    let lab = Lab::new();
    let inter_only = lab.pki().write("inter-store.pem", lab.pki().inter.pem());
    let tls = lab.tls_only("good.test", inter_only.to_str().unwrap());
    let f = finding(&tls, "TLS_VERDICT_DISAGREEMENT");
    assert_eq!(f["severity"], "info");
    assert_eq!(tls["evidence"]["openssl"]["verified"], false);
    // The host's own openssl command, on the same chain and store, says the same as the library.
    let tool = &tls["evidence"]["host_openssl"];
    assert_eq!(tool["verified"], false, "{tls:#}");
    assert!(tool["tool"].as_str().unwrap().ends_with("openssl verify"), "{tool:#}");
    assert!(tool["result"].as_str().unwrap().contains("error"), "{tool:#}");
    let f = finding(&tls, "TLS_HOST_TOOL_DISAGREES");
    assert_eq!(f["params"]["ours"], "ok");
}

#[test]
fn the_host_openssl_agrees_on_a_good_chain() {
    let lab = Lab::new();
    let tls = lab.tls_only("good.test", lab.store().to_str().unwrap());
    assert_eq!(tls["status"], "ok", "{tls:#}");
    let tool = &tls["evidence"]["host_openssl"];
    assert_eq!(tool["verified"], true, "{tls:#}");
    assert!(tool["library"].as_str().unwrap().starts_with("libssl.so"), "{tool:#}");
    assert!(!codes(&tls).contains(&"TLS_HOST_TOOL_DISAGREES".to_string()));
}

#[test]
fn client_certificate_refused_by_the_server_tls13() {
    client_certificate_refused(Lab::with_protocols("TLSv1.3"), "TLSv1.3");
}

#[test]
fn client_certificate_refused_by_the_server_tls12() {
    client_certificate_refused(Lab::with_protocols("TLSv1.2"), "TLSv1.2");
}

fn client_certificate_refused(lab: Lab, version: &str) {
    let soap = "/interoperabilidade/soap/v3/";

    // None configured: cert:client says so, and nginx answers 400 "No required SSL certificate".
    let run = lab.run("tramita", "api.test", soap, &["--only", "http"], &[]);
    let json = run.json();
    let cert = check(&json, "cert:client");
    assert_eq!(cert["status"], "warn");
    assert!(finding(cert, "CLIENT_CERT_NOT_CONFIGURED").is_object());
    assert_eq!(check(&json, "tls:tramita")["evidence"]["version"], version);
    let http = check(&json, "http:tramita");
    let f = finding(http, "CLIENT_CERT_REJECTED");
    assert!(f["params"]["reason"].as_str().unwrap().contains("no client certificate"), "{f:#}");
    assert!(f["params"]["reason"].as_str().unwrap().contains("No required SSL certificate"), "{f:#}");

    // A certificate from a CA the server does not know.
    let stranger = issue(&Spec::client("ORGAO X", "Outra"), rsa_key(), Some(&lab.pki().unknown_ca));
    let file = lab.pki().write("stranger.pem", stranger.pem() + &stranger.key_pem());
    // The server's CertificateRequest lists the CAs it accepts: the finding names them.
    let json = lab.with_client("api.test", soap, file.to_str().unwrap());
    assert_eq!(codes(check(&json, "http:tramita")), vec!["CLIENT_CERT_ISSUER_NOT_ACCEPTED"]);
    let f = finding(check(&json, "http:tramita"), "CLIENT_CERT_ISSUER_NOT_ACCEPTED");
    assert!(f["params"]["issuer"].as_str().unwrap().contains("AC Desconhecida"), "{f:#}");
    assert!(
        f["params"]["accepted"].as_str().unwrap().contains("Autoridade Certificadora Raiz Brasileira Teste"),
        "{f:#}"
    );
    assert_eq!(codes(check(&json, "cert:client")), vec!["CLIENT_CERT_ISSUER_UNKNOWN"]);

    // An expired certificate: found by cert:client and refused by the server.
    let old = lab.pki().client(&Spec::client("ORGAO VENCIDO", "ICP-Brasil").valid(now() - 400 * DAY, now() - DAY));
    let file = lab.pki().write("old.pem", old.pem() + &old.key_pem());
    let json = lab.with_client("api.test", soap, file.to_str().unwrap());
    assert_eq!(codes(check(&json, "cert:client")), vec!["CLIENT_CERT_EXPIRED"]);
    assert_eq!(codes(check(&json, "http:tramita")), vec!["CLIENT_CERT_REJECTED"]);

    // HTTP 401 with a good certificate.
    let json = lab.with_client("deny.test", soap, lab.client().to_str().unwrap());
    let f = finding(check(&json, "http:tramita"), "CLIENT_CERT_REJECTED");
    assert!(f["params"]["reason"].as_str().unwrap().contains("HTTP 401"));
}

#[test]
fn service_answers_told_apart() {
    let lab = Lab::new();
    let client = lab.client().to_str().unwrap();
    let rest = "/interoperabilidade/rest/v3/";

    let json = lab.with_client("noauth.test", rest, client);
    assert_eq!(codes(check(&json, "http:tramita")), vec!["TRAMITA_NOT_AUTHORIZED"]);

    let json = lab.with_client("err.test", rest, client);
    let http = check(&json, "http:tramita");
    assert_eq!(codes(http), vec!["HTTP_SERVER_ERROR"]);
    assert_eq!(finding(http, "HTTP_SERVER_ERROR")["params"]["status"], "503");

    let json = lab.with_client("login.test", "/interoperabilidade/soap/v3/", client);
    assert_eq!(codes(check(&json, "http:tramita")), vec!["HTTP_UNEXPECTED_RESPONSE"]);

    let run = lab.run(
        "tramita",
        "slow.test",
        rest,
        &["--only", "http", "--cert", client, "--cert-password-env", "CP", "--timeout", "1s"],
        &[("CP", PASS)],
    );
    assert_eq!(codes(check(&run.json(), "http:tramita")), vec!["HTTP_TIMEOUT"]);
    assert!(run.elapsed < Duration::from_secs(8), "{:?}", run.elapsed);
}

#[test]
fn pendencias_long_poll_held_counts_as_reachable() {
    let lab = Lab::new();
    let run = lab.run(
        "pendencias",
        "pend.test",
        "/",
        &["--only", "http", "--cert", lab.client().to_str().unwrap(), "--cert-password-env", "CP", "--timeout", "1s"],
        &[("CP", PASS)],
    );
    let json = run.json();
    let http = check(&json, "http:pendencias");
    assert_eq!(http["status"], "ok", "{http:#}");
    assert_eq!(http["evidence"]["long_poll"], "held");
}

#[test]
fn protocolo_integrado_basic_auth() {
    let lab = Lab::new();
    let path = "/ProtocoloWS/integradorService?wsdl";
    let ok = lab.run(
        "protocolo-integrado",
        "pi.test",
        path,
        &["--only", "http", "--pi-user", "usuario-pi", "--pi-password-env", "PIP"],
        &[("PIP", PI_PASS)],
    );
    let json = ok.json();
    assert_eq!(check(&json, "http:protocolo-integrado")["status"], "ok", "{json:#}");
    for format in ["human", "markdown", "json"] {
        let bad = lab.run(
            "protocolo-integrado",
            "pi.test",
            path,
            &["--only", "http", "--pi-user", "usuario-pi", "--pi-password-env", "PIP", "--format", format],
            &[("PIP", "errada")],
        );
        assert!(bad.stdout.contains("PI_WS_AUTH_FAILED"), "{}", bad.stdout);
        assert_eq!(bad.code, Some(1));
    }
}

#[test]
fn pucomex_with_pkcs12() {
    let lab = Lab::new();
    let run = lab.run(
        "pucomex",
        "pucomex.test",
        "/",
        &["--only", "http", "--pucomex-cert", lab.client_p12.to_str().unwrap(), "--pucomex-password-env", "PP"],
        &[("PP", PASS)],
    );
    let json = run.json();
    assert_eq!(check(&json, "cert:pucomex")["status"], "ok", "{json:#}");
    assert_eq!(check(&json, "http:pucomex")["status"], "ok", "{json:#}");
    let client_subject = check(&json, "http:pucomex")["evidence"]["client_certificate"].as_str().unwrap().to_string();
    assert!(client_subject.contains("ORGAO TESTE"));
}

#[test]
fn hostile_servers_give_findings_within_the_timeout() {
    let pki = Pki::new();
    let store = pki.write("store.pem", pki.root.pem());
    for (kind, code) in [
        (Hostile::CloseMidHandshake, "TLS_HANDSHAKE_FAILED"),
        (Hostile::Garbage, "TLS_HANDSHAKE_FAILED"),
        (Hostile::Silent, "TLS_TIMEOUT"),
    ] {
        let server = kind.start();
        let port = server.port();
        let args = CheckArgs::new()
            .only("tls")
            .service("protocolo-integrado", "bad.test", port, "/")
            .ca_bundle(&store)
            .timeout("1s")
            .json();
        let run = pen_doctor(&args.strs(), &[]);
        let json = run.json();
        let tls = check(&json, "tls:protocolo-integrado");
        assert_eq!(codes(tls), vec![code], "{tls:#}");
        assert!(finding(tls, code)["message"].as_str().unwrap().contains("bad.test"));
        assert!(run.elapsed < Duration::from_secs(6), "{:?}", run.elapsed);
    }
}

#[test]
fn tls_and_http_go_through_the_proxy() {
    let lab = Lab::new();
    let proxy = Tinyproxy::start(Host, ("127.0.0.1", free_port()), &[]);
    let endpoint = format!("tramita=https://localhost:{}/interoperabilidade/soap/v3/", lab.port());
    let proxy_url = proxy.url();
    let run = pen_doctor(
        &[
            "check",
            "--only",
            "http",
            "--target",
            "tramita",
            "--endpoint",
            &endpoint,
            "--proxy",
            &proxy_url,
            "--ca-bundle",
            lab.store().to_str().unwrap(),
            "--cert",
            lab.client().to_str().unwrap(),
            "--cert-password-env",
            "CP",
            "--timeout",
            "3s",
            "--format",
            "json",
        ],
        &[("CP", PASS)],
    );
    let json = run.json();
    assert_eq!(check(&json, "tcp:tramita")["evidence"]["via"], "proxy", "{json:#}");
    assert_eq!(check(&json, "tls:tramita")["status"], "ok", "{json:#}");
    assert_eq!(check(&json, "http:tramita")["status"], "ok", "{json:#}");
    assert!(proxy.connects_to(&format!("localhost:{}", lab.port())) > 0, "the proxy saw no tunnel: {}", proxy.log());
}

/// `openssl s_server` demanding a client certificate at the TLS level (`-Verify`): the refusal is
/// a TLS alert, not an HTTP answer. Stopped on drop; the port it accepts on.
fn s_server(lab: &Lab, version_flag: &str) -> (support::Proc, u16) {
    let port = free_port();
    let p = |n: &str| lab.pki().path(n).display().to_string();
    let mut cmd = std::process::Command::new("openssl");
    cmd.args(["s_server", "-quiet", "-www", version_flag, "-accept", &port.to_string(), "-Verify", "3"])
        .args([
            "-cert",
            &p("good-only.pem"),
            "-key",
            &p("good.key"),
            "-cert_chain",
            &lab.pki().write("inter.pem", lab.pki().inter.pem()).display().to_string(),
        ])
        .args(["-CAfile", &p("client-ca.pem")]);
    let server = support::Proc::spawn_quiet("openssl s_server", cmd);
    support::node::wait_tcp(port);
    (server, port)
}

#[test]
fn client_certificate_refused_with_a_tls_alert() {
    let lab = Lab::new();
    for flag in ["-tls1_2", "-tls1_3"] {
        let (_s_server, port) = s_server(&lab, flag);
        let args = CheckArgs::new()
            .only("http")
            .service("pucomex", "good.test", port, "/")
            .ca_bundle(lab.store())
            .timeout("2s")
            .json();
        let base = args.strs();
        // No certificate: the server's alert is the refusal; the server chain itself is fine.
        let json = pen_doctor(&base, &[]).json();
        assert_eq!(check(&json, "tls:pucomex")["status"], "ok", "{flag}: {json:#}");
        let f = finding(check(&json, "http:pucomex"), "CLIENT_CERT_REJECTED");
        assert!(f["params"]["reason"].as_str().unwrap().contains("TLS alert"), "{flag}: {f:#}");
        // Pucomex's certificate is not Tramita's: its refusal points at Pucomex's article.
        assert_eq!(f["kb"]["article"], "PUCOMEX-WEBHOOKS", "{flag}: {f:#}");
        if flag == "-tls1_2" {
            // TLS 1.2: the alert ends the handshake after the server chain was verified.
            assert_eq!(check(&json, "tls:pucomex")["evidence"]["client_certificate_demanded"], "HandshakeFailure");
        }

        // The good certificate is accepted.
        let mut args = base.to_vec();
        args.extend(["--pucomex-cert", lab.client_p12.to_str().unwrap(), "--pucomex-password-env", "PP"]);
        let json = pen_doctor(&args, &[("PP", PASS)]).json();
        assert_eq!(check(&json, "http:pucomex")["status"], "ok", "{flag}: {json:#}");
    }
}

/// How a hostile HTTPS server answers once TLS is up.
#[derive(Clone, Copy)]
enum BadHttp {
    EndlessHeaders,
    NotHttp,
    Trickle,
}

/// A TLS server (rustls) with the lab's good certificate that answers badly; lives as long as
/// the test process.
fn bad_https(lab: &Lab, how: BadHttp) -> u16 {
    use std::io::{Read, Write};
    let config = tls_server_config(&lab.pki().path("good-chain.pem"), &lab.pki().path("good.key"));
    let server = TcpServer::start(
        Host,
        "127.0.0.1:0",
        TcpBehaviour::serve(move |tcp| {
            let config = config.clone();
            let conn = rustls::ServerConnection::new(config).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut buf = [0u8; 4096];
            if tls.read(&mut buf).is_err() {
                return;
            }
            let _ = match how {
                BadHttp::NotHttp => tls.write_all(b"SSH-2.0-OpenSSH_9.2\r\n\r\n").and_then(|_| tls.flush()),
                BadHttp::EndlessHeaders => (|| {
                    tls.write_all(b"HTTP/1.1 200 OK\r\n")?;
                    loop {
                        tls.write_all(b"X-Endless: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n")?;
                    }
                })(),
                BadHttp::Trickle => (|| loop {
                    tls.write_all(b"H")?;
                    tls.flush()?;
                    std::thread::sleep(Duration::from_millis(100));
                })(),
            };
            std::thread::sleep(Duration::from_secs(5));
        }),
    );
    server.keep().port()
}

#[test]
fn hostile_http_answers_give_findings_within_the_timeout() {
    let lab = Lab::new();
    // The malformation as typed facts for machines, and said in Portuguese in the message.
    let endless = Some(("response head larger than 65536 bytes", "cabeçalho da resposta com mais de 65536 bytes"));
    let not_http =
        Some(("not an HTTP answer: \"SSH-2.0-OpenSSH_9.2\"", "não é uma resposta HTTP: \"SSH-2.0-OpenSSH_9.2\""));
    for (how, code, detail) in [
        (BadHttp::EndlessHeaders, "HTTP_UNEXPECTED_RESPONSE", endless),
        (BadHttp::NotHttp, "HTTP_UNEXPECTED_RESPONSE", not_http),
        (BadHttp::Trickle, "HTTP_TIMEOUT", None),
    ] {
        let port = bad_https(&lab, how);
        let args = CheckArgs::new()
            .only("http")
            .service("protocolo-integrado", "good.test", port, "/ProtocoloWS/integradorService?wsdl")
            .ca_bundle(lab.store())
            .timeout("1s")
            .json();
        let run = pen_doctor(&args.strs(), &[]);
        let json = run.json();
        let http = check(&json, "http:protocolo-integrado");
        assert_eq!(codes(http), vec![code], "{http:#}");
        if let Some((en, pt)) = detail {
            let f = finding(http, code);
            assert_eq!(f["params"]["detail"], en, "{f:#}");
            assert!(f["message"].as_str().unwrap().contains(pt), "{f:#}");
        }
        assert!(run.elapsed < Duration::from_secs(6), "{:?}", run.elapsed);
    }
}
