//! Fuzzes discovery end to end: arbitrary bytes as ConfiguracaoSEI.php and ConfiguracaoModPEN.php
//! (an input starting with 0xFF is amplified first, see `amplify.rs`, so that deep and long
//! files — at the reader's bounds — are written too).
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

#[path = "../amplify.rs"]
mod amplify;

fuzz_target!(|data: &[u8]| {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("pen-doctor-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(d.join("config/mod-pen")).unwrap();
        d
    });
    let bytes = amplify::amplify(data);
    let (a, b) = bytes.split_at(bytes.len() / 2);
    std::fs::write(dir.join("config/ConfiguracaoSEI.php"), a).unwrap();
    std::fs::write(dir.join("config/mod-pen/ConfiguracaoModPEN.php"), b).unwrap();
    // Discovery and the era's judgement of what it found; getenv() from a scope that knows
    // nothing and no php.ini of the host, so every run is the same.
    let options = pen_doctor::sei::Options { skip_php: true, ..Default::default() };
    let install = pen_doctor::sei::discover_in(dir, &pen_doctor::sei::php::NoScope, &options);
    let _ = install.findings();
});
