//! Turns flags, the `--config` TOML file, the environment and the SEI installation into one
//! `Settings` for the run. Flag wins over file; errors here are usage errors (exit code 2).

use crate::cli::{CheckArgs, ColorArg, EnvArg, FormatArg, LangArg};
use crate::hostfs::{self, Kind};
use crate::model::check_id::CONFIG_SEI;
use crate::model::Format;
use crate::model::HostInfo;

use crate::model::Lang;
use crate::model::OsFamily;
use crate::secret::Secret;
use crate::sei::{self, SeiInstall};
use crate::targets::{self, Environment, Target, TargetName, UrlSource, TARGET_NAMES};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use url::Url;

/// A usage error: bad flag value or unreadable `--config` file. Exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn usage(msg: impl Into<String>) -> UsageError {
    UsageError(msg.into())
}

/// `--resolve HOST:PORT:ADDR`, as curl.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolveOverride {
    pub host: String,
    pub port: u16,
    pub addr: IpAddr,
}

/// The proxy settings of the run: `--proxy`, else `HTTPS_PROXY`/`https_proxy`; `NO_PROXY`.
#[derive(Clone, Debug, Default)]
pub struct ProxySettings {
    pub url: Option<Url>,
    /// Where the proxy came from: `--proxy`, `HTTPS_PROXY` or `https_proxy`.
    pub source: Option<String>,
    /// The `NO_PROXY` entries and the variable they came from.
    pub no_proxy: Vec<String>,
    pub no_proxy_source: Option<String>,
}

/// Everything a run needs, resolved.
#[derive(Debug)]
pub struct Settings {
    /// The environment of the run: `--env`, else the one of the SEI `WebService`, else produção.
    pub env: Environment,
    /// The environment given with `--env` (or the config file), if any.
    pub env_requested: Option<Environment>,
    pub lang: Lang,
    pub format: Format,
    pub color: bool,
    pub output: Option<PathBuf>,
    /// `--bundle FILE.tar.gz`: the ticket bundle to write besides the report.
    pub bundle: Option<PathBuf>,
    pub strict: bool,
    /// Most bytes of Nagios output (`--nagios-max-output`; 0: no limit).
    pub nagios_max_output: usize,
    pub timeout: Duration,
    pub deadline: Duration,
    /// When the run began (before discovery): `deadline` counts from here.
    pub started: Instant,
    pub targets: Vec<Target>,
    pub only: Option<Vec<String>>,
    pub skip: Vec<String>,
    /// SEI's configuration left unread because the user skipped `config:sei`.
    pub sei_skipped: bool,
    /// `--ignore`: finding codes accepted by the operator (reported as info).
    pub ignore: Vec<String>,
    pub resolve: Vec<ResolveOverride>,
    pub dns_server: Option<SocketAddr>,
    pub proxy: ProxySettings,
    pub ca_bundle: Option<PathBuf>,
    pub php_ini: Option<PathBuf>,
    /// The client certificate: `--cert`, else `LocalizacaoCertificado` of the SEI configuration.
    pub cert: Option<PathBuf>,
    pub cert_password: Option<Secret>,
    pub pucomex_cert: Option<PathBuf>,
    pub pucomex_password: Option<Secret>,
    pub gearman: Option<String>,
    pub supervisor: Option<String>,
    pub ntp_servers: Vec<String>,
    pub ntp_warn: Duration,
    pub ntp_crit: Duration,
    /// How far back `sei:log` reads SEI's log (`--since`, default 24 h).
    pub log_since: Duration,
    pub db: Option<String>,
    pub db_password: Option<Secret>,
    pub pi_user: Option<String>,
    pub pi_password: Option<Secret>,
    /// `--webhook [NAME=]URL`, as (name, url).
    pub webhooks: Vec<(String, String)>,
    pub sei_dir: PathBuf,
    /// True when `--sei-dir` was given (then a missing installation is a finding).
    pub sei_dir_explicit: bool,
    /// The SEI installation, when `sei_dir` holds one (or was given explicitly).
    pub sei: Option<SeiInstall>,
    pub host: HostInfo,
    pub os_family: OsFamily,
}

fn duration_flag(name: &str, value: Option<&String>, default: Duration) -> Result<Duration, UsageError> {
    match value {
        None => Ok(default),
        Some(v) => crate::duration::parse(v)
            .filter(|d| !d.is_zero())
            .ok_or_else(|| usage(format!("--{name}: invalid duration '{v}' (use e.g. 500ms, 5s, 1m)"))),
    }
}

/// Parses `HOST:PORT:ADDR` (`ADDR` may be `[v6]` or bare v6).
pub fn parse_resolve(text: &str) -> Result<ResolveOverride, UsageError> {
    let err = || usage(format!("--resolve: invalid value '{text}' (expected HOST:PORT:ADDR)"));
    let (host, rest) = text.split_once(':').ok_or_else(err)?;
    let (port, addr) = rest.split_once(':').ok_or_else(err)?;
    let port: u16 = port.parse().map_err(|_| err())?;
    let addr: IpAddr = addr.trim_start_matches('[').trim_end_matches(']').parse().map_err(|_| err())?;
    if host.is_empty() {
        return Err(err());
    }
    Ok(ResolveOverride { host: host.to_ascii_lowercase(), port, addr })
}

/// Parses `IP[:PORT]` (default port 53; IPv6 as `[v6]:port` or bare).
pub fn parse_dns_server(text: &str) -> Result<SocketAddr, UsageError> {
    crate::flagvalue::dns_server_addr(text)
        .ok_or_else(|| usage(format!("--dns-server: invalid value '{text}' (expected IP[:PORT])")))
}

fn parse_endpoint(text: &str) -> Result<(TargetName, Url), UsageError> {
    let (name, url) =
        text.split_once('=').ok_or_else(|| usage(format!("--endpoint: invalid value '{text}' (expected NAME=URL)")))?;
    let target = check_target_name(name, "--endpoint")?;
    let url = Url::parse(url).map_err(|e| usage(format!("--endpoint: invalid URL '{url}' for {name}: {e}")))?;
    if url.host().is_none() {
        return Err(usage(format!("--endpoint: URL '{url}' for {name} has no host")));
    }
    Ok((target, url))
}

fn check_target_name(name: &str, flag: &str) -> Result<TargetName, UsageError> {
    TargetName::parse(name)
        .ok_or_else(|| usage(format!("{flag}: unknown target '{name}' (known: {})", TARGET_NAMES.join(", "))))
}

/// Reads the `--config` TOML file into `CheckArgs`, naming the file and line on error.
pub fn load_config_file(path: &Path) -> Result<CheckArgs, UsageError> {
    let text = hostfs::read_text(path, Kind::RunConfig).map_err(|e| usage(format!("--config {e}")))?;
    parse_config_text(&text).map_err(|(line, msg)| match line {
        Some(l) => usage(format!("--config {}:{l}: {msg}", path.display())),
        None => usage(format!("--config {}: {msg}", path.display())),
    })
}

/// Parses the text of a `--config` file: the options, or the line (when known) and message.
/// Values are validated as the flags are (see `crate::flagvalue`), so a bad value is blamed on
/// its key and line. The message is one line, escaped and bounded.
pub fn parse_config_text(text: &str) -> Result<CheckArgs, (Option<usize>, String)> {
    toml::from_str::<CheckArgs>(text).map_err(|e| {
        let line_of = |offset: usize| text.get(..offset).unwrap_or(text).matches('\n').count() + 1;
        let message = crate::flagvalue::safe(&e.message().replace(['\n', '\r'], " "), 300);
        // An element of a list names its own line.
        if let Some((offset, msg)) = crate::flagvalue::element_offset(e.message()) {
            return (Some(line_of(offset)), crate::flagvalue::safe(msg, 300));
        }
        match e.span() {
            Some(span) => (Some(line_of(span.start)), message),
            // The TOML reader gives no position for a key nested too deeply (`a.a.a…`): every
            // option is a plain key, so the first dotted key or table header is the culprit.
            None => (
                first_nested_key_line(text),
                format!("{message}: a key nested too deeply (options are plain keys, not dotted keys or tables)"),
            ),
        }
    })
}

/// The line of the key nested too deeply: the TOML reader refuses keys of 80 parts or more, and
/// a key never spans lines, so the first line with that many dots (else the first dotted key
/// or `[table]` header).
fn first_nested_key_line(text: &str) -> Option<usize> {
    let dotted = |line: &str| {
        let line = line.trim_start();
        let key = line.split('=').next().unwrap_or("");
        line.starts_with('[') || (line.contains('=') && key.contains('.') && !line.starts_with('#'))
    };
    text.lines()
        .position(|line| line.matches('.').count() >= 79)
        .or_else(|| text.lines().position(dotted))
        .map(|i| i + 1)
}

/// Flag wins: fills every unset flag from the file.
fn merge(mut flags: CheckArgs, file: CheckArgs) -> CheckArgs {
    macro_rules! fill {
        ($($f:ident),*) => { $( if flags.$f.is_none() { flags.$f = file.$f; } )* };
    }
    fill!(
        env,
        sei_dir,
        only,
        skip,
        ignore,
        target,
        endpoint,
        resolve,
        dns_server,
        ca_bundle,
        php_ini,
        cert,
        cert_password_env,
        cert_password_file,
        pucomex_cert,
        pucomex_password_env,
        proxy,
        gearman,
        supervisor,
        ntp_server,
        ntp_warn,
        ntp_crit,
        db,
        pi_user,
        pi_password_env,
        webhook,
        timeout,
        deadline,
        since,
        format,
        output,
        bundle,
        color,
        lang
    );
    flags.strict |= file.strict;
    flags.nagios_max_output = flags.nagios_max_output.or(file.nagios_max_output);
    flags
}

/// A password from an environment variable (a usage error when it is not set).
pub fn password_from_env(flag: &str, var: &str) -> Result<Secret, UsageError> {
    std::env::var(var).map(Secret::new).map_err(|_| usage(format!("{flag}: environment variable {var} is not set")))
}

/// A password from the first line of a file (a regular text file of at most 64 KiB).
pub fn password_from_file(flag: &str, path: &Path) -> Result<Secret, UsageError> {
    let text = hostfs::read_text(path, Kind::Password).map_err(|e| usage(format!("{flag} {e}")))?;
    Ok(Secret::new(text.lines().next().unwrap_or("").trim_end_matches('\r')))
}

fn proxy_from_env(explicit: Option<&str>) -> Result<ProxySettings, UsageError> {
    let mut p = ProxySettings::default();
    let (value, source) = match explicit {
        Some(v) => (Some(v.to_string()), Some("--proxy".to_string())),
        None => ["HTTPS_PROXY", "https_proxy"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()).map(|v| (Some(v), Some(k.to_string()))))
            .unwrap_or((None, None)),
    };
    if let Some(v) = value {
        let with_scheme = if v.contains("://") { v.clone() } else { format!("http://{v}") };
        let url = Url::parse(&with_scheme)
            .ok()
            .filter(|u| u.host().is_some())
            .ok_or_else(|| usage(format!("{}: invalid proxy URL", source.clone().unwrap_or_default())))?;
        p.url = Some(url);
        p.source = source;
    }
    if let Some((k, v)) = ["NO_PROXY", "no_proxy"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()).map(|v| (k.to_string(), v)))
    {
        p.no_proxy = v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        p.no_proxy_source = Some(k);
    }
    Ok(p)
}

/// `--color`: always, never, or auto (a TTY and no `NO_COLOR`).
pub fn resolve_color(arg: Option<ColorArg>, to_tty: bool) -> bool {
    match arg.unwrap_or(ColorArg::Auto) {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => to_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

/// Builds the run's settings. `stdout_is_tty` decides `--color auto`.
pub fn build(flags: CheckArgs, stdout_is_tty: bool) -> Result<Settings, UsageError> {
    let started = Instant::now();
    flags.check_counts().map_err(usage)?;
    let mut args = match flags.config.clone() {
        Some(path) => merge(flags, load_config_file(&path)?),
        None => flags,
    };
    // `--output -` is stdout.
    if args.output.as_deref().is_some_and(|p| p.as_os_str() == "-") {
        args.output = None;
    }
    // The bundle goes to a file of its own: not stdout (the report is there), not the report's file.
    if let Some(b) = &args.bundle {
        if b.as_os_str() == "-" {
            return Err(usage("--bundle: give a file name (FILE.tar.gz); stdout carries the report"));
        }
        if args.output.as_deref() == Some(b.as_path()) {
            return Err(usage("--bundle and --output name the same file"));
        }
    }
    let timeout = duration_flag("timeout", args.timeout.as_ref(), Duration::from_secs(5))?;
    let deadline = duration_flag("deadline", args.deadline.as_ref(), Duration::from_secs(60))?;
    let ntp_warn = duration_flag("ntp-warn", args.ntp_warn.as_ref(), Duration::from_secs(1))?;
    let ntp_crit = duration_flag("ntp-crit", args.ntp_crit.as_ref(), Duration::from_secs(10))?;
    let log_since = match args.since.as_deref() {
        None => Duration::from_secs(86_400),
        Some(v) => crate::duration::parse_window(v).filter(|d| !d.is_zero()).ok_or_else(|| {
            usage(format!(
                "--since: invalid duration {} (use e.g. 30m, 6h, 2d; at most 90d)",
                crate::flagvalue::quote(v)
            ))
        })?,
    };

    let resolve = args.resolve.iter().flatten().map(|r| parse_resolve(r)).collect::<Result<Vec<_>, _>>()?;
    let dns_server = args.dns_server.as_deref().map(parse_dns_server).transpose()?;
    let endpoints = args.endpoint.iter().flatten().map(|e| parse_endpoint(e)).collect::<Result<Vec<_>, _>>()?;
    let target_flag = args
        .target
        .as_ref()
        .map(|t| t.iter().map(|t| check_target_name(t, "--target")).collect::<Result<Vec<_>, _>>())
        .transpose()?;
    let mut webhooks = Vec::new();
    for (i, w) in args.webhook.iter().flatten().enumerate() {
        let (name, url) = match crate::flagvalue::split_webhook(w) {
            (Some(n), u) => (n.to_string(), u.to_string()),
            (None, _) => (if i == 0 { "default".to_string() } else { format!("webhook{}", i + 1) }, w.clone()),
        };
        Url::parse(&url).map_err(|e| usage(format!("--webhook: invalid URL '{url}': {e}")))?;
        webhooks.push((name, url));
    }

    let sei_dir_explicit = args.sei_dir.is_some();
    let sei_dir = args.sei_dir.clone().unwrap_or_else(|| PathBuf::from("/opt/sei"));
    // Discovery may take half the deadline: a hung filesystem must leave time for the rest.
    let options = sei::Options { php_ini: args.php_ini.clone(), ..Default::default() };
    // `--skip config` (or `config:sei`): SEI's configuration is not read at all; the run uses the
    // flags and the built-in addresses, and the report says so.
    let sei_skipped =
        args.skip.iter().flatten().map(|e| e.trim()).any(|e| e == CONFIG_SEI.kind().as_str() || CONFIG_SEI.is(e));
    let mut sei = match sei_skipped {
        true => None,
        false => sei::discover_within(&sei_dir, sei_dir_explicit, deadline / 2, &options),
    };
    // What only SEI's database says (1.x keeps its whole configuration there): within what is
    // left of discovery's half of the deadline, each step within --timeout.
    if let Some(install) = sei.as_mut().filter(|s| crate::discovery_db::needed(s)) {
        let password = std::env::var("PEN_DOCTOR_DB_PASSWORD").ok().map(Secret::new);
        match crate::db::target_from(args.db.as_deref(), password, install.database.as_ref(), &sei_dir) {
            Ok(target) => {
                let budget = (deadline / 2).saturating_sub(started.elapsed()).min(timeout * 4);
                crate::discovery_db::complete(install, target, timeout, budget);
            }
            // 1.x has no other configuration: say why it could not be read.
            Err(f) if install.pen_era().is_some_and(|e| e.config_source == crate::eras::ConfigSource::Database) => {
                install.problems.push(f)
            }
            Err(_) => {}
        }
    }
    let pen = sei.as_ref().and_then(|s| s.pen.clone());
    let pi = sei.as_ref().and_then(|s| s.pi.clone());

    let env_requested = args.env.map(|e| match e {
        EnvArg::Desenvolvimento => Environment::Desenvolvimento,
        EnvArg::Homologacao => Environment::Homologacao,
        EnvArg::Producao => Environment::Producao,
    });
    let env = env_requested.unwrap_or_else(|| {
        pen.as_ref()
            .and_then(|p| p.web_service.as_deref())
            .and_then(targets::environment_of)
            .unwrap_or(Environment::Producao)
    });

    // Which targets: --target, else what the SEI configuration enables, else tramita+pendencias;
    // a target named by --endpoint is included too.
    let mut names: Vec<TargetName> = match target_flag {
        Some(t) => t,
        None => {
            let mut n = Vec::new();
            match &sei {
                Some(s) if s.usable && (s.pen_enabled() || s.pi_enabled()) => {
                    if s.pen_enabled() {
                        n.push(TargetName::Tramita);
                        // A module told not to use the long-poll never calls it: the built-in
                        // address is not probed then.
                        if s.pendencias_used() != Some(false) {
                            n.push(TargetName::Pendencias);
                        }
                    }
                    if s.pi_enabled() {
                        n.push(TargetName::ProtocoloIntegrado);
                    }
                }
                _ => n.extend([TargetName::Tramita, TargetName::Pendencias]),
            }
            if args.pucomex_cert.is_some() {
                n.push(TargetName::Pucomex);
            }
            for (name, _) in &endpoints {
                if !n.contains(name) {
                    n.push(*name);
                }
            }
            n
        }
    };
    names.sort();
    names.dedup();

    let mut target_list = Vec::new();
    for &name in &names {
        let spec = &targets::table()[name.as_str()];
        let from_sei = match name {
            TargetName::Tramita => pen.as_ref().and_then(|p| p.web_service.clone()),
            TargetName::Pendencias => pen.as_ref().and_then(|p| p.web_service_pendencias.clone()),
            TargetName::ProtocoloIntegrado => pi.as_ref().and_then(|p| p.web_service.clone()),
            TargetName::Pucomex => None,
        }
        .and_then(|u| Url::parse(&u).ok().filter(|u| u.host().is_some()));
        let (url, source) = if let Some((_, u)) = endpoints.iter().rev().find(|(n, _)| *n == name) {
            (u.clone(), UrlSource::Endpoint)
        } else if let Some(u) = from_sei {
            (u, UrlSource::SeiConfig)
        } else {
            let mut text = spec.url(env).to_string();
            // The table names the SOAP address; a module of the REST era talks to the REST one.
            let rest = sei.as_ref().and_then(|s| s.pen_era()).is_some_and(|e| e.api == crate::eras::Api::Rest);
            if name == TargetName::Tramita && rest {
                text = targets::rest_variant(&text);
            }
            let u = Url::parse(&text).map_err(|e| usage(format!("checks/targets.toml: {name}: {e}")))?;
            (u, UrlSource::Table)
        };
        target_list.push(Target { name, url, source, mutual_tls: spec.mutual_tls });
    }

    let cert_password = match (&args.cert_password_env, &args.cert_password_file) {
        (Some(var), _) => Some(password_from_env("--cert-password-env", var)?),
        (None, Some(path)) => Some(password_from_file("--cert-password-file", path)?),
        (None, None) => pen.as_ref().and_then(|p| p.cert_password.clone()),
    };
    let pucomex_password =
        args.pucomex_password_env.as_deref().map(|v| password_from_env("--pucomex-password-env", v)).transpose()?;
    let pi_password = match &args.pi_password_env {
        Some(var) => Some(password_from_env("--pi-password-env", var)?),
        None => pi.as_ref().and_then(|p| p.password.clone()),
    };
    let db_password = std::env::var("PEN_DOCTOR_DB_PASSWORD")
        .ok()
        .map(Secret::new)
        .or_else(|| sei.as_ref().and_then(|s| s.database.as_ref()).map(|d| d.password.clone()));
    let gearman = args.gearman.clone().or_else(|| match sei.as_ref().map(|s| s.gearman_plan()) {
        Some(sei::GearmanPlan::Address(a)) => Some(a),
        _ => None,
    });
    let cert = args.cert.clone().or_else(|| pen.as_ref().and_then(|p| p.cert_path.clone()));

    let (host, os_family) = crate::host::host_info();
    let settings = Settings {
        env,
        env_requested,
        lang: match args.lang {
            Some(LangArg::En) => Lang::En,
            _ => Lang::Pt,
        },
        format: args.format.unwrap_or(FormatArg::Human).into(),
        color: resolve_color(args.color, stdout_is_tty && args.output.is_none()),
        output: args.output.clone(),
        bundle: args.bundle.clone(),
        strict: args.strict,
        nagios_max_output: args.nagios_max_output.map_or(crate::plugin::NRPE_MAX_OUTPUT, |n| n as usize),
        timeout,
        deadline,
        started,
        targets: target_list,
        only: args.only.clone(),
        skip: args.skip.clone().unwrap_or_default(),
        sei_skipped,
        ignore: args.ignore.clone().unwrap_or_default(),
        resolve,
        dns_server,
        proxy: proxy_from_env(args.proxy.as_deref())?,
        ca_bundle: args.ca_bundle.clone(),
        php_ini: args.php_ini.clone(),
        cert,
        cert_password,
        pucomex_cert: args.pucomex_cert.clone(),
        pucomex_password,
        gearman,
        supervisor: args.supervisor.clone(),
        ntp_servers: args
            .ntp_server
            .clone()
            .unwrap_or_else(|| vec!["a.ntp.br".into(), "b.ntp.br".into(), "c.ntp.br".into()]),
        ntp_warn,
        ntp_crit,
        log_since,
        db: args.db.clone(),
        db_password,
        pi_user: args.pi_user.clone().or_else(|| pi.as_ref().and_then(|p| p.user.clone())),
        pi_password,
        webhooks,
        sei_dir,
        sei_dir_explicit,
        sei,
        host,
        os_family,
    };
    register_secrets(&settings);
    Ok(settings)
}

/// What the transport needs of the settings: how names resolve, which proxy applies.
impl Settings {
    /// `--resolve` pins and `--dns-server`, each DNS exchange within `--timeout`.
    /// The database of this run: `--db` wins over `BancoSEI`. `Err` is the finding to report
    /// (`DB_NOT_CONFIGURED`, `DB_UNSUPPORTED`).
    /// The database to read: `--db`, else the database block of `sei` (the installation a
    /// check was handed by `config:sei`, or the one read at start).
    pub fn db_target_of(
        &self,
        sei: Option<&crate::sei::SeiInstall>,
    ) -> Result<crate::db::DbTarget, crate::model::Finding> {
        let sei_db = sei.and_then(|s| s.database.as_ref());
        crate::db::target_from(self.db.as_deref(), self.db_password.clone(), sei_db, &self.sei_dir)
    }

    pub fn resolve_config(&self) -> crate::net::resolve::ResolveConfig {
        crate::net::resolve::ResolveConfig {
            dns_server: self.dns_server,
            pins: self
                .resolve
                .iter()
                .map(|r| crate::net::resolve::Pin { host: r.host.clone(), port: r.port, addr: r.addr })
                .collect(),
            timeout: self.timeout,
        }
    }
}

impl ProxySettings {
    /// These proxy variables as a policy that routes a host.
    pub fn policy(&self) -> crate::net::proxy::ProxyPolicy<'_> {
        crate::net::proxy::ProxyPolicy {
            url: self.url.as_ref(),
            source: self.source.as_deref(),
            no_proxy: &self.no_proxy,
            no_proxy_source: self.no_proxy_source.as_deref(),
        }
    }
}

/// Registers every credential of the run's settings that is not a `Secret` already: the
/// passwords inside URLs and the `user:password` pairs sent as HTTP Basic.
fn register_secrets(s: &Settings) {
    use crate::redact::{register_credentials, register_url};
    for t in &s.targets {
        register_url(t.url.as_str());
    }
    for (_, url) in &s.webhooks {
        register_url(url);
    }
    if let Some(u) = &s.proxy.url {
        register_url(u.as_str());
    }
    for url in [&s.db, &s.supervisor].into_iter().flatten() {
        register_url(url);
    }
    if let (Some(user), Some(pw)) = (&s.pi_user, &s.pi_password) {
        register_credentials(user, pw.expose());
    }
    if let Some(db) = s.sei.as_ref().and_then(|i| i.database.as_ref()) {
        register_credentials(&db.user, db.password.expose());
    }
    let sei_urls = s.sei.iter().flat_map(|i| {
        let pen = i.pen.iter().flat_map(|p| [&p.web_service, &p.web_service_pendencias]);
        pen.chain(i.pi.iter().map(|p| &p.web_service)).flatten()
    });
    for url in sei_urls {
        register_url(url);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_like_curl() {
        let r = parse_resolve("api.example:443:127.0.0.1").unwrap();
        assert_eq!((r.host.as_str(), r.port, r.addr.to_string().as_str()), ("api.example", 443, "127.0.0.1"));
        let r = parse_resolve("h:443:[::1]").unwrap();
        assert_eq!(r.addr.to_string(), "::1");
        assert!(parse_resolve("h:443").is_err());
        assert!(parse_resolve("h:x:127.0.0.1").is_err());
        assert!(parse_resolve(":443:127.0.0.1").is_err());
    }

    #[test]
    fn config_file_errors_name_the_line() {
        let (line, msg) = parse_config_text("env = \"producao\"\ntimeout = \"2s\"\nbogus = 1\n").unwrap_err();
        assert_eq!(line, Some(3));
        assert!(msg.contains("bogus"), "{msg}");
        let (line, _) = parse_config_text("env = \"marte\"\n").unwrap_err();
        assert_eq!(line, Some(1));
        assert!(parse_config_text("\u{0}\u{1}garbage[[[").is_err());
        // A key nested too deeply has no position from the TOML reader: found by its dots.
        let deep = vec!["a"; 100].join(".");
        let (line, msg) = parse_config_text(&format!("env = \"producao\"\nx = {{ {deep} = 1 }}\n")).unwrap_err();
        assert_eq!(line, Some(2), "{msg}");
        let (line, _) = parse_config_text(&format!("# a.b\n\n{deep} = 1\n")).unwrap_err();
        assert_eq!(line, Some(3));
        let ok = parse_config_text("timeout = \"2s\"\ntarget = [\"tramita\"]\nstrict = true\n").unwrap();
        assert_eq!(ok.target.as_deref(), Some(&["tramita".to_string()][..]));
        assert!(ok.strict);
    }

    #[test]
    fn targets_certificate_and_gearman_come_from_the_sei_installation() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sei/modpen4");
        let args = CheckArgs { sei_dir: Some(dir.clone()), ..Default::default() };
        let s = build(args, false).unwrap();
        assert_eq!(s.env, Environment::Homologacao);
        assert_eq!(s.env_requested, None);
        let urls: Vec<(&str, String, UrlSource)> =
            s.targets.iter().map(|t| (t.name.as_str(), t.url.to_string(), t.source)).collect();
        assert_eq!(
            urls,
            [
                (
                    "tramita",
                    "https://homolog.api.processoeletronico.gov.br/interoperabilidade/rest/v3/".to_string(),
                    UrlSource::SeiConfig
                ),
                (
                    "pendencias",
                    "https://homolog.pendencias.processoeletronico.gov.br/".to_string(),
                    UrlSource::SeiConfig
                ),
                (
                    "protocolo-integrado",
                    "https://protocolointegrado.preprod.nuvem.gov.br/ProtocoloWS/integradorService?wsdl".to_string(),
                    UrlSource::SeiConfig
                ),
            ]
        );
        assert_eq!(s.cert.as_deref(), Some(Path::new("/opt/sei/config/mod-pen/certificado.pem")));
        assert_eq!(s.cert_password.as_ref().map(Secret::expose), Some("S3nh4-Cert-Fixture!"));
        assert_eq!(s.gearman.as_deref(), Some("127.0.0.1:4730"));
        assert_eq!(s.pi_user.as_deref(), Some("oex.integracao"));
        assert_eq!(s.pi_password.as_ref().map(Secret::expose), Some("S3nh4-PI-Fixture!"));
        assert!(!format!("{s:?}").contains("S3nh4"));

        // --env is kept apart from the inferred environment; --endpoint wins over the SEI file.
        let args = CheckArgs {
            sei_dir: Some(dir),
            env: Some(EnvArg::Producao),
            endpoint: Some(vec!["tramita=https://tramita.test/rest/".into()]),
            ..Default::default()
        };
        let s = build(args, false).unwrap();
        assert_eq!((s.env, s.env_requested), (Environment::Producao, Some(Environment::Producao)));
        assert_eq!(s.targets[0].url.as_str(), "https://tramita.test/rest/");
        assert_eq!(s.targets[0].source, UrlSource::Endpoint);
    }

    #[test]
    fn dns_server_forms() {
        assert_eq!(parse_dns_server("127.0.0.1").unwrap().to_string(), "127.0.0.1:53");
        assert_eq!(parse_dns_server("127.0.0.1:5353").unwrap().to_string(), "127.0.0.1:5353");
        assert_eq!(parse_dns_server("::1").unwrap().to_string(), "[::1]:53");
        assert!(parse_dns_server("resolver").is_err());
    }
}
