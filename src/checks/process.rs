//! `process:pen`: the PEN PHP processes running on this node, read from `/proc` (`src/node`),
//! judged against the installed module's era: the era's monitors and workers run, no process
//! runs a script that no longer exists or belongs to another era (the old workers that never
//! exit), no two processes run the same script with the same `--worker=NN`; each monitor's
//! age in evidence.

use super::core::{Check, Ctx};
pub use super::facts::{pen_node, SCRIPTS_4X, SCRIPTS_LEGACY};
use crate::eras::Era;
use crate::hostfs;
use crate::model::code;
use crate::model::{CheckId, Finding, Kind, Outcome};
use crate::node::procs::{self, PenProcess};
use crate::settings::Settings;
use async_trait::async_trait;
use serde_json::json;
use std::sync::Arc;

pub struct ProcessCheck {
    from_sei: bool,
}

/// `process:pen`: the PEN workers' processes.
pub const ID: CheckId = CheckId::fixed(Kind::Process, "pen");

/// The `process:pen` check (where it applies: `plan::applies`).
pub fn checks(settings: &Arc<Settings>) -> Vec<Box<dyn Check>> {
    vec![Box::new(ProcessCheck { from_sei: settings.sei.is_some() })]
}

/// The scripts of an era, by file name.
fn era_scripts(era: &Era) -> Vec<&'static str> {
    crate::node::programs::required(era).into_iter().map(|(s, _)| s).collect()
}

/// The era judged: the installed one, else the one whose scripts best match what runs (ties
/// go to the latest era).
fn judged_era(processes: &[PenProcess], version: Option<&str>) -> Option<&'static Era> {
    if let Some(e) = version.and_then(crate::eras::era_of) {
        return Some(e);
    }
    let t = crate::eras::table();
    t.eras.iter().rev().max_by_key(|e| {
        let scripts = era_scripts(e);
        scripts.iter().filter(|s| processes.iter().any(|p| p.script == **s)).count()
    })
}

/// Whether a process's script file is gone: neither on this host nor inside the process's own
/// root (a container's process names paths of its image, `/proc/PID/root/...` from here).
fn script_gone(p: &PenProcess) -> bool {
    if !p.script_path.starts_with('/') {
        return false;
    }
    let inside = hostfs::path(format!("/proc/{}/root", p.pid)).join(p.script_path.trim_start_matches('/'));
    !hostfs::exists(&p.script_path) && !inside.exists()
}

/// Which of the era's scripts no process runs.
pub fn missing(processes: &[PenProcess], era: &Era) -> Vec<&'static str> {
    era_scripts(era).into_iter().filter(|s| !processes.iter().any(|p| p.script == *s)).collect()
}

#[async_trait]
impl Check for ProcessCheck {
    fn id(&self) -> CheckId {
        ID
    }
    fn depends_on(&self) -> Vec<CheckId> {
        super::core::config_dependency(self.from_sei)
    }

    async fn run(&self, ctx: &Ctx) -> Outcome {
        // The installation as `config:sei` read it (none off an SEI node).
        let sei = ctx.sei(self.from_sei);
        let version = sei.and_then(|s| s.pen_version.clone());
        // Whether each process's script still exists, read off the runtime's threads.
        let sei_dir = sei.map(|s| s.dir.clone());
        let (processes, gone, ours) = tokio::task::spawn_blocking(move || {
            let ps = procs::scan();
            let gone: Vec<bool> = ps.iter().map(script_gone).collect();
            let ours: Vec<bool> = ps.iter().map(|p| procs::serves(p, sei_dir.as_deref())).collect();
            (ps, gone, ours)
        })
        .await
        .unwrap_or_default();
        let era = judged_era(&processes, version.as_deref());
        let known_version = version.as_deref().and_then(crate::eras::era_of).is_some();
        let mut o = Outcome::new()
            .evidence("workers", &processes)
            .evidence("generation", era.map(|e| e.id.as_str()))
            .evidence("module_version", &version)
            .summary("count", processes.len());
        o.set_evidence(
            "monitor_ages",
            processes
                .iter()
                .filter(|p| era.is_some_and(|e| e.monitors.iter().any(|m| crate::node::base_name(m) == p.script)))
                .map(|p| json!({"pid": p.pid, "script": p.script, "worker": p.worker, "age_secs": p.uptime_secs}))
                .collect::<Vec<_>>(),
        );
        if let Some(era) = era {
            let workers = crate::node::programs::workers_needed(era, sei);
            let missing: Vec<&str> = missing(&processes, era)
                .into_iter()
                .filter(|s| workers || era.monitors.iter().any(|m| crate::node::base_name(m) == *s))
                .collect();
            if !missing.is_empty() {
                o.push(
                    Finding::new(code::PEN_WORKERS_NOT_RUNNING)
                        .with("missing", missing.join(", "))
                        .with("generation", &era.id)
                        .with("running", processes.len()),
                );
            }
        }
        let scripts_of_era: Vec<&str> = era.map(era_scripts).unwrap_or_default();
        for ((p, gone), ours) in processes.iter().zip(&gone).zip(&ours) {
            // Another installation on this host may be of another version: only ours is judged
            // by our era.
            let other_era = known_version && *ours && !scripts_of_era.contains(&p.script);
            if *gone || other_era {
                o.push(
                    Finding::new(code::PEN_STALE_PROCESS)
                        .with("pid", p.pid)
                        .with("script", &p.script_path)
                        .with("reason", if *gone { "script-gone" } else { "other-era" })
                        .with("age_secs", p.uptime_secs.map(|a| a.to_string()).unwrap_or_else(|| "-".into()))
                        .with("installed", version.as_deref().unwrap_or("-")),
                );
            }
        }
        let serving: Vec<PenProcess> =
            processes.iter().zip(&ours).filter(|(_, o)| **o).map(|(p, _)| p.clone()).collect();
        for (script, worker, pids) in procs::duplicated_workers(&serving) {
            o.push(
                Finding::new(code::PEN_WORKERS_DUPLICATED)
                    .with("script", script)
                    .with("worker", worker)
                    .with("pids", pids.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")),
            );
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{run_one_blocking, settings, Given};
    use crate::model::check_id::CONFIG_SEI;
    use crate::model::Status;
    use crate::sei::SeiInstall;

    #[test]
    fn the_installed_version_is_the_one_config_sei_delivered() {
        let sei = |v: &str| SeiInstall {
            usable: true,
            pen: Some(Default::default()),
            pen_version: Some(v.into()),
            ..Default::default()
        };
        let mut s = settings();
        s.sei = Some(sei("3.8.0"));
        let given = Given::new().fact(CONFIG_SEI, Status::Ok, sei("4.0.3"));
        let o = run_one_blocking(s, &ID, given);
        assert_eq!(o.evidence["module_version"], "4.0.3");
        assert_eq!(o.evidence["generation"], crate::eras::era_of("4.0.3").unwrap().id.as_str());
    }

    #[test]
    fn the_era_decides_what_must_run() {
        let e = crate::eras::era_of("4.0.3").unwrap();
        assert_eq!(
            era_scripts(e),
            [
                "MonitoramentoEnvioTarefasPEN.php",
                "MonitoramentoRecebimentoTarefasPEN.php",
                "ProcessamentoTarefasPEN.php"
            ]
        );
        let e = crate::eras::era_of("3.5.0").unwrap();
        assert_eq!(era_scripts(e), ["MonitoramentoTarefasPEN.php", "ProcessamentoTarefasPEN.php"]);
        let e = crate::eras::era_of("1.5.4").unwrap();
        assert_eq!(era_scripts(e), ["PendenciasTramiteRN.php", "ProcessarPendenciasRN.php"]);
    }
}
