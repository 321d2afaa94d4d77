//! [`CheckArgs`]: the command line of a `pen-doctor check` run, built a flag at a time, for the
//! argument lists the tests repeat (a target whose endpoint a `--resolve` points at a local
//! server, a CA bundle, a timeout, JSON out).
//!
//! ```ignore
//! let args = CheckArgs::new()
//!     .only("tls")
//!     .service("protocolo-integrado", "pi.test", port, "/")   // --target, --endpoint, --resolve
//!     .ca_bundle(&store)
//!     .timeout("2s")
//!     .json();
//! let run = pen_doctor(Host).args(args.argv()).run();
//! ```

use std::path::Path;

/// A `pen-doctor check …` argument list; each method appends its flags in call order.
#[derive(Debug, Clone)]
pub struct CheckArgs {
    argv: Vec<String>,
}

impl Default for CheckArgs {
    fn default() -> Self {
        CheckArgs::new()
    }
}

impl CheckArgs {
    /// `check`.
    pub fn new() -> CheckArgs {
        CheckArgs { argv: vec!["check".to_string()] }
    }

    /// Appends `args` as they are.
    pub fn args(mut self, args: &[&str]) -> CheckArgs {
        self.argv.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// Appends `flag value`.
    pub fn flag(mut self, flag: &str, value: impl AsRef<str>) -> CheckArgs {
        self.argv.push(flag.to_string());
        self.argv.push(value.as_ref().to_string());
        self
    }

    /// `--only CHECKS`.
    pub fn only(self, checks: &str) -> CheckArgs {
        self.flag("--only", checks)
    }

    /// `--target TARGETS`.
    pub fn target(self, targets: &str) -> CheckArgs {
        self.flag("--target", targets)
    }

    /// `--endpoint TARGET=URL`.
    pub fn endpoint(self, target: &str, url: &str) -> CheckArgs {
        self.flag("--endpoint", format!("{target}={url}"))
    }

    /// `--resolve HOST:PORT:ADDR`.
    pub fn resolve(self, host: &str, port: u16, addr: &str) -> CheckArgs {
        self.flag("--resolve", format!("{host}:{port}:{addr}"))
    }

    /// `--target TARGET --endpoint TARGET=https://HOST:PORT{PATH} --resolve HOST:PORT:127.0.0.1`:
    /// the target served by a local server under a name of the test's own.
    pub fn service(self, target: &str, host: &str, port: u16, path: &str) -> CheckArgs {
        self.target(target).endpoint(target, &format!("https://{host}:{port}{path}")).resolve(host, port, "127.0.0.1")
    }

    /// The three service targets' `--endpoint`s under `base` (`https://127.0.0.1:PORT`):
    /// Tramita's REST API, pendências, Protocolo Integrado's WSDL.
    pub fn endpoints_at(self, base: &str) -> CheckArgs {
        self.endpoint("tramita", &format!("{base}/interoperabilidade/rest/v3/"))
            .endpoint("pendencias", &format!("{base}/"))
            .endpoint("protocolo-integrado", &format!("{base}/ProtocoloWS/integradorService?wsdl"))
    }

    /// `--ca-bundle FILE`.
    pub fn ca_bundle(self, file: &Path) -> CheckArgs {
        self.flag("--ca-bundle", file.to_str().expect("a UTF-8 path"))
    }

    /// `--cert FILE --cert-password-env VAR`.
    pub fn cert(self, file: &Path, password_env: &str) -> CheckArgs {
        self.flag("--cert", file.to_str().expect("a UTF-8 path")).flag("--cert-password-env", password_env)
    }

    /// `--timeout DURATION`.
    pub fn timeout(self, duration: &str) -> CheckArgs {
        self.flag("--timeout", duration)
    }

    /// `--format FORMAT`.
    pub fn format(self, format: &str) -> CheckArgs {
        self.flag("--format", format)
    }

    /// `--format json`.
    pub fn json(self) -> CheckArgs {
        self.format("json")
    }

    /// Whether `flag` is already in the list.
    pub fn has(&self, flag: &str) -> bool {
        self.argv.iter().any(|a| a == flag)
    }

    /// The argument list (after the program name).
    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    /// The flags without the leading `check`, for helpers that add it themselves.
    pub fn flags(&self) -> Vec<&str> {
        self.strs().split_off(1)
    }

    /// The argument list as `&str`s, for helpers that take `&[&str]`.
    pub fn strs(&self) -> Vec<&str> {
        self.argv.iter().map(String::as_str).collect()
    }
}
