//! `supervisor` against a real supervisord (unix socket and inet port with credentials) running
//! PEN-like programs, one forced into FATAL; the manual's sample configuration linted; hostile
//! peers (garbage, silence) on the socket.

mod support;

use std::io::Write;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::node::*;
use support::{Run, RunExt};

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
    let _sd = supervisord(&root.join("etc/supervisor/supervisord.conf"));
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
    let _sd = supervisord(&root.join("etc/supervisord.conf"));
    wait_tcp(port);

    let r = run_check(&["--only", "supervisor", "--timeout", "2s"], Some(root));
    assert_eq!(r.codes("supervisor"), vec!["SUPERVISOR_NO_PEN_PROGRAMS"], "{}", r.check("supervisor"));
    assert_eq!(r.evidence("supervisor")["authenticated"], true);
    assert!(!r.stdout.contains(secret));

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
    let r = run_check(&["--only", "supervisor", "--supervisor", &missing], Some(&fixture("node/supervisor-rhel")));
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
    answer_on_socket(&html, "<html><body>It works</body></html>");
    let r = run_check(
        &["--only", "supervisor", "--supervisor", &format!("unix://{}", html.display()), "--timeout", "1s"],
        Some(empty.path()),
    );
    let err = r.finding("supervisor", "SUPERVISOR_DOWN")["params"]["error"].as_str().unwrap().to_string();
    assert!(err.contains("XML-RPC"), "{err}");
}

/// A peer on a UNIX socket at `path` that reads each XML-RPC request to its end and answers
/// HTTP 200 with `body`, whatever was asked: what supervisord's socket gives when something
/// else (or a broken supervisord) listens there.
fn answer_on_socket(path: &Path, body: &str) {
    let l = UnixListener::bind(path).unwrap();
    let body = body.to_string();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut req = Vec::new();
            let mut buf = [0u8; 4096];
            while !String::from_utf8_lossy(&req).contains("</methodCall>") {
                match std::io::Read::read(&mut s, &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
        }
    });
}

// ------------------------------------------------------------------ the module's own samples

/// A node set up like a real one under `root`: the SEI tree of `fixtures/sei/TREE` at
/// `/srv/sei` (its module version selects the era), a php stand-in, a log directory, and
/// supervisord's main file at `/etc/supervisor/supervisord.conf` pulling in
/// `/srv/sei/config/mod-pen/*.ini` with `%(here)s`, as the module's manual has it.
fn node_with_sample(tree: &str, sample: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = plain_root();
    let root = tmp.path();
    copy_sei_tree(tree, &root.join("srv/sei"));
    write_exec(root, "usr/bin/php", PHP_STAND_IN);
    std::fs::create_dir_all(root.join("log")).unwrap();
    let sock = root.join("supervisor.sock");
    let mut conf = base_conf(root, &format!("[unix_http_server]\nfile={}\nchmod=0700\n", sock.display()));
    conf.push_str("\n[include]\nfiles = %(here)s/../../srv/sei/config/mod-pen/*.ini\n");
    write(root, "etc/supervisor/supervisord.conf", &conf);
    write(root, "srv/sei/config/mod-pen/supervisor.ini", &sample.replace("{root}", &root.display().to_string()));
    (tmp, sock)
}

/// A program section with the sample's shape: php -c, a script next to the including file,
/// `directory=` the SEI web root.
fn program(name: &str, script: &str, args: &str, logs: &str) -> String {
    format!(
        "[program:{name}]\ncommand={{root}}/usr/bin/php -c /etc/php.ini %(here)s/../../scripts/mod-pen/{script} {args}\n\
         directory={{root}}/srv/sei/web\nuser=root\nautostart=true\nautorestart=true\nstartsecs=1\nstartretries=1\n{logs}\n"
    )
}

fn sei_dir(root: &Path) -> String {
    root.join("srv/sei").display().to_string()
}

/// Runs the supervisor check until `ready` holds (supervisord settles programs in seconds).
fn check_until(root: &Path, ready: impl Fn(&Run) -> bool) -> Run {
    let args = ["--only", "supervisor", "--sei-dir", &sei_dir(root), "--timeout", "2s"];
    let start = Instant::now();
    loop {
        let r = run_check(&args, Some(root));
        if ready(&r) {
            return r;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{}", r.check("supervisor"));
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn state_of(r: &Run, name: &str) -> String {
    r.evidence("supervisor")["pen_programs"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["name"] == name))
        .and_then(|p| p["state"].as_str())
        .unwrap_or("")
        .to_string()
}

fn findings<'a>(r: &'a Run, code: &str) -> Vec<&'a serde_json::Value> {
    r.check("supervisor")["findings"].as_array().unwrap().iter().filter(|f| f["code"] == code).collect()
}

#[test]
fn the_sample_shipped_with_3_7_to_4_0_3_sends_nothing_and_says_why() {
    let shared = "stdout_logfile={root}/log/sei_monitorar_pendencias.log-out\n\
                  stderr_logfile={root}/log/sei_monitorar_pendencias.log-err\n\
                  log_stdout=true\nlogfile={root}/log/sei_monitorar_pendencias.log";
    let sample = program("monitoramento_tarefas_pen", "MonitoramentoTarefasPEN.php", "--monitorar --segundo-plano", shared)
        + &program(
            "monitoramento_envio_tarefas_pen",
            "MonitoramentoRecebimentoTarefasPEN.php",
            "--monitorar --segundo-plano",
            shared,
        )
        + &program(
            "processamento_tarefas_pen",
            "ProcessamentoTarefasPEN.php",
            "--worker=%(process_num)02d",
            "process_name=%(program_name)s_%(process_num)02d\nnumprocs=2\n\
             stdout_logfile={root}/log/sei_processar_pendencias.log-out\nstderr_logfile={root}/log/sei_processar_pendencias.log-err",
        );
    let (tmp, sock) = node_with_sample("modpen4", &sample);
    let root = tmp.path();
    let _sd = supervisord(&root.join("etc/supervisor/supervisord.conf"));
    wait_path(&sock);
    let r = check_until(root, |r| state_of(r, "monitoramento_tarefas_pen") == "FATAL");
    let ev = r.evidence("supervisor");
    assert!(ev["main_found_by"].as_str().unwrap().contains("running supervisord"), "{ev}");
    assert_eq!(ev["era"], "4.0-4.1");
    assert_eq!(ev["era_sample_broken"], true);

    // The removed single monitor, and the version that removed it.
    let f = r.finding("supervisor", "SUPERVISOR_SCRIPT_MISSING");
    assert_eq!(f["params"]["program"], "monitoramento_tarefas_pen");
    assert_eq!(f["params"]["removed_in"], "3.7.0");
    assert_eq!(f["params"]["installed"], "4.0.1");
    let script = f["params"]["script"].as_str().unwrap();
    assert!(script.ends_with("/srv/sei/config/mod-pen/../../scripts/mod-pen/MonitoramentoTarefasPEN.php"), "{script}");
    assert_eq!(f["params"]["file"], "/srv/sei/config/mod-pen/supervisor.ini");

    // Its real failure: PHP's words on stdout and the exit status supervisord logged.
    let f = r.finding("supervisor", "SUPERVISOR_PROGRAM_NOT_RUNNING");
    assert_eq!(f["params"]["program"], "monitoramento_tarefas_pen");
    assert_eq!(f["params"]["exitstatus"], "1", "{f}");
    assert!(f["params"]["stdout"].as_str().unwrap().contains("Could not open input file"), "{f}");
    assert!(f["message"].as_str().unwrap().contains("Could not open input file"), "{f}");

    // "envio" runs the Recebimento monitor; nothing runs the Envio monitor.
    let f = r.finding("supervisor", "SUPERVISOR_PROGRAM_MISNAMED");
    assert_eq!(f["params"]["program"], "monitoramento_envio_tarefas_pen");
    assert_eq!(f["params"]["script"], "MonitoramentoRecebimentoTarefasPEN.php");
    let missing = findings(&r, "PEN_MONITOR_MISSING");
    assert_eq!(missing.len(), 1, "{missing:#?}");
    assert_eq!(missing[0]["params"]["script"], "MonitoramentoEnvioTarefasPEN.php");
    assert_eq!(missing[0]["severity"], "fail");
    assert!(missing[0]["message"].as_str().unwrap().contains("no process will be sent"), "{}", missing[0]);

    // Both monitors on one log; supervisor-2 keys supervisor 4 ignores.
    let shared_logs = findings(&r, "SUPERVISOR_LOG_SHARED");
    assert!(
        shared_logs
            .iter()
            .any(|f| f["params"]["programs"] == "monitoramento_envio_tarefas_pen, monitoramento_tarefas_pen"
                && f["params"]["log"].as_str().unwrap().ends_with("sei_monitorar_pendencias.log-out")),
        "{shared_logs:#?}"
    );
    let invalid: Vec<String> = findings(&r, "SUPERVISOR_CONFIG_INVALID")
        .iter()
        .map(|f| f["params"]["problem"].as_str().unwrap().to_string())
        .collect();
    assert!(invalid.contains(&"unknown key 'log_stdout'".to_string()), "{invalid:?}");
    assert!(invalid.contains(&"unknown key 'logfile'".to_string()), "{invalid:?}");

    // %(program_name)s and %(process_num)02d as supervisord expands them.
    let conf = ev["pen_program_config"].as_array().unwrap();
    let workers = conf.iter().find(|p| p["name"] == "processamento_tarefas_pen").unwrap();
    assert_eq!(
        workers["processes"],
        serde_json::json!(["processamento_tarefas_pen_00", "processamento_tarefas_pen_01"])
    );
    assert_eq!(state_of(&r, "processamento_tarefas_pen:processamento_tarefas_pen_01"), "RUNNING");
}

#[test]
fn the_fixed_sample_is_healthy_and_a_generic_name_is_no_misnomer() {
    let own = |n: &str| format!("stdout_logfile={{root}}/log/{n}.out\nstderr_logfile={{root}}/log/{n}.err");
    let sample = program(
        "monitoramento_tarefas_pen",
        "MonitoramentoRecebimentoTarefasPEN.php",
        "--monitorar --segundo-plano",
        &own("receb"),
    ) + &program(
        "monitoramento_envio_tarefas_pen",
        "MonitoramentoEnvioTarefasPEN.php",
        "--monitorar --segundo-plano",
        &own("envio"),
    ) + &program(
        "processamento_tarefas_pen",
        "ProcessamentoTarefasPEN.php",
        "--worker=%(process_num)02d",
        &(own("proc") + "\nprocess_name=%(program_name)s_%(process_num)02d\nnumprocs=2"),
    );
    // The web root from supervisord's own environment, as docker images write it.
    let sample = sample.replace("directory={root}/srv/sei/web", "directory=%(ENV_SEI_HOME)s/web");
    let (tmp, sock) = node_with_sample("modpen4", &sample);
    let root = tmp.path();
    let home = root.join("srv/sei").display().to_string();
    let _sd = supervisord_with_env(&root.join("etc/supervisor/supervisord.conf"), &[("SEI_HOME", &home)]);
    wait_path(&sock);
    let r = check_until(root, |r| r.check("supervisor")["summary"].as_str().is_some() && r.summary_running() == 4);
    assert_eq!(r.codes("supervisor"), Vec::<String>::new(), "{}", r.check("supervisor"));
    assert_eq!(r.status("supervisor"), "ok");
    let conf = r.evidence("supervisor")["pen_program_config"].as_array().unwrap().clone();
    assert!(conf.iter().all(|p| p["directory"] == format!("{home}/web")), "{conf:#?}");
}

#[test]
fn duplicate_sections_merge_and_one_monitor_disappears() {
    // The module's test environments: [program:monitoramento_tarefas_pen] twice, in two files.
    let (tmp, sock) = node_with_sample(
        "modpen4",
        &program(
            "processamento_tarefas_pen",
            "ProcessamentoTarefasPEN.php",
            "--worker=00",
            "stdout_logfile={root}/log/p.out\nstderr_logfile={root}/log/p.err",
        ),
    );
    let root = tmp.path();
    let r_ = root.display().to_string();
    write(
        root,
        "srv/sei/config/mod-pen/teste-a.ini",
        &program(
            "monitoramento_tarefas_pen",
            "MonitoramentoEnvioTarefasPEN.php",
            "--monitorar",
            "stderr_logfile={root}/log/envio.err\nstdout_logfile={root}/log/m.out",
        )
        .replace("{root}", &r_),
    );
    write(
        root,
        "srv/sei/config/mod-pen/teste-b.ini",
        &program("monitoramento_tarefas_pen", "MonitoramentoRecebimentoTarefasPEN.php", "--monitorar", "")
            .replace("{root}", &r_),
    );
    let _sd = supervisord(&root.join("etc/supervisor/supervisord.conf"));
    wait_path(&sock);
    let r = check_until(root, |r| state_of(r, "monitoramento_tarefas_pen") == "RUNNING");
    let f = r.finding("supervisor", "SUPERVISOR_DUPLICATE_SECTION");
    assert_eq!(f["params"]["section"], "program:monitoramento_tarefas_pen");
    assert!(f["params"]["first"].as_str().unwrap().ends_with("/srv/sei/config/mod-pen/teste-a.ini:1"), "{f}");
    assert!(f["params"]["again"].as_str().unwrap().ends_with("/srv/sei/config/mod-pen/teste-b.ini:1"), "{f}");
    assert_eq!(f["params"]["replaced"], "command");
    assert_eq!(f["severity"], "warn");
    // What supervisord runs: the later command, with the earlier file's stderr_logfile.
    let conf = r.evidence("supervisor")["pen_program_config"].as_array().unwrap().clone();
    let m = conf.iter().find(|p| p["name"] == "monitoramento_tarefas_pen").unwrap();
    assert!(m["script"].as_str().unwrap().ends_with("MonitoramentoRecebimentoTarefasPEN.php"), "{m}");
    assert_eq!(m["stderr_logfile"], format!("{r_}/log/envio.err"));
    let missing = findings(&r, "PEN_MONITOR_MISSING");
    assert_eq!(missing.len(), 1, "{missing:#?}");
    assert_eq!(missing[0]["params"]["script"], "MonitoramentoEnvioTarefasPEN.php");
}

#[test]
fn a_missing_directory_of_the_2x_sample_shows_supervisord_s_own_words() {
    let sample = program(
        "monitoramento_tarefas_pen",
        "MonitoramentoTarefasPEN.php",
        "--monitorar --segundo-plano",
        "stdout_logfile={root}/log/m.out\nstderr_logfile={root}/log/m.err",
    )
    .replace("directory={root}/srv/sei/web\n", "directory={root}/srv/sei-antigo/web\n")
        + &program(
            "processamento_tarefas_pen",
            "ProcessamentoTarefasPEN.php",
            "--worker=00",
            "stdout_logfile={root}/log/p.out",
        );
    let (tmp, sock) = node_with_sample("modpen2", &sample);
    let root = tmp.path();
    for s in ["MonitoramentoTarefasPEN.php", "ProcessamentoTarefasPEN.php"] {
        write(root, &format!("srv/sei/scripts/mod-pen/{s}"), "<?php\n");
    }
    let _sd = supervisord(&root.join("etc/supervisor/supervisord.conf"));
    wait_path(&sock);
    let r = check_until(root, |r| state_of(r, "monitoramento_tarefas_pen") == "FATAL");
    assert_eq!(r.evidence("supervisor")["era"], "2.0-3.0");
    let f = r.finding("supervisor", "SUPERVISOR_DIRECTORY_MISSING");
    assert_eq!(f["params"]["program"], "monitoramento_tarefas_pen");
    assert_eq!(f["params"]["directory"], format!("{}/srv/sei-antigo/web", root.display()));
    let f = r.finding("supervisor", "SUPERVISOR_PROGRAM_NOT_RUNNING");
    assert_eq!(f["params"]["exitstatus"], "127", "{f}");
    assert!(f["params"]["stderr"].as_str().unwrap().contains("child process was not spawned"), "{f}");
    let fatal = r.evidence("supervisor")["pen_programs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "monitoramento_tarefas_pen")
        .unwrap()
        .clone();
    assert!(fatal["stderr_tail"].to_string().contains("couldn't chdir"), "{fatal}");
    // The era's script exists and the program runs it: nothing is missing for 2.x.
    assert!(findings(&r, "SUPERVISOR_SCRIPT_MISSING").is_empty());
    assert!(findings(&r, "PEN_MONITOR_MISSING").is_empty());
}

#[test]
fn a_program_user_that_cannot_read_the_certificate() {
    let tmp = plain_root();
    let root = tmp.path();
    let sei = root.join("srv/sei");
    copy_sei_tree("modpen4", &sei);
    write(root, "etc/passwd", "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n");
    let cert = write(root, "srv/sei/config/mod-pen/certificado.pem", "-----BEGIN CERTIFICATE-----\n");
    std::fs::set_permissions(&cert, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let conf_file = sei.join("config/mod-pen/ConfiguracaoModPEN.php");
    let text = std::fs::read_to_string(&conf_file).unwrap();
    std::fs::write(&conf_file, text.replace("/opt/sei/config/mod-pen/certificado.pem", &cert.display().to_string()))
        .unwrap();
    let r_ = root.display().to_string();
    write(
        root,
        "etc/supervisord.conf",
        &format!(
            "[program:envio]\ncommand=/bin/sh {r_}/srv/sei/scripts/mod-pen/MonitoramentoEnvioTarefasPEN.php\nuser=www-data\n\
             [program:recebimento]\ncommand=/bin/sh {r_}/srv/sei/scripts/mod-pen/MonitoramentoRecebimentoTarefasPEN.php\nuser=root\n"
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let missing_sock = format!("unix://{}/missing.sock", dir.path().display());
    let r =
        run_check(&["--only", "supervisor", "--sei-dir", &sei_dir(root), "--supervisor", &missing_sock], Some(root));
    let f = findings(&r, "SUPERVISOR_USER_CANNOT_READ_CERT");
    assert_eq!(f.len(), 1, "{}", r.check("supervisor"));
    assert_eq!(f[0]["params"]["program"], "envio");
    assert_eq!(f[0]["params"]["user"], "www-data");
    assert_eq!(f[0]["params"]["owner_mode"], "root:root 0600");
    // No worker configured or running for this installation: said, with the era's script.
    assert!(findings(&r, "PEN_MONITOR_MISSING").iter().any(|f| f["params"]["script"] == "ProcessamentoTarefasPEN.php"));
}

// ------------------------------------------------------------------------------- bad input

#[test]
fn a_configuration_that_includes_itself_or_thousands_of_files_is_read_bounded() {
    let tmp = plain_root();
    let root = tmp.path();
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("unix://{}/missing.sock", dir.path().display());
    write(
        root,
        "etc/supervisord.conf",
        "[include]\nfiles = supervisord.conf conf.d/*.ini\n\n[program:pen]\ncommand=/bin/sh /opt/sei/scripts/mod-pen/ProcessamentoTarefasPEN.php\n",
    );
    for i in 0..3000 {
        write(root, &format!("etc/conf.d/p{i:05}.ini"), &format!("[program:p{i}]\ncommand=sleep {i}\n"));
    }
    // The first included file: 5000 PEN programs with a typo each, one section 2000 times.
    let flood: String = (0..2000)
        .map(|i| format!("[program:dup]\ncommand=/bin/sh /x/y{i}\n"))
        .chain((0..5000).map(|i| {
            format!("[program:w{i}]\ncommand=/bin/sh /opt/sei/scripts/mod-pen/ProcessamentoTarefasPEN.php\nedutorestart=true\n")
        }))
        .collect();
    write(root, "etc/conf.d/p00000.ini", &flood);
    let r = run_check(&["--only", "supervisor", "--supervisor", &missing], Some(root));
    let problems: Vec<String> = r.check("supervisor")["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "SUPERVISOR_CONFIG_INVALID")
        .map(|f| format!("{}: {}", f["params"]["file"].as_str().unwrap(), f["params"]["problem"].as_str().unwrap()))
        .collect();
    assert!(
        problems.iter().any(|p| p == "/etc/supervisord.conf: /etc/supervisord.conf includes itself (supervisord.conf)"),
        "{problems:#?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("/etc/supervisord.conf: include pattern conf.d/*.ini matches more than 256 files")),
        "{problems:#?}"
    );
    let files = r.evidence("supervisor")["config_files"].as_array().unwrap().len();
    assert!(files <= 257, "{files}");
    // Read once: the main file's program is not a duplicate of itself.
    let codes = r.codes("supervisor");
    let dups = findings(&r, "SUPERVISOR_DUPLICATE_SECTION");
    assert!(dups.iter().all(|f| f["params"]["section"] == "program:dup"), "{dups:#?}");
    // Bounded: at most 32 findings of one code, the rest counted.
    assert!(dups.len() <= 32 && !dups.is_empty());
    assert_eq!(codes.iter().filter(|c| *c == "SUPERVISOR_CONFIG_INVALID").count(), 32);
    assert!(r.evidence("supervisor")["findings_left_out"]["SUPERVISOR_CONFIG_INVALID"].as_u64().unwrap() > 1000);
    assert!(r.evidence("supervisor")["left_out_by_bounds"].as_u64().unwrap() > 0);
    assert!(r.elapsed < Duration::from_secs(20));
}

#[test]
fn a_binary_log_and_a_multi_gigabyte_stderr_log_are_read_from_their_end() {
    let tmp = plain_root();
    let root = tmp.path();
    let r_ = root.display().to_string();
    std::fs::create_dir_all(root.join("log")).unwrap();
    // A stderr log of 4 GiB (sparse), whose last line is the error: only its end is read.
    let huge = root.join("log/huge.err");
    {
        let f = std::fs::File::create(&huge).unwrap();
        f.set_len(4 * 1024 * 1024 * 1024).unwrap();
        let mut f = std::fs::OpenOptions::new().append(true).open(&huge).unwrap();
        f.write_all(b"\nPHP Fatal error:  the last line of a huge log\n").unwrap();
    }
    let sock = root.join("supervisor.sock");
    let mut conf = base_conf(root, &format!("[unix_http_server]\nfile={}\nchmod=0700\n", sock.display()));
    conf.push_str(&format!(
        "\n[program:binario]\ncommand=/bin/sh -c 'head -c 8192 /dev/urandom; exit 2' {r_}/opt/sei/scripts/mod-pen/MonitoramentoEnvioTarefasPEN.php\n\
         stdout_logfile={r_}/log/bin.out\nstderr_logfile={r_}/log/bin.err\nautostart=true\nstartsecs=1\nstartretries=0\n\
         \n[program:enorme]\ncommand=/bin/sh {r_}/opt/sei/scripts/mod-pen/ProcessamentoTarefasPEN.php\n\
         stderr_logfile={}\nautostart=false\n",
        huge.display()
    ));
    write(root, "etc/supervisord.conf", &conf);
    let _sd = supervisord(&root.join("etc/supervisord.conf"));
    wait_path(&sock);
    let args = ["--only", "supervisor", "--timeout", "2s"];
    let start = Instant::now();
    let r = loop {
        let r = run_check(&args, Some(root));
        if state_of(&r, "binario") == "FATAL" {
            break r;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{}", r.check("supervisor"));
        std::thread::sleep(Duration::from_millis(300));
    };
    let programs = r.evidence("supervisor")["pen_programs"].as_array().unwrap().clone();
    let bin = programs.iter().find(|p| p["name"] == "binario").unwrap();
    assert_eq!(bin["binary_log"], true, "{bin}");
    assert_eq!(bin["stdout_tail"], serde_json::json!([]), "{bin}");
    let huge_p = programs.iter().find(|p| p["name"] == "enorme").unwrap();
    assert_eq!(huge_p["state"], "STOPPED");
    assert_eq!(huge_p["stderr_tail"], serde_json::json!(["PHP Fatal error:  the last line of a huge log"]), "{huge_p}");
    assert_eq!(huge_p["stderr_log"], huge.display().to_string());
    let not_running: Vec<&serde_json::Value> = findings(&r, "SUPERVISOR_PROGRAM_NOT_RUNNING");
    let bin_f = not_running.iter().find(|f| f["params"]["program"] == "binario").unwrap();
    assert_eq!(bin_f["params"]["stdout"], "-");
    assert_eq!(bin_f["params"]["exitstatus"], "2", "{bin_f}");
    assert!(r.elapsed < Duration::from_secs(20));
}

#[test]
fn secrets_in_a_failed_program_s_logs_never_leave() {
    let tmp = plain_root();
    let root = tmp.path();
    let r_ = root.display().to_string();
    let port = free_port();
    let secret = "Sup3rv1sor-Pass-42";
    let mut conf =
        base_conf(root, &format!("[inet_http_server]\nport=127.0.0.1:{port}\nusername=pen\npassword={secret}\n"));
    conf.push_str(&format!(
        "\n[program:vaza]\ncommand=/bin/sh -c 'echo \"conectando com senha {secret}\" >&2; echo \"pass={secret}\"; exit 3' {r_}/opt/sei/scripts/mod-pen/ProcessamentoTarefasPEN.php\n\
         autostart=true\nstartsecs=1\nstartretries=0\n"
    ));
    write(root, "etc/supervisord.conf", &conf);
    let _sd = supervisord(&root.join("etc/supervisord.conf"));
    wait_tcp(port);
    let start = Instant::now();
    let r = loop {
        let r = run_check(&["--only", "supervisor", "--timeout", "2s"], Some(root));
        if state_of(&r, "vaza") == "FATAL" {
            break r;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{}", r.check("supervisor"));
        std::thread::sleep(Duration::from_millis(300));
    };
    let f = r.finding("supervisor", "SUPERVISOR_PROGRAM_NOT_RUNNING");
    assert!(f["params"]["stderr"].as_str().unwrap().contains("conectando com senha"), "{f}");
    assert_eq!(f["params"]["exitstatus"], "3");
    let all = r.json().to_string();
    assert!(!all.contains(secret), "{all}");
}

// ------------------------------------------------------------------ the transport and its words

/// The inet port named by a host name reaches supervisord the way every target is reached: the
/// name resolved through `--resolve` (not the system's resolver, which does not know it).
#[test]
fn an_inet_port_named_by_host_is_resolved_like_every_target() {
    let tmp = plain_root();
    let root = tmp.path();
    let port = free_port();
    let conf = base_conf(root, &format!("[inet_http_server]\nport=127.0.0.1:{port}\nusername=pen\npassword=Xyz-123\n"));
    write(root, "etc/supervisord.conf", &conf);
    let _sd = supervisord(&root.join("etc/supervisord.conf"));
    wait_tcp(port);
    let name = "supervisord.pen.invalid";
    let url = format!("http://{name}:{port}");
    let pin = format!("{name}:{port}:127.0.0.1");
    let r =
        run_check(&["--only", "supervisor", "--supervisor", &url, "--resolve", &pin, "--timeout", "2s"], Some(root));
    assert_eq!(r.codes("supervisor"), vec!["SUPERVISOR_NO_PEN_PROGRAMS"], "{}", r.check("supervisor"));
    assert_eq!(r.evidence("supervisor")["authenticated"], true);

    // Without the pin the name is unknown: down, and the error names the host.
    let r = run_check(&["--only", "supervisor", "--supervisor", &url, "--timeout", "2s"], Some(root));
    assert_eq!(r.codes("supervisor"), vec!["SUPERVISOR_DOWN"]);
    let err = r.finding("supervisor", "SUPERVISOR_DOWN")["params"]["error"].as_str().unwrap().to_string();
    assert!(err.starts_with(name), "{err}");
}

/// A peer on supervisord's socket whose XML-RPC answers are malformed: down, said in
/// Portuguese in a Portuguese report.
#[test]
fn malformed_xml_rpc_answers_are_said_in_portuguese() {
    let dir = tempfile::tempdir().unwrap();
    let empty = plain_root();
    let cases = [
        (
            "<methodResponse><params><param><value><int>x1</int></value></param></params></methodResponse>",
            "valor XML-RPC inválido: int \"x1\"",
        ),
        (
            "<methodResponse><params><param><value><array><data></array></value></param></params></methodResponse>",
            "XML inválido: </array> fecha <data>",
        ),
        (
            "<methodResponse><params><param><value><string>a</string></value></param></params></methodResponse>",
            "getAllProcessInfo não retornou uma lista",
        ),
    ];
    for (i, (body, said)) in cases.iter().enumerate() {
        let sock = dir.path().join(format!("bad{i}.sock"));
        answer_on_socket(&sock, body);
        let run = support::pen_doctor(support::Host)
            .args(["check", "--format", "json", "--lang", "pt", "--only", "supervisor", "--timeout", "2s"])
            .arg("--supervisor")
            .arg(format!("unix://{}", sock.display()))
            .env("PEN_DOCTOR_ROOT", empty.path())
            .run();
        assert_eq!(run.codes("supervisor"), vec!["SUPERVISOR_DOWN"], "{}", run.check("supervisor"));
        let message = run.finding("supervisor", "SUPERVISOR_DOWN")["message"].as_str().unwrap().to_string();
        assert!(message.contains(said), "{message}");
    }
}

/// Every way an XML-RPC answer can be wrong has its Portuguese words in checks/phrases.toml.
#[test]
fn every_xml_rpc_protocol_error_is_said_in_portuguese() {
    use pen_doctor::kb::Lang;
    use pen_doctor::proto::xmlrpc::{Protocol, Xml};
    use pen_doctor::report::phrases::say;
    let xml = [
        Xml::BadEntity,
        Xml::UnknownEntity("nbsp".into()),
        Xml::TextOutside,
        Xml::Unbalanced,
        Xml::UnterminatedDeclaration,
        Xml::UnterminatedComment,
        Xml::UnterminatedCdata,
        Xml::UnterminatedTag,
        Xml::Mismatched { close: "b".into(), open: "a".into() },
        Xml::BadTagName,
        Xml::TooDeep(64),
        Xml::EndsInside,
        Xml::NotOneRoot,
    ];
    let values: Vec<String> = xml
        .into_iter()
        .map(Protocol::Xml)
        .chain([
            Protocol::TooLong(4 << 20),
            Protocol::CutShort,
            Protocol::NotUtf8,
            Protocol::NotResponse("html".into()),
            Protocol::NoValue,
            Protocol::Int("\"x\"".into()),
            Protocol::Boolean("\"2\"".into()),
            Protocol::Double("\"x\"".into()),
            Protocol::ArrayWithoutData,
            Protocol::MemberWithoutName,
            Protocol::MemberWithoutValue,
            Protocol::UnknownType("blob".into()),
            Protocol::NotAList("getAllProcessInfo".into()),
        ])
        .map(|p| p.to_string())
        .collect();
    for v in &values {
        let said = say(v, Lang::Pt);
        assert_ne!(&said, v, "not in checks/phrases.toml [[message]]");
        for english in
            ["invalid", "unterminated", " not ", "without", "closes", "response", "the ", "nested", "unknown"]
        {
            assert!(!said.contains(english), "{v:?} → {said:?}");
        }
    }
}
