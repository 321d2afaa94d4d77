//! What monitoring reads of a check: the typed [`Measures`] the check recorded (a certificate's
//! expiry and days left, the clock offset and its limits), and the run's start as a timestamp.
//! Renderers format these numbers; they parse no text.
//!
//! Legacy: a saved report written before checks recorded measures has none. For those alone,
//! [`legacy`] reads the same facts from the exact evidence shapes the `cert`, `tls` and `ntp`
//! checks wrote then (fixed paths, the one date format and the one offset text they used).

use crate::report::model::{CheckReport, Measures, Report};

/// The measures of a check; for a report written before measures existed, the legacy reading
/// of its evidence (`run_start`: the run's start, to count a server certificate's days left).
pub(crate) fn measures(check: &CheckReport, run_start: i64) -> Measures {
    if check.measures.is_empty() {
        legacy::measures(check, run_start)
    } else {
        check.measures
    }
}

/// Seconds since the epoch of the run's start (0 when the report does not know it).
pub(crate) fn run_timestamp(report: &Report) -> i64 {
    report.run.started_at.unix().unwrap_or(0)
}

/// Reports written before checks recorded [`Measures`]: the facts read from their evidence.
mod legacy {
    use crate::report::model::{CheckReport, Measures};
    use serde_json::Value;

    pub(super) fn measures(check: &CheckReport, run_start: i64) -> Measures {
        let ev = &check.evidence;
        match check.check.as_str() {
            // `days_left` at the top; the leaf as `certificate`.
            "cert" => Measures {
                expires_at: ev.get("certificate").and_then(|c| c.get("not_after")).and_then(date),
                days_left: ev.get("days_left").and_then(Value::as_i64),
                ..Default::default()
            },
            // The chain as presented, leaf first.
            "tls" => {
                let leaf = ev.get("chain").and_then(|c| c.get(0));
                match leaf.and_then(|l| l.get("not_after")).and_then(date) {
                    Some(t) => Measures::certificate(t, run_start),
                    None => Measures::default(),
                }
            }
            // The best server's offset as text (`12.3 s`, `250 ms`), the limits in seconds.
            "ntp" => {
                let limit = |key: &str| ev.get("thresholds").and_then(|t| t.get(key)).and_then(Value::as_f64);
                let offset_secs = ev.get("offset").and_then(Value::as_str).and_then(offset_text);
                match offset_secs {
                    Some(_) => Measures {
                        offset_secs,
                        offset_warn_secs: limit("warn_secs"),
                        offset_crit_secs: limit("crit_secs"),
                        ..Default::default()
                    },
                    None => Measures::default(),
                }
            }
            _ => Measures::default(),
        }
    }

    /// A certificate date as the checks wrote it: `2027-01-02 03:04:05 UTC`.
    fn date(v: &Value) -> Option<i64> {
        let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
        let t = time::PrimitiveDateTime::parse(v.as_str()?.trim(), &fmt).ok()?;
        Some(t.assume_utc().unix_timestamp())
    }

    /// An offset as the ntp check wrote it (`12.3 s`, `-250 ms`), in seconds.
    fn offset_text(text: &str) -> Option<f64> {
        let (number, scale) = match text.trim().split_once(' ')? {
            (n, "s") => (n, 1.0),
            (n, "ms") => (n, 1000.0),
            _ => return None,
        };
        number.parse::<f64>().ok().filter(|x| x.is_finite()).map(|x| x / scale)
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use serde_json::json;

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
                measures: Measures::default(),
            }
        }

        #[test]
        fn old_reports_give_the_facts_their_checks_wrote() {
            let cert = check("cert", json!({"days_left": 40, "certificate": {"not_after": "2027-01-02 03:04:05 UTC"}}));
            let m = measures(&cert, 0);
            assert_eq!((m.expires_at, m.days_left), (Some(1_798_859_045), Some(40)));
            let tls = check("tls", json!({"chain": [{"not_after": "2027-01-02 03:04:05 UTC"}, {"not_after": "x"}]}));
            let m = measures(&tls, 1_798_859_045 - 86_400 * 3);
            assert_eq!((m.expires_at, m.days_left), (Some(1_798_859_045), Some(3)));
            let ntp = check("ntp", json!({"offset": "-250 ms", "thresholds": {"warn_secs": 1.0, "crit_secs": 10.0}}));
            let m = measures(&ntp, 0);
            assert_eq!((m.offset_secs, m.offset_warn_secs, m.offset_crit_secs), (Some(-0.25), Some(1.0), Some(10.0)));
            assert_eq!(measures(&check("ntp", json!({"offset": "12.5 s"})), 0).offset_secs, Some(12.5));
        }

        #[test]
        fn nothing_is_guessed_from_other_shapes() {
            // The trust store lists many roots; other checks have no expiry or offset.
            assert!(measures(&check("ca", json!({"well_known_roots": [{"not_after": "2027-01-02 03:04:05 UTC"}]})), 0)
                .is_empty());
            assert!(measures(&check("tcp", json!({"offset": "12 ms", "connect_ms": 3})), 0).is_empty());
            assert!(measures(&check("ntp", json!({"offset": "12ms", "servers": [{"offset_secs": 0.5}]})), 0).is_empty());
            assert!(
                measures(&check("tls", json!({"chain": [{"not_after": "Jan  2 03:04:05 2027 GMT"}]})), 0).is_empty()
            );
            assert!(measures(&check("cert", json!({"days_left": "40"})), 0).is_empty());
        }
    }
}
