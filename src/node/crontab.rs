//! The crontabs of the host as cron reads them: `/etc/crontab` and `/etc/cron.d/*` (with a user
//! field) and the user crontabs under `/var/spool/cron/**` (without one), each through the
//! bounded reader. Finds the lines that run SEI's scheduler (`AgendamentoTarefaSEI.php`) and the
//! module's contingency script, and the traps seen in real cron files: a user field inside a
//! user crontab, a user name inside the command (`…; root /usr/bin/php …`), a PHP binary or a
//! `-c php.ini` that does not exist, `2>&1 >> file` (stderr still goes to mail).

use crate::hostfs;
use serde::Serialize;
use std::path::PathBuf;

/// The scheduler script every PEN and PI scheduled task depends on.
pub const SCHEDULER_SCRIPT: &str = "AgendamentoTarefaSEI.php";
/// The contingency scripts (current, older).
pub const CONTINGENCY_SCRIPTS: &[&str] = &["verificar-reboot-fila.sh", "verificar-servicos.sh"];
/// Crontab files read at most.
pub const MAX_FILES: usize = 512;
/// Broken entries reported per file at most (the count is kept).
pub const MAX_BROKEN_PER_FILE: usize = 5;

/// Where the crontabs are searched, for people.
pub const SEARCHED: &str = "/etc/crontab, /etc/cron.d/*, /var/spool/cron/**";

/// One scheduled line.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CronEntry {
    pub file: String,
    pub line: usize,
    pub entry: String,
}

/// A trap in a line.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Broken {
    pub file: String,
    pub line: usize,
    pub problem: String,
    /// `2>&1 >>` alone: stderr goes to mail, the job still runs.
    pub warn_only: bool,
}

/// What the crontabs say.
#[derive(Default, Debug)]
pub struct Crontabs {
    pub read: Vec<String>,
    pub unreadable: Vec<hostfs::FileError>,
    pub scheduler: Vec<CronEntry>,
    /// The first line running each contingency script, by script.
    pub contingency: Vec<(&'static str, CronEntry)>,
    pub broken: Vec<Broken>,
    /// Broken lines not reported (over [`MAX_BROKEN_PER_FILE`]), by file.
    pub broken_left_out: Vec<(String, usize)>,
}

/// The crontab files of the host (mapped paths): system ones with a user field first.
pub fn files() -> Vec<(PathBuf, bool)> {
    let mut out = vec![(hostfs::path("/etc/crontab"), true)];
    out.extend(hostfs::list_dir("/etc/cron.d").into_iter().filter(|p| !p.is_dir()).map(|p| (p, true)));
    let mut dirs = vec![hostfs::path("/var/spool/cron")];
    let mut depth = 0;
    while let Some(dir) = dirs.pop() {
        for p in hostfs::list_real_dir(&dir) {
            if out.len() >= MAX_FILES {
                return out;
            }
            if p.is_dir() {
                if depth < 64 {
                    dirs.push(p);
                }
            } else {
                out.push((p, false));
            }
        }
        depth += 1;
    }
    out
}

fn relevant(command: &str) -> bool {
    command.contains(SCHEDULER_SCRIPT)
        || CONTINGENCY_SCRIPTS.iter().any(|s| command.contains(s))
        || command.contains("mod-pen")
        || command.split_whitespace().any(|w| super::pen_script_in(w).is_some())
}

/// The command of a crontab line (after the schedule and, in a system crontab, the user
/// field), or `None` for comments, blank lines and variable assignments.
pub fn command_of(line: &str, system: bool) -> Option<(Option<&str>, &str)> {
    let t = line.trim();
    if t.is_empty() || t.starts_with('#') {
        return None;
    }
    let first = t.split_whitespace().next()?;
    if !first.starts_with('@') && first.contains('=') && !first.starts_with(|c: char| c.is_ascii_digit() || c == '*') {
        return None;
    }
    let fields = if first.starts_with('@') { 1 } else { 5 };
    let mut rest = t;
    for _ in 0..fields {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace)?;
        rest = &rest[end..];
    }
    rest = rest.trim_start();
    if system {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let user = &rest[..end];
        Some((Some(user), rest[end..].trim_start()))
    } else {
        Some((None, rest))
    }
}

/// The traps of one command (a line of a crontab).
pub fn traps(command: &str, user_crontab: bool, is_user: &dyn Fn(&str) -> bool) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let words: Vec<&str> = command.split_whitespace().collect();
    if user_crontab {
        if let Some(w) = words.first().filter(|w| is_user(w)) {
            out.push((format!("user field '{w}' in a user crontab (cron runs '{w}' as a command)"), false));
        }
    }
    for (i, w) in words.iter().enumerate() {
        let after_separator = i > 0 && (matches!(words[i - 1], ";" | "&&" | "||") || words[i - 1].ends_with(';'));
        if after_separator && is_user(w) && words.get(i + 1).is_some() {
            out.push((format!("user name '{w}' inside the command (cron runs '{w}' as a command)"), false));
        }
    }
    for (i, w) in words.iter().enumerate() {
        let w = w.trim_matches(['"', '\'', ';']);
        let base = w.rsplit('/').next().unwrap_or(w);
        let is_php =
            base == "php" || (base.starts_with("php") && base[3..].chars().all(|c| c.is_ascii_digit() || c == '.'));
        if is_php && w.starts_with('/') && !hostfs::exists(w) {
            out.push((format!("PHP binary not found: {w}"), false));
        }
        if is_php {
            if let Some(ini) =
                words.get(i + 1..).and_then(|r| r.iter().position(|x| *x == "-c").and_then(|p| r.get(p + 1)))
            {
                let ini = ini.trim_matches(['"', '\'']);
                if ini.starts_with('/') && !hostfs::exists(ini) {
                    out.push((format!("php.ini given with -c not found: {ini}"), false));
                }
            }
        }
    }
    // `2>&1 >> file`: stderr is duplicated onto the old stdout (cron's mail) before stdout moves.
    if let Some(i) = words.iter().position(|w| *w == "2>&1") {
        if words[i + 1..].iter().any(|w| w.starts_with(">>") || (w.starts_with('>') && !w.starts_with(">&"))) {
            out.push(("'2>&1 >> file': stderr still goes to cron's mail, not to the file".into(), true));
        }
    }
    out
}

/// Reads every crontab.
pub fn scan() -> Crontabs {
    let mut out = Crontabs::default();
    // A user name where a command is expected; a user named like a program on PATH (`mysql`)
    // may well be that program.
    let is_user = |w: &str| {
        !w.contains('/')
            && !w.contains('=')
            && hostfs::user_exists(w)
            && !["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"]
                .iter()
                .any(|d| hostfs::exists(format!("{d}/{w}")))
    };
    for (real, system) in files() {
        let text = match hostfs::read_real(&real) {
            Ok(t) => t,
            Err(e) if e.is_not_found() => continue,
            Err(e) => {
                out.unreadable.push(e);
                continue;
            }
        };
        let name = hostfs::display(&real);
        out.read.push(name.clone());
        let mut broken_here = 0usize;
        for (i, raw) in text.lines().enumerate() {
            let Some((_, command)) = command_of(raw, system) else { continue };
            let entry = || CronEntry {
                file: name.clone(),
                line: i + 1,
                entry: crate::redact::redact(&raw.trim().chars().take(300).collect::<String>()),
            };
            if command.contains(SCHEDULER_SCRIPT) && out.scheduler.len() < 16 {
                out.scheduler.push(entry());
            }
            for s in CONTINGENCY_SCRIPTS {
                if command.contains(s) && !out.contingency.iter().any(|(k, _)| k == s) {
                    out.contingency.push((s, entry()));
                }
            }
            if !relevant(command) {
                continue;
            }
            for (problem, warn_only) in traps(command, !system, &is_user) {
                broken_here += 1;
                if broken_here <= MAX_BROKEN_PER_FILE {
                    out.broken.push(Broken { file: name.clone(), line: i + 1, problem, warn_only });
                }
            }
        }
        if broken_here > MAX_BROKEN_PER_FILE {
            out.broken_left_out.push((name, broken_here - MAX_BROKEN_PER_FILE));
        }
    }
    out
}

/// Where a contingency script looks for programs: the `PATH=` it sets itself, else cron's
/// default. The shipped `verificar-reboot-fila.sh` sets `PATH=/usr/bin:/sbin:/bin:/usr/sbin`.
pub fn script_path_dirs(script_text: &str) -> Vec<String> {
    let set = script_text.lines().rev().find_map(|l| {
        let t = l.trim().trim_start_matches("export ").trim();
        t.strip_prefix("PATH=").map(|v| v.trim_matches(['"', '\'']).to_string())
    });
    set.unwrap_or_else(|| "/usr/bin:/bin".into())
        .split(':')
        .filter(|d| d.starts_with('/'))
        .map(str::to_string)
        .collect()
}

/// Whether a shell script calls `python` (the bare name, not `python3`), outside comments.
pub fn calls_python(script_text: &str) -> bool {
    script_text.lines().any(|l| {
        let code = l.split('#').next().unwrap_or("");
        code.split(|c: char| c.is_whitespace() || matches!(c, ';' | '(' | '`' | '|' | '&' | '$'))
            .any(|w| w == "python" || w.ends_with("/python"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_traps() {
        let is_user = |w: &str| matches!(w, "root" | "apache");
        let (user, cmd) =
            command_of("*/2 * * * * root /usr/bin/php /opt/sei/scripts/AgendamentoTarefaSEI.php", true).unwrap();
        assert_eq!((user, cmd), (Some("root"), "/usr/bin/php /opt/sei/scripts/AgendamentoTarefaSEI.php"));
        assert_eq!(command_of("SHELL=/bin/bash", true), None);
        assert_eq!(command_of("@reboot root x.sh", true).unwrap().1, "x.sh");
        let t = traps("root /usr/bin/php x", true, &is_user);
        assert!(t[0].0.contains("user field 'root'"), "{t:?}");
        let t = traps(". /crond_env.sh; root /bin/true x", false, &is_user);
        assert!(t.iter().any(|(p, _)| p.contains("user name 'root' inside")), "{t:?}");
        let t = traps("/bin/true x 2>&1 >> /var/log/x.log", false, &is_user);
        assert_eq!(t, vec![("'2>&1 >> file': stderr still goes to cron's mail, not to the file".to_string(), true)]);
        assert!(traps("/bin/true x >> /var/log/x.log 2>&1", false, &is_user).is_empty());
        assert!(calls_python("#!/bin/bash\nPATH=/usr/bin\npython /x/verificar.py || true\n"));
        assert!(!calls_python("python3 x.py # python\n"));
        assert_eq!(
            script_path_dirs("PATH=/usr/bin:/sbin:/bin:/usr/sbin\n"),
            ["/usr/bin", "/sbin", "/bin", "/usr/sbin"]
        );
    }
}
