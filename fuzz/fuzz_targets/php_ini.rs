//! Fuzzes the php.ini reader that finds `openssl.cafile` / `curl.cainfo`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for key in ["openssl.cafile", "curl.cainfo", "openssl.capath"] {
        let _ = pen_doctor::checks::store::php_ini_value(&text, key);
    }
});
