//! `config:sei`: reports what the discovery of the SEI installation found (files, modules,
//! versions and era, endpoints and what the module requests from them, certificate path,
//! gearman or in-process, php.ini settings, the environments `getenv()` read) with its reading
//! problems and what [`crate::sei::judge`] finds wrong for the module's era, and hands the
//! `SeiInstall` to the checks that depend on it. Passwords appear only as "set" or "not set".

use super::core::{Check, Ctx};
use crate::model::check_id::CONFIG_SEI;
use crate::model::code;
use crate::model::Outcome;
use crate::model::{CheckId, Finding};
use crate::sei::{webservice, GearmanPlan, PenSource, SeiInstall};
use crate::settings::Settings;
use crate::targets::{self, Environment};
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::path::Path;
use std::sync::Arc;

/// The `config:sei` check (where it applies, an SEI node or `--sei-dir`: `plan::applies`;
/// elsewhere every setting comes from flags).
pub fn checks(_settings: &Arc<Settings>) -> Vec<Box<dyn Check>> {
    vec![Box::new(ConfigCheck)]
}

pub struct ConfigCheck;

fn path_text(p: &Path) -> String {
    p.display().to_string()
}

/// `rest` or `soap`, from the `WebService` address.
fn api_of(url: &str) -> Option<&'static str> {
    url::Url::parse(url).ok().and_then(|u| webservice::shape(&u).api).map(|a| a.as_str())
}

/// What the installed module requests from its `WebService`, for the report.
fn requests(install: &SeiInstall, ws: Option<&str>) -> Value {
    let Some(ws) = ws else { return Value::Null };
    let api = webservice::api_of(ws, install.pen_era());
    match api.and_then(|a| webservice::module_requests(ws, a)) {
        Some(webservice::Requests::Soap { wsdl }) => json!({"wsdl": wsdl}),
        Some(webservice::Requests::Rest { healthcheck, pendentes }) => {
            json!({"healthcheck": healthcheck, "pendentes": pendentes})
        }
        None => Value::Null,
    }
}

/// The php.ini configurations of SEI's PHP, for the report: which files, and the settings that
/// matter to the module (never anything else).
fn php_evidence(php: &crate::phpini::PhpInis) -> Value {
    let configs: Vec<Value> = php
        .configs
        .iter()
        .map(|c| {
            let (short, short_from) = c.short_open_tag();
            let (disabled, disabled_from) = c.disabled_functions();
            let setting = |k: &str| c.get(k).map(|s| json!({"value": s.value, "from": s.from}));
            json!({
                "php": c.label,
                "role": c.role,
                "php_ini": c.main,
                "php_ini_missing": c.missing_main,
                "scanned": c.scanned,
                "short_open_tag": {"on": short, "from": short_from},
                "disable_functions": {"functions": disabled, "from": disabled_from},
                "openssl.cafile": setting("openssl.cafile"),
                "curl.cainfo": setting("curl.cainfo"),
                "extension_dir": setting("extension_dir"),
            })
        })
        .collect();
    Value::Array(configs)
}

fn environment(url: Option<&str>) -> Value {
    url.and_then(targets::environment_of).map_or(Value::Null, |e| Value::from(e.as_str()))
}

/// The evidence of an installation: never a password, only whether one is set.
pub fn evidence(install: &SeiInstall) -> Map<String, Value> {
    let mut e = Map::new();
    e.insert("sei_dir".into(), json!(path_text(&install.dir)));
    e.insert("files_read".into(), json!(install.files_read.iter().map(|p| path_text(p)).collect::<Vec<_>>()));
    e.insert("usable".into(), json!(install.usable));
    e.insert("producao".into(), json!(install.producao));
    e.insert("sei_url".into(), json!(install.sei_url));
    let modules: Map<String, Value> = install.module_dirs.iter().map(|(k, d)| (k.clone(), json!(d))).collect();
    e.insert("modules".into(), Value::Object(modules));
    if install.pen_enabled() || install.pen.is_some() {
        let pen = install.pen.as_ref();
        let ws = pen.and_then(|p| p.web_service.as_deref());
        let pend = pen.and_then(|p| p.web_service_pendencias.as_deref());
        let era = install.pen_era();
        let processing = match install.gearman_plan() {
            GearmanPlan::Address(_) => "gearman",
            GearmanPlan::InProcess => "in-process",
            GearmanPlan::Unknown => "unknown",
        };
        let source = pen.map(|p| match &p.source {
            PenSource::File => "file".to_string(),
            PenSource::Database { table } => format!("database ({table})"),
        });
        e.insert(
            "pen".into(),
            json!({
                "enabled": install.pen_enabled(),
                "version": install.pen_version,
                "version_form": install.pen_version_form,
                "db_version": install.pen_db_version.as_ref().map(|(_, v)| v),
                "era": era.map(|e| e.id.as_str()),
                "api_expected": era.map(|e| format!("{}/{}", e.api.as_str(), e.api_versions.join("|"))),
                "module_dir": install.pen_module_dir.as_deref().map(path_text),
                "config": pen.map(|p| path_text(&p.path)),
                "config_source": source,
                "config_ignored": install.pen_config_ignored.as_deref().map(path_text),
                "keys": pen.map(|p| &p.keys),
                "requests": requests(install, ws),
                "pendencias_used": install.pendencias_used(),
                "processing": processing,
                "web_service": ws,
                "api": ws.and_then(api_of),
                "environment": environment(ws),
                "web_service_pendencias": pend,
                "pendencias_environment": environment(pend),
                "certificate": pen.and_then(|p| p.cert_path.as_deref()).map(path_text),
                "certificate_password_set": pen.is_some_and(|p| p.cert_password.as_ref().is_some_and(|s| !s.is_empty())),
                "gearman": match install.gearman_plan() {
                    GearmanPlan::Address(a) => Some(a),
                    _ => None,
                },
            }),
        );
    }
    e.insert("sei_version".into(), json!(install.sei_version));
    if let Some(php) = &install.php {
        e.insert("php".into(), php_evidence(php));
    }
    if let Some(envs) = &install.environments {
        e.insert("environments".into(), json!(envs));
    }
    if install.pi_enabled() || install.pi.is_some() {
        let pi = install.pi.as_ref();
        let ws = pi.and_then(|p| p.web_service.as_deref());
        e.insert(
            "protocolo_integrado".into(),
            json!({
                "enabled": install.pi_enabled(),
                "version": install.pi_version,
                "module_dir": install.pi_module_dir.as_deref().map(path_text),
                "config": pi.map(|p| path_text(&p.path)),
                "web_service": ws,
                "environment": environment(ws),
                "user": pi.and_then(|p| p.user.as_deref()),
                "password_set": pi.is_some_and(|p| p.password.as_ref().is_some_and(|s| !s.is_empty())),
            }),
        );
    }
    if !install.value_sources.is_empty() {
        // Where values computed from outside the file came from: names and places, never values.
        let sources: Vec<Value> = install
            .value_sources
            .iter()
            .map(|s| {
                json!({
                    "file": path_text(&s.path),
                    "key": s.key,
                    "from": s.from.iter().map(|f| format!("{}: {}", f.what, f.from)).collect::<Vec<_>>(),
                })
            })
            .collect();
        e.insert("value_sources".into(), Value::Array(sources));
    }
    if let Some(db) = &install.database {
        e.insert(
            "database".into(),
            json!({
                "type": db.kind,
                "host": db.host,
                "port": db.port,
                "name": db.database,
                "user": db.user,
                "password_set": !db.password.is_empty(),
            }),
        );
    }
    e
}

/// The finding when `--env` asks for another environment than the one `WebService` names.
fn env_mismatch(install: &SeiInstall, requested: Option<Environment>) -> Option<Finding> {
    let url = install.pen.as_ref()?.web_service.as_deref()?;
    let configured = targets::environment_of(url)?;
    let requested = requested?;
    (configured != requested).then(|| {
        Finding::new(code::PEN_ENV_MISMATCH)
            .with("configured", configured.as_str())
            .with("requested", requested.as_str())
            .with("url", url)
    })
}

#[async_trait]
impl Check for ConfigCheck {
    /// `config:sei`: the check other checks depend on to get the [`SeiInstall`].
    fn id(&self) -> CheckId {
        CONFIG_SEI
    }

    async fn run(&self, ctx: &Ctx) -> Outcome {
        let settings = &ctx.settings;
        let Some(install) = &settings.sei else {
            // Off an SEI node: nothing to read, the other checks run from flags and defaults.
            let mut o = Outcome::skipped(format!(
                "no SEI installation in {} (use --sei-dir); settings come from the command line",
                settings.sei_dir.display()
            ));
            o.set_fact(SeiInstall { dir: settings.sei_dir.clone(), ..Default::default() });
            return o;
        };
        let mut outcome = Outcome { evidence: evidence(install), ..Default::default() };
        outcome.evidence.insert(
            "environment".into(),
            json!({
                "run": settings.env.as_str(),
                "requested": settings.env_requested.map(Environment::as_str),
            }),
        );
        outcome.findings = install.findings();
        if let Some(f) = env_mismatch(install, settings.env_requested) {
            outcome.push(f);
        }
        outcome = outcome.summary("dir", install.dir.display());
        // Delivered even when something is wrong: the dependent checks then still run with what
        // could be read, the flags and the defaults. Not when nothing could be read at all: they
        // would judge defaults this node may not use, so they are shown as skipped behind it.
        let unreadable = install.files_read.is_empty()
            && install
                .problems
                .iter()
                .any(|f| matches!(f.code, code::SEI_CONFIG_UNREADABLE | code::SEI_CONFIG_TIMEOUT));
        if !unreadable {
            outcome.set_fact(install.clone());
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sei::discover;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sei").join(name)
    }

    #[test]
    fn evidence_shows_endpoints_and_never_passwords() {
        let s = discover(&fixture("modpen4"));
        let e = Value::Object(evidence(&s));
        assert_eq!(
            e["pen"]["web_service"],
            "https://homolog.api.processoeletronico.gov.br/interoperabilidade/rest/v3/"
        );
        assert_eq!(e["pen"]["api"], "rest");
        assert_eq!(e["pen"]["environment"], "homologacao");
        assert_eq!(e["pen"]["certificate"], "/opt/sei/config/mod-pen/certificado.pem");
        assert_eq!(e["pen"]["certificate_password_set"], true);
        assert_eq!(e["pen"]["gearman"], "127.0.0.1:4730");
        assert_eq!(e["pen"]["version"], "4.0.1");
        assert_eq!(e["protocolo_integrado"]["password_set"], true);
        assert_eq!(e["database"]["password_set"], true);
        assert_eq!(e["modules"]["PENIntegracao"], "pen");
        assert!(!e.to_string().contains("S3nh4"), "{e}");
    }

    #[test]
    fn environment_mismatch_only_when_asked_for_another() {
        let s = discover(&fixture("modpen4"));
        assert_eq!(env_mismatch(&s, None), None);
        assert_eq!(env_mismatch(&s, Some(Environment::Homologacao)), None);
        let f = env_mismatch(&s, Some(Environment::Producao)).unwrap();
        assert_eq!(f.code, "PEN_ENV_MISMATCH");
        assert_eq!(f.params["configured"], "homologacao");
        assert_eq!(f.params["requested"], "producao");
    }
}
