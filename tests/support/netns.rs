//! Network namespaces for tests: create one with `lo` up and its own resolv.conf and hosts
//! file, add addresses and iptables rules, run commands and code inside it, delete it on drop.

use super::{must, sockaddr, RunExt, ToIp};
use std::ffi::OsStr;
use std::fs;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);
const PREFIX: &str = "pdt-";

/// The resolv.conf a namespace starts with: a local server that does not exist, so a test that
/// forgot its DNS server gets a quick failure instead of reaching the host's resolver.
const DEFAULT_RESOLV_CONF: &str = "nameserver 127.0.0.1\n";
const DEFAULT_HOSTS: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";

/// A network namespace of the test's own, named `pdt-<pid>-<n>`.
///
/// It has only `lo` (up, with `127.0.0.0/8` and `::1`): nothing inside can reach the outside
/// world. Programs run with [`Netns::cmd`] (`ip netns exec`) see `/etc/netns/NAME/resolv.conf`
/// and `/etc/netns/NAME/hosts` as `/etc/resolv.conf` and `/etc/hosts`; they start as
/// `nameserver 127.0.0.1` and localhost entries — set them with [`Netns::use_nameserver`],
/// [`Netns::set_resolv_conf`] and [`Netns::set_hosts`].
///
/// Drop kills every process left in the namespace, deletes it and its `/etc/netns` folder.
/// Namespaces left by a test process that was killed are removed by the next `Netns::new`.
#[derive(Debug)]
pub struct Netns {
    name: String,
    etc: PathBuf,
}

impl Netns {
    /// Creates the namespace; panics when it cannot (not root, no `ip`).
    pub fn new() -> Netns {
        remove_stale();
        let name = format!("{PREFIX}{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
        let run = Command::new("ip").args(["netns", "add", &name]).run();
        if run.code != Some(0) {
            panic!("cannot create network namespace {name} (the lab needs root and iproute2)\n{run}");
        }
        let ns = Netns { etc: Path::new("/etc/netns").join(&name), name };
        must(Command::new("ip").args(["-n", &ns.name, "link", "set", "lo", "up"]));
        fs::create_dir_all(&ns.etc).unwrap_or_else(|e| panic!("cannot create {}: {e}", ns.etc.display()));
        ns.set_resolv_conf(DEFAULT_RESOLV_CONF);
        ns.set_hosts(DEFAULT_HOSTS);
        ns
    }

    /// The namespace's name (for `ip netns exec NAME …`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A command that runs `program` inside the namespace (`ip netns exec NAME program`).
    /// Give an absolute path when you clear the environment (`PATH` is used to find it).
    pub fn cmd(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).arg(program);
        cmd
    }

    /// Runs `f` on a thread that entered the namespace: sockets it opens live in the namespace
    /// (and stay there when handed to other threads).
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let path = Path::new("/run/netns").join(&self.name);
        std::thread::scope(|s| {
            let handle = s.spawn(|| {
                let file = fs::File::open(&path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
                // SAFETY: setns on a valid namespace fd changes only this thread's network.
                let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
                if rc != 0 {
                    panic!("cannot enter {}: {}", self.name, std::io::Error::last_os_error());
                }
                f()
            });
            match handle.join() {
                Ok(v) => v,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }

    /// Writes the namespace's `/etc/resolv.conf` (whole file).
    pub fn set_resolv_conf(&self, text: &str) {
        self.write_etc("resolv.conf", text);
    }

    /// Makes `server` (port 53: resolv.conf has no port) the namespace's only DNS server.
    pub fn use_nameserver(&self, server: impl ToIp) {
        self.set_resolv_conf(&format!("nameserver {}\n", server.to_ip()));
    }

    /// Writes the namespace's `/etc/hosts` (whole file; keep the localhost lines if needed).
    pub fn set_hosts(&self, text: &str) {
        self.write_etc("hosts", text);
    }

    fn write_etc(&self, file: &str, text: &str) {
        let path = self.etc.join(file);
        fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    /// Adds an address to `lo`. Not needed for `127.0.0.0/8` (all local already) nor `::1`;
    /// IPv6 addresses are added without duplicate detection, so they work at once.
    pub fn add_addr(&self, addr: impl ToIp) {
        let addr = addr.to_ip();
        match addr {
            IpAddr::V4(v4) if v4.is_loopback() => {}
            IpAddr::V4(_) => {
                must(
                    Command::new("ip")
                        .args(["-n", &self.name, "addr", "add"])
                        .arg(format!("{addr}/32"))
                        .args(["dev", "lo"]),
                );
            }
            IpAddr::V6(v6) if v6.is_loopback() => {}
            IpAddr::V6(_) => {
                must(
                    Command::new("ip")
                        .args(["-n", &self.name, "-6", "addr", "add"])
                        .arg(format!("{addr}/128"))
                        .args(["dev", "lo", "nodad"]),
                );
            }
        }
    }

    /// Runs `iptables` (or `ip6tables` when `v6`) inside the namespace with `args`.
    pub fn iptables(&self, v6: bool, args: &[&str]) {
        let program = if v6 { "ip6tables" } else { "iptables" };
        must(self.cmd(program).arg("-w").args(args));
    }

    fn tcp_rule(&self, addr: IpAddr, port: u16, target: &[&str]) {
        let (a, p) = (addr.to_string(), port.to_string());
        let mut args = vec!["-A", "INPUT", "-p", "tcp", "-d", &a, "--dport", &p, "-j"];
        args.extend_from_slice(target);
        self.iptables(addr.is_ipv6(), &args);
    }

    /// TCP to `addr:port` is silently dropped (a filtering firewall): connects time out.
    pub fn add_drop(&self, addr: impl ToIp, port: u16) {
        self.tcp_rule(addr.to_ip(), port, &["DROP"]);
    }

    /// UDP to `addr:port` is silently dropped (e.g. a DNS server behind a firewall).
    pub fn add_drop_udp(&self, addr: impl ToIp, port: u16) {
        let addr = addr.to_ip();
        let (a, p) = (addr.to_string(), port.to_string());
        self.iptables(addr.is_ipv6(), &["-A", "INPUT", "-p", "udp", "-d", &a, "--dport", &p, "-j", "DROP"]);
    }

    /// TCP to `addr:port` is answered with ICMP host-unreachable: connects fail with
    /// "No route to host" (EHOSTUNREACH). For IPv6 (icmp6-addr-unreachable) the kernel reports
    /// it after the first SYN retransmission, about 1 s later.
    pub fn add_reject_unreachable(&self, addr: impl ToIp, port: u16) {
        let addr = addr.to_ip();
        let with = if addr.is_ipv6() { "icmp6-addr-unreachable" } else { "icmp-host-unreachable" };
        self.tcp_rule(addr, port, &["REJECT", "--reject-with", with]);
    }

    /// TCP to `addr:port` is answered with a reset by the firewall: connects are refused.
    pub fn add_reject_reset(&self, addr: impl ToIp, port: u16) {
        self.tcp_rule(addr.to_ip(), port, &["REJECT", "--reject-with", "tcp-reset"]);
    }

    /// Connects to `addr` from inside the namespace (for checking what a test set up).
    pub fn connect(&self, addr: impl ToSocketAddrs, timeout: Duration) -> std::io::Result<TcpStream> {
        let addr: SocketAddr = sockaddr(addr);
        self.run(|| TcpStream::connect_timeout(&addr, timeout))
    }

    /// Pids of the processes whose network is this namespace.
    pub fn pids(&self) -> Vec<u32> {
        pids_of(&self.name)
    }
}

impl Default for Netns {
    fn default() -> Self {
        Netns::new()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        delete(&self.name);
    }
}

fn pids_of(name: &str) -> Vec<u32> {
    Command::new("ip")
        .args(["netns", "pids", name])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).split_whitespace().filter_map(|p| p.parse().ok()).collect())
        .unwrap_or_default()
}

/// Kills what runs in the namespace, deletes it and its `/etc/netns` folder. Never panics.
fn delete(name: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let pids = pids_of(name);
        if pids.is_empty() || Instant::now() > deadline {
            break;
        }
        for pid in pids {
            // SAFETY: sending a signal; the pid belongs to a process in our test namespace.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGKILL);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = Command::new("ip").args(["netns", "del", name]).stderr(std::process::Stdio::null()).status();
    let _ = fs::remove_dir_all(Path::new("/etc/netns").join(name));
}

/// Removes namespaces `pdt-<pid>-<n>` whose test process no longer exists.
fn remove_stale() {
    let Ok(entries) = fs::read_dir("/run/netns") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) =
            name.strip_prefix(PREFIX).and_then(|rest| rest.split('-').next()).and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists() {
            delete(&name);
        }
    }
}
