//! Discovery of an SEI installation: reads `ConfiguracaoSEI.php` and the module configuration
//! files statically (never by running PHP) and returns what the other checks need, within a
//! time budget ([`discover_within`]) so that a hung filesystem cannot hold the run.

pub mod php;

use crate::hostfs::{self, Kind, Reason};
use crate::report::model::Finding;
use crate::secret::Secret;
use php::{EnvValue, PhpValue, Scope};
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// The configuration file it was read from.
    pub path: PathBuf,
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

/// What was found under `--sei-dir`.
#[derive(Clone, Debug, Default)]
pub struct SeiInstall {
    /// The SEI root: the directory holding `config/` and `web/` (`--sei-dir`, or its `sei/`).
    pub dir: PathBuf,
    /// The configuration files read, for the report's evidence.
    pub files_read: Vec<PathBuf>,
    /// `SEI > Producao`; `None` when the file could not be read or the value is not static.
    pub producao: Option<bool>,
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
    pub pen_version: Option<String>,
    pub pi_version: Option<String>,
    /// Problems found while reading (SEI_CONFIG_NOT_FOUND, PEN_CONFIG_MISSING_KEY…).
    pub problems: Vec<Finding>,
    /// Values that came from outside their file (`getenv()`…), with where they came from.
    pub value_sources: Vec<ValueSource>,
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

/// The environment pen-doctor itself runs in: `getenv()` of a variable set here resolves to its
/// value; one not set here stays unresolved (the web server's environment may still have it).
pub struct OwnEnvironment;

impl Scope for OwnEnvironment {
    fn getenv(&self, name: &str) -> EnvValue {
        match std::env::var(name) {
            Ok(value) => EnvValue::Set { value, source: "environment of pen-doctor".into() },
            Err(_) => EnvValue::Unknown,
        }
    }
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
}

/// Files larger than this are refused: no configuration file comes near it.
pub const MAX_CONFIG_BYTES: u64 = Kind::PhpSource.limit();

const SEI_CONFIG: &str = "config/ConfiguracaoSEI.php";
const PEN_CONFIG: &str = "config/mod-pen/ConfiguracaoModPEN.php";
const PI_CONFIG: &str = "config/mod-protocolo-integrado/ConfiguracaoModProtocoloIntegrado.php";
const PEN_CLASS: &str = "PENIntegracao";
const PI_CLASS: &str = "ProtocoloIntegradoIntegracao";
/// Directory names the modules are usually installed under, below `web/modulos/`.
const PEN_DIRS: &[&str] = &["pen", "mod-sei-pen"];
const PI_DIRS: &[&str] = &["protocolo-integrado", "mod-sei-protocolo-integrado"];

/// Whether `dir` looks like an SEI installation at all.
pub fn looks_like_sei(dir: &Path) -> bool {
    dir.join("config").is_dir() || dir.join("sei").is_dir()
}

/// The SEI root under `dir`: `dir` itself, or `dir/sei` when only that holds the configuration.
fn sei_root(dir: &Path) -> PathBuf {
    if !dir.join(SEI_CONFIG).exists() && dir.join("sei").join(SEI_CONFIG).exists() {
        dir.join("sei")
    } else {
        dir.to_path_buf()
    }
}

/// Why a configuration file gave no value.
#[derive(Debug, PartialEq)]
pub enum ReadError {
    NotFound,
    /// An I/O error, a file too large or not a regular file, or a parse error (with its line).
    /// The text never quotes the file's content.
    Unreadable {
        error: String,
        line: Option<usize>,
    },
}

/// Reads a PHP file through the bounded reader: a regular file of at most [`MAX_CONFIG_BYTES`]
/// (a FIFO, a device or `/proc/kmsg` behind a link is refused unopened).
fn read_limited(path: &Path) -> Result<Vec<u8>, ReadError> {
    hostfs::read_file(path, Kind::PhpSource).map_err(|e| match e.reason {
        Reason::NotFound => ReadError::NotFound,
        other => ReadError::Unreadable { error: other.to_string(), line: None },
    })
}

/// Reads and parses a PHP configuration file.
pub fn read_config(path: &Path) -> Result<PhpValue, ReadError> {
    let text = php::decode(&read_limited(path)?);
    php::parse_config(&text).map_err(|e| ReadError::Unreadable { error: e.message, line: Some(e.line) })
}

fn unreadable_finding(path: &Path, error: &str, line: Option<usize>) -> Finding {
    let location = match line {
        Some(l) => format!("{}:{l}", path.display()),
        None => path.display().to_string(),
    };
    let f = Finding::new("SEI_CONFIG_UNREADABLE").with("path", path.display()).with("error", error);
    let f = f.with("location", location);
    match line {
        Some(l) => f.with("line", l),
        None => f,
    }
}

/// The source [`FileReader`] gives the values it knows from the file's own location; they are
/// not worth reporting as outside values.
const FILE_LOCATION: &str = "the file's location";

/// What the value of a key turned out to be.
enum Field {
    /// Absent, `null`, `false` or empty.
    Missing,
    Value(String),
    /// Known only when PHP runs (an unknown constant, `getenv()` of a variable not set here…):
    /// the expression as the file writes it, never with values from the environment, which
    /// may be secrets.
    Unresolved(PhpValue),
}

/// Reads the keys of one configuration file, resolving what can be resolved statically and
/// recording problems and where outside values came from.
struct FileReader<'a> {
    path: PathBuf,
    root: &'a Path,
    /// What `getenv()` and constants not defined by SEI itself resolve to.
    env: &'a dyn Scope,
    problems: &'a mut Vec<Finding>,
    sources: &'a mut Vec<ValueSource>,
}

/// Values PHP would know: `__DIR__`, `__FILE__`, `dirname()`, SEI's `DIR_SEI_*` constants; the
/// rest (`getenv()`, other constants) is asked of the environment.
impl Scope for FileReader<'_> {
    fn getenv(&self, name: &str) -> EnvValue {
        self.env.getenv(name)
    }

    fn constant(&self, name: &str) -> Option<(PhpValue, String)> {
        let text = |p: &Path| PhpValue::Str(p.display().to_string());
        let local = match name {
            "__DIR__" => self.path.parent().map(text),
            "__FILE__" => Some(text(&self.path)),
            "DIR_SEI_CONFIG" => Some(text(&self.root.join("config"))),
            "DIR_SEI_WEB" => Some(text(&self.root.join("web"))),
            "DIRECTORY_SEPARATOR" => Some(PhpValue::Str("/".into())),
            "PHP_EOL" => Some(PhpValue::Str("\n".into())),
            _ => return self.env.constant(name),
        };
        local.map(|v| (v, FILE_LOCATION.to_string()))
    }

    fn call(&self, name: &str, args: &[PhpValue]) -> Option<PhpValue> {
        let arg = args.first().and_then(PhpValue::as_str)?;
        match name.to_ascii_lowercase().as_str() {
            "dirname" if args.len() == 1 => {
                let parent = Path::new(arg).parent().map(|p| p.display().to_string());
                Some(PhpValue::Str(match parent.as_deref() {
                    Some("") => ".".into(),
                    Some(p) => p.into(),
                    None => arg.into(),
                }))
            }
            "realpath" if args.len() == 1 => Some(PhpValue::Str(arg.into())),
            _ => self.env.call(name, args),
        }
    }
}

impl FileReader<'_> {
    /// The value of `key` (`v`), evaluated; outside values it used are recorded.
    fn field(&mut self, key: &str, v: Option<&PhpValue>) -> Field {
        let Some(v) = v else { return Field::Missing };
        let evaluation = v.evaluate(&*self);
        let from: Vec<php::Source> = evaluation.sources.into_iter().filter(|s| s.from != FILE_LOCATION).collect();
        if !from.is_empty() {
            self.sources.push(ValueSource { path: self.path.clone(), key: key.to_string(), from });
        }
        match evaluation.value {
            PhpValue::Null | PhpValue::Bool(false) => Field::Missing,
            PhpValue::Str(s) if s.trim().is_empty() => Field::Missing,
            PhpValue::Str(s) => Field::Value(s.trim().to_string()),
            other => match other.scalar_text() {
                Some(t) => Field::Value(t),
                None => Field::Unresolved(v.clone()),
            },
        }
    }

    /// A key of `group`; `missing` is the code to report when it is absent or empty.
    fn text(
        &mut self,
        group: Option<&PhpValue>,
        key: &str,
        missing: Option<&'static str>,
        secret: bool,
    ) -> Option<String> {
        match self.field(key, group.and_then(|g| g.get(key))) {
            Field::Value(v) => Some(v),
            Field::Missing => {
                if let Some(code) = missing {
                    self.problems.push(Finding::new(code).with("path", self.path.display()).with("key", key));
                }
                None
            }
            Field::Unresolved(expr) => {
                let mut shown = if secret { "***".to_string() } else { expr.to_string() };
                if shown.chars().count() > 200 {
                    shown = shown.chars().take(200).collect::<String>() + "…";
                }
                self.problems.push(
                    Finding::new("SEI_CONFIG_UNRESOLVED")
                        .with("path", self.path.display())
                        .with("key", key)
                        .with("expr", shown),
                );
                None
            }
        }
    }

    /// A URL key: present values must be `http(s)://host/…`.
    fn url(&mut self, group: Option<&PhpValue>, key: &str, missing: &'static str) -> Option<String> {
        let v = self.text(group, key, Some(missing), false)?;
        let ok = url::Url::parse(&v).ok().filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some());
        if ok.is_none() {
            self.problems.push(
                Finding::new("PEN_CONFIG_INVALID_VALUE")
                    .with("path", self.path.display())
                    .with("key", key)
                    .with("expected", "https://…"),
            );
            return None;
        }
        Some(v)
    }

    fn port(&mut self, group: Option<&PhpValue>, key: &str, default: Option<u16>) -> Option<u16> {
        let v = self.text(group, key, None, false);
        let Some(v) = v else { return default };
        match v.parse::<u16>() {
            Ok(p) if p > 0 => Some(p),
            _ => {
                self.problems.push(
                    Finding::new("PEN_CONFIG_INVALID_VALUE")
                        .with("path", self.path.display())
                        .with("key", key)
                        .with("expected", "1–65535"),
                );
                default
            }
        }
    }
}

/// [`discover`] in a thread of its own, given `budget` to finish: a file on a hung network
/// filesystem (or any read that never ends) then costs the run `budget`, not its deadline. When
/// the time runs out, the installation has only an `SEI_CONFIG_TIMEOUT` problem and the run goes
/// on with the flags and the defaults; the thread is left to end with the process.
/// `None` when `dir` holds no SEI installation and was not named explicitly (`--sei-dir`).
pub fn discover_within(dir: &Path, explicit: bool, budget: Duration) -> Option<SeiInstall> {
    let run = {
        let dir = dir.to_path_buf();
        move || (explicit || looks_like_sei(&dir)).then(|| discover(&dir))
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new().name("sei-discovery".into()).spawn(move || {
        let _ = tx.send(run());
    });
    if spawned.is_err() {
        // No thread to be had: read in this one rather than not at all.
        return (explicit || looks_like_sei(dir)).then(|| discover(dir));
    }
    match rx.recv_timeout(budget) {
        Ok(install) => install,
        Err(_) => {
            let problem = Finding::new("SEI_CONFIG_TIMEOUT")
                .with("path", dir.display())
                .with("budget", crate::duration::humanize(budget));
            Some(SeiInstall { dir: dir.to_path_buf(), problems: vec![problem], ..Default::default() })
        }
    }
}

/// Reads the installation under `dir` (the SEI root, or a directory whose `sei/` is the root),
/// with `getenv()` resolved from pen-doctor's own environment.
/// Never fails: what cannot be read becomes a finding in `problems`.
pub fn discover(dir: &Path) -> SeiInstall {
    discover_with(dir, &OwnEnvironment)
}

/// [`discover`], with `getenv()` and outside constants resolved by `env`.
pub fn discover_with(dir: &Path, env: &dyn Scope) -> SeiInstall {
    let root = sei_root(dir);
    let mut install = SeiInstall { dir: root.clone(), ..Default::default() };
    let sei_path = root.join(SEI_CONFIG);
    let sei = match read_config(&sei_path) {
        Ok(v) => {
            install.files_read.push(sei_path.clone());
            install.usable = true;
            Some(v)
        }
        Err(ReadError::NotFound) => {
            install.problems.push(Finding::new("SEI_CONFIG_NOT_FOUND").with("path", sei_path.display()));
            None
        }
        Err(ReadError::Unreadable { error, line }) => {
            install.problems.push(unreadable_finding(&sei_path, &error, line));
            None
        }
    };

    let mut problems = std::mem::take(&mut install.problems);
    let mut sources = Vec::new();
    if let Some(sei) = &sei {
        let mut r =
            FileReader { path: sei_path.clone(), root: &root, env, problems: &mut problems, sources: &mut sources };
        let group = sei.get("SEI");
        install.producao = match r.field("Producao", group.and_then(|g| g.get("Producao"))) {
            Field::Missing => Some(false),
            Field::Value(v) => PhpValue::Str(v).as_bool(),
            Field::Unresolved(_) => None,
        };
        if let Some(modulos) = group.and_then(|g| g.get("Modulos")) {
            for (k, v) in modulos.entries() {
                let dir = match r.field(&k.to_string(), Some(v)) {
                    Field::Value(d) => d,
                    Field::Missing => String::new(),
                    Field::Unresolved(e) => e.to_string(),
                };
                install.modules.push(k.to_string());
                install.module_dirs.push((k.to_string(), dir));
            }
        }
        install.database = read_database(&mut r, sei.get("BancoSEI"));
        if !install.pen_enabled() {
            problems.push(Finding::new("PEN_MODULE_NOT_ENABLED").with("path", sei_path.display()));
        } else if install.producao == Some(false) {
            problems.push(Finding::new("PEN_TLS_VERIFICATION_OFF").with("path", sei_path.display()));
        }
    }
    install.problems = problems;
    install.value_sources = sources;

    // The modules: what SEI enables, or — when its configuration could not be read — whatever
    // is installed, so the other checks still get endpoints and the certificate.
    let unknown = !install.usable;
    if install.pen_enabled() || unknown {
        let path = root.join(PEN_CONFIG);
        let required = install.pen_enabled();
        if let Some(cfg) = read_module_config(&mut install, &path, required) {
            let mut r = FileReader {
                path: path.clone(),
                root: &root,
                env,
                problems: &mut install.problems,
                sources: &mut install.value_sources,
            };
            install.pen = Some(read_pen(&mut r, &cfg));
        }
        let (found, missing) = module_dir(&install, dir, PEN_CLASS, PEN_DIRS, "PENIntegracao.php");
        if let Some(m) = missing.filter(|_| install.pen_enabled()) {
            install.problems.push(Finding::new("PEN_MODULE_DIR_MISSING").with("path", m.display()));
        }
        install.pen_version = found.as_deref().and_then(|d| {
            let names = ["VERSAO_MODULO_PEN", "VERSAO_MODULO"];
            module_version(&d.join("PENIntegracao.php"), &names, &mut install.problems)
        });
        install.pen_module_dir = found;
    }
    if install.pi_enabled() || unknown {
        let path = root.join(PI_CONFIG);
        let required = install.pi_enabled();
        if let Some(cfg) = read_module_config(&mut install, &path, required) {
            let mut r = FileReader {
                path: path.clone(),
                root: &root,
                env,
                problems: &mut install.problems,
                sources: &mut install.value_sources,
            };
            install.pi = Some(read_pi(&mut r, &cfg));
        }
        let (found, _) = module_dir(&install, dir, PI_CLASS, PI_DIRS, "ProtocoloIntegradoIntegracao.php");
        install.pi_version = found.as_deref().and_then(|d| {
            let names = ["VERSAO_MODULO_PI", "VERSAO_MODULO"];
            module_version(&d.join("ProtocoloIntegradoIntegracao.php"), &names, &mut install.problems)
        });
        install.pi_module_dir = found;
    }
    install
}

/// Reads a module's configuration file; a missing file is a finding only when the module is
/// enabled (`required`).
fn read_module_config(install: &mut SeiInstall, path: &Path, required: bool) -> Option<PhpValue> {
    match read_config(path) {
        Ok(v) => {
            install.files_read.push(path.to_path_buf());
            Some(v)
        }
        Err(ReadError::NotFound) => {
            if required {
                install.problems.push(Finding::new("SEI_CONFIG_NOT_FOUND").with("path", path.display()));
            }
            None
        }
        Err(ReadError::Unreadable { error, line }) => {
            install.problems.push(unreadable_finding(path, &error, line));
            None
        }
    }
}

fn read_database(r: &mut FileReader<'_>, group: Option<&PhpValue>) -> Option<DbConfig> {
    group?;
    Some(DbConfig {
        kind: r.text(group, "Tipo", None, false).unwrap_or_default(),
        host: r.text(group, "Servidor", None, false).unwrap_or_default(),
        port: r.port(group, "Porta", None),
        database: r.text(group, "Banco", None, false).unwrap_or_default(),
        user: r.text(group, "Usuario", None, false).unwrap_or_default(),
        password: Secret::new(r.text(group, "Senha", None, true).unwrap_or_default()),
    })
}

fn read_pen(r: &mut FileReader<'_>, cfg: &PhpValue) -> PenConfig {
    const MISSING: &str = "PEN_CONFIG_MISSING_KEY";
    let group = cfg.get("PEN");
    if group.is_none() {
        r.problems.push(Finding::new(MISSING).with("path", r.path.display()).with("key", "PEN"));
        return PenConfig { path: r.path.clone(), ..Default::default() };
    }
    let web_service = r.url(group, "WebService", MISSING);
    let web_service_pendencias = r.url(group, "WebServicePendencias", MISSING);
    let cert_path = r.text(group, "LocalizacaoCertificado", Some(MISSING), false).map(PathBuf::from);
    let cert_password = r.text(group, "SenhaCertificado", Some(MISSING), true).map(Secret::new);
    let gearman_group = group.and_then(|g| g.get("Gearman"));
    let gearman = match r.text(gearman_group, "Servidor", None, false) {
        Some(host) => r.port(gearman_group, "Porta", Some(4730)).map(|p| (host, p)),
        None => None,
    };
    PenConfig { web_service, web_service_pendencias, cert_path, cert_password, gearman, path: r.path.clone() }
}

fn read_pi(r: &mut FileReader<'_>, cfg: &PhpValue) -> PiConfig {
    const MISSING: &str = "PI_CONFIG_MISSING_KEY";
    let group = cfg.get("ProtocoloIntegrado");
    if group.is_none() {
        r.problems.push(Finding::new(MISSING).with("path", r.path.display()).with("key", "ProtocoloIntegrado"));
        return PiConfig { path: r.path.clone(), ..Default::default() };
    }
    PiConfig {
        web_service: r.url(group, "WebService", MISSING),
        user: r.text(group, "UsuarioWebService", Some(MISSING), false),
        password: r.text(group, "SenhaWebService", Some(MISSING), true).map(Secret::new),
        path: r.path.clone(),
    }
}

/// Where a module is installed: (the directory holding `main_file`, the configured directory
/// when it does not exist). The configured directory (`SEI > Modulos`, relative to
/// `web/modulos/`) comes first, then the usual names under `web/modulos/` and `sei/web/modulos/`.
fn module_dir(
    install: &SeiInstall,
    given: &Path,
    class: &str,
    usual: &[&str],
    main_file: &str,
) -> (Option<PathBuf>, Option<PathBuf>) {
    let modulos = install.dir.join("web/modulos");
    let configured = install
        .module_dirs
        .iter()
        .find(|(c, d)| c == class && !d.is_empty() && !d.contains("::") && !d.contains('('))
        .map(|(_, d)| if Path::new(d).is_absolute() { PathBuf::from(d) } else { modulos.join(d) });
    let mut candidates: Vec<PathBuf> = configured.iter().cloned().collect();
    for base in [modulos.clone(), given.join("sei/web/modulos")] {
        candidates.extend(usual.iter().map(|u| base.join(u)));
    }
    let found = candidates.into_iter().find(|d| d.join(main_file).is_file());
    let missing = configured.filter(|c| !c.is_dir());
    (found, missing)
}

/// The module version defined in its main file (first of `names` found); a main file that
/// exists but cannot be read is a problem.
fn module_version(file: &Path, names: &[&str], problems: &mut Vec<Finding>) -> Option<String> {
    let bytes = match read_limited(file) {
        Ok(b) => b,
        Err(ReadError::NotFound) => return None,
        Err(ReadError::Unreadable { error, line }) => {
            problems.push(unreadable_finding(file, &error, line));
            return None;
        }
    };
    let text = php::decode(&bytes);
    names.iter().find_map(|n| php::find_define(&text, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sei").join(name)
    }

    fn codes(install: &SeiInstall) -> Vec<&'static str> {
        install.problems.iter().map(|f| f.code).collect()
    }

    fn param<'a>(f: &'a Finding, name: &str) -> &'a str {
        f.params.get(name).map(String::as_str).unwrap_or("")
    }

    #[test]
    fn modpen4_complete_installation() {
        let s = discover(&fixture("modpen4"));
        assert!(s.usable);
        assert_eq!(codes(&s), Vec::<&str>::new());
        assert_eq!(s.producao, Some(true));
        assert_eq!(s.modules, ["PENIntegracao", "ProtocoloIntegradoIntegracao"]);
        assert!(s.pen_enabled() && s.pi_enabled());
        assert_eq!(s.files_read.len(), 3);
        let pen = s.pen.as_ref().unwrap();
        assert_eq!(
            pen.web_service.as_deref(),
            Some("https://homolog.api.processoeletronico.gov.br/interoperabilidade/rest/v3/")
        );
        assert_eq!(
            pen.web_service_pendencias.as_deref(),
            Some("https://homolog.pendencias.processoeletronico.gov.br/")
        );
        assert_eq!(pen.cert_path.as_deref(), Some(Path::new("/opt/sei/config/mod-pen/certificado.pem")));
        assert_eq!(pen.cert_password.as_ref().map(Secret::expose), Some("S3nh4-Cert-Fixture!"));
        assert_eq!(pen.gearman, Some(("127.0.0.1".to_string(), 4730)));
        let pi = s.pi.as_ref().unwrap();
        assert_eq!(pi.user.as_deref(), Some("oex.integracao"));
        assert_eq!(pi.password.as_ref().map(Secret::expose), Some("S3nh4-PI-Fixture!"));
        let db = s.database.as_ref().unwrap();
        assert_eq!((db.kind.as_str(), db.host.as_str(), db.port), ("MySql", "127.0.0.1", Some(3306)));
        assert_eq!((db.database.as_str(), db.user.as_str()), ("sei", "sei_app"));
        assert_eq!(db.password.expose(), "S3nh4-Banco-Fixture!");
        assert_eq!(s.pen_version.as_deref(), Some("4.0.1"));
        assert_eq!(s.pi_version.as_deref(), Some("3.0.2"));
        assert!(s.pen_module_dir.as_deref().is_some_and(|d| d.ends_with("web/modulos/pen")));
        // No secret in the debug view of the whole installation.
        assert!(!format!("{s:?}").contains("S3nh4"));
    }

    #[test]
    fn modpen1_older_generation() {
        let s = discover(&fixture("modpen1"));
        assert!(s.usable);
        assert_eq!(codes(&s), ["PEN_TLS_VERIFICATION_OFF"]);
        assert_eq!(s.producao, Some(false));
        assert_eq!(s.modules, ["PENIntegracao"]);
        let pen = s.pen.as_ref().unwrap();
        assert_eq!(pen.gearman, None);
        assert!(pen.web_service.as_deref().is_some_and(|u| u.ends_with("/soap/v3/")));
        // dirname(__FILE__) . '/certificado.pem', resolved against the file's directory.
        assert_eq!(pen.cert_path, Some(fixture("modpen1").join("config/mod-pen/certificado.pem")));
        assert_eq!(s.pen_version.as_deref(), Some("1.5.6"));
        let db = s.database.as_ref().unwrap();
        assert_eq!((db.kind.as_str(), db.port), ("SqlServer", Some(1433)));
        assert!(s.pi.is_none() && s.pi_version.is_none());
    }

    #[test]
    fn latin1_files_are_decoded() {
        let s = discover(&fixture("latin1"));
        assert!(s.usable, "{:?}", s.problems);
        assert_eq!(codes(&s), Vec::<&str>::new());
        let pen = s.pen.as_ref().unwrap();
        assert_eq!(pen.cert_path.as_deref(), Some(Path::new("/opt/sei/config/mod-pen/certificado-fundação.pem")));
        assert_eq!(s.database.as_ref().map(|d| d.user.as_str()), Some("sei_usuário"));
        assert_eq!(s.pen_version.as_deref(), Some("3.6.2"));
        assert_eq!(pen.gearman, Some(("127.0.0.1".to_string(), 4730)));
    }

    #[test]
    fn broken_file_names_its_line_without_its_text() {
        let s = discover(&fixture("broken"));
        assert!(!s.usable);
        assert_eq!(codes(&s), ["SEI_CONFIG_UNREADABLE"]);
        let f = &s.problems[0];
        assert_eq!(param(f, "line"), "52");
        assert!(param(f, "location").ends_with("ConfiguracaoSEI.php:52"));
        assert!(param(f, "error").contains("end of file"), "{f:?}");
        assert!(!format!("{f:?}").contains("S3nh4"));
        assert!(s.pen.is_none());
    }

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    fn sei_config(modules: &str, producao: &str) -> String {
        format!("<?php class ConfiguracaoSEI {{ function getArrConfiguracoes() {{ return ['SEI' => ['Producao' => {producao}, 'Modulos' => [{modules}]]]; }} }}")
    }

    #[test]
    fn missing_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let s = discover(dir.path());
        assert!(!s.usable);
        assert_eq!(codes(&s), ["SEI_CONFIG_NOT_FOUND"]);
        assert!(param(&s.problems[0], "path").ends_with("config/ConfiguracaoSEI.php"));
    }

    #[test]
    fn pen_not_enabled() {
        let d = tree(&[(
            "config/ConfiguracaoSEI.php",
            &sei_config("'PeticionamentoIntegracao' => 'peticionamento'", "true"),
        )]);
        let s = discover(d.path());
        assert_eq!(codes(&s), ["PEN_MODULE_NOT_ENABLED"]);
        assert!(s.pen.is_none());
    }

    #[test]
    fn enabled_module_without_files_or_configuration() {
        let d = tree(&[(
            "config/ConfiguracaoSEI.php",
            &sei_config("'PENIntegracao' => 'pen', 'ProtocoloIntegradoIntegracao' => 'pi'", "true"),
        )]);
        let s = discover(d.path());
        assert_eq!(codes(&s), ["SEI_CONFIG_NOT_FOUND", "PEN_MODULE_DIR_MISSING", "SEI_CONFIG_NOT_FOUND"]);
        assert!(param(&s.problems[0], "path").ends_with("mod-pen/ConfiguracaoModPEN.php"));
        assert!(param(&s.problems[1], "path").ends_with("web/modulos/pen"));
        assert!(param(&s.problems[2], "path").ends_with("ConfiguracaoModProtocoloIntegrado.php"));
    }

    #[test]
    fn missing_and_invalid_keys() {
        let pen = "<?php return ['PEN' => ['WebService' => 'nao-e-url', 'LocalizacaoCertificado' => '', 'SenhaCertificado' => null, 'Gearman' => ['Servidor' => 'g', 'Porta' => '99999']]];";
        let pi = "<?php return ['ProtocoloIntegrado' => ['WebService' => 'https://pi.example/ws?wsdl']];";
        let d = tree(&[
            (
                "config/ConfiguracaoSEI.php",
                &sei_config(
                    "'PENIntegracao' => 'pen', 'ProtocoloIntegradoIntegracao' => 'protocolo-integrado'",
                    "false",
                ),
            ),
            ("config/mod-pen/ConfiguracaoModPEN.php", pen),
            ("config/mod-protocolo-integrado/ConfiguracaoModProtocoloIntegrado.php", pi),
            ("web/modulos/pen/PENIntegracao.php", "<?php define('VERSAO_MODULO_PEN', '3.8.0');"),
        ]);
        let s = discover(d.path());
        let keys: Vec<(&str, &str)> = s.problems.iter().map(|f| (f.code, param(f, "key"))).collect();
        assert_eq!(
            keys,
            [
                ("PEN_TLS_VERIFICATION_OFF", ""),
                ("PEN_CONFIG_INVALID_VALUE", "WebService"),
                ("PEN_CONFIG_MISSING_KEY", "WebServicePendencias"),
                ("PEN_CONFIG_MISSING_KEY", "LocalizacaoCertificado"),
                ("PEN_CONFIG_MISSING_KEY", "SenhaCertificado"),
                ("PEN_CONFIG_INVALID_VALUE", "Porta"),
                ("PI_CONFIG_MISSING_KEY", "UsuarioWebService"),
                ("PI_CONFIG_MISSING_KEY", "SenhaWebService"),
            ]
        );
        assert_eq!(s.pen_version.as_deref(), Some("3.8.0"));
        assert_eq!(s.pen.as_ref().and_then(|p| p.gearman.clone()), Some(("g".to_string(), 4730)));
    }

    #[test]
    fn environment_variables_and_unresolved_values() {
        let var = format!("PEN_DOCTOR_TEST_WS_{}", std::process::id());
        // SAFETY: the variable name is unique to this test; nothing else reads it.
        unsafe { std::env::set_var(&var, "https://homolog.api.processoeletronico.gov.br/interoperabilidade/rest/v3/") };
        let pen = format!(
            "<?php return ['PEN' => ['WebService' => getenv('{var}'), 'WebServicePendencias' => getenv('PEN_DOCTOR_UNSET_VAR') ?: 'https://p.example/', 'LocalizacaoCertificado' => CERT_DIR . '/c.pem', 'SenhaCertificado' => getenv('PEN_DOCTOR_UNSET_VAR') . 'S3nh4-x']];"
        );
        let d = tree(&[
            ("sei/config/ConfiguracaoSEI.php", &sei_config("'PENIntegracao' => 'pen'", "true")),
            ("sei/config/mod-pen/ConfiguracaoModPEN.php", &pen),
            ("sei/web/modulos/pen/PENIntegracao.php", "<?php define('VERSAO_MODULO_PEN', '4.1.0');"),
        ]);
        // The SEI root is found under `sei/`.
        let s = discover(d.path());
        assert_eq!(s.dir, d.path().join("sei"));
        let p = s.pen.as_ref().unwrap();
        assert!(p.web_service.as_deref().is_some_and(|u| u.starts_with("https://homolog.api")));
        assert_eq!(p.web_service_pendencias, None);
        let unresolved: Vec<(&str, &str)> = s
            .problems
            .iter()
            .filter(|f| f.code == "SEI_CONFIG_UNRESOLVED")
            .map(|f| (param(f, "key"), param(f, "expr")))
            .collect();
        assert_eq!(
            unresolved,
            [
                ("WebServicePendencias", "getenv('PEN_DOCTOR_UNSET_VAR') ?: 'https://p.example/'"),
                ("LocalizacaoCertificado", "CERT_DIR . '/c.pem'"),
                ("SenhaCertificado", "***"),
            ]
        );
        assert_eq!(s.pen_version.as_deref(), Some("4.1.0"));
    }

    #[test]
    fn unreadable_files() {
        let big = "<?php return [];\n".to_string() + &" ".repeat(MAX_CONFIG_BYTES as usize);
        let d = tree(&[("config/ConfiguracaoSEI.php", &big)]);
        let s = discover(d.path());
        assert_eq!(codes(&s), ["SEI_CONFIG_UNREADABLE"]);
        assert!(param(&s.problems[0], "error").contains("too large"));
        assert_eq!(param(&s.problems[0], "line"), "");

        let d = tree(&[("config/ConfiguracaoSEI.php/x", "")]);
        let s = discover(d.path());
        assert!(param(&s.problems[0], "error").contains("not a regular file"), "{:?}", s.problems);

        let d = tree(&[("config/ConfiguracaoSEI.php", "\u{7f}ELF\u{0}\u{0}\u{1}binary")]);
        let s = discover(d.path());
        assert_eq!(codes(&s), ["SEI_CONFIG_UNREADABLE"]);
        assert!(param(&s.problems[0], "error").contains("binary"), "{:?}", s.problems);
    }

    #[test]
    fn unreadable_sei_config_still_reads_the_modules() {
        let d = tree(&[
            ("config/ConfiguracaoSEI.php", "<?php return ['SEI' => "),
            ("config/mod-pen/ConfiguracaoModPEN.php", "<?php return ['PEN' => ['WebService' => 'https://h.example/', 'WebServicePendencias' => 'https://p.example/', 'LocalizacaoCertificado' => '/c.pem', 'SenhaCertificado' => 'x']];"),
        ]);
        let s = discover(d.path());
        assert!(!s.usable);
        assert_eq!(codes(&s), ["SEI_CONFIG_UNREADABLE"]);
        assert_eq!(s.pen.as_ref().and_then(|p| p.web_service.as_deref()), Some("https://h.example/"));
    }

    /// The environment of the processes that run SEI in a container, as the test sets it.
    struct Container(&'static [(&'static str, &'static str)]);

    const PHP_FPM: &str = "environment of php-fpm (PID 7)";

    impl Scope for Container {
        fn getenv(&self, name: &str) -> EnvValue {
            match self.0.iter().find(|(n, _)| *n == name) {
                Some((_, v)) => EnvValue::Set { value: v.to_string(), source: PHP_FPM.into() },
                None => EnvValue::Unset { source: PHP_FPM.into() },
            }
        }
    }

    const DOCKER_ENV: &[(&str, &str)] = &[
        ("APP_PROTOCOLO", "https"),
        ("APP_HOST", "sei.orgao.gov.br"),
        ("DB_HOST", "db"),
        ("DB_SEI_BASE", "sei"),
        ("DB_SEI_USERNAME", "sei_user"),
        ("DB_SEI_PASSWORD", "S3nh4-Docker-Db"),
        ("DB_TIPO", "MySql"),
        ("PEN_WEBSERVICE", "https://homolog.api.processoeletronico.gov.br/interoperabilidade/rest/v3/"),
        ("PEN_WEBSERVICE_PENDENCIAS", "https://homolog.pendencias.processoeletronico.gov.br/"),
        ("PEN_SENHA_CERTIFICADO", "S3nh4-Docker-Cert"),
        ("PEN_GEARMAN_HOST", "gearmand"),
    ];

    #[test]
    fn docker_installation_resolves_through_the_environment_and_names_the_sources() {
        let s = discover_with(&fixture("docker"), &Container(DOCKER_ENV));
        assert!(s.usable);
        assert_eq!(codes(&s), Vec::<&str>::new(), "{:?}", s.problems);
        // `(getenv('APP_PROTOCOLO') == 'https' ? true : false)`
        assert_eq!(s.producao, Some(true));
        let pen = s.pen.as_ref().unwrap();
        assert!(pen.web_service.as_deref().is_some_and(|u| u.ends_with("/interoperabilidade/rest/v3/")));
        assert!(pen.web_service_pendencias.as_deref().is_some_and(|u| u.starts_with("https://homolog.pendencias")));
        // `getenv('PEN_CERTIFICADO') ?: '/opt/…'` with the variable not set: the default.
        assert_eq!(pen.cert_path.as_deref(), Some(Path::new("/opt/sei/config/mod-pen/certificado.pem")));
        assert_eq!(pen.cert_password.as_ref().map(Secret::expose), Some("S3nh4-Docker-Cert"));
        assert_eq!(pen.gearman, Some(("gearmand".to_string(), 4730)));
        let db = s.database.as_ref().unwrap();
        assert_eq!(
            (db.kind.as_str(), db.host.as_str(), db.port, db.user.as_str()),
            ("MySql", "db", Some(3306), "sei_user")
        );
        assert_eq!(db.password.expose(), "S3nh4-Docker-Db");
        assert_eq!(s.pen_version.as_deref(), Some("4.0.3"));
        let source = |key: &str| {
            s.value_sources
                .iter()
                .find(|v| v.key == key)
                .map(|v| v.from.iter().map(|f| format!("{}: {}", f.what, f.from)).collect::<Vec<_>>())
                .unwrap_or_default()
        };
        assert_eq!(source("Producao"), [format!("getenv('APP_PROTOCOLO'): {PHP_FPM}")]);
        assert_eq!(source("SenhaCertificado"), [format!("getenv('PEN_SENHA_CERTIFICADO'): {PHP_FPM}")]);
        assert_eq!(source("LocalizacaoCertificado"), [format!("getenv('PEN_CERTIFICADO'): {PHP_FPM}")]);
        // The passwords are Secrets: nowhere in the debug view of the installation.
        assert!(!format!("{s:?}").contains("S3nh4"));
        // Served over http: Producao is false.
        let http: &[(&str, &str)] = &[("APP_PROTOCOLO", "http")];
        assert_eq!(discover_with(&fixture("docker"), &Container(http)).producao, Some(false));
    }

    #[test]
    fn docker_installation_without_its_environment_stays_unresolved() {
        let s = discover_with(&fixture("docker"), &php::NoScope);
        assert!(s.usable);
        assert_eq!(s.producao, None);
        assert!(s.value_sources.is_empty());
        let unresolved: Vec<(&str, &str)> = s
            .problems
            .iter()
            .filter(|f| f.code == "SEI_CONFIG_UNRESOLVED")
            .map(|f| (param(f, "key"), param(f, "expr")))
            .collect();
        assert_eq!(
            unresolved,
            [
                ("Tipo", "getenv('DB_TIPO')"),
                ("Servidor", "getenv('DB_HOST')"),
                ("Porta", "getenv('DB_PORTA') ?: '3306'"),
                ("Banco", "getenv('DB_SEI_BASE')"),
                ("Usuario", "getenv('DB_SEI_USERNAME')"),
                ("Senha", "***"),
                ("WebService", "getenv('PEN_WEBSERVICE')"),
                ("WebServicePendencias", "getenv('PEN_WEBSERVICE_PENDENCIAS')"),
                ("LocalizacaoCertificado", "getenv('PEN_CERTIFICADO') ?: '/opt/sei/config/mod-pen/certificado.pem'"),
                ("SenhaCertificado", "***"),
                ("Servidor", "getenv('PEN_GEARMAN_HOST')"),
            ]
        );
    }

    #[test]
    fn an_unresolved_value_shows_the_file_s_expression_not_the_environment_s_values() {
        let pen =
            "<?php return ['PEN' => ['WebService' => 'https://pen:' . getenv('PEN_PASS') . '@h.example/' . PEN_PATH]];";
        let d = tree(&[
            ("config/ConfiguracaoSEI.php", &sei_config("'PENIntegracao' => 'pen'", "true")),
            ("config/mod-pen/ConfiguracaoModPEN.php", pen),
        ]);
        let s = discover_with(d.path(), &Container(&[("PEN_PASS", "S3nh4-Env-Url")]));
        let f = s.problems.iter().find(|f| param(f, "key") == "WebService").expect("WebService unresolved");
        assert_eq!(f.code, "SEI_CONFIG_UNRESOLVED");
        assert_eq!(param(f, "expr"), "'https://pen:' . getenv('PEN_PASS') . '@h.example/' . PEN_PATH");
        assert!(!format!("{:?}", s.problems).contains("S3nh4"));
    }

    #[test]
    fn deep_chains_in_module_keys_name_file_and_line_never_the_text() {
        for key in ["WebService", "SenhaCertificado"] {
            let pen = format!(
                "<?php\nreturn ['PEN' => [\n  'LocalizacaoCertificado' => '/c.pem',\n  '{key}' => 'S3nh4-Chain' . {}true,\n]];\n",
                "X ?: ".repeat(30_000)
            );
            let d = tree(&[
                ("config/ConfiguracaoSEI.php", &sei_config("'PENIntegracao' => 'pen'", "true")),
                ("config/mod-pen/ConfiguracaoModPEN.php", &pen),
            ]);
            let s = discover(d.path());
            let f = s.problems.iter().find(|f| f.code == "SEI_CONFIG_UNREADABLE").expect("unreadable");
            assert_eq!(param(f, "line"), "4", "{key}: {f:?}");
            assert!(param(f, "location").ends_with("ConfiguracaoModPEN.php:4"), "{key}: {f:?}");
            assert!(param(f, "error").contains("nesting"), "{key}: {f:?}");
            assert!(!format!("{:?}", s.problems).contains("S3nh4"));
            assert!(s.pen.is_none());
        }
    }

    #[test]
    fn discovery_within_a_budget_is_discovery() {
        let quick = discover_within(&fixture("modpen4"), true, Duration::from_secs(30)).expect("explicit");
        let direct = discover(&fixture("modpen4"));
        assert_eq!((quick.usable, codes(&quick), quick.files_read), (direct.usable, codes(&direct), direct.files_read));
        let empty = tempfile::tempdir().unwrap();
        assert!(discover_within(empty.path(), false, Duration::from_secs(30)).is_none());
        let named = discover_within(empty.path(), true, Duration::from_secs(30)).expect("explicit");
        assert_eq!(codes(&named), ["SEI_CONFIG_NOT_FOUND"]);
    }
}
