//! English phrases from the operating system, libraries and evidence ("Connection refused (os
//! error 111)") said in the report's language: a Portuguese report reads "conexão recusada". The
//! table is data (`checks/phrases.toml`); the facts kept for machines are not changed.
//!
//! Two kinds of entry: `[[message]]` is a whole value the program itself produces from a typed
//! error or token (a PHP reader error, a route `direct`, a supervisor configuration problem),
//! matched exactly as a whole — its `{holes}` stand for the variable parts, which are said in turn;
//! `[[phrase]]` is a phrase of the operating system or a library found inside a longer text.

use crate::kb::Lang;
use crate::messages::msg;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Phrase {
    en: String,
    pt: String,
}

/// A whole value with holes: `the array opened at line {line} is not closed`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Message {
    en: String,
    pt: String,
    /// Only as a part of another message (a token kind, a type name): never a value alone.
    #[serde(default)]
    inside: bool,
}

/// Per language, the words after the number one said in the singular, as (plural, singular),
/// applied in order.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Singular {
    pt: Vec<(String, String)>,
    en: Vec<(String, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    phrase: Vec<Phrase>,
    #[serde(default)]
    message: Vec<Message>,
    #[serde(default)]
    singular: Singular,
}

fn parse() -> Table {
    toml::from_str(include_str!("../../checks/phrases.toml")).unwrap_or_else(|e| panic!("phrases.toml: {e}"))
}

/// A part of a message template: literal text, or a hole named in braces.
#[derive(Debug, PartialEq)]
enum Part<'a> {
    Text(&'a str),
    Hole(&'a str),
}

fn parts(template: &str) -> Vec<Part<'_>> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| c + open) else { break };
        let name = &rest[open + 1..close];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.push(Part::Text(&rest[..close + 1]));
            rest = &rest[close + 1..];
            continue;
        }
        if open > 0 {
            out.push(Part::Text(&rest[..open]));
        }
        out.push(Part::Hole(name));
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        out.push(Part::Text(rest));
    }
    out
}

/// The holes' values when `value` is, as a whole, `template` filled in (each hole non-empty).
fn matches<'v>(template: &[Part<'_>], value: &'v str, found: &mut Vec<&'v str>) -> bool {
    match template.split_first() {
        None => value.is_empty(),
        Some((Part::Text(t), rest)) => value.strip_prefix(t).is_some_and(|v| matches(rest, v, found)),
        Some((Part::Hole(_), rest)) => {
            // The shortest value that lets the rest match (a hole never spans the next literal
            // when a shorter one fits).
            for (i, _) in value.char_indices().skip(1).chain(std::iter::once((value.len(), ' '))) {
                found.push(&value[..i]);
                if matches(rest, &value[i..], found) {
                    return true;
                }
                found.pop();
            }
            false
        }
    }
}

fn messages() -> &'static [Message] {
    static MESSAGES: OnceLock<Vec<Message>> = OnceLock::new();
    MESSAGES.get_or_init(|| parse().message)
}

/// `value` said in Portuguese when it is, as a whole, one of the program's own messages.
fn message(value: &str, depth: usize) -> Option<String> {
    for m in messages().iter().filter(|m| depth > 0 || !m.inside) {
        let template = parts(&m.en);
        let mut found = Vec::new();
        if !matches(&template, value, &mut found) {
            continue;
        }
        let names: Vec<&str> =
            template.iter().filter_map(|p| if let Part::Hole(n) = p { Some(*n) } else { None }).collect();
        let mut out = String::new();
        for part in parts(&m.pt) {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Hole(n) => {
                    let v = names.iter().position(|x| *x == n).map(|i| found[i]).unwrap_or_default();
                    match (depth < 4).then(|| message(v, depth + 1)).flatten() {
                        Some(said) => out.push_str(&said),
                        None => out.push_str(&system_phrases(v)),
                    }
                }
            }
        }
        return Some(out);
    }
    None
}

/// The phrases, longest first (so "Connection timed out" wins over a shorter phrase inside it).
fn table() -> &'static [Phrase] {
    static TABLE: OnceLock<Vec<Phrase>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = parse();
        t.phrase.sort_by_key(|p| std::cmp::Reverse(p.en.len()));
        t.phrase
    })
}

/// `text` in `lang`: known English phrases replaced, " (os error N)" dropped (Portuguese only).
pub fn say(text: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return text.to_string();
    }
    // An environment's identifier as a whole fact is said as the word (only in Portuguese: an
    // English report keeps the identifier).
    match text {
        "producao" => return msg(lang, "env.producao").into(),
        "homologacao" => return msg(lang, "env.homologacao").into(),
        _ => {}
    }
    if let Some(said) = list_of_messages(text).or_else(|| message(text, 0)) {
        return said;
    }
    // A list of results joined by "; " (one per NTP server…): each said on its own.
    text.split("; ").map(say_part).collect::<Vec<_>>().join("; ")
}

/// One result: a whole message; `WHO: MESSAGE` (a server, a file, an address and then one of
/// the program's messages); a list joined by ", " whose every item is one of the program's
/// messages; else the system's phrases found in it.
fn say_part(part: &str) -> String {
    if let Some(said) = list_of_messages(part).or_else(|| message(part, 0)) {
        return said;
    }
    for (i, _) in part.match_indices(": ") {
        if let Some(said) = message(&part[i + 2..], 0) {
            return format!("{}: {said}", &part[..i]);
        }
    }
    system_phrases(part)
}

/// A list joined by ", " whose every item is one of the program's messages (the services that
/// take a route), each said.
fn list_of_messages(text: &str) -> Option<String> {
    if !text.contains(", ") {
        return None;
    }
    let items: Option<Vec<String>> = text.split(", ").map(|item| message(item, 0)).collect();
    items.map(|i| i.join(", "))
}

/// The operating system's and libraries' phrases found in `text`, said in Portuguese.
fn system_phrases(text: &str) -> String {
    let mut out = text.to_string();
    for p in table() {
        if out.contains(&p.en) {
            out = out.replace(&p.en, &p.pt);
        }
    }
    drop_os_error_numbers(&out)
}

/// Removes every " (os error N)" (the errno is for machines; the words already say it).
fn drop_os_error_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(" (os error ") {
        let after = &rest[i + " (os error ".len()..];
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with(')') {
            out.push_str(&rest[..i]);
            rest = &after[digits + 1..];
        } else {
            out.push_str(&rest[..i + 1]);
            rest = &rest[i + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// The singular rules of `checks/phrases.toml` for `lang`.
fn singular_rules(lang: Lang) -> &'static [(String, String)] {
    static RULES: OnceLock<Singular> = OnceLock::new();
    let rules = RULES.get_or_init(|| parse().singular);
    match lang {
        Lang::Pt => &rules.pt,
        Lang::En => &rules.en,
    }
}

/// Nouns after the number one in the singular: "1 dias" → "1 dia", "faltam 1 dia" → "falta 1
/// dia", "1 days" → "1 day" (a message template says "{days} dias" whatever the number). The
/// rules are data (`[singular]` of `checks/phrases.toml`); each applies only where its number
/// stands alone ("11 dias" and "1 diasx" stay).
pub fn singular(text: &str, lang: Lang) -> String {
    let mut out = text.to_string();
    for (many, one) in singular_rules(lang) {
        let mut from = 0;
        while let Some(i) = out[from..].find(many).map(|i| i + from) {
            let end = i + many.len();
            let digit_before = out[..i].chars().next_back().is_some_and(|c| c.is_ascii_digit() || c == '.' || c == ',');
            let letter_after = out[end..].chars().next().is_some_and(char::is_alphanumeric);
            if digit_before || letter_after {
                from = end;
                continue;
            }
            out.replace_range(i..end, one);
            from = i + one.len();
        }
    }
    out
}

/// A finding's facts for the words a person reads: every value said in `lang`.
pub fn params<K: Ord + Clone>(params: &BTreeMap<K, String>, lang: Lang) -> BTreeMap<K, String> {
    params.iter().map(|(k, v)| (k.clone(), say(v, lang))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_are_said_in_portuguese_without_the_errno() {
        assert_eq!(
            say("127.0.0.99:53: Connection refused (os error 111)", Lang::Pt),
            "127.0.0.99:53: conexão recusada"
        );
        assert_eq!(
            say(
                "a.ntp.br: resolve: failed to lookup address information: Temporary failure in name resolution",
                Lang::Pt
            ),
            "a.ntp.br: resolução: falha ao resolver o endereço: falha temporária na resolução de nomes"
        );
        assert_eq!(say("Connection refused (os error 111)", Lang::En), "Connection refused (os error 111)");
        assert_eq!(say("odd (os error x)", Lang::Pt), "odd (os error x)");
        assert_eq!(say("homologacao", Lang::Pt), "homologação");
        assert!(say("held (long-poll)", Lang::Pt).contains("mantida aberta"));
        assert_eq!(say("--env homologacao", Lang::Pt), "--env homologacao");
    }

    #[test]
    fn the_node_checks_evidence_is_said_in_portuguese() {
        assert_eq!(say("PHP binary not found: /usr/bin/php", Lang::Pt), "binário do PHP não encontrado: /usr/bin/php");
        assert_eq!(
            say("user field 'root' in a user crontab (cron runs 'root' as a command)", Lang::Pt),
            "campo de usuário 'root' numa crontab de usuário (o cron executa 'root' como comando)"
        );
        assert_eq!(say("script-gone", Lang::Pt), "script removido");
        assert_eq!(say("script-gone", Lang::En), "script-gone");
    }

    /// Every message a typed error can give is said in Portuguese, as a whole, holes filled.
    fn all_said(values: &[String]) {
        for v in values {
            let said = message(v, 0);
            assert!(said.as_ref().is_some_and(|s| s != v), "not in checks/phrases.toml [[message]]: {v:?}");
            for english in ["expected", "unexpected", " not ", "unterminated", "found", "line ", "closed", "the "] {
                assert!(!said.as_deref().unwrap_or_default().contains(english), "{v:?} → {said:?}");
            }
        }
    }

    #[test]
    fn every_php_reader_problem_is_said_in_portuguese() {
        use crate::sei::php::{Found, Problem};
        let founds =
            [Found::Identifier, Found::Variable, Found::Number, Found::String, Found::Punct("}"), Found::EndOfFile];
        let mut values: Vec<String> = Vec::new();
        for found in founds {
            values.extend(
                [
                    Problem::ExpectedSemicolon(found.clone()),
                    Problem::ExpectedTernaryColon { line: 3, found: found.clone() },
                    Problem::ExpectedClose { close: "]", open: "[", line: 4, found: found.clone() },
                    Problem::ExpectedOpenParen(found.clone()),
                    Problem::ExpectedProperty { after: "->", found: found.clone() },
                    Problem::UnexpectedToken(found.clone()),
                    Problem::ExpectedConstant(found.clone()),
                    Problem::ExpectedCallSeparator { line: 5, found: found.clone() },
                    Problem::ExpectedArraySeparator { close: ")", line: 6, found },
                ]
                .map(|p| p.to_string()),
            );
        }
        for t in ["null", "bool", "int", "float", "string", "constant", "concatenation", "function call", "expression"]
        {
            values.push(Problem::ReturnedNotArray(t).to_string());
        }
        values.extend(
            [
                Problem::TooLarge { size: 9_000_000, limit_mib: 8 },
                Problem::Binary,
                Problem::NoOpeningTag,
                Problem::NoConfigurationArray,
                Problem::UnterminatedComment,
                Problem::ControlCharacter(1),
                Problem::UnexpectedCharacter('#'),
                Problem::UnterminatedString,
                Problem::UnterminatedHeredoc,
                Problem::MalformedNumber,
                Problem::TooDeep(64),
                Problem::TooManyValues(100_000),
                Problem::MethodWithoutBody,
                Problem::EndInMethod,
                Problem::MethodReturnsNoArray,
                Problem::ReturnedVariableNotArray,
                Problem::ValueMissing,
                Problem::Unsupported("new".into()),
                Problem::CallNotClosed(7),
                Problem::ArrayNotClosed(2),
                Problem::ArrayUnpacking,
                Problem::ArrayAsKey,
            ]
            .map(|p| p.to_string()),
        );
        all_said(&values);
        assert_eq!(
            say(&Problem::ArrayNotClosed(2).to_string(), Lang::Pt),
            "o arquivo termina sem fechar o array aberto na linha 2"
        );
        assert_eq!(
            say(&Problem::ExpectedSemicolon(Found::String).to_string(), Lang::Pt),
            "faltou `;` depois do array retornado; no lugar há um texto entre aspas"
        );
        // English asked for: the fact as it is.
        let en = Problem::ArrayNotClosed(2).to_string();
        assert_eq!(say(&en, Lang::En), en);
    }

    #[test]
    fn every_reason_a_host_file_is_unreadable_is_said_in_portuguese() {
        use crate::hostfs::Reason;
        let values = [
            Reason::NotFound,
            Reason::PermissionDenied { user: "www-data".into() },
            Reason::NotRegular("a FIFO"),
            Reason::NotRegular("a directory"),
            Reason::TooLarge { size: Some(9_000_000), limit: 4 << 20 },
            Reason::TooLarge { size: None, limit: 4 << 20 },
            Reason::NotText,
        ]
        .map(|r| r.to_string());
        all_said(&values);
    }

    #[test]
    fn every_supervisor_configuration_problem_is_said_in_portuguese() {
        use crate::node::supervisor_conf::{ConfProblem, ExpandError};
        let values = [
            ConfProblem::IncludeWithoutFiles,
            ConfProblem::TooManyIncluded { pattern: "conf.d/*.conf".into(), max: 200 },
            ConfProblem::IncludesItself { file: "/etc/supervisord.conf".into(), pattern: "*.conf".into() },
            ConfProblem::TooLarge("4 MiB".into()),
            ConfProblem::UnknownKey("stdout_events".into()),
            ConfProblem::PhpNotFound("/usr/bin/php".into()),
            ConfProblem::UserNotFound("apache".into()),
            ConfProblem::ScriptRemoved {
                removed_in: "3.0.0".into(),
                installed: "3.1.0".into(),
                script: "x.php".into(),
            },
            ExpandError::Unterminated("%(x".into()).into(),
            ExpandError::BadFormat("%(x)".into()).into(),
            ExpandError::Unknown("ENV_X".into()).into(),
            ExpandError::NotNumber("n".into()).into(),
        ]
        .map(|p| p.to_string());
        all_said(&values);
    }

    #[test]
    fn every_gearman_protocol_error_is_said_in_portuguese() {
        use crate::proto::gearman::Protocol;
        let values = [
            Protocol::ClosedEarly,
            Protocol::TooLong(65536),
            Protocol::Refused("\"ERR unknown_command\"".into()),
            Protocol::Version("\"HTTP/1.1 400 Bad Request\"".into()),
            Protocol::Status("\"garbage\"".into()),
            Protocol::Workers("\"garbage\"".into()),
        ]
        .map(|p| p.to_string());
        for v in &values {
            assert_ne!(&say(v, Lang::Pt), v, "not in checks/phrases.toml [[message]]");
        }
        assert_eq!(say("timed out after 2 s", Lang::Pt), "tempo esgotado após 2 s");
        assert_eq!(
            say(&Protocol::Status("\"x\"".into()).to_string(), Lang::Pt),
            "linha inesperada na resposta a 'status': \"x\""
        );
    }

    #[test]
    fn every_http_malformation_is_said_in_portuguese() {
        use crate::net::http::Malformed;
        let values = Malformed::examples().map(|m| m.to_string());
        all_said(&values);
        assert_eq!(
            say(&values[0], Lang::Pt),
            "não é uma resposta HTTP: \"SSH-2.0-OpenSSH_9.2\"",
            "the peer's own text stays quoted"
        );
    }

    #[test]
    fn a_message_matches_only_as_a_whole() {
        // Inside a longer text, or a token alone that is only a part: left as it is.
        assert_eq!(say("see: unterminated string here", Lang::Pt), "see: unterminated string here");
        assert_eq!(say("a string", Lang::Pt), "a string");
        assert_eq!(say("unterminated string", Lang::Pt), "texto entre aspas sem fim");
        assert_eq!(say("direct", Lang::Pt), "conexão direta");
        // Structure, not words: a result per server, `WHO: MESSAGE`, a list of messages.
        assert_eq!(
            say("a.ntp.br: resolve: timeout; b.ntp.br: no reply (timeout)", Lang::Pt),
            "a.ntp.br: resolução: tempo esgotado; b.ntp.br: sem resposta (tempo esgotado)"
        );
        assert_eq!(
            say("supervisor program pen-envio, php-fpm (PID 12)", Lang::Pt),
            "programa pen-envio do supervisor, php-fpm (PID 12)"
        );
        assert_eq!(say("a timeout, direct", Lang::Pt), "a timeout, direct");
        // The network errors, typed, after the address they concern.
        assert_eq!(say("127.0.0.2:443: timeout", Lang::Pt), "127.0.0.2:443: tempo esgotado");
        assert_eq!(say("connect: Connection refused (os error 111)", Lang::Pt), "conexão: conexão recusada");
        assert_eq!(
            say("http://127.0.0.1:3128: no answer to CONNECT", Lang::Pt),
            "http://127.0.0.1:3128: sem resposta ao CONNECT"
        );
        assert_eq!(say("HTTP 401 (credentials refused)", Lang::Pt), "HTTP 401 (credenciais recusadas)");
        assert_eq!(say("directory", Lang::Pt), "directory");
        assert_eq!(
            parts("a {x} b {"),
            vec![Part::Text("a "), Part::Hole("x"), Part::Text(" b {")],
            "an unclosed brace is text"
        );
    }

    #[test]
    fn one_is_singular() {
        assert_eq!(singular("vence em 2027 (faltam 1 dias).", Lang::Pt), "vence em 2027 (falta 1 dia).");
        assert_eq!(singular("venceu há 1 dias; 11 dias; 21 dias", Lang::Pt), "venceu há 1 dia; 11 dias; 21 dias");
        assert_eq!(singular("(1 days left) 1.1 days", Lang::En), "(1 day left) 1.1 days");
        assert_eq!(singular("1 diasx", Lang::Pt), "1 diasx");
        assert_eq!(singular("Faltam 1 minutos; 1 vezes", Lang::Pt), "Faltam 1 minuto; 1 vez");
        assert_eq!(singular("Faltam 1 dias.", Lang::Pt), "Falta 1 dia.");
    }

    #[test]
    fn the_singular_rules_are_whole() {
        for lang in [Lang::Pt, Lang::En] {
            assert!(!singular_rules(lang).is_empty());
            for (many, one) in singular_rules(lang) {
                assert!(many != one && many.contains("1 ") && one.contains("1 "), "{many} → {one}");
            }
        }
    }
}
