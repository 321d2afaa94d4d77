//! What SEI logged against what the live checks see now, once every check has run. A class of
//! logged errors whose live checks (the rule's `live` list, e.g. `tls:tramita` and `ca:store`
//! for trust errors) fail now is recorded as folded under the first failing one (the finding
//! gains `folded_under`, for the diagnosis to fold it); one whose live checks all pass now
//! happened in another context or intermittently: the finding gains `live_check`, its
//! severity drops to `warn`, and `SEI_LOG_OTHER_CONTEXT` gives the likely reasons. When a live
//! check did not run, nothing is concluded (`live_status = inconclusive`).

use crate::checks::sei_log;
use crate::engine::Executed;
use crate::kb;
use crate::model::code::{self, Code};
use crate::model::{Finding, Severity, Status};
use std::collections::HashMap;

/// The code added when the live checks pass now.
pub const OTHER_CONTEXT: Code = code::SEI_LOG_OTHER_CONTEXT;

/// Adds the comparison to `sei:log`'s findings, in place, and updates its status.
pub fn correlate(executed: &mut [Executed]) {
    let statuses: HashMap<String, Status> = executed.iter().map(|e| (e.id.clone(), e.status)).collect();
    let Some(log) = executed.iter_mut().find(|e| e.id == sei_log::ID) else { return };
    let mut added = Vec::new();
    for f in log.outcome.findings.iter_mut() {
        let Some(live) = f.params.get("live").filter(|l| !l.is_empty()).cloned() else { continue };
        let ids: Vec<&str> = live.split(',').collect();
        let ran: Vec<(&str, Status)> = ids
            .iter()
            .filter_map(|id| statuses.get(*id).map(|s| (*id, *s)))
            .filter(|(_, s)| *s != Status::Skip)
            .collect();
        if let Some((id, _)) = ran.iter().find(|(_, s)| s.is_failure()) {
            f.params.insert("folded_under", id.to_string());
            f.params.insert("live_status", "fail".into());
        } else if ran.len() == ids.len() {
            let passed = ids.join(", ");
            f.params.insert("live_check", passed.clone());
            f.params.insert("live_status", "ok".into());
            if f.severity.unwrap_or_else(|| kb::kb().severity(&f.code)) == Severity::Fail {
                f.severity = Some(Severity::Warn);
            }
            let param = |name: &str| f.params.get(name).cloned().unwrap_or_default();
            added.push(
                Finding::new(OTHER_CONTEXT)
                    .with("class", f.code)
                    .with("target", param("target"))
                    .with("source", param("source"))
                    .with("count", param("count"))
                    .with("last", param("last"))
                    .with("live_check", passed),
            );
        } else {
            f.params.insert("live_status", "inconclusive".into());
        }
    }
    log.outcome.findings.extend(added);
    if log.outcome.status.is_none() {
        log.status = log.outcome.resolved_status(|c| kb::kb().severity(c));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Outcome;
    use std::time::Duration;

    fn executed(id: &str, kind: &'static str, status: Status, findings: Vec<Finding>) -> Executed {
        let mut outcome = Outcome::new();
        for f in findings {
            outcome.push(f);
        }
        Executed { id: id.into(), kind, target: None, status, outcome, duration: Duration::ZERO }
    }

    fn trust() -> Finding {
        Finding::new(crate::model::code::SEI_LOG_TRUST_ERRORS)
            .with("target", "tramita")
            .with("count", 3)
            .with("last", "2026-11-20 10:00:00")
            .with("live", "tls:tramita,ca:store")
    }

    fn run(tls: Status, ca: Option<Status>) -> Executed {
        let mut runs = vec![
            executed("tls:tramita", "tls", tls, vec![]),
            executed(&sei_log::ID.to_string(), "sei", Status::Fail, vec![trust()]),
        ];
        if let Some(ca) = ca {
            runs.push(executed("ca:store", "ca", ca, vec![]));
        }
        correlate(&mut runs);
        runs.remove(1)
    }

    #[test]
    fn a_failing_live_check_takes_the_logged_errors() {
        let log = run(Status::Fail, Some(Status::Ok));
        let f = &log.outcome.findings[0];
        assert_eq!(f.params["folded_under"], "tls:tramita");
        assert_eq!(f.severity, None);
        assert_eq!(log.outcome.findings.len(), 1);
        assert_eq!(log.status, Status::Fail);
    }

    #[test]
    fn passing_live_checks_mean_another_context() {
        let log = run(Status::Ok, Some(Status::Warn));
        let f = &log.outcome.findings[0];
        assert_eq!(f.params["live_check"], "tls:tramita, ca:store");
        assert_eq!(f.severity, Some(Severity::Warn));
        let other = &log.outcome.findings[1];
        assert_eq!((other.code, other.params["class"].as_str()), (OTHER_CONTEXT, "SEI_LOG_TRUST_ERRORS"));
        assert_eq!(log.status, Status::Warn);
    }

    #[test]
    fn a_live_check_that_did_not_run_proves_nothing() {
        let log = run(Status::Ok, None);
        assert_eq!(log.outcome.findings[0].params["live_status"], "inconclusive");
        assert_eq!(log.outcome.findings.len(), 1);
        assert_eq!(log.status, Status::Fail);
        let log = run(Status::Skip, Some(Status::Ok));
        assert_eq!(log.outcome.findings[0].params["live_status"], "inconclusive");
    }
}
