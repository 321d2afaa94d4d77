//! Fuzzes the client-certificate reader (PEM with encrypted keys, PKCS#12, DER), the
//! key-derivation cost reader it runs before any password, and the certificate-facts parser
//! used by the cert, ca and tls checks.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let password = pen_doctor::secret::Secret::new("fuzz");
    let _ = pen_doctor::pki::load_identity_bytes(data, Some(&password));
    let _ = pen_doctor::pki::load_identity_bytes(data, None);
    let _ = pen_doctor::pki::kdf_iterations(data);
    let _ = pen_doctor::pki::cert_info(data);
});
