//! `cron:pen`: SEI's scheduler (`AgendamentoTarefaSEI.php`, on which every PEN and PI scheduled
//! task depends) and the module's contingency job (`verificar-reboot-fila.sh`, or the older
//! `verificar-servicos.sh`) in the crontabs (`src/node/crontab.rs`); the traps of real cron
//! lines; a contingency script that calls a `python` its own `PATH` does not have.

use super::core::{Check, Ctx};
use crate::hostfs;
use crate::model::code;
use crate::model::{CheckId, Finding, Kind, Outcome, Severity};
use crate::node::crontab::{self, Crontabs};
use crate::settings::Settings;
use async_trait::async_trait;
use std::path::PathBuf;
use std::sync::Arc;

pub const CURRENT_SCRIPT: &str = "verificar-reboot-fila.sh";
pub const OLD_SCRIPT: &str = "verificar-servicos.sh";

pub struct CronCheck;

/// `cron:pen`: the contingency cron of the PEN workers.
pub const ID: CheckId = CheckId::fixed(Kind::Cron, "pen");

/// The `cron:pen` check (where it applies: `plan::applies`).
pub fn checks(_settings: &Arc<Settings>) -> Vec<Box<dyn Check>> {
    vec![Box::new(CronCheck)]
}

/// A scheduled (not commented) line of `text` that runs `script`: (line number, line).
pub fn scheduled(text: &str, script: &str) -> Option<(usize, String)> {
    text.lines().enumerate().find_map(|(i, l)| {
        let t = l.trim();
        (!t.starts_with('#') && t.contains(script)).then(|| (i + 1, t.chars().take(300).collect()))
    })
}

/// What the contingency script found says about `python`: (script host path, PATH dirs) when
/// it calls `python` and none of its PATH has one.
fn python_missing(entry_script: Option<String>, sei_dir: Option<PathBuf>) -> Option<(String, Vec<String>)> {
    let candidates: Vec<PathBuf> = entry_script
        .map(hostfs::path)
        .into_iter()
        .chain(sei_dir.map(|d| d.join("bin/mod-pen").join(CURRENT_SCRIPT)))
        .collect();
    for real in candidates {
        let Ok(text) = hostfs::read_real(&real) else { continue };
        if !crontab::calls_python(&text) {
            return None;
        }
        let dirs = crontab::script_path_dirs(&text);
        if dirs.iter().any(|d| hostfs::exists(format!("{d}/python"))) {
            return None;
        }
        return Some((hostfs::display(&real), dirs));
    }
    None
}

/// Whether this node runs PEN's queue: supervisord's configuration has PEN programs, or the
/// module's gearmand is this host.
fn queue_node(settings: &Settings) -> bool {
    let gearman_here = settings
        .sei
        .as_ref()
        .and_then(|s| s.pen.as_ref())
        .and_then(|p| p.gearman.as_ref())
        .is_some_and(|(host, _)| crate::host::is_local(host, ""));
    gearman_here
        || crate::checks::supervisor::load_config()
            .programs()
            .any(|s| s.get("command").is_some_and(|c| crate::checks::supervisor::pen_script_of(&c.value).is_some()))
}

#[async_trait]
impl Check for CronCheck {
    fn id(&self) -> CheckId {
        ID
    }

    async fn run(&self, ctx: &Ctx) -> Outcome {
        // `cron:pen` does not depend on `config:sei`: the SEI directory and the module's gearman
        // host are those of the installation read at start, if any.
        let settings = ctx.settings.clone();
        let sei_dir = settings.sei.as_ref().map(|s| s.dir.clone());
        // File reads never run on the runtime's threads: a read that blocks (a hung network
        // mount) must not keep the deadline from firing.
        let (tabs, python, queue) = tokio::task::spawn_blocking(move || {
            let tabs = crontab::scan();
            let entry_script = tabs.contingency.iter().find(|(s, _)| *s == CURRENT_SCRIPT).and_then(|(_, e)| {
                e.entry
                    .split_whitespace()
                    .find(|w| w.ends_with(CURRENT_SCRIPT) && w.starts_with('/'))
                    .map(str::to_string)
            });
            let python = python_missing(entry_script, sei_dir);
            (tabs, python, queue_node(&settings))
        })
        .await
        .unwrap_or_default();
        let Crontabs { read, unreadable, scheduler, contingency, broken, broken_left_out } = tabs;
        let mut o = Outcome::new().evidence("files_read", &read);
        let current = contingency.iter().find(|(s, _)| *s == CURRENT_SCRIPT).map(|(_, e)| e.clone());
        let old = contingency.iter().find(|(s, _)| *s == OLD_SCRIPT).map(|(_, e)| e.clone());
        match (current, old) {
            (Some(e), _) => {
                o.summary.insert("file", e.file.clone());
                o.set_evidence("entry", &e);
            }
            (None, Some(e)) => {
                o.summary.insert("file", e.file.clone());
                o.push(Finding::new(code::CRON_CONTINGENCY_OBSOLETE).with("file", &e.file).with("line", e.line));
                o.set_evidence("entry", &e);
            }
            (None, None) => o.push(Finding::new(code::CRON_CONTINGENCY_MISSING).with("searched", crontab::SEARCHED)),
        }
        o.set_evidence("queue_node", queue);
        match scheduler.first() {
            Some(e) => o.set_evidence("scheduler", e),
            None => {
                o.set_evidence("scheduler", serde_json::Value::Null);
                let f = Finding::new(code::SEI_SCHEDULER_CRON_MISSING).with("searched", crontab::SEARCHED);
                o.push(if queue { f } else { f.severity(Severity::Info) });
            }
        }
        if scheduler.len() > 1 {
            o.set_evidence("scheduler_entries", &scheduler);
            // Each run of the scheduler runs every due task: twice on one node, the same tasks
            // compete for the same records.
            let first = &scheduler[0];
            for again in &scheduler[1..] {
                o.push(
                    Finding::new(code::CRON_ENTRY_BROKEN)
                        .with("file", &again.file)
                        .with("line", again.line)
                        .with(
                            "problem",
                            format!(
                                "{} scheduled again (first at {}:{})",
                                crontab::SCHEDULER_SCRIPT,
                                first.file,
                                first.line
                            ),
                        )
                        .severity(Severity::Warn),
                );
            }
        }
        for b in &broken {
            let f = Finding::new(code::CRON_ENTRY_BROKEN)
                .with("file", &b.file)
                .with("line", b.line)
                .with("problem", &b.problem);
            o.push(if b.warn_only { f.severity(Severity::Warn) } else { f });
        }
        if !broken_left_out.is_empty() {
            o.set_evidence("broken_entries_left_out", &broken_left_out);
        }
        if let Some((script, dirs)) = python {
            o.push(Finding::new(code::REBOOT_FILA_PYTHON_MISSING).with("script", script).with("path", dirs.join(":")));
        }
        for e in &unreadable {
            o.push(super::core::host_file_unreadable(e));
        }
        o
    }
}
