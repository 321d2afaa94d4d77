//! The plan: every check instance a run could include, built by each family from the
//! settings, kept where it applies (the applicability table: `--only` forcing, the SEI node
//! with the PEN module, the modules and database configured) and put in catalog order (kind,
//! then target, then id). Families build their instances; whether one is planned is decided
//! here alone.

use super::core::Check;
use super::facts::pen_node;
use super::{client_cert, config, cron, database, dns, gearman, http, ntp, process, sei_log, store, supervisor};
use super::{tcp, tls, webhook};
use crate::model::check_id::{CERT_CLIENT, CERT_PUCOMEX, CONFIG_SEI};
use crate::model::{CheckId, Kind, TargetName};
use crate::settings::Settings;
use std::sync::Arc;

/// Where a check applies: one row of the applicability table.
struct Applies {
    /// The check instance the row is about.
    id: CheckId,
    /// Whether `--only` naming it (by its kind or its id) plans it anyway.
    forced_by_only: bool,
    /// Whether the settings plan it.
    planned: fn(&Settings) -> bool,
}

/// The checks planned only where they apply. A check not listed is planned whenever its
/// family builds it (per target, per `--webhook`, or always: `dns`, `tcp`, `tls`, `http`,
/// `ca:store`, `ntp`, `webhook`).
static APPLICABILITY: &[Applies] = &[
    // An SEI node (or `--sei-dir`); skipped by the user, still planned to be reported as such.
    Applies { id: CONFIG_SEI, forced_by_only: false, planned: |s| s.sei.is_some() || s.sei_skipped },
    // Whenever a PEN target (mutual TLS) is checked or a certificate is given.
    Applies {
        id: CERT_CLIENT,
        forced_by_only: false,
        planned: |s| s.targets.iter().any(|t| t.mutual_tls && t.name != TargetName::Pucomex) || s.cert.is_some(),
    },
    // Whenever Pucomex is a target or its certificate is given.
    Applies {
        id: CERT_PUCOMEX,
        forced_by_only: false,
        planned: |s| s.targets.iter().any(|t| t.name == TargetName::Pucomex) || s.pucomex_cert.is_some(),
    },
    // The node checks: an SEI node with the PEN module, or the flag naming the service.
    Applies { id: CheckId::of(Kind::Gearman), forced_by_only: true, planned: |s| pen_node(s) || s.gearman.is_some() },
    Applies {
        id: CheckId::of(Kind::Supervisor),
        forced_by_only: true,
        planned: |s| pen_node(s) || s.supervisor.is_some(),
    },
    Applies { id: process::ID, forced_by_only: true, planned: pen_node },
    Applies { id: cron::ID, forced_by_only: true, planned: pen_node },
    // The database checks: the module enabled in a readable SEI configuration, or `--db`.
    Applies {
        id: database::PI_AGENDAMENTOS,
        forced_by_only: true,
        planned: |s| {
            usable_sei(s).is_some_and(|i| i.pi_enabled())
                || (s.db.is_some() && s.targets.iter().any(|t| t.name == TargetName::ProtocoloIntegrado))
        },
    },
    Applies {
        id: database::PEN_AGENDAMENTOS,
        forced_by_only: true,
        planned: |s| usable_sei(s).is_some_and(|i| i.pen_enabled()),
    },
    Applies {
        id: sei_log::ID,
        forced_by_only: true,
        planned: |s| usable_sei(s).is_some_and(|i| i.pen_enabled() || i.pi_enabled()) || s.db.is_some(),
    },
];

/// The SEI installation, when its configuration could be read.
fn usable_sei(settings: &Settings) -> Option<&crate::sei::SeiInstall> {
    settings.sei.as_ref().filter(|s| s.usable)
}

/// Whether `--only` names check `id` (by its kind or its id).
fn only_names(settings: &Settings, id: &CheckId) -> bool {
    settings.only.as_ref().is_some_and(|o| o.iter().map(|e| e.trim()).any(|e| e == id.kind().as_str() || id.is(e)))
}

/// Whether check `id` is part of this run's plan (before `--only`/`--skip` filtering): where
/// the applicability table says it applies, or when `--only` names a check the table lets it
/// force; checks the table does not list always are.
pub fn applies(settings: &Settings, id: &CheckId) -> bool {
    match APPLICABILITY.iter().find(|a| a.id == *id) {
        Some(a) => (a.forced_by_only && only_names(settings, id)) || (a.planned)(settings),
        None => true,
    }
}

/// Builds every check instance this run could include, before `--only`/`--skip` filtering.
/// Each family file adds its own instances; those that do not apply are left out and the rest
/// put in catalog order.
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
    checks.retain(|c| applies(settings, &c.id()));
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
        let planned: Vec<String> = all_checks(&s).iter().map(|c| c.id().to_string()).collect();
        for id in ["gearman", "supervisor", "process:pen", "cron:pen"] {
            assert!(!planned.iter().any(|p| p == id), "{id} planned: {planned:?}");
        }
        // The module's database checks are, the SEI configuration enabling Protocolo Integrado.
        assert!(planned.iter().any(|p| p == "pi:agendamentos"), "{planned:?}");
        assert!(!planned.iter().any(|p| p == "pen:agendamentos"), "{planned:?}");
    }

    #[test]
    fn gearman_not_planned_off_an_sei_node_without_flags() {
        let mut s = crate::settings::build(CheckArgs::default(), false).expect("default settings");
        s.sei = None;
        s.gearman = None;
        s.only = None;
        assert!(!applies(&s, &CheckId::of(Kind::Gearman)));
        s.gearman = Some("127.0.0.1:4730".into());
        assert!(applies(&s, &CheckId::of(Kind::Gearman)), "--gearman plans it");
    }

    #[test]
    fn only_forces_the_checks_the_table_lets_it_force() {
        let mut s = crate::checks::testing::settings();
        s.sei = None;
        s.sei_skipped = false;
        s.only = Some(vec!["gearman".into(), " pen:agendamentos ".into(), "sei".into(), "config".into()]);
        assert!(applies(&s, &CheckId::of(Kind::Gearman)));
        assert!(applies(&s, &database::PEN_AGENDAMENTOS));
        assert!(applies(&s, &sei_log::ID), "named by its kind");
        assert!(!applies(&s, &database::PI_AGENDAMENTOS));
        assert!(!applies(&s, &cron::ID));
        // `config:sei` is planned only where there is an installation to read, named or not.
        assert!(!applies(&s, &CONFIG_SEI));
        // Checks the table does not list are always planned.
        assert!(applies(&s, &CheckId::of(Kind::Ntp)));
    }
}
