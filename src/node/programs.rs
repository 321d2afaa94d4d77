//! The PEN programs of supervisord's configuration, expanded the way supervisord expands them,
//! and judged against the installed module's era: the script each runs exists (and which
//! version removed it when it does not), its `directory=` exists, its name says what it runs,
//! its `user=` can read the client certificate, and the era's required monitors and workers
//! are run by some program or process.

use super::supervisor_conf::{expand, ConfProblem, Config, Problem, Section};
use crate::eras::{Era, Eras, Version};
use crate::hostfs;
use serde::Serialize;
use std::collections::BTreeMap;

/// The keys supervisord understands in a `[program:x]` section.
pub const PROGRAM_KEYS: &[&str] = &[
    "command",
    "process_name",
    "numprocs",
    "numprocs_start",
    "priority",
    "autostart",
    "autorestart",
    "startsecs",
    "startretries",
    "exitcodes",
    "stopsignal",
    "stopwaitsecs",
    "stopasgroup",
    "killasgroup",
    "user",
    "redirect_stderr",
    "stdout_logfile",
    "stdout_logfile_maxbytes",
    "stdout_logfile_backups",
    "stdout_capture_maxbytes",
    "stdout_events_enabled",
    "stdout_syslog",
    "stderr_logfile",
    "stderr_logfile_maxbytes",
    "stderr_logfile_backups",
    "stderr_capture_maxbytes",
    "stderr_events_enabled",
    "stderr_syslog",
    "environment",
    "directory",
    "umask",
    "serverurl",
];

/// Processes of one program expanded at most (`numprocs` of a million costs no more).
const MAX_NUMPROCS: u32 = 64;

/// A `[program:x]` that runs a PEN script, expanded.
#[derive(Clone, Debug, Serialize)]
pub struct Program {
    pub name: String,
    pub file: String,
    pub line: usize,
    pub script: &'static str,
    /// The script as the command names it (absolute against `directory=` when relative).
    pub script_path: String,
    pub command: String,
    pub command_line: usize,
    pub command_file: String,
    pub directory: Option<(String, usize)>,
    pub user: Option<(String, usize)>,
    /// The process names (`name` or `name_00`…).
    pub processes: Vec<String>,
    /// The log files named (`None`: supervisord's automatic child log, or none).
    pub stdout_logfile: Option<String>,
    pub stderr_logfile: Option<String>,
    pub redirect_stderr: bool,
}

/// Something wrong with one program, typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProgramProblem {
    ScriptMissing {
        removed_in: Option<String>,
    },
    DirectoryMissing,
    Misnamed,
    UserCannotReadCert {
        user: String,
        cert: String,
        owner_mode: String,
    },
    /// A key supervisord does not know (supervisor-2 keys, typos), or a value it refuses.
    Invalid {
        file: String,
        line: usize,
        problem: ConfProblem,
    },
}

fn file_value(v: &str) -> Option<String> {
    let t = v.trim();
    (!t.is_empty()
        && !t.eq_ignore_ascii_case("AUTO")
        && !t.eq_ignore_ascii_case("NONE")
        && !t.eq_ignore_ascii_case("syslog"))
    .then(|| t.to_string())
}

/// Expands the PEN programs of a configuration. `env` holds supervisord's environment (for
/// `%(ENV_X)s`). Problems of expansion are returned as `(file, line, problem)`.
pub fn pen_programs(cfg: &Config, env: &BTreeMap<String, String>) -> (Vec<Program>, Vec<Problem>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let host = hostfs::read("/proc/sys/kernel/hostname").map(|s| s.trim().to_string()).unwrap_or_default();
    for s in cfg.programs() {
        let name = s.name.trim_start_matches("program:").to_string();
        let Some(cmd) = s.get("command") else { continue };
        let mut vars: BTreeMap<String, String> = env.iter().map(|(k, v)| (format!("ENV_{k}"), v.clone())).collect();
        let numprocs: u32 =
            s.get("numprocs").and_then(|e| e.value.trim().parse().ok()).unwrap_or(1).clamp(1, MAX_NUMPROCS);
        let start: u32 = s.get("numprocs_start").and_then(|e| e.value.trim().parse().ok()).unwrap_or(0);
        vars.insert("program_name".into(), name.clone());
        vars.insert("group_name".into(), name.clone());
        vars.insert("host_node_name".into(), host.clone());
        vars.insert("numprocs".into(), numprocs.to_string());
        vars.insert("process_num".into(), start.to_string());
        let ex = |e: &crate::node::supervisor_conf::Entry, vars: &BTreeMap<String, String>, problems: &mut Vec<_>| {
            match expand(&e.value, vars) {
                Ok(v) => v,
                Err(err) => {
                    problems.push((e.file.clone(), e.line, err.into()));
                    e.value.clone()
                }
            }
        };
        let command = ex(cmd, &vars, &mut problems);
        let words: Vec<&str> = command.split_whitespace().collect();
        let Some((script, word)) = super::pen_script_of_words(&words) else { continue };
        let directory = s.get("directory").map(|e| (ex(e, &vars, &mut problems), e.line));
        let word = word.trim_matches(['"', '\'']);
        let script_path = match (&directory, word.starts_with('/')) {
            (Some((d, _)), false) => format!("{}/{}", d.trim_end_matches('/'), word),
            _ => word.to_string(),
        };
        let mut processes = Vec::new();
        for n in start..start + numprocs {
            let mut v = vars.clone();
            v.insert("process_num".into(), n.to_string());
            let pn = s
                .get("process_name")
                .map(|e| expand(&e.value, &v).unwrap_or_else(|_| e.value.clone()))
                .unwrap_or_else(|| name.clone());
            processes.push(pn);
        }
        let log =
            |key: &str, problems: &mut Vec<_>| s.get(key).map(|e| ex(e, &vars, problems)).and_then(|v| file_value(&v));
        out.push(Program {
            name: name.clone(),
            file: s.file.clone(),
            line: s.line,
            script,
            script_path,
            command: crate::redact::redact(&command),
            command_line: cmd.line,
            command_file: cmd.file.clone(),
            directory,
            user: s.get("user").map(|e| (e.value.clone(), e.line)),
            processes,
            stdout_logfile: log("stdout_logfile", &mut problems),
            stderr_logfile: log("stderr_logfile", &mut problems),
            redirect_stderr: s
                .get("redirect_stderr")
                .is_some_and(|e| matches!(e.value.trim().to_ascii_lowercase().as_str(), "true" | "yes" | "on" | "1")),
        });
    }
    (out, problems)
}

/// The keys of a PEN program section supervisord does not know.
pub fn unknown_keys(s: &Section) -> Vec<Problem> {
    s.entries
        .iter()
        .filter(|e| !PROGRAM_KEYS.contains(&e.key.as_str()))
        .map(|e| (e.file.clone(), e.line, ConfProblem::UnknownKey(e.key.clone())))
        .collect()
}

/// Whether a path written in the configuration can be judged (no expansion left).
fn judgeable(path: &str) -> bool {
    path.starts_with('/') && !path.contains("%(")
}

/// The problems of one PEN program, given the installed version (when known) and the client
/// certificate (when configured).
pub fn judge(
    p: &Program,
    installed: Option<&Version>,
    eras: &Eras,
    cert: Option<&std::path::Path>,
) -> Vec<ProgramProblem> {
    let mut out = Vec::new();
    if judgeable(&p.script_path) && !hostfs::exists(&p.script_path) {
        let removed_in = eras
            .removed(p.script)
            .filter(|r| installed.is_none_or(|v| v >= &r.removed_in))
            .map(|r| r.removed_in.to_string());
        out.push(ProgramProblem::ScriptMissing { removed_in });
    } else if let Some(r) = eras.removed(p.script).filter(|r| installed.is_some_and(|v| v >= &r.removed_in)) {
        // Left behind by an upgrade: it runs, but it is not the installed version's.
        out.push(ProgramProblem::Invalid {
            file: p.command_file.clone(),
            line: p.command_line,
            problem: ConfProblem::ScriptRemoved {
                removed_in: r.removed_in.to_string(),
                installed: installed.map(ToString::to_string).unwrap_or_default(),
                script: p.script.to_string(),
            },
        });
    }
    if let Some((dir, _)) = &p.directory {
        if judgeable(dir) && !hostfs::path(dir).is_dir() {
            out.push(ProgramProblem::DirectoryMissing);
        }
    }
    if misnamed(&p.name, p.script) {
        out.push(ProgramProblem::Misnamed);
    }
    if let (Some((user, _)), Some(cert)) = (&p.user, cert) {
        if !user.is_empty() && hostfs::user_exists(user) && cert.exists() && !hostfs::user_can_read(cert, user) {
            let owner_mode = hostfs::owner_and_mode(cert).map(|(o, m)| format!("{o} {m}")).unwrap_or_default();
            out.push(ProgramProblem::UserCannotReadCert {
                user: user.clone(),
                cert: cert.display().to_string(),
                owner_mode,
            });
        }
    }
    out
}

/// A name that says Envio while the script receives, or the reverse. A generic name
/// (`monitoramento_tarefas_pen`) says neither.
pub fn misnamed(name: &str, script: &str) -> bool {
    let n = name.to_ascii_lowercase();
    let s = script.to_ascii_lowercase();
    (n.contains("envio") && s.contains("recebimento")) || (n.contains("recebimento") && s.contains("envio"))
}

/// Whether the workers must run: not when the module is configured without gearman (an empty
/// `Gearman > Servidor`: the work then runs inside the monitors) in an era that reads it.
pub fn workers_needed(era: &Era, sei: Option<&crate::sei::SeiInstall>) -> bool {
    let without_gearman = sei.and_then(|s| s.pen.as_ref()).is_some_and(|p| p.gearman.is_none());
    !(era.gearman_configurable && without_gearman)
}

/// What an era requires to run, by script file name: (script, is a monitor).
pub fn required(era: &Era) -> Vec<(&'static str, bool)> {
    let mut out = Vec::new();
    for (list, monitor) in [(&era.monitors, true), (&era.workers, false)] {
        for s in list {
            if let Some(known) = super::pen_script_in(s) {
                out.push((known, monitor));
            }
        }
    }
    out
}
