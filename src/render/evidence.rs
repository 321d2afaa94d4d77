//! What the renderers read out of a check's evidence for monitoring: a certificate's expiry and
//! days left, the clock offset, the run's start as a timestamp.

use crate::report::model::{CheckReport, Report};
use serde_json::{Map, Value};

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
