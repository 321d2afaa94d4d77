//! No English inside a Portuguese report: the broken-node scenarios (a dead and a refusing
//! resolver, an unreadable SEI configuration, an invalid supervisor configuration, a peer that
//! answers garbage on gearman's port, a service whose proxy differs from this shell's) are run
//! for real, and the human and Markdown reports in Portuguese must hold none of the English words
//! that only leak from untranslated text — outside of quoted peer or file text, code spans,
//! paths and codes. The same filter finds those words in `--lang en`, so it cannot pass vacuously.

mod support;

use std::path::{Path, PathBuf};
use support::*;

/// Words (lower case) that only an untranslated English text brings into a Portuguese report.
const ENGLISH: &[&str] = &[
    "unexpected",
    "expected",
    " not ",
    "failed",
    "error:",
    "refused",
    "timed out",
    "direct",
    "closed",
    "line ",
    "unknown",
    " found",
    "missing",
    "answer",
    "connection",
    " the ",
    " without ",
    " is ",
    " program ",
    "timeout",
];

/// The text a person reads in our words: quoted peer or file text ('…', "…", «…»), code spans
/// and fenced blocks (commands), and tokens that are paths, URLs, codes, flags or `key=value`
/// are taken out.
fn own_words(report: &str) -> String {
    let mut text = String::new();
    let mut fenced = false;
    for line in report.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        // Commands: fenced (Markdown) or given after "$ " / indented as a command (human).
        if fenced || line.trim_start().starts_with("$ ") || line.trim_start().starts_with("# ") && line.contains('/') {
            continue;
        }
        text.push_str(line);
        text.push('\n');
    }
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match quote {
            Some(q) => {
                let close = if q == '«' { '»' } else { q };
                if c == close || c == '\n' {
                    quote = None;
                    out.push(' ');
                }
            }
            None => {
                // An apostrophe inside a word (d'água) is not a quote.
                let inside_word = c == '\''
                    && i > 0
                    && chars[i - 1].is_alphanumeric()
                    && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
                if matches!(c, '`' | '"' | '«') || (c == '\'' && !inside_word) {
                    quote = Some(c);
                } else {
                    out.push(c);
                }
            }
        }
    }
    out.split('\n')
        .map(|line| {
            line.split(' ')
                .filter(|w| {
                    !(w.contains('/')
                        || w.contains('=')
                        || w.contains('_')
                        || w.starts_with('-')
                        || w.contains("://")
                        || w.chars().filter(|c| c.is_ascii_uppercase()).count() > 2)
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The English words found in a report's own words, with the line each is on.
fn english_in(report: &str) -> Vec<(String, String)> {
    let own = own_words(report);
    let mut found = Vec::new();
    for line in own.lines() {
        let padded = format!(" {} ", line.to_lowercase());
        for w in ENGLISH {
            if padded.contains(w) {
                found.push((w.to_string(), line.trim().to_string()));
            }
        }
    }
    found
}

/// Runs `pen-doctor check ARGS` at `place` with `env`, in `format` and `lang`.
fn report<'a>(place: impl Into<Place<'a>>, args: &[&str], env: &[(&str, &Path)], format: &str, lang: &str) -> String {
    let mut cmd = pen_doctor(place);
    cmd.args(["check", "--color", "never", "--format", format, "--lang", lang]).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let run = cmd.run();
    assert!(!run.stderr.contains("panicked"), "{run}");
    run.stdout
}

/// The human and Markdown reports of a scenario in Portuguese hold no English word; returns
/// the English human report's words found (for the non-vacuity check).
fn portuguese_only<'a>(
    name: &str,
    place: impl Into<Place<'a>> + Copy,
    args: &[&str],
    env: &[(&str, &Path)],
) -> Vec<(String, String)> {
    for format in ["human", "markdown"] {
        let out = report(place, args, env, format, "pt");
        if std::env::var_os("PDT_SHOW").is_some() {
            eprintln!("===== {name} ({format})\n{out}");
        }
        assert!(out.lines().count() > 3, "{name} ({format}): an empty report proves nothing:\n{out}");
        let leaks = english_in(&out);
        assert!(leaks.is_empty(), "{name} ({format}): English in a Portuguese report: {leaks:#?}\n{out}");
    }
    english_in(&report(place, args, env, "human", "en"))
}

#[test]
fn the_filter_keeps_our_words_and_drops_quoted_text_and_commands() {
    let text = "Erro: 'the array is not closed' em `cat /etc/x` e «unexpected»\n$ systemctl status failed\n\
                SEI_CONFIG_UNREADABLE /opt/sei/line --timeout=2s\nconnection refused\n";
    let own = own_words(text);
    assert!(!own.contains("closed") && !own.contains("unexpected") && !own.contains("failed"), "{own}");
    assert!(!own.contains("UNREADABLE") && !own.contains("line"), "{own}");
    assert_eq!(english_in(text).iter().map(|(w, _)| w.as_str()).collect::<Vec<_>>(), ["refused", "connection"]);
}

#[test]
fn network_failures_read_in_portuguese() {
    // A resolver that never answers: the names, the NTP servers, the skipped checks.
    let ns = Netns::new();
    let _dead = SilentUdp::start(&ns, "127.0.0.53:53");
    ns.use_nameserver("127.0.0.53");
    let args = ["--only", "dns,tcp,tls,http,ntp", "--target", "tramita,pendencias", "--timeout", "1s"];
    let english = portuguese_only("dead resolver", &ns, &args, &[]);
    assert!(!english.is_empty(), "the same run in English shows the filter finds English words");

    // Nothing listens on the resolver's port: the kernel refuses.
    let ns = Netns::new();
    ns.use_nameserver("127.0.0.53");
    let english = portuguese_only("refusing resolver", &ns, &["--only", "dns,tcp", "--target", "tramita"], &[]);
    assert!(english.iter().any(|(w, _)| w == "refused"), "{english:#?}");

    // A firewall that drops the packets of the target.
    let ns = Netns::new();
    ns.set_hosts("127.0.0.2 tramita.test\n");
    let _web = TcpServer::start(&ns, "127.0.0.2:443", TcpBehaviour::Hold);
    ns.add_drop("127.0.0.2", 443);
    let args = [
        "--only",
        "dns,tcp,tls,http",
        "--target",
        "tramita",
        "--endpoint",
        "tramita=https://tramita.test/interoperabilidade/rest/v3/",
        "--timeout",
        "1s",
    ];
    portuguese_only("dropped packets", &ns, &args, &[]);
}

/// An SEI installation whose `ConfiguracaoSEI.php` ends inside an array.
fn sei_with_unclosed_array(dir: &Path) -> PathBuf {
    let sei = dir.join("sei");
    support::node::copy_sei_tree("modpen4", &sei);
    let conf = sei.join("config/ConfiguracaoSEI.php");
    std::fs::write(&conf, "<?php\nclass ConfiguracaoSEI {\n  public function getArrConfiguracoes() {\n    return array(\n      'SEI' => array(\n        'URL' => 'https://sei.test/sei',\n").unwrap();
    sei
}

#[test]
fn an_unreadable_sei_configuration_reads_in_portuguese() {
    let ns = Netns::new();
    let dir = temp_dir("pdt-noeng-sei-");
    let sei = sei_with_unclosed_array(dir.path());
    let args = ["--only", "config,gearman,process,cert", "--timeout", "1s", "--sei-dir", sei.to_str().unwrap()];
    let english = portuguese_only("unclosed array", &ns, &args, &[]);
    assert!(english.iter().any(|(w, _)| w == "closed" || w == "line "), "{english:#?}");
    // The reason is there, in Portuguese.
    let human = report(&ns, &args, &[], "human", "pt");
    assert!(human.contains("o arquivo termina sem fechar o array aberto na linha 5"), "{human}");

    // The fixture whose brace closes nothing.
    let broken = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sei/broken");
    let args = ["--only", "config,gearman,process", "--timeout", "1s", "--sei-dir", broken.to_str().unwrap()];
    portuguese_only("broken fixture", &ns, &args, &[]);
}

#[test]
fn an_invalid_supervisor_configuration_reads_in_portuguese() {
    let tmp = support::node::plain_root();
    let root = tmp.path();
    write(root, "proc/uptime", "1000.00 2000.00\n");
    write(root, "usr/bin/php", "");
    write(root, "opt/sei/scripts/mod-pen/ProcessamentoTarefasPEN.php", "<?php\n");
    write(root, "opt/sei/scripts/mod-pen/MonitoramentoEnvioTarefasPEN.php", "<?php\n");
    let socket = root.join("run/supervisor.sock");
    write(
        root,
        "etc/supervisord.conf",
        &format!(
            "[unix_http_server]\nfile={}\n\n[supervisord]\nlogfile=/var/log/supervisord.log\n\n[include]\nfiles_typo = x\n\n\
             [program:sei_processamento]\ncommand=/usr/local/bin/php %(ENV_NOPE)s /opt/sei/scripts/mod-pen/ProcessamentoTarefasPEN.php\n\
             user=ninguem\nlog_stdout=true\n\n\
             [program:sei_monitoramento]\ncommand=/usr/bin/php /opt/sei/scripts/mod-pen/MonitoramentoEnvioTarefasPEN.php\nuser=apache\n",
            socket.display()
        ),
    );
    let args = ["--only", "supervisor,process", "--timeout", "2s"];
    let env = [("PEN_DOCTOR_ROOT", root)];
    let english = portuguese_only("invalid supervisor configuration", Host, &args, &env);
    assert!(english.iter().any(|(w, _)| w == "unknown" || w == " not "), "{english:#?}");
    let json = report(Host, &args, &env, "json", "pt");
    assert!(json.contains("SUPERVISOR_CONFIG_INVALID"), "the scenario is the one meant: {json}");
}

#[test]
fn a_garbage_gearman_peer_reads_in_portuguese() {
    let tmp = support::node::plain_root();
    let garbage =
        TcpServer::start(Host, "127.0.0.1:0", TcpBehaviour::Reply(b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec()));
    let addr = garbage.addr().to_string();
    let args = ["--only", "gearman", "--gearman", &addr, "--timeout", "2s"];
    let env = [("PEN_DOCTOR_ROOT", tmp.path())];
    let english = portuguese_only("gearman garbage", Host, &args, &env);
    assert!(english.iter().any(|(w, _)| w == "unexpected"), "{english:#?}");
}

#[test]
fn a_service_whose_proxy_differs_reads_in_portuguese() {
    let ns = Netns::new();
    ns.set_hosts("127.0.0.1 localhost\n127.0.0.2 api.tramita.test\n");
    let _web = TcpServer::start(&ns, "127.0.0.2:443", TcpBehaviour::Hold);
    let proxy = Tinyproxy::start(&ns, "127.0.0.1:3128", &[443]);
    let tmp = temp_dir("pdt-noeng-proxy-");
    let r = tmp.path();
    std::fs::create_dir_all(r.join("proc")).unwrap();
    let seen = r.join("seen-proxy");
    write(
        r,
        "etc/supervisor/supervisord.conf",
        &format!(
            "[supervisord]\nlogfile={d}/supervisord.log\npidfile={d}/supervisord.pid\nchildlogdir={d}\nnodaemon=true\n\n\
             [include]\nfiles = conf.d/*.conf\n\n\
             [program:pen-envio]\ncommand=sh -c 'echo \"$HTTPS_PROXY\" > {seen}; exec sleep 300'\n\
             environment=HTTPS_PROXY=\"{proxy}\",NO_PROXY=\"localhost,127.0.0.1\"\nautostart=true\n",
            d = r.display(),
            seen = seen.display(),
            proxy = proxy.url()
        ),
    );
    let _sd = support::node::supervisord(&r.join("etc/supervisor/supervisord.conf"));
    support::node::wait_path(&seen);
    let sei = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sei/modpen4");
    let args = [
        "--only",
        "tcp",
        "--target",
        "tramita",
        "--endpoint",
        "tramita=https://api.tramita.test/",
        "--timeout",
        "2s",
        "--sei-dir",
        sei.to_str().unwrap(),
    ];
    let env = [("PEN_DOCTOR_ROOT", r)];
    let json = report(&ns, &args, &env, "json", "pt");
    assert!(json.contains("PROXY_SERVICE_DIFFERS"), "the scenario is the one meant: {json}");
    let english = portuguese_only("service proxy", &ns, &args, &env);
    assert!(english.iter().any(|(w, _)| w == "direct"), "{english:#?}");
}
