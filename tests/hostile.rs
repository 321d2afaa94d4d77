//! Hostile peers on loopback against the TLS and HTTP steps: a server that drips its answer one
//! byte at a time, one that sends a 1 GB body, one that answers a TLS alert instead of a
//! ServerHello, one that cuts the connection in the middle of its ServerHello, one that closes
//! right after the handshake. Each ends in a finding within the timeout, the whole run within
//! `--deadline`, and the tool's memory stays bounded.

mod support;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;
use support::*;

#[derive(Clone, Copy)]
enum Behaviour {
    /// After the handshake, the status line one byte every 300 ms, forever.
    Drip,
    /// A 200 with `Content-Length: 1 GiB`, then zeros as fast as the client takes them.
    HugeBody,
    /// A fatal `handshake_failure` alert instead of a ServerHello.
    AlertInsteadOfHello,
    /// The first bytes of a ServerHello record, then the connection is closed.
    HalfServerHello,
    /// A complete handshake, then close_notify before any answer.
    CloseAfterHandshake,
}

/// A hostile server; its connections stop misbehaving (and it stops accepting) on drop.
struct Hostile {
    port: u16,
    stop: Arc<AtomicBool>,
    _server: TcpServer,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve(conn: TcpStream, behaviour: Behaviour, config: Arc<rustls::ServerConfig>, stop: Arc<AtomicBool>) {
    let mut raw = conn;
    let _ = raw.set_read_timeout(Some(Duration::from_secs(30)));
    match behaviour {
        Behaviour::AlertInsteadOfHello => {
            let mut buf = [0u8; 512];
            let _ = raw.read(&mut buf);
            let _ = raw.write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
            thread::sleep(Duration::from_millis(200));
        }
        Behaviour::HalfServerHello => {
            let mut buf = [0u8; 512];
            let _ = raw.read(&mut buf);
            let _ = raw.write_all(&[0x16, 0x03, 0x03, 0x00, 0x7a, 0x02, 0x00, 0x00, 0x76, 0x03, 0x03]);
        }
        _ => {
            let Ok(server) = rustls::ServerConnection::new(config) else { return };
            let mut tls = rustls::StreamOwned::new(server, raw);
            let mut request = [0u8; 4096];
            if tls.read(&mut request).is_err() {
                return;
            }
            match behaviour {
                Behaviour::Drip => {
                    for b in b"HTTP/1.1 200 OK\r\nX-Drip: ".iter().chain(std::iter::repeat(&b'a')) {
                        if stop.load(Ordering::SeqCst) || tls.write_all(&[*b]).is_err() || tls.flush().is_err() {
                            return;
                        }
                        thread::sleep(Duration::from_millis(300));
                    }
                }
                Behaviour::HugeBody => {
                    let head =
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n";
                    if tls.write_all(head.as_bytes()).is_err() {
                        return;
                    }
                    let chunk = vec![b'0'; 64 * 1024];
                    for _ in 0..(1024 * 1024 * 1024 / chunk.len()) {
                        if stop.load(Ordering::SeqCst) || tls.write_all(&chunk).is_err() {
                            return;
                        }
                    }
                }
                _ => {
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                }
            }
        }
    }
}

fn start(behaviour: Behaviour, lab: &Lab) -> Hostile {
    let stop = Arc::new(AtomicBool::new(false));
    let config = tls_server_config(&lab.chain, &lab.key);
    let flag = Arc::clone(&stop);
    let server = TcpServer::start(
        Host,
        "127.0.0.1:0",
        TcpBehaviour::serve(move |conn| serve(conn, behaviour, Arc::clone(&config), Arc::clone(&flag))),
    );
    Hostile { port: server.port(), stop, _server: server }
}

/// The suite's PKI: what the hostile server presents for `hostil.test` (a leaf of the fixed
/// intermediate) and the healthy trust store that verifies it.
struct Lab {
    pki: Pki,
    key: std::path::PathBuf,
    chain: std::path::PathBuf,
}

fn lab() -> Lab {
    let pki = Pki::new();
    let (key, chain) = pki.serve_names(&["hostil.test"]);
    Lab { pki, key, chain }
}

/// Runs `check` against the hostile server as the tramita target; returns the run, the checks
/// by id, and the largest peak resident memory of any pen-doctor process so far, in KiB.
fn run_against(lab: &Lab, port: u16, timeout: &str) -> (Run, serde_json::Value, u64) {
    let args = CheckArgs::new()
        .service("tramita", "hostil.test", port, TRAMITA_PATH)
        .only("http")
        .json()
        .ca_bundle(&lab.pki.healthy_store())
        .timeout(timeout)
        .flag("--deadline", "20s");
    let run = pen_doctor(Host).args(args.argv()).run_for(Duration::from_secs(40));
    let peak_kib = children_peak_rss_kib();
    let report = run.json();
    let checks: serde_json::Map<String, serde_json::Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_string(), c.clone()))
        .collect();
    (run, serde_json::Value::Object(checks), peak_kib)
}

#[test]
fn a_server_that_drips_its_answer_times_out_within_the_timeout() {
    let lab = lab();
    let server = start(Behaviour::Drip, &lab);
    let (run, checks, _) = run_against(&lab, server.port, "1s");
    assert!(run.elapsed < Duration::from_secs(8), "slowloris held the run: {:?}", run.elapsed);
    run.assert_code(1);
    let http = &checks["http:tramita"];
    assert_eq!(http["status"], "fail", "{http:#}");
    assert!(codes(http).iter().any(|c| c == "HTTP_TIMEOUT" || c == "HTTP_UNEXPECTED_RESPONSE"), "{http:#}");
    assert_eq!(checks["tls:tramita"]["status"], "ok", "the handshake itself was fine");
}

#[test]
fn a_one_gigabyte_body_is_cut_and_memory_stays_bounded() {
    let lab = lab();
    let server = start(Behaviour::HugeBody, &lab);
    let (run, checks, peak_kib) = run_against(&lab, server.port, "3s");
    assert!(run.elapsed < Duration::from_secs(15), "{:?}", run.elapsed);
    let http = &checks["http:tramita"];
    let requests = http["evidence"]["requests"].as_array().expect("requests in the evidence");
    for r in requests {
        let read = r["bytes"].as_u64().unwrap_or(u64::MAX);
        assert!(read <= 1024 * 1024, "read {read} bytes of a 1 GiB body: {http:#}");
    }
    assert!(peak_kib < 200 * 1024, "pen-doctor grew to {} MiB reading a 1 GiB body", peak_kib / 1024);
}

#[test]
fn an_alert_instead_of_a_server_hello_is_a_handshake_failure() {
    let lab = lab();
    let server = start(Behaviour::AlertInsteadOfHello, &lab);
    let (run, checks, _) = run_against(&lab, server.port, "1s");
    assert!(run.elapsed < Duration::from_secs(5), "{:?}", run.elapsed);
    let tls = &checks["tls:tramita"];
    assert_eq!(tls["status"], "fail", "{tls:#}");
    assert_eq!(codes(tls), ["TLS_HANDSHAKE_FAILED"], "{tls:#}");
    assert_eq!(checks["http:tramita"]["status"], "skip");
}

#[test]
fn a_server_hello_cut_in_half_is_a_handshake_failure() {
    let lab = lab();
    let server = start(Behaviour::HalfServerHello, &lab);
    let (run, checks, _) = run_against(&lab, server.port, "1s");
    assert!(run.elapsed < Duration::from_secs(5), "{:?}", run.elapsed);
    let tls = &checks["tls:tramita"];
    assert_eq!(tls["status"], "fail", "{tls:#}");
    assert!(codes(tls).iter().any(|c| c == "TLS_HANDSHAKE_FAILED" || c == "TLS_TIMEOUT"), "{tls:#}");
}

#[test]
fn a_close_right_after_the_handshake_is_an_unexpected_response() {
    let lab = lab();
    let server = start(Behaviour::CloseAfterHandshake, &lab);
    let (run, checks, _) = run_against(&lab, server.port, "1s");
    assert!(run.elapsed < Duration::from_secs(5), "{:?}", run.elapsed);
    assert_eq!(checks["tls:tramita"]["status"], "ok");
    let http = &checks["http:tramita"];
    assert_eq!(http["status"], "fail", "{http:#}");
    assert!(!codes(http).is_empty(), "{http:#}");
    // Nothing came back on the verified connection: the request was tried once more on a new
    // one (as for an idle connection the server dropped), and the evidence says so.
    let first = &http["evidence"]["requests"][0];
    assert_eq!(first["connection"], 2, "{http:#}");
    assert_eq!(first["new_connection"], "the server had closed the idle connection", "{http:#}");
}
