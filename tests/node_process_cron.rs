//! `process:pen` against real processes the test starts and a fixture `/proc`; `cron:pen`
//! against crontab trees written like Debian and RHEL installations.

mod support;

use std::os::unix::process::CommandExt;
use std::process::Command;
use support::node::*;
use support::Proc;

/// A long-lived process whose command line names a PEN script, as `php SCRIPT` would.
fn worker(script: &str) -> Proc {
    let mut cmd = Command::new("sleep");
    cmd.arg0(format!("/opt/sei/scripts/mod-pen/{script}")).arg("300");
    Proc::spawn_quiet(script, cmd)
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
    let r = run_check(&["--only", "process:pen"], Some(&fixture("node/proc-partial")));
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
    let r = run_check(&["--only", "cron"], Some(&fixture("node/cron-debian")));
    assert_eq!(r.status("cron:pen"), "ok", "{}", r.check("cron:pen"));
    assert_eq!(r.evidence("cron:pen")["entry"]["file"], "/etc/cron.d/sei-mod-pen");
    assert_eq!(r.evidence("cron:pen")["entry"]["line"], 3);

    let r = run_check(&["--only", "cron:pen"], Some(&fixture("node/cron-rhel-old")));
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
    let r = run_check(&["--only", "cron"], Some(&fixture("node/cron-commented")));
    let codes = r.codes("cron:pen");
    assert!(codes.contains(&"CRON_CONTINGENCY_MISSING".to_string()), "{codes:?}");
    assert!(!codes.contains(&"SEI_SCHEDULER_CRON_MISSING".to_string()), "{codes:?}");
    assert_eq!(r.evidence("cron:pen")["scheduler"]["file"], "/var/spool/cron/crontabs/www-data");
    assert_eq!(r.evidence("cron:pen")["scheduler"]["line"], 3);

    // A healthy Debian node's cron without the scheduler: the contingency job is found, the
    // missing scheduler is information off the queue node, and the run does not fail.
    let r = run_check(&["--only", "cron"], Some(&fixture("node/cron-debian")));
    assert_eq!(r.codes("cron:pen"), vec!["SEI_SCHEDULER_CRON_MISSING"]);
    assert_eq!(r.code, Some(0));
}

/// A process whose command line is `sh -c 'sleep 300; :' SCRIPT ARGS…`: the script and its
/// `--worker=NN` in its arguments, as `php SCRIPT --worker=NN` has them.
fn shell_worker(script: &std::path::Path, args: &[&str]) -> Proc {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "sleep 300; :"]).arg(script).args(args);
    Proc::spawn_quiet("shell worker", cmd)
}

#[test]
fn stale_and_duplicated_pen_processes_with_the_monitors_age() {
    let tmp = plain_root();
    let root = tmp.path();
    let sei = root.join("opt/sei");
    copy_sei_tree("modpen4", &sei);
    let mod_pen = sei.join("scripts/mod-pen");
    // A 1.x worker left on a 4.0.1 node (its file still there), and the single monitor 3.7.0
    // removed (its file gone): both still running.
    let old = write(root, "opt/sei/web/modulos/pen/rn/ProcessarPendenciasRN.php", "<?php\n");
    let other_era = shell_worker(&old, &[]);
    let gone = shell_worker(&mod_pen.join("MonitoramentoTarefasPEN.php"), &["--monitorar"]);
    // Two workers with the same number, and the era's monitors.
    let w1 = shell_worker(&mod_pen.join("ProcessamentoTarefasPEN.php"), &["--worker=03"]);
    let w2 = shell_worker(&mod_pen.join("ProcessamentoTarefasPEN.php"), &["--worker=03"]);
    let w3 = shell_worker(&mod_pen.join("ProcessamentoTarefasPEN.php"), &["--worker=04"]);
    let envio = shell_worker(&mod_pen.join("MonitoramentoEnvioTarefasPEN.php"), &["--worker=00", "--monitorar"]);
    let receb = shell_worker(&mod_pen.join("MonitoramentoRecebimentoTarefasPEN.php"), &["--worker=00", "--monitorar"]);
    std::thread::sleep(std::time::Duration::from_millis(300));

    let sei_dir = sei.display().to_string();
    let r = run_check(&["--only", "process:pen", "--sei-dir", &sei_dir], Some(root));
    let check = r.check("process:pen");
    let of = |code: &str| -> Vec<serde_json::Value> {
        check["findings"].as_array().unwrap().iter().filter(|f| f["code"] == code).cloned().collect()
    };
    let stale = of("PEN_STALE_PROCESS");
    let reason = |pid: u32| {
        stale
            .iter()
            .find(|f| f["params"]["pid"].as_str() == Some(pid.to_string().as_str()))
            .map(|f| f["params"]["reason"].as_str().unwrap().to_string())
    };
    assert_eq!(reason(other_era.pid()).as_deref(), Some("other-era"), "{stale:#?}");
    assert_eq!(reason(gone.pid()).as_deref(), Some("script-gone"), "{stale:#?}");
    for p in [&w1, &w2, &w3, &envio, &receb] {
        assert_eq!(reason(p.pid()), None, "{stale:#?}");
    }
    assert!(stale.iter().all(|f| f["severity"] == "warn"));
    let dup = of("PEN_WORKERS_DUPLICATED");
    let ours = dup
        .iter()
        .find(|f| f["params"]["pids"] == format!("{}, {}", w1.pid(), w2.pid()))
        .unwrap_or_else(|| panic!("{dup:#?}"));
    assert_eq!(ours["params"]["script"], "ProcessamentoTarefasPEN.php");
    assert_eq!(ours["params"]["worker"], "03");
    assert!(!dup.iter().any(|f| f["params"]["pids"].as_str().unwrap().contains(&w3.pid().to_string())), "{dup:#?}");
    // The monitors of the era, with their age.
    let ages = r.evidence("process:pen")["monitor_ages"].as_array().unwrap().clone();
    for p in [&envio, &receb] {
        let m = ages.iter().find(|m| m["pid"] == p.pid()).unwrap_or_else(|| panic!("{ages:#?}"));
        assert!(m["age_secs"].as_u64().is_some(), "{m}");
        assert_eq!(m["worker"], "00");
    }
    assert_eq!(r.status("process:pen"), "warn", "{check}");
}

/// A crontab tree under a fresh root: `files` are (path, text).
fn cron_root(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = plain_root();
    for (path, text) in files {
        write(tmp.path(), path, text);
    }
    tmp
}

#[test]
fn the_scheduler_and_the_traps_of_real_cron_lines() {
    // A user crontab (crontab -e) written as if it were /etc/crontab, and a system one that
    // repeats the user inside the command.
    let tmp = cron_root(&[
        (
            "var/spool/cron/crontabs/root",
            "*/2 * * * * root /bin/true /opt/sei/scripts/AgendamentoTarefaSEI.php\n",
        ),
        (
            "etc/cron.d/sei",
            "*/10 * * * * root . /crond_env.sh; root /bin/true /opt/sei/bin/mod-pen/verificar-reboot-fila.sh >> /var/log/x.log 2>&1\n\
             */2 * * * * apache /bin/true /opt/sei/scripts/AgendamentoTarefaSEI.php\n",
        ),
    ]);
    let r = run_check(&["--only", "cron"], Some(tmp.path()));
    let problems: Vec<(String, String, String)> = r.check("cron:pen")["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "CRON_ENTRY_BROKEN")
        .map(|f| {
            (
                f["params"]["file"].as_str().unwrap().to_string(),
                f["params"]["line"].as_str().unwrap().to_string(),
                f["params"]["problem"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        problems
            .iter()
            .any(|(f, l, p)| f == "/var/spool/cron/crontabs/root" && l == "1" && p.contains("user field 'root'")),
        "{problems:#?}"
    );
    assert!(
        problems.iter().any(|(f, _, p)| f == "/etc/cron.d/sei" && p.contains("user name 'root' inside the command")),
        "{problems:#?}"
    );
    // The scheduler twice on one node: the same tasks run twice.
    assert!(
        problems.iter().any(|(f, l, p)| f == "/var/spool/cron/crontabs/root"
            && l == "1"
            && p == "AgendamentoTarefaSEI.php scheduled again (first at /etc/cron.d/sei:2)"),
        "{problems:#?}"
    );
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert_eq!(r.status("cron:pen"), "fail");
    // The scheduler is scheduled (broken, but there): the fleet sees it.
    assert_eq!(r.evidence("cron:pen")["scheduler"]["file"], "/etc/cron.d/sei");
}

#[test]
fn no_scheduler_on_the_queue_node_fails() {
    // supervisord here runs the module's workers: this is the node that needs the scheduler.
    let tmp = cron_root(&[
        ("etc/crontab", "SHELL=/bin/sh\n17 * * * * root cd / && run-parts --report /etc/cron.hourly\n"),
        (
            "etc/supervisord.conf",
            "[program:pen]\ncommand=/usr/bin/php /opt/sei/scripts/mod-pen/ProcessamentoTarefasPEN.php --worker=00\n",
        ),
    ]);
    let r = run_check(&["--only", "cron"], Some(tmp.path()));
    let f = r.finding("cron:pen", "SEI_SCHEDULER_CRON_MISSING");
    assert_eq!(f["severity"], "fail");
    assert_eq!(r.evidence("cron:pen")["queue_node"], true);
    assert_eq!(r.evidence("cron:pen")["scheduler"], serde_json::Value::Null);
}

#[test]
fn the_contingency_script_calls_a_python_its_path_does_not_have() {
    let script = "#!/bin/bash\nPATH=/usr/bin:/sbin:/bin:/usr/sbin\n\
                  python /opt/sei/bin/mod-pen/verificar-pendencias-represadas.py || true\nexit 0\n";
    let tmp = cron_root(&[
        ("etc/cron.d/sei", "*/10 * * * * root /opt/sei/bin/mod-pen/verificar-reboot-fila.sh\n"),
        ("opt/sei/bin/mod-pen/verificar-reboot-fila.sh", script),
    ]);
    let r = run_check(&["--only", "cron"], Some(tmp.path()));
    let f = r.finding("cron:pen", "REBOOT_FILA_PYTHON_MISSING");
    assert_eq!(f["params"]["script"], "/opt/sei/bin/mod-pen/verificar-reboot-fila.sh");
    assert_eq!(f["params"]["path"], "/usr/bin:/sbin:/bin:/usr/sbin");
    assert_eq!(f["severity"], "warn");

    // With a python where the script looks (not where pen-doctor's own PATH would): no finding.
    write(tmp.path(), "sbin/python", "");
    let r = run_check(&["--only", "cron"], Some(tmp.path()));
    assert!(!r.codes("cron:pen").contains(&"REBOOT_FILA_PYTHON_MISSING".to_string()));
}

#[test]
fn huge_crontabs_are_bounded_and_named() {
    // 100 000 lines (about 3 MB): refused by the reader's cap, the file named.
    let big: String = (0..100_000).map(|i| format!("* * * * * root /bin/true job-{i:06}\n")).collect();
    // 40 000 broken lines under the cap: five reported, the rest counted, no flood.
    let broken: String = (0..40_000).map(|_| "* * * * * root mod-pen\n").collect();
    let tmp = cron_root(&[("etc/cron.d/enorme", &big), ("var/spool/cron/root", &broken)]);
    let r = run_check(&["--only", "cron"], Some(tmp.path()));
    let f = r.finding("cron:pen", "HOST_FILE_UNREADABLE");
    assert_eq!(f["params"]["path"], "/etc/cron.d/enorme");
    assert!(f["params"]["error"].as_str().unwrap().contains("too large"), "{f}");
    let broken_found = r.codes("cron:pen").iter().filter(|c| *c == "CRON_ENTRY_BROKEN").count();
    assert_eq!(broken_found, 5);
    assert_eq!(
        r.evidence("cron:pen")["broken_entries_left_out"],
        serde_json::json!([["/var/spool/cron/root", 39_995]])
    );
    assert!(r.elapsed < std::time::Duration::from_secs(20));
}
