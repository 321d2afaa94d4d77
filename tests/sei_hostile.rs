//! The SEI configuration reader against hostile and broken installations, through the real
//! binary: chains deep enough to overflow a recursive reader, inputs that once made it
//! quadratic, a configuration on a filesystem that hardly answers, and a report nobody reads.
//! Each ends with a finding that names the file and line (never its text) within `--deadline`,
//! and the run always ends by `--deadline` + 1 s.

mod support;
use serde_json::Value;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

const SECRET: &str = "S3nh4-Hostil";

/// A temporary SEI tree holding `files` (path under the SEI root, content).
fn sei_tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = temp_dir("pdt-sei-hostile");
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

/// `pen-doctor check --sei-dir DIR --only config --format json --deadline DEADLINE`.
fn check_config(dir: &Path, deadline: &str) -> Run {
    pen_doctor(Host)
        .arg("check")
        .arg("--sei-dir")
        .arg(dir)
        .args(["--only", "config", "--format", "json", "--deadline", deadline])
        .run()
}

/// The `config:sei` entry of a JSON report.
#[track_caller]
fn config_sei(run: &Run) -> Value {
    run.check("config:sei").clone()
}

/// A ConfiguracaoSEI.php enabling PEN, with `producao` as the value of `SEI > Producao` on line 5.
fn sei_config(producao: &str) -> String {
    format!(
        "<?\nclass ConfiguracaoSEI extends InfraConfiguracao {{\n  public function getArrConfiguracoes() {{\n    return array('SEI' => array(\n      'Producao' => {producao},\n      'Modulos' => array('PENIntegracao' => 'pen')));\n  }}\n}}\n"
    )
}

#[test]
fn a_30000_link_chain_in_producao_is_unreadable_at_its_line() {
    // ~150 KB: the file that made the reader overflow its stack and abort.
    let chain = format!("{}true", "X ?: ".repeat(30_000));
    let dir = sei_tree(&[("config/ConfiguracaoSEI.php", &sei_config(&chain))]);
    let run = check_config(dir.path(), "5s");
    run.assert_code(1);
    assert!(!run.stderr.contains("overflow"), "{run}");
    let check = config_sei(&run);
    assert_eq!(check["status"], "fail", "{run}");
    let f = finding(&check, "SEI_CONFIG_UNREADABLE");
    assert_eq!(f["params"]["line"], "5", "{run}");
    assert!(f["params"]["location"].as_str().is_some_and(|l| l.ends_with("config/ConfiguracaoSEI.php:5")), "{run}");
    assert!(f["params"]["error"].as_str().is_some_and(|e| e.contains("nesting deeper than 64 levels")), "{run}");
    assert!(run.elapsed < Duration::from_secs(5), "{run}");
}

#[test]
fn deep_chains_in_webservice_or_senhacertificado_name_the_line_never_the_text() {
    for (key, unit) in [
        ("WebService", "X ?: "),
        ("SenhaCertificado", "X ?: "),
        ("SenhaCertificado", "$a ? 1 : "),
        ("WebService", "('x' . "),
        ("SenhaCertificado", "["),
    ] {
        let pen = format!(
            "<?\nclass ConfiguracaoModPEN extends InfraConfiguracao {{\n  public function getArrConfiguracoes() {{\n    return array(\"PEN\" => array(\n      \"LocalizacaoCertificado\" => '/opt/sei/config/mod-pen/certificado.pem',\n      \"{key}\" => '{SECRET}' . {}1\n    ));\n  }}\n}}\n",
            unit.repeat(30_000)
        );
        let dir = sei_tree(&[
            ("config/ConfiguracaoSEI.php", &sei_config("true")),
            ("config/mod-pen/ConfiguracaoModPEN.php", &pen),
        ]);
        let run = check_config(dir.path(), "5s");
        run.assert_code(1);
        let check = config_sei(&run);
        let f = finding(&check, "SEI_CONFIG_UNREADABLE");
        assert_eq!(f["params"]["line"], "6", "{key} {unit}: {run}");
        assert!(
            f["params"]["location"].as_str().is_some_and(|l| l.ends_with("mod-pen/ConfiguracaoModPEN.php:6")),
            "{run}"
        );
        assert!(!run.stdout.contains("S3nh4") && !run.stderr.contains("S3nh4"), "{run}");
    }
}

#[test]
fn inputs_that_were_quadratic_end_well_within_the_deadline() {
    let mut subscripts = String::from("<?php\nreturn array('SEI' => array(\n'URL' => $a");
    let mut members = subscripts.clone();
    while subscripts.len() < 3_900_000 {
        subscripts.push_str("[0]");
        members.push_str("->b");
    }
    subscripts.push_str("));\n");
    members.push_str("));\n");
    let ternaries = format!("<?php\nreturn array('SEI' => array(\n'URL' => {}1));\n", "$a ? 1 : ".repeat(200_000));
    for (name, text) in
        [("ternaries (1.8 MB)", ternaries), ("subscripts (3.9 MB)", subscripts), ("members (3.9 MB)", members)]
    {
        let dir = sei_tree(&[("config/ConfiguracaoSEI.php", &text)]);
        let run = check_config(dir.path(), "5s");
        run.assert_code(1);
        let check = config_sei(&run);
        // Read and refused by the reader itself: neither the discovery budget nor the deadline.
        let f = finding(&check, "SEI_CONFIG_UNREADABLE");
        assert_eq!(f["params"]["line"], "3", "{name}: {run}");
        assert!(run.elapsed < Duration::from_secs(5), "{name} took {:?}", run.elapsed);
    }
}

#[test]
fn discovery_on_a_filesystem_that_hardly_answers_ends_by_the_deadline() {
    // The SEI tree on a network filesystem whose every read takes half a second: reading the
    // 4 MiB configuration would take over 15 s.
    let work = temp_dir("pdt-slowfs");
    let source = work.path().join("sei");
    let mountpoint = work.path().join("mnt");
    std::fs::create_dir_all(source.join("config")).unwrap();
    std::fs::create_dir_all(&mountpoint).unwrap();
    let mut text = sei_config("true");
    text.push_str("/* ");
    text.push_str(&"comentário longo ".repeat(4_000_000 / 18));
    text.push_str(" */\n");
    std::fs::write(source.join("config/ConfiguracaoSEI.php"), &text).unwrap();
    let _fs = SlowFs::mount(&source, &mountpoint, Duration::from_millis(500));

    let run = check_config(&mountpoint, "2s");
    assert!(run.elapsed < Duration::from_secs(3), "not ended by the deadline + 1 s\n{run}");
    run.assert_code(1);
    let check = config_sei(&run);
    assert_eq!(check["status"], "fail", "{run}");
    let f = finding(&check, "SEI_CONFIG_TIMEOUT");
    assert_eq!(f["params"]["budget"], "1s", "{run}");
    assert_eq!(f["params"]["path"], mountpoint.display().to_string(), "{run}");
}

/// A pipe whose buffer is already full: whoever writes to it blocks until someone reads.
fn full_pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 returns.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both descriptors were just created and are owned here alone.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let w = write.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own; filling it non-blocking, then blocking again.
    unsafe {
        let flags = libc::fcntl(w, libc::F_GETFL);
        libc::fcntl(w, libc::F_SETFL, flags | libc::O_NONBLOCK);
        let chunk = [b'x'; 4096];
        while libc::write(w, chunk.as_ptr().cast(), chunk.len()) > 0 {}
        libc::fcntl(w, libc::F_SETFL, flags);
    }
    (read, write)
}

#[test]
fn a_report_nobody_reads_still_ends_the_run_by_the_deadline() {
    let modpen4 = support::node::sei_fixture("modpen4");
    for (format, code) in [("json", 1), ("nagios", 3)] {
        // stdout is a pipe whose reader never reads: writing the report blocks for ever.
        let (_reader, writer) = full_pipe();
        let started = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_pen-doctor"))
            .env_clear()
            .env("PATH", CLEAN_PATH)
            .arg("check")
            .arg("--sei-dir")
            .arg(&modpen4)
            .args(["--only", "config", "--format", format, "--deadline", "1s"])
            .stdin(Stdio::null())
            .stdout(Stdio::from(writer))
            .stderr(Stdio::piped())
            .spawn()
            .expect("start pen-doctor");
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if started.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{format}: still running after 10 s");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let elapsed = started.elapsed();
        let mut stderr = String::new();
        let _ = child.stderr.take().expect("stderr").read_to_string(&mut stderr);
        // Not for ever: the 1 s deadline, with room for a loaded machine to start the process
        // (the watchdog's own grace is one more second).
        assert!(elapsed < Duration::from_secs(3), "{format}: ended after {elapsed:?}; stderr: {stderr}");
        assert_eq!(status.code(), Some(code), "{format}: stderr: {stderr}");
        assert!(stderr.contains("did not end within --deadline 1s"), "{format}: {stderr}");
    }
}
