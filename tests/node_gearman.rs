//! `gearman` against a real gearmand: workers, no workers, a stuck queue, down, the IPv6 start
//! failure, and hostile peers (garbage, silence).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::node::*;
use support::{Host, Proc, Run, TcpBehaviour, TcpServer};

const PEN_FUNCTIONS: &[&str] = &[
    "enviarProcesso",
    "receberProcedimento",
    "receberReciboTramite",
    "receberTramitesRecusados",
    "receberComponenteDigital",
    "enviarComponenteDigital",
    "enviarReciboTramiteProcesso",
    "expedirBloco",
];

fn admin(port: u16, cmd: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(format!("{cmd}\n").as_bytes()).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        if out.ends_with(b".\n") {
            break;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn wait_workers(port: u16, function: &str) {
    for _ in 0..100 {
        let st = admin(port, "status");
        if st.lines().any(|l| l.starts_with(&format!("{function}\t")) && !l.ends_with("\t0")) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no worker registered for {function}");
}

/// The `gearman` CLI as a worker for every PEN function.
fn real_worker(port: u16) -> Proc {
    let mut cmd = Command::new("gearman");
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string(), "-w"]);
    for f in PEN_FUNCTIONS {
        cmd.args(["-f", f]);
    }
    cmd.args(["--", "cat"]);
    let p = Proc::spawn_quiet("gearman worker", cmd);
    wait_workers(port, "expedirBloco");
    p
}

fn gearman_run(port: u16, root: &Path) -> Run {
    run_check(&["--only", "gearman", "--gearman", &format!("127.0.0.1:{port}"), "--timeout", "2s"], Some(root))
}

#[test]
fn workers_registered_is_ok_and_missing_workers_fail() {
    let tmp = plain_root();
    let (_g, port) = gearmand(tmp.path());

    // No worker ever connected: the PEN functions have no worker.
    let r = gearman_run(port, tmp.path());
    assert_eq!(r.status("gearman"), "fail", "{}", r.check("gearman"));
    assert_eq!(r.codes("gearman"), vec!["GEARMAN_NO_WORKERS"]);
    assert!(r.finding("gearman", "GEARMAN_NO_WORKERS")["message"].as_str().unwrap().contains("receberProcedimento"));
    assert_eq!(r.code, Some(1));

    // A real worker registered for every PEN function.
    let worker = real_worker(port);
    let r = gearman_run(port, tmp.path());
    assert_eq!(r.status("gearman"), "ok", "{}", r.check("gearman"));
    assert!(r.codes("gearman").is_empty());
    let ev = r.evidence("gearman");
    assert!(ev["version"].as_str().unwrap().starts_with("1."), "{ev}");
    assert_eq!(ev["pen_workers"].as_array().unwrap().len(), 1, "{ev}");
    assert_eq!(r.code, Some(0));

    // The worker went away: the functions stay listed, with zero workers.
    drop(worker);
    for _ in 0..100 {
        if admin(port, "status").lines().any(|l| l.starts_with("expedirBloco\t") && l.ends_with("\t0")) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let r = gearman_run(port, tmp.path());
    assert_eq!(r.codes("gearman"), vec!["GEARMAN_NO_WORKERS"]);
}

/// A worker that registers a function and then hangs (never asks for a job), as a PHP worker
/// stuck on a dead database connection: jobs queue up, a worker is there, nothing runs.
#[test]
fn jobs_queued_with_hung_worker_is_stuck() {
    let tmp = plain_root();
    let (_g, port) = gearmand(tmp.path());
    let mut hung = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let f = b"receberReciboTramite";
    let mut pkt = b"\0REQ".to_vec();
    pkt.extend_from_slice(&1u32.to_be_bytes()); // CAN_DO
    pkt.extend_from_slice(&(f.len() as u32).to_be_bytes());
    pkt.extend_from_slice(f);
    hung.write_all(&pkt).unwrap();
    for _ in 0..3 {
        let st = Command::new("gearman")
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-b", "-f", "receberReciboTramite", "job"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
    }
    let r = gearman_run(port, tmp.path());
    assert_eq!(r.status("gearman"), "fail", "{}", r.check("gearman"));
    let f = r.finding("gearman", "GEARMAN_QUEUE_STUCK");
    assert!(f["message"].as_str().unwrap().contains("receberReciboTramite"), "{f}");
    assert_eq!(f["params"]["queued"], "3");
    drop(hung);
}

#[test]
fn stopped_gearmand_is_down() {
    let tmp = plain_root();
    let (g, port) = gearmand(tmp.path());
    drop(g);
    let r = gearman_run(port, tmp.path());
    assert_eq!(r.codes("gearman"), vec!["GEARMAN_DOWN"]);
    assert_eq!(r.status("gearman"), "fail");
}

#[test]
fn garbage_peer_is_a_protocol_error_and_silence_times_out() {
    let tmp = plain_root();
    let garbage = TcpServer::start(
        Host,
        "127.0.0.1:0",
        TcpBehaviour::Reply(b"HTTP/1.1 400 Bad Request\r\n\r\n\x00\xff\xfe garbage\n".to_vec()),
    );
    let r = gearman_run(garbage.port(), tmp.path());
    assert_eq!(r.codes("gearman"), vec!["GEARMAN_PROTOCOL_ERROR"]);

    let silent = TcpServer::start(Host, "127.0.0.1:0", TcpBehaviour::Hold);
    let sport = silent.port();
    let r = run_check(
        &["--only", "gearman", "--gearman", &format!("127.0.0.1:{sport}"), "--timeout", "1s"],
        Some(tmp.path()),
    );
    assert_eq!(r.codes("gearman"), vec!["GEARMAN_NOT_RESPONDING"]);
    assert!(r.elapsed < Duration::from_secs(5), "{:?}", r.elapsed);
}

#[test]
fn host_without_ipv6_predicts_the_start_failure() {
    let tmp = plain_root();
    let (_g, port) = gearmand(tmp.path());
    let _w = real_worker(port);
    let root = tmp.path();
    write(root, "proc/net/if_inet6", "");
    write(root, "proc/sys/net/ipv6/conf/all/disable_ipv6", "1\n");
    write(root, "etc/default/gearman-job-server", "# Parameters to pass to gearmand.\nPARAMS=\"\"\n");
    let r = gearman_run(port, root);
    let f = r.finding("gearman", "GEARMAN_IPV6_LISTEN");
    assert_eq!(f["severity"], "warn", "{f}");
    assert_eq!(r.status("gearman"), "warn");
    assert_eq!(r.evidence("gearman")["ipv6"]["host_has_ipv6"], false);

    // Told to listen on 127.0.0.1 only: nothing to predict.
    write(root, "etc/default/gearman-job-server", "PARAMS=\"--listen=127.0.0.1\"\n");
    let r = gearman_run(port, root);
    assert!(r.codes("gearman").is_empty(), "{}", r.check("gearman"));

    // Debian's defaults file unrestricted, but the systemd unit's drop-in passes -L 127.0.0.1.
    write(root, "etc/default/gearman-job-server", "PARAMS=\"\"\n");
    write(
        root,
        "etc/systemd/system/gearman-job-server.service.d/override.conf",
        "[Service]\nExecStart=\nExecStart=/usr/sbin/gearmand -L 127.0.0.1 --log-file=/var/log/gearman-job-server/gearman.log\n",
    );
    let r = gearman_run(port, root);
    assert!(r.codes("gearman").is_empty(), "{}", r.check("gearman"));
    assert_eq!(
        r.evidence("gearman")["ipv6"]["listen_restricted_in"],
        "/etc/systemd/system/gearman-job-server.service.d/override.conf"
    );

    // The log already shows the failure: fail, quoting the line.
    write(
        root,
        "var/log/gearmand.log",
        "  ERROR 2024-03-01 10:00:00.000000 [  main ] socket()(Address family not supported by protocol) -> libgearman-server/gearmand.cc:442\n",
    );
    let r = gearman_run(port, root);
    let f = r.finding("gearman", "GEARMAN_IPV6_LISTEN");
    assert_eq!(f["severity"], "fail", "{f}");
    assert!(f["params"]["evidence"].as_str().unwrap().contains("gearmand.cc:442"));
}

/// gearmand named by a host name is found the way every target is: through `--dns-server`
/// (a real dnsmasq), not the system's resolver; a name the server does not know is down, said
/// with the name and the DNS answer.
#[test]
fn a_gearmand_host_name_is_resolved_like_every_target() {
    let tmp = plain_root();
    let (_g, port) = gearmand(tmp.path());
    let name = "gearmand.pen.test";
    let dns_port = free_port();
    let dns = support::Dnsmasq::start(
        Host,
        format!("127.0.0.1:{dns_port}"),
        &support::Zone::new().host(name, &["127.0.0.1"]),
    );
    let dns_server = format!("127.0.0.1:{dns_port}");
    let r = run_check(
        &["--only", "gearman", "--gearman", &format!("{name}:{port}"), "--dns-server", &dns_server, "--timeout", "2s"],
        Some(tmp.path()),
    );
    assert_eq!(r.codes("gearman"), vec!["GEARMAN_NO_WORKERS"], "{}", r.check("gearman"));
    assert!(r.evidence("gearman")["version"].as_str().unwrap().starts_with("1."), "{}", r.check("gearman"));
    assert!(dns.queries_for(name) >= 1, "{}", dns.log());

    let other = "elsewhere.pen.test";
    let r = run_check(
        &["--only", "gearman", "--gearman", &format!("{other}:{port}"), "--dns-server", &dns_server, "--timeout", "2s"],
        Some(tmp.path()),
    );
    assert_eq!(r.codes("gearman"), vec!["GEARMAN_DOWN"], "{}", r.check("gearman"));
    let err = r.finding("gearman", "GEARMAN_DOWN")["params"]["error"].as_str().unwrap().to_string();
    assert_eq!(err, format!("{other}: NXDOMAIN"));
}
