//! Fuzzes the HTTP response reader (head, chunked body) and the WSDL recogniser of the http check.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = pen_doctor::checks::http::parse_head(data);
    let mut body = Vec::new();
    let _ = pen_doctor::checks::http::dechunk(data, &mut body);
    let _ = pen_doctor::checks::http::is_wsdl(&String::from_utf8_lossy(data));
});
