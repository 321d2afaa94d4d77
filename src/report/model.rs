//! The report's data model (SPEC §6): what checks produce and what renderers consume.
//! Plain data, serializable as the JSON report (schema version 1).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

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
    /// When the run started; unknown in a report read back whose time is missing or unreadable.
    #[serde(default)]
    pub started_at: Timestamp,
    pub duration_ms: u64,
    pub environment: String,
    pub host: HostInfo,
    /// What the run discovered that fix steps name: `sei_dir`, `cert_path`, `db_host`, `db_port`,
    /// `db_user`, `db_name` (only those it learnt).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub discovered: BTreeMap<String, String>,
}

/// A moment of the run, RFC 3339 on the wire (`2026-11-27T07:05:36.123456789Z`, as `time`
/// writes it). Reading is lenient: a report read back whose time is missing, not a text or not
/// RFC 3339 is still read, its time unknown — written back as `"unknown"`, said by renderers in
/// the report's language. No text from the file is kept, so nothing in it needs cleaning.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timestamp(Option<OffsetDateTime>);

/// What an unknown [`Timestamp`] is written as.
pub const UNKNOWN_TIME: &str = "unknown";

impl Timestamp {
    /// Now, in UTC.
    pub fn now() -> Self {
        Timestamp(Some(OffsetDateTime::now_utc()))
    }

    pub fn at(t: OffsetDateTime) -> Self {
        Timestamp(Some(t))
    }

    /// RFC 3339 text read leniently: anything else is an unknown time.
    pub fn parse(text: &str) -> Self {
        Timestamp(OffsetDateTime::parse(text.trim(), &Rfc3339).ok())
    }

    pub fn get(self) -> Option<OffsetDateTime> {
        self.0
    }

    /// As RFC 3339, when known (and within the years RFC 3339 can write).
    pub fn rfc3339(self) -> Option<String> {
        self.0.and_then(|t| t.format(&Rfc3339).ok())
    }

    /// Seconds since the Unix epoch, when known.
    pub fn unix(self) -> Option<i64> {
        self.0.map(OffsetDateTime::unix_timestamp)
    }
}

impl From<&str> for Timestamp {
    fn from(text: &str) -> Self {
        Timestamp::parse(text)
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(t: OffsetDateTime) -> Self {
        Timestamp::at(t)
    }
}

/// RFC 3339, or `unknown`.
impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.rfc3339().as_deref().unwrap_or(UNKNOWN_TIME))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// Whatever the file holds there: a text is read, anything else is an unknown time.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Other(serde::de::IgnoredAny),
        }
        Ok(match Raw::deserialize(deserializer)? {
            Raw::Text(t) => Timestamp::parse(&t),
            Raw::Other(_) => Timestamp::default(),
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_run_start_is_written_as_rfc3339_exactly_as_before() {
        // What the run recorded as text before the time was typed: the same bytes.
        let now = OffsetDateTime::now_utc();
        let text = now.format(&Rfc3339).unwrap();
        assert_eq!(serde_json::to_value(Timestamp::at(now)).unwrap(), json!(text));
        for text in ["2026-11-27T07:05:36.123456789Z", "2026-11-27T07:05:36Z", "2026-11-27T07:05:36.5Z"] {
            let t: Timestamp = serde_json::from_value(json!(text)).unwrap();
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{text}\""));
            assert_eq!(t.to_string(), text);
        }
        let t = Timestamp::parse("2026-11-27T07:05:36Z");
        assert_eq!(t.unix(), Some(1_795_763_136));
    }

    #[test]
    fn a_report_whose_start_is_missing_or_unreadable_is_still_read() {
        let run = |started_at: Option<serde_json::Value>| {
            let mut v = json!({"duration_ms": 1, "environment": "producao",
                               "host": {"hostname": "sei1", "os": "Debian", "os_family": "debian", "kernel": "6.1"}});
            if let Some(s) = started_at {
                v["started_at"] = s;
            }
            serde_json::from_value::<RunInfo>(v).map(|r| r.started_at)
        };
        for odd in [
            None,
            Some(json!("yesterday \u{1b}[2J")),
            Some(json!("")),
            Some(json!("2026-13-40T99:00:00Z")),
            Some(json!(1_795_763_136)),
            Some(json!(null)),
            Some(json!({"at": "2026-11-27T07:05:36Z"})),
        ] {
            let t = run(odd.clone()).unwrap_or_else(|e| panic!("{odd:?}: {e}"));
            assert_eq!((t, t.unix()), (Timestamp::default(), None), "{odd:?}");
            // Written back as the word, nothing of the file's text kept.
            assert_eq!(serde_json::to_value(t).unwrap(), json!(UNKNOWN_TIME));
        }
        let t = run(Some(json!("2026-11-27T07:05:36-03:00"))).unwrap();
        assert_eq!(t.unix(), Some(1_795_763_136 + 3 * 3600));
        assert_eq!(Timestamp::parse(UNKNOWN_TIME), Timestamp::default(), "read back again: still unknown");
    }
}
