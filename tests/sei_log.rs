//! `sei:log` against a real MariaDB holding SEI's log (`infra_log`) filled with the real error
//! strings of the PEN and PI modules and their libraries, noise from other modules, failed
//! scheduled tasks, and live targets served by a real nginx with the test PKI, healthy or
//! broken: every class, the known-bug mapping against the installed version, both outcomes of
//! the comparison with the live checks, a table of another shape, and a hostile log (a million
//! rows, 1 MiB messages, binary bytes, secrets and escape sequences) read within the deadline
//! with bounded memory and nothing leaked. Everything is asserted through the binary's reports.
mod support;

use serde_json::Value;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use support::mariadb::SeiDb;
use support::{check, pen_doctor, Host, Mtls, Run, RunExt, Running, Scenario, Site, TRAMITA_PATH};

const PASSWORD: &str = "Sei-Log-Db-S3cret!";

/// SEI's log table as the SEI infrastructure creates it on MySQL.
const LOG_SCHEMA: &str = "
CREATE TABLE infra_log (
  id_infra_log bigint(20) NOT NULL,
  dth_log datetime DEFAULT NULL,
  texto_log longtext NOT NULL,
  ip varchar(39) DEFAULT NULL,
  sta_tipo char(1) NOT NULL,
  PRIMARY KEY (id_infra_log)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;
";

/// A fresh database with SEI's tables, the PEN and PI tasks active and successful, module
/// version 4.0.3 recorded, and an empty log.
struct Fixture {
    db: SeiDb,
    next_id: AtomicU32,
}

/// A text as a MariaDB string literal.
fn literal(text: &str) -> String {
    let mut out = String::from("'");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

impl Fixture {
    fn new(tag: &str) -> Fixture {
        let db = SeiDb::new("seilog", tag, PASSWORD);
        db.sql(LOG_SCHEMA);
        db.sql(
            "INSERT INTO infra_agendamento_tarefa VALUES
             (1, 'Publicação PI', 'ProtocoloIntegradoAgendamentoRN::publicarProtocoloIntegrado', 'D', '2',
              NOW() - INTERVAL 1 HOUR, NOW() - INTERVAL 59 MINUTE, 'S', NULL, NULL, 'S'),
             (4, 'Envio PEN', 'PENAgendamentoRN::processarTarefasEnvioPEN', 'N', '2',
              NOW() - INTERVAL 1 MINUTE, NOW() - INTERVAL 1 MINUTE, 'S', NULL, NULL, 'S'),
             (5, 'Recebimento PEN', 'PENAgendamentoRN::processarTarefasRecebimentoPEN', 'N', '2',
              NOW() - INTERVAL 1 MINUTE, NOW() - INTERVAL 1 MINUTE, 'S', NULL, NULL, 'S'),
             (7, 'Atualização PEN', 'PENAgendamentoRN::atualizarInformacoesPEN', 'D', '1',
              NOW() - INTERVAL 3 HOUR, NOW() - INTERVAL 3 HOUR, 'S', NULL, NULL, 'S'),
             (6, 'Estatísticas', 'MdEstatisticasAgendamentoRN::coletarIndicadores', 'D', '3',
              NOW() - INTERVAL 5 HOUR, NULL, 'N', NULL, NULL, 'S');
             INSERT INTO infra_parametro VALUES ('VERSAO_MODULO_PEN', '4.0.3');",
        );
        Fixture { db, next_id: AtomicU32::new(1) }
    }

    fn sql(&self, sql: &str) -> String {
        self.db.sql(sql)
    }

    /// Adds entries to the log: (minutes ago, type, text).
    fn log(&self, entries: &[(i64, &str, &str)]) {
        let values: Vec<String> = entries
            .iter()
            .map(|(ago, kind, text)| {
                let id = self.next_id.fetch_add(1, Ordering::SeqCst);
                format!("({id}, NOW() - INTERVAL {ago} MINUTE, {}, '10.0.0.7', '{kind}')", literal(text))
            })
            .collect();
        self.sql(&format!("INSERT INTO infra_log VALUES {}", values.join(",\n")));
    }

    fn url(&self) -> String {
        self.db.url()
    }
}

/// Runs `pen-doctor check` with a clean environment (the database password in
/// `PEN_DOCTOR_DB_PASSWORD`, plus `env`).
fn run(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = pen_doctor(Host);
    cmd.env("NO_COLOR", "1").env("PEN_DOCTOR_DB_PASSWORD", PASSWORD).arg("check").args(args).envs(env.iter().copied());
    cmd.run()
}

fn json_report(args: &[&str], env: &[(&str, &str)]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = run(&all, env);
    assert!(matches!(out.code, Some(0 | 1)), "{out}");
    out.json()
}

fn findings<'a>(check: &'a Value, code: &str) -> Vec<&'a Value> {
    check["findings"].as_array().map(|f| f.iter().filter(|f| f["code"] == code).collect()).unwrap_or_default()
}

/// The one finding with `code` whose parameter `key` is `value`.
fn finding<'a>(check: &'a Value, code: &str, key: &str, value: &str) -> &'a Value {
    let found: Vec<&Value> = findings(check, code).into_iter().filter(|f| f["params"][key] == value).collect();
    assert_eq!(found.len(), 1, "one {code} with {key}={value} expected in {check:#}");
    found[0]
}

/// The one finding with `code` for `target` that is not about a scheduled task.
fn logged<'a>(check: &'a Value, code: &str, target: &str) -> &'a Value {
    let found: Vec<&Value> = findings(check, code)
        .into_iter()
        .filter(|f| f["params"]["target"] == target && f["params"]["task"].is_null())
        .collect();
    assert_eq!(found.len(), 1, "one {code} for {target} expected in {check:#}");
    found[0]
}

fn param<'a>(f: &'a Value, key: &str) -> &'a str {
    f["params"][key].as_str().unwrap_or_else(|| panic!("no param {key} in {f:#}"))
}

const TRAMITA: &str = "https://api.test:8443/interoperabilidade/rest/v3/";
const PENDENCIAS: &str = "https://pend.test:8443/";

/// A stack trace of the module, as LogSEI::gravar writes it under the message.
fn pen_trace(message: &str) -> String {
    format!(
        "{message}\n#0 /opt/sei/web/modulos/pen/rn/ProcessoEletronicoRN.php(712): GuzzleHttp\\Client->request('GET', 'tramites')\n\
         #1 /opt/sei/web/modulos/pen/rn/ExpedirProcedimentoRN.php(233): ProcessoEletronicoRN->enviarProcesso(Object(stdClass))\n\
         #2 /opt/sei/web/modulos/pen/rn/PENAgendamentoRN.php(88): ExpedirProcedimentoRN->expedirProcedimento()\n#3 {{main}}"
    )
}

/// The log of a node with every class of error, noise from other modules, and entries the
/// window or the type must leave out.
fn fill_every_class(fx: &Fixture) {
    let e = |ago: i64, text: String| (ago, "E", text);
    let entries: Vec<(i64, &str, String)> = vec![
        // Trust: REST era through libcurl, then CentOS 7's NSS wording (the newest of the class).
        e(300, pen_trace(&format!("Falha de comunicação com o Processo Eletrônico Nacional. Por favor, tente novamente mais tarde.\ncURL error 60: SSL certificate problem: unable to get local issuer certificate (see https://curl.haxx.se/libcurl/c/libcurl-errors.html) for {TRAMITA}tramites/pendentes"))),
        e(120, pen_trace(&format!("cURL error 60: Peer's Certificate issuer is not recognized. for {TRAMITA}healthcheck"))),
        // The same class against the pendências service.
        e(90, pen_trace(&format!("cURL error 60: SSL certificate problem: certificate has expired for {PENDENCIAS}"))),
        // Client certificate.
        e(200, pen_trace("cURL error 58: unable to set private key file: '/opt/sei/config/mod-pen/certificado.pem' type PEM")),
        e(100, pen_trace("Transação não autorizada devido a falta de integridade do seu certificado com common name ORGAO TESTE:00394460000141")),
        // Network, REST era, and the SOAP era's one message.
        e(80, pen_trace(&format!("cURL error 28: Operation timed out after 30001 milliseconds with 0 bytes received for {TRAMITA}tramites"))),
        e(70, "SoapFault: Could not connect to host\n#0 /opt/sei/web/modulos/pen/rn/PendenciasTramiteRN.php(55): SoapClient->__call()".into()),
        // Service.
        e(60, pen_trace(&format!("Server error: `GET {TRAMITA}healthcheck` resulted in a `503 Service Unavailable` response"))),
        e(59, pen_trace("Erro desconhecido: não há espaço disponível")),
        // A document's file missing, behind the sending step's "communication failure".
        e(50, "Módulo do Tramita: Falha de comunicação com o serviços de integração. Por favor, tente novamente mais tarde.\nfilesize(): stat failed for /var/sei/arquivos/2026/11/20/documento_4471.pdf\n#0 /opt/sei/web/modulos/pen/rn/ExpedirProcedimentoRN.php(1410): filesize()".into()),
        // Known bugs: 4.0.x (the installed 4.0.3 is affected) and 2.0.x (it is not).
        e(40, "Error: Call to a member function getBody() on null in /opt/sei/web/modulos/pen/rn/ProcessoEletronicoRN.php:2110".into()),
        e(30, "pcntl_signal() has been disabled for security reasons in /opt/sei/scripts/mod-pen/ProcessamentoTarefasPEN.php on line 41".into()),
        // A module error of no known class.
        e(20, "ReceberProcedimentoRN: Processo recusado pelo destinatário: espécie documental não mapeada".into()),
        // Protocolo Integrado.
        e(10, "ProtocoloIntegradoAgendamentoRN::publicarProtocoloIntegrado\nSOAP-ERROR: Could not connect to host".into()),
        // Protocolo Integrado's certificate chain, in CentOS 7's NSS wording.
        e(9, "ProtocoloIntegradoAgendamentoRN::publicarProtocoloIntegrado\ncURL error 60: Peer's Certificate issuer is not recognized.".into()),
        // SEI's scheduler: a failed run of a PEN task in the window.
        e(5, format!("Agendamento FALHOU (sei-node1)\n\nServidor: sei-node1\n\nData/Hora: 20/11/2026 10:00:00\n\nComando: PENAgendamentoRN::processarTarefasEnvioPEN()\n\nErro: cURL error 60: SSL certificate problem: unable to get local issuer certificate for {TRAMITA}tramites")),
        // Noise: other modules with the same library errors, SEI's own words, a PEN entry of
        // type info, and PEN errors older than the window.
        e(15, "MdEstatisticasAgendamentoRN::coletarIndicadores: cURL error 28: Operation timed out after 30000 milliseconds for https://estatisticas.example/".into()),
        e(14, "MdWsSeiRN::autenticar: SSL certificate problem: self signed certificate in certificate chain".into()),
        e(13, "Processo 00001.000123/2026-11 em tramitação: erro ao gerar PDF".into()),
        (12, "I", pen_trace(&format!("cURL error 60: SSL certificate problem for {TRAMITA}"))),
        e(3 * 24 * 60, pen_trace(&format!("cURL error 60: SSL certificate problem for {TRAMITA} (three days ago)"))),
    ];
    let refs: Vec<(i64, &str, &str)> = entries.iter().map(|(a, k, t)| (*a, *k, t.as_str())).collect();
    fx.log(&refs);
    // The scheduler's view: the Envio task failed on its last run (logged above, in the
    // window); the Recebimento task failed three days ago (logged then).
    fx.sql(
        "UPDATE infra_agendamento_tarefa SET sin_sucesso = 'N', dth_ultima_execucao = NOW() - INTERVAL 6 MINUTE WHERE id_infra_agendamento_tarefa = 4;
         UPDATE infra_agendamento_tarefa SET sin_sucesso = 'N', dth_ultima_execucao = NOW() - INTERVAL 3 DAY, dth_ultima_conclusao = NULL WHERE id_infra_agendamento_tarefa = 5;",
    );
    let old = format!(
        "Agendamento FALHOU (sei-node2)\n\nComando: PENAgendamentoRN::processarTarefasRecebimentoPEN()\n\nErro: cURL error 6: Could not resolve host: api.test for {TRAMITA}"
    );
    fx.log(&[(3 * 24 * 60 - 1, "E", &old)]);
}

fn endpoints() -> Vec<String> {
    vec![format!("tramita={TRAMITA}"), format!("pendencias={PENDENCIAS}")]
}

#[test]
fn every_class_of_the_real_strings_is_counted_and_other_modules_are_ignored() {
    let fx = Fixture::new("classes");
    fill_every_class(&fx);
    let [tramita, pendencias] = [&endpoints()[0], &endpoints()[1]];
    let args = ["--only", "sei", "--db", &fx.url(), "--endpoint", tramita, "--endpoint", pendencias, "--lang", "en"];
    let report = json_report(&args, &[]);
    let log = check(&report, "sei:log");
    assert_eq!(log["status"], "fail", "{log:#}");
    assert_eq!(log["evidence"]["columns"], "time=dth_log, text=texto_log, id=id_infra_log, type=sta_tipo");
    assert_eq!(log["evidence"]["entries"]["capped"], false);

    // Trust: two entries for Tramita, first and last times, the newest shown.
    let trust_tramita = logged(log, "SEI_LOG_TRUST_ERRORS", "tramita");
    assert_eq!(param(trust_tramita, "count"), "2");
    assert!(
        param(trust_tramita, "latest").contains("Peer's Certificate issuer is not recognized"),
        "{trust_tramita:#}"
    );
    assert!(param(trust_tramita, "first") < param(trust_tramita, "last"));
    assert_eq!(trust_tramita["severity"], "fail");
    assert_eq!(
        (trust_tramita["kb"]["article"].as_str(), trust_tramita["kb"]["cause"].as_u64()),
        (Some("TRAMITA-FALHA-COMUNICACAO"), Some(2))
    );
    assert!(trust_tramita["message"].as_str().unwrap().contains("2 error(s) trusting"), "{trust_tramita:#}");
    // The same class against pendências is its own finding.
    let pend = finding(log, "SEI_LOG_TRUST_ERRORS", "target", "pendencias");
    assert_eq!(param(pend, "count"), "1");

    let client = finding(log, "SEI_LOG_CLIENT_CERT_ERRORS", "target", "tramita");
    assert_eq!(param(client, "count"), "1");
    assert!(param(client, "latest").contains("unable to set private key file"));
    assert_eq!(client["kb"]["cause"], 1);
    // The API's refusal of a certificate of another environment has its own article.
    let environment = finding(log, "SEI_LOG_CERT_WRONG_ENVIRONMENT", "target", "tramita");
    assert_eq!(param(environment, "count"), "1");
    assert!(param(environment, "latest").contains("falta de integridade do seu certificado"));
    assert_eq!(environment["kb"]["article"], "PEN-ATENDIMENTO-CERTIFICADO-AMBIENTE");
    // Protocolo Integrado's trust errors point at its chain-update article; PEN's do not.
    let pi_trust = finding(log, "SEI_LOG_PI_TRUST_ERRORS", "module", "pi");
    assert_eq!(param(pi_trust, "target"), "protocolo-integrado");
    assert_eq!(pi_trust["kb"]["article"], "PI-ATENDIMENTO-CADEIA-CERTIFICADO");
    assert!(findings(log, "SEI_LOG_TRUST_ERRORS").iter().all(|f| f["params"]["module"] == "pen"), "{log:#}");

    let network: Vec<&Value> = findings(log, "SEI_LOG_NETWORK_ERRORS")
        .into_iter()
        .filter(|f| f["params"]["rule"] == "network" && f["params"]["task"].is_null())
        .collect();
    assert_eq!(network.len(), 1, "{log:#}");
    let network = network[0];
    assert_eq!(param(network, "count"), "1", "the other module's timeout is not counted: {log:#}");
    let soap = findings(log, "SEI_LOG_NETWORK_ERRORS")
        .into_iter()
        .filter(|f| f["params"]["rule"] == "soap-could-not-connect")
        .collect::<Vec<_>>();
    assert_eq!(soap.len(), 2, "PEN's and PI's 'Could not connect to host': {log:#}");
    let pi = finding(log, "SEI_LOG_NETWORK_ERRORS", "module", "pi");
    assert_eq!(param(pi, "target"), "protocolo-integrado");

    let service = finding(log, "SEI_LOG_SERVICE_ERRORS", "target", "tramita");
    assert_eq!(param(service, "count"), "2");
    assert_eq!(service["severity"], "warn");

    let document = finding(log, "SEI_LOG_DOCUMENT_FILE_MISSING", "module", "pen");
    assert!(param(document, "latest").contains("documento_4471.pdf"));
    assert!(document["message"].as_str().unwrap().contains("not a network failure"));

    // Known bugs against the version recorded in the database (no SEI tree here).
    let getbody = finding(log, "PEN_KNOWN_BUG", "rule", "getbody-on-null");
    assert_eq!(
        (param(getbody, "installed"), param(getbody, "installed_source"), param(getbody, "fixed_in")),
        ("4.0.3", "database", "4.2.0")
    );
    assert_eq!(param(getbody, "installed_affected"), "yes");
    let message = getbody["message"].as_str().unwrap();
    assert!(
        message.contains("Call to a member function getBody() on null")
            && message.contains("client-certificate failure"),
        "{message}"
    );
    assert!(message.contains("Upgrade the module to 4.2.0"), "{message}");
    let pcntl = finding(log, "PEN_KNOWN_BUG_NOT_AFFECTED", "rule", "pcntl-disabled");
    assert_eq!((param(pcntl, "installed"), param(pcntl, "fixed_in")), ("4.0.3", "2.1.0"));
    assert_eq!(pcntl["severity"], "info");

    let other = finding(log, "SEI_LOG_OTHER_ERRORS", "module", "pen");
    assert_eq!(param(other, "count"), "1");
    assert!(param(other, "latest").contains("espécie documental"));

    // Every module entry in the window and nothing else: 20 of 23 entries are PEN/PI errors
    // or warnings, the three noise entries of other modules and SEI are not, the info entry
    // and the entries three days old are outside.
    let counted: u64 = log["evidence"]["classes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["in_window"] == true)
        .map(|c| c["count"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, 16, "{log:#}");
    for noise in ["MdEstatisticas", "MdWsSeiRN", "tramitação", "three days ago"] {
        assert!(!log.to_string().contains(noise), "{noise} was counted: {log:#}");
    }

    // The scheduled tasks: the failed run in the window is classified with its task named;
    // the one that failed three days ago is found in the log and classified too.
    let envio = finding(log, "SEI_LOG_TRUST_ERRORS", "task", "PENAgendamentoRN::processarTarefasEnvioPEN");
    assert_eq!(param(envio, "source"), "infra_log, PENAgendamentoRN::processarTarefasEnvioPEN");
    let recebimento =
        finding(log, "SEI_LOG_NETWORK_ERRORS", "task", "PENAgendamentoRN::processarTarefasRecebimentoPEN");
    assert!(param(recebimento, "latest").contains("Could not resolve host"));
    let tasks = log["evidence"]["failed_tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2, "the other module's failed task is not ours: {tasks:?}");
    let codes: Vec<(&str, &str)> =
        tasks.iter().map(|t| (t["task"].as_str().unwrap(), t["code"].as_str().unwrap())).collect();
    assert!(codes.contains(&("PENAgendamentoRN::processarTarefasEnvioPEN", "SEI_LOG_TRUST_ERRORS")), "{codes:?}");
    assert!(
        codes.contains(&("PENAgendamentoRN::processarTarefasRecebimentoPEN", "SEI_LOG_NETWORK_ERRORS")),
        "{codes:?}"
    );
    assert!(log["evidence"]["task_error_column"].is_null());

    // Only reads reached the server from this user's connections.
    let general = fx.db.server.general_log();
    let ids: Vec<&str> = general
        .lines()
        .filter(|l| l.contains(" Connect") && l.contains(&format!("{}@", fx.db.name)))
        .filter_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            words.iter().position(|w| *w == "Connect").and_then(|i| i.checked_sub(1)).map(|i| words[i])
        })
        .collect();
    assert!(!ids.is_empty(), "{general}");
    for line in general.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(q) = words.iter().position(|w| *w == "Query") else { continue };
        if q == 0 || !ids.contains(&words[q - 1]) {
            continue;
        }
        let head = words.get(q + 1).copied().unwrap_or("").to_ascii_uppercase();
        assert!(["SELECT", "SET", "SHOW", "START", "ROLLBACK"].contains(&head.as_str()), "statement sent: {line}");
    }
}

#[test]
fn a_quiet_log_passes_and_since_narrows_the_window() {
    let fx = Fixture::new("quiet");
    fx.log(&[
        (30, "I", "PENAgendamentoRN::processarTarefasEnvioPEN: 3 processos enviados"),
        (20, "E", "MdEstatisticasAgendamentoRN: cURL error 28: Operation timed out"),
        (180, "E", &pen_trace("cURL error 60: SSL certificate problem: unable to get local issuer certificate")),
    ]);
    // Three hours ago is inside the default 24 h…
    let report = json_report(&["--only", "sei", "--db", &fx.url()], &[]);
    assert_eq!(findings(check(&report, "sei:log"), "SEI_LOG_TRUST_ERRORS").len(), 1);
    // …and outside two hours, by flag or by the config file.
    let report = json_report(&["--only", "sei", "--db", &fx.url(), "--since", "2h", "--lang", "en"], &[]);
    let log = check(&report, "sei:log");
    assert_eq!(log["status"], "ok", "{log:#}");
    assert!(log["findings"].as_array().unwrap().is_empty(), "{log:#}");
    assert_eq!(log["evidence"]["since"], "2h");
    assert_eq!(
        log["summary"],
        "SEI's log, a window of 2h: 0 entry(ies) of the PEN/PI modules, no error of a known class"
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pen-doctor.toml");
    std::fs::write(&config, "since = \"2h\"\n").unwrap();
    let report = json_report(&["--only", "sei", "--db", &fx.url(), "--config", config.to_str().unwrap()], &[]);
    assert_eq!(check(&report, "sei:log")["status"], "ok");
    assert_eq!(check(&report, "sei:log")["evidence"]["since"], "2h");
    // A bad window is a usage error naming the flag, or the file and line.
    let Run { code, stderr: err, .. } = run(&["--only", "sei", "--db", &fx.url(), "--since", "0s"], &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--since"), "{err}");
    std::fs::write(&config, "format = \"json\"\nsince = \"forever\"\n").unwrap();
    let Run { code, stderr: err, .. } = run(&["--config", config.to_str().unwrap()], &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(":2:") && err.contains("since"), "{err}");
}

/// A copy of the `modpen4` SEI fixture (mod-sei-pen `version`) whose `BancoSEI` names `fx`.
fn sei_tree(fx: &Fixture, version: &str) -> tempfile::TempDir {
    let dir = support::node::sei_copy("modpen4");
    let path = dir.path().join("config/ConfiguracaoSEI.php");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text
        .replace("'Porta' => '3306'", &format!("'Porta' => '{}'", fx.db.server.port))
        .replace("'Banco' => 'sei'", &format!("'Banco' => '{}'", fx.db.name))
        .replace("'Usuario' => 'sei_app'", &format!("'Usuario' => '{}'", fx.db.name))
        .replace("'Senha' => 'S3nh4-Banco-Fixture!'", &format!("'Senha' => '{PASSWORD}'"));
    assert!(text.contains(&fx.db.name), "fixture layout changed");
    std::fs::write(&path, text).unwrap();
    let module = dir.path().join("web/modulos/pen/PENIntegracao.php");
    let text = std::fs::read_to_string(&module).unwrap();
    assert!(text.contains("\"4.0.1\""), "fixture layout changed");
    std::fs::write(&module, text.replace("\"4.0.1\"", &format!("\"{version}\""))).unwrap();
    dir
}

#[test]
fn a_known_bug_is_named_against_the_installed_module() {
    let fx = Fixture::new("bug");
    fx.log(&[
        (40, "E", "Error: Call to a member function getBody() on null in /opt/sei/web/modulos/pen/rn/ProcessoEletronicoRN.php:2110"),
        (30, "E", "Erro processando operação consultarHtmlVersao: Could not connect to host"),
    ]);
    // The database says 4.0.3; the installation, read statically, wins.
    for (installed, getbody, html) in [
        ("4.0.1", "PEN_KNOWN_BUG", "PEN_KNOWN_BUG_NOT_AFFECTED"),
        ("4.2.0", "PEN_KNOWN_BUG_NOT_AFFECTED", "PEN_KNOWN_BUG_NOT_AFFECTED"),
        ("3.2.4", "PEN_KNOWN_BUG_NOT_AFFECTED", "PEN_KNOWN_BUG"),
    ] {
        let tree = sei_tree(&fx, installed);
        // The SEI tree's password is the one in BancoSEI: no PEN_DOCTOR_DB_PASSWORD here.
        let out = pen_doctor(Host)
            .args(["check", "--sei-dir", tree.path().to_str().unwrap(), "--only", "sei", "--format", "json"])
            .run();
        assert!(!out.stdout.contains(PASSWORD));
        let report = out.json();
        let log = check(&report, "sei:log");
        // (The fixture's REST address suits 4.0.1 only: other versions get their era's findings.)
        assert_eq!(check(&report, "config:sei")["evidence"]["pen"]["version"], installed);
        let f = finding(log, getbody, "rule", "getbody-on-null");
        assert_eq!((param(f, "installed"), param(f, "installed_source")), (installed, "sei"), "{f:#}");
        let f = finding(log, html, "rule", "html-version-https");
        assert_eq!(param(f, "fixed_in"), "3.3.0");
        // In Portuguese by default, the meaning too.
        assert!(param(f, "meaning").contains("HTTPS") && param(f, "meaning").contains("documento"), "{f:#}");
    }
}

/// A [`Scenario`]: nginx serving Tramita's REST healthcheck on `api.test`, asking for a client
/// certificate without requiring one.
struct Lab(Running);

impl Lab {
    fn new() -> Lab {
        let lab = Scenario::new()
            .host("api.test")
            .mtls(Mtls::Optional)
            .client(false)
            .site(Site::healthcheck_only())
            .target("tramita", "api.test", TRAMITA_PATH)
            .start();
        Lab(lab)
    }

    fn tramita(&self) -> String {
        self.0.url(TRAMITA_PATH)
    }

    /// Runs `--only sei,tls` against the lab with the given trust store.
    fn run(&self, fx: &Fixture, store: &std::path::Path) -> Value {
        let args = self
            .0
            .target_args()
            .only("sei,tls")
            .ca_bundle(store)
            .flag("--db", fx.url())
            .timeout("3s")
            .flag("--lang", "en");
        json_report(&args.flags(), &[])
    }
}

#[test]
fn logged_errors_are_compared_with_the_live_checks() {
    let lab = Lab::new();
    let fx = Fixture::new("live");
    let url = lab.tramita();
    fx.log(&[
        (90, "E", &pen_trace(&format!("cURL error 60: SSL certificate problem: unable to get local issuer certificate for {url}tramites"))),
        (30, "E", &pen_trace(&format!("cURL error 60: SSL certificate problem: unable to get local issuer certificate for {url}healthcheck"))),
        (20, "E", &pen_trace(&format!("cURL error 58: unable to set private key file for {url}tramites"))),
        (10, "E", "Error: Call to a member function getBody() on null in /opt/sei/web/modulos/pen/rn/ProcessoEletronicoRN.php:2110"),
    ]);

    // The server's chain verifies now: the logged trust errors happened in another context.
    let report = lab.run(&fx, lab.0.store());
    assert_eq!(check(&report, "tls:tramita")["status"], "ok", "{report:#}");
    let log = check(&report, "sei:log");
    let trust = finding(log, "SEI_LOG_TRUST_ERRORS", "target", "tramita");
    assert_eq!(trust["severity"], "warn", "not reproduced now: {trust:#}");
    assert_eq!(param(trust, "live_status"), "ok");
    assert_eq!(param(trust, "live_check"), "tls:tramita, ca:store");
    assert!(trust["params"]["folded_under"].is_null());
    let other = finding(log, "SEI_LOG_OTHER_CONTEXT", "class", "SEI_LOG_TRUST_ERRORS");
    assert_eq!(other["severity"], "warn");
    let message = other["message"].as_str().unwrap();
    assert!(message.contains("tls:tramita") && message.contains("php.ini") && message.contains("cron"), "{message}");
    assert!(other["fix"].to_string().contains("/proc/PID/environ"), "{other:#}");
    // The client certificate was not tested in this run: nothing concluded.
    let client = finding(log, "SEI_LOG_CLIENT_CERT_ERRORS", "target", "tramita");
    assert_eq!((param(client, "live_status"), client["severity"].as_str()), ("inconclusive", Some("fail")));
    assert_eq!(log["status"], "fail", "the client-certificate errors still count: {log:#}");

    // A store without the server's root: tls:tramita fails, and the logged errors fold under it.
    let stranger = lab.0.pki().write("stranger.pem", lab.0.pki().stranger.pem());
    let report = lab.run(&fx, &stranger);
    assert_eq!(check(&report, "tls:tramita")["status"], "fail");
    let log = check(&report, "sei:log");
    let trust = finding(log, "SEI_LOG_TRUST_ERRORS", "target", "tramita");
    assert_eq!((param(trust, "folded_under"), trust["severity"].as_str()), ("tls:tramita", Some("fail")));
    assert!(findings(log, "SEI_LOG_OTHER_CONTEXT").is_empty(), "{log:#}");
    // The known bug whose real cause is a certificate failure folds under it too.
    let bug = finding(log, "PEN_KNOWN_BUG", "rule", "getbody-on-null");
    assert_eq!(param(bug, "folded_under"), "tls:tramita");
}

#[test]
fn tables_of_another_shape_are_read_or_named_never_a_crash() {
    let fx = Fixture::new("shape");
    // A log without an id or a type, under other names; a task table that keeps its error.
    fx.sql(
        "DROP TABLE infra_log;
         CREATE TABLE infra_log (codigo varchar(20), quando timestamp NULL, mensagem text) DEFAULT CHARSET=utf8mb4;
         INSERT INTO infra_log VALUES
           ('a', NOW() - INTERVAL 50 MINUTE, 'ProcessoEletronicoRN: cURL error 7: Failed to connect to api.test port 443: Connection refused'),
           ('b', NOW() - INTERVAL 40 MINUTE, 'ProcessoEletronicoRN: cURL error 28: Operation timed out'),
           ('c', NOW() - INTERVAL 30 MINUTE, 'MdOutroRN: cURL error 7: Failed to connect');
         ALTER TABLE infra_agendamento_tarefa ADD COLUMN texto_erro longtext NULL;
         UPDATE infra_agendamento_tarefa SET sin_sucesso = 'N', dth_ultima_execucao = NOW() - INTERVAL 3 DAY,
           texto_erro = 'ProtocoloIntegradoAgendamentoRN: cURL error 60: SSL certificate problem: unable to get local issuer certificate'
           WHERE id_infra_agendamento_tarefa = 1;",
    );
    let report = json_report(&["--only", "sei", "--db", &fx.url(), "--lang", "en"], &[]);
    let log = check(&report, "sei:log");
    let shape = &findings(log, "SEI_LOG_SHAPE_UNEXPECTED")[0];
    assert_eq!(shape["severity"], "info");
    assert_eq!(param(shape, "used"), "time=quando, text=mensagem, id=-, type=-");
    assert!(param(shape, "columns").contains("codigo varchar"), "{shape:#}");
    let network = finding(log, "SEI_LOG_NETWORK_ERRORS", "module", "pen");
    assert_eq!(param(network, "count"), "2");
    assert!(param(network, "latest").contains("Operation timed out"), "the newest, found without an id: {network:#}");
    let pi = finding(log, "SEI_LOG_PI_TRUST_ERRORS", "module", "pi");
    assert_eq!(
        param(pi, "source"),
        "infra_agendamento_tarefa.texto_erro, ProtocoloIntegradoAgendamentoRN::publicarProtocoloIntegrado"
    );
    assert_eq!(log["evidence"]["task_error_column"], "texto_erro");

    // Columns with no time or no text: named, not read.
    fx.sql("DROP TABLE infra_log; CREATE TABLE infra_log (codigo int, valor decimal(10,2));");
    let report = json_report(&["--only", "sei", "--db", &fx.url()], &[]);
    let log = check(&report, "sei:log");
    assert_eq!(log["status"], "ok");
    assert!(param(findings(log, "SEI_LOG_UNREADABLE")[0], "columns").contains("codigo int"));
    // No table at all.
    fx.sql("DROP TABLE infra_log");
    let report = json_report(&["--only", "sei", "--db", &fx.url()], &[]);
    let log = check(&report, "sei:log");
    assert_eq!(findings(log, "SEI_LOG_TABLE_MISSING").len(), 1, "{log:#}");
    assert_eq!(log["status"], "ok");
}

/// Runs the binary to completion and writes its report to `out`; returns the exit code, the
/// report, the wall time and the child's peak resident set in KiB (from wait4).
fn run_measured(args: &[&str], env: &[(&str, &str)], out: &std::path::Path) -> (i32, String, Duration, u64) {
    let mut cmd = pen_doctor(Host);
    cmd.env("NO_COLOR", "1").env("PEN_DOCTOR_DB_PASSWORD", PASSWORD).arg("check").args(args);
    cmd.envs(env.iter().copied());
    let run = cmd.run_measured_for(support::RUN_TIMEOUT);
    std::fs::write(out, &run.stdout).unwrap();
    (run.code.unwrap_or(-1), run.stdout.clone(), run.elapsed, run.peak_kib.expect("a measured run"))
}

#[test]
fn a_hostile_log_stays_bounded_and_leaks_nothing() {
    const CERT_PASS: &str = "Cert-Pa55-Hostil";
    const PI_PASS: &str = "Pi-Pa55-Hostil";
    const URL_PASS: &str = "UrlUserinfoPa55";
    let fx = Fixture::new("hostile");
    // A million entries over the last day: other modules' routine, one PEN error in ten
    // thousand with secrets and escape sequences inside.
    let secret_mix = format!(
        "CONCAT('ProcessoEletronicoRN: cURL error 60: SSL certificate problem for https://orgao:{URL_PASS}@api.test/ senha={PASSWORD} ', \
         CHAR(27), '[2J', UNHEX('00FF9B07'), ' {CERT_PASS} ', seq)"
    );
    let started = Instant::now();
    fx.sql(&format!(
        "INSERT INTO infra_log SELECT seq, \
         IF(seq MOD 10000 = 0, NOW() - INTERVAL (seq DIV 10000) SECOND, NOW() - INTERVAL (seq MOD 80000) SECOND), \
         IF(seq MOD 10000 = 0, {secret_mix}, CONCAT('MdOutroModuloRN::rotina ', seq)), NULL, IF(seq MOD 3 = 0, 'I', 'E') \
         FROM seq_1_to_1000000"
    ));
    // Entries of 1 MiB: one of the trust class has a password cut by the database's 4 KiB at
    // its 6th character; others hide secrets past what is examined or sent.
    let prefix = "ProcessoEletronicoRN cURL error 60: ";
    let pad = 4096 - prefix.len() - 6;
    fx.sql(&format!(
        "INSERT INTO infra_log VALUES
           (2000001, NOW() - INTERVAL 5 MINUTE, CONCAT('{prefix}', REPEAT('x', {pad}), '{PASSWORD}', REPEAT('y', 1048576)), NULL, 'E'),
           (2000002, NOW() - INTERVAL 6 MINUTE, CONCAT('ProcessoEletronicoRN ', REPEAT('A', 1048576), ' {PI_PASS} cURL error 28'), NULL, 'E'),
           (2000003, NOW() - INTERVAL 7 MINUTE, CONCAT(REPEAT(UNHEX('1B5B33316D'), 200000), 'PENAgendamentoRN ', '{CERT_PASS}'), NULL, 'E')"
    ));
    eprintln!("hostile log written in {:?}", started.elapsed());

    let dir = tempfile::tempdir().unwrap();
    let env = [("CERT_PW", CERT_PASS), ("PI_PW", PI_PASS)];
    for format in ["json", "human", "markdown"] {
        let out = dir.path().join(format!("report.{format}"));
        let args = [
            "--only",
            "sei",
            "--db",
            &fx.url(),
            "--format",
            format,
            "--timeout",
            "20s",
            "--deadline",
            "30s",
            "--cert-password-env",
            "CERT_PW",
            "--pi-password-env",
            "PI_PW",
        ];
        let (code, text, elapsed, rss_kib) = run_measured(&args, &env, &out);
        eprintln!("{format}: exit {code} in {elapsed:?}, peak RSS {rss_kib} KiB, {} bytes", text.len());
        assert!(code == 0 || code == 1, "{format}: exit {code}\n{text}");
        assert!(elapsed < Duration::from_secs(31), "{format}: {elapsed:?} past the deadline");
        assert!(rss_kib < 64 * 1024, "{format}: peak RSS {rss_kib} KiB");
        assert!(text.len() < 200_000, "{format}: a report of {} bytes", text.len());
        for secret in [PASSWORD, CERT_PASS, PI_PASS, URL_PASS, &PASSWORD[..6]] {
            assert!(!text.contains(secret), "{format}: {secret} leaked");
        }
        assert!(
            !text.contains('\u{1b}') && !text.contains('\0') && !text.contains('\u{7}'),
            "{format}: raw control bytes"
        );
        if format == "json" {
            let report: Value = serde_json::from_str(&text).unwrap();
            let log = check(&report, "sei:log");
            assert_eq!(log["evidence"]["entries"]["in_window"], 1_000_003 - 333_333, "{log:#}");
            assert_eq!(log["evidence"]["entries"]["capped"], true);
            // The newest module entry, its secrets masked and its control bytes escaped.
            let trust = finding(log, "SEI_LOG_TRUST_ERRORS", "target", "tramita");
            let latest = param(trust, "latest");
            // (MariaDB's latin1 is Windows-1252: its byte 0x9B is '›', not a control.)
            assert!(latest.contains("https://***@api.test/ senha=*** \\u{1b}[2J\\u{0}ÿ›\\u{7} *** 10000"), "{latest}");
            assert!(latest.chars().count() <= 401, "{latest}");
            // An entry of 1 MiB: examined (its first 64 KiB), counted, shown cut short.
            let other = finding(log, "SEI_LOG_OTHER_ERRORS", "module", "pen");
            assert!(param(other, "latest").starts_with("ProcessoEletronicoRN AAAA"), "{other:#}");
            let rows = log["evidence"]["classes"].as_array().unwrap();
            assert!(rows.len() < 10, "{rows:?}");
        }
    }
}
