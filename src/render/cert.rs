//! The facts `pen-doctor cert FILE` shows above its report: each fact's label in the language
//! asked for, laid out for a terminal or Markdown.

use crate::messages::msg;
use crate::model::Format;
use crate::model::Lang;
use crate::model::{CertFact, CertFactValue};

/// The facts block for `format` (empty for the formats that have none), ending in a blank line.
pub fn facts(facts: Vec<CertFact>, format: Format, lang: Lang) -> Vec<u8> {
    let facts: Vec<(String, String)> = facts.into_iter().map(|f| said(f, lang)).collect();
    // The values start in one column, past the longest label of this language.
    let width = facts.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0).max(14);
    let facts = facts.into_iter();
    let mut bytes: Vec<u8> = match format {
        Format::Human => facts.map(|(k, v)| format!("{k:<width$} {v}\n")).collect::<String>().into_bytes(),
        Format::Markdown => {
            facts.map(|(k, v)| format!("- **{k}**: {}\n", super::markdown::text(&v))).collect::<String>().into_bytes()
        }
        _ => Vec::new(),
    };
    if !bytes.is_empty() {
        bytes.push(b'\n');
    }
    bytes
}

/// A fact's label and value in the language asked for.
fn said(fact: CertFact, lang: Lang) -> (String, String) {
    let label = fact.label.message_key().map_or(fact.label.name(), |key| msg(lang, key));
    let value = match fact.value {
        CertFactValue::Text(text) => text,
        CertFactValue::ChainLink { subject, issuer } => {
            format!("{subject}{}{issuer})", msg(lang, "cert.chain-issuer"))
        }
    };
    (label.to_string(), value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CertFactLabel;

    #[test]
    fn labels_and_the_chain_are_said_in_the_language_asked_for() {
        let facts = || {
            vec![
                CertFact::text(CertFactLabel::DaysLeft, "30"),
                CertFact::text(CertFactLabel::Sha256, "AB:CD"),
                CertFact {
                    label: CertFactLabel::Chain,
                    value: CertFactValue::ChainLink { subject: "CN=Leaf".into(), issuer: "CN=AC".into() },
                },
                CertFact::text(CertFactLabel::Serial, "5e:37"),
            ]
        };
        let pt = String::from_utf8(facts_block(facts(), Lang::Pt)).unwrap();
        let en = String::from_utf8(facts_block(facts(), Lang::En)).unwrap();
        for (text, lang) in [(&pt, Lang::Pt), (&en, Lang::En)] {
            assert!(text.contains(msg(lang, "cert.days-left")), "{text}");
            assert!(text.contains(&format!("CN=Leaf{}CN=AC)", msg(lang, "cert.chain-issuer"))), "{text}");
            assert!(text.contains("SHA-256"), "{text}");
            // Every value starts in the same column, however long the language's labels.
            let columns: Vec<usize> = text
                .lines()
                .filter(|l| !l.is_empty())
                .zip(["30", "AB:CD", "CN=Leaf", "5e:37"])
                .map(|(line, value)| line[..line.find(value).unwrap()].chars().count())
                .collect();
            assert_eq!(columns.len(), 4, "{text}");
            assert!(columns.iter().all(|c| *c == columns[0]), "{columns:?}\n{text}");
        }
        assert_ne!(pt, en);
        assert!(facts_block_json().is_empty());
    }

    fn facts_block(f: Vec<CertFact>, lang: Lang) -> Vec<u8> {
        facts(f, Format::Human, lang)
    }

    fn facts_block_json() -> Vec<u8> {
        facts(vec![CertFact::text(CertFactLabel::File, "/x.pem")], Format::Json, Lang::Pt)
    }
}
