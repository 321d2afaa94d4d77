//! `config:sei` through the real binary on SEI trees written like real installations
//! (`fixtures/sei/`): what it discovers, what it reports, and that no password ever shows.

mod support;

use serde_json::Value;
use std::path::Path;
use support::{codes, finding, pen_doctor, Host, Run, RunExt};

/// Every password the fixtures hold.
const SECRETS: &[&str] = &[
    "S3nh4-Cert-Fixture!",
    "S3nh4-Banco-Fixture!",
    "S3nh4-Script-Fixture!",
    "S3nh4-Mail-Fixture!",
    "S3nh4-PI-Fixture!",
    "S3nh4",
];

use support::node::sei_fixture;

/// Runs `pen-doctor check --sei-dir DIR --only config` with `extra` arguments.
fn run(dir: &Path, extra: &[&str]) -> Run {
    pen_doctor(Host)
        .arg("check")
        .arg("--sei-dir")
        .arg(dir)
        .args(["--only", "config", "--color", "never"])
        .args(extra)
        .run()
}

/// The JSON report's `config:sei` entry, and the whole report.
fn config_check(dir: &Path, extra: &[&str]) -> (i32, Value, Value) {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    let out = run(dir, &args);
    let (code, report) = (out.code.unwrap_or(-1), out.json());
    let checks = report["checks"].as_array().cloned().unwrap_or_default();
    assert_eq!(checks.len(), 1, "only config:sei runs with --only config: {report}");
    let check = checks[0].clone();
    assert_eq!(check["id"], "config:sei");
    assert_eq!(check["check"], "config");
    (code, check, report)
}

#[test]
fn modpen4_discovers_endpoints_certificate_gearman_and_versions() {
    let dir = sei_fixture("modpen4");
    let (code, check, report) = config_check(&dir, &[]);
    assert_eq!(code, 0, "{check}");
    assert_eq!(check["status"], "ok");
    assert_eq!(codes(&check), Vec::<String>::new());
    // No --env: the run's environment is the one WebService names.
    assert_eq!(report["run"]["environment"], "homologacao");
    let e = &check["evidence"];
    assert_eq!(e["producao"], true);
    assert_eq!(e["modules"]["PENIntegracao"], "pen");
    assert_eq!(e["modules"]["ProtocoloIntegradoIntegracao"], "protocolo-integrado");
    assert_eq!(e["files_read"].as_array().map(Vec::len), Some(3));
    let pen = &e["pen"];
    assert_eq!(pen["web_service"], "https://homolog.api.processoeletronico.gov.br/interoperabilidade/rest/v3/");
    assert_eq!(pen["web_service_pendencias"], "https://homolog.pendencias.processoeletronico.gov.br/");
    assert_eq!(pen["api"], "rest");
    assert_eq!(pen["environment"], "homologacao");
    assert_eq!(pen["certificate"], "/opt/sei/config/mod-pen/certificado.pem");
    assert_eq!(pen["certificate_password_set"], true);
    assert_eq!(pen["gearman"], "127.0.0.1:4730");
    assert_eq!(pen["version"], "4.0.1");
    let pi = &e["protocolo_integrado"];
    assert_eq!(pi["web_service"], "https://protocolointegrado.preprod.nuvem.gov.br/ProtocoloWS/integradorService?wsdl");
    assert_eq!(pi["user"], "oex.integracao");
    assert_eq!(pi["password_set"], true);
    assert_eq!(pi["version"], "3.0.2");
    assert_eq!(e["database"]["type"], "MySql");
    assert_eq!(e["database"]["port"], 3306);
    assert_eq!(e["database"]["password_set"], true);
}

#[test]
fn env_flag_differing_from_web_service_is_a_warning() {
    let dir = sei_fixture("modpen4");
    let (code, check, report) = config_check(&dir, &["--env", "producao"]);
    assert_eq!(check["status"], "warn", "{check}");
    assert_eq!(code, 0, "warnings alone do not fail the run");
    assert_eq!(report["run"]["environment"], "producao");
    let f = finding(&check, "PEN_ENV_MISMATCH");
    assert_eq!(f["severity"], "warn");
    assert_eq!(f["params"]["configured"], "homologacao");
    assert_eq!(f["params"]["requested"], "producao");
    // Prose says the environment's name; the facts and commands keep the identifier.
    assert!(f["message"].as_str().unwrap_or("").contains("ambiente homologação"), "{f}");
    assert!(f["fix"][0].as_str().unwrap_or("").contains("--env homologacao"), "{f}");
    // --strict makes the warning count.
    let (code, _, _) = config_check(&dir, &["--env", "producao", "--strict"]);
    assert_eq!(code, 1);
    // The same environment: nothing to say.
    let (_, check, _) = config_check(&dir, &["--env", "homologacao"]);
    assert_eq!(codes(&check), Vec::<String>::new());
}

#[test]
fn modpen2_older_generation_soap_v2_sql_server_no_gearman() {
    let dir = sei_fixture("modpen2");
    let (code, check, _) = config_check(&dir, &[]);
    assert_eq!(code, 1, "soap/v2 is switched off: {check}");
    assert_eq!(codes(&check), ["PEN_WEBSERVICE_DISCONTINUED", "PEN_TLS_VERIFICATION_OFF"]);
    let f = finding(&check, "PEN_TLS_VERIFICATION_OFF");
    assert_eq!(f["severity"], "info");
    assert_eq!(f["kb"]["article"], "TRAMITA-FALHA-COMUNICACAO");
    assert_eq!(f["kb"]["cause"], 2);
    let pen = &check["evidence"]["pen"];
    assert_eq!(pen["api"], "soap");
    assert_eq!(pen["gearman"], Value::Null);
    assert_eq!(pen["processing"], "in-process");
    assert_eq!(pen["version"], "2.1.7");
    // dirname(__FILE__) . '/certificado.pem' resolved against the configuration file.
    let cert = dir.join("config/mod-pen/certificado.pem");
    assert_eq!(pen["certificate"], cert.display().to_string());
    assert_eq!(check["evidence"]["database"]["type"], "SqlServer");
}

#[test]
fn modpen1_keeps_its_configuration_in_the_database() {
    let (_, check, _) = config_check(&sei_fixture("modpen1"), &["--timeout", "2s"]);
    let pen = &check["evidence"]["pen"];
    assert_eq!(
        (&pen["version"], &pen["version_form"], &pen["era"]),
        (&"1.5.4".into(), &"getVersao()".into(), &"1.x".into())
    );
    // No ConfiguracaoModPEN.php, and none missed: 1.x reads md_pen_parametro.
    assert!(!codes(&check).contains(&"SEI_CONFIG_NOT_FOUND".to_string()), "{check}");
    assert!(codes(&check).contains(&"PEN_TLS_VERIFICATION_OFF".to_string()));
    assert_eq!(pen["gearman"], "localhost:4730");
    assert_eq!(check["evidence"]["producao"], false);
}

#[test]
fn latin1_installation_is_read() {
    let (code, check, report) = config_check(&sei_fixture("latin1"), &[]);
    assert_eq!(code, 0, "{check}");
    assert_eq!(codes(&check), ["PEN_TLS_VERIFICATION_OFF"], "3.6 talks SOAP");
    assert_eq!(report["run"]["environment"], "producao");
    let pen = &check["evidence"]["pen"];
    assert_eq!(pen["certificate"], "/opt/sei/config/mod-pen/certificado-fundação.pem");
    assert_eq!(pen["environment"], "producao");
    assert_eq!(pen["version"], "3.6.2");
    assert_eq!(check["evidence"]["database"]["user"], "sei_usuário");
}

#[test]
fn truncated_configuration_names_file_and_line() {
    let dir = sei_fixture("broken");
    let (code, check, _) = config_check(&dir, &[]);
    assert_eq!(code, 1);
    assert_eq!(check["status"], "fail");
    assert_eq!(codes(&check), ["SEI_CONFIG_UNREADABLE"]);
    let f = finding(&check, "SEI_CONFIG_UNREADABLE");
    assert_eq!(f["params"]["line"], "52");
    let message = f["message"].as_str().unwrap_or("");
    assert!(message.contains("ConfiguracaoSEI.php:52"), "{message}");
    assert_eq!(check["evidence"]["usable"], false);
}

#[test]
fn missing_installation_given_explicitly() {
    let dir = tempfile::tempdir().unwrap();
    let (code, check, _) = config_check(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(codes(&check), ["SEI_CONFIG_NOT_FOUND"]);
    let path = finding(&check, "SEI_CONFIG_NOT_FOUND")["params"]["path"].as_str().unwrap_or("").to_string();
    assert!(path.ends_with("config/ConfiguracaoSEI.php"), "{path}");
}

#[test]
fn module_enabled_without_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("ConfiguracaoSEI.php"),
        "<?php\nclass ConfiguracaoSEI extends InfraConfiguracao {\n  public function getArrConfiguracoes() {\n    return array('SEI' => array('Producao' => true, 'Modulos' => array('PENIntegracao' => 'pen')));\n  }\n}\n",
    )
    .unwrap();
    let (code, check, _) = config_check(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(codes(&check), ["PEN_MODULE_DIR_MISSING", "SEI_CONFIG_NOT_FOUND"]);
}

#[test]
fn no_password_in_any_output_format() {
    for name in ["modpen4", "modpen38", "modpen3", "modpen2", "modpen1", "latin1", "broken"] {
        for format in ["human", "json", "markdown", "junit", "nagios", "prometheus"] {
            for lang in ["pt", "en"] {
                let Run { stdout, stderr, .. } = run(&sei_fixture(name), &["--format", format, "--lang", lang]);
                assert!(!stdout.is_empty(), "{name} {format}: empty report");
                for secret in SECRETS {
                    assert!(!stdout.contains(secret), "{name} {format} {lang}: {secret} in stdout:\n{stdout}");
                    assert!(!stderr.contains(secret), "{name} {format} {lang}: {secret} in stderr:\n{stderr}");
                }
            }
        }
    }
}

#[test]
fn no_password_in_the_report_file() {
    let out = tempfile::tempdir().unwrap();
    for (name, format) in [("modpen4", "markdown"), ("broken", "json")] {
        let file = out.path().join(format!("{name}.{format}"));
        let stdout = run(&sei_fixture(name), &["--format", format, "--output", file.to_str().unwrap_or("")]).stdout;
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(!text.is_empty(), "{name}: no report written");
        assert!(!text.contains("S3nh4") && !stdout.contains("S3nh4"), "{name} {format}");
    }
}

/// The variables the agency's docker images give the processes that run SEI.
const DOCKER_ENV: &[(&str, &str)] = &[
    ("APP_PROTOCOLO", "https"),
    ("APP_HOST", "sei.orgao-exemplo.gov.br"),
    ("DB_HOST", "127.0.0.1"),
    ("DB_PORTA", "3306"),
    ("DB_SEI_BASE", "sei"),
    ("DB_SEI_USERNAME", "sei_app"),
    ("DB_SEI_PASSWORD", "S3nh4-Docker-Banco!"),
    ("DB_TIPO", "MySql"),
    ("PEN_WEBSERVICE", "https://homolog.api.processoeletronico.gov.br/interoperabilidade/rest/v3/"),
    ("PEN_WEBSERVICE_PENDENCIAS", "https://homolog.pendencias.processoeletronico.gov.br/"),
    ("PEN_CERTIFICADO", "/opt/sei/config/mod-pen/certificado-docker.pem"),
    ("PEN_SENHA_CERTIFICADO", "S3nh4-Docker-Cert!"),
    ("PEN_GEARMAN_HOST", "127.0.0.1"),
];

/// The `config:sei` entry of `check --only config --format json` on the docker fixture, run
/// with `env` as its environment (as `docker exec CONTAINER pen-doctor check` would).
fn docker_check(env: &[(&str, &str)]) -> (i32, Value, String) {
    // A host root whose /proc holds no process: no environment but pen-doctor's own is read.
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("proc")).unwrap();
    let out = pen_doctor(Host)
        .arg("check")
        .arg("--sei-dir")
        .arg(sei_fixture("docker"))
        .args(["--only", "config", "--color", "never", "--format", "json"])
        .env("PEN_DOCTOR_ROOT", root.path())
        .envs(env.iter().copied())
        .run();
    let check = out.check("config:sei").clone();
    (out.code.unwrap_or(-1), check, out.stdout.clone() + &out.stderr)
}

#[test]
fn docker_installation_reads_its_values_from_the_environment() {
    let (code, check, output) = docker_check(DOCKER_ENV);
    assert_eq!(code, 0, "{check}");
    assert_eq!(codes(&check), Vec::<String>::new(), "{check}");
    let e = &check["evidence"];
    // `(getenv('APP_PROTOCOLO') == 'https' ? true : false)`
    assert_eq!(e["producao"], true);
    assert_eq!(e["pen"]["web_service"], "https://homolog.api.processoeletronico.gov.br/interoperabilidade/rest/v3/");
    assert_eq!(e["pen"]["certificate"], "/opt/sei/config/mod-pen/certificado-docker.pem");
    assert_eq!(e["pen"]["certificate_password_set"], true);
    assert_eq!(e["pen"]["gearman"], "127.0.0.1:4730");
    assert_eq!((&e["database"]["host"], &e["database"]["port"]), (&Value::from("127.0.0.1"), &Value::from(3306)));
    // Each value computed from the environment says where it came from, never what it is.
    let sources = e["value_sources"].as_array().cloned().unwrap_or_default();
    let from = |key: &str| sources.iter().find(|s| s["key"] == key).map(|s| s["from"].clone()).unwrap_or(Value::Null);
    assert_eq!(
        from("SenhaCertificado"),
        serde_json::json!(["getenv('PEN_SENHA_CERTIFICADO'): environment of pen-doctor"])
    );
    assert_eq!(from("Producao"), serde_json::json!(["getenv('APP_PROTOCOLO'): environment of pen-doctor"]));
    assert!(!output.contains("S3nh4"), "{output}");
}

#[test]
fn docker_installation_without_its_environment_is_unresolved_not_wrong() {
    let (code, check, output) = docker_check(&[]);
    assert_eq!(code, 0, "{check}");
    assert_eq!(check["status"], "warn");
    assert!(codes(&check).iter().all(|c| c == "SEI_CONFIG_UNRESOLVED"), "{check}");
    let e = &check["evidence"];
    assert_eq!(e["producao"], Value::Null);
    assert_eq!(e["pen"]["web_service"], Value::Null);
    assert!(e.get("value_sources").is_none(), "{e}");
    let senha = check["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["params"]["key"] == "SenhaCertificado"))
        .unwrap_or_else(|| panic!("{check}"));
    assert_eq!(senha["params"]["expr"], "***");
    assert!(!output.contains("S3nh4"), "{output}");
}
