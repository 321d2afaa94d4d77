//! The report for a support ticket, in Markdown: host, OS, environment, tool and module version
//! and time; the diagnosis (the probable cause, what to do first, what it explains); a table of
//! the checks with the consequences folded under their cause; each finding with its article,
//! cause and fix for this host's OS family (commands in code spans); and the reply template of
//! the main cause's article with the cause filled in. Everything that came from outside (peers'
//! answers, file contents, host names) is escaped: it renders as the text it is.

use super::contract::Render;
use super::words::{self, count, severity_word, status_word};
use crate::messages::msg;
use crate::model::Lang;
use crate::report::model::{Cause, KbWords, Report, Status};
use std::fmt::Write;

pub struct Markdown;

/// Text made safe inside Markdown: no HTML, no emphasis, no link, no table break, one line.
pub(crate) fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '&' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text as an inline code span: as many backticks around it as it needs (CommonMark §6.1).
pub(crate) fn code(text: &str) -> String {
    let text: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') || text.starts_with(' ') { " " } else { "" };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// Programs a fix step may start with: such a step (or the part after "…: ") is a command.
const COMMANDS: &[&str] = &[
    "apt-get",
    "awk",
    "cat",
    "chkconfig",
    "chmod",
    "chown",
    "chronyc",
    "cp",
    "curl",
    "date",
    "df",
    "dig",
    "dnf",
    "docker",
    "echo",
    "file",
    "find",
    "firewall-cmd",
    "gearadmin",
    "getent",
    "grep",
    "head",
    "id",
    "iptables",
    "journalctl",
    "ls",
    "mkdir",
    "mysql",
    "namei",
    "netstat",
    "nft",
    "nmcli",
    "ntpq",
    "openssl",
    "pen-doctor",
    "php",
    "ps",
    "resolvectl",
    "restorecon",
    "SELECT",
    "sed",
    "service",
    "SHOW",
    "ss",
    "su",
    "sudo",
    "supervisorctl",
    "systemctl",
    "tail",
    "timedatectl",
    "timeout",
    "tr",
    "tracepath",
    "trust",
    "update-ca-certificates",
    "update-ca-trust",
    "yum",
];

fn is_command(text: &str) -> bool {
    text.split_whitespace().next().is_some_and(|w| COMMANDS.contains(&w))
}

/// A fix step: a command in a code span, prose escaped ("Confira: grep …" → prose, then code).
pub(crate) fn step(s: &str) -> String {
    if is_command(s) {
        return code(s);
    }
    if let Some((prose, cmd)) = s.split_once(": ") {
        if is_command(cmd) {
            // A remark in parentheses after the command stays prose.
            return match cmd.split_once(" (") {
                Some((cmd, remark)) => format!("{}: {} ({}", text(prose), code(cmd), text(remark)),
                None => format!("{}: {}", text(prose), code(cmd)),
            };
        }
    }
    text(s)
}

/// The KB line of a finding or cause: the article linked, and its numbered cause.
fn article_line(kb: &KbWords, article: &str, cause: Option<u32>, lang: Lang) -> Option<String> {
    let a = kb.articles.get(article)?;
    let cause = cause
        .map(|n| {
            let t = kb.cause_title(article, n).unwrap_or_default();
            format!(" — {} {n}: {}", msg(lang, "fleet.cause"), text(t))
        })
        .unwrap_or_default();
    Some(format!("[{}]({}){cause}", text(&a.id), a.url.replace(' ', "%20").replace(')', "%29")))
}

fn diagnosis(out: &mut String, report: &Report) {
    let lang = report.lang;
    let _ = writeln!(out, "## {}\n", msg(lang, "render.human.diagnosis"));
    if report.diagnosis.is_empty() {
        let _ = writeln!(out, "{}\n", msg(lang, "render.markdown.no-failure-or-warning"));
        return;
    }
    for (i, cause) in report.diagnosis.iter().enumerate() {
        let label =
            if i == 0 { msg(lang, "render.human.probable-cause") } else { msg(lang, "render.human.other-cause") };
        let _ = writeln!(
            out,
            "{}. **{label}:** {} — {} ({}): {}",
            i + 1,
            code(&cause.check),
            code(&cause.code),
            severity_word(cause.severity, lang),
            text(&cause.message)
        );
        if !cause.first_step.is_empty() {
            let _ = writeln!(out, "   - **{}:** {}", msg(lang, "render.human.do-first"), step(&cause.first_step));
        }
        if !cause.explains.is_empty() {
            let list: Vec<String> = cause.explains.iter().map(|e| code(e)).collect();
            let _ = writeln!(out, "   - **{}:** {}", msg(lang, "render.human.explains"), list.join(", "));
        }
        if let Some(line) = article_line(&report.kb_words, &cause.kb.article, cause.kb.cause, lang) {
            let _ = writeln!(out, "   - **{}:** {line}", msg(lang, "fleet.article"));
        }
    }
    out.push('\n');
}

/// The reply template of the main cause's article, its "[… DIAGNÓSTICO]" placeholder filled with
/// the cause; the placeholders left for the support desk (person, ticket number) stay, in bold.
fn reply(out: &mut String, kb: &KbWords, cause: &Cause, lang: Lang) {
    let Some(a) = kb.replies.get(&cause.kb.article) else { return };
    let template = a.template.trim();
    if template.is_empty() {
        return;
    }
    let filled = match cause.kb.cause.and_then(|n| kb.cause_title(&cause.kb.article, n)) {
        Some(t) => format!("{t} — {}", cause.message.trim_end_matches('.')),
        None => cause.message.trim_end_matches('.').to_string(),
    };
    let _ = writeln!(out, "## {}\n", msg(lang, "render.markdown.ticket-reply-template"));
    let _ = writeln!(out, "{} — {}\n", text(&a.id), text(&a.title));
    let _ = writeln!(out, "*{}*\n", msg(lang, "render.markdown.the-cause-is-filled-in-from-the"));
    for line in template.lines() {
        let _ = writeln!(out, "> {}", fill_placeholders(line, &filled));
    }
    out.push('\n');
}

/// One line of a reply template: "[…DIAGNÓSTICO]"/"[…DIAGNOSTIC]" becomes the cause; any other
/// "[PLACEHOLDER]" stays, in bold, for the support desk; the rest is escaped.
fn fill_placeholders(line: &str, cause: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('[') {
        let Some(len) = rest[start..].find(']') else { break };
        out.push_str(&text(&rest[..start]));
        let inner = &rest[start + 1..start + len];
        if inner.contains("DIAGNÓSTICO") || inner.contains("DIAGNOSTIC") {
            out.push_str(&text(cause));
        } else {
            let _ = write!(out, "**\\[{}\\]**", text(inner));
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(&text(rest));
    out
}

impl Render for Markdown {
    fn render(&self, report: &Report) -> Vec<u8> {
        let lang = report.lang;
        let mut out = String::new();
        let h = &report.run.host;
        let _ = writeln!(out, "# {}\n", msg(lang, "render.markdown.pen-doctor-report"));
        let _ = writeln!(out, "| | |\n|---|---|");
        let _ = writeln!(out, "| Host | {} |", text(&h.hostname));
        let _ = writeln!(
            out,
            "| {} | {} ({}, kernel {}) |",
            msg(lang, "render.markdown.os"),
            text(&h.os),
            text(&h.os_family),
            text(&h.kernel)
        );
        let env = words::environment_word(&report.run.environment, lang);
        let _ = writeln!(out, "| {} | {} |", msg(lang, "fleet.environment-2"), text(&env));
        if let Some(line) = words::configuration_line(report) {
            let _ = writeln!(out, "| {} | {} |", msg(lang, "render.human.configuration"), text(&line));
        }
        let _ = writeln!(out, "| pen-doctor | {} |", text(&report.tool.version));
        let module = words::module_version(report);
        let _ = writeln!(
            out,
            "| {} | {} |",
            msg(lang, "render.human.mod-sei-pen-module"),
            module.map(text).unwrap_or_else(|| msg(lang, "render.markdown.not-identified").to_string())
        );
        let _ = writeln!(
            out,
            "| {} | {} ({} ms) |",
            msg(lang, "fleet.run"),
            text(&super::words::time_word(report.run.started_at, lang)),
            report.run.duration_ms
        );
        let s = &report.summary;
        let overall = match s.status.as_str() {
            "fail" => status_word(Status::Fail, lang),
            "warn" => status_word(Status::Warn, lang),
            _ => "ok",
        };
        let _ = writeln!(
            out,
            "| {} | **{overall}** — {} ok, {}, {}, {}, {} |\n",
            msg(lang, "fleet.result"),
            s.ok,
            count(s.warn, msg(lang, "render.human.warning"), msg(lang, "render.human.warnings")),
            count(s.fail, msg(lang, "render.human.failure"), msg(lang, "render.human.failures")),
            count(s.skip, msg(lang, "fleet.skipped"), msg(lang, "render.human.skipped")),
            count(s.error, msg(lang, "fleet.error"), msg(lang, "render.human.errors")),
        );
        diagnosis(&mut out, report);
        let folded = crate::report::diagnosis::folded_under(&report.diagnosis);
        let _ = writeln!(out, "## {}\n", msg(lang, "fleet.checks"));
        let _ = writeln!(
            out,
            "| {} | Status | {} | ms |\n|---|---|---|---|",
            msg(lang, "fleet.check-2"),
            msg(lang, "render.human.summary")
        );
        for c in report.checks.iter().filter(|c| !folded.contains_key(c.id.as_str())) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                code(&c.id),
                status_word(c.status, lang),
                text(&c.summary),
                c.duration_ms
            );
            for d in report.checks.iter().filter(|d| folded.get(d.id.as_str()) == Some(&c.id.as_str())) {
                let why = match d.status {
                    Status::Skip => msg(lang, "render.human.not-run-because-of"),
                    _ => msg(lang, "render.human.follows-from"),
                };
                let _ = writeln!(
                    out,
                    "| ↳ {} | {} | {why} {} | {} |",
                    code(&d.id),
                    status_word(d.status, lang),
                    code(&c.id),
                    d.duration_ms
                );
            }
        }
        let with_findings: Vec<_> =
            report.checks.iter().filter(|c| !c.findings.is_empty() && !folded.contains_key(c.id.as_str())).collect();
        if !with_findings.is_empty() {
            let _ = writeln!(out, "\n## {}\n", msg(lang, "render.markdown.findings"));
        }
        for c in with_findings {
            for f in &c.findings {
                let _ =
                    writeln!(out, "### {} — {} ({})\n", code(&f.code), code(&c.id), severity_word(f.severity, lang));
                let _ = writeln!(out, "{}\n", text(&f.message));
                if let Some(root) = f.params.get("folded_under") {
                    let _ = writeln!(out, "*{} {}*\n", msg(lang, "render.markdown.follows-from"), code(root));
                    continue;
                }
                if let Some(line) = article_line(&report.kb_words, &f.kb.article, f.kb.cause, lang) {
                    let _ = writeln!(out, "- **{}:** {line}", msg(lang, "fleet.article"));
                    let _ = writeln!(out, "- *{}*", text(&f.kb.title));
                }
                if !f.fix.is_empty() {
                    let _ = writeln!(out, "\n**{} ({}):**\n", msg(lang, "fleet.how-to-fix"), text(&report.run.host.os));
                    for (i, s) in f.fix.iter().enumerate() {
                        let _ = writeln!(out, "{}. {}", i + 1, step(s));
                    }
                }
                out.push('\n');
            }
        }
        if let Some(main) = report.diagnosis.first() {
            out.push('\n');
            reply(&mut out, &report.kb_words, main, lang);
        }
        out.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_become_code_spans_and_prose_is_escaped() {
        assert_eq!(
            step("Procure o arquivo: find /opt/sei/config -name '*.pem'"),
            "Procure o arquivo: `find /opt/sei/config -name '*.pem'`"
        );
        assert_eq!(step("systemctl restart chrony"), "`systemctl restart chrony`");
        assert_eq!(step("No nó: pen-doctor check (lê /opt/sei)."), "No nó: `pen-doctor check` (lê /opt/sei).");
        assert_eq!(step("Use *isto* <b>"), "Use \\*isto\\* \\<b\\>");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
    }

    #[test]
    fn the_diagnosis_fills_its_placeholder_and_the_others_stay_marked() {
        let line = fill_placeholders(
            "Prezado(a) [NOME DO SOLICITANTE], causa: [CAUSA APONTADA PELO DIAGNÓSTICO].",
            "DNS *morto*",
        );
        assert_eq!(line, "Prezado(a) **\\[NOME DO SOLICITANTE\\]**, causa: DNS \\*morto\\*.");
    }
}
