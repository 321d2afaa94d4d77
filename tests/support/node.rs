//! Helpers for the node checks' tests: free ports, waiting for servers, running the binary and
//! reading its JSON report.
#![allow(dead_code)]

use serde_json::Value;
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A free TCP port on loopback (bound to port 0, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A free UDP port on loopback.
pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
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
