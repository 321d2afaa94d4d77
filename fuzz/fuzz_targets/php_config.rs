//! Fuzzes the static PHP configuration reader: bytes in either encoding give a value or an
//! error with a line inside the file, never a panic, a stack overflow or a hang; a value can be
//! printed and evaluated. Inputs starting with 0xFF are amplified (see `amplify.rs`) so that the
//! depth, value and size bounds are reached: a `?:` chain 30 000 links long is a 14-byte input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pen_doctor::sei::php;

#[path = "../amplify.rs"]
mod amplify;

fuzz_target!(|data: &[u8]| {
    let bytes = amplify::amplify(data);
    let text = php::decode(&bytes);
    match php::parse_config(&text) {
        Ok(value) => {
            let _ = value.to_string();
            let evaluation = value.evaluate(&php::NoScope);
            assert!(evaluation.sources.is_empty(), "no scope, no sources");
        }
        Err(e) => {
            assert!(e.line >= 1 && e.line <= text.lines().count() + 1, "line {} outside the file", e.line);
        }
    }
    let _ = php::find_define(&text, "VERSAO_MODULO_PEN");
});
