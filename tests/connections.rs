//! One connection per target, measured by the server: a healthy run against a real nginx (mutual
//! TLS, a Tramita-like REST service and a pendências long-poll) opens exactly one TCP connection
//! to each, and Tramita's two requests share it. nginx counts the connections it accepted
//! (`stub_status`) and logs `$connection`/`$connection_requests` for every request. When the
//! server will not keep a connection open, the next request opens another and says why. The
//! host's own `curl` is asked for its verdict only where PHP's curl extension is installed (not
//! in this lab, unless the machine has PHP); when it is, it opens one more connection of its own,
//! told apart by its user agent and left out of pen-doctor's count.

mod support;

/// 1 when the run asked the host's `curl` for its verdict on Tramita (a connection of its own).
fn host_curl_asked(report: &serde_json::Value) -> u64 {
    u64::from(!check(report, "http:tramita")["evidence"]["host_curl"].is_null())
}

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use support::*;

const PASSWORD: &str = "Senha-Cliente-3";

/// One nginx per target, so each counts only its own connections: a [`Scenario`] whose nginx
/// logs `$connection $connection_requests` for each request and serves `stub_status` on
/// `status_port`.
struct Service {
    lab: Running,
    status_port: u16,
}

impl Service {
    fn start(scenario: Scenario) -> Service {
        let status_port = free_port(Host);
        let lab = scenario
            .http_extra(&format!(
                r#"log_format conn '$connection $connection_requests "$request" $status "$http_user_agent"';
                server {{
                  listen 127.0.0.1:{status_port};
                  access_log off;
                  location = /status {{ stub_status; }}
                }}"#
            ))
            .server_extra("access_log requests.log conn;")
            .start();
        Service { lab, status_port }
    }

    /// The connections nginx accepted so far (`stub_status`'s "accepts"), the one this question
    /// is asked on included.
    fn accepted(&self) -> u64 {
        let mut s = TcpStream::connect(("127.0.0.1", self.status_port)).expect("stub_status answers");
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"GET /status HTTP/1.0\r\nHost: status\r\n\r\n").unwrap();
        let mut text = String::new();
        let _ = s.read_to_string(&mut text);
        let numbers = text
            .lines()
            .skip_while(|l| !l.starts_with("server accepts"))
            .nth(1)
            .unwrap_or_else(|| panic!("no counters in {text:?}"));
        numbers.split_whitespace().next().and_then(|n| n.parse().ok()).expect("accepts")
    }

    /// The connections others opened since `before` was read: the question that read `before`
    /// is counted in it, the one asked now is left out.
    fn opened_since(&self, before: u64) -> u64 {
        self.accepted() - before - 1
    }

    /// `$connection $connection_requests "$request" $status` for each request pen-doctor made
    /// (the host curl's left out).
    fn requests(&self) -> Vec<(u64, u64, String)> {
        let log = std::fs::read_to_string(self.lab.nginx().dir().join("requests.log")).unwrap_or_default();
        log.lines()
            .filter(|l| !l.contains("\"curl/"))
            .filter_map(|l| {
                let mut parts = l.splitn(3, ' ');
                let conn = parts.next()?.parse().ok()?;
                let nth = parts.next()?.parse().ok()?;
                Some((conn, nth, parts.next()?.to_string()))
            })
            .collect()
    }
}

struct Lab {
    tramita: Service,
    pendencias: Service,
    _upstream: TcpServer,
}

/// Tramita (REST API, mutual TLS, `tramita_extra` in its server block) and pendências (a
/// long-poll nginx hands to an upstream that never answers), each on an nginx of its own.
fn lab(tramita_extra: &str) -> Lab {
    let tramita = Service::start(
        Scenario::new()
            .host("tramita.test")
            .also("pendencias.test")
            .mtls(Mtls::On)
            .client_cn("ORGAO CONEXOES")
            .password(PASSWORD)
            .server_extra(tramita_extra)
            .site(Site::tramita()),
    );
    let upstream = TcpServer::start(Host, "127.0.0.1:0", TcpBehaviour::Hold);
    let pendencias = Service::start(
        Scenario::new()
            .pki(tramita.lab.shared_pki())
            .host("pendencias.test")
            .mtls(Mtls::On)
            .client(false)
            .site(Site::long_poll(upstream.addr())),
    );
    Lab { tramita, pendencias, _upstream: upstream }
}

fn healthy_run(lab: &Lab) -> (Run, Value) {
    let (t, p) = (&lab.tramita.lab, &lab.pendencias.lab);
    let args = CheckArgs::new().only("tcp,tls,http").target("tramita,pendencias").json();
    let args = t.endpoint(args, "tramita", "tramita.test", TRAMITA_PATH);
    let args = p.endpoint(args, "pendencias", "pendencias.test", "/");
    let args = args.ca_bundle(t.store()).cert(t.client_pem(), PASSWORD_ENV).timeout("2s");
    let run = t.run(&args);
    let report = run.json();
    (run, report)
}

#[test]
fn a_healthy_run_opens_one_connection_per_target() {
    let lab = lab("");
    let before = (lab.tramita.accepted(), lab.pendencias.accepted());
    let (run, report) = healthy_run(&lab);
    run.assert_code(0);
    for id in ["tcp:tramita", "tls:tramita", "http:tramita", "tcp:pendencias", "tls:pendencias", "http:pendencias"] {
        assert_eq!(check(&report, id)["status"], "ok", "{:#}", check(&report, id));
    }
    assert_eq!(check(&report, "http:pendencias")["evidence"]["long_poll"], "held");

    // nginx's own count: one connection of pen-doctor to each service for the whole run (plus
    // the host curl's, when this machine has PHP's curl extension and the curl was asked).
    std::thread::sleep(Duration::from_millis(200));
    let curl = host_curl_asked(&report);
    assert_eq!(lab.tramita.opened_since(before.0), 1 + curl, "connections to tramita");
    assert_eq!(lab.pendencias.opened_since(before.1), 1, "connections to pendências");

    // Tramita's healthcheck and pendentes went over that connection, one after the other.
    let logged = lab.tramita.requests();
    assert_eq!(logged.len(), 2, "{logged:?}");
    assert_eq!(logged[0].0, logged[1].0, "same $connection: {logged:?}");
    assert_eq!((logged[0].1, logged[1].1), (1, 2), "$connection_requests: {logged:?}");
    assert!(logged[0].2.contains("/healthcheck") && logged[1].2.contains("/tramites/pendentes"), "{logged:?}");

    // The report says the same.
    let http = check(&report, "http:tramita");
    assert_eq!(http["evidence"]["connections"], 1, "{http:#}");
    for r in http["evidence"]["requests"].as_array().unwrap() {
        assert_eq!(r["connection"], 1, "{r:#}");
        assert!(r.get("new_connection").is_none(), "{r:#}");
        // The server's clock, as its Date header gave it.
        assert!(r["date"].as_str().is_some_and(|d| d.ends_with(" GMT")), "{r:#}");
    }
    // The verified handshake carried the client certificate the server asked for, and kept
    // the CA names the server said it accepts.
    let tls = check(&report, "tls:tramita");
    assert_eq!(tls["evidence"]["alpn"], "http/1.1", "{tls:#}");
    let request = &tls["evidence"]["client_certificate_request"];
    assert_eq!(request["answered"], true, "{tls:#}");
    let cas: Vec<&str> = request["acceptable_cas"].as_array().unwrap().iter().filter_map(|n| n.as_str()).collect();
    let client_ca = format!("CN={}", lab.tramita.lab.client_ca_name());
    assert!(cas.len() == 1 && cas[0].contains(&client_ca), "{cas:?}");
}

#[test]
fn a_server_that_closes_after_each_answer_gets_a_new_connection_said_in_the_evidence() {
    let lab = lab("keepalive_timeout 0;");
    let before = lab.tramita.accepted();
    let (run, report) = healthy_run(&lab);
    run.assert_code(0);
    let http = check(&report, "http:tramita");
    assert_eq!(http["status"], "ok", "{http:#}");
    let requests = http["evidence"]["requests"].as_array().unwrap();
    assert_eq!(requests[0]["connection"], 1, "{http:#}");
    assert_eq!(requests[1]["connection"], 2, "{http:#}");
    assert_eq!(requests[1]["new_connection"], "the server closed the connection after the previous answer");
    assert_eq!(http["evidence"]["connections"], 2);
    std::thread::sleep(Duration::from_millis(200));
    let curl = host_curl_asked(&report);
    assert_eq!(lab.tramita.opened_since(before), 2 + curl, "two of pen-doctor (and the host curl's)");
    let logged = lab.tramita.requests();
    assert_ne!(logged[0].0, logged[1].0, "{logged:?}");
}
