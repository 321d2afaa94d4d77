//! The node's facts for the fleet rules (the report's `node` section), read from what the
//! checks of the run already found: the client certificate's fingerprint (`cert:client`), the
//! environment, the module version and Gearman address (`config:sei`), gearmand answering here
//! (`gearman`), PEN programs in supervisord's configuration (`supervisor`) and SEI's scheduler in
//! cron (`cron:pen`). A fact the run could not establish stays `None`: the rules then say
//! "unknown" instead of guessing.

use crate::host::is_local;
use crate::model::check_id::{CERT_CLIENT, CONFIG_SEI};
use crate::model::code::{self, Code};
use crate::model::{CheckId, Kind};
use crate::report::model::{CheckReport, NodeFacts, Report, Status};
use serde_json::Value;

/// The finding the cron check gives when SEI's scheduler is not in this node's cron.
pub const SCHEDULER_MISSING_CODE: Code = code::SEI_SCHEDULER_CRON_MISSING;

fn check<'a>(report: &'a Report, id: &CheckId) -> Option<&'a CheckReport> {
    report.checks.iter().find(|c| id.is(&c.id))
}

fn ran(c: &CheckReport) -> bool {
    !matches!(c.status, Status::Skip | Status::Error)
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// The facts of a finished run, given the `--env` it was asked for and whether an address names
/// this host (see [`is_local`]). The environment is `--env`, else the one the module's
/// `WebService` address belongs to; the run's default (produção) is no fact.
pub fn node_facts(report: &Report, requested_env: Option<&str>, local: &dyn Fn(&str) -> bool) -> NodeFacts {
    let config = check(report, &CONFIG_SEI).filter(|c| c.status != Status::Skip);
    let pen = config.and_then(|c| c.evidence.get("pen"));
    let cert = check(report, &CERT_CLIENT).and_then(|c| c.evidence.get("certificate"));
    let environment = requested_env.map(str::to_string).or_else(|| text(pen.and_then(|p| p.get("environment"))));
    let module_version = text(pen.and_then(|p| p.get("version")))
        .or_else(|| check(report, &crate::checks::process::ID).and_then(|c| text(c.evidence.get("module_version"))));
    let gearman_check = check(report, &CheckId::of(Kind::Gearman));
    let gearman_address =
        gearman_check.and_then(|c| text(c.evidence.get("addr"))).or_else(|| text(pen.and_then(|p| p.get("gearman"))));
    NodeFacts {
        environment,
        certificate_sha256: text(cert.and_then(|c| c.get("sha256"))),
        certificate_subject: text(cert.and_then(|c| c.get("subject"))),
        scheduler_cron: check(report, &crate::checks::cron::ID).and_then(scheduler_cron),
        gearman_configured: gearman_check.and_then(|c| gearman_here(c, local)),
        gearman_address,
        supervisor_configured: check(report, &CheckId::of(Kind::Supervisor)).and_then(supervisor_configured),
        module_version,
    }
}

/// SEI's scheduler in cron, as the cron check tells it: its evidence `scheduler` (the entry
/// found, `true`/`false`, or `null` for none), or its finding that the entry is missing.
/// `None` when the check says nothing about the scheduler.
fn scheduler_cron(c: &CheckReport) -> Option<bool> {
    if !ran(c) {
        return None;
    }
    if c.findings.iter().any(|f| f.code == SCHEDULER_MISSING_CODE) {
        return Some(false);
    }
    match c.evidence.get("scheduler")? {
        Value::Bool(b) => Some(*b),
        Value::Null => Some(false),
        Value::Object(_) | Value::String(_) => Some(true),
        Value::Array(a) => Some(!a.is_empty()),
        Value::Number(_) => None,
    }
}

/// gearmand answers on this node: the check talked to it (it has its version) at an address of
/// this host. `Some(false)`: the module has no Gearman block, or the address is another host.
/// `None`: the check did not run, or nothing answered here (the node's own failure says why).
fn gearman_here(c: &CheckReport, local: &dyn Fn(&str) -> bool) -> Option<bool> {
    if c.findings.iter().any(|f| f.code == code::GEARMAN_NOT_CONFIGURED) {
        return Some(false);
    }
    if !ran(c) {
        return None;
    }
    let addr = text(c.evidence.get("addr"))?;
    let host = host_of(&addr);
    if !local(host) {
        return Some(false);
    }
    c.evidence.get("version").map(|_| true)
}

/// supervisord's configuration on this node runs PEN workers (from its configuration files,
/// whether or not supervisord answers).
fn supervisor_configured(c: &CheckReport) -> Option<bool> {
    if c.status == Status::Skip {
        return None;
    }
    if let Some(Value::Array(sections)) = c.evidence.get("pen_program_sections") {
        return Some(!sections.is_empty());
    }
    if c.findings.iter().any(|f| {
        matches!(code::parse(&f.code), Some(code::SUPERVISOR_NO_PEN_PROGRAMS | code::SUPERVISOR_CONFIG_NOT_FOUND))
    }) {
        return Some(false);
    }
    match c.evidence.get("pen_programs") {
        Some(Value::Array(p)) => Some(!p.is_empty()),
        _ => None,
    }
}

/// The host part of `HOST:PORT`, `[V6]:PORT` or `HOST`.
fn host_of(addr: &str) -> &str {
    if let Some(rest) = addr.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match addr.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => addr,
    }
}

/// The facts of this run on this host; `requested_env` is the run's `--env`.
pub fn of_run(report: &Report, requested_env: Option<&str>) -> NodeFacts {
    let hostname = report.run.host.hostname.clone();
    node_facts(report, requested_env, &|h| is_local(h, &hostname))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{HostInfo, KbRef, ReportedFinding, RunInfo, Severity, Summary, ToolInfo};
    use serde_json::json;

    fn check(id: &str, status: Status, evidence: Value, codes: &[&str]) -> CheckReport {
        CheckReport {
            id: id.into(),
            check: id.split(':').next().unwrap_or(id).into(),
            target: None,
            status,
            duration_ms: 1,
            summary: String::new(),
            findings: codes
                .iter()
                .map(|c| ReportedFinding {
                    code: c.to_string(),
                    severity: Severity::Fail,
                    message: String::new(),
                    kb: KbRef { article: String::new(), cause: None, title: String::new(), url: String::new() },
                    fix: Vec::new(),
                    params: Default::default(),
                })
                .collect(),
            evidence: evidence.as_object().cloned().unwrap_or_default(),
            skipped_because: None,
            measures: Default::default(),
        }
    }

    fn report(checks: Vec<CheckReport>) -> Report {
        Report {
            schema_version: 1,
            tool: ToolInfo { name: "pen-doctor".into(), version: "0".into() },
            run: RunInfo {
                started_at: Default::default(),
                duration_ms: 0,
                environment: "producao".into(),
                host: HostInfo {
                    hostname: "sei1".into(),
                    os: String::new(),
                    os_family: String::new(),
                    kernel: String::new(),
                },
                discovered: Default::default(),
            },
            summary: Summary::from_checks(&checks),
            diagnosis: Vec::new(),
            checks,
            node: None,
            lang: Default::default(),
            os_family: Default::default(),
            kb_words: Default::default(),
        }
    }

    #[test]
    fn facts_come_from_the_checks_evidence() {
        let r = report(vec![
            check(
                "config:sei",
                Status::Ok,
                json!({"pen": {"version": "4.0.1", "gearman": "127.0.0.1:4730", "environment": "homologacao"}}),
                &[],
            ),
            check("cert:client", Status::Ok, json!({"certificate": {"sha256": "AB:CD", "subject": "CN=sei"}}), &[]),
            check("gearman", Status::Ok, json!({"addr": "127.0.0.1:4730", "version": "1.1.20"}), &[]),
            check("supervisor", Status::Fail, json!({"pen_program_sections": ["program:processamento"]}), &[]),
            check("cron:pen", Status::Ok, json!({"entry": {}}), &[]),
        ]);
        let f = node_facts(&r, None, &|h| h == "127.0.0.1");
        assert_eq!(f.environment.as_deref(), Some("homologacao"), "the configuration's");
        assert_eq!(node_facts(&r, Some("producao"), &|_| false).environment.as_deref(), Some("producao"), "--env");
        // Off an SEI node without --env, the run's default environment is no fact.
        assert_eq!(node_facts(&report(Vec::new()), None, &|_| false).environment, None);
        assert_eq!(f.certificate_sha256.as_deref(), Some("AB:CD"));
        assert_eq!(f.certificate_subject.as_deref(), Some("CN=sei"));
        assert_eq!(f.module_version.as_deref(), Some("4.0.1"));
        assert_eq!(f.gearman_configured, Some(true));
        assert_eq!(f.gearman_address.as_deref(), Some("127.0.0.1:4730"));
        assert_eq!(f.supervisor_configured, Some(true));
        // The cron check does not tell about the scheduler yet: unknown, not false.
        assert_eq!(f.scheduler_cron, None);
    }

    #[test]
    fn the_scheduler_and_the_queue_as_the_checks_tell_them() {
        let cron = |evidence: Value, codes: &[&str]| {
            let r = report(vec![check("cron:pen", Status::Ok, evidence, codes)]);
            node_facts(&r, None, &|_| false).scheduler_cron
        };
        assert_eq!(cron(json!({"scheduler": {"file": "/etc/cron.d/sei", "line": 3}}), &[]), Some(true));
        assert_eq!(cron(json!({"scheduler": null}), &[]), Some(false));
        assert_eq!(cron(json!({}), &[SCHEDULER_MISSING_CODE.as_str()]), Some(false));
        assert_eq!(cron(json!({}), &[]), None);

        let gearman = |evidence: Value, status: Status, codes: &[&str]| {
            let r = report(vec![check("gearman", status, evidence, codes)]);
            node_facts(&r, None, &|h| h == "127.0.0.1").gearman_configured
        };
        assert_eq!(gearman(json!({"addr": "10.1.1.1:4730", "version": "1"}), Status::Ok, &[]), Some(false));
        assert_eq!(gearman(json!({"addr": "127.0.0.1:4730"}), Status::Fail, &["GEARMAN_UNREACHABLE"]), None);
        assert_eq!(gearman(json!({}), Status::Skip, &["GEARMAN_NOT_CONFIGURED"]), Some(false));
        assert_eq!(gearman(json!({}), Status::Skip, &[]), None);

        let supervisor = |evidence: Value, status: Status, codes: &[&str]| {
            let r = report(vec![check("supervisor", status, evidence, codes)]);
            node_facts(&r, None, &|_| false).supervisor_configured
        };
        assert_eq!(supervisor(json!({"pen_program_sections": []}), Status::Fail, &[]), Some(false));
        assert_eq!(supervisor(json!({}), Status::Fail, &["SUPERVISOR_CONFIG_NOT_FOUND"]), Some(false));
        assert_eq!(supervisor(json!({}), Status::Skip, &[]), None);
    }

    #[test]
    fn gearman_hosts() {
        assert_eq!(host_of("[::1]:4730"), "::1");
        assert_eq!(host_of("gear.local:4730"), "gear.local");
        assert_eq!(host_of("::1"), "::1");
    }
}
