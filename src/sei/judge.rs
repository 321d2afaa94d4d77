//! What is wrong with an SEI installation for the era of its mod-sei-pen, judged the way the
//! installed module reads its configuration (REALITY §2–§4): its keys (required, refused when
//! empty, numeric; `WebServicePendencias` optional), its `WebService` address, who verifies the
//! server certificate, SEI's version, the files the module's own verifier requires, and the
//! php.ini SEI's PHP runs with (`short_open_tag`, `disable_functions`). Data in, findings out:
//! every era-dependent fact comes from the era table (`checks/eras.toml`). A module whose version
//! is unknown is judged only by what holds for every era.

use super::install::{database_parameter, KeyState, PenConfig, PenSource, SeiInstall};
use super::webservice;
use crate::eras::{self, ConfigSource, Era, TlsVerification};
use crate::model::code;
use crate::model::{Finding, Severity};

/// Every era-dependent finding of an installation.
pub fn judge(install: &SeiInstall) -> Vec<Finding> {
    let mut out = Vec::new();
    let era = install.pen_era();
    let version = install.pen_effective_version();
    if let Some(pen) = &install.pen {
        keys(pen, era, &mut out);
        if let Some(ws) = &pen.web_service {
            out.extend(webservice::judge(ws, era, version, &pen.path.display().to_string()));
        }
    }
    if install.pen_enabled() {
        tls(install, era, version, &mut out);
        sei_version(install, version, &mut out);
        files(install, era, version, &mut out);
    }
    php(install, version, &mut out);
    out
}

/// The key rules that hold: the era's, else those every era that reads the file shares.
struct Rules {
    required: Vec<String>,
    nonempty: Vec<String>,
    numeric: Vec<String>,
}

fn rules(era: Option<&Era>) -> Rules {
    if let Some(e) = era {
        return Rules {
            required: e.required_keys.clone(),
            nonempty: e.nonempty_keys.clone(),
            numeric: e.numeric_keys.clone(),
        };
    }
    let file_eras: Vec<&Era> = eras::table().eras.iter().filter(|e| e.config_source == ConfigSource::File).collect();
    let common = |f: fn(&Era) -> &Vec<String>| -> Vec<String> {
        let first = file_eras.first().map(|e| f(e).clone()).unwrap_or_default();
        first.into_iter().filter(|k| file_eras.iter().all(|e| f(e).contains(k))).collect()
    };
    Rules {
        required: common(|e| &e.required_keys),
        nonempty: common(|e| &e.nonempty_keys),
        numeric: common(|e| &e.numeric_keys),
    }
}

fn keys(pen: &PenConfig, era: Option<&Era>, out: &mut Vec<Finding>) {
    let path = pen.path.display().to_string();
    let database = matches!(pen.source, PenSource::Database { .. });
    let shown = |key: &str| if database { database_parameter(key).to_string() } else { key.to_string() };
    let r = rules(era);
    for key in &r.required {
        let state = pen.key(key);
        let code = match state {
            KeyState::Missing => code::PEN_CONFIG_MISSING_KEY,
            KeyState::Empty | KeyState::False if r.nonempty.contains(key) => {
                if key == "SenhaCertificado" {
                    code::PEN_CERT_PASSWORD_EMPTY
                } else {
                    code::PEN_CONFIG_MISSING_KEY
                }
            }
            _ => continue,
        };
        out.push(Finding::new(code).with("path", &path).with("key", shown(key)));
    }
    if !r.required.iter().any(|k| k == "WebServicePendencias") && pen.pendencias_off() {
        out.push(Finding::new(code::PEN_PENDENCIAS_NOT_CONFIGURED).with("path", &path));
    }
    for key in &r.numeric {
        if matches!(pen.key(key), KeyState::Text | KeyState::True | KeyState::Array) {
            let default = eras::table().numeric_default(key).map(|d| d.to_string()).unwrap_or_else(|| "-".into());
            out.push(
                Finding::new(code::PEN_CONFIG_NOT_NUMERIC)
                    .with("path", &path)
                    .with("key", key)
                    .with("default", default),
            );
        }
    }
}

fn tls(install: &SeiInstall, era: Option<&Era>, version: Option<&str>, out: &mut Vec<Finding>) {
    let Some(era) = era else { return };
    let path = install.sei_config_path().display().to_string();
    let version = version.unwrap_or("-");
    let producao = match install.producao {
        Some(true) => "true",
        Some(false) => "false",
        None => "-",
    };
    if era.api_calls_verify_tls == TlsVerification::Never {
        out.push(
            Finding::new(code::PEN_TLS_VERIFICATION_OFF)
                .with("path", &path)
                .with("version", version)
                .with("producao", producao),
        );
    } else if era.verifier_verifies_tls == TlsVerification::Producao && install.producao == Some(false) {
        out.push(Finding::new(code::PEN_VERIFIER_SKIPS_TLS).with("path", &path).with("version", version));
    }
}

fn sei_version(install: &SeiInstall, version: Option<&str>, out: &mut Vec<Finding>) {
    let (Some(sei), Some(module)) = (install.sei_version.as_deref(), version) else { return };
    let (Some(sei_v), Some(module_v)) = (eras::Version::parse(sei), eras::Version::parse(module)) else { return };
    let Some(supported) = eras::table().sei_compatible(&module_v) else { return };
    if supported.iter().any(|r| r.contains(&sei_v)) {
        return;
    }
    let list = supported.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    out.push(
        Finding::new(code::SEI_VERSION_INCOMPATIBLE)
            .with("path", install.dir.join("web/SEI.php").display())
            .with("sei_version", sei)
            .with("version", module)
            .with("supported", list),
    );
}

fn files(install: &SeiInstall, era: Option<&Era>, version: Option<&str>, out: &mut Vec<Finding>) {
    let Some(era) = era else { return };
    let module = install.pen_module_dir.clone().unwrap_or_else(|| install.dir.join("web/modulos/pen"));
    let missing: Vec<String> = era
        .verifier_files
        .iter()
        .map(|f| match f.strip_prefix("{module}/") {
            Some(rest) => module.join(rest),
            None => install.dir.join(f),
        })
        .filter(|p| !p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if !missing.is_empty() {
        out.push(
            Finding::new(code::PEN_MODULE_FILES_MISSING)
                .with("dir", install.dir.display())
                .with("version", version.unwrap_or("-"))
                .with("files", missing.join(", ")),
        );
    }
}

fn php(install: &SeiInstall, version: Option<&str>, out: &mut Vec<Finding>) {
    let Some(php) = &install.php else { return };
    for e in &php.unreadable {
        let f = Finding::new(code::HOST_FILE_UNREADABLE).with("path", e.path.display()).with("error", &e.reason);
        out.push(match e.reason {
            crate::hostfs::Reason::PermissionDenied { .. } => f.severity(Severity::Info),
            _ => f,
        });
    }
    if let Some(first) = install.short_tag_files.first() {
        let files: Vec<String> = install.short_tag_files.iter().map(|p| p.display().to_string()).collect();
        let on: Vec<String> = php
            .configs
            .iter()
            .filter(|c| c.short_open_tag().0)
            .map(|c| format!("{} ({})", c.label, c.short_open_tag().1))
            .collect();
        for c in php.configs.iter().filter(|c| !c.short_open_tag().0) {
            out.push(
                Finding::new(code::PHP_SHORT_OPEN_TAG_OFF)
                    .with("file", first.display())
                    .with("files", files.join(", "))
                    .with("ini", c.short_open_tag().1)
                    .with("php", &c.label)
                    .with(
                        "role",
                        if c.role.web() && c.role.cli() {
                            "web+cli"
                        } else if c.role.web() {
                            "web"
                        } else {
                            "cli"
                        },
                    )
                    .with("on", if on.is_empty() { "-".to_string() } else { on.join("; ") }),
            );
        }
    }
    let Some(module) = version.and_then(eras::Version::parse) else { return };
    for req in eras::table().php_requirements_of(&module) {
        let configs = php.configs.iter().filter(|c| if req.sapi == "cli" { c.role.cli() } else { c.role.web() });
        for c in configs {
            let (disabled, from) = c.disabled_functions();
            let needed = req.needed_among(&disabled);
            if needed.is_empty() {
                continue;
            }
            out.push(
                Finding::new(code::PHP_FUNCTIONS_DISABLED)
                    .with("ini", from.unwrap_or_default())
                    .with("php", &c.label)
                    .with("functions", needed.join(", "))
                    .with("version", version.unwrap_or("-")),
            );
        }
    }
}
