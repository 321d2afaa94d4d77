//! Hostile files wherever pen-doctor reads one: a FIFO nobody writes to, `/dev/zero`, a link to
//! `/proc/kmsg`, a sparse 2 GiB file. Given to a flag that configures the run, the run stops with
//! a usage error naming the flag and the file; found where a check looks (the certificate, the
//! trust store, php.ini, the SEI configuration, crontabs, supervisord includes, the daemons'
//! files), it is a finding of that check naming the file, and the other checks still run. Every
//! run ends well inside `--deadline` and stays under 64 MiB (the child's own peak, from wait4).
//! Also: a gigabyte log costs nothing, a read that hangs on a stalled filesystem cannot hold the
//! deadline even on one CPU, a PKCS#12 asking for 2^31 iterations is refused at once, and a key
//! whose cipher OpenSSL lacks is not called a wrong password.

mod support;
use serde_json::Value;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::*;

const DEADLINE: &str = "3s";
/// A run must end before `--deadline` + 1 s.
const WITHIN: Duration = Duration::from_secs(4);
const MAX_RSS_KIB: u64 = 64 * 1024;
const PASS: &str = "pw-Hostil-9";

/// What a hostile-file run must keep to: ending in time, in bounded memory.
trait Bounded {
    fn bounded(&self, code: i32) -> &Self;
    fn peak(&self) -> u64;
}

impl Bounded for Run {
    /// Ended in time, in bounded memory, with `code`.
    #[track_caller]
    fn bounded(&self, code: i32) -> &Self {
        assert!(self.elapsed < WITHIN, "the run took too long\n{self}");
        assert!(self.peak() < MAX_RSS_KIB, "the run grew to {} KiB\n{self}", self.peak());
        assert_eq!(self.code, Some(code), "wrong exit code\n{self}");
        self
    }

    /// The run's own peak resident set in KiB.
    fn peak(&self) -> u64 {
        self.peak_kib.expect("a measured run")
    }
}

/// Runs `pen-doctor ARGS` (clean environment plus `env`), reaping it with wait4 to learn its peak
/// memory; kills it after 60 s.
fn measure(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = pen_doctor(Host);
    cmd.args(args).envs(env.iter().copied());
    measure_cmd(cmd)
}

fn measure_cmd(mut cmd: Command) -> Run {
    cmd.run_measured_for(Duration::from_secs(60))
}

/// The hostile files.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Hostile {
    /// A FIFO nobody writes to: opening or reading it blocks forever.
    Fifo,
    /// `/dev/zero` (or a link to it): endless bytes.
    DevZero,
    /// A link to `/proc/kmsg`: blocks, and consumes the kernel's messages.
    Kmsg,
    /// A sparse 2 GiB file: no disk used, all of memory if read.
    Huge,
}

const ALL: [Hostile; 4] = [Hostile::Fifo, Hostile::DevZero, Hostile::Kmsg, Hostile::Huge];

impl Hostile {
    /// Creates the file at `path` (links for `/dev/zero` and `/proc/kmsg`).
    fn place(self, path: &Path) -> PathBuf {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        match self {
            Hostile::Fifo => {
                let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
                // SAFETY: a valid path; mkfifo only creates the node.
                assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo {}", path.display());
            }
            Hostile::DevZero => std::os::unix::fs::symlink("/dev/zero", path).unwrap(),
            Hostile::Kmsg => std::os::unix::fs::symlink("/proc/kmsg", path).unwrap(),
            Hostile::Huge => std::fs::File::create(path).unwrap().set_len(2 << 30).unwrap(),
        }
        path.to_path_buf()
    }

    /// The path to give a flag: `/dev/zero` itself, else a file placed at `path`.
    fn for_flag(self, path: &Path) -> PathBuf {
        match self {
            Hostile::DevZero => PathBuf::from("/dev/zero"),
            other => other.place(path),
        }
    }

    /// What the error says about it.
    fn reason(self) -> &'static str {
        match self {
            Hostile::Fifo => "not a regular file (a FIFO)",
            Hostile::DevZero => "not a regular file (a character device)",
            Hostile::Kmsg => "not a regular file (a kernel pseudo-file of /proc or /sys)",
            Hostile::Huge => "too large (2147483648 bytes",
        }
    }

    /// The reason as a Portuguese report says it (the JSON `params` keep [`Hostile::reason`]).
    fn said(self) -> &'static str {
        match self {
            Hostile::Fifo => "não é um arquivo comum (um FIFO)",
            Hostile::DevZero => "não é um arquivo comum (um dispositivo de caracteres)",
            Hostile::Kmsg => "não é um arquivo comum (um pseudoarquivo do kernel em /proc ou /sys)",
            Hostile::Huge => "grande demais (2147483648 bytes",
        }
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_hostile_file_given_to_a_run_flag_is_a_usage_error_naming_flag_and_file() {
    let dir = tempfile::tempdir().unwrap();
    for h in ALL {
        for flag in ["--config", "--cert-password-file"] {
            let f = h.for_flag(&dir.path().join(format!("{h:?}{flag}")));
            let run = measure(&["check", "--only", "ca", "--deadline", DEADLINE, flag, s(&f)], &[]);
            run.bounded(2);
            let line = format!("{flag} {}: {}", f.display(), h.reason());
            assert!(run.stderr.contains(&line), "expected `{line}`\n{run}");
            assert_eq!(run.stderr.lines().count(), 1, "one line\n{run}");
            assert!(run.stdout.is_empty(), "{run}");

            // The monitoring plugin convention: UNKNOWN, exit 3, on stdout.
            let run = measure(&["check", "--format", "nagios", "--deadline", DEADLINE, flag, s(&f)], &[]);
            run.bounded(3);
            assert!(run.stdout.starts_with("PEN-DOCTOR UNKNOWN") && run.stdout.contains(s(&f)), "{run}");
        }
        // `cert FILE --password-file`: the password file configures the inspection.
        let f = h.for_flag(&dir.path().join(format!("{h:?}-cert-password")));
        let run = measure(&["cert", "/nonexistent.pem", "--password-file", s(&f)], &[]);
        run.bounded(2);
        assert!(run.stderr.contains(&format!("--password-file {}: {}", f.display(), h.reason())), "{run}");
    }
}

#[test]
fn a_hostile_openssl_conf_stops_the_run_before_openssl_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    for h in ALL {
        let f = h.for_flag(&dir.path().join(format!("{h:?}-openssl.cnf")));
        let env = [("OPENSSL_CONF", s(&f))];
        let run = measure(&["cert", "/nonexistent.pem"], &env);
        run.bounded(2);
        assert!(run.stderr.contains(&format!("OPENSSL_CONF={}: {}", f.display(), h.reason())), "{run}");
        let run = measure(&["check", "--only", "ca", "--format", "nagios", "--deadline", DEADLINE], &env);
        run.bounded(3);
        assert!(run.stdout.starts_with("PEN-DOCTOR UNKNOWN") && run.stdout.contains(s(&f)), "{run}");
    }
    // A missing file is OpenSSL's business (it starts with its defaults).
    let run = measure(&["cert", "/nonexistent.pem", "--format", "json"], &[("OPENSSL_CONF", "/nonexistent.cnf")]);
    run.bounded(1);
}

#[test]
fn merge_and_diff_refuse_hostile_and_oversized_reports() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    let run = measure(&["check", "--only", "ca", "--format", "json", "--output", s(&good)], &[]);
    assert!(run.code.is_some() && good.exists(), "{run}");
    // A report of 200 MB (sparse) is refused by its size, not read.
    let big = dir.path().join("big.json");
    std::fs::File::create(&big).unwrap().set_len(200_000_000).unwrap();
    let run = measure(&["merge", s(&good), s(&big)], &[]);
    run.bounded(2);
    assert!(run.stderr.contains(&format!("{}: cannot read: too large (200000000 bytes", big.display())), "{run}");
    // Reports of 1.9 MB each (the checks repeated): two merge, nine are more than merge reads.
    let mut report: Value = serde_json::from_str(&std::fs::read_to_string(&good).unwrap()).unwrap();
    let checks = report["checks"].as_array().unwrap().clone();
    let (mut many, mut size) = (Vec::new(), 0);
    while size < 1_900_000 {
        for c in &checks {
            let mut c = c.clone();
            c["id"] = Value::from(format!("{}-{}", c["id"].as_str().unwrap(), many.len()));
            size += serde_json::to_vec(&c).unwrap().len() + 1;
            many.push(c);
        }
    }
    report["checks"] = Value::Array(many);
    let large: Vec<PathBuf> = (0..9)
        .map(|i| {
            let p = dir.path().join(format!("large{i}.json"));
            std::fs::write(&p, serde_json::to_vec(&report).unwrap()).unwrap();
            p
        })
        .collect();
    let run = measure(&["merge", s(&large[0]), s(&large[1])], &[]);
    assert!(run.code == Some(0) || run.code == Some(1), "{run}");
    assert!(run.peak() < MAX_RSS_KIB, "{run}");
    let mut args = vec!["merge"];
    args.extend(large.iter().map(|p| s(p)));
    let run = measure(&args, &[]);
    run.bounded(2);
    assert!(run.stderr.contains("more than 16 MiB in all"), "{run}");
    for h in ALL {
        let f = h.for_flag(&dir.path().join(format!("{h:?}.json")));
        let run = measure(&["merge", s(&good), s(&f)], &[]);
        run.bounded(2);
        assert!(run.stderr.contains(&format!("{}: cannot read: {}", f.display(), h.reason())), "{run}");
        let run = measure(&["diff", s(&f), s(&good)], &[]);
        run.bounded(2);
        assert!(run.stderr.contains(s(&f)), "{run}");
    }
}

/// The finding a hostile certificate file gives, and its message.
fn cert_finding(h: Hostile, check: &Value) -> Value {
    match h {
        Hostile::Huge => {
            let f = finding(check, "CLIENT_CERT_TOO_LARGE");
            assert!(f["message"].as_str().unwrap().contains("2147483648 bytes"), "{f:#}");
            f.clone()
        }
        _ => {
            let f = finding(check, "CLIENT_CERT_INVALID_FORMAT");
            assert!(f["message"].as_str().unwrap().contains(h.said()), "{f:#}");
            f.clone()
        }
    }
}

#[test]
fn a_hostile_certificate_is_a_finding_of_its_check_and_the_others_still_run() {
    let dir = tempfile::tempdir().unwrap();
    for h in ALL {
        let f = h.for_flag(&dir.path().join(format!("{h:?}.pem")));
        for (flag, id) in [("--cert", "cert:client"), ("--pucomex-cert", "cert:pucomex")] {
            let args = ["check", "--only", "cert,ca", "--format", "json", "--deadline", DEADLINE, flag, s(&f)];
            let run = measure(&args, &[]);
            run.bounded(1);
            let chk = run.check(id);
            assert_eq!(chk["status"], "fail", "{chk:#}");
            let found = cert_finding(h, chk);
            assert!(found["message"].as_str().unwrap().contains(s(&f)), "names the file: {found:#}");
            let store = run.check("ca:store");
            assert!(["ok", "warn", "fail"].contains(&store["status"].as_str().unwrap()), "{store:#}");
        }
        // `pen-doctor cert FILE`.
        let run = measure(&["cert", s(&f), "--format", "json"], &[]);
        run.bounded(1);
        cert_finding(h, run.check("cert:file"));
    }
}

#[test]
fn a_hostile_trust_store_or_php_ini_is_a_finding_never_a_silent_success() {
    let dir = tempfile::tempdir().unwrap();
    for h in ALL {
        let f = h.for_flag(&dir.path().join(format!("{h:?}-bundle.pem")));
        let run =
            measure(&["check", "--only", "ca", "--format", "json", "--deadline", DEADLINE, "--ca-bundle", s(&f)], &[]);
        run.bounded(1);
        let msg = finding(run.check("ca:store"), "CA_STORE_UNREADABLE")["message"].as_str().unwrap().to_string();
        assert!(msg.contains(s(&f)) && msg.contains(h.said()), "{msg}");

        // --php-ini names the php.ini of SEI's PHP: unreadable, it is a failure, not exit 0.
        let ini = h.for_flag(&dir.path().join(format!("{h:?}-php.ini")));
        let run =
            measure(&["check", "--only", "ca", "--format", "json", "--deadline", DEADLINE, "--php-ini", s(&ini)], &[]);
        run.bounded(1);
        let store = run.check("ca:store");
        let msg = finding(store, "INPUT_UNREADABLE")["message"].as_str().unwrap().to_string();
        assert!(msg.contains(s(&ini)) && msg.contains(h.said()), "{msg}");
        // The store PHP would fall back to is still analysed for the TLS checks.
        assert!(store["evidence"]["count"].as_u64().is_some(), "{store:#}");

        // A readable php.ini whose openssl.cafile is the hostile file.
        let ini = dir.path().join(format!("{h:?}-cafile.ini"));
        let cafile = h.for_flag(&dir.path().join(format!("{h:?}-cafile.pem")));
        std::fs::write(&ini, format!("[openssl]\nopenssl.cafile = \"{}\"\n", cafile.display())).unwrap();
        let run =
            measure(&["check", "--only", "ca", "--format", "json", "--deadline", DEADLINE, "--php-ini", s(&ini)], &[]);
        run.bounded(1);
        let store = run.check("ca:store");
        assert_eq!(store["evidence"]["source"], format!("openssl.cafile in {}", ini.display()), "{store:#}");
        let msg = finding(store, "CA_STORE_UNREADABLE")["message"].as_str().unwrap().to_string();
        assert!(msg.contains(s(&cafile)) && msg.contains(h.said()), "{msg}");
    }
    // A --php-ini that does not exist is said, not ignored.
    let missing = dir.path().join("missing-php.ini");
    let run = measure(&["check", "--only", "ca", "--format", "json", "--php-ini", s(&missing)], &[]);
    run.bounded(1);
    let msg = finding(run.check("ca:store"), "INPUT_UNREADABLE")["message"].as_str().unwrap().to_string();
    assert!(msg.contains(&format!("{}", missing.display())) && msg.contains("não encontrado"), "{msg}");
}

const SEI_CONFIG: &str = "<?php class ConfiguracaoSEI { function getArrConfiguracoes() { return ['SEI' => ['Producao' => true, 'Modulos' => ['PENIntegracao' => 'pen']]]; } }";

fn pen_config(cert: &Path) -> String {
    format!(
        "<?php return ['PEN' => ['WebService' => 'https://127.0.0.1:9/', 'WebServicePendencias' => 'https://127.0.0.1:9/', 'LocalizacaoCertificado' => '{}', 'SenhaCertificado' => 'x']];",
        cert.display()
    )
}

#[test]
fn hostile_files_of_the_sei_installation_are_findings_naming_them() {
    for h in ALL {
        // ConfiguracaoSEI.php itself.
        let tree = tempfile::tempdir().unwrap();
        let sei = h.place(&tree.path().join("config/ConfiguracaoSEI.php"));
        let run = measure(&["check", "--sei-dir", s(tree.path()), "--only", "config", "--format", "json"], &[]);
        run.bounded(1);
        let msg = finding(run.check("config:sei"), "SEI_CONFIG_UNREADABLE")["message"].as_str().unwrap().to_string();
        assert!(msg.contains(s(&sei)) && msg.contains(h.said()), "{msg}");

        // The module's configuration, and the certificate it names.
        let tree = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tree.path().join("config/mod-pen")).unwrap();
        std::fs::write(tree.path().join("config/ConfiguracaoSEI.php"), SEI_CONFIG).unwrap();
        let module = h.place(&tree.path().join("config/mod-pen/ConfiguracaoModPEN.php"));
        let run = measure(&["check", "--sei-dir", s(tree.path()), "--only", "config", "--format", "json"], &[]);
        run.bounded(1);
        let msg = finding(run.check("config:sei"), "SEI_CONFIG_UNREADABLE")["message"].as_str().unwrap().to_string();
        assert!(msg.contains(s(&module)) && msg.contains(h.said()), "{msg}");

        let tree = tempfile::tempdir().unwrap();
        let cert = h.for_flag(&tree.path().join("config/mod-pen/certificado.pem"));
        std::fs::create_dir_all(tree.path().join("config/mod-pen")).unwrap();
        std::fs::write(tree.path().join("config/ConfiguracaoSEI.php"), SEI_CONFIG).unwrap();
        std::fs::write(tree.path().join("config/mod-pen/ConfiguracaoModPEN.php"), pen_config(&cert)).unwrap();
        let args = ["check", "--sei-dir", s(tree.path()), "--only", "cert", "--format", "json", "--deadline", DEADLINE];
        let run = measure(&args, &[]);
        run.bounded(1);
        let chk = run.check("cert:client");
        let found = cert_finding(h, chk);
        assert!(found["message"].as_str().unwrap().contains(s(&cert)), "{found:#}");
    }
}

/// Runs `check ARGS --format json` with `PEN_DOCTOR_ROOT=root`.
fn measure_rooted(root: &Path, args: &[&str]) -> Run {
    let mut all = vec!["check", "--format", "json", "--deadline", DEADLINE];
    all.extend_from_slice(args);
    measure(&all, &[("PEN_DOCTOR_ROOT", s(root))])
}

/// The `HOST_FILE_UNREADABLE` finding of a check for the host path `shown`.
#[track_caller]
fn host_file_finding(check: &Value, shown: &str, h: Hostile) {
    let found = check["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "HOST_FILE_UNREADABLE" && f["message"].as_str().unwrap().contains(shown))
        .unwrap_or_else(|| panic!("no HOST_FILE_UNREADABLE for {shown}: {check:#}"));
    assert!(found["message"].as_str().unwrap().contains(h.said()), "{found:#}");
    assert_eq!(found["severity"], "warn", "{found:#}");
}

#[test]
fn hostile_host_files_are_findings_of_the_checks_that_read_them() {
    for h in ALL {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        // A crontab, next to the one that schedules the contingency job.
        std::fs::create_dir_all(r.join("etc/cron.d")).unwrap();
        std::fs::write(r.join("etc/cron.d/sei"), "*/5 * * * * root /opt/sei/verificar-reboot-fila.sh\n").unwrap();
        h.place(&r.join("etc/cron.d/hostile"));
        let run = measure_rooted(r, &["--only", "cron"]);
        run.bounded(0);
        let cron = run.check("cron:pen");
        host_file_finding(cron, "/etc/cron.d/hostile", h);
        assert_eq!(cron["evidence"]["entry"]["file"], "/etc/cron.d/sei", "{cron:#}");

        // A supervisord include.
        std::fs::create_dir_all(r.join("etc/supervisor/conf.d")).unwrap();
        std::fs::write(r.join("etc/supervisor/supervisord.conf"), "[include]\nfiles = conf.d/*.conf\n").unwrap();
        h.place(&r.join("etc/supervisor/conf.d/hostile.conf"));
        let run = measure_rooted(r, &["--only", "supervisor"]);
        run.bounded(0);
        host_file_finding(run.check("supervisor"), "/etc/supervisor/conf.d/hostile.conf", h);

        // gearmand's options file.
        h.place(&r.join("etc/default/gearman-job-server"));
        let run = measure_rooted(r, &["--only", "gearman", "--gearman", "127.0.0.1:9"]);
        run.bounded(1);
        host_file_finding(run.check("gearman"), "/etc/default/gearman-job-server", h);

        // The time daemon's configuration (the daemon found in a fixture /proc).
        std::fs::create_dir_all(r.join("proc/4242")).unwrap();
        std::fs::write(r.join("proc/4242/comm"), "chronyd\n").unwrap();
        h.place(&r.join("etc/chrony.conf"));
        let run = measure_rooted(r, &["--only", "ntp", "--ntp-server", "127.0.0.1:9", "--timeout", "1s"]);
        run.bounded(0);
        host_file_finding(run.check("ntp"), "/etc/chrony.conf", h);
    }
}

#[test]
fn a_gigabyte_log_costs_nothing() {
    let root = tempfile::tempdir().unwrap();
    let log = root.path().join("var/log/gearmand.log");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    let mut f = std::fs::File::create(&log).unwrap();
    f.set_len(1 << 30).unwrap();
    f.seek(SeekFrom::End(0)).unwrap();
    f.write_all(
        b"\nERROR 2026-11-20 socket(): Address family not supported by protocol -> libgearman-server/gearmand.cc:487\n",
    )
    .unwrap();
    drop(f);
    let run = measure_rooted(root.path(), &["--only", "gearman", "--gearman", "127.0.0.1:9"]);
    run.bounded(1);
    let gearman = run.check("gearman");
    let found = finding(gearman, "GEARMAN_IPV6_LISTEN");
    assert!(found["message"].as_str().unwrap().contains("/var/log/gearmand.log"), "{found:#}");
    assert!(run.elapsed < Duration::from_secs(2), "the log was read whole: {run}");
}

/// A FUSE filesystem whose file reads never answer, as a hung network mount: `stall` is a
/// regular file of 100 bytes; reading it blocks until the server dies.
const STALL_FS: &str = r#"
import errno, stat, sys, threading, time
from fusepy import FUSE, Operations, FuseOSError
class Stall(Operations):
    def getattr(self, path, fh=None):
        now = time.time()
        if path == '/':
            return dict(st_mode=stat.S_IFDIR | 0o755, st_nlink=2, st_ctime=now, st_mtime=now, st_atime=now)
        if path == '/stall':
            return dict(st_mode=stat.S_IFREG | 0o644, st_nlink=1, st_size=100, st_ctime=now, st_mtime=now, st_atime=now)
        raise FuseOSError(errno.ENOENT)
    def readdir(self, path, fh):
        return ['.', '..', 'stall']
    def open(self, path, flags):
        return 0
    def read(self, path, size, offset, fh):
        threading.Event().wait()
FUSE(Stall(), sys.argv[1], foreground=True, allow_other=True, direct_io=True)
"#;

/// The stalling filesystem mounted at a directory; unmounted (server killed) on drop.
struct StallFs {
    server: Option<Proc>,
    mount: PathBuf,
}

impl StallFs {
    fn mount(at: &Path) -> StallFs {
        std::fs::create_dir_all(at).unwrap();
        let script = at.parent().unwrap().join("stallfs.py");
        std::fs::write(&script, STALL_FS).unwrap();
        // fusepy is installed for the system interpreter (python3-fusepy).
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.arg(&script).arg(at);
        let server = Proc::spawn_quiet(
            "the FUSE filesystem (/usr/bin/python3 with fusepy: scripts/setup-test-deps installs python3-fusepy and fuse3)",
            cmd,
        );
        let fs = StallFs { server: Some(server), mount: at.to_path_buf() };
        support::node::wait_path(&at.join("stall"));
        fs
    }
}

impl Drop for StallFs {
    fn drop(&mut self) {
        // Killing the server aborts the connection: readers blocked in it get an error.
        drop(self.server.take());
        let _ = Command::new("umount").arg("-l").arg(&self.mount).status();
    }
}

#[test]
fn a_read_that_hangs_cannot_hold_the_deadline_even_on_one_cpu() {
    let root = tempfile::tempdir().unwrap();
    let fs = StallFs::mount(&root.path().join("etc/cron.d"));
    // One CPU: the runtime has a single worker thread, which a blocking read would take.
    let mut cmd = Command::new("taskset");
    cmd.args(["-c", "0", env!("CARGO_BIN_EXE_pen-doctor")]);
    cmd.args(["check", "--only", "cron", "--format", "json", "--deadline", "2s"]);
    cmd.env_clear().env("PATH", CLEAN_PATH).env("PEN_DOCTOR_ROOT", root.path());
    let started = Instant::now();
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    // The report is complete once it parses; the process itself may only exit once the stalled
    // read is released (as with a hung NFS mount), so the report is what is timed.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut chunk) {
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Ok(v) = serde_json::from_slice::<Value>(&buf) {
                let _ = tx.send((v, started.elapsed()));
                return;
            }
        }
    });
    let got = rx.recv_timeout(Duration::from_secs(10));
    drop(fs);
    let _ = child.kill();
    let _ = child.wait();
    let (report, after) = got.expect("no report within 10 s: a blocked read held the run past its 2 s deadline");
    assert!(after < Duration::from_secs(3), "the report came after {after:?}, deadline 2 s");
    let cron = check(&report, "cron:pen").clone();
    assert_eq!(cron["status"], "error", "{cron:#}");
    assert_eq!(codes(&cron), ["RUN_DEADLINE_EXCEEDED"], "{cron:#}");
}

/// A DER length field.
fn der_len(n: usize) -> Vec<u8> {
    if n < 0x80 {
        return vec![n as u8];
    }
    let bytes: Vec<u8> = n.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
    let mut out = vec![0x80 | bytes.len() as u8];
    out.extend(bytes);
    out
}

/// The TLVs of DER content: (tag, whole TLV, content).
fn der_items(mut b: &[u8]) -> Vec<(u8, Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    while b.len() >= 2 {
        let first = b[1] as usize;
        let (len, head) = if first < 0x80 {
            (first, 2)
        } else {
            let n = first & 0x7f;
            (b[2..2 + n].iter().fold(0usize, |a, x| (a << 8) | *x as usize), 2 + n)
        };
        out.push((b[0], b[..head + len].to_vec(), b[head..head + len].to_vec()));
        b = &b[head + len..];
    }
    out
}

fn der_seq(parts: &[Vec<u8>]) -> Vec<u8> {
    let body = parts.concat();
    let mut out = vec![0x30];
    out.extend(der_len(body.len()));
    out.extend(body);
    out
}

/// A PKCS#12 whose MAC asks for `iterations` (the MacData sits outside what the MAC covers, so
/// the file stays well-formed): how a 2^31 file is made in milliseconds.
fn with_mac_iterations(p12: &[u8], iterations: u32) -> Vec<u8> {
    let pfx = der_items(p12);
    let top = der_items(&pfx[0].2);
    let mac = der_items(&top[2].2);
    let mut int = vec![0x02];
    let mut value = iterations.to_be_bytes().to_vec();
    if value[0] & 0x80 != 0 {
        value.insert(0, 0);
    }
    int.extend(der_len(value.len()));
    int.extend(value);
    let mac = der_seq(&[mac[0].1.clone(), mac[1].1.clone(), int]);
    der_seq(&[top[0].1.clone(), top[1].1.clone(), mac])
}

#[test]
fn a_pkcs12_asking_for_two_billion_iterations_is_refused_at_once() {
    let pki = Pki::new();
    let dir = pki.dir();
    let normal = pki.pkcs12_with(&pki.self_signed(LeafSpec::client("iter")), PASS, false, &[]);
    // 2^31 - 1 iterations: OpenSSL derives the MAC key for minutes (2^31 itself overflows its
    // integer and fails at once, which OpenSSL reports as a bad MAC: a wrong password).
    let absurd = dir.join("absurd.p12");
    std::fs::write(&absurd, with_mac_iterations(&std::fs::read(&normal).unwrap(), i32::MAX as u32)).unwrap();
    let overflow = dir.join("overflow.p12");
    std::fs::write(&overflow, with_mac_iterations(&std::fs::read(&normal).unwrap(), 1 << 31)).unwrap();

    // The same file with its real count opens (the crafting kept it well-formed).
    let env = [("CERT_PASS", PASS)];
    let run = measure(&["cert", s(&normal), "--password-env", "CERT_PASS", "--format", "json"], &env);
    assert_eq!(run.check("cert:file")["evidence"]["format"], "PKCS#12", "{run}");
    assert!(!codes(run.check("cert:file")).iter().any(|c| c.contains("PASSWORD") || c.contains("KDF")), "{run}");

    for (file, count) in [(&absurd, "2147483647"), (&overflow, "2147483648")] {
        let run = measure(&["cert", s(file), "--password-env", "CERT_PASS", "--format", "json", "--lang", "en"], &env);
        run.bounded(1);
        assert!(run.elapsed < Duration::from_secs(2), "OpenSSL was left to derive the key: {run}");
        let cert = run.check("cert:file");
        let found = finding(cert, "CLIENT_CERT_KDF_TOO_COSTLY");
        let msg = found["message"].as_str().unwrap();
        assert!(msg.contains(s(file)) && msg.contains(count) && msg.contains("10000000"), "{msg}");
    }

    // In a run, with the other checks.
    let args = ["check", "--only", "cert,ca", "--cert", s(&absurd), "--cert-password-env", "CERT_PASS"];
    let run = measure(&[&args[..], &["--format", "json", "--deadline", DEADLINE]].concat(), &env);
    run.bounded(1);
    assert_eq!(codes(run.check("cert:client")), ["CLIENT_CERT_KDF_TOO_COSTLY"], "{run}");
}

#[test]
fn a_key_cipher_openssl_lacks_is_not_a_wrong_password() {
    let pki = Pki::new();
    let dir = pki.dir();
    let own = pki.self_signed(LeafSpec::client("cipher"));
    let cert = own.cert.clone();
    let good = pki.encrypted_key_der(&own, PASS);
    // aes-256-cbc (2.16.840.1.101.3.4.1.42) becomes 2.16.840.1.101.3.4.1.127, which no OpenSSL knows.
    let aes = [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a];
    let at = good.windows(aes.len()).position(|w| w == aes).expect("aes-256-cbc in the key");
    let mut unknown = good.clone();
    unknown[at + aes.len() - 1] = 0x7f;
    let pem = |der: &[u8]| {
        let b64 = openssl::base64::encode_block(der);
        let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
        format!("-----BEGIN ENCRYPTED PRIVATE KEY-----\n{}\n-----END ENCRYPTED PRIVATE KEY-----\n", lines.join("\n"))
    };
    let cert_pem = std::fs::read_to_string(&cert).unwrap();
    let unsupported = dir.join("unsupported.pem");
    std::fs::write(&unsupported, cert_pem.clone() + &pem(&unknown)).unwrap();
    let normal = dir.join("normal.pem");
    std::fs::write(&normal, cert_pem + &pem(&good)).unwrap();

    let inspect = |file: &Path, password: &str| {
        let run =
            measure(&["cert", s(file), "--password-env", "CERT_PASS", "--format", "json"], &[("CERT_PASS", password)]);
        run.bounded(1);
        run.check("cert:file").clone()
    };
    let right_password_unknown_cipher = inspect(&unsupported, PASS);
    let wrong_password = inspect(&normal, "not the password");
    // The self-made certificate's issuer is not ICP-Brasil (an informative finding): left aside.
    let key_codes =
        |chk: &Value| -> Vec<String> { codes(chk).into_iter().filter(|c| c != "CLIENT_CERT_ISSUER_UNKNOWN").collect() };
    assert_eq!(key_codes(&right_password_unknown_cipher), ["CLIENT_CERT_ALGORITHM_UNSUPPORTED"]);
    assert_eq!(key_codes(&wrong_password), ["CLIENT_CERT_BAD_PASSWORD"]);
    let found = finding(&right_password_unknown_cipher, "CLIENT_CERT_ALGORITHM_UNSUPPORTED");
    assert!(found["message"].as_str().unwrap().contains(s(&unsupported)), "{found:#}");
    // The certificate itself was still read.
    assert!(right_password_unknown_cipher["evidence"]["certificate"]["subject"].as_str().unwrap().contains("cipher"));
}
