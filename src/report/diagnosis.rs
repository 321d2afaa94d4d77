//! The diagnosis (SPEC §8.4): from the run's results, which failures are root causes and which
//! follow from them. The causal model is data (`checks/causes.toml`); this module applies it:
//! skip reasons are traced back to the check that started the chain, each failing check is
//! either a root cause or folded under one, and the roots are ranked by severity and by how
//! much each explains, each with the one first step to take and its KB article and cause.

use crate::engine::Executed;
use crate::kb::{self, Lang, Text};
use crate::report::model::{Cause, CauseKb, CheckReport, ReportedFinding, Severity, Status};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

/// A kind of consequence a cause accounts for.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Consequence {
    kind: String,
    #[serde(default)]
    codes: Vec<String>,
    #[serde(default)]
    same: Vec<String>,
    #[serde(default)]
    contains: BTreeMap<String, Vec<String>>,
    /// Only when the same check also has this finding, itself explained by the cause.
    #[serde(default)]
    along_with: Option<String>,
}

/// A kind of failure that can be a root cause.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    kind: String,
    #[serde(default)]
    codes: Vec<String>,
    rank: u32,
    #[serde(default)]
    first_step: Option<Text>,
    #[serde(default)]
    explains: Vec<Consequence>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Model {
    cause: Vec<Rule>,
}

/// The rank of a failure no rule names: after every modelled cause.
const UNMODELLED_RANK: u32 = 1000;

fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        toml::from_str(include_str!("../../checks/causes.toml")).unwrap_or_else(|e| panic!("checks/causes.toml: {e}"))
    })
}

/// Every finding code the model names, for the knowledge-base tests.
pub fn codes_named() -> Vec<String> {
    let mut out = Vec::new();
    for r in &model().cause {
        out.extend(r.codes.iter().cloned());
        for c in &r.explains {
            out.extend(c.codes.iter().cloned());
        }
    }
    out
}

/// The check id a skip reason names (`dns:tramita (fail)` → `dns:tramita`).
fn reason_id(reason: &str) -> &str {
    reason.rsplit_once(" (").map(|(id, _)| id).unwrap_or(reason).trim()
}

/// Makes every skip reason name the check that started the chain, not the previous skip:
/// `tls:x` skipped because `tcp:x` was skipped because `dns:x` failed says `dns:x (fail)`.
pub fn trace_skips_to_root(executed: &mut [Executed]) {
    let reasons: HashMap<String, (bool, Option<String>)> = executed
        .iter()
        .map(|e| {
            let blocked = e.status == Status::Skip && e.outcome.blocked_by_prerequisite;
            (e.id.clone(), (blocked, e.outcome.skipped_because.clone()))
        })
        .collect();
    for e in executed.iter_mut().filter(|e| e.status == Status::Skip && e.outcome.blocked_by_prerequisite) {
        let Some(mut reason) = e.outcome.skipped_because.clone() else { continue };
        let mut seen = HashSet::new();
        while let Some((true, Some(next))) = reasons.get(reason_id(&reason)) {
            if !seen.insert(reason_id(&reason).to_string()) {
                break;
            }
            reason = next.clone();
        }
        e.outcome.skipped_because = Some(reason);
    }
}

/// A warning or failure of a check: what the model reasons about.
fn problems(check: &CheckReport) -> impl Iterator<Item = &ReportedFinding> {
    check.findings.iter().filter(|f| f.severity != Severity::Info)
}

fn is_problem(check: &CheckReport) -> bool {
    matches!(check.status, Status::Fail | Status::Warn | Status::Error) && problems(check).next().is_some()
}

/// The rule that makes this finding of this check a cause.
fn rule_for<'m>(check: &CheckReport, finding: &ReportedFinding) -> Option<&'m Rule> {
    model()
        .cause
        .iter()
        .filter(|r| r.kind == check.check && (r.codes.is_empty() || r.codes.contains(&finding.code)))
        .min_by_key(|r| r.rank)
}

/// A fact of a finding for `same`: `target` and `code` are the check's and the finding's own.
fn fact<'a>(check: &'a CheckReport, f: &'a ReportedFinding, name: &str) -> Option<&'a str> {
    match name {
        "target" => check.target.as_deref(),
        "code" => Some(f.code.as_str()),
        _ => f.params.get(name).map(String::as_str),
    }
}

/// Whether the cause finding `cf` of `cause` explains the finding `f` of `check`.
fn explains(cause: &CheckReport, cf: &ReportedFinding, check: &CheckReport, f: &ReportedFinding) -> bool {
    if f.params.get("folded_under").is_some_and(|id| *id == cause.id) {
        return true;
    }
    let Some(rule) = rule_for(cause, cf) else { return false };
    rule.explains.iter().any(|c| {
        c.kind == check.check
            && (c.codes.is_empty() || c.codes.contains(&f.code))
            && c.same.iter().all(|name| fact(cause, cf, name).is_some_and(|v| fact(check, f, name) == Some(v)))
            && c.contains.iter().all(|(name, needles)| {
                f.params.get(name).is_some_and(|v| {
                    let v = v.to_lowercase();
                    needles.iter().any(|n| v.contains(&n.to_lowercase()))
                })
            })
            && c.along_with.as_ref().is_none_or(|sibling| {
                *sibling != f.code && check.findings.iter().any(|g| g.code == *sibling && explains(cause, cf, check, g))
            })
    })
}

/// The finding of a root check that names its cause: the one a rule knows, else the worst.
/// Findings another root cause explains are not this root's cause (`others`: the other roots).
fn cause_finding<'a>(check: &'a CheckReport, others: &[&CheckReport]) -> Option<&'a ReportedFinding> {
    let own = |f: &&ReportedFinding| {
        !others.iter().any(|o| rank_of(o) <= rank_of(check) && problems(o).any(|cf| explains(o, cf, check, f)))
    };
    let candidates: Vec<&ReportedFinding> = problems(check).filter(own).collect();
    let candidates = if candidates.is_empty() { problems(check).collect() } else { candidates };
    candidates
        .iter()
        .copied()
        .filter(|f| rule_for(check, f).is_some())
        .min_by_key(|f| (f.severity, rule_for(check, f).map(|r| r.rank)))
        .or_else(|| candidates.iter().copied().min_by_key(|f| f.severity))
}

fn rank_of(check: &CheckReport) -> u32 {
    problems(check).filter_map(|f| rule_for(check, f)).map(|r| r.rank).min().unwrap_or(UNMODELLED_RANK)
}

/// The first step of a cause: the rule's, filled with the finding's facts, else the code's first
/// fix step (already filled for this host's OS family).
fn first_step(check: &CheckReport, f: &ReportedFinding, lang: Lang) -> String {
    let rule = rule_for(check, f).and_then(|r| r.first_step.as_ref());
    match rule {
        Some(t) => {
            // A first step holds commands: the facts exactly as found.
            let mut params = f.params.clone();
            if let Some(target) = &check.target {
                params.entry("target".into()).or_insert_with(|| target.clone());
            }
            kb::fill(t.get(lang), &params)
        }
        None => f.fix.first().cloned().unwrap_or_default(),
    }
}

/// Computes the diagnosis of a run's checks (in catalog order): the root causes, most important
/// first, each with the checks it explains. Empty when nothing warns or fails.
///
/// A finding of a root check that another cause explains (an NTP server name that could not be
/// resolved while DNS is dead) gains the fact `folded_under` naming that cause's check.
pub fn diagnose(checks: &mut [CheckReport], lang: Lang) -> Vec<Cause> {
    let causes = diagnose_checks(checks, lang);
    let roots: HashSet<String> = causes.iter().map(|c| c.check.clone()).collect();
    let mut marks: Vec<(usize, usize, String)> = Vec::new();
    for (j, check) in checks.iter().enumerate().filter(|(_, c)| roots.contains(&c.id)) {
        for (k, f) in check.findings.iter().enumerate() {
            if f.severity == Severity::Info || f.params.contains_key("folded_under") {
                continue;
            }
            let by = checks.iter().filter(|c| c.id != check.id && roots.contains(&c.id)).find(|cause| {
                problems(cause).any(|cf| rank_of(cause) <= rank_of(check) && explains(cause, cf, check, f))
            });
            if let Some(cause) = by {
                marks.push((j, k, cause.id.clone()));
            }
        }
    }
    for (j, k, by) in marks {
        checks[j].findings[k].params.insert("folded_under".into(), by);
    }
    causes
}

fn diagnose_checks(checks: &[CheckReport], lang: Lang) -> Vec<Cause> {
    let by_id: HashMap<&str, usize> = checks.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
    let mut candidates: Vec<usize> = (0..checks.len()).filter(|&i| is_problem(&checks[i])).collect();
    candidates.sort_by_key(|&i| (rank_of(&checks[i]), i));
    // root index of each check folded under a cause
    let mut root_of: HashMap<usize, usize> = HashMap::new();
    let mut roots: Vec<usize> = Vec::new();
    for &i in &candidates {
        if root_of.contains_key(&i) {
            continue;
        }
        roots.push(i);
        root_of.insert(i, i);
        // What this root explains, and what those explain in turn.
        let mut queue = vec![i];
        while let Some(c) = queue.pop() {
            let cause = &checks[c];
            let cause_findings: Vec<&ReportedFinding> = problems(cause).collect();
            for &j in &candidates {
                if root_of.contains_key(&j) {
                    continue;
                }
                let other = &checks[j];
                let all_explained =
                    problems(other).all(|f| cause_findings.iter().any(|cf| explains(cause, cf, other, f)));
                if all_explained {
                    root_of.insert(j, i);
                    queue.push(j);
                }
            }
        }
    }
    // Checks skipped because a prerequisite failed follow the root of that prerequisite.
    for (j, c) in checks.iter().enumerate() {
        if c.status != Status::Skip || root_of.contains_key(&j) {
            continue;
        }
        let Some(reason) = &c.skipped_because else { continue };
        if let Some(&origin) = by_id.get(reason_id(reason)) {
            if let Some(&root) = root_of.get(&origin) {
                root_of.insert(j, root);
            }
        }
    }
    let mut causes: Vec<(usize, Cause)> = roots
        .iter()
        .copied()
        .filter_map(|r| {
            let check = &checks[r];
            let others: Vec<&CheckReport> = roots.iter().filter(|o| **o != r).map(|o| &checks[*o]).collect();
            let f = cause_finding(check, &others)?;
            let explains: Vec<String> = (0..checks.len())
                .filter(|j| *j != r && root_of.get(j) == Some(&r))
                .map(|j| checks[j].id.clone())
                .collect();
            Some((
                r,
                Cause {
                    code: f.code.clone(),
                    check: check.id.clone(),
                    explains,
                    first_step: first_step(check, f, lang),
                    kb: CauseKb { article: f.kb.article.clone(), cause: f.kb.cause },
                    severity: if check.status == Status::Error { Severity::Fail } else { f.severity },
                    message: f.message.clone(),
                },
            ))
        })
        .collect();
    causes.sort_by_key(|(r, c)| (c.severity, std::cmp::Reverse(c.explains.len()), rank_of(&checks[*r]), *r));
    causes.into_iter().map(|(_, c)| c).collect()
}

/// For each check folded under a cause, the id of the cause's check.
pub fn folded_under(diagnosis: &[Cause]) -> HashMap<&str, &str> {
    diagnosis.iter().flat_map(|c| c.explains.iter().map(move |e| (e.as_str(), c.check.as_str()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::KbRef;
    use serde_json::Map;

    fn finding(code: &str, severity: Severity, params: &[(&str, &str)]) -> ReportedFinding {
        ReportedFinding {
            code: code.into(),
            severity,
            message: format!("{code} message"),
            kb: KbRef { article: "A".into(), cause: Some(3), title: String::new(), url: String::new() },
            fix: vec![format!("fix {code}")],
            params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    fn check(id: &str, status: Status, findings: Vec<ReportedFinding>, skipped: Option<&str>) -> CheckReport {
        let (kind, target) = match id.split_once(':') {
            Some((k, t)) => (k.to_string(), Some(t.to_string())),
            None => (id.to_string(), None),
        };
        CheckReport {
            id: id.into(),
            check: kind,
            target,
            status,
            duration_ms: 0,
            summary: String::new(),
            findings,
            evidence: Map::new(),
            skipped_because: skipped.map(str::to_string),
            measures: Default::default(),
        }
    }

    fn dns_error(host: &str) -> ReportedFinding {
        finding(
            "DNS_ERROR",
            Severity::Fail,
            &[("host", host), ("server", "127.0.0.99:53"), ("error", "conexão recusada")],
        )
    }

    #[test]
    fn the_model_file_parses_and_names_only_declared_codes() {
        let kb = kb::kb();
        for code in codes_named() {
            assert!(kb.code(&code).is_some(), "checks/causes.toml names unknown code {code}");
        }
        let kinds: Vec<&str> = crate::checks::CATALOG.to_vec();
        for rule in &model().cause {
            assert!(kinds.contains(&rule.kind.as_str()), "checks/causes.toml: unknown check kind {}", rule.kind);
            assert!(rule.first_step.as_ref().is_none_or(|t| !t.pt.is_empty() && !t.en.is_empty()), "{rule:?}");
            for c in &rule.explains {
                assert!(kinds.contains(&c.kind.as_str()), "checks/causes.toml: unknown check kind {}", c.kind);
                if let Some(s) = &c.along_with {
                    assert!(kb.code(s).is_some(), "checks/causes.toml: unknown along_with {s}");
                }
            }
        }
    }

    #[test]
    fn a_dead_dns_explains_the_other_names_the_skips_and_the_ntp_names() {
        let mut checks = vec![
            check("cert:client", Status::Ok, vec![], None),
            check("dns:tramita", Status::Fail, vec![dns_error("a.gov.br")], None),
            check("dns:pendencias", Status::Fail, vec![dns_error("b.gov.br")], None),
            check("tcp:tramita", Status::Skip, vec![], Some("dns:tramita (fail)")),
            check("tls:tramita", Status::Skip, vec![], Some("dns:tramita (fail)")),
            check("tcp:pendencias", Status::Skip, vec![], Some("dns:pendencias (fail)")),
            check(
                "ntp",
                Status::Warn,
                vec![finding(
                    "NTP_UNREACHABLE",
                    Severity::Warn,
                    &[("error", "a.ntp.br: resolve: failed to lookup address information")],
                )],
                None,
            ),
        ];
        let d = diagnose(&mut checks, Lang::Pt);
        assert_eq!(d.len(), 1, "{d:#?}");
        assert_eq!((d[0].code.as_str(), d[0].check.as_str()), ("DNS_ERROR", "dns:tramita"));
        assert_eq!(d[0].explains, ["dns:pendencias", "tcp:tramita", "tls:tramita", "tcp:pendencias", "ntp"]);
        assert!(d[0].first_step.contains("127.0.0.99:53"), "{}", d[0].first_step);
        assert!(d[0].first_step.contains("getent ahosts a.gov.br"), "{}", d[0].first_step);
        assert_eq!(d[0].kb, CauseKb { article: "A".into(), cause: Some(3) });
    }

    #[test]
    fn an_unrelated_failure_stays_a_cause_of_its_own_ranked_by_what_it_explains() {
        let mut checks = vec![
            check("dns:tramita", Status::Fail, vec![dns_error("a")], None),
            check("tcp:tramita", Status::Skip, vec![], Some("dns:tramita (fail)")),
            check("ntp", Status::Fail, vec![finding("NTP_UNSYNCHRONIZED", Severity::Fail, &[])], None),
            check("ca:store", Status::Warn, vec![finding("CA_STORE_EXPIRED_ROOTS", Severity::Warn, &[])], None),
        ];
        let d = diagnose(&mut checks, Lang::Pt);
        let order: Vec<&str> = d.iter().map(|c| c.check.as_str()).collect();
        assert_eq!(order, ["dns:tramita", "ntp", "ca:store"]);
        assert_eq!(d[2].first_step, "fix CA_STORE_EXPIRED_ROOTS");
        assert!(d[1].explains.is_empty());
    }

    #[test]
    fn supervisord_down_explains_the_workers_and_an_expired_certificate_the_rejection() {
        let mut checks = vec![
            check(
                "cert:client",
                Status::Fail,
                vec![finding("CLIENT_CERT_EXPIRED", Severity::Fail, &[("subject", "CN=orgao")])],
                None,
            ),
            check("http:tramita", Status::Fail, vec![finding("CLIENT_CERT_REJECTED", Severity::Fail, &[])], None),
            check("supervisor", Status::Fail, vec![finding("SUPERVISOR_DOWN", Severity::Fail, &[])], None),
            check("process", Status::Fail, vec![finding("PEN_WORKERS_NOT_RUNNING", Severity::Fail, &[])], None),
        ];
        let d = diagnose(&mut checks, Lang::En);
        assert_eq!(d.len(), 2, "{d:#?}");
        assert_eq!((d[0].check.as_str(), d[0].explains.clone()), ("cert:client", vec!["http:tramita".to_string()]));
        assert!(d[0].first_step.contains("CN=orgao"));
        assert_eq!((d[1].check.as_str(), d[1].explains.clone()), ("supervisor", vec!["process".to_string()]));
    }

    #[test]
    fn an_unsynchronised_clock_follows_a_dead_dns_only_when_the_ntp_names_did_not_resolve() {
        let ntp = |error: &str| {
            check(
                "ntp",
                Status::Fail,
                vec![
                    finding("NTP_UNSYNCHRONIZED", Severity::Fail, &[("maxerror_ms", "16000")]),
                    finding("NTP_UNREACHABLE", Severity::Warn, &[("error", error)]),
                ],
                None,
            )
        };
        let mut checks = vec![check("dns:tramita", Status::Fail, vec![dns_error("a")], None), ntp("resolve: failed")];
        let d = diagnose(&mut checks, Lang::Pt);
        assert_eq!(d.len(), 1, "{d:#?}");
        assert_eq!(d[0].explains, ["ntp"]);
        // With a daemon missing too, the clock stays a cause: the daemon, not the DNS-bound parts.
        let mut with_daemon = ntp("resolve: failed");
        with_daemon.findings.push(finding("NTP_NO_DAEMON", Severity::Warn, &[]));
        let mut checks = vec![check("dns:tramita", Status::Fail, vec![dns_error("a")], None), with_daemon];
        let d = diagnose(&mut checks, Lang::Pt);
        assert_eq!((d[1].check.as_str(), d[1].code.as_str()), ("ntp", "NTP_NO_DAEMON"), "{d:#?}");
        // UDP 123 blocked while names resolve: the clock is a cause of its own.
        let mut checks = vec![check("dns:tramita", Status::Fail, vec![dns_error("a")], None), ntp("timeout")];
        assert_eq!(diagnose(&mut checks, Lang::Pt).len(), 2);
    }

    #[test]
    fn a_check_with_a_failure_of_its_own_is_not_folded() {
        let mut checks = vec![
            check("dns:tramita", Status::Fail, vec![dns_error("a")], None),
            check(
                "ntp",
                Status::Fail,
                vec![
                    finding("NTP_UNREACHABLE", Severity::Warn, &[("error", "resolve: failed")]),
                    finding("NTP_NO_DAEMON", Severity::Warn, &[]),
                ],
                None,
            ),
        ];
        let d = diagnose(&mut checks, Lang::Pt);
        assert_eq!(d.len(), 2);
        assert!(d[0].explains.is_empty());
        // The unresolved NTP names point at the DNS; the missing daemon stands on its own.
        assert_eq!(checks[1].findings[0].params.get("folded_under").map(String::as_str), Some("dns:tramita"));
        assert!(!checks[1].findings[1].params.contains_key("folded_under"));
    }

    #[test]
    fn a_healthy_run_has_no_diagnosis_and_a_user_skip_is_nobodys_consequence() {
        let mut checks = vec![
            check("dns:tramita", Status::Ok, vec![finding("PROXY_IN_USE", Severity::Info, &[])], None),
            check("tls:tramita", Status::Skip, vec![], Some("ca:store (--skip)")),
        ];
        assert!(diagnose(&mut checks, Lang::Pt).is_empty());
    }

    #[test]
    fn skip_reasons_name_the_check_that_started_the_chain() {
        use crate::checks::Outcome;
        use std::time::Duration;
        let skipped = |id: &str, because: &str| Executed {
            id: id.into(),
            kind: "x",
            target: None,
            status: Status::Skip,
            outcome: Outcome { blocked_by_prerequisite: true, ..Outcome::skipped(because.to_string()) },
            duration: Duration::ZERO,
        };
        let mut runs = vec![
            Executed {
                id: "dns:a".into(),
                kind: "dns",
                target: None,
                status: Status::Fail,
                outcome: Outcome::new(),
                duration: Duration::ZERO,
            },
            skipped("tcp:a", "dns:a (fail)"),
            skipped("tls:a", "tcp:a (skip)"),
            skipped("http:a", "tls:a (skip)"),
            skipped("tls:b", "ca:store (--skip)"),
        ];
        trace_skips_to_root(&mut runs);
        let reasons: Vec<Option<&str>> = runs.iter().map(|e| e.outcome.skipped_because.as_deref()).collect();
        assert_eq!(
            reasons,
            [None, Some("dns:a (fail)"), Some("dns:a (fail)"), Some("dns:a (fail)"), Some("ca:store (--skip)")]
        );
    }
}
