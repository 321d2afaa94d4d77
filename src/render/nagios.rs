//! Nagios/Icinga plugin output: one status line (`PEN-DOCTOR CRITICAL - … | perfdata`), then
//! one line per finding as long output. Performance data: each check's duration, days left on
//! certificates and the NTP offset (with the `--ntp-warn`/`--ntp-crit` thresholds) when the
//! checks measured them. The whole output fits in `max_output` bytes (1024 by default: what NRPE
//! passes back); what does not fit is cut at a line and counted in a last line. The process exit
//! code follows the plugin convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

use super::contract::Render;
use super::evidence::{measures, run_timestamp};
use super::words;
use crate::messages::msg;
use crate::plugin::plain;
use crate::report::model::{Report, Severity, Status};
use std::fmt::Write;

pub use crate::plugin::{unknown_line, NRPE_MAX_OUTPUT};

pub struct Nagios {
    /// `--strict`: a warning counts as critical.
    pub strict: bool,
    /// Most bytes of output (`--nagios-max-output`); 0: no limit.
    pub max_output: usize,
}

/// The smallest output limit honoured (a smaller `--nagios-max-output` counts as this).
const MIN_OUTPUT: usize = 128;

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
    fn exit_code(&self, report: &Report, strict: bool) -> i32 {
        exit_code(report, strict)
    }

    fn unusable_code(&self) -> i32 {
        3
    }

    fn render(&self, report: &Report) -> Vec<u8> {
        let lang = report.lang;
        let s = &report.summary;
        let st = state(report, self.strict);
        let mut counts = Vec::new();
        let many = |n: usize, one: &str, more: &str| words::count(n, one, more);
        if s.fail > 0 {
            counts.push(many(s.fail, msg(lang, "render.nagios.failed"), msg(lang, "render.nagios.failed-2")));
        }
        if s.error > 0 {
            counts.push(many(s.error, msg(lang, "render.nagios.errored"), msg(lang, "render.nagios.errored-2")));
        }
        if s.warn > 0 {
            counts.push(many(s.warn, msg(lang, "render.human.warning"), msg(lang, "render.human.warnings")));
        }
        if counts.is_empty() {
            counts.push(format!("{} ok", s.ok));
            if s.skip > 0 {
                counts.push(many(s.skip, msg(lang, "fleet.skipped"), msg(lang, "render.human.skipped")));
            }
        }
        // What the user chose not to check is said, never silently OK: the checks skipped, and
        // those that could not run without them.
        let skipped = |c: &&crate::report::model::CheckReport, by_user: bool| {
            let why = c.skipped_because.as_deref().unwrap_or_default();
            c.status == Status::Skip && if by_user { why == "--skip" } else { why.ends_with(" (--skip)") }
        };
        let by_user: Vec<&str> = report.checks.iter().filter(|c| skipped(c, true)).map(|c| c.id.as_str()).collect();
        let behind: Vec<&str> = report.checks.iter().filter(|c| skipped(c, false)).map(|c| c.id.as_str()).collect();
        if !by_user.is_empty() {
            counts.push(format!("{} {}", msg(lang, "render.nagios.not-checked-skip"), by_user.join(" ")));
        }
        if !behind.is_empty() {
            counts.push(format!("{} {}", msg(lang, "render.nagios.nor-as-a-consequence"), behind.join(" ")));
        }
        // The root causes first (what each explains in parentheses), then any other problem.
        let folded = crate::report::diagnosis::folded_under(&report.diagnosis);
        let mut problems: Vec<String> = report
            .diagnosis
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut notes = Vec::new();
                if i == 0 {
                    notes.push(msg(lang, "render.human.probable-cause-2").to_string());
                }
                if !c.explains.is_empty() {
                    notes.push(format!("{} {}", msg(lang, "render.nagios.explains"), c.explains.len()));
                }
                match notes.is_empty() {
                    true => format!("{} {}", c.check, c.code),
                    false => format!("{} {} ({})", c.check, c.code, notes.join(", ")),
                }
            })
            .collect();
        problems.extend(
            report
                .checks
                .iter()
                .filter(|c| matches!(c.status, Status::Fail | Status::Error | Status::Warn))
                .filter(|c| !folded.contains_key(c.id.as_str()) && !report.diagnosis.iter().any(|d| d.check == c.id))
                .map(|c| match c.findings.first() {
                    Some(f) => format!("{} {}", c.id, f.code),
                    None => format!("{} {}", c.id, c.status.as_str()),
                }),
        );
        let mut head = format!("PEN-DOCTOR {} - {}", st.label(), counts.join(", "));
        if !problems.is_empty() {
            let shown: Vec<&str> = problems.iter().take(5).map(String::as_str).collect();
            let more = if problems.len() > 5 { ", …" } else { "" };
            let _ = write!(head, ": {}{more}", shown.join(", "));
        }

        let now = run_timestamp(report);
        // Perfdata that matters most (kept when the line must shrink), then each check's duration.
        let mut perf = Vec::new();
        perf.push(format!("{}={}ms;;;0", label("run_ms"), report.run.duration_ms));
        for c in &report.checks {
            let m = measures(c, now);
            if let Some(days) = m.days_left {
                perf.push(format!("{}={days};30:;0:", label(&format!("{}_days_left", c.id))));
            }
            if let Some(offset) = m.offset_secs {
                let (warn, crit) = (range(m.offset_warn_secs), range(m.offset_crit_secs));
                perf.push(format!("{}={}s;{warn};{crit}", label(&format!("{}_offset", c.id)), number(offset)));
            }
        }
        let essential = perf.len();
        for c in &report.checks {
            if c.status != Status::Skip {
                perf.push(format!("{}={}ms;;;0", label(&format!("{}_ms", c.id)), c.duration_ms));
            }
        }

        let mut long = Vec::new();
        // The root causes' lines first, in the diagnosis' order.
        let mut ordered: Vec<&crate::report::model::CheckReport> = report.checks.iter().collect();
        ordered.sort_by_key(|c| report.diagnosis.iter().position(|d| d.check == c.id).unwrap_or(usize::MAX));
        for c in ordered {
            for f in &c.findings {
                if f.severity == Severity::Info && c.status == Status::Ok {
                    continue;
                }
                let kb = match (f.kb.article.is_empty(), f.kb.cause) {
                    (true, _) => String::new(),
                    (false, Some(n)) => format!(" ({} #{n})", f.kb.article),
                    (false, None) => format!(" ({})", f.kb.article),
                };
                let sev = words::severity_word(f.severity, lang);
                long.push(format!("[{sev}] {} {}: {}{kb}", c.id, f.code, plain(&f.message)));
            }
            if c.status == Status::Error && c.findings.is_empty() {
                long.push(format!("[{}] {}: {}", msg(lang, "fleet.error"), c.id, plain(&c.summary)));
            }
        }
        fit(&plain(&head), &perf, essential, &long, self.max_output, lang).into_bytes()
    }
}

/// The perfdata range of an NTP offset limit, both signs (the clock can be ahead or behind);
/// empty when the check recorded none.
fn range(limit: Option<f64>) -> String {
    limit.filter(|x| x.is_finite() && *x > 0.0).map_or_else(String::new, |x| format!("-{}:{}", number(x), number(x)))
}

/// The longest prefix of `text` of at most `max` bytes, cut at a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The plugin output in at most `max` bytes (0: no limit): everything when it fits; else the
/// status line with its essential perfdata (its text cut if even that is too long), as many
/// long-output lines as fit, and a last line counting the ones left out.
fn fit(head: &str, perf: &[String], essential: usize, long: &[String], max: usize, lang: crate::model::Lang) -> String {
    let full = format!("{head} | {}\n", perf.join(" "));
    // Below this even the status line has no room; NRPE's limit is far above it.
    let max = if max == 0 { 0 } else { max.max(MIN_OUTPUT) };
    let everything = long.iter().fold(full, |mut out, l| {
        out.push_str(l);
        out.push('\n');
        out
    });
    if max == 0 || everything.len() <= max {
        return everything;
    }
    // The findings matter more than each check's duration: those go first.
    let mut out = {
        let perf = perf[..essential.min(perf.len())].join(" ");
        let tail = format!(" | {perf}\n");
        if head.len() + tail.len() <= max {
            format!("{head}{tail}")
        } else if tail.len() + 4 <= max {
            format!("{}…{tail}", cut(head, max - tail.len() - 3))
        } else {
            format!("{}…\n", cut(head, max.saturating_sub(4)))
        }
    };
    for (i, line) in long.iter().enumerate() {
        let left = long.len() - i;
        let more = |n: usize| {
            let lines = super::words::count(n, msg(lang, "render.nagios.line"), msg(lang, "render.nagios.lines"));
            format!("{}\n", crate::messages::fill(lang, "render.nagios.more-lines", &[("lines", &lines)]))
        };
        // The last line needs no room for a count after it.
        let room_after = if left > 1 { more(left - 1).len() } else { 0 };
        if out.len() + line.len() + 1 + room_after <= max {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let count = more(left);
        if out.len() + count.len() <= max {
            out.push_str(&count);
        }
        break;
    }
    out
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

    #[test]
    fn output_fits_the_limit_and_says_what_it_left_out() {
        use crate::model::Lang;
        let perf: Vec<String> = (0..40).map(|i| format!("'check:{i}_ms'={i}ms;;;0")).collect();
        let long: Vec<String> = (0..40).map(|i| format!("[fail] check:{i} CODE: {}", "é".repeat(30))).collect();
        let out = fit("PEN-DOCTOR CRITICAL - 40 falha(s)", &perf, 1, &long, 1024, Lang::Pt);
        assert!(out.len() <= 1024, "{}", out.len());
        let first = out.lines().next().unwrap_or_default();
        assert_eq!(first, "PEN-DOCTOR CRITICAL - 40 falha(s) | 'check:0_ms'=0ms;;;0", "only the essential perfdata");
        assert!(out.lines().nth(1).is_some_and(|l| l.starts_with("[fail] check:0 CODE: ")));
        let last = out.lines().last().unwrap_or_default();
        assert!(last.starts_with("… mais ") && last.contains(" linhas: "), "{last}");
        let shown = out.lines().filter(|l| l.starts_with("[fail]")).count();
        assert_eq!(last, format!("… mais {} linhas: rode pen-doctor check no nó para ver tudo", 40 - shown));
        // Everything that fits is shown whole; no limit shows it all.
        let all = fit("H", &perf, 1, &long, 0, Lang::En);
        assert_eq!(all.lines().count(), 41);
        assert!(all.starts_with("H | 'check:0_ms'=0ms;;;0 'check:1_ms'"));
        let small = fit("H", &perf[..2], 1, &long[..1], 1024, Lang::En);
        assert_eq!(small, format!("H | {} {}\n{}\n", perf[0], perf[1], long[0]));
        // A status line longer than the limit is cut at a character, perfdata kept.
        let head = "PEN-DOCTOR CRITICAL - ".to_string() + &"ç".repeat(400);
        let out = fit(&head, &perf, 1, &long, 200, Lang::En);
        assert!(out.len() <= 200 && out.ends_with(" | 'check:0_ms'=0ms;;;0\n") && out.contains('…'), "{out}");
    }
}
