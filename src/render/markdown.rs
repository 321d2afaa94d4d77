//! The report for a support ticket, in Markdown: host, OS, environment, tool version and time;
//! a summary table; each finding with its article, cause, fix for this host's OS family; and
//! the reply template of every article that fired.

use super::{word, Render};
use crate::kb::kb;
use crate::report::model::{Report, Status};
use std::fmt::Write;

pub struct Markdown;

/// Escapes the characters that would break a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

impl Render for Markdown {
    fn render(&self, report: &Report) -> Vec<u8> {
        let lang = report.lang;
        let kb = kb();
        let mut out = String::new();
        let h = &report.run.host;
        let _ = writeln!(out, "# {}\n", word(lang, "Relatório do pen-doctor", "pen-doctor report"));
        let _ = writeln!(out, "| | |\n|---|---|");
        let _ = writeln!(out, "| Host | {} |", cell(&h.hostname));
        let _ = writeln!(
            out,
            "| {} | {} ({}, kernel {}) |",
            word(lang, "Sistema", "OS"),
            cell(&h.os),
            h.os_family,
            cell(&h.kernel)
        );
        let _ = writeln!(out, "| {} | {} |", word(lang, "Ambiente", "Environment"), report.run.environment);
        let _ = writeln!(out, "| pen-doctor | {} |", report.tool.version);
        let _ = writeln!(
            out,
            "| {} | {} ({} ms) |",
            word(lang, "Execução", "Run"),
            report.run.started_at,
            report.run.duration_ms
        );
        let s = &report.summary;
        let _ = writeln!(
            out,
            "| {} | **{}** — {} ok, {} warn, {} fail, {} skip, {} error |\n",
            word(lang, "Resultado", "Result"),
            s.status,
            s.ok,
            s.warn,
            s.fail,
            s.skip,
            s.error
        );
        let _ = writeln!(out, "## {}\n", word(lang, "Verificações", "Checks"));
        let _ = writeln!(
            out,
            "| {} | Status | {} | ms |\n|---|---|---|---|",
            word(lang, "Verificação", "Check"),
            word(lang, "Resumo", "Summary")
        );
        for c in &report.checks {
            let _ = writeln!(out, "| `{}` | {} | {} | {} |", c.id, c.status.as_str(), cell(&c.summary), c.duration_ms);
        }
        let with_findings: Vec<_> = report.checks.iter().filter(|c| !c.findings.is_empty()).collect();
        if !with_findings.is_empty() {
            let _ = writeln!(out, "\n## {}\n", word(lang, "Achados", "Findings"));
        }
        let mut articles: Vec<String> = Vec::new();
        for c in with_findings {
            for f in &c.findings {
                let _ = writeln!(out, "### `{}` — {} ({})\n", f.code, c.id, f.severity.as_str());
                let _ = writeln!(out, "{}\n", f.message);
                if !f.kb.article.is_empty() {
                    let cause =
                        f.kb.cause
                            .map(|n| {
                                let t = kb.cause_title(&f.kb.article, n, lang).unwrap_or_default();
                                format!(" — {} {n}: {t}", word(lang, "causa", "cause"))
                            })
                            .unwrap_or_default();
                    let _ = writeln!(
                        out,
                        "- **{}:** [{}]({}){}",
                        word(lang, "Artigo", "Article"),
                        f.kb.article,
                        f.kb.url,
                        cause
                    );
                    let _ = writeln!(out, "- *{}*", f.kb.title);
                    if !articles.contains(&f.kb.article) && c.status != Status::Ok {
                        articles.push(f.kb.article.clone());
                    }
                }
                if !f.fix.is_empty() {
                    let _ = writeln!(
                        out,
                        "\n**{} ({}):**\n",
                        word(lang, "Como corrigir", "How to fix"),
                        report.run.host.os
                    );
                    for (i, step) in f.fix.iter().enumerate() {
                        let _ = writeln!(out, "{}. {}", i + 1, step);
                    }
                }
                out.push('\n');
            }
        }
        if !articles.is_empty() {
            let _ = writeln!(out, "## {}\n", word(lang, "Modelos de resposta ao chamado", "Ticket reply templates"));
            for id in articles {
                if let Some(a) = kb.article(&id) {
                    let _ = writeln!(out, "### {} — {}\n", a.id, a.title);
                    for line in a.reply_template.get(lang).trim().lines() {
                        let _ = writeln!(out, "> {line}");
                    }
                    out.push('\n');
                }
            }
        }
        out.into_bytes()
    }
}
