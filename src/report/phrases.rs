//! English phrases from the operating system, libraries and evidence ("Connection refused (os
//! error 111)") said in the report's language: a Portuguese report reads "conexão recusada". The
//! table is data (`checks/phrases.toml`); the facts kept for machines are not changed.

use crate::kb::Lang;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Phrase {
    en: String,
    pt: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    phrase: Vec<Phrase>,
}

/// The phrases, longest first (so "Connection timed out" wins over a shorter phrase inside it).
fn table() -> &'static [Phrase] {
    static TABLE: OnceLock<Vec<Phrase>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t: Table =
            toml::from_str(include_str!("../../checks/phrases.toml")).unwrap_or_else(|e| panic!("phrases.toml: {e}"));
        t.phrase.sort_by_key(|p| std::cmp::Reverse(p.en.len()));
        t.phrase
    })
}

/// `text` in `lang`: known English phrases replaced, " (os error N)" dropped (Portuguese only).
pub fn say(text: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return text.to_string();
    }
    // An environment's identifier as a whole fact is said as the word.
    match text {
        "producao" => return "produção".into(),
        "homologacao" => return "homologação".into(),
        _ => {}
    }
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

/// Nouns after the number one in the singular: "1 dias" → "1 dia", "faltam 1 dia" → "falta 1
/// dia", "1 days" → "1 day" (a message template says "{days} dias" whatever the number).
pub fn singular(text: &str, lang: Lang) -> String {
    let pairs: &[(&str, &str)] = match lang {
        Lang::Pt => &[
            ("1 dias", "1 dia"),
            ("1 horas", "1 hora"),
            ("1 minutos", "1 minuto"),
            ("1 segundos", "1 segundo"),
            ("1 códigos", "1 código"),
            ("1 vezes", "1 vez"),
            ("1 erros", "1 erro"),
            ("1 processos", "1 processo"),
            ("1 pacotes", "1 pacote"),
            ("1 arquivos", "1 arquivo"),
            ("1 certificados", "1 certificado"),
        ],
        Lang::En => &[
            ("1 days", "1 day"),
            ("1 hours", "1 hour"),
            ("1 minutes", "1 minute"),
            ("1 seconds", "1 second"),
            ("1 codes", "1 code"),
            ("1 times", "1 time"),
            ("1 errors", "1 error"),
            ("1 files", "1 file"),
            ("1 certificates", "1 certificate"),
        ],
    };
    let mut out = text.to_string();
    for (many, one) in pairs {
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
    if lang == Lang::Pt {
        out = out.replace("faltam 1 dia", "falta 1 dia").replace("Faltam 1 dia", "Falta 1 dia");
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

    #[test]
    fn one_is_singular() {
        assert_eq!(singular("vence em 2027 (faltam 1 dias).", Lang::Pt), "vence em 2027 (falta 1 dia).");
        assert_eq!(singular("venceu há 1 dias; 11 dias; 21 dias", Lang::Pt), "venceu há 1 dia; 11 dias; 21 dias");
        assert_eq!(singular("(1 days left) 1.1 days", Lang::En), "(1 day left) 1.1 days");
        assert_eq!(singular("1 diasx", Lang::Pt), "1 diasx");
    }
}
