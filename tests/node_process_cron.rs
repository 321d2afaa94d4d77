//! `process:pen` against real processes the test starts and a fixture `/proc`; `cron:pen`
//! against crontab trees written like Debian and RHEL installations.

mod support;

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;
use support::node::*;
use support::Proc;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/node").join(name)
}

/// A long-lived process whose command line names a PEN script, as `php SCRIPT` would.
fn worker(script: &str) -> Proc {
    let mut cmd = Command::new("sleep");
    cmd.arg0(format!("/opt/sei/scripts/mod-pen/{script}")).arg("300");
    Proc::spawn_quiet(script, cmd)
}

#[test]
fn running_4x_workers_are_found_with_pid_user_and_uptime() {
    let tmp = plain_root();
    let a = worker("MonitoramentoEnvioTarefasPEN.php");
    let b = worker("MonitoramentoRecebimentoTarefasPEN.php");
    let c = worker("ProcessamentoTarefasPEN.php");
    let d = worker("ProcessamentoTarefasPEN.php");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let r = run_check(&["--only", "process"], Some(tmp.path()));
    assert_eq!(r.status("process:pen"), "ok", "{}", r.check("process:pen"));
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
    assert_eq!(r.codes("cron:pen"), vec!["CRON_CONTINGENCY_OBSOLETE"]);
    assert_eq!(r.finding("cron:pen", "CRON_CONTINGENCY_OBSOLETE")["params"]["file"], "/var/spool/cron/root");
    assert_eq!(r.status("cron:pen"), "warn");

    // Commented out (even with leading whitespace) does not count.
    let r = run_check(&["--only", "cron"], Some(&fixture("cron-commented")));
    assert_eq!(r.codes("cron:pen"), vec!["CRON_CONTINGENCY_MISSING"]);
    assert_eq!(r.status("cron:pen"), "warn");
    assert_eq!(r.code, Some(0), "a warning alone does not fail the run");
}
