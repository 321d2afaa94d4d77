//! pen-doctor is read-only on the host: a full run, traced by strace, opens no file for writing,
//! creates, renames, removes or changes the mode of nothing but its own `--output` file.

use std::path::Path;
use std::process::Command;

/// The syscalls that change the file system.
const MODIFYING: &[&str] = &[
    "creat",
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "renameat2",
    "mkdir",
    "mkdirat",
    "rmdir",
    "truncate",
    "chmod",
    "fchmodat",
    "chown",
    "fchownat",
    "lchown",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "utimensat",
];

fn traced_run(out_dir: &Path, args: &[&str]) -> (String, i32) {
    let log = out_dir.join("strace.log");
    let report = out_dir.join("report.json");
    let trace = format!("trace=open,openat,openat2,connect,sendto,{}", MODIFYING.join(","));
    let status = Command::new("strace")
        .args(["-f", "-qq", "-e", &trace, "-o"])
        .arg(&log)
        .arg(env!("CARGO_BIN_EXE_pen-doctor"))
        .args(args)
        .arg("--output")
        .arg(&report)
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .status()
        .expect("strace runs (package strace)");
    assert!(report.exists(), "the report was written to --output");
    (std::fs::read_to_string(&log).expect("strace log"), status.code().unwrap_or(-1))
}

/// The strace lines that modify something outside `allowed_dir`.
fn writes_outside(log: &str, allowed_dir: &Path) -> Vec<String> {
    let allowed = allowed_dir.to_string_lossy().to_string();
    log.lines()
        .filter(|l| !l.contains("= -1 ") && !l.contains("resumed>"))
        .filter(|l| {
            let is_open = l.contains("open(") || l.contains("openat(") || l.contains("openat2(");
            let writes = if is_open {
                ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND"].iter().any(|f| l.contains(f))
            } else {
                MODIFYING
                    .iter()
                    .any(|s| l.split_whitespace().nth(1).is_some_and(|call| call.starts_with(&format!("{s}("))))
            };
            writes
        })
        .filter(|l| !l.contains(&allowed) && !l.contains("\"/dev/null\"") && !l.contains("\"/dev/tty\""))
        .map(str::to_string)
        .collect()
}

/// The network peers a traced run addressed (connect/sendto with an inet address) that are not
/// on loopback.
fn peers_off_loopback(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains("connect(") || l.contains("sendto("))
        .filter_map(|l| {
            let addr = l.split("inet_addr(\"").nth(1).or_else(|| l.split("inet_pton(AF_INET6, \"").nth(1))?;
            let addr = addr.split('"').next()?.to_string();
            (!addr.starts_with("127.") && addr != "::1" && addr != "0.0.0.0").then_some(addr)
        })
        .collect()
}

#[test]
fn a_full_run_writes_nothing_but_its_output() {
    let dir = tempfile::tempdir().unwrap();
    let sei = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sei/modpen4");
    let (log, code) = traced_run(
        dir.path(),
        &[
            "check",
            "--sei-dir",
            sei,
            "--format",
            "json",
            "--timeout",
            "300ms",
            "--endpoint",
            "tramita=https://127.0.0.1:1/",
            "--endpoint",
            "pendencias=https://127.0.0.1:2/",
            "--endpoint",
            "protocolo-integrado=https://127.0.0.1:3/ProtocoloWS/integradorService?wsdl",
            "--ntp-server",
            "127.0.0.1:1",
        ],
    );
    assert!(code == 0 || code == 1, "the run itself worked (exit {code})");
    let opened = log.lines().filter(|l| l.contains("open")).count();
    assert!(opened > 5, "strace saw the run's file accesses:\n{log}");
    let bad = writes_outside(&log, dir.path());
    assert!(bad.is_empty(), "writes outside --output:\n{}", bad.join("\n"));
    // Every endpoint of this run is on loopback: nothing else may be contacted.
    let peers = peers_off_loopback(&log);
    assert!(peers.is_empty(), "the run contacted {peers:?}");
    assert!(log.contains("inet_addr(\"127.0.0.1\")"), "strace saw the run's connections");
}

#[test]
fn the_trace_filter_does_catch_a_write() {
    // The same filter applied to a program that does write: guards the test above against
    // passing because it cannot see anything.
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("written");
    let log = dir.path().join("strace.log");
    let trace = format!("trace=open,openat,openat2,{}", MODIFYING.join(","));
    Command::new("strace")
        .args(["-f", "-qq", "-e", &trace, "-o"])
        .arg(&log)
        .args(["sh", "-c"])
        .arg(format!("echo x > {} && mkdir {}/d", target.display(), outside.path().display()))
        .status()
        .unwrap();
    let log = std::fs::read_to_string(&log).unwrap();
    let bad = writes_outside(&log, dir.path());
    assert!(bad.len() >= 2, "write and mkdir seen: {bad:?}");
    // The peer filter reads strace's address notation (lines as strace prints them).
    let lines =
        "12 connect(9, {sa_family=AF_INET, sin_port=htons(4730), sin_addr=inet_addr(\"192.0.2.7\")}, 16) = -1\n\
                 12 connect(9, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr(\"127.0.0.1\")}, 16) = 0\n";
    assert_eq!(peers_off_loopback(lines), ["192.0.2.7"]);
}
