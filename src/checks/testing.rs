//! In-process runs of one check, for tests: `run_one` plans the run the settings describe,
//! takes check `id` from it and runs it with the prerequisite results a test gives (`Given`),
//! as the engine would have handed them over. Test support only: nothing of the program
//! calls it.

use super::core::{Completed, Ctx};
use super::plan::all_checks;
use crate::model::{CheckId, Outcome, Status};
use crate::settings::Settings;
use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

/// The results of a check's prerequisites, as a test sets them.
#[derive(Default)]
pub struct Given {
    deps: HashMap<CheckId, Arc<Completed>>,
}

impl Given {
    pub fn new() -> Given {
        Given::default()
    }

    /// Prerequisite `id` ended with `status` and delivered `fact`.
    pub fn fact<T: Any + Send + Sync>(mut self, id: CheckId, status: Status, fact: T) -> Given {
        self.deps.insert(id, Arc::new(Completed { status, fact: Some(Arc::new(fact)) }));
        self
    }

    /// Prerequisite `id` ended with `status`, delivering nothing.
    pub fn status(mut self, id: CheckId, status: Status) -> Given {
        self.deps.insert(id, Arc::new(Completed { status, fact: None }));
        self
    }
}

/// Runs check `id` of the plan for `settings` in-process, with `given` as its prerequisites'
/// results. Panics (the test fails) when the plan has no such check, or when `given` names a
/// check that `id` neither depends on nor uses.
pub async fn run_one(settings: Settings, id: &CheckId, given: Given) -> Outcome {
    let settings = Arc::new(settings);
    let check = all_checks(&settings).into_iter().find(|c| c.id() == *id);
    let Some(check) = check else { panic!("{id} is not planned with these settings") };
    let wanted: Vec<CheckId> = check.depends_on().into_iter().chain(check.uses()).collect();
    for dep in given.deps.keys() {
        assert!(wanted.contains(dep), "{id} neither depends on nor uses {dep} (it takes {wanted:?})");
    }
    check.run(&Ctx { settings, deps: given.deps }).await
}

/// [`run_one`] from a test without a runtime of its own.
pub fn run_one_blocking(settings: Settings, id: &CheckId, given: Given) -> Outcome {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(run_one(settings, id, given))
}

/// Settings as `pen-doctor check` with no flags would build them off an SEI node (the SEI
/// directory is one that does not exist): what a test then sets is all the check sees.
pub fn settings() -> Settings {
    let args = crate::cli::CheckArgs { sei_dir: Some("/nonexistent-sei-dir".into()), ..Default::default() };
    crate::settings::build(args, false).expect("default settings")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::trust::TrustStore;
    use crate::model::check_id::CA_STORE;
    use crate::model::{Kind, TargetName};

    #[tokio::test]
    async fn a_check_runs_with_the_results_given_for_its_prerequisites() {
        let tls = CheckId::target(Kind::Tls, TargetName::Tramita);
        let tcp = CheckId::target(Kind::Tcp, TargetName::Tramita);
        // The store is there, the connection is not: the handshake has nothing to run over.
        let given = Given::new().fact(CA_STORE, Status::Ok, TrustStore::default()).status(tcp, Status::Fail);
        let o = run_one(settings(), &tls, given).await;
        assert_eq!(o.status, Some(Status::Skip));
        assert_eq!(o.skipped_because.as_deref(), Some("tcp:tramita"));
    }

    #[test]
    #[should_panic(expected = "neither depends on nor uses ca:store")]
    fn a_result_the_check_does_not_take_is_a_mistake_of_the_test() {
        let given = Given::new().fact(CA_STORE, Status::Ok, TrustStore::default());
        run_one_blocking(settings(), &CheckId::of(Kind::Ntp), given);
    }

    #[test]
    #[should_panic(expected = "pen:agendamentos is not planned")]
    fn a_check_the_settings_do_not_plan_is_a_mistake_of_the_test() {
        run_one_blocking(settings(), &CheckId::fixed(Kind::Pen, "agendamentos"), Given::new());
    }
}
