//! Renderers: one output format per file behind the small `Render` trait. They only format the
//! report they are given; they never probe.

pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod nagios;
pub mod prometheus;

use crate::cli::FormatArg;
use crate::kb::Lang;
use crate::report::model::{CheckReport, Report};
use serde_json::{Map, Value};

/// Turns a report into the bytes of one format.
pub trait Render {
    fn render(&self, report: &Report) -> Vec<u8>;
}

/// The renderer for a format.
pub fn renderer(format: FormatArg, color: bool) -> Box<dyn Render> {
    renderer_for(format, color, false)
}

/// The renderer of a run: its format, colour, `--strict` and `--nagios-max-output`.
pub fn for_run(settings: &crate::settings::Settings) -> Box<dyn Render> {
    match settings.format {
        FormatArg::Nagios => {
            Box::new(nagios::Nagios { strict: settings.strict, max_output: settings.nagios_max_output })
        }
        format => renderer_for(format, settings.color, settings.strict),
    }
}

/// The renderer for a format; `strict` (`--strict`) makes a warning critical for nagios.
pub fn renderer_for(format: FormatArg, color: bool, strict: bool) -> Box<dyn Render> {
    match format {
        FormatArg::Json => Box::new(json::Json),
        FormatArg::Markdown => Box::new(markdown::Markdown),
        FormatArg::Junit => Box::new(junit::Junit),
        FormatArg::Nagios => Box::new(nagios::Nagios { strict, max_output: nagios::NRPE_MAX_OUTPUT }),
        FormatArg::Prometheus => Box::new(prometheus::Prometheus),
        FormatArg::Human => Box::new(human::Human { color }),
    }
}

/// A word of the renderers' own vocabulary in the report's language.
pub(crate) fn word(lang: Lang, pt: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Pt => pt,
        Lang::En => en,
    }
}

/// The installed mod-sei-pen version: the node facts', else what discovery read.
pub(crate) fn module_version(report: &Report) -> Option<&str> {
    report
        .node
        .as_ref()
        .and_then(|n| n.module_version.as_deref())
        .or_else(|| report.run.discovered.get("module_version").map(String::as_str))
}

/// An environment's name as prose: "produção", "homologação" (the identifiers `producao`,
/// `homologacao` stay for flags and machines).
pub(crate) fn environment_word(env: &str, lang: Lang) -> String {
    match (env, lang) {
        ("producao", Lang::Pt) => "produção".into(),
        ("homologacao", Lang::Pt) => "homologação".into(),
        ("producao", Lang::En) => "production".into(),
        ("homologacao", Lang::En) => "staging".into(),
        ("desenvolvimento", Lang::En) => "development".into(),
        (other, _) => other.into(),
    }
}

/// Which configuration the run used and why, in one sentence (from `run.discovered`); `None`
/// for a report without it (older, or of `pen-doctor cert`).
pub(crate) fn configuration_line(report: &Report) -> Option<String> {
    let lang = report.lang;
    let d = &report.run.discovered;
    let dir = d.get("sei_dir")?;
    let env = environment_word(&report.run.environment, lang);
    let mut line = match d.get("sei").map(String::as_str) {
        Some("found") => format!("{} {dir}", word(lang, "SEI lido em", "SEI read from")),
        Some("unreadable") => format!(
            "{} {dir} {}",
            word(lang, "SEI em", "SEI at"),
            word(
                lang,
                "com a configuração ilegível (veja config:sei)",
                "with its configuration unreadable (see config:sei)"
            )
        ),
        Some("skipped") => format!(
            "{} {dir} {}",
            word(lang, "configuração do SEI em", "SEI's configuration at"),
            word(lang, "não lida (pulada com --skip config)", "not read (skipped with --skip config)")
        ),
        _ => format!(
            "{} {dir} ({})",
            word(lang, "nenhuma instalação do SEI em", "no SEI installation at"),
            word(lang, "informe a pasta com --sei-dir", "give its directory with --sei-dir")
        ),
    };
    let urls = d.get("urls").map(String::as_str).unwrap_or_default();
    let mut said = Vec::new();
    for source in urls.split(',').filter(|s| !s.is_empty()) {
        said.push(match source {
            "sei-config" => {
                word(lang, "endereços da configuração do SEI", "addresses from SEI's configuration").to_string()
            }
            "endpoint" => word(lang, "endereços de --endpoint", "addresses from --endpoint").to_string(),
            _ => format!(
                "{} {env} {}",
                word(lang, "endereços oficiais de", "official"),
                word(
                    lang,
                    "embutidos no pen-doctor (--env para outro ambiente)",
                    "addresses built into pen-doctor (--env for another environment)"
                )
            ),
        });
    }
    if !said.is_empty() {
        line.push_str("; ");
        line.push_str(&said.join("; "));
    }
    Some(line)
}

/// A count with its noun in the singular or the plural: "1 falha", "3 falhas", "0 falhas".
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A finding's severity as a person reads it in the report's language.
pub(crate) fn severity_word(severity: crate::report::model::Severity, lang: Lang) -> &'static str {
    use crate::report::model::Severity;
    match severity {
        Severity::Fail => word(lang, "falha", "fail"),
        Severity::Warn => word(lang, "aviso", "warn"),
        Severity::Info => "info",
    }
}

/// A check's status as a person reads it in the report's language.
pub(crate) fn status_word(status: crate::report::model::Status, lang: Lang) -> &'static str {
    use crate::report::model::Status;
    match status {
        Status::Ok => "ok",
        Status::Warn => word(lang, "aviso", "warn"),
        Status::Fail => word(lang, "falha", "fail"),
        Status::Skip => word(lang, "pulada", "skip"),
        Status::Error => word(lang, "erro", "error"),
    }
}

/// The first value under `key` in the evidence, looking at the top level first and then, breadth
/// first, inside nested objects and arrays (a certificate's `not_after` may sit in `leaf` or in the
/// first element of `chain`). Tolerant on purpose: checks shape their evidence freely.
pub(crate) fn evidence_value<'a>(evidence: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    let mut queue: std::collections::VecDeque<&Value> = std::collections::VecDeque::new();
    if let Some(v) = evidence.get(key) {
        return Some(v);
    }
    queue.extend(evidence.values());
    let mut visited = 0;
    while let Some(v) = queue.pop_front() {
        visited += 1;
        if visited > 10_000 {
            break;
        }
        match v {
            Value::Object(m) => {
                if let Some(found) = m.get(key) {
                    return Some(found);
                }
                queue.extend(m.values());
            }
            Value::Array(a) => queue.extend(a.iter()),
            _ => {}
        }
    }
    None
}

/// A number, or a string holding one (optionally with a unit suffix such as `ms` or `s`).
fn number_of(v: &Value) -> Option<(f64, &str)> {
    match v {
        Value::Number(n) => n.as_f64().map(|x| (x, "")),
        Value::String(s) => {
            let s = s.trim();
            let end = s.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+')).unwrap_or(s.len());
            let (num, unit) = s.split_at(end);
            num.parse::<f64>().ok().filter(|x| x.is_finite()).map(|x| (x, unit.trim()))
        }
        _ => None,
    }
}

/// Seconds since the epoch of a date as checks write it: RFC 3339, OpenSSL's
/// `Jan  2 03:04:05 2027 GMT`, or a number of seconds.
fn timestamp_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => {
            use time::format_description::well_known::{Rfc2822, Rfc3339};
            let s = s.trim();
            if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
                return Some(t.unix_timestamp());
            }
            if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc2822) {
                return Some(t.unix_timestamp());
            }
            let utc = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
            if let Ok(t) = time::PrimitiveDateTime::parse(s, &utc) {
                return Some(t.assume_utc().unix_timestamp());
            }
            let fmt = time::macros::format_description!(
                "[month repr:short] [day padding:space] [hour]:[minute]:[second] [year] GMT"
            );
            let collapsed = s.split_whitespace().collect::<Vec<_>>();
            if collapsed.len() == 5 {
                let day = format!("{:>2}", collapsed[1]);
                let text = format!("{} {} {} {} {}", collapsed[0], day, collapsed[2], collapsed[3], collapsed[4]);
                if let Ok(t) = time::PrimitiveDateTime::parse(&text, &fmt) {
                    return Some(t.assume_utc().unix_timestamp());
                }
            }
            s.parse::<i64>().ok()
        }
        _ => None,
    }
}

/// The first of `keys` in the evidence: every key at the top level first, then nested.
fn first_of<'a>(evidence: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|k| evidence.get(*k)).or_else(|| keys.iter().find_map(|k| evidence_value(evidence, k)))
}

/// Checks whose evidence lists many certificates (the trust store) have no single expiry.
fn about_one_certificate(check: &CheckReport) -> bool {
    check.check != "ca"
}

/// The certificate expiry a check's evidence records (`not_after_ts`, else a `not_after` date), as
/// seconds since the epoch. The top level wins; else the first certificate found (the leaf).
pub(crate) fn cert_not_after(check: &CheckReport) -> Option<i64> {
    if !about_one_certificate(check) {
        return None;
    }
    first_of(&check.evidence, &["not_after_ts", "not_after", "expires_at", "valid_until"]).and_then(timestamp_of)
}

/// Days left on the certificate a check's evidence records (from `days_left`, else `not_after`).
pub(crate) fn cert_days_left(check: &CheckReport, now: i64) -> Option<i64> {
    if !about_one_certificate(check) {
        return None;
    }
    if let Some((d, _)) = check.evidence.get("days_left").and_then(number_of) {
        return Some(d.floor() as i64);
    }
    cert_not_after(check).map(|t| (t - now).div_euclid(86_400))
}

/// The clock offset in seconds a check's evidence records (`offset_ms`; `offset_secs`/`offset_s`;
/// `offset`, in seconds unless it carries a unit such as `12 ms`).
pub(crate) fn ntp_offset_seconds(check: &CheckReport) -> Option<f64> {
    let keys = ["offset_ms", "offset_secs", "offset_s", "offset_seconds", "offset"];
    let (key, value) = keys
        .iter()
        .find_map(|k| check.evidence.get(*k).map(|v| (*k, v)))
        .or_else(|| keys.iter().find_map(|k| evidence_value(&check.evidence, k).map(|v| (*k, v))))?;
    let (x, unit) = number_of(value)?;
    Some(match (key, unit) {
        ("offset_ms", _) | (_, "ms") => x / 1000.0,
        (_, "us") | (_, "µs") => x / 1_000_000.0,
        _ => x,
    })
}

/// Seconds since the epoch of the run's start (0 when the report's date cannot be read).
pub(crate) fn run_timestamp(report: &Report) -> i64 {
    timestamp_of(&Value::String(report.run.started_at.clone())).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_in_the_shapes_checks_write_them() {
        assert_eq!(timestamp_of(&json!("2027-01-02T03:04:05Z")), Some(1_798_859_045));
        assert_eq!(timestamp_of(&json!("Jan  2 03:04:05 2027 GMT")), Some(1_798_859_045));
        assert_eq!(timestamp_of(&json!("Jan 2 03:04:05 2027 GMT")), Some(1_798_859_045));
        assert_eq!(timestamp_of(&json!(1_798_859_045)), Some(1_798_859_045));
        assert_eq!(timestamp_of(&json!("2027-01-02 03:04:05 UTC")), Some(1_798_859_045));
        assert_eq!(timestamp_of(&json!("soon")), None);
    }

    fn check(kind: &str, evidence: Value) -> CheckReport {
        CheckReport {
            id: kind.into(),
            check: kind.into(),
            target: None,
            status: crate::report::model::Status::Ok,
            duration_ms: 1,
            summary: String::new(),
            findings: Vec::new(),
            evidence: evidence.as_object().cloned().unwrap_or_default(),
            skipped_because: None,
        }
    }

    #[test]
    fn facts_for_monitoring_are_read_from_the_evidence_checks_write() {
        // The NTP check: the best server's offset as text, each server's in seconds.
        let ntp = check("ntp", json!({"servers": [{"offset_secs": 0.5}], "offset": "12 ms"}));
        assert_eq!(ntp_offset_seconds(&ntp), Some(0.012));
        assert_eq!(ntp_offset_seconds(&check("ntp", json!({"offset": "1.5 s"}))), Some(1.5));
        assert_eq!(ntp_offset_seconds(&check("ntp", json!({"servers": [{"offset_secs": -0.25}]}))), Some(-0.25));
        // The client certificate: days left at the top, the leaf's dates nested.
        let cert = check("cert", json!({"days_left": 40, "certificate": {"not_after": "2027-01-02 03:04:05 UTC"}}));
        assert_eq!(cert_days_left(&cert, 0), Some(40));
        assert_eq!(cert_not_after(&cert), Some(1_798_859_045));
        let tls = check("tls", json!({"chain": [{"not_after_ts": 1_798_859_045}, {"not_after_ts": 1}]}));
        assert_eq!(cert_not_after(&tls), Some(1_798_859_045));
        assert_eq!(cert_days_left(&tls, 1_798_859_045 - 86_400 * 3), Some(3));
        // The trust store lists many roots: no single expiry.
        assert_eq!(cert_not_after(&check("ca", json!({"well_known_roots": [{"not_after": 1}]}))), None);
        assert_eq!(ntp_offset_seconds(&check("tcp", json!({"connect_ms": 3}))), None);
    }

    #[test]
    fn evidence_keys_are_found_nested() {
        let m = json!({"chain": [{"subject": "x", "not_after": "2027-01-02T03:04:05Z"}], "offset": "12ms"});
        let m = m.as_object().cloned().unwrap_or_default();
        assert!(evidence_value(&m, "not_after").is_some());
        let (x, unit) = number_of(evidence_value(&m, "offset").unwrap_or(&Value::Null)).unwrap_or((0.0, ""));
        assert_eq!((x, unit), (12.0, "ms"));
    }
}
