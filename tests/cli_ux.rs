//! The command line as people use it, through the real binary: `render` of a saved report in
//! every format and in the other language (and refusing another schema), `explain` and `kb show`
//! for another OS, the nearest codes for a mistyped one, `kb list --codes`; completions driven in
//! a real bash (and a real zsh, in a pseudo-terminal, when installed); manual pages with EXIT
//! STATUS, ENVIRONMENT and EXAMPLES formatted by the real `man`; `--help` in Portuguese by
//! default and in English with `--lang en` or an English locale.

mod support;
use support::*;

use std::path::{Path, PathBuf};
use std::process::Command;

const FORMATS: &[&str] = &["human", "json", "markdown", "junit", "nagios", "prometheus"];

fn modpen4() -> PathBuf {
    support::node::sei_fixture("modpen4")
}

/// A saved JSON report of a run with failures (closed ports, a missing certificate), in `lang`.
fn saved_report(dir: &Path, lang: &str) -> (PathBuf, Run) {
    let closed = free_port(Host);
    let path = dir.join(format!("report-{lang}.json"));
    let run = pen_doctor(Host)
        .args(["check", "--only", "config,cert,tcp:tramita", "--timeout", "300ms", "--lang", lang, "--format", "json"])
        .arg("--sei-dir")
        .arg(modpen4())
        .args(["--endpoint", &format!("tramita=https://127.0.0.1:{closed}/interoperabilidade/rest/v3/")])
        .arg("--output")
        .arg(&path)
        .run();
    run.assert_code(1);
    (path, run)
}

fn render(report: &Path, args: &[&str]) -> Run {
    pen_doctor(Host).arg("render").arg(report).args(args).run()
}

#[test]
fn render_round_trips_a_saved_report_to_every_format() {
    let dir = temp_dir("render");
    let (path, _) = saved_report(dir.path(), "pt");
    let saved: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let ids: Vec<String> =
        saved["checks"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect();
    assert!(ids.contains(&"tcp:tramita".to_string()), "{ids:?}");
    for format in FORMATS {
        let run = render(&path, &["--format", format]);
        let expected = if *format == "nagios" { 2 } else { 1 };
        run.assert_code(expected);
        assert!(run.stderr.is_empty(), "{run}");
        match *format {
            "json" => assert_eq!(run.json(), saved, "JSON renders back to the same report"),
            "prometheus" => {
                let check =
                    Command::new("promtool").args(["check", "metrics"]).stdin(std::process::Stdio::piped()).spawn();
                if let Ok(mut child) = check {
                    use std::io::Write;
                    child.stdin.take().unwrap().write_all(run.stdout.as_bytes()).unwrap();
                    let out = child.wait_with_output().unwrap();
                    assert!(out.status.success(), "promtool: {}\n{}", String::from_utf8_lossy(&out.stderr), run.stdout);
                }
                assert!(run.stdout.contains("tcp:tramita"), "{run}");
            }
            "nagios" => assert!(run.stdout.starts_with("PEN-DOCTOR CRITICAL"), "{run}"),
            "junit" => {
                let parsed = Command::new("python3")
                    .args(["-c", "import sys, xml.dom.minidom as m; d = m.parseString(sys.stdin.read()); print(len(d.getElementsByTagName('testcase')))"])
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .and_then(|mut c| {
                        use std::io::Write;
                        c.stdin.take().unwrap().write_all(run.stdout.as_bytes())?;
                        c.wait_with_output()
                    })
                    .unwrap();
                assert!(parsed.status.success(), "{run}");
                assert_eq!(String::from_utf8_lossy(&parsed.stdout).trim(), ids.len().to_string());
            }
            _ => {
                for id in &ids {
                    assert!(run.stdout.contains(id.as_str()), "{format}: {id} missing\n{run}");
                }
            }
        }
    }
    // Portuguese words stay Portuguese; asked for English, the findings are said in English.
    let pt = render(&path, &["--format", "human", "--color", "never"]);
    assert!(pt.stdout.contains("FALHA") && pt.stdout.contains("A conexão com"), "{pt}");
    let en = render(&path, &["--format", "human", "--lang", "en", "--color", "never"]);
    assert!(
        en.stdout.contains("FAIL ") && en.stdout.contains("The connection to") && !en.stdout.contains("A conexão com"),
        "{en}"
    );
    assert!(en.stdout.contains("How to fix") || en.stdout.contains("Fix"), "{en}");
    // And an English report back to Portuguese.
    let (en_path, _) = saved_report(dir.path(), "en");
    let back = render(&en_path, &["--format", "markdown", "--lang", "pt"]);
    assert!(back.stdout.contains("A conexão com") && !back.stdout.contains("The connection to"), "{back}");
}

#[test]
fn render_refuses_what_is_not_a_report_of_this_schema() {
    let dir = temp_dir("render-bad");
    let v2 = dir.path().join("v2.json");
    std::fs::write(&v2, r#"{"schema_version": 2, "checks": []}"#).unwrap();
    let run = render(&v2, &[]);
    run.assert_code(2);
    assert!(run.stderr.contains("schema_version 2 is not supported") && run.stderr.lines().count() == 1, "{run}");
    let run = render(&v2, &["--format", "nagios"]);
    run.assert_code(3);
    assert!(run.stdout.starts_with("PEN-DOCTOR UNKNOWN") && run.stdout.contains("schema_version 2"), "{run}");
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "<html>").unwrap();
    render(&junk, &[]).assert_code(2);
    // A FIFO nobody writes to is refused at once, never opened.
    let fifo = dir.path().join("fifo.json");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let run = render(&fifo, &[]);
    run.assert_code(2);
    assert!(run.stderr.contains("not a regular file"), "{run}");
    render(&dir.path().join("missing.json"), &[]).assert_code(2);
}

#[test]
fn explain_and_kb_show_for_another_os_and_nearest_codes() {
    let debian = pen_doctor(Host).args(["explain", "NTP_UNSYNCHRONIZED", "--os", "debian"]).run();
    debian.assert_success();
    let rhel6 = pen_doctor(Host).args(["explain", "ntp-unsynchronized", "--os", "rhel6"]).run();
    rhel6.assert_success();
    assert!(debian.stdout.contains("Debian/Ubuntu") && debian.stdout.contains("apt-get"), "{debian}");
    assert!(rhel6.stdout.contains("RHEL/CentOS 6") && !rhel6.stdout.contains("apt-get"), "{rhel6}");
    assert_ne!(debian.stdout, rhel6.stdout);
    let en = pen_doctor(Host).args(["explain", "NTP_UNSYNCHRONIZED", "--os", "rhel8", "--lang", "en"]).run();
    assert!(en.stdout.contains("How to fix (RHEL/Rocky/Alma 8 or newer)"), "{en}");

    let typo = pen_doctor(Host).args(["explain", "CLIENT_CERT_EXPIRD"]).run();
    typo.assert_code(2);
    assert!(typo.stderr.contains("did you mean CLIENT_CERT_EXPIRED"), "{typo}");
    let words = pen_doctor(Host).args(["explain", "expired-certificate"]).run();
    assert!(words.stderr.contains("CLIENT_CERT_EXPIRED") && words.stderr.lines().count() == 1, "{words}");
    let article = pen_doctor(Host).args(["explain", "TRAMITA-FALHA-COMUNICACAO"]).run();
    assert!(article.stderr.contains("is an article: `pen-doctor kb show TRAMITA-FALHA-COMUNICACAO`"), "{article}");

    let show = pen_doctor(Host).args(["kb", "show", "PEN-MANUAL-NTP", "--os", "rhel7"]).run();
    show.assert_success();
    assert!(
        show.stdout.contains("Códigos e correção (RHEL/CentOS 7)") && show.stdout.contains("NTP_UNSYNCHRONIZED"),
        "{show}"
    );
    assert!(show.stdout.contains("      1. "), "each code with its fix steps: {show}");
    // A target's own article: the codes routed to it are listed there, and explain names it.
    let pucomex = pen_doctor(Host).args(["kb", "show", "PUCOMEX-WEBHOOKS"]).run();
    assert!(pucomex.stdout.contains("CLIENT_CERT_EXPIRED"), "{pucomex}");
    let explained = pen_doctor(Host).args(["explain", "CLIENT_CERT_EXPIRED", "--lang", "en"]).run();
    assert!(explained.stdout.contains("In the checks of pucomex: PUCOMEX-WEBHOOKS"), "{explained}");

    let code_as_article = pen_doctor(Host).args(["kb", "show", "ntp_unsynchronized"]).run();
    code_as_article.assert_code(2);
    assert!(code_as_article.stderr.contains("`pen-doctor explain NTP_UNSYNCHRONIZED`"), "{code_as_article}");
}

#[test]
fn kb_list_codes_lists_every_code() {
    let run = pen_doctor(Host).args(["kb", "list", "--codes"]).run();
    run.assert_success();
    let mut declared = 0;
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("checks/codes")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines().filter(|l| l.trim_start().starts_with("code = \"")) {
            declared += 1;
            let code = line.split('"').nth(1).unwrap();
            assert!(run.stdout.lines().any(|l| l.starts_with(&format!("{code} "))), "{code} not listed");
        }
    }
    assert_eq!(run.stdout.lines().count(), declared);
    assert!(run.stdout.contains("CLIENT_CERT_EXPIRED") && run.stdout.contains("TRAMITA-FALHA-COMUNICACAO (1)"));
}

/// What bash completes for `words` (the last one being completed), with the script the binary
/// prints loaded in a real bash.
fn bash_complete(words: &[&str], env: &[(&str, &str)]) -> Vec<String> {
    let dir = temp_dir("bash-complete");
    let script = dir.path().join("pen-doctor.bash");
    let mut cmd = pen_doctor(Host);
    cmd.args(["completions", "bash"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.run();
    out.assert_success();
    std::fs::write(&script, &out.stdout).unwrap();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}'\nf=$(complete -p pen-doctor | sed -E 's/.* -F ([^ ]+) .*/\\1/')\n\
         COMP_WORDS=({})\nCOMP_CWORD={}\n\"$f\" pen-doctor \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script.display(),
        quoted.join(" "),
        words.len() - 1
    );
    let out = Command::new("bash").args(["--norc", "--noprofile", "-c", &program]).output().unwrap();
    assert!(out.status.success(), "bash: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

#[test]
fn bash_completes_subcommands_their_options_and_values() {
    assert_eq!(bash_complete(&["pen-doctor", "re"], &[]), ["render"]);
    assert_eq!(bash_complete(&["pen-doctor", "check", "--for"], &[]), ["--format"]);
    assert_eq!(bash_complete(&["pen-doctor", "check", "--format", "ma"], &[]), ["markdown"]);
    assert_eq!(bash_complete(&["pen-doctor", "check", "--bun"], &[]), ["--bundle"]);
    assert_eq!(bash_complete(&["pen-doctor", "kb", "li"], &[]), ["list"]);
    assert_eq!(bash_complete(&["pen-doctor", "kb", "list", "--co"], &[]), ["--codes"]);
    assert_eq!(bash_complete(&["pen-doctor", "explain", "X", "--os", "rhel"], &[]), ["rhel6", "rhel7", "rhel8"]);
    assert_eq!(bash_complete(&["pen-doctor", "render", "r.json", "--str"], &[]), ["--strict"]);
    let top = bash_complete(&["pen-doctor", ""], &[]);
    for sub in ["check", "explain", "kb", "cert", "merge", "diff", "render", "completions", "man"] {
        assert!(top.iter().any(|w| w == sub), "{sub} not in {top:?}");
    }
}

/// What an interactive zsh in a pseudo-terminal offers after `line` and Tab, with compinit and
/// the script the binary prints; `None` when zsh is not installed.
fn zsh_complete(line: &str, env: &[(&str, &str)]) -> Option<Vec<String>> {
    if Command::new("zsh").arg("--version").output().is_err() {
        return None;
    }
    let dir = temp_dir("zsh-complete");
    let mut cmd = pen_doctor(Host);
    cmd.args(["completions", "zsh"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let script = cmd.run();
    script.assert_success();
    std::fs::write(dir.path().join("_pen-doctor"), &script.stdout).unwrap();
    let driver = dir.path().join("drive.zsh");
    std::fs::write(&driver, ZSH_DRIVER).unwrap();
    let out = Command::new("zsh").arg("-f").arg(&driver).arg(dir.path()).arg(line).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let at = text.find("MATCHES: ").unwrap_or_else(|| panic!("zsh offered nothing for {line:?}: {text:?}"));
    let rest = &text[at + "MATCHES: ".len()..];
    let end = rest.find(" :END").unwrap_or(rest.len());
    Some(rest[..end].split_whitespace().map(str::to_string).collect())
}

/// Drives an interactive zsh in a pseudo-terminal: loads compinit and `$1/_pen-doctor`, wraps
/// `compadd` to print what it is given, types `$2` and Tab.
const ZSH_DRIVER: &str = r#"
zmodload zsh/zpty || exit 3
zpty -b z zsh -f -i
zpty -w z "PS1=''; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D -i; source $1/_pen-doctor"
zpty -w z 'compadd() { if [[ " $* " == *" -"[OAD]" "* ]]; then builtin compadd "$@"; return; fi; local -a m; builtin compadd -O m "$@"; (( $#m )) && print -r -- "MATCHES: ${m[*]} :END"; builtin compadd "$@" }'
zpty -w z 'print RE""ADY'
local out line
integer i=0
while (( i++ < 200 )) && [[ $out != *READY* ]]; do
  zpty -r -t z line && out+=$line || sleep 0.05
done
zpty -w -n z "$2"$'\t'
out=''
i=0
integer quiet=0
while (( i++ < 200 && quiet < 6 )); do
  if zpty -r -t z line; then out+=$line; quiet=0; else sleep 0.05; [[ $out == *:END* ]] && (( quiet++ )); fi
done
print -r -- "$out"
zpty -d z
"#;

#[test]
fn zsh_completes_subcommands_options_and_values_when_installed() {
    let Some(top) = zsh_complete("pen-doctor ", &[]) else {
        eprintln!("zsh is not installed: zsh completion not tested (scripts/setup-test-deps installs it)");
        return;
    };
    for sub in ["check", "explain", "kb", "render", "man"] {
        assert!(top.iter().any(|w| w == sub), "{sub} not in {top:?}");
    }
    assert_eq!(zsh_complete("pen-doctor check --for", &[]).unwrap(), ["--format"]);
    assert_eq!(
        zsh_complete("pen-doctor check --format ", &[]).unwrap(),
        ["human", "json", "markdown", "junit", "nagios", "prometheus"]
    );
    assert_eq!(zsh_complete("pen-doctor kb ", &[]).unwrap(), ["list", "show", "help"]);
}

#[test]
fn completion_descriptions_follow_the_language() {
    let pt = pen_doctor(Host).args(["completions", "zsh"]).run();
    assert!(pt.stdout.contains("Roda as verificações"), "Portuguese by default");
    let en = pen_doctor(Host).args(["completions", "zsh"]).env("LANG", "en_US.UTF-8").run();
    assert!(en.stdout.contains("Run the checks") && !en.stdout.contains("Roda as verificações"));
    let flag = pen_doctor(Host).args(["completions", "fish", "--lang", "en"]).env("LANG", "pt_BR.UTF-8").run();
    assert!(flag.stdout.contains("Run the checks"), "{flag}");
}

#[test]
fn man_pages_have_examples_exit_status_and_environment() {
    for (args, lang, exit_words, env_words) in [
        (vec!["man"], "pt", "nenhuma verificação falhou", "senha do banco do SEI"),
        (vec!["man", "check"], "pt", "nenhuma verificação falhou", "senha do banco do SEI"),
        (vec!["man", "render", "--lang", "en"], "en", "no check failed", "the SEI database password"),
    ] {
        let run = pen_doctor(Host).args(&args).run();
        run.assert_success();
        let roff = &run.stdout;
        for section in [".SH EXAMPLES", ".SH \"EXIT STATUS\"", ".SH \"ENVIRONMENT\"", ".SH OPTIONS"] {
            assert!(roff.contains(section), "{args:?}: no {section}");
        }
        for var in ["NO_COLOR", "LANG", "PEN_DOCTOR_DB_PASSWORD", "HTTPS_PROXY", "NO_PROXY", "PEN_DOCTOR_ROOT"] {
            assert!(roff.contains(var), "{args:?}: {var} not in ENVIRONMENT");
        }
        // Formatted by the real man(1): the sections and their words come out as text.
        let dir = temp_dir("man");
        let page = dir.path().join("page.1");
        std::fs::write(&page, roff).unwrap();
        let out =
            Command::new("man").arg("-l").arg(&page).env("MANWIDTH", "100").env("MAN_KEEP_FORMATTING", "0").output();
        if let Some(out) = out.ok().filter(|o| o.status.success()) {
            // Overstruck bold and underline (`N\x08N`, `_\x08x`) back to plain letters.
            let mut text = String::new();
            for c in String::from_utf8_lossy(&out.stdout).chars() {
                if c == '\u{8}' {
                    text.pop();
                } else {
                    text.push(c);
                }
            }
            // Justified lines: compare word by word.
            let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
            for words in ["EXIT STATUS", "ENVIRONMENT", "EXAMPLES", exit_words, env_words] {
                assert!(flat.contains(words), "{lang}: {words} not in\n{text}");
            }
        }
    }
    let check = pen_doctor(Host).args(["man", "check"]).run();
    assert!(check.stdout.contains("pen\\-doctor check \\-\\-bundle"), "the check page has check's examples");
}

#[test]
fn help_is_portuguese_by_default_and_english_when_asked() {
    let pt = pen_doctor(Host).args(["--help"]).run();
    pt.assert_success();
    for words in ["Uso:", "Comandos:", "Exemplos:", "Códigos de saída", "Roda as verificações", "Mostra esta ajuda"]
    {
        assert!(pt.stdout.contains(words), "{words}:\n{pt}");
    }
    let check_pt = pen_doctor(Host).args(["check", "--help"]).run();
    assert!(check_pt.stdout.contains("Opções:") && check_pt.stdout.contains("pen-doctor check --bundle"), "{check_pt}");
    assert!(check_pt.stdout.contains("2 uso incorreto"), "{check_pt}");
    for (args, env) in [
        (vec!["check", "--lang", "en", "--help"], None),
        (vec!["--lang", "en", "--help"], None),
        (vec!["--help"], Some(("LANG", "en_US.UTF-8"))),
        (vec!["check", "--help"], Some(("LC_ALL", "en_GB.UTF-8"))),
    ] {
        let mut cmd = pen_doctor(Host);
        cmd.args(&args);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        let run = cmd.run();
        run.assert_success();
        for words in ["Usage:", "Examples:", "Exit codes", "Print help"] {
            assert!(run.stdout.contains(words), "{args:?} {env:?}: {words}:\n{run}");
        }
        for pt_words in ["Uso:", "Exemplos", "Roda as verificações", "Mostra esta ajuda"] {
            assert!(!run.stdout.contains(pt_words), "{args:?}: Portuguese {pt_words:?} left:\n{run}");
        }
    }
    // A Portuguese locale, or `--lang pt` over an English one, is Portuguese.
    let run = pen_doctor(Host).args(["explain", "--lang", "pt", "--help"]).env("LANG", "en_US.UTF-8").run();
    assert!(run.stdout.contains("Uso:") && run.stdout.contains("Família do sistema"), "{run}");
}
