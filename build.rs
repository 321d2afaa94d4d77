//! Generates the `code` module's constants from `checks/codes/*.toml`: one `pub const X: Code`
//! per declared finding code, so a code written as `code::X` that the knowledge base does not
//! declare fails to compile. Reads only the `code = "…"` lines; the knowledge base itself parses
//! the files.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new("checks/codes");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("checks/codes is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut out = String::new();
    let mut all = Vec::new();
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let text = std::fs::read_to_string(file).expect("a code file is readable");
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("code = \"") else { continue };
            let Some(code) = rest.strip_suffix('"') else { continue };
            assert!(
                !code.is_empty() && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
                "{name}: {code:?} is not a code name"
            );
            let _ = writeln!(out, "/// Declared in `checks/codes/{name}`.\npub const {code}: Code = Code(\"{code}\");");
            all.push(code.to_string());
        }
    }
    let _ = writeln!(out, "/// Every declared code, in file order.\npub const ALL: &[Code] = &[");
    for code in &all {
        let _ = writeln!(out, "    {code},");
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("codes.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
