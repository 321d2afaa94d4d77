//! Fuzzes the `/etc/hosts` reader used by the dns check.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = pen_doctor::checks::dns::hosts_lookup(&text, "api.conectagov.processoeletronico.gov.br");
});
