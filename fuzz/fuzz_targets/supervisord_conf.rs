//! Fuzzes the supervisord.conf reader.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for section in pen_doctor::checks::supervisor::parse_ini(&text, "supervisord.conf") {
        let _ = section;
    }
    let _ = pen_doctor::checks::supervisor::pen_script_of(&text);
});
