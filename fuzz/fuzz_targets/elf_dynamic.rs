//! Fuzzes the ELF dynamic-section reader (`elf::dynamic`) that finds what PHP's curl extension
//! links: any bytes give an error or names, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = pen_doctor::elf::dynamic(data);
});
