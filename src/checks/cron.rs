//! `cron:pen`: the module's contingency job (`verificar-reboot-fila.sh`, or the older
//! `verificar-servicos.sh`) is scheduled in the system or a user crontab.

use super::{Check, Ctx, Outcome};
use crate::hostfs;
use crate::report::model::Finding;
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
    if !super::process::pen_node(settings) && !named {
        return Vec::new();
    }
    vec![Box::new(CronCheck)]
}

/// The crontab files of the host (mapped paths).
fn crontabs() -> Vec<PathBuf> {
    let mut files = vec![hostfs::path("/etc/crontab")];
    for dir in ["/etc/cron.d", "/var/spool/cron/crontabs", "/var/spool/cron"] {
        files.extend(hostfs::list_dir(dir).into_iter().filter(|p| p.is_file()));
    }
    files.retain(|p| p.is_file());
    files
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
        let files = crontabs();
        let mut read = Vec::new();
        let mut current = None;
        let mut old = None;
        for f in &files {
            let Ok(text) = hostfs::read_real(f) else { continue };
            let name = hostfs::display(f);
            read.push(name.clone());
            if current.is_none() {
                current = scheduled(&text, CURRENT_SCRIPT).map(|(n, l)| (name.clone(), n, l));
            }
            if old.is_none() {
                old = scheduled(&text, OLD_SCRIPT).map(|(n, l)| (name.clone(), n, l));
            }
        }
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
        o
    }
}
