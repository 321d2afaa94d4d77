//! What every check family builds on: the `Check` trait, what a running check sees (`Ctx`)
//! and the results of its prerequisites (`Completed`), and the helpers all families share.

use crate::model::check_id::CONFIG_SEI;
use crate::model::code;
use crate::model::{CheckId, Fact, Finding, Kind, Outcome, Severity, Status, TargetName};
use crate::sei::SeiInstall;
use crate::settings::Settings;
use async_trait::async_trait;
use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A check's result as other checks see it.
pub struct Completed {
    pub status: Status,
    pub fact: Option<Fact>,
}

/// What a running check can see: the settings and its prerequisites' results.
pub struct Ctx {
    pub settings: Arc<Settings>,
    pub deps: HashMap<CheckId, Arc<Completed>>,
}

impl Ctx {
    /// The fact a prerequisite delivered, if it delivered one of that type.
    pub fn fact<T: Any + Send + Sync>(&self, check_id: &CheckId) -> Option<&T> {
        self.deps.get(check_id)?.fact.as_ref()?.downcast_ref::<T>()
    }

    pub fn dep_status(&self, check_id: &CheckId) -> Option<Status> {
        self.deps.get(check_id).map(|c| c.status)
    }

    /// The SEI installation a running check reads: the fact `config:sei` delivered, when the
    /// check depends on it (`depends_on_config`). A check that does not was given its inputs by
    /// flags; what they leave out (the installed module's version…) is then the installation
    /// read when the run started, if any.
    pub fn sei(&self, depends_on_config: bool) -> Option<&SeiInstall> {
        if depends_on_config {
            self.fact::<SeiInstall>(&CONFIG_SEI)
        } else {
            self.settings.sei.as_ref()
        }
    }

    /// The timeout of one network step (`--timeout`).
    pub fn timeout(&self) -> Duration {
        self.settings.timeout
    }
}

/// One check instance of the plan.
#[async_trait]
pub trait Check: Send + Sync {
    /// The instance id, e.g. `dns:tramita` or `gearman`.
    fn id(&self) -> CheckId;
    /// The check kind of SPEC §3, e.g. `dns`: the kind of its id.
    fn kind(&self) -> Kind {
        self.id().kind()
    }
    /// The target, for per-target checks.
    fn target(&self) -> Option<TargetName> {
        None
    }
    /// Ids of the checks whose facts this one needs.
    fn depends_on(&self) -> Vec<CheckId> {
        Vec::new()
    }
    /// Ids of checks whose facts this one uses when they are part of the run: it waits for them,
    /// but is neither skipped by their failure nor brings them in with `--only`.
    fn uses(&self) -> Vec<CheckId> {
        Vec::new()
    }
    async fn run(&self, ctx: &Ctx) -> Outcome;
}

/// The prerequisite of a check whose inputs come from the SEI installation: `config:sei` when
/// they do (its fact carries them), none when they come from flags.
pub fn config_dependency(from_sei: bool) -> Vec<CheckId> {
    if from_sei {
        vec![CONFIG_SEI]
    } else {
        Vec::new()
    }
}

/// `HOST_FILE_UNREADABLE` for a file of the host a check looked at (a crontab, a php.ini, a
/// supervisord include…) that exists but could not be read: the check's verdict may miss what
/// it holds. Only informative when pen-doctor merely lacks the permission (a run as non-root).
pub fn host_file_unreadable(e: &crate::hostfs::FileError) -> Finding {
    let f = Finding::new(code::HOST_FILE_UNREADABLE).with("path", e.path.display()).with("error", &e.reason);
    match e.reason {
        crate::hostfs::Reason::PermissionDenied { .. } => f.severity(Severity::Info),
        _ => f,
    }
}
