//! The renderers' own vocabulary: words in the report's language (severity, status, counts with
//! their plural, environment names) and the sentence saying which configuration a run used.

use crate::kb::Lang;
use crate::report::model::Report;

/// A word of the renderers' own vocabulary in the report's language.
pub(crate) fn word(lang: Lang, pt: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Pt => pt,
        Lang::En => en,
    }
}

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
    match (env, lang) {
        ("producao", Lang::Pt) => "produção".into(),
        ("homologacao", Lang::Pt) => "homologação".into(),
        ("producao", Lang::En) => "production".into(),
        ("homologacao", Lang::En) => "staging".into(),
        ("desenvolvimento", Lang::En) => "development".into(),
        (other, _) => other.into(),
    }
}

/// Which configuration the run used and why, in one sentence (from `run.discovered`); `None`
/// for a report without it (older, or of `pen-doctor cert`).
pub(crate) fn configuration_line(report: &Report) -> Option<String> {
    let lang = report.lang;
    let d = &report.run.discovered;
    let dir = d.get("sei_dir")?;
    let env = environment_word(&report.run.environment, lang);
    let mut line = match d.get("sei").map(String::as_str) {
        Some("found") => format!("{} {dir}", word(lang, "SEI lido em", "SEI read from")),
        Some("unreadable") => format!(
            "{} {dir} {}",
            word(lang, "SEI em", "SEI at"),
            word(
                lang,
                "com a configuração ilegível (veja config:sei)",
                "with its configuration unreadable (see config:sei)"
            )
        ),
        Some("skipped") => format!(
            "{} {dir} {}",
            word(lang, "configuração do SEI em", "SEI's configuration at"),
            word(lang, "não lida (pulada com --skip config)", "not read (skipped with --skip config)")
        ),
        _ => format!(
            "{} {dir} ({})",
            word(lang, "nenhuma instalação do SEI em", "no SEI installation at"),
            word(lang, "informe a pasta com --sei-dir", "give its directory with --sei-dir")
        ),
    };
    let urls = d.get("urls").map(String::as_str).unwrap_or_default();
    let mut said = Vec::new();
    for source in urls.split(',').filter(|s| !s.is_empty()) {
        said.push(match source {
            "sei-config" => {
                word(lang, "endereços da configuração do SEI", "addresses from SEI's configuration").to_string()
            }
            "endpoint" => word(lang, "endereços de --endpoint", "addresses from --endpoint").to_string(),
            _ => format!(
                "{} {env} {}",
                word(lang, "endereços oficiais de", "official"),
                word(
                    lang,
                    "embutidos no pen-doctor (--env para outro ambiente)",
                    "addresses built into pen-doctor (--env for another environment)"
                )
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
        Severity::Fail => word(lang, "falha", "fail"),
        Severity::Warn => word(lang, "aviso", "warn"),
        Severity::Info => "info",
    }
}

/// A check's status as a person reads it in the report's language.
pub(crate) fn status_word(status: crate::report::model::Status, lang: Lang) -> &'static str {
    use crate::report::model::Status;
    match status {
        Status::Ok => "ok",
        Status::Warn => word(lang, "aviso", "warn"),
        Status::Fail => word(lang, "falha", "fail"),
        Status::Skip => word(lang, "pulada", "skip"),
        Status::Error => word(lang, "erro", "error"),
    }
}
