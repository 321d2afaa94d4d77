//! The finding codes of the knowledge base (`checks/codes/*.toml`) as constants, generated at
//! build time (`build.rs`): a check that names a code as `code::X` cannot name one the
//! knowledge base does not declare. `Finding` still takes any `&'static str`.

include!(concat!(env!("OUT_DIR"), "/codes.rs"));

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every `.rs` under `src/` and every data file under `checks/` but the code declarations.
    fn sources(dir: &Path, out: &mut String) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if !p.ends_with("checks/codes") {
                    sources(&p, out);
                }
            } else if p.extension().is_some_and(|x| x == "rs" || x == "toml") {
                out.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
            }
        }
    }

    #[test]
    fn every_declared_code_is_emitted_somewhere() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut text = String::new();
        sources(&root.join("src"), &mut text);
        sources(&root.join("checks"), &mut text);
        // This file names every code through the generated list only.
        let never: Vec<&str> = super::ALL
            .iter()
            .copied()
            .filter(|c| !text.contains(&format!("code::{c}")) && !text.contains(&format!("\"{c}\"")))
            .collect();
        assert!(never.is_empty(), "declared in checks/codes but never emitted: {never:?}");
    }
}
