//! The one pass every text from outside goes through before a renderer sees it: what checks
//! bring back (finding parameters, summary values, evidence at any depth, skip reasons, the
//! check's id and target) and what the host says of itself. Each text is redacted (no secret,
//! in any encoding, no URL password) and its control characters are escaped
//! ([`crate::redact::clean`]). The knowledge base's own words are not touched: its templates are
//! filled afterwards with the cleaned values.

use crate::checks::Outcome;
use crate::engine::Executed;
use crate::redact::{clean_in_place, clean_json_map};
use crate::report::model::{HostInfo, Report};

/// Cleans what one check brought back.
pub fn executed(e: &mut Executed) {
    clean_in_place(&mut e.id);
    if let Some(t) = &mut e.target {
        clean_in_place(t);
    }
    outcome(&mut e.outcome);
}

/// Cleans a check's outcome: parameters, summary values, evidence, skip reason.
pub fn outcome(o: &mut Outcome) {
    for f in &mut o.findings {
        f.params.values_mut().for_each(clean_in_place);
    }
    o.summary.values_mut().for_each(clean_in_place);
    clean_json_map(&mut o.evidence);
    if let Some(why) = &mut o.skipped_because {
        clean_in_place(why);
    }
}

/// Cleans what the host says of itself (its name, OS and kernel come from its files).
pub fn host(h: &mut HostInfo) {
    for text in [&mut h.hostname, &mut h.os, &mut h.os_family, &mut h.kernel] {
        clean_in_place(text);
    }
}

/// Cleans every text of a report read back from a file (`merge`, `diff`): the file came from
/// elsewhere, so its words are treated as text from outside too.
pub fn report(r: &mut Report) {
    for text in [&mut r.tool.name, &mut r.tool.version, &mut r.run.environment] {
        clean_in_place(text);
    }
    clean_in_place(&mut r.summary.status);
    host(&mut r.run.host);
    r.run.discovered.values_mut().for_each(clean_in_place);
    for cause in &mut r.diagnosis {
        for text in
            [&mut cause.code, &mut cause.check, &mut cause.first_step, &mut cause.message, &mut cause.kb.article]
        {
            clean_in_place(text);
        }
        cause.explains.iter_mut().for_each(clean_in_place);
    }
    for c in &mut r.checks {
        for text in [&mut c.id, &mut c.check, &mut c.summary] {
            clean_in_place(text);
        }
        for text in c.target.iter_mut().chain(c.skipped_because.iter_mut()) {
            clean_in_place(text);
        }
        clean_json_map(&mut c.evidence);
        for f in &mut c.findings {
            for text in [&mut f.code, &mut f.message, &mut f.kb.article, &mut f.kb.title, &mut f.kb.url] {
                clean_in_place(text);
            }
            f.fix.iter_mut().for_each(clean_in_place);
            f.params.values_mut().for_each(clean_in_place);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::checks::Outcome;
    use crate::engine::Executed;
    use crate::host::OsFamily;
    use crate::kb::Lang;
    use crate::report::model::{Finding, HostInfo, Status};
    use crate::report::{build, RunMeta};
    use serde_json::json;

    const SECRET: &str = "Clean-Pass-Test-71";

    fn executed(outcome: Outcome, status: Status) -> Executed {
        Executed {
            id: "http:pi\u{1b}[2J".into(),
            kind: "http",
            target: Some("pi\u{7}".into()),
            status,
            outcome,
            duration: std::time::Duration::from_millis(1),
        }
    }

    fn meta() -> RunMeta {
        RunMeta {
            started_at: "2026-01-01T00:00:00Z".into(),
            duration_ms: 1,
            environment: "producao".into(),
            host: HostInfo {
                hostname: "node\u{1b}]0;x\u{7}".into(),
                os: "Debian\u{202e}".into(),
                os_family: "debian".into(),
                kernel: "6.1".into(),
            },
            lang: Lang::En,
            os_family: OsFamily::Debian,
            discovered: Default::default(),
        }
    }

    #[test]
    fn the_report_carries_no_secret_and_no_control_character() {
        crate::redact::register_credentials("usuario-pi", SECRET);
        let basic = openssl::base64::encode_block(format!("usuario-pi:{SECRET}").as_bytes());
        let o = Outcome::new()
            .finding(
                Finding::new(crate::model::code::HTTP_UNEXPECTED_RESPONSE)
                    .with("url", "https://usuario-pi:Unregistered-9@pi.test/ws?wsdl")
                    .with("status", 200)
                    .with("detail", format!("got: \u{1b}[31m{basic}\u{0}\r\nsenha={SECRET}")),
            )
            .evidence("requests", json!([{"body\u{202e}": [format!("{SECRET}\u{7}"), 3]}]))
            .summary("url", format!("https://pi.test/\u{1b}{SECRET}"));
        let skipped = Outcome::skipped(format!("tls:pi (fail)\n\u{1b}{SECRET}"));
        let report = build(vec![executed(o, Status::Fail), executed(skipped, Status::Skip)], meta());
        let text = serde_json::to_string(&report).unwrap();
        for leak in [SECRET, basic.trim_end_matches('='), "Unregistered-9", "\\u001b", "\\u0007", "\\u0000", "\u{202e}"]
        {
            assert!(!text.contains(leak), "{leak:?} in {text}");
        }
        let f = &report.checks[0].findings[0];
        // The knowledge base's words around the filled-in values are untouched.
        assert_eq!(
            f.message,
            "https://usuario-pi:***@pi.test/ws?wsdl answered HTTP 200 with unexpected content: \
             got: \\x1b[31m***\\x00\\r\\nsenha=***."
        );
        assert_eq!(report.checks[0].id, "http:pi\\x1b[2J");
        assert_eq!(report.checks[0].target.as_deref(), Some("pi\\x07"));
        assert_eq!(report.checks[0].evidence["requests"][0]["body\\u{202e}"][0], "***\\x07");
        assert_eq!(report.checks[1].summary, "tls:pi (fail)\\n\\x1b***");
        assert_eq!(report.run.host.hostname, "node\\x1b]0;x\\x07");
    }

    #[test]
    fn a_report_read_back_is_cleaned_whole() {
        let mut report = build(vec![executed(Outcome::new(), Status::Ok)], meta());
        report.checks[0].summary = "ok\u{1b}[1m".into();
        report.checks[0].findings.push(crate::report::model::ReportedFinding {
            code: "X\u{7}".into(),
            severity: crate::report::model::Severity::Warn,
            message: "see http://a:b@h/\u{9b}".into(),
            kb: crate::report::model::KbRef {
                article: "A\u{0}".into(),
                cause: None,
                title: "t".into(),
                url: "u".into(),
            },
            fix: vec!["step\u{202e}".into()],
            params: [("k".to_string(), "v\u{1b}".to_string())].into_iter().collect(),
        });
        super::report(&mut report);
        let text = serde_json::to_string(&report).unwrap();
        assert!(!text.contains("\\u001b") && !text.contains("\\u0007") && !text.contains('\u{9b}'), "{text}");
        assert!(text.contains("see http://a:***@h/\\\\u{9b}"), "{text}");
    }
}
