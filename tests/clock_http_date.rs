//! The second clock: with no NTP server answering, the `Date` of a real TLS server's answers
//! measures the offset. nginx cannot lie about its `Date`, so a small Python HTTPS server (the
//! standard library's `ssl` and `http.server`) writes it `OFFSET` seconds ahead.

mod support;
use support::pki_tls;

use pki_tls::*;
use std::process::Command;
use support::Proc;

const SERVER: &str = r#"
import http.server, ssl, sys, time, email.utils
cert, key, port, offset = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def date_time_string(self, timestamp=None):
        return email.utils.formatdate(time.time() + offset, usegmt=True)
    def do_GET(self):
        body = b'<?xml version="1.0"?><wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" name="Pi"></wsdl:definitions>'
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
"#;

/// The Python HTTPS server, stopped on drop.
struct DateServer {
    _server: Proc,
    port: u16,
}

impl DateServer {
    fn start(pki: &Pki, offset_secs: f64) -> DateServer {
        let leaf = pki.server_leaf(&Spec::server("pi.test"));
        let cert = pki.write("date-chain.pem", leaf.pem() + &pki.inter.pem());
        let key = pki.write("date.key", leaf.key_pem());
        let port = free_port();
        let mut cmd = Command::new("python3");
        cmd.args(["-c", SERVER]).arg(&cert).arg(&key).arg(port.to_string()).arg(offset_secs.to_string());
        let server = Proc::spawn_quiet("the date server", cmd);
        support::node::wait_tcp(port);
        DateServer { _server: server, port }
    }
}

/// `check --only ntp,http` of Protocolo Integrado at the date server, the NTP server a UDP port
/// nobody listens on.
fn run(pki: &Pki, server: &DateServer) -> serde_json::Value {
    let store = pki.write("store.pem", pki.root.pem());
    let args = CheckArgs::new()
        .service("protocolo-integrado", "pi.test", server.port, "/ProtocoloWS/integradorService?wsdl")
        .ca_bundle(&store)
        .flag("--ntp-server", format!("127.0.0.1:{}", free_port()))
        .only("ntp,http")
        .timeout("2s")
        .json();
    let run = pen_doctor(&args.strs(), &[]);
    run.json()
}

#[test]
fn a_server_40_seconds_ahead_is_the_clock_when_ntp_is_unreachable() {
    let pki = Pki::new();
    let server = DateServer::start(&pki, 40.0);
    let json = run(&pki, &server);
    let ntp = check(&json, "ntp");
    assert!(codes(ntp).contains(&"NTP_UNREACHABLE".to_string()), "{ntp:#}");
    let f = finding(ntp, "NTP_OFFSET_HIGH");
    assert_eq!(f["severity"], "fail", "40 s is past the 10 s limit: {f:#}");
    assert!(f["params"]["server"].as_str().unwrap().contains("pi.test"), "{f:#}");
    assert_eq!(ntp["evidence"]["offset_source"]["source"], "http-date", "{ntp:#}");
    let offset: f64 = ntp["evidence"]["offset"].as_str().unwrap().trim_end_matches(" s").parse().unwrap();
    assert!((37.0..=41.0).contains(&offset), "{offset}");
}

#[test]
fn a_server_on_time_gives_no_offset_finding() {
    let pki = Pki::new();
    let server = DateServer::start(&pki, 0.0);
    let json = run(&pki, &server);
    let ntp = check(&json, "ntp");
    assert!(codes(ntp).contains(&"NTP_UNREACHABLE".to_string()), "{ntp:#}");
    assert!(!codes(ntp).contains(&"NTP_OFFSET_HIGH".to_string()), "{ntp:#}");
    assert_eq!(ntp["evidence"]["offset_source"]["source"], "http-date", "{ntp:#}");
}
