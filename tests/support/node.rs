//! Helpers for the node checks' tests: free loopback ports, waiting for servers, running
//! `check` on a host root (`PEN_DOCTOR_ROOT`), files under that root, an SNTP responder.

pub use super::write;
use super::{copy_tree, pen_doctor, ports, temp_dir, Host, Proc, Run, RunExt};
use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
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

/// Runs `pen-doctor check --format json --lang en ARGS` with `PEN_DOCTOR_ROOT=root` (when given).
pub fn run_check(args: &[&str], root: Option<&Path>) -> Run {
    let mut cmd = pen_doctor(Host);
    cmd.arg("check").args(["--format", "json", "--lang", "en"]).args(args);
    if let Some(r) = root {
        cmd.env("PEN_DOCTOR_ROOT", r);
    }
    let run = cmd.run();
    run.json();
    run
}

/// gearmand on a free loopback port, its log in `dir`; returns once it accepts connections.
pub fn gearmand(dir: &Path) -> (Proc, u16) {
    let port = free_port();
    let mut cmd = Command::new("gearmand");
    cmd.arg("--listen=127.0.0.1")
        .arg(format!("--port={port}"))
        .arg(format!("--log-file={}", dir.join("gearmand.log").display()));
    let p = Proc::spawn("gearmand", cmd, dir.join("gearmand.out"));
    wait_tcp(port);
    (p, port)
}

/// supervisord in the foreground with `conf`; on drop it gets SIGTERM and up to 10 s to stop
/// its programs.
pub fn supervisord(conf: &Path) -> Proc {
    supervisord_with_env(conf, &[])
}

/// [`supervisord`] with variables added to its environment (for `%(ENV_X)s`).
pub fn supervisord_with_env(conf: &Path, env: &[(&str, &str)]) -> Proc {
    let mut cmd = Command::new("supervisord");
    cmd.envs(env.iter().copied()).args(["-n", "-c"]).arg(conf);
    Proc::spawn_quiet("supervisord", cmd).with_grace(Duration::from_secs(10))
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

/// A file or folder of the repository's `fixtures/` (`fixture("node/crontab")`).
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(rel)
}

/// The SEI fixture tree `fixtures/sei/NAME` (read it in place; copy it to change it).
pub fn sei_fixture(name: &str) -> PathBuf {
    fixture("sei").join(name)
}

/// Copies the SEI fixture tree `fixtures/sei/NAME` to `dest` (created), as an installation.
pub fn copy_sei_tree(name: &str, dest: &Path) {
    copy_tree(&sei_fixture(name), dest);
}

/// A copy of the SEI fixture tree `fixtures/sei/NAME` in a fresh temporary directory (removed
/// on drop), for a test that edits it.
pub fn sei_copy(name: &str) -> tempfile::TempDir {
    let dir = temp_dir(&format!("pdt-sei-{name}-"));
    copy_sei_tree(name, dir.path());
    dir
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
