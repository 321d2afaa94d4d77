//! Fuzzes the CA bundle reader of the ca:store check.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parsed = pen_doctor::checks::trust::Parsed::default();
    pen_doctor::checks::trust::parse_bundle(data, &mut parsed);
});
