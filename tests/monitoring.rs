//! The monitoring engines ops already run, for real: pen-doctor's textfile output scraped by a
//! real prometheus-node-exporter and read back over HTTP; the example alert rules
//! (examples/prometheus) run by `promtool test rules` on the series of real runs; a real nagios4
//! daemon configured with the example (examples/nagios) running the documented plugin command
//! line as a service check, its status file read back.

mod support;

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use support::node;
use support::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_pen-doctor");

/// A client certificate valid for `days` more days, as the PEM with key SEI uses, and the file
/// holding its password.
fn client_cert(pki: &Pki, days: i64) -> (PathBuf, PathBuf) {
    let root = pki.root("Test Root");
    let leaf = pki.leaf(&root, LeafSpec::client("sei.orgao.gov.br").valid_days(-1, days));
    let password = pki.path("password");
    fs::write(&password, "segredo-teste\n").unwrap();
    (pki.combined_pem(&leaf, "segredo-teste"), password)
}

/// The samples of an exposition text: series (name and labels, as written) → value.
fn samples(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.rsplit_once(' ').map(|(s, v)| (s.to_string(), v.to_string())))
        .collect()
}

/// The labels of a series written as `name{a="x",b="y"}` (values without escapes).
/// Empty values are left out: to Prometheus an empty label is no label.
fn labels(series: &str) -> serde_json::Map<String, Value> {
    let inner = series.split_once('{').map(|(_, rest)| rest.trim_end_matches('}')).unwrap_or_default();
    inner
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap())
        .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, Value::from(v)))
        .collect()
}

fn the_series<'a>(all: &'a BTreeMap<String, String>, name: &str, id: &str) -> (&'a String, &'a String) {
    all.iter()
        .find(|(s, _)| s.starts_with(&format!("{name}{{")) && s.contains(&format!("id=\"{id}\"")))
        .unwrap_or_else(|| panic!("no {name} for {id} in {all:#?}"))
}

/// A real node_exporter with only the textfile collector, reading `dir`, on a free port.
struct NodeExporter {
    _proc: Proc,
    port: u16,
}

impl NodeExporter {
    fn start(dir: &Path, log: PathBuf) -> NodeExporter {
        let port = free_port(Host);
        let mut cmd = Command::new(which("prometheus-node-exporter"));
        cmd.arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--collector.disable-defaults")
            .arg("--collector.textfile")
            .arg(format!("--collector.textfile.directory={}", dir.display()));
        let mut proc = Proc::spawn("prometheus-node-exporter", cmd, log);
        proc.wait_ready(|log| {
            log.contains("Listening on")
                && tcp_open(Place::Host, sockaddr(("127.0.0.1", port)), Duration::from_millis(200))
        });
        NodeExporter { _proc: proc, port }
    }

    /// What Prometheus would scrape, over HTTP.
    fn scrape(&self) -> String {
        let run = Command::new(which("curl"))
            .args(["-sS", "--fail", "--max-time", "10"])
            .arg(format!("http://127.0.0.1:{}/metrics", self.port))
            .run();
        run.assert_code(0);
        run.stdout
    }
}

#[test]
fn the_textfile_output_is_scraped_by_a_real_node_exporter() {
    let textfile_dir = temp_dir("pdt-textfile-");
    let logs = temp_dir("pdt-logs-");
    let exporter = NodeExporter::start(textfile_dir.path(), logs.path().join("node_exporter.log"));
    let pki = Pki::new();
    let (cert, password) = client_cert(&pki, 20);
    let prom = textfile_dir.path().join("pen_doctor.prom");
    let cert_args = ["--cert", cert.to_str().unwrap(), "--cert-password-file", password.to_str().unwrap()];

    // A failing run: tcp:tramita refused (and the client certificate expires in 20 days).
    let checks = |port: u16| {
        let mut cmd = pen_doctor(Host);
        cmd.args(["check", "--only", "tcp,cert", "--target", "tramita", "--timeout", "2s", "--lang", "en"])
            .arg("--endpoint")
            .arg(format!("tramita=https://127.0.0.1:{port}/"))
            .args(cert_args)
            .args(["--format", "prometheus", "--output"])
            .arg(&prom);
        cmd
    };
    checks(free_port(Host)).run().assert_code(1);
    let scraped = samples(&exporter.scrape());
    assert_eq!(scraped.get("node_textfile_scrape_error").map(String::as_str), Some("0"), "{scraped:#?}");
    let (series, value) = the_series(&scraped, "pen_doctor_check_status", "tcp:tramita");
    assert_eq!(series, "pen_doctor_check_status{check=\"tcp\",id=\"tcp:tramita\",target=\"tramita\"}");
    assert_eq!(value, "2", "fail");
    let (cert_series, expiry) = the_series(&scraped, "pen_doctor_certificate_expiry_timestamp_seconds", "cert:client");
    assert_eq!(
        cert_series,
        "pen_doctor_certificate_expiry_timestamp_seconds{check=\"cert\",id=\"cert:client\",target=\"\"}"
    );
    let left = expiry.parse::<f64>().unwrap()
        - std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    assert!((19.0 * 86400.0..21.0 * 86400.0).contains(&left), "expires in {left} s");
    let status_series: Vec<&String> = scraped.keys().filter(|s| s.starts_with("pen_doctor_check_status{")).collect();
    assert!(status_series.iter().all(|s| !s.contains("status=")), "no status label: {status_series:?}");
    assert!(
        scraped.contains_key("pen_doctor_check_duration_seconds{check=\"tcp\",id=\"tcp:tramita\",target=\"tramita\"}")
    );

    // The fix: the same checks pass. The same series now says 0; no other status series appeared.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let run = checks(listener.local_addr().unwrap().port()).run();
    assert!(matches!(run.code, Some(0 | 1)), "{run}");
    let again = samples(&exporter.scrape());
    let (series_after, value_after) = the_series(&again, "pen_doctor_check_status", "tcp:tramita");
    assert_eq!(series_after, series, "the series keeps its identity");
    assert_eq!(value_after, "0");
    let after: Vec<&String> = again.keys().filter(|s| s.starts_with("pen_doctor_check_status{")).collect();
    assert_eq!(after, status_series);
    let names: Vec<String> = textfile_dir
        .path()
        .read_dir()
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["pen_doctor.prom"], "no temporary file left for the collector");
}

/// `promtool test rules` on the example rules, with series whose names and labels are those of
/// a real run's output: a check that fails for 20 minutes then recovers, a skipped check, a
/// client certificate ten days from expiry, a run that stops happening.
#[test]
fn the_example_alert_rules_fire_and_recover_on_real_series() {
    let pki = Pki::new();
    let (cert, password) = client_cert(&pki, 200);
    let run = pen_doctor(Host)
        .args(["check", "--only", "tcp,cert", "--target", "tramita,pendencias", "--skip", "tcp:pendencias"])
        .args(["--timeout", "2s", "--lang", "en", "--format", "prometheus", "--endpoint"])
        .arg(format!("tramita=https://127.0.0.1:{}/", free_port(Host)))
        .arg("--endpoint")
        .arg(format!("pendencias=https://127.0.0.1:{}/", free_port(Host)))
        .arg("--cert")
        .arg(&cert)
        .arg("--cert-password-file")
        .arg(&password)
        .run();
    run.assert_code(1);
    let real = samples(&run.stdout);
    let (failing, value) = the_series(&real, "pen_doctor_check_status", "tcp:tramita");
    assert_eq!(value, "2");
    let (skipped, value) = the_series(&real, "pen_doctor_check_status", "tcp:pendencias");
    assert_eq!(value, "4");
    let (cert_series, _) = the_series(&real, "pen_doctor_certificate_expiry_timestamp_seconds", "cert:client");
    assert!(real.contains_key("pen_doctor_run_timestamp_seconds"));

    let mut failing_labels = labels(failing);
    failing_labels.insert("alertname".into(), "PenDoctorCheckFailing".into());
    failing_labels.insert("severity".into(), "critical".into());
    let mut cert_labels = labels(cert_series);
    cert_labels.insert("alertname".into(), "PenDoctorCertificateExpiring".into());
    cert_labels.insert("severity".into(), "warning".into());
    let description = "Run `pen-doctor check` on the node: it names the cause, the KB article and the fix.";
    let tests = json!({
        "rule_files": [Path::new(ROOT).join("examples/prometheus/pen-doctor.rules.yml")],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": failing, "values": "2x20 0x20"},
                    {"series": skipped, "values": "4x40"},
                    {"series": "pen_doctor_run_timestamp_seconds", "values": "0+60x40"},
                    // Ten days after the test clock's start.
                    {"series": cert_series, "values": "864000x40"},
                ],
                "alert_rule_test": [
                    {"eval_time": "10m", "alertname": "PenDoctorCheckFailing", "exp_alerts": []},
                    {"eval_time": "18m", "alertname": "PenDoctorCheckFailing", "exp_alerts": [{
                        "exp_labels": failing_labels,
                        "exp_annotations": {"summary": "pen-doctor: tcp:tramita fails on ", "description": description},
                    }]},
                    {"eval_time": "35m", "alertname": "PenDoctorCheckFailing", "exp_alerts": []},
                    {"eval_time": "35m", "alertname": "PenDoctorStale", "exp_alerts": []},
                    {"eval_time": "18m", "alertname": "PenDoctorCertificateExpiring", "exp_alerts": [{
                        "exp_labels": cert_labels,
                        "exp_annotations": {
                            "summary": "cert:client on  expires in 9d 23h 42m 0s",
                            "description": "Ask the Protocol Manager for a new certificate in the Tramita.GOV.BR Administration Portal before it expires.",
                        },
                    }]},
                ],
            },
            {
                "interval": "1m",
                "input_series": [{"series": "pen_doctor_run_timestamp_seconds", "values": "0x45"}],
                "alert_rule_test": [
                    {"eval_time": "25m", "alertname": "PenDoctorStale", "exp_alerts": []},
                    {"eval_time": "40m", "alertname": "PenDoctorStale", "exp_alerts": [{
                        "exp_labels": {"alertname": "PenDoctorStale", "severity": "warning"},
                        "exp_annotations": {
                            "summary": "pen-doctor has not run on  for 30 minutes",
                            "description": "Check the pen-doctor timer or cron job and the textfile collector directory.",
                        },
                    }]},
                ],
            },
        ],
    });
    let dir = temp_dir("pdt-promtool-");
    // JSON is YAML.
    let file = dir.path().join("pen-doctor.rules.test.yml");
    fs::write(&file, tests.to_string()).unwrap();
    let check = Command::new(which("promtool"))
        .arg("check")
        .arg("rules")
        .arg(Path::new(ROOT).join("examples/prometheus/pen-doctor.rules.yml"))
        .run();
    check.assert_code(0);
    let test = Command::new(which("promtool")).args(["test", "rules"]).arg(&file).run();
    test.assert_code(0);
    assert!(test.stdout.contains("SUCCESS"), "{test}");
}

/// A nagios4 daemon of the test's own, in a temporary directory, configured with Debian's
/// shipped templates, the example's objects (examples/nagios/pen-doctor.cfg) and `objects`.
struct Nagios {
    proc: Option<Proc>,
    dir: tempfile::TempDir,
}

/// One service as Nagios' status file shows it.
#[derive(Debug, Default)]
struct ServiceStatus {
    state: String,
    output: String,
    long_output: String,
    perfdata: String,
}

impl Nagios {
    fn start(objects: &str) -> Nagios {
        let dir = temp_dir("pdt-nagios-");
        let d = dir.path();
        fs::create_dir_all(d.join("checkresults")).unwrap();
        fs::write(d.join("objects.cfg"), objects).unwrap();
        fs::write(d.join("resource.cfg"), "$USER1$=/usr/lib/nagios/plugins\n").unwrap();
        let mut cfg = String::new();
        for f in ["commands.cfg", "contacts.cfg", "timeperiods.cfg", "templates.cfg"] {
            cfg += &format!("cfg_file=/etc/nagios4/objects/{f}\n");
        }
        cfg += &format!("cfg_file={}/examples/nagios/pen-doctor.cfg\n", ROOT);
        let p = |name: &str| d.join(name).display().to_string();
        cfg += &format!(
            "cfg_file={}\nlog_file={}\nobject_cache_file={}\nprecached_object_file={}\nresource_file={}\n\
             status_file={}\nlock_file={}\ntemp_file={}\ntemp_path={}\nstate_retention_file={}\n\
             check_result_path={}\n",
            p("objects.cfg"),
            p("nagios.log"),
            p("objects.cache"),
            p("objects.precache"),
            p("resource.cfg"),
            p("status.dat"),
            p("nagios.lock"),
            p("nagios.tmp"),
            d.display(),
            p("retention.dat"),
            p("checkresults"),
        );
        // Run every check at once, report at once; nothing else.
        cfg += "nagios_user=root\nnagios_group=root\nstatus_update_interval=1\ncheck_result_reaper_frequency=1\n\
                service_inter_check_delay_method=n\nmax_service_check_spread=1\nretain_state_information=0\n\
                enable_notifications=0\nexecute_host_checks=0\ncheck_external_commands=0\nservice_check_timeout=60\n";
        fs::write(d.join("nagios.cfg"), cfg).unwrap();
        let nagios = which("nagios4");
        let verify = Command::new(&nagios).arg("-v").arg(d.join("nagios.cfg")).run();
        assert!(
            verify.code == Some(0) && verify.stdout.contains("Total Errors:   0"),
            "nagios4 -v rejects the configuration\n{verify}"
        );
        let mut cmd = Command::new(&nagios);
        cmd.arg(d.join("nagios.cfg"));
        let mut proc = Proc::spawn("nagios4", cmd, d.join("stdout.log"));
        proc.also_log(d.join("nagios.log"));
        proc.wait_ready(|log| log.contains("Successfully launched command file worker"));
        Nagios { proc: Some(proc), dir }
    }

    /// The services of status.dat that have been checked.
    fn statuses(&self) -> BTreeMap<String, ServiceStatus> {
        let text = fs::read_to_string(self.dir.path().join("status.dat")).unwrap_or_default();
        let mut out = BTreeMap::new();
        for block in text.split("servicestatus {").skip(1) {
            let block = block.split('}').next().unwrap_or_default();
            let field = |k: &str| {
                block.lines().find_map(|l| l.trim().strip_prefix(&format!("{k}="))).unwrap_or_default().to_string()
            };
            if field("has_been_checked") != "1" {
                continue;
            }
            out.insert(
                field("service_description"),
                ServiceStatus {
                    state: field("current_state"),
                    output: field("plugin_output"),
                    long_output: field("long_plugin_output").replace("\\n", "\n"),
                    perfdata: field("performance_data"),
                },
            );
        }
        out
    }

    /// Waits until every one of `services` has been checked once.
    fn wait_checked(&self, services: &[&str]) -> BTreeMap<String, ServiceStatus> {
        let started = Instant::now();
        loop {
            let s = self.statuses();
            if services.iter().all(|name| s.contains_key(*name)) {
                return s;
            }
            if started.elapsed() > Duration::from_secs(60) {
                panic!(
                    "nagios4 did not check {services:?} within 60 s: {s:#?}\n{}",
                    self.proc.as_ref().map(Proc::log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The plugin command line documented for NRPE (examples/nagios/nrpe.cfg), as NRPE runs it on
/// the node, with this build's binary (the test runs as root: no sudo).
fn documented_command() -> String {
    let nrpe = fs::read_to_string(Path::new(ROOT).join("examples/nagios/nrpe.cfg")).unwrap();
    let line = nrpe
        .lines()
        .find_map(|l| l.strip_prefix("command[check_pen_doctor]="))
        .expect("examples/nagios/nrpe.cfg defines command[check_pen_doctor]");
    let line = line.strip_prefix("/usr/bin/sudo -n ").expect("NRPE runs pen-doctor through sudo");
    let rest = line.strip_prefix("/usr/bin/pen-doctor ").expect("the documented binary path");
    assert!(rest.starts_with("check --format nagios"), "{rest}");
    format!("{BIN} {rest}")
}

#[test]
fn a_real_nagios_runs_the_documented_check_and_records_state_output_and_perfdata() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap().port();
    let closed = free_port(Host);
    let pki = Pki::new();
    // A node whose kernel clock is synchronised, its client certificate 9 days from expiry and
    // its clock 3 s off (an SNTP server of the test's own says so): two warnings.
    let root = node::plain_root();
    node::write(root.path(), "proc/adjtimex", "status=0x2001 maxerror=12000 esterror=300\n");
    let (cert, password) = client_cert(&pki, 10);
    let (cert_in_root, password_in_root) = (root.path().join("cert.pem"), root.path().join("password"));
    fs::copy(&cert, &cert_in_root).unwrap();
    fs::copy(&password, &password_in_root).unwrap();
    let sntp = node::responder(node::Behaviour::Offset(3.0));
    let webhooks: String =
        (0..8).map(|i| format!(" --webhook hook{i}=https://127.0.0.1:{}/", free_port(Host))).collect();

    let command = documented_command();
    let services = [
        ("pen-doctor-ok", format!("--only tcp --target tramita --endpoint tramita=https://127.0.0.1:{open}/")),
        (
            "pen-doctor-warning",
            format!(
                "--only cert,ntp --target tramita --cert {} --cert-password-file {} --ntp-server 127.0.0.1:{sntp}",
                cert_in_root.display(),
                password_in_root.display()
            ),
        ),
        (
            "pen-doctor-critical",
            format!("--only tcp,webhook --target tramita --endpoint tramita=https://127.0.0.1:{closed}/{webhooks}"),
        ),
        ("pen-doctor-unknown", "--only no-such-check".to_string()),
    ];
    let mut objects = format!(
        "define host {{\n  use generic-host\n  host_name sei-node\n  address 127.0.0.1\n  max_check_attempts 1\n  check_command pen_doctor_on_node!--version\n}}\n\
         define command {{\n  command_name pen_doctor_on_node\n  command_line /usr/bin/env PEN_DOCTOR_ROOT={} {command} $ARG1$\n}}\n",
        root.path().display()
    );
    for (name, args) in &services {
        // The example's service template, with the check run locally as NRPE would on the node.
        objects += &format!(
            "define service {{\n  use pen-doctor-service\n  host_name sei-node\n  service_description {name}\n  check_command pen_doctor_on_node!{args}\n}}\n"
        );
    }
    let nagios = Nagios::start(&objects);
    let names: Vec<&str> = services.iter().map(|(n, _)| *n).collect();
    let status = nagios.wait_checked(&names);

    let ok = &status["pen-doctor-ok"];
    assert_eq!(ok.state, "0", "{ok:#?}");
    assert_eq!(ok.output, "PEN-DOCTOR OK - 2 ok");
    assert!(ok.perfdata.starts_with("'run_ms'=") && ok.perfdata.contains("'tcp:tramita_ms'="), "{ok:#?}");

    let warning = &status["pen-doctor-warning"];
    assert_eq!(warning.state, "1", "{warning:#?}");
    assert!(
        warning.output.starts_with(
            "PEN-DOCTOR WARNING - 2 avisos: ntp NTP_OFFSET_HIGH (causa provável), cert:client CLIENT_CERT_EXPIRING"
        ),
        "{warning:#?}"
    );
    let days = warning.perfdata.split(' ').find(|p| p.starts_with("'cert:client_days_left'=")).unwrap_or_default();
    assert!(matches!(days, "'cert:client_days_left'=9;30:;0:" | "'cert:client_days_left'=10;30:;0:"), "{warning:#?}");
    let offset = warning.perfdata.split(' ').find(|p| p.starts_with("'ntp_offset'=")).unwrap_or_default();
    // The responder runs 3 s ahead; the measured offset is that, give or take the exchange.
    let seconds: f64 = offset
        .strip_prefix("'ntp_offset'=")
        .and_then(|v| v.split_once("s;"))
        .and_then(|(v, _)| v.parse().ok())
        .unwrap_or(f64::NAN);
    assert!((seconds - 3.0).abs() < 0.2 && offset.ends_with("s;-1:1;-10:10"), "--ntp-warn 1s --ntp-crit 10s: {offset}");
    assert!(warning.long_output.contains("[aviso] ntp NTP_OFFSET_HIGH: "), "{warning:#?}");

    let critical = &status["pen-doctor-critical"];
    assert_eq!(critical.state, "2", "{critical:#?}");
    assert!(
        critical.output.starts_with("PEN-DOCTOR CRITICAL - 9 falhas: tcp:tramita TCP_REFUSED (causa provável"),
        "{critical:#?}"
    );
    // Everything the plugin printed fits in what NRPE passes back, and says what it left out.
    let whole = format!("{} | {}\n{}\n", critical.output, critical.perfdata, critical.long_output);
    assert!(whole.len() <= 1024, "{} bytes: {whole}", whole.len());
    assert!(critical.long_output.starts_with("[falha] tcp:tramita TCP_REFUSED: "), "{critical:#?}");
    let last = critical.long_output.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("… mais ") && last.ends_with("linhas: rode pen-doctor check no nó para ver tudo"),
        "{last}"
    );

    let unknown = &status["pen-doctor-unknown"];
    assert_eq!(unknown.state, "3", "{unknown:#?}");
    assert!(unknown.output.starts_with("PEN-DOCTOR UNKNOWN - "), "{unknown:#?}");
    drop(listener);
}

/// The measures of check `id` in a JSON report.
fn measures_of(report: &Value, id: &str) -> Value {
    check(report, id)["measures"].clone()
}

/// The perfdata item of a Nagios output's status line that starts with `name=`.
fn perf_item<'a>(nagios: &'a str, name: &str) -> &'a str {
    let first = nagios.lines().next().unwrap_or_default();
    let perf = first.split_once(" | ").map(|(_, p)| p).unwrap_or_default();
    perf.split(' ').find(|p| p.starts_with(&format!("{name}="))).unwrap_or_else(|| panic!("no {name} in {nagios}"))
}

/// The client certificate's days left and expiry, the server leaf's (a real nginx presenting a
/// certificate the test made) and the clock offset (the test's own SNTP server, 3 s ahead) reach
/// Prometheus and Nagios as the numbers the checks measured: the saved report rendered with
/// every check's evidence removed gives the same output, and the offset keeps the precision the
/// text in the evidence rounds away.
#[test]
fn certificate_days_and_clock_offset_reach_monitoring_as_measured_numbers() {
    use support::pki_tls::{now, Spec, DAY};
    let pki = Pki::new();
    let (cert, password) = client_cert(&pki, 10);
    let server_expiry = now() + 40 * DAY;
    let leaf = pki.server_leaf(&Spec::server("pi.test").valid(now() - DAY, server_expiry));
    let chain = pki.write("chain.pem", leaf.pem() + &pki.inter.pem());
    let key = pki.write("leaf.key", leaf.key_pem());
    let nginx = Nginx::on_free_port(&Nginx::tls_server("pi.test", &chain, &key, "location / { return 200 'ok'; }"));
    let store = pki.write("store.pem", pki.root.pem());
    let sntp = node::responder(node::Behaviour::Offset(3.0));
    let args = CheckArgs::new()
        .service("protocolo-integrado", "pi.test", nginx.port(), "/")
        .only("cert,tls,ntp")
        .ca_bundle(&store)
        .flag("--cert", cert.display().to_string())
        .flag("--cert-password-file", password.display().to_string())
        .flag("--ntp-server", format!("127.0.0.1:{sntp}"))
        .timeout("2s")
        .json();
    let run = support::pki_tls::pen_doctor(&args.strs(), &[]);
    assert_schema_valid("schema/report.schema.json", &run.stdout);
    let report = run.json();

    let client = measures_of(&report, "cert:client");
    let expires_at = client["expires_at"].as_i64().unwrap_or_else(|| panic!("{client:#}"));
    let client_days = client["days_left"].as_i64().unwrap();
    assert!(matches!(client_days, 9 | 10), "{client:#}");
    assert_eq!(check(&report, "cert:client")["evidence"]["days_left"], client_days, "the evidence agrees");
    let server = measures_of(&report, "tls:protocolo-integrado");
    assert_eq!(server["expires_at"], server_expiry, "the leaf nginx presented: {server:#}");
    // 40 days when the check ran within the second the certificate was made.
    let server_days = server["days_left"].as_i64().unwrap_or_default();
    assert!(matches!(server_days, 39 | 40), "{server:#}");
    let clock = measures_of(&report, "ntp");
    let offset = clock["offset_secs"].as_f64().unwrap_or_else(|| panic!("{clock:#}"));
    assert!((2.5..3.5).contains(&offset), "{clock:#}");
    let (warn, crit) = (clock["offset_warn_secs"].as_f64().unwrap(), clock["offset_crit_secs"].as_f64().unwrap());

    // The saved report, and the same with no evidence left: monitoring reads the measures.
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("report.json");
    fs::write(&saved, report.to_string()).unwrap();
    let mut bare = report.clone();
    for c in bare["checks"].as_array_mut().unwrap() {
        c["evidence"] = json!({});
    }
    let stripped = dir.path().join("bare.json");
    fs::write(&stripped, bare.to_string()).unwrap();
    let render = |file: &Path, format: &str| {
        let run = pen_doctor(Host).arg("render").arg(file).args(["--format", format]).run();
        assert!(!run.stdout.is_empty(), "{run}");
        run.stdout
    };

    let prom = render(&stripped, "prometheus");
    assert_eq!(prom, render(&saved, "prometheus"));
    let all = samples(&prom);
    let (_, expiry) = the_series(&all, "pen_doctor_certificate_expiry_timestamp_seconds", "cert:client");
    assert_eq!(expiry, &expires_at.to_string());
    let (_, prom_offset) = the_series(&all, "pen_doctor_ntp_offset_seconds", "ntp");
    assert_eq!(prom_offset.parse::<f64>().ok(), Some(offset), "the measured offset, not `3.0 s`: {prom}");

    let nagios = render(&stripped, "nagios");
    assert_eq!(nagios, render(&saved, "nagios"));
    assert_eq!(perf_item(&nagios, "'cert:client_days_left'"), format!("'cert:client_days_left'={client_days};30:;0:"));
    assert_eq!(
        perf_item(&nagios, "'tls:protocolo-integrado_days_left'"),
        format!("'tls:protocolo-integrado_days_left'={server_days};30:;0:")
    );
    let item = perf_item(&nagios, "'ntp_offset'");
    let (value, ranges) = item.trim_start_matches("'ntp_offset'=").split_once("s;").unwrap_or_default();
    assert!((value.parse::<f64>().unwrap_or(0.0) - offset).abs() < 1e-6, "{item} vs {offset}");
    assert_eq!(ranges, format!("-{warn}:{warn};-{crit}:{crit}"), "{item}");
}
