//! `supervisor`: finds supervisord's configuration (and its includes), talks XML-RPC to it,
//! requires every program that runs a PEN script to be RUNNING (with the tail of stderr for
//! those that are not), and lints the PEN program sections.

use super::core::{Check, Ctx};
use super::facts::{pen_node, SCRIPTS_4X, SCRIPTS_LEGACY};
use crate::hostfs;
use crate::model::Finding;
use crate::model::Outcome;
use crate::proto::xmlrpc::{self, Endpoint, Param, Value};
use crate::secret::Secret;
use crate::settings::Settings;
use async_trait::async_trait;
use serde_json::json;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The worker script of mod-sei-pen 2.x that newer versions no longer ship.
pub const REMOVED_SCRIPTS: &[&str] = &["MonitoramentoTarefasPEN.php"];

const CONFIG_FILES: &[&str] = &["/etc/supervisord.conf", "/etc/supervisor/supervisord.conf"];

/// The keys supervisord understands in a `[program:x]` section.
const PROGRAM_KEYS: &[&str] = &[
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

pub struct SupervisorCheck;

/// Planned on an SEI node with the PEN module, with `--supervisor`, or when `--only` names it.
pub fn checks(settings: &Arc<Settings>) -> Vec<Box<dyn Check>> {
    let named = settings.only.as_ref().is_some_and(|o| o.iter().any(|e| e.trim() == "supervisor"));
    if !pen_node(settings) && settings.supervisor.is_none() && !named {
        return Vec::new();
    }
    vec![Box::new(SupervisorCheck)]
}

/// One key of an INI section, with where it was written.
#[derive(Clone, Debug)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub line: usize,
}

/// One `[section]` of a supervisord configuration file.
#[derive(Clone, Debug)]
pub struct Section {
    pub name: String,
    /// The host path of the file (for people).
    pub file: String,
    pub line: usize,
    pub entries: Vec<Entry>,
}

impl Section {
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().rev().find(|e| e.key == key)
    }
}

/// Parses supervisord's INI dialect: `key = value` or `key: value`, `;`/`#` comments (inline
/// `;` after whitespace too), indented continuation lines.
pub fn parse_ini(text: &str, file: &str) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with(';') || trimmed.starts_with('#') {
            continue;
        }
        let continuation = raw.starts_with([' ', '\t']);
        if continuation {
            if let Some(e) = sections.last_mut().and_then(|s| s.entries.last_mut()) {
                e.value.push(' ');
                e.value.push_str(strip_inline_comment(trimmed));
                continue;
            }
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            sections.push(Section {
                name: name.trim().to_string(),
                file: file.to_string(),
                line: line_no,
                entries: Vec::new(),
            });
            continue;
        }
        let Some(section) = sections.last_mut() else { continue };
        let split = match (trimmed.find('='), trimmed.find(':')) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => {
                section.entries.push(Entry { key: trimmed.to_ascii_lowercase(), value: String::new(), line: line_no });
                continue;
            }
        };
        let key = trimmed[..split].trim().to_ascii_lowercase();
        let value = strip_inline_comment(trimmed[split + 1..].trim()).to_string();
        section.entries.push(Entry { key, value, line: line_no });
    }
    sections
}

fn strip_inline_comment(v: &str) -> &str {
    match v.find(" ;").or_else(|| v.find("\t;")) {
        Some(i) => v[..i].trim_end(),
        None => v,
    }
}

/// The configuration read: sections of the main file and its includes.
#[derive(Default)]
pub struct Config {
    pub main: Option<String>,
    pub files: Vec<String>,
    pub sections: Vec<Section>,
    /// Files that exist but could not be read (not regular, too large, no permission).
    pub unreadable: Vec<hostfs::FileError>,
}

fn here_expand(value: &str, dir: &Path) -> String {
    value.replace("%(here)s", &dir.display().to_string())
}

/// Finds and reads supervisord's configuration with its `[include] files=` globs.
pub fn load_config() -> Config {
    let mut cfg = Config::default();
    let Some(main) = CONFIG_FILES.iter().find(|f| hostfs::exists(f)) else { return cfg };
    let text = match hostfs::read(main) {
        Ok(t) => t,
        Err(e) => {
            cfg.unreadable.push(e);
            return cfg;
        }
    };
    let main_dir = Path::new(main).parent().unwrap_or(Path::new("/")).to_path_buf();
    cfg.main = Some(main.to_string());
    cfg.files.push(main.to_string());
    let sections = parse_ini(&text, main);
    let includes: Vec<String> = sections
        .iter()
        .filter(|s| s.name == "include")
        .filter_map(|s| s.get("files"))
        .flat_map(|e| e.value.split_whitespace().map(|p| here_expand(p, &main_dir)).collect::<Vec<_>>())
        .collect();
    cfg.sections = sections;
    for pattern in includes {
        let abs = if pattern.starts_with('/') { PathBuf::from(&pattern) } else { main_dir.join(&pattern) };
        let (dir, name) = (abs.parent().unwrap_or(Path::new("/")).to_path_buf(), abs.file_name());
        let Some(name) = name.and_then(|n| n.to_str()) else { continue };
        let mut matched: Vec<PathBuf> = hostfs::list_dir(&dir)
            .into_iter()
            .filter(|p| {
                !p.is_dir() && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| hostfs::wildcard(name, n))
            })
            .collect();
        matched.sort();
        for real in matched {
            let shown = hostfs::display(&real);
            if cfg.files.contains(&shown) {
                continue;
            }
            match hostfs::read_real(&real) {
                Ok(t) => {
                    cfg.sections.extend(parse_ini(&t, &shown));
                    cfg.files.push(shown);
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => cfg.unreadable.push(e),
            }
        }
    }
    cfg
}

/// The endpoint and credentials named by the configuration's `[unix_http_server]` or
/// `[inet_http_server]`.
fn endpoint_from_config(cfg: &Config) -> Option<(Endpoint, Option<(String, Secret)>)> {
    let main_dir = cfg.main.as_deref().and_then(|m| Path::new(m).parent()).unwrap_or(Path::new("/")).to_path_buf();
    let creds = |s: &Section| {
        let user = s.get("username").map(|e| e.value.clone()).filter(|u| !u.is_empty())?;
        let pass = s.get("password").map(|e| e.value.clone()).unwrap_or_default();
        let pass = pass.strip_prefix("{SHA}").map(|_| String::new()).unwrap_or(pass);
        // Sent as HTTP Basic: its base64 must never be printed either.
        crate::redact::register_credentials(&user, &pass);
        Some((user, Secret::new(pass)))
    };
    if let Some(s) = cfg.sections.iter().find(|s| s.name == "unix_http_server") {
        if let Some(file) = s.get("file") {
            return Some((Endpoint::Unix(PathBuf::from(here_expand(&file.value, &main_dir))), creds(s)));
        }
    }
    if let Some(s) = cfg.sections.iter().find(|s| s.name == "inet_http_server") {
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

/// The PEN script a command runs (current, legacy or removed).
pub fn pen_script_of(command: &str) -> Option<&'static str> {
    command.split_whitespace().find_map(|w| {
        let base = w.rsplit('/').next().unwrap_or(w).trim_matches(['"', '\'']);
        SCRIPTS_4X.iter().chain(SCRIPTS_LEGACY).chain(REMOVED_SCRIPTS).copied().find(|s| base == *s)
    })
}

/// The lint problems of the PEN program sections: (file, line, problem).
pub fn lint(cfg: &Config, module_major: Option<u32>) -> Vec<(String, usize, String)> {
    let mut out = Vec::new();
    for s in cfg.sections.iter().filter(|s| s.name.starts_with("program:")) {
        let Some(cmd) = s.get("command") else { continue };
        let Some(script) = pen_script_of(&cmd.value) else { continue };
        for e in &s.entries {
            if !PROGRAM_KEYS.contains(&e.key.as_str()) {
                out.push((s.file.clone(), e.line, format!("unknown key '{}'", e.key)));
            }
        }
        let words: Vec<&str> = cmd.value.split_whitespace().map(|w| w.trim_matches(['"', '\''])).collect();
        if let Some(bin) = words.first() {
            let base = bin.rsplit('/').next().unwrap_or(bin);
            if bin.starts_with('/') && base.starts_with("php") && !bin.contains("%(") && !hostfs::exists(bin) {
                out.push((s.file.clone(), cmd.line, format!("php binary not found: {bin}")));
            }
        }
        if REMOVED_SCRIPTS.contains(&script) {
            out.push((s.file.clone(), cmd.line, format!("script removed in newer module versions: {script}")));
        } else if SCRIPTS_LEGACY.contains(&script) && module_major.is_some_and(|m| m >= 4) {
            out.push((s.file.clone(), cmd.line, format!("script of module 1.x-3.x, absent in 4.x: {script}")));
        }
        if let Some(path) = words.iter().find(|w| w.rsplit('/').next() == Some(script)) {
            if path.starts_with('/') && !path.contains("%(") && !hostfs::exists(path) {
                out.push((s.file.clone(), cmd.line, format!("script not found: {path}")));
            }
        }
        if let Some(user) = s.get("user") {
            if !user.value.is_empty() && !hostfs::user_exists(&user.value) {
                out.push((s.file.clone(), user.line, format!("user not found: {}", user.value)));
            }
        }
    }
    out
}

fn last_lines(text: &str, n: usize) -> Vec<String> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].iter().map(|l| l.chars().take(300).collect()).collect()
}

#[async_trait]
impl Check for SupervisorCheck {
    fn id(&self) -> String {
        "supervisor".into()
    }
    fn kind(&self) -> &'static str {
        "supervisor"
    }

    async fn run(&self, ctx: &Ctx) -> Outcome {
        let s = &ctx.settings;
        let module_major = s
            .sei
            .as_ref()
            .and_then(|i| i.pen_version.as_deref())
            .and_then(|v| v.trim().split('.').next()?.parse::<u32>().ok());
        // The configuration and the files it names are looked at off the runtime's threads: a
        // read that blocks (a hung network mount) must not keep the deadline from firing.
        let (cfg, problems) = tokio::task::spawn_blocking(move || {
            let cfg = load_config();
            let problems = lint(&cfg, module_major);
            (cfg, problems)
        })
        .await
        .unwrap_or_default();
        let mut o = Outcome::new().evidence("config_files", &cfg.files);
        // Which sections run PEN workers, from the files alone (the fleet compares nodes by it).
        let pen_sections: Vec<&str> = cfg
            .sections
            .iter()
            .filter(|s| {
                s.name.starts_with("program:") && s.get("command").is_some_and(|c| pen_script_of(&c.value).is_some())
            })
            .map(|s| s.name.as_str())
            .collect();
        o.set_evidence("pen_program_sections", &pen_sections);
        for e in &cfg.unreadable {
            o.push(super::core::host_file_unreadable(e));
        }
        for (file, line, problem) in problems {
            o.push(
                Finding::new("SUPERVISOR_CONFIG_INVALID")
                    .with("file", file)
                    .with("line", line)
                    .with("problem", problem),
            );
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
                        Finding::new("SUPERVISOR_DOWN").with("addr", flag).with("error", "invalid --supervisor value"),
                    );
                    return o;
                }
            },
            (None, Some(found)) => found,
            (None, None) => {
                o.push(Finding::new("SUPERVISOR_CONFIG_NOT_FOUND").with("paths", CONFIG_FILES.join(", ")));
                return o;
            }
        };
        o.set_evidence("endpoint", endpoint.to_string());
        o.set_evidence("authenticated", auth.is_some());
        let t = ctx.timeout();
        let infos = match xmlrpc::call(&endpoint, auth.as_ref(), "supervisor.getAllProcessInfo", &[], t).await {
            Ok(Value::Array(items)) => items,
            Ok(_) => {
                o.push(
                    Finding::new("SUPERVISOR_DOWN")
                        .with("addr", endpoint.to_string())
                        .with("error", "getAllProcessInfo did not return a list"),
                );
                return o;
            }
            Err(e) => {
                o.push(Finding::new("SUPERVISOR_DOWN").with("addr", endpoint.to_string()).with("error", e.to_string()));
                return o;
            }
        };

        // Which groups run a PEN script: the configuration files, and supervisord's own view.
        let mut pen_groups: BTreeSet<String> = cfg
            .sections
            .iter()
            .filter_map(|sec| {
                let name = sec.name.strip_prefix("program:")?;
                pen_script_of(&sec.get("command")?.value).map(|_| name.to_string())
            })
            .collect();
        if let Ok(Value::Array(conf)) =
            xmlrpc::call(&endpoint, auth.as_ref(), "supervisor.getAllConfigInfo", &[], t).await
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

        let mut programs = Vec::new();
        let mut running = 0;
        for info in &infos {
            let name = info.get("name").and_then(Value::as_str).unwrap_or("?").to_string();
            let group = info.get("group").and_then(Value::as_str).unwrap_or(&name).to_string();
            if !pen_groups.contains(&group) {
                continue;
            }
            let state = info.get("statename").and_then(Value::as_str).unwrap_or("UNKNOWN").to_string();
            let full = if group == name { name.clone() } else { format!("{group}:{name}") };
            let exitstatus = info.get("exitstatus").and_then(Value::as_i64).unwrap_or(0);
            let description = info.get("description").and_then(Value::as_str).unwrap_or("").to_string();
            let now = info.get("now").and_then(Value::as_i64).unwrap_or(0);
            let start = info.get("start").and_then(Value::as_i64).unwrap_or(0);
            let stop = info.get("stop").and_then(Value::as_i64).unwrap_or(0);
            let mut entry = json!({
                "name": full, "state": state, "pid": info.get("pid").and_then(Value::as_i64),
                "exitstatus": exitstatus, "description": description,
                "uptime_secs": if state == "RUNNING" && start > 0 { Some(now - start) } else { None },
                "stopped_for_secs": if state != "RUNNING" && stop > 0 && now >= stop { Some(now - stop) } else { None },
                "spawnerr": info.get("spawnerr").and_then(Value::as_str).filter(|e| !e.is_empty()),
            });
            if matches!(state.as_str(), "RUNNING" | "STARTING") {
                running += 1;
            } else {
                let tail = match xmlrpc::call(
                    &endpoint,
                    auth.as_ref(),
                    "supervisor.tailProcessStderrLog",
                    &[Param::Str(&full), Param::Int(0), Param::Int(2048)],
                    t,
                )
                .await
                {
                    Ok(Value::Array(parts)) => {
                        parts.first().and_then(Value::as_str).map(|s| last_lines(s, 10)).unwrap_or_default()
                    }
                    _ => Vec::new(),
                };
                entry["stderr_tail"] = json!(tail);
                o.push(
                    Finding::new("SUPERVISOR_PROGRAM_NOT_RUNNING")
                        .with("program", &full)
                        .with("state", &state)
                        .with("exitstatus", exitstatus)
                        .with("description", &description)
                        .with("stderr", tail.last().cloned().unwrap_or_else(|| "-".into())),
                );
            }
            programs.push(entry);
        }
        o.set_evidence("pen_programs", &programs);
        o.set_evidence("programs_total", infos.len());
        o.summary.insert("running", running.to_string());
        if pen_groups.is_empty() {
            o.push(
                Finding::new("SUPERVISOR_NO_PEN_PROGRAMS")
                    .with("file", if cfg.files.is_empty() { endpoint.to_string() } else { cfg.files.join(", ") }),
            );
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_dialect() {
        let t = "[program:x]\ncommand = /usr/bin/php a.php ; comment\n  --flag\nuser: apache\n; note\n[include]\nfiles = a/*.conf b.ini\n";
        let s = parse_ini(t, "/etc/s.conf");
        assert_eq!(s[0].get("command").unwrap().value, "/usr/bin/php a.php --flag");
        assert_eq!(s[0].get("user").unwrap().line, 4);
        assert_eq!(s[1].get("files").unwrap().value, "a/*.conf b.ini");
        assert_eq!(
            pen_script_of("/usr/bin/php -c /etc/php.ini /opt/sei/web/modulos/pen/rn/ProcessarPendenciasRN.php"),
            Some("ProcessarPendenciasRN.php")
        );
        assert_eq!(pen_script_of("/usr/bin/php /opt/x/verificar.php"), None);
    }
}
