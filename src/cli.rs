//! The command line, defined in one place: subcommands and every `check` flag (SPEC §5).
//! Each `check` flag can also be set in the `--config` TOML file under the same name.

use crate::flagvalue;
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "pen-doctor",
    version,
    about = "Diagnostica por que o SEI não fala com o Processo Eletrônico Nacional (Tramita.GOV.BR), o Protocolo Integrado e o Pucomex",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Language of the help and of the subcommand's output when it has no --lang of its own
    #[arg(long, value_enum, hide = true)]
    pub lang: Option<LangArg>,
}

/// Operating system families whose fix steps `explain` and `kb show` print.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum OsArg {
    Debian,
    Rhel6,
    Rhel7,
    Rhel8,
}

impl OsArg {
    pub fn family(self) -> crate::model::OsFamily {
        use crate::model::OsFamily;
        match self {
            OsArg::Debian => OsFamily::Debian,
            OsArg::Rhel6 => OsFamily::Rhel6,
            OsArg::Rhel7 => OsFamily::Rhel7,
            OsArg::Rhel8 => OsFamily::Rhel8,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the checks and print the report (the main job)
    Check(Box<CheckArgs>),
    /// Print the long explanation of a finding code
    Explain {
        code: String,
        #[arg(long, value_enum)]
        lang: Option<LangArg>,
        /// The OS family to print the fix for (default: this host's)
        #[arg(long, value_enum)]
        os: Option<OsArg>,
    },
    /// Browse the knowledge base
    Kb {
        #[command(subcommand)]
        command: KbCommand,
        #[arg(long, value_enum, global = true)]
        lang: Option<LangArg>,
    },
    /// Inspect a certificate file on its own (PEM with key, or PKCS#12)
    Cert(CertArgs),
    /// One table of nodes × checks from several JSON reports, the fleet rules no single node
    /// can check (one certificate in two environments, SEI's scheduler on exactly one node, the
    /// queue on the scheduler's node) and the findings that differ between nodes (exit 1 when a
    /// node or a fleet rule fails)
    Merge {
        /// JSON reports (`pen-doctor check --format json --output FILE`), one per node
        #[arg(required = true, value_name = "REPORT.json")]
        reports: Vec<PathBuf>,
        #[arg(long, value_enum)]
        format: Option<FleetFormat>,
        #[arg(long, value_enum)]
        lang: Option<LangArg>,
        #[arg(long, value_enum)]
        color: Option<ColorArg>,
    },
    /// What changed between two runs (before/after a fix): status changes, findings added and
    /// removed (exit 1 when a check got worse)
    Diff {
        /// The earlier JSON report
        #[arg(value_name = "BEFORE.json")]
        before: PathBuf,
        /// The later JSON report
        #[arg(value_name = "AFTER.json")]
        after: PathBuf,
        #[arg(long, value_enum)]
        format: Option<FleetFormat>,
        #[arg(long, value_enum)]
        lang: Option<LangArg>,
        #[arg(long, value_enum)]
        color: Option<ColorArg>,
    },
    /// Render a saved JSON report again, in any format and language
    Render {
        /// A JSON report (`pen-doctor check --format json --output FILE`)
        #[arg(value_name = "REPORT.json")]
        report: PathBuf,
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
        #[arg(long, value_enum)]
        lang: Option<LangArg>,
        #[arg(long, value_enum)]
        color: Option<ColorArg>,
        /// Count warnings as failures in the exit code
        #[arg(long)]
        strict: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
        #[arg(long, value_enum)]
        lang: Option<LangArg>,
    },
    /// Print the manual page (roff) generated from these definitions: pen-doctor(1), or
    /// pen-doctor-SUBCOMMAND(1) for one subcommand (`pen-doctor man check`)
    Man {
        /// A subcommand (check, explain, kb, cert, merge, diff, render, completions)
        subcommand: Option<String>,
        #[arg(long, value_enum)]
        lang: Option<LangArg>,
    },
}

impl Command {
    /// The subcommand's `--lang`, set from the top-level one when it has none of its own.
    pub fn default_lang(&mut self, lang: LangArg) {
        let slot = match self {
            Command::Check(a) => &mut a.lang,
            Command::Explain { lang, .. }
            | Command::Kb { lang, .. }
            | Command::Merge { lang, .. }
            | Command::Diff { lang, .. }
            | Command::Render { lang, .. }
            | Command::Completions { lang, .. }
            | Command::Man { lang, .. } => lang,
            Command::Cert(a) => &mut a.lang,
        };
        slot.get_or_insert(lang);
    }
}

/// Output formats of `merge` and `diff`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum FleetFormat {
    Human,
    Markdown,
    /// For machines (`merge`: schema/fleet.schema.json)
    Json,
}

#[derive(Subcommand, Debug)]
pub enum KbCommand {
    /// List the articles (or, with --codes, every finding code)
    List {
        /// List the finding codes instead of the articles
        #[arg(long)]
        codes: bool,
    },
    /// Show one article, its causes, its codes with their fix, and its reply template
    Show {
        id: String,
        /// The OS family to print the fixes for (default: this host's)
        #[arg(long, value_enum)]
        os: Option<OsArg>,
    },
}

#[derive(Args, Debug)]
pub struct CertArgs {
    /// The certificate file (PEM holding certificate and key, or .p12/.pfx)
    pub file: PathBuf,
    /// Environment variable that holds the password
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// File whose first line is the password
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    #[arg(long, value_enum)]
    pub lang: Option<LangArg>,
    #[arg(long, value_enum)]
    pub color: Option<ColorArg>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvArg {
    Desenvolvimento,
    Homologacao,
    Producao,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FormatArg {
    Human,
    Json,
    Markdown,
    Junit,
    Nagios,
    Prometheus,
}

impl From<FormatArg> for crate::model::Format {
    fn from(f: FormatArg) -> Self {
        use crate::model::Format;
        match f {
            FormatArg::Human => Format::Human,
            FormatArg::Json => Format::Json,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Junit => Format::Junit,
            FormatArg::Nagios => Format::Nagios,
            FormatArg::Prometheus => Format::Prometheus,
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LangArg {
    Pt,
    En,
}

/// The flags of `check`. The same struct is read from the `--config` TOML file (kebab-case keys,
/// the flag names); a flag given on the command line wins over the file.
#[derive(Args, Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CheckArgs {
    /// TOML file with any of these options (flag wins)
    #[arg(long, value_name = "FILE", value_parser = flagvalue::Parser(flagvalue::path))]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Environment: desenvolvimento, homologacao or producao
    #[arg(long, value_enum)]
    pub env: Option<EnvArg>,
    /// SEI installation directory (default /opt/sei)
    #[arg(long, value_name = "DIR", value_parser = flagvalue::Parser(flagvalue::path))]
    #[serde(default, deserialize_with = "flagvalue::de::sei_dir")]
    pub sei_dir: Option<PathBuf>,
    /// Run only these checks (comma-separated: dns,tcp,tls:tramita,…); prerequisites are added
    #[arg(long, value_delimiter = ',', value_name = "LIST", value_parser = flagvalue::Parser(flagvalue::selector))]
    #[serde(default, deserialize_with = "flagvalue::de::only")]
    pub only: Option<Vec<String>>,
    /// Do not run these checks
    #[arg(long, value_delimiter = ',', value_name = "LIST", value_parser = flagvalue::Parser(flagvalue::selector))]
    #[serde(default, deserialize_with = "flagvalue::de::skip")]
    pub skip: Option<Vec<String>>,
    /// Accepted findings: these codes are reported as info, never as a warning or failure
    #[arg(long, value_delimiter = ',', value_name = "CODE", value_parser = flagvalue::Parser(flagvalue::finding_code))]
    #[serde(default, deserialize_with = "flagvalue::de::ignore")]
    pub ignore: Option<Vec<String>>,
    /// Targets to check (tramita,pendencias,protocolo-integrado,pucomex)
    #[arg(long, value_delimiter = ',', value_name = "LIST", value_parser = flagvalue::Parser(flagvalue::target))]
    #[serde(default, deserialize_with = "flagvalue::de::target")]
    pub target: Option<Vec<String>>,
    /// Override a target's URL (repeatable)
    #[arg(long, value_name = "NAME=URL", value_parser = flagvalue::Parser(flagvalue::endpoint))]
    #[serde(default, deserialize_with = "flagvalue::de::endpoint")]
    pub endpoint: Option<Vec<String>>,
    /// Use ADDR for HOST:PORT, as curl does (repeatable)
    #[arg(long, value_name = "HOST:PORT:ADDR", value_parser = flagvalue::Parser(flagvalue::resolve))]
    #[serde(default, deserialize_with = "flagvalue::de::resolve")]
    pub resolve: Option<Vec<String>>,
    /// Ask this DNS server instead of the host's resolver configuration
    #[arg(long, value_name = "IP[:PORT]", value_parser = flagvalue::Parser(flagvalue::dns_server))]
    #[serde(default, deserialize_with = "flagvalue::de::dns_server")]
    pub dns_server: Option<String>,
    /// CA bundle to verify servers with, instead of the one SEI's PHP uses
    #[arg(long, value_name = "FILE", value_parser = flagvalue::Parser(flagvalue::path))]
    #[serde(default, deserialize_with = "flagvalue::de::ca_bundle")]
    pub ca_bundle: Option<PathBuf>,
    /// php.ini that SEI runs with (for openssl.cafile / curl.cainfo)
    #[arg(long, value_name = "FILE", value_parser = flagvalue::Parser(flagvalue::path))]
    #[serde(default, deserialize_with = "flagvalue::de::php_ini")]
    pub php_ini: Option<PathBuf>,
    /// Client certificate for Tramita.GOV.BR (PEM with key, or PKCS#12)
    #[arg(long, value_name = "FILE", value_parser = flagvalue::Parser(flagvalue::path))]
    #[serde(default, deserialize_with = "flagvalue::de::cert")]
    pub cert: Option<PathBuf>,
    /// Environment variable holding the client certificate's password
    #[arg(long, value_name = "VAR", value_parser = flagvalue::Parser(flagvalue::env_var))]
    #[serde(default, deserialize_with = "flagvalue::de::cert_password_env")]
    pub cert_password_env: Option<String>,
    /// File holding the client certificate's password
    #[arg(long, value_name = "FILE", value_parser = flagvalue::Parser(flagvalue::path))]
    #[serde(default, deserialize_with = "flagvalue::de::cert_password_file")]
    pub cert_password_file: Option<PathBuf>,
    /// ICP-Brasil A1 certificate for Pucomex (PKCS#12)
    #[arg(long, value_name = "FILE", value_parser = flagvalue::Parser(flagvalue::path))]
    #[serde(default, deserialize_with = "flagvalue::de::pucomex_cert")]
    pub pucomex_cert: Option<PathBuf>,
    /// Environment variable holding the Pucomex certificate's password
    #[arg(long, value_name = "VAR", value_parser = flagvalue::Parser(flagvalue::env_var))]
    #[serde(default, deserialize_with = "flagvalue::de::pucomex_password_env")]
    pub pucomex_password_env: Option<String>,
    /// HTTPS proxy (otherwise HTTPS_PROXY / https_proxy, with NO_PROXY)
    #[arg(long, value_name = "URL", value_parser = flagvalue::Parser(flagvalue::proxy))]
    #[serde(default, deserialize_with = "flagvalue::de::proxy")]
    pub proxy: Option<String>,
    /// gearmand address (default from ConfiguracaoModPEN.php, else 127.0.0.1:4730)
    #[arg(long, value_name = "HOST:PORT", value_parser = flagvalue::Parser(flagvalue::gearman))]
    #[serde(default, deserialize_with = "flagvalue::de::gearman")]
    pub gearman: Option<String>,
    /// supervisord endpoint (default from its configuration)
    #[arg(long, value_name = "unix:///path.sock|http://host:port", value_parser = flagvalue::Parser(flagvalue::supervisor))]
    #[serde(default, deserialize_with = "flagvalue::de::supervisor")]
    pub supervisor: Option<String>,
    /// NTP server to measure the offset against (repeatable; default a/b/c.ntp.br)
    #[arg(long, value_name = "HOST[:PORT]", value_parser = flagvalue::Parser(flagvalue::ntp_server))]
    #[serde(default, deserialize_with = "flagvalue::de::ntp_server")]
    pub ntp_server: Option<Vec<String>>,
    /// Offset above which the clock is a warning (default 1s)
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, value_parser = flagvalue::Parser(flagvalue::duration))]
    #[serde(default, deserialize_with = "flagvalue::de::ntp_warn")]
    pub ntp_warn: Option<String>,
    /// Offset above which the clock is a failure (default 10s)
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, value_parser = flagvalue::Parser(flagvalue::duration))]
    #[serde(default, deserialize_with = "flagvalue::de::ntp_crit")]
    pub ntp_crit: Option<String>,
    /// SEI database (mysql://user@host:port/db); password from the SEI config or PEN_DOCTOR_DB_PASSWORD
    #[arg(long, value_name = "URL", value_parser = flagvalue::Parser(flagvalue::db))]
    #[serde(default, deserialize_with = "flagvalue::de::db")]
    pub db: Option<String>,
    /// Protocolo Integrado web-service user
    #[arg(long, value_name = "USER", value_parser = flagvalue::Parser(flagvalue::text))]
    #[serde(default, deserialize_with = "flagvalue::de::pi_user")]
    pub pi_user: Option<String>,
    /// Environment variable holding the Protocolo Integrado web-service password
    #[arg(long, value_name = "VAR", value_parser = flagvalue::Parser(flagvalue::env_var))]
    #[serde(default, deserialize_with = "flagvalue::de::pi_password_env")]
    pub pi_password_env: Option<String>,
    /// Pucomex webhook receiver to test (repeatable; NAME=URL or URL)
    #[arg(long, value_name = "[NAME=]URL", value_parser = flagvalue::Parser(flagvalue::webhook))]
    #[serde(default, deserialize_with = "flagvalue::de::webhook")]
    pub webhook: Option<Vec<String>>,
    /// Timeout of each network step (default 5s)
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, value_parser = flagvalue::Parser(flagvalue::duration))]
    #[serde(default, deserialize_with = "flagvalue::de::timeout")]
    pub timeout: Option<String>,
    /// Deadline of the whole run (default 60s)
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, value_parser = flagvalue::Parser(flagvalue::duration))]
    #[serde(default, deserialize_with = "flagvalue::de::deadline")]
    pub deadline: Option<String>,
    /// How far back to read SEI's log (sei:log; default 24h; e.g. 2h, 3d)
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, value_parser = flagvalue::Parser(flagvalue::since))]
    #[serde(default, deserialize_with = "flagvalue::de::since")]
    pub since: Option<String>,
    /// Output format
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Write the report to FILE (atomically; `-` is stdout) instead of stdout
    #[arg(long, value_name = "FILE", value_parser = flagvalue::Parser(flagvalue::path))]
    #[serde(default, deserialize_with = "flagvalue::de::output")]
    pub output: Option<PathBuf>,
    /// Also write a ticket bundle (tar.gz): both reports, configuration files, supervisor logs,
    /// php.ini and cron lines, gearman and trust-store status, secrets replaced by stable tokens
    #[arg(long, value_name = "FILE.tar.gz", value_parser = flagvalue::Parser(flagvalue::path))]
    #[serde(default, deserialize_with = "flagvalue::de::bundle")]
    pub bundle: Option<PathBuf>,
    /// Colors: auto (TTY and no NO_COLOR), always, never
    #[arg(long, value_enum)]
    pub color: Option<ColorArg>,
    /// Language of the report (default pt)
    #[arg(long, value_enum)]
    pub lang: Option<LangArg>,
    /// Count warnings as failures in the exit code
    #[arg(long)]
    #[serde(default)]
    pub strict: bool,
    /// Most bytes of `--format nagios` output (default 1024, what NRPE passes on; 0: no limit)
    #[arg(long, value_name = "BYTES")]
    #[serde(default)]
    pub nagios_max_output: Option<u32>,
    /// Print the names --only and --skip take (checks, the ids of this run, targets) and exit
    #[arg(long)]
    #[serde(skip)]
    pub list: bool,
}

impl CheckArgs {
    /// A flood of values is a usage error: at most [`flagvalue::MAX_VALUES`] per option.
    pub fn check_counts(&self) -> Result<(), String> {
        let lists = [
            ("--only", &self.only),
            ("--skip", &self.skip),
            ("--ignore", &self.ignore),
            ("--target", &self.target),
            ("--endpoint", &self.endpoint),
            ("--resolve", &self.resolve),
            ("--ntp-server", &self.ntp_server),
            ("--webhook", &self.webhook),
        ];
        for (flag, list) in lists {
            let n = list.as_ref().map_or(0, Vec::len);
            if n > flagvalue::MAX_VALUES {
                return Err(format!("{flag}: {n} values given; at most {} are accepted", flagvalue::MAX_VALUES));
            }
        }
        Ok(())
    }
}

/// Whether the run asks for the Nagios plugin convention: `--format nagios`, or no `--format`
/// flag and `format = "nagios"` in the `--config` file (then every usage error is UNKNOWN,
/// exit 3, on stdout).
pub fn nagios_requested(format: Option<FormatArg>, config: Option<&std::path::Path>) -> bool {
    match format {
        Some(f) => f == FormatArg::Nagios,
        None => config.is_some_and(|c| config_file_format(c).as_deref() == Some("nagios")),
    }
}

/// The `format` a `--config` file asks for, read leniently (the file may be what is wrong):
/// as TOML when it parses, else from a `format = "…"` line. Only a regular file of at most
/// 1 MiB is read, opened without blocking.
fn config_file_format(path: &std::path::Path) -> Option<String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    const MAX: u64 = 1024 * 1024;
    let file =
        std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY).open(path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut text = String::new();
    file.take(MAX).read_to_string(&mut text).ok()?;
    if let Ok(table) = toml::from_str::<toml::Table>(&text) {
        return table.get("format").and_then(|v| v.as_str()).map(str::to_string);
    }
    text.lines().find_map(|line| {
        let value = line.trim().strip_prefix("format")?.trim_start().strip_prefix('=')?.trim_start();
        let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let inner = &value[1..];
        Some(inner[..inner.find(quote)?].to_string())
    })
}

/// Whether the raw command line asks for Nagios output (see [`nagios_requested`]): read from
/// the arguments themselves, so that it holds when clap could not parse them.
pub fn nagios_in_args(args: &[std::ffi::OsString]) -> bool {
    let mut format: Option<String> = None;
    let mut config: Option<PathBuf> = None;
    let mut words = args.iter().skip(1).map(|a| a.to_string_lossy().into_owned());
    while let Some(word) = words.next() {
        if word == "--" {
            break;
        }
        if let Some(v) = word.strip_prefix("--format=") {
            format = Some(v.to_string());
        } else if word == "--format" {
            format = words.next();
        } else if let Some(v) = word.strip_prefix("--config=") {
            config = Some(PathBuf::from(v));
        } else if word == "--config" {
            config = words.next().map(PathBuf::from);
        }
    }
    match format {
        Some(f) => f == "nagios",
        None => config.is_some_and(|c| config_file_format(&c).as_deref() == Some("nagios")),
    }
}

/// A usage error, said the way the run asks: one line on stderr and exit code 2, or with the
/// Nagios convention one UNKNOWN line on stdout and exit code 3.
pub fn usage_error(message: &str, nagios: bool) -> i32 {
    if nagios {
        let line = format!("{}\n", crate::plugin::unknown_line(&crate::redact::clean(message)));
        return crate::output::print(line.as_bytes(), 3, 3);
    }
    crate::output::error_line(message);
    2
}

/// Handles what clap could not parse (or printed itself) and returns the exit code: `--help`
/// and `--version` print as usual (0; 2 when stdout cannot be written, quietly 0 when its
/// reader went away); any other error is one line naming the flag (2; with `--format nagios`,
/// UNKNOWN and 3).
pub fn report_usage_error(e: clap::Error, args: &[std::ffi::OsString]) -> i32 {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        return match e.print() {
            Ok(()) => 0,
            Err(err) if crate::output::reader_gone(&err) => 0,
            Err(err) => {
                crate::output::error_line(&format!("cannot write to stdout: {err}"));
                2
            }
        };
    }
    let nagios = nagios_in_args(args);
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        if nagios {
            return usage_error("a subcommand or argument is missing (see `pen-doctor --help`)", true);
        }
        let _ = e.print();
        return 2;
    }
    usage_error(&one_line(&e.to_string()), nagios)
}

/// clap's multi-line message as one line: the error and the possible values or tip, without
/// the usage block and the "--help" hint; control characters escaped, bounded.
fn one_line(message: &str) -> String {
    let mut parts = Vec::new();
    for line in message.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("Usage:") || line.starts_with("For more information") {
            continue;
        }
        parts.push(line.trim_start_matches("error: ").to_string());
    }
    flagvalue::safe(&parts.join(" "), 2000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_errors_fit_on_one_line_and_name_the_flag() {
        let e = Cli::try_parse_from(["pen-doctor", "check", "--env", "marte"]).unwrap_err();
        let line = one_line(&e.to_string());
        assert!(!line.contains('\n'));
        assert!(line.contains("--env") && line.contains("marte") && line.contains("homologacao"), "{line}");
        let e = Cli::try_parse_from(["pen-doctor", "check", "--bogus"]).unwrap_err();
        assert!(one_line(&e.to_string()).contains("--bogus"));
    }
}
