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

/// Whether some era runs `script` (a file name) as a monitor.
pub fn is_monitor(script: &str) -> bool {
    crate::eras::table().eras.iter().any(|e| e.monitors.iter().any(|m| base_name(m) == script))
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

    /// Every reader of this module over mutated real-shaped inputs: no panic, bounded output.
    #[test]
    fn readers_survive_mutated_inputs() {
        let samples: &[&[u8]] = &[
            b"[program:m]\ncommand=/usr/bin/php -c /etc/php.ini %(here)s/../../scripts/mod-pen/MonitoramentoTarefasPEN.php --worker=%(process_num)02d\nprocess_name=%(program_name)s_%(process_num)02d\nnumprocs=4 ; c\n  cont\n[include]\nfiles=%(ENV_X)s/*.ini\n",
            b"*/2 * * * * root . /crond_env.sh; root /usr/bin/php -c /etc/php.ini /opt/sei/scripts/AgendamentoTarefaSEI.php 2>&1 >> /x.log\n@reboot x\nA=B\n",
            b"2026-11-27 00:01:00,010 INFO exited: mon (exit status 127; not expected)\nspawnerr: can't find command\n\0\0x",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let vars: std::collections::BTreeMap<String, String> =
            [("program_name", "p"), ("process_num", "1"), ("ENV_X", "/x")]
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
        for sample in samples {
            for _ in 0..4000 {
                let mut b = sample.to_vec();
                for _ in 0..(next() % 6 + 1) {
                    let i = (next() as usize) % b.len().max(1);
                    match next() % 4 {
                        0 if !b.is_empty() => b[i] = next() as u8,
                        1 => b.insert(i, b"%()s[];=#\n\t\0-c2>&1"[(next() % 17) as usize]),
                        2 if !b.is_empty() => {
                            b.remove(i);
                        }
                        _ => b.truncate(i),
                    }
                }
                let t = String::from_utf8_lossy(&b);
                for s in supervisor_conf::parse_ini(&t, "/f") {
                    for e in &s.entries {
                        let _ = supervisor_conf::expand(&e.value, &vars);
                    }
                }
                for line in t.lines() {
                    for system in [true, false] {
                        if let Some((_, cmd)) = crontab::command_of(line, system) {
                            let _ = crontab::traps(cmd, !system, &|w| w == "root");
                        }
                    }
                }
                let _ = crontab::calls_python(&t);
                let _ = crontab::script_path_dirs(&t);
                let _ = logs::exit_from_daemon_log(&t, "mon");
                assert!(logs::tail_of_text(&t, "x").lines.len() <= logs::TAIL_LINES);
                let words: Vec<&str> = t.split_whitespace().collect();
                let _ = pen_script_of_words(&words);
                let _ = worker_number(&words);
            }
        }
    }

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
        assert!(is_monitor("MonitoramentoTarefasPEN.php") && is_monitor("PendenciasTramiteRN.php"));
        assert!(!is_monitor("ProcessamentoTarefasPEN.php"));
    }
}
