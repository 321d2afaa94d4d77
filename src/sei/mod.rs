//! Discovery of an SEI installation: reads `ConfiguracaoSEI.php` and the module configuration
//! files statically (never by running PHP) and returns what the other checks need.

pub mod php;

use crate::report::model::Finding;
use crate::secret::Secret;
use std::path::{Path, PathBuf};

/// `BancoSEI` of `ConfiguracaoSEI.php`.
#[derive(Clone, Debug, Default)]
pub struct DbConfig {
    /// `Tipo`: MySql, SqlServer, Oracle…
    pub kind: String,
    pub host: String,
    pub port: Option<u16>,
    pub database: String,
    pub user: String,
    pub password: Secret,
}

/// `PEN` of `mod-pen/ConfiguracaoModPEN.php`.
#[derive(Clone, Debug, Default)]
pub struct PenConfig {
    pub web_service: Option<String>,
    pub web_service_pendencias: Option<String>,
    pub cert_path: Option<PathBuf>,
    pub cert_password: Option<Secret>,
    /// `Gearman > Servidor` and `Porta`; `None` when gearman is not configured.
    pub gearman: Option<(String, u16)>,
}

/// `ProtocoloIntegrado` of `mod-protocolo-integrado/ConfiguracaoModProtocoloIntegrado.php`.
#[derive(Clone, Debug, Default)]
pub struct PiConfig {
    pub web_service: Option<String>,
    pub user: Option<String>,
    pub password: Option<Secret>,
}

/// What was found under `--sei-dir`.
#[derive(Clone, Debug, Default)]
pub struct SeiInstall {
    pub dir: PathBuf,
    /// The configuration files read, for the report's evidence.
    pub files_read: Vec<PathBuf>,
    /// `SEI > Producao`.
    pub producao: Option<bool>,
    /// The keys of `SEI > Modulos`.
    pub modules: Vec<String>,
    pub database: Option<DbConfig>,
    pub pen: Option<PenConfig>,
    pub pi: Option<PiConfig>,
    pub pen_version: Option<String>,
    pub pi_version: Option<String>,
    /// Problems found while reading (SEI_CONFIG_NOT_FOUND, PEN_CONFIG_MISSING_KEY…).
    pub problems: Vec<Finding>,
    /// False when the main configuration could not be read at all.
    pub usable: bool,
}

impl SeiInstall {
    pub fn pen_enabled(&self) -> bool {
        self.modules.iter().any(|m| m == "PENIntegracao")
    }

    pub fn pi_enabled(&self) -> bool {
        self.modules.iter().any(|m| m == "ProtocoloIntegradoIntegracao")
    }
}

/// Whether `dir` looks like an SEI installation at all.
pub fn looks_like_sei(dir: &Path) -> bool {
    dir.join("config").is_dir() || dir.join("sei").is_dir()
}

/// Reads the installation under `dir`.
pub fn discover(dir: &Path) -> SeiInstall {
    let config = dir.join("config/ConfiguracaoSEI.php");
    let mut install = SeiInstall { dir: dir.to_path_buf(), ..Default::default() };
    if !config.exists() {
        install.problems.push(Finding::new("SEI_CONFIG_NOT_FOUND").with("path", config.display()));
    }
    install
}
