//! Nagios/Icinga plugin output: one status line (`PEN-DOCTOR CRITICAL - … | perfdata`), then
//! one line per finding as long output. Performance data: each check's duration, days left on
//! certificates and the NTP offset when the evidence has them. The process exit code follows the
//! plugin convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

use super::{cert_days_left, ntp_offset_seconds, run_timestamp, word, Render};
use crate::report::model::{Report, Severity, Status};
use std::fmt::Write;

pub struct Nagios {
    /// `--strict`: a warning counts as critical.
    pub strict: bool,
}

/// The Nagios state of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Ok = 0,
    Warning = 1,
    Critical = 2,
    Unknown = 3,
}

impl State {
    fn label(self) -> &'static str {
        match self {
            State::Ok => "OK",
            State::Warning => "WARNING",
            State::Critical => "CRITICAL",
            State::Unknown => "UNKNOWN",
        }
    }
}

/// Any failed check is CRITICAL; otherwise a check that could not run makes the result UNKNOWN;
/// otherwise a warning is WARNING (CRITICAL with `--strict`).
pub fn state(report: &Report, strict: bool) -> State {
    let s = &report.summary;
    if s.fail > 0 {
        State::Critical
    } else if s.error > 0 {
        State::Unknown
    } else if s.warn > 0 {
        if strict {
            State::Critical
        } else {
            State::Warning
        }
    } else {
        State::Ok
    }
}

/// The plugin's exit code for a report.
pub fn exit_code(report: &Report, strict: bool) -> i32 {
    state(report, strict) as i32
}

/// The one line printed when the tool cannot run at all (bad usage): UNKNOWN, exit 3.
pub fn unknown_line(error: &str) -> String {
    format!("PEN-DOCTOR UNKNOWN - {}", plain(error))
}

/// Text that cannot break the plugin output: no `|` (it starts performance data), one line
/// (every line break and other control character becomes a space).
fn plain(text: &str) -> String {
    text.replace('|', "/").replace(|c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'), " ")
}

/// A perfdata label, quoted as the guidelines ask (a `'` inside doubled; `=` is not allowed),
/// on one line: control characters and spaces other than ' ' become `_`.
fn label(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| if c == '=' || c.is_control() || (c.is_whitespace() && c != ' ') { '_' } else { c })
        .collect();
    format!("'{}'", text.replace('\'', "''"))
}

fn number(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" {
        "0".into()
    } else {
        s.to_string()
    }
}

impl Render for Nagios {
    fn render(&self, report: &Report) -> Vec<u8> {
        let lang = report.lang;
        let s = &report.summary;
        let st = state(report, self.strict);
        let mut counts = Vec::new();
        if s.fail > 0 {
            counts.push(format!("{} {}", s.fail, word(lang, "falha(s)", "failed")));
        }
        if s.error > 0 {
            counts.push(format!("{} {}", s.error, word(lang, "erro(s)", "errored")));
        }
        if s.warn > 0 {
            counts.push(format!("{} {}", s.warn, word(lang, "aviso(s)", "warning(s)")));
        }
        if counts.is_empty() {
            counts.push(format!("{} ok", s.ok));
            if s.skip > 0 {
                counts.push(format!("{} {}", s.skip, word(lang, "pulada(s)", "skipped")));
            }
        }
        let problems: Vec<String> = report
            .checks
            .iter()
            .filter(|c| matches!(c.status, Status::Fail | Status::Error | Status::Warn))
            .map(|c| match c.findings.first() {
                Some(f) => format!("{} {}", c.id, f.code),
                None => format!("{} {}", c.id, c.status.as_str()),
            })
            .collect();
        let mut head = format!("PEN-DOCTOR {} - {}", st.label(), counts.join(", "));
        if !problems.is_empty() {
            let shown: Vec<&str> = problems.iter().take(5).map(String::as_str).collect();
            let more = if problems.len() > 5 { ", …" } else { "" };
            let _ = write!(head, ": {}{more}", shown.join(", "));
        }

        let now = run_timestamp(report);
        let mut perf = Vec::new();
        perf.push(format!("{}={}ms;;;0", label("run_ms"), report.run.duration_ms));
        for c in &report.checks {
            if let Some(days) = cert_days_left(c, now) {
                perf.push(format!("{}={days};30:;0:", label(&format!("{}_days_left", c.id))));
            }
            if let Some(offset) = ntp_offset_seconds(c) {
                perf.push(format!("{}={}s", label(&format!("{}_offset", c.id)), number(offset)));
            }
        }
        for c in &report.checks {
            if c.status != Status::Skip {
                perf.push(format!("{}={}ms;;;0", label(&format!("{}_ms", c.id)), c.duration_ms));
            }
        }

        let mut out = format!("{} | {}\n", plain(&head), perf.join(" "));
        for c in &report.checks {
            for f in &c.findings {
                if f.severity == Severity::Info && c.status == Status::Ok {
                    continue;
                }
                let kb = match (f.kb.article.is_empty(), f.kb.cause) {
                    (true, _) => String::new(),
                    (false, Some(n)) => format!(" ({} #{n})", f.kb.article),
                    (false, None) => format!(" ({})", f.kb.article),
                };
                let _ = writeln!(out, "[{}] {} {}: {}{kb}", f.severity.as_str(), c.id, f.code, plain(&f.message));
            }
            if c.status == Status::Error && c.findings.is_empty() {
                let _ = writeln!(out, "[error] {}: {}", c.id, plain(&c.summary));
            }
        }
        out.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_text_are_safe() {
        assert_eq!(label("a'b=c"), "'a''b_c'");
        assert_eq!(label("webhook:a\nb\u{1b}\u{2028}_ms"), "'webhook:a_b___ms'");
        assert_eq!(plain("a\u{1b}[1m\tb"), "a [1m b");
        assert_eq!(plain("x | y\nz"), "x / y z");
        assert_eq!(number(0.0125), "0.0125");
        assert_eq!(number(2.0), "2");
    }
}
