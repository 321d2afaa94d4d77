//! The proxy of the services that run SEI: a real supervisord whose program sets
//! `environment=HTTPS_PROXY=…` while this shell has no proxy (or another one). The host's files
//! are read under a test root (its own empty `/proc`: no process of the test machine is read);
//! the program's route is walked through real tinyproxies in a network namespace — TCP alone
//! with `--only tcp`, and TCP, TLS and HTTP over one connection to a real nginx in a full run.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};
use support::*;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A host root with an empty `/proc` and a supervisord configuration whose program `pen-envio`
/// sets `HTTPS_PROXY` (and `NO_PROXY` for localhost); supervisord is started on it for real and
/// the program reports the proxy it was given.
fn supervised_root(proxy: &str) -> (tempfile::TempDir, Proc) {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    std::fs::create_dir_all(r.join("proc")).unwrap();
    let seen = r.join("seen-proxy");
    write(
        r,
        "etc/supervisor/supervisord.conf",
        &format!(
            "[supervisord]\nlogfile={d}/supervisord.log\npidfile={d}/supervisord.pid\nchildlogdir={d}\nnodaemon=true\n\n\
             [include]\nfiles = conf.d/*.conf\n",
            d = r.display()
        ),
    );
    write(
        r,
        "etc/supervisor/conf.d/pen.conf",
        &format!(
            "[program:pen-envio]\ncommand=sh -c 'echo \"$HTTPS_PROXY\" > {seen}; exec sleep 300'\n\
             environment=HTTPS_PROXY=\"{proxy}\",NO_PROXY=\"localhost,127.0.0.1\"\nautostart=true\n",
            seen = seen.display()
        ),
    );
    let mut cmd = std::process::Command::new(which("supervisord"));
    cmd.args(["-n", "-c"]).arg(r.join("etc/supervisor/supervisord.conf"));
    let sd = Proc::spawn("supervisord", cmd, r.join("supervisord.out"));
    let start = Instant::now();
    while std::fs::read_to_string(&seen).map(|s| s.trim().is_empty()).unwrap_or(true) {
        assert!(start.elapsed() < Duration::from_secs(15), "the program did not start: {}", sd.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(std::fs::read_to_string(&seen).unwrap().trim(), proxy, "supervisord gives the program its proxy");
    (root, sd)
}

fn run_tcp(ns: &Netns, root: &Path) -> serde_json::Value {
    let sei = support::node::sei_fixture("modpen4");
    let mut cmd = pen_doctor(ns);
    cmd.args(["check", "--format", "json", "--only", "tcp", "--target", "tramita"])
        .args(["--endpoint", "tramita=https://api.tramita.test/", "--timeout", "2s", "--sei-dir"])
        .arg(&sei)
        .env("PEN_DOCTOR_ROOT", root);
    let run = cmd.run();
    assert!(!run.stderr.contains("panicked"), "{run}");
    let report = run.json();
    check(&report, "tcp:tramita").clone()
}

#[test]
fn a_supervisor_program_with_its_own_proxy_differs_and_its_route_is_tried() {
    let ns = Netns::new();
    ns.set_hosts("127.0.0.1 localhost\n127.0.0.2 api.tramita.test\n");
    let web = TcpServer::start(&ns, "127.0.0.2:443", TcpBehaviour::Hold);
    let proxy = Tinyproxy::start(&ns, "127.0.0.1:3128", &[443]);
    let (root, _sd) = supervised_root("http://127.0.0.1:3128");
    let c = run_tcp(&ns, root.path());
    assert_eq!(c["status"], "warn", "{c:#}");
    assert_eq!(codes(&c), vec!["PROXY_SERVICE_DIFFERS"]);
    let f = finding(&c, "PROXY_SERVICE_DIFFERS");
    assert_eq!(f["params"]["services"], "supervisor program pen-envio");
    assert_eq!(f["params"]["route"], "http://127.0.0.1:3128");
    assert_eq!(f["params"]["ours"], "direct");
    assert_eq!(c["evidence"]["service_routes"][0]["result"], "connected", "{c:#}");
    assert_eq!(proxy.connects_to("api.tramita.test:443"), 1, "the program's route went through its proxy");
    assert_eq!(web.accepted(), 2, "ours directly, the program's through the tunnel");
}

#[test]
fn a_program_whose_proxy_demands_credentials_is_told_too() {
    let ns = Netns::new();
    ns.set_hosts("127.0.0.1 localhost\n127.0.0.2 api.tramita.test\n");
    let _web = TcpServer::start(&ns, "127.0.0.2:443", TcpBehaviour::Hold);
    let _proxy = Tinyproxy::start_with_auth(&ns, "127.0.0.1:3128", &[443], Some(("sei", "Pr0xy")));
    let (root, _sd) = supervised_root("http://127.0.0.1:3128");
    let c = run_tcp(&ns, root.path());
    assert_eq!(c["status"], "fail", "{c:#}");
    let mut got = codes(&c);
    got.sort();
    assert_eq!(got, vec!["PROXY_AUTH_REQUIRED", "PROXY_SERVICE_DIFFERS", "SERVICE_ROUTE_FAILED"]);
    assert_eq!(finding(&c, "PROXY_AUTH_REQUIRED")["params"]["proxy"], "http://127.0.0.1:3128");
    let f = finding(&c, "SERVICE_ROUTE_FAILED");
    assert_eq!(f["params"]["services"], "supervisor program pen-envio");
    assert_eq!(f["params"]["step"], "proxy");
}

#[test]
fn without_sei_on_the_host_the_services_are_not_compared() {
    let ns = Netns::new();
    ns.set_hosts("127.0.0.1 localhost\n127.0.0.2 api.tramita.test\n");
    let _web = TcpServer::start(&ns, "127.0.0.2:443", TcpBehaviour::Hold);
    let (root, _sd) = supervised_root("http://127.0.0.1:3128");
    let mut cmd = pen_doctor(&ns);
    cmd.args(["check", "--format", "json", "--only", "tcp", "--target", "tramita"])
        .args(["--endpoint", "tramita=https://api.tramita.test/", "--timeout", "2s", "--sei-dir", "/nonexistent-sei"])
        .env("PEN_DOCTOR_ROOT", root.path());
    let report = cmd.run().json();
    let c = check(&report, "tcp:tramita");
    assert!(codes(c).is_empty(), "{c:#}");
}

#[test]
fn the_tls_a_program_gets_through_its_proxy_is_judged_for_interception() {
    let ns = Netns::new();
    ns.set_hosts("127.0.0.1 localhost\n127.0.0.2 api.tramita.test\n");
    // The server behind the program's proxy presents a chain an inspecting device made.
    let pki = Pki::new();
    let forti = pki.root_with(CaSpec::new("FortiGate CA").subject("/C=US/O=Fortinet/CN=FortiGate CA"));
    let leaf = pki.leaf(&forti, LeafSpec::server("api.tramita.test"));
    let _nginx = Nginx::start(
        &ns,
        &format!(
            "server {{ listen 127.0.0.2:443 ssl; ssl_certificate {}; ssl_certificate_key {}; \
             location / {{ return 200 \"ok\\n\"; }} }}",
            leaf.chain.display(),
            leaf.key.display()
        ),
    );
    let proxy = Tinyproxy::start(&ns, "127.0.0.1:3128", &[443]);
    let (root, _sd) = supervised_root("http://127.0.0.1:3128");
    let c = run_tcp(&ns, root.path());
    let mut got = codes(&c);
    got.sort();
    assert_eq!(got, vec!["PROXY_SERVICE_DIFFERS", "SERVICE_ROUTE_FAILED", "TLS_INTERCEPTED"], "{c:#}");
    assert_eq!(finding(&c, "TLS_INTERCEPTED")["params"]["vendor"], "Fortinet FortiGate");
    assert_eq!(finding(&c, "SERVICE_ROUTE_FAILED")["params"]["step"], "tls");
    assert_eq!(proxy.connects_to("api.tramita.test:443"), 1);
}

/// A real nginx for `api.tramita.test` at 127.0.0.2:443 with a chain of the suite's own CA, and
/// the store (that CA) as a file.
fn tls_service(ns: &Netns, pki: &Pki) -> (Nginx, std::path::PathBuf) {
    let root = pki.root("Rotas Test Root");
    let leaf = pki.leaf(&root, LeafSpec::server("api.tramita.test"));
    let nginx = Nginx::start(
        ns,
        &format!(
            "server {{ listen 127.0.0.2:443 ssl; ssl_certificate {}; ssl_certificate_key {}; \
             location / {{ return 200 \"ok\\n\"; }} }}",
            leaf.chain.display(),
            leaf.key.display()
        ),
    );
    (nginx, root.cert.clone())
}

/// `check --only http` of Protocolo Integrado at `https://api.tramita.test/` with `store`, this
/// shell's proxy `proxy` (none when empty), on the host under `root`.
fn run_full(ns: &Netns, root: &Path, store: &Path, proxy: &str) -> serde_json::Value {
    let sei = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sei/modpen4");
    let mut cmd = pen_doctor(ns);
    cmd.args(["check", "--format", "json", "--only", "http", "--target", "protocolo-integrado"])
        .args(["--endpoint", "protocolo-integrado=https://api.tramita.test/", "--timeout", "2s"])
        .arg("--ca-bundle")
        .arg(store)
        .arg("--sei-dir")
        .arg(&sei)
        .env("PEN_DOCTOR_ROOT", root);
    if !proxy.is_empty() {
        cmd.env("HTTPS_PROXY", proxy);
    }
    let run = cmd.run();
    assert!(!run.stderr.contains("panicked"), "{run}");
    run.json()
}

#[test]
fn a_program_whose_route_works_is_walked_to_http_over_one_connection() {
    let ns = Netns::new();
    ns.set_hosts("127.0.0.1 localhost\n127.0.0.2 api.tramita.test\n");
    let pki = Pki::new();
    let (_nginx, store) = tls_service(&ns, &pki);
    let proxy = Tinyproxy::start(&ns, "127.0.0.1:3128", &[443]);
    let (root, _sd) = supervised_root("http://127.0.0.1:3128");
    let report = run_full(&ns, root.path(), &store, "");
    let c = check(&report, "tcp:protocolo-integrado");
    assert_eq!(codes(c), vec!["PROXY_SERVICE_DIFFERS"], "{c:#}");
    assert_eq!(c["status"], "warn");
    let route = &c["evidence"]["service_routes"][0];
    assert_eq!(route["result"], "connected", "{c:#}");
    assert!(route["tls"].as_str().unwrap().ends_with(", verified"), "{c:#}");
    assert_eq!(route["http"], "200", "{c:#}");
    let said = route["said"].as_str().unwrap();
    assert!(
        said.starts_with("via http://127.0.0.1:3128 (supervisor program pen-envio): TCP connected; TLS "),
        "{said}"
    );
    // TCP, TLS and HTTP of the program's route went over one tunnel.
    assert_eq!(proxy.connects_to("api.tramita.test:443"), 1);
    assert_eq!(check(&report, "tls:protocolo-integrado")["status"], "ok");
}

#[test]
fn a_failure_only_on_the_programs_route_fails_naming_the_program_and_its_proxy() {
    let ns = Netns::new();
    ns.set_hosts("127.0.0.1 localhost\n127.0.0.2 api.tramita.test\n");
    let pki = Pki::new();
    let (_nginx, store) = tls_service(&ns, &pki);
    // This shell's proxy lets 443 through; the program's refuses it (ConnectPort 8443 only).
    let ours = Tinyproxy::start(&ns, "127.0.0.1:3128", &[443]);
    let theirs = Tinyproxy::start(&ns, "127.0.0.1:3129", &[8443]);
    let (root, _sd) = supervised_root("http://127.0.0.1:3129");
    let report = run_full(&ns, root.path(), &store, "http://127.0.0.1:3128");
    // Ours works all the way.
    assert_eq!(check(&report, "tls:protocolo-integrado")["status"], "ok");
    // One tunnel for ours, tcp to http (and one for the host's curl asked the same way, where
    // this machine has PHP's curl extension: then it must agree).
    let curl = &check(&report, "http:protocolo-integrado")["evidence"]["host_curl"];
    let asked = usize::from(!curl.is_null());
    assert_eq!(ours.connects_to("api.tramita.test:443"), 1 + asked, "{}", ours.log());
    if asked == 1 {
        assert_eq!(curl["says"], "ok");
    }
    let c = check(&report, "tcp:protocolo-integrado");
    assert_eq!(c["status"], "fail", "{c:#}");
    let mut got = codes(c);
    got.sort();
    assert_eq!(got, vec!["PROXY_DENIED", "PROXY_IN_USE", "PROXY_SERVICE_DIFFERS", "SERVICE_ROUTE_FAILED"], "{c:#}");
    let f = finding(c, "SERVICE_ROUTE_FAILED");
    assert_eq!(f["params"]["services"], "supervisor program pen-envio");
    assert_eq!(f["params"]["route"], "http://127.0.0.1:3129");
    assert_eq!(f["params"]["step"], "proxy");
    let message = f["message"].as_str().unwrap();
    assert!(message.contains("pen-envio") && message.contains("http://127.0.0.1:3129"), "{message}");
    assert_eq!(finding(c, "PROXY_DENIED")["params"]["proxy"], "http://127.0.0.1:3129");
    assert!(theirs.log().contains("api.tramita.test"), "the program's proxy was asked: {}", theirs.log());
}

#[test]
fn a_refused_client_certificate_on_the_programs_route_is_the_certificates_not_the_routes() {
    let ns = Netns::new();
    ns.set_hosts("127.0.0.1 localhost\n127.0.0.2 api.tramita.test\n");
    let pki = Pki::new();
    let root = pki.root("Rotas mTLS Root");
    let client_ca = pki.root("Rotas Client CA");
    let leaf = pki.leaf(&root, LeafSpec::server("api.tramita.test"));
    // Tramita wants a client certificate; the SEI fixture's certificate is not on this host.
    let _nginx = Nginx::start(
        &ns,
        &format!(
            "server {{ listen 127.0.0.2:443 ssl; ssl_certificate {}; ssl_certificate_key {}; \
             ssl_verify_client on; ssl_client_certificate {}; location / {{ return 200 \"ok\\n\"; }} }}",
            leaf.chain.display(),
            leaf.key.display(),
            client_ca.cert.display()
        ),
    );
    let proxy = Tinyproxy::start(&ns, "127.0.0.1:3128", &[443]);
    let (root_dir, _sd) = supervised_root("http://127.0.0.1:3128");
    let sei = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sei/modpen4");
    let mut cmd = pen_doctor(&ns);
    cmd.args(["check", "--format", "json", "--only", "http", "--target", "tramita"])
        .args(["--endpoint", "tramita=https://api.tramita.test/", "--timeout", "2s", "--ca-bundle"])
        .arg(&root.cert)
        .arg("--sei-dir")
        .arg(&sei)
        .env("PEN_DOCTOR_ROOT", root_dir.path());
    let run = cmd.run();
    let report = run.json();
    // The refusal is said once, by http on our route; the program's route is not blamed for it.
    let http = check(&report, "http:tramita");
    assert!(codes(http).contains(&"CLIENT_CERT_REJECTED".to_string()), "{http:#}");
    let c = check(&report, "tcp:tramita");
    assert_eq!(codes(c), vec!["PROXY_SERVICE_DIFFERS"], "{c:#}");
    let route = &c["evidence"]["service_routes"][0];
    assert!(route["http"].as_str().unwrap().contains("refused the client certificate"), "{c:#}");
    assert_eq!(proxy.connects_to("api.tramita.test:443"), 1);
}
