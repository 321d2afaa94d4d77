//! Fuzzes the `/etc/hosts` reader of name resolution (`net::resolve`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = pen_doctor::net::resolve::hosts_lookup(&text, "api.conectagov.processoeletronico.gov.br");
});
