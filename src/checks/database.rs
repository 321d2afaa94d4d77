//! `pi:agendamentos` and `pen:agendamentos`: the scheduled tasks of the Protocolo Integrado and
//! PEN modules in the SEI database (`infra_agendamento_tarefa`), the Protocolo Integrado
//! packages (`md_pi_pacote_envio`) and the PEN module version (`infra_parametro`), read-only.

use super::core::{Check, Ctx};
use crate::db::{self, DbTarget, Session, TextRow};
use crate::model::code;
use crate::model::Outcome;
use crate::model::{CheckId, Finding, Kind};
use crate::settings::Settings;
use async_trait::async_trait;
use serde_json::json;
use std::sync::Arc;

/// The Protocolo Integrado tasks that must be active (SPEC §3, `PI-NOTIFICACAO-FALHAS`).
pub const PI_TASKS: &[&str] = &[
    "ProtocoloIntegradoAgendamentoRN::publicarProtocoloIntegrado",
    "ProtocoloIntegradoAgendamentoRN::notificarProcessosComFalhaPublicacaoProtocoloIntegrado",
    "ProtocoloIntegradoAgendamentoRN::notificarNovosPacotesNaoSendoGerados",
];

/// The task whose `parametro` holds the tolerance, in days, without new packages.
const PI_TOLERANCE_TASK: &str = "ProtocoloIntegradoAgendamentoRN::notificarNovosPacotesNaoSendoGerados";

/// The tolerance the module installs with that task (`parametro = '2'`), used when it is empty
/// or not a number.
pub const PI_DEFAULT_TOLERANCE_DAYS: i64 = 2;

/// The PEN tasks that must be active.
pub const PEN_TASKS: &[&str] =
    &["PENAgendamentoRN::processarTarefasEnvioPEN", "PENAgendamentoRN::processarTarefasRecebimentoPEN"];

/// `infra_parametro` names of the module version, current first.
const PEN_VERSION_PARAMS: &[&str] = crate::discovery_db::VERSION_PARAMS;

/// Which module a check looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Module {
    Pi,
    Pen,
}

/// `pi:agendamentos`: the Protocolo Integrado's scheduled tasks and packages.
pub const PI_AGENDAMENTOS: CheckId = CheckId::fixed(Kind::Pi, "agendamentos");
/// `pen:agendamentos`: the PEN module's scheduled tasks and version.
pub const PEN_AGENDAMENTOS: CheckId = CheckId::fixed(Kind::Pen, "agendamentos");

impl Module {
    /// `pi:agendamentos` or `pen:agendamentos`.
    const fn id(self) -> CheckId {
        match self {
            Module::Pi => PI_AGENDAMENTOS,
            Module::Pen => PEN_AGENDAMENTOS,
        }
    }
}

pub struct AgendamentosCheck {
    module: Module,
    /// `config:sei` when the SEI installation is where the database comes from.
    depends_on_config: bool,
}

/// The `database` checks: `pi:agendamentos` and `pen:agendamentos` (each where it applies:
/// `plan::applies`).
pub fn checks(settings: &Arc<Settings>) -> Vec<Box<dyn Check>> {
    let depends_on_config = settings.db.is_none() && settings.sei.is_some();
    vec![
        Box::new(AgendamentosCheck { module: Module::Pi, depends_on_config }),
        Box::new(AgendamentosCheck { module: Module::Pen, depends_on_config }),
    ]
}

/// One row of `infra_agendamento_tarefa`.
#[derive(Clone, Debug, serde::Serialize)]
struct Task {
    comando: String,
    sin_ativo: Option<String>,
    sin_sucesso: Option<String>,
    dth_ultima_execucao: Option<String>,
    dth_ultima_conclusao: Option<String>,
    parametro: Option<String>,
}

impl Task {
    fn active(&self) -> bool {
        self.sin_ativo.as_deref().is_some_and(|v| v.trim().eq_ignore_ascii_case("S"))
    }
    fn failed(&self) -> bool {
        self.dth_ultima_execucao.is_some()
            && !self.sin_sucesso.as_deref().is_some_and(|v| v.trim().eq_ignore_ascii_case("S"))
    }
}

/// The command with the spaces some installations write around `::` removed.
fn normalize(command: &str) -> String {
    command.chars().filter(|c| !c.is_whitespace()).collect()
}

fn cell(row: &TextRow, i: usize) -> Option<String> {
    row.get(i).cloned().flatten()
}

async fn read_tasks(session: &mut Session, class: &str) -> Result<Vec<Task>, db::DbError> {
    let sql = format!(
        "SELECT comando, sin_ativo, sin_sucesso, dth_ultima_execucao, dth_ultima_conclusao, parametro \
         FROM infra_agendamento_tarefa WHERE comando LIKE '{class}%'"
    );
    let rows = session.select(&sql).await?;
    Ok(rows
        .iter()
        .map(|r| Task {
            comando: normalize(&cell(r, 0).unwrap_or_default()),
            sin_ativo: cell(r, 1),
            sin_sucesso: cell(r, 2),
            dth_ultima_execucao: cell(r, 3),
            dth_ultima_conclusao: cell(r, 4),
            parametro: cell(r, 5),
        })
        .collect())
}

/// Each wanted task must exist, be active and have succeeded on its last run. Returns the
/// findings; the codes are `<PREFIX>_TASK_MISSING`, `_DISABLED`, `_FAILED`, `_NEVER_RUN`.
fn judge_tasks(tasks: &[Task], wanted: &[&str], module: Module) -> Vec<Finding> {
    let (missing, disabled, failed, never) = match module {
        Module::Pi => (code::PI_TASK_MISSING, code::PI_TASK_DISABLED, code::PI_TASK_FAILED, code::PI_TASK_NEVER_RUN),
        Module::Pen => {
            (code::PEN_TASK_MISSING, code::PEN_TASK_DISABLED, code::PEN_TASK_FAILED, code::PEN_TASK_NEVER_RUN)
        }
    };
    let mut out = Vec::new();
    for name in wanted {
        let rows: Vec<&Task> = tasks.iter().filter(|t| t.comando == *name).collect();
        if rows.is_empty() {
            out.push(Finding::new(missing).with("task", name));
            continue;
        }
        // Several rows for one command: the active one counts.
        let Some(t) = rows.iter().find(|t| t.active()) else {
            out.push(Finding::new(disabled).with("task", name));
            continue;
        };
        if t.failed() {
            out.push(
                Finding::new(failed)
                    .with("task", name)
                    .with("last_run", t.dth_ultima_execucao.clone().unwrap_or_default())
                    .with("last_completion", t.dth_ultima_conclusao.clone().unwrap_or_else(|| "-".into())),
            );
        } else if t.dth_ultima_execucao.is_none() {
            out.push(Finding::new(never).with("task", name));
        }
    }
    out
}

/// The tolerance in days carried by `notificarNovosPacotesNaoSendoGerados`'s `parametro`: the
/// module reads it as a bare number of days. Anything else falls back to the module's default.
fn tolerance_days(tasks: &[Task]) -> (i64, &'static str) {
    let param = tasks.iter().find(|t| t.comando == PI_TOLERANCE_TASK).and_then(|t| t.parametro.clone());
    match param.as_deref().map(str::trim).and_then(|p| p.parse::<i64>().ok()).filter(|d| *d >= 0) {
        Some(d) => (d, "parametro"),
        None => (PI_DEFAULT_TOLERANCE_DAYS, "default"),
    }
}

impl AgendamentosCheck {
    async fn probe_pi(&self, session: &mut Session, target: &DbTarget, o: &mut Outcome) {
        let tasks = match read_tasks(session, "ProtocoloIntegradoAgendamentoRN").await {
            Ok(t) => t,
            Err(e) => return o.push(e.finding(target, "infra_agendamento_tarefa")),
        };
        o.set_evidence("tasks", &tasks);
        for f in judge_tasks(&tasks, PI_TASKS, Module::Pi) {
            o.push(f);
        }

        let sql = "SELECT COUNT(*), SUM(sta_integracao = 'FI'), SUM(sta_integracao = 'EN'), \
                   MAX(COALESCE(dth_situacao, dth_metadados)), \
                   TIMESTAMPDIFF(SECOND, MAX(COALESCE(dth_situacao, dth_metadados)), NOW()) \
                   FROM md_pi_pacote_envio";
        let row = match session.select(sql).await {
            Ok(rows) => rows.into_iter().next().unwrap_or_default(),
            Err(e) => return o.push(e.finding(target, "md_pi_pacote_envio")),
        };
        let num = |i: usize| cell(&row, i).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
        let (total, fi, en) = (num(0), num(1), num(2));
        let newest = cell(&row, 3);
        let age_secs = cell(&row, 4).and_then(|v| v.parse::<i64>().ok());
        let (tolerance, tolerance_source) = tolerance_days(&tasks);
        o.set_evidence(
            "packages",
            json!({"total": total, "FI": fi, "EN": en, "newest": newest, "newest_age_days": age_secs.map(|s| s / 86_400)}),
        );
        o.set_evidence("tolerance_days", tolerance);
        o.set_evidence("tolerance_source", tolerance_source);
        if fi > 0 || en > 0 {
            o.push(Finding::new(code::PI_PACKAGES_FAILED).with("fi", fi).with("en", en));
        }
        match (newest, age_secs) {
            (Some(newest), Some(secs)) => {
                // As the module counts: whole days since the newest package's situation.
                let days = secs / 86_400;
                if days > tolerance {
                    o.push(
                        Finding::new(code::PI_NOT_PUBLISHING)
                            .with("days", days)
                            .with("tolerance", tolerance)
                            .with("last", newest),
                    );
                }
            }
            _ => o.push(Finding::new(code::PI_NO_PACKAGES)),
        }
        o.summary.insert("packages", total.to_string());
    }

    async fn probe_pen(
        &self,
        session: &mut Session,
        target: &DbTarget,
        installed: Option<&str>,
        wanted: &[&str],
        o: &mut Outcome,
    ) {
        let tasks = match read_tasks(session, "PENAgendamentoRN").await {
            Ok(t) => t,
            Err(e) => return o.push(e.finding(target, "infra_agendamento_tarefa")),
        };
        o.set_evidence("tasks", &tasks);
        o.set_evidence("tasks_expected", wanted);
        for f in judge_tasks(&tasks, wanted, Module::Pen) {
            o.push(f);
        }
        let sql = format!(
            "SELECT nome, valor FROM infra_parametro WHERE nome IN ({})",
            PEN_VERSION_PARAMS.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
        );
        let rows = match session.select(&sql).await {
            Ok(r) => r,
            Err(e) => return o.push(e.finding(target, "infra_parametro")),
        };
        let found = PEN_VERSION_PARAMS.iter().find_map(|name| {
            rows.iter()
                .find(|r| cell(r, 0).as_deref() == Some(*name))
                .and_then(|r| cell(r, 1))
                .map(|v| (*name, v.trim().to_string()))
                .filter(|(_, v)| !v.is_empty())
        });
        o.set_evidence("installed_version", installed);
        match found {
            None => o.push(Finding::new(code::PEN_DB_VERSION_MISSING)),
            Some((param, version)) => {
                o.set_evidence("db_version", &version);
                o.set_evidence("db_version_param", param);
                o.summary.insert("version", version.clone());
                if let Some(installed) = installed {
                    if version_key(&version) != version_key(installed) {
                        o.push(
                            Finding::new(code::PEN_DB_VERSION_MISMATCH)
                                .with("db_version", &version)
                                .with("installed_version", installed)
                                .with("param", param),
                        );
                    }
                }
            }
        }
    }
}

/// `3.2.1` and `3.2.1 ` and `v3.2.1` compare equal.
fn version_key(v: &str) -> String {
    v.trim().trim_start_matches(['v', 'V']).to_string()
}

#[async_trait]
impl Check for AgendamentosCheck {
    fn id(&self) -> CheckId {
        self.module.id()
    }
    fn depends_on(&self) -> Vec<CheckId> {
        super::core::config_dependency(self.depends_on_config)
    }

    async fn run(&self, ctx: &Ctx) -> Outcome {
        let settings = &ctx.settings;
        // The database block of the installation config:sei delivered, when this check depends
        // on it; `--db` otherwise.
        let target = match settings.db_target_of(ctx.sei(self.depends_on_config)) {
            Ok(t) => t,
            // Nothing to read: the check did not run, and says why.
            Err(f) if f.code == code::DB_NOT_CONFIGURED => {
                let mut o = Outcome::skipped(code::DB_NOT_CONFIGURED);
                o.push(f);
                return o;
            }
            Err(f) => return Outcome::new().finding(f),
        };
        let mut o = Outcome::new()
            .evidence("source", target.source)
            .evidence("engine", "mysql")
            .evidence("addr", target.addr())
            .evidence("database", &target.database)
            .evidence("user", &target.user)
            .evidence("read_only", true);
        let mut session = match Session::open(&target, ctx.timeout()).await {
            Ok(s) => s,
            Err(e) => return o.finding(e.finding(&target, "connect")),
        };
        match self.module {
            Module::Pi => self.probe_pi(&mut session, &target, &mut o).await,
            Module::Pen => {
                // The installed module as `config:sei` read it; with `--db`, the installation
                // read at start (the database alone came from the flag).
                let sei = ctx.sei(self.depends_on_config);
                let installed = sei.and_then(|s| s.pen_version.clone());
                // The era's scheduled tasks (≤ 3.6 one task, 3.7+ Envio and Recebimento); 1.x
                // has none of SEI's scheduler, today's two when the version is unknown.
                let era = sei.and_then(|s| s.pen_era());
                let wanted: Vec<&str> = match era {
                    Some(e) => e.scheduled_tasks.iter().map(String::as_str).collect(),
                    None => PEN_TASKS.to_vec(),
                };
                self.probe_pen(&mut session, &target, installed.as_deref(), &wanted, &mut o).await
            }
        }
        session.close().await;
        if !o.summary.contains_key("version") && self.module == Module::Pen {
            o.summary.insert("version", "-".into());
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{self, Given};
    use crate::model::Status;

    #[test]
    fn asked_for_without_a_database_it_says_so_instead_of_running() {
        for module in [Module::Pi, Module::Pen] {
            let mut settings = testing::settings();
            settings.only = Some(vec![module.id().kind().to_string()]);
            let o = testing::run_one_blocking(settings, &module.id(), Given::new());
            assert_eq!(o.status, Some(Status::Skip), "{module:?}");
            assert_eq!(o.skipped_because.as_deref(), Some("DB_NOT_CONFIGURED"));
            assert_eq!(o.findings.len(), 1);
            assert_eq!(o.findings[0].code, "DB_NOT_CONFIGURED");
        }
    }

    #[test]
    fn the_database_is_the_one_config_sei_delivered() {
        use crate::model::check_id::CONFIG_SEI;
        use crate::sei::SeiInstall;
        // Read at start: an installation without a database block. Delivered by config:sei: one
        // whose BancoSEI names a loopback port nothing listens on.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let mut settings = testing::settings();
        let installed = SeiInstall {
            usable: true,
            modules: vec!["PENIntegracao".into()],
            pen_version: Some("4.0.3".into()),
            ..Default::default()
        };
        settings.sei = Some(installed.clone());
        settings.timeout = std::time::Duration::from_secs(2);
        let delivered = SeiInstall {
            database: Some(crate::db::DbConfig {
                kind: "MySql".into(),
                host: "127.0.0.1".into(),
                port: Some(port),
                database: "sei".into(),
                user: "sei_user".into(),
                password: crate::secret::Secret::new("Senha-Do-Banco-1"),
            }),
            ..installed
        };
        let o = testing::run_one_blocking(
            settings,
            &PEN_AGENDAMENTOS,
            Given::new().fact(CONFIG_SEI, Status::Ok, delivered),
        );
        assert_eq!(o.evidence.get("addr"), Some(&serde_json::json!(format!("127.0.0.1:{port}"))), "{:?}", o.evidence);
        assert_eq!(o.evidence.get("source"), Some(&serde_json::json!("BancoSEI")));
        assert!(o.findings.iter().all(|f| f.code != "DB_NOT_CONFIGURED"), "{:?}", o.findings);
    }

    fn task(cmd: &str, ativo: &str, sucesso: &str, ran: bool, param: Option<&str>) -> Task {
        Task {
            comando: normalize(cmd),
            sin_ativo: Some(ativo.into()),
            sin_sucesso: Some(sucesso.into()),
            dth_ultima_execucao: ran.then(|| "2026-11-20 02:00:00".into()),
            dth_ultima_conclusao: ran.then(|| "2026-11-20 02:00:05".into()),
            parametro: param.map(Into::into),
        }
    }

    #[test]
    fn tasks_judged() {
        let tasks = vec![
            task("ProtocoloIntegradoAgendamentoRN :: publicarProtocoloIntegrado", "S", "S", true, None),
            task(PI_TASKS[1], "N", "N", false, None),
        ];
        let f = judge_tasks(&tasks, PI_TASKS, Module::Pi);
        let codes: Vec<_> = f.iter().map(|f| (f.code.as_str(), f.params["task"].as_str())).collect();
        assert_eq!(codes, vec![("PI_TASK_DISABLED", PI_TASKS[1]), ("PI_TASK_MISSING", PI_TASKS[2])]);
        let f = judge_tasks(&[task(PEN_TASKS[0], "S", "N", true, None)], &PEN_TASKS[..1], Module::Pen);
        assert_eq!(f[0].code, "PEN_TASK_FAILED");
    }

    #[test]
    fn tolerance_from_parametro() {
        assert_eq!(tolerance_days(&[task(PI_TOLERANCE_TASK, "S", "S", true, Some(" 3 "))]), (3, "parametro"));
        assert_eq!(tolerance_days(&[task(PI_TOLERANCE_TASK, "S", "S", true, Some("x"))]), (2, "default"));
        assert_eq!(tolerance_days(&[]), (2, "default"));
    }
}
