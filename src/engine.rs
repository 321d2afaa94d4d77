//! Runs the plan: selects the checks (`--only`, `--skip`), starts every check as soon as its
//! prerequisites are done (independent checks run concurrently), skips a check whose
//! prerequisite failed without delivering its fact, and stops the run at `--deadline`. A check
//! also waits for the checks it merely *uses* when they are part of the run (their facts, if
//! any, are passed on; their absence or failure never skips it).

use crate::checks::{Check, Completed, Ctx, Outcome};
use crate::model::code;
use crate::model::{CheckId, Finding, Kind, Status, TargetName};
use crate::settings::Settings;
use futures::future::{BoxFuture, FutureExt, Shared};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A check that ran (or was skipped), with its resolved status.
pub struct Executed {
    pub id: String,
    pub kind: &'static str,
    pub target: Option<String>,
    pub status: Status,
    pub outcome: Outcome,
    pub duration: Duration,
}

/// Whether a `--only`/`--skip` entry names this check: its kind (`dns`), its id (`dns:tramita`)
/// or its target (`tramita`) — `config:sei` and `config` alike.
fn selector_matches(entry: &str, check: &dyn Check) -> bool {
    let entry = entry.trim();
    entry == check.kind().as_str() || check.id().is(entry) || check.target().is_some_and(|t| t.as_str() == entry)
}

/// Kinds whose check, skipped by the user, still gathers its fact for the checks of the run that
/// need it, without being judged (its findings are not reported): the trust store (`ca`) is
/// loaded, the name (`dns`) resolved through the system's resolver configuration and
/// `--resolve`, the connection (`tcp`) opened, directly or through the proxy. When it cannot
/// deliver its fact, it is reported as it ended: the checks asked for cannot run because of it.
const FACT_WHEN_SKIPPED: &[Kind] = &[Kind::Ca, Kind::Dns, Kind::Tcp];

/// Kinds whose check, skipped by the user, lets its dependents run without it: without the
/// client certificate (`cert`) they run as if none were configured. (Skipping `config` is
/// handled before the run: SEI's configuration is not read, the built-in addresses are used.)
/// Any other prerequisite skipped by the user skips its dependents, naming that skip.
const RUN_WITHOUT_WHEN_SKIPPED: &[Kind] = &[Kind::Cert, Kind::Config];

/// The checks skipped by the user that still gather their fact (see [`FACT_WHEN_SKIPPED`]):
/// those a check of the run depends on, directly or through another such check.
fn gathering_for_dependents(checks: &HashMap<CheckId, Arc<dyn Check>>, dropped: &HashSet<CheckId>) -> HashSet<CheckId> {
    let mut serving: HashSet<CheckId> = HashSet::new();
    loop {
        let mut grew = false;
        for c in checks.values() {
            let id = c.id();
            if dropped.contains(&id) && !serving.contains(&id) {
                continue;
            }
            for dep in c.depends_on() {
                let gathers = checks.get(&dep).is_some_and(|d| FACT_WHEN_SKIPPED.contains(&d.kind()));
                if gathers && dropped.contains(&dep) && serving.insert(dep) {
                    grew = true;
                }
            }
        }
        if !grew {
            return serving;
        }
    }
}

/// Applies `--only` (with every prerequisite it needs) and `--skip`. Returns the checks of the
/// run — a check dropped by `--skip` stays in it, to be reported as skipped by the user — and
/// the ids of those dropped (a dependent then says why it was skipped, or runs with a default).
pub fn select(
    all: Vec<Box<dyn Check>>,
    only: Option<&[String]>,
    skip: &[String],
) -> (Vec<Box<dyn Check>>, HashSet<CheckId>) {
    let by_id: HashMap<CheckId, usize> = all.iter().enumerate().map(|(i, c)| (c.id(), i)).collect();
    let mut keep: HashSet<CheckId> = match only {
        None => all.iter().map(|c| c.id()).collect(),
        Some(list) => {
            let mut wanted: Vec<CheckId> =
                all.iter().filter(|c| list.iter().any(|e| selector_matches(e, c.as_ref()))).map(|c| c.id()).collect();
            let mut set = HashSet::new();
            while let Some(id) = wanted.pop() {
                if set.insert(id.clone()) {
                    if let Some(&i) = by_id.get(&id) {
                        wanted.extend(all[i].depends_on());
                    }
                }
            }
            set
        }
    };
    let mut dropped = HashSet::new();
    for c in &all {
        if skip.iter().any(|e| selector_matches(e, c.as_ref())) && keep.remove(&c.id()) {
            dropped.insert(c.id());
        }
    }
    let kept = all.into_iter().filter(|c| keep.contains(&c.id()) || dropped.contains(&c.id())).collect();
    (kept, dropped)
}

type DoneFuture = Shared<BoxFuture<'static, Arc<Completed>>>;
type Results = Arc<Mutex<HashMap<CheckId, (Outcome, Status, Duration)>>>;

struct Runner {
    settings: Arc<Settings>,
    checks: HashMap<CheckId, Arc<dyn Check>>,
    dropped: HashSet<CheckId>,
    /// Of `dropped`, those that still gather their fact for their dependents.
    gathering: HashSet<CheckId>,
    futures: Mutex<HashMap<CheckId, DoneFuture>>,
    results: Results,
    severity: fn(&str) -> crate::model::Severity,
    on_done: OnDone,
}

/// Called with a check's id each time a check finishes (or is skipped), from any task.
pub type OnDone = Arc<dyn Fn(&CheckId) + Send + Sync>;

impl Runner {
    /// The future that completes when check `id` is done, created once.
    fn future_of(self: &Arc<Self>, id: &CheckId, path: &mut Vec<CheckId>) -> DoneFuture {
        if let Some(f) = self.futures.lock().unwrap_or_else(|e| e.into_inner()).get(id) {
            return f.clone();
        }
        let check = self.checks.get(id).cloned();
        let mut deps: Vec<(CheckId, Option<DoneFuture>)> = Vec::new();
        let mut used: Vec<(CheckId, DoneFuture)> = Vec::new();
        if let Some(check) = &check {
            path.push(id.clone());
            for dep in check.depends_on() {
                let fut = if path.contains(&dep) || !self.checks.contains_key(&dep) {
                    None
                } else {
                    Some(self.future_of(&dep, path))
                };
                deps.push((dep, fut));
            }
            for dep in check.uses() {
                if !path.contains(&dep) && self.checks.contains_key(&dep) {
                    let fut = self.future_of(&dep, path);
                    used.push((dep, fut));
                }
            }
            path.pop();
        }
        let me = Arc::clone(self);
        let id_owned = id.clone();
        let fut = async move {
            let Some(check) = check else {
                return Arc::new(Completed { status: Status::Skip, fact: None });
            };
            let gathering = me.gathering.contains(&id_owned);
            if me.dropped.contains(&id_owned) && !gathering {
                return me.skipped_by_user(&id_owned);
            }
            let mut dep_results = HashMap::new();
            let mut skip_reason = None;
            for (dep, fut) in deps {
                match fut {
                    None => {
                        let why = if me.dropped.contains(&dep) { "--skip" } else { "not in this run" };
                        skip_reason.get_or_insert(format!("{dep} ({why})"));
                    }
                    Some(f) => {
                        let done = f.await;
                        let by_user = me.dropped.contains(&dep) && done.status == Status::Skip;
                        let defaulted = by_user && RUN_WITHOUT_WHEN_SKIPPED.contains(&dep.kind());
                        if done.status != Status::Ok && done.status != Status::Warn && done.fact.is_none() && !defaulted
                        {
                            let why = if by_user { "--skip" } else { done.status.as_str() };
                            skip_reason.get_or_insert(format!("{dep} ({why})"));
                        }
                        dep_results.insert(dep, done);
                    }
                }
            }
            for (dep, fut) in used {
                let done = fut.await;
                dep_results.insert(dep, done);
            }
            let start = Instant::now();
            let outcome = match skip_reason {
                Some(reason) => Outcome { blocked_by_prerequisite: true, ..Outcome::skipped(reason) },
                None => {
                    let ctx = Ctx { settings: Arc::clone(&me.settings), deps: dep_results };
                    let task = tokio::spawn(async move { check.run(&ctx).await });
                    match task.await {
                        Ok(o) => o,
                        Err(e) => Outcome::error(
                            Finding::new(code::CHECK_INTERNAL_ERROR)
                                .with("error", if e.is_panic() { "panic" } else { "cancelled" }),
                        ),
                    }
                }
            };
            // Skipped by the user, run only for its fact: reported as skipped, its findings not.
            // Skipped by the user and gathered for its dependents: reported as skipped when it
            // delivered its fact. When it could not, the checks the user did ask for cannot run
            // because of it, so it is reported as it ended (its findings name why), not hidden
            // behind the skip.
            let outcome = match (gathering, outcome) {
                (true, gathered) if gathered.fact.is_some() => {
                    let mut o = Outcome::skipped("--skip");
                    o.fact = gathered.fact;
                    o.set_evidence("gathered_for_dependents", true);
                    o
                }
                (true, mut failed) => {
                    failed.set_evidence("gathered_for_dependents", false);
                    failed
                }
                (false, outcome) => outcome,
            };
            let status = outcome.resolved_status(me.severity);
            let completed = Arc::new(Completed { status, fact: outcome.fact.clone() });
            me.results
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id_owned.clone(), (outcome, status, start.elapsed()));
            (me.on_done)(&id_owned);
            completed
        }
        .boxed()
        .shared();
        self.futures.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), fut.clone());
        fut
    }
}

impl Runner {
    /// A check the user skipped, that no check of the run needs for its fact: reported as such.
    fn skipped_by_user(&self, id: &CheckId) -> Arc<Completed> {
        let outcome = Outcome::skipped("--skip");
        self.results
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), (outcome, Status::Skip, Duration::ZERO));
        (self.on_done)(id);
        Arc::new(Completed { status: Status::Skip, fact: None })
    }
}

/// Runs the checks concurrently under the deadline; returns them in the given (catalog) order.
pub async fn run(
    settings: Arc<Settings>,
    checks: Vec<Box<dyn Check>>,
    dropped: HashSet<CheckId>,
    severity: fn(&str) -> crate::model::Severity,
) -> Vec<Executed> {
    run_observed(settings, checks, dropped, severity, Arc::new(|_: &CheckId| {})).await
}

/// As [`run`], calling `on_done` as each check finishes (for a progress indicator).
pub async fn run_observed(
    settings: Arc<Settings>,
    checks: Vec<Box<dyn Check>>,
    dropped: HashSet<CheckId>,
    severity: fn(&str) -> crate::model::Severity,
    on_done: OnDone,
) -> Vec<Executed> {
    let order: Vec<(CheckId, Kind, Option<TargetName>)> =
        checks.iter().map(|c| (c.id(), c.kind(), c.target())).collect();
    let deadline = settings.deadline;
    let checks: HashMap<CheckId, Arc<dyn Check>> = checks.into_iter().map(|c| (c.id(), Arc::from(c))).collect();
    let gathering = gathering_for_dependents(&checks, &dropped);
    let runner = Arc::new(Runner {
        settings,
        checks,
        dropped,
        gathering,
        futures: Mutex::new(HashMap::new()),
        results: Arc::new(Mutex::new(HashMap::new())),
        severity,
        on_done,
    });
    let all: Vec<DoneFuture> = order.iter().map(|(id, _, _)| runner.future_of(id, &mut Vec::new())).collect();
    let handles: Vec<_> = all.into_iter().map(tokio::spawn).collect();
    // The deadline counts from the start of the run: discovery has already taken its share.
    let budget = deadline.saturating_sub(runner.settings.started.elapsed());
    let _ = tokio::time::timeout(budget, futures::future::join_all(handles)).await;

    let mut results = std::mem::take(&mut *runner.results.lock().unwrap_or_else(|e| e.into_inner()));
    order
        .into_iter()
        .map(|(id, kind, target)| {
            let (outcome, status, duration) = results.remove(&id).unwrap_or_else(|| {
                let o = Outcome::error(
                    Finding::new(code::RUN_DEADLINE_EXCEEDED).with("deadline", crate::duration::humanize(deadline)),
                );
                (o, Status::Error, deadline)
            });
            // The report speaks text: the ids as `--only` and the JSON spell them.
            Executed {
                id: id.to_string(),
                kind: kind.as_str(),
                target: target.map(|t| t.as_str().to_string()),
                status,
                outcome,
                duration,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Outcome;
    use crate::model::Severity;
    use async_trait::async_trait;

    /// A check of the scheduler's own tests: sleeps, then fails or passes, optionally with a fact.
    struct Probe {
        id: CheckId,
        deps: Vec<CheckId>,
        uses: Vec<CheckId>,
        sleep_ms: u64,
        fail: bool,
        fact: bool,
    }

    #[async_trait]
    impl Check for Probe {
        fn id(&self) -> CheckId {
            self.id.clone()
        }
        fn target(&self) -> Option<TargetName> {
            self.id.instance().and_then(TargetName::parse)
        }
        fn depends_on(&self) -> Vec<CheckId> {
            self.deps.clone()
        }
        fn uses(&self) -> Vec<CheckId> {
            self.uses.clone()
        }
        async fn run(&self, ctx: &Ctx) -> Outcome {
            tokio::time::sleep(Duration::from_millis(self.sleep_ms)).await;
            let mut o = Outcome::new();
            // What the checks it uses delivered, for the tests to see.
            let seen: Vec<String> = self.uses.iter().filter_map(|u| ctx.fact::<String>(u).cloned()).collect();
            if !seen.is_empty() {
                o.set_evidence("used", seen);
            }
            if self.fail {
                o.push(Finding::new(crate::model::code::TCP_REFUSED));
            }
            if self.fact {
                o.set_fact(self.id.to_string());
            }
            o
        }
    }

    fn id(text: &str) -> CheckId {
        CheckId::parse(text).expect("a check id of the catalog")
    }

    fn probe(text: &'static str, deps: &[&str], sleep_ms: u64, fail: bool, fact: bool) -> Box<dyn Check> {
        Box::new(Probe {
            id: id(text),
            deps: deps.iter().map(|s| id(s)).collect(),
            uses: Vec::new(),
            sleep_ms,
            fail,
            fact,
        })
    }

    fn user(text: &'static str, deps: &[&str], uses: &[&str]) -> Box<dyn Check> {
        Box::new(Probe {
            id: id(text),
            deps: deps.iter().map(|s| id(s)).collect(),
            uses: uses.iter().map(|s| id(s)).collect(),
            sleep_ms: 0,
            fail: false,
            fact: true,
        })
    }

    fn settings(deadline: Duration) -> Arc<Settings> {
        let args = crate::cli::CheckArgs {
            sei_dir: Some("/nonexistent-sei-dir".into()),
            deadline: Some(format!("{}ms", deadline.as_millis())),
            ..Default::default()
        };
        Arc::new(crate::settings::build(args, false).expect("settings"))
    }

    fn sev(_: &str) -> Severity {
        Severity::Fail
    }

    async fn run_all(checks: Vec<Box<dyn Check>>, deadline: Duration) -> (Vec<Executed>, Duration) {
        let start = Instant::now();
        let out = run(settings(deadline), checks, HashSet::new(), sev).await;
        (out, start.elapsed())
    }

    #[tokio::test]
    async fn independent_checks_run_concurrently_and_keep_catalog_order() {
        let checks = vec![
            probe("dns:tramita", &[], 300, false, true),
            probe("dns:pendencias", &[], 300, false, true),
            probe("dns:pucomex", &[], 10, false, true),
        ];
        let (out, elapsed) = run_all(checks, Duration::from_secs(10)).await;
        let ids: Vec<&str> = out.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["dns:tramita", "dns:pendencias", "dns:pucomex"]);
        assert!(elapsed < Duration::from_millis(550), "ran one after another: {elapsed:?}");
    }

    #[tokio::test]
    async fn failed_prerequisite_without_fact_skips_dependents() {
        let checks =
            vec![probe("dns:tramita", &[], 0, true, false), probe("tcp:tramita", &["dns:tramita"], 0, false, false)];
        let (out, _) = run_all(checks, Duration::from_secs(10)).await;
        assert_eq!(out[0].status, Status::Fail);
        assert_eq!(out[1].status, Status::Skip);
        assert_eq!(out[1].outcome.skipped_because.as_deref(), Some("dns:tramita (fail)"));
    }

    #[tokio::test]
    async fn failed_prerequisite_with_fact_still_feeds_dependents() {
        let checks = vec![probe("config:sei", &[], 0, true, true), probe("gearman", &["config:sei"], 0, false, false)];
        let (out, _) = run_all(checks, Duration::from_secs(10)).await;
        assert_eq!(out[0].status, Status::Fail);
        assert_eq!(out[1].status, Status::Ok);
    }

    #[tokio::test]
    async fn deadline_stops_the_run_and_marks_unfinished_checks() {
        let checks = vec![probe("dns:tramita", &[], 5_000, false, true), probe("dns:pendencias", &[], 0, false, true)];
        let (out, elapsed) = run_all(checks, Duration::from_millis(300)).await;
        assert!(elapsed < Duration::from_secs(2), "deadline not honoured: {elapsed:?}");
        assert_eq!(out[0].status, Status::Error);
        assert_eq!(out[0].outcome.findings[0].code, "RUN_DEADLINE_EXCEEDED");
        assert_eq!(out[1].status, Status::Ok);
    }

    #[test]
    fn only_adds_prerequisites_and_skip_is_reported_to_dependents() {
        let all = || {
            vec![
                probe("dns:tramita", &[], 0, false, true),
                probe("tcp:tramita", &["dns:tramita"], 0, false, true),
                probe("tls:tramita", &["tcp:tramita"], 0, false, true),
                probe("ntp", &[], 0, false, false),
            ]
        };
        let (kept, _) = select(all(), Some(&["tls".to_string()]), &[]);
        let ids: Vec<CheckId> = kept.iter().map(|c| c.id()).collect();
        assert_eq!(ids, ["dns:tramita", "tcp:tramita", "tls:tramita"]);

        let (kept, dropped) = select(all(), None, &["tcp:tramita".to_string()]);
        assert_eq!(kept.len(), 4, "a skipped check stays in the run, to be reported");
        assert!(dropped.contains(&id("tcp:tramita")));

        let (kept, _) = select(all(), Some(&["tramita".to_string()]), &["ntp".to_string()]);
        assert_eq!(kept.len(), 3, "a target name selects its checks");
    }

    #[tokio::test]
    async fn a_used_check_is_awaited_when_in_the_run_and_never_required() {
        // In the run, slow: waited for, its fact seen.
        let checks = vec![probe("cert:tramita", &[], 200, false, true), user("tls:tramita", &[], &["cert:tramita"])];
        let (out, _) = run_all(checks, Duration::from_secs(10)).await;
        assert_eq!(out[1].status, Status::Ok);
        assert_eq!(out[1].outcome.evidence["used"], serde_json::json!(["cert:tramita"]));
        // Failed without a fact: not a reason to skip.
        let checks = vec![probe("cert:tramita", &[], 0, true, false), user("tls:tramita", &[], &["cert:tramita"])];
        let (out, _) = run_all(checks, Duration::from_secs(10)).await;
        assert_eq!((out[0].status, out[1].status), (Status::Fail, Status::Ok));
        // Not in the run (`--skip`, or `--only` that does not bring it in): runs without it.
        let all = || vec![probe("cert:tramita", &[], 0, false, true), user("tls:tramita", &[], &["cert:tramita"])];
        let (kept, dropped) = select(all(), Some(&["tls".to_string()]), &[]);
        assert_eq!(kept.iter().map(|c| c.id()).collect::<Vec<_>>(), ["tls:tramita"]);
        let out = run(settings(Duration::from_secs(5)), kept, dropped, sev).await;
        assert_eq!(out[0].status, Status::Ok);
        assert!(out[0].outcome.evidence.get("used").is_none());
    }

    #[tokio::test]
    async fn a_skipped_prerequisite_without_a_default_names_the_flag() {
        let (kept, dropped) = select(
            vec![probe("tls:tramita", &[], 0, false, true), probe("http:tramita", &["tls:tramita"], 0, false, false)],
            None,
            &["tls".to_string()],
        );
        let out = run(settings(Duration::from_secs(5)), kept, dropped, sev).await;
        assert_eq!(out.len(), 2);
        assert_eq!((out[0].status, out[0].outcome.skipped_because.as_deref()), (Status::Skip, Some("--skip")));
        assert_eq!(out[1].status, Status::Skip);
        assert_eq!(out[1].outcome.skipped_because.as_deref(), Some("tls:tramita (--skip)"));
    }

    #[tokio::test]
    async fn skipped_name_and_connection_are_still_gathered_for_their_dependents() {
        // --skip dns,tcp: the name is resolved and the connection opened for tls, unjudged.
        let (kept, dropped) = select(
            vec![
                probe("dns:tramita", &[], 0, true, true),
                probe("tcp:tramita", &["dns:tramita"], 0, true, true),
                probe("tls:tramita", &["tcp:tramita"], 0, false, false),
            ],
            None,
            &["dns".to_string(), "tcp".to_string()],
        );
        let out = run(settings(Duration::from_secs(5)), kept, dropped, sev).await;
        for skipped in &out[..2] {
            assert_eq!((skipped.status, skipped.outcome.skipped_because.as_deref()), (Status::Skip, Some("--skip")));
            assert!(skipped.outcome.findings.is_empty(), "not judged");
            assert_eq!(skipped.outcome.evidence.get("gathered_for_dependents"), Some(&serde_json::json!(true)));
        }
        assert_eq!(out[2].status, Status::Ok, "tls ran on the connection gathered for it");
        // The name could not be resolved: the checks asked for cannot run because of it, so the
        // skipped check is reported as it ended, and the dependent names its failure.
        let (kept, dropped) = select(
            vec![probe("dns:tramita", &[], 0, true, false), probe("tcp:tramita", &["dns:tramita"], 0, false, false)],
            None,
            &["dns".to_string()],
        );
        let out = run(settings(Duration::from_secs(5)), kept, dropped, sev).await;
        assert_eq!(out[0].status, Status::Fail, "not hidden behind the skip");
        assert!(!out[0].outcome.findings.is_empty(), "its findings say why");
        assert_eq!(out[0].outcome.evidence.get("gathered_for_dependents"), Some(&serde_json::json!(false)));
        assert_eq!(out[1].outcome.skipped_because.as_deref(), Some("dns:tramita (fail)"));
        // Nothing needs it: not run at all.
        let (kept, dropped) = select(
            vec![probe("dns:tramita", &[], 0, true, true), probe("ntp", &[], 0, false, false)],
            None,
            &["dns".into()],
        );
        let out = run(settings(Duration::from_secs(5)), kept, dropped, sev).await;
        assert!(out[0].outcome.evidence.get("gathered_for_dependents").is_none());
    }

    #[tokio::test]
    async fn a_skipped_trust_store_still_gives_its_dependents_the_store() {
        let (kept, dropped) = select(
            vec![probe("ca:store", &[], 0, true, true), probe("tls:tramita", &["ca:store"], 0, false, false)],
            None,
            &["ca:store".to_string()],
        );
        let out = run(settings(Duration::from_secs(5)), kept, dropped, sev).await;
        assert_eq!((out[0].status, out[0].outcome.skipped_because.as_deref()), (Status::Skip, Some("--skip")));
        assert!(out[0].outcome.findings.is_empty(), "its findings are not judged");
        assert_eq!(out[1].status, Status::Ok, "the dependent ran with the store");
        // Without the client certificate, a dependent runs as if none were configured.
        let (kept, dropped) = select(
            vec![probe("cert:client", &[], 0, false, true), probe("http:tramita", &["cert:client"], 0, false, false)],
            None,
            &["cert".to_string()],
        );
        let out = run(settings(Duration::from_secs(5)), kept, dropped, sev).await;
        assert_eq!((out[0].status, out[1].status), (Status::Skip, Status::Ok));
    }
}
