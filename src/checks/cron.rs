//! `cron:pen`: the module's contingency job (`verificar-reboot-fila.sh`, or the older
//! `verificar-servicos.sh`) is scheduled in the system or a user crontab.

use super::core::{Check, Ctx};
use crate::hostfs;
use crate::model::Finding;
use crate::model::Outcome;
use crate::settings::Settings;
use async_trait::async_trait;
use std::path::PathBuf;
use std::sync::Arc;

pub const CURRENT_SCRIPT: &str = "verificar-reboot-fila.sh";
pub const OLD_SCRIPT: &str = "verificar-servicos.sh";
const SEARCHED: &str = "/etc/crontab, /etc/cron.d/*, /var/spool/cron/crontabs/*, /var/spool/cron/*";

pub struct CronCheck;

/// Planned on an SEI node with the PEN module, or when `--only` names it.
pub fn checks(settings: &Arc<Settings>) -> Vec<Box<dyn Check>> {
    let named = settings.only.as_ref().is_some_and(|o| o.iter().any(|e| matches!(e.trim(), "cron" | "cron:pen")));
    if !super::facts::pen_node(settings) && !named {
        return Vec::new();
    }
    vec![Box::new(CronCheck)]
}

/// The crontab files of the host (mapped paths). Every entry of the cron directories but
/// subdirectories: what is not a regular file is refused by the reader, and said.
fn crontabs() -> Vec<PathBuf> {
    let mut files = vec![hostfs::path("/etc/crontab")];
    for dir in ["/etc/cron.d", "/var/spool/cron/crontabs", "/var/spool/cron"] {
        files.extend(hostfs::list_dir(dir).into_iter().filter(|p| !p.is_dir()));
    }
    files
}

/// What the crontabs say: the files read, those that could not be, and the first line that
/// runs each script as (file, line number, line).
#[derive(Default)]
struct Scan {
    read: Vec<String>,
    unreadable: Vec<hostfs::FileError>,
    current: Option<(String, usize, String)>,
    old: Option<(String, usize, String)>,
}

fn scan() -> Scan {
    let mut out = Scan::default();
    for f in &crontabs() {
        let text = match hostfs::read_real(f) {
            Ok(t) => t,
            Err(e) if e.is_not_found() => continue,
            Err(e) => {
                out.unreadable.push(e);
                continue;
            }
        };
        let name = hostfs::display(f);
        out.read.push(name.clone());
        if out.current.is_none() {
            out.current = scheduled(&text, CURRENT_SCRIPT).map(|(n, l)| (name.clone(), n, l));
        }
        if out.old.is_none() {
            out.old = scheduled(&text, OLD_SCRIPT).map(|(n, l)| (name.clone(), n, l));
        }
    }
    out
}

/// A scheduled (not commented) line of `text` that runs `script`: (line number, line).
pub fn scheduled(text: &str, script: &str) -> Option<(usize, String)> {
    text.lines().enumerate().find_map(|(i, l)| {
        let t = l.trim();
        (!t.starts_with('#') && t.contains(script)).then(|| (i + 1, t.chars().take(300).collect()))
    })
}

#[async_trait]
impl Check for CronCheck {
    fn id(&self) -> String {
        "cron:pen".into()
    }
    fn kind(&self) -> &'static str {
        "cron"
    }

    async fn run(&self, _ctx: &Ctx) -> Outcome {
        // File reads never run on the runtime's threads: a read that blocks (a hung network
        // mount) must not keep the deadline from firing.
        let Scan { read, unreadable, current, old } = tokio::task::spawn_blocking(scan).await.unwrap_or_default();
        let mut o = Outcome::new().evidence("files_read", &read);
        match (current, old) {
            (Some((file, line, entry)), _) => {
                o.set_evidence("entry", serde_json::json!({"file": file, "line": line, "entry": entry}));
                o.summary.insert("file", file);
            }
            (None, Some((file, line, entry))) => {
                o.set_evidence("entry", serde_json::json!({"file": file, "line": line, "entry": entry}));
                o.summary.insert("file", file.clone());
                o.push(Finding::new("CRON_CONTINGENCY_OBSOLETE").with("file", file).with("line", line));
            }
            (None, None) => o.push(Finding::new("CRON_CONTINGENCY_MISSING").with("searched", SEARCHED)),
        }
        for e in &unreadable {
            o.push(super::core::host_file_unreadable(e));
        }
        o
    }
}
