//! Builds the report: run metadata plus each executed check, every finding enriched from the
//! knowledge base (message, article, cause, fix steps for this host's OS family). Everything a
//! check brought back is cleaned first ([`clean`]): no renderer sees a secret or a raw control
//! character.

pub mod clean;
pub mod model;
pub mod phrases;

use crate::engine::Executed;
use crate::host::OsFamily;
use crate::kb::{self, Kb, Lang};
use model::{CheckReport, HostInfo, Report, ReportedFinding, RunInfo, Severity, Summary, ToolInfo};
use std::collections::BTreeMap;

/// Enriches one finding from the knowledge base.
pub fn enrich(kb: &Kb, f: &model::Finding, lang: Lang, family: OsFamily) -> ReportedFinding {
    let params: BTreeMap<String, String> = f.params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    match kb.code(f.code) {
        Some(code) => {
            // The words a person reads: the facts' OS and library phrases in the report's language.
            let shown = phrases::params(&f.params, lang);
            ReportedFinding {
                code: f.code.to_string(),
                severity: f.severity.unwrap_or(code.severity),
                message: kb::fill(code.message.get(lang), &shown),
                kb: kb.kb_ref(code),
                fix: kb.fix(code, lang, family).iter().map(|s| kb::fill(s, &shown)).collect(),
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
    let words = match (why, lang) {
        ("fail", Lang::Pt) => "falhou",
        ("error", Lang::Pt) => "não pôde ser concluída",
        ("skip", Lang::Pt) => "foi pulada",
        ("--skip", Lang::Pt) => "pulada por --skip",
        ("not in this run", Lang::Pt) => "fora desta execução",
        ("fail", Lang::En) => "failed",
        ("error", Lang::En) => "could not complete",
        ("skip", Lang::En) => "was skipped",
        ("--skip", Lang::En) => "skipped by --skip",
        (other, _) => other,
    };
    format!("{id} {words}")
}

/// What the run was, for the report header.
pub struct RunMeta {
    pub started_at: String,
    pub duration_ms: u64,
    pub environment: String,
    pub host: HostInfo,
    pub lang: Lang,
    pub os_family: OsFamily,
}

/// Assembles the report from the executed checks (already in catalog order).
pub fn build(mut executed: Vec<Executed>, mut meta: RunMeta) -> Report {
    executed.iter_mut().for_each(clean::executed);
    crate::diagnosis::trace_skips_to_root(&mut executed);
    clean::host(&mut meta.host);
    let kb = kb::kb();
    let mut checks: Vec<CheckReport> = executed
        .into_iter()
        .map(|e| {
            let mut findings: Vec<ReportedFinding> =
                e.outcome.findings.iter().map(|f| enrich(kb, f, meta.lang, meta.os_family)).collect();
            findings.sort_by_key(|f| f.severity);
            let summary = match findings.first() {
                Some(f) if f.severity != Severity::Info || e.status != model::Status::Ok => f.message.clone(),
                _ => match e.status {
                    model::Status::Skip => {
                        let why = e.outcome.skipped_because.clone().unwrap_or_default();
                        match (e.outcome.blocked_by_prerequisite, meta.lang) {
                            (true, Lang::Pt) => format!("pré-requisito não atendido: {}", skip_reason(&why, meta.lang)),
                            (true, Lang::En) => format!("prerequisite not met: {}", skip_reason(&why, meta.lang)),
                            (false, _) => why,
                        }
                    }
                    _ => kb
                        .summaries
                        .get(e.kind)
                        .map(|s| kb::fill(s.ok.get(meta.lang), &e.outcome.summary))
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
            }
        })
        .collect();
    let diagnosis = crate::diagnosis::diagnose(&mut checks, meta.lang);
    Report {
        schema_version: 1,
        tool: ToolInfo { name: "pen-doctor".into(), version: env!("CARGO_PKG_VERSION").into() },
        run: RunInfo {
            started_at: meta.started_at,
            duration_ms: meta.duration_ms,
            environment: meta.environment,
            host: meta.host,
        },
        summary: Summary::from_checks(&checks),
        diagnosis,
        checks,
        node: None,
        lang: meta.lang,
        os_family: meta.os_family,
    }
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
