//! The KB's own pages as text: `pen-doctor explain CODE`, `kb list` and `kb show ID`. The
//! command fills a plain view of what the KB says (in the language asked for, fix steps for the
//! OS asked for) and this file lays it out; it never consults the KB itself.

use crate::messages::msg;
use crate::model::Lang;
use std::fmt::Write;

/// An article's title and address.
pub struct Link {
    pub title: String,
    pub url: String,
}

/// What `pen-doctor explain CODE` shows.
pub struct Explain {
    pub code: String,
    pub severity: String,
    pub title: String,
    pub explanation: String,
    /// The code's article, its numbered cause and that cause's title.
    pub article: String,
    pub cause: Option<(u32, String)>,
    pub link: Option<Link>,
    /// Targets whose article differs from the code's own: target, article, its link.
    pub routes: Vec<(String, String, Option<Link>)>,
    /// The OS the fix steps are for, and the steps.
    pub os: String,
    pub fix: Vec<String>,
}

/// The text of `pen-doctor explain`.
pub fn explain(v: &Explain, lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} ({})", v.code, v.severity);
    let _ = writeln!(out, "{}\n", v.title);
    let _ = writeln!(out, "{}", v.explanation.trim());
    let _ = writeln!(out);
    let cause = v.cause.as_ref().map(|(n, t)| format!(" — {} {n}: {t}", msg(lang, "kb.cause"))).unwrap_or_default();
    let _ = writeln!(out, "{}: {}{cause}", msg(lang, "kb.article"), v.article);
    link(&mut out, v.link.as_ref());
    for (target, article, l) in &v.routes {
        let line =
            crate::ui::text("explain.target_article", lang).replace("{target}", target).replace("{article}", article);
        let _ = writeln!(out, "{line}");
        link(&mut out, l.as_ref());
    }
    if !v.fix.is_empty() {
        let _ = writeln!(out, "\n{}:", crate::ui::text("explain.fix", lang).replace("{os}", &v.os));
        for (i, s) in v.fix.iter().enumerate() {
            let _ = writeln!(out, "  {}. {s}", i + 1);
        }
    }
    out
}

fn link(out: &mut String, l: Option<&Link>) {
    if let Some(a) = l {
        let _ = writeln!(out, "  {}\n  {}", a.title, a.url);
    }
}

/// One finding code as `kb list --codes` and `kb show` list it.
pub struct CodeLine {
    pub code: String,
    pub severity: String,
    pub article: String,
    pub cause: Option<u32>,
    pub title: String,
    /// Its fix steps (only `kb show` lists them).
    pub fix: Vec<String>,
}

/// The text of `kb list --codes`: one line per code.
pub fn code_list(codes: &[CodeLine]) -> String {
    let mut out = String::new();
    for c in codes {
        let article = match c.cause {
            Some(n) => format!("{} ({n})", c.article),
            None => c.article.clone(),
        };
        let _ = writeln!(out, "{:<36} {:<5} {:<34} {}", c.code, c.severity, article, c.title);
    }
    out
}

/// The text of `kb list`: one line per article (id, title, how many codes it explains).
pub fn article_list(articles: &[(String, String, usize)], lang: Lang) -> String {
    let mut out = String::new();
    for (id, title, n) in articles {
        let noun = if *n == 1 { msg(lang, "kb.code") } else { msg(lang, "kb.codes") };
        let _ = writeln!(out, "{id:<30} {title} ({n} {noun})");
    }
    out
}

/// What `kb show ID` shows.
pub struct Article {
    pub id: String,
    pub title: String,
    pub url: String,
    pub references: Vec<String>,
    pub summary: String,
    /// Its numbered causes and their titles.
    pub causes: Vec<(u32, String)>,
    /// The OS the fix steps are for, and the article's codes.
    pub os: String,
    pub codes: Vec<CodeLine>,
    pub reply_template: String,
}

/// The text of `kb show`.
pub fn article(a: &Article, lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}\n{}\n{}", a.id, a.title, a.url);
    for r in &a.references {
        let _ = writeln!(out, "  {r}");
    }
    let _ = writeln!(out, "\n{}", a.summary.trim());
    if !a.causes.is_empty() {
        let _ = writeln!(out, "\n{}:", msg(lang, "kb.causes"));
        for (n, title) in &a.causes {
            let _ = writeln!(out, "  {n}. {title}");
        }
    }
    if !a.codes.is_empty() {
        let _ = writeln!(out, "\n{}:", crate::ui::text("kb.codes-fix", lang).replace("{os}", &a.os));
        for c in &a.codes {
            let cause = c.cause.map(|n| format!(" [{n}]")).unwrap_or_default();
            let _ = writeln!(out, "  {:<34} {:<5}{cause} {}", c.code, c.severity, c.title);
            for (i, s) in c.fix.iter().enumerate() {
                let _ = writeln!(out, "      {}. {s}", i + 1);
            }
        }
    }
    let _ = writeln!(out, "\n{}:\n", msg(lang, "kb.reply-template"));
    let _ = writeln!(out, "{}", a.reply_template.trim());
    out
}
