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

// ------------------------------------------------------------------ the localized command

/// The key of a command in the table: `pen-doctor`, `check`, `kb list`.
fn command_key(path: &str) -> String {
    if path.is_empty() {
        return "pen-doctor".into();
    }
    // `help kb list` and `kb help list` describe `kb list`.
    let mut words: Vec<&str> = path.split(' ').collect();
    if let Some(i) = words.iter().position(|w| *w == "help").filter(|i| *i + 1 < words.len()) {
        words.remove(i);
    }
    words.join(" ")
}

/// The text of an argument: `check.env`, else the one shared by every command (`*.lang`).
fn arg_text(path: &str, id: &str, lang: Lang) -> Option<&'static str> {
    get(&format!("{}.{id}", command_key(path)), lang).or_else(|| get(&format!("*.{id}"), lang))
}

/// The examples of a command (and of the program), for `--help` and the manual page.
fn examples(path: &str, lang: Lang) -> Option<&'static str> {
    get(&format!("{}#examples", command_key(path)), lang)
}

/// The command line with every description in `lang`, `--help` ending with examples and the
/// exit codes.
pub fn command(lang: Lang) -> clap::Command {
    localized(lang, true)
}

/// The command line in `lang`; `headings`: the help's own headings (Uso, Opções…) too, which a
/// manual page keeps as its standard section names.
fn localized(lang: Lang, headings: bool) -> clap::Command {
    use clap::CommandFactory;
    let mut cmd = crate::cli::Cli::command();
    cmd.build();
    localize(cmd, "", lang, headings)
}

fn localize(mut cmd: clap::Command, path: &str, lang: Lang, headings: bool) -> clap::Command {
    let key = command_key(path);
    if let Some(about) = get(&key, lang) {
        cmd = cmd.about(about).long_about(None);
    }
    let mut after = String::new();
    if let Some(ex) = examples(path, lang) {
        after.push_str(&format!("{}:\n", text("heading.examples", lang)));
        for line in ex.trim_end().lines() {
            after.push_str(&format!("  {line}\n"));
        }
    }
    if matches!(path, "" | "check" | "render" | "cert") {
        if !after.is_empty() {
            after.push('\n');
        }
        after.push_str(&text("exit-codes.short", lang));
    }
    if !after.is_empty() {
        cmd = cmd.after_help(after.trim_end().to_string());
    }
    if headings {
        let usage = text("heading.usage", lang);
        cmd = cmd.subcommand_help_heading(text("heading.commands", lang)).help_template(format!(
            "{{before-help}}{{about-with-newline}}\n{usage}: {{usage}}\n\n{{all-args}}{{after-help}}"
        ));
    }
    let ids: Vec<String> = cmd.get_arguments().map(|a| a.get_id().to_string()).collect();
    for id in ids {
        let help = arg_text(path, &id, lang);
        let options = text("heading.options", lang);
        let arguments = text("heading.arguments", lang);
        let values_word = text("heading.values", lang);
        cmd = cmd.mut_arg(&id, |a| {
            let values: Vec<String> = if a.is_hide_possible_values_set() {
                Vec::new()
            } else {
                a.get_possible_values().iter().filter(|v| !v.is_hide_set()).map(|v| v.get_name().to_string()).collect()
            };
            let heading = if a.is_positional() { arguments } else { options };
            let mut a = if headings { a.help_heading(heading) } else { a };
            if let Some(h) = help {
                let h = if values.is_empty() {
                    h.to_string()
                } else {
                    format!("{h} ({values_word}: {})", values.join(", "))
                };
                a = a.help(h).long_help(None).hide_possible_values(true);
            }
            a
        });
    }
    let names: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_string()).collect();
    for name in names {
        let sub_path = if path.is_empty() { name.clone() } else { format!("{path} {name}") };
        cmd = cmd.mut_subcommand(&name, |s| localize(s, &sub_path, lang, headings));
    }
    cmd
}

/// Every command and argument without a text in the table (a test keeps this empty).
pub fn missing_texts() -> Vec<String> {
    fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        for lang in [Lang::Pt, Lang::En] {
            if get(&command_key(path), lang).is_none() {
                out.push(command_key(path));
            }
            for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
                if arg_text(path, a.get_id().as_str(), lang).is_none() {
                    out.push(format!("{}.{}", command_key(path), a.get_id()));
                }
            }
        }
        for s in cmd.get_subcommands() {
            let sub = if path.is_empty() { s.get_name().to_string() } else { format!("{path} {}", s.get_name()) };
            walk(s, &sub, out);
        }
    }
    use clap::CommandFactory;
    let mut cmd = crate::cli::Cli::command();
    cmd.build();
    let mut out = Vec::new();
    walk(&cmd, "", &mut out);
    out.sort();
    out.dedup();
    out
}

/// The completion script of `shell`, descriptions in `lang`.
///
/// clap_complete's bash script spells the state of a subcommand two ways when the program's
/// name has a hyphen: the loop that walks the words sets `pen__doctor__subcmd__check`, the case
/// that completes it waits for `pen__subcmd__doctor__subcmd__check`, so nothing below the top
/// level ever completed. The case labels are rewritten to the loop's spelling.
pub fn completion_script(shell: clap_complete::Shell, lang: Lang) -> Vec<u8> {
    let mut cmd = command(lang);
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "pen-doctor", &mut script);
    if shell == clap_complete::Shell::Bash {
        let text = String::from_utf8_lossy(&script).replace("pen__subcmd__doctor", "pen__doctor");
        return text.into_bytes();
    }
    script
}

/// Text for roff: backslashes and line-leading dots and quotes made literal.
fn roff_text(line: &str) -> String {
    let t = line.replace('\\', "\\e").replace('-', "\\-");
    if t.starts_with('.') || t.starts_with('\'') {
        format!("\\&{t}")
    } else {
        t
    }
}

/// The manual page of the program (`None`) or of one subcommand (pen-doctor-NAME(1)) in `lang`:
/// clap's sections, then EXAMPLES, EXIT STATUS and ENVIRONMENT.
pub fn man_page(subcommand: Option<&str>, lang: Lang) -> Result<Vec<u8>, String> {
    let root = localized(lang, false);
    let (page, path) = match subcommand {
        None => (root, String::new()),
        Some(name) => match root.find_subcommand(name) {
            // The page is pen-doctor-NAME(1), as man(1) finds it; its synopsis says `pen-doctor NAME`.
            Some(sub) => {
                let name = sub.get_name().to_string();
                let page = sub
                    .clone()
                    .name(format!("pen-doctor-{name}"))
                    .bin_name(format!("pen-doctor {name}"))
                    .version(env!("CARGO_PKG_VERSION"));
                (page, name)
            }
            None => {
                let name = crate::flagvalue::quote(name);
                return Err(format!("no subcommand {name} (see `pen-doctor --help`)"));
            }
        },
    };
    let man = clap_mangen::Man::new(page);
    let mut out = Vec::new();
    let fail = |e: std::io::Error| format!("cannot render the manual page: {e}");
    man.render_title(&mut out).map_err(fail)?;
    man.render_name_section(&mut out).map_err(fail)?;
    man.render_synopsis_section(&mut out).map_err(fail)?;
    man.render_description_section(&mut out).map_err(fail)?;
    man.render_options_section(&mut out).map_err(fail)?;
    if path.is_empty() || path == "kb" {
        man.render_subcommands_section(&mut out).map_err(fail)?;
    }
    let mut roff = String::new();
    let ex = examples(&path, lang).or_else(|| examples("", lang)).unwrap_or_default();
    roff.push_str(".SH EXAMPLES\n");
    for line in ex.trim_end().lines() {
        if line.trim().is_empty() {
            continue;
        }
        if let Some(comment) = line.trim_start().strip_prefix('#') {
            roff.push_str(&format!(".PP\n{}\n", roff_text(comment.trim())));
        } else {
            roff.push_str(&format!(".RS\n.nf\n{}\n.fi\n.RE\n", roff_text(line.trim())));
        }
    }
    for (section, key) in [("EXIT STATUS", "man#exit-status"), ("ENVIRONMENT", "man#environment")] {
        roff.push_str(&format!(".SH \"{section}\"\n"));
        for entry in text(key, lang).trim().lines() {
            match entry.split_once(" :: ") {
                Some((term, body)) => {
                    roff.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", roff_text(term), roff_text(body)))
                }
                None => roff.push_str(&format!(".PP\n{}\n", roff_text(entry))),
            }
        }
    }
    out.extend_from_slice(roff.as_bytes());
    man.render_version_section(&mut out).map_err(fail)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flagvalue::nearest;

    #[test]
    fn the_table_parses_and_every_text_has_both_languages() {
        let t = load().expect("checks/ui.toml parses");
        let missing: Vec<&String> =
            t.iter().filter(|(_, v)| v.pt.trim().is_empty() || v.en.trim().is_empty()).map(|(k, _)| k).collect();
        assert!(missing.is_empty(), "texts without pt or en: {missing:?}");
    }

    #[test]
    fn every_command_and_argument_has_its_words_in_both_languages() {
        assert_eq!(missing_texts(), Vec::<String>::new(), "add them to checks/ui.toml");
    }

    #[test]
    fn nearest_codes_by_typo_and_by_shared_words() {
        let codes = ["CERT_EXPIRED", "CERT_NOT_YET_VALID", "DNS_NXDOMAIN", "TLS_UNTRUSTED_ROOT", "GEARMAN_DOWN"];
        assert_eq!(nearest("CERT_EXPRIED", codes.iter().copied()).first(), Some(&"CERT_EXPIRED"));
        assert_eq!(nearest("EXPIRED_CERT", codes.iter().copied()), ["CERT_EXPIRED", "CERT_NOT_YET_VALID"]);
        assert!(nearest("ZZZZZZZZZZ", codes.iter().copied()).is_empty());
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
