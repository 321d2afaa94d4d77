//! The fleet rules (SPEC §8.5): what no single node can see, judged from the nodes' facts.
//! `FLEET_CERT_SHARED_ACROSS_ENVIRONMENTS` (one client certificate on nodes of different
//! environments), `FLEET_SCHEDULER_NOT_UNIQUE` (SEI's scheduler in the cron of zero or several
//! nodes of one environment) and `FLEET_QUEUE_OFF_CRON_NODE` (gearmand or supervisord's PEN
//! programs on a node that does not run the scheduler). A rule whose facts some report does not
//! carry says "unknown" and names those nodes; it never guesses.

use crate::kb::Lang;
use crate::messages::msg;
use crate::model::code::{self, Code};
use crate::report::model::{Finding, NodeFacts};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

pub const CERT_SHARED: Code = code::FLEET_CERT_SHARED_ACROSS_ENVIRONMENTS;
pub const SCHEDULER_NOT_UNIQUE: Code = code::FLEET_SCHEDULER_NOT_UNIQUE;
pub const QUEUE_OFF_CRON_NODE: Code = code::FLEET_QUEUE_OFF_CRON_NODE;

/// One node as the rules see it.
pub struct Node<'a> {
    pub name: &'a str,
    /// `None`: the report has no `node` section (written by an older pen-doctor).
    pub facts: Option<&'a NodeFacts>,
}

/// A rule's finding and the nodes it concerns.
pub struct Fired {
    pub finding: Finding,
    pub nodes: Vec<String>,
}

/// How a rule came out over the fleet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Evaluated on every node; nothing wrong.
    Ok,
    /// Fired (see the findings).
    Fired,
    /// Some node's facts are missing, so the rule cannot be settled (and did not fire).
    Unknown,
}

/// A rule's outcome: the verdict and, when facts were missing, on which nodes and which.
#[derive(Clone, Debug, Serialize)]
pub struct RuleResult {
    pub code: Code,
    pub verdict: Verdict,
    /// Nodes whose reports do not tell what the rule needs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown_on: Vec<String>,
    /// The facts missing there (`certificate_sha256`, `scheduler_cron`…).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<&'static str>,
}

fn list(names: &BTreeSet<&str>) -> String {
    names.iter().copied().collect::<Vec<_>>().join(", ")
}

/// The environment a node serves, as the rules group nodes ("?" when not told).
fn env_of(n: &Node) -> String {
    n.facts.and_then(|f| f.environment.clone()).unwrap_or_else(|| "?".into())
}

/// A short fingerprint for people: the first 8 bytes, then `…`.
fn short(fingerprint: &str) -> String {
    let parts: Vec<&str> = fingerprint.split(':').collect();
    if parts.len() > 8 {
        format!("{}…", parts[..8].join(":"))
    } else {
        fingerprint.to_string()
    }
}

/// One certificate (by fingerprint) on nodes of different environments.
fn cert_shared(nodes: &[Node], out: &mut Vec<Fired>) -> RuleResult {
    let mut by_cert: BTreeMap<&str, BTreeMap<String, BTreeSet<&str>>> = BTreeMap::new();
    let mut subjects: BTreeMap<&str, &str> = BTreeMap::new();
    let mut unknown = Vec::new();
    let mut missing = BTreeSet::new();
    for n in nodes {
        let Some(f) = n.facts else {
            unknown.push(n.name.to_string());
            missing.insert("node");
            continue;
        };
        match (f.certificate_sha256.as_deref(), f.environment.as_deref()) {
            (Some(fp), Some(env)) => {
                by_cert.entry(fp).or_default().entry(env.to_string()).or_default().insert(n.name);
                if let Some(s) = f.certificate_subject.as_deref() {
                    subjects.entry(fp).or_insert(s);
                }
            }
            (fp, env) => {
                unknown.push(n.name.to_string());
                if fp.is_none() {
                    missing.insert("certificate_sha256");
                }
                if env.is_none() {
                    missing.insert("environment");
                }
            }
        }
    }
    let before = out.len();
    for (fp, envs) in &by_cert {
        if envs.len() < 2 {
            continue;
        }
        let environments =
            envs.iter().map(|(env, names)| format!("{env} ({})", list(names))).collect::<Vec<_>>().join("; ");
        let names: BTreeSet<&str> = envs.values().flatten().copied().collect();
        out.push(Fired {
            finding: Finding::new(CERT_SHARED)
                .with("fingerprint", short(fp))
                .with("sha256", fp)
                .with("subject", subjects.get(fp).copied().unwrap_or("?"))
                .with("environments", environments)
                .with("nodes", list(&names)),
            nodes: names.iter().map(|s| s.to_string()).collect(),
        });
    }
    verdict(CERT_SHARED, out.len() > before, unknown, missing)
}

fn verdict(code: Code, fired: bool, mut unknown: Vec<String>, missing: BTreeSet<&'static str>) -> RuleResult {
    unknown.sort();
    unknown.dedup();
    let verdict = if fired {
        Verdict::Fired
    } else if unknown.is_empty() {
        Verdict::Ok
    } else {
        Verdict::Unknown
    };
    RuleResult { code, verdict, unknown_on: unknown, missing: missing.into_iter().collect() }
}

/// Nodes grouped by environment, in the order of the environment names.
fn by_env<'a, 'b>(nodes: &'b [Node<'a>]) -> BTreeMap<String, Vec<&'b Node<'a>>> {
    let mut m: BTreeMap<String, Vec<&Node>> = BTreeMap::new();
    for n in nodes {
        m.entry(env_of(n)).or_default().push(n);
    }
    m
}

/// SEI's scheduler in the cron of exactly one node per environment.
fn scheduler_unique(nodes: &[Node], lang: Lang, out: &mut Vec<Fired>) -> RuleResult {
    let mut unknown = Vec::new();
    let mut missing = BTreeSet::new();
    let before = out.len();
    for (env, group) in by_env(nodes) {
        let mut on: BTreeSet<&str> = BTreeSet::new();
        let mut env_unknown = Vec::new();
        for n in &group {
            match n.facts.map(|f| f.scheduler_cron) {
                Some(Some(true)) => {
                    on.insert(n.name);
                }
                Some(Some(false)) => {}
                Some(None) => {
                    env_unknown.push(n.name.to_string());
                    missing.insert("scheduler_cron");
                }
                None => {
                    env_unknown.push(n.name.to_string());
                    missing.insert("node");
                }
            }
        }
        // Several nodes is wrong whatever the others say; none only when every node told.
        if on.len() >= 2 || (on.is_empty() && env_unknown.is_empty()) {
            let names: BTreeSet<&str> = group.iter().map(|n| n.name).collect();
            out.push(Fired {
                finding: Finding::new(SCHEDULER_NOT_UNIQUE)
                    .with("environment", &env)
                    .with("count", on.len())
                    .with("total", group.len())
                    .with("scheduled_on", if on.is_empty() { msg(lang, "fleet.none").to_string() } else { list(&on) })
                    .with("nodes", list(&names)),
                nodes: if on.is_empty() {
                    names.iter().map(|s| s.to_string()).collect()
                } else {
                    on.iter().map(|s| s.to_string()).collect()
                },
            });
        } else {
            unknown.extend(env_unknown);
        }
    }
    verdict(SCHEDULER_NOT_UNIQUE, out.len() > before, unknown, missing)
}

/// What of the queue a node has: gearmand answering there, supervisord PEN programs there.
fn queue_of(f: &NodeFacts) -> Vec<&'static str> {
    let mut q = Vec::new();
    if f.gearman_configured == Some(true) {
        q.push("gearmand");
    }
    if f.supervisor_configured == Some(true) {
        q.push("supervisord");
    }
    q
}

/// gearmand and supervisord's PEN programs only on the node whose cron runs SEI's scheduler.
fn queue_on_cron_node(nodes: &[Node], lang: Lang, out: &mut Vec<Fired>) -> RuleResult {
    let mut unknown = Vec::new();
    let mut missing = BTreeSet::new();
    let before = out.len();
    for (env, group) in by_env(nodes) {
        let scheduler: BTreeSet<&str> =
            group.iter().filter(|n| n.facts.and_then(|f| f.scheduler_cron) == Some(true)).map(|n| n.name).collect();
        let scheduler_nodes =
            if scheduler.is_empty() { msg(lang, "fleet.rules.no-known-node").to_string() } else { list(&scheduler) };
        let with_queue: Vec<(&str, Vec<&'static str>, Option<bool>)> = group
            .iter()
            .filter_map(|n| {
                let f = n.facts?;
                let q = queue_of(f);
                (!q.is_empty()).then_some((n.name, q, f.scheduler_cron))
            })
            .collect();
        let mut fired_here = false;
        // Known to be off the scheduler node.
        for (name, queue, _) in with_queue.iter().filter(|(_, _, s)| *s == Some(false)) {
            fired_here = true;
            out.push(Fired {
                finding: Finding::new(QUEUE_OFF_CRON_NODE)
                    .with("services", queue.join(", "))
                    .with("nodes", *name)
                    .with("environment", &env)
                    .with("scheduler_nodes", &scheduler_nodes),
                nodes: vec![name.to_string()],
            });
        }
        // On several nodes where the scheduler is unknown: at most one of them can run it.
        let undecided: Vec<&(&str, Vec<&'static str>, Option<bool>)> =
            with_queue.iter().filter(|(_, _, s)| s.is_none()).collect();
        if !fired_here && undecided.len() >= 2 {
            fired_here = true;
            let names: BTreeSet<&str> = undecided.iter().map(|(n, _, _)| *n).collect();
            let services: BTreeSet<&str> = undecided.iter().flat_map(|(_, q, _)| q.iter().copied()).collect();
            out.push(Fired {
                finding: Finding::new(QUEUE_OFF_CRON_NODE)
                    .with("services", list(&services))
                    .with("nodes", list(&names))
                    .with("environment", &env)
                    .with("scheduler_nodes", &scheduler_nodes),
                nodes: names.iter().map(|s| s.to_string()).collect(),
            });
        }
        if fired_here {
            continue;
        }
        for n in &group {
            match n.facts {
                None => {
                    unknown.push(n.name.to_string());
                    missing.insert("node");
                }
                Some(f) => {
                    let lacks: Vec<&'static str> = [
                        ("scheduler_cron", f.scheduler_cron.is_none() && !queue_of(f).is_empty()),
                        ("gearman_configured", f.gearman_configured.is_none()),
                        ("supervisor_configured", f.supervisor_configured.is_none()),
                    ]
                    .into_iter()
                    .filter_map(|(k, lacking)| lacking.then_some(k))
                    .collect();
                    if !lacks.is_empty() {
                        unknown.push(n.name.to_string());
                        missing.extend(lacks);
                    }
                }
            }
        }
    }
    verdict(QUEUE_OFF_CRON_NODE, out.len() > before, unknown, missing)
}

/// Every rule over the fleet: the findings and each rule's verdict, in the order of SPEC §8.5.
pub fn evaluate(nodes: &[Node], lang: Lang) -> (Vec<Fired>, Vec<RuleResult>) {
    let mut fired = Vec::new();
    let results = vec![
        cert_shared(nodes, &mut fired),
        scheduler_unique(nodes, lang, &mut fired),
        queue_on_cron_node(nodes, lang, &mut fired),
    ];
    (fired, results)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(
        env: &str,
        cert: Option<&str>,
        scheduler: Option<bool>,
        gearman: Option<bool>,
        sup: Option<bool>,
    ) -> NodeFacts {
        NodeFacts {
            environment: Some(env.into()),
            certificate_sha256: cert.map(str::to_string),
            certificate_subject: cert.map(|_| "CN=sei.orgao".to_string()),
            scheduler_cron: scheduler,
            gearman_configured: gearman,
            gearman_address: None,
            supervisor_configured: sup,
            module_version: Some("4.0.1".into()),
        }
    }

    fn run(list: &[(&str, Option<NodeFacts>)]) -> (Vec<Fired>, Vec<RuleResult>) {
        let nodes: Vec<Node> = list.iter().map(|(n, f)| Node { name: n, facts: f.as_ref() }).collect();
        evaluate(&nodes, Lang::En)
    }

    fn codes(f: &[Fired]) -> Vec<&str> {
        f.iter().map(|f| f.finding.code.as_str()).collect()
    }

    #[test]
    fn one_certificate_in_two_environments_fails() {
        let (fired, results) = run(&[
            ("h1", Some(facts("homologacao", Some("AA:BB"), Some(true), Some(true), Some(true)))),
            ("p1", Some(facts("producao", Some("AA:BB"), Some(true), Some(true), Some(true)))),
            ("p2", Some(facts("producao", Some("CC:DD"), Some(false), Some(false), Some(false)))),
        ]);
        assert_eq!(codes(&fired), vec![CERT_SHARED]);
        assert_eq!(fired[0].nodes, vec!["h1", "p1"]);
        assert_eq!(fired[0].finding.params["environments"], "homologacao (h1); producao (p1)");
        assert!(results.iter().all(|r| r.verdict != Verdict::Unknown), "{results:?}");
        // The same certificate on two nodes of one environment is how a cluster works.
        let (fired, _) = run(&[
            ("p1", Some(facts("producao", Some("AA:BB"), Some(true), Some(true), Some(true)))),
            ("p2", Some(facts("producao", Some("AA:BB"), Some(false), Some(false), Some(false)))),
        ]);
        assert!(fired.is_empty());
    }

    #[test]
    fn the_scheduler_on_exactly_one_node_per_environment() {
        let (fired, _) = run(&[
            ("a", Some(facts("producao", None, Some(true), None, None))),
            ("b", Some(facts("producao", None, Some(true), None, None))),
            ("c", Some(facts("producao", None, None, None, None))),
        ]);
        assert!(codes(&fired).contains(&SCHEDULER_NOT_UNIQUE.as_str()), "two is wrong whatever c says");
        assert_eq!(fired[0].finding.params["count"], "2");
        let (fired, _) = run(&[
            ("a", Some(facts("producao", None, Some(false), Some(false), Some(false)))),
            ("b", Some(facts("producao", None, Some(false), Some(false), Some(false)))),
        ]);
        assert_eq!(codes(&fired), vec![SCHEDULER_NOT_UNIQUE]);
        assert_eq!(fired[0].finding.params["scheduled_on"], "none");
        // One per environment is right: homologação and produção are two installations.
        let (fired, results) = run(&[
            ("h", Some(facts("homologacao", None, Some(true), Some(true), Some(true)))),
            ("p", Some(facts("producao", None, Some(true), Some(true), Some(true)))),
        ]);
        assert!(!codes(&fired).contains(&SCHEDULER_NOT_UNIQUE.as_str()));
        assert_eq!(results[1].verdict, Verdict::Ok);
    }

    #[test]
    fn an_unknown_scheduler_is_said_not_guessed() {
        let (fired, results) =
            run(&[("a", Some(facts("producao", Some("AA"), None, Some(true), Some(true)))), ("b", None)]);
        assert!(fired.is_empty(), "{:?}", codes(&fired));
        let sched = &results[1];
        assert_eq!(sched.verdict, Verdict::Unknown);
        assert_eq!(sched.unknown_on, vec!["a", "b"]);
        assert_eq!(sched.missing, vec!["node", "scheduler_cron"]);
        assert_eq!(results[0].verdict, Verdict::Unknown, "b's certificate is not known");
    }

    #[test]
    fn the_queue_belongs_on_the_scheduler_node() {
        let (fired, results) = run(&[
            ("cron", Some(facts("producao", None, Some(true), Some(true), Some(true)))),
            ("web", Some(facts("producao", None, Some(false), Some(false), Some(true)))),
        ]);
        assert_eq!(codes(&fired), vec![QUEUE_OFF_CRON_NODE]);
        assert_eq!(fired[0].nodes, vec!["web"]);
        assert_eq!(fired[0].finding.params["services"], "supervisord");
        assert_eq!(fired[0].finding.params["scheduler_nodes"], "cron");
        assert_eq!(results[2].verdict, Verdict::Fired);
        // With the scheduler unknown, the queue on two nodes is still one too many.
        let (fired, _) = run(&[
            ("a", Some(facts("producao", None, None, Some(true), Some(true)))),
            ("b", Some(facts("producao", None, None, Some(false), Some(true)))),
        ]);
        assert_eq!(codes(&fired), vec![QUEUE_OFF_CRON_NODE]);
        assert_eq!(fired[0].nodes, vec!["a", "b"]);
        // A healthy cluster: queue and scheduler together, web nodes with neither.
        let (fired, results) = run(&[
            ("cron", Some(facts("producao", Some("AA"), Some(true), Some(true), Some(true)))),
            ("web", Some(facts("producao", Some("AA"), Some(false), Some(false), Some(false)))),
        ]);
        assert!(fired.is_empty(), "{:?}", codes(&fired));
        assert!(results.iter().all(|r| r.verdict == Verdict::Ok), "{results:?}");
    }
}
