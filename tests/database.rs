//! `pi:agendamentos` and `pen:agendamentos` against a real MariaDB holding the SEI tables:
//! every finding code, the read-only session, and the database password kept out of every
//! output format, even when the login fails or the server cannot be reached.
mod support;

use pen_doctor::checks::testing::{run_one_blocking, Given};
use serde_json::Value;
use support::mariadb::SeiDb;
use support::{check, codes, finding, free_port, pen_doctor, Host, Run, RunExt, TcpBehaviour, TcpServer};

const PASSWORD: &str = "Sei-Db-S3cret!x";

/// A fresh database (and its SELECT-only user) with a healthy SEI: every PI and PEN task active
/// and successful, packages published an hour ago, PEN module 3.8.0 recorded.
fn fixture(tag: &str) -> SeiDb {
    let fx = SeiDb::new("sei", tag, PASSWORD);
    fx.sql(
        "INSERT INTO infra_agendamento_tarefa VALUES
             (1, 'Processo de Publicação do PI', 'ProtocoloIntegradoAgendamentoRN::publicarProtocoloIntegrado', 'D', '2',
              NOW() - INTERVAL 1 HOUR, NOW() - INTERVAL 59 MINUTE, 'S', NULL, 'pi@orgao.gov.br', 'S'),
             (2, 'Alarme de falha na publicação', 'ProtocoloIntegradoAgendamentoRN::notificarProcessosComFalhaPublicacaoProtocoloIntegrado', 'D', '17',
              NOW() - INTERVAL 2 HOUR, NOW() - INTERVAL 2 HOUR, 'S', NULL, 'pi@orgao.gov.br', 'S'),
             (3, 'Alarme de pacotes não gerados', 'ProtocoloIntegradoAgendamentoRN::notificarNovosPacotesNaoSendoGerados', 'D', '12',
              NOW() - INTERVAL 3 HOUR, NOW() - INTERVAL 3 HOUR, 'S', '3', 'pi@orgao.gov.br', 'S'),
             (4, 'Envio PEN', 'PENAgendamentoRN::processarTarefasEnvioPEN', 'N', '2',
              NOW() - INTERVAL 1 MINUTE, NOW() - INTERVAL 1 MINUTE, 'S', NULL, NULL, 'S'),
             (5, 'Recebimento PEN', 'PENAgendamentoRN::processarTarefasRecebimentoPEN', 'N', '2',
              NOW() - INTERVAL 1 MINUTE, NOW() - INTERVAL 1 MINUTE, 'S', NULL, NULL, 'S'),
             (7, 'Atualização PEN', 'PENAgendamentoRN::atualizarInformacoesPEN', 'D', '1',
              NOW() - INTERVAL 3 HOUR, NOW() - INTERVAL 3 HOUR, 'S', NULL, NULL, 'S'),
             (6, 'Teste', 'AgendamentoRN::testarAgendamento', 'D', '0', NULL, NULL, 'N', NULL, NULL, 'N');
             INSERT INTO md_pi_pacote_envio (id_md_pi_pacote_envio, id_protocolo, dth_metadados, dth_situacao, sta_integracao) VALUES
             (1, 100, NOW() - INTERVAL 2 DAY, NOW() - INTERVAL 2 DAY, 'IN'),
             (2, 101, NOW() - INTERVAL 1 HOUR, NOW() - INTERVAL 1 HOUR, 'IN');
             INSERT INTO infra_parametro VALUES ('VERSAO_MODULO_PEN', '3.8.0'), ('PI_VERSAO', '3.0.1'), ('SEI_VERSAO', '4.0.12');",
    );
    fx
}

/// `pen-doctor check ARGS` in the harness's clean environment: no proxy, no
/// `PEN_DOCTOR_DB_PASSWORD` unless given.
fn run(args: &[&str], password: Option<&str>) -> Run {
    let mut cmd = pen_doctor(Host);
    cmd.env("NO_COLOR", "1").arg("check").args(args);
    if let Some(p) = password {
        cmd.env("PEN_DOCTOR_DB_PASSWORD", p);
    }
    cmd.run()
}

fn json_report(args: &[&str], password: Option<&str>) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json", "--timeout", "3s"]);
    let out = run(&all, password);
    assert!(matches!(out.code, Some(0 | 1)), "{out}");
    out.json()
}

#[test]
fn healthy_sei_passes_and_the_session_only_reads() {
    let fx = fixture("ok");
    let report = json_report(&["--only", "pi,pen", "--db", &fx.url()], Some(PASSWORD));
    let pi = check(&report, "pi:agendamentos");
    assert_eq!(pi["status"], "ok", "{pi:#}");
    assert_eq!(pi["evidence"]["tolerance_days"], 3);
    assert_eq!(pi["evidence"]["tolerance_source"], "parametro");
    assert_eq!(pi["evidence"]["packages"]["total"], 2);
    assert_eq!(pi["evidence"]["read_only"], true);
    let pen = check(&report, "pen:agendamentos");
    assert_eq!(pen["status"], "ok", "{pen:#}");
    assert_eq!(pen["evidence"]["db_version"], "3.8.0");
    assert!(pen["summary"].as_str().unwrap_or("").contains("3.8.0"), "{pen:#}");

    // The general log holds every statement the server received from this user's connections:
    // only reads and session settings.
    let log = fx.server.general_log();
    let ids: Vec<String> = log
        .lines()
        .filter(|l| l.contains("Connect") && l.contains(&format!("{}@", fx.name)))
        .filter_map(|l| {
            let mut words = l.split_whitespace().collect::<Vec<_>>();
            let at = words.iter().position(|w| *w == "Connect")?;
            words.truncate(at);
            words.last().map(|s| s.to_string())
        })
        .collect();
    assert_eq!(ids.len(), 2, "one connection per check:\n{log}");
    let mut statements = Vec::new();
    for line in log.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Some(q) = words.iter().position(|w| *w == "Query") {
            if q > 0 && ids.iter().any(|id| id == words[q - 1]) {
                statements.push(words[q + 1..].join(" "));
            }
        }
    }
    assert!(statements.iter().any(|s| s.starts_with("SELECT comando")), "{statements:?}");
    for s in &statements {
        let head = s.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        assert!(
            ["SELECT", "SET", "SHOW", "START", "ROLLBACK"].contains(&head.as_str()),
            "write-capable statement sent: {s}"
        );
    }
    assert!(statements.iter().any(|s| s == "SET SESSION TRANSACTION READ ONLY"), "{statements:?}");
    assert!(statements.iter().any(|s| s == "START TRANSACTION READ ONLY"), "{statements:?}");
}

#[test]
fn session_refuses_writes_even_for_a_user_who_may_write() {
    let fx = fixture("ro");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // root may write; the session pen-doctor opens may not.
        let target = pen_doctor::db::parse_url(&format!("mysql://root@127.0.0.1:{}/{}", fx.server.port, fx.name), None)
            .expect("url");
        let mut s = pen_doctor::db::Session::open(&target, std::time::Duration::from_secs(5)).await.expect("session");
        let rows = s.select("SELECT COUNT(*) FROM infra_agendamento_tarefa").await.expect("select");
        assert_eq!(rows[0][0].as_deref(), Some("7"));
        assert!(s.select("UPDATE infra_agendamento_tarefa SET sin_ativo = 'N'").await.is_err());
        use mysql_async::prelude::Queryable;
        let conn = s.raw().expect("connection");
        let err =
            conn.query_drop("UPDATE infra_agendamento_tarefa SET sin_ativo = 'N'").await.expect_err("write refused");
        assert!(err.to_string().contains("1792") || err.to_string().to_lowercase().contains("read only"), "{err}");
        s.close().await;
    });
    assert_eq!(
        fx.server.sql(&fx.name, "SELECT COUNT(*) FROM infra_agendamento_tarefa WHERE sin_ativo = 'S'").trim(),
        "6"
    );
}

#[test]
fn inactive_pi_task_is_named_with_its_fix() {
    let fx = fixture("inactive");
    fx.sql("UPDATE infra_agendamento_tarefa SET sin_ativo = 'N' WHERE id_infra_agendamento_tarefa = 2");
    let report = json_report(&["--only", "pi", "--db", &fx.url()], Some(PASSWORD));
    let pi = check(&report, "pi:agendamentos");
    assert_eq!(pi["status"], "fail");
    assert_eq!(codes(pi), vec!["PI_TASK_DISABLED"]);
    let f = finding(pi, "PI_TASK_DISABLED");
    let task = "ProtocoloIntegradoAgendamentoRN::notificarProcessosComFalhaPublicacaoProtocoloIntegrado";
    assert!(f["message"].as_str().unwrap().contains(task), "{f:#}");
    assert!(f["fix"].to_string().contains("Infra › Agendamentos") && f["fix"].to_string().contains(task), "{f:#}");
    assert_eq!(f["kb"]["article"], "PI-NOTIFICACAO-FALHAS");
}

#[test]
fn missing_and_failed_pi_tasks() {
    let fx = fixture("failed");
    fx.sql(
        "DELETE FROM infra_agendamento_tarefa WHERE id_infra_agendamento_tarefa = 3;
         UPDATE infra_agendamento_tarefa SET sin_sucesso = 'N', dth_ultima_conclusao = NULL WHERE id_infra_agendamento_tarefa = 1;",
    );
    let report = json_report(&["--only", "pi", "--db", &fx.url()], Some(PASSWORD));
    let pi = check(&report, "pi:agendamentos");
    let mut c = codes(pi);
    c.sort();
    assert_eq!(c, vec!["PI_TASK_FAILED", "PI_TASK_MISSING"], "{pi:#}");
    assert!(finding(pi, "PI_TASK_FAILED")["message"].as_str().unwrap().contains("publicarProtocoloIntegrado"));
    assert!(finding(pi, "PI_TASK_MISSING")["message"]
        .as_str()
        .unwrap()
        .contains("notificarNovosPacotesNaoSendoGerados"));
    // Without the task, the tolerance falls back to the module's default.
    assert_eq!(pi["evidence"]["tolerance_source"], "default");
}

#[test]
fn failed_packages_are_counted() {
    let fx = fixture("packages");
    fx.sql(
        "INSERT INTO md_pi_pacote_envio (id_md_pi_pacote_envio, id_protocolo, dth_metadados, dth_situacao, sta_integracao, num_tentativas_envio) VALUES
         (10, 200, NOW(), NOW(), 'FI', 3), (11, 201, NOW(), NOW(), 'FI', 3), (12, 202, NOW(), NOW(), 'EN', 1);",
    );
    let report = json_report(&["--only", "pi", "--db", &fx.url()], Some(PASSWORD));
    let pi = check(&report, "pi:agendamentos");
    assert_eq!(codes(pi), vec!["PI_PACKAGES_FAILED"]);
    let f = finding(pi, "PI_PACKAGES_FAILED");
    assert_eq!(f["params"]["fi"], "2");
    assert_eq!(f["params"]["en"], "1");
    assert_eq!(pi["status"], "warn");
}

#[test]
fn no_package_for_longer_than_the_tolerance() {
    let fx = fixture("stale");
    fx.sql(
        "UPDATE md_pi_pacote_envio SET dth_situacao = NOW() - INTERVAL 6 DAY, dth_metadados = NOW() - INTERVAL 6 DAY WHERE id_md_pi_pacote_envio = 1;
         UPDATE md_pi_pacote_envio SET dth_situacao = NOW() - INTERVAL 5 DAY - INTERVAL 1 HOUR, dth_metadados = NOW() - INTERVAL 5 DAY WHERE id_md_pi_pacote_envio = 2;",
    );
    let report = json_report(&["--only", "pi", "--db", &fx.url(), "--lang", "en"], Some(PASSWORD));
    let pi = check(&report, "pi:agendamentos");
    assert_eq!(codes(pi), vec!["PI_NOT_PUBLISHING"]);
    let f = finding(pi, "PI_NOT_PUBLISHING");
    assert_eq!(f["params"]["days"], "5");
    assert_eq!(f["params"]["tolerance"], "3");
    assert_eq!(pi["status"], "fail");
}

#[test]
fn disabled_pen_task() {
    let fx = fixture("pen");
    fx.sql("UPDATE infra_agendamento_tarefa SET sin_ativo = 'N' WHERE comando = 'PENAgendamentoRN::processarTarefasRecebimentoPEN'");
    let report = json_report(&["--only", "pen", "--db", &fx.url()], Some(PASSWORD));
    let pen = check(&report, "pen:agendamentos");
    assert_eq!(codes(pen), vec!["PEN_TASK_DISABLED"]);
    assert!(finding(pen, "PEN_TASK_DISABLED")["message"].as_str().unwrap().contains("processarTarefasRecebimentoPEN"));
}

/// Runs `pen:agendamentos` in-process with the installed module version an SEI tree would give.
fn run_pen_with_installed(fx: &SeiDb, installed: &str) -> pen_doctor::checks::Outcome {
    let args = pen_doctor::cli::CheckArgs {
        db: Some(fx.url()),
        only: Some(vec!["pen".into()]),
        sei_dir: Some(std::path::PathBuf::from("/nonexistent-sei")),
        ..Default::default()
    };
    let mut settings = pen_doctor::settings::build(args, false).expect("settings");
    settings.db_password = Some(pen_doctor::secret::Secret::new(PASSWORD));
    let sei = settings.sei.get_or_insert_with(Default::default);
    sei.pen_version = Some(installed.to_string());
    // `--db` given: the database does not come from `config:sei`, so no result of it is given
    // (were it a prerequisite, the check would see no installed version).
    let pen = pen_doctor::checks::database::PEN_AGENDAMENTOS;
    run_one_blocking(settings, &pen, Given::new())
}

#[test]
fn pen_version_mismatch_against_the_installed_module() {
    let fx = fixture("version");
    let o = run_pen_with_installed(&fx, "3.9.1");
    let f = o.findings.iter().find(|f| f.code == "PEN_DB_VERSION_MISMATCH").expect("mismatch");
    assert_eq!(f.params["db_version"], "3.8.0");
    assert_eq!(f.params["installed_version"], "3.9.1");
    assert!(run_pen_with_installed(&fx, "3.8.0").findings.is_empty());

    // Older modules wrote the version under another name.
    fx.sql("DELETE FROM infra_parametro WHERE nome = 'VERSAO_MODULO_PEN'; INSERT INTO infra_parametro VALUES ('PEN_VERSAO_MODULO_SEI', '1.5.2');");
    let o = run_pen_with_installed(&fx, "1.5.2");
    assert!(o.findings.is_empty(), "{:?}", o.findings);
    assert_eq!(o.evidence["db_version_param"], "PEN_VERSAO_MODULO_SEI");
    fx.sql("DELETE FROM infra_parametro");
    let o = run_pen_with_installed(&fx, "1.5.2");
    assert_eq!(o.findings.iter().map(|f| f.code).collect::<Vec<_>>(), vec!["PEN_DB_VERSION_MISSING"]);
}

#[test]
fn missing_table_is_a_query_failure() {
    let fx = fixture("notable");
    fx.sql("DROP TABLE md_pi_pacote_envio");
    let report = json_report(&["--only", "pi", "--db", &fx.url()], Some(PASSWORD));
    let pi = check(&report, "pi:agendamentos");
    assert_eq!(codes(pi), vec!["DB_QUERY_FAILED"]);
    let f = finding(pi, "DB_QUERY_FAILED");
    assert_eq!(f["params"]["table"], "md_pi_pacote_envio");
    assert!(f["params"]["error"].as_str().unwrap().contains("1146"), "{f:#}");
}

fn all_formats_without_password(args: &[&str], password: &str) -> Value {
    for format in ["human", "markdown", "json"] {
        let mut all = args.to_vec();
        all.extend(["--format", format, "--timeout", "2s"]);
        let Run { stdout: out, stderr: err, .. } = run(&all, Some(password));
        assert!(!out.contains(password) && !err.contains(password), "password leaked in {format}:\n{out}\n{err}");
        assert!(!out.is_empty(), "{format}: empty output; stderr: {err}");
    }
    json_report(args, Some(password))
}

#[test]
fn wrong_password_is_access_denied_and_never_shown() {
    let fx = fixture("auth");
    let wrong = "Wr0ng-Pa55word-zz";
    let report = all_formats_without_password(&["--only", "pi,pen", "--db", &fx.url()], wrong);
    for id in ["pi:agendamentos", "pen:agendamentos"] {
        let c = check(&report, id);
        assert_eq!(codes(c), vec!["DB_AUTH_FAILED"], "{c:#}");
        assert!(finding(c, "DB_AUTH_FAILED")["params"]["error"].as_str().unwrap().contains("1045"));
    }
    // A password written into the URL is used and never shown either.
    let url = format!("mysql://{}:{}@127.0.0.1:{}/{}", fx.name, "In-Url-S3cret", fx.server.port, fx.name);
    for format in ["human", "markdown", "json"] {
        let Run { stdout: out, stderr: err, .. } = run(&["--only", "pi", "--db", &url, "--format", format], None);
        assert!(!out.contains("In-Url-S3cret") && !err.contains("In-Url-S3cret"), "{format}: {out}{err}");
    }
}

#[test]
fn unreachable_database_and_no_password_in_output() {
    let port = free_port(Host);
    let url = format!("mysql://sei_user@127.0.0.1:{port}/sei");
    let report = all_formats_without_password(&["--only", "pi,pen", "--db", &url], PASSWORD);
    let c = check(&report, "pi:agendamentos");
    assert_eq!(codes(c), vec!["DB_UNREACHABLE"], "{c:#}");
    assert_eq!(finding(c, "DB_UNREACHABLE")["params"]["addr"], format!("127.0.0.1:{port}"));
    // A name that does not resolve.
    let report = json_report(&["--only", "pi", "--db", "mysql://sei_user@db.invalid:3306/sei"], Some(PASSWORD));
    assert_eq!(codes(check(&report, "pi:agendamentos")), vec!["DB_UNREACHABLE"]);
}

#[test]
fn other_engines_and_no_database() {
    let report = json_report(&["--only", "pi", "--db", "sqlserver://sei_user@127.0.0.1:1433/sei"], None);
    let c = check(&report, "pi:agendamentos");
    assert_eq!(codes(c), vec!["DB_UNSUPPORTED"]);
    assert_eq!(finding(c, "DB_UNSUPPORTED")["params"]["kind"], "sqlserver");
    let report = json_report(&["--only", "pi"], None);
    let c = check(&report, "pi:agendamentos");
    assert_eq!(codes(c), vec!["DB_NOT_CONFIGURED"]);
    assert_eq!(c["status"], "skip");
    let report = json_report(&["--only", "pen", "--db", "mysql://127.0.0.1/sei"], None);
    assert_eq!(codes(check(&report, "pen:agendamentos")), vec!["DB_URL_INVALID"]);
}

#[test]
fn protocolo_integrado_without_an_sei_installation() {
    let fx = fixture("nosei");
    let empty = tempfile::tempdir().unwrap();
    let port = free_port(Host);
    let endpoint = format!("protocolo-integrado=https://127.0.0.1:{port}/ProtocoloWS/integradorService?wsdl");
    let out = pen_doctor(Host)
        .current_dir(empty.path())
        .args(["check", "--target", "protocolo-integrado", "--endpoint", &endpoint, "--pi-user", "orgao"])
        .args(["--pi-password-env", "PI_TEST_PASSWORD", "--db", &fx.url(), "--format", "json", "--timeout", "2s"])
        .env("PI_TEST_PASSWORD", "pi-ws-secret")
        .env("PEN_DOCTOR_DB_PASSWORD", PASSWORD)
        .run();
    assert!(matches!(out.code, Some(0 | 1)), "{out}");
    assert!(!out.stdout.contains("pi-ws-secret") && !out.stdout.contains(PASSWORD));
    let report = out.json();
    for c in report["checks"].as_array().unwrap() {
        assert!(
            !c["skipped_because"].as_str().unwrap_or("").contains("config"),
            "nothing needs an SEI tree here: {c:#}"
        );
        assert!(c["target"].is_null() || c["target"] == "protocolo-integrado", "{c:#}");
    }
    assert_eq!(check(&report, "pi:agendamentos")["status"], "ok");
}

/// A copy of the `modpen4` SEI fixture whose `BancoSEI` names `fx`'s database (or `kind`).
fn sei_tree(fx: &SeiDb, kind: &str) -> tempfile::TempDir {
    let dir = support::node::sei_copy("modpen4");
    let path = dir.path().join("config/ConfiguracaoSEI.php");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text
        .replace("'Porta' => '3306'", &format!("'Porta' => '{}'", fx.server.port))
        .replace("'Banco' => 'sei'", &format!("'Banco' => '{}'", fx.name))
        .replace("'Usuario' => 'sei_app'", &format!("'Usuario' => '{}'", fx.name))
        .replace("'Senha' => 'S3nh4-Banco-Fixture!'", &format!("'Senha' => '{PASSWORD}'"))
        .replace("'Tipo' => 'MySql'", &format!("'Tipo' => '{kind}'"));
    assert!(text.contains(&fx.name), "fixture layout changed");
    std::fs::write(&path, text).unwrap();
    dir
}

#[test]
fn sei_installation_is_the_source_of_the_database_and_the_installed_version() {
    let fx = fixture("seitree");
    let tree = sei_tree(&fx, "MySql");
    let sei_dir = tree.path().to_str().unwrap();
    let report = all_formats_without_password(&["--sei-dir", sei_dir, "--only", "pi,pen"], "unused-env-password");
    // PEN_DOCTOR_DB_PASSWORD (set by the helper) wins over BancoSEI's Senha: the login fails.
    assert_eq!(codes(check(&report, "pi:agendamentos")), vec!["DB_AUTH_FAILED"]);

    // Without it, BancoSEI's password is used, and never shown.
    for format in ["human", "markdown", "json"] {
        let Run { stdout: out, stderr: err, .. } =
            run(&["--sei-dir", sei_dir, "--only", "pi,pen", "--format", format], None);
        assert!(!out.contains(PASSWORD) && !err.contains(PASSWORD), "{format}: {out}{err}");
    }
    let report = json_report(&["--sei-dir", sei_dir, "--only", "pi,pen"], None);
    assert_eq!(check(&report, "config:sei")["status"], "ok");
    let pi = check(&report, "pi:agendamentos");
    assert_eq!(pi["status"], "ok", "{pi:#}");
    assert_eq!(pi["evidence"]["source"], "BancoSEI");
    let pen = check(&report, "pen:agendamentos");
    assert_eq!(codes(pen), vec!["PEN_DB_VERSION_MISMATCH"], "{pen:#}");
    let f = finding(pen, "PEN_DB_VERSION_MISMATCH");
    assert_eq!(f["params"]["db_version"], "3.8.0");
    assert_eq!(f["params"]["installed_version"], "4.0.1");

    fx.sql("UPDATE infra_parametro SET valor = '4.0.1' WHERE nome = 'VERSAO_MODULO_PEN'");
    let report = json_report(&["--sei-dir", sei_dir, "--only", "pen"], None);
    assert_eq!(check(&report, "pen:agendamentos")["status"], "ok");
}

#[test]
fn sql_server_installation_is_named_as_unsupported() {
    let fx = fixture("mssql");
    let tree = sei_tree(&fx, "SqlServer");
    let report = json_report(&["--sei-dir", tree.path().to_str().unwrap(), "--only", "pi"], None);
    let c = check(&report, "pi:agendamentos");
    assert_eq!(codes(c), vec!["DB_UNSUPPORTED"]);
    assert_eq!(finding(c, "DB_UNSUPPORTED")["params"]["kind"], "SqlServer");
}

#[test]
fn unix_socket_connection() {
    let fx = fixture("socket");
    let socket = fx.server.socket();
    let url = format!("mysql://{}@localhost/{}?socket={}", fx.name, fx.name, socket.display());
    let report = json_report(&["--only", "pi", "--db", &url], Some(PASSWORD));
    let pi = check(&report, "pi:agendamentos");
    assert_eq!(pi["status"], "ok", "{pi:#}");
    assert_eq!(pi["evidence"]["addr"], format!("unix:{}", socket.display()));
}

#[test]
fn hostile_database_servers_give_a_finding_within_the_timeout() {
    let behaviours = [
        ("silent", TcpBehaviour::Hold, "no answer within 1s"),
        ("reset", TcpBehaviour::Reset, ""),
        ("closed", TcpBehaviour::Close, ""),
        ("garbage", TcpBehaviour::Reply(b"HTTP/1.1 400 Bad Request\r\n\r\n\x00\xff\xfe garbage".to_vec()), ""),
    ];
    for (what, behaviour, error) in behaviours {
        let server = TcpServer::start(Host, "127.0.0.1:0", behaviour);
        let url = format!("mysql://sei_user@{}/sei", server.addr());
        let run = pen_doctor(Host)
            .args(["check", "--only", "pi", "--db", &url, "--format", "json", "--timeout", "1s"])
            .env("PEN_DOCTOR_DB_PASSWORD", PASSWORD)
            .run();
        assert!(run.elapsed < std::time::Duration::from_secs(5), "{what}: took {:?}", run.elapsed);
        run.assert_code(1);
        let report = run.json();
        let c = check(&report, "pi:agendamentos");
        assert_eq!(codes(c), vec!["DB_UNREACHABLE"], "{what}: {c:#}");
        let said = finding(c, "DB_UNREACHABLE")["params"]["error"].as_str().unwrap_or("").to_string();
        assert!(said.contains(error), "{what}: {said}");
        assert!(!run.stdout.contains(PASSWORD));
    }
}

#[test]
fn never_run_tasks_empty_package_table_and_missing_or_failed_pen_tasks() {
    let fx = fixture("edges");
    fx.sql(
        "UPDATE infra_agendamento_tarefa SET dth_ultima_execucao = NULL, dth_ultima_conclusao = NULL, sin_sucesso = 'N'
           WHERE id_infra_agendamento_tarefa = 2;
         DELETE FROM md_pi_pacote_envio;
         DELETE FROM infra_agendamento_tarefa WHERE comando = 'PENAgendamentoRN::processarTarefasEnvioPEN';
         UPDATE infra_agendamento_tarefa SET sin_sucesso = 'N' WHERE comando = 'PENAgendamentoRN::processarTarefasRecebimentoPEN';",
    );
    let report = json_report(&["--only", "pi,pen", "--db", &fx.url()], Some(PASSWORD));
    let pi = check(&report, "pi:agendamentos");
    let mut c = codes(pi);
    c.sort();
    assert_eq!(c, vec!["PI_NO_PACKAGES", "PI_TASK_NEVER_RUN"], "{pi:#}");
    let pen = check(&report, "pen:agendamentos");
    let mut c = codes(pen);
    c.sort();
    assert_eq!(c, vec!["PEN_TASK_FAILED", "PEN_TASK_MISSING"], "{pen:#}");
    assert!(finding(pen, "PEN_TASK_MISSING")["message"].as_str().unwrap().contains("processarTarefasEnvioPEN"));
}
