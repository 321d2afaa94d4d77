//! JUnit XML for CI (GitLab CI, Jenkins): one test suite, one test case per check. A `fail`
//! check is a `<failure>` whose message names its findings (code, message, KB article and
//! cause); an `error` check is an `<error>`; a `skip` check is `<skipped>`; warnings go to the
//! test case's `<system-out>`, with the check's evidence. A test case is named by the check's
//! id, its title and, when it did not pass, its finding code. The diagnosis leads: the root
//! causes' test cases come first, and a consequence's message names its cause.

use super::contract::Render;
use super::words;
use crate::messages::msg;
use crate::report::model::Report;
use crate::report::model::{CheckReport, KbWords, ReportedFinding, Severity, Status, Timestamp};
use std::fmt::Write;

pub struct Junit;

/// Text made safe for an XML attribute or element: the five entities escaped, and characters
/// XML 1.0 cannot carry dropped.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

fn seconds(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

/// One line for a finding: `CODE: message [ARTICLE, cause N]`.
fn finding_line(f: &ReportedFinding) -> String {
    let mut line = format!("{}: {}", f.code, f.message);
    if !f.kb.article.is_empty() {
        match f.kb.cause {
            Some(n) => {
                let _ = write!(line, " [{} #{n}]", f.kb.article);
            }
            None => {
                let _ = write!(line, " [{}]", f.kb.article);
            }
        }
    }
    line
}

/// The body of a failure: every finding with its article, URL and fix steps.
fn finding_details(c: &CheckReport, lang: crate::model::Lang) -> String {
    let mut out = String::new();
    for f in &c.findings {
        let _ = writeln!(out, "[{}] {}", super::words::severity_word(f.severity, lang), finding_line(f));
        if !f.kb.article.is_empty() {
            let _ = writeln!(out, "  {}: {} — {}", msg(lang, "fleet.article"), f.kb.title, f.kb.url);
        }
        for (i, step) in f.fix.iter().enumerate() {
            let _ = writeln!(out, "  {}. {step}", i + 1);
        }
    }
    if out.is_empty() {
        let _ = writeln!(out, "{}", c.summary);
    }
    out
}

/// A run's start as JUnit's `timestamp` wants it: ISO 8601 to the second, no zone, no fraction
/// (the time as recorded, UTC for a run of ours); none when the report does not know it, and
/// the attribute is left out.
fn timestamp(started_at: Timestamp) -> Option<String> {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    started_at.get().and_then(|t| t.format(&format).ok())
}

/// The test case's name: the check's id and title, and its main finding code when it did not pass.
fn case_name(c: &CheckReport, kb: &KbWords) -> String {
    let title = kb.check_titles.get(c.check.as_str()).cloned();
    let mut name = match title {
        Some(t) if !t.is_empty() => format!("{} — {t}", c.id),
        _ => c.id.clone(),
    };
    if c.status != Status::Ok {
        if let Some(f) = c.findings.iter().find(|f| f.severity != Severity::Info) {
            let _ = write!(name, " [{}]", f.code);
        }
    }
    name
}

impl Render for Junit {
    fn render(&self, report: &Report) -> Vec<u8> {
        let lang = report.lang;
        let s = &report.summary;
        let tests = report.checks.len();
        let time = seconds(report.run.duration_ms);
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"pen-doctor\" tests=\"{tests}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{time}\">",
            s.fail, s.error, s.skip
        );
        let suite = format!("pen-doctor ({})", report.run.environment);
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{time}\"{} hostname=\"{}\">",
            xml(&suite),
            s.fail,
            s.error,
            s.skip,
            timestamp(report.run.started_at).map(|t| format!(" timestamp=\"{t}\"")).unwrap_or_default(),
            xml(&report.run.host.hostname)
        );
        out.push_str("    <properties>\n");
        for (name, value) in [
            ("environment", report.run.environment.as_str()),
            ("os", report.run.host.os.as_str()),
            ("os_family", report.run.host.os_family.as_str()),
            ("pen_doctor_version", report.tool.version.as_str()),
        ] {
            let _ = writeln!(out, "      <property name=\"{name}\" value=\"{}\"/>", xml(value));
        }
        out.push_str("    </properties>\n");
        let folded = crate::report::diagnosis::folded_under(&report.diagnosis);
        // The root causes first, in the diagnosis' order; then the catalog's order.
        let mut ordered: Vec<&CheckReport> = report.checks.iter().collect();
        ordered.sort_by_key(|c| report.diagnosis.iter().position(|d| d.check == c.id).unwrap_or(usize::MAX));
        for c in ordered {
            let _ = write!(
                out,
                "    <testcase classname=\"pen-doctor.{}\" name=\"{}\" time=\"{}\"",
                xml(&c.check),
                xml(&case_name(c, &report.kb_words)),
                seconds(c.duration_ms)
            );
            let mut warnings: Vec<String> = c
                .findings
                .iter()
                .filter(|f| f.severity != Severity::Fail || c.status == Status::Warn)
                .map(|f| format!("[{}] {}", words::severity_word(f.severity, lang), finding_line(f)))
                .collect();
            if !c.evidence.is_empty() && c.status != Status::Skip {
                let evidence = serde_json::to_string(&c.evidence).unwrap_or_default();
                warnings.push(format!("{}: {evidence}", msg(lang, "render.junit.evidence")));
            }
            let has_body = c.status != Status::Ok || !warnings.is_empty();
            if !has_body {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            let headline = |c: &CheckReport| -> String {
                let lines: Vec<String> = c
                    .findings
                    .iter()
                    .filter(|f| f.severity == Severity::Fail || c.status == Status::Error)
                    .map(finding_line)
                    .collect();
                let line = if lines.is_empty() { c.summary.clone() } else { lines.join("; ") };
                match folded.get(c.id.as_str()) {
                    Some(root) => format!("{} {root} — {line}", msg(lang, "render.human.follows-from")),
                    None => line,
                }
            };
            match c.status {
                Status::Fail => {
                    let code = c.findings.first().map(|f| f.code.as_str()).unwrap_or("FAIL");
                    let _ = writeln!(
                        out,
                        "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                        xml(&headline(c)),
                        xml(code),
                        xml(&finding_details(c, lang))
                    );
                }
                Status::Error => {
                    let code = c.findings.first().map(|f| f.code.as_str()).unwrap_or("ERROR");
                    let _ = writeln!(
                        out,
                        "      <error message=\"{}\" type=\"{}\">{}</error>",
                        xml(&headline(c)),
                        xml(code),
                        xml(&finding_details(c, lang))
                    );
                }
                Status::Skip => {
                    let why = c.summary.as_str();
                    let _ = writeln!(out, "      <skipped message=\"{}\"/>", xml(why));
                }
                Status::Ok | Status::Warn => {}
            }
            if !warnings.is_empty() && c.status != Status::Skip {
                let _ = writeln!(out, "      <system-out>{}</system-out>", xml(&warnings.join("\n")));
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n</testsuites>\n");
        out.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::{timestamp, xml};

    #[test]
    fn timestamps_have_no_fraction_and_no_zone() {
        let ts = |t: &str| timestamp(t.into());
        assert_eq!(ts("2026-11-27T00:11:33.278976105Z").as_deref(), Some("2026-11-27T00:11:33"));
        assert_eq!(ts("2026-11-27T00:11:33Z").as_deref(), Some("2026-11-27T00:11:33"));
        // The time as recorded, not moved to another zone; nothing for an unknown time.
        assert_eq!(ts("2026-11-27T00:11:33-03:00").as_deref(), Some("2026-11-27T00:11:33"));
        assert_eq!(ts("yesterday"), None);
    }

    #[test]
    fn xml_text_is_escaped_and_cleaned() {
        assert_eq!(xml("a<b & \"c\" 'd'>\u{1}"), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
    }
}
