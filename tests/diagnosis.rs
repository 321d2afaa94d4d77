//! The diagnosis on broken nodes: the real binary against real servers (nginx with mutual TLS,
//! a resolver that never answers, iptables dropping packets, a supervisord that is not running)
//! in a network namespace or a test root of its own. On each, the first root cause names the
//! true cause, in the JSON `diagnosis`, on the human report's "Causa provável" line and on the
//! first line of the Nagios output; its consequences are folded under it.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use support::*;

const PASS: &str = "Senha-Certificado-Diag-1";

/// Runs `pen-doctor check ARGS` at `place` in the json, human and nagios formats and checks that
/// each names `check`/`code` as the probable cause. Returns the JSON report.
fn first_cause<'a>(
    place: impl Into<Place<'a>> + Copy,
    args: &[&str],
    env: &[(&str, &str)],
    check: &str,
    code: &str,
) -> Value {
    let run = |format: &str| {
        let mut cmd = pen_doctor(place);
        cmd.args(["check", "--format", format, "--color", "never"]).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let run = cmd.run();
        assert!(!run.stderr.contains("panicked"), "{run}");
        run
    };
    let json = run("json");
    let report = json.json();
    let first = &report["diagnosis"][0];
    assert_eq!(
        (first["check"].as_str(), first["code"].as_str()),
        (Some(check), Some(code)),
        "{:#}",
        report["diagnosis"]
    );
    assert!(!first["first_step"].as_str().unwrap_or_default().is_empty(), "{first:#}");
    assert!(!first["kb"]["article"].as_str().unwrap_or_default().is_empty(), "{first:#}");

    let human = run("human");
    let line = human.stdout.lines().find(|l| l.starts_with("Causa provável:")).unwrap_or_default();
    assert!(line.contains(&format!("{check} ({code})")), "human: {line}\n{human}");
    let diag = human.stdout.find("Diagnóstico").unwrap_or(usize::MAX);
    let checks = human.stdout.find(&format!("\n{}", human_status(&report, check))).unwrap_or(0);
    assert!(diag < checks, "the diagnosis comes before the checks:\n{human}");

    let nagios = run("nagios");
    let head = nagios.stdout.lines().next().unwrap_or_default();
    let (summary, _) = head.split_once(" | ").unwrap_or((head, ""));
    let shown = summary.split_once(": ").map(|(_, p)| p).unwrap_or_default();
    assert!(shown.starts_with(&format!("{check} {code} (causa provável")), "nagios: {head}");
    report
}

/// The human report's status word of a check, as its line starts.
fn human_status(report: &Value, id: &str) -> &'static str {
    let status = report::ids(report).contains(&id.to_string()).then(|| check(report, id)["status"].clone());
    match status.as_ref().and_then(Value::as_str) {
        Some("fail") => "FALHA",
        Some("warn") => "AVISO",
        Some("error") => "ERRO",
        _ => "OK",
    }
}

fn explains(report: &Value) -> Vec<String> {
    report["diagnosis"][0]["explains"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

use support::report::check as by_id;

#[track_caller]
fn assert_explains(report: &Value, ids: &[&str]) {
    let got = explains(report);
    for id in ids {
        assert!(got.iter().any(|g| g == id), "{id} not folded under the cause: {got:?}\n{:#}", report["diagnosis"]);
    }
}

/// No other root cause fails: the rest of the run is folded under the first.
#[track_caller]
fn assert_only_one_failure(report: &Value) {
    let failing = report["diagnosis"].as_array().unwrap().iter().filter(|c| c["severity"] == "fail").count();
    assert_eq!(failing, 1, "{:#}", report["diagnosis"]);
}

// ------------------------------------------------------------------------------ network

#[test]
fn a_resolver_that_never_answers_is_the_cause_of_every_unresolved_name() {
    let ns = Netns::new();
    let _dead = SilentUdp::start(&ns, "127.0.0.53:53");
    ns.use_nameserver("127.0.0.53");
    let args = CheckArgs::new().only("dns,tcp,tls,http,ntp").target("tramita,pendencias").timeout("1s");
    let report = first_cause(&ns, &args.flags(), &[], "dns:tramita", "DNS_TIMEOUT");
    assert_explains(&report, &["dns:pendencias", "tcp:tramita", "tls:tramita", "http:tramita", "http:pendencias"]);
    assert!(report["diagnosis"][0]["first_step"].as_str().unwrap().contains("127.0.0.53"), "{:#}", report["diagnosis"]);
    // The skips name the failed resolution, not the skip before them.
    assert_eq!(by_id(&report, "http:tramita")["skipped_because"], "dns:tramita (fail)");
    // The NTP servers' names failed for the same reason: folded, not "open UDP 123".
    let ntp = by_id(&report, "ntp");
    let unreachable = ntp["findings"].as_array().unwrap().iter().find(|f| f["code"] == "NTP_UNREACHABLE");
    if let Some(f) = unreachable {
        assert_eq!(f["params"]["folded_under"], "dns:tramita", "{ntp:#}");
        // And a clock that cannot synchronise for that reason is not "open UDP 123" either.
        let unsync = ntp["findings"].as_array().unwrap().iter().find(|f| f["code"] == "NTP_UNSYNCHRONIZED");
        if let Some(u) = unsync {
            assert_eq!(u["params"]["folded_under"], "dns:tramita", "{ntp:#}");
        }
        assert!(report["diagnosis"].as_array().unwrap().iter().all(|c| c["code"] != "NTP_UNSYNCHRONIZED"));
    }
}

#[test]
fn a_resolver_that_does_not_know_the_public_names_is_one_cause_for_every_target() {
    // Split DNS without forwarding: the agency's server says NXDOMAIN for every public name.
    let ns = Netns::new();
    let _dns = Dnsmasq::start(&ns, "127.0.0.53:53", &Zone::new().nxdomain("gov.test"));
    ns.use_nameserver("127.0.0.53");
    let args = CheckArgs::new()
        .only("dns,tcp,tls,http")
        .target("tramita,pendencias")
        .endpoint("tramita", "https://api.gov.test/interoperabilidade/rest/v3/")
        .endpoint("pendencias", "https://pendencias.gov.test/")
        .timeout("1s");
    let report = first_cause(&ns, &args.flags(), &[], "dns:tramita", "DNS_NXDOMAIN");
    assert_explains(&report, &["dns:pendencias", "tcp:pendencias", "http:tramita", "http:pendencias"]);
    assert_only_one_failure(&report);
    let step = report["diagnosis"][0]["first_step"].as_str().unwrap();
    assert!(step.contains("getent ahosts api.gov.test") && step.contains("127.0.0.53"), "{step}");
}

#[test]
fn a_firewall_that_drops_the_packets_is_the_cause_of_every_target_behind_it() {
    let ns = Netns::new();
    ns.set_hosts("127.0.0.2 tramita.test\n127.0.0.2 pendencias.test\n");
    let _web = TcpServer::start(&ns, "127.0.0.2:443", TcpBehaviour::Hold);
    ns.add_drop("127.0.0.2", 443);
    let args = CheckArgs::new()
        .only("dns,tcp,tls,http")
        .target("tramita,pendencias")
        .endpoint("tramita", "https://tramita.test/interoperabilidade/rest/v3/")
        .endpoint("pendencias", "https://pendencias.test/")
        .timeout("1s");
    let report = first_cause(&ns, &args.flags(), &[], "tcp:tramita", "TCP_TIMEOUT");
    assert_explains(&report, &["tcp:pendencias", "tls:tramita", "http:tramita", "tls:pendencias"]);
    assert_only_one_failure(&report);
    assert!(report["diagnosis"][0]["first_step"].as_str().unwrap().contains("127.0.0.2:443"));
}

// ------------------------------------------------------------------- certificates and trust

/// A [`Scenario`]: nginx in a namespace serving `tramita.test` and `pendencias.test` (named in
/// its hosts file) on 127.0.0.2:443, asking for a client certificate of the client CA; a trust
/// store with the server's root and ISRG Root X1.
struct TlsLab {
    lab: Running,
    client_ca: Cert,
}

impl TlsLab {
    fn new() -> TlsLab {
        TlsLab::serving(Site::tramita().ok_elsewhere())
    }

    /// The lab serving `site`.
    fn serving(site: Site) -> TlsLab {
        let lab = Scenario::new()
            .host("tramita.test")
            .also("pendencias.test")
            .mtls(Mtls::On)
            .client(false)
            .site(site)
            .target("tramita", "tramita.test", TRAMITA_PATH)
            .target("pendencias", "pendencias.test", "/")
            .in_netns()
            .named_in_hosts()
            .start();
        let client_ca = lab.pki().client_ca_cert();
        TlsLab { lab, client_ca }
    }

    fn place(&self) -> Place<'_> {
        self.lab.place()
    }

    fn store(&self) -> &Path {
        self.lab.store()
    }

    /// The targets' flags with `store` and the client certificate `cert`.
    fn args(&self, store: &Path, cert: &Path) -> CheckArgs {
        self.lab.target_args().only("dns,tcp,tls,http,cert,ca").ca_bundle(store).cert(cert, "CP").timeout("2s")
    }

    fn client(&self, spec: LeafSpec) -> PathBuf {
        let c = self.lab.pki().leaf(&self.client_ca, spec.client_auth(true));
        let file = self.lab.pki().pkcs12(&c, PASS);
        // Readable by the web server's user, as on a node that works.
        std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
        file
    }
}

#[test]
fn an_expired_client_certificate_is_the_cause_of_the_servers_refusal() {
    let lab = TlsLab::new();
    // The lab works: a valid certificate passes.
    let good = lab.client(LeafSpec::client("ORGAO DIAG"));
    let mut cmd = pen_doctor(lab.place());
    cmd.args(lab.args(lab.store(), &good).json().argv()).env("CP", PASS);
    let ok = cmd.run().json();
    assert_eq!(by_id(&ok, "http:tramita")["status"], "ok", "{ok:#}");
    assert_eq!(ok["diagnosis"], serde_json::json!([]), "{:#}", ok["diagnosis"]);

    let expired = lab.client(LeafSpec::client("ORGAO VENCIDO").expired());
    let report = first_cause(
        lab.place(),
        &lab.args(lab.store(), &expired).flags(),
        &[("CP", PASS)],
        "cert:client",
        "CLIENT_CERT_EXPIRED",
    );
    assert_explains(&report, &["http:tramita"]);
    assert!(report["diagnosis"][0]["first_step"].as_str().unwrap().contains("ORGAO VENCIDO"));
    assert_eq!(report["diagnosis"][0]["kb"]["cause"], 1);
}

#[test]
fn a_wrong_certificate_password_is_the_cause_and_the_services_wait_for_it() {
    let lab = TlsLab::new();
    let good = lab.client(LeafSpec::client("ORGAO DIAG"));
    let report = first_cause(
        lab.place(),
        &lab.args(lab.store(), &good).flags(),
        &[("CP", "not-the-password")],
        "cert:client",
        "CLIENT_CERT_BAD_PASSWORD",
    );
    assert_explains(&report, &["http:tramita"]);
    assert!(report["diagnosis"][0]["first_step"].as_str().unwrap().contains(good.to_str().unwrap()));
    assert!(!report.to_string().contains("not-the-password"));
}

#[test]
fn a_trust_store_without_the_root_is_one_cause_for_every_target() {
    let lab = TlsLab::new();
    let good = lab.client(LeafSpec::client("ORGAO DIAG"));
    let without_root = lab.lab.pki().bundle("isrg-only.pem", &[Path::new("/etc/ssl/certs/ISRG_Root_X1.pem")]);
    let args = lab.args(&without_root, &good);
    let report = first_cause(lab.place(), &args.flags(), &[("CP", PASS)], "tls:tramita", "SERVER_CERT_UNTRUSTED");
    assert_explains(&report, &["tls:pendencias", "http:tramita", "http:pendencias"]);
    let step = report["diagnosis"][0]["first_step"].as_str().unwrap();
    assert!(step.contains(&lab.lab.root_name()), "{step}");
    assert_only_one_failure(&report);
}

// --------------------------------------------------------------------------- node services

#[test]
fn supervisord_down_is_the_cause_of_the_workers_not_running() {
    let tmp = temp_dir("pdt-diag-node-");
    let root = tmp.path();
    let write = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
    };
    write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\napache:x:48:48::/usr/share/httpd:/sbin/nologin\n");
    write("proc/uptime", "1000.00 2000.00\n");
    write("usr/bin/php", "");
    write("opt/sei/scripts/mod-pen/ProcessamentoTarefasPEN.php", "<?php\n");
    write("opt/sei/scripts/mod-pen/MonitoramentoEnvioTarefasPEN.php", "<?php\n");
    // supervisord's socket would be here; nothing runs it.
    let socket = root.join("run/supervisor.sock");
    write(
        "etc/supervisord.conf",
        &format!(
            "[unix_http_server]\nfile={}\n\n[supervisord]\nlogfile=/var/log/supervisord.log\n\n\
             [program:sei_processamento]\ncommand=/usr/bin/php /opt/sei/scripts/mod-pen/ProcessamentoTarefasPEN.php\nuser=apache\n\n\
             [program:sei_monitoramento]\ncommand=/usr/bin/php /opt/sei/scripts/mod-pen/MonitoramentoEnvioTarefasPEN.php\nuser=apache\n",
            socket.display()
        ),
    );
    let root_env = root.to_str().unwrap();
    let report = first_cause(
        Host,
        &["--only", "supervisor,process", "--timeout", "2s"],
        &[("PEN_DOCTOR_ROOT", root_env)],
        "supervisor",
        "SUPERVISOR_DOWN",
    );
    assert_explains(&report, &["process:pen"]);
    assert_eq!(report["diagnosis"].as_array().unwrap().len(), 1, "{:#}", report["diagnosis"]);
}

// ------------------------------------------------------------------------- words and formats

#[test]
fn operating_system_errors_are_said_in_portuguese() {
    let ns = Netns::new();
    // Nothing listens on the resolver's port: the kernel refuses at once.
    ns.use_nameserver("127.0.0.53");
    let dns = CheckArgs::new().only("dns").target("tramita");
    let mut cmd = pen_doctor(&ns);
    cmd.args(dns.clone().flag("--color", "never").argv());
    let pt = cmd.run();
    assert!(pt.stdout.contains("conexão recusada"), "{pt}");
    assert!(!pt.stdout.contains("os error") && !pt.stdout.contains("Connection refused"), "{pt}");
    // English asked for: the system's words; the JSON keeps the fact as it was.
    let mut cmd = pen_doctor(&ns);
    cmd.args(dns.clone().json().flag("--lang", "en").argv());
    let en = cmd.run().json();
    let f = &by_id(&en, "dns:tramita")["findings"][0];
    assert!(f["message"].as_str().unwrap().contains("Connection refused"), "{f:#}");
    let mut cmd = pen_doctor(&ns);
    cmd.args(dns.json().argv());
    let pt = cmd.run().json();
    let f = &by_id(&pt, "dns:tramita")["findings"][0];
    assert!(f["params"]["error"].as_str().unwrap().contains("Connection refused (os error 111)"), "{f:#}");
    assert!(f["message"].as_str().unwrap().contains("conexão recusada"), "{f:#}");
}

#[test]
fn real_reports_follow_the_json_schema() {
    // A run where everything answers, and a broken one (dead resolver: skips, a diagnosis).
    let ns = Netns::new();
    ns.set_hosts("127.0.0.2 tramita.test\n");
    let _web = TcpServer::start(&ns, "127.0.0.2:443", TcpBehaviour::Hold);
    let mut cmd = pen_doctor(&ns);
    cmd.args(
        CheckArgs::new().json().only("dns,tcp").target("tramita").endpoint("tramita", "https://tramita.test/").argv(),
    );
    let ok = cmd.run();
    assert_eq!(ok.json()["diagnosis"], serde_json::json!([]), "{ok}");
    assert_schema_valid("schema/report.schema.json", &ok.stdout);

    let dead = Netns::new();
    dead.use_nameserver("127.0.0.53");
    let mut cmd = pen_doctor(&dead);
    cmd.args(CheckArgs::new().json().only("dns,tcp,tls,http,cert,ca").timeout("1s").argv());
    let broken = cmd.run();
    assert!(!broken.json()["diagnosis"].as_array().unwrap().is_empty(), "{broken}");
    assert_schema_valid("schema/report.schema.json", &broken.stdout);
    // Re-rendered as JSON, a saved report still follows it.
    let dir = temp_dir("pdt-diag-schema-");
    let saved = dir.path().join("report.json");
    std::fs::write(&saved, &broken.stdout).unwrap();
    let again = pen_doctor(Host).args(["render", saved.to_str().unwrap(), "--format", "json"]).run();
    assert_schema_valid("schema/report.schema.json", &again.stdout);
    assert_eq!(again.json()["diagnosis"], broken.json()["diagnosis"]);
}

/// The Markdown report rendered by a real CommonMark renderer (`cmark`, Debian package cmark).
fn commonmark(markdown: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("cmark")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("cmark (scripts/setup-test-deps installs it)");
    child.stdin.take().unwrap().write_all(markdown.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn markdown_renders_commands_as_code_and_peers_text_as_text() {
    // The service answers its healthcheck with HTML and Markdown of its own.
    let hostile = Site::empty()
        .location(
            "location = /interoperabilidade/rest/v3/healthcheck { default_type text/html; \
             return 200 '<script>alert(1)</script> *negrito* [clique](http://evil.test/) | celula'; }",
        )
        .ok_elsewhere();
    let lab = TlsLab::serving(hostile);
    let good = lab.client(LeafSpec::client("ORGAO DIAG"));
    let args = lab.args(lab.store(), &good).format("markdown");
    let mut cmd = pen_doctor(lab.place());
    cmd.args(args.argv()).env("CP", PASS);
    let md = cmd.run();
    assert!(md.stdout.contains("HTTP_UNEXPECTED_RESPONSE"), "{md}");
    assert!(md.stdout.contains("esperado 200 do healthcheck, recebido:"), "said in Portuguese: {md}");
    let html = commonmark(&md.stdout);
    // The peer's HTML is text, its Markdown makes no emphasis nor link, its pipe breaks no table.
    assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"), "{html}");
    assert!(!html.contains("<em>negrito</em>") && !html.contains("href=\"http://evil.test/\""), "{html}");
    assert!(html.contains("celula"), "{html}");
    // Status words in Portuguese; the check ids in code spans (CommonMark has no tables: the
    // table stays as its text, each cell's content rendered inline).
    assert!(html.contains("| <code>http:tramita</code> | falha |"), "{html}");
    assert!(!html.contains("| fail |"), "{html}");

    // A certificate that is not there: its fix steps' commands are code, their globs no italics.
    let missing = lab.lab.pki().dir().join("nao-existe.pem");
    let args = lab.args(lab.store(), &missing).format("markdown").only("cert");
    let mut cmd = pen_doctor(lab.place());
    cmd.args(args.argv()).env("CP", PASS);
    let md = cmd.run();
    let html = commonmark(&md.stdout);
    assert!(html.contains("<code>find "), "{html}");
    assert!(html.contains("-name '*.pem'"), "{html}");
    assert!(!html.contains("<em>.pem"), "{html}");
    // The reply template: the cause filled in, the support desk's fields kept and marked.
    assert!(html.contains("<strong>[NOME DO SOLICITANTE]</strong>"), "{html}");
    assert!(!html.contains("CAUSA APONTADA PELO DIAGNÓSTICO"), "{html}");
    assert_eq!(html.matches("Modelo de resposta ao chamado").count(), 1, "{html}");
}

#[test]
fn fix_steps_name_the_installation_and_database_this_run_found() {
    // SEI installed outside /opt/sei, its database at 127.0.0.1:3306 where nothing answers.
    let dir = temp_dir("pdt-diag-sei-");
    let sei = dir.path().join("srv-sei");
    support::node::copy_sei_tree("modpen4", &sei);
    let ns = Netns::new();
    let mut cmd = pen_doctor(&ns);
    cmd.args(CheckArgs::new().json().only("cert,pen").timeout("2s").flag("--sei-dir", sei.to_str().unwrap()).argv());
    let run = cmd.run();
    let report = run.json();
    let steps: Vec<String> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["findings"].as_array().unwrap().iter())
        .flat_map(|f| f["fix"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()))
        .collect();
    let all = steps.join("\n");
    assert!(all.contains(&format!("find {}/config -name", sei.display())), "{all}");
    assert!(all.contains("mysql -h 127.0.0.1 -P 3306 -u sei_app -p"), "{all}");
    assert!(!all.contains("SERVIDOR") && !all.contains("PORTA"), "{all}");
    // /opt/sei appears only inside the certificate path the configuration itself names.
    for line in steps.iter().filter(|s| s.contains("/opt/sei")) {
        assert!(line.contains("/opt/sei/config/mod-pen/certificado.pem"), "{line}");
    }
    assert_eq!(report["run"]["discovered"]["sei_dir"], sei.display().to_string());
    assert_schema_valid("schema/report.schema.json", &run.stdout);
}

#[test]
fn an_accepted_finding_is_reported_as_info_from_the_flag_or_the_config_file() {
    let ns = Netns::new();
    ns.set_hosts("127.0.0.2 tramita.test\n");
    let base = CheckArgs::new().json().only("dns,tcp").target("tramita").endpoint("tramita", "https://tramita.test/");
    let base = base.argv();
    // Nothing listens: refused, a failure.
    let refused = pen_doctor(&ns).args(base).run();
    refused.assert_code(1);
    assert_eq!(refused.json()["diagnosis"][0]["code"], "TCP_REFUSED");
    // Accepted on the command line: info, marked, the run passes, no diagnosis.
    let accepted = pen_doctor(&ns).args(base).args(["--ignore", "tcp_refused"]).run();
    accepted.assert_code(0);
    let report = accepted.json();
    let tcp = by_id(&report, "tcp:tramita");
    assert_eq!(tcp["status"], "ok", "{tcp:#}");
    assert_eq!(tcp["findings"][0]["severity"], "info");
    assert_eq!(tcp["findings"][0]["params"]["ignored"], "--ignore");
    assert_eq!(report["diagnosis"], serde_json::json!([]));
    // The same from the configuration file.
    let dir = temp_dir("pdt-diag-ignore-");
    let conf = dir.path().join("pen-doctor.toml");
    std::fs::write(&conf, "ignore = [\"TCP_REFUSED\"]\n").unwrap();
    pen_doctor(&ns).args(base).arg("--config").arg(&conf).run().assert_code(0);
    // An unknown code is a usage error that names the nearest.
    let typo = pen_doctor(&ns).args(base).args(["--ignore", "TCP_REFUSD"]).run();
    typo.assert_code(2);
    assert!(typo.stderr.contains("TCP_REFUSED"), "{typo}");
}

#[test]
fn only_an_expired_root_on_a_targets_path_warns_and_the_advice_names_the_root_present() {
    let pki = Pki::new();
    let isrg = Path::new("/etc/ssl/certs/ISRG_Root_X1.pem");
    let store_check = |store: &Path| {
        let run =
            pen_doctor(Host).args(CheckArgs::new().json().only("ca").target("tramita").ca_bundle(store).argv()).run();
        by_id(&run.json(), "ca:store").clone()
    };
    // DST Root CA X3, expired, is what old OpenSSLs build Let's Encrypt's chain through: a warning,
    // and the advice disables that very entry.
    let dst = pki.root_with(CaSpec::new("DST Root CA X3").expired());
    let store = pki.bundle("dst.pem", &[isrg, &dst.cert]);
    let ca = store_check(&store);
    assert_eq!(ca["status"], "warn", "{ca:#}");
    let f = &ca["findings"].as_array().unwrap().iter().find(|f| f["code"] == "CA_STORE_EXPIRED_ROOTS").unwrap().clone();
    assert_eq!(f["severity"], "warn");
    let fix = f["fix"].to_string();
    assert!(fix.contains("mozilla/DST_Root_CA_X3.crt"), "{fix}");
    // Another expired root no target uses: info, the check passes, no advice about DST.
    let other = pki.root_with(CaSpec::new("Velha Raiz Qualquer").expired());
    let store = pki.bundle("other.pem", &[isrg, &other.cert]);
    let ca = store_check(&store);
    assert_eq!(ca["status"], "ok", "{ca:#}");
    let f = &ca["findings"].as_array().unwrap().iter().find(|f| f["code"] == "CA_STORE_EXPIRED_ROOTS").unwrap().clone();
    assert_eq!(f["severity"], "info");
    assert!(!f["fix"].to_string().contains("DST_Root_CA_X3"), "{f:#}");
}

#[test]
fn a_trust_store_skipped_by_the_user_is_said_and_the_tls_checks_still_run() {
    let lab = TlsLab::new();
    let good = lab.client(LeafSpec::client("ORGAO DIAG"));
    let args = lab.args(lab.store(), &good).flag("--skip", "ca:store");
    let mut cmd = pen_doctor(lab.place());
    cmd.args(args.clone().json().argv()).env("CP", PASS);
    let run = cmd.run();
    run.assert_code(0);
    let report = run.json();
    let ca = by_id(&report, "ca:store");
    assert_eq!((ca["status"].as_str(), ca["skipped_because"].as_str()), (Some("skip"), Some("--skip")), "{ca:#}");
    assert!(ca["findings"].as_array().unwrap().is_empty(), "not judged: {ca:#}");
    assert_eq!(by_id(&report, "tls:tramita")["status"], "ok", "the dependents ran with the store");
    assert_eq!(by_id(&report, "http:tramita")["status"], "ok");
    // Nagios says what was not checked instead of a bare OK.
    let mut cmd = pen_doctor(lab.place());
    cmd.args(args.format("nagios").argv()).env("CP", PASS);
    let nagios = cmd.run();
    let head = nagios.stdout.lines().next().unwrap_or_default().to_string();
    assert!(head.starts_with("PEN-DOCTOR OK - ") && head.contains("sem verificar (--skip) ca:store"), "{head}");
}

#[test]
fn day_counts_and_plurals_read_right() {
    let pki = Pki::new();
    let ca = pki.root("Diag Days CA");
    let message = |spec: LeafSpec, code: &str| {
        let c = pki.leaf(&ca, spec.client_auth(true));
        let file = pki.combined_pem(&c, PASS);
        // Dates have whole seconds: let one pass, so "2 days from now" is 1 day and 23:59:59 left.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let run = pen_doctor(Host)
            .args(["cert", "--format", "json", "--password-env", "CP"])
            .arg(&file)
            .env("CP", PASS)
            .run();
        let report = run.json();
        let f = report["checks"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == code)
            .unwrap_or_else(|| panic!("no {code}: {report:#}"))
            .clone();
        f["message"].as_str().unwrap().to_string()
    };
    // Expired three days (and some seconds) ago: three days, not four.
    let m = message(LeafSpec::client("ORGAO TRES DIAS").valid_days(-400, -3), "CLIENT_CERT_EXPIRED");
    assert!(m.contains("há 3 dias"), "{m}");
    // Expired one day ago; one day and some hours left.
    let m = message(LeafSpec::client("ORGAO UM DIA").valid_days(-400, -1), "CLIENT_CERT_EXPIRED");
    assert!(m.contains("há 1 dia.") || m.contains("há 1 dia,"), "{m}");
    let m = message(LeafSpec::client("ORGAO QUASE").valid_days(-10, 2), "CLIENT_CERT_EXPIRING");
    assert!(m.contains("(falta 1 dia)"), "{m}");
    // `pen-doctor cert` labels its facts in Portuguese too.
    let c = pki.leaf(&ca, LeafSpec::client("ORGAO ROTULOS").client_auth(true));
    let file = pki.combined_pem(&c, PASS);
    let facts =
        pen_doctor(Host).args(["cert", "--color", "never", "--password-env", "CP"]).arg(&file).env("CP", PASS).run();
    assert!(facts.stdout.contains("Titular") && facts.stdout.contains("Válido até"), "{facts}");
    assert!(!facts.stdout.contains("Not after") && !facts.stdout.contains("Subject"), "{facts}");
    // The days left are the measured number (valid for a year from now: 364 whole days, or 365
    // when the run starts within the certificate's first second).
    let days = facts.stdout.lines().find_map(|l| l.strip_prefix("Dias restantes")).map(str::trim);
    assert!(matches!(days, Some("364" | "365")), "{facts}");
    // An article with one code says "1 código".
    let list = pen_doctor(Host).args(["kb", "list"]).run();
    assert!(!list.stdout.contains("(1 códigos)"), "{list}");
}

#[test]
fn output_to_a_file_says_one_line_on_a_terminal_and_dash_is_stdout() {
    let ns = Netns::new();
    ns.set_hosts("127.0.0.2 tramita.test\n");
    let dir = temp_dir("pdt-diag-output-");
    let file = dir.path().join("relatorio.json");
    let args = format!(
        "{} check --only dns,tcp --target tramita --endpoint tramita=https://tramita.test/ --format json --output {}",
        env!("CARGO_BIN_EXE_pen-doctor"),
        file.display()
    );
    // On a terminal (script(1) gives the command a pseudo-terminal): the file, and one line.
    let tty = ns.cmd("script").args(["-qec", &args, "/dev/null"]).output().unwrap();
    let said = String::from_utf8_lossy(&tty.stdout).to_string();
    let line = said.rsplit('\r').find(|l| l.contains("Relatório gravado em")).unwrap_or_default().to_string();
    let line = line.rsplit("\u{1b}[2K").next().unwrap_or_default().trim().to_string();
    assert_eq!(
        line,
        format!("Relatório gravado em {}: FALHA (1 falha) — causa provável: tcp:tramita TCP_REFUSED", file.display()),
        "{said:?}"
    );
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved["diagnosis"][0]["code"], "TCP_REFUSED");
    std::fs::remove_file(&file).unwrap();
    // Not a terminal: the file only, nothing on stdout.
    let args = CheckArgs::new().only("dns,tcp").target("tramita").endpoint("tramita", "https://tramita.test/").json();
    let mut cmd = pen_doctor(&ns);
    let quiet = cmd.args(args.clone().flag("--output", file.to_str().unwrap()).argv()).run();
    assert_eq!(quiet.stdout, "", "{quiet}");
    assert!(file.exists());
    // `--output -` is stdout.
    let mut cmd = pen_doctor(&ns);
    let dash = cmd.args(args.flag("--output", "-").argv()).run();
    assert_eq!(dash.json()["diagnosis"][0]["code"], "TCP_REFUSED");
}

#[test]
fn junit_names_cases_by_title_and_code_leads_with_the_cause_and_keeps_evidence() {
    let ns = Netns::new();
    let _dead = SilentUdp::start(&ns, "127.0.0.53:53");
    ns.use_nameserver("127.0.0.53");
    let mut cmd = pen_doctor(&ns);
    let args = CheckArgs::new().format("junit").only("dns,tcp,tls,http").target("tramita,pendencias").timeout("1s");
    let run = cmd.args(args.argv()).run();
    let dir = temp_dir("pdt-diag-junit-");
    let file = dir.path().join("junit.xml");
    std::fs::write(&file, &run.stdout).unwrap();
    // Read by a real XML parser: the suite's timestamp, each case's name, the first failure, the
    // evidence of the first case.
    let script = r#"
import sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot().find('testsuite')
print(suite.get('timestamp'))
cases = suite.findall('testcase')
print(cases[0].get('name'))
print(next(c.find('failure').get('message') for c in cases if c.find('failure') is not None))
print([c.get('name') for c in cases if c.find('failure') is not None][1])
print((cases[0].findtext('system-out') or '').replace('\n', ' ')[:300])
"#;
    let parsed = std::process::Command::new("/usr/bin/python3").arg("-c").arg(script).arg(&file).output().unwrap();
    assert!(parsed.status.success(), "{}", String::from_utf8_lossy(&parsed.stderr));
    let out = String::from_utf8(parsed.stdout).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    let ts = lines[0];
    assert!(ts.len() == 19 && !ts.contains('.') && !ts.ends_with('Z'), "timestamp {ts}");
    assert!(lines[1].starts_with("dns:tramita — ") && lines[1].ends_with("[DNS_TIMEOUT]"), "{out}");
    assert!(lines[2].starts_with("DNS_TIMEOUT: "), "the first failure is the cause: {out}");
    assert!(lines[3].starts_with("dns:pendencias") && lines[4].contains("Evid"), "{out}");
    assert!(lines[4].contains("\"host\""), "the evidence: {out}");
    let second = run.stdout.find("consequência de dns:tramita").is_some();
    assert!(second, "a consequence names its cause: {}", run.stdout);
}

#[test]
fn the_report_says_which_configuration_it_used_and_why() {
    let ns = Netns::new();
    // An installation outside /opt/sei: read from there, its addresses used.
    let dir = temp_dir("pdt-diag-conf-");
    let sei = dir.path().join("srv-sei");
    support::node::copy_sei_tree("modpen4", &sei);
    let human = |args: &[&str]| {
        let mut cmd = pen_doctor(&ns);
        cmd.args(CheckArgs::new().only("dns").target("tramita").flag("--color", "never").args(args).argv());
        cmd.run().stdout
    };
    let found = human(&["--sei-dir", sei.to_str().unwrap()]);
    let line = found.lines().find(|l| l.starts_with("Configuração:")).unwrap_or_default();
    assert_eq!(
        line,
        format!("Configuração: SEI lido em {}; endereços da configuração do SEI", sei.display()),
        "{found}"
    );
    // The module version, in the human and the Markdown report.
    assert!(found.lines().any(|l| l == "Módulo mod-sei-pen 4.0.1"), "{found}");
    let md = human(&["--sei-dir", sei.to_str().unwrap(), "--format", "markdown"]);
    assert!(md.contains("| Módulo mod-sei-pen | 4.0.1 |"), "{md}");
    // None there: said, with the built-in addresses of the environment, in prose (accented).
    let empty = dir.path().join("vazio");
    std::fs::create_dir(&empty).unwrap();
    let absent = human(&["--sei-dir", empty.to_str().unwrap(), "--env", "homologacao"]);
    let line = absent.lines().find(|l| l.starts_with("Configuração:")).unwrap_or_default();
    assert!(line.contains(&format!("nenhuma instalação do SEI em {}", empty.display())), "{absent}");
    assert!(line.contains("endereços oficiais de homologação embutidos no pen-doctor"), "{absent}");
    assert!(absent.lines().next().unwrap_or_default().contains("ambiente homologação"), "{absent}");
}

#[test]
fn an_unreadable_configuration_shows_the_node_checks_as_skipped_behind_it() {
    let ns = Netns::new();
    let broken = support::node::sei_fixture("broken");
    let mut cmd = pen_doctor(&ns);
    cmd.args(CheckArgs::new().json().timeout("1s").flag("--sei-dir", broken.to_str().unwrap()).argv());
    let report = cmd.run().json();
    for id in ["gearman", "process:pen"] {
        let c = by_id(&report, id);
        assert_eq!(
            (c["status"].as_str(), c["skipped_because"].as_str()),
            (Some("skip"), Some("config:sei (fail)")),
            "{c:#}"
        );
    }
    let cause = report["diagnosis"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "config:sei")
        .unwrap_or_else(|| panic!("{:#}", report["diagnosis"]))
        .clone();
    assert_eq!(cause["code"], "SEI_CONFIG_UNREADABLE");
    let explains: Vec<&str> = cause["explains"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(explains.contains(&"gearman") && explains.contains(&"process:pen"), "{cause:#}");
    assert_eq!(report["run"]["discovered"]["sei"], "unreadable");
}
