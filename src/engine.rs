//! Runs the plan: selects the checks (`--only`, `--skip`), starts every check as soon as its
//! prerequisites are done (independent checks run concurrently), skips a check whose
//! prerequisite failed without delivering its fact, and stops the run at `--deadline`.

use crate::checks::{Check, Completed, Ctx, Outcome};
use crate::report::model::{Finding, Status};
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
    entry == check.kind() || entry == check.id() || check.target().is_some_and(|t| t == entry)
}

/// Applies `--only` (with every prerequisite it needs) and `--skip`. Returns the checks kept and,
/// for the checks dropped by `--skip`, their ids (a dependent then says why it was skipped).
pub fn select(
    all: Vec<Box<dyn Check>>,
    only: Option<&[String]>,
    skip: &[String],
) -> (Vec<Box<dyn Check>>, HashSet<String>) {
    let by_id: HashMap<String, usize> = all.iter().enumerate().map(|(i, c)| (c.id(), i)).collect();
    let mut keep: HashSet<String> = match only {
        None => all.iter().map(|c| c.id()).collect(),
        Some(list) => {
            let mut wanted: Vec<String> =
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
    let kept = all.into_iter().filter(|c| keep.contains(&c.id())).collect();
    (kept, dropped)
}

type DoneFuture = Shared<BoxFuture<'static, Arc<Completed>>>;
type Results = Arc<Mutex<HashMap<String, (Outcome, Status, Duration)>>>;

struct Runner {
    settings: Arc<Settings>,
    checks: HashMap<String, Arc<dyn Check>>,
    dropped: HashSet<String>,
    futures: Mutex<HashMap<String, DoneFuture>>,
    results: Results,
    severity: fn(&str) -> crate::report::model::Severity,
    on_done: OnDone,
}

/// Called with a check's id each time a check finishes (or is skipped), from any task.
pub type OnDone = Arc<dyn Fn(&str) + Send + Sync>;

impl Runner {
    /// The future that completes when check `id` is done, created once.
    fn future_of(self: &Arc<Self>, id: &str, path: &mut Vec<String>) -> DoneFuture {
        if let Some(f) = self.futures.lock().unwrap_or_else(|e| e.into_inner()).get(id) {
            return f.clone();
        }
        let check = self.checks.get(id).cloned();
        let mut deps: Vec<(String, Option<DoneFuture>)> = Vec::new();
        if let Some(check) = &check {
            path.push(id.to_string());
            for dep in check.depends_on() {
                let fut = if path.contains(&dep) || !self.checks.contains_key(&dep) {
                    None
                } else {
                    Some(self.future_of(&dep, path))
                };
                deps.push((dep, fut));
            }
            path.pop();
        }
        let me = Arc::clone(self);
        let id_owned = id.to_string();
        let fut = async move {
            let Some(check) = check else {
                return Arc::new(Completed { status: Status::Skip, fact: None });
            };
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
                        if done.status != Status::Ok && done.status != Status::Warn && done.fact.is_none() {
                            skip_reason.get_or_insert(format!("{dep} ({})", done.status.as_str()));
                        }
                        dep_results.insert(dep, done);
                    }
                }
            }
            let start = Instant::now();
            let outcome = match skip_reason {
                Some(reason) => Outcome::skipped(reason),
                None => {
                    let ctx = Ctx { settings: Arc::clone(&me.settings), deps: dep_results };
                    let task = tokio::spawn(async move { check.run(&ctx).await });
                    match task.await {
                        Ok(o) => o,
                        Err(e) => Outcome::error(
                            Finding::new("CHECK_INTERNAL_ERROR")
                                .with("error", if e.is_panic() { "panic" } else { "cancelled" }),
                        ),
                    }
                }
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
        self.futures.lock().unwrap_or_else(|e| e.into_inner()).insert(id.to_string(), fut.clone());
        fut
    }
}

/// Runs the checks concurrently under the deadline; returns them in the given (catalog) order.
pub async fn run(
    settings: Arc<Settings>,
    checks: Vec<Box<dyn Check>>,
    dropped: HashSet<String>,
    severity: fn(&str) -> crate::report::model::Severity,
) -> Vec<Executed> {
    run_observed(settings, checks, dropped, severity, Arc::new(|_: &str| {})).await
}

/// As [`run`], calling `on_done` as each check finishes (for a progress indicator).
pub async fn run_observed(
    settings: Arc<Settings>,
    checks: Vec<Box<dyn Check>>,
    dropped: HashSet<String>,
    severity: fn(&str) -> crate::report::model::Severity,
    on_done: OnDone,
) -> Vec<Executed> {
    let order: Vec<(String, &'static str, Option<String>)> =
        checks.iter().map(|c| (c.id(), c.kind(), c.target())).collect();
    let deadline = settings.deadline;
    let runner = Arc::new(Runner {
        settings,
        checks: checks.into_iter().map(|c| (c.id(), Arc::from(c))).collect(),
        dropped,
        futures: Mutex::new(HashMap::new()),
        results: Arc::new(Mutex::new(HashMap::new())),
        severity,
        on_done,
    });
    let all: Vec<DoneFuture> = order.iter().map(|(id, _, _)| runner.future_of(id, &mut Vec::new())).collect();
    let handles: Vec<_> = all.into_iter().map(tokio::spawn).collect();
    let _ = tokio::time::timeout(deadline, futures::future::join_all(handles)).await;

    let mut results = std::mem::take(&mut *runner.results.lock().unwrap_or_else(|e| e.into_inner()));
    order
        .into_iter()
        .map(|(id, kind, target)| {
            let (outcome, status, duration) = results.remove(&id).unwrap_or_else(|| {
                let o = Outcome::error(Finding::new("RUN_DEADLINE_EXCEEDED").with("deadline", humanize(deadline)));
                (o, Status::Error, deadline)
            });
            Executed { id, kind, target, status, outcome, duration }
        })
        .collect()
}

/// `1.5s`, `500ms`, `2m`: a duration as people write it.
pub fn humanize(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}
