//! What discovery found under `--sei-dir`: the installation ([`SeiInstall`]) and the parts of
//! it that the module's configuration holds (PEN's and Protocolo Integrado's keys, where the
//! gearman is), with what can be said of them without reading anything more.

use super::env::EnvironmentsRead;
use super::php;
use crate::db::DbConfig;
use crate::eras::{self, Era};
use crate::model::Finding;
use crate::secret::Secret;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// SEI's main configuration file, under the SEI root.
pub(crate) const SEI_CONFIG: &str = "config/ConfiguracaoSEI.php";
/// mod-sei-pen's configuration file (2.0 on), under the SEI root.
pub(crate) const PEN_CONFIG: &str = "config/mod-pen/ConfiguracaoModPEN.php";

/// What a key held, without its value (which may be a password).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Absent, or `null` (PHP's `isset()` is false: the module sees no key).
    Missing,
    /// An empty (or blank) string.
    Empty,
    False,
    True,
    /// A number, or a string PHP's `is_numeric()` accepts.
    Number,
    /// Any other text.
    Text,
    Array,
    /// Known only when PHP runs.
    Unresolved,
}

impl KeyState {
    /// Absent, null, empty or false: nothing the module can use as a value.
    pub fn is_blank(self) -> bool {
        matches!(self, KeyState::Missing | KeyState::Empty | KeyState::False)
    }
}

/// Where the module's parameters were read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum PenSource {
    /// `config/mod-pen/ConfiguracaoModPEN.php` (2.0 on).
    #[default]
    File,
    /// A table of SEI's database (1.x): `md_pen_parametro`, or `infra_parametro` in the earliest.
    Database { table: String },
}

/// `PEN` of `mod-pen/ConfiguracaoModPEN.php`, or 1.x's parameters in SEI's database.
#[derive(Clone, Debug, Default)]
pub struct PenConfig {
    pub web_service: Option<String>,
    pub web_service_pendencias: Option<String>,
    pub cert_path: Option<PathBuf>,
    pub cert_password: Option<Secret>,
    /// `Gearman > Servidor` and `Porta`; `None` when gearman is not configured.
    pub gearman: Option<(String, u16)>,
    /// What each key held: `WebService`, …, `Gearman`, `Gearman.Servidor`, `Gearman.Porta`.
    pub keys: BTreeMap<String, KeyState>,
    pub source: PenSource,
    /// The configuration file it was read from, or the database table.
    pub path: PathBuf,
}

impl PenConfig {
    /// What `key` held (`Missing` when it was not read at all).
    pub fn key(&self, key: &str) -> KeyState {
        self.keys.get(key).copied().unwrap_or(KeyState::Missing)
    }

    /// `WebServicePendencias` is left empty (or out): the module then lists pendências by
    /// polling and never calls the long-poll service.
    pub fn pendencias_off(&self) -> bool {
        self.key("WebServicePendencias").is_blank()
    }

    /// `Gearman` absent or its `Servidor` empty: the module runs its work in-process, without
    /// gearman (and its verifier skips the gearman check).
    pub fn gearman_off(&self) -> bool {
        self.gearman.is_none() && self.key("Gearman.Servidor").is_blank()
    }
}

/// `ProtocoloIntegrado` of `mod-protocolo-integrado/ConfiguracaoModProtocoloIntegrado.php`.
#[derive(Clone, Debug, Default)]
pub struct PiConfig {
    pub web_service: Option<String>,
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// The configuration file it was read from.
    pub path: PathBuf,
}

/// Where the gearman the module uses is, as the installation says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GearmanPlan {
    /// `HOST:PORT`.
    Address(String),
    /// The module runs its work in-process: no gearman to check.
    InProcess,
    /// The configuration could not say (not read, or unresolved).
    Unknown,
}

/// What was found under `--sei-dir`.
#[derive(Clone, Debug, Default)]
pub struct SeiInstall {
    /// The SEI root: the directory holding `config/` and `web/` (`--sei-dir`, or its `sei/`).
    pub dir: PathBuf,
    /// The configuration files read, for the report's evidence.
    pub files_read: Vec<PathBuf>,
    /// The configuration files read that open with the short tag `<?`.
    pub short_tag_files: Vec<PathBuf>,
    /// `SEI > Producao`; `None` when the file could not be read or the value is not static.
    pub producao: Option<bool>,
    /// `SEI > URL`, the address SEI is served at (computed from `getenv()` in docker images).
    pub sei_url: Option<String>,
    /// The keys of `SEI > Modulos`.
    pub modules: Vec<String>,
    /// `SEI > Modulos` as configured: module class and its directory (relative to `web/modulos`).
    pub module_dirs: Vec<(String, String)>,
    pub database: Option<DbConfig>,
    pub pen: Option<PenConfig>,
    pub pi: Option<PiConfig>,
    /// The directory of the installed mod-sei-pen (where `PENIntegracao.php` was found).
    pub pen_module_dir: Option<PathBuf>,
    pub pi_module_dir: Option<PathBuf>,
    /// The installed module version, from `PENIntegracao.php`.
    pub pen_version: Option<String>,
    /// How `PENIntegracao.php` states it: `define VERSAO_MODULO_PEN` (3.2 on),
    /// `const VERSAO_MODULO` (2.0 – 3.1), `getVersao()` (1.x).
    pub pen_version_form: Option<&'static str>,
    /// The module version in SEI's database (`infra_parametro`), when discovery read it, and the
    /// parameter that holds it.
    pub pen_db_version: Option<(String, String)>,
    /// A `ConfiguracaoModPEN.php` the installed module (1.x) never reads.
    pub pen_config_ignored: Option<PathBuf>,
    pub pi_version: Option<String>,
    /// SEI's own version (`SEI_VERSAO` of `web/SEI.php`).
    pub sei_version: Option<String>,
    /// The php.ini files SEI's PHP loads.
    pub php: Option<crate::phpini::PhpInis>,
    /// Problems found while reading (SEI_CONFIG_NOT_FOUND, SEI_CONFIG_UNREADABLE…); what is
    /// wrong for the module's era is [`judge`]'s.
    pub problems: Vec<Finding>,
    /// Values that came from outside their file (`getenv()`…), with where they came from.
    pub value_sources: Vec<ValueSource>,
    /// The process environments read for `getenv()`, when a file asked for a variable.
    pub environments: Option<EnvironmentsRead>,
    /// False when the main configuration could not be read at all.
    pub usable: bool,
}

/// Where a configuration value came from when the file computes it from outside values, such as
/// `getenv('APP_HOST')` from "environment of pen-doctor". Never the value: it may be a password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueSource {
    pub path: PathBuf,
    pub key: String,
    pub from: Vec<php::Source>,
}

impl SeiInstall {
    pub fn pen_enabled(&self) -> bool {
        self.modules.iter().any(|m| m == "PENIntegracao")
    }

    pub fn pi_enabled(&self) -> bool {
        self.modules.iter().any(|m| m == "ProtocoloIntegradoIntegracao")
    }

    /// `config/ConfiguracaoSEI.php` of this installation.
    pub fn sei_config_path(&self) -> PathBuf {
        self.dir.join(SEI_CONFIG)
    }

    /// `config/mod-pen/ConfiguracaoModPEN.php` of this installation.
    pub fn pen_config_path(&self) -> PathBuf {
        self.dir.join(PEN_CONFIG)
    }

    /// The module version that decides the era: the installed files', else the database's copy.
    pub fn pen_effective_version(&self) -> Option<&str> {
        self.pen_version.as_deref().or(self.pen_db_version.as_ref().map(|(_, v)| v.as_str()))
    }

    /// The era of the installed module; `None` when its version is unknown or outside the table.
    pub fn pen_era(&self) -> Option<&'static Era> {
        self.pen_effective_version().and_then(eras::era_of)
    }

    /// Where the module's gearman is: the era's fixed address (1.x), the configured one, in-process
    /// when the configuration leaves it out, or unknown.
    pub fn gearman_plan(&self) -> GearmanPlan {
        if let Some(fixed) = self.pen_era().and_then(|e| e.gearman_fixed_address.as_ref()) {
            return GearmanPlan::Address(fixed.clone());
        }
        match &self.pen {
            Some(p) => match &p.gearman {
                Some((h, port)) => GearmanPlan::Address(format!("{h}:{port}")),
                None if p.gearman_off() && p.source == PenSource::File => GearmanPlan::InProcess,
                None => GearmanPlan::Unknown,
            },
            None => GearmanPlan::Unknown,
        }
    }

    /// Whether the module calls the pendências long-poll service: `Some(false)` when its
    /// configuration leaves `WebServicePendencias` empty or out.
    pub fn pendencias_used(&self) -> Option<bool> {
        let p = self.pen.as_ref()?;
        match p.key("WebServicePendencias") {
            KeyState::Unresolved => None,
            k if k.is_blank() => Some(false),
            _ => Some(true),
        }
    }
}

/// The name of a key as the installation writes it: 1.x's database parameter for its logical key.
pub fn database_parameter(key: &str) -> &str {
    match key {
        "WebService" => "PEN_ENDERECO_WEBSERVICE",
        "WebServicePendencias" => "PEN_ENDERECO_WEBSERVICE_PENDENCIAS",
        "LocalizacaoCertificado" => "PEN_LOCALIZACAO_CERTIFICADO_DIGITAL",
        "SenhaCertificado" => "PEN_SENHA_CERTIFICADO_DIGITAL",
        other => other,
    }
}
