//! mod-sei-pen as each real version behaves, through the real binary: SEI trees written like the
//! real files of every era (1.x in the database, 2.x SOAP v2, 3.x SOAP, 3.8 REST, 4.x), a docker
//! installation whose values live in a running process's environment, 1.x's parameters in a real
//! MariaDB, a real nginx serving the WSDL and the REST API to prove `http:tramita` asks what the
//! module asks (the trailing slash included), php.ini files as SEI's PHP loads them, and hostile
//! inputs. Everything is asserted through the binary's JSON reports.
mod support;

use serde_json::Value;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::mariadb::SeiDb;
use support::pki_tls;
use support::{
    codes, finding, isrg_x1, pen_doctor, write, CheckArgs, Host, Mtls, Proc, Run, RunExt, Running, Scenario, Site,
};

/// Every password the fixtures and the tests hold.
const SECRETS: &[&str] = &["S3nh4", "Senha-Do-Certificado-9", "Banco-Eras-S3cret!", "Docker-S3cret"];
const PASS: &str = "Senha-Do-Certificado-9";
const DB_PASSWORD: &str = "Banco-Eras-S3cret!";

use support::node::{sei_copy, sei_fixture};

/// Replaces `old` with `new` in a file of a tree, byte for byte (ISO-8859-1 files stay so).
fn edit(dir: &Path, rel: &str, old: &str, new: &str) {
    let p = dir.join(rel);
    let text: String = std::fs::read(&p).unwrap().iter().map(|b| char::from(*b)).collect();
    assert!(text.contains(old), "{old} not in {rel}");
    let new_text = text.replace(old, new);
    let bytes: Vec<u8> = new_text.chars().map(|c| if (c as u32) < 256 { c as u8 } else { b'?' }).collect();
    std::fs::write(&p, bytes).unwrap();
}

/// An empty host root, so that the runs see no php.ini, crontab or supervisor file of the test
/// machine (the real `/proc` is still seen: the root has no `proc`).
fn empty_root() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Runs `pen-doctor check ARGS --format json` with a clean environment plus `env`.
fn run(args: &[&str], env: &[(&str, &str)], root: &Path) -> Run {
    run_as(args, env, root, None)
}

fn run_as(args: &[&str], env: &[(&str, &str)], root: &Path, uid: Option<u32>) -> Run {
    let mut cmd = pen_doctor(Host);
    cmd.env("PEN_DOCTOR_ROOT", root)
        .arg("check")
        .args(args)
        .args(["--format", "json", "--color", "never"])
        .envs(env.iter().copied());
    if let Some(uid) = uid {
        cmd.uid(uid).gid(uid);
    }
    let out = cmd.run();
    out.json();
    for s in SECRETS {
        assert!(!out.stdout.contains(s) && !out.stderr.contains(s), "{s} leaked:\n{out}");
    }
    out
}

fn config_of(tree: &Path, root: &Path, env: &[(&str, &str)]) -> Value {
    let out = run(&["--sei-dir", tree.to_str().unwrap(), "--only", "config"], env, root);
    out.check("config:sei").clone()
}

// ------------------------------------------------------------------------------- every era

#[test]
fn each_era_is_read_and_judged_as_its_module_reads_it() {
    let root = empty_root();
    // 2.x: `const VERSAO_MODULO`, SOAP v2 (switched off in 2024), the Gearman block commented out.
    let c = config_of(&sei_fixture("modpen2"), root.path(), &[]);
    assert_eq!(codes(&c), ["PEN_WEBSERVICE_DISCONTINUED", "PEN_TLS_VERIFICATION_OFF"], "{c:#}");
    assert_eq!(c["status"], "fail");
    let pen = &c["evidence"]["pen"];
    assert_eq!(
        (&pen["version"], &pen["version_form"], &pen["era"]),
        (&"2.1.7".into(), &"const VERSAO_MODULO".into(), &"2.0-3.0".into())
    );
    assert_eq!(pen["processing"], "in-process");
    assert_eq!(
        pen["requests"]["wsdl"],
        "https://api.conectagov.processoeletronico.gov.br/interoperabilidade/soap/v2/?wsdl"
    );
    assert_eq!(finding(&c, "PEN_WEBSERVICE_DISCONTINUED")["params"]["what"], "soap/v2");

    // 3.x SOAP: `define`, docker-edited quotes, `"Porta" => "", //Padrão: 4730`.
    let c = config_of(&sei_fixture("modpen3"), root.path(), &[]);
    assert_eq!(codes(&c), ["PEN_TLS_VERIFICATION_OFF"], "{c:#}");
    assert_eq!(c["status"], "ok", "info only");
    let f = finding(&c, "PEN_TLS_VERIFICATION_OFF");
    assert_eq!(
        (&f["severity"], &f["kb"]["article"], &f["kb"]["cause"]),
        (&"info".into(), &"TRAMITA-FALHA-COMUNICACAO".into(), &2.into())
    );
    assert_eq!(c["evidence"]["pen"]["gearman"], "127.0.0.1:4730");
    assert_eq!(c["evidence"]["sei_version"], "4.0.9");

    // 3.8 REST with Producao false: the verifier's trap, not "no verification".
    let c = config_of(&sei_fixture("modpen38"), root.path(), &[]);
    assert_eq!(codes(&c), ["PEN_VERIFIER_SKIPS_TLS"], "{c:#}");
    assert_eq!(finding(&c, "PEN_VERIFIER_SKIPS_TLS")["kb"]["cause"], 2);
    assert_eq!(
        c["evidence"]["pen"]["requests"]["pendentes"],
        "https://homolog.api.processoeletronico.gov.br/interoperabilidade/rest/v3/tramites/pendentes?todas=0"
    );

    // 4.x: nothing to say.
    let c = config_of(&sei_fixture("modpen4"), root.path(), &[]);
    assert_eq!((codes(&c), &c["status"]), (Vec::<String>::new(), &Value::from("ok")), "{c:#}");
    let e = &c["evidence"];
    assert_eq!(
        (&e["sei_version"], &e["pen"]["era"], &e["pen"]["api_expected"]),
        (&"5.0.3".into(), &"4.0-4.1".into(), &"rest/v3".into())
    );
    assert_eq!(
        e["pen"]["requests"]["healthcheck"],
        "https://homolog.api.processoeletronico.gov.br/interoperabilidade/rest/v3/healthcheck"
    );
}

#[test]
fn a_healthy_4x_configuration_gives_no_fail_and_no_warn_from_discovery() {
    let root = empty_root();
    // As the agency's own development configuration: WebServicePendencias empty.
    let tree = sei_copy("modpen4");
    edit(
        tree.path(),
        "config/mod-pen/ConfiguracaoModPEN.php",
        "\"WebServicePendencias\" => \"https://homolog.pendencias.processoeletronico.gov.br/\",",
        "\"WebServicePendencias\" => \"\",",
    );
    let c = config_of(tree.path(), root.path(), &[]);
    assert_eq!(c["status"], "ok", "{c:#}");
    for f in c["findings"].as_array().unwrap() {
        assert_eq!(f["severity"], "info", "{f:#}");
    }
    assert_eq!(codes(&c), ["PEN_PENDENCIAS_NOT_CONFIGURED"]);
    assert_eq!(c["evidence"]["pen"]["pendencias_used"], false);
    // The module never calls the pendências service: its built-in address is not probed.
    let out = run(&["--sei-dir", tree.path().to_str().unwrap(), "--only", "dns", "--timeout", "1s"], &[], root.path());
    let ids = support::report::ids(&out.json());
    assert!(ids.iter().any(|i| i == "dns:tramita") && !ids.iter().any(|i| i.contains("pendencias")), "{ids:?}");
    // Unless asked for.
    let out = run(
        &["--sei-dir", tree.path().to_str().unwrap(), "--only", "dns", "--target", "pendencias", "--timeout", "1s"],
        &[],
        root.path(),
    );
    assert!(out.json()["checks"].as_array().unwrap().iter().any(|c| c["id"] == "dns:pendencias"));
}

// ------------------------------------------------------------------------------- docker

/// A process started as the test asks (argv[0] renamed with `exec -a`), with only `env` as
/// its environment; returns once the new name shows in its command line.
fn service(name: &str, env: &[(&str, &str)]) -> Proc {
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(format!("exec -a {name} sleep 600"))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .envs(env.iter().copied());
    let proc = Proc::spawn_quiet(name, cmd);
    let pid = proc.pid();
    let start = Instant::now();
    while !std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default().starts_with(name.as_bytes()) {
        assert!(start.elapsed() < Duration::from_secs(5), "{name} did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    proc
}

/// The variables the agency's docker images give the processes that run SEI.
const DOCKER_ENV: &[(&str, &str)] = &[
    ("APP_PROTOCOLO", "https"),
    ("APP_HOST", "sei.orgao-exemplo.gov.br"),
    ("DB_HOST", "db-eras.orgao-exemplo.gov.br"),
    ("DB_PORTA", "3307"),
    ("DB_SEI_BASE", "sei"),
    ("DB_SEI_USERNAME", "sei_app"),
    ("DB_SEI_PASSWORD", "Docker-S3cret-Banco"),
    ("DB_TIPO", "MySql"),
    ("PEN_WEBSERVICE", "https://homolog.api.processoeletronico.gov.br/interoperabilidade/rest/v3/"),
    ("PEN_WEBSERVICE_PENDENCIAS", "https://homolog.pendencias.processoeletronico.gov.br/"),
    ("PEN_SENHA_CERTIFICADO", "Docker-S3cret-Cert"),
    ("PEN_GEARMAN_HOST", "gearmand-eras"),
];

#[test]
fn a_docker_installation_reads_its_values_from_the_running_php_fpm() {
    let root = empty_root();
    let php_fpm = service("php-fpm", DOCKER_ENV);
    // A second one whose environment is too large to read: skipped, with the reason.
    // (Linux takes at most 128 KiB per variable: three make it.)
    let huge = "x".repeat(100 * 1024);
    let big = service("php-fpm", &[("HUGE1", huge.as_str()), ("HUGE2", huge.as_str()), ("HUGE3", huge.as_str())]);
    // pen-doctor's own environment holds none of the variables.
    let c = config_of(&sei_fixture("docker"), root.path(), &[]);
    assert_eq!((codes(&c), &c["status"]), (Vec::<String>::new(), &Value::from("ok")), "{c:#}");
    let e = &c["evidence"];
    // `(getenv('APP_PROTOCOLO') == 'https' ? true : false)`
    assert_eq!(e["producao"], true);
    // `getenv('APP_PROTOCOLO').'://'.getenv('APP_HOST').'/sei'`
    assert_eq!(e["sei_url"], "https://sei.orgao-exemplo.gov.br/sei");
    assert_eq!(e["pen"]["web_service"], "https://homolog.api.processoeletronico.gov.br/interoperabilidade/rest/v3/");
    assert_eq!(e["pen"]["certificate_password_set"], true);
    assert_eq!(e["pen"]["gearman"], "gearmand-eras:4730");
    assert_eq!(
        (&e["database"]["host"], &e["database"]["port"]),
        (&Value::from("db-eras.orgao-exemplo.gov.br"), &Value::from(3307))
    );
    let source = format!("environment of php-fpm (PID {})", php_fpm.pid());
    let sources = e["value_sources"].as_array().unwrap();
    let from = |key: &str| sources.iter().find(|s| s["key"] == key).map(|s| s["from"].clone()).unwrap_or(Value::Null);
    assert_eq!(from("SenhaCertificado"), serde_json::json!([format!("getenv('PEN_SENHA_CERTIFICADO'): {source}")]));
    assert_eq!(from("Producao"), serde_json::json!([format!("getenv('APP_PROTOCOLO'): {source}")]));
    // `getenv('PEN_CERTIFICADO') ?: '/opt/…'`: not set where SEI runs, so the default.
    assert_eq!(e["pen"]["certificate"], "/opt/sei/config/mod-pen/certificado.pem");
    let not_set = from("LocalizacaoCertificado").to_string();
    assert!(
        not_set.contains("not set in the environment of") && not_set.contains(&php_fpm.pid().to_string()),
        "{not_set}"
    );
    let read: Vec<&str> = e["environments"]["read"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(read.contains(&format!("php-fpm (PID {})", php_fpm.pid()).as_str()), "{read:?}");
    let unread = e["environments"]["unread"].as_array().unwrap();
    let skipped = unread.iter().find(|u| u["pid"] == big.pid()).unwrap_or_else(|| panic!("{unread:?}"));
    assert!(skipped["reason"].as_str().unwrap().contains("too large"), "{skipped}");

    // As a user who may not read root's processes: skipped with the reason, values unresolved.
    let out = run_as(
        &["--sei-dir", sei_fixture("docker").to_str().unwrap(), "--only", "config"],
        &[],
        root.path(),
        Some(65534),
    );
    let c = out.check("config:sei");
    assert!(codes(c).iter().all(|c| c == "SEI_CONFIG_UNRESOLVED"), "{c:#}");
    let unread = c["evidence"]["environments"]["unread"].as_array().unwrap();
    let mine = unread.iter().find(|u| u["pid"] == php_fpm.pid()).unwrap_or_else(|| panic!("{unread:?}"));
    assert!(mine["reason"].as_str().unwrap().contains("permission denied"), "{mine}");
    drop(big);
}

// ------------------------------------------------------------------------------- the lab

/// A [`Scenario`]: nginx serving Tramita's SOAP WSDL and REST API as the module asks them
/// ([`Site::tramita_as_the_module_asks`]) with mutual TLS on `api.test`, and a client
/// certificate whose key is encrypted with [`PASS`].
struct Lab(Running);

impl Lab {
    fn new() -> Lab {
        let lab = Scenario::new()
            .host("api.test")
            .mtls(Mtls::On)
            .password(PASS)
            .site(Site::tramita_as_the_module_asks())
            .start();
        Lab(lab)
    }

    fn url(&self, path: &str) -> String {
        self.0.url(path)
    }

    /// `check --only config,http` (and what http needs) of a tree pointed at the lab.
    fn run(&self, tree: &Path, root: &Path, store: &Path) -> Run {
        let args = CheckArgs::new().flag("--sei-dir", tree.to_str().unwrap()).target("tramita");
        let args = self.0.resolve(args, "api.test").ca_bundle(store).only("config,http").timeout("3s");
        run(&args.flags(), &[], root)
    }

    /// A copy of a fixture tree whose module configuration names the lab and its client
    /// certificate.
    fn tree(&self, name: &str, web_service: &str, old_web_service: &str) -> tempfile::TempDir {
        let tree = sei_copy(name);
        let pen = "config/mod-pen/ConfiguracaoModPEN.php";
        edit(tree.path(), pen, old_web_service, web_service);
        edit(tree.path(), pen, "/opt/sei/config/mod-pen/certificado.pem", self.0.client_pem().to_str().unwrap());
        edit(tree.path(), pen, "S3nh4-Cert-Fixture!", PASS);
        tree
    }
}

fn request_urls(http: &Value) -> Vec<String> {
    http["evidence"]["requests"].as_array().unwrap().iter().map(|r| r["url"].as_str().unwrap().to_string()).collect()
}

const MODPEN4_WS: &str = "https://homolog.api.processoeletronico.gov.br/interoperabilidade/rest/v3/";
const MODPEN3_WS: &str = "https://api.conectagov.processoeletronico.gov.br/interoperabilidade/soap/v3/";

#[test]
fn http_tramita_asks_what_the_installed_module_asks() {
    let lab = Lab::new();
    let root = empty_root();

    // 3.7 (SOAP): the WSDL only.
    let tree = lab.tree("modpen3", &lab.url("/interoperabilidade/soap/v3/"), MODPEN3_WS);
    let out = lab.run(tree.path(), root.path(), lab.0.store());
    let http = out.check("http:tramita");
    assert_eq!(http["status"], "ok", "{http:#}");
    assert_eq!((&http["evidence"]["api"], &http["evidence"]["era"]), (&"soap".into(), &"3.7".into()));
    assert_eq!(request_urls(http), [lab.url("/interoperabilidade/soap/v3/?wsdl")]);
    assert_eq!(out.code, Some(0), "{out}");

    // 4.x (REST): healthcheck, then tramites/pendentes?todas=0.
    let tree = lab.tree("modpen4", &lab.url("/interoperabilidade/rest/v3/"), MODPEN4_WS);
    let out = lab.run(tree.path(), root.path(), lab.0.store());
    let http = out.check("http:tramita");
    assert_eq!(http["status"], "ok", "{http:#}");
    assert_eq!(
        request_urls(http),
        [
            lab.url("/interoperabilidade/rest/v3/healthcheck"),
            lab.url("/interoperabilidade/rest/v3/tramites/pendentes?todas=0")
        ]
    );
    let c = out.check("config:sei");
    assert_eq!(codes(c), Vec::<String>::new(), "{c:#}");

    // 4.x without the final slash: the module's own requests miss, and pen-doctor's with them.
    let tree = lab.tree("modpen4", &lab.url("/interoperabilidade/rest/v3"), MODPEN4_WS);
    let out = lab.run(tree.path(), root.path(), lab.0.store());
    let c = out.check("config:sei");
    let f = finding(c, "PEN_WEBSERVICE_NO_TRAILING_SLASH");
    assert_eq!(f["params"]["healthcheck"], lab.url("/interoperabilidade/rest/v3healthcheck"));
    assert_eq!(f["params"]["pendentes"], lab.url("/interoperabilidade/rest/tramites/pendentes?todas=0"));
    let http = out.check("http:tramita");
    assert_eq!(http["status"], "fail", "{http:#}");
    assert_eq!(request_urls(http), [lab.url("/interoperabilidade/rest/v3healthcheck")]);
    assert_eq!(codes(http), ["HTTP_UNEXPECTED_RESPONSE"]);

    // 4.x given the manual's SOAP address: REST paths on a SOAP address.
    let tree = lab.tree("modpen4", &lab.url("/interoperabilidade/soap/v3/"), MODPEN4_WS);
    let out = lab.run(tree.path(), root.path(), lab.0.store());
    let c = out.check("config:sei");
    let f = finding(c, "PEN_WEBSERVICE_API_MISMATCH");
    assert_eq!((&f["params"]["found"], &f["params"]["expected"]), (&"soap/v3".into(), &"rest/v3".into()));
    let http = out.check("http:tramita");
    assert_eq!(request_urls(http), [lab.url("/interoperabilidade/soap/v3/healthcheck")]);
    assert_eq!(http["status"], "fail");
}

#[test]
fn production_mode_off_never_softens_a_rest_module_s_tls_failure() {
    let lab = Lab::new();
    let root = empty_root();
    let tree = lab.tree("modpen4", &lab.url("/interoperabilidade/rest/v3/"), MODPEN4_WS);
    edit(tree.path(), "config/ConfiguracaoSEI.php", "'Producao' => true", "'Producao' => false");
    // A trust store without the lab's root.
    let store = lab.0.pki().write("isrg-only.pem", isrg_x1());
    let out = lab.run(tree.path(), root.path(), &store);
    let c = out.check("config:sei");
    assert_eq!(codes(c), ["PEN_VERIFIER_SKIPS_TLS"], "{c:#}");
    let tls = out.check("tls:tramita");
    assert_eq!(tls["status"], "fail", "{tls:#}");
    let f = finding(tls, "SERVER_CERT_UNTRUSTED");
    assert_eq!(f["severity"], "fail");
    assert_eq!(out.code, Some(1));
}

// ------------------------------------------------------------------------------- 1.x in MariaDB

/// 1.x's parameter table as its installation script creates it.
const PEN_PARAMETRO: &str = "CREATE TABLE md_pen_parametro (
  nome varchar(100) NOT NULL,
  valor varchar(4000) DEFAULT NULL,
  PRIMARY KEY (nome)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;";

/// SEI's database for a 1.x tree.
struct Database(SeiDb);

impl Database {
    fn new(tag: &str) -> Database {
        Database(SeiDb::new("eras", tag, DB_PASSWORD))
    }

    fn sql(&self, sql: &str) {
        self.0.sql(sql);
    }

    /// A copy of the modpen1 tree whose `BancoSEI` names this database.
    fn modpen1(&self) -> tempfile::TempDir {
        let tree = sei_copy("modpen1");
        let cfg = "config/ConfiguracaoSEI.php";
        edit(tree.path(), cfg, "'Porta' => '3306'", &format!("'Porta' => '{}'", self.0.server.port));
        edit(tree.path(), cfg, "'Banco' => 'sei'", &format!("'Banco' => '{}'", self.0.name));
        edit(tree.path(), cfg, "'Usuario' => 'sei_user'", &format!("'Usuario' => '{}'", self.0.name));
        edit(tree.path(), cfg, "S3nh4-Banco-Fixture!", DB_PASSWORD);
        tree
    }
}

fn parameters(table: &str, web_service: &str, cert: &str, password: &str) -> String {
    format!(
        "INSERT INTO {table} (nome, valor) VALUES
         ('PEN_ENDERECO_WEBSERVICE', '{web_service}'),
         ('PEN_ENDERECO_WEBSERVICE_PENDENCIAS', 'https://homolog.pendencias.processoeletronico.gov.br/'),
         ('PEN_LOCALIZACAO_CERTIFICADO_DIGITAL', '{cert}'),
         ('PEN_SENHA_CERTIFICADO_DIGITAL', '{password}'),
         ('PEN_UNIDADE_GERADORA_DOCUMENTO_RECEBIDO', '110000001');"
    )
}

#[test]
fn module_1x_runs_every_check_from_its_parameters_in_the_database() {
    let lab = Lab::new();
    let root = empty_root();
    let db = Database::new("onex");
    db.sql(PEN_PARAMETRO);
    db.sql(&parameters(
        "md_pen_parametro",
        &lab.url("/interoperabilidade/soap/v3/"),
        lab.0.client_pem().to_str().unwrap(),
        PASS,
    ));
    db.sql("INSERT INTO infra_parametro VALUES ('PEN_VERSAO_MODULO_SEI', '1.5.4');");
    let tree = db.modpen1();
    let out = lab.run(tree.path(), root.path(), lab.0.store());
    let c = out.check("config:sei");
    assert_eq!(codes(c), ["PEN_TLS_VERIFICATION_OFF"], "{c:#}");
    let pen = &c["evidence"]["pen"];
    assert_eq!(
        (&pen["era"], &pen["version_form"], &pen["db_version"]),
        (&"1.x".into(), &"getVersao()".into(), &"1.5.4".into())
    );
    assert_eq!(pen["config_source"], "database (md_pen_parametro)");
    assert_eq!(pen["web_service"], lab.url("/interoperabilidade/soap/v3/"));
    assert_eq!(pen["certificate"], lab.0.client_pem().to_str().unwrap());
    assert_eq!(pen["gearman"], "localhost:4730", "1.x reads no gearman configuration");
    let sources = c["evidence"]["value_sources"].as_array().unwrap();
    assert!(
        sources.iter().any(|s| s["key"] == "PEN_ENDERECO_WEBSERVICE"
            && s["from"][0] == "md_pen_parametro.PEN_ENDERECO_WEBSERVICE: database"),
        "{sources:?}"
    );
    // The certificate and its password from the database open the mutual TLS the WSDL needs.
    assert_eq!(out.check("cert:client")["status"], "ok", "{out}");
    let http = out.check("http:tramita");
    assert_eq!(http["status"], "ok", "{http:#}");
    assert_eq!(request_urls(http), [lab.url("/interoperabilidade/soap/v3/?wsdl")]);
    // Read from the database, in the read-only session.
    let log = db.0.server.general_log();
    assert!(log.contains("SELECT nome, valor FROM md_pen_parametro WHERE nome IN ('PEN_ENDERECO_WEBSERVICE'"), "{log}");
    assert!(log.contains("START TRANSACTION READ ONLY"));

    // The earliest 1.x: the same parameters in infra_parametro, and an empty password.
    let db = Database::new("earliest");
    db.sql(&parameters(
        "infra_parametro",
        &lab.url("/interoperabilidade/soap/v3/"),
        lab.0.client_pem().to_str().unwrap(),
        "",
    ));
    db.sql("INSERT INTO infra_parametro VALUES ('PEN_VERSAO_MODULO_SEI', '1.0.1');");
    let tree = db.modpen1();
    let out = run(&["--sei-dir", tree.path().to_str().unwrap(), "--only", "config"], &[], root.path());
    let c = out.check("config:sei");
    assert_eq!(c["evidence"]["pen"]["config_source"], "database (infra_parametro)");
    let f = finding(c, "PEN_CERT_PASSWORD_EMPTY");
    assert_eq!(
        (&f["params"]["key"], &f["params"]["path"]),
        (&"PEN_SENHA_CERTIFICADO_DIGITAL".into(), &"infra_parametro".into())
    );

    // A database that does not answer: said, since 1.x has no other configuration.
    let tree = sei_copy("modpen1");
    let closed = pki_tls::free_port();
    edit(tree.path(), "config/ConfiguracaoSEI.php", "'Porta' => '3306'", &format!("'Porta' => '{closed}'"));
    let out =
        run(&["--sei-dir", tree.path().to_str().unwrap(), "--only", "config", "--timeout", "2s"], &[], root.path());
    let c = out.check("config:sei");
    assert!(codes(c).contains(&"DB_UNREACHABLE".to_string()), "{c:#}");
}

// ------------------------------------------------------------------------------- php.ini

#[test]
fn short_open_tag_as_the_web_server_and_the_workers_load_it() {
    let root = empty_root();
    let r = root.path();
    // Debian: the web server's php.ini turns it off; the CLI has no php.ini of its own, and the
    // supervisor sample's `-c /etc/php.ini` names a file Debian does not have.
    write(r, "etc/php/8.2/fpm/php.ini", "[PHP]\nengine = On\n; short_open_tag = On\nshort_open_tag = Off\n");
    write(r, "etc/php/8.2/fpm/conf.d/10-opcache.ini", "zend_extension=opcache.so\n");
    write(r, "etc/php/8.2/cli/conf.d/20-gearman.ini", "extension=gearman.so\n");
    write(
        r,
        "etc/supervisor/conf.d/sei-pen.conf",
        "[program:processamento_tarefas_pen]\ncommand=/usr/bin/php -c /etc/php.ini %(here)s/../../sei/scripts/mod-pen/ProcessamentoTarefasPEN.php --worker=%(process_num)02d\n",
    );
    let c = config_of(&sei_fixture("modpen4"), r, &[]);
    let f = finding(&c, "PHP_SHORT_OPEN_TAG_OFF");
    assert_eq!(codes(&c), ["PHP_SHORT_OPEN_TAG_OFF"], "{c:#}");
    let p = &f["params"];
    assert_eq!(
        (&p["php"], &p["role"], &p["ini"]),
        (&"fpm 8.2".into(), &"web".into(), &"/etc/php/8.2/fpm/php.ini:4".into())
    );
    assert!(p["files"].as_str().unwrap().contains("ConfiguracaoSEI.php"));
    // The workers' PHP disagrees: on, by PHP's built-in default.
    let on = p["on"].as_str().unwrap();
    assert!(on.contains("-c /etc/php.ini") && on.contains("cli 8.2") && on.contains("built-in default"), "{on}");
    let php = c["evidence"]["php"].as_array().unwrap();
    let given = php.iter().find(|c| c["php"].as_str().unwrap().starts_with("-c /etc/php.ini")).unwrap();
    assert_eq!((&given["php_ini_missing"], &given["role"]), (&"/etc/php.ini".into(), &"cli".into()));

    // An older PHP left beside the one Apache loads is not the one SEI runs with.
    write(r, "etc/php/7.4/apache2/php.ini", "short_open_tag = Off\n");
    write(r, "etc/php/8.2/apache2/php.ini", "short_open_tag = On\n");
    write(r, "etc/apache2/mods-enabled/php8.2.load", "LoadModule php_module /usr/lib/apache2/modules/libphp8.2.so\n");
    let c = config_of(&sei_fixture("modpen4"), r, &[]);
    let phps: Vec<&str> =
        c["findings"].as_array().unwrap().iter().map(|f| f["params"]["php"].as_str().unwrap()).collect();
    assert_eq!(phps, ["fpm 8.2"], "{c:#}");
    assert!(c["evidence"]["php"].as_array().unwrap().iter().all(|p| p["php"] != "apache2 7.4"));
    // Apache without its PHP module (it hands PHP to php-fpm): its php.ini is not SEI's.
    write(r, "etc/php/8.2/apache2/php.ini", "short_open_tag = Off\n");
    std::fs::remove_file(r.join("etc/apache2/mods-enabled/php8.2.load")).unwrap();
    write(r, "etc/apache2/mods-enabled/proxy_fcgi.load", "LoadModule proxy_fcgi_module x.so\n");
    let c = config_of(&sei_fixture("modpen4"), r, &[]);
    let phps: Vec<&str> =
        c["findings"].as_array().unwrap().iter().map(|f| f["params"]["php"].as_str().unwrap()).collect();
    assert_eq!(phps, ["fpm 8.2"], "{c:#}");

    // `-d short_open_tag=Off` on the workers' command line turns theirs off too.
    write(
        r,
        "etc/supervisor/conf.d/sei-pen.conf",
        "[program:p]\ncommand=/usr/bin/php -c /etc/php.ini -d short_open_tag=Off /opt/sei/scripts/mod-pen/ProcessamentoTarefasPEN.php\n",
    );
    let c = config_of(&sei_fixture("modpen4"), r, &[]);
    let phps: Vec<String> =
        c["findings"].as_array().unwrap().iter().map(|f| f["params"]["php"].as_str().unwrap().to_string()).collect();
    assert_eq!(phps.len(), 2, "{c:#}");
    assert!(phps[0].starts_with("-c /etc/php.ini") && phps[1] == "fpm 8.2", "{phps:?}");
}

#[test]
fn hostile_php_ini_and_sei_files_are_findings_naming_the_file() {
    let root = empty_root();
    let r = root.path();
    std::fs::create_dir_all(r.join("etc/php/8.2/fpm/conf.d")).unwrap();
    // A FIFO as php.ini, a sparse 2 GiB conf.d file, binary garbage, and thousands of files.
    let fifo = r.join("etc/php/8.2/fpm/php.ini");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    std::fs::File::create(r.join("etc/php/8.2/fpm/conf.d/00-huge.ini")).unwrap().set_len(2 << 30).unwrap();
    std::fs::write(r.join("etc/php/8.2/fpm/conf.d/000-binary.ini"), b"\x7fELF\x00\x01engine=\xff\xfe\n").unwrap();
    for i in 0..3000 {
        std::fs::write(r.join(format!("etc/php/8.2/fpm/conf.d/{i:05}.ini")), "x=1\n").unwrap();
    }
    let tree = sei_copy("modpen4");
    let sei = tree.path().join("web/SEI.php");
    std::fs::remove_file(&sei).unwrap();
    let c = std::ffi::CString::new(sei.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let start = Instant::now();
    let out = run(&["--sei-dir", tree.path().to_str().unwrap(), "--only", "config", "--deadline", "20s"], &[], r);
    assert!(start.elapsed() < Duration::from_secs(15), "{:?}", start.elapsed());
    let c = out.check("config:sei");
    let unreadable: Vec<String> = c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "HOST_FILE_UNREADABLE" || f["code"] == "SEI_CONFIG_UNREADABLE")
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect();
    assert!(unreadable.iter().any(|m| m.contains("/etc/php/8.2/fpm/php.ini") && m.contains("FIFO")), "{unreadable:?}");
    assert!(unreadable.iter().any(|m| m.contains("00-huge.ini") && m.contains("grande demais")), "{unreadable:?}");
    assert!(unreadable.iter().any(|m| m.contains("web/SEI.php") && m.contains("FIFO")), "{unreadable:?}");
    // The fpm PHP by its label: before it, the list holds the `-c` files of any PHP process that
    // runs on this machine meanwhile (process command lines come from the real /proc).
    let phps = c["evidence"]["php"].as_array().unwrap();
    let php = phps.iter().find(|p| p["php"] == "fpm 8.2").unwrap_or_else(|| panic!("{phps:#?}"));
    assert_eq!(php["php_ini"], Value::Null, "the FIFO is not read");
    // At most 200 files of a scan directory, in PHP's order: the unreadable one and 199 read.
    let scanned: Vec<&str> = php["scanned"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert_eq!(scanned.len(), 199, "bounded");
    assert_eq!(scanned[0], "/etc/php/8.2/fpm/conf.d/000-binary.ini");
    assert_eq!(scanned[198], "/etc/php/8.2/fpm/conf.d/00197.ini");
    assert_eq!(out.code, Some(1), "{out}");
}
