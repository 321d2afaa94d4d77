//! The parsers the fuzz targets drive (`fuzz/fuzz_targets/{cert_file,ca_bundle,http_response}.rs`),
//! called through the library's public interface on hostile input.

use pen_doctor::checks::{http, trust};
use pen_doctor::net::http::{parse, Limits};
use pen_doctor::pki;
use pen_doctor::secret::Secret;

#[test]
fn hostile_bytes_are_refused_not_fatal() {
    let inputs: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"-----BEGIN CERTIFICATE-----\n".to_vec(),
        b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n".to_vec(),
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n".to_vec(),
        vec![0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
        vec![0x30; 5000],
        (0..=255u8).collect(),
    ];
    let pw = Secret::new("x\0y");
    for data in &inputs {
        assert!(pki::load_identity_bytes(data, Some(&pw)).is_err() || data.is_empty());
        assert!(pki::cert_info(data).is_none());
        let mut parsed = trust::Parsed::default();
        trust::parse_bundle(data, &mut parsed);
        assert!(parsed.certs.is_empty());
        assert!(parse(data, Limits::default()).is_err());
        assert!(!http::is_wsdl(&String::from_utf8_lossy(data)));
    }
}
