//! The command line as a user (or an attacker sharing the machine) meets it, through the real
//! binary: `--output` never follows a planted link and never blocks on a FIFO; every subcommand
//! survives a full disk or a closed pipe on stdout; every bad flag or config value is a one-line
//! usage error naming the flag or the file and line (UNKNOWN and exit 3 in Nagios format);
//! unknown `--only`/`--skip` entries are refused; `check --list` names what they may be.

mod support;

use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

const BIN: &str = env!("CARGO_BIN_EXE_pen-doctor");

/// A quick run that needs nothing from the network: the DNS check of a target given as an IP
/// literal (exit 0).
fn quick_check() -> Vec<String> {
    ["check", "--only", "dns", "--target", "tramita", "--endpoint", "tramita=https://127.0.0.1:1/", "--lang", "en"]
        .map(String::from)
        .to_vec()
}

fn args_with(more: &[&str]) -> Vec<String> {
    let mut a = quick_check();
    a.extend(more.iter().map(|s| s.to_string()));
    a
}

/// `pen-doctor ARGS` with a clean environment.
fn pd(args: &[impl AsRef<std::ffi::OsStr>]) -> Command {
    let mut c = pen_doctor(Host);
    c.args(args);
    c
}

fn assert_no_panic(run: &Run) {
    assert!(!run.stderr.contains("panicked") && !run.stderr.contains("RUST_BACKTRACE"), "{run}");
}

/// Exit 2, one line on stderr naming every needle, nothing on stdout.
#[track_caller]
fn assert_usage(run: &Run, needles: &[&str]) {
    assert_no_panic(run);
    run.assert_code(2);
    assert_eq!(run.stderr.lines().count(), 1, "one line on stderr\n{run}");
    assert!(run.stdout.is_empty(), "{run}");
    for n in needles {
        assert!(run.stderr.contains(n), "stderr should name {n:?}\n{run}");
    }
}

/// Exit 3, one `PEN-DOCTOR UNKNOWN` line on stdout naming every needle, nothing on stderr.
#[track_caller]
fn assert_unknown(run: &Run, needles: &[&str]) {
    assert_no_panic(run);
    run.assert_code(3);
    assert_eq!(run.stdout.lines().count(), 1, "one line on stdout\n{run}");
    assert!(run.stdout.starts_with("PEN-DOCTOR UNKNOWN - "), "{run}");
    assert!(run.stderr.is_empty(), "{run}");
    for n in needles {
        assert!(run.stdout.contains(n), "stdout should name {n:?}\n{run}");
    }
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

// ---------------------------------------------------------------------------------------------
// --output

/// Runs pen-doctor from a shell that first plants `.NAME.PID.tmp` (the temporary name earlier
/// versions used, PID being pen-doctor's own: `exec` keeps the shell's) as a link to `canary`,
/// made by `as_user` (`None`: root).
fn run_with_planted_temp_link(dir: &Path, name: &str, canary: &Path, as_user: Option<u32>, args: &[String]) -> Run {
    let plant = match as_user {
        Some(uid) => format!("setpriv --reuid {uid} --regid {uid} --clear-groups ln -s"),
        None => "ln -s".to_string(),
    };
    let script = format!("{plant} \"$1\" \"$2/.{name}.$$.tmp\" || exit 99; shift 2; exec \"$@\"");
    let mut cmd = Command::new("/bin/sh");
    cmd.env_clear().env("PATH", CLEAN_PATH).arg("-c").arg(script).arg("sh").arg(canary).arg(dir).arg(BIN).args(args);
    let run = cmd.run();
    assert_ne!(run.code, Some(99), "the link was planted\n{run}");
    run
}

#[test]
fn a_link_planted_at_the_old_temporary_name_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let canary = dir.path().join("canary");
    std::fs::write(&canary, "canary\n").unwrap();
    let out = dir.path().join("r.json");
    let run = run_with_planted_temp_link(
        dir.path(),
        "r.json",
        &canary,
        None,
        &args_with(&["--format", "json", "--output", out.to_str().unwrap()]),
    );
    run.assert_code(0);
    assert_eq!(std::fs::read_to_string(&canary).unwrap(), "canary\n", "the canary is untouched");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(report["schema_version"], 1);
    assert!(std::fs::symlink_metadata(&out).unwrap().is_file());
    // Only the canary, the planted link and the report: no temporary file left behind.
    assert_eq!(file_names(dir.path()).len(), 3, "{:?}", file_names(dir.path()));
}

#[test]
fn as_root_in_a_sticky_world_writable_directory_planted_links_leave_the_canary_untouched() {
    assert_eq!(unsafe { libc::geteuid() }, 0, "this test runs as root, as the suite does");
    let private = tempfile::tempdir().unwrap();
    let canary = private.path().join("shadow");
    std::fs::write(&canary, "root:secret-hash:19000::::::\n").unwrap();
    std::fs::set_permissions(&canary, std::fs::Permissions::from_mode(0o600)).unwrap();
    let shared = tempfile::tempdir().unwrap();
    std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let nobody = 65534;

    // A link at the temporary name of earlier versions: not followed, the report is written.
    let out = shared.path().join("pen.prom");
    let args = args_with(&["--format", "prometheus", "--output", out.to_str().unwrap()]);
    let run = run_with_planted_temp_link(shared.path(), "pen.prom", &canary, Some(nobody), &args);
    run.assert_code(0);
    assert_eq!(std::fs::read_to_string(&canary).unwrap(), "root:secret-hash:19000::::::\n");
    assert!(std::fs::read_to_string(&out).unwrap().starts_with("# HELP pen_doctor_up"));

    // The target name itself planted by another user: refused, named, nothing written.
    let planted = shared.path().join("planted.prom");
    let status = Command::new("setpriv")
        .args(["--reuid", "65534", "--regid", "65534", "--clear-groups", "ln", "-s"])
        .arg(&canary)
        .arg(&planted)
        .status()
        .unwrap();
    assert!(status.success());
    let run = pd(&args_with(&["--format", "prometheus", "--output", planted.to_str().unwrap()])).run();
    assert_no_panic(&run);
    run.assert_code(2);
    assert!(run.stderr.contains(planted.to_str().unwrap()) && run.stderr.contains("symbolic link"), "{run}");
    assert_eq!(std::fs::read_to_string(&canary).unwrap(), "root:secret-hash:19000::::::\n");
    assert!(std::fs::symlink_metadata(&planted).unwrap().file_type().is_symlink(), "the link is left alone");
    // Same in Nagios format: UNKNOWN, exit 3.
    let run = pd(&args_with(&["--format", "nagios", "--output", planted.to_str().unwrap()])).run();
    assert_unknown(&run, &["symbolic link"]);
    assert_eq!(std::fs::read_to_string(&canary).unwrap(), "root:secret-hash:19000::::::\n");
}

#[test]
fn the_temporary_file_has_an_unpredictable_name_created_exclusively() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let mut names = Vec::new();
    for _ in 0..2 {
        let log = dir.path().join("strace.log");
        let mut args =
            vec!["-f".to_string(), "-qq".into(), "-e".into(), "trace=openat,rename,renameat,renameat2".into()];
        args.extend(["-o".to_string(), log.display().to_string(), BIN.to_string()]);
        args.extend(args_with(&["--format", "json", "--output", out.to_str().unwrap()]));
        let run = Command::new("strace").args(&args).env_clear().env("PATH", CLEAN_PATH).run();
        run.assert_code(0);
        let log = std::fs::read_to_string(&log).unwrap();
        std::fs::remove_file(dir.path().join("strace.log")).unwrap();
        let dir_text = dir.path().display().to_string();
        let creates: Vec<&str> =
            log.lines().filter(|l| l.contains("openat(") && l.contains("O_CREAT") && l.contains(&dir_text)).collect();
        assert_eq!(creates.len(), 1, "one file created in the directory:\n{log}");
        let line = creates[0];
        assert!(line.contains("O_EXCL"), "created exclusively: {line}");
        let name = line.split('"').nth(1).unwrap().to_string();
        let pid = line.split_whitespace().next().unwrap();
        assert!(!name.contains(&format!(".{pid}.")), "the name does not carry the pid: {name}");
        assert!(log.lines().any(|l| l.contains("rename") && l.contains(&name)), "renamed into place:\n{log}");
        names.push(name);
        assert_eq!(file_names(dir.path()), ["r.json"], "only the report is left");
    }
    assert_ne!(names[0], names[1], "two runs use two different temporary names");
}

#[test]
fn a_fifo_nobody_reads_is_an_error_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("report.fifo");
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let run =
        pd(&args_with(&["--deadline", "2s", "--output", fifo.to_str().unwrap()])).run_for(Duration::from_secs(10));
    assert_no_panic(&run);
    run.assert_code(2);
    assert!(run.elapsed < Duration::from_secs(3), "{run}");
    assert!(run.stderr.contains(fifo.to_str().unwrap()) && run.stderr.contains("no process is reading"), "{run}");
    let run =
        pd(&args_with(&["--format", "nagios", "--output", fifo.to_str().unwrap()])).run_for(Duration::from_secs(10));
    assert_unknown(&run, &["no process is reading"]);
}

#[test]
fn a_fifo_whose_reader_stops_reading_ends_within_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("report.fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    // A reader that never reads, and a pipe already full.
    let _reader = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(&fifo).unwrap();
    let mut filler = std::fs::OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(&fifo).unwrap();
    let chunk = [b'x'; 4096];
    loop {
        match std::io::Write::write(&mut filler, &chunk) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("filling the FIFO: {e}"),
        }
    }
    let run =
        pd(&args_with(&["--deadline", "2s", "--output", fifo.to_str().unwrap()])).run_for(Duration::from_secs(20));
    assert_no_panic(&run);
    run.assert_code(2);
    assert!(run.elapsed < Duration::from_secs(3), "ends within --deadline + 1 s\n{run}");
    assert!(run.stderr.contains(fifo.to_str().unwrap()) && run.stderr.contains("deadline"), "{run}");
}

#[test]
fn output_paths_stdout_dash_devices_and_missing_directories() {
    // `-` is stdout.
    let run = pd(&args_with(&["--format", "json", "--output", "-"])).run();
    run.assert_code(0);
    assert_eq!(run.json()["schema_version"], 1);
    // /dev/stdout is a link the system made: followed, the report reaches the pipe.
    let run = pd(&args_with(&["--format", "json", "--output", "/dev/stdout"])).run();
    run.assert_code(0);
    assert_eq!(run.json()["schema_version"], 1);
    // A device is written in place.
    pd(&args_with(&["--output", "/dev/null"])).run().assert_code(0);
    assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device_like());
    // A missing directory is named, before the run.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/dir/r.json");
    let run = pd(&args_with(&["--output", missing.to_str().unwrap()])).run();
    assert_usage(&run, &["--output", &dir.path().join("no/such/dir").display().to_string(), "does not exist"]);
    let run = pd(&args_with(&["--format", "nagios", "--output", missing.to_str().unwrap()])).run();
    assert_unknown(&run, &["does not exist"]);
    // A directory is not a file.
    let run = pd(&args_with(&["--output", dir.path().to_str().unwrap()])).run();
    assert_usage(&run, &["is a directory"]);
}

trait CharDevice {
    fn is_char_device_like(&self) -> bool;
}

impl CharDevice for std::fs::FileType {
    fn is_char_device_like(&self) -> bool {
        std::os::unix::fs::FileTypeExt::is_char_device(self)
    }
}

#[test]
fn a_replaced_file_keeps_its_permission_bits() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pen.prom");
    std::fs::write(&out, "old\n").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).unwrap();
    pd(&args_with(&["--format", "prometheus", "--output", out.to_str().unwrap()])).run().assert_code(0);
    assert_eq!(std::fs::metadata(&out).unwrap().mode() & 0o777, 0o644, "a collector running as another user reads it");
}

// ---------------------------------------------------------------------------------------------
// stdout: a full disk and a closed pipe, for every subcommand

struct Inputs {
    _dir: tempfile::TempDir,
    report: PathBuf,
    cert: PathBuf,
}

fn inputs() -> Inputs {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("node.json");
    pd(&args_with(&["--format", "json", "--output", report.to_str().unwrap()])).run().assert_code(0);
    let cert = dir.path().join("not-a-cert.pem");
    std::fs::write(&cert, "not a certificate\n").unwrap();
    Inputs { _dir: dir, report, cert }
}

/// Every subcommand that writes to stdout, with the exit code of a normal run.
fn every_subcommand(i: &Inputs) -> Vec<(Vec<String>, i32)> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let report = i.report.to_str().unwrap();
    let cert = i.cert.to_str().unwrap();
    vec![
        (quick_check(), 0),
        (args_with(&["--format", "nagios"]), 0),
        (args_with(&["--format", "json"]), 0),
        (s(&["check", "--list"]), 0),
        (s(&["explain", "DNS_NXDOMAIN"]), 0),
        (s(&["kb", "list"]), 0),
        (s(&["kb", "show", "TRAMITA-FALHA-COMUNICACAO"]), 0),
        (s(&["cert", cert]), 1),
        (s(&["cert", cert, "--format", "nagios"]), 2),
        (s(&["cert", cert, "--format", "json"]), 1),
        (s(&["merge", report, report]), 0),
        (s(&["diff", report, report]), 0),
        (s(&["completions", "bash"]), 0),
        (s(&["man"]), 0),
        (s(&["man", "check"]), 0),
        (s(&["--version"]), 0),
        (s(&["--help"]), 0),
        (s(&["check", "--help"]), 0),
    ]
}

#[test]
fn a_full_disk_on_stdout_is_one_error_line_and_a_failing_exit_for_every_subcommand() {
    let i = inputs();
    for (args, normal) in every_subcommand(&i) {
        let mut cmd = Command::new("/bin/sh");
        cmd.env_clear().env("PATH", CLEAN_PATH).args(["-c", "exec \"$@\" > /dev/full", "sh", BIN]).args(&args);
        let run = cmd.run();
        let nagios = args.iter().any(|a| a == "nagios");
        assert_no_panic(&run);
        // The normal exit code first: the run itself works.
        pd(&args).run().assert_code(normal);
        run.assert_code(if nagios { 3 } else { 2 });
        assert_eq!(run.stderr.lines().count(), 1, "said once\n{run}");
        assert!(run.stderr.contains("cannot write to stdout") && run.stderr.contains("No space left"), "{run}");
    }
}

#[test]
fn a_closed_pipe_on_stdout_ends_quietly_with_the_runs_exit_code_for_every_subcommand() {
    let i = inputs();
    for (args, normal) in every_subcommand(&i) {
        // The reading end is closed before pen-doctor starts: its first write meets EPIPE.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let err_file = tempfile::NamedTempFile::new().unwrap();
        let mut child = pen_doctor(Host)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(writer)
            .stderr(err_file.reopen().unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                panic!("{args:?} still running after 60 s");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let stderr = std::fs::read_to_string(err_file.path()).unwrap();
        assert!(stderr.is_empty(), "{args:?}: nothing on stderr, got: {stderr}");
        assert_eq!(status.code(), Some(normal), "{args:?} exits as the run would ({status})");
    }
}

// ---------------------------------------------------------------------------------------------
// Flag values

/// Bad values of every validated flag, with what the error must name besides the flag.
const BAD_VALUES: &[(&str, &str, &str)] = &[
    ("--db", "ftp://u@db.test/sei", "ftp"),
    ("--db", "mysql://u@db.test:0/sei", "port 0"),
    ("--db", "mysql:///sei", "no host"),
    ("--db", "not a url", "not a URL"),
    ("--gearman", "127.0.0.1:4730:4730", "HOST:PORT"),
    ("--gearman", "127.0.0.1:0", "port 0"),
    ("--gearman", "127.0.0.1:99999", "invalid port"),
    ("--supervisor", "ftp://127.0.0.1:9001", "ftp"),
    ("--supervisor", "unix://relative.sock", "unix:///"),
    ("--supervisor", "http://127.0.0.1:0", "port 0"),
    ("--supervisor", "https://127.0.0.1:9001", "plain HTTP"),
    ("--ntp-server", "a.ntp.br:0", "port 0"),
    ("--ntp-server", "a b", "invalid host"),
    ("--endpoint", "tramita=ftp://h.test/", "ftp"),
    ("--endpoint", "tramita=https://h.test:0/", "port 0"),
    ("--endpoint", "tramita=http://ftp::", "not a URL"),
    ("--endpoint", "marte=https://h.test/", "unknown target"),
    ("--webhook", "bad\nname=https://h.test/", "webhook name"),
    ("--webhook", "https://h.test:0/", "port 0"),
    ("--webhook", "ftp://h.test/", "ftp"),
    ("--resolve", "h.test:0:127.0.0.1", "port 0"),
    ("--resolve", "h.test:443", "HOST:PORT:ADDR"),
    ("--dns-server", "127.0.0.1:0", "port 0"),
    ("--dns-server", "resolver", "IP[:PORT]"),
    ("--proxy", "socks5://p.test:1080", "socks5"),
    ("--proxy", "p.test:0", "port 0"),
    ("--timeout", "-5s", "-5s"),
    ("--deadline", "0s", "duration"),
    ("--ntp-warn", "soon", "duration"),
    ("--target", "marte", "unknown target"),
    ("--pi-user", "a\u{1b}[31mb", "control characters"),
    ("--cert-password-env", "A=B", "environment variable"),
];

#[test]
fn every_bad_flag_value_is_one_line_naming_the_flag() {
    for (flag, value, why) in BAD_VALUES {
        let run = pd(&args_with(&[flag, value])).run();
        assert_usage(&run, &[flag, why]);
        assert!(!run.stderr.contains('\u{1b}'), "no raw escape reaches the terminal\n{run}");
        // With --format nagios, before or after the bad flag: UNKNOWN, exit 3.
        let mut before = vec!["check", "--format", "nagios"];
        before.extend([*flag, *value]);
        assert_unknown(&pd(&before).run(), &[flag, why]);
        assert_unknown(&pd(&args_with(&[flag, value, "--format=nagios"])).run(), &[flag, why]);
    }
}

#[test]
fn usage_errors_never_show_a_password_given_in_a_url() {
    for (flag, value) in [
        ("--webhook", "https://u:S3cretPw@h.test:0/"),
        ("--db", "ftp://u:S3cretPw@db.test/sei"),
        ("--db", "mysql://u:S3cretPw@db.test:99999/sei"),
        ("--proxy", "socks5://u:S3cretPw@p.test:1080"),
        ("--endpoint", "tramita=https://u:S3cretPw@h.test:0/"),
        ("--supervisor", "http://u:S3cretPw@127.0.0.1:9001"),
    ] {
        let run = pd(&args_with(&[flag, value])).run();
        assert_usage(&run, &[flag]);
        assert!(!run.stderr.contains("S3cretPw"), "{run}");
    }
}

#[test]
fn clap_errors_in_nagios_format_are_unknown_in_any_order() {
    assert_usage(&pd(&["check", "--bogus"]).run(), &["--bogus"]);
    assert_unknown(&pd(&["check", "--bogus", "--format", "nagios"]).run(), &["--bogus"]);
    assert_unknown(&pd(&["check", "--format", "nagios", "--bogus"]).run(), &["--bogus"]);
    assert_unknown(&pd(&["check", "--format=nagios", "--env", "marte"]).run(), &["--env", "marte"]);
    assert_unknown(&pd(&["check", "--format", "nagios", "--strict=yes"]).run(), &["--strict"]);
    // The format asked by the --config file counts too.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pen-doctor.toml");
    std::fs::write(&file, "format = \"nagios\"\n").unwrap();
    let path = file.to_str().unwrap();
    assert_unknown(&pd(&["check", "--bogus", "--config", path]).run(), &["--bogus"]);
    assert_unknown(&pd(&["check", "--config", path, "--gearman", "h:0"]).run(), &["--gearman"]);
    // A --format flag wins over the file.
    assert_usage(&pd(&["check", "--config", path, "--format", "json", "--bogus"]).run(), &["--bogus"]);
    // cert speaks Nagios too.
    assert_unknown(
        &pd(&["cert", "/nonexistent.pem", "--format", "nagios", "--password-env", "PD_NO_SUCH_VAR"]).run(),
        &["PD_NO_SUCH_VAR"],
    );
}

#[test]
fn a_bad_value_in_the_config_file_is_blamed_on_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pen-doctor.toml");
    let path = file.to_str().unwrap();
    for (text, line, key) in [
        ("env = \"producao\"\n\ntimeout = \"-5s\"\n", 3, "timeout"),
        ("gearman = \"127.0.0.1:4730:4730\"\n", 1, "gearman"),
        ("target = [\"tramita\"]\nendpoint = [\"tramita=ftp://h.test/\"]\n", 2, "endpoint"),
        ("webhook = [\"a\\nb=https://h.test/\"]\n", 1, "webhook"),
        ("only = [\"dns\",\n  \"tsl\"]\n", 2, "only"),
    ] {
        std::fs::write(&file, text).unwrap();
        let run = pd(&["check", "--config", path]).run();
        assert_usage(&run, &[&format!("{path}:{line}"), key]);
        assert!(!run.stderr.contains(&format!("--{key}")), "not blamed on a flag never given\n{run}");
        // Nagios asked in the file itself.
        std::fs::write(&file, format!("format = \"nagios\"\n{text}")).unwrap();
        assert_unknown(&pd(&["check", "--config", path]).run(), &[&format!("{path}:{}", line + 1), key]);
    }
}

#[test]
fn every_toml_error_in_the_config_file_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pen-doctor.toml");
    let path = file.to_str().unwrap();
    let deep = vec!["a"; 5000].join(".");
    for (text, line) in [
        (format!("env = \"producao\"\n{deep} = 1\n"), 2),
        ("env = \"producao\"\ntimeout = \"2s\"\nenv = \"homologacao\"\n".to_string(), 3),
        ("timeout = \"2s\"\n[a]\nb = 1\n".to_string(), 2),
        (format!("\n\ntarget = {}\"tramita\"{}\n", "[".repeat(5000), "]".repeat(5000)), 3),
        ("\"\\u001b[31m\" = 1\n".to_string(), 1),
    ] {
        std::fs::write(&file, &text).unwrap();
        let run = pd(&["check", "--config", path]).run();
        assert_usage(&run, &[&format!("{path}:{line}:")]);
        assert!(run.stderr.len() < 1000, "a short line\n{run}");
        assert!(!run.stderr.contains('\u{1b}'), "{run}");
    }
}

#[test]
fn a_flood_of_repeated_flags_is_a_usage_error_saying_the_limit() {
    let mut args = quick_check();
    for i in 0..10_000 {
        args.push("--ntp-server".into());
        args.push(format!("ntp{i}.test"));
    }
    let run = pd(&args).run();
    assert_usage(&run, &["--ntp-server", "10000", "at most 64"]);
    assert!(run.stderr.len() < 300, "{run}");
    let run = pd(&[args.clone(), vec!["--format".into(), "nagios".into()]].concat()).run();
    assert_unknown(&run, &["--ntp-server", "at most 64"]);
    let many = (0..10_000).map(|i| format!("tramita{i}")).collect::<Vec<_>>().join(",");
    assert_usage(&pd(&args_with(&["--skip", &many])).run(), &["--skip"]);
    // The same in the file: its line.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pen-doctor.toml");
    let list = (0..10_000).map(|i| format!("\"ntp{i}.test\"")).collect::<Vec<_>>().join(", ");
    std::fs::write(&file, format!("timeout = \"2s\"\nntp-server = [{list}]\n")).unwrap();
    let run = pd(&["check", "--config", file.to_str().unwrap()]).run();
    assert_usage(&run, &[":2:", "ntp-server", "at most 64"]);
    assert!(run.stderr.len() < 500, "{run}");
}

// ---------------------------------------------------------------------------------------------
// --only / --skip and check --list

#[test]
fn unknown_selectors_are_a_usage_error_listing_the_valid_names() {
    let run = pd(&args_with(&["--only", "tsl"])).run();
    assert_usage(&run, &["--only", "'tsl'", "did you mean 'tls'", "dns", "tramita", "check --list"]);
    let run = pd(&args_with(&["--format", "nagios", "--only", "tsl"])).run();
    assert_unknown(&run, &["--only", "'tsl'"]);
    // An id this run does not have: the message lists the ids it has.
    let run = pd(&args_with(&["--skip", "tls:tramitaa"])).run();
    assert_usage(&run, &["--skip", "'tls:tramitaa'", "did you mean 'tls:tramita'", "dns:tramita"]);
    let run = pd(&args_with(&["--only", "webhook:sefaz", "--format", "nagios"])).run();
    assert_unknown(&run, &["'webhook:sefaz'"]);
    let run = pd(&args_with(&["--only", "dns,"])).run();
    assert_usage(&run, &["--only"]);
    // From the config file: blamed on the file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pen-doctor.toml");
    std::fs::write(&file, "skip = [\"tls:pendencia\"]\n").unwrap();
    let mut a = quick_check();
    a.extend(["--config".into(), file.display().to_string()]);
    assert_usage(&pd(&a).run(), &[&file.display().to_string(), "skip", "'tls:pendencia'"]);
    // Valid names of every kind still work.
    let run =
        pd(&args_with(&["--only", "dns:tramita,tramita", "--skip", "tcp,http,tls:tramita", "--format", "json"])).run();
    run.assert_code(0);
}

#[test]
fn check_list_names_the_checks_the_ids_of_this_run_and_the_targets() {
    let run = pd(&[
        "check",
        "--list",
        "--lang",
        "en",
        "--target",
        "tramita,pendencias",
        "--webhook",
        "sefaz=https://127.0.0.1:1/",
    ])
    .run();
    run.assert_code(0);
    for needle in [
        "tls ",
        "TLS handshake",
        "webhook ",
        "tls:tramita",
        "http:pendencias",
        "webhook:sefaz",
        "ntp",
        "protocolo-integrado",
        "pucomex",
    ] {
        assert!(run.stdout.contains(needle), "{needle}\n{run}");
    }
    // In Portuguese by default.
    assert!(pd(&["check", "--list"]).run().stdout.contains("Verificações"));
    // Every id it lists is accepted by --only/--skip.
    let ids: Vec<&str> = run
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("Ids"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    assert!(ids.len() >= 9, "{ids:?}");
    let all = ids.join(",");
    let run = pd(&[
        "check",
        "--target",
        "tramita,pendencias",
        "--webhook",
        "sefaz=https://127.0.0.1:1/",
        "--only",
        &all,
        "--skip",
        &all,
        "--format",
        "json",
    ])
    .run();
    run.assert_code(0);
}

#[test]
fn a_full_disk_on_stderr_does_not_crash_the_error_path() {
    for args in [vec!["check", "--bogus"], vec!["explain", "NO_SUCH_CODE"], vec!["check", "--gearman", "h:0"]] {
        let mut cmd = Command::new("/bin/sh");
        cmd.env_clear().env("PATH", CLEAN_PATH).args(["-c", "exec \"$@\" 2> /dev/full", "sh", BIN]).args(&args);
        let run = cmd.run();
        run.assert_code(2);
    }
    // Both streams full: the report is lost, the exit code still says so.
    let mut cmd = Command::new("/bin/sh");
    cmd.env_clear().env("PATH", CLEAN_PATH).args(["-c", "exec \"$@\" > /dev/full 2>&1", "sh", BIN]).args(quick_check());
    cmd.run().assert_code(2);
}
