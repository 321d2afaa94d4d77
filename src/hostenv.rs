//! The environments of the processes that run SEI on this host — php-fpm, httpd/apache2,
//! supervisord, crond/cron, and PID 1 when it is a container's entrypoint — read from
//! `/proc/PID/environ` (root only) through the bounded reader. What a variable is there is what
//! PHP's `getenv()` returns in SEI's pages and workers; a docker installation configures SEI in no
//! other place.
//!
//! Bounded: at most [`MAX_PER_NAME`] processes of one name and [`MAX_PROCESSES`] in all, each
//! environment at most [`MAX_ENVIRON_BYTES`], [`MAX_TOTAL_BYTES`] read in all, [`MAX_VARS`]
//! variables kept per process. A process whose environment cannot be read (another user's, as
//! non-root; gone; too large) is listed with the reason instead. Values are never shown: a
//! variable may hold a password.

use crate::hostfs::{self, Kind, Reason};
use std::collections::BTreeMap;
use std::path::Path;

/// Processes of one name read at most (php-fpm runs dozens of workers with one environment).
pub const MAX_PER_NAME: usize = 4;
/// Processes read at most.
pub const MAX_PROCESSES: usize = 24;
/// The largest environment read (Linux caps a new program's arguments and environment at a
/// quarter of its stack limit, 2 MiB by default; real ones are a few KiB).
pub const MAX_ENVIRON_BYTES: u64 = 256 * 1024;
/// Bytes of environments read in all.
pub const MAX_TOTAL_BYTES: u64 = 2 * 1024 * 1024;
/// Variables kept per process.
pub const MAX_VARS: usize = 4096;

/// The names of the services that run SEI, in the order their environments are asked: the web
/// server's PHP first (where the pages run), then the workers' supervisor and the scheduler.
pub const SERVICE_NAMES: &[&str] = &["php-fpm", "httpd", "apache2", "supervisord", "crond", "cron"];

/// Names of a host's own init: its PID 1 runs no part of SEI.
const HOST_INITS: &[&str] = &["systemd", "init", "upstart", "launchd", "openrc-init", "runit"];

/// One process whose environment was read.
#[derive(Clone, Debug)]
pub struct ProcessEnv {
    pub pid: u32,
    /// `php-fpm`, `httpd`, …, or the program name of PID 1.
    pub name: String,
    /// True for PID 1 (a container's entrypoint).
    pub init: bool,
    vars: BTreeMap<String, String>,
}

impl ProcessEnv {
    /// The value of `var` in this environment.
    pub fn get(&self, var: &str) -> Option<&str> {
        self.vars.get(var).map(String::as_str)
    }

    /// The names of its variables (never the values).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.vars.keys().map(String::as_str)
    }

    /// Every variable, for callers that compare values (proxies); never to be shown as is.
    pub fn vars(&self) -> &BTreeMap<String, String> {
        &self.vars
    }

    /// Where a value came from, for evidence: `environment of php-fpm (PID 123)`.
    pub fn source(&self) -> String {
        if self.init {
            format!("environment of {} (PID 1, the container's first process)", self.name)
        } else {
            format!("environment of {} (PID {})", self.name, self.pid)
        }
    }
}

/// A process of SEI whose environment could not be read, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Unread {
    pub pid: u32,
    pub name: String,
    pub reason: String,
}

/// The environments found.
#[derive(Clone, Debug, Default)]
pub struct Environments {
    /// In the order they are asked: [`SERVICE_NAMES`], then PID 1.
    pub processes: Vec<ProcessEnv>,
    pub unread: Vec<Unread>,
    /// Processes left out by the bounds, by name.
    pub left_out: Vec<String>,
}

impl Environments {
    /// The first process (in asking order) whose environment sets `var`.
    pub fn lookup(&self, var: &str) -> Option<(&str, &ProcessEnv)> {
        self.processes.iter().find_map(|p| p.get(var).map(|v| (v, p)))
    }

    /// Whether any environment of SEI's processes was read: then a variable none of them sets
    /// is one PHP's `getenv()` does not see either.
    pub fn any_read(&self) -> bool {
        !self.processes.is_empty()
    }

    /// The processes read, for evidence: `php-fpm (PID 12)`.
    pub fn read_names(&self) -> Vec<String> {
        self.processes.iter().map(|p| format!("{} (PID {})", p.name, p.pid)).collect()
    }
}

/// The name a process goes by: the service name its program or first argument carries
/// (`php-fpm: master process (…)`, `/usr/sbin/apache2 -k start`, `python3 /usr/bin/supervisord`,
/// a program started as `exec -a php-fpm`), else its kernel name.
fn service_name(comm: &str, args: &[String]) -> Option<&'static str> {
    let base = |a: &str| a.split_whitespace().next().unwrap_or("").rsplit('/').next().unwrap_or("").to_string();
    let mut candidates: Vec<String> = args.first().map(|a| base(a)).into_iter().collect();
    // An interpreter's script carries the name (`python3 /usr/bin/supervisord`).
    let interpreter = candidates.first().is_some_and(|a| {
        ["python", "perl", "sh", "bash", "ruby"]
            .iter()
            .any(|i| a == i || a.starts_with(&format!("{i}3")) || a.starts_with(&format!("{i}2")))
    });
    if interpreter {
        candidates.extend(args.get(1).map(|a| base(a)));
    }
    candidates.push(comm.trim().to_string());
    // `php-fpm8.2`, `php-fpm: master process`, `httpd.worker`: the name and a version or suffix.
    let versioned = |c: &str, n: &str| {
        c.strip_prefix(n).is_some_and(|rest| {
            rest.is_empty() || rest.starts_with(':') || rest.chars().all(|ch| ch.is_ascii_digit() || ch == '.')
        })
    };
    candidates.iter().find_map(|c| SERVICE_NAMES.iter().copied().find(|n| versioned(c, n)))
}

/// The variables of an environment block (`NAME=value\0…`): the first of a name wins, as
/// `getenv()` returns it; entries without `=` or with an invalid name are ignored.
pub fn parse_environ(bytes: &[u8]) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    for entry in bytes.split(|b| *b == 0) {
        if vars.len() >= MAX_VARS {
            break;
        }
        let Some(eq) = entry.iter().position(|b| *b == b'=') else { continue };
        let (name, value) = (&entry[..eq], &entry[eq + 1..]);
        let valid = !name.is_empty()
            && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
            && !name[0].is_ascii_digit();
        if !valid {
            continue;
        }
        let name = String::from_utf8_lossy(name).into_owned();
        vars.entry(name).or_insert_with(|| String::from_utf8_lossy(value).into_owned());
    }
    vars
}

fn reason_text(r: &Reason) -> String {
    match r {
        Reason::PermissionDenied { user } if user == "root" || user == "uid 0" => {
            "permission denied even for root (the kernel protects that process from this one)".to_string()
        }
        Reason::PermissionDenied { user } => {
            format!("permission denied for {user} (only root reads other users' environments)")
        }
        Reason::NotFound => "the process ended".into(),
        other => other.to_string(),
    }
}

/// Reads `/proc/PID/environ` with the cap of [`MAX_ENVIRON_BYTES`].
fn read_environ(dir: &Path) -> Result<Vec<u8>, Reason> {
    let bytes = hostfs::read_file(&dir.join("environ"), Kind::Kernel).map_err(|e| e.reason)?;
    if bytes.len() as u64 > MAX_ENVIRON_BYTES {
        return Err(Reason::TooLarge { size: Some(bytes.len() as u64), limit: MAX_ENVIRON_BYTES });
    }
    Ok(bytes)
}

/// One process of `/proc` that may run SEI.
struct Candidate {
    pid: u32,
    name: String,
    rank: usize,
    init: bool,
}

/// Finds the processes that run SEI and reads their environments.
pub fn scan() -> Environments {
    let me = std::process::id();
    let mut candidates = Vec::new();
    for dir in hostfs::list_dir("/proc") {
        let Some(pid) = dir.file_name().and_then(|n| n.to_str()).and_then(|n| n.parse::<u32>().ok()) else { continue };
        if pid == me {
            continue;
        }
        let comm = hostfs::read_file(&dir.join("comm"), Kind::Kernel)
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .unwrap_or_default();
        let args: Vec<String> = hostfs::read_file(&dir.join("cmdline"), Kind::Kernel)
            .map(|b| {
                b.split(|c| *c == 0)
                    .filter(|a| !a.is_empty())
                    .take(2)
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect()
            })
            .unwrap_or_default();
        match service_name(&comm, &args) {
            Some(name) => {
                let rank = SERVICE_NAMES.iter().position(|n| *n == name).unwrap_or(SERVICE_NAMES.len());
                candidates.push(Candidate { pid, name: name.to_string(), rank, init: pid == 1 });
            }
            None if pid == 1 => {
                let name =
                    args.first().map(|a| a.rsplit('/').next().unwrap_or(a).to_string()).filter(|n| !n.is_empty());
                let name = name.unwrap_or(comm);
                if !HOST_INITS.iter().any(|i| name == *i || name.starts_with(&format!("{i} "))) && !name.is_empty() {
                    candidates.push(Candidate { pid, name, rank: SERVICE_NAMES.len(), init: true });
                }
            }
            None => {}
        }
    }
    candidates.sort_by_key(|c| (c.rank, c.pid));
    let mut out = Environments::default();
    let mut per_name: BTreeMap<String, usize> = BTreeMap::new();
    let mut total = 0u64;
    for c in candidates {
        let seen = per_name.entry(c.name.clone()).or_default();
        if *seen >= MAX_PER_NAME || out.processes.len() + out.unread.len() >= MAX_PROCESSES || total >= MAX_TOTAL_BYTES
        {
            if !out.left_out.contains(&c.name) {
                out.left_out.push(c.name.clone());
            }
            continue;
        }
        *seen += 1;
        let dir = hostfs::path(format!("/proc/{}", c.pid));
        match read_environ(&dir) {
            Ok(bytes) => {
                total += bytes.len() as u64;
                out.processes.push(ProcessEnv { pid: c.pid, name: c.name, init: c.init, vars: parse_environ(&bytes) });
            }
            Err(r) => out.unread.push(Unread { pid: c.pid, name: c.name, reason: reason_text(&r) }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_the_services() {
        let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            service_name("php-fpm8.2", &a(&["php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"])),
            Some("php-fpm")
        );
        assert_eq!(service_name("sleep", &a(&["php-fpm", "300"])), Some("php-fpm"), "exec -a php-fpm");
        assert_eq!(service_name("apache2", &a(&["/usr/sbin/apache2", "-k", "start"])), Some("apache2"));
        assert_eq!(service_name("httpd", &a(&["/usr/sbin/httpd", "-DFOREGROUND"])), Some("httpd"));
        assert_eq!(
            service_name("supervisord", &a(&["/usr/bin/python3", "/usr/bin/supervisord", "-n"])),
            Some("supervisord")
        );
        assert_eq!(service_name("cron", &a(&["/usr/sbin/cron", "-f"])), Some("cron"));
        assert_eq!(service_name("crond", &a(&["crond", "-n"])), Some("crond"));
        assert_eq!(service_name("bash", &a(&["bash"])), None);
        assert_eq!(service_name("vim", &a(&["vim", "/etc/php-fpm.conf"])), None);
    }

    #[test]
    fn environment_blocks() {
        let vars = parse_environ(b"A=1\0B=x=y\0A=2\0=bad\0NOEQ\09X=no\0\xff\xfe=bin\0PATH=/bin\0EMPTY=\0");
        let got: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, [("A", "1"), ("B", "x=y"), ("EMPTY", ""), ("PATH", "/bin")]);
        let many: Vec<u8> = (0..10_000).flat_map(|i| format!("V{i}=x\0").into_bytes()).collect();
        assert_eq!(parse_environ(&many).len(), MAX_VARS);
        crate::mutation::mutants(&[b"A=1\0B=2\0"], 2000, |v| {
            let _ = parse_environ(v);
        });
    }

    #[test]
    fn own_process_is_never_read() {
        let e = scan();
        assert!(e.processes.iter().all(|p| p.pid != std::process::id()));
        assert!(e.processes.len() + e.unread.len() <= MAX_PROCESSES);
    }
}
