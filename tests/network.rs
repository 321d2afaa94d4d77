//! The network checks (`dns:<target>`, `tcp:<target>`, the proxy path) of the real binary
//! against real servers: dnsmasq, tinyproxy, TCP listeners and iptables rules, each test in a
//! network namespace of its own. Also the JSON report's contract, the concurrency bound and the
//! usage errors of the flags these checks read.

mod support;

use serde_json::Value;
use std::time::Duration;
use support::report::check as by_id;
use support::*;

/// `pen-doctor check --format json ARGS` inside `ns`, with `env` added to the clean environment.
fn check_env(ns: &Netns, args: &[&str], env: &[(&str, &str)]) -> (Run, Value) {
    let mut cmd = pen_doctor(ns);
    cmd.args(["check", "--format", "json"]).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let run = cmd.run();
    assert!(!run.stderr.contains("panicked"), "{run}");
    let report = run.json();
    (run, report)
}

fn check(ns: &Netns, args: &[&str]) -> (Run, Value) {
    check_env(ns, args, &[])
}

/// `--only ONLY --target tramita --endpoint tramita=URL`.
fn tramita(only: &str, url: &str) -> CheckArgs {
    CheckArgs::new().only(only).target("tramita").endpoint("tramita", url)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect()).unwrap_or_default()
}

// ------------------------------------------------------------------------------------ DNS

#[test]
fn dns_resolves_with_the_hosts_resolver_and_names_the_server_asked() {
    let ns = Netns::new();
    let dns = Dnsmasq::start(&ns, "127.0.0.53:53", &Zone::new().host("api.tramita.test", &["127.0.0.2", "::1"]));
    ns.use_nameserver("127.0.0.53");

    let (run, report) = check(&ns, &tramita("dns", "https://api.tramita.test/").flags());
    run.assert_code(0);
    let c = by_id(&report, "dns:tramita");
    assert_eq!(c["status"], "ok", "{c:#}");
    let addrs = strings(&c["evidence"]["addresses"]);
    assert!(addrs.contains(&"127.0.0.2".to_string()) && addrs.contains(&"::1".to_string()), "{c:#}");
    assert_eq!(c["evidence"]["server"], "127.0.0.53:53", "{c:#}");
    assert_eq!(c["evidence"]["source"], "dns");
    assert!(dns.queries_for("api.tramita.test") >= 1, "{}", dns.log());
}

#[test]
fn dns_nxdomain_is_reported_with_the_server_that_said_it() {
    let ns = Netns::new();
    let _dns = Dnsmasq::start(&ns, "127.0.0.53:53", &Zone::new().nxdomain("nx.test"));
    ns.use_nameserver("127.0.0.53");

    let (run, report) = check(&ns, &tramita("dns", "https://api.nx.test/").flags());
    run.assert_code(1);
    let c = by_id(&report, "dns:tramita");
    assert_eq!(c["status"], "fail");
    let f = finding(c, "DNS_NXDOMAIN");
    assert_eq!(f["severity"], "fail");
    assert_eq!(f["kb"]["article"], "TRAMITA-FALHA-COMUNICACAO");
    assert_eq!(f["kb"]["cause"], 3);
    assert!(f["message"].as_str().unwrap_or("").contains("api.nx.test"), "{f:#}");
    assert!(f["message"].as_str().unwrap_or("").contains("127.0.0.53"), "{f:#}");
}

#[test]
fn dns_servfail_is_told_apart_from_nxdomain() {
    let ns = Netns::new();
    let _dns = Dnsmasq::start(&ns, "127.0.0.53:53", &Zone::new().servfail("broken.test"));
    ns.use_nameserver("127.0.0.53");

    let (run, report) = check(&ns, &tramita("dns", "https://api.broken.test/").flags());
    run.assert_code(1);
    let c = by_id(&report, "dns:tramita");
    assert_eq!(codes(c), vec!["DNS_SERVFAIL"], "{c:#}");
    assert_eq!(c["status"], "fail");
}

#[test]
fn dns_name_without_addresses_is_not_nxdomain() {
    let ns = Netns::new();
    let zone = Zone::new().option("--txt-record=api.tramita.test,only text here");
    let _dns = Dnsmasq::start(&ns, "127.0.0.53:53", &zone);
    ns.use_nameserver("127.0.0.53");
    let (run, report) = check(&ns, &tramita("dns", "https://api.tramita.test/").flags());
    run.assert_code(1);
    assert_eq!(codes(by_id(&report, "dns:tramita")), vec!["DNS_NO_ADDRESS"]);
}

#[test]
fn a_dead_first_nameserver_does_not_hide_a_live_second_one() {
    let ns = Netns::new();
    let _dns = Dnsmasq::start(&ns, "127.0.0.53:53", &Zone::new().host("api.tramita.test", &["127.0.0.2"]));
    // Nothing listens on 127.0.0.1:53 or on 127.0.0.54:53.
    ns.set_resolv_conf("nameserver 127.0.0.1\nnameserver 127.0.0.54\nnameserver 127.0.0.53\n");
    let (run, report) = check(&ns, &tramita("dns", "https://api.tramita.test/").flags());
    run.assert_code(0);
    let c = by_id(&report, "dns:tramita");
    assert_eq!(strings(&c["evidence"]["addresses"]), vec!["127.0.0.2"], "{c:#}");
    assert!(run.elapsed < Duration::from_secs(3), "took {:?}", run.elapsed);
}

#[test]
fn dns_server_that_never_answers_is_a_timeout_within_the_bound() {
    let ns = Netns::new();
    let silent = SilentUdp::start(&ns, "127.0.0.53:53");
    ns.use_nameserver("127.0.0.53");

    let (run, report) = check(&ns, &tramita("dns", "https://api.tramita.test/").args(&["--timeout", "1s"]).flags());
    run.assert_code(1);
    let c = by_id(&report, "dns:tramita");
    assert_eq!(codes(c), vec!["DNS_TIMEOUT"], "{c:#}");
    assert!(silent.received() >= 1, "the query reached the silent server");
    assert!(run.elapsed < Duration::from_secs(5), "took {:?}", run.elapsed);
}

#[test]
fn dns_server_with_nothing_listening_is_an_error_at_once() {
    // The namespace's resolv.conf names 127.0.0.1:53, where nothing listens.
    let ns = Netns::new();
    let (run, report) = check(&ns, &tramita("dns", "https://api.tramita.test/").flags());
    run.assert_code(1);
    let c = by_id(&report, "dns:tramita");
    assert_eq!(codes(c), vec!["DNS_ERROR"], "{c:#}");
    assert!(finding(c, "DNS_ERROR")["message"].as_str().unwrap_or("").contains("127.0.0.1:53"), "{c:#}");
    assert!(run.elapsed < Duration::from_secs(2), "not the 5 s timeout: {:?}", run.elapsed);
}

#[test]
fn dns_server_answering_garbage_gives_a_finding_not_a_hang() {
    for behaviour in [UdpBehaviour::Garbage, UdpBehaviour::Malformed] {
        let ns = Netns::new();
        let _bad = UdpResponder::start(&ns, "127.0.0.53:53", behaviour.clone());
        ns.use_nameserver("127.0.0.53");

        let (run, report) = check(&ns, &tramita("dns", "https://api.tramita.test/").args(&["--timeout", "1s"]).flags());
        run.assert_code(1);
        let c = by_id(&report, "dns:tramita");
        assert_eq!(c["status"], "fail", "{behaviour:?}: {c:#}");
        let found = codes(c);
        assert!(found.iter().any(|code| code == "DNS_ERROR" || code == "DNS_TIMEOUT"), "{behaviour:?}: {found:?}");
        assert!(run.elapsed < Duration::from_secs(5), "{behaviour:?} took {:?}", run.elapsed);
    }
}

#[test]
fn etc_hosts_of_the_host_is_honoured_before_dns() {
    let ns = Netns::new();
    let dns = Dnsmasq::start(&ns, "127.0.0.53:53", &Zone::new().host("api.tramita.test", &["127.0.0.2"]));
    ns.use_nameserver("127.0.0.53");
    ns.set_hosts("127.0.0.1 localhost\n127.0.0.9 api.tramita.test api\n");

    let (run, report) = check(&ns, &tramita("dns", "https://api.tramita.test/").flags());
    run.assert_code(0);
    let c = by_id(&report, "dns:tramita");
    assert_eq!(strings(&c["evidence"]["addresses"]), vec!["127.0.0.9"], "{c:#}");
    assert_eq!(c["evidence"]["source"], "/etc/hosts");
    assert_eq!(dns.queries_for("api.tramita.test"), 0, "{}", dns.log());
}

#[test]
fn dns_server_flag_asks_that_server_and_port() {
    let ns = Netns::new();
    // The namespace's resolv.conf names 127.0.0.1:53, where nothing listens.
    let dns = Dnsmasq::start(&ns, "127.0.0.1:5353", &Zone::new().host("api.tramita.test", &["127.0.0.2"]));
    let args = ["--only", "dns", "--target", "tramita", "--endpoint", "tramita=https://api.tramita.test/"];

    let (_, report) = check(&ns, &args);
    assert_ne!(by_id(&report, "dns:tramita")["status"], "ok", "without the flag the resolver has no server");

    let mut with_flag = args.to_vec();
    with_flag.extend(["--dns-server", "127.0.0.1:5353"]);
    let (run, report) = check(&ns, &with_flag);
    run.assert_code(0);
    let c = by_id(&report, "dns:tramita");
    assert_eq!(strings(&c["evidence"]["addresses"]), vec!["127.0.0.2"], "{c:#}");
    assert_eq!(c["evidence"]["server"], "127.0.0.1:5353");
    assert!(dns.queries_for("api.tramita.test") >= 1);
}

#[test]
fn resolve_flag_overrides_dns_for_that_host_and_port_only() {
    let ns = Netns::new();
    let web = TcpServer::start(&ns, "127.0.0.2:443", TcpBehaviour::Hold);
    let endpoint = "tramita=https://api.tramita.test/";

    let (run, report) = check(
        &ns,
        &[
            "--only",
            "dns,tcp",
            "--target",
            "tramita",
            "--endpoint",
            endpoint,
            "--resolve",
            "api.tramita.test:443:127.0.0.2",
        ],
    );
    run.assert_code(0);
    let dns = by_id(&report, "dns:tramita");
    assert_eq!(dns["evidence"]["source"], "--resolve", "{dns:#}");
    assert_eq!(strings(&dns["evidence"]["addresses"]), vec!["127.0.0.2"]);
    assert_eq!(by_id(&report, "tcp:tramita")["status"], "ok");
    assert_eq!(web.accepted(), 1);

    // Another port: the override does not apply, and the resolver has nothing for the name.
    let (run, report) = check(
        &ns,
        &[
            "--only",
            "dns",
            "--target",
            "tramita",
            "--endpoint",
            endpoint,
            "--resolve",
            "api.tramita.test:8443:127.0.0.2",
        ],
    );
    run.assert_code(1);
    assert_eq!(by_id(&report, "dns:tramita")["status"], "fail");
}

// ------------------------------------------------------------------------------------ TCP

#[test]
fn tcp_connects_to_a_listener() {
    let ns = Netns::new();
    let _dns = Dnsmasq::start(&ns, "127.0.0.53:53", &Zone::new().host("api.tramita.test", &["127.0.0.2"]));
    ns.use_nameserver("127.0.0.53");
    let web = TcpServer::start(&ns, "127.0.0.2:443", TcpBehaviour::Hold);

    let (run, report) = check(&ns, &tramita("dns,tcp", "https://api.tramita.test/").flags());
    run.assert_code(0);
    let c = by_id(&report, "tcp:tramita");
    assert_eq!(c["status"], "ok", "{c:#}");
    assert_eq!(c["evidence"]["via"], "direct");
    assert_eq!(c["evidence"]["attempts"][0]["addr"], "127.0.0.2:443");
    assert_eq!(c["evidence"]["attempts"][0]["result"], "connected");
    assert_eq!(web.accepted(), 1);
}

#[test]
fn tcp_closed_port_is_refused() {
    let ns = Netns::new();
    let (run, report) = check(&ns, &tramita("dns,tcp", "https://127.0.0.2:8443/").flags());
    run.assert_code(1);
    let c = by_id(&report, "tcp:tramita");
    assert_eq!(codes(c), vec!["TCP_REFUSED"], "{c:#}");
    assert_eq!(c["evidence"]["attempts"][0]["result"], "refused");
}

#[test]
fn tcp_dropped_packets_are_a_timeout() {
    let ns = Netns::new();
    let _web = TcpServer::start(&ns, "127.0.0.2:443", TcpBehaviour::Hold);
    ns.add_drop("127.0.0.2", 443);
    let (run, report) = check(&ns, &tramita("dns,tcp", "https://127.0.0.2/").args(&["--timeout", "1s"]).flags());
    run.assert_code(1);
    let c = by_id(&report, "tcp:tramita");
    assert_eq!(codes(c), vec!["TCP_TIMEOUT"], "{c:#}");
    assert_eq!(finding(c, "TCP_TIMEOUT")["kb"]["cause"], 3);
    assert!(run.elapsed < Duration::from_secs(4), "took {:?}", run.elapsed);
}

#[test]
fn tcp_host_unreachable_is_told_apart() {
    let ns = Netns::new();
    ns.add_reject_unreachable("127.0.0.2", 443);
    let (run, report) = check(&ns, &tramita("dns,tcp", "https://127.0.0.2/").args(&["--timeout", "2s"]).flags());
    run.assert_code(1);
    let c = by_id(&report, "tcp:tramita");
    assert_eq!(codes(c), vec!["TCP_UNREACHABLE"], "{c:#}");
}

#[test]
fn tcp_one_family_failing_is_partial() {
    let ns = Netns::new();
    let _dns = Dnsmasq::start(&ns, "127.0.0.53:53", &Zone::new().host("api.tramita.test", &["127.0.0.2", "::1"]));
    ns.use_nameserver("127.0.0.53");
    let _web = TcpServer::start(&ns, "127.0.0.2:443", TcpBehaviour::Hold);
    ns.add_drop("::1", 443);

    let (run, report) = check(&ns, &tramita("dns,tcp", "https://api.tramita.test/").args(&["--timeout", "1s"]).flags());
    run.assert_code(0); // a warning is not a failure without --strict
    let c = by_id(&report, "tcp:tramita");
    assert_eq!(c["status"], "warn", "{c:#}");
    assert_eq!(codes(c), vec!["TCP_PARTIAL"], "{c:#}");
    let msg = finding(c, "TCP_PARTIAL")["message"].as_str().unwrap_or("").to_string();
    assert!(msg.contains("[::1]:443"), "names the failing address: {msg}");

    let mut strict = pen_doctor(&ns);
    strict.args([
        "check",
        "--only",
        "dns,tcp",
        "--target",
        "tramita",
        "--endpoint",
        "tramita=https://api.tramita.test/",
        "--timeout",
        "1s",
        "--strict",
    ]);
    strict.run().assert_code(1);
}

// ---------------------------------------------------------------------------------- proxy

/// A namespace where `api.tramita.test` is 127.0.0.2 (hosts file) with listeners on ports 443
/// and 8443, and tinyproxy on 127.0.0.1:3128 allowing CONNECT to 443 only.
struct ProxyLab(Running);

impl ProxyLab {
    fn new() -> ProxyLab {
        let lab = Scenario::new()
            .host("api.tramita.test")
            .in_netns()
            .named_in_hosts()
            .tcp_peer(TcpBehaviour::Hold)
            .also_listen(8443, TcpBehaviour::Hold)
            .proxy(&[443])
            .start();
        ProxyLab(lab)
    }

    fn ns(&self) -> &Netns {
        self.0.ns()
    }

    fn proxy(&self) -> &Tinyproxy {
        self.0.proxy()
    }

    /// The listener on 443.
    fn web(&self) -> &TcpServer {
        self.0.peer()
    }

    /// The listener on 8443.
    fn other(&self) -> &TcpServer {
        self.0.listener(8443)
    }
}

#[test]
fn proxy_flag_tunnels_through_the_proxy() {
    let lab = ProxyLab::new();
    let (run, report) = check(
        lab.ns(),
        &tramita("dns,tcp", "https://api.tramita.test/").args(&["--proxy", &lab.proxy().url()]).flags(),
    );
    run.assert_code(0);
    let c = by_id(&report, "tcp:tramita");
    assert_eq!(c["status"], "ok", "{c:#}");
    assert_eq!(codes(c), vec!["PROXY_IN_USE"]);
    assert_eq!(finding(c, "PROXY_IN_USE")["severity"], "info");
    assert_eq!(c["evidence"]["via"], "proxy");
    assert_eq!(c["evidence"]["proxy"], "http://127.0.0.1:3128");
    assert_eq!(c["evidence"]["proxy_source"], "--proxy");
    assert_eq!(lab.proxy().connects_to("api.tramita.test:443"), 1, "{}", lab.proxy().log());
    assert_eq!(lab.web().accepted(), 1, "the tunnel reached the server");
}

#[test]
fn https_proxy_variable_is_used() {
    let lab = ProxyLab::new();
    let (run, report) = check_env(
        lab.ns(),
        &tramita("dns,tcp", "https://api.tramita.test/").flags(),
        &[("HTTPS_PROXY", "http://127.0.0.1:3128")],
    );
    run.assert_code(0);
    let c = by_id(&report, "tcp:tramita");
    assert_eq!(codes(c), vec!["PROXY_IN_USE"], "{c:#}");
    assert_eq!(c["evidence"]["via"], "proxy");
    assert_eq!(c["evidence"]["proxy_source"], "HTTPS_PROXY");
    assert_eq!(lab.proxy().connects_to("api.tramita.test:443"), 1, "{}", lab.proxy().log());
}

#[test]
fn proxy_credentials_never_reach_the_report() {
    let lab = ProxyLab::new();
    let (run, report) = check_env(
        lab.ns(),
        &tramita("dns,tcp", "https://api.tramita.test/").flags(),
        &[("HTTPS_PROXY", "http://agency:S3cretProxyPass@127.0.0.1:3128")],
    );
    run.assert_code(0);
    assert!(!run.stdout.contains("S3cretProxyPass") && !run.stderr.contains("S3cretProxyPass"), "{run}");
    assert_eq!(by_id(&report, "tcp:tramita")["evidence"]["proxy"], "http://127.0.0.1:3128");
}

#[test]
fn behind_a_proxy_a_name_only_the_proxy_resolves_is_not_a_failure() {
    let lab = ProxyLab::new();
    // The node's own DNS does not know the name; the proxy (hosts file) does.
    let _dns = Dnsmasq::start(lab.ns(), "127.0.0.53:53", &Zone::new());
    let (run, report) = check(
        lab.ns(),
        &tramita("dns,tcp", "https://api.tramita.test/")
            .args(&["--proxy", &lab.proxy().url(), "--dns-server", "127.0.0.53"])
            .flags(),
    );
    run.assert_code(0);
    let dns = by_id(&report, "dns:tramita");
    assert_eq!(finding(dns, "DNS_NXDOMAIN")["severity"], "info", "{dns:#}");
    assert_eq!(dns["status"], "ok");
    let tcp = by_id(&report, "tcp:tramita");
    assert_eq!(tcp["status"], "ok", "{tcp:#}");
    assert_eq!(tcp["evidence"]["via"], "proxy");
    assert_eq!(lab.web().accepted(), 1);
}

#[test]
fn connect_refused_by_the_proxy_policy_is_proxy_denied_with_its_answer() {
    let lab = ProxyLab::new();
    let (run, report) = check(
        lab.ns(),
        &tramita("dns,tcp", "https://api.tramita.test:8443/").args(&["--proxy", &lab.proxy().url()]).flags(),
    );
    run.assert_code(1);
    let c = by_id(&report, "tcp:tramita");
    assert_eq!(c["status"], "fail", "{c:#}");
    assert!(codes(c).contains(&"PROXY_DENIED".to_string()) && !codes(c).contains(&"PROXY_FAILED".to_string()), "{c:#}");
    let f = finding(c, "PROXY_DENIED");
    assert_eq!(f["severity"], "fail");
    assert_eq!(f["kb"]["cause"], 3);
    assert!(f["message"].as_str().unwrap_or("").contains("403"), "the proxy's answer: {f:#}");
    assert!(c["evidence"]["proxy_answer"].as_str().unwrap_or("").contains("403 Access violation"), "{c:#}");
    assert_eq!(c["evidence"]["proxy_status"], 403);
    assert_eq!(lab.other().accepted(), 0);
}

/// tinyproxy with `BasicAuth`: a CONNECT without credentials is answered 407 and named so; the
/// same proxy with the right credentials in the URL opens the tunnel.
#[test]
fn proxy_demanding_credentials_is_proxy_auth_required() {
    let ns = Netns::new();
    ns.set_hosts("127.0.0.1 localhost\n127.0.0.2 api.tramita.test\n");
    let web = TcpServer::start(&ns, "127.0.0.2:443", TcpBehaviour::Hold);
    let proxy = Tinyproxy::start_with_auth(&ns, "127.0.0.1:3128", &[443], Some(("sei", "Pr0xyPass")));
    let args = ["--only", "dns,tcp", "--target", "tramita", "--endpoint", "tramita=https://api.tramita.test/"];
    let (run, report) = check_env(&ns, &args, &[("HTTPS_PROXY", "http://127.0.0.1:3128")]);
    run.assert_code(1);
    let c = by_id(&report, "tcp:tramita");
    assert!(
        codes(c).contains(&"PROXY_AUTH_REQUIRED".to_string()) && !codes(c).contains(&"PROXY_FAILED".to_string()),
        "{c:#}"
    );
    let f = finding(c, "PROXY_AUTH_REQUIRED");
    assert_eq!(f["severity"], "fail");
    assert!(f["message"].as_str().unwrap_or("").contains("407"), "{f:#}");
    assert_eq!(c["evidence"]["proxy_status"], 407);
    assert_eq!(web.accepted(), 0);

    let (run, report) = check_env(&ns, &args, &[("HTTPS_PROXY", "http://sei:Pr0xyPass@127.0.0.1:3128")]);
    run.assert_code(0);
    assert_eq!(codes(by_id(&report, "tcp:tramita")), vec!["PROXY_IN_USE"]);
    assert_eq!(web.accepted(), 1, "{}", proxy.log());
    assert!(!run.stdout.contains("Pr0xyPass"), "{run}");
}

#[test]
fn unreachable_proxy_is_proxy_failed() {
    let ns = Netns::new();
    let (run, report) =
        check(&ns, &tramita("dns,tcp", "https://127.0.0.2/").args(&["--proxy", "http://127.0.0.1:3129"]).flags());
    run.assert_code(1);
    let c = by_id(&report, "tcp:tramita");
    assert!(codes(c).contains(&"PROXY_FAILED".to_string()), "{c:#}");
}

#[test]
fn hostile_proxies_give_proxy_failed_within_the_timeout() {
    let behaviours = [
        ("silent", TcpBehaviour::Hold),
        ("closes", TcpBehaviour::Close),
        ("resets", TcpBehaviour::Reset),
        ("garbage", TcpBehaviour::Reply(b"\x00\xff\xfenot http at all\r\n\r\n".to_vec())),
        ("success without end of head", TcpBehaviour::Reply(b"HTTP/1.1 200 Connection established\r\n".to_vec())),
        ("endless head", TcpBehaviour::Reply(b"HTTP/1.1 200 OK\r\nX-Filler: yes\r\n".repeat(2048))),
    ];
    for (behaviour, server) in behaviours {
        let ns = Netns::new();
        let proxy = TcpServer::start(&ns, "127.0.0.1:3128", server);
        let (run, report) = check(
            &ns,
            &tramita("dns,tcp", "https://127.0.0.2/")
                .args(&["--proxy", "http://127.0.0.1:3128", "--timeout", "1s"])
                .flags(),
        );
        let c = by_id(&report, "tcp:tramita");
        assert_eq!(c["status"], "fail", "{behaviour:?}: {c:#}");
        assert!(codes(c).contains(&"PROXY_FAILED".to_string()), "{behaviour:?}: {c:#}");
        run.assert_code(1);
        assert!(run.elapsed < Duration::from_secs(3), "{behaviour:?} took {:?}", run.elapsed);
        assert_eq!(proxy.accepted(), 1, "{behaviour:?}");
    }
}

#[test]
fn no_proxy_entry_bypasses_the_proxy_and_is_named() {
    let lab = ProxyLab::new();
    let (run, report) = check_env(
        lab.ns(),
        &tramita("dns,tcp", "https://api.tramita.test/").flags(),
        &[("HTTPS_PROXY", "http://127.0.0.1:3128"), ("NO_PROXY", "localhost,.tramita.test")],
    );
    run.assert_code(0);
    let c = by_id(&report, "tcp:tramita");
    assert_eq!(c["status"], "ok", "{c:#}");
    assert_eq!(codes(c), vec!["PROXY_BYPASSED"]);
    let f = finding(c, "PROXY_BYPASSED");
    assert!(f["message"].as_str().unwrap_or("").contains(".tramita.test"), "names the entry: {f:#}");
    assert_eq!(c["evidence"]["via"], "direct");
    assert_eq!(c["evidence"]["no_proxy_entry"], ".tramita.test");
    assert_eq!(lab.proxy().connects_to("api.tramita.test:443"), 0, "{}", lab.proxy().log());
    assert_eq!(lab.web().accepted(), 1);
}

// ------------------------------------------------------------------------- report contract

#[test]
fn json_report_of_a_refused_tramita_has_every_field_of_the_contract() {
    let ns = Netns::new();
    let (run, report) = check(&ns, &["--only", "dns,tcp", "--endpoint", "tramita=https://127.0.0.1:1/"]);
    run.assert_code(1);

    let tcp = by_id(&report, "tcp:tramita");
    assert_eq!(tcp["status"], "fail");
    let f = finding(tcp, "TCP_REFUSED");
    assert_eq!(f["kb"]["article"], "TRAMITA-FALHA-COMUNICACAO");
    assert_eq!(f["kb"]["cause"], 3);

    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["tool"]["name"], "pen-doctor");
    assert!(report["tool"]["version"].is_string());
    let r = &report["run"];
    let started = r["started_at"].as_str().expect("started_at");
    assert!(started.len() >= 20 && started.as_bytes()[10] == b'T', "RFC 3339: {started}");
    assert!(r["duration_ms"].is_u64());
    assert!(r["environment"].is_string());
    for key in ["hostname", "os", "kernel"] {
        assert!(r["host"][key].is_string(), "run.host.{key}");
    }
    assert!(["debian", "rhel", "other"].contains(&r["host"]["os_family"].as_str().unwrap_or("")));

    let checks = report["checks"].as_array().expect("checks");
    let s = &report["summary"];
    assert_eq!(s["status"], "fail");
    for status in ["ok", "warn", "fail", "skip", "error"] {
        let n = checks.iter().filter(|c| c["status"] == status).count() as u64;
        assert_eq!(s[status].as_u64(), Some(n), "summary.{status}");
    }
    for c in checks {
        for key in ["id", "check", "status", "summary"] {
            assert!(c[key].is_string(), "{key} in {c:#}");
        }
        assert!(c.get("target").is_some() && c["duration_ms"].is_u64() && c["evidence"].is_object(), "{c:#}");
        assert!(c["skipped_because"].is_null() || c["skipped_because"].is_string(), "{c:#}");
        for f in c["findings"].as_array().expect("findings") {
            for key in ["code", "severity", "message"] {
                assert!(f[key].is_string(), "{key} in {f:#}");
            }
            assert!(
                f["kb"]["article"].is_string() && f["kb"]["title"].is_string() && f["kb"]["url"].is_string(),
                "{f:#}"
            );
            assert!(f["kb"].get("cause").is_some(), "{f:#}");
            assert!(f["fix"].as_array().is_some_and(|fix| !fix.is_empty()), "{f:#}");
        }
    }
    // The same text reads back as the typed report (what `merge` and `diff` read).
    let typed = run.report();
    assert_eq!((typed.schema_version, typed.summary.status.as_str()), (1, "fail"));
    assert_eq!(typed.checks.len(), checks.len());
    assert_eq!(typed.summary.fail, checks.iter().filter(|c| c["status"] == "fail").count());
    // Catalog order: every dns check before any tcp check.
    let kinds: Vec<&str> = checks.iter().filter_map(|c| c["check"].as_str()).collect();
    let last_dns = kinds.iter().rposition(|k| *k == "dns");
    let first_tcp = kinds.iter().position(|k| *k == "tcp");
    assert!(last_dns < first_tcp, "{kinds:?}");
}

#[test]
fn targets_that_all_drop_packets_take_about_one_timeout_not_the_sum() {
    let ns = Netns::new();
    for addr in ["127.0.0.2", "127.0.0.3", "127.0.0.4"] {
        ns.add_drop(addr, 443);
    }
    let (run, report) = check(
        &ns,
        &[
            "--only",
            "dns,tcp",
            "--target",
            "tramita,pendencias,protocolo-integrado",
            "--endpoint",
            "tramita=https://127.0.0.2/",
            "--endpoint",
            "pendencias=https://127.0.0.3/",
            "--endpoint",
            "protocolo-integrado=https://127.0.0.4/",
            "--timeout",
            "2s",
        ],
    );
    run.assert_code(1);
    for target in ["tramita", "pendencias", "protocolo-integrado"] {
        let c = by_id(&report, &format!("tcp:{target}"));
        assert_eq!(codes(c), vec!["TCP_TIMEOUT"], "{c:#}");
    }
    // Sequential would be 3 × 2 s; concurrent checks end after about one timeout.
    assert!(run.elapsed < Duration::from_secs(5), "took {:?}", run.elapsed);
}

// ------------------------------------------------------------------------------ bad input

/// Runs `pen-doctor check ARGS` (in a namespace, in case it probes anyway) and expects the
/// usage exit code with a one-line error that contains every one of `needles`.
fn assert_usage_error(args: &[&str], needles: &[&str]) {
    let ns = Netns::new();
    let run = pen_doctor(&ns).arg("check").args(args).run();
    run.assert_code(2);
    assert!(!run.stderr.contains("panicked"), "{run}");
    let first = run.stderr.lines().next().unwrap_or("");
    for needle in needles {
        assert!(first.contains(needle), "first line should name {needle:?}\n{run}");
    }
}

#[test]
fn unknown_env_is_a_usage_error() {
    assert_usage_error(&["--env", "staging"], &["--env", "staging"]);
}

#[test]
fn malformed_endpoint_is_a_usage_error_naming_the_flag() {
    for bad in ["tramita", "tramita=not a url", "nosuchtarget=https://x.test/"] {
        assert_usage_error(&["--endpoint", bad], &["--endpoint"]);
    }
}

#[test]
fn malformed_resolve_is_a_usage_error_naming_the_flag() {
    for bad in
        ["api.tramita.test:443", "api.tramita.test:443:not-an-ip", "api.tramita.test:https:127.0.0.1", ":443:127.0.0.1"]
    {
        assert_usage_error(&["--resolve", bad], &["--resolve", bad]);
    }
}

#[test]
fn config_file_that_is_not_toml_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pen-doctor.toml");
    std::fs::write(&file, "timeout = \"2s\"\nthis is not toml\n").unwrap();
    let path = file.to_string_lossy().into_owned();
    assert_usage_error(&["--config", &path], &[&path, ":2"]);
    let ns = Netns::new();
    let run = pen_doctor(&ns).args(["check", "--config", &path]).run();
    assert_eq!(run.stderr.trim().lines().count(), 1, "one line\n{run}");
}

#[test]
fn config_file_with_an_unknown_key_names_the_key_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pen-doctor.toml");
    std::fs::write(&file, "timeout = \"2s\"\ntimeuot = \"3s\"\n").unwrap();
    let path = file.to_string_lossy().into_owned();
    assert_usage_error(&["--config", &path], &[&path, ":2", "timeuot"]);
}

#[test]
fn usage_errors_of_our_own_flags_fit_on_one_line() {
    let ns = Netns::new();
    for args in [
        vec!["--endpoint", "tramita"],
        vec!["--resolve", "x:1"],
        vec!["--dns-server", "not-an-ip"],
        vec!["--timeout", "2 fortnights"],
    ] {
        let run = pen_doctor(&ns).arg("check").args(&args).run();
        run.assert_code(2);
        assert_eq!(run.stderr.trim().lines().count(), 1, "{run}");
        assert!(run.stdout.is_empty(), "{run}");
    }
}
