//! The renderers' own vocabulary: words in the report's language (severity, status, counts with
//! their plural, environment names) and the sentence saying which configuration a run used.

use crate::messages::msg;
use crate::model::Lang;
use crate::report::model::{Report, Timestamp};

/// The installed mod-sei-pen version: the node facts', else what discovery read.
pub(crate) fn module_version(report: &Report) -> Option<&str> {
    report
        .node
        .as_ref()
        .and_then(|n| n.module_version.as_deref())
        .or_else(|| report.run.discovered.get("module_version").map(String::as_str))
}

/// An environment's name as prose: "produção", "homologação" (the identifiers `producao`,
/// `homologacao` stay for flags and machines).
pub(crate) fn environment_word(env: &str, lang: Lang) -> String {
    match env {
        "producao" => msg(lang, "env.producao").into(),
        "homologacao" => msg(lang, "env.homologacao").into(),
        "desenvolvimento" => msg(lang, "env.desenvolvimento").into(),
        other => other.into(),
    }
}

/// A moment of the run as a person reads it: RFC 3339, or "unknown" in the report's language
/// (a report read back whose time could not be read).
pub(crate) fn time_word(t: Timestamp, lang: Lang) -> String {
    t.rfc3339().unwrap_or_else(|| msg(lang, "fleet.unknown").into())
}

/// Which configuration the run used and why, in one sentence (from `run.discovered`); `None`
/// for a report without it (older, or of `pen-doctor cert`).
pub(crate) fn configuration_line(report: &Report) -> Option<String> {
    let lang = report.lang;
    let d = &report.run.discovered;
    let dir = d.get("sei_dir")?;
    let env = environment_word(&report.run.environment, lang);
    let mut line = match d.get("sei").map(String::as_str) {
        Some("found") => format!("{} {dir}", msg(lang, "render.words.sei-read-from")),
        Some("unreadable") => format!(
            "{} {dir} {}",
            msg(lang, "render.words.sei-at"),
            msg(lang, "render.words.with-its-configuration-unreadable")
        ),
        Some("skipped") => format!(
            "{} {dir} {}",
            msg(lang, "render.words.sei-s-configuration-at"),
            msg(lang, "render.words.not-read-skipped-with-skip-config")
        ),
        _ => format!(
            "{} {dir} ({})",
            msg(lang, "render.words.no-sei-installation-at"),
            msg(lang, "render.words.give-its-directory-with-sei-dir")
        ),
    };
    let urls = d.get("urls").map(String::as_str).unwrap_or_default();
    let mut said = Vec::new();
    for source in urls.split(',').filter(|s| !s.is_empty()) {
        said.push(match source {
            "sei-config" => msg(lang, "render.words.addresses-from-sei-s-configuration").to_string(),
            "endpoint" => msg(lang, "render.words.addresses-from-endpoint").to_string(),
            _ => format!(
                "{} {env} {}",
                msg(lang, "render.words.official"),
                msg(lang, "render.words.addresses-built-into-pen-doctor-env")
            ),
        });
    }
    if !said.is_empty() {
        line.push_str("; ");
        line.push_str(&said.join("; "));
    }
    Some(line)
}

/// A count with its noun in the singular or the plural: "1 falha", "3 falhas", "0 falhas".
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A finding's severity as a person reads it in the report's language.
pub(crate) fn severity_word(severity: crate::report::model::Severity, lang: Lang) -> &'static str {
    use crate::report::model::Severity;
    match severity {
        Severity::Fail => msg(lang, "fleet.fail-2"),
        Severity::Warn => msg(lang, "fleet.warn-2"),
        Severity::Info => "info",
    }
}

/// A check's status as a person reads it in the report's language.
pub(crate) fn status_word(status: crate::report::model::Status, lang: Lang) -> &'static str {
    use crate::report::model::Status;
    match status {
        Status::Ok => "ok",
        Status::Warn => msg(lang, "fleet.warn-2"),
        Status::Fail => msg(lang, "fleet.fail-2"),
        Status::Skip => msg(lang, "render.words.skip"),
        Status::Error => msg(lang, "fleet.error"),
    }
}
