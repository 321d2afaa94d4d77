//! The lab: starts real servers (dnsmasq, tinyproxy, nginx, plain TCP/UDP responders) on
//! loopback or inside a network namespace the test creates, runs the real `pen-doctor` binary
//! there, and cleans everything up on drop.
//!
//! Include it from an integration test with `mod support;` and `use support::*;`.
//!
//! # The pieces
//! - [`Netns`]: a network namespace of the test's own (`pdt-<pid>-<n>`) with `lo` up, its own
//!   `/etc/resolv.conf` and `/etc/hosts`, iptables rules (drop, reject), extra addresses.
//! - [`Place`]: where a server or a command runs: `&ns` (a [`Netns`]) or [`Host`] (the
//!   test's own network). Every starter takes `impl Into<Place>`, so both `&ns` and `Host` work.
//! - [`pen_doctor`]: a `Command` for the real binary with a clean environment; run it with
//!   [`RunExt::run`] to get a [`Run`] (exit code, stdout, stderr, elapsed time, JSON).
//! - Servers, each a guard that stops the server on drop and returns only once it answers:
//!   [`Dnsmasq`] (with a [`Zone`]), [`UdpResponder`] / [`SilentUdp`] / [`GarbageDns`],
//!   [`TcpServer`], [`Tinyproxy`], [`Nginx`].
//! - [`Pki`]: certificates made with the `openssl` command: roots, intermediates, leaves with
//!   any validity, client certificates, encrypted keys, PKCS#12 and combined PEM files.
//! - [`dns_query`]: a tiny DNS client to see what a server really answers.
//!
//! # Example
//! ```ignore
//! let ns = Netns::new();
//! let _dns = Dnsmasq::start(&ns, "127.0.0.53:53", &Zone::new().host("ok.test", &["127.0.0.2"]));
//! ns.use_nameserver("127.0.0.53");
//! let _web = TcpServer::start(&ns, "127.0.0.2:443", TcpBehaviour::Hold);
//! let run = pen_doctor(&ns).args(["check", "--only", "dns,tcp"]).run();
//! run.assert_code(0);
//! ```
//!
//! # Rules the helpers follow (and tests should too)
//! - Every wait is bounded; a server that does not come up makes the test panic with a message
//!   naming the server and quoting its log.
//! - Guards must be dropped on the thread that created them (servers get `SIGKILL` when that
//!   thread ends, so nothing outlives a killed test). Declare the [`Netns`] first: locals drop
//!   in reverse order, so the servers stop before the namespace goes.
//! - Inside a namespace, fixed addresses and ports are fine (`127.0.0.53:53`); on the host use
//!   [`free_port`], since tests run in parallel.
#![allow(dead_code, unused_imports)]

mod ports;

mod args;
mod dns;
pub mod mariadb;
mod netns;
mod nginx;
pub mod node;
mod pki;
pub mod pki_tls;
mod proxy;
pub mod report;
mod scenario;
mod slowfs;
mod tcp;

pub use args::CheckArgs;
pub use dns::{
    dns_query, DnsReply, Dnsmasq, GarbageDns, SilentUdp, UdpBehaviour, UdpResponder, Zone, QTYPE_A, QTYPE_AAAA,
    RCODE_NOERROR, RCODE_NXDOMAIN, RCODE_REFUSED, RCODE_SERVFAIL,
};
pub use netns::Netns;
pub use nginx::Nginx;
pub use pki::{asn1_time, CaSpec, Cert, Issued, KeyFormat, KeyType, LeafSpec, PemBundle, Pki, Spec};
pub use proxy::Tinyproxy;
pub use report::{check, codes, finding};
pub use scenario::{
    verify_client, Mtls, Running, Scenario, Site, DEFAULT_PASSWORD, PASSWORD_ENV, TRAMITA_PATH, TRAMITA_SOAP_PATH, WSDL,
};
pub use slowfs::SlowFs;
pub use tcp::{tls_server_config, Handler, TcpBehaviour, TcpServer};

use std::ffi::OsStr;
use std::fs::File;
use std::io::Read;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How long a server may take to answer after it was started.
pub const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long [`RunExt::run`] lets a command run before it is killed and the test fails.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);
/// `PATH` of the clean environment given to `pen-doctor`.
pub const CLEAN_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The test's own network (no namespace).
#[derive(Clone, Copy, Debug)]
pub struct Host;

/// Where something runs: the test's own network or a [`Netns`].
#[derive(Clone, Copy, Debug)]
pub enum Place<'a> {
    Host,
    Ns(&'a Netns),
}

impl From<Host> for Place<'_> {
    fn from(_: Host) -> Self {
        Place::Host
    }
}

impl<'a> From<&'a Netns> for Place<'a> {
    fn from(ns: &'a Netns) -> Self {
        Place::Ns(ns)
    }
}

impl Place<'_> {
    /// Runs `f` with this place's network: sockets it creates belong there (and stay there
    /// when handed to other threads).
    pub fn run<T: Send>(self, f: impl FnOnce() -> T + Send) -> T {
        match self {
            Place::Host => f(),
            Place::Ns(ns) => ns.run(f),
        }
    }

    /// A command that runs `program` here (`ip netns exec NAME program` in a namespace).
    pub fn command(self, program: impl AsRef<OsStr>) -> Command {
        match self {
            Place::Host => Command::new(program),
            Place::Ns(ns) => ns.cmd(program),
        }
    }

    /// A short description for messages.
    pub fn describe(self) -> String {
        match self {
            Place::Host => "the host".to_string(),
            Place::Ns(ns) => format!("network namespace {}", ns.name()),
        }
    }
}

/// The real `pen-doctor` binary, to run at `place`, with a clean environment: only `PATH` and
/// `RUST_BACKTRACE` are set (no `HTTPS_PROXY`, `NO_PROXY`, `LANG`… unless the test sets them).
/// Add arguments and run it with [`RunExt::run`].
pub fn pen_doctor<'a>(place: impl Into<Place<'a>>) -> Command {
    let mut cmd = place.into().command(env!("CARGO_BIN_EXE_pen-doctor"));
    cmd.env_clear().env("PATH", CLEAN_PATH).env("RUST_BACKTRACE", "1");
    cmd
}

/// What a finished command did.
#[derive(Debug, Clone)]
pub struct Run {
    /// The command line, for messages.
    pub cmdline: String,
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// Wall time from spawn to exit.
    pub elapsed: Duration,
    /// The command's own peak resident set in KiB, when it was run with
    /// [`RunExt::run_measured_for`].
    pub peak_kib: Option<u64>,
    /// stdout read as JSON, once (for the lookups by check id).
    parsed: std::sync::OnceLock<serde_json::Value>,
}

impl Run {
    /// Panics (showing everything) unless the exit code is `code`.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        if self.code != Some(code) {
            panic!("expected exit code {code}, got {:?}\n{self}", self.code);
        }
        self
    }

    /// Panics (showing everything) unless the command exited 0.
    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        self.assert_code(0)
    }

    /// stdout parsed as JSON; panics with the output when it is not JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        self.parsed().clone()
    }

    fn parsed(&self) -> &serde_json::Value {
        self.parsed.get_or_init(|| match serde_json::from_str(&self.stdout) {
            Ok(v) => v,
            Err(e) => panic!("stdout is not JSON ({e})\n{self}"),
        })
    }

    /// stdout as the typed report; panics with the output when it is not a report.
    #[track_caller]
    pub fn report(&self) -> pen_doctor::report::model::Report {
        match serde_json::from_str(&self.stdout) {
            Ok(r) => r,
            Err(e) => panic!("stdout is not a report ({e})\n{self}"),
        }
    }

    /// The check with id `id` of the JSON report on stdout.
    #[track_caller]
    pub fn check(&self, id: &str) -> &serde_json::Value {
        report::check(self.parsed(), id)
    }

    /// The status of check `id`.
    #[track_caller]
    pub fn status(&self, id: &str) -> String {
        self.check(id)["status"].as_str().unwrap_or_default().to_string()
    }

    /// The finding codes of check `id`.
    #[track_caller]
    pub fn codes(&self, id: &str) -> Vec<String> {
        report::codes(self.check(id))
    }

    /// The first finding with `code` of check `id`.
    #[track_caller]
    pub fn finding(&self, id: &str, code: &str) -> &serde_json::Value {
        report::finding(self.check(id), code)
    }

    /// The evidence of check `id`.
    #[track_caller]
    pub fn evidence(&self, id: &str) -> &serde_json::Value {
        &self.check(id)["evidence"]
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "command: {}", self.cmdline)?;
        writeln!(f, "exit code: {:?} after {:?}", self.code, self.elapsed)?;
        if let Some(kib) = self.peak_kib {
            writeln!(f, "peak RSS: {kib} KiB")?;
        }
        writeln!(f, "--- stdout ---\n{}", self.stdout)?;
        write!(f, "--- stderr ---\n{}", self.stderr)
    }
}

/// Running a `Command` to completion with a bound, capturing its output as text.
pub trait RunExt {
    /// Runs with [`RUN_TIMEOUT`]; see [`RunExt::run_for`].
    fn run(&mut self) -> Run {
        self.run_for(RUN_TIMEOUT)
    }
    /// Runs with stdin closed; kills the command and panics when it runs longer than `limit`.
    fn run_for(&mut self, limit: Duration) -> Run;
    /// [`RunExt::run_for`], reaping the command with `wait4` to learn its own peak resident
    /// set ([`Run::peak_kib`]).
    fn run_measured_for(&mut self, limit: Duration) -> Run;
}

impl RunExt for Command {
    fn run_for(&mut self, limit: Duration) -> Run {
        run_command(self, limit, |child, limit| wait_bounded(child, limit).map(|s| (s, None)))
    }

    fn run_measured_for(&mut self, limit: Duration) -> Run {
        run_command(self, limit, wait_measured)
    }
}

/// Runs `cmd` with stdin closed and its output captured, `wait` reaping it (`None`: still
/// running after `limit`, killed).
fn run_command(
    cmd: &mut Command,
    limit: Duration,
    wait: impl FnOnce(&mut Child, Duration) -> Option<(ExitStatus, Option<u64>)>,
) -> Run {
    let cmdline = cmdline(cmd);
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{cmdline}`: {e}"));
    let stdout = reader(child.stdout.take());
    let stderr = reader(child.stderr.take());
    let waited = wait(&mut child, limit);
    let status = waited.map(|(s, _)| s);
    let elapsed = started.elapsed();
    // A grandchild may hold the pipes open: do not wait for it forever.
    let collect = |rx: mpsc::Receiver<String>| rx.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
    let run = Run {
        cmdline,
        code: status.and_then(|s| s.code()),
        stdout: collect(stdout),
        stderr: collect(stderr),
        elapsed,
        peak_kib: waited.and_then(|(_, kib)| kib),
        parsed: Default::default(),
    };
    if status.is_none() {
        panic!("command still running after {limit:?}: killed\n{run}");
    }
    run
}

fn reader(pipe: Option<impl Read + Send + 'static>) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    if let Some(mut pipe) = pipe {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            let _ = tx.send(String::from_utf8_lossy(&buf).into_owned());
        });
    }
    rx
}

/// Waits up to `limit` for `child` with `wait4`, which also gives its own peak resident set
/// (KiB); kills it and returns `None` when it is still running.
fn wait_measured(child: &mut Child, limit: Duration) -> Option<(ExitStatus, Option<u64>)> {
    use std::os::unix::process::ExitStatusExt;
    let deadline = Instant::now() + limit;
    let pid = child.id() as libc::pid_t;
    loop {
        let mut status = 0;
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: waits for our own child; status and usage are buffers of the right types.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, usage.as_mut_ptr()) };
        if r == pid {
            // SAFETY: wait4 reaped the child and filled the rusage.
            let kib = unsafe { usage.assume_init() }.ru_maxrss as u64;
            return Some((ExitStatus::from_raw(status), Some(kib)));
        }
        assert!(r == 0, "wait4 failed for pid {pid}");
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// Waits up to `limit` for `child`; kills it and returns `None` when it is still running.
fn wait_bounded(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// The command line of `cmd`, for messages.
pub fn cmdline(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// Runs `cmd` (bounded by [`RUN_TIMEOUT`]) and panics with its output unless it succeeds.
#[track_caller]
pub fn must(cmd: &mut Command) -> Run {
    let run = cmd.run();
    if run.code != Some(0) {
        panic!("command failed\n{run}");
    }
    run
}

/// The absolute path of a program the lab needs; panics with how to install it when absent.
pub fn which(program: &str) -> PathBuf {
    let path = std::env::var("PATH").unwrap_or_default();
    let found =
        path.split(':').chain(CLEAN_PATH.split(':')).map(|dir| Path::new(dir).join(program)).find(|p| p.is_file());
    match found {
        Some(p) => p,
        None => panic!(
            "`{program}` is not installed; run ./scripts/setup-test-deps (as root) to install \
             the test dependencies"
        ),
    }
}

/// A port free right now on `127.0.0.1` at `place` (TCP; the same number is almost always free
/// for UDP too). Inside a namespace a fixed port is simpler.
pub fn free_port<'a>(place: impl Into<Place<'a>>) -> u16 {
    place.into().run(ports::tcp)
}

/// Parses a socket address given as text or value (`"127.0.0.1:53"`, `"[::1]:443"`).
#[track_caller]
pub fn sockaddr(addr: impl ToSocketAddrs) -> SocketAddr {
    match addr.to_socket_addrs().map(|mut a| a.next()) {
        Ok(Some(a)) => a,
        _ => panic!("not a socket address"),
    }
}

/// An IP address given as text or value.
pub trait ToIp {
    fn to_ip(&self) -> IpAddr;
}

impl ToIp for IpAddr {
    fn to_ip(&self) -> IpAddr {
        *self
    }
}

impl ToIp for std::net::Ipv4Addr {
    fn to_ip(&self) -> IpAddr {
        IpAddr::V4(*self)
    }
}

impl ToIp for std::net::Ipv6Addr {
    fn to_ip(&self) -> IpAddr {
        IpAddr::V6(*self)
    }
}

impl ToIp for &str {
    #[track_caller]
    fn to_ip(&self) -> IpAddr {
        self.parse().unwrap_or_else(|_| panic!("`{self}` is not an IP address"))
    }
}

impl ToIp for String {
    #[track_caller]
    fn to_ip(&self) -> IpAddr {
        self.as_str().to_ip()
    }
}

/// A server process started by the lab: its output goes to a log file, it is stopped
/// (SIGTERM, then SIGKILL) on drop, and it gets SIGKILL if the thread that started it ends.
pub struct Proc {
    what: String,
    child: Child,
    log: PathBuf,
    extra_logs: Vec<PathBuf>,
    /// How long it may take to stop after SIGTERM before it gets SIGKILL.
    grace: Duration,
}

impl Proc {
    /// Starts `cmd` as the server `what`, its stdout and stderr to `log`.
    pub fn spawn(what: &str, mut cmd: Command, log: PathBuf) -> Proc {
        let out = File::create(&log).unwrap_or_else(|e| panic!("{what}: cannot create log {}: {e}", log.display()));
        let err = out.try_clone().unwrap_or_else(|e| panic!("{what}: cannot duplicate log handle: {e}"));
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        // SAFETY: prctl is async-signal-safe; it only marks the child to die with its parent.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let line = cmdline(&cmd);
        let child = cmd.spawn().unwrap_or_else(|e| panic!("{what} failed to start (`{line}`): {e}"));
        Proc { what: what.to_string(), child, log, extra_logs: Vec::new(), grace: Duration::from_secs(3) }
    }

    /// Gives it `grace` to stop after SIGTERM (a supervisor stopping its programs) before
    /// SIGKILL.
    pub fn with_grace(mut self, grace: Duration) -> Proc {
        self.grace = grace;
        self
    }

    /// Starts `cmd` as `what` with its output discarded (a worker, a stand-in process whose
    /// output no test reads).
    pub fn spawn_quiet(what: &str, cmd: Command) -> Proc {
        Proc::spawn(what, cmd, PathBuf::from("/dev/null"))
    }

    /// Shows `path` too (a log file the server writes itself) in [`Proc::log`] and in the
    /// messages of a failed start.
    pub fn also_log(&mut self, path: PathBuf) {
        self.extra_logs.push(path);
    }

    /// Polls `ready` (given the server's output so far) until it says yes; panics with the log
    /// when the server exits first or does not get ready within [`START_TIMEOUT`]. Check the
    /// log for the server's own "started" line as well as probing the port: another server
    /// on the same address would answer the probe.
    pub fn wait_ready(&mut self, mut ready: impl FnMut(&str) -> bool) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited ({status}) before it was ready; its log:\n{}", self.what, self.log());
            }
            if ready(&self.log()) {
                return;
            }
            if started.elapsed() > START_TIMEOUT {
                panic!("{} did not get ready within {START_TIMEOUT:?}; its log:\n{}", self.what, self.log());
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the server printed so far (then the other logs given to [`Proc::also_log`]).
    pub fn log(&self) -> String {
        let read = |p: &Path| std::fs::read(p).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
        let mut text = read(&self.log);
        for extra in &self.extra_logs {
            text.push_str(&format!("\n--- {} ---\n{}", extra.display(), read(extra)));
        }
        text
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SAFETY: signalling our own child, which has not been reaped yet.
            unsafe {
                libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
            }
            if wait_bounded(&mut self.child, self.grace).is_some() {
                return;
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes `text` to `root/rel` (a leading `/` of `rel` stays under `root`), creating
/// directories; the path written.
pub fn write(root: &Path, rel: &str, text: &str) -> PathBuf {
    let p = root.join(rel.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().expect("a file under root")).expect("directories under root");
    std::fs::write(&p, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", p.display()));
    p
}

/// Copies the directory tree `from` into `to` (created if missing) as `cp -a` does: files,
/// directories, links, modes and times.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("cannot create {}: {e}", to.display()));
    must(Command::new("cp").arg("-a").arg(from.join(".")).arg(to));
}

/// ISRG Root X1 as the system's CA store holds it (PEM): the public root Tramita's chain ends in.
pub fn isrg_x1() -> String {
    std::fs::read_to_string("/etc/ssl/certs/ISRG_Root_X1.pem").expect("ca-certificates is installed")
}

/// The largest peak resident set of any waited-for child of this test process so far, in KiB
/// (getrusage RUSAGE_CHILDREN): what a run of the binary held at most.
pub fn children_peak_rss_kib() -> u64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_CHILDREN is a valid selector.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) };
    assert_eq!(rc, 0);
    // SAFETY: initialised by the successful call above.
    unsafe { usage.assume_init() }.ru_maxrss as u64
}

/// Whether a TCP connection to `addr` at `place` succeeds within `timeout`.
pub fn tcp_open(place: Place<'_>, addr: SocketAddr, timeout: Duration) -> bool {
    place.run(|| std::net::TcpStream::connect_timeout(&addr, timeout).is_ok())
}

/// Validates the JSON `doc` against the repository's `schema` (e.g. `schema/report.schema.json`)
/// with python3-jsonschema (Draft 2020-12); panics listing every error.
pub fn assert_schema_valid(schema: &str, doc: &str) {
    let dir = temp_dir("pdt-schema-");
    let file = dir.path().join("doc.json");
    std::fs::write(&file, doc).unwrap();
    let script = r#"
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(sys.argv[2]))), key=str)
for e in errors:
    print(list(e.absolute_path), e.message)
sys.exit(1 if errors else 0)
"#;
    let run = Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(script)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(schema))
        .arg(&file)
        .run();
    assert_eq!(run.code, Some(0), "the JSON does not follow {schema}\n{run}");
}

/// A fresh temporary directory (removed on drop).
pub fn temp_dir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"))
}
