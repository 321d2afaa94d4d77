//! The facts `pen-doctor cert FILE` shows above its report: each fact's label in the language
//! asked for (the certificate reader names them in English), laid out for a terminal or Markdown.

use crate::messages::msg;
use crate::model::Format;
use crate::model::Lang;

/// The facts block for `format` (empty for the formats that have none), ending in a blank line.
pub fn facts(facts: Vec<(String, String)>, format: Format, lang: Lang) -> Vec<u8> {
    let facts = facts.into_iter().map(|(k, v)| label(k, v, lang));
    let mut bytes: Vec<u8> = match format {
        Format::Human => facts.map(|(k, v)| format!("{k:<14} {v}\n")).collect::<String>().into_bytes(),
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

/// A fact's label (and the chain's "issuer") in the language asked for.
fn label(label: String, value: String, lang: Lang) -> (String, String) {
    let key = match label.as_str() {
        "File" => "cert.file",
        "Format" => "cert.format",
        "Subject" => "cert.subject",
        "Issuer" => "cert.issuer",
        "Serial" => "cert.serial",
        "Not before" => "cert.not-before",
        "Not after" => "cert.not-after",
        "Days left" => "cert.days-left",
        "Key" => "cert.key",
        "EKU" => "cert.eku",
        "Chain" => "cert.chain",
        _ => return (label, value),
    };
    let value = if label == "Chain" {
        value.replace(msg(Lang::En, "cert.chain-issuer"), msg(lang, "cert.chain-issuer"))
    } else {
        value
    };
    (msg(lang, key).to_string(), value)
}
