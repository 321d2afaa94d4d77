//! Discovery of an SEI installation: reads `ConfiguracaoSEI.php`, SEI's version (`web/SEI.php`),
//! the installed mod-sei-pen (its version in the three forms it was ever written in) and the
//! module configuration files statically (never by running PHP), resolving `getenv()` through the
//! environments of the processes that run SEI, and the php.ini files SEI's PHP loads. Within a
//! time budget ([`discover_within`]) so that a hung filesystem cannot hold the run.
//!
//! Discovery records what the files hold (and what could not be read); [`judge`] says what is
//! wrong with it for the installed module's era.

pub mod env;
pub mod install;
pub mod judge;
pub mod php;
pub mod webservice;

pub use env::{EnvironmentsRead, HostEnvironment, OwnEnvironment};
pub use install::{database_parameter, GearmanPlan, KeyState, PenConfig, PenSource, PiConfig, SeiInstall, ValueSource};
pub use judge::judge;

use crate::eras;
use crate::hostfs::{self, Kind, Reason};
use crate::model::code::{self, Code};
use crate::model::Finding;
use crate::secret::Secret;
use install::{PEN_CONFIG, SEI_CONFIG};
use php::{EnvValue, PhpValue, Scope};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::db::DbConfig;

// `findings` stands beside discovery, not in `install`: it asks `judge`, which reads `install`.
impl SeiInstall {
    /// Every finding of discovery: what could not be read, then what is wrong for the era.
    pub fn findings(&self) -> Vec<Finding> {
        let mut out = self.problems.clone();
        out.extend(judge(self));
        out
    }
}

/// Files larger than this are refused: no configuration file comes near it.
pub const MAX_CONFIG_BYTES: u64 = Kind::PhpSource.limit();

const SEI_MAIN: &str = "web/SEI.php";
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
    read_config_file(path).map(|(v, _)| v)
}

/// Reads and parses a PHP configuration file; also whether it opens with the short tag `<?`.
fn read_config_file(path: &Path) -> Result<(PhpValue, bool), ReadError> {
    let text = php::decode(&read_limited(path)?);
    let short = php::opens_with_short_tag(&text);
    php::parse_config(&text)
        .map(|v| (v, short))
        .map_err(|e| ReadError::Unreadable { error: e.problem.to_string(), line: Some(e.line) })
}

fn unreadable_finding(path: &Path, error: &str, line: Option<usize>) -> Finding {
    let location = match line {
        Some(l) => format!("{}:{l}", path.display()),
        None => path.display().to_string(),
    };
    let f = Finding::new(code::SEI_CONFIG_UNREADABLE).with("path", path.display()).with("error", error);
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
    /// Absent, `null`, `false` or empty, and which.
    Missing(KeyState),
    Value(String, KeyState),
    /// Known only when PHP runs (an unknown constant, `getenv()` of a variable not set here…):
    /// the expression as the file writes it, never with values from the environment, which
    /// may be secrets.
    Unresolved(PhpValue),
}

impl Field {
    fn state(&self) -> KeyState {
        match self {
            Field::Missing(k) | Field::Value(_, k) => *k,
            Field::Unresolved(_) => KeyState::Unresolved,
        }
    }
}

/// PHP's `is_numeric()` on a string: optional blanks, a sign, digits with an optional fraction and
/// exponent.
pub fn php_numeric(text: &str) -> bool {
    let t = text.trim_start_matches([' ', '\t', '\n', '\r', '\u{b}', '\u{c}']).trim_end();
    let t = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = (!int.is_empty() || !frac.is_empty()) && digits(int) && digits(frac);
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

/// Reads the keys of one configuration file, resolving what can be resolved statically and
/// recording problems and where outside values came from.
struct FileReader<'a> {
    path: PathBuf,
    root: &'a Path,
    /// SEI's own version, the value of the `SEI_VERSAO` constant.
    sei_version: Option<&'a str>,
    /// What `getenv()` and constants not defined by SEI itself resolve to.
    env: &'a dyn Scope,
    problems: &'a mut Vec<Finding>,
    sources: &'a mut Vec<ValueSource>,
}

/// Values PHP would know: `__DIR__`, `__FILE__`, `dirname()`, SEI's `DIR_SEI_*` constants and
/// `SEI_VERSAO`; the rest (`getenv()`, other constants) is asked of the environment.
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
            "SEI_VERSAO" => self.sei_version.map(|v| PhpValue::Str(v.into())),
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
        let Some(v) = v else { return Field::Missing(KeyState::Missing) };
        let evaluation = v.evaluate(&*self);
        let from: Vec<php::Source> = evaluation.sources.into_iter().filter(|s| s.from != FILE_LOCATION).collect();
        if !from.is_empty() {
            self.sources.push(ValueSource { path: self.path.clone(), key: key.to_string(), from });
        }
        match evaluation.value {
            PhpValue::Null => Field::Missing(KeyState::Missing),
            PhpValue::Bool(false) => Field::Missing(KeyState::False),
            PhpValue::Str(s) if s.trim().is_empty() => Field::Missing(KeyState::Empty),
            PhpValue::Str(s) => {
                let state = if php_numeric(&s) { KeyState::Number } else { KeyState::Text };
                Field::Value(s.trim().to_string(), state)
            }
            PhpValue::Bool(true) => Field::Value("1".into(), KeyState::True),
            PhpValue::Int(_) | PhpValue::Float(_) => {
                Field::Value(evaluation.value.scalar_text().unwrap_or_default(), KeyState::Number)
            }
            PhpValue::Array(_) => Field::Value(String::new(), KeyState::Array),
            other => match other.scalar_text() {
                Some(t) => Field::Value(t, KeyState::Text),
                None => Field::Unresolved(v.clone()),
            },
        }
    }

    /// Records `SEI_CONFIG_UNRESOLVED` for a value known only when PHP runs.
    fn unresolved(&mut self, key: &str, expr: &PhpValue, secret: bool) {
        let mut shown = if secret { "***".to_string() } else { expr.to_string() };
        if shown.chars().count() > 200 {
            shown = shown.chars().take(200).collect::<String>() + "…";
        }
        self.problems.push(
            Finding::new(code::SEI_CONFIG_UNRESOLVED)
                .with("path", self.path.display())
                .with("key", key)
                .with("expr", shown),
        );
    }

    /// A key of `group`, and what it held; `missing` is the code to report when it is absent or
    /// empty (`None`: the era decides, later).
    fn text_state(
        &mut self,
        group: Option<&PhpValue>,
        key: &str,
        missing: Option<Code>,
        secret: bool,
    ) -> (Option<String>, KeyState) {
        let field = self.field(key, group.and_then(|g| g.get(key)));
        let state = field.state();
        let value = match field {
            Field::Value(_, KeyState::Array) => None,
            Field::Value(v, _) => Some(v),
            Field::Missing(_) => {
                if let Some(code) = missing {
                    self.problems.push(Finding::new(code).with("path", self.path.display()).with("key", key));
                }
                None
            }
            Field::Unresolved(expr) => {
                self.unresolved(key, &expr, secret);
                None
            }
        };
        (value, state)
    }

    fn text(&mut self, group: Option<&PhpValue>, key: &str, missing: Option<Code>, secret: bool) -> Option<String> {
        self.text_state(group, key, missing, secret).0
    }

    /// A URL key: present values must be `http(s)://host/…`.
    fn url(&mut self, group: Option<&PhpValue>, key: &str, missing: Option<Code>) -> (Option<String>, KeyState) {
        let (v, state) = self.text_state(group, key, missing, false);
        let Some(v) = v else { return (None, state) };
        let ok = url::Url::parse(&v).ok().filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some());
        if ok.is_none() {
            self.problems.push(
                Finding::new(code::PEN_CONFIG_INVALID_VALUE)
                    .with("path", self.path.display())
                    .with("key", key)
                    .with("expected", "https://…"),
            );
            return (None, state);
        }
        (Some(v), state)
    }

    fn port(&mut self, group: Option<&PhpValue>, key: &str, default: Option<u16>) -> (Option<u16>, KeyState) {
        let (v, state) = self.text_state(group, key, None, false);
        let Some(v) = v else { return (default, state) };
        match v.parse::<u16>() {
            Ok(p) if p > 0 => (Some(p), state),
            _ => {
                self.problems.push(
                    Finding::new(code::PEN_CONFIG_INVALID_VALUE)
                        .with("path", self.path.display())
                        .with("key", key)
                        .with("expected", "1–65535"),
                );
                (default, state)
            }
        }
    }
}

/// How discovery reaches outside the SEI tree.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `--php-ini`: the php.ini SEI runs with.
    pub php_ini: Option<PathBuf>,
    /// Leave the host's php.ini files alone (a tree judged apart from the host it sits on).
    pub skip_php: bool,
}

/// [`discover`] in a thread of its own, given `budget` to finish: a file on a hung network
/// filesystem (or any read that never ends) then costs the run `budget`, not its deadline. When
/// the time runs out, the installation has only an `SEI_CONFIG_TIMEOUT` problem and the run goes
/// on with the flags and the defaults; the thread is left to end with the process.
/// `None` when `dir` holds no SEI installation and was not named explicitly (`--sei-dir`).
pub fn discover_within(dir: &Path, explicit: bool, budget: Duration, options: &Options) -> Option<SeiInstall> {
    let run = {
        let dir = dir.to_path_buf();
        let options = options.clone();
        move || (explicit || looks_like_sei(&dir)).then(|| discover_host(&dir, &options))
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new().name("sei-discovery".into()).spawn(move || {
        let _ = tx.send(run());
    });
    if spawned.is_err() {
        // No thread to be had: read in this one rather than not at all.
        return (explicit || looks_like_sei(dir)).then(|| discover_host(dir, options));
    }
    match rx.recv_timeout(budget) {
        Ok(install) => install,
        Err(_) => {
            let problem = Finding::new(code::SEI_CONFIG_TIMEOUT)
                .with("path", dir.display())
                .with("budget", crate::duration::humanize(budget));
            Some(SeiInstall { dir: dir.to_path_buf(), problems: vec![problem], ..Default::default() })
        }
    }
}

/// Reads the installation under `dir` (the SEI root, or a directory whose `sei/` is the root),
/// with `getenv()` resolved from the processes that run SEI, then pen-doctor's own environment,
/// and the host's php.ini files. Never fails: what cannot be read becomes a finding in `problems`.
pub fn discover(dir: &Path) -> SeiInstall {
    discover_host(dir, &Options::default())
}

fn discover_host(dir: &Path, options: &Options) -> SeiInstall {
    let env = HostEnvironment::new();
    let mut install = discover_in(dir, &env, options);
    install.environments = env.report();
    install
}

/// [`discover`], with `getenv()` and outside constants resolved by `env`.
pub fn discover_with(dir: &Path, env: &dyn Scope) -> SeiInstall {
    discover_in(dir, env, &Options::default())
}

/// The SEI version of `web/SEI.php`: `define('SEI_VERSAO', '4.0.x')` up to SEI 4.0,
/// `const SEI_VERSAO = '4.1.0'` from 4.1. A file that exists but cannot be read is a problem.
fn sei_version(root: &Path, problems: &mut Vec<Finding>) -> Option<String> {
    let path = root.join(SEI_MAIN);
    match read_limited(&path) {
        Ok(bytes) => php::find_define(&php::decode(&bytes), "SEI_VERSAO"),
        Err(ReadError::NotFound) => None,
        Err(ReadError::Unreadable { error, line }) => {
            problems.push(unreadable_finding(&path, &error, line));
            None
        }
    }
}

/// [`discover`] with `getenv()` resolved by `env` and the options given.
pub fn discover_in(dir: &Path, env: &dyn Scope, options: &Options) -> SeiInstall {
    let root = sei_root(dir);
    let mut install = SeiInstall { dir: root.clone(), ..Default::default() };
    let sei_path = root.join(SEI_CONFIG);
    let sei = match read_config_file(&sei_path) {
        Ok((v, short)) => {
            install.files_read.push(sei_path.clone());
            if short {
                install.short_tag_files.push(sei_path.clone());
            }
            install.usable = true;
            Some(v)
        }
        Err(ReadError::NotFound) => {
            install.problems.push(Finding::new(code::SEI_CONFIG_NOT_FOUND).with("path", sei_path.display()));
            None
        }
        Err(ReadError::Unreadable { error, line }) => {
            install.problems.push(unreadable_finding(&sei_path, &error, line));
            None
        }
    };
    install.sei_version = sei_version(&root, &mut install.problems);

    let mut problems = std::mem::take(&mut install.problems);
    let mut sources = Vec::new();
    if let Some(sei) = &sei {
        let mut r = FileReader {
            path: sei_path.clone(),
            root: &root,
            sei_version: install.sei_version.as_deref(),
            env,
            problems: &mut problems,
            sources: &mut sources,
        };
        let group = sei.get("SEI");
        install.producao = match r.field("Producao", group.and_then(|g| g.get("Producao"))) {
            Field::Missing(_) => Some(false),
            Field::Value(v, _) => PhpValue::Str(v).as_bool(),
            Field::Unresolved(_) => None,
        };
        install.sei_url = match r.field("URL", group.and_then(|g| g.get("URL"))) {
            Field::Value(v, _) => Some(v),
            _ => None,
        };
        if let Some(modulos) = group.and_then(|g| g.get("Modulos")) {
            for (k, v) in modulos.entries() {
                let dir = match r.field(&k.to_string(), Some(v)) {
                    Field::Value(d, _) => d,
                    Field::Missing(_) => String::new(),
                    Field::Unresolved(e) => e.to_string(),
                };
                install.modules.push(k.to_string());
                install.module_dirs.push((k.to_string(), dir));
            }
        }
        install.database = read_database(&mut r, sei.get("BancoSEI"));
        if !install.pen_enabled() {
            problems.push(Finding::new(code::PEN_MODULE_NOT_ENABLED).with("path", sei_path.display()));
        }
    }
    install.problems = problems;
    install.value_sources = sources;

    // The modules: what SEI enables, or — when its configuration could not be read — whatever
    // is installed, so the other checks still get endpoints and the certificate.
    let unknown = !install.usable;
    if install.pen_enabled() || unknown {
        let (found, missing) = module_dir(&install, dir, PEN_CLASS, PEN_DIRS, "PENIntegracao.php");
        if let Some(m) = missing.filter(|_| install.pen_enabled()) {
            install.problems.push(Finding::new(code::PEN_MODULE_DIR_MISSING).with("path", m.display()));
        }
        if let Some(d) = found.as_deref() {
            if let Some((v, form)) = pen_version(&d.join("PENIntegracao.php"), &mut install.problems) {
                install.pen_version = Some(v);
                install.pen_version_form = Some(form);
            }
        }
        install.pen_module_dir = found;
        let path = root.join(PEN_CONFIG);
        let from_database = install.pen_era().is_some_and(|e| e.config_source == eras::ConfigSource::Database);
        if from_database {
            // 1.x keeps its parameters in the database; a file there is not read by it.
            if path.exists() {
                install.pen_config_ignored = Some(path);
            }
        } else {
            let required = install.pen_enabled();
            if let Some(cfg) = read_module_config(&mut install, &path, required) {
                let sei_version = install.sei_version.clone();
                let mut r = FileReader {
                    path: path.clone(),
                    root: &root,
                    sei_version: sei_version.as_deref(),
                    env,
                    problems: &mut install.problems,
                    sources: &mut install.value_sources,
                };
                install.pen = Some(read_pen(&mut r, &cfg));
            }
        }
    }
    if install.pi_enabled() || unknown {
        let path = root.join(PI_CONFIG);
        let required = install.pi_enabled();
        if let Some(cfg) = read_module_config(&mut install, &path, required) {
            let sei_version = install.sei_version.clone();
            let mut r = FileReader {
                path: path.clone(),
                root: &root,
                sei_version: sei_version.as_deref(),
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
    if !options.skip_php {
        install.php = Some(crate::phpini::discover_host(options.php_ini.as_deref()));
    }
    install
}

/// Reads a module's configuration file; a missing file is a finding only when the module is
/// enabled (`required`).
fn read_module_config(install: &mut SeiInstall, path: &Path, required: bool) -> Option<PhpValue> {
    match read_config_file(path) {
        Ok((v, short)) => {
            install.files_read.push(path.to_path_buf());
            if short {
                install.short_tag_files.push(path.to_path_buf());
            }
            Some(v)
        }
        Err(ReadError::NotFound) => {
            if required {
                install.problems.push(Finding::new(code::SEI_CONFIG_NOT_FOUND).with("path", path.display()));
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
        port: r.port(group, "Porta", None).0,
        database: r.text(group, "Banco", None, false).unwrap_or_default(),
        user: r.text(group, "Usuario", None, false).unwrap_or_default(),
        password: Secret::new(r.text(group, "Senha", None, true).unwrap_or_default()),
    })
}

/// The keys of `PEN` the module reads in some era, besides the four that carry values here.
const OTHER_PEN_KEYS: &[&str] = &[
    "NumeroTentativasErro",
    "TamanhoBlocoArquivoTransferencia",
    "EnviarApenasComponentesDigitaisPendentes",
    "ControleURL",
    "SiglaOrgaoLegado",
];

fn read_pen(r: &mut FileReader<'_>, cfg: &PhpValue) -> PenConfig {
    let group = cfg.get("PEN");
    if group.is_none() {
        r.problems.push(Finding::new(code::PEN_CONFIG_MISSING_KEY).with("path", r.path.display()).with("key", "PEN"));
        return PenConfig { path: r.path.clone(), ..Default::default() };
    }
    let mut keys = BTreeMap::new();
    let (web_service, s) = r.url(group, "WebService", None);
    keys.insert("WebService".to_string(), s);
    let (web_service_pendencias, s) = r.url(group, "WebServicePendencias", None);
    keys.insert("WebServicePendencias".to_string(), s);
    let (cert_path, s) = r.text_state(group, "LocalizacaoCertificado", None, false);
    keys.insert("LocalizacaoCertificado".to_string(), s);
    let (cert_password, s) = r.text_state(group, "SenhaCertificado", None, true);
    keys.insert("SenhaCertificado".to_string(), s);
    for key in OTHER_PEN_KEYS {
        let state = r.field(key, group.and_then(|g| g.get(key))).state();
        keys.insert(key.to_string(), state);
    }
    let gearman_group = group.and_then(|g| g.get("Gearman"));
    keys.insert("Gearman".to_string(), r.field("Gearman", gearman_group).state());
    let (host, s) = r.text_state(gearman_group, "Servidor", None, false);
    keys.insert("Gearman.Servidor".to_string(), s);
    // An empty `Porta` is 4730 (`//Padrão: 4730`).
    let gearman = match host {
        Some(host) => {
            let (port, s) = r.port(gearman_group, "Porta", Some(4730));
            keys.insert("Gearman.Porta".to_string(), s);
            port.map(|p| (host, p))
        }
        None => None,
    };
    PenConfig {
        web_service,
        web_service_pendencias,
        cert_path: cert_path.map(PathBuf::from),
        cert_password: cert_password.map(Secret::new),
        gearman,
        keys,
        source: PenSource::File,
        path: r.path.clone(),
    }
}

/// 1.x's parameters, as read from SEI's database: (name, value) rows of `table`.
/// `PEN_ENDERECO_WEBSERVICE` is `WebService`, `PEN_ENDERECO_WEBSERVICE_PENDENCIAS`
/// `WebServicePendencias`, `PEN_LOCALIZACAO_CERTIFICADO_DIGITAL` `LocalizacaoCertificado`,
/// `PEN_SENHA_CERTIFICADO_DIGITAL` `SenhaCertificado`.
pub fn pen_from_database(rows: &[(String, Option<String>)], table: &str) -> (PenConfig, Vec<Finding>) {
    let mut problems = Vec::new();
    let mut keys = BTreeMap::new();
    let mut get = |param: &str, key: &str| -> Option<String> {
        let value = rows.iter().find(|(n, _)| n.trim().eq_ignore_ascii_case(param)).map(|(_, v)| v.clone());
        let (state, value) = match value {
            None | Some(None) => (KeyState::Missing, None),
            Some(Some(v)) if v.trim().is_empty() => (KeyState::Empty, None),
            Some(Some(v)) => {
                (if php_numeric(&v) { KeyState::Number } else { KeyState::Text }, Some(v.trim().to_string()))
            }
        };
        keys.insert(key.to_string(), state);
        value
    };
    let ws = get("PEN_ENDERECO_WEBSERVICE", "WebService");
    let pend = get("PEN_ENDERECO_WEBSERVICE_PENDENCIAS", "WebServicePendencias");
    let cert = get("PEN_LOCALIZACAO_CERTIFICADO_DIGITAL", "LocalizacaoCertificado");
    let password = get("PEN_SENHA_CERTIFICADO_DIGITAL", "SenhaCertificado");
    let mut url = |v: Option<String>, param: &str| {
        let v = v?;
        let ok = url::Url::parse(&v).ok().filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some());
        if ok.is_none() {
            problems.push(
                Finding::new(code::PEN_CONFIG_INVALID_VALUE)
                    .with("path", table)
                    .with("key", param)
                    .with("expected", "https://…"),
            );
            return None;
        }
        Some(v)
    };
    let web_service = url(ws, "PEN_ENDERECO_WEBSERVICE");
    let web_service_pendencias = url(pend, "PEN_ENDERECO_WEBSERVICE_PENDENCIAS");
    let pen = PenConfig {
        web_service,
        web_service_pendencias,
        cert_path: cert.map(PathBuf::from),
        cert_password: password.map(Secret::new),
        gearman: None,
        keys,
        source: PenSource::Database { table: table.to_string() },
        path: PathBuf::from(table),
    };
    (pen, problems)
}

fn read_pi(r: &mut FileReader<'_>, cfg: &PhpValue) -> PiConfig {
    const MISSING: Code = code::PI_CONFIG_MISSING_KEY;
    let group = cfg.get("ProtocoloIntegrado");
    if group.is_none() {
        r.problems.push(Finding::new(MISSING).with("path", r.path.display()).with("key", "ProtocoloIntegrado"));
        return PiConfig { path: r.path.clone(), ..Default::default() };
    }
    PiConfig {
        web_service: r.url(group, "WebService", Some(MISSING)).0,
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

/// Reads a module's main file; a file that exists but cannot be read is a problem.
fn module_text(file: &Path, problems: &mut Vec<Finding>) -> Option<String> {
    match read_limited(file) {
        Ok(b) => Some(php::decode(&b)),
        Err(ReadError::NotFound) => None,
        Err(ReadError::Unreadable { error, line }) => {
            problems.push(unreadable_finding(file, &error, line));
            None
        }
    }
}

/// The module version defined in its main file (first of `names` found).
fn module_version(file: &Path, names: &[&str], problems: &mut Vec<Finding>) -> Option<String> {
    let text = module_text(file, problems)?;
    names.iter().find_map(|n| php::find_define(&text, n))
}

/// mod-sei-pen's version in `PENIntegracao.php`, in the form each era wrote it, and that form:
/// `define("VERSAO_MODULO_PEN", "x.y.z")` (3.2 on), `const VERSAO_MODULO = "x.y.z"` (2.0 – 3.1),
/// `getVersao() { return '1.5.4'; }` (1.x).
fn pen_version(file: &Path, problems: &mut Vec<Finding>) -> Option<(String, &'static str)> {
    let text = module_text(file, problems)?;
    let found = [
        ("define VERSAO_MODULO_PEN", php::find_define(&text, "VERSAO_MODULO_PEN")),
        ("const VERSAO_MODULO", php::find_define(&text, "VERSAO_MODULO")),
        ("getVersao()", php::find_function_return(&text, "getVersao")),
    ];
    found.into_iter().find_map(|(form, v)| v.filter(|v| eras::Version::parse(v).is_some()).map(|v| (v, form)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sei").join(name)
    }

    fn codes(install: &SeiInstall) -> Vec<&'static str> {
        install.findings().iter().map(|f| f.code.as_str()).collect()
    }

    /// Discovery of a tree as it stands, apart from this host: `getenv()` from the test's own
    /// environment, no php.ini of the host.
    fn discover(dir: &Path) -> SeiInstall {
        discover_in(dir, &OwnEnvironment, &Options { skip_php: true, ..Default::default() })
    }

    fn discover_with(dir: &Path, env: &dyn Scope) -> SeiInstall {
        discover_in(dir, env, &Options { skip_php: true, ..Default::default() })
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
        assert_eq!(s.pen_version_form, Some("define VERSAO_MODULO_PEN"));
        assert_eq!(s.pen_era().map(|e| e.id.as_str()), Some("4.0-4.1"));
        // `const SEI_VERSAO = '5.0.3';` (SEI 4.1 on).
        assert_eq!(s.sei_version.as_deref(), Some("5.0.3"));
        assert_eq!(s.gearman_plan(), GearmanPlan::Address("127.0.0.1:4730".into()));
        assert_eq!(s.pendencias_used(), Some(true));
        assert_eq!(s.pi_version.as_deref(), Some("3.0.2"));
        assert!(s.pen_module_dir.as_deref().is_some_and(|d| d.ends_with("web/modulos/pen")));
        // No secret in the debug view of the whole installation.
        assert!(!format!("{s:?}").contains("S3nh4"));
    }

    #[test]
    fn modpen1_keeps_its_configuration_in_the_database() {
        let s = discover(&fixture("modpen1"));
        assert!(s.usable);
        // 1.x: `getVersao() { return '1.5.4'; }`, no ConfiguracaoModPEN.php (and none wanted).
        assert_eq!(s.pen_version.as_deref(), Some("1.5.4"));
        assert_eq!(s.pen_version_form, Some("getVersao()"));
        assert_eq!(s.pen_era().map(|e| e.id.as_str()), Some("1.x"));
        assert!(s.pen.is_none() && s.pen_config_ignored.is_none());
        // SOAP calls never verify the server certificate in 1.x.
        assert_eq!(codes(&s), ["PEN_TLS_VERIFICATION_OFF"]);
        assert_eq!(s.producao, Some(false));
        // `define('SEI_VERSAO','3.1.1');`, within 1.x's 3.0.5–3.1.5.
        assert_eq!(s.sei_version.as_deref(), Some("3.1.1"));
        // 1.x reads no gearman configuration: always localhost:4730.
        assert_eq!(s.gearman_plan(), GearmanPlan::Address("localhost:4730".into()));
        let db = s.database.as_ref().unwrap();
        assert_eq!((db.kind.as_str(), db.port), ("MySql", Some(3306)));
    }

    #[test]
    fn modpen2_const_version_soap_v2_and_no_gearman() {
        let s = discover(&fixture("modpen2"));
        assert_eq!((s.pen_version.as_deref(), s.pen_version_form), (Some("2.1.7"), Some("const VERSAO_MODULO")));
        assert_eq!(s.pen_era().map(|e| e.id.as_str()), Some("2.0-3.0"));
        // The module's own address, switched off since 2024-01-02; SOAP never verifies.
        assert_eq!(codes(&s), ["PEN_WEBSERVICE_DISCONTINUED", "PEN_TLS_VERIFICATION_OFF"]);
        let f = s.findings().remove(0);
        assert_eq!((param(&f, "what"), param(&f, "since")), ("soap/v2", "2024-01-02"));
        let pen = s.pen.as_ref().unwrap();
        // dirname(__FILE__) . '/certificado.pem', resolved against the configuration file.
        assert_eq!(pen.cert_path, Some(fixture("modpen2").join("config/mod-pen/certificado.pem")));
        // The Gearman block is commented out: the work runs in-process.
        assert_eq!(s.gearman_plan(), GearmanPlan::InProcess);
        assert_eq!(s.database.as_ref().map(|d| d.kind.as_str()), Some("SqlServer"));
        assert!(!format!("{s:?}").contains("S3nh4"));
    }

    #[test]
    fn modpen3_soap_with_mixed_quotes_and_an_empty_port() {
        let s = discover(&fixture("modpen3"));
        assert_eq!(s.pen_era().map(|e| e.id.as_str()), Some("3.7"));
        assert_eq!(s.sei_version.as_deref(), Some("4.0.9"));
        assert_eq!(codes(&s), ["PEN_TLS_VERIFICATION_OFF"]);
        let f = s.findings().remove(0);
        assert_eq!((param(&f, "version"), param(&f, "producao")), ("3.7.1", "true"));
        let pen = s.pen.as_ref().unwrap();
        // `"Porta" => "", //Padrão: 4730`
        assert_eq!(pen.gearman, Some(("127.0.0.1".to_string(), 4730)));
        // `'EnviarApenasComponentesDigitaisPendentes' => false` exists: false is a value.
        assert_eq!(pen.key("EnviarApenasComponentesDigitaisPendentes"), KeyState::False);
        assert_eq!(pen.cert_password.as_ref().map(Secret::expose), Some("S3nh4-Cert-Fixture!"));
    }

    #[test]
    fn modpen38_rest_with_production_mode_off() {
        let s = discover(&fixture("modpen38"));
        assert_eq!(s.pen_era().map(|e| e.id.as_str()), Some("3.8-3.x"));
        assert!(s.pen_module_dir.as_deref().is_some_and(|d| d.ends_with("web/modulos/mod-sei-pen")));
        // REST calls verify whatever Producao says; the verifier and the long-poll do not.
        assert_eq!(codes(&s), ["PEN_VERIFIER_SKIPS_TLS"]);
        assert_eq!(s.sei_version.as_deref(), Some("4.0.12"));
    }

    #[test]
    fn latin1_files_are_decoded() {
        let s = discover(&fixture("latin1"));
        assert!(s.usable, "{:?}", s.problems);
        assert_eq!(codes(&s), ["PEN_TLS_VERIFICATION_OFF"]);
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
        assert_eq!(codes(&s), ["PEN_MODULE_DIR_MISSING", "SEI_CONFIG_NOT_FOUND", "SEI_CONFIG_NOT_FOUND"]);
        assert!(param(&s.problems[1], "path").ends_with("mod-pen/ConfiguracaoModPEN.php"));
        assert!(param(&s.problems[0], "path").ends_with("web/modulos/pen"));
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
        let findings = s.findings();
        let keys: Vec<(&str, &str)> = findings.iter().map(|f| (f.code.as_str(), param(f, "key"))).collect();
        assert_eq!(
            keys,
            [
                ("PEN_CONFIG_INVALID_VALUE", "WebService"),
                ("PEN_CONFIG_INVALID_VALUE", "Porta"),
                ("PI_CONFIG_MISSING_KEY", "UsuarioWebService"),
                ("PI_CONFIG_MISSING_KEY", "SenhaWebService"),
                // What the 3.8 module requires: LocalizacaoCertificado empty, SenhaCertificado
                // null, EnviarApenasComponentesDigitaisPendentes absent.
                ("PEN_CONFIG_MISSING_KEY", "LocalizacaoCertificado"),
                ("PEN_CONFIG_MISSING_KEY", "SenhaCertificado"),
                ("PEN_CONFIG_MISSING_KEY", "EnviarApenasComponentesDigitaisPendentes"),
                // WebServicePendencias absent: optional, said, not a failure.
                ("PEN_PENDENCIAS_NOT_CONFIGURED", ""),
                // Producao false on a REST module: only the verifier and long-poll skip TLS.
                ("PEN_VERIFIER_SKIPS_TLS", ""),
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
        assert_eq!(s.pendencias_used(), Some(true));
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
        let options = Options { skip_php: true, ..Default::default() };
        let quick = discover_within(&fixture("modpen4"), true, Duration::from_secs(30), &options).expect("explicit");
        let direct = discover(&fixture("modpen4"));
        assert_eq!((quick.usable, codes(&quick), quick.files_read), (direct.usable, codes(&direct), direct.files_read));
        let empty = tempfile::tempdir().unwrap();
        assert!(discover_within(empty.path(), false, Duration::from_secs(30), &Options::default()).is_none());
        let named =
            discover_within(empty.path(), true, Duration::from_secs(30), &Options::default()).expect("explicit");
        assert_eq!(codes(&named), ["SEI_CONFIG_NOT_FOUND"]);
    }

    /// A copy of the modpen4 tree with `edit` applied to its files (relative path, old, new).
    fn modpen4_with(edits: &[(&str, &str, &str)], remove: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let src = fixture("modpen4");
        let mut stack = vec![src.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                let rel = p.strip_prefix(&src).unwrap();
                if p.is_dir() {
                    std::fs::create_dir_all(dir.path().join(rel)).unwrap();
                    stack.push(p);
                } else if !remove.iter().any(|r| Path::new(r) == rel) {
                    let mut text = std::fs::read(&p).unwrap();
                    for (file, old, new) in edits {
                        if Path::new(file) == rel {
                            let t = String::from_utf8(text).unwrap();
                            assert!(t.contains(old), "{old} not in {file}");
                            text = t.replace(old, new).into_bytes();
                        }
                    }
                    std::fs::write(dir.path().join(rel), text).unwrap();
                }
            }
        }
        dir
    }

    const PEN_FILE: &str = "config/mod-pen/ConfiguracaoModPEN.php";
    const REST: &str = "https://homolog.api.processoeletronico.gov.br/interoperabilidade/rest/v3/";

    #[test]
    fn a_4x_module_judged_as_it_reads_its_configuration() {
        let judged = |edits: &[(&str, &str, &str)], remove: &[&str]| {
            let d = modpen4_with(edits, remove);
            let s = discover(d.path());
            s.findings().iter().map(|f| (f.code.as_str(), f.params.clone())).collect::<Vec<_>>()
        };
        // The manual's SOAP address on a 4.x module.
        let soap = "https://homolog.api.processoeletronico.gov.br/interoperabilidade/soap/v3/";
        let f = judged(
            &[(PEN_FILE, &format!("\"WebService\" => \"{REST}\""), &format!("\"WebService\" => \"{soap}\""))],
            &[],
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(
            (f[0].0, f[0].1["found"].as_str(), f[0].1["expected"].as_str()),
            ("PEN_WEBSERVICE_API_MISMATCH", "soap/v3", "rest/v3")
        );
        // No trailing slash: what the module then requests.
        let no_slash = REST.trim_end_matches('/');
        let f = judged(
            &[(PEN_FILE, &format!("\"WebService\" => \"{REST}\""), &format!("\"WebService\" => \"{no_slash}\""))],
            &[],
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].0, "PEN_WEBSERVICE_NO_TRAILING_SLASH");
        assert!(f[0].1["healthcheck"].ends_with("/rest/v3healthcheck"));
        assert!(f[0].1["pendentes"].ends_with("/rest/tramites/pendentes?todas=0"));
        // WebServicePendencias left empty, as the agency's own development configuration does.
        let pend = "\"WebServicePendencias\" => \"https://homolog.pendencias.processoeletronico.gov.br/\"";
        let d = modpen4_with(&[(PEN_FILE, pend, "\"WebServicePendencias\" => \"\"")], &[]);
        let s = discover(d.path());
        assert_eq!(codes(&s), ["PEN_PENDENCIAS_NOT_CONFIGURED"]);
        assert_eq!(s.pendencias_used(), Some(false));
        // An empty password stops the module, even for an unencrypted key.
        let f = judged(&[(PEN_FILE, "'S3nh4-Cert-Fixture!'", "''")], &[]);
        assert_eq!(f.iter().map(|f| f.0).collect::<Vec<_>>(), ["PEN_CERT_PASSWORD_EMPTY"]);
        // A number that is not one; the module falls back to 3.
        let f = judged(&[(PEN_FILE, "\"NumeroTentativasErro\" => 3", "\"NumeroTentativasErro\" => 'tres'")], &[]);
        assert_eq!((f[0].0, f[0].1["default"].as_str()), ("PEN_CONFIG_NOT_NUMERIC", "3"));
        assert!(
            judged(&[(PEN_FILE, "\"NumeroTentativasErro\" => 3", "\"NumeroTentativasErro\" => ' 5'")], &[]).is_empty()
        );
        // No Gearman: in-process, not a failure.
        let gearman = "\"Servidor\" => \"127.0.0.1\"";
        let d = modpen4_with(&[(PEN_FILE, gearman, "\"Servidor\" => \"\"")], &[]);
        let s = discover(d.path());
        assert_eq!((codes(&s), s.gearman_plan()), (Vec::<&str>::new(), GearmanPlan::InProcess));
        // SEI 5.1.0 is not among 4.0.x's versions.
        let f = judged(&[("web/SEI.php", "'5.0.3'", "'5.1.0'")], &[]);
        assert_eq!((f[0].0, f[0].1["supported"].as_str()), ("SEI_VERSION_INCOMPATIBLE", "5.0.0–5.0.4"));
        // A file the module's verifier requires is missing.
        let f =
            judged(&[], &["scripts/mod-pen/MonitoramentoEnvioTarefasPEN.php", "bin/mod-pen/verificar-reboot-fila.sh"]);
        assert_eq!(f[0].0, "PEN_MODULE_FILES_MISSING");
        assert!(
            f[0].1["files"].contains("MonitoramentoEnvioTarefasPEN.php")
                && f[0].1["files"].contains("verificar-reboot-fila.sh")
        );
    }

    #[test]
    fn an_unknown_version_is_judged_only_by_what_holds_for_every_era() {
        // No PENIntegracao.php: no era. SOAP with Producao false says nothing; REST without its
        // slash and an empty password are wrong for every module that reads the file.
        let d = modpen4_with(
            &[
                (
                    PEN_FILE,
                    &format!("\"WebService\" => \"{REST}\""),
                    &format!("\"WebService\" => \"{}\"", REST.trim_end_matches('/')),
                ),
                (PEN_FILE, "'S3nh4-Cert-Fixture!'", "''"),
                ("config/ConfiguracaoSEI.php", "'Producao' => true", "'Producao' => false"),
            ],
            &["web/modulos/pen/PENIntegracao.php"],
        );
        let s = discover(d.path());
        assert_eq!(s.pen_era().map(|e| e.id.clone()), None);
        assert_eq!(codes(&s), ["PEN_CERT_PASSWORD_EMPTY", "PEN_WEBSERVICE_NO_TRAILING_SLASH"]);
    }

    #[test]
    fn the_three_forms_of_the_module_version() {
        let forms = [
            ("<?php\ndefine(\"VERSAO_MODULO_PEN\", \"3.8.0\");\nclass PENIntegracao extends SeiIntegracao { public function getVersao() { return VERSAO_MODULO_PEN; } }", "3.8.0", "define VERSAO_MODULO_PEN"),
            ("<?php\nclass PENIntegracao extends SeiIntegracao {\n  const VERSAO_MODULO = \"3.0.1\";\n  public function getVersao() { return self::VERSAO_MODULO; }\n}", "3.0.1", "const VERSAO_MODULO"),
            ("<?\nclass PENIntegracao extends SeiIntegracao {\n  public function getNome() { return 'PEN'; }\n  public function getVersao() {\n    return '1.5.4';\n  }\n}", "1.5.4", "getVersao()"),
        ];
        for (text, version, form) in forms {
            let mut problems = Vec::new();
            let d = tree(&[("PENIntegracao.php", text)]);
            assert_eq!(
                pen_version(&d.path().join("PENIntegracao.php"), &mut problems),
                Some((version.to_string(), form))
            );
        }
        let mut problems = Vec::new();
        for (text, v) in
            [("<?\ndefine('SEI_VERSAO','4.0.12');\n", "4.0.12"), ("<?php\nconst SEI_VERSAO = '4.1.0';\n", "4.1.0")]
        {
            let d = tree(&[("web/SEI.php", text)]);
            assert_eq!(sei_version(d.path(), &mut problems).as_deref(), Some(v));
        }
        assert!(problems.is_empty());
    }

    #[test]
    fn php_ini_turning_short_open_tag_off_or_pcntl_off() {
        let ini = tempfile::tempdir().unwrap();
        let off = ini.path().join("php.ini");
        std::fs::write(
            &off,
            "[PHP]\nshort_open_tag = Off\ndisable_functions = pcntl_alarm,pcntl_fork,pcntl_signal,exec\n",
        )
        .unwrap();
        let options = Options { php_ini: Some(off.clone()), skip_php: false };
        let s = discover_in(&fixture("modpen4"), &OwnEnvironment, &options);
        let findings = s.findings();
        let f: Vec<&Finding> = findings.iter().filter(|f| f.code == "PHP_SHORT_OPEN_TAG_OFF").collect();
        assert_eq!(f.len(), 1, "{findings:?}");
        assert!(param(f[0], "ini").starts_with(&off.display().to_string()));
        assert!(
            param(f[0], "files").contains("ConfiguracaoSEI.php")
                && param(f[0], "files").contains("ConfiguracaoModPEN.php")
        );
        assert!(!findings.iter().any(|f| f.code == "PHP_FUNCTIONS_DISABLED"), "4.x needs no pcntl");
        // A 2.0.x module needs pcntl in its workers' PHP.
        let d = tree(&[
            ("config/ConfiguracaoSEI.php", &sei_config("'PENIntegracao' => 'pen'", "true")),
            ("config/mod-pen/ConfiguracaoModPEN.php", "<?php return ['PEN' => ['WebService' => 'https://h.example/interoperabilidade/soap/v2/', 'LocalizacaoCertificado' => '/c.pem', 'SenhaCertificado' => 'x']];"),
            ("web/modulos/pen/PENIntegracao.php", "<?php class PENIntegracao { const VERSAO_MODULO = '2.0.1'; }"),
        ]);
        let s = discover_in(d.path(), &OwnEnvironment, &options);
        let findings = s.findings();
        let f = findings.iter().find(|f| f.code == "PHP_FUNCTIONS_DISABLED").expect("pcntl for 2.0.x");
        assert_eq!(param(f, "functions"), "pcntl_alarm, pcntl_fork, pcntl_signal");
        // `<?php` files are read whatever short_open_tag says.
        assert!(!findings.iter().any(|f| f.code == "PHP_SHORT_OPEN_TAG_OFF"), "{findings:?}");
    }
}
