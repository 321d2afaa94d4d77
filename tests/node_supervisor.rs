//! `supervisor` against a real supervisord (unix socket and inet port with credentials) running
//! PEN-like programs, one forced into FATAL; the manual's sample configuration linted; hostile
//! peers (garbage, silence) on the socket.

#[path = "support/node.rs"]
mod node;

use node::*;
use std::io::Write;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// supervisord in the foreground, stopped with SIGTERM (so it stops its programs) on drop.
struct Supervisord(std::process::Child);

impl Supervisord {
    fn start(conf: &Path) -> Supervisord {
        let child = Command::new("supervisord")
            .args(["-n", "-c"])
            .arg(conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start supervisord");
        Supervisord(child)
    }
}

impl Drop for Supervisord {
    fn drop(&mut self) {
        // SAFETY: signalling our own child by its pid.
        unsafe {
            libc::kill(self.0.id() as i32, libc::SIGTERM);
        }
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/node").join(name)
}

fn script(root: &Path, name: &str, body: &str) -> String {
    let p = write(root, &format!("opt/sei/scripts/mod-pen/{name}"), &format!("#!/bin/bash\n{body}\n"));
    p.display().to_string()
}

fn base_conf(root: &Path, listen: &str) -> String {
    format!(
        "{listen}\n[supervisord]\nlogfile={r}/supervisord.log\npidfile={r}/supervisord.pid\nchildlogdir={r}\nnodaemon=true\n\n\
         [rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
        r = root.display()
    )
}

#[test]
fn pen_programs_running_and_one_fatal_with_its_stderr() {
    let tmp = plain_root();
    let root = tmp.path();
    let sock = root.join("supervisor.sock");
    let envio = script(root, "MonitoramentoEnvioTarefasPEN.php", "exec sleep 600");
    let proc_ = script(root, "ProcessamentoTarefasPEN.php", "exec sleep 600");
    let receb = script(
        root,
        "MonitoramentoRecebimentoTarefasPEN.php",
        "echo 'PHP Fatal error:  Uncaught InfraException: Falha na conexão com o banco de dados' >&2\nexit 3",
    );
    let mut conf = base_conf(root, &format!("[unix_http_server]\nfile={}\nchmod=0700\n", sock.display()));
    conf.push_str("\n[include]\nfiles = conf.d/*.conf\n");
    write(root, "etc/supervisor/supervisord.conf", &conf);
    write(
        root,
        "etc/supervisor/conf.d/sei-pen.conf",
        &format!(
            "[program:sei_monitoramento_envio]\ncommand=/bin/bash {envio}\nuser=root\nautostart=true\nautorestart=true\n\n\
             [program:sei_processamento]\ncommand=/bin/bash {proc_}\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)02d\nautostart=true\n\n\
             [program:sei_monitoramento_recebimento]\ncommand=/bin/bash {receb}\nautostart=true\nstartsecs=1\nstartretries=0\n"
        ),
    );
    write(root, "etc/supervisor/conf.d/other.conf", "[program:unrelated]\ncommand=sleep 600\n");
    let _sd = Supervisord::start(&root.join("etc/supervisor/supervisord.conf"));
    wait_path(&sock);

    // Wait until the failing program has given up (FATAL).
    let mut r = run_check(&["--only", "supervisor", "--timeout", "2s"], Some(root));
    let start = Instant::now();
    while !r.codes("supervisor").contains(&"SUPERVISOR_PROGRAM_NOT_RUNNING".to_string())
        || r.finding("supervisor", "SUPERVISOR_PROGRAM_NOT_RUNNING")["params"]["state"] != "FATAL"
        || r.summary_running() < 3
    {
        assert!(start.elapsed() < Duration::from_secs(20), "{}", r.check("supervisor"));
        std::thread::sleep(Duration::from_millis(200));
        r = run_check(&["--only", "supervisor", "--timeout", "2s"], Some(root));
    }
    assert_eq!(r.status("supervisor"), "fail");
    assert_eq!(r.codes("supervisor"), vec!["SUPERVISOR_PROGRAM_NOT_RUNNING"], "{}", r.check("supervisor"));
    let f = r.finding("supervisor", "SUPERVISOR_PROGRAM_NOT_RUNNING");
    assert_eq!(f["params"]["program"], "sei_monitoramento_recebimento");
    assert!(f["params"]["stderr"].as_str().unwrap().contains("Falha na conexão com o banco"), "{f}");
    let ev = r.evidence("supervisor");
    assert_eq!(ev["config_files"][0], "/etc/supervisor/supervisord.conf");
    assert_eq!(ev["config_files"].as_array().unwrap().len(), 3, "{ev}");
    let names: Vec<&str> = ev["pen_programs"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"sei_processamento:sei_processamento_01"), "{names:?}");
    assert!(!names.contains(&"unrelated"), "{names:?}");
    let fatal = ev["pen_programs"].as_array().unwrap().iter().find(|p| p["state"] == "FATAL").unwrap();
    assert!(fatal["stderr_tail"][0].as_str().unwrap().contains("PHP Fatal error"), "{fatal}");
    let running = ev["pen_programs"].as_array().unwrap().iter().find(|p| p["state"] == "RUNNING").unwrap();
    assert!(running["uptime_secs"].as_i64().is_some(), "{running}");
}

impl Run {
    fn summary_running(&self) -> usize {
        self.evidence("supervisor")["pen_programs"]
            .as_array()
            .map(|a| a.iter().filter(|p| p["state"] == "RUNNING").count())
            .unwrap_or(0)
    }
}

#[test]
fn inet_port_with_credentials_and_no_pen_programs() {
    let tmp = plain_root();
    let root = tmp.path();
    let port = free_port();
    let secret = "Sup3r-S3cret-PW";
    let conf =
        base_conf(root, &format!("[inet_http_server]\nport=127.0.0.1:{port}\nusername=pen\npassword={secret}\n"))
            + "\n[program:cron_like]\ncommand=sleep 600\n";
    write(root, "etc/supervisord.conf", &conf);
    let _sd = Supervisord::start(&root.join("etc/supervisord.conf"));
    wait_tcp(port);

    let r = run_check(&["--only", "supervisor", "--timeout", "2s"], Some(root));
    assert_eq!(r.codes("supervisor"), vec!["SUPERVISOR_NO_PEN_PROGRAMS"], "{}", r.check("supervisor"));
    assert_eq!(r.evidence("supervisor")["authenticated"], true);
    assert!(!r.report.to_string().contains(secret));

    // Without the credentials (no configuration found): refused, said so.
    let empty = plain_root();
    let r = run_check(
        &["--only", "supervisor", "--supervisor", &format!("http://127.0.0.1:{port}"), "--timeout", "2s"],
        Some(empty.path()),
    );
    assert_eq!(r.codes("supervisor"), vec!["SUPERVISOR_DOWN"]);
    assert!(r.finding("supervisor", "SUPERVISOR_DOWN")["params"]["error"].as_str().unwrap().contains("401"));

    // Nothing to talk to at all.
    let r = run_check(&["--only", "supervisor"], Some(empty.path()));
    assert_eq!(r.codes("supervisor"), vec!["SUPERVISOR_CONFIG_NOT_FOUND"]);
    assert_eq!(r.status("supervisor"), "warn");
}

#[test]
fn manual_sample_is_linted() {
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("unix://{}/missing.sock", dir.path().display());
    let r = run_check(&["--only", "supervisor", "--supervisor", &missing], Some(&fixture("supervisor-rhel")));
    let problems: Vec<String> = r.check("supervisor")["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "SUPERVISOR_CONFIG_INVALID")
        .map(|f| {
            format!(
                "{}:{} {}",
                f["params"]["file"].as_str().unwrap(),
                f["params"]["line"].as_str().unwrap(),
                f["params"]["problem"].as_str().unwrap()
            )
        })
        .collect();
    let has = |s: &str| problems.iter().any(|p| p.contains(s));
    assert!(has("/etc/supervisord.d/sei-pen.ini:22 unknown key 'edutorestart'"), "{problems:#?}");
    assert!(has("unknown key 'logfile'"), "{problems:#?}");
    assert!(has("php binary not found: /usr/bin/php"), "{problems:#?}");
    // Scripts that are not there: the 1.x monitor, and the single monitor 3.7.0 removed.
    let missing: Vec<&serde_json::Value> = r.check("supervisor")["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "SUPERVISOR_SCRIPT_MISSING")
        .collect();
    assert_eq!(missing.len(), 2, "{missing:#?}");
    let by_program =
        |p: &str| missing.iter().find(|f| f["params"]["program"] == p).unwrap_or_else(|| panic!("{p}: {missing:#?}"));
    assert_eq!(
        by_program("sei_monitorar_pendencias")["params"]["script"],
        "/opt/sei/web/modulos/pen/rn/PendenciasTramiteRN.php"
    );
    let old = by_program("sei_monitoramento_antigo");
    assert_eq!(old["params"]["removed_in"], "3.7.0", "{old}");
    assert_eq!(old["params"]["line"], "29", "{old}");
    assert!(old["message"].as_str().unwrap().contains("3.7.0"), "{old}");
    assert!(has("user not found: sei"), "{problems:#?}");
    assert!(!has("user not found: apache"), "{problems:#?}");
    assert!(r.codes("supervisor").contains(&"SUPERVISOR_DOWN".to_string()));
}

#[test]
fn garbage_and_silent_sockets_are_down_within_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let empty = plain_root();
    let garbage = dir.path().join("garbage.sock");
    let l = UnixListener::bind(&garbage).unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let mut s = s;
            let _ = s.write_all(b"\x00\x01\x02 not http at all\r\n\r\n");
        }
    });
    let r = run_check(
        &["--only", "supervisor", "--supervisor", &format!("unix://{}", garbage.display()), "--timeout", "1s"],
        Some(empty.path()),
    );
    assert_eq!(r.codes("supervisor"), vec!["SUPERVISOR_DOWN"]);

    let silent = dir.path().join("silent.sock");
    let l = UnixListener::bind(&silent).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().flatten() {
            held.push(s);
        }
    });
    let r = run_check(
        &["--only", "supervisor", "--supervisor", &format!("unix://{}", silent.display()), "--timeout", "1s"],
        Some(empty.path()),
    );
    assert_eq!(r.codes("supervisor"), vec!["SUPERVISOR_DOWN"]);
    assert!(r.finding("supervisor", "SUPERVISOR_DOWN")["params"]["error"].as_str().unwrap().contains("timeout"));
    assert!(r.elapsed < Duration::from_secs(5));

    // An HTTP server that is not supervisord.
    let html = dir.path().join("html.sock");
    let l = UnixListener::bind(&html).unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let mut s = s;
            let mut req = Vec::new();
            let mut buf = [0u8; 4096];
            while !String::from_utf8_lossy(&req).contains("</methodCall>") {
                match std::io::Read::read(&mut s, &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let body = "<html><body>It works</body></html>";
            let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
        }
    });
    let r = run_check(
        &["--only", "supervisor", "--supervisor", &format!("unix://{}", html.display()), "--timeout", "1s"],
        Some(empty.path()),
    );
    let err = r.finding("supervisor", "SUPERVISOR_DOWN")["params"]["error"].as_str().unwrap().to_string();
    assert!(err.contains("XML-RPC"), "{err}");
}
