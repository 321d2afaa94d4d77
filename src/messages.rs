//! The words a person reads in a report (the renderers' vocabulary, the fleet report, the
//! sentences the report builder writes, the stand-ins of fix steps) and the command line's own
//! lines (progress, `check --list`), in Portuguese and English, from one table
//! (`checks/messages.toml`) addressed by stable keys. A test keeps the table whole: every key
//! has both languages and every key the code asks for is in it.

use crate::kb::{Lang, Text};
use std::collections::BTreeMap;
use std::sync::OnceLock;

const TABLE: &str = include_str!("../checks/messages.toml");

/// The parsed table: key → text in both languages.
pub fn table() -> &'static BTreeMap<String, Text> {
    static T: OnceLock<BTreeMap<String, Text>> = OnceLock::new();
    T.get_or_init(|| toml::from_str(TABLE).unwrap_or_else(|e| panic!("embedded checks/messages.toml is invalid: {e}")))
}

/// The text of `key` in `lang`; the key itself when the table has no such key (which a test
/// forbids).
pub fn msg(lang: Lang, key: &'static str) -> &'static str {
    match table().get(key) {
        Some(t) => t.get(lang),
        None => key,
    }
}

/// The text of `key` in `lang` with its `{name}` placeholders filled from `params` (in one pass:
/// a value is never read as a template).
pub fn fill(lang: Lang, key: &'static str, params: &[(&str, &str)]) -> String {
    let params: BTreeMap<&str, String> = params.iter().map(|(k, v)| (*k, v.to_string())).collect();
    crate::kb::fill(msg(lang, key), &params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_languages() {
        for (key, t) in table() {
            assert!(!t.pt.trim().is_empty(), "{key}: no Portuguese text");
            assert!(!t.en.trim().is_empty(), "{key}: no English text");
        }
    }

    /// Every `msg(…, "key")` in the sources names a key of the table, and every key of the
    /// table is used somewhere.
    #[test]
    fn every_key_used_exists_and_every_key_is_used() {
        let mut used = std::collections::BTreeSet::new();
        for (path, text) in sources() {
            // A key may also be chosen first and asked for after (`cert.chain`).
            used.extend(table().keys().filter(|k| text.contains(&format!("\"{k}\""))).cloned());
            for key in literal_keys(&text) {
                assert!(table().contains_key(key), "{}: unknown message key {key}", path.display());
                used.insert(key.to_string());
            }
        }
        for key in table().keys() {
            assert!(used.contains(key), "checks/messages.toml: key {key} is never used");
        }
    }

    /// Every Rust source under `src/` but this file, with its text.
    fn sources() -> Vec<(std::path::PathBuf, String)> {
        let mut out = Vec::new();
        let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("src/messages.rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    out.push((path, text));
                }
            }
        }
        out.sort();
        out
    }

    /// No code outside its tests chooses between string literals by language (`Lang::Pt =>
    /// "…"`, `if lang == Lang::En { "…" }`): the words of both languages live in this table or
    /// the knowledge base. Only a language's code for machines is not a word.
    #[test]
    fn no_code_chooses_a_literal_by_language() {
        const NOT_WORDS: &[&str] = &["\"language\": if lang == Lang::En { \"en\" } else { \"pt\" }"];
        let mut offenders = Vec::new();
        for (path, text) in sources() {
            for (line, snippet) in literal_choices(&text) {
                if !NOT_WORDS.iter().any(|allowed| snippet.contains(allowed)) {
                    let path = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(&path);
                    offenders.push(format!("{}:{line}: {snippet}", path.display()));
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "words chosen by language in code, not in checks/messages.toml:\n{}",
            offenders.join("\n")
        );
    }

    /// The places in a source text, outside its tests and comments, where `Lang::Pt` or `Lang::En`
    /// is followed (through `=>`, `{`, `(`, `[`, `&`) by a string literal: (line, the line's text).
    fn literal_choices(text: &str) -> Vec<(usize, String)> {
        let code = match text.find("#[cfg(test)]\nmod tests") {
            Some(at) => &text[..at],
            None => text,
        };
        let lines: Vec<&str> = code.lines().collect();
        let code: String =
            lines.iter().map(|l| if l.trim_start().starts_with("//") { "" } else { l }).collect::<Vec<_>>().join("\n");
        let mut out = Vec::new();
        for variant in ["Lang::Pt", "Lang::En"] {
            for (at, _) in code.match_indices(variant) {
                let mut rest = &code[at + variant.len()..];
                if rest.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                loop {
                    let trimmed = rest.trim_start();
                    match ["=>", "{", "(", "[", "&"].iter().find_map(|t| trimmed.strip_prefix(t)) {
                        Some(after) => rest = after,
                        None => {
                            rest = trimmed;
                            break;
                        }
                    }
                }
                if rest.starts_with('"') || rest.starts_with("r\"") || rest.starts_with("r#") {
                    let line = code[..at].matches('\n').count();
                    out.push((line + 1, lines.get(line).map(|l| l.trim().to_string()).unwrap_or_default()));
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn literal_choices_are_found() {
        let text = [
            "// Lang::Pt => \"a comment\",",
            "let a = match lang { Lang::Pt => \"um\", Lang::En => \"one\" };",
            "let b = if lang == Lang::En {",
            "    \"two\"",
            "} else { \"dois\" };",
            "let c = match lang { Lang::Pt => &[(\"1 dias\", \"1 dia\")], Lang::En => &[] };",
            "let d = match lang { Lang::Pt => &self.pt, Lang::En => &self.en };",
            "let e = msg(Lang::En, \"key\"); let f = [Lang::Pt, Lang::En]; Some(\"pt\") => Lang::Pt,",
            "let g = Lang::Ptx => \"not a language\";",
            "#[cfg(test)]",
            "mod tests { let h = match lang { Lang::Pt => \"três\" }; }",
        ]
        .join("\n");
        let lines: Vec<usize> = literal_choices(&text).into_iter().map(|(line, _)| line).collect();
        assert_eq!(lines, [2, 2, 3, 6]);
    }

    /// The literal keys of the `msg(lang, "key")` and `fill(lang, "key", …)` calls in a source
    /// text.
    fn literal_keys(text: &str) -> Vec<&str> {
        let mut keys = Vec::new();
        for call in ["msg(", "fill("] {
            for (at, _) in text.match_indices(call) {
                let before = text[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let rest = &text[at + call.len()..];
                let Some(comma) = rest.find([',', ')']).filter(|i| rest.as_bytes()[*i] == b',') else { continue };
                let Some(quoted) = rest[comma + 1..].trim_start().strip_prefix('"') else { continue };
                let Some(end) = quoted.find('"') else { continue };
                let after = quoted[end + 1..].trim_start();
                if after.starts_with(',') || after.starts_with(')') {
                    keys.push(&quoted[..end]);
                }
            }
        }
        keys
    }

    #[test]
    fn literal_keys_are_found() {
        let text = "let a = msg(lang, \"x.y\"); let b = msg(\n  report.lang,\n  \"z\",\n); f(key) + mymsg(l, \"no\"); messages::fill(lang, \"t\", &[]); kb::fill(s, &p)";
        assert_eq!(literal_keys(text), vec!["x.y", "z", "t"]);
    }

    #[test]
    fn a_template_is_filled_once() {
        let text = fill(Lang::En, "fleet.versions-differ", &[("list", "{list}, 1.0")]);
        assert_eq!(text, "reports of different pen-doctor versions: {list}, 1.0");
    }

    #[test]
    fn a_key_gives_its_language() {
        let (key, t) = table().iter().next().unwrap();
        let key: &'static str = Box::leak(key.clone().into_boxed_str());
        assert_eq!(msg(Lang::Pt, key), t.pt);
        assert_eq!(msg(Lang::En, key), t.en);
    }
}
