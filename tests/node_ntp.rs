//! `ntp` against a real chronyd serving on loopback and an SNTP responder of the test's own
//! that answers with a deliberate offset, garbage, short packets or a kiss-o'-death.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::node::*;
use support::{Proc, Run};

/// A fixture root: a synchronised kernel, chronyd running, its configuration naming NTP.br.
fn synced_root(ntp_br: bool) -> tempfile::TempDir {
    let t = plain_root();
    write(t.path(), "proc/adjtimex", "status=0x2001 maxerror=12000 esterror=300\n");
    write(t.path(), "proc/812/comm", "chronyd\n");
    let server = if ntp_br { "pool a.ntp.br iburst" } else { "pool 2.debian.pool.ntp.org iburst" };
    write(t.path(), "etc/chrony/chrony.conf", &format!("# Use NTP.br\n{server}\nmakestep 1 3\n"));
    t
}

fn ntp_run(servers: &[String], root: &Path) -> Run {
    let mut args = vec!["--only", "ntp", "--timeout", "1s"];
    for s in servers {
        args.push("--ntp-server");
        args.push(s);
    }
    run_check(&args, Some(root))
}

#[test]
fn real_chronyd_close_offset_is_ok() {
    let tmp = synced_root(true);
    let port = free_udp_port();
    let dir = tempfile::tempdir().unwrap();
    let conf = write(
        dir.path(),
        "chrony.conf",
        &format!(
            "port {port}\nbindaddress 127.0.0.1\nallow 127.0.0.1\nlocal stratum 8\ncmdport 0\npidfile {}\n",
            dir.path().join("chronyd.pid").display()
        ),
    );
    let mut cmd = Command::new("chronyd");
    cmd.args(["-d", "-x", "-u", "root", "-f"]).arg(&conf);
    let _chronyd = Proc::spawn("chronyd", cmd, dir.path().join("chronyd.out"));
    let server = format!("127.0.0.1:{port}");
    let mut r = ntp_run(std::slice::from_ref(&server), tmp.path());
    for _ in 0..40 {
        if r.status("ntp") == "ok" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        r = ntp_run(std::slice::from_ref(&server), tmp.path());
    }
    assert_eq!(r.status("ntp"), "ok", "{}", r.check("ntp"));
    let s = &r.evidence("ntp")["servers"][0];
    assert_eq!(s["stratum"], 8, "{s}");
    assert!(s["offset_secs"].as_f64().unwrap().abs() < 0.5);
    assert_eq!(r.evidence("ntp")["daemons"][0], "chronyd");
    assert_eq!(r.code, Some(0));
}

#[test]
fn deliberate_offsets_warn_and_fail() {
    let tmp = synced_root(true);
    let warn = responder(Behaviour::Offset(3.0));
    let r = ntp_run(&[format!("127.0.0.1:{warn}")], tmp.path());
    let f = r.finding("ntp", "NTP_OFFSET_HIGH");
    assert_eq!(f["severity"], "warn", "{f}");
    assert!(f["params"]["offset"].as_str().unwrap().starts_with("3.0 s"), "{f}");
    assert_eq!(r.status("ntp"), "warn");

    let fail = responder(Behaviour::Offset(-30.0));
    let r = ntp_run(&[format!("127.0.0.1:{fail}")], tmp.path());
    let f = r.finding("ntp", "NTP_OFFSET_HIGH");
    assert_eq!(f["severity"], "fail", "{f}");
    assert_eq!(f["params"]["offset"], "-30.0 s");
    assert_eq!(r.evidence("ntp")["tls_validity_at_risk"], true);
    assert_eq!(r.code, Some(1));

    // The thresholds are configurable.
    let r = run_check(
        &["--only", "ntp", "--timeout", "1s", "--ntp-server", &format!("127.0.0.1:{warn}"), "--ntp-warn", "5s"],
        Some(tmp.path()),
    );
    assert_eq!(r.status("ntp"), "ok", "{}", r.check("ntp"));
}

#[test]
fn hostile_or_silent_servers_are_unreachable_within_the_timeout() {
    let tmp = synced_root(true);
    let silent = support::SilentUdp::start(support::Host, "127.0.0.1:0");
    let servers: Vec<String> = [
        responder(Behaviour::Garbage),
        responder(Behaviour::Short),
        responder(Behaviour::KissOfDeath),
        responder(Behaviour::WrongMode),
        responder(Behaviour::WrongOrigin),
        silent.addr().port(),
    ]
    .iter()
    .map(|p| format!("127.0.0.1:{p}"))
    .collect();
    let r = ntp_run(&servers, tmp.path());
    assert_eq!(r.codes("ntp"), vec!["NTP_UNREACHABLE"], "{}", r.check("ntp"));
    assert_eq!(r.status("ntp"), "warn");
    let errors: Vec<String> = r.evidence("ntp")["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["error"].as_str().unwrap().to_string())
        .collect();
    assert!(errors[1].contains("short"), "{errors:?}");
    assert!(errors[2].contains("RATE"), "{errors:?}");
    assert!(errors[3].contains("mode 3"), "{errors:?}");
    assert!(errors[4].contains("originate"), "{errors:?}");
    assert!(errors[5].contains("timeout"), "{errors:?}");
    // Queried concurrently: about one timeout, not six.
    assert!(r.elapsed < Duration::from_secs(4), "{:?}", r.elapsed);
    // One good server among bad ones is enough.
    let good = responder(Behaviour::Offset(0.0));
    let mut more = servers.clone();
    more.push(format!("127.0.0.1:{good}"));
    let r = ntp_run(&more, tmp.path());
    assert_eq!(r.status("ntp"), "ok", "{}", r.check("ntp"));
}

#[test]
fn unsynchronised_kernel_no_daemon_and_foreign_servers() {
    let tmp = plain_root();
    write(tmp.path(), "proc/adjtimex", "status=0x40 maxerror=16000000 esterror=16000000\n");
    write(tmp.path(), "proc/1/comm", "systemd\n");
    let off = responder(Behaviour::Offset(20.0));
    let r = ntp_run(&[format!("127.0.0.1:{off}")], tmp.path());
    let codes = r.codes("ntp");
    assert!(codes.contains(&"NTP_UNSYNCHRONIZED".to_string()), "{codes:?}");
    assert!(codes.contains(&"NTP_NO_DAEMON".to_string()), "{codes:?}");
    assert_eq!(r.finding("ntp", "NTP_UNSYNCHRONIZED")["severity"], "fail");
    assert_eq!(r.finding("ntp", "NTP_UNSYNCHRONIZED")["params"]["maxerror_ms"], "16000");

    let tmp = synced_root(false);
    let ok = responder(Behaviour::Offset(0.0));
    let r = ntp_run(&[format!("127.0.0.1:{ok}")], tmp.path());
    assert_eq!(r.codes("ntp"), vec!["NTP_NOT_NTP_BR"]);
    assert_eq!(r.status("ntp"), "ok", "info only");
}

#[test]
fn node_checks_are_planned_on_flags_only_off_an_sei_node() {
    let tmp = synced_root(true);
    let ok = responder(Behaviour::Offset(0.0));
    let server = format!("127.0.0.1:{ok}");
    let ids = |r: &Run| -> Vec<String> {
        r.json()["checks"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect()
    };
    let r = run_check(&["--skip", "dns,tcp", "--ntp-server", &server, "--timeout", "1s"], Some(tmp.path()));
    let got = ids(&r);
    assert!(got.contains(&"ntp".to_string()), "{got:?}");
    for absent in ["gearman", "supervisor", "process:pen", "cron:pen"] {
        assert!(!got.contains(&absent.to_string()), "{got:?}");
    }
    let r = run_check(
        &[
            "--skip",
            "dns,tcp",
            "--ntp-server",
            &server,
            "--timeout",
            "1s",
            "--gearman",
            "127.0.0.1:1",
            "--supervisor",
            "unix:///nonexistent/pen-doctor.sock",
        ],
        Some(tmp.path()),
    );
    let got = ids(&r);
    assert!(got.contains(&"gearman".to_string()) && got.contains(&"supervisor".to_string()), "{got:?}");
    assert_eq!(r.codes("gearman"), vec!["GEARMAN_DOWN"]);
}

/// An NTP server named by a host name is found the way every target is: through `--resolve`
/// (the system's resolver does not know the name), and the address asked is in evidence.
#[test]
fn an_ntp_server_name_is_resolved_like_every_target() {
    let tmp = synced_root(true);
    let port = responder(Behaviour::Offset(0.0));
    let name = "ntp.pen.invalid";
    let server = format!("{name}:{port}");
    let pin = format!("{name}:{port}:127.0.0.1");
    let r =
        run_check(&["--only", "ntp", "--timeout", "1s", "--ntp-server", &server, "--resolve", &pin], Some(tmp.path()));
    assert_eq!(r.status("ntp"), "ok", "{}", r.check("ntp"));
    let s = &r.evidence("ntp")["servers"][0];
    assert_eq!(s["server"], server.as_str(), "{s}");
    assert_eq!(s["address"], format!("127.0.0.1:{port}").as_str(), "{s}");
}
