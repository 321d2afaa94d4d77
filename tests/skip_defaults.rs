//! A check skipped by the user (`--skip`) is reported as skipped by the user, and each check
//! that depends on it runs with the default it can — the name resolved through the system's
//! configuration and `--resolve` for `tcp`, the connection opened for `tls`, the built-in
//! addresses without SEI's configuration — or is skipped naming the user's skip when none
//! exists. A skipped check that cannot gather what its dependents need (a connection refused)
//! is reported as it ended, not hidden behind the skip. Against a real nginx serving TLS in a network namespace of its own.

mod support;

use serde_json::Value;
use support::*;

/// nginx serving `tramita.test` on 127.0.0.2:443 in a namespace, with a chain of the suite's own
/// root; the name is in no hosts file and no DNS: only `--resolve` gives its address.
struct Lab(Running);

impl Lab {
    fn new() -> Lab {
        let lab = Scenario::new()
            .host("tramita.test")
            .site(Site::tramita().ok_elsewhere())
            .target("tramita", "tramita.test", TRAMITA_PATH)
            .in_netns()
            .start();
        Lab(lab)
    }

    /// `pen-doctor check` of the tramita target with `extra` flags, in `format`.
    fn run(&self, format: &str, extra: &[&str]) -> Run {
        let args = self.0.args().format(format).flag("--color", "never").only("dns,tcp,tls,http").timeout("2s");
        self.0.run(&args.args(extra))
    }
}

fn status(report: &Value, id: &str) -> (String, Option<String>) {
    let c = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no {id}: {report:#}"));
    (c["status"].as_str().unwrap().to_string(), c["skipped_because"].as_str().map(str::to_string))
}

fn skipped_by_user() -> (String, Option<String>) {
    ("skip".into(), Some("--skip".into()))
}

fn ok() -> (String, Option<String>) {
    ("ok".into(), None)
}

#[test]
fn the_lab_passes_without_a_skip() {
    let report = self_check(&Lab::new());
    for id in ["dns:tramita", "tcp:tramita", "tls:tramita", "http:tramita"] {
        assert_eq!(status(&report, id), ok(), "{id}: {report:#}");
    }
}

fn self_check(lab: &Lab) -> Value {
    lab.run("json", &[]).json()
}

#[test]
fn a_skipped_dns_check_still_resolves_for_the_connection_through_resolve() {
    let lab = Lab::new();
    let report = lab.run("json", &["--skip", "dns"]).json();
    assert_eq!(status(&report, "dns:tramita"), skipped_by_user());
    for id in ["tcp:tramita", "tls:tramita", "http:tramita"] {
        assert_eq!(status(&report, id), ok(), "{id}: {report:#}");
    }
    let dns = report["checks"].as_array().unwrap().iter().find(|c| c["id"] == "dns:tramita").unwrap();
    assert!(dns["findings"].as_array().unwrap().is_empty(), "not judged: {dns:#}");
    assert_eq!(dns["evidence"]["gathered_for_dependents"], true, "{dns:#}");
}

#[test]
fn a_skipped_tcp_check_still_lets_tls_connect() {
    let lab = Lab::new();
    let report = lab.run("json", &["--skip", "tcp"]).json();
    assert_eq!(status(&report, "tcp:tramita"), skipped_by_user());
    assert_eq!(status(&report, "tls:tramita"), ok(), "{report:#}");
    assert_eq!(status(&report, "http:tramita"), ok(), "{report:#}");
}

#[test]
fn a_skipped_connection_that_cannot_be_opened_is_reported_not_hidden_behind_the_skip() {
    let lab = Lab::new();
    // Nothing listens on 127.0.0.2:444: tls and http, which the user did ask for, cannot run.
    let args = CheckArgs::new()
        .target("tramita")
        .endpoint("tramita", &format!("https://tramita.test:444{TRAMITA_PATH}"))
        .resolve("tramita.test", 444, "127.0.0.2")
        .ca_bundle(lab.0.store())
        .only("dns,tcp,tls,http")
        .timeout("2s");
    let run = lab.0.run(&args.clone().json().args(&["--skip", "tcp"]));
    let report = run.json();
    let tcp = report["checks"].as_array().unwrap().iter().find(|c| c["id"] == "tcp:tramita").unwrap();
    assert_eq!(tcp["status"], "fail", "the failure that stops tls is said: {tcp:#}");
    assert_eq!(tcp["findings"][0]["code"], "TCP_REFUSED", "{tcp:#}");
    assert_eq!(tcp["evidence"]["gathered_for_dependents"], false, "{tcp:#}");
    assert_eq!(status(&report, "tls:tramita"), ("skip".into(), Some("tcp:tramita (fail)".into())));
    assert_eq!(run.code, Some(1), "not a passing run: {run}");
    // The same skip with the server up stays a quiet skip (a_skipped_tcp_check_still_lets_tls_connect).
    let human = lab.0.run(&args.flag("--color", "never").args(&["--skip", "tcp"])).stdout;
    assert!(human.contains("127.0.0.2:444"), "the address that refused is named: {human}");
}

#[test]
fn a_skip_without_a_default_is_named_as_the_reason_in_every_format() {
    let lab = Lab::new();
    // http needs the TLS session tls judges: without it, it does not run.
    let report = lab.run("json", &["--skip", "tls"]).json();
    assert_eq!(status(&report, "tls:tramita"), skipped_by_user());
    assert_eq!(status(&report, "http:tramita"), ("skip".into(), Some("tls:tramita (--skip)".into())));
    assert_eq!(status(&report, "tcp:tramita"), ok());

    let human = lab.run("human", &["--skip", "tls"]).stdout;
    assert!(human.contains("pulada a pedido do usuário (--skip)"), "{human}");
    assert!(human.contains("tls:tramita pulada por --skip"), "the reason names the user's skip: {human}");

    let nagios = lab.run("nagios", &["--skip", "tls"]);
    let head = nagios.stdout.lines().next().unwrap_or_default().to_string();
    assert!(head.contains("sem verificar (--skip) tls:tramita"), "{head}");
    assert!(head.contains("por consequência, http:tramita"), "not a bare OK for the target: {head}");
}

#[test]
fn a_skipped_sei_configuration_is_not_read_and_the_built_in_addresses_are_said() {
    let ns = Netns::new();
    let dir = temp_dir("pdt-skip-conf-");
    let sei = dir.path().join("sei");
    support::node::copy_sei_tree("modpen4", &sei);
    let base =
        CheckArgs::new().only("config,dns").target("tramita").timeout("1s").flag("--sei-dir", sei.to_str().unwrap());
    let run = |skip: &[&str]| {
        let mut cmd = pen_doctor(&ns);
        cmd.args(base.clone().json().args(skip).argv());
        cmd.run().json()
    };
    // Read: its addresses are used.
    let read = run(&[]);
    assert_eq!(read["run"]["discovered"]["sei"], "found", "{:#}", read["run"]);
    assert_eq!(read["run"]["discovered"]["urls"], "sei-config");
    // Skipped: not read at all, the built-in addresses used, and the report says so.
    let skipped = run(&["--skip", "config"]);
    assert_eq!(status(&skipped, "config:sei"), skipped_by_user());
    assert_eq!(skipped["run"]["discovered"]["sei"], "skipped", "{:#}", skipped["run"]);
    assert_eq!(skipped["run"]["discovered"]["urls"], "built-in");
    let mut cmd = pen_doctor(&ns);
    cmd.args(base.flag("--color", "never").flag("--skip", "config:sei").argv());
    let human = cmd.run().stdout;
    let line = human.lines().find(|l| l.starts_with("Configuração:")).unwrap_or_default();
    assert!(line.contains("não lida (pulada com --skip config)"), "{human}");
    assert!(line.contains("endereços oficiais de"), "{human}");
}
