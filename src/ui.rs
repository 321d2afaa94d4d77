//! The words of the command line itself, in Portuguese and English, from one table
//! (`checks/ui.toml`): `--help`, the manual pages and the completion descriptions, and the
//! manifest of a ticket bundle. The language is `--lang` when given, else English when `LC_ALL`,
//! `LC_MESSAGES` or `LANG` (the first one set) names an English locale, else Portuguese.

use crate::kb::{Lang, Text};
use std::collections::BTreeMap;
use std::sync::OnceLock;

const TABLE: &str = include_str!("../checks/ui.toml");

/// The parsed table: key → text in both languages.
pub fn table() -> &'static BTreeMap<String, Text> {
    static T: OnceLock<BTreeMap<String, Text>> = OnceLock::new();
    T.get_or_init(|| load().unwrap_or_else(|e| panic!("embedded checks/ui.toml is invalid: {e}")))
}

fn load() -> Result<BTreeMap<String, Text>, String> {
    toml::from_str(TABLE).map_err(|e| e.to_string())
}

/// The text of `key` in `lang`; `None` when the table has no such key.
pub fn get(key: &str, lang: Lang) -> Option<&'static str> {
    table().get(key).map(|t| t.get(lang))
}

/// The text of `key` in `lang`, or the key itself when missing (a test keeps the table whole).
pub fn text(key: &str, lang: Lang) -> String {
    match table().get(key) {
        Some(t) => t.get(lang).to_string(),
        None => key.to_string(),
    }
}

/// The language of the command line's own words: `--lang` (or `--lang=`) anywhere in `args`,
/// else the locale of the environment.
pub fn lang_of_args(args: &[std::ffi::OsString]) -> Lang {
    let mut words = args.iter().skip(1).map(|a| a.to_string_lossy());
    while let Some(w) = words.next() {
        if w == "--" {
            break;
        }
        let value = match w.strip_prefix("--lang=") {
            Some(v) => Some(v.to_string()),
            None if w == "--lang" => words.next().map(|v| v.into_owned()),
            None => None,
        };
        match value.as_deref() {
            Some("en") => return Lang::En,
            Some("pt") => return Lang::Pt,
            _ => {}
        }
    }
    lang_of_locale(|k| std::env::var(k).ok())
}

/// English when the first of `LC_ALL`, `LC_MESSAGES`, `LANG` that is set names an English
/// locale (`en_US.UTF-8`, `en`); Portuguese otherwise (`pt_BR`, `C`, unset).
pub fn lang_of_locale(var: impl Fn(&str) -> Option<String>) -> Lang {
    let value = ["LC_ALL", "LC_MESSAGES", "LANG"].iter().find_map(|k| var(k).filter(|v| !v.is_empty()));
    match value {
        Some(v) if v == "en" || v.starts_with("en_") || v.starts_with("en.") => Lang::En,
        _ => Lang::Pt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_every_text_has_both_languages() {
        let t = load().expect("checks/ui.toml parses");
        let missing: Vec<&String> =
            t.iter().filter(|(_, v)| v.pt.trim().is_empty() || v.en.trim().is_empty()).map(|(k, _)| k).collect();
        assert!(missing.is_empty(), "texts without pt or en: {missing:?}");
    }

    #[test]
    fn locale_and_flag_choose_the_language() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        assert_eq!(lang_of_locale(env(&[("LANG", "en_US.UTF-8")])), Lang::En);
        assert_eq!(lang_of_locale(env(&[("LANG", "pt_BR.UTF-8")])), Lang::Pt);
        assert_eq!(lang_of_locale(env(&[("LC_ALL", "pt_BR.UTF-8"), ("LANG", "en_US.UTF-8")])), Lang::Pt);
        assert_eq!(lang_of_locale(env(&[("LC_ALL", "en_GB.UTF-8"), ("LANG", "pt_BR")])), Lang::En);
        assert_eq!(lang_of_locale(env(&[("LANG", "C.UTF-8")])), Lang::Pt);
        assert_eq!(lang_of_locale(env(&[])), Lang::Pt);
        let args = |a: &[&str]| a.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert_eq!(lang_of_args(&args(&["pen-doctor", "check", "--lang", "en", "--help"])), Lang::En);
        assert_eq!(lang_of_args(&args(&["pen-doctor", "--lang=en"])), Lang::En);
    }
}
