//! The classes of errors SEI's log holds for the PEN and PI modules, loaded from
//! `checks/log_classes.toml`: which module wrote an entry (by the words of its classes and
//! messages), which class or known module bug the entry belongs to (by the real strings the
//! module and its libraries produce), and the same tests written as SQL `LIKE` conditions so
//! that the database counts without sending the entries.

use crate::eras::Version;
use crate::kb::{Kb, Text};
use crate::model::code::{self, Code};
use crate::model::Lang;
use serde::Deserialize;
use std::sync::OnceLock;

/// A text to find in an entry: ASCII, case-insensitive, `*` for any run of characters.
#[derive(Clone, Debug)]
pub struct Pattern {
    /// As written in the table.
    pub text: String,
    /// The literal pieces between the `*`, lower-case.
    parts: Vec<String>,
}

/// The escape character of every `LIKE` this module writes.
const LIKE_ESCAPE: char = '!';

impl Pattern {
    /// Reads a pattern; the error says why it is refused.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        if let Some(c) = text.chars().find(|c| !(' '..='~').contains(c) || matches!(c, '\\' | '%' | ';')) {
            return Err(format!("pattern {text:?}: character {c:?} is not allowed (ASCII only, no \\, % or ;)"));
        }
        let parts: Vec<String> = text.split('*').filter(|p| !p.is_empty()).map(|p| p.to_ascii_lowercase()).collect();
        if parts.iter().map(String::len).sum::<usize>() < 4 {
            return Err(format!("pattern {text:?}: fewer than 4 literal characters"));
        }
        Ok(Pattern { text: text.to_string(), parts })
    }

    /// Whether the pattern occurs in `lower`, a text already in ASCII lower case.
    pub fn matches_lower(&self, lower: &str) -> bool {
        let mut rest = lower;
        for part in &self.parts {
            match rest.find(part.as_str()) {
                Some(i) => rest = &rest[i + part.len()..],
                None => return false,
            }
        }
        true
    }

    /// The SQL condition `EXPR LIKE '%…%' ESCAPE '!'` for this pattern.
    pub fn like(&self, expr: &str) -> String {
        let body: Vec<String> = self.parts.iter().map(|p| like_literal(p)).collect();
        format!("{expr} LIKE '%{}%' ESCAPE '{LIKE_ESCAPE}'", body.join("%"))
    }
}

/// Text made literal inside a `LIKE` string: the wildcards and the escape escaped, quotes doubled.
pub fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        match c {
            '%' | '_' | LIKE_ESCAPE => {
                out.push(LIKE_ESCAPE);
                out.push(c);
            }
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            _ => out.push(c),
        }
    }
    out
}

/// A condition true when any of `patterns` occurs in `expr`.
pub fn any_like(patterns: &[Pattern], expr: &str) -> String {
    let parts: Vec<String> = patterns.iter().map(|p| p.like(expr)).collect();
    format!("({})", parts.join(" OR "))
}

/// A module whose entries are kept.
#[derive(Clone, Debug)]
pub struct Module {
    pub id: String,
    /// The target its errors are about when the entry names no URL of the run.
    pub target: crate::model::TargetName,
    pub words: Vec<Pattern>,
}

/// A known bug of the module, fixed in a later version.
#[derive(Clone, Debug)]
pub struct Bug {
    pub affected_from: Version,
    pub fixed_in: Version,
    pub reference: String,
    pub meaning: Text,
}

impl Bug {
    /// Whether an installed version has the bug.
    pub fn affects(&self, installed: &Version) -> bool {
        &self.affected_from <= installed && installed < &self.fixed_in
    }
}

/// One rule: the patterns of a class (or of a known bug) and the finding it gives.
#[derive(Clone, Debug)]
pub struct Rule {
    pub id: String,
    /// A declared code: a rule naming another is refused when the table is read.
    pub code: Code,
    pub article: String,
    pub cause: Option<u32>,
    pub patterns: Vec<Pattern>,
    /// The modules whose entries the rule classifies (empty: every module).
    pub modules: Vec<String>,
    /// Check names (`dns`, `tcp`, `tls`, `http`, `ca`, `cert`) that prove the same failure now.
    pub live: Vec<String>,
    pub bug: Option<Bug>,
}

/// The whole table.
#[derive(Debug)]
pub struct Classes {
    pub modules: Vec<Module>,
    pub rules: Vec<Rule>,
}

/// The check names a rule's `live` may list.
pub const LIVE_CHECKS: &[&str] = &["dns", "tcp", "tls", "http", "ca", "cert"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModule {
    id: String,
    target: String,
    words: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBug {
    affected_from: String,
    fixed_in: String,
    reference: String,
    meaning: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    code: String,
    article: String,
    cause: Option<u32>,
    patterns: Vec<String>,
    #[serde(default)]
    modules: Vec<String>,
    live: Vec<String>,
    bug: Option<RawBug>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    module: Vec<RawModule>,
    rule: Vec<RawRule>,
}

fn patterns(list: &[String], what: &str) -> Result<Vec<Pattern>, String> {
    if list.is_empty() {
        return Err(format!("{what}: no pattern"));
    }
    list.iter().map(|p| Pattern::parse(p).map_err(|e| format!("{what}: {e}"))).collect()
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 40 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl Classes {
    /// Parses and validates a table (`checks/log_classes.toml`) on its own.
    pub fn parse(text: &str) -> Result<Classes, String> {
        let raw: RawTable = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut modules = Vec::new();
        for m in raw.module {
            if !valid_id(&m.id) {
                return Err(format!("module id {:?}: lower-case letters, digits and '-' only", m.id));
            }
            let Some(target) = crate::model::TargetName::parse(&m.target) else {
                return Err(format!("module {}: unknown target {:?}", m.id, m.target));
            };
            let words = patterns(&m.words, &format!("module {}", m.id))?;
            modules.push(Module { id: m.id, target, words });
        }
        let mut rules: Vec<Rule> = Vec::new();
        for r in raw.rule {
            if !valid_id(&r.id) || rules.iter().any(|x| x.id == r.id) {
                return Err(format!("rule id {:?}: empty, duplicated or not [a-z0-9-]", r.id));
            }
            for l in &r.live {
                if !LIVE_CHECKS.contains(&l.as_str()) {
                    return Err(format!("rule {}: live check {l:?} is not one of {LIVE_CHECKS:?}", r.id));
                }
            }
            let bug = match r.bug {
                None => None,
                Some(b) => {
                    let version =
                        |t: &str| Version::parse(t).ok_or_else(|| format!("rule {}: invalid version {t:?}", r.id));
                    let (from, fixed) = (version(&b.affected_from)?, version(&b.fixed_in)?);
                    if from >= fixed {
                        return Err(format!("rule {}: affected_from {from} is not below fixed_in {fixed}", r.id));
                    }
                    if b.meaning.pt.trim().is_empty() || b.meaning.en.trim().is_empty() {
                        return Err(format!("rule {}: meaning missing in a language", r.id));
                    }
                    Some(Bug { affected_from: from, fixed_in: fixed, reference: b.reference, meaning: b.meaning })
                }
            };
            if let Some(m) = r.modules.iter().find(|m| !modules.iter().any(|x: &Module| &x.id == *m)) {
                return Err(format!("rule {}: unknown module {m:?}", r.id));
            }
            let patterns = patterns(&r.patterns, &format!("rule {}", r.id))?;
            let code = code::parse(&r.code).ok_or_else(|| format!("rule {}: unknown code {}", r.id, r.code))?;
            rules.push(Rule {
                id: r.id,
                code,
                article: r.article,
                cause: r.cause,
                patterns,
                modules: r.modules,
                live: r.live,
                bug,
            });
        }
        if modules.is_empty() || rules.is_empty() {
            return Err("no module or no rule".into());
        }
        Ok(Classes { modules, rules })
    }

    /// Checks the table against the knowledge base: every code exists, with the article and
    /// cause the rule repeats; a bug rule's code is `PEN_KNOWN_BUG`.
    pub fn check_against(&self, kb: &Kb) -> Result<(), String> {
        let mut problems = Vec::new();
        for r in &self.rules {
            match kb.code(r.code.as_str()) {
                None => problems.push(format!("rule {}: unknown code {}", r.id, r.code)),
                Some(c) => {
                    if c.article != r.article || c.cause != r.cause {
                        problems.push(format!(
                            "rule {}: article/cause {} {:?} differ from code {}'s {} {:?}",
                            r.id, r.article, r.cause, r.code, c.article, c.cause
                        ));
                    }
                }
            }
            if kb.article(&r.article).is_none() {
                problems.push(format!("rule {}: unknown article {}", r.id, r.article));
            }
            if r.bug.is_some() != (r.code == KNOWN_BUG) {
                problems.push(format!("rule {}: only known bugs use {KNOWN_BUG}, and they all do", r.id));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    /// The module that wrote `text`, if any.
    pub fn module_of(&self, text: &str) -> Option<&Module> {
        let lower = text.to_ascii_lowercase();
        self.modules.iter().find(|m| m.words.iter().any(|w| w.matches_lower(&lower)))
    }

    /// The first rule that classifies `text`, written by the module `module`, if any.
    pub fn rule_of(&self, module: &str, text: &str) -> Option<&Rule> {
        let lower = text.to_ascii_lowercase();
        self.rules.iter().find(|r| {
            (r.modules.is_empty() || r.modules.iter().any(|m| m == module))
                && r.patterns.iter().any(|p| p.matches_lower(&lower))
        })
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    pub fn module(&self, id: &str) -> Option<&Module> {
        self.modules.iter().find(|m| m.id == id)
    }

    /// A condition true when any module wrote the entry `expr`.
    pub fn any_module_sql(&self, expr: &str) -> String {
        let words: Vec<Pattern> = self.modules.iter().flat_map(|m| m.words.iter().cloned()).collect();
        any_like(&words, expr)
    }

    /// `CASE` giving the module id of the entry `expr` (the last module when none matched).
    pub fn module_case_sql(&self, expr: &str) -> String {
        let mut sql = String::from("CASE");
        let (last, first) = self.modules.split_last().expect("a module (validated)");
        for m in first {
            sql += &format!(" WHEN {} THEN '{}'", any_like(&m.words, expr), m.id);
        }
        sql + &format!(" ELSE '{}' END", last.id)
    }

    /// `CASE` giving the id of the rule that classifies the entry `expr` ('' for none).
    pub fn rule_case_sql(&self, expr: &str) -> String {
        let mut sql = String::from("CASE");
        for r in &self.rules {
            let of_module = if r.modules.is_empty() {
                String::new()
            } else {
                let ids: Vec<String> = r.modules.iter().map(|m| format!("'{m}'")).collect();
                format!("({}) IN ({}) AND ", self.module_case_sql(expr), ids.join(", "))
            };
            sql += &format!(" WHEN {of_module}{} THEN '{}'", any_like(&r.patterns, expr), r.id);
        }
        sql + " ELSE '' END"
    }
}

/// The code every known-bug rule gives.
pub const KNOWN_BUG: Code = code::PEN_KNOWN_BUG;

/// The table compiled in from `checks/log_classes.toml`, parsed once.
pub fn table() -> &'static Classes {
    static TABLE: OnceLock<Classes> = OnceLock::new();
    TABLE.get_or_init(|| {
        Classes::parse(include_str!("../checks/log_classes.toml"))
            .unwrap_or_else(|e| panic!("checks/log_classes.toml: {e} (tested)"))
    })
}

/// What a known bug's error really means, in the report's language.
pub fn meaning(bug: &Bug, lang: Lang) -> &str {
    bug.meaning.get(lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = include_str!("../checks/log_classes.toml");

    #[test]
    fn the_table_is_valid_and_agrees_with_the_knowledge_base() {
        let t = Classes::parse(TABLE).unwrap();
        t.check_against(&crate::kb::load().unwrap()).unwrap();
    }

    #[test]
    fn a_rule_pointing_at_an_unknown_code_or_article_is_refused() {
        let kb = crate::kb::load().unwrap();
        let bad = TABLE.replacen("code = \"SEI_LOG_TRUST_ERRORS\"", "code = \"SEI_LOG_NO_SUCH_CODE\"", 1);
        let e = Classes::parse(&bad).err().unwrap_or_default();
        assert!(e.contains("unknown code SEI_LOG_NO_SUCH_CODE"), "{e}");
        let bad = TABLE.replacen("article = \"TRAMITA-ERRO-MODULO\"", "article = \"NO-SUCH-ARTICLE\"", 1);
        let e = Classes::parse(&bad).unwrap().check_against(&kb).unwrap_err();
        assert!(e.contains("unknown article NO-SUCH-ARTICLE"), "{e}");
        let bad = TABLE.replacen("cause = 2", "cause = 3", 1);
        assert!(Classes::parse(&bad).unwrap().check_against(&kb).unwrap_err().contains("differ"));
    }

    #[test]
    fn a_broken_table_is_refused() {
        for (from, to) in [
            ("\"cURL error 58\"", "\"100% sure\""),
            ("\"cURL error 58\"", "\"a\\\\b\""),
            ("\"cURL error 58\"", "\"Transação\""),
            ("\"cURL error 58\"", "\"*a*\""),
            ("live = [\"tls\", \"ca\"]", "live = [\"tsl\"]"),
            ("fixed_in = \"4.2.0\"", "fixed_in = \"3.9.0\""),
            ("id = \"network\"", "id = \"service\""),
            ("target = \"tramita\"", "target = \"marte\""),
        ] {
            let bad = TABLE.replacen(from, to, 1);
            assert!(Classes::parse(&bad).is_err(), "{from} -> {to} accepted");
        }
    }

    #[test]
    fn real_strings_are_classified() {
        let t = table();
        let cases = [
            (
                "cURL error 60: SSL certificate problem: unable to get local issuer certificate for https://api.x/",
                "server-trust",
            ),
            ("Peer's Certificate issuer is not recognized.", "server-trust"),
            (
                "cURL error 58: unable to set private key file: '/opt/sei/config/mod-pen/cert.pem' type PEM",
                "client-certificate",
            ),
            (
                "Transação não autorizada devido a falta de integridade do seu certificado com common name X",
                "certificate-environment",
            ),
            (
                "cURL error 35: error:14094412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate",
                "client-certificate",
            ),
            ("cURL error 28: Operation timed out after 30001 milliseconds with 0 bytes received", "network"),
            ("cURL error 6: Could not resolve host: api.x", "network"),
            ("SoapFault: Could not connect to host", "soap-could-not-connect"),
            (
                "Server error: `GET https://api.x/healthcheck` resulted in a `503 Service Unavailable` response",
                "service",
            ),
            ("Erro desconhecido: não há espaço disponível", "service"),
            (
                "Falha de comunicação com o serviços de integração. filesize(): stat failed for /dados/1.pdf",
                "document-file-missing",
            ),
            ("Error: Call to a member function getBody() on null in ProcessoEletronicoRN.php:2110", "getbody-on-null"),
            ("pcntl_signal() has been disabled for security reasons", "pcntl-disabled"),
            ("Não foi possível acessar localmente o webservice do mod-sei-pen", "local-webservice"),
            ("Erro processando operação consultarHtmlVersao: Could not connect to host", "html-version-https"),
        ];
        for (text, rule) in cases {
            assert_eq!(t.rule_of("pen", text).map(|r| r.id.as_str()), Some(rule), "{text}");
        }
        // cURL error 60 is not cURL error 6.
        assert_ne!(t.rule_of("pen", "cURL error 60: x").unwrap().id, "network");
        assert!(t.rule_of("pen", "Processo enviado com sucesso").is_none());
    }

    #[test]
    fn a_rule_of_one_module_classifies_only_that_module() {
        let t = table();
        // Protocolo Integrado's certificate chain (Sectigo/USERTrust) has its own article; the
        // same words from the PEN module stay the general trust class.
        let nss = "cURL error 60: Peer's Certificate issuer is not recognized.";
        assert_eq!(t.rule_of("pi", nss).unwrap().id, "pi-server-trust");
        assert_eq!(t.rule_of("pen", nss).unwrap().id, "server-trust");
        let sql = t.rule_case_sql("x");
        let pi_rule = sql.split(" WHEN ").find(|w| w.ends_with("THEN 'pi-server-trust'")).unwrap();
        assert!(pi_rule.contains("IN ('pi') AND"), "{pi_rule}");
        let bad = TABLE.replacen("modules = [\"pi\"]", "modules = [\"marte\"]", 1);
        assert!(Classes::parse(&bad).unwrap_err().contains("unknown module"));
    }

    #[test]
    fn modules_are_told_by_their_words_and_noise_is_not_theirs() {
        let t = table();
        assert_eq!(t.module_of("#0 /opt/sei/web/modulos/pen/rn/ExpedirProcedimentoRN.php(120)").unwrap().id, "pen");
        assert_eq!(t.module_of("Falha de comunicação com o Processo Eletrônico Nacional").unwrap().id, "pen");
        assert_eq!(t.module_of("ProtocoloIntegradoAgendamentoRN::publicarProtocoloIntegrado").unwrap().id, "pi");
        for noise in [
            "MdEstatisticasAgendamentoRN::coletarIndicadores cURL error 28: Operation timed out",
            "Processo 00001.000001/2024-11 em tramitação na unidade",
            "MdWsSeiRN: SSL certificate problem: self signed certificate",
        ] {
            assert!(t.module_of(noise).is_none(), "{noise}");
        }
    }

    #[test]
    fn like_conditions_escape_what_sql_would_read() {
        let p = Pattern::parse("Peer's md_pi_ 100!").unwrap();
        assert_eq!(p.like("t"), "t LIKE '%peer''s md!_pi!_ 100!!%' ESCAPE '!'");
        let p = Pattern::parse("Transa*o n*o").unwrap();
        assert_eq!(p.like("t"), "t LIKE '%transa%o n%o%' ESCAPE '!'");
        assert!(p.matches_lower("transação não"));
        assert!(!p.matches_lower("não transação"));
        assert_eq!(like_literal("a'b\\c%d"), "a''b\\\\c!%d");
    }

    #[test]
    fn bugs_affect_their_range_only() {
        let t = table();
        let bug = t.rule("getbody-on-null").unwrap().bug.as_ref().unwrap();
        let v = |s: &str| Version::parse(s).unwrap();
        assert!(bug.affects(&v("4.0.3")) && bug.affects(&v("4.1.0")));
        assert!(!bug.affects(&v("4.2.0")) && !bug.affects(&v("3.9.0")) && !bug.affects(&v("4.2.0-beta")));
        assert!(meaning(bug, Lang::En).contains("certificate"));
    }
}
