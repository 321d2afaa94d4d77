//! `process:pen` against real processes the test starts and a fixture `/proc`; `cron:pen`
//! against crontab trees written like Debian and RHEL installations.

#[path = "support/node.rs"]
mod node;

use node::*;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/node").join(name)
}

/// A long-lived process whose command line names a PEN script, as `php SCRIPT` would.
fn worker(script: &str) -> Proc {
    Proc::spawn(
        Command::new("sleep")
            .arg0(format!("/opt/sei/scripts/mod-pen/{script}"))
            .arg("300")
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
}

#[test]
fn running_4x_workers_are_found_with_pid_user_and_uptime() {
    let tmp = plain_root();
    for s in
        ["MonitoramentoEnvioTarefasPEN.php", "MonitoramentoRecebimentoTarefasPEN.php", "ProcessamentoTarefasPEN.php"]
    {
        write(tmp.path(), &format!("opt/sei/scripts/mod-pen/{s}"), "<?php\n");
    }
    let a = worker("MonitoramentoEnvioTarefasPEN.php");
    let b = worker("MonitoramentoRecebimentoTarefasPEN.php");
    let c = worker("ProcessamentoTarefasPEN.php");
    let d = worker("ProcessamentoTarefasPEN.php");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let r = run_check(&["--only", "process"], Some(tmp.path()));
    // Other tests' processes may be judged too (this is the host's /proc): none of ours is.
    assert_ne!(r.status("process:pen"), "fail", "{}", r.check("process:pen"));
    for f in r.check("process:pen")["findings"].as_array().unwrap() {
        for p in [&a, &b, &c, &d] {
            assert_ne!(f["params"]["pid"], p.pid().to_string(), "{f}");
        }
    }
    let workers = r.evidence("process:pen")["workers"].as_array().unwrap().clone();
    for p in [&a, &b, &c, &d] {
        let w = workers.iter().find(|w| w["pid"] == p.pid()).unwrap_or_else(|| panic!("pid {} not found", p.pid()));
        assert_eq!(w["user"], "root");
        assert!(w["uptime_secs"].as_u64().is_some(), "{w}");
        assert!(w["command"].as_str().unwrap().contains("/opt/sei/scripts/mod-pen/"), "{w}");
    }
}

#[test]
fn missing_workers_are_named() {
    let r = run_check(&["--only", "process:pen"], Some(&fixture("proc-partial")));
    assert_eq!(r.status("process:pen"), "fail");
    let f = r.finding("process:pen", "PEN_WORKERS_NOT_RUNNING");
    let missing = f["params"]["missing"].as_str().unwrap();
    assert!(missing.contains("MonitoramentoRecebimentoTarefasPEN.php"), "{f}");
    assert!(missing.contains("ProcessamentoTarefasPEN.php"), "{f}");
    assert!(!missing.contains("MonitoramentoEnvioTarefasPEN.php"), "{f}");
    let w = &r.evidence("process:pen")["workers"][0];
    assert_eq!(w["pid"], 4242);
    assert_eq!(w["user"], "apache");
    assert_eq!(w["script"], "MonitoramentoEnvioTarefasPEN.php");
}

#[test]
fn contingency_cron_scheduled_obsolete_or_missing() {
    let r = run_check(&["--only", "cron"], Some(&fixture("cron-debian")));
    assert_eq!(r.status("cron:pen"), "ok", "{}", r.check("cron:pen"));
    assert_eq!(r.evidence("cron:pen")["entry"]["file"], "/etc/cron.d/sei-mod-pen");
    assert_eq!(r.evidence("cron:pen")["entry"]["line"], 3);

    let r = run_check(&["--only", "cron:pen"], Some(&fixture("cron-rhel-old")));
    assert_eq!(r.finding("cron:pen", "CRON_CONTINGENCY_OBSOLETE")["params"]["file"], "/var/spool/cron/root");
    // The scheduler is there, with the traps of a real RHEL crontab: a php and a php.ini this
    // host does not have, and `2>&1 >>` (a warning only).
    assert_eq!(r.evidence("cron:pen")["scheduler"]["line"], 1);
    let problems: Vec<(String, String)> = r.check("cron:pen")["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "CRON_ENTRY_BROKEN")
        .map(|f| (f["severity"].as_str().unwrap().to_string(), f["params"]["problem"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems.contains(&("fail".into(), "PHP binary not found: /usr/bin/php".into())), "{problems:?}");
    assert!(
        problems.contains(&("fail".into(), "php.ini given with -c not found: /etc/php.ini".into())),
        "{problems:?}"
    );
    assert!(problems.iter().any(|(s, p)| s == "warn" && p.starts_with("'2>&1 >> file'")), "{problems:?}");
    assert!(!r.codes("cron:pen").contains(&"SEI_SCHEDULER_CRON_MISSING".to_string()));
    assert_eq!(r.status("cron:pen"), "fail");

    // Commented out (even with leading whitespace) does not count; the scheduler line of the
    // user crontab does (with a PHP this root does not have).
    let r = run_check(&["--only", "cron"], Some(&fixture("cron-commented")));
    let codes = r.codes("cron:pen");
    assert!(codes.contains(&"CRON_CONTINGENCY_MISSING".to_string()), "{codes:?}");
    assert!(!codes.contains(&"SEI_SCHEDULER_CRON_MISSING".to_string()), "{codes:?}");
    assert_eq!(r.evidence("cron:pen")["scheduler"]["file"], "/var/spool/cron/crontabs/www-data");
    assert_eq!(r.evidence("cron:pen")["scheduler"]["line"], 3);

    // A healthy Debian node's cron without the scheduler: the contingency job is found, the
    // missing scheduler is information off the queue node, and the run does not fail.
    let r = run_check(&["--only", "cron"], Some(&fixture("cron-debian")));
    assert_eq!(r.codes("cron:pen"), vec!["SEI_SCHEDULER_CRON_MISSING"]);
    assert_eq!(r.code, 0);
}
