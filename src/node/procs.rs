//! The PEN processes running now, read from `/proc` through the bounded reader: pid, user,
//! age, command line, the PEN script it runs (by file name, from the era table), the script's
//! path, and its `--worker=NN`.

use crate::hostfs;
use serde::Serialize;
use std::path::Path;

/// Processes looked at most.
pub const MAX_PROCESSES: usize = 100_000;

/// A running PEN process.
#[derive(Clone, Debug, Serialize)]
pub struct PenProcess {
    pub pid: u32,
    pub script: &'static str,
    /// The script as the command line names it, made absolute against the process's working
    /// directory when it was relative.
    pub script_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    pub user: String,
    pub uptime_secs: Option<u64>,
    pub command: String,
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

/// The PEN processes running now (pen-doctor itself excluded), by pid.
pub fn scan() -> Vec<PenProcess> {
    let me = std::process::id();
    let users = hostfs::users();
    let boot_uptime = hostfs::read("/proc/uptime").ok().and_then(|t| t.split_whitespace().next()?.parse::<f64>().ok());
    let mut out = Vec::new();
    for dir in hostfs::list_dir("/proc").into_iter().take(MAX_PROCESSES) {
        let Some(pid) = dir.file_name().and_then(|n| n.to_str()).and_then(|n| n.parse::<u32>().ok()) else { continue };
        if pid == me {
            continue;
        }
        let Ok(raw) = hostfs::read_file(&dir.join("cmdline"), hostfs::Kind::Kernel) else { continue };
        let text = String::from_utf8_lossy(&raw);
        // A shell's `-c "php …"` is one argument: its words count too.
        let words: Vec<&str> = text.split('\0').flat_map(|a| a.split_whitespace()).collect();
        let Some((script, word)) = super::pen_script_of_words(&words) else { continue };
        let word = word.trim_matches(['"', '\'']);
        let script_path = if word.starts_with('/') {
            word.to_string()
        } else {
            match std::fs::read_link(dir.join("cwd")) {
                Ok(cwd) => hostfs::display(&cwd.join(word)),
                Err(_) => word.to_string(),
            }
        };
        let uid = hostfs::read_real(&dir.join("status")).ok().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u32>().ok())
        });
        let user = match uid {
            Some(u) => users.get(&u).cloned().unwrap_or_else(|| u.to_string()),
            None => "?".into(),
        };
        let command: String =
            text.split('\0').filter(|a| !a.is_empty()).collect::<Vec<_>>().join(" ").chars().take(300).collect();
        out.push(PenProcess {
            pid,
            script,
            script_path,
            worker: super::worker_number(&words),
            user,
            uptime_secs: uptime_of(&dir, boot_uptime),
            command: crate::redact::redact(&command),
        });
    }
    out.sort_by_key(|w| w.pid);
    out
}

/// Whether a process serves the installation at `sei_dir`: its script lies under it (every
/// process does when the installation is not known).
pub fn serves(p: &PenProcess, sei_dir: Option<&Path>) -> bool {
    let Some(dir) = sei_dir else { return true };
    let canon = |x: &Path| std::fs::canonicalize(x).unwrap_or_else(|_| x.to_path_buf());
    canon(&hostfs::path(&p.script_path)).starts_with(canon(dir))
}

/// Groups of processes running the same script with the same `--worker=NN`.
pub fn duplicated_workers(procs: &[PenProcess]) -> Vec<(&'static str, String, Vec<u32>)> {
    let mut groups: std::collections::BTreeMap<(&'static str, String), Vec<u32>> = Default::default();
    for p in procs {
        if let Some(w) = &p.worker {
            groups.entry((p.script, w.trim_start_matches('0').to_string())).or_default().push(p.pid);
        }
    }
    groups
        .into_iter()
        .filter(|(_, pids)| pids.len() > 1)
        .map(|((script, _), pids)| {
            let worker = procs.iter().find(|p| p.pid == pids[0]).and_then(|p| p.worker.clone()).unwrap_or_default();
            (script, worker, pids)
        })
        .collect()
}
