//! Helpers for the node checks' tests: free ports, waiting for servers, running the binary and
//! reading its JSON report.
#![allow(dead_code)]

#[path = "ports.rs"]
mod ports;

use serde_json::Value;
use std::net::{TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A free TCP port on loopback (bound to port 0, then released).
pub fn free_port() -> u16 {
    ports::tcp()
}

/// A free UDP port on loopback.
pub fn free_udp_port() -> u16 {
    ports::udp()
}

/// Waits until something accepts TCP connections on `port`.
pub fn wait_tcp(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(10), "nothing listens on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until `path` exists.
pub fn wait_path(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(start.elapsed() < Duration::from_secs(15), "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A child process killed (by its own pid) and reaped on drop.
pub struct Proc(pub Child);

impl Proc {
    pub fn spawn(cmd: &mut Command) -> Proc {
        Proc(cmd.spawn().unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}")))
    }
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The result of one `pen-doctor check` run.
pub struct Run {
    pub code: i32,
    pub report: Value,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// The check with id `id`.
    pub fn check(&self, id: &str) -> &Value {
        self.report["checks"]
            .as_array()
            .and_then(|a| a.iter().find(|c| c["id"] == id))
            .unwrap_or_else(|| panic!("no check {id} in {}", self.report))
    }
    pub fn status(&self, id: &str) -> String {
        self.check(id)["status"].as_str().unwrap_or_default().to_string()
    }
    /// The codes of a check's findings.
    pub fn codes(&self, id: &str) -> Vec<String> {
        self.check(id)["findings"]
            .as_array()
            .map(|a| a.iter().filter_map(|f| f["code"].as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }
    /// The first finding with `code`.
    pub fn finding(&self, id: &str, code: &str) -> &Value {
        self.check(id)["findings"]
            .as_array()
            .and_then(|a| a.iter().find(|f| f["code"] == code))
            .unwrap_or_else(|| panic!("no {code} in {id}: {}", self.check(id)))
    }
    pub fn evidence(&self, id: &str) -> &Value {
        &self.check(id)["evidence"]
    }
}

/// Runs `pen-doctor check --format json ARGS` with `PEN_DOCTOR_ROOT=root` (when given).
pub fn run_check(args: &[&str], root: Option<&Path>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pen-doctor"));
    cmd.arg("check").args(["--format", "json", "--lang", "en"]).args(args);
    cmd.env_remove("PEN_DOCTOR_ROOT");
    if let Some(r) = root {
        cmd.env("PEN_DOCTOR_ROOT", r);
    }
    let start = Instant::now();
    let out = cmd.output().expect("run pen-doctor");
    let elapsed = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\nstderr: {stderr}"));
    Run { code: out.status.code().unwrap_or(-1), report, stderr, elapsed }
}

/// Writes `text` to `root/rel`, creating directories.
pub fn write(root: &Path, rel: &str, text: &str) -> std::path::PathBuf {
    let p = root.join(rel.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

/// A fixture root whose `/proc/net/if_inet6` lists an address (a host with IPv6) and whose
/// `/etc/passwd` knows root.
pub fn plain_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\napache:x:48:48::/usr/share/httpd:/sbin/nologin\n",
    );
    dir
}

const NTP_UNIX_DELTA: f64 = 2_208_988_800.0;

pub fn ntp_ts(unix: f64) -> u64 {
    let secs = unix.floor();
    let frac = ((unix - secs) * 4_294_967_296.0) as u64;
    (((secs + NTP_UNIX_DELTA) as u64) << 32) | frac
}

/// How the test's SNTP responder answers.
#[derive(Clone, Copy)]
pub enum Behaviour {
    Offset(f64),
    Garbage,
    Short,
    KissOfDeath,
    WrongMode,
    WrongOrigin,
}

/// An SNTP responder on a loopback UDP port, answering every request the given way.
pub fn responder(b: Behaviour) -> u16 {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, peer)) = sock.recv_from(&mut buf) {
            if n < 48 {
                continue;
            }
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
            let mut r = [0u8; 48];
            r[0] = (4 << 3) | 4;
            r[1] = 2;
            r[12..16].copy_from_slice(&[127, 0, 0, 1]);
            r[24..32].copy_from_slice(&buf[40..48]);
            let reply: Vec<u8> = match b {
                Behaviour::Offset(off) => {
                    let t = ntp_ts(now + off).to_be_bytes();
                    r[32..40].copy_from_slice(&t);
                    r[40..48].copy_from_slice(&t);
                    r.to_vec()
                }
                Behaviour::Garbage => {
                    b"\xde\xad\xbe\xef garbage that is long enough to fill forty-eight bytes!!".to_vec()
                }
                Behaviour::Short => r[..20].to_vec(),
                Behaviour::KissOfDeath => {
                    r[1] = 0;
                    r[12..16].copy_from_slice(b"RATE");
                    r.to_vec()
                }
                Behaviour::WrongMode => {
                    r[0] = (4 << 3) | 3;
                    r.to_vec()
                }
                Behaviour::WrongOrigin => {
                    let t = ntp_ts(now).to_be_bytes();
                    r[24..32].copy_from_slice(&ntp_ts(now - 1000.0).to_be_bytes());
                    r[32..40].copy_from_slice(&t);
                    r[40..48].copy_from_slice(&t);
                    r.to_vec()
                }
            };
            let _ = sock.send_to(&reply, peer);
        }
    });
    port
}

/// Copies the SEI fixture tree `fixtures/sei/NAME` to `dest` (created), as an installation.
pub fn copy_sei_tree(name: &str, dest: &Path) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sei").join(name);
    std::fs::create_dir_all(dest).unwrap();
    let out = Command::new("cp").arg("-a").arg(format!("{}/.", src.display())).arg(dest).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Writes an executable file.
pub fn write_exec(root: &Path, rel: &str, text: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = write(root, rel, text);
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// A stand-in for PHP's command-line binary: like `php [-c INI] SCRIPT ARGS`, it prints
/// "Could not open input file: SCRIPT" on stdout and exits 1 when the script does not exist,
/// and otherwise stays alive with its command line intact (as a PHP worker does).
pub const PHP_STAND_IN: &str = "#!/bin/sh\n\
    if [ \"$1\" = \"-c\" ]; then shift 2; fi\n\
    if [ ! -f \"$1\" ]; then echo \"Could not open input file: $1\"; exit 1; fi\n\
    sleep 600 &\n\
    trap 'kill $! 2>/dev/null; exit 0' TERM INT\n\
    wait\n";
