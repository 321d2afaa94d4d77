//! `webhook:<name>` against real receivers: nginx over HTTPS with a certificate from a test CA
//! (trusted through `--ca-bundle`), nginx with a certificate from another CA, nginx over plain
//! HTTP, a late responder behind nginx for the slow cases, a receiver found through dnsmasq
//! (`--dns-server`), and an endless receiver written here that answers 200 and never ends.

mod support;

use serde_json::Value;
use std::io::{Read, Write};
use std::time::Duration;
use support::*;

/// A plain HTTP responder on a loopback port that waits `delay` before answering 200 (the one
/// thing nginx cannot do); nginx proxies `/slow` and `/hang` to it. Runs until the process ends.
fn late_responder(delay: Duration) -> u16 {
    let server = TcpServer::start(
        Host,
        "127.0.0.1:0",
        TcpBehaviour::serve(move |mut stream| {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // The head, then the body its Content-Length announces.
            while let Ok(n) = stream.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).into_owned();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .filter_map(|l| l.split_once(':'))
                        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
                        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            std::thread::sleep(delay);
            let body = "{\"ok\":true,\"late\":true}";
            let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
        }),
    );
    server.keep().port()
}

/// The receivers: a [`Scenario`] whose nginx serves the trusted one, and in the same nginx the
/// untrusted and the plain ones.
struct Lab {
    lab: Running,
    untrusted: u16,
    plain: u16,
}

impl Lab {
    /// The trusted HTTPS receiver's port.
    fn trusted(&self) -> u16 {
        self.lab.port()
    }

    /// `--ca-bundle` with the store that trusts the trusted receiver only.
    fn ca(&self, args: CheckArgs) -> CheckArgs {
        args.ca_bundle(self.lab.store())
    }

    fn nginx(&self) -> &Nginx {
        self.lab.nginx()
    }
}

const HOST: &str = "receptor.sefaz.test";

/// nginx with: a trusted HTTPS receiver (`/ok` answers 200 only to a JSON POST carrying the
/// test header, `/fail` 500, `/slow` and `/hang` proxied to late responders), an HTTPS receiver
/// whose certificate comes from a CA outside the bundle, and a plain HTTP receiver.
fn lab() -> Lab {
    let pki = std::sync::Arc::new(Pki::new());
    let (other_key, other_chain) = pki.serve_from(&pki.stranger, &[HOST, "127.0.0.1"]);
    let (untrusted, plain) = (free_port(Host), free_port(Host));
    let slow = late_responder(Duration::from_millis(1300));
    let hang = late_responder(Duration::from_secs(6));
    let receiver = Site::empty()
        .location(
            r#"location = /ok {
        if ($request_method != POST) { return 405; }
        if ($http_x_pen_doctor_test != "1") { return 400; }
        if ($content_type != "application/json") { return 415; }
        return 200 '{"ok":true}';
      }"#,
        )
        .location(r#"location = /fail { return 500 '{"erro":"falha interna"}'; }"#);
    let json = "default_type application/json;\n";
    let trusted = receiver
        .clone()
        .location(&format!("location = /slow {{ proxy_pass http://127.0.0.1:{slow}; proxy_read_timeout 20s; }}"))
        .location(&format!("location = /hang {{ proxy_pass http://127.0.0.1:{hang}; proxy_read_timeout 20s; }}"));
    let untrusted_server = Nginx::tls_server_at(
        &format!("127.0.0.1:{untrusted}"),
        HOST,
        &other_chain,
        &other_key,
        &format!("{json}{}", receiver.nginx()),
    );
    let plain_server = format!("server {{ listen 127.0.0.1:{plain};\n{json}{}\n}}", receiver.nginx());
    let lab = Scenario::new()
        .pki(pki)
        .host(HOST)
        .also("127.0.0.1")
        .server_extra(json)
        .site(trusted)
        .also_serve(&untrusted_server)
        .also_serve(&plain_server)
        .start();
    Lab { lab, untrusted, plain }
}

fn run_json(args: CheckArgs) -> Value {
    run_json_env(args, &[])
}

fn run_json_env(args: CheckArgs, env: &[(&str, &str)]) -> Value {
    let mut cmd = pen_doctor(Host);
    cmd.args(args.only("webhook").json().timeout("2s").argv());
    cmd.envs(env.iter().copied());
    let run = cmd.run();
    assert!(matches!(run.code, Some(0) | Some(1)), "{run}");
    run.json()
}

/// `check --webhook VALUE`.
fn webhook(value: &str) -> CheckArgs {
    CheckArgs::new().flag("--webhook", value)
}

#[test]
fn receiver_answering_200_passes() {
    let lab = lab();
    let args = webhook(&format!("sefaz={}", lab.lab.url("/ok")));
    let report = run_json(lab.ca(lab.lab.resolve(args, HOST)));
    let c = check(&report, "webhook:sefaz");
    assert_eq!(c["status"], "ok", "{c:#}");
    assert_eq!(c["evidence"]["status"], 200);
    assert_eq!(c["evidence"]["body"], "{\"ok\":true}");
    assert!(c["evidence"]["tls_version"].as_str().unwrap_or("").starts_with("TLSv1."), "{c:#}");
    assert!(c["evidence"]["elapsed_ms"].as_u64().is_some());
    // nginx answered 200 only because the POST carried the test header and a JSON body.
    let log = lab.nginx().access_log();
    assert!(log.contains("\"POST /ok HTTP/1.1\" 200"), "{log}");
}

#[test]
fn receiver_answering_500_is_bad_status() {
    let lab = lab();
    let report = run_json(lab.ca(webhook(&format!("https://127.0.0.1:{}/fail", lab.trusted()))));
    let c = check(&report, "webhook:default");
    assert_eq!(codes(c), vec!["WEBHOOK_BAD_STATUS"]);
    assert_eq!(c["findings"][0]["params"]["status"], "500");
    assert_eq!(c["evidence"]["body"], "{\"erro\":\"falha interna\"}");
    assert_eq!(c["findings"][0]["kb"]["article"], "PUCOMEX-WEBHOOKS");
}

#[test]
fn plain_http_receiver_is_refused() {
    let lab = lab();
    let report = run_json(webhook(&format!("sefaz=http://127.0.0.1:{}/ok", lab.plain)));
    let c = check(&report, "webhook:sefaz");
    assert_eq!(codes(c), vec!["WEBHOOK_NOT_HTTPS"]);
    assert_eq!(c["status"], "fail");
    assert!(lab.nginx().access_log().is_empty(), "no notification is sent over plain HTTP");
}

#[test]
fn certificate_from_an_unknown_ca_is_untrusted() {
    let lab = lab();
    let report = run_json(lab.ca(webhook(&format!("outra=https://127.0.0.1:{}/ok", lab.untrusted))));
    let c = check(&report, "webhook:outra");
    assert_eq!(codes(c), vec!["WEBHOOK_TLS_UNTRUSTED"], "{c:#}");
    // Without --ca-bundle the publicly trusted roots decide: a private CA is not among them.
    let report = run_json(webhook(&format!("sefaz=https://127.0.0.1:{}/ok", lab.trusted())));
    assert_eq!(codes(check(&report, "webhook:sefaz")), vec!["WEBHOOK_TLS_UNTRUSTED"]);
    assert!(lab.nginx().access_log().is_empty(), "nothing is posted to an untrusted receiver");
}

#[test]
fn slow_and_silent_receivers() {
    let lab = lab();
    let args = webhook(&format!("lento=https://127.0.0.1:{}/slow", lab.trusted()))
        .flag("--webhook", format!("mudo=https://127.0.0.1:{}/hang", lab.trusted()));
    let report = run_json(lab.ca(args));
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
    let port = free_port(Host);
    let report = run_json(webhook(&format!("https://127.0.0.1:{port}/ok")));
    let c = check(&report, "webhook:default");
    assert_eq!(codes(c), vec!["WEBHOOK_UNREACHABLE"]);
    assert!(c["findings"][0]["params"]["error"].as_str().unwrap().contains("refused"), "{c:#}");
}

#[test]
fn explanations_carry_the_pucomex_delivery_rules() {
    let rules = [
        ("pt", ["3 tentativas", "5 minutos", "200", "armazenar", "IPs de origem"]),
        ("en", ["3 attempts", "5 minutes", "200", "store", "source IPs"]),
    ];
    for (lang, words) in rules {
        for code in [
            "WEBHOOK_NOT_HTTPS",
            "WEBHOOK_TLS_UNTRUSTED",
            "WEBHOOK_BAD_STATUS",
            "WEBHOOK_SLOW",
            "WEBHOOK_UNREACHABLE",
            "WEBHOOK_BAD_RESPONSE",
        ] {
            let run = pen_doctor(Host).args(["explain", code, "--lang", lang]).run();
            for w in words {
                assert!(run.stdout.contains(w), "{code} ({lang}) lacks '{w}':\n{run}");
            }
        }
    }
}

#[test]
fn notification_goes_through_the_proxy_unless_no_proxy_says_otherwise() {
    let lab = lab();
    let proxy = Tinyproxy::start(Host, format!("127.0.0.1:{}", free_port(Host)), &[]);
    let url = format!("sefaz=https://127.0.0.1:{}/ok", lab.trusted());
    let report = run_json(lab.ca(webhook(&url)).flag("--proxy", proxy.url()));
    let c = check(&report, "webhook:sefaz");
    assert_eq!(c["status"], "ok", "{c:#}");
    assert_eq!(c["evidence"]["via"], format!("proxy {}", proxy.url()));
    let tunnels = proxy.connects_to(&format!("127.0.0.1:{}", lab.trusted()));
    assert!(tunnels >= 1, "{}", proxy.log());

    let report = run_json_env(lab.ca(webhook(&url)), &[("HTTPS_PROXY", &proxy.url()), ("NO_PROXY", "127.0.0.1")]);
    let c = check(&report, "webhook:sefaz");
    assert_eq!(c["status"], "ok", "{c:#}");
    assert_eq!(c["evidence"]["via"], "direct");
    assert_eq!(proxy.connects_to(&format!("127.0.0.1:{}", lab.trusted())), tunnels, "NO_PROXY bypasses the proxy");
}

#[test]
fn a_password_in_the_webhook_url_is_never_shown() {
    let lab = lab();
    let port = free_port(Host);
    for url in [
        format!("https://sefaz:Url-S3cret-x@127.0.0.1:{}/fail", lab.trusted()),
        format!("https://sefaz:Url-S3cret-x@127.0.0.1:{port}/ok"),
        format!("http://sefaz:Url-S3cret-x@127.0.0.1:{}/ok", lab.plain),
    ] {
        for format in ["human", "markdown", "json"] {
            let args = lab.ca(webhook(&url).only("webhook")).format(format);
            let run = pen_doctor(Host).args(args.argv()).run();
            assert!(!run.stdout.contains("Url-S3cret-x") && !run.stderr.contains("Url-S3cret-x"), "{run}");
        }
    }
}

#[test]
fn hostile_receivers_give_a_finding_within_the_timeout() {
    let behaviours = [
        ("silent", TcpBehaviour::Hold, &["TLS handshake timeout"][..]),
        // A reset may arrive while connecting or during the handshake: both are the peer's reset.
        ("reset", TcpBehaviour::Reset, &["TLS", "reset"][..]),
        ("garbage", TcpBehaviour::Reply(b"HTTP/1.1 400 Bad Request\r\n\r\nnot TLS at all".to_vec()), &["TLS"][..]),
    ];
    for (what, behaviour, errors) in behaviours {
        let server = TcpServer::start(Host, "127.0.0.1:0", behaviour);
        let args = webhook(&format!("https://{}/ok", server.addr())).only("webhook").json().timeout("1s");
        let run = pen_doctor(Host).args(args.argv()).run();
        assert!(run.elapsed < Duration::from_secs(5), "{what}: took {:?}", run.elapsed);
        run.assert_code(1);
        let report = run.json();
        let c = check(&report, "webhook:default");
        assert_eq!(codes(c), vec!["WEBHOOK_UNREACHABLE"], "{what}: {c:#}");
        let said = c["findings"][0]["params"]["error"].as_str().unwrap_or("");
        assert!(errors.iter().any(|e| said.contains(e)), "{what}: {said}");
    }
}

/// How an endless receiver streams the body of its 200.
#[derive(Clone, Copy, Debug)]
enum Stream {
    /// 16 KiB chunks as fast as the client takes them.
    Flood,
    /// One byte every 100 ms.
    Drip,
}

/// A TLS receiver written here (rustls, a certificate of the suite's PKI for `HOST`) that reads
/// the notification, answers `200` with a chunked body, and never ends it. Lives as long as
/// the test process.
fn endless_receiver(pki: &Pki, how: Stream) -> u16 {
    let (key, chain) = pki.serve_names(&[HOST, "127.0.0.1"]);
    let config = tls_server_config(&chain, &key);
    let server = TcpServer::start(
        Host,
        "127.0.0.1:0",
        TcpBehaviour::serve(move |tcp| {
            let config = config.clone();
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
            let Ok(conn) = rustls::ServerConnection::new(config) else { return };
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            while !String::from_utf8_lossy(&request).contains("\"from_host\"") {
                match tls.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
            if tls.write_all(head.as_bytes()).is_err() {
                return;
            }
            let flood = format!("4000\r\n{}\r\n", "{".repeat(0x4000));
            loop {
                let sent = match how {
                    Stream::Flood => tls.write_all(flood.as_bytes()),
                    Stream::Drip => {
                        std::thread::sleep(Duration::from_millis(100));
                        tls.write_all(b"1\r\n{\r\n")
                    }
                };
                if sent.and_then(|_| tls.flush()).is_err() {
                    return;
                }
            }
        }),
    );
    server.keep().port()
}

#[test]
fn a_receiver_that_answers_200_and_streams_forever_is_cut_within_the_timeout() {
    let pki = Pki::new();
    let store = pki.healthy_store();
    for how in [Stream::Flood, Stream::Drip] {
        let port = endless_receiver(&pki, how);
        let args = webhook(&format!("sefaz=https://{HOST}:{port}/ok"))
            .only("webhook")
            .resolve(HOST, port, "127.0.0.1")
            .ca_bundle(&store)
            .json()
            .timeout("2s")
            .flag("--deadline", "20s");
        let run = pen_doctor(Host).args(args.argv()).run_for(Duration::from_secs(30));
        assert!(run.elapsed < Duration::from_secs(5), "{how:?}: the answer held the run for {:?}", run.elapsed);
        run.assert_code(1);
        let report = run.json();
        let c = check(&report, "webhook:sefaz");
        assert_eq!(codes(c), vec!["WEBHOOK_BAD_RESPONSE"], "{how:?}: {c:#}");
        assert_eq!(c["evidence"]["status"], 200, "{c:#}");
        let read = c["evidence"]["body_bytes"].as_u64().expect("body_bytes");
        match how {
            // Cut at the body limit, long before the timeout.
            Stream::Flood => assert!(read == 1024 * 1024 && c["evidence"]["body_truncated"] == true, "{c:#}"),
            // Still coming when the timeout ended the exchange.
            Stream::Drip => assert!((1..1024).contains(&read) && run.elapsed >= Duration::from_secs(2), "{c:#}"),
        }
        let f = &c["findings"][0];
        assert_eq!((f["params"]["timeout"].as_str(), f["params"]["limit"].as_str()), (Some("2s"), Some("1 MiB")));
        assert!(f["message"].as_str().unwrap_or("").contains("200"), "{f:#}");
        let peak_mib = children_peak_rss_kib() / 1024;
        assert!(peak_mib < 64, "{how:?}: pen-doctor grew to {peak_mib} MiB reading an endless answer");
    }
}

#[test]
fn the_receiver_name_is_resolved_like_every_target_with_dns_server() {
    let lab = lab();
    let dns_port = free_port(Host);
    let dns = Dnsmasq::start(Host, format!("127.0.0.1:{dns_port}"), &Zone::new().host(HOST, &["127.0.0.1"]));
    let args = webhook(&format!("sefaz={}", lab.lab.url("/ok"))).flag("--dns-server", format!("127.0.0.1:{dns_port}"));
    let report = run_json(lab.ca(args));
    let c = check(&report, "webhook:sefaz");
    assert_eq!(c["status"], "ok", "{c:#}");
    assert!(dns.queries_for(HOST) >= 1, "{}", dns.log());
    assert!(lab.nginx().access_log().contains("\"POST /ok HTTP/1.1\" 200"));
}
