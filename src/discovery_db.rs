//! The part of discovery that needs SEI's database, over the read-only session of [`crate::db`]:
//! the module version's copy in `infra_parametro` (`VERSAO_MODULO_PEN`, legacy
//! `PEN_VERSAO_MODULO_SEI`) when the installed files do not say it, and mod-sei-pen 1.x's four
//! parameters (`md_pen_parametro`, in the earliest versions `infra_parametro`) — the whole of its
//! configuration. Run after the files are read, within its own time budget, so that every check
//! then works from them as it would from `ConfiguracaoModPEN.php`.

use crate::db::{DbError, DbTarget, Session};
use crate::eras::ConfigSource;
use crate::model::code;
use crate::model::Finding;
use crate::sei::{self, php::Source, SeiInstall, ValueSource};
use std::time::Duration;

/// `infra_parametro` names of the module version, current first.
pub const VERSION_PARAMS: &[&str] = &["VERSAO_MODULO_PEN", "PEN_VERSAO_MODULO_SEI"];

/// 1.x's parameters.
pub const PEN_PARAMS: &[&str] = &[
    "PEN_ENDERECO_WEBSERVICE",
    "PEN_ENDERECO_WEBSERVICE_PENDENCIAS",
    "PEN_LOCALIZACAO_CERTIFICADO_DIGITAL",
    "PEN_SENHA_CERTIFICADO_DIGITAL",
];

/// Tables that held 1.x's parameters, newest first.
pub const PEN_TABLES: &[&str] = &["md_pen_parametro", "infra_parametro"];

/// Whether discovery must ask the database: the module is enabled and its parameters are not in
/// a file — its era keeps them in the database (1.x), or its version is unknown and there is no
/// `ConfiguracaoModPEN.php` — or its version is known only to the database.
pub fn needed(install: &SeiInstall) -> bool {
    if !install.pen_enabled() || !install.usable {
        return false;
    }
    match install.pen_era() {
        Some(era) => era.config_source == ConfigSource::Database && install.pen.is_none(),
        None => install.pen_version.is_none() || install.pen.is_none(),
    }
}

/// The (name, value) rows of a parameter table.
pub type Rows = Vec<(String, Option<String>)>;

/// What the database said.
#[derive(Debug, Default)]
pub struct Answer {
    /// (parameter, version).
    pub version: Option<(String, String)>,
    /// The table 1.x's parameters were found in, and its rows.
    pub parameters: Option<(String, Rows)>,
    /// Why a read failed.
    pub error: Option<Finding>,
}

fn list(names: &[&str]) -> String {
    names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
}

fn rows(r: Vec<Vec<Option<String>>>) -> Rows {
    r.into_iter().filter_map(|row| Some((row.first().cloned().flatten()?, row.get(1).cloned().flatten()))).collect()
}

/// Reads the version copy and, when `want_parameters`, 1.x's parameters.
pub async fn read(target: &DbTarget, timeout: Duration, want_parameters: bool) -> Answer {
    let mut answer = Answer::default();
    let mut session = match Session::open(target, timeout).await {
        Ok(s) => s,
        Err(e) => {
            answer.error = Some(e.finding(target, "connect"));
            return answer;
        }
    };
    let sql = format!("SELECT nome, valor FROM infra_parametro WHERE nome IN ({})", list(VERSION_PARAMS));
    match session.select(&sql).await {
        Ok(r) => {
            let found = rows(r);
            answer.version = VERSION_PARAMS.iter().find_map(|name| {
                found.iter().find(|(n, _)| n == name).and_then(|(_, v)| {
                    v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(|v| (name.to_string(), v.to_string()))
                })
            });
        }
        Err(e) => answer.error = Some(e.finding(target, "infra_parametro")),
    }
    if want_parameters {
        for table in PEN_TABLES {
            let sql = format!("SELECT nome, valor FROM {table} WHERE nome IN ({})", list(PEN_PARAMS));
            match session.select(&sql).await {
                Ok(r) => {
                    let found = rows(r);
                    if !found.is_empty() {
                        answer.parameters = Some((table.to_string(), found));
                        break;
                    }
                }
                // A table that does not exist: the older one may hold them.
                Err(DbError::Query { code: Some(1146), .. }) => continue,
                Err(e) => {
                    answer.error = Some(e.finding(target, table));
                    break;
                }
            }
        }
    }
    session.close().await;
    answer
}

/// Applies what the database said to the installation: the version copy (which decides the era
/// when the files do not), and 1.x's parameters as its `PEN` configuration, their source named
/// "database". A failure is a finding only when the era says the configuration is there.
pub fn apply(install: &mut SeiInstall, answer: Answer) {
    if let Some(v) = answer.version {
        install.pen_db_version = Some(v);
    }
    let era_database = install.pen_era().is_some_and(|e| e.config_source == ConfigSource::Database);
    let params = answer.parameters.filter(|_| install.pen.is_none());
    match params {
        Some((table, rows)) if era_database || (install.pen_era().is_none() && !rows.is_empty()) => {
            let (pen, problems) = sei::pen_from_database(&rows, &table);
            let config = install.pen_config_path();
            install.problems.retain(|f| {
                !(f.code == code::SEI_CONFIG_NOT_FOUND && f.params.get("path") == Some(&config.display().to_string()))
            });
            install.problems.extend(problems);
            for (name, value) in &rows {
                if value.is_some() {
                    install.value_sources.push(ValueSource {
                        path: pen.path.clone(),
                        key: name.clone(),
                        from: vec![Source { what: format!("{table}.{name}"), from: "database".into() }],
                    });
                }
            }
            install.pen = Some(pen);
        }
        None if era_database => {
            let table = PEN_TABLES[0].to_string();
            if let Some(e) = answer.error {
                install.problems.push(e);
            } else {
                // No parameter at all: every one is missing (the era's judgement says which).
                let (pen, _) = sei::pen_from_database(&[], &table);
                install.pen = Some(pen);
            }
        }
        _ => {}
    }
}

/// Asks the database what discovery needs, within `budget` (each step within `timeout`), in a
/// thread of its own with its own runtime; gives up silently past the budget (the era then stays
/// what the files say).
pub fn complete(install: &mut SeiInstall, target: DbTarget, timeout: Duration, budget: Duration) {
    if !needed(install) {
        return;
    }
    let want_parameters = install.pen.is_none();
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new().name("sei-discovery-db".into()).spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
        if let Ok(rt) = runtime {
            let _ = tx.send(rt.block_on(read(&target, timeout, want_parameters)));
        }
    });
    if spawned.is_err() {
        return;
    }
    if let Ok(answer) = rx.recv_timeout(budget) {
        apply(install, answer);
    } else if install.pen_era().is_some_and(|e| e.config_source == ConfigSource::Database) {
        install.problems.push(
            Finding::new(code::SEI_CONFIG_TIMEOUT)
                .with("path", PEN_TABLES[0])
                .with("budget", crate::duration::humanize(budget)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sei::{KeyState, PenSource};

    fn one_x() -> SeiInstall {
        SeiInstall {
            usable: true,
            modules: vec!["PENIntegracao".into()],
            pen_version: Some("1.5.4".into()),
            problems: vec![Finding::new(crate::model::code::SEI_CONFIG_NOT_FOUND)
                .with("path", "config/mod-pen/ConfiguracaoModPEN.php")],
            ..Default::default()
        }
    }

    #[test]
    fn a_discovered_1x_installation_needs_its_database() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sei/modpen1");
        let s = sei::discover(&dir);
        assert!(s.pen.is_none());
        assert!(needed(&s), "the parameters are in md_pen_parametro");
    }

    #[test]
    fn one_x_parameters_become_the_configuration() {
        let mut s = one_x();
        assert!(needed(&s));
        let rows = vec![
            ("PEN_ENDERECO_WEBSERVICE".to_string(), Some("https://h.example/interoperabilidade/soap/v3/".to_string())),
            ("PEN_ENDERECO_WEBSERVICE_PENDENCIAS".to_string(), Some("https://p.example/".to_string())),
            ("PEN_LOCALIZACAO_CERTIFICADO_DIGITAL".to_string(), Some("/opt/sei/cert.pem".to_string())),
            ("PEN_SENHA_CERTIFICADO_DIGITAL".to_string(), Some(String::new())),
        ];
        apply(&mut s, Answer { version: None, parameters: Some(("md_pen_parametro".into(), rows)), error: None });
        let pen = s.pen.as_ref().unwrap();
        assert_eq!(pen.source, PenSource::Database { table: "md_pen_parametro".into() });
        assert_eq!(pen.web_service.as_deref(), Some("https://h.example/interoperabilidade/soap/v3/"));
        assert_eq!(pen.key("SenhaCertificado"), KeyState::Empty);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        let codes: Vec<_> =
            s.findings().iter().map(|f| (f.code.as_str(), f.params.get("key").cloned().unwrap_or_default())).collect();
        assert!(codes.contains(&("PEN_CERT_PASSWORD_EMPTY", "PEN_SENHA_CERTIFICADO_DIGITAL".into())), "{codes:?}");
        assert!(!needed(&s));
    }

    #[test]
    fn the_database_version_decides_the_era_when_the_files_do_not() {
        let mut s = SeiInstall { usable: true, modules: vec!["PENIntegracao".into()], ..Default::default() };
        assert!(needed(&s));
        apply(
            &mut s,
            Answer { version: Some(("PEN_VERSAO_MODULO_SEI".into(), "1.5.0".into())), parameters: None, error: None },
        );
        assert_eq!(s.pen_era().map(|e| e.id.as_str()), Some("1.x"));
        // A database without the parameters: each one the era requires is missing.
        let codes: Vec<_> = s.findings().iter().map(|f| f.code).collect();
        assert_eq!(codes.iter().filter(|c| **c == "PEN_CONFIG_MISSING_KEY").count(), 4, "{codes:?}");
    }

    #[test]
    fn an_unreachable_database_is_said_only_when_the_configuration_is_there() {
        let err = Some(Finding::new(crate::model::code::DB_UNREACHABLE).with("addr", "x").with("error", "refused"));
        let mut s = one_x();
        apply(&mut s, Answer { error: err.clone(), ..Default::default() });
        assert!(s.problems.iter().any(|f| f.code == "DB_UNREACHABLE"));
        let mut s = SeiInstall { usable: true, modules: vec!["PENIntegracao".into()], ..Default::default() };
        apply(&mut s, Answer { error: err, ..Default::default() });
        assert!(s.problems.is_empty());
    }
}
