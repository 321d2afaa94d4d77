//! Findings that only make sense across checks, added once every check has run: a
//! certificate that looks "not yet valid" on a host whose clock is off — the clock, not the
//! certificate, is then the first thing to fix, and both checks say so — and SEI's logged
//! errors against the live checks (`crate::log_correlation`).

use crate::engine::Executed;
use crate::model::code::{self, Code};
use crate::model::Finding;

/// The code added to both the certificate check and the clock check.
pub const CLOCK_AND_CERTIFICATE: Code = code::CERT_NOT_YET_VALID_CLOCK_OFF;

/// What the clock check found wrong, as one value for the message: the measured offset, or the
/// kernel's estimated maximum error when it is unsynchronised.
fn clock_problem(ntp: &Executed) -> Option<String> {
    let findings = &ntp.outcome.findings;
    if let Some(f) = findings.iter().find(|f| f.code == code::NTP_OFFSET_HIGH) {
        return Some(f.params.get("offset").cloned().unwrap_or_else(|| "?".into()));
    }
    findings
        .iter()
        .find(|f| f.code == code::NTP_UNSYNCHRONIZED)
        .map(|f| f.params.get("maxerror_ms").map(|ms| format!("± {ms} ms")).unwrap_or_else(|| "?".into()))
}

/// Adds the cross-check findings to the executed checks, in place.
pub fn correlate(executed: &mut [Executed]) {
    crate::log_correlation::correlate(executed);
    clock_and_certificate(executed);
}

fn clock_and_certificate(executed: &mut [Executed]) {
    let Some(ntp_index) = executed.iter().position(|e| e.kind == "ntp") else { return };
    let Some(clock) = clock_problem(&executed[ntp_index]) else { return };
    let mut subjects = Vec::new();
    for e in executed.iter_mut().filter(|e| e.kind == "cert") {
        let not_yet: Vec<String> = e
            .outcome
            .findings
            .iter()
            .filter(|f| f.code == code::CLIENT_CERT_NOT_YET_VALID)
            .map(|f| f.params.get("subject").cloned().unwrap_or_default())
            .collect();
        for subject in not_yet {
            e.outcome.push(Finding::new(CLOCK_AND_CERTIFICATE).with("subject", &subject).with("clock", &clock));
            subjects.push(subject);
        }
    }
    for subject in subjects {
        executed[ntp_index]
            .outcome
            .push(Finding::new(CLOCK_AND_CERTIFICATE).with("subject", subject).with("clock", &clock));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Outcome;
    use crate::model::Status;
    use std::time::Duration;

    fn executed(id: &str, kind: &'static str, findings: Vec<Finding>) -> Executed {
        let mut outcome = Outcome::new();
        for f in findings {
            outcome.push(f);
        }
        Executed { id: id.into(), kind, target: None, status: Status::Fail, outcome, duration: Duration::ZERO }
    }

    fn codes(e: &Executed) -> Vec<&str> {
        e.outcome.findings.iter().map(|f| f.code.as_str()).collect()
    }

    #[test]
    fn a_not_yet_valid_certificate_and_an_off_clock_point_at_each_other() {
        let mut runs = vec![
            executed(
                "cert:client",
                "cert",
                vec![Finding::new(crate::model::code::CLIENT_CERT_NOT_YET_VALID).with("subject", "CN=orgao")],
            ),
            executed("ntp", "ntp", vec![Finding::new(crate::model::code::NTP_OFFSET_HIGH).with("offset", "-3600.0 s")]),
        ];
        correlate(&mut runs);
        assert_eq!(codes(&runs[0]), ["CLIENT_CERT_NOT_YET_VALID", CLOCK_AND_CERTIFICATE.as_str()]);
        assert_eq!(codes(&runs[1]), ["NTP_OFFSET_HIGH", CLOCK_AND_CERTIFICATE.as_str()]);
        assert_eq!(runs[1].outcome.findings[1].params["clock"], "-3600.0 s");
        assert_eq!(runs[1].outcome.findings[1].params["subject"], "CN=orgao");
    }

    #[test]
    fn nothing_is_added_when_only_one_side_is_wrong() {
        let mut runs = vec![
            executed(
                "cert:client",
                "cert",
                vec![Finding::new(crate::model::code::CLIENT_CERT_NOT_YET_VALID).with("subject", "CN=x")],
            ),
            executed("ntp", "ntp", vec![]),
        ];
        correlate(&mut runs);
        assert_eq!(codes(&runs[0]), ["CLIENT_CERT_NOT_YET_VALID"]);
        let mut runs = vec![
            executed("cert:client", "cert", vec![Finding::new(crate::model::code::CLIENT_CERT_EXPIRED)]),
            executed(
                "ntp",
                "ntp",
                vec![Finding::new(crate::model::code::NTP_UNSYNCHRONIZED).with("maxerror_ms", "16000")],
            ),
        ];
        correlate(&mut runs);
        assert_eq!(codes(&runs[1]), ["NTP_UNSYNCHRONIZED"]);
    }
}
