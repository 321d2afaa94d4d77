//! Fuzzes the crontab reader that looks for the contingency job.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = pen_doctor::checks::cron::scheduled(&text, "verificar-reboot-fila.sh");
});
