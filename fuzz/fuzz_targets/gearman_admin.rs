//! Fuzzes the gearman admin protocol parsers (`version`, `status`, `workers` lines) and the verdict.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pen_doctor::proto::gearman;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = gearman::parse_version(&text);
    let mut statuses = Vec::new();
    for line in text.lines() {
        if let Ok(s) = gearman::parse_status_line(line) {
            statuses.push(s);
        }
        let _ = gearman::parse_worker_line(line);
    }
    let _ = pen_doctor::checks::gearman::judge(&statuses);
});
