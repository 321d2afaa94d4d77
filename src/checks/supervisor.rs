//! `supervisor`: reads supervisord's configuration as supervisord reads it (`src/node`), judges
//! each PEN program against the installed module's era (script, `directory=`, name, `user=`
//! and the certificate, the era's required monitors and workers), talks XML-RPC to supervisord,
//! requires every PEN program to be RUNNING, and gives a failed one's real exit status and the
//! tails of its stderr and stdout logs.

use super::core::{Check, Ctx};
use crate::hostfs;
use crate::model::code::{self, Code};
use crate::model::{CheckId, Finding, Kind, Outcome};
use crate::net::resolve::ResolveConfig;
use crate::node::logs::{self, Tail};
use crate::node::procs::{self, PenProcess};
use crate::node::programs::{self, Program, ProgramProblem};
use crate::node::supervisor_conf::{self, ConfProblem, ExpandError};
use crate::proto::xmlrpc::{self, Endpoint, Param, Value};
use crate::secret::Secret;
use crate::settings::Settings;
use async_trait::async_trait;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use crate::node::supervisor_conf::{parse_ini, Config, Entry, Section};

/// Where supervisord looks for its configuration.
const CONFIG_FILES: &[&str] = supervisor_conf::DEFAULT_FILES;

pub struct SupervisorCheck;

/// The `supervisor` check (where it applies: `plan::applies`).
pub fn checks(_settings: &Arc<Settings>) -> Vec<Box<dyn Check>> {
    vec![Box::new(SupervisorCheck)]
}

/// Finds and reads supervisord's configuration with its includes.
pub fn load_config() -> Config {
    supervisor_conf::load()
}

/// The PEN script a command runs (any era's, removed ones included).
pub fn pen_script_of(command: &str) -> Option<&'static str> {
    let words: Vec<&str> = command.split_whitespace().collect();
    crate::node::pen_script_of_words(&words).map(|(s, _)| s)
}

/// The endpoint and credentials named by the configuration's `[unix_http_server]` or
/// `[inet_http_server]`.
fn endpoint_from_config(cfg: &Config) -> Option<(Endpoint, Option<(String, Secret)>)> {
    let creds = |s: &Section| {
        let user = s.get("username").map(|e| e.value.clone()).filter(|u| !u.is_empty())?;
        let pass = s.get("password").map(|e| e.value.clone()).unwrap_or_default();
        let pass = pass.strip_prefix("{SHA}").map(|_| String::new()).unwrap_or(pass);
        // Sent as HTTP Basic: its base64 must never be printed either.
        crate::redact::register_credentials(&user, &pass);
        Some((user, Secret::new(pass)))
    };
    if let Some(s) = cfg.section("unix_http_server") {
        if let Some(file) = s.get("file") {
            return Some((Endpoint::Unix(PathBuf::from(&file.value)), creds(s)));
        }
    }
    if let Some(s) = cfg.section("inet_http_server") {
        if let Some(port) = s.get("port") {
            let v = port.value.trim();
            let addr = match v.rsplit_once(':') {
                Some(("" | "*", p)) => format!("127.0.0.1:{p}"),
                Some(_) => v.to_string(),
                None => format!("127.0.0.1:{v}"),
            };
            return Some((Endpoint::Tcp(addr), creds(s)));
        }
    }
    None
}

/// The environment of the running supervisord (for `%(ENV_X)s`), else pen-doctor's own; and
/// whether it is supervisord's.
fn daemon_env(pid: Option<u32>) -> (BTreeMap<String, String>, bool) {
    if let Some(pid) = pid {
        if let Ok(raw) = hostfs::read_file(&hostfs::path(format!("/proc/{pid}/environ")), hostfs::Kind::Kernel) {
            return (crate::hostenv::parse_environ(&raw), true);
        }
    }
    (std::env::vars().collect(), false)
}

/// Everything read from files and `/proc`, off the runtime's threads.
#[derive(Default)]
struct Local {
    cfg: Config,
    programs: Vec<Program>,
    /// Problems of the configuration: (file, line, problem).
    invalid: Vec<supervisor_conf::Problem>,
    judged: Vec<(usize, ProgramProblem)>,
    processes: Vec<PenProcess>,
}

fn read_local(version: Option<String>, cert: Option<PathBuf>, sei_dir: Option<PathBuf>) -> Local {
    let cfg = supervisor_conf::load();
    let (env, daemons) = daemon_env(cfg.daemon_pid);
    let (programs, mut invalid) = programs::pen_programs(&cfg, &env);
    // A variable missing from pen-doctor's own environment says nothing of supervisord's.
    invalid.retain(|(_, _, p)| {
        daemons || !matches!(p, ConfProblem::Expansion(ExpandError::Unknown(name)) if name.starts_with("ENV_"))
    });
    invalid.extend(cfg.problems.iter().cloned());
    for p in &programs {
        if let Some(s) = cfg.section(&format!("program:{}", p.name)) {
            invalid.extend(programs::unknown_keys(s));
        }
        let words: Vec<&str> = p.command.split_whitespace().map(|w| w.trim_matches(['"', '\''])).collect();
        if let Some(bin) = words.first() {
            let base = crate::node::base_name(bin);
            if bin.starts_with('/') && base.starts_with("php") && !bin.contains("%(") && !hostfs::exists(bin) {
                invalid.push((p.command_file.clone(), p.command_line, ConfProblem::PhpNotFound(bin.to_string())));
            }
        }
        if let Some((user, line)) = &p.user {
            if !user.is_empty() && !hostfs::user_exists(user) {
                invalid.push((p.file.clone(), *line, ConfProblem::UserNotFound(user.clone())));
            }
        }
    }
    let installed = version.as_deref().and_then(crate::eras::Version::parse);
    let eras = crate::eras::table();
    let judged = programs
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            programs::judge(p, installed.as_ref(), eras, cert.as_deref()).into_iter().map(move |x| (i, x))
        })
        .collect();
    let processes = procs::scan().into_iter().filter(|p| procs::serves(p, sei_dir.as_deref())).collect();
    Local { cfg, programs, invalid, judged, processes }
}

fn program_finding(p: &Program, problem: &ProgramProblem, installed: &str) -> Finding {
    match problem {
        ProgramProblem::ScriptMissing { removed_in } => Finding::new(code::SUPERVISOR_SCRIPT_MISSING)
            .with("program", &p.name)
            .with("script", &p.script_path)
            .with("file", &p.command_file)
            .with("line", p.command_line)
            .with("removed_in", removed_in.as_deref().unwrap_or("-"))
            .with("installed", installed),
        ProgramProblem::DirectoryMissing => {
            let (dir, line) = p.directory.clone().unwrap_or_default();
            Finding::new(code::SUPERVISOR_DIRECTORY_MISSING)
                .with("program", &p.name)
                .with("directory", dir)
                .with("file", &p.file)
                .with("line", line)
        }
        ProgramProblem::Misnamed => Finding::new(code::SUPERVISOR_PROGRAM_MISNAMED)
            .with("program", &p.name)
            .with("script", p.script)
            .with("file", &p.file)
            .with("line", p.line),
        ProgramProblem::UserCannotReadCert { user, cert, owner_mode } => {
            Finding::new(code::SUPERVISOR_USER_CANNOT_READ_CERT)
                .with("program", &p.name)
                .with("user", user)
                .with("cert", cert)
                .with("owner_mode", owner_mode)
        }
        ProgramProblem::Invalid { file, line, problem } => {
            Finding::new(code::SUPERVISOR_CONFIG_INVALID).with("file", file).with("line", line).with("problem", problem)
        }
    }
}

/// The tail of one stream of a process: the file the configuration names when it can be read,
/// else supervisord's own copy over XML-RPC.
async fn stream_tail(
    endpoint: &Endpoint,
    resolve: &ResolveConfig,
    auth: Option<&(String, Secret)>,
    full: &str,
    file: Option<String>,
    stderr: bool,
    t: std::time::Duration,
) -> Tail {
    if let Some(f) = file {
        let got = tokio::task::spawn_blocking(move || logs::tail_file(&f)).await;
        if let Ok(Ok(tail)) = got {
            return tail;
        }
    }
    let method = if stderr { "supervisor.tailProcessStderrLog" } else { "supervisor.tailProcessStdoutLog" };
    match xmlrpc::call(
        endpoint,
        resolve,
        auth,
        method,
        &[Param::Str(full), Param::Int(0), Param::Int(logs::TAIL_BYTES as i64)],
        t,
    )
    .await
    {
        Ok(Value::Array(parts)) => {
            parts.first().and_then(Value::as_str).map(|s| logs::tail_of_text(s, "supervisord")).unwrap_or_default()
        }
        _ => Tail::default(),
    }
}

#[async_trait]
impl Check for SupervisorCheck {
    fn id(&self) -> CheckId {
        CheckId::of(Kind::Supervisor)
    }

    async fn run(&self, ctx: &Ctx) -> Outcome {
        let mut o = self.judge(ctx).await;
        cap_findings(&mut o);
        o
    }
}

/// Findings of one code kept at most: a hostile configuration (thousands of PEN programs with
/// unknown keys) gives a bounded report; the number left out is in evidence.
pub const MAX_FINDINGS_PER_CODE: usize = 32;

fn cap_findings(o: &mut Outcome) {
    let mut seen: BTreeMap<Code, usize> = BTreeMap::new();
    let mut left_out: BTreeMap<Code, usize> = BTreeMap::new();
    o.findings.retain(|f| {
        let n = seen.entry(f.code).or_default();
        *n += 1;
        if *n > MAX_FINDINGS_PER_CODE {
            *left_out.entry(f.code).or_default() += 1;
            false
        } else {
            true
        }
    });
    if !left_out.is_empty() {
        o.set_evidence("findings_left_out", &left_out);
    }
}

impl SupervisorCheck {
    async fn judge(&self, ctx: &Ctx) -> Outcome {
        // `supervisor` does not depend on `config:sei` (it runs, and judges by the era it finds,
        // whatever that check concludes): the installation is the one read at start, if any.
        let s = &ctx.settings;
        let version = s.sei.as_ref().and_then(|i| i.pen_version.clone());
        let cert = s.sei.as_ref().and_then(|i| i.pen.as_ref()).and_then(|p| p.cert_path.clone());
        // The configuration and the files it names are looked at off the runtime's threads: a
        // read that blocks (a hung network mount) must not keep the deadline from firing.
        let v = version.clone();
        let sei_dir = s.sei.as_ref().map(|i| i.dir.clone());
        let Local { cfg, programs, invalid, judged, processes } =
            tokio::task::spawn_blocking(move || read_local(v, cert, sei_dir)).await.unwrap_or_default();
        let installed = version.clone().unwrap_or_else(|| "-".into());
        let era = version.as_deref().and_then(crate::eras::era_of);
        let mut o = Outcome::new().evidence("config_files", &cfg.files);
        if let Some(from) = &cfg.main_from {
            o.set_evidence("main_found_by", from);
        }
        // Which sections run PEN workers, from the files alone (the fleet compares nodes by it).
        let pen_sections: Vec<String> = programs.iter().map(|p| format!("program:{}", p.name)).collect();
        o.set_evidence("pen_program_sections", &pen_sections);
        o.set_evidence(
            "pen_program_config",
            programs
                .iter()
                .map(|p| {
                    json!({"name": p.name, "script": p.script_path, "file": p.file, "line": p.line,
                                "directory": p.directory.as_ref().map(|d| &d.0), "user": p.user.as_ref().map(|u| &u.0),
                                "processes": p.processes,
                                "stdout_logfile": p.stdout_logfile, "stderr_logfile": p.stderr_logfile})
                })
                .collect::<Vec<_>>(),
        );
        o.set_evidence("module_version", &version);
        o.set_evidence("era", era.map(|e| e.id.as_str()));
        // The module's own supervisor.exemplo.ini of this era is known to be wrong: an analyst
        // reading the evidence knows where a node set up from it went astray.
        o.set_evidence("era_sample_broken", era.map(|e| e.supervisor_sample_broken));
        for e in &cfg.unreadable {
            o.push(super::core::host_file_unreadable(e));
        }
        for d in &cfg.duplicates {
            o.push(
                Finding::new(code::SUPERVISOR_DUPLICATE_SECTION)
                    .with("section", &d.section)
                    .with("first", &d.first)
                    .with("again", &d.again)
                    .with("replaced", if d.replaced.is_empty() { "-".to_string() } else { d.replaced.join(", ") }),
            );
        }
        if !cfg.duplicates.is_empty() {
            o.set_evidence("duplicate_sections", &cfg.duplicates);
        }
        if !cfg.unmatched.is_empty() {
            o.set_evidence("include_patterns_without_match", &cfg.unmatched);
        }
        if cfg.left_out > 0 {
            o.set_evidence("left_out_by_bounds", cfg.left_out);
        }
        for (file, line, problem) in &invalid {
            o.push(
                Finding::new(code::SUPERVISOR_CONFIG_INVALID)
                    .with("file", file)
                    .with("line", line)
                    .with("problem", problem),
            );
        }
        for (i, problem) in &judged {
            o.push(program_finding(&programs[*i], problem, &installed));
        }
        // Logs several PEN programs write to: their tails mix.
        let mut by_log: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for p in &programs {
            for f in [&p.stdout_logfile, &p.stderr_logfile].into_iter().flatten() {
                by_log.entry(f.as_str()).or_default().insert(p.name.as_str());
            }
        }
        for (log, names) in by_log.iter().filter(|(_, n)| n.len() > 1) {
            o.push(
                Finding::new(code::SUPERVISOR_LOG_SHARED)
                    .with("log", log)
                    .with("programs", names.iter().copied().collect::<Vec<_>>().join(", ")),
            );
        }
        // The era's monitors and workers: each run by some program or some process. Judged on
        // the node that runs PEN's queue (some PEN program or process is here); elsewhere the
        // absence of all is the other findings' business.
        o.set_evidence(
            "monitors",
            processes
                .iter()
                .filter(|p| crate::node::is_monitor(p.script))
                .map(|p| json!({"pid": p.pid, "script": p.script, "worker": p.worker, "age_secs": p.uptime_secs}))
                .collect::<Vec<_>>(),
        );
        if let Some(era) = era {
            if !programs.is_empty() || !processes.is_empty() {
                let workers = programs::workers_needed(era, s.sei.as_ref());
                for (script, monitor) in programs::required(era).into_iter().filter(|(_, m)| *m || workers) {
                    let by_program = programs.iter().any(|p| p.script == script);
                    let by_process = processes.iter().any(|p| p.script == script);
                    if !by_program && !by_process {
                        o.push(
                            Finding::new(code::PEN_MONITOR_MISSING)
                                .with("script", script)
                                .with("kind", if monitor { "monitor" } else { "worker" })
                                .with("installed", &installed)
                                .with("era", &era.id),
                        );
                    }
                }
            }
        }

        let from_config = endpoint_from_config(&cfg);
        let (endpoint, auth) = match (&s.supervisor, from_config) {
            (Some(flag), cfg_ep) => match Endpoint::parse(flag) {
                Some(ep) => {
                    let auth = cfg_ep.and_then(|(c, a)| {
                        (std::mem::discriminant(&c) == std::mem::discriminant(&ep)).then_some(a).flatten()
                    });
                    (ep, auth)
                }
                None => {
                    o.push(
                        Finding::new(code::SUPERVISOR_DOWN)
                            .with("addr", flag)
                            .with("error", "invalid --supervisor value"),
                    );
                    return o;
                }
            },
            (None, Some(found)) => found,
            (None, None) => {
                o.push(Finding::new(code::SUPERVISOR_CONFIG_NOT_FOUND).with("paths", CONFIG_FILES.join(", ")));
                return o;
            }
        };
        o.set_evidence("endpoint", endpoint.to_string());
        o.set_evidence("authenticated", auth.is_some());
        let t = ctx.timeout();
        let resolve = s.resolve_config();
        let infos = match xmlrpc::call(&endpoint, &resolve, auth.as_ref(), "supervisor.getAllProcessInfo", &[], t).await
        {
            Ok(Value::Array(items)) => items,
            Ok(_) => {
                o.push(
                    Finding::new(code::SUPERVISOR_DOWN)
                        .with("addr", endpoint.to_string())
                        .with("error", xmlrpc::Protocol::NotAList("getAllProcessInfo".into())),
                );
                return o;
            }
            Err(e) => {
                o.push(
                    Finding::new(code::SUPERVISOR_DOWN).with("addr", endpoint.to_string()).with("error", e.to_string()),
                );
                return o;
            }
        };

        // Which groups run a PEN script: the configuration files, and supervisord's own view.
        let mut pen_groups: BTreeSet<String> = programs.iter().map(|p| p.name.clone()).collect();
        if let Ok(Value::Array(conf)) =
            xmlrpc::call(&endpoint, &resolve, auth.as_ref(), "supervisor.getAllConfigInfo", &[], t).await
        {
            for c in conf {
                if let (Some(group), Some(cmd)) =
                    (c.get("group").and_then(Value::as_str), c.get("command").and_then(Value::as_str))
                {
                    if pen_script_of(cmd).is_some() {
                        pen_groups.insert(group.to_string());
                    }
                }
            }
        }

        // supervisord's own log: the real exit status of a process that exited too quickly
        // (XML-RPC reports none for it).
        let mut daemon_log: Option<String> = None;
        let mut programs_out = Vec::new();
        let mut running = 0;
        for info in &infos {
            let name = info.get("name").and_then(Value::as_str).unwrap_or("?").to_string();
            let group = info.get("group").and_then(Value::as_str).unwrap_or(&name).to_string();
            if !pen_groups.contains(&group) {
                continue;
            }
            let state = info.get("statename").and_then(Value::as_str).unwrap_or("UNKNOWN").to_string();
            let full = if group == name { name.clone() } else { format!("{group}:{name}") };
            let reported = info.get("exitstatus").and_then(Value::as_i64).unwrap_or(0);
            let description = info.get("description").and_then(Value::as_str).unwrap_or("").to_string();
            let now = info.get("now").and_then(Value::as_i64).unwrap_or(0);
            let start = info.get("start").and_then(Value::as_i64).unwrap_or(0);
            let stop = info.get("stop").and_then(Value::as_i64).unwrap_or(0);
            let mut entry = json!({
                "name": full, "state": state, "pid": info.get("pid").and_then(Value::as_i64),
                "exitstatus": reported, "description": description,
                "uptime_secs": if state == "RUNNING" && start > 0 { Some(now - start) } else { None },
                "stopped_for_secs": if state != "RUNNING" && stop > 0 && now >= stop { Some(now - stop) } else { None },
                "spawnerr": info.get("spawnerr").and_then(Value::as_str).filter(|e| !e.is_empty()),
            });
            if matches!(state.as_str(), "RUNNING" | "STARTING") {
                running += 1;
            } else {
                if daemon_log.is_none() {
                    daemon_log = Some(read_daemon_log(&endpoint, &resolve, auth.as_ref(), &cfg, t).await);
                }
                let (logged, spawnerr) = logs::exit_from_daemon_log(daemon_log.as_deref().unwrap_or(""), &name);
                let exitstatus = logged.unwrap_or(reported);
                let prog = programs.iter().find(|p| p.name == group);
                let (out_file, err_file) = match prog {
                    Some(p) if p.redirect_stderr => (p.stdout_logfile.clone(), p.stdout_logfile.clone()),
                    Some(p) => (p.stdout_logfile.clone(), p.stderr_logfile.clone()),
                    None => (None, None),
                };
                let stderr = stream_tail(&endpoint, &resolve, auth.as_ref(), &full, err_file, true, t).await;
                let stdout = stream_tail(&endpoint, &resolve, auth.as_ref(), &full, out_file, false, t).await;
                entry["exitstatus"] = json!(exitstatus);
                entry["exitstatus_reported"] = json!(reported);
                entry["stderr_tail"] = json!(stderr.lines);
                entry["stdout_tail"] = json!(stdout.lines);
                entry["stderr_log"] = json!(stderr.source);
                entry["stdout_log"] = json!(stdout.source);
                if stderr.binary || stdout.binary {
                    entry["binary_log"] = json!(true);
                }
                if let Some(e) = &spawnerr {
                    entry["daemon_spawnerr"] = json!(e);
                }
                o.push(
                    Finding::new(code::SUPERVISOR_PROGRAM_NOT_RUNNING)
                        .with("program", &full)
                        .with("state", &state)
                        .with("exitstatus", exitstatus)
                        .with("description", &description)
                        .with("stderr", stderr.last())
                        .with("stdout", stdout.last()),
                );
            }
            programs_out.push(entry);
        }
        o.set_evidence("pen_programs", &programs_out);
        o.set_evidence("programs_total", infos.len());
        o.summary.insert("running", running.to_string());
        if pen_groups.is_empty() {
            o.push(
                Finding::new(code::SUPERVISOR_NO_PEN_PROGRAMS)
                    .with("file", if cfg.files.is_empty() { endpoint.to_string() } else { cfg.files.join(", ") }),
            );
        }
        o
    }
}

/// The end of supervisord's own log: over XML-RPC (`readLog`), else the `[supervisord]
/// logfile=` of the configuration.
async fn read_daemon_log(
    endpoint: &Endpoint,
    resolve: &ResolveConfig,
    auth: Option<&(String, Secret)>,
    cfg: &Config,
    t: std::time::Duration,
) -> String {
    let max = logs::TAIL_BYTES as i64 * 4;
    if let Ok(Value::Str(text)) =
        xmlrpc::call(endpoint, resolve, auth, "supervisor.readLog", &[Param::Int(-max), Param::Int(0)], t).await
    {
        return text;
    }
    let Some(file) = cfg.section("supervisord").and_then(|s| s.get("logfile")).map(|e| e.value.clone()) else {
        return String::new();
    };
    if !Path::new(&file).is_absolute() {
        return String::new();
    }
    tokio::task::spawn_blocking(move || hostfs::read_tail(&file, max as u64).unwrap_or_default())
        .await
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_of_commands() {
        assert_eq!(
            pen_script_of("/usr/bin/php -c /etc/php.ini /opt/sei/web/modulos/pen/rn/ProcessarPendenciasRN.php"),
            Some("ProcessarPendenciasRN.php")
        );
        assert_eq!(pen_script_of("/usr/bin/php /opt/x/verificar.php"), None);
    }
}
