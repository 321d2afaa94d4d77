//! A finding: the stable code a check reports and the named facts behind it.

use super::code::Code;
use super::status::Severity;
use std::collections::BTreeMap;

/// What a check says: a stable code and the named facts that fill its message template.
/// Words for people come from the knowledge base (`checks/codes/*.toml`), not from here.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub code: Code,
    /// `None`: the code's default severity from the knowledge base.
    pub severity: Option<Severity>,
    pub params: BTreeMap<&'static str, String>,
}

impl Finding {
    pub fn new(code: Code) -> Self {
        Finding { code, severity: None, params: BTreeMap::new() }
    }

    /// Adds a named fact for the message template.
    pub fn with(mut self, name: &'static str, value: impl ToString) -> Self {
        self.params.insert(name, value.to_string());
        self
    }

    /// Overrides the code's default severity (e.g. an unknown issuer is `fail` for Pucomex).
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }
}
