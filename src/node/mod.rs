//! The SEI node as supervisord, cron and `ps` see it: supervisord's configuration read the way
//! supervisord reads it ([`supervisor_conf`]), each PEN program judged against the installed
//! module's era ([`programs`]), log tails read bounded from the end ([`logs`]), the crontabs
//! with their traps ([`crontab`]) and the running PEN processes ([`procs`]). Plain data only:
//! the checks in `src/checks/` turn it into findings.

pub mod crontab;
pub mod logs;
pub mod procs;
pub mod programs;
pub mod supervisor_conf;

use std::sync::OnceLock;

/// The file names of every PEN script any era runs or ran (monitors, workers, removed
/// scripts), from the era table.
pub fn known_scripts() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let t = crate::eras::table();
        let mut names: Vec<String> = t
            .eras
            .iter()
            .flat_map(|e| e.scripts().map(str::to_string).collect::<Vec<_>>())
            .chain(t.removed_scripts.iter().map(|r| r.script.clone()))
            .map(|s| base_name(&s).to_string())
            .collect();
        names.sort();
        names.dedup();
        names
    })
}

/// The last component of a path (`a/b/C.php` → `C.php`), quotes removed.
pub fn base_name(path: &str) -> &str {
    let p = path.trim_matches(['"', '\'']);
    p.rsplit('/').next().unwrap_or(p)
}

/// The PEN script a word of a command line names, if any (by its file name).
pub fn pen_script_in(word: &str) -> Option<&'static str> {
    let base = base_name(word);
    known_scripts().iter().find(|s| s.as_str() == base).map(String::as_str)
}

/// The PEN script a command line runs, and the word that names it.
pub fn pen_script_of_words<'a>(words: &[&'a str]) -> Option<(&'static str, &'a str)> {
    words.iter().find_map(|w| pen_script_in(w).map(|s| (s, *w)))
}

/// The value of `--worker=NN` (or `--worker NN`) in a command line.
pub fn worker_number(words: &[&str]) -> Option<String> {
    words.iter().enumerate().find_map(|(i, w)| {
        if let Some(v) = w.strip_prefix("--worker=") {
            Some(v.to_string())
        } else if *w == "--worker" {
            words.get(i + 1).map(|v| v.to_string())
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_come_from_the_era_table() {
        for s in [
            "MonitoramentoTarefasPEN.php",
            "MonitoramentoEnvioTarefasPEN.php",
            "MonitoramentoRecebimentoTarefasPEN.php",
            "ProcessamentoTarefasPEN.php",
            "PendenciasTramiteRN.php",
            "ProcessarPendenciasRN.php",
        ] {
            assert!(known_scripts().iter().any(|k| k == s), "{s}");
        }
        assert_eq!(
            pen_script_in("/opt/sei/scripts/mod-pen/ProcessamentoTarefasPEN.php"),
            Some("ProcessamentoTarefasPEN.php")
        );
        assert_eq!(pen_script_in("notes-ProcessamentoTarefasPEN.php.txt"), None);
        assert_eq!(worker_number(&["php", "x.php", "--worker=07"]), Some("07".into()));
        assert_eq!(worker_number(&["php", "x.php", "--worker", "3"]), Some("3".into()));
    }
}
