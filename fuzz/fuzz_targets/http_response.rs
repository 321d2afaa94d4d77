//! Fuzzes the HTTP/1.1 response reader (head, Content-Length, chunked, trailers, the bounds) and
//! the WSDL recogniser of the http check.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pen_doctor::net::http::{parse, Limits};

fuzz_target!(|data: &[u8]| {
    let _ = parse(data, Limits::default());
    let _ = parse(data, Limits { head: 512, body: 64 });
    let _ = pen_doctor::checks::http::is_wsdl(&String::from_utf8_lossy(data));
});
