//! `process:pen`: the PEN PHP workers run on this node, read from `/proc` (pid, user, uptime,
//! command line), judged against the module generation when it is known.

use super::{Check, Ctx, Outcome};
use crate::hostfs;
use crate::report::model::Finding;
use crate::settings::Settings;
use async_trait::async_trait;
use std::path::Path;
use std::sync::Arc;

/// The workers of mod-sei-pen 4.x.
pub const SCRIPTS_4X: &[&str] =
    &["MonitoramentoEnvioTarefasPEN.php", "MonitoramentoRecebimentoTarefasPEN.php", "ProcessamentoTarefasPEN.php"];
/// The workers of mod-sei-pen 1.x–3.x.
pub const SCRIPTS_LEGACY: &[&str] = &["PendenciasTramiteRN.php", "ProcessarPendenciasRN.php"];

pub struct ProcessCheck {
    from_sei: bool,
}

/// Whether this host is an SEI node with the PEN module (enabled in `Modulos`, or configured):
/// then the node checks (gearman, supervisor, workers, contingency cron) are planned.
pub fn pen_node(settings: &Settings) -> bool {
    // An installation whose configuration cannot be read may well be one: its node checks are
    // planned, and shown as skipped behind `config:sei`, rather than left out.
    let unreadable = |s: &crate::sei::SeiInstall| {
        s.problems.iter().any(|f| matches!(f.code, "SEI_CONFIG_UNREADABLE" | "SEI_CONFIG_TIMEOUT"))
    };
    settings.sei.as_ref().is_some_and(|s| s.pen_enabled() || s.pen.is_some() || unreadable(s))
}

/// Planned on an SEI node with the PEN module, or when `--only` names it.
pub fn checks(settings: &Arc<Settings>) -> Vec<Box<dyn Check>> {
    let named = settings.only.as_ref().is_some_and(|o| o.iter().any(|e| matches!(e.trim(), "process" | "process:pen")));
    if !pen_node(settings) && !named {
        return Vec::new();
    }
    vec![Box::new(ProcessCheck { from_sei: settings.sei.is_some() })]
}

/// A running PEN worker.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Worker {
    pub pid: u32,
    pub script: &'static str,
    pub user: String,
    pub uptime_secs: Option<u64>,
    pub command: String,
}

/// The PEN script a command line runs, if any.
pub fn pen_script(args: &[&str]) -> Option<&'static str> {
    args.iter().find_map(|a| {
        let base = a.rsplit('/').next().unwrap_or(a);
        SCRIPTS_4X
            .iter()
            .chain(SCRIPTS_LEGACY)
            .copied()
            .find(|s| base == *s || a.split_whitespace().any(|w| w.ends_with(&format!("/{s}")) || w == *s))
    })
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf only reads a system constant.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

fn uptime_of(dir: &Path, boot_uptime: Option<f64>) -> Option<u64> {
    let stat = hostfs::read_real(&dir.join("stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    // Fields after the command: state is field 3, start time is field 22.
    let start: f64 = after.split_whitespace().nth(19)?.parse().ok()?;
    let up = boot_uptime? - start / clock_ticks();
    (up >= 0.0).then_some(up as u64)
}

/// The PEN workers running now.
pub fn scan() -> Vec<Worker> {
    let me = std::process::id();
    let users = hostfs::users();
    let boot_uptime = hostfs::read("/proc/uptime").ok().and_then(|t| t.split_whitespace().next()?.parse::<f64>().ok());
    let mut out = Vec::new();
    for dir in hostfs::list_dir("/proc") {
        let Some(pid) = dir.file_name().and_then(|n| n.to_str()).and_then(|n| n.parse::<u32>().ok()) else { continue };
        if pid == me {
            continue;
        }
        let Ok(raw) = hostfs::read_file(&dir.join("cmdline"), hostfs::Kind::Kernel) else { continue };
        let text = String::from_utf8_lossy(&raw);
        let args: Vec<&str> = text.split('\0').filter(|a| !a.is_empty()).collect();
        let Some(script) = pen_script(&args) else { continue };
        let uid = hostfs::read_real(&dir.join("status")).ok().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u32>().ok())
        });
        let user = match uid {
            Some(u) => users.get(&u).cloned().unwrap_or_else(|| u.to_string()),
            None => "?".into(),
        };
        let command: String = args.join(" ").chars().take(300).collect();
        out.push(Worker { pid, script, user, uptime_secs: uptime_of(&dir, boot_uptime), command });
    }
    out.sort_by_key(|w| w.pid);
    out
}

/// The module generation from its version (`4.0.1` → 4).
fn major(version: &str) -> Option<u32> {
    version.trim().trim_start_matches(['v', 'V']).split('.').next()?.parse().ok()
}

/// Which expected scripts are missing: (generation label, missing scripts).
pub fn missing(workers: &[Worker], version: Option<&str>) -> (&'static str, Vec<&'static str>) {
    let running = |s: &&str| workers.iter().any(|w| w.script == *s);
    let miss = |set: &[&'static str]| set.iter().copied().filter(|s| !running(s)).collect::<Vec<_>>();
    match version.and_then(major) {
        Some(m) if m >= 4 => ("4.x", miss(SCRIPTS_4X)),
        Some(_) => ("1.x-3.x", miss(SCRIPTS_LEGACY)),
        None => {
            let (new, old) = (miss(SCRIPTS_4X), miss(SCRIPTS_LEGACY));
            if new.is_empty() || old.is_empty() {
                ("4.x", Vec::new())
            } else if old.len() < SCRIPTS_LEGACY.len() && new.len() == SCRIPTS_4X.len() {
                ("1.x-3.x", old)
            } else {
                ("4.x", new)
            }
        }
    }
}

#[async_trait]
impl Check for ProcessCheck {
    fn id(&self) -> String {
        "process:pen".into()
    }
    fn kind(&self) -> &'static str {
        "process"
    }
    fn depends_on(&self) -> Vec<String> {
        super::config_dependency(self.from_sei)
    }

    async fn run(&self, ctx: &Ctx) -> Outcome {
        let version = ctx.settings.sei.as_ref().and_then(|s| s.pen_version.clone());
        let workers = tokio::task::spawn_blocking(scan).await.unwrap_or_default();
        let (generation, missing) = missing(&workers, version.as_deref());
        let mut o = Outcome::new()
            .evidence("workers", &workers)
            .evidence("generation", generation)
            .evidence("module_version", &version)
            .summary("count", workers.len());
        if !missing.is_empty() {
            o.push(
                Finding::new("PEN_WORKERS_NOT_RUNNING")
                    .with("missing", missing.join(", "))
                    .with("generation", generation)
                    .with("running", workers.len()),
            );
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_scripts() {
        assert_eq!(
            pen_script(&["/usr/bin/php", "-c", "/etc/php.ini", "/opt/sei/scripts/mod-pen/ProcessamentoTarefasPEN.php"]),
            Some("ProcessamentoTarefasPEN.php")
        );
        assert_eq!(
            pen_script(&["bash", "-c", "php /opt/sei/web/modulos/pen/rn/PendenciasTramiteRN.php"]),
            Some("PendenciasTramiteRN.php")
        );
        assert_eq!(pen_script(&["vim", "notes-ProcessamentoTarefasPEN.php.txt"]), None);
        assert_eq!(major("4.0.2"), Some(4));
        assert_eq!(major("3.7.0"), Some(3));
    }
}
