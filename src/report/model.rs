//! The report's data model (SPEC §6): what checks produce and what renderers consume.
//! Plain data, serializable as the JSON report (schema version 1).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use crate::model::{Finding, HostInfo, KbRef, Measures, Severity, Status};

/// A finding enriched from the knowledge base for the host's OS family and the chosen language.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ReportedFinding {
    pub code: String,
    pub severity: Severity,
    pub message: String,
    pub kb: KbRef,
    pub fix: Vec<String>,
    /// The named facts behind the message, for machines.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
}

/// One check's entry in the report.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckReport {
    pub id: String,
    pub check: String,
    pub target: Option<String>,
    pub status: Status,
    pub duration_ms: u64,
    pub summary: String,
    #[serde(default)]
    pub findings: Vec<ReportedFinding>,
    #[serde(default)]
    pub evidence: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub skipped_because: Option<String>,
    /// What the check measured, as numbers (absent in reports written before it existed).
    #[serde(default, skip_serializing_if = "Measures::is_empty")]
    pub measures: Measures,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunInfo {
    pub started_at: String,
    pub duration_ms: u64,
    pub environment: String,
    pub host: HostInfo,
    /// What the run discovered that fix steps name: `sei_dir`, `cert_path`, `db_host`, `db_port`,
    /// `db_user`, `db_name` (only those it learnt).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub discovered: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Summary {
    pub status: String,
    pub ok: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
    pub error: usize,
}

/// What a node tells the fleet (`pen-doctor merge`): the facts the fleet rules compare across
/// nodes (SPEC §8.5). Each is `None` (JSON `null`) when this run could not tell: the check that
/// knows it did not run, or knows nothing yet. Absent from reports of older versions.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct NodeFacts {
    /// The environment this node serves (the run's `--env`, else the SEI configuration's).
    pub environment: Option<String>,
    /// SHA-256 fingerprint of the Tramita.GOV.BR client certificate (as `openssl x509 -fingerprint`).
    pub certificate_sha256: Option<String>,
    /// The client certificate's subject, for people.
    #[serde(default)]
    pub certificate_subject: Option<String>,
    /// SEI's scheduler (`AgendamentoTarefaSEI.php`) is scheduled in this node's cron.
    pub scheduler_cron: Option<bool>,
    /// gearmand answers on this node (the module's Gearman address is this node).
    pub gearman_configured: Option<bool>,
    /// The Gearman address the module is configured with, when it has one.
    #[serde(default)]
    pub gearman_address: Option<String>,
    /// supervisord's configuration on this node has programs that run PEN workers.
    pub supervisor_configured: Option<bool>,
    /// The mod-sei-pen version installed on this node.
    pub module_version: Option<String>,
}

/// The KB reference of a root cause (SPEC §8.4 `kb`): the article and its numbered cause.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CauseKb {
    pub article: String,
    pub cause: Option<u32>,
}

/// One root cause of the run's diagnosis (SPEC §8.4): the finding that explains the others.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Cause {
    /// The finding code of the cause.
    pub code: String,
    /// The check id where it was found.
    pub check: String,
    /// The check ids this cause accounts for (its consequences), in catalog order.
    pub explains: Vec<String>,
    /// The one thing to do first, filled with what this run discovered.
    pub first_step: String,
    pub kb: CauseKb,
    /// The cause finding's severity and message, for renderers (absent from older reports).
    #[serde(default = "default_severity")]
    pub severity: Severity,
    #[serde(default)]
    pub message: String,
}

fn default_severity() -> Severity {
    Severity::Fail
}

/// The whole report, exactly the JSON of SPEC §6. It reads back from JSON (for `merge` and
/// `diff`); the language and OS family are not in the JSON and read back as their defaults.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: ToolInfo,
    pub run: RunInfo,
    pub summary: Summary,
    /// The root causes, most important first; empty on a healthy run (SPEC §8.4).
    #[serde(default)]
    pub diagnosis: Vec<Cause>,
    pub checks: Vec<CheckReport>,
    /// The node's facts for the fleet rules; absent in `pen-doctor cert` and in older reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<NodeFacts>,
    /// The language the messages were rendered in; renderers pick their own words with it.
    #[serde(skip, default)]
    pub lang: crate::model::Lang,
    /// The OS family the fixes were chosen for.
    #[serde(skip, default)]
    pub os_family: crate::model::OsFamily,
    /// What the renderers read from the KB, looked up once (`report::fill_kb_words`); not in the JSON.
    #[serde(skip, default)]
    pub kb_words: KbWords,
}

/// The KB's words a report's renderers need, in the report's language, looked up once when the
/// report is built or read back (`report::fill_kb_words`) so that renderers never consult the KB.
#[derive(Clone, Debug, Default)]
pub struct KbWords {
    /// The titles of the numbered causes the findings and the diagnosis name, by article and number.
    pub cause_titles: BTreeMap<(String, u32), String>,
    /// Each article the findings and the diagnosis name, as they name it (only those the KB knows).
    pub articles: BTreeMap<String, ArticleLink>,
    /// The title and reply template of each article the diagnosis names.
    pub replies: BTreeMap<String, Reply>,
    /// Each check's one-line title (check name → title).
    pub check_titles: BTreeMap<String, String>,
}

/// An article as the KB spells its id, and its address.
#[derive(Clone, Debug, Default)]
pub struct ArticleLink {
    pub id: String,
    pub url: String,
}

/// An article's id and title and its reply template for the support desk, in the report's
/// language.
#[derive(Clone, Debug, Default)]
pub struct Reply {
    pub id: String,
    pub title: String,
    pub template: String,
}

impl KbWords {
    /// The title of cause `n` of `article`, if the KB has it.
    pub fn cause_title(&self, article: &str, n: u32) -> Option<&str> {
        self.cause_titles.get(&(article.to_string(), n)).map(String::as_str)
    }
}

impl Summary {
    pub fn from_checks(checks: &[CheckReport]) -> Summary {
        let mut s = Summary::default();
        for c in checks {
            match c.status {
                Status::Ok => s.ok += 1,
                Status::Warn => s.warn += 1,
                Status::Fail => s.fail += 1,
                Status::Skip => s.skip += 1,
                Status::Error => s.error += 1,
            }
        }
        s.status = if s.fail + s.error > 0 {
            "fail"
        } else if s.warn > 0 {
            "warn"
        } else {
            "ok"
        }
        .to_string();
        s
    }
}
