//! Builds the report: run metadata plus each executed check, every finding enriched from the
//! knowledge base (message, article, cause, fix steps for this host's OS family). Everything a
//! check brought back is cleaned first ([`clean`]): no renderer sees a secret or a raw control
//! character.

use crate::model::code;
pub mod clean;
pub mod diagnosis;
pub mod model;
pub mod phrases;

use crate::engine::Executed;
use crate::host::OsFamily;
use crate::kb::{self, Kb, Lang};
use crate::messages::msg;
use model::{CheckReport, HostInfo, Report, ReportedFinding, RunInfo, Severity, Summary, ToolInfo};
use std::collections::BTreeMap;

/// What this run discovered that a fix step may name (`{sei_dir}`, `{cert_path}`, `{db_host}`,
/// `{db_port}`, `{db_user}`, `{db_name}`): the SEI directory in use, the client certificate, the
/// database address. Only what was learnt; [`STAND_INS`] fill the rest.
pub fn discovered(settings: &crate::settings::Settings) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let sei = settings.sei.as_ref();
    let dir = sei.map(|s| s.dir.clone()).unwrap_or_else(|| settings.sei_dir.clone());
    out.insert("sei_dir".to_string(), dir.display().to_string().trim_end_matches('/').to_string());
    // Which configuration the run used, and why: an installation found, or none (the built-in
    // addresses of the environment); where each target's address came from.
    let state = match sei {
        None if settings.sei_skipped => "skipped",
        Some(s) if !s.files_read.is_empty() => "found",
        Some(s)
            if s.problems.iter().any(|f| matches!(f.code, code::SEI_CONFIG_UNREADABLE | code::SEI_CONFIG_TIMEOUT)) =>
        {
            "unreadable"
        }
        _ => "absent",
    };
    out.insert("sei".into(), state.into());
    if let Some(v) = sei.and_then(|s| s.pen_version.clone()) {
        out.insert("module_version".into(), v);
    }
    let mut sources: Vec<&str> = settings
        .targets
        .iter()
        .map(|t| match t.source {
            crate::targets::UrlSource::Table => "built-in",
            crate::targets::UrlSource::SeiConfig => "sei-config",
            crate::targets::UrlSource::Endpoint => "endpoint",
        })
        .collect();
    sources.sort_unstable();
    sources.dedup();
    if !sources.is_empty() {
        out.insert("urls".into(), sources.join(","));
    }
    let cert = settings.cert.clone().or_else(|| sei.and_then(|s| s.pen.as_ref()).and_then(|p| p.cert_path.clone()));
    if let Some(c) = cert {
        out.insert("cert_path".into(), c.display().to_string());
    }
    let from_flag = settings.db.as_deref().and_then(|u| url::Url::parse(u).ok());
    let (host, port, user, name) = match (&from_flag, sei.and_then(|s| s.database.as_ref())) {
        (Some(u), _) => (
            u.host_str().map(str::to_string),
            u.port().map(|p| p.to_string()),
            Some(u.username().to_string()),
            Some(u.path().trim_start_matches('/').to_string()),
        ),
        (None, Some(db)) => {
            (Some(db.host.clone()), db.port.map(|p| p.to_string()), Some(db.user.clone()), Some(db.database.clone()))
        }
        (None, None) => (None, None, None, None),
    };
    if let Some(h) = host.filter(|h| !h.is_empty()) {
        out.insert("db_port".into(), port.unwrap_or_else(|| "3306".into()));
        out.insert("db_host".into(), h);
    }
    for (key, value) in [("db_user", user), ("db_name", name)] {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            out.insert(key.into(), v);
        }
    }
    out
}

/// The stand-ins of [`discovered`] values a run did not learn, which the person replaces: each
/// value's name and the key of its stand-in in the messages table (`/CAMINHO/DO/CERTIFICADO.pem`).
pub const STAND_INS: &[(&str, &str)] = &[
    ("sei_dir", "stand-in.sei-dir"),
    ("cert_path", "stand-in.cert-path"),
    ("db_host", "stand-in.db-host"),
    ("db_port", "stand-in.db-port"),
    ("db_user", "stand-in.db-user"),
    ("db_name", "stand-in.db-name"),
];

/// A fix step with the run's discovered values, then the stand-ins, in place of their names.
pub fn fill_discovered(step: &str, discovered: &BTreeMap<String, String>, lang: Lang) -> String {
    let mut all: BTreeMap<String, String> =
        STAND_INS.iter().map(|(name, key)| (name.to_string(), msg(lang, key).to_string())).collect();
    all.extend(discovered.iter().map(|(k, v)| (k.clone(), v.clone())));
    kb::fill(step, &all)
}

/// Enriches one finding from the knowledge base.
pub fn enrich(kb: &Kb, f: &model::Finding, lang: Lang, family: OsFamily) -> ReportedFinding {
    enrich_with(kb, f, None, lang, family, &BTreeMap::new())
}

/// [`enrich`] for a finding of a check of `target` (whose own article may take the finding),
/// fix steps also filled with what the run discovered (the finding's facts win).
pub fn enrich_with(
    kb: &Kb,
    f: &model::Finding,
    target: Option<&str>,
    lang: Lang,
    family: OsFamily,
    discovered: &BTreeMap<String, String>,
) -> ReportedFinding {
    let params: BTreeMap<String, String> = f.params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    match kb.code(&f.code) {
        Some(code) => {
            // The words a person reads: the facts' OS and library phrases in the report's language.
            let shown = phrases::params(&f.params, lang);
            ReportedFinding {
                code: f.code.to_string(),
                severity: f.severity.unwrap_or(code.severity),
                message: phrases::singular(&kb::fill(code.message.get(lang), &shown), lang),
                kb: kb.kb_ref_for(code, target),
                fix: kb
                    .fix(code, lang, family)
                    .iter()
                    // Fix steps hold commands: the facts exactly as found (`--env homologacao`).
                    .map(|s| fill_discovered(&kb::fill(s, &f.params), discovered, lang))
                    .collect(),
                params,
            }
        }
        None => ReportedFinding {
            code: f.code.to_string(),
            severity: f.severity.unwrap_or(Severity::Fail),
            message: f.code.to_string(),
            kb: model::KbRef { article: String::new(), cause: None, title: String::new(), url: String::new() },
            fix: Vec::new(),
            params,
        },
    }
}

/// A skip reason as the engine records it (`dns:tramita (fail)`, `ca:store (--skip)`) in words.
pub fn skip_reason(reason: &str, lang: Lang) -> String {
    let Some((id, why)) = reason.rsplit_once(" (").map(|(id, w)| (id, w.trim_end_matches(')'))) else {
        return reason.to_string();
    };
    let words = match why {
        "fail" => msg(lang, "report.skip-reason.fail"),
        "error" => msg(lang, "report.skip-reason.error"),
        "skip" => msg(lang, "report.skip-reason.skip"),
        "--skip" => msg(lang, "report.skip-reason.by-flag"),
        "not in this run" => msg(lang, "report.skip-reason.not-in-run"),
        other => other,
    };
    format!("{id} {words}")
}

/// Findings the operator accepted (`--ignore CODE`, `ignore = [...]`) become info, marked
/// `ignored = "--ignore"`, and each check's status follows (a check whose own status is set keeps it).
pub fn accept(executed: &mut [Executed], codes: &[String]) {
    if codes.is_empty() {
        return;
    }
    let kb = kb::kb();
    for e in executed.iter_mut() {
        let mut touched = false;
        for f in e.outcome.findings.iter_mut().filter(|f| codes.iter().any(|c| *c == f.code)) {
            f.severity = Some(Severity::Info);
            f.params.insert("ignored", "--ignore".into());
            touched = true;
        }
        if touched && e.outcome.status.is_none() {
            e.status = e.outcome.resolved_status(|c| kb.severity(c));
        }
    }
}

/// What the run was, for the report header.
pub struct RunMeta {
    pub started_at: model::Timestamp,
    pub duration_ms: u64,
    pub environment: String,
    pub host: HostInfo,
    pub lang: Lang,
    pub os_family: OsFamily,
    /// What the run discovered, for the fix steps ([`discovered`]); empty outside a `check`.
    pub discovered: BTreeMap<String, String>,
}

/// Assembles the report from the executed checks (already in catalog order).
pub fn build(mut executed: Vec<Executed>, mut meta: RunMeta) -> Report {
    executed.iter_mut().for_each(clean::executed);
    diagnosis::trace_skips_to_root(&mut executed);
    clean::host(&mut meta.host);
    meta.discovered.values_mut().for_each(crate::redact::clean_in_place);
    let kb = kb::kb();
    let mut checks: Vec<CheckReport> = executed
        .into_iter()
        .map(|e| {
            // `cert:pucomex` has no network target but is Pucomex's all the same.
            let target = e.target.as_deref().or_else(|| e.id.split_once(':').map(|(_, t)| t));
            let mut findings: Vec<ReportedFinding> = e
                .outcome
                .findings
                .iter()
                .map(|f| enrich_with(kb, f, target, meta.lang, meta.os_family, &meta.discovered))
                .collect();
            findings.sort_by_key(|f| f.severity);
            let summary = match findings.first() {
                Some(f) if f.severity != Severity::Info || e.status != model::Status::Ok => f.message.clone(),
                _ => match e.status {
                    model::Status::Skip => {
                        let why = e.outcome.skipped_because.clone().unwrap_or_default();
                        let lang = meta.lang;
                        match e.outcome.blocked_by_prerequisite {
                            true => crate::messages::fill(
                                lang,
                                "report.prerequisite-not-met",
                                &[("reason", &skip_reason(&why, lang))],
                            ),
                            false if why == "--skip" => msg(lang, "report.skipped-by-the-user-skip").into(),
                            false => phrases::say(&why, lang),
                        }
                    }
                    _ => kb
                        .summaries
                        .get(e.kind)
                        .map(|s| {
                            let values = phrases::params(&e.outcome.summary, meta.lang);
                            phrases::singular(&kb::fill(s.ok.get(meta.lang), &values), meta.lang)
                        })
                        .unwrap_or_default(),
                },
            };
            CheckReport {
                id: e.id,
                check: e.kind.to_string(),
                target: e.target,
                status: e.status,
                duration_ms: e.duration.as_millis() as u64,
                summary,
                findings,
                evidence: e.outcome.evidence,
                skipped_because: e.outcome.skipped_because,
                measures: e.outcome.measures,
            }
        })
        .collect();
    let diagnosis = diagnosis::diagnose(&mut checks, meta.lang);
    let mut report = Report {
        schema_version: 1,
        tool: ToolInfo { name: "pen-doctor".into(), version: env!("CARGO_PKG_VERSION").into() },
        run: RunInfo {
            started_at: meta.started_at,
            duration_ms: meta.duration_ms,
            environment: meta.environment,
            host: meta.host,
            discovered: meta.discovered,
        },
        summary: Summary::from_checks(&checks),
        diagnosis,
        checks,
        node: None,
        lang: meta.lang,
        os_family: meta.os_family,
        kb_words: Default::default(),
    };
    fill_kb_words(&mut report);
    report
}

/// Looks up, once, the KB's words the renderers need (cause titles, article addresses, reply
/// templates, check titles) in the report's language; a report read back from JSON gets them
/// here too, after its diagnosis.
pub fn fill_kb_words(report: &mut Report) {
    let kb = kb::kb();
    let lang = report.lang;
    let mut words = model::KbWords::default();
    let named = report
        .checks
        .iter()
        .flat_map(|c| c.findings.iter().map(|f| (f.kb.article.as_str(), f.kb.cause)))
        .chain(report.diagnosis.iter().map(|d| (d.kb.article.as_str(), d.kb.cause)));
    for (article, cause) in named {
        let Some(a) = kb.article(article) else { continue };
        words
            .articles
            .entry(article.to_string())
            .or_insert_with(|| model::ArticleLink { id: a.id.clone(), url: a.url.clone() });
        if let Some(n) = cause {
            if let Some(title) = kb.cause_title(article, n, lang) {
                words.cause_titles.insert((article.to_string(), n), title);
            }
        }
    }
    for d in &report.diagnosis {
        if let Some(a) = kb.article(&d.kb.article) {
            words.replies.entry(d.kb.article.clone()).or_insert_with(|| model::Reply {
                id: a.id.clone(),
                title: a.title.clone(),
                template: a.reply_template.get(lang).to_string(),
            });
        }
    }
    for c in &report.checks {
        if let Some(s) = kb.summaries.get(c.check.as_str()) {
            words.check_titles.insert(c.check.clone(), s.about.get(lang).to_string());
        }
    }
    report.kb_words = words;
}

/// The exit code of SPEC §5 (not for nagios, which has its own).
pub fn exit_code(report: &Report, strict: bool) -> i32 {
    let s = &report.summary;
    if s.fail + s.error > 0 || (strict && s.warn > 0) {
        1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fix_step_names_a_discovered_value_only_through_a_known_name() {
        let kb = kb::kb();
        let none = BTreeMap::new();
        for code in &kb.codes {
            for lang in [Lang::Pt, Lang::En] {
                for family in [OsFamily::Debian, OsFamily::Rhel6, OsFamily::Rhel7, OsFamily::Rhel8, OsFamily::Other] {
                    for step in kb.fix(code, lang, family) {
                        let filled = fill_discovered(&step, &none, lang);
                        for (name, _) in STAND_INS {
                            assert!(!filled.contains(&format!("{{{name}}}")), "{}: {filled}", code.code);
                        }
                    }
                }
            }
        }
        let found: BTreeMap<String, String> = [("sei_dir", "/srv/sei"), ("db_host", "db.orgao"), ("db_port", "3307")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(
            fill_discovered("mysql -h {db_host} -P {db_port} -u {db_user} {sei_dir}/config", &found, Lang::Pt),
            "mysql -h db.orgao -P 3307 -u USUARIO /srv/sei/config"
        );
        assert_eq!(
            fill_discovered("{cert_path} {db_name}", &found, Lang::En),
            "/PATH/TO/CERTIFICATE.pem DATABASE_NAME"
        );
    }
}
