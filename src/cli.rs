//! The command line, defined in one place: subcommands and every `check` flag (SPEC §5).
//! Each `check` flag can also be set in the `--config` TOML file under the same name.

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
    /// One table of nodes × checks from several JSON reports, and the findings that differ
    /// between nodes (exit 1 when a node has a failure)
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
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) generated from these definitions: pen-doctor(1), or
    /// pen-doctor-SUBCOMMAND(1) for one subcommand (`pen-doctor man check`)
    Man {
        /// A subcommand (check, explain, kb, cert, merge, diff, completions)
        subcommand: Option<String>,
    },
}

/// Output formats of `merge` and `diff`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum FleetFormat {
    Human,
    Markdown,
}

#[derive(Subcommand, Debug)]
pub enum KbCommand {
    /// List the articles
    List,
    /// Show one article, its causes, its codes and its reply template
    Show { id: String },
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
    #[arg(long, value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Environment: desenvolvimento, homologacao or producao
    #[arg(long, value_enum)]
    pub env: Option<EnvArg>,
    /// SEI installation directory (default /opt/sei)
    #[arg(long, value_name = "DIR")]
    pub sei_dir: Option<PathBuf>,
    /// Run only these checks (comma-separated: dns,tcp,tls:tramita,…); prerequisites are added
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub only: Option<Vec<String>>,
    /// Do not run these checks
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub skip: Option<Vec<String>>,
    /// Targets to check (tramita,pendencias,protocolo-integrado,pucomex)
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub target: Option<Vec<String>>,
    /// Override a target's URL (repeatable)
    #[arg(long, value_name = "NAME=URL")]
    pub endpoint: Option<Vec<String>>,
    /// Use ADDR for HOST:PORT, as curl does (repeatable)
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Option<Vec<String>>,
    /// Ask this DNS server instead of the host's resolver configuration
    #[arg(long, value_name = "IP[:PORT]")]
    pub dns_server: Option<String>,
    /// CA bundle to verify servers with, instead of the one SEI's PHP uses
    #[arg(long, value_name = "FILE")]
    pub ca_bundle: Option<PathBuf>,
    /// php.ini that SEI runs with (for openssl.cafile / curl.cainfo)
    #[arg(long, value_name = "FILE")]
    pub php_ini: Option<PathBuf>,
    /// Client certificate for Tramita.GOV.BR (PEM with key, or PKCS#12)
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// Environment variable holding the client certificate's password
    #[arg(long, value_name = "VAR")]
    pub cert_password_env: Option<String>,
    /// File holding the client certificate's password
    #[arg(long, value_name = "FILE")]
    pub cert_password_file: Option<PathBuf>,
    /// ICP-Brasil A1 certificate for Pucomex (PKCS#12)
    #[arg(long, value_name = "FILE")]
    pub pucomex_cert: Option<PathBuf>,
    /// Environment variable holding the Pucomex certificate's password
    #[arg(long, value_name = "VAR")]
    pub pucomex_password_env: Option<String>,
    /// HTTPS proxy (otherwise HTTPS_PROXY / https_proxy, with NO_PROXY)
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// gearmand address (default from ConfiguracaoModPEN.php, else 127.0.0.1:4730)
    #[arg(long, value_name = "HOST:PORT")]
    pub gearman: Option<String>,
    /// supervisord endpoint (default from its configuration)
    #[arg(long, value_name = "unix:///path.sock|http://host:port")]
    pub supervisor: Option<String>,
    /// NTP server to measure the offset against (repeatable; default a/b/c.ntp.br)
    #[arg(long, value_name = "HOST[:PORT]")]
    pub ntp_server: Option<Vec<String>>,
    /// Offset above which the clock is a warning (default 1s)
    #[arg(long, value_name = "DURATION")]
    pub ntp_warn: Option<String>,
    /// Offset above which the clock is a failure (default 10s)
    #[arg(long, value_name = "DURATION")]
    pub ntp_crit: Option<String>,
    /// SEI database (mysql://user@host:port/db); password from the SEI config or PEN_DOCTOR_DB_PASSWORD
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// Protocolo Integrado web-service user
    #[arg(long, value_name = "USER")]
    pub pi_user: Option<String>,
    /// Environment variable holding the Protocolo Integrado web-service password
    #[arg(long, value_name = "VAR")]
    pub pi_password_env: Option<String>,
    /// Pucomex webhook receiver to test (repeatable; NAME=URL or URL)
    #[arg(long, value_name = "[NAME=]URL")]
    pub webhook: Option<Vec<String>>,
    /// Timeout of each network step (default 5s)
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Deadline of the whole run (default 60s)
    #[arg(long, value_name = "DURATION")]
    pub deadline: Option<String>,
    /// Output format
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Write the report to FILE (atomically) instead of stdout
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
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
}

/// Prints a command-line error as one line naming the flag (help and version print as usual)
/// and returns the exit code: 2 for usage errors, 0 for `--help`/`--version`.
pub fn report_usage_error(e: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand { 2 } else { 0 };
    }
    eprintln!("pen-doctor: {}", one_line(&e.to_string()));
    2
}

/// clap's multi-line message as one line: the error and the possible values or tip, without
/// the usage block and the "--help" hint.
fn one_line(message: &str) -> String {
    let mut parts = Vec::new();
    for line in message.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("Usage:") || line.starts_with("For more information") {
            continue;
        }
        parts.push(line.trim_start_matches("error: ").to_string());
    }
    parts.join(" ")
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
