//! Fuzzes supervisord's answers: the HTTP envelope and the XML-RPC body.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pen_doctor::proto::xmlrpc;

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = xmlrpc::parse_http(data) {
        let _ = xmlrpc::parse_response(&body);
    }
    let _ = xmlrpc::parse_response(&String::from_utf8_lossy(data));
});
