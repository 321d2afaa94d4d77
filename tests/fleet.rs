//! The fleet: `pen-doctor merge` over real reports of several "nodes" (SEI trees of the test's
//! own, each with its configuration and client certificate), its fleet rules, its JSON checked
//! against schema/fleet.schema.json, reports of other versions, and the example Ansible playbook
//! run for real by a pinned ansible-playbook against local-connection nodes.

mod support;

use serde_json::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const CERT_PASSWORD: &str = "S3nh4-Cert-Fixture!";
const PROD_API: &str = "https://api.conectagov.processoeletronico.gov.br/interoperabilidade/rest/v3/";
const PROD_PENDENCIAS: &str = "https://pendencias.conectagov.processoeletronico.gov.br/";

/// An SEI installation of the test's own: the `modpen4` fixture (homologação addresses), or
/// with the production addresses, its `LocalizacaoCertificado` naming `cert`.
fn sei_tree(dir: &Path, name: &str, production: bool, cert: &Path) -> PathBuf {
    let sei = dir.join(name);
    support::node::copy_sei_tree("modpen4", &sei);
    let cfg = sei.join("config/mod-pen/ConfiguracaoModPEN.php");
    let mut text = fs::read_to_string(&cfg).unwrap();
    text = text.replace("/opt/sei/config/mod-pen/certificado.pem", &cert.display().to_string());
    if production {
        text = text
            .replace(
                "\"WebService\" => \"https://homolog.api.processoeletronico.gov.br/interoperabilidade/rest/v3/\"",
                &format!("\"WebService\" => \"{PROD_API}\""),
            )
            .replace(
                "\"WebServicePendencias\" => \"https://homolog.pendencias.processoeletronico.gov.br/\"",
                &format!("\"WebServicePendencias\" => \"{PROD_PENDENCIAS}\""),
            );
        assert!(text.contains(PROD_API) && text.contains(PROD_PENDENCIAS), "fixture changed: {text}");
    }
    fs::write(&cfg, text).unwrap();
    sei
}

/// Two client certificates (PEM with the key under the fixture's password) in `dir`.
fn certificates(pki: &Pki, dir: &Path) -> (PathBuf, PathBuf) {
    let root = pki.root("Test ICP Root");
    let mut out = Vec::new();
    for cn in ["sei-producao.orgao.gov.br", "sei-homologacao.orgao.gov.br"] {
        let leaf = pki.leaf(&root, LeafSpec::client(cn));
        let pem = dir.join(format!("{cn}.pem"));
        fs::copy(pki.combined_pem(&leaf, CERT_PASSWORD), &pem).unwrap();
        out.push(pem);
    }
    (out[0].clone(), out[1].clone())
}

/// A directory the web server's user could read too, like a real SEI tree.
fn open_dir(prefix: &str) -> tempfile::TempDir {
    let dir = temp_dir(prefix);
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// `pen-doctor check --only config,cert` on an SEI tree, the JSON report written to `out`.
/// A production node's SEI tree (its certificate made by the suite) and its report,
/// `current.json`, in a directory of their own.
fn one_node_report() -> (tempfile::TempDir, PathBuf) {
    let pki = Pki::new();
    let dir = open_dir("pdt-fleet-");
    let (cert, _) = certificates(&pki, dir.path());
    let sei = sei_tree(dir.path(), "node", true, &cert);
    let current = dir.path().join("current.json");
    node_report(&sei, &current);
    (dir, current)
}

fn node_report(sei: &Path, out: &Path) {
    let run = pen_doctor(Host)
        .args(["check", "--only", "config,cert", "--lang", "en", "--format", "json", "--sei-dir"])
        .arg(sei)
        .arg("--output")
        .arg(out)
        .run();
    assert!(matches!(run.code, Some(0 | 1)), "{run}");
}

fn merge(args: &[&Path], more: &[&str]) -> Run {
    pen_doctor(Host).arg("merge").args(args).args(more).args(["--lang", "en", "--color", "never"]).run()
}

fn codes(fleet: &Value) -> Vec<String> {
    fleet["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_string()).collect()
}

/// Validates `doc` against schema/fleet.schema.json.
fn assert_valid_fleet_json(doc: &str) {
    assert_schema_valid("schema/fleet.schema.json", doc);
}

#[test]
fn one_certificate_in_two_environments_is_a_fleet_failure() {
    let pki = Pki::new();
    let dir = open_dir("pdt-fleet-");
    let (prod_cert, hml_cert) = certificates(&pki, dir.path());
    // A homologação cloned from produção that kept produção's certificate, a produção node,
    // and a second produção node with the same certificate (one environment: that is fine).
    let hml = sei_tree(dir.path(), "hml", false, &prod_cert);
    let prd1 = sei_tree(dir.path(), "prd1", true, &prod_cert);
    let prd2 = sei_tree(dir.path(), "prd2", true, &prod_cert);
    let reports: Vec<PathBuf> = ["hml", "prd1", "prd2"].iter().map(|n| dir.path().join(format!("{n}.json"))).collect();
    for (sei, out) in [&hml, &prd1, &prd2].iter().zip(&reports) {
        node_report(sei, out);
    }
    let report: Value = serde_json::from_str(&fs::read_to_string(&reports[0]).unwrap()).unwrap();
    let facts = &report["node"];
    assert_eq!(facts["environment"], "homologacao", "{facts}");
    assert_eq!(facts["module_version"], "4.0.1", "{facts}");
    assert_eq!(facts["scheduler_cron"], Value::Null, "the cron check did not run: unknown, not false");
    let fingerprint = facts["certificate_sha256"].as_str().unwrap().to_string();
    let openssl =
        must(Command::new("openssl").args(["x509", "-noout", "-fingerprint", "-sha256", "-in"]).arg(&prod_cert));
    assert!(openssl.stdout.trim().ends_with(&fingerprint), "{fingerprint} vs {}", openssl.stdout);

    let paths: Vec<&Path> = reports.iter().map(PathBuf::as_path).collect();
    let json = merge(&paths, &["--format", "json"]);
    json.assert_code(1);
    assert_valid_fleet_json(&json.stdout);
    let fleet = json.json();
    assert_eq!(codes(&fleet), vec!["FLEET_CERT_SHARED_ACROSS_ENVIRONMENTS"], "{fleet:#}");
    let f = &fleet["findings"][0];
    assert_eq!(f["severity"], "fail");
    assert_eq!(f["kb"]["article"], "PEN-FROTA-AMBIENTES-AGENDADOR");
    assert_eq!(f["kb"]["cause"], 1);
    assert_eq!(f["nodes"].as_array().unwrap().len(), 3, "{f}");
    assert_eq!(f["params"]["sha256"], fingerprint.as_str());
    assert!(
        f["message"].as_str().unwrap().contains("homologacao (")
            && f["message"].as_str().unwrap().contains("producao (")
    );
    assert!(!f["fix"].as_array().unwrap().is_empty());
    assert_eq!(fleet["summary"]["status"], "fail");
    assert_eq!(fleet["summary"]["nodes_failing"], 0, "each node on its own is healthy");
    let verdicts: Vec<(&str, &str)> = fleet["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["code"].as_str().unwrap(), r["verdict"].as_str().unwrap()))
        .collect();
    assert_eq!(
        verdicts,
        vec![
            ("FLEET_CERT_SHARED_ACROSS_ENVIRONMENTS", "fired"),
            ("FLEET_SCHEDULER_NOT_UNIQUE", "unknown"),
            ("FLEET_QUEUE_OFF_CRON_NODE", "unknown"),
        ]
    );
    assert_eq!(fleet["rules"][1]["missing"], serde_json::json!(["scheduler_cron"]));

    let human = merge(&paths, &[]);
    human.assert_code(1);
    assert!(human.stdout.contains("FAIL FLEET_CERT_SHARED_ACROSS_ENVIRONMENTS — nodes: "), "{human}");
    assert!(human
        .stdout
        .contains("FLEET_SCHEDULER_NOT_UNIQUE             unknown — SEI's scheduler in cron not reported on: "));
    let md = merge(&paths, &["--format", "markdown"]);
    assert!(md.stdout.contains("### `FLEET_CERT_SHARED_ACROSS_ENVIRONMENTS` — "), "{md}");

    // Each environment with its own certificate: the rule passes.
    let hml_own = sei_tree(dir.path(), "hml-own", false, &hml_cert);
    let own_report = dir.path().join("hml-own.json");
    node_report(&hml_own, &own_report);
    let fixed = merge(&[&own_report, &reports[1], &reports[2]], &["--format", "json"]);
    fixed.assert_code(0);
    assert_valid_fleet_json(&fixed.stdout);
    let fleet = fixed.json();
    assert!(codes(&fleet).is_empty(), "{fleet:#}");
    assert_eq!(fleet["rules"][0]["verdict"], "ok");

    // The fix as `diff` tells it: the homologação node's certificate changed.
    let diff = pen_doctor(Host).arg("diff").args([&reports[0], &own_report]).args(["--format", "json"]).run();
    diff.assert_code(0);
    let changed = diff.json()["facts_changed"].clone();
    let facts: Vec<&str> = changed.as_array().unwrap().iter().map(|f| f["fact"].as_str().unwrap()).collect();
    assert_eq!(facts, vec!["certificate_sha256", "certificate_subject"], "{changed}");
    assert_eq!(changed[0]["before"], fingerprint.as_str());
}

#[test]
fn reports_of_other_versions_are_read_or_refused_clearly() {
    let (dir, current) = one_node_report();

    // A report of a pen-doctor that did not write the `node` section.
    let mut old: Value = serde_json::from_str(&fs::read_to_string(&current).unwrap()).unwrap();
    old.as_object_mut().unwrap().remove("node");
    old["tool"]["version"] = "0.0.9".into();
    old["run"]["host"]["hostname"] = "sei-old".into();
    let older = dir.path().join("older.json");
    fs::write(&older, old.to_string()).unwrap();
    let run = merge(&[&current, &older], &["--format", "json"]);
    run.assert_code(0);
    assert_valid_fleet_json(&run.stdout);
    let fleet = run.json();
    assert_eq!(fleet["nodes"][1]["facts"], Value::Null);
    assert_eq!(fleet["rules"][0]["verdict"], "unknown");
    assert_eq!(fleet["rules"][0]["unknown_on"], serde_json::json!(["sei-old"]));
    let notes = fleet["notes"].to_string();
    assert!(notes.contains("sei-old: report of pen-doctor 0.0.9 without the \\\"node\\\" section"), "{notes}");
    assert!(notes.contains("different pen-doctor versions"), "{notes}");
    let human = merge(&[&current, &older], &[]);
    assert!(human.stdout.contains("node facts (report of an older version) on: sei-old"), "{human}");
    let diff = pen_doctor(Host).arg("diff").args([&older, &current]).args(["--lang", "en"]).run();
    diff.assert_code(0);
    assert!(diff.stdout.contains("the before report (pen-doctor 0.0.9) has no node facts"), "{diff}");

    // A report of a newer format: refused, saying which version wrote it and what to do.
    let mut future = old.clone();
    future["schema_version"] = 2.into();
    future["tool"]["version"] = "9.1.0".into();
    let newer = dir.path().join("newer.json");
    fs::write(&newer, future.to_string()).unwrap();
    for run in [merge(&[&current, &newer], &[]), pen_doctor(Host).arg("diff").args([&current, &newer]).run()] {
        run.assert_code(2);
        assert_eq!(run.stderr.lines().count(), 1, "{run}");
        assert!(
            run.stderr.contains("newer.json: schema_version 2 is not supported (a newer report format, written by pen-doctor 9.1.0); this pen-doctor"),
            "{run}"
        );
        assert!(run.stderr.contains("reads schema_version 1"), "{run}");
        assert!(run.stdout.is_empty(), "{run}");
    }
}

#[test]
fn a_report_that_does_not_say_when_it_ran_is_still_read() {
    let (dir, current) = one_node_report();
    let original: Value = serde_json::from_str(&fs::read_to_string(&current).unwrap()).unwrap();
    let started_at = original["run"]["started_at"].as_str().unwrap().to_string();

    // Re-rendered as JSON, a normal report keeps its time byte for byte.
    let again = pen_doctor(Host).arg("render").arg(&current).args(["--format", "json"]).run();
    again.assert_code(0);
    assert_eq!(again.json()["run"]["started_at"], started_at.as_str(), "{again}");

    // Missing, not RFC 3339 (with a terminal escape), not a text.
    let odd = [None, Some(Value::from("ontem \u{1b}[2J às 10h")), Some(Value::from(1_795_763_136))];
    for (i, value) in odd.into_iter().enumerate() {
        let mut report = original.clone();
        report["run"]["host"]["hostname"] = format!("sei-odd{i}").into();
        match &value {
            None => drop(report["run"].as_object_mut().unwrap().remove("started_at")),
            Some(v) => report["run"]["started_at"] = v.clone(),
        }
        let file = dir.path().join(format!("odd{i}.json"));
        fs::write(&file, report.to_string()).unwrap();

        let json = pen_doctor(Host).arg("render").arg(&file).args(["--format", "json"]).run();
        json.assert_code(0);
        assert_eq!(json.json()["run"]["started_at"], "unknown", "{value:?}: {json}");
        assert_schema_valid("schema/report.schema.json", &json.stdout);
        let junit = pen_doctor(Host).arg("render").arg(&file).args(["--format", "junit"]).run();
        junit.assert_code(0);
        assert!(junit.stdout.contains("<testsuite ") && !junit.stdout.contains("timestamp="), "{junit}");
        for (lang, word) in [("en", "unknown"), ("pt", "desconhecido")] {
            let human = pen_doctor(Host)
                .arg("render")
                .arg(&file)
                .args(["--format", "human", "--lang", lang, "--color", "never"])
                .run();
            human.assert_code(0);
            assert!(human.stdout.lines().next().unwrap().ends_with(&format!(" · {word}")), "{human}");
            assert!(!human.stdout.contains('\u{1b}') && !human.stdout.contains("ontem"), "{human}");
        }

        let fleet = merge(&[&current, &file], &["--format", "json"]);
        fleet.assert_code(0);
        assert_valid_fleet_json(&fleet.stdout);
        let nodes = fleet.json()["nodes"].clone();
        assert_eq!(
            (nodes[0]["started_at"].as_str(), nodes[1]["started_at"].as_str()),
            (Some(started_at.as_str()), Some("unknown"))
        );
        let human = merge(&[&current, &file], &[]);
        human.assert_code(0);
        assert!(human.stdout.contains(&started_at) && human.stdout.contains(" unknown "), "{human}");
        let diff = pen_doctor(Host).arg("diff").args([&file, &current]).args(["--lang", "en"]).run();
        diff.assert_code(0);
        assert!(diff.stdout.contains(&format!("sei-odd{i} unknown (")), "{diff}");
    }
}

#[test]
fn a_skip_caused_by_a_node_failure_is_not_a_difference() {
    // Node A cannot resolve the target (its DNS server refuses), so its tcp check is skipped;
    // node B resolves it and connects. Only the DNS failure differs; A's skip is its consequence.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let dns_closed = support::node::free_udp_port();
    let dir = temp_dir("pdt-fleet-");
    let url = format!("tramita=https://sei-fleet.test:{port}/");
    let common =
        ["check", "--only", "tcp", "--target", "tramita", "--timeout", "2s", "--lang", "en", "--format", "json"];
    let a = dir.path().join("a.json");
    let run = pen_doctor(Host)
        .args(common)
        .args(["--endpoint", &url, "--dns-server", &format!("127.0.0.1:{dns_closed}"), "--output"])
        .arg(&a)
        .run();
    run.assert_code(1);
    let b = dir.path().join("b.json");
    let run = pen_doctor(Host)
        .args(common)
        .args(["--endpoint", &url, "--resolve", &format!("sei-fleet.test:{port}:127.0.0.1"), "--output"])
        .arg(&b)
        .run();
    run.assert_code(0);
    let report: Value = serde_json::from_str(&fs::read_to_string(&a).unwrap()).unwrap();
    let tcp = check(&report, "tcp:tramita");
    assert_eq!(tcp["status"], "skip", "{tcp}");

    let fleet = merge(&[&a, &b], &["--format", "json"]).json();
    let differing: Vec<&str> =
        fleet["differences"].as_array().unwrap().iter().map(|d| d["check"].as_str().unwrap()).collect();
    assert_eq!(differing, vec!["dns:tramita"], "{fleet:#}");
    assert_eq!(fleet["checks"][1]["id"], "tcp:tramita");
    let human = merge(&[&a, &b], &[]).stdout;
    assert!(!human.contains("tcp:tramita: "), "a skip is not a difference: {human}");
}

/// The pinned ansible-core that scripts/setup-test-deps installs.
fn ansible_playbook() -> PathBuf {
    let venv =
        std::env::var_os("ANSIBLE_VENV").map(PathBuf::from).unwrap_or_else(|| "/opt/pen-doctor-tests/ansible".into());
    let bin = venv.join("bin/ansible-playbook");
    assert!(bin.is_file(), "{} missing: run ./scripts/setup-test-deps (as root)", bin.display());
    bin
}

#[test]
fn the_example_playbook_collects_the_nodes_and_finds_the_shared_certificate() {
    let pki = Pki::new();
    let dir = open_dir("pdt-ansible-");
    let (prod_cert, hml_cert) = certificates(&pki, dir.path());
    // The repository as a user has it: the example playbook, run from the repository root.
    let repo = dir.path().join("repo");
    fs::create_dir_all(repo.join("examples/ansible")).unwrap();
    fs::copy(Path::new(ROOT).join("examples/ansible/pen-doctor.yml"), repo.join("examples/ansible/pen-doctor.yml"))
        .unwrap();
    let nodes = [("sei-hml-01", false, &prod_cert), ("sei-prd-01", true, &prod_cert), ("sei-prd-02", true, &hml_cert)];
    let mut hosts = serde_json::Map::new();
    for (name, production, cert) in nodes {
        let sei = sei_tree(dir.path(), name, production, cert);
        let reports = dir.path().join(format!("{name}-var-tmp"));
        fs::create_dir_all(&reports).unwrap();
        hosts.insert(
            name.to_string(),
            serde_json::json!({
                "pen_doctor_args": ["--sei-dir", sei, "--only", "config,cert", "--lang", "en"],
                "pen_doctor_report_dir": reports,
            }),
        );
    }
    let inventory = serde_json::json!({
        "sei": {
            "hosts": hosts,
            "vars": {
                "ansible_connection": "local",
                "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                "ansible_become": false,
            }
        }
    });
    // JSON is YAML: the inventory as ansible-inventory reads it.
    fs::write(repo.join("examples/ansible/test-inventory.yml"), inventory.to_string()).unwrap();
    let home = dir.path().join("home");
    fs::create_dir_all(&home).unwrap();
    let run = Command::new(ansible_playbook())
        .current_dir(&repo)
        .env_clear()
        .env("PATH", CLEAN_PATH)
        .env("HOME", &home)
        .env("LC_ALL", "C.UTF-8")
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_FORKS", "3")
        .args(["-i", "examples/ansible/test-inventory.yml", "examples/ansible/pen-doctor.yml"])
        .args(["-e", &format!("pen_doctor={}", env!("CARGO_BIN_EXE_pen-doctor"))])
        .run();
    run.assert_code(0);
    assert!(run.stdout.contains("failed=0"), "{run}");

    // Everything lands beside the playbook, whatever the working directory.
    let out = repo.join("examples/ansible/pen-doctor-reports");
    for (name, _, _) in nodes {
        let report: Value =
            serde_json::from_str(&fs::read_to_string(out.join(format!("pen-doctor-{name}.json"))).unwrap()).unwrap();
        assert_eq!(report["checks"][1]["id"], "cert:client", "{report}");
    }
    let doc = fs::read_to_string(out.join("fleet.json")).unwrap();
    assert_valid_fleet_json(&doc);
    let fleet: Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(fleet["summary"]["nodes"], 3);
    assert_eq!(codes(&fleet), vec!["FLEET_CERT_SHARED_ACROSS_ENVIRONMENTS"], "{fleet:#}");
    let names: Vec<&str> =
        fleet["findings"][0]["nodes"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names.iter().any(|n| n.contains("sei-hml-01")) && names.iter().any(|n| n.contains("sei-prd-01")),
        "{names:?}"
    );
    let md = fs::read_to_string(out.join("fleet.md")).unwrap();
    assert!(md.contains("### `FLEET_CERT_SHARED_ACROSS_ENVIRONMENTS`"), "{md}");
}
