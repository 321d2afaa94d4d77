//! The proxy of the services that run SEI: a real supervisord whose program sets
//! `environment=HTTPS_PROXY=…` while this shell has no proxy. The host's files are read under a
//! test root (its own empty `/proc`: no process of the test machine is read); the program's
//! route is tried through a real tinyproxy in a network namespace.

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
    assert_eq!(got, vec!["PROXY_AUTH_REQUIRED", "PROXY_SERVICE_DIFFERS"]);
    assert_eq!(finding(&c, "PROXY_AUTH_REQUIRED")["params"]["proxy"], "http://127.0.0.1:3128");
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
    assert_eq!(got, vec!["PROXY_SERVICE_DIFFERS", "TLS_INTERCEPTED"], "{c:#}");
    assert_eq!(finding(&c, "TLS_INTERCEPTED")["params"]["vendor"], "Fortinet FortiGate");
    assert_eq!(proxy.connects_to("api.tramita.test:443"), 1);
}
