//! Fuzzes the static PHP configuration parser: bytes in either encoding give a value or an
//! error with a line inside the file, never a panic or a hang.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = pen_doctor::sei::php::decode(data);
    if let Err(e) = pen_doctor::sei::php::parse_config(&text) {
        assert!(e.line >= 1 && e.line <= text.lines().count() + 1, "line {} outside the file", e.line);
    }
    let _ = pen_doctor::sei::php::find_define(&text, "VERSAO_MODULO_PEN");
});
