//! The catalog: every check instance a run could include, built by each family from the
//! settings and put in catalog order (kind, then target, then id).

use super::core::Check;
use super::{client_cert, config, cron, database, dns, gearman, http, ntp, process, sei_log, store, supervisor};
use super::{tcp, tls, webhook};
use crate::settings::Settings;
use std::sync::Arc;

/// Builds every check instance this run could include, before `--only`/`--skip` filtering.
/// Each family file adds its own instances; the list is then put in catalog order.
pub fn all_checks(settings: &Arc<Settings>) -> Vec<Box<dyn Check>> {
    let mut checks: Vec<Box<dyn Check>> = Vec::new();
    for target in &settings.targets {
        checks.push(Box::new(dns::DnsCheck::new(target)));
        checks.push(Box::new(tcp::TcpCheck::new(target)));
    }
    checks.extend(config::checks(settings));
    checks.extend(client_cert::checks(settings));
    checks.extend(store::checks(settings));
    checks.extend(tls::checks(settings));
    checks.extend(http::checks(settings));
    checks.extend(gearman::checks(settings));
    checks.extend(supervisor::checks(settings));
    checks.extend(process::checks(settings));
    checks.extend(cron::checks(settings));
    checks.extend(ntp::checks(settings));
    checks.extend(database::checks(settings));
    checks.extend(sei_log::checks(settings));
    checks.extend(webhook::checks(settings));
    // Catalog order, then target order (`Kind` and `TargetName` are declared in report order;
    // `None` sorts first), then the id as text.
    checks.sort_by_cached_key(|c| (c.kind(), c.target(), c.id().to_string()));
    checks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::CheckArgs;
    use crate::sei::SeiInstall;

    #[test]
    fn node_checks_not_planned_on_an_sei_node_without_the_pen_module() {
        let mut s = crate::settings::build(CheckArgs::default(), false).expect("default settings");
        s.sei = Some(SeiInstall {
            usable: true,
            modules: vec!["ProtocoloIntegradoIntegracao".into()],
            ..Default::default()
        });
        s.gearman = None;
        s.supervisor = None;
        s.only = None;
        let s = Arc::new(s);
        assert!(gearman::checks(&s).is_empty());
        assert!(supervisor::checks(&s).is_empty());
        assert!(process::checks(&s).is_empty());
        assert!(cron::checks(&s).is_empty());
    }
}
