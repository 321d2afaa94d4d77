//! Prometheus text exposition format for node_exporter's textfile collector. Every metric has
//! HELP and TYPE lines; label values are escaped. `pen_doctor_check_status` is one series per
//! check whose value is the check's status (0 ok, 1 warn, 2 fail, 3 error, 4 skip): no label
//! changes with the status, so a series lives as long as the check and alerts can use `for:`.
//! Certificate expiry is given for the agency's own certificates (the `cert` checks), the ones
//! it must renew itself.

use super::contract::Render;
use super::evidence::{measures, run_timestamp};
use crate::report::model::{CheckReport, Report, Status};
use std::collections::BTreeMap;
use std::fmt::Write;

pub struct Prometheus;

/// The numeric value of a status in `pen_doctor_check_status`.
pub fn status_value(status: Status) -> u8 {
    match status {
        Status::Ok => 0,
        Status::Warn => 1,
        Status::Fail => 2,
        Status::Error => 3,
        Status::Skip => 4,
    }
}

/// A label value escaped as the exposition format asks (`\\`, `\"`, `\n`).
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A floating-point sample value in the exposition format.
fn float(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{x}")
    }
}

fn check_labels(c: &CheckReport) -> String {
    format!(
        "check=\"{}\",id=\"{}\",target=\"{}\"",
        escape(&c.check),
        escape(&c.id),
        escape(c.target.as_deref().unwrap_or(""))
    )
}

/// Writes one metric family: HELP, TYPE and its samples (`labels`, value); nothing when empty.
fn family(out: &mut String, name: &str, help: &str, samples: &[(String, String)]) {
    if samples.is_empty() {
        return;
    }
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    for (labels, value) in samples {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {value}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    }
}

impl Render for Prometheus {
    fn render(&self, report: &Report) -> Vec<u8> {
        let mut out = String::new();
        let env = escape(&report.run.environment);
        let started = run_timestamp(report);
        family(
            &mut out,
            "pen_doctor_up",
            "1 when pen-doctor ran and wrote this report.",
            &[(String::new(), "1".into())],
        );
        family(
            &mut out,
            "pen_doctor_run_timestamp_seconds",
            "When the run started, in seconds since the epoch.",
            &[(String::new(), started.to_string())],
        );
        family(
            &mut out,
            "pen_doctor_run_duration_seconds",
            "Wall time of the whole run.",
            &[(String::new(), float(report.run.duration_ms as f64 / 1000.0))],
        );
        let s = &report.summary;
        let overall = match s.status.as_str() {
            "ok" => 0,
            "warn" => 1,
            _ => 2,
        };
        family(
            &mut out,
            "pen_doctor_status",
            "Overall result of the run: 0 ok, 1 warn, 2 fail.",
            &[(format!("environment=\"{env}\""), overall.to_string())],
        );
        family(
            &mut out,
            "pen_doctor_checks",
            "Number of checks per status in the run.",
            &[("ok", s.ok), ("warn", s.warn), ("fail", s.fail), ("error", s.error), ("skip", s.skip)]
                .iter()
                .map(|(st, n)| (format!("status=\"{st}\""), n.to_string()))
                .collect::<Vec<_>>(),
        );
        family(
            &mut out,
            "pen_doctor_check_status",
            "Status of each check: 0 ok, 1 warn, 2 fail, 3 error, 4 skip.",
            &report.checks.iter().map(|c| (check_labels(c), status_value(c.status).to_string())).collect::<Vec<_>>(),
        );
        family(
            &mut out,
            "pen_doctor_check_duration_seconds",
            "Wall time of each check.",
            &report
                .checks
                .iter()
                .filter(|c| c.status != Status::Skip)
                .map(|c| (check_labels(c), float(c.duration_ms as f64 / 1000.0)))
                .collect::<Vec<_>>(),
        );
        family(
            &mut out,
            "pen_doctor_certificate_expiry_timestamp_seconds",
            "Expiry (notAfter) of the agency's own certificates (client certificates), in seconds since the epoch.",
            &report
                .checks
                .iter()
                .filter(|c| c.check == "cert")
                .filter_map(|c| measures(c, started).expires_at.map(|t| (check_labels(c), t.to_string())))
                .collect::<Vec<_>>(),
        );
        family(
            &mut out,
            "pen_doctor_ntp_offset_seconds",
            "Offset of the local clock against the NTP servers.",
            &report
                .checks
                .iter()
                .filter_map(|c| measures(c, started).offset_secs.map(|x| (check_labels(c), float(x))))
                .collect::<Vec<_>>(),
        );
        let mut findings: BTreeMap<(String, String, String), usize> = BTreeMap::new();
        for c in &report.checks {
            for f in &c.findings {
                *findings.entry((c.id.clone(), f.code.clone(), f.severity.as_str().to_string())).or_default() += 1;
            }
        }
        family(
            &mut out,
            "pen_doctor_findings",
            "Findings of the run by check, code and severity.",
            &findings
                .iter()
                .map(|((id, code, sev), n)| {
                    (
                        format!("id=\"{}\",code=\"{}\",severity=\"{}\"", escape(id), escape(code), escape(sev)),
                        n.to_string(),
                    )
                })
                .collect::<Vec<_>>(),
        );
        out.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(float(0.25), "0.25");
        assert_eq!(float(f64::NAN), "NaN");
    }
}
