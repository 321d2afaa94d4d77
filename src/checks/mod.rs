//! The `Check` trait, what a check receives (`Ctx`) and returns (`Outcome`), and the catalog:
//! which checks exist, in which order they are reported, and what each depends on.

use crate::report::model::{Finding, Severity, Status};
use crate::settings::Settings;
use async_trait::async_trait;
use serde_json::{Map, Value};
use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

pub mod client_cert;
pub mod config;
pub mod cron;
pub mod database;
pub mod dns;
pub mod gearman;
pub mod host_tools;
pub mod http;
pub mod ntp;
pub mod process;
pub mod sei_log;
pub mod service_proxy;
pub mod store;
pub mod supervisor;
pub mod tcp;
pub mod tls;
pub mod tls_stack;
pub mod webhook;

/// Data a check hands to the checks that depend on it (addresses, a loaded store, an identity).
pub type Fact = Arc<dyn Any + Send + Sync>;

/// What a check returns. Probing only: no words for people, no formatting.
#[derive(Default)]
pub struct Outcome {
    /// `None`: derived from the findings (worst severity; `info` alone is ok).
    pub status: Option<Status>,
    pub findings: Vec<Finding>,
    /// Check-specific facts for the report (addresses, chain, versions…); never secrets.
    pub evidence: Map<String, Value>,
    /// Named values for the check's one-line summary template (`checks/summaries.toml`).
    pub summary: BTreeMap<&'static str, String>,
    /// Data for dependent checks. A check whose prerequisite failed still runs when the
    /// prerequisite delivered its fact (e.g. the configuration was read but a key is missing).
    pub fact: Option<Fact>,
    /// Why the check was skipped (by the engine, or by the check itself).
    pub skipped_because: Option<String>,
    /// Set by the engine when a prerequisite did not deliver what this check needs.
    pub blocked_by_prerequisite: bool,
}

impl Outcome {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn finding(mut self, finding: Finding) -> Self {
        self.findings.push(finding);
        self
    }

    pub fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    pub fn evidence(mut self, key: &str, value: impl serde::Serialize) -> Self {
        self.set_evidence(key, value);
        self
    }

    pub fn set_evidence(&mut self, key: &str, value: impl serde::Serialize) {
        let v = serde_json::to_value(value).unwrap_or(Value::Null);
        self.evidence.insert(key.to_string(), v);
    }

    pub fn summary(mut self, name: &'static str, value: impl ToString) -> Self {
        self.summary.insert(name, value.to_string());
        self
    }

    pub fn fact<T: Any + Send + Sync>(mut self, fact: T) -> Self {
        self.fact = Some(Arc::new(fact));
        self
    }

    pub fn set_fact<T: Any + Send + Sync>(&mut self, fact: T) {
        self.fact = Some(Arc::new(fact));
    }

    /// A check that could not run at all (missing permission, a bug): status `error`.
    pub fn error(finding: Finding) -> Self {
        Outcome { status: Some(Status::Error), ..Default::default() }.finding(finding)
    }

    pub fn skipped(reason: impl Into<String>) -> Self {
        Outcome { status: Some(Status::Skip), skipped_because: Some(reason.into()), ..Default::default() }
    }

    /// The status, given the knowledge base's default severity for each code.
    pub fn resolved_status(&self, default_severity: impl Fn(&str) -> Severity) -> Status {
        if let Some(s) = self.status {
            return s;
        }
        let worst = self.findings.iter().map(|f| f.severity.unwrap_or_else(|| default_severity(f.code))).min();
        match worst {
            Some(Severity::Fail) => Status::Fail,
            Some(Severity::Warn) => Status::Warn,
            _ => Status::Ok,
        }
    }
}

/// A check's result as other checks see it.
pub struct Completed {
    pub status: Status,
    pub fact: Option<Fact>,
}

/// What a running check can see: the settings and its prerequisites' results.
pub struct Ctx {
    pub settings: Arc<Settings>,
    pub deps: HashMap<String, Arc<Completed>>,
}

impl Ctx {
    /// The fact a prerequisite delivered, if it delivered one of that type.
    pub fn fact<T: Any + Send + Sync>(&self, check_id: &str) -> Option<&T> {
        self.deps.get(check_id)?.fact.as_ref()?.downcast_ref::<T>()
    }

    pub fn dep_status(&self, check_id: &str) -> Option<Status> {
        self.deps.get(check_id).map(|c| c.status)
    }

    /// The timeout of one network step (`--timeout`).
    pub fn timeout(&self) -> Duration {
        self.settings.timeout
    }
}

/// One check instance of the plan.
#[async_trait]
pub trait Check: Send + Sync {
    /// The instance id, e.g. `dns:tramita` or `gearman`.
    fn id(&self) -> String;
    /// The check name of SPEC §3, e.g. `dns`.
    fn kind(&self) -> &'static str;
    /// The target, for per-target checks.
    fn target(&self) -> Option<String> {
        None
    }
    /// Ids of the checks whose facts this one needs.
    fn depends_on(&self) -> Vec<String> {
        Vec::new()
    }
    /// Ids of checks whose facts this one uses when they are part of the run: it waits for them,
    /// but is neither skipped by their failure nor brings them in with `--only`.
    fn uses(&self) -> Vec<String> {
        Vec::new()
    }
    async fn run(&self, ctx: &Ctx) -> Outcome;
}

/// The prerequisite of a check whose inputs come from the SEI installation: `config:sei` when
/// they do (its fact carries them), none when they come from flags.
pub fn config_dependency(from_sei: bool) -> Vec<String> {
    if from_sei {
        vec![config::ID.to_string()]
    } else {
        Vec::new()
    }
}

/// `HOST_FILE_UNREADABLE` for a file of the host a check looked at (a crontab, a php.ini, a
/// supervisord include…) that exists but could not be read: the check's verdict may miss what
/// it holds. Only informative when pen-doctor merely lacks the permission (a run as non-root).
pub fn host_file_unreadable(e: &crate::hostfs::FileError) -> Finding {
    let f = Finding::new("HOST_FILE_UNREADABLE").with("path", e.path.display()).with("error", &e.reason);
    match e.reason {
        crate::hostfs::Reason::PermissionDenied { .. } => f.severity(Severity::Info),
        _ => f,
    }
}

/// Check names in catalog order (SPEC §3): the order of the report, whatever order they finish in.
pub const CATALOG: &[&str] = &[
    "config",
    "cert",
    "ca",
    "dns",
    "tcp",
    "tls",
    "http",
    "gearman",
    "supervisor",
    "process",
    "cron",
    "ntp",
    "pi",
    "pen",
    "sei",
    "webhook",
];

/// Position of a check kind in the catalog (unknown kinds last).
pub fn catalog_rank(kind: &str) -> usize {
    CATALOG.iter().position(|k| *k == kind).unwrap_or(CATALOG.len())
}

/// Builds every check instance this run could include, before `--only`/`--skip` filtering.
/// Each family file adds its own instances; the list is then put in catalog order.
pub fn all_checks(settings: &Arc<Settings>) -> Vec<Box<dyn Check>> {
    let mut checks: Vec<Box<dyn Check>> = Vec::new();
    for target in &settings.targets {
        checks.push(Box::new(dns::DnsCheck::new(target)));
        checks.push(Box::new(tcp::TcpCheck::new(target)));
    }
    checks.extend(config::checks(settings));
    checks.extend(client_cert::checks(settings));
    checks.extend(store::checks(settings));
    checks.extend(tls::checks(settings));
    checks.extend(http::checks(settings));
    checks.extend(gearman::checks(settings));
    checks.extend(supervisor::checks(settings));
    checks.extend(process::checks(settings));
    checks.extend(cron::checks(settings));
    checks.extend(ntp::checks(settings));
    checks.extend(database::checks(settings));
    checks.extend(sei_log::checks(settings));
    checks.extend(webhook::checks(settings));
    let target_rank = |t: Option<String>| {
        t.map(|t| crate::targets::TARGET_NAMES.iter().position(|n| *n == t).unwrap_or(usize::MAX)).unwrap_or(0)
    };
    checks.sort_by_cached_key(|c| (catalog_rank(c.kind()), target_rank(c.target()), c.id()));
    checks
}
