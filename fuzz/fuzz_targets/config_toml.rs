//! Fuzzes the `--config` TOML reader: any bytes give options or an error with a line, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err((Some(line), _)) = pen_doctor::settings::parse_config_text(text) {
            assert!(line >= 1 && line <= text.matches('\n').count() + 1);
        }
    }
});
