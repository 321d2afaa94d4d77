//! The proxy settings of the services that run SEI, next to this shell's: the proxy variables
//! (`https_proxy`/`HTTPS_PROXY`, `no_proxy`/`NO_PROXY`) of php-fpm, httpd/apache2, supervisord
//! and cron (their `/proc/PID/environ`, via [`crate::hostenv`]), and the `environment=` of
//! supervisor programs (a minimal, self-contained reading of the usual configuration files: the
//! main file and the `conf.d`/`supervisord.d` includes, `[program:x]` sections, one
//! `environment=` line each, and `[supervisord]`'s own). A program inherits supervisord's
//! environment (its process and `[supervisord] environment=`); its own `environment=` overrides it.

use crate::hostfs;
use crate::net::proxy::{self, ProxyPolicy, Route};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use url::Url;

/// One service's proxy variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceProxy {
    /// `php-fpm (PID 12)`, `supervisor program pen-envio`.
    pub service: String,
    pub url: Option<Url>,
    /// The variable the proxy came from.
    pub source: Option<String>,
    pub no_proxy: Vec<String>,
    pub no_proxy_source: Option<String>,
}

impl ServiceProxy {
    pub fn policy(&self) -> ProxyPolicy<'_> {
        ProxyPolicy {
            url: self.url.as_ref(),
            source: self.source.as_deref(),
            no_proxy: &self.no_proxy,
            no_proxy_source: self.no_proxy_source.as_deref(),
        }
    }

    /// From a set of variables, as curl reads them (the lowercase name first).
    fn from_vars(service: String, get: impl Fn(&str) -> Option<String>) -> ServiceProxy {
        let pick = |names: [&str; 2]| {
            names.iter().find_map(|n| get(n).filter(|v| !v.trim().is_empty()).map(|v| (v, n.to_string())))
        };
        let (url, source) = match pick(["https_proxy", "HTTPS_PROXY"]) {
            Some((v, n)) => (parse_proxy(&v), Some(n)),
            None => (None, None),
        };
        let (no_proxy, no_proxy_source) = match pick(["no_proxy", "NO_PROXY"]) {
            Some((v, n)) => (v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(), Some(n)),
            None => (Vec::new(), None),
        };
        ServiceProxy { service, url, source, no_proxy, no_proxy_source }
    }
}

/// A proxy variable's value as a URL (`host:port` without a scheme is `http://`).
fn parse_proxy(v: &str) -> Option<Url> {
    let v = v.trim();
    let with_scheme = if v.contains("://") { v.to_string() } else { format!("http://{v}") };
    Url::parse(&with_scheme).ok().filter(|u| u.host_str().is_some())
}

/// How a route reads for comparison and display: `direct` or the proxy without credentials.
pub fn route_text(route: &Route) -> String {
    match route {
        Route::Proxy { url, .. } => proxy::display_url(url),
        Route::Direct | Route::Bypassed { .. } => "direct".into(),
    }
}

/// The supervisor configuration files read: the main file and its usual include directories.
const SUPERVISOR_MAIN: &[&str] = &["/etc/supervisord.conf", "/etc/supervisor/supervisord.conf"];
const SUPERVISOR_INCLUDES: &[(&str, &str)] = &[("/etc/supervisor/conf.d", "conf"), ("/etc/supervisord.d", "ini")];
/// Files read at most, and programs kept.
const MAX_FILES: usize = 200;
const MAX_PROGRAMS: usize = 200;

/// The name [`program_environments`] gives the `[supervisord]` section's own `environment=`.
pub const SUPERVISORD: &str = "[supervisord]";

/// `KEY="value",KEY2=value2` of a supervisor `environment=` line.
pub fn parse_environment(value: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = value.trim();
    while !rest.is_empty() && out.len() < 256 {
        let Some((key, after)) = rest.split_once('=') else { break };
        let key = key.trim().trim_start_matches(',').trim().to_string();
        let after = after.trim_start();
        let (val, next) = match after.chars().next() {
            Some(q @ ('"' | '\'')) => match after[1..].find(q) {
                Some(end) => (after[1..1 + end].to_string(), &after[2 + end..]),
                None => (after[1..].to_string(), ""),
            },
            _ => match after.find(',') {
                Some(i) => (after[..i].trim().to_string(), &after[i..]),
                None => (after.trim().to_string(), ""),
            },
        };
        if !key.is_empty() {
            out.insert(key, val);
        }
        rest = next.trim_start().trim_start_matches(',').trim_start();
    }
    out
}

/// The `environment=` of each `[program:x]` in supervisor configuration text.
pub fn program_environments(text: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let mut out: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            let section = line.trim_matches(|c| c == '[' || c == ']').trim();
            // `[supervisord]`'s environment= is given to every program: kept under that name.
            current = if section == "supervisord" {
                Some(SUPERVISORD.to_string())
            } else {
                section.strip_prefix("program:").map(|n| n.trim().to_string())
            };
            continue;
        }
        if line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        if let (Some(name), Some((k, v))) = (&current, line.split_once('=')) {
            if k.trim() == "environment" {
                let env = parse_environment(v);
                match out.iter_mut().find(|(n, _)| n == name) {
                    Some(e) => e.1 = env,
                    None => out.push((name.clone(), env)),
                }
            }
        }
    }
    out
}

fn supervisor_programs() -> Vec<(String, BTreeMap<String, String>)> {
    let mut files: Vec<std::path::PathBuf> =
        SUPERVISOR_MAIN.iter().filter(|f| hostfs::exists(f)).map(hostfs::path).collect();
    for (dir, ext) in SUPERVISOR_INCLUDES {
        files.extend(hostfs::list_dir(dir).into_iter().filter(|p| p.extension().is_some_and(|e| e == *ext)));
    }
    let mut out: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    for f in files.iter().take(MAX_FILES) {
        let Ok(text) = hostfs::read_real(f) else { continue };
        for (name, env) in program_environments(&text) {
            if out.len() >= MAX_PROGRAMS {
                break;
            }
            match out.iter_mut().find(|(n, _)| *n == name) {
                Some(e) => e.1 = env,
                None => out.push((name, env)),
            }
        }
    }
    out
}

/// The proxy settings of every service that runs SEI, read once per run: each process whose
/// environment was read, then each supervisor program that sets a proxy variable of its own.
pub fn services() -> &'static [ServiceProxy] {
    static ONCE: OnceLock<Vec<ServiceProxy>> = OnceLock::new();
    ONCE.get_or_init(|| {
        let envs = crate::hostenv::scan();
        let mut out: Vec<ServiceProxy> = envs
            .processes
            .iter()
            .map(|p| ServiceProxy::from_vars(format!("{} (PID {})", p.name, p.pid), |v| p.get(v).map(str::to_string)))
            .collect();
        let supervisord = envs.processes.iter().find(|p| p.name == "supervisord");
        const VARS: [&str; 4] = ["https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"];
        let programs = supervisor_programs();
        let global = programs.iter().find(|(n, _)| n == SUPERVISORD).map(|(_, e)| e.clone()).unwrap_or_default();
        for (name, env) in programs.iter().filter(|(n, _)| n != SUPERVISORD) {
            if !VARS.iter().any(|v| env.contains_key(*v) || global.contains_key(*v)) {
                continue;
            }
            // The program's own environment=, then [supervisord]'s, then supervisord's process.
            let get = |v: &str| {
                env.get(v)
                    .or_else(|| global.get(v))
                    .cloned()
                    .or_else(|| supervisord.and_then(|s| s.get(v)).map(str::to_string))
            };
            out.push(ServiceProxy::from_vars(format!("supervisor program {name}"), get));
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_lines() {
        let e = parse_environment(r#"HTTPS_PROXY="http://10.0.0.1:3128",NO_PROXY='localhost,127.0.0.1', A=b"#);
        assert_eq!(e["HTTPS_PROXY"], "http://10.0.0.1:3128");
        assert_eq!(e["NO_PROXY"], "localhost,127.0.0.1");
        assert_eq!(e["A"], "b");
        assert!(parse_environment("").is_empty());
        assert_eq!(parse_environment("X=\"unterminated")["X"], "unterminated");
        crate::mutation::mutants(&[b"A=\"1\",B=2".as_slice()], 2000, |v| {
            let _ = parse_environment(&String::from_utf8_lossy(v));
        });
    }

    #[test]
    fn programs_and_their_environment() {
        let text = "[supervisord]\nenvironment=HTTPS_PROXY=x\n[program:pen-envio]\ncommand=php x\n\
                    environment=https_proxy=\"http://p:3128\"\n[program:other]\ncommand=y\n";
        let p = program_environments(text);
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].0.as_str(), p[0].1["HTTPS_PROXY"].as_str()), (SUPERVISORD, "x"));
        assert_eq!(p[1].0, "pen-envio");
        assert_eq!(p[1].1["https_proxy"], "http://p:3128");
        let s = ServiceProxy::from_vars("x".into(), |v| p[1].1.get(v).cloned());
        assert_eq!(s.url.as_ref().map(|u| u.as_str()), Some("http://p:3128/"));
        assert_eq!(route_text(&s.policy().route("a.gov.br", 443)), "http://p:3128");
        let none = ServiceProxy::from_vars("y".into(), |_| None);
        assert_eq!(route_text(&none.policy().route("a.gov.br", 443)), "direct");
        assert_eq!(parse_proxy("10.0.0.1:8080").map(|u| u.to_string()), Some("http://10.0.0.1:8080/".into()));
    }
}
