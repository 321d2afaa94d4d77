//! What a check returns: its findings, evidence, measures, summary values and the fact it hands on.

use super::finding::Finding;
use super::measures::Measures;
use super::status::{Severity, Status};
use serde_json::{Map, Value};
use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

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
    /// What the check measured that monitoring reads as numbers (expiry, days left, offset).
    pub measures: Measures,
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
        let worst = self.findings.iter().map(|f| f.severity.unwrap_or_else(|| default_severity(&f.code))).min();
        match worst {
            Some(Severity::Fail) => Status::Fail,
            Some(Severity::Warn) => Status::Warn,
            _ => Status::Ok,
        }
    }
}
