//! The words a person reads in a report (the renderers' vocabulary, the fleet report, the
//! sentences the report builder writes), in Portuguese and English, from one table
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
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut dirs = vec![src];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("src/messages.rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    // A key may also be chosen first and asked for after (`cert.chain`).
                    used.extend(table().keys().filter(|k| text.contains(&format!("\"{k}\""))).cloned());
                    for key in literal_keys(&text) {
                        assert!(table().contains_key(key), "{}: unknown message key {key}", path.display());
                        used.insert(key.to_string());
                    }
                }
            }
        }
        for key in table().keys() {
            assert!(used.contains(key), "checks/messages.toml: key {key} is never used");
        }
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
