//! Proves the test lab (`tests/support`) works: each server starts in a network namespace and
//! answers standard tools (getent, curl, openssl), firewall rules shape connects as promised,
//! and everything is gone after drop. Needs root, like every network test of the project.

mod support;

use std::io::ErrorKind;
use std::process::Command;
use std::time::{Duration, Instant};
use support::*;

const HTTP_HELLO: &[u8] = b"HTTP/1.0 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n";

#[test]
fn namespace_has_its_own_hosts_file_and_is_removed_on_drop() {
    let ns = Netns::new();
    let name = ns.name().to_string();
    assert!(name.starts_with(&format!("pdt-{}-", std::process::id())), "{name}");
    ns.set_hosts("127.0.0.1 localhost\n127.0.0.7 web.test\n");
    let run = must(ns.cmd("getent").args(["ahosts", "web.test"]));
    assert!(run.stdout.contains("127.0.0.7"), "{run}");
    // Not visible outside the namespace.
    let host = Command::new("getent").args(["ahosts", "web.test"]).run();
    assert_ne!(host.code, Some(0), "{host}");

    let mut sleeper = ns.cmd("sleep").arg("300").spawn().expect("sleep starts");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !ns.pids().contains(&sleeper.id()) {
        assert!(Instant::now() < deadline, "sleep never entered the namespace");
        std::thread::sleep(Duration::from_millis(10));
    }
    let started = Instant::now();
    drop(ns);
    let status = sleeper.wait().expect("sleep reaped");
    assert!(!status.success(), "a process left in the namespace is killed");
    assert!(started.elapsed() < Duration::from_secs(5));
    let list = must(Command::new("ip").args(["netns", "list"]));
    assert!(!list.stdout.split_whitespace().any(|n| n == name), "{list}");
    assert!(!std::path::Path::new("/etc/netns").join(&name).exists());
}

#[test]
fn dnsmasq_answers_addresses_nxdomain_and_servfail() {
    let ns = Netns::new();
    let zone = Zone::new()
        .host("ok.test", &["127.0.0.2", "127.0.0.3", "::1"])
        .host("v4only.test", &["127.0.0.4"])
        .cname("alias.test", "ok.test")
        .nxdomain("nx.test")
        .servfail("servfail.test");
    let dns = Dnsmasq::start(&ns, "127.0.0.53:53", &zone);
    ns.use_nameserver("127.0.0.53");

    // The system resolver inside the namespace uses it.
    let run = must(ns.cmd("getent").args(["ahosts", "ok.test"]));
    for addr in ["127.0.0.2", "127.0.0.3", "::1"] {
        assert!(run.stdout.contains(addr), "{addr} missing\n{run}");
    }
    let run = ns.cmd("getent").args(["ahosts", "www.nx.test"]).run();
    assert_eq!(run.code, Some(2), "getent: not found\n{run}");
    assert!(dns.queries_for("ok.test") >= 1, "{}", dns.log());

    let t = Duration::from_secs(2);
    let at = dns.addr();
    let a = dns_query(&ns, at, "ok.test", QTYPE_A, t).unwrap();
    assert_eq!(a.rcode, RCODE_NOERROR);
    assert_eq!(a.addrs.len(), 2, "{a:?}");
    let aaaa = dns_query(&ns, at, "v4only.test", QTYPE_AAAA, t).unwrap();
    assert_eq!((aaaa.rcode, aaaa.addrs.len()), (RCODE_NOERROR, 0), "NODATA: {aaaa:?}");
    let cname = dns_query(&ns, at, "alias.test", QTYPE_A, t).unwrap();
    assert_eq!(cname.addrs.len(), 2, "{cname:?}");
    assert_eq!(dns_query(&ns, at, "www.nx.test", QTYPE_A, t).unwrap().rcode, RCODE_NXDOMAIN);
    assert_eq!(dns_query(&ns, at, "unlisted.example", QTYPE_A, t).unwrap().rcode, RCODE_NXDOMAIN);
    assert_eq!(dns_query(&ns, at, "api.servfail.test", QTYPE_A, t).unwrap().rcode, RCODE_SERVFAIL);
}

#[test]
fn udp_responders_stay_silent_or_answer_garbage() {
    let ns = Netns::new();
    let silent = SilentUdp::start(&ns, "127.0.0.54:53");
    let garbage = GarbageDns::start(&ns, "127.0.0.55:53");
    let malformed = UdpResponder::start(&ns, "127.0.0.56:53", UdpBehaviour::Malformed);
    let refused = UdpResponder::start(&ns, "127.0.0.57:53", UdpBehaviour::Rcode(RCODE_REFUSED));
    let t = Duration::from_millis(300);

    let started = Instant::now();
    let err = dns_query(&ns, silent.addr(), "a.test", QTYPE_A, t).unwrap_err();
    assert!(started.elapsed() >= t, "{err}");
    assert_eq!(silent.received(), 1);
    let err = dns_query(&ns, garbage.addr(), "a.test", QTYPE_A, t).unwrap_err();
    assert!(err.contains("not a DNS answer"), "{err}");
    let err = dns_query(&ns, malformed.addr(), "a.test", QTYPE_A, t).unwrap_err();
    assert!(err.contains("not a DNS answer"), "{err}");
    assert_eq!(dns_query(&ns, refused.addr(), "a.test", QTYPE_A, t).unwrap().rcode, RCODE_REFUSED);
}

#[test]
fn tinyproxy_tunnels_to_allowed_ports_only() {
    let ns = Netns::new();
    let _https = TcpServer::start(&ns, "127.0.0.2:443", TcpBehaviour::Reply(HTTP_HELLO.to_vec()));
    let _other = TcpServer::start(&ns, "127.0.0.2:8443", TcpBehaviour::Reply(HTTP_HELLO.to_vec()));
    let proxy = Tinyproxy::start(&ns, "127.0.0.1:3128", &[443]);

    let run = must(ns.cmd("curl").args([
        "-sS",
        "--max-time",
        "5",
        "--proxytunnel",
        "-x",
        &proxy.url(),
        "http://127.0.0.2:443/",
    ]));
    assert_eq!(run.stdout, "hello\n", "{run}");
    assert_eq!(proxy.connects_to("127.0.0.2:443"), 1, "{}", proxy.log());

    let run = ns
        .cmd("curl")
        .args(["-sS", "--max-time", "5", "--proxytunnel", "-x", &proxy.url(), "http://127.0.0.2:8443/"])
        .run();
    assert_ne!(run.code, Some(0), "{run}");
    assert!(run.stderr.contains("403"), "tinyproxy refuses the port with 403\n{run}");
}

#[test]
fn nginx_serves_tls_and_verifies_client_certificates() {
    let ns = Netns::new();
    let pki = Pki::new();
    let root = pki.root("Lab Root");
    let int = pki.intermediate(&root, "Lab Intermediate");
    let server = pki.leaf(&int, LeafSpec::server("127.0.0.2").sans(&["127.0.0.2", "api.lab.test"]));
    let client = pki.leaf(&int, LeafSpec::client("Orgao de Teste"));
    let trusted = pki.bundle("client-ca.pem", &[&int.cert, &root.cert]);
    let nginx = Nginx::start(
        &ns,
        &format!(
            r#"server {{
                 listen 127.0.0.2:443 ssl;
                 ssl_certificate {chain};
                 ssl_certificate_key {key};
                 ssl_client_certificate {trusted};
                 ssl_verify_client on;
                 ssl_verify_depth 3;
                 location / {{ return 200 "hello $ssl_client_s_dn\n"; }}
               }}"#,
            chain = server.chain.display(),
            key = server.key.display(),
            trusted = trusted.display(),
        ),
    );

    let run = must(
        ns.cmd("openssl")
            .args(["s_client", "-connect", "127.0.0.2:443", "-verify_return_error", "-brief", "-CAfile"])
            .arg(&root.cert),
    );
    assert!(format!("{}{}", run.stdout, run.stderr).contains("Verification: OK"), "{run}");

    let curl = |extra: &[&str]| {
        ns.cmd("curl")
            .args(["-sS", "--max-time", "5", "--cacert"])
            .arg(&root.cert)
            .args(extra)
            .arg("https://127.0.0.2/")
            .run()
    };
    let key = client.key.to_string_lossy().into_owned();
    let cert = client.cert.to_string_lossy().into_owned();
    let run = curl(&["--cert", &cert, "--key", &key]);
    assert!(run.stdout.contains("hello") && run.stdout.contains("Orgao de Teste"), "{run}\n{}", nginx.error_log());

    // The files mod-sei-pen is given work as client identities too.
    let combined = pki.combined_pem(&client, "s3cret").to_string_lossy().into_owned();
    let run = curl(&["--cert", &format!("{combined}:s3cret")]);
    assert!(run.stdout.contains("Orgao de Teste"), "{run}");
    let p12 = pki.pkcs12(&client, "s3cret").to_string_lossy().into_owned();
    let run = curl(&["--cert-type", "P12", "--cert", &format!("{p12}:s3cret")]);
    assert!(run.stdout.contains("Orgao de Teste"), "{run}");

    let run = curl(&[]);
    assert!(run.stdout.contains("400") && run.stdout.contains("No required SSL certificate"), "{run}");
}

#[test]
fn firewall_rules_drop_reject_and_reset() {
    let ns = Netns::new();
    let _open = TcpServer::start(&ns, "127.0.0.5:443", TcpBehaviour::Hold);
    let _behind_reset = TcpServer::start(&ns, "127.0.0.4:443", TcpBehaviour::Hold);
    ns.add_drop("127.0.0.2", 443);
    ns.add_reject_unreachable("127.0.0.3", 443);
    ns.add_reject_reset("127.0.0.4", 443);
    ns.add_addr("fd00::5");
    ns.add_reject_unreachable("fd00::5", 443);
    let t = Duration::from_millis(500);

    let started = Instant::now();
    let err = ns.connect("127.0.0.2:443", t).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert!(started.elapsed() >= t);
    let err = ns.connect("127.0.0.3:443", t).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EHOSTUNREACH), "No route to host: {err}");
    let err = ns.connect("127.0.0.4:443", t).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    assert!(ns.connect("127.0.0.5:443", t).is_ok());
    let err = ns.connect("[fd00::5]:443", Duration::from_secs(3)).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EHOSTUNREACH), "{err}");
    // A closed port without rules: refused by the kernel.
    let err = ns.connect("127.0.0.6:443", t).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
}

#[test]
fn tcp_server_behaviours() {
    use std::io::Read;
    let ns = Netns::new();
    let close = TcpServer::start(&ns, "127.0.0.2:0", TcpBehaviour::Close);
    let reset = TcpServer::start(&ns, "127.0.0.2:0", TcpBehaviour::Reset);
    let reply = TcpServer::start(&ns, "127.0.0.2:0", TcpBehaviour::Reply(b"garbage\xff".to_vec()));
    let t = Duration::from_secs(2);
    // The reset may already be there when the connect completes.
    let read_all = |addr| {
        let mut s = ns.connect(addr, t)?;
        s.set_read_timeout(Some(t))?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).map(|_| buf)
    };
    assert_eq!(read_all(close.addr()).unwrap(), b"");
    assert_eq!(read_all(reset.addr()).unwrap_err().kind(), ErrorKind::ConnectionReset);
    assert_eq!(read_all(reply.addr()).unwrap(), b"garbage\xff");
    assert_eq!((close.accepted(), reset.accepted(), reply.accepted()), (1, 1, 1));
}

#[test]
fn pki_makes_real_validity_windows_and_key_formats() {
    let pki = Pki::new();
    let root = pki.root("Lab Root");
    let int = pki.intermediate(&root, "Lab Intermediate");
    let verify = |leaf: &Cert| {
        Command::new("openssl")
            .args(["verify", "-CAfile"])
            .arg(&root.cert)
            .arg("-untrusted")
            .arg(&int.cert)
            .arg(&leaf.cert)
            .run()
    };
    let good = pki.leaf(&int, LeafSpec::server("good.lab.test"));
    verify(&good).assert_success();
    let expired = pki.leaf(&int, LeafSpec::server("old.lab.test").expired());
    let run = verify(&expired);
    assert!(run.stdout.contains("expired") || run.stderr.contains("expired"), "{run}");
    let future = pki.leaf(&int, LeafSpec::client("future").not_yet_valid());
    let run = verify(&future);
    assert!(format!("{}{}", run.stdout, run.stderr).contains("not yet valid"), "{run}");
    let old_root = pki.root_with(CaSpec::new("Old Root").expired());
    let run = Command::new("openssl").args(["x509", "-noout", "-checkend", "0", "-in"]).arg(&old_root.cert).run();
    assert_eq!(run.code, Some(1), "expired root\n{run}");

    let client = pki.leaf(&int, LeafSpec::client("Orgao"));
    let ext = must(
        Command::new("openssl")
            .args(["x509", "-noout", "-ext", "extendedKeyUsage,basicConstraints", "-in"])
            .arg(&client.cert),
    );
    assert!(ext.stdout.contains("TLS Web Client Authentication") && ext.stdout.contains("CA:FALSE"), "{ext}");
    let chain = std::fs::read_to_string(&client.chain).unwrap();
    assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2, "leaf + intermediate");
    assert_eq!(std::fs::read_to_string(&client.fullchain).unwrap().matches("BEGIN CERTIFICATE").count(), 3);

    let decrypts = |key: &std::path::Path, pw: &str| {
        Command::new("openssl").args(["pkey", "-noout", "-passin", &format!("pass:{pw}"), "-in"]).arg(key).run().code
            == Some(0)
    };
    let pkcs8 = pki.encrypted_key(&client, "s3cret", KeyFormat::Pkcs8);
    assert!(std::fs::read_to_string(&pkcs8).unwrap().contains("BEGIN ENCRYPTED PRIVATE KEY"));
    assert!(decrypts(&pkcs8, "s3cret") && !decrypts(&pkcs8, "wrong"));
    let rsa = pki.leaf(&int, LeafSpec::client("Orgao RSA").rsa());
    let legacy = pki.encrypted_key(&rsa, "s3cret", KeyFormat::Traditional);
    let text = std::fs::read_to_string(&legacy).unwrap();
    assert!(text.contains("BEGIN RSA PRIVATE KEY") && text.contains("Proc-Type: 4,ENCRYPTED"), "{text}");
    assert!(decrypts(&legacy, "s3cret") && !decrypts(&legacy, "wrong"));

    let combined = pki.combined_pem_with(
        &client,
        PemBundle { password: Some("s3cret"), key_format: KeyFormat::Traditional, key_first: true, with_chain: true },
    );
    let text = std::fs::read_to_string(&combined).unwrap();
    assert!(text.starts_with("-----BEGIN EC PRIVATE KEY-----"), "{text}");
    assert_eq!(text.matches("BEGIN CERTIFICATE").count(), 2);

    let p12 = pki.pkcs12(&client, "s3cret");
    let run = must(Command::new("openssl").args(["pkcs12", "-nokeys", "-passin", "pass:s3cret", "-in"]).arg(&p12));
    assert!(run.stdout.contains("CN = Orgao") || run.stdout.contains("CN=Orgao"), "{run}");
    assert!(run.stdout.contains("Lab Intermediate"), "{run}");
}

#[test]
fn servers_also_run_on_the_host_loopback() {
    let port = free_port(Host);
    let dns = Dnsmasq::start(Host, ("127.0.0.1", port), &Zone::new().host("ok.test", &["127.0.0.2"]));
    let reply = dns_query(Host, dns.addr(), "ok.test", QTYPE_A, Duration::from_secs(2)).unwrap();
    assert_eq!(reply.addrs, vec!["127.0.0.2".parse::<std::net::IpAddr>().unwrap()]);
    let server = TcpServer::start(Host, "127.0.0.1:0", TcpBehaviour::Hold);
    assert!(tcp_open(Place::Host, server.addr(), Duration::from_secs(1)));
}

#[test]
fn pen_doctor_runs_inside_a_namespace_with_a_clean_environment() {
    let ns = Netns::new();
    let run = pen_doctor(&ns).arg("--version").env("HTTPS_PROXY", "http://127.0.0.1:9").run();
    run.assert_success();
    let cmd = pen_doctor(&ns);
    let envs: Vec<String> = cmd.get_envs().map(|(k, _)| k.to_string_lossy().into_owned()).collect();
    assert!(envs.iter().all(|k| k == "PATH" || k == "RUST_BACKTRACE"), "{envs:?}");
}

#[test]
#[should_panic(expected = "still running after")]
fn a_command_that_hangs_is_killed_and_fails_the_test() {
    Command::new("sleep").arg("30").run_for(Duration::from_millis(200));
}

#[test]
#[should_panic(expected = "Address already in use")]
fn a_server_that_cannot_start_fails_with_its_log() {
    let ns = Netns::new();
    let _first = Dnsmasq::start(&ns, "127.0.0.53:53", &Zone::new());
    let _second = Dnsmasq::start(&ns, "127.0.0.53:53", &Zone::new());
}

#[test]
#[should_panic(expected = "Could not create listening sockets")]
fn a_proxy_that_cannot_start_fails_with_its_log() {
    let ns = Netns::new();
    let _first = Tinyproxy::start(&ns, "127.0.0.1:3128", &[]);
    let _second = Tinyproxy::start(&ns, "127.0.0.1:3128", &[]);
}
