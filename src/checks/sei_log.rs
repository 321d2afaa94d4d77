//! `sei:log`: what SEI itself logged about the PEN and PI modules. Reads SEI's log table
//! (`infra_log`, its columns discovered from `information_schema`) and the scheduled tasks'
//! last error through the read-only session. The database does the reading: it keeps the
//! entries of the window (`--since`, the newest [`MAX_ROWS`] at most) that a module wrote and
//! counts them per module, target and class (`checks/log_classes.toml`), so that only the
//! counts and each group's newest entry, cut short, cross the wire. A known module bug is
//! named against the installed version; every entry shown has its secrets removed and its
//! control characters escaped. The comparison with the live checks happens once every check
//! has run (`crate::log_correlation`).

use super::core::{Check, Ctx};
use crate::db::{DbError, DbTarget, Session, TextRow};
use crate::eras::Version;
use crate::logclass::{self, like_literal, Classes, Rule};
use crate::model::check_id::CA_STORE;
use crate::model::code::{self, Code};
use crate::model::Outcome;
use crate::model::{CheckId, Finding, Kind, TargetName};
use crate::sei::SeiInstall;
use crate::settings::Settings;
use async_trait::async_trait;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// The id of the check (its kind, `sei`, is what `--only sei` names).
pub const ID: CheckId = CheckId::fixed(Kind::Sei, "log");
const LOG_TABLE: &str = "infra_log";
const TASK_TABLE: &str = "infra_agendamento_tarefa";
/// Characters of an entry the database examines: a stack trace names the module early.
const SCAN_CHARS: usize = 65_536;
/// Characters of a group's newest entry sent back.
const FETCH_CHARS: usize = 4_096;
/// Characters of that entry a finding shows.
pub const SHOW_CHARS: usize = 400;
/// The newest entries of the window examined, at most.
pub const MAX_ROWS: u64 = 100_000;
/// Groups (module × target × class) read back, at most.
const MAX_GROUPS: usize = 256;
/// Failed scheduled tasks read, at most.
const MAX_TASKS: usize = 64;
/// Without an id column, groups whose newest entry is looked up one by one, at most.
const MAX_LOOKUPS: usize = 32;
/// Failed tasks whose error is looked up in the log one by one, at most.
const MAX_TASK_LOOKUPS: usize = 8;

pub struct SeiLogCheck {
    /// `config:sei` when the SEI installation is where the database comes from.
    depends_on_config: bool,
}

/// The `sei:log` check (where it applies, where the database is: `plan::applies`).
pub fn checks(settings: &Arc<Settings>) -> Vec<Box<dyn Check>> {
    vec![Box::new(SeiLogCheck { depends_on_config: settings.db.is_none() && settings.sei.is_some() })]
}

// --------------------------------------------------------------------------- the table's shape

#[derive(Clone, Debug, serde::Serialize)]
struct Column {
    name: String,
    #[serde(rename = "type")]
    kind: String,
}

const TIME_TYPES: &[&str] = &["datetime", "timestamp", "date"];
const TEXT_TYPES: &[&str] = &["longtext", "mediumtext", "text", "tinytext", "varchar", "char"];
const BLOB_TYPES: &[&str] = &["longblob", "mediumblob", "blob"];
const INT_TYPES: &[&str] = &["bigint", "int", "integer", "mediumint", "smallint"];

/// A column name as SQL may quote it: letters, digits, `_` and `$` only.
fn ident(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$');
    ok.then(|| format!("`{name}`"))
}

/// The table's real name and columns, in order; `None` when the table does not exist.
async fn table_columns(session: &mut Session, table: &str) -> Result<Option<(String, Vec<Column>)>, DbError> {
    let sql = format!(
        "SELECT TABLE_NAME, COLUMN_NAME, LOWER(DATA_TYPE) FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND LOWER(TABLE_NAME) = '{table}' ORDER BY ORDINAL_POSITION LIMIT 200"
    );
    let rows = session.select(&sql).await?;
    let Some(name) = rows.first().and_then(|r| cell(r, 0)) else { return Ok(None) };
    let columns = rows
        .iter()
        .filter(|r| cell(r, 0).as_deref() == Some(name.as_str()))
        .filter_map(|r| Some(Column { name: cell(r, 1)?, kind: cell(r, 2).unwrap_or_default() }))
        .collect();
    Ok(Some((name, columns)))
}

/// The columns `sei:log` reads, quoted, and whether they are the known ones.
#[derive(Debug)]
struct Shape {
    table: String,
    time: String,
    text: String,
    id: Option<String>,
    kind: Option<String>,
    known: bool,
    /// The choice, for a person: `time=dth_log, text=texto_log, id=-, type=-`.
    used: String,
}

fn pick<'a>(columns: &'a [Column], name: &str, types: &[&str]) -> Option<&'a Column> {
    columns.iter().find(|c| c.name.eq_ignore_ascii_case(name) && types.contains(&c.kind.as_str()))
}

/// Chooses the columns: the known names first, else columns of a fitting type.
fn shape_of(table: &str, columns: &[Column]) -> Option<Shape> {
    let usable = |c: &&Column| ident(&c.name).is_some();
    let columns: Vec<Column> = columns.iter().filter(usable).cloned().collect();
    let time = pick(&columns, "dth_log", TIME_TYPES)
        .or_else(|| columns.iter().find(|c| TIME_TYPES.contains(&c.kind.as_str())))?;
    let wordy =
        |c: &&Column| ["texto", "text", "log", "msg", "mensagem"].iter().any(|w| c.name.to_lowercase().contains(w));
    let text = pick(&columns, "texto_log", TEXT_TYPES)
        .or_else(|| columns.iter().filter(|c| TEXT_TYPES.contains(&c.kind.as_str())).find(wordy))
        .or_else(|| columns.iter().find(|c| TEXT_TYPES[..3].contains(&c.kind.as_str())))
        .or_else(|| columns.iter().find(|c| BLOB_TYPES.contains(&c.kind.as_str())))?;
    let id = pick(&columns, "id_infra_log", INT_TYPES).or_else(|| {
        columns.iter().find(|c| c.name.to_lowercase().starts_with("id") && INT_TYPES.contains(&c.kind.as_str()))
    });
    let kind = pick(&columns, "sta_tipo", &["char", "varchar"]);
    let known = time.name == "dth_log"
        && text.name == "texto_log"
        && id.is_some_and(|c| c.name == "id_infra_log")
        && kind.is_some();
    let name = |c: Option<&Column>| c.map_or_else(|| "-".to_string(), |c| c.name.clone());
    Some(Shape {
        table: ident(table)?,
        time: ident(&time.name)?,
        text: ident(&text.name)?,
        id: id.and_then(|c| ident(&c.name)),
        kind: kind.and_then(|c| ident(&c.name)),
        known,
        used: format!("time={}, text={}, id={}, type={}", time.name, text.name, name(id), name(kind)),
    })
}

// --------------------------------------------------------------------------- the SQL

/// The text of the entry, as the conditions read it: its first [`SCAN_CHARS`] characters, in
/// one character set with a case-insensitive collation whatever the column's.
fn scanned(shape: &Shape, alias: &str) -> String {
    format!("CONVERT(LEFT({alias}.{}, {SCAN_CHARS}) USING utf8mb4) COLLATE utf8mb4_general_ci", shape.text)
}

/// The window and the types kept (errors and warnings; entries without a type too).
fn window(shape: &Shape, alias: &str, secs: u64) -> String {
    let mut w = format!("{alias}.{} >= NOW() - INTERVAL {secs} SECOND", shape.time);
    if let Some(kind) = &shape.kind {
        w += &format!(" AND ({alias}.{kind} IS NULL OR {alias}.{kind} IN ('E', 'A'))");
    }
    w
}

/// What in an entry names a target of this run: `://host[:port]`, longest first.
#[derive(Clone, Debug)]
struct Needle {
    target: String,
    text: String,
}

fn needles(settings: &Settings) -> Vec<Needle> {
    let mut out: Vec<Needle> = settings
        .targets
        .iter()
        .filter_map(|t| {
            let host = t.url.host_str()?.to_ascii_lowercase();
            let text = match t.url.port() {
                Some(p) => format!("://{host}:{p}"),
                None => format!("://{host}"),
            };
            Some(Needle { target: t.name.to_string(), text })
        })
        .collect();
    out.sort_by_key(|n| std::cmp::Reverse(n.text.len()));
    out
}

/// `CASE` giving the target an entry names ('' when it names none).
fn target_case(needles: &[Needle], expr: &str) -> String {
    if needles.is_empty() {
        return "''".into();
    }
    let mut sql = String::from("CASE");
    for n in needles {
        sql += &format!(" WHEN {expr} LIKE '%{}%' ESCAPE '!' THEN '{}'", like_literal(&n.text), quoted(&n.target));
    }
    sql + " ELSE '' END"
}

/// The task an entry of SEI's scheduler is about ('' for other entries): a failed run is
/// logged as "Agendamento FALHOU (host) … Comando: <task>(<parameter>) … Erro: …".
fn task_expr(t: &str) -> String {
    format!(
        "CASE WHEN {t} LIKE 'agendamento falhou%comando: %' THEN LEFT(TRIM(SUBSTRING_INDEX(SUBSTRING_INDEX(\
         SUBSTRING_INDEX({t}, 'Comando: ', -1), '(', 1), CHAR(10 USING utf8mb4), 1)), 120) ELSE '' END"
    )
}

/// The statement that counts the window's module entries per module, target, rule and task.
fn groups_sql(shape: &Shape, classes: &Classes, needles: &[Needle], secs: u64) -> String {
    let t = scanned(shape, "l");
    let key = match &shape.id {
        Some(id) => format!("CONCAT(DATE_FORMAT(l.{time}, '%Y%m%d%H%i%s'), LPAD(l.{id}, 20, '0'))", time = shape.time),
        None => "NULL".to_string(),
    };
    let inner = format!(
        "SELECT l.{time} AS d, {key} AS k, {m} AS m, {tg} AS tg, {c} AS c, {task} AS task",
        time = shape.time,
        m = classes.module_case_sql(&t),
        tg = target_case(needles, &t),
        c = classes.rule_case_sql(&t),
        task = task_expr(&t),
    );
    let from = match &shape.id {
        Some(id) => format!(
            "FROM {table} l JOIN (SELECT {id} AS i FROM {table} l WHERE {w} ORDER BY l.{time} DESC LIMIT {MAX_ROWS}) r \
             ON l.{id} = r.i WHERE {modules}",
            table = shape.table,
            w = window(shape, "l", secs),
            time = shape.time,
            modules = classes.any_module_sql(&t),
        ),
        None => format!(
            "FROM {table} l WHERE {w} AND {modules}",
            table = shape.table,
            w = window(shape, "l", secs),
            modules = classes.any_module_sql(&t),
        ),
    };
    format!(
        "SELECT m, tg, c, task, COUNT(*), MIN(d), MAX(d), MAX(k) FROM ({inner} {from}) x \
         GROUP BY m, tg, c, task ORDER BY m, tg, c, task LIMIT {MAX_GROUPS}"
    )
}

/// A name of ours (a module id, a target) inside an SQL string.
fn quoted(name: &str) -> String {
    name.replace('\'', "''")
}

fn cell(row: &TextRow, i: usize) -> Option<String> {
    row.get(i).cloned().flatten()
}

/// A value from the database that goes back into SQL: a datetime's digits and separators only.
fn datetime_literal(v: &str) -> Option<String> {
    (!v.is_empty() && v.len() <= 32 && v.bytes().all(|b| b.is_ascii_digit() || b" -:.".contains(&b)))
        .then(|| format!("'{v}'"))
}

// --------------------------------------------------------------------------- groups

/// Entries of one module, target and class, from the log or from one scheduled task.
#[derive(Clone, Debug)]
struct Group {
    module: String,
    target: String,
    rule: Option<&'static Rule>,
    count: u64,
    first: String,
    last: String,
    /// The newest entry's id, when the table has one.
    newest_id: Option<u64>,
    /// The newest entry, cut to [`FETCH_CHARS`], and whether it was longer.
    latest: Option<(String, bool)>,
    /// The scheduled task whose failed runs these are, when SEI's scheduler logged them.
    task: Option<String>,
    /// Where the entries were read: `infra_log`, or the task table's error column.
    source: String,
    /// Counted among the window's entries (a failed task's older error is not).
    in_window: bool,
}

impl Group {
    /// The code the group's finding has (a known bug's version aside).
    fn code(&self) -> Code {
        self.rule.map_or(code::SEI_LOG_OTHER_ERRORS, |r| r.code)
    }
}

fn group_of_row(row: &TextRow, classes: &'static Classes) -> Option<Group> {
    let module = classes.module(&cell(row, 0)?)?;
    let target = cell(row, 1).filter(|t| !t.is_empty()).unwrap_or_else(|| module.target.to_string());
    let rule = cell(row, 2).filter(|c| !c.is_empty()).and_then(|c| classes.rule(&c));
    let task = cell(row, 3).filter(|t| !t.is_empty());
    let newest_id = cell(row, 7).and_then(|k| k.get(k.len().saturating_sub(20)..).and_then(|id| id.parse().ok()));
    Some(Group {
        module: module.id.clone(),
        target,
        rule,
        count: cell(row, 4).and_then(|n| n.parse().ok()).unwrap_or(0),
        first: cell(row, 5).unwrap_or_default(),
        last: cell(row, 6).unwrap_or_default(),
        newest_id,
        latest: None,
        task,
        source: LOG_TABLE.to_string(),
        in_window: true,
    })
}

/// The newest entry of each group: by id in one statement, else one lookup per group.
async fn fetch_latest(
    session: &mut Session,
    shape: &Shape,
    classes: &Classes,
    needles: &[Needle],
    secs: u64,
    groups: &mut [Group],
) -> Result<(), DbError> {
    if let Some(id) = &shape.id {
        let ids: Vec<String> = groups.iter().filter_map(|g| g.newest_id).map(|i| i.to_string()).collect();
        if ids.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "SELECT {id}, LEFT({text}, {FETCH_CHARS}), CHAR_LENGTH({text}) > {FETCH_CHARS} FROM {table} \
             WHERE {id} IN ({list}) LIMIT {n}",
            text = shape.text,
            table = shape.table,
            list = ids.join(", "),
            n = ids.len(),
        );
        let rows = session.select(&sql).await?;
        for g in groups.iter_mut() {
            let Some(want) = g.newest_id else { continue };
            if let Some(r) = rows.iter().find(|r| cell(r, 0).and_then(|v| v.parse::<u64>().ok()) == Some(want)) {
                g.latest = cell(r, 1).map(|t| (t, cell(r, 2).as_deref() == Some("1")));
            }
        }
        return Ok(());
    }
    let t = scanned(shape, "l");
    for g in groups.iter_mut().take(MAX_LOOKUPS) {
        let Some(at) = datetime_literal(&g.last) else { continue };
        if g.task.as_deref().is_some_and(|t| !safe_name(t)) {
            continue;
        }
        let rule = g.rule.map_or("", |r| r.id.as_str());
        let sql = format!(
            "SELECT LEFT(l.{text}, {FETCH_CHARS}), CHAR_LENGTH(l.{text}) > {FETCH_CHARS} FROM {table} l \
             WHERE l.{time} = {at} AND {w} AND {modules} AND ({m}) = '{module}' AND ({c}) = '{rule}' \
             AND ({tg}) IN ('{target}', '') AND ({task_e}) = '{task}' LIMIT 1",
            text = shape.text,
            table = shape.table,
            time = shape.time,
            w = window(shape, "l", secs),
            modules = classes.any_module_sql(&t),
            m = classes.module_case_sql(&t),
            c = classes.rule_case_sql(&t),
            tg = target_case(needles, &t),
            module = quoted(&g.module),
            target = quoted(&g.target),
            task_e = task_expr(&t),
            task = quoted(g.task.as_deref().unwrap_or("")),
        );
        if let Some(r) = session.select(&sql).await?.first() {
            g.latest = cell(r, 0).map(|t| (t, cell(r, 1).as_deref() == Some("1")));
        }
    }
    Ok(())
}

/// A column of `infra_agendamento_tarefa` holding a task's last error, should an SEI version
/// keep one: a text column named for an error (`email_erro` is an address, not an error).
/// The versions we know have none: SEI's scheduler writes a failed run to `infra_log`
/// ("Agendamento FALHOU … Comando: <task> … Erro: …") and mails `email_erro`.
fn task_error_column(columns: &[Column]) -> Option<&Column> {
    let texty = |c: &&Column| TEXT_TYPES.contains(&c.kind.as_str()) && ident(&c.name).is_some();
    let named = |c: &&Column| {
        let n = c.name.to_lowercase();
        n.contains("erro") && !n.contains("email")
    };
    columns.iter().filter(texty).find(named)
}

/// A PEN or PI scheduled task whose last run failed.
#[derive(Debug, serde::Serialize)]
struct FailedTask {
    task: String,
    last_run: String,
    /// The last run is older than the window (its log entry is not among the window's).
    before_window: bool,
    /// The error text, from the task's own column when the table has one, else from the log.
    #[serde(skip)]
    error: Option<(String, bool)>,
    /// Where the error text was found (`infra_log`, the column's name), if anywhere.
    error_from: Option<String>,
    /// The code its error was classified as.
    code: Option<Code>,
}

/// The failed PEN and PI tasks, with the error column (if any) read.
async fn failed_tasks(session: &mut Session, secs: u64) -> Result<(Option<String>, Vec<FailedTask>), DbError> {
    let Some((table, columns)) = table_columns(session, TASK_TABLE).await? else { return Ok((None, Vec::new())) };
    let has = |name: &str| columns.iter().any(|c| c.name.eq_ignore_ascii_case(name));
    let Some(table_q) = ident(&table) else { return Ok((None, Vec::new())) };
    if !(has("comando") && has("sin_sucesso") && has("dth_ultima_execucao")) {
        return Ok((None, Vec::new()));
    }
    let error = task_error_column(&columns).and_then(|c| Some((c.name.clone(), ident(&c.name)?)));
    let read = match &error {
        Some((_, q)) => format!("LEFT({q}, {FETCH_CHARS}), CHAR_LENGTH({q}) > {FETCH_CHARS}"),
        None => "NULL, NULL".to_string(),
    };
    let sql = format!(
        "SELECT comando, dth_ultima_execucao, dth_ultima_execucao < NOW() - INTERVAL {secs} SECOND, {read} \
         FROM {table_q} WHERE sin_sucesso <> 'S' AND dth_ultima_execucao IS NOT NULL \
         AND (comando LIKE '%PENAgendamentoRN%' OR comando LIKE '%ProtocoloIntegrado%') \
         ORDER BY dth_ultima_execucao DESC LIMIT {MAX_TASKS}"
    );
    let tasks = session
        .select(&sql)
        .await?
        .iter()
        .map(|row| {
            let text = cell(row, 3).filter(|t| !t.trim().is_empty());
            FailedTask {
                task: cell(row, 0).unwrap_or_default().chars().filter(|c| !c.is_whitespace()).collect(),
                last_run: cell(row, 1).unwrap_or_default(),
                before_window: cell(row, 2).as_deref() == Some("1"),
                error_from: text.as_ref().and(error.as_ref()).map(|(name, _)| name.clone()),
                error: text.map(|t| (t, cell(row, 4).as_deref() == Some("1"))),
                code: None,
            }
        })
        .collect();
    Ok((error.map(|(name, _)| name), tasks))
}

/// The scheduler's log entry for a task's failed run that started at `last_run`: the first
/// "Agendamento FALHOU" entry naming the task in the day after it.
async fn task_log_entry(
    session: &mut Session,
    shape: &Shape,
    task: &FailedTask,
) -> Result<Option<(String, String, bool)>, DbError> {
    let Some(at) = datetime_literal(&task.last_run) else { return Ok(None) };
    let t = scanned(shape, "l");
    let sql = format!(
        "SELECT l.{time}, LEFT(l.{text}, {FETCH_CHARS}), CHAR_LENGTH(l.{text}) > {FETCH_CHARS} FROM {table} l \
         WHERE l.{time} >= {at} AND l.{time} < {at} + INTERVAL 1 DAY \
         AND {t} LIKE 'agendamento falhou%' AND {t} LIKE '%comando: {task}%' ESCAPE '!' \
         ORDER BY l.{time} LIMIT 1",
        time = shape.time,
        text = shape.text,
        table = shape.table,
        task = like_literal(&task.task),
    );
    Ok(session
        .select(&sql)
        .await?
        .first()
        .map(|r| (cell(r, 0).unwrap_or_default(), cell(r, 1).unwrap_or_default(), cell(r, 2).as_deref() == Some("1"))))
}

// --------------------------------------------------------------------------- findings

/// The ids of the live checks that prove a rule's failure for a target.
pub fn live_ids(rule: &Rule, target: &str) -> Vec<CheckId> {
    let Some(target) = TargetName::parse(target) else { return Vec::new() };
    rule.live
        .iter()
        .filter_map(|k| match Kind::parse(k)? {
            Kind::Ca => Some(CA_STORE),
            // Protocolo Integrado authenticates with a password, not a certificate.
            Kind::Cert if target == TargetName::ProtocoloIntegrado => None,
            Kind::Cert => Some(CheckId::cert_for(target)),
            k => Some(CheckId::target(k, target)),
        })
        .collect()
}

/// The installed module version and where it came from.
struct Installed {
    version: Option<Version>,
    source: &'static str,
}

async fn installed_version(session: &mut Session, sei: Option<&SeiInstall>) -> Installed {
    if let Some(v) = sei.and_then(|s| s.pen_version.as_deref()).and_then(Version::parse) {
        return Installed { version: Some(v), source: "sei" };
    }
    let sql = "SELECT nome, valor FROM infra_parametro WHERE nome IN ('VERSAO_MODULO_PEN', 'PEN_VERSAO_MODULO_SEI') \
               ORDER BY nome DESC LIMIT 2";
    let found = match session.select(sql).await {
        Ok(rows) => rows.iter().find_map(|r| cell(r, 1).as_deref().and_then(Version::parse)),
        Err(_) => None,
    };
    match found {
        Some(v) => Installed { version: Some(v), source: "database" },
        None => Installed { version: None, source: "-" },
    }
}

/// The words a person reads for one group.
fn finding_of(g: &Group, installed: &Installed, settings: &Settings, secrets: &[String]) -> Finding {
    // The message without the PHP stack trace under it, which only names the module's classes.
    let latest = match &g.latest {
        Some((text, cut)) => match text.split_once("\n#0 ") {
            Some((message, _)) => clean(message, false, secrets, SHOW_CHARS),
            None => clean(text, *cut, secrets, SHOW_CHARS),
        },
        None => "-".to_string(),
    };
    let one = |s: &str| clean(s, false, secrets, 200);
    let source = match &g.task {
        Some(task) => format!("{}, {task}", g.source),
        None => g.source.clone(),
    };
    let base = |code: Code| {
        let f = Finding::new(code)
            .with("module", &g.module)
            .with("target", &g.target)
            .with("source", one(&source))
            .with("count", g.count)
            .with("first", one(&g.first))
            .with("last", one(&g.last))
            .with("latest", &latest);
        match &g.task {
            Some(task) => f.with("task", one(task)),
            None => f,
        }
    };
    let Some(rule) = g.rule else { return base(code::SEI_LOG_OTHER_ERRORS) };
    let live = live_ids(rule, &g.target).iter().map(CheckId::to_string).collect::<Vec<_>>().join(",");
    let with_live = |f: Finding| if live.is_empty() { f } else { f.with("live", &live) };
    let Some(bug) = &rule.bug else {
        return with_live(base(rule.code).with("rule", &rule.id));
    };
    let affected = installed.version.as_ref().map(|v| bug.affects(v));
    let code = if affected == Some(false) { code::PEN_KNOWN_BUG_NOT_AFFECTED } else { logclass::KNOWN_BUG };
    let lower = g.latest.as_ref().map(|(t, _)| t.to_ascii_lowercase()).unwrap_or_default();
    let signature = rule.patterns.iter().find(|p| p.matches_lower(&lower)).unwrap_or(&rule.patterns[0]);
    with_live(base(code))
        .with("rule", &rule.id)
        .with("signature", signature.text.replace('*', "…"))
        .with("affected_from", &bug.affected_from)
        .with("fixed_in", &bug.fixed_in)
        .with("installed", installed.version.as_ref().map_or_else(|| "?".to_string(), |v| v.to_string()))
        .with("installed_source", installed.source)
        .with(
            "installed_affected",
            match affected {
                Some(true) => "yes",
                Some(false) => "no",
                None => "unknown",
            },
        )
        .with("meaning", logclass::meaning(bug, settings.lang))
        .with("reference", &bug.reference)
}

/// Every secret this run knows, longest first (a password inside another stays hidden).
fn secrets_of(settings: &Settings, target: Option<&DbTarget>) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    let mut add = |s: Option<&crate::secret::Secret>| {
        if let Some(s) = s.filter(|s| s.expose().chars().count() >= 3) {
            all.push(s.expose().to_string());
        }
    };
    add(settings.cert_password.as_ref());
    add(settings.pucomex_password.as_ref());
    add(settings.pi_password.as_ref());
    add(settings.db_password.as_ref());
    add(target.and_then(|t| t.password.as_ref()));
    // Every password the installation read at start holds, whatever this check depends on:
    // scrubbing more never changes a conclusion.
    if let Some(sei) = &settings.sei {
        add(sei.database.as_ref().map(|d| &d.password));
        add(sei.pen.as_ref().and_then(|p| p.cert_password.as_ref()));
        add(sei.pi.as_ref().and_then(|p| p.password.as_ref()));
    }
    all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    all.dedup();
    all
}

// --------------------------------------------------------------------------- the check

fn timed_out(e: &DbError) -> bool {
    match e {
        // MariaDB's max_statement_time, MySQL's max_execution_time.
        DbError::Query { code: Some(1969 | 3024), .. } => true,
        DbError::Unreachable(m) => m.starts_with("no answer within"),
        _ => false,
    }
}

impl SeiLogCheck {
    async fn probe(&self, ctx: &Ctx, session: &mut Session, target: &DbTarget, o: &mut Outcome) {
        let settings = &ctx.settings;
        let classes = logclass::table();
        let secs = settings.log_since.as_secs().max(1);
        let since = crate::duration::humanize(settings.log_since);
        let needles = needles(settings);
        let secrets = secrets_of(settings, Some(target));
        o.set_evidence("since", &since);
        o.summary.insert("since", since.clone());
        o.summary.insert("entries", "0".into());

        let (table, columns) = match table_columns(session, LOG_TABLE).await {
            Ok(Some(found)) => found,
            Ok(None) => {
                return o.push(
                    Finding::new(code::SEI_LOG_TABLE_MISSING)
                        .with("table", LOG_TABLE)
                        .with("database", &target.database),
                )
            }
            Err(e) => return o.push(e.finding(target, "information_schema")),
        };
        let column_list = || {
            let names: Vec<String> = columns.iter().take(20).map(|c| format!("{} {}", c.name, c.kind)).collect();
            clean(&names.join(", "), false, &secrets, 600)
        };
        let Some(shape) = shape_of(&table, &columns) else {
            return o.push(
                Finding::new(code::SEI_LOG_UNREADABLE)
                    .with("table", clean(&table, false, &[], 80))
                    .with("columns", column_list()),
            );
        };
        o.set_evidence("columns", &shape.used);
        if !shape.known {
            o.push(
                Finding::new(code::SEI_LOG_SHAPE_UNEXPECTED)
                    .with("table", clean(&table, false, &[], 80))
                    .with("columns", column_list())
                    .with("used", &shape.used),
            );
        }

        let mut groups = match read_groups(session, &shape, classes, &needles, secs, o).await {
            Ok(g) => g,
            Err(e) if timed_out(&e) => {
                return o.push(
                    Finding::new(code::SEI_LOG_READ_TIMEOUT)
                        .with("table", LOG_TABLE)
                        .with("timeout", crate::duration::humanize(settings.timeout))
                        .with("since", &since),
                )
            }
            Err(e) => return o.push(e.finding(target, LOG_TABLE)),
        };
        o.summary.insert("entries", groups.iter().map(|g| g.count).sum::<u64>().to_string());

        // The scheduled tasks whose last run failed, each with its error classified: the run
        // of the window is among the log's groups already; an older one is looked up.
        match failed_tasks(session, secs).await {
            Ok((column, mut tasks)) => {
                let mut lookups = 0;
                for task in tasks.iter_mut() {
                    if let Some(g) = groups.iter().find(|g| g.task.as_deref() == Some(task.task.as_str())) {
                        task.code = Some(g.code());
                        task.error_from = Some(LOG_TABLE.to_string());
                        continue;
                    }
                    let found = match task.error.take() {
                        Some((text, cut)) => Some((task.last_run.clone(), text, cut)),
                        None if safe_name(&task.task) && lookups < MAX_TASK_LOOKUPS => {
                            lookups += 1;
                            task_log_entry(session, &shape, task).await.unwrap_or(None)
                        }
                        None => None,
                    };
                    let Some((when, text, cut)) = found else { continue };
                    let Some(module) = classes.module_of(&task.task).or_else(|| classes.module_of(&text)) else {
                        continue;
                    };
                    let lower = text.to_ascii_lowercase();
                    let group = Group {
                        module: module.id.clone(),
                        target: needles
                            .iter()
                            .find(|n| lower.contains(&n.text))
                            .map_or_else(|| module.target.to_string(), |n| n.target.clone()),
                        rule: classes.rule_of(&module.id, &text),
                        count: 1,
                        first: when.clone(),
                        last: when,
                        newest_id: None,
                        latest: Some((text, cut)),
                        task: Some(task.task.clone()),
                        source: match &task.error_from {
                            Some(column) => format!("{TASK_TABLE}.{column}"),
                            None => LOG_TABLE.to_string(),
                        },
                        in_window: false,
                    };
                    task.code = Some(group.code());
                    task.error_from.get_or_insert_with(|| LOG_TABLE.to_string());
                    groups.push(group);
                }
                o.set_evidence("task_error_column", column);
                let listed: Vec<serde_json::Value> = tasks
                    .iter()
                    .map(|t| {
                        json!({"task": clean(&t.task, false, &secrets, 120), "last_run": clean(&t.last_run, false, &[], 40),
                               "error_from": t.error_from, "code": t.code})
                    })
                    .collect();
                o.set_evidence("failed_tasks", listed);
            }
            Err(e) => o.set_evidence("failed_tasks_error", clean(&format!("{e:?}"), false, &secrets, 300)),
        }

        // The installed module as `config:sei` read it; with `--db`, the installation read at
        // start (the database alone came from the flag).
        let sei = ctx.sei(self.depends_on_config);
        let installed = if groups.iter().any(|g| g.rule.is_some_and(|r| r.bug.is_some())) {
            installed_version(session, sei).await
        } else {
            Installed { version: sei.and_then(|s| s.pen_version.as_deref()).and_then(Version::parse), source: "sei" }
        };
        o.set_evidence("installed_version", installed.version.as_ref().map(|v| v.to_string()));
        o.set_evidence("installed_version_source", installed.source);

        let mut listed = Vec::new();
        for g in &groups {
            let f = finding_of(g, &installed, settings, &secrets);
            listed.push(json!({
                "code": f.code,
                "rule": g.rule.map(|r| r.id.as_str()),
                "module": g.module,
                "target": g.target,
                "task": f.params.get("task"),
                "source": g.source,
                "in_window": g.in_window,
                "count": g.count,
                "first": f.params.get("first"),
                "last": f.params.get("last"),
            }));
            o.push(f);
        }
        o.set_evidence("classes", listed);
    }
}

/// A name from the database (a task) that may go into SQL as is.
fn safe_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 200 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_:.-".contains(&b))
}

/// The window's module entries, grouped, with each group's newest entry. Sets the evidence of
/// how many entries the window holds and how many were examined.
async fn read_groups(
    session: &mut Session,
    shape: &Shape,
    classes: &'static Classes,
    needles: &[Needle],
    secs: u64,
    o: &mut Outcome,
) -> Result<Vec<Group>, DbError> {
    let count_sql = format!("SELECT COUNT(*) FROM {} l WHERE {}", shape.table, window(shape, "l", secs));
    let rows = session.select(&count_sql).await?;
    let in_window: u64 = rows.first().and_then(|r| cell(r, 0)).and_then(|n| n.parse().ok()).unwrap_or(0);
    let capped = shape.id.is_some() && in_window > MAX_ROWS;
    o.set_evidence(
        "entries",
        json!({"in_window": in_window, "examined": if capped { MAX_ROWS } else { in_window }, "capped": capped}),
    );
    if in_window == 0 {
        return Ok(Vec::new());
    }
    let rows = session.select(&groups_sql(shape, classes, needles, secs)).await?;
    let mut groups: Vec<Group> = Vec::new();
    let mut merged: Vec<(Group, Option<String>)> = Vec::new();
    // Entries that name the module's own target and entries that name none are one group.
    for (g, key) in rows.iter().filter_map(|r| Some((group_of_row(r, classes)?, cell(r, 7)))) {
        let same = |o: &&mut (Group, Option<String>)| {
            o.0.module == g.module
                && o.0.target == g.target
                && o.0.task == g.task
                && o.0.rule.map(|r| &r.id) == g.rule.map(|r| &r.id)
        };
        match merged.iter_mut().find(same) {
            Some((m, newest)) => {
                m.count += g.count;
                if g.first < m.first {
                    m.first = g.first;
                }
                if key > *newest || (key.is_none() && g.last > m.last) {
                    m.last = g.last;
                    m.newest_id = g.newest_id;
                    *newest = key;
                }
            }
            None => merged.push((g, key)),
        }
    }
    groups.extend(merged.into_iter().map(|(g, _)| g));
    fetch_latest(session, shape, classes, needles, secs, &mut groups).await?;
    Ok(groups)
}

#[async_trait]
impl Check for SeiLogCheck {
    fn id(&self) -> CheckId {
        ID
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
            Err(f) if f.code == code::DB_NOT_CONFIGURED => {
                let mut o = Outcome::skipped(code::DB_NOT_CONFIGURED);
                o.push(f);
                return o;
            }
            Err(f) => return Outcome::new().finding(f),
        };
        let mut o = Outcome::new()
            .evidence("source", target.source)
            .evidence("addr", target.addr())
            .evidence("database", &target.database)
            .evidence("table", LOG_TABLE)
            .evidence("read_only", true);
        let mut session = match Session::open(&target, ctx.timeout()).await {
            Ok(s) => s,
            Err(e) => return o.finding(e.finding(&target, "connect")),
        };
        // The server stops a statement at --timeout; the client waits a little longer for
        // the server to say so.
        session.limit_statement_time(ctx.timeout()).await;
        session.set_timeout(ctx.timeout() + Duration::from_secs(2));
        self.probe(ctx, &mut session, &target, &mut o).await;
        session.close().await;
        o
    }
}

// --------------------------------------------------------------------------- showing an entry

/// An entry of the log made fit to show: every known secret and its encodings replaced by
/// `***` (and, when the entry was cut, a secret's beginning left at the cut), the password of
/// every URL, `senha=…`/`password: …` values, `Authorization:` credentials and private-key
/// blocks masked; then control and direction-changing characters escaped, and at most `max`
/// characters kept.
pub fn clean(text: &str, was_cut: bool, secrets: &[String], max: usize) -> String {
    let mut s = text.to_string();
    for secret in secrets {
        let encoded: String =
            percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC).to_string();
        let json = serde_json::to_string(secret).unwrap_or_default();
        let json = json.trim_matches('"').to_string();
        for form in [secret.as_str(), encoded.as_str(), json.as_str()] {
            if !form.is_empty() && s.contains(form) {
                s = s.replace(form, "***");
            }
        }
    }
    if was_cut {
        s = mask_cut_secret(s, secrets);
    }
    let s = mask_private_keys(&s);
    let s = mask_url_userinfo(&s);
    let s = mask_assignments(&s);
    let s = mask_authorization(&s);
    escape(&s, max)
}

/// A text cut in the database may end inside a secret: its beginning (4 characters or more)
/// at the very end is masked too.
fn mask_cut_secret(mut s: String, secrets: &[String]) -> String {
    for secret in secrets {
        let bounds: Vec<usize> = secret.char_indices().map(|(i, _)| i).skip(4).collect();
        if let Some(&end) = bounds.iter().rev().find(|&&end| s.ends_with(&secret[..end])) {
            s.truncate(s.len() - end);
            s.push_str("***");
        }
    }
    s
}

fn mask_private_keys(s: &str) -> String {
    const BEGIN: &str = "-----BEGIN";
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(BEGIN) {
        let after = &rest[i..];
        let header_end = after[BEGIN.len()..].find("-----").map(|j| BEGIN.len() + j + 5);
        let header = header_end.map(|e| &after[..e]).unwrap_or("");
        if !header.contains("PRIVATE KEY") {
            out.push_str(&rest[..i + BEGIN.len()]);
            rest = &rest[i + BEGIN.len()..];
            continue;
        }
        out.push_str(&rest[..i]);
        out.push_str(header);
        out.push_str("***");
        let body = &after[header.len()..];
        match body.find("-----END") {
            Some(j) => rest = &body[j..],
            None => rest = "",
        }
    }
    out.push_str(rest);
    out
}

/// `scheme://user:password@host` → `scheme://***@host`, for every URL in the text.
fn mask_url_userinfo(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("://") {
        let start = i + 3;
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail.find(|c: char| "/?#\"'<> \t\r\n`".contains(c) || c.is_control()).unwrap_or(tail.len());
        match tail[..end].rfind('@') {
            Some(at) if at > 0 => {
                out.push_str("***");
                rest = &tail[at..];
            }
            _ => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

/// `senha = 'x'`, `password: x`, `SenhaCertificado' => 'x'`: the value masked.
fn mask_assignments(s: &str) -> String {
    const KEYS: &[&str] = &["senha", "password", "passwd", "passphrase", "pwd", "secret", "token"];
    let lower = s.to_ascii_lowercase();
    let bytes = s.as_bytes();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for key in KEYS {
        let mut from = 0;
        while let Some(i) = lower[from..].find(key).map(|i| i + from) {
            from = i + key.len();
            let mut j = from;
            while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                j += 1;
            }
            while j < bytes.len() && matches!(bytes[j], b'"' | b'\'' | b' ' | b'\t') {
                j += 1;
            }
            if j < bytes.len() && bytes[j] == b'=' && bytes.get(j + 1) == Some(&b'>') {
                j += 2;
            } else if j < bytes.len() && matches!(bytes[j], b'=' | b':') {
                j += 1;
            } else {
                continue;
            }
            while j < bytes.len() && matches!(bytes[j], b' ' | b'\t' | b'"' | b'\'') {
                j += 1;
            }
            let start = j;
            while j < bytes.len()
                && !matches!(bytes[j], b' ' | b'\t' | b'\r' | b'\n' | b'"' | b'\'' | b'&' | b',' | b';' | b')')
            {
                j += 1;
            }
            if j > start {
                spans.push((start, j));
            }
        }
    }
    replace_spans(s, spans)
}

/// `Authorization: Basic xyz` / `Bearer xyz`: the credentials masked.
fn mask_authorization(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let bytes = s.as_bytes();
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(i) = lower[from..].find("authorization").map(|i| i + from) {
        from = i + "authorization".len();
        let mut j = from;
        while j < bytes.len() && matches!(bytes[j], b'"' | b'\'' | b' ' | b':' | b'=' | b'>') {
            j += 1;
        }
        // The scheme (`Basic`, `Bearer`), then the credentials.
        while j < bytes.len() && bytes[j].is_ascii_alphabetic() {
            j += 1;
        }
        while j < bytes.len() && bytes[j] == b' ' {
            j += 1;
        }
        let start = j;
        while j < bytes.len() && !matches!(bytes[j], b' ' | b'\t' | b'\r' | b'\n' | b'"' | b'\'' | b',' | b';') {
            j += 1;
        }
        if j > start {
            spans.push((start, j));
        }
    }
    replace_spans(s, spans)
}

/// Replaces byte ranges (at ASCII boundaries) with `***`, overlapping ranges merged.
fn replace_spans(s: &str, mut spans: Vec<(usize, usize)>) -> String {
    if spans.is_empty() {
        return s.to_string();
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(s.len());
    let mut at = 0;
    for (start, end) in spans {
        if end <= at {
            continue;
        }
        let start = start.max(at);
        out.push_str(&s[at..start]);
        out.push_str("***");
        at = end;
    }
    out.push_str(&s[at..]);
    out
}

/// Control characters, line and paragraph separators and the characters that change the
/// direction of text, escaped (`\u{1b}`, `\n`); at most `max` characters, then `…`.
fn escape(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n >= max {
            out.push('…');
            break;
        }
        let invisible =
            matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}');
        if c.is_control() || invisible || matches!(c, '\u{2028}' | '\u{2029}') {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, kind: &str) -> Column {
        Column { name: name.into(), kind: kind.into() }
    }

    #[test]
    fn the_known_shape_and_a_different_one() {
        let known = [
            col("id_infra_log", "bigint"),
            col("dth_log", "datetime"),
            col("texto_log", "longtext"),
            col("ip", "varchar"),
            col("sta_tipo", "char"),
        ];
        let s = shape_of("infra_log", &known).unwrap();
        assert!(s.known);
        assert_eq!(
            (s.time.as_str(), s.text.as_str(), s.id.as_deref()),
            ("`dth_log`", "`texto_log`", Some("`id_infra_log`"))
        );
        let other = [col("codigo", "varchar"), col("quando", "timestamp"), col("mensagem", "text")];
        let s = shape_of("infra_log", &other).unwrap();
        assert!(!s.known);
        assert_eq!(s.used, "time=quando, text=mensagem, id=-, type=-");
        assert!(shape_of("infra_log", &[col("a", "int"), col("b`; DROP", "datetime")]).is_none());
    }

    #[test]
    fn secrets_and_terminal_tricks_never_survive() {
        let secrets = vec!["S3nha-Banco!x".to_string(), "p@ss w0rd".to_string()];
        let text = "falha S3nha-Banco!x em https://usuario:Outra-Senha@api.test/x?a=1 \
                    senha=abc123 'SenhaCertificado' => 'cert-pass' Authorization: Basic dXNlcjpwYXNz \
                    p%40ss%20w0rd \x1b[31mvermelho\u{202e}txt\n-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----";
        let out = clean(text, false, &secrets, 10_000);
        for leaked in [
            "S3nha-Banco",
            "Outra-Senha",
            "abc123",
            "cert-pass",
            "dXNlcjpwYXNz",
            "p%40ss",
            "MIIEvQ",
            "\u{1b}",
            "\u{202e}",
            "\n",
        ] {
            assert!(!out.contains(leaked), "{leaked} in {out}");
        }
        assert!(out.contains("https://***@api.test/x") && out.contains("\\u{1b}[31m") && out.contains("\\n"), "{out}");
        // A secret cut by the database at the end of the text.
        assert_eq!(clean("erro com senha S3nha-Ba", true, &secrets, 100), "erro com senha ***");
        assert_eq!(clean("texto normal", true, &secrets, 100), "texto normal");
        assert_eq!(clean(&"é".repeat(50), false, &[], 10).chars().count(), 11);
        // Words that only look like keys stay.
        assert_eq!(clean("senha inválida; token expirado", false, &[], 100), "senha inválida; token expirado");
    }

    #[test]
    fn live_checks_by_target() {
        let t = logclass::table();
        assert_eq!(live_ids(t.rule("server-trust").unwrap(), "tramita"), ["tls:tramita", "ca:store"]);
        assert_eq!(live_ids(t.rule("client-certificate").unwrap(), "tramita"), ["http:tramita", "cert:client"]);
        assert!(live_ids(t.rule("document-file-missing").unwrap(), "tramita").is_empty());
    }

    #[test]
    fn the_statement_is_one_select_bounded_by_window_rows_and_groups() {
        let shape = shape_of(
            "infra_log",
            &[
                col("id_infra_log", "bigint"),
                col("dth_log", "datetime"),
                col("texto_log", "longtext"),
                col("sta_tipo", "char"),
            ],
        )
        .unwrap();
        let needles = vec![Needle { target: "tramita".into(), text: "://api.test:8443".into() }];
        let sql = groups_sql(&shape, logclass::table(), &needles, 3600);
        assert!(sql.starts_with("SELECT ") && !sql.contains(';'), "{sql}");
        assert!(sql.contains("INTERVAL 3600 SECOND") && sql.contains(&format!("LIMIT {MAX_ROWS}")));
        assert!(
            sql.contains(&format!("LEFT(l.`texto_log`, {SCAN_CHARS})"))
                && sql.ends_with(&format!("LIMIT {MAX_GROUPS}"))
        );
        assert!(sql.contains("'%://api.test:8443%'"));
    }
}
