//! The report for a person at a terminal: one line per check, then for each failed or warned
//! check its findings with the KB article, cause and fix; a summary line. Colors optional.

use super::contract::Render;
use super::words;
use crate::messages::msg;
use crate::model::Lang;
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
            Status::Warn => (msg(lang, "fleet.warn"), |s| s.yellow().bold()),
            Status::Fail => (msg(lang, "fleet.fail"), |s| s.red().bold()),
            Status::Skip => (msg(lang, "render.human.skip"), |s| s.dimmed()),
            Status::Error => (msg(lang, "render.human.error"), |s| s.magenta().bold()),
        };
        self.paint(&format!("{label:<6}"), painter)
    }
}

/// The one line of a consequence: why it is folded (its own summary, or the skip's root).
fn consequence_line(c: &crate::report::model::CheckReport, root: &str, lang: Lang) -> String {
    match c.status {
        Status::Skip => format!("{} {root}", msg(lang, "render.human.not-run-because-of")),
        _ => format!("{} {root}", msg(lang, "render.human.follows-from")),
    }
}

impl Human {
    /// The "Diagnóstico" block: the probable cause first, what to do first, what it explains.
    fn diagnosis(&self, out: &mut String, report: &Report) {
        let lang = report.lang;
        if report.diagnosis.is_empty() {
            return;
        }
        let kb = &report.kb_words;
        let _ = writeln!(out, "{}", self.paint(msg(lang, "render.human.diagnosis"), |s| s.bold().underline()));
        for (i, cause) in report.diagnosis.iter().enumerate() {
            let label =
                if i == 0 { msg(lang, "render.human.probable-cause") } else { msg(lang, "render.human.other-cause") };
            let sev = match cause.severity {
                Severity::Fail => Status::Fail,
                Severity::Warn => Status::Warn,
                Severity::Info => Status::Ok,
            };
            let _ = writeln!(
                out,
                "{}: {} {} ({}) — {}",
                self.paint(label, |s| s.bold()),
                self.status_tag(sev, lang).trim_end(),
                cause.check,
                cause.code,
                cause.message
            );
            if !cause.first_step.is_empty() {
                let _ = writeln!(
                    out,
                    "  {}: {}",
                    self.paint(msg(lang, "render.human.do-first"), |s| s.bold()),
                    cause.first_step
                );
            }
            if !cause.explains.is_empty() {
                let n = cause.explains.len();
                let what = words::count(n, msg(lang, "fleet.check"), msg(lang, "render.human.checks"));
                let _ = writeln!(out, "  {} {what}: {}", msg(lang, "render.human.explains"), cause.explains.join(", "));
            }
            if !cause.kb.article.is_empty() {
                let title = cause
                    .kb
                    .cause
                    .and_then(|n| {
                        kb.cause_title(&cause.kb.article, n)
                            .map(|t| format!(", {} {n} ({t})", msg(lang, "fleet.cause")))
                    })
                    .unwrap_or_default();
                let _ = writeln!(out, "  {}: {}{title}", msg(lang, "fleet.article"), cause.kb.article);
            }
        }
        out.push('\n');
    }
}

/// The one line said on the terminal when the report went to a file (`--output FILE`): where it
/// is, the result, and the probable cause.
pub fn written_line(report: &Report, path: &std::path::Path) -> String {
    let lang = report.lang;
    let s = &report.summary;
    let result = match s.status.as_str() {
        "fail" => msg(lang, "fleet.fail"),
        "warn" => msg(lang, "fleet.warn"),
        _ => "OK",
    };
    let counts = [
        (s.fail, words::count(s.fail, msg(lang, "render.human.failure"), msg(lang, "render.human.failures"))),
        (s.error, words::count(s.error, msg(lang, "fleet.error"), msg(lang, "render.human.errors"))),
        (s.warn, words::count(s.warn, msg(lang, "render.human.warning"), msg(lang, "render.human.warnings"))),
    ];
    let counts: Vec<String> = counts.into_iter().filter(|(n, _)| *n > 0).map(|(_, t)| t).collect();
    let mut line = format!(
        "{} {}: {result}",
        msg(lang, "render.human.report-written-to"),
        crate::redact::clean(&path.display().to_string())
    );
    if !counts.is_empty() {
        let _ = write!(line, " ({})", counts.join(", "));
    }
    if let Some(c) = report.diagnosis.first() {
        let _ = write!(line, " — {}: {} {}", msg(lang, "render.human.probable-cause-2"), c.check, c.code);
    }
    line
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
            msg(lang, "fleet.environment"),
            words::environment_word(&report.run.environment, lang),
            h.hostname,
            format_args!("({})", h.os),
            words::time_word(report.run.started_at, lang)
        );
        if let Some(line) = words::configuration_line(report) {
            let _ = writeln!(out, "{}: {line}", msg(lang, "render.human.configuration"));
        }
        if let Some(v) = words::module_version(report) {
            let _ = writeln!(out, "{} {v}", msg(lang, "render.human.mod-sei-pen-module"));
        }
        out.push('\n');
        self.diagnosis(&mut out, report);
        let folded = crate::report::diagnosis::folded_under(&report.diagnosis);
        let width = report.checks.iter().map(|c| c.id.len()).max().unwrap_or(10);
        for c in report.checks.iter().filter(|c| !folded.contains_key(c.id.as_str())) {
            let _ = writeln!(out, "{} {:<width$}  {}", self.status_tag(c.status, lang), c.id, c.summary);
            // Its consequences, folded under it.
            for d in report.checks.iter().filter(|d| folded.get(d.id.as_str()) == Some(&c.id.as_str())) {
                let _ = writeln!(
                    out,
                    "  ↳ {} {}  {}",
                    self.status_tag(d.status, lang),
                    d.id,
                    self.paint(&consequence_line(d, &c.id, lang), |s| s.dimmed())
                );
            }
        }
        let problems: Vec<_> = report
            .checks
            .iter()
            .filter(|c| !folded.contains_key(c.id.as_str()))
            .filter(|c| {
                matches!(c.status, Status::Fail | Status::Warn | Status::Error)
                    || c.findings.iter().any(|f| f.severity != Severity::Info)
            })
            .collect();
        let kb = &report.kb_words;
        for c in problems {
            out.push('\n');
            let _ = writeln!(out, "{} {}", self.status_tag(c.status, lang), self.paint(&c.id, |s| s.bold()));
            for f in &c.findings {
                let label = words::severity_word(f.severity, lang);
                let sev = match f.severity {
                    Severity::Fail => self.paint(label, |s| s.red()),
                    Severity::Warn => self.paint(label, |s| s.yellow()),
                    Severity::Info => self.paint(label, |s| s.blue()),
                };
                let _ = writeln!(out, "  [{sev}] {}: {}", self.paint(&f.code, |s| s.bold()), f.message);
                if let Some(root) = f.params.get("folded_under") {
                    let _ = writeln!(out, "    {}", self.paint(&consequence_line(c, root, lang), |s| s.dimmed()));
                    continue;
                }
                if !f.kb.article.is_empty() {
                    let cause = match f.kb.cause {
                        Some(n) => {
                            let title = kb.cause_title(&f.kb.article, n).unwrap_or_default();
                            format!(", {} {n} ({title})", msg(lang, "fleet.cause"))
                        }
                        None => String::new(),
                    };
                    let _ = writeln!(out, "    {}: {}{cause}", msg(lang, "fleet.article"), f.kb.article);
                    let _ = writeln!(out, "    {}", self.paint(&f.kb.url, |s| s.dimmed()));
                }
                if !f.fix.is_empty() {
                    let _ = writeln!(out, "    {}:", msg(lang, "fleet.how-to-fix"));
                    for (i, step) in f.fix.iter().enumerate() {
                        let _ = writeln!(out, "      {}. {step}", i + 1);
                    }
                }
                let _ = writeln!(
                    out,
                    "    {}",
                    self.paint(&format!("{} pen-doctor explain {}", msg(lang, "render.human.details"), f.code), |s| s
                        .dimmed())
                );
            }
        }
        let s = &report.summary;
        out.push('\n');
        let line = format!(
            "{}: {} ok, {}, {}, {}, {} — {} ms",
            msg(lang, "render.human.summary"),
            s.ok,
            words::count(s.warn, msg(lang, "render.human.warning"), msg(lang, "render.human.warnings")),
            words::count(s.fail, msg(lang, "render.human.failure"), msg(lang, "render.human.failures")),
            words::count(s.skip, msg(lang, "fleet.skipped"), msg(lang, "render.human.skipped")),
            words::count(s.error, msg(lang, "fleet.error"), msg(lang, "render.human.errors")),
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
