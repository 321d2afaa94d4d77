//! The knowledge base compiled into the binary: articles, finding codes (severity, article,
//! cause, message template, explanation, fix steps per OS family) and check summaries. The one
//! place where codes meet words; `explain`, `kb list` and `kb show` read from here.

use crate::model::{KbRef, OsFamily, Severity};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

pub use crate::model::Lang;

/// A text in both languages.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    #[serde(default)]
    pub pt: String,
    #[serde(default)]
    pub en: String,
}

impl Text {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Pt => &self.pt,
            Lang::En if self.en.is_empty() => &self.pt,
            Lang::En => &self.en,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cause {
    pub number: u32,
    pub title: Text,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Article {
    pub id: String,
    pub title: String,
    pub source: String,
    pub url: String,
    #[serde(default)]
    pub references: Vec<String>,
    pub summary: Text,
    pub reply_template: Text,
    #[serde(default, rename = "cause")]
    pub causes: Vec<Cause>,
}

/// Fix steps of one language: `any` for every OS, then per family.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixSteps {
    #[serde(default)]
    pub any: Vec<String>,
    #[serde(default)]
    pub debian: Vec<String>,
    #[serde(default)]
    pub rhel6: Vec<String>,
    #[serde(default)]
    pub rhel7: Vec<String>,
    #[serde(default)]
    pub rhel8: Vec<String>,
}

impl FixSteps {
    pub fn family(&self, key: &str) -> &[String] {
        match key {
            "debian" => &self.debian,
            "rhel6" => &self.rhel6,
            "rhel7" => &self.rhel7,
            "rhel8" => &self.rhel8,
            _ => &[],
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fix {
    #[serde(default)]
    pub pt: FixSteps,
    #[serde(default)]
    pub en: FixSteps,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Code {
    pub code: String,
    pub severity: Severity,
    pub article: String,
    pub cause: Option<u32>,
    #[serde(default)]
    pub params: Vec<String>,
    pub title: Text,
    pub message: Text,
    pub explanation: Text,
    #[serde(default)]
    pub fix: Fix,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Summaries {
    pub ok: Text,
    /// What the check verifies, in one line (`pen-doctor check --list`).
    #[serde(default)]
    pub about: Text,
}

#[derive(Deserialize)]
struct ArticlesFile {
    #[serde(default)]
    article: Vec<Article>,
}

#[derive(Deserialize)]
struct CodesFile {
    #[serde(default)]
    code: Vec<Code>,
}

/// The code files, one per check family, compiled in.
pub const CODE_FILES: &[(&str, &str)] = &[
    ("network", include_str!("../checks/codes/network.toml")),
    ("config", include_str!("../checks/codes/config.toml")),
    ("cert", include_str!("../checks/codes/cert.toml")),
    ("tls", include_str!("../checks/codes/tls.toml")),
    ("http", include_str!("../checks/codes/http.toml")),
    ("node", include_str!("../checks/codes/node.toml")),
    ("ntp", include_str!("../checks/codes/ntp.toml")),
    ("database", include_str!("../checks/codes/database.toml")),
    ("pucomex", include_str!("../checks/codes/pucomex.toml")),
    ("engine", include_str!("../checks/codes/engine.toml")),
    ("fleet", include_str!("../checks/codes/fleet.toml")),
    ("sei_log", include_str!("../checks/codes/sei_log.toml")),
];

const ARTICLES: &str = include_str!("../checks/articles.toml");
const SUMMARIES: &str = include_str!("../checks/summaries.toml");
const TARGET_ARTICLES: &str = include_str!("../checks/target_articles.toml");

/// A target whose findings of some codes point at its own article (`checks/target_articles.toml`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub target: String,
    /// Code names, or prefixes ending in `*`.
    pub codes: Vec<String>,
    pub article: String,
    pub cause: Option<u32>,
}

impl Route {
    /// Whether the route takes findings of `code`.
    pub fn covers(&self, code: &str) -> bool {
        self.codes.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => code.starts_with(prefix),
            None => p == code,
        })
    }
}

#[derive(Deserialize)]
struct RoutesFile {
    #[serde(default)]
    route: Vec<Route>,
}

/// The loaded knowledge base.
pub struct Kb {
    pub articles: Vec<Article>,
    pub codes: Vec<Code>,
    by_code: HashMap<String, usize>,
    pub summaries: BTreeMap<String, Summaries>,
    pub routes: Vec<Route>,
}

/// Loads and parses the embedded files; an error names the file (tested, so never at run time).
pub fn load() -> Result<Kb, String> {
    let articles: ArticlesFile = toml::from_str(ARTICLES).map_err(|e| format!("checks/articles.toml: {e}"))?;
    let mut codes = Vec::new();
    for (name, text) in CODE_FILES {
        let file: CodesFile = toml::from_str(text).map_err(|e| format!("checks/codes/{name}.toml: {e}"))?;
        codes.extend(file.code);
    }
    let summaries: BTreeMap<String, Summaries> =
        toml::from_str(SUMMARIES).map_err(|e| format!("checks/summaries.toml: {e}"))?;
    let routes: RoutesFile =
        toml::from_str(TARGET_ARTICLES).map_err(|e| format!("checks/target_articles.toml: {e}"))?;
    let by_code = codes.iter().enumerate().map(|(i, c)| (c.code.clone(), i)).collect();
    Ok(Kb { articles: articles.article, codes, by_code, summaries, routes: routes.route })
}

/// The knowledge base of this binary.
pub fn kb() -> &'static Kb {
    static KB: OnceLock<Kb> = OnceLock::new();
    KB.get_or_init(|| load().unwrap_or_else(|e| panic!("embedded knowledge base is invalid: {e}")))
}

/// Replaces `{name}` with the named value; unknown names are left visible as `{name}`.
pub fn fill(template: &str, params: &BTreeMap<impl AsRef<str> + Ord, String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) if after[..end].chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && end > 0 => {
                let name = &after[..end];
                match params.iter().find(|(k, _)| k.as_ref() == name) {
                    Some((_, v)) => out.push_str(v),
                    None => out.push_str(&rest[start..start + end + 2]),
                }
                rest = &after[end + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

impl Kb {
    pub fn code(&self, code: &str) -> Option<&Code> {
        self.by_code.get(code).map(|&i| &self.codes[i])
    }

    pub fn article(&self, id: &str) -> Option<&Article> {
        self.articles.iter().find(|a| a.id.eq_ignore_ascii_case(id))
    }

    /// The default severity of a code (`fail` for a code the KB does not know, so it is never hidden).
    pub fn severity(&self, code: &str) -> Severity {
        self.code(code).map(|c| c.severity).unwrap_or(Severity::Fail)
    }

    pub fn kb_ref(&self, code: &Code) -> KbRef {
        self.kb_ref_for(code, None)
    }

    /// The KB reference of a finding of `code` reported by a check of `target`: the target's own
    /// article when `checks/target_articles.toml` routes the code there, else the code's.
    pub fn kb_ref_for(&self, code: &Code, target: Option<&str>) -> KbRef {
        let route = target.and_then(|t| self.routes.iter().find(|r| r.target == t && r.covers(&code.code)));
        let (id, cause) = route.map_or((&code.article, code.cause), |r| (&r.article, r.cause));
        let article = self.article(id);
        KbRef {
            article: id.clone(),
            cause,
            title: article.map(|a| a.title.clone()).unwrap_or_default(),
            url: article.map(|a| a.url.clone()).unwrap_or_default(),
        }
    }

    /// The fix steps of a code for an OS family: the general ones, then the family's. For an
    /// unknown family, every family's steps, each labelled.
    pub fn fix(&self, code: &Code, lang: Lang, family: OsFamily) -> Vec<String> {
        let steps = match lang {
            Lang::Pt => &code.fix.pt,
            Lang::En if code.fix.en.any.is_empty() && code.fix.en.debian.is_empty() => &code.fix.pt,
            Lang::En => &code.fix.en,
        };
        let mut out = steps.any.clone();
        match family.fix_key() {
            Some(key) => out.extend(steps.family(key).iter().cloned()),
            None => {
                for (key, label) in [
                    ("debian", "Debian/Ubuntu"),
                    ("rhel6", "RHEL/CentOS 6"),
                    ("rhel7", "RHEL/CentOS 7"),
                    ("rhel8", "RHEL 8+"),
                ] {
                    out.extend(steps.family(key).iter().map(|s| format!("[{label}] {s}")));
                }
            }
        }
        out
    }

    pub fn cause_title(&self, article: &str, cause: u32, lang: Lang) -> Option<String> {
        self.article(article)?.causes.iter().find(|c| c.number == cause).map(|c| c.title.get(lang).to_string())
    }

    /// The codes that point at `article`: its own, then those a target routes to it.
    pub fn codes_of(&self, article: &str) -> Vec<&Code> {
        let routed = |c: &Code| self.routes.iter().any(|r| r.article == article && r.covers(&c.code));
        let own = self.codes.iter().filter(|c| c.article == article);
        own.chain(self.codes.iter().filter(|c| c.article != article && routed(c))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn placeholders(t: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = t;
        while let Some(s) = rest.find('{') {
            let after = &rest[s + 1..];
            if let Some(e) = after.find('}') {
                let name = &after[..e];
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    out.push(name.to_string());
                }
                rest = &after[e + 1..];
            } else {
                break;
            }
        }
        out
    }

    #[test]
    fn every_target_route_names_a_target_an_article_and_declared_codes() {
        let kb = kb();
        assert!(!kb.routes.is_empty());
        for r in &kb.routes {
            assert!(crate::targets::table().contains_key(&r.target), "unknown target {}", r.target);
            let article = kb.article(&r.article).unwrap_or_else(|| panic!("unknown article {}", r.article));
            if let Some(n) = r.cause {
                assert!(article.causes.iter().any(|c| c.number == n), "{} has no cause {n}", r.article);
            }
            for p in &r.codes {
                assert!(kb.codes.iter().any(|c| r.covers(&c.code)), "{p} covers no declared code");
            }
        }
        let untrusted = kb.code("SERVER_CERT_UNTRUSTED").unwrap();
        assert_eq!(kb.kb_ref_for(untrusted, Some("protocolo-integrado")).article, "PI-ATENDIMENTO-CADEIA-CERTIFICADO");
        assert_eq!(kb.kb_ref_for(untrusted, Some("tramita")).article, "TRAMITA-FALHA-COMUNICACAO");
        let expired = kb.code("CLIENT_CERT_EXPIRED").unwrap();
        assert_eq!(kb.kb_ref_for(expired, Some("pucomex")).article, "PUCOMEX-WEBHOOKS");
        assert_eq!(kb.kb_ref_for(expired, None).article, "TRAMITA-FALHA-COMUNICACAO");
    }

    #[test]
    fn knowledge_base_is_complete_and_consistent() {
        let kb = load().expect("knowledge base parses");
        let mut seen = HashSet::new();
        let mut problems = Vec::new();
        for c in &kb.codes {
            if !seen.insert(c.code.clone()) {
                problems.push(format!("{}: defined twice", c.code));
            }
            match kb.article(&c.article) {
                None => problems.push(format!("{}: article {} does not exist", c.code, c.article)),
                Some(a) => match c.cause {
                    Some(n) if !a.causes.iter().any(|x| x.number == n) => {
                        problems.push(format!("{}: cause {n} not in {}", c.code, a.id))
                    }
                    None if !a.causes.is_empty() => {
                        problems.push(format!("{}: {} lists causes, none given", c.code, a.id))
                    }
                    _ => {}
                },
            }
            for (what, t) in [("title", &c.title), ("message", &c.message), ("explanation", &c.explanation)] {
                if t.pt.trim().is_empty() || t.en.trim().is_empty() {
                    problems.push(format!("{}: {what} missing in a language", c.code));
                }
                for p in placeholders(&t.pt).into_iter().chain(placeholders(&t.en)) {
                    if what == "message" && !c.params.contains(&p) {
                        problems.push(format!("{}: {{{p}}} not declared in params", c.code));
                    }
                }
            }
            for (lang, steps) in [("pt", &c.fix.pt), ("en", &c.fix.en)] {
                let every_family = ["debian", "rhel6", "rhel7", "rhel8"].iter().all(|k| !steps.family(k).is_empty());
                if steps.any.is_empty() && !every_family {
                    problems.push(format!("{}: fix steps ({lang}) missing for some OS family", c.code));
                }
            }
        }
        for a in &kb.articles {
            if a.title.is_empty() || a.url.is_empty() || a.reply_template.pt.trim().is_empty() {
                problems.push(format!("article {}: title, url or reply template missing", a.id));
            }
        }
        assert!(problems.is_empty(), "knowledge base problems:\n{}", problems.join("\n"));
    }

    #[test]
    fn every_required_code_and_article_of_the_spec_exists() {
        let kb = load().unwrap();
        let spec = include_str!("../checks/required.txt");
        let missing: Vec<&str> =
            spec.split_whitespace().filter(|w| kb.code(w).is_none() && kb.article(w).is_none()).collect();
        assert!(missing.is_empty(), "missing from the knowledge base: {missing:?}");
    }

    #[test]
    fn every_check_has_a_summary() {
        let kb = load().unwrap();
        for kind in crate::model::CATALOG {
            assert!(kb.summaries.contains_key(*kind), "no summary for {kind}");
            let about = &kb.summaries[*kind].about;
            assert!(!about.pt.is_empty() && !about.en.is_empty(), "no one-line description (about) for {kind}");
        }
    }

    #[test]
    fn fill_replaces_known_and_keeps_unknown() {
        let mut p = BTreeMap::new();
        p.insert("host", "a.example".to_string());
        assert_eq!(fill("{host} at {port} {not a name}", &p), "a.example at {port} {not a name}");
    }

    #[test]
    fn the_constants_are_the_codes_the_knowledge_base_reads() {
        let kb = load().expect("the knowledge base loads");
        let mut declared: Vec<&str> = crate::model::code::ALL.iter().map(|c| c.as_str()).collect();
        declared.sort_unstable();
        let mut read: Vec<&str> = kb.codes.iter().map(|c| c.code.as_str()).collect();
        read.sort_unstable();
        assert_eq!(declared, read);
    }
}
