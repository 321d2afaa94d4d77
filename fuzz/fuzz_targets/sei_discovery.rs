//! Fuzzes discovery end to end: arbitrary bytes as ConfiguracaoSEI.php and ConfiguracaoModPEN.php.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("pen-doctor-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(d.join("config/mod-pen")).unwrap();
        d
    });
    let (a, b) = data.split_at(data.len() / 2);
    std::fs::write(dir.join("config/ConfiguracaoSEI.php"), a).unwrap();
    std::fs::write(dir.join("config/mod-pen/ConfiguracaoModPEN.php"), b).unwrap();
    let _ = pen_doctor::sei::discover(dir);
});
