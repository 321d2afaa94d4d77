//! The machine outputs (junit, nagios, prometheus), `--output`, the fleet commands (`merge`,
//! `diff`) and the generated completions and man page, through the real binary against real
//! loopback sockets: a listener the test opens (reachable) and a port nothing listens on (refused).

mod support;

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use support::{free_port, pen_doctor, CheckArgs, Host, Run, RunExt};

const BIN: &str = env!("CARGO_BIN_EXE_pen-doctor");

/// The binary with `args`, in the harness's clean environment.
fn run(args: &[&str]) -> Run {
    pen_doctor(Host).args(args).run()
}

/// Another tool's output bytes (or a run's text) as text.
fn text(b: impl AsRef<[u8]>) -> String {
    String::from_utf8_lossy(b.as_ref()).into_owned()
}

/// `tcp:tramita` refused; `tcp:pendencias` skipped by the user.
fn failing_args(port: u16) -> Vec<String> {
    let url = format!("https://127.0.0.1:{port}/");
    CheckArgs::new()
        .only("tcp")
        .flag("--skip", "tcp:pendencias")
        .target("tramita,pendencias")
        .endpoint("tramita", &url)
        .endpoint("pendencias", &url)
        .timeout("2s")
        .flag("--lang", "en")
        .argv()
        .to_vec()
}

/// `check --only tcp` of Tramita at `https://127.0.0.1:PORT/`, in English.
fn tcp_args(port: u16) -> Vec<String> {
    CheckArgs::new()
        .only("tcp")
        .target("tramita")
        .endpoint("tramita", &format!("https://127.0.0.1:{port}/"))
        .flag("--lang", "en")
        .argv()
        .to_vec()
}

/// Every check passes: `tcp:tramita` reaches a listener the test holds open.
fn healthy_args(listener: &TcpListener) -> Vec<String> {
    tcp_args(listener.local_addr().expect("addr").port())
}

fn with(mut args: Vec<String>, more: &[&str]) -> Vec<String> {
    args.extend(more.iter().map(|s| s.to_string()));
    args
}

fn run_owned(args: &[String]) -> Run {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&refs)
}

fn has(tool: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().map(|o| o.status.success()).unwrap_or(false)
}

#[test]
fn prometheus_output_passes_promtool() {
    let out = run_owned(&with(failing_args(free_port(Host)), &["--format", "prometheus"]));
    assert_eq!(out.code, Some(1));
    let body = text(&out.stdout);
    assert!(body.contains("# TYPE pen_doctor_check_status gauge"), "{body}");
    // One series per check, its value the status: no label that changes with the status.
    assert!(body.contains("pen_doctor_check_status{check=\"tcp\",id=\"tcp:tramita\",target=\"tramita\"} 2"), "{body}");
    assert!(
        body.contains("pen_doctor_check_status{check=\"tcp\",id=\"tcp:pendencias\",target=\"pendencias\"} 4"),
        "{body}"
    );
    assert!(
        body.contains("pen_doctor_findings{id=\"tcp:tramita\",code=\"TCP_REFUSED\",severity=\"fail\"} 1"),
        "{body}"
    );
    assert!(body.contains("pen_doctor_up 1"));
    if !has("promtool") {
        eprintln!("promtool not installed (Debian package `prometheus`): format not linted");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pen_doctor.prom");
    std::fs::write(&file, &out.stdout).expect("write");
    let lint = Command::new("sh")
        .arg("-c")
        .arg(format!("promtool check metrics < {}", file.display()))
        .output()
        .expect("promtool");
    assert!(lint.status.success(), "promtool: {}{}", text(&lint.stdout), text(&lint.stderr));
}

#[test]
fn junit_output_is_read_by_a_junit_consumer() {
    let out = run_owned(&with(failing_args(free_port(Host)), &["--format", "junit"]));
    assert_eq!(out.code, Some(1));
    let xml = text(&out.stdout);
    assert!(xml.contains("<failure message=\"TCP_REFUSED: "), "{xml}");
    assert!(xml.contains("TRAMITA-FALHA-COMUNICACAO #3"), "{xml}");
    assert!(xml.contains("<skipped message="), "{xml}");
    // Debian's python3-junitparser lives beside /usr/bin/python3; a pip install beside `python3`.
    let python = ["/usr/bin/python3", "python3"].into_iter().find(|py| {
        Command::new(py).args(["-c", "import junitparser"]).output().map(|o| o.status.success()).unwrap_or(false)
    });
    let Some(python) = python else {
        eprintln!("junitparser not installed (Debian python3-junitparser): XML not parsed");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("report.xml");
    std::fs::write(&file, &out.stdout).expect("write");
    let script = r#"
import sys
from junitparser import JUnitXml, Failure, Skipped, Error
xml = JUnitXml.fromfile(sys.argv[1])
fails, skips, errors, cases, messages = 0, 0, 0, 0, []
for suite in xml:
    for case in suite:
        cases += 1
        for r in case.result:
            if isinstance(r, Failure):
                fails += 1
                messages.append(r.message)
            elif isinstance(r, Skipped):
                skips += 1
            elif isinstance(r, Error):
                errors += 1
print(cases, fails, skips, errors)
print("\n".join(messages))
"#;
    let parsed = Command::new(python).arg("-c").arg(script).arg(&file).output().expect("python3");
    assert!(parsed.status.success(), "{}", text(&parsed.stderr));
    let stdout = text(&parsed.stdout);
    let mut lines = stdout.lines();
    // dns:tramita and dns:pendencias ok, tcp:tramita fail, tcp:pendencias skipped by the user.
    assert_eq!(lines.next(), Some("4 1 1 0"), "{stdout}");
    assert!(lines
        .next()
        .is_some_and(|m| m.starts_with("TCP_REFUSED: ") && m.contains("[TRAMITA-FALHA-COMUNICACAO #3]")));
}

#[test]
fn nagios_output_follows_the_plugin_guidelines() {
    let out = run_owned(&with(failing_args(free_port(Host)), &["--format", "nagios"]));
    assert_eq!(out.code, Some(2), "CRITICAL");
    let body = text(&out.stdout);
    let first = body.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("PEN-DOCTOR CRITICAL - 1 failed, not checked (--skip) tcp:pendencias: tcp:tramita TCP_REFUSED (probable cause) | "),
        "{first}"
    );
    let (_, perf) = first.split_once(" | ").unwrap_or_default();
    for item in perf.split(' ') {
        let (label, value) = item.split_once('=').unwrap_or_default();
        assert!(label.starts_with('\'') && label.ends_with('\''), "label {label}");
        let number: String = value
            .split(';')
            .next()
            .unwrap_or_default()
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        assert!(!number.is_empty(), "value {value}");
    }
    assert!(perf.contains("'tcp:tramita_ms'="), "{perf}");
    assert_eq!(body.matches('|').count(), 1, "only the first line carries perfdata: {body}");
    assert!(body.lines().nth(1).is_some_and(|l| l.starts_with("[fail] tcp:tramita TCP_REFUSED: ")), "{body}");

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let ok = run_owned(&with(healthy_args(&listener), &["--format", "nagios"]));
    assert_eq!(ok.code, Some(0), "{}", text(&ok.stdout));
    assert!(text(&ok.stdout).starts_with("PEN-DOCTOR OK - 2 ok | "));

    let bad = run(&["check", "--format", "nagios", "--timeout", "soon"]);
    assert_eq!(bad.code, Some(3), "UNKNOWN");
    assert!(text(&bad.stdout).starts_with("PEN-DOCTOR UNKNOWN - "));
}

#[test]
fn output_file_is_replaced_atomically() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pen_doctor.prom");
    std::fs::write(&file, "old\n").expect("write");
    // A collector that opened the previous file keeps reading it whole.
    let held = std::fs::File::open(&file).expect("open");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let path = file.display().to_string();
    let out = run_owned(&with(healthy_args(&listener), &["--format", "prometheus", "--output", &path]));
    assert_eq!(out.code, Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let mut old = String::new();
    std::io::Read::read_to_string(&mut &held, &mut old).expect("read");
    assert_eq!(old, "old\n");
    let new = std::fs::read_to_string(&file).expect("read");
    assert!(new.starts_with("# HELP pen_doctor_up") && new.ends_with('\n'), "{new}");
    let names: Vec<_> =
        std::fs::read_dir(dir.path()).expect("ls").filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    assert_eq!(names.len(), 1, "no temporary file left: {names:?}");

    let missing = dir.path().join("no/such/dir/report.json").display().to_string();
    let out = run_owned(&with(healthy_args(&listener), &["--format", "json", "--output", &missing]));
    assert_eq!(out.code, Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("--output") && err.contains("no/such/dir does not exist"), "{err}");
}

fn json_report(args: Vec<String>, file: &Path) {
    let path = file.display().to_string();
    let out = run_owned(&with(args, &["--format", "json", "--output", &path]));
    assert!(out.code.is_some_and(|c| c <= 1), "{}", text(&out.stderr));
}

#[test]
fn merge_and_diff_read_json_reports_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (good, bad) = (dir.path().join("node1.json"), dir.path().join("node2.json"));
    json_report(healthy_args(&listener), &good);
    // The same checks, but on "node2" the port is closed.
    drop(listener);
    json_report(healthy_args(&TcpListener::bind("127.0.0.1:0").expect("bind")), &dir.path().join("x.json"));
    json_report(tcp_args(port), &bad);

    let g = good.display().to_string();
    let b = bad.display().to_string();
    let merged = run(&["merge", &g, &b, "--lang", "en", "--color", "never"]);
    assert_eq!(merged.code, Some(1), "a node failed");
    let body = text(&merged.stdout);
    assert!(body.contains("tcp:tramita  ✔"), "{body}");
    assert!(body.contains("✘"), "{body}");
    assert!(body.contains("Findings that differ between nodes:"), "{body}");
    assert!(body.contains("tcp:tramita TCP_REFUSED [fail] — on: "), "{body}");

    let md = run(&["merge", &g, &b, "--format", "markdown", "--lang", "en"]);
    assert!(text(&md.stdout).contains("| `tcp:tramita` | ✔ ok | ✘ fail |"), "{}", text(&md.stdout));

    let diff = run(&["diff", &b, &g, "--lang", "en", "--color", "never"]);
    assert_eq!(diff.code, Some(0), "nothing got worse");
    let body = text(&diff.stdout);
    assert!(body.contains("tcp:tramita: fail → ok"), "{body}");
    assert!(body.contains("- tcp:tramita TCP_REFUSED [fail]"), "{body}");
    let worse = run(&["diff", &g, &b, "--lang", "en", "--color", "never"]);
    assert_eq!(worse.code, Some(1), "a check got worse");
    assert!(text(&worse.stdout).contains("+ tcp:tramita TCP_REFUSED [fail]"));

    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "not json").expect("write");
    let out = run(&["merge", &g, &junk.display().to_string()]);
    assert_eq!(out.code, Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("junk.json: not a JSON report"), "{err}");
    let future = dir.path().join("v9.json");
    std::fs::write(&future, "{\"schema_version\": 9}").expect("write");
    let out = run(&["diff", &g, &future.display().to_string()]);
    assert_eq!(out.code, Some(2));
    assert!(text(&out.stderr).contains("schema_version 9 is not supported"));
}

#[test]
fn completions_and_man_page_come_from_the_cli() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&["completions", shell]);
        assert_eq!(out.code, Some(0));
        let body = text(&out.stdout);
        assert!(body.contains("merge") && body.contains("cert-password-env"), "{shell}");
    }
    let man = run(&["man"]);
    assert_eq!(man.code, Some(0));
    let body = text(&man.stdout);
    assert!(body.contains(".TH pen-doctor 1") && body.contains("completions"), "{body}");
    let check = run(&["man", "check"]);
    assert_eq!(check.code, Some(0));
    let body = text(&check.stdout);
    assert!(body.contains(".TH pen-doctor-check 1") && body.contains("cert\\-password\\-env"), "{body}");
    assert_eq!(run(&["man", "nope"]).code, Some(2));
}

#[test]
fn no_progress_line_when_stderr_is_not_a_terminal() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let out = run_owned(&with(healthy_args(&listener), &["--format", "json"]));
    assert!(!text(&out.stderr).contains("verificando") && !text(&out.stderr).contains('\r'));
}

#[test]
fn static_release_binary_has_no_dynamic_dependencies() {
    let root = env!("CARGO_MANIFEST_DIR");
    let bin = Path::new(root).join("target/x86_64-unknown-linux-musl/release/pen-doctor");
    if !bin.exists() {
        eprintln!("no musl build (scripts/release builds it): static check not run");
        return;
    }
    let out = Command::new(Path::new(root).join("scripts/check-static")).arg(&bin).output().expect("check-static");
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
}

/// A report as the certificate, TLS and NTP checks write it (their evidence and measures), with
/// label values that need escaping.
fn synthetic_report() -> pen_doctor::report::model::Report {
    use pen_doctor::report::model::*;
    let check = |id: &str,
                 kind: &str,
                 status: Status,
                 evidence: serde_json::Value,
                 measures: Measures,
                 findings: Vec<ReportedFinding>| {
        CheckReport {
            id: id.into(),
            check: kind.into(),
            target: id.split_once(':').map(|(_, t)| t.to_string()),
            status,
            duration_ms: 12,
            summary: "s".into(),
            findings,
            evidence: evidence.as_object().cloned().unwrap_or_default(),
            skipped_because: None,
            measures,
        }
    };
    let finding = |code: &str, severity: Severity| ReportedFinding {
        code: code.into(),
        severity,
        message: "a \"quoted\" message | with a pipe\nand a newline".into(),
        kb: KbRef { article: "PEN-MANUAL-NTP".into(), cause: None, title: "t".into(), url: "u".into() },
        fix: vec![],
        params: Default::default(),
    };
    let checks = vec![
        check(
            "cert:client",
            "cert",
            Status::Warn,
            serde_json::json!({"days_left": 20, "certificate": {"not_after": "2030-01-02 03:04:05 UTC"}}),
            Measures { expires_at: Some(1_893_553_445), days_left: Some(20), ..Default::default() },
            vec![finding("CLIENT_CERT_EXPIRING", Severity::Warn)],
        ),
        check(
            "tls:tramita",
            "tls",
            Status::Ok,
            serde_json::json!({"chain": [{"subject": "CN=x\"y\\z", "not_after": "2030-01-02 03:04:05 UTC"}]}),
            Measures { expires_at: Some(1_893_553_445), days_left: Some(1137), ..Default::default() },
            vec![],
        ),
        check(
            "ntp",
            "ntp",
            Status::Fail,
            serde_json::json!({"offset": "12.5 s", "servers": [{"offset_secs": 12.5}]}),
            Measures { offset_secs: Some(12.5), ..Default::default() },
            vec![finding("NTP_OFFSET_HIGH", Severity::Fail)],
        ),
        check("weird:a\"b", "weird", Status::Skip, serde_json::json!({}), Measures::default(), vec![]),
    ];
    let mut report = Report {
        schema_version: 1,
        tool: ToolInfo { name: "pen-doctor".into(), version: "0.1.0".into() },
        run: RunInfo {
            started_at: "2026-11-22T02:00:00Z".into(),
            duration_ms: 40,
            environment: "producao".into(),
            host: HostInfo {
                hostname: "sei1".into(),
                os: "Debian".into(),
                os_family: "debian".into(),
                kernel: "6".into(),
            },
            discovered: Default::default(),
        },
        summary: Summary::from_checks(&checks),
        diagnosis: Vec::new(),
        checks,
        node: None,
        lang: Default::default(),
        os_family: Default::default(),
        kb_words: Default::default(),
    };
    pen_doctor::report::fill_kb_words(&mut report);
    report
}

#[test]
fn certificate_and_clock_facts_reach_nagios_and_prometheus() {
    use pen_doctor::render::Render;
    let report = synthetic_report();
    let prom = text(pen_doctor::render::prometheus::Prometheus.render(&report));
    assert!(prom.contains(
        "pen_doctor_certificate_expiry_timestamp_seconds{check=\"cert\",id=\"cert:client\",target=\"client\"} 1893553445"
    ));
    assert!(prom.contains("pen_doctor_ntp_offset_seconds{check=\"ntp\",id=\"ntp\",target=\"\"} 12.5"), "{prom}");
    assert!(prom.contains("id=\"weird:a\\\"b\""), "{prom}");
    if has("promtool") {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("x.prom");
        std::fs::write(&file, &prom).expect("write");
        let lint = Command::new("sh")
            .arg("-c")
            .arg(format!("promtool check metrics < {}", file.display()))
            .output()
            .expect("promtool");
        assert!(lint.status.success(), "promtool: {}{}", text(&lint.stdout), text(&lint.stderr));
    }

    let nagios = text(pen_doctor::render::nagios::Nagios { strict: false, max_output: 0 }.render(&report));
    let first = nagios.lines().next().unwrap_or_default();
    assert!(first.starts_with("PEN-DOCTOR CRITICAL - "), "{first}");
    assert!(first.contains("'cert:client_days_left'=20;30:;0:"), "{first}");
    assert!(first.contains("'tls:tramita_days_left'="), "{first}");
    assert!(first.contains("'ntp_offset'=12.5s"), "{first}");
    assert_eq!(nagios.matches('|').count(), 1, "{nagios}");
    assert_eq!(nagios.lines().count(), 3, "one line per finding: {nagios}");
    assert_eq!(pen_doctor::render::nagios::exit_code(&report, false), 2);

    let junit = text(pen_doctor::render::junit::Junit.render(&report));
    assert!(junit.contains("<system-out>[aviso] CLIENT_CERT_EXPIRING: a &quot;quoted&quot;"), "{junit}");
}

#[test]
fn progress_line_on_a_terminal() {
    if !has("script") {
        eprintln!("util-linux `script` missing: no pseudo-terminal to test with");
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let cmd = format!(
        "{BIN} check --only tcp --target tramita --endpoint tramita=https://127.0.0.1:{port}/ --format json --output /dev/null"
    );
    let out = Command::new("script").args(["-qec", &cmd, "/dev/null"]).output().expect("script");
    let shown = text(&out.stdout);
    assert!(shown.contains("verificando… 0/2") && shown.contains("verificando… 2/2"), "{shown:?}");
    assert!(shown.ends_with("\r\x1b[2K") || shown.contains("\r\x1b[2K"), "the line is erased: {shown:?}");
}
