//! Robustness: the parsers of the host files the node checks read (supervisord's INI, crontabs)
//! never panic, whatever the bytes.

use crate::mutation::mutants;

#[test]
fn supervisor_ini() {
    let sample: &[u8] = b"[program:sei]\ncommand=/usr/bin/php /opt/sei/scripts/mod-pen/ProcessamentoTarefasPEN.php ; c\n  --x\nuser: apache\n[include]\nfiles = a/*.conf\n";
    mutants(&[sample], 20_000, |b| {
        let t = String::from_utf8_lossy(b);
        let secs = super::supervisor::parse_ini(&t, "/etc/supervisord.conf");
        for s in &secs {
            if let Some(c) = s.get("command") {
                let _ = super::supervisor::pen_script_of(&c.value);
            }
        }
        let _ = super::cron::scheduled(&t, "verificar-reboot-fila.sh");
        let _ = crate::hostfs::wildcard(&t.chars().take(12).collect::<String>(), &t);
    });
}
