//! The report for a person at a terminal: one line per check, then for each failed or warned
//! check its findings with the KB article, cause and fix; a summary line. Colors optional.

use super::{word, Render};
use crate::kb::{kb, Lang};
use crate::report::model::{Report, Severity, Status};
use colored::{ColoredString, Colorize};
use std::fmt::Write;

pub struct Human {
    pub color: bool,
}

impl Human {
    fn paint(&self, text: &str, f: impl Fn(&str) -> ColoredString) -> String {
        if self.color {
            f(text).to_string()
        } else {
            text.to_string()
        }
    }

    fn status_tag(&self, status: Status, lang: Lang) -> String {
        let (label, painter): (&str, fn(&str) -> ColoredString) = match status {
            Status::Ok => ("OK", |s| s.green().bold()),
            Status::Warn => (word(lang, "AVISO", "WARN"), |s| s.yellow().bold()),
            Status::Fail => (word(lang, "FALHA", "FAIL"), |s| s.red().bold()),
            Status::Skip => (word(lang, "PULADO", "SKIP"), |s| s.dimmed()),
            Status::Error => (word(lang, "ERRO", "ERROR"), |s| s.magenta().bold()),
        };
        self.paint(&format!("{label:<6}"), painter)
    }
}

impl Render for Human {
    fn render(&self, report: &Report) -> Vec<u8> {
        colored::control::set_override(self.color);
        let lang = report.lang;
        let mut out = String::new();
        let h = &report.run.host;
        let _ = writeln!(
            out,
            "{} {} — {} {} · {} {} · {}",
            self.paint("pen-doctor", |s| s.bold()),
            report.tool.version,
            word(lang, "ambiente", "environment"),
            report.run.environment,
            h.hostname,
            format_args!("({})", h.os),
            report.run.started_at
        );
        out.push('\n');
        let width = report.checks.iter().map(|c| c.id.len()).max().unwrap_or(10);
        for c in &report.checks {
            let _ = writeln!(out, "{} {:<width$}  {}", self.status_tag(c.status, lang), c.id, c.summary);
        }
        let problems: Vec<_> = report
            .checks
            .iter()
            .filter(|c| {
                matches!(c.status, Status::Fail | Status::Warn | Status::Error)
                    || c.findings.iter().any(|f| f.severity != Severity::Info)
            })
            .collect();
        let kb = kb();
        for c in problems {
            out.push('\n');
            let _ = writeln!(out, "{} {}", self.status_tag(c.status, lang), self.paint(&c.id, |s| s.bold()));
            for f in &c.findings {
                let sev = match f.severity {
                    Severity::Fail => self.paint(f.severity.as_str(), |s| s.red()),
                    Severity::Warn => self.paint(f.severity.as_str(), |s| s.yellow()),
                    Severity::Info => self.paint(f.severity.as_str(), |s| s.blue()),
                };
                let _ = writeln!(out, "  [{sev}] {}: {}", self.paint(&f.code, |s| s.bold()), f.message);
                if !f.kb.article.is_empty() {
                    let cause = match f.kb.cause {
                        Some(n) => {
                            let title = kb.cause_title(&f.kb.article, n, lang).unwrap_or_default();
                            format!(", {} {n} ({title})", word(lang, "causa", "cause"))
                        }
                        None => String::new(),
                    };
                    let _ = writeln!(out, "    {}: {}{cause}", word(lang, "Artigo", "Article"), f.kb.article);
                    let _ = writeln!(out, "    {}", self.paint(&f.kb.url, |s| s.dimmed()));
                }
                if !f.fix.is_empty() {
                    let _ = writeln!(out, "    {}:", word(lang, "Como corrigir", "How to fix"));
                    for (i, step) in f.fix.iter().enumerate() {
                        let _ = writeln!(out, "      {}. {step}", i + 1);
                    }
                }
                let _ = writeln!(
                    out,
                    "    {}",
                    self.paint(
                        &format!("{} pen-doctor explain {}", word(lang, "Detalhes:", "Details:"), f.code),
                        |s| s.dimmed()
                    )
                );
            }
        }
        let s = &report.summary;
        out.push('\n');
        let line = format!(
            "{}: {} ok, {} {}, {} {}, {} {}, {} {} — {} ms",
            word(lang, "Resumo", "Summary"),
            s.ok,
            s.warn,
            word(lang, "aviso(s)", "warning(s)"),
            s.fail,
            word(lang, "falha(s)", "failure(s)"),
            s.skip,
            word(lang, "pulado(s)", "skipped"),
            s.error,
            word(lang, "erro(s)", "error(s)"),
            report.run.duration_ms
        );
        let line = match s.status.as_str() {
            "fail" => self.paint(&line, |x| x.red().bold()),
            "warn" => self.paint(&line, |x| x.yellow().bold()),
            _ => self.paint(&line, |x| x.green().bold()),
        };
        let _ = writeln!(out, "{line}");
        out.into_bytes()
    }
}
