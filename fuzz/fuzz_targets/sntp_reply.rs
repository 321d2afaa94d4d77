//! Fuzzes the SNTP reply parser: short, wrong-mode, kiss-o'-death or garbage packets.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let sent = if data.len() >= 48 { u64::from_be_bytes(data[24..32].try_into().unwrap()) } else { 0 };
    let _ = pen_doctor::proto::sntp::parse_reply(data, sent, 3_900_000_000.0);
});
