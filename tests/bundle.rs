//! The ticket bundle (`check --bundle FILE.tar.gz`) of a run with every secret configured —
//! certificate password, database password (flag URL, environment and SEI configuration),
//! Protocolo Integrado password, a proxy with credentials, a password inside a webhook URL,
//! supervisord's password, secret-named keys of the SEI configuration — unpacked with the real
//! `tar` command: no member holds a secret in any encoding, the same secret is the same token in
//! every file, the manifest names what was redacted and what was left out (a FIFO, a binary log,
//! a file too large), a gigabyte log contributes its tail, and the run still ends in time. The
//! gearman status comes from a real gearmand.

mod support;
use support::*;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

const CERT_PW: &str = "Cert \"Pw\"/9f\\3a!é";
const DB_URL_PW: &str = "Db-Url-Pw-7d2e";
const DB_ENV_PW: &str = "Db Env/Pw+4b8c&é";
const PI_USER: &str = "usuario-pi";
const PI_PW: &str = "Pi-Ws-Pw-1e6f";
const PROXY_PW: &str = "Prx Pw/é+5a";
const HOOK_PW: &str = "Hook-Pw-0c3e";
const SUP_PW: &str = "Sup-Pass-8a2f";
/// The passwords and keys written in fixtures/sei/modpen4.
const FIXTURE_SECRETS: &[&str] = &[
    "S3nh4-Cert-Fixture!",
    "S3nh4-Banco-Fixture!",
    "S3nh4-PI-Fixture!",
    "S3nh4-Script-Fixture!",
    "S3nh4-Mail-Fixture!",
    "c0ffee0000000000fixture0000000000",
];

fn b64(s: &str) -> String {
    openssl::base64::encode_block(s.as_bytes())
}

/// Every form a secret could leak in (plain, URL-encoded, JSON- and XML-escaped, base64 alone and
/// as `user:password`), and every 8-character piece of them.
fn forms(user: Option<&str>, secret: &str) -> Vec<String> {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let url = utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string();
    let json = serde_json::to_string(secret).unwrap();
    let xml = secret.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let mut whole = vec![secret.to_string(), url.replace("%20", "+"), url, json[1..json.len() - 1].to_string(), xml];
    whole.push(b64(secret).trim_end_matches('=').to_string());
    if let Some(user) = user {
        let encoded = b64(&format!("{user}:{secret}"));
        whole.push(encoded.trim_end_matches('=')[(user.len() + 1) * 8 / 6..].to_string());
    }
    let mut out = whole.clone();
    for form in &whole {
        let chars: Vec<char> = form.chars().collect();
        for w in chars.windows(8.min(chars.len())) {
            out.push(w.iter().collect());
        }
    }
    out.sort();
    out.dedup();
    out
}

#[track_caller]
fn assert_clean(all: &[String], what: &str, text: &str) {
    for form in all {
        assert!(!text.contains(form.as_str()), "{what} shows a secret form {form:?}:\n{text}");
    }
}

fn sei_copy() -> tempfile::TempDir {
    support::node::sei_copy("modpen4")
}

/// The host tree the run reads (`PEN_DOCTOR_ROOT`): supervisord's configuration with includes,
/// PEN program logs (one a FIFO, one sparse and empty, one a gigabyte with text at its end), a
/// crontab, php.ini with conf.d.
fn host_tree(root: &Path, closed: u16) {
    write(root, "etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
    write(
        root,
        "etc/supervisor/supervisord.conf",
        &format!(
            "[unix_http_server]\nfile={}/supervisor.sock\nusername=sup\npassword={SUP_PW}\n\n\
             [supervisord]\nlogfile=/var/log/supervisor/supervisord.log\n\n[include]\nfiles = conf.d/*.conf\n",
            root.display()
        ),
    );
    let proxy_url = format!("http://pu:{}@127.0.0.1:{closed}", utf8(PROXY_PW));
    write(
        root,
        "etc/supervisor/conf.d/sei-pen.conf",
        &format!(
            "[program:sei_monitoramento_envio]\n\
             command=/usr/bin/php /opt/sei/scripts/mod-pen/MonitoramentoEnvioTarefasPEN.php\n\
             stdout_logfile=/var/log/supervisor/envio.out.log\nstderr_logfile=/var/log/supervisor/envio.err.log\n\
             environment=DB_PASSWORD=\"{DB_ENV_PW}\",HTTPS_PROXY=\"{proxy_url}\"\n\n\
             [program:sei_processamento]\ncommand=/usr/bin/php /opt/sei/scripts/mod-pen/ProcessamentoTarefasPEN.php\n\
             numprocs=2\nprocess_name=%(program_name)s_%(process_num)02d\n\
             stdout_logfile=/var/log/supervisor/%(program_name)s_%(process_num)02d.out.log\n\
             stderr_logfile=/var/log/supervisor/%(program_name)s_%(process_num)02d.err.log\n"
        ),
    );
    let basic = b64(&format!("{PI_USER}:{PI_PW}"));
    let json = serde_json::to_string(CERT_PW).unwrap();
    write(
        root,
        "var/log/supervisor/envio.err.log",
        &format!(
            "PHP Warning: conexão recusada\nmysql: db password={DB_ENV_PW} refused\n\
             POST /ws HTTP/1.1 Authorization: Basic {basic}\n{{\"senha\":{json}}}\n\
             senha=%{}\nproxy {proxy_url}\n\u{1b}[31mred\u{7}\n",
            utf8(CERT_PW).trim_start_matches('%')
        ),
    );
    write(root, "var/log/supervisor/supervisord.log", "INFO spawned: 'sei_monitoramento_envio'\n");
    // sei_processamento_00: a FIFO nobody writes; _01: a gigabyte, text at its end; its stderr
    // log: sparse, nothing but NUL bytes.
    let fifo = root.join("var/log/supervisor/sei_processamento_00.err.log");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let big = root.join("var/log/supervisor/sei_processamento_01.out.log");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(1 << 30).unwrap();
    drop(f);
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::OpenOptions::new().write(true).open(&big).unwrap();
        f.seek(SeekFrom::Start((1 << 30) - 200_000)).unwrap();
        let mut tail = String::new();
        for i in 0..4000 {
            tail.push_str(&format!("linha {i} do worker; senha={DB_ENV_PW}\n"));
        }
        f.write_all(tail.as_bytes()).unwrap();
    }
    let sparse = std::fs::File::create(root.join("var/log/supervisor/sei_processamento_01.err.log")).unwrap();
    sparse.set_len(10 << 20).unwrap();
    write(
        root,
        "etc/cron.d/sei",
        &format!(
            "SHELL=/bin/bash\nSEI_SENHA=\"{DB_ENV_PW}\"\n\
             */2 * * * * root /usr/bin/php -c /etc/php.ini /opt/sei/scripts/AgendamentoTarefaSEI.php \
             --db mysql://sei:{}@127.0.0.1/sei 2>&1 >> /var/log/sei.log\n\
             0 4 * * * root /usr/sbin/logrotate /etc/logrotate.conf\n",
            utf8(DB_URL_PW)
        ),
    );
    write(
        root,
        "etc/php/8.2/apache2/php.ini",
        "[PHP]\nshort_open_tag = Off\nmemory_limit = 512M\nopenssl.cafile = /etc/ssl/certs/ca-certificates.crt\n\
         disable_functions = exec,system\n",
    );
    write(root, "etc/php/8.2/apache2/conf.d/20-gearman.ini", "extension=gearman.so\n");
    let mut huge = String::new();
    while huge.len() < 2 << 20 {
        huge.push_str("; a comment line that makes this file too large for the bundle\n");
    }
    write(root, "etc/php/8.2/apache2/conf.d/99-huge.ini", &huge);
}

fn utf8(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Every file of the unpacked archive: (name below the top directory, text).
fn unpack(bundle: &Path, into: &Path) -> Vec<(String, String)> {
    let out = Command::new("tar").arg("-xzf").arg(bundle).arg("-C").arg(into).output().unwrap();
    assert!(out.status.success(), "tar -xzf: {}", String::from_utf8_lossy(&out.stderr));
    let list = Command::new("tar").arg("-tzf").arg(bundle).output().unwrap();
    let names = String::from_utf8_lossy(&list.stdout).into_owned();
    let mut files = Vec::new();
    for name in names.lines().filter(|n| !n.ends_with('/')) {
        assert!(name.starts_with("pen-doctor-bundle/") && !name.contains(".."), "{name}");
        let bytes = std::fs::read(into.join(name)).unwrap();
        files.push((name["pen-doctor-bundle/".len()..].to_string(), String::from_utf8_lossy(&bytes).into_owned()));
    }
    files
}

fn member<'a>(files: &'a [(String, String)], suffix: &str) -> &'a str {
    files
        .iter()
        .find(|(n, _)| n.ends_with(suffix))
        .map(|(_, t)| t.as_str())
        .unwrap_or_else(|| panic!("no member *{suffix} in {:?}", files.iter().map(|f| &f.0).collect::<Vec<_>>()))
}

/// The token written right after `marker` in `text`.
fn token_after(text: &str, marker: &str) -> String {
    let at = text.find(marker).unwrap_or_else(|| panic!("no {marker:?} in:\n{text}")) + marker.len();
    let rest = &text[at..];
    assert!(rest.starts_with('«'), "no token after {marker:?}: {:?}", &rest[..rest.len().min(40)]);
    rest[..rest.find('»').unwrap() + '»'.len_utf8()].to_string()
}

#[test]
fn the_bundle_holds_the_evidence_and_no_secret() {
    let tmp = temp_dir("bundle");
    let root = tmp.path().join("root");
    let closed = free_port(Host);
    host_tree(&root, closed);
    let (_gearmand, gearmand_port) = support::node::gearmand(tmp.path());
    let sei = sei_copy();
    let pki = Pki::new();
    let ca = pki.root("Bundle Test Root");
    let client = pki.leaf(&ca, LeafSpec::client("orgao-bundle.gov.br"));
    let combined = pki.combined_pem(&client, CERT_PW);
    let bundle = tmp.path().join("chamado.tar.gz");
    let args: Vec<String> = [
        "check",
        "--format",
        "json",
        "--timeout",
        "500ms",
        "--deadline",
        "20s",
        "--sei-dir",
        sei.path().to_str().unwrap(),
        "--cert",
        combined.to_str().unwrap(),
        "--cert-password-env",
        "PDT_CERT_PW",
        "--pi-user",
        PI_USER,
        "--pi-password-env",
        "PDT_PI_PW",
        "--db",
        &format!("mysql://sei_user:{DB_URL_PW}@127.0.0.1:{closed}/sei"),
        "--proxy",
        &format!("http://pu:{}@127.0.0.1:{closed}", utf8(PROXY_PW)),
        "--webhook",
        &format!("https://hook-user:{HOOK_PW}@127.0.0.1:{closed}/pucomex"),
        "--gearman",
        &format!("127.0.0.1:{}", gearmand_port),
        "--ntp-server",
        &format!("127.0.0.1:{closed}"),
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(CheckArgs::new().endpoints_at(&format!("https://127.0.0.1:{closed}")).flags().iter().map(|s| s.to_string()))
    .chain(["--bundle".to_string(), bundle.to_str().unwrap().to_string()])
    .collect();
    let run = pen_doctor(Host)
        .args(&args)
        .env("PEN_DOCTOR_ROOT", &root)
        .env("PDT_CERT_PW", CERT_PW)
        .env("PDT_PI_PW", PI_PW)
        .env("PEN_DOCTOR_DB_PASSWORD", DB_ENV_PW)
        .run_for(Duration::from_secs(40));
    assert!(matches!(run.code, Some(0 | 1)), "{run}");
    assert!(run.elapsed < Duration::from_secs(21), "the run ends within --deadline + 1 s: {:?}", run.elapsed);

    let mut secrets: Vec<String> = Vec::new();
    for (user, s) in [
        (None, CERT_PW),
        (Some("sei_user"), DB_URL_PW),
        (None, DB_ENV_PW),
        (Some(PI_USER), PI_PW),
        (Some("pu"), PROXY_PW),
        (Some("hook-user"), HOOK_PW),
        (Some("sup"), SUP_PW),
    ] {
        secrets.extend(forms(user, s));
    }
    for s in FIXTURE_SECRETS {
        secrets.extend(forms(None, s));
    }
    assert_clean(&secrets, "stdout", &run.stdout);
    assert_clean(&secrets, "stderr", &run.stderr);

    let unpacked = tmp.path().join("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    let files = unpack(&bundle, &unpacked);
    for (name, text) in &files {
        assert_clean(&secrets, name, text);
        assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{name} holds a raw control character");
    }

    // What an analyst asks for is there.
    let report: serde_json::Value = serde_json::from_str(member(&files, "report.json")).unwrap();
    assert_eq!(report["schema_version"], 1);
    assert!(member(&files, "report.md").contains("config:sei"));
    let sei_conf = member(&files, "config/ConfiguracaoSEI.php");
    assert!(
        sei_conf.contains("'Servidor' => '127.0.0.1'") && sei_conf.contains("'ChaveAcesso' => '«SENHA-"),
        "{sei_conf}"
    );
    assert!(member(&files, "config/mod-pen/ConfiguracaoModPEN.php").contains("SenhaCertificado"));
    assert!(member(&files, "config/mod-protocolo-integrado/ConfiguracaoModProtocoloIntegrado.php").contains("«SENHA-"));
    assert!(member(&files, "files/etc/supervisor/supervisord.conf").contains("password=«SENHA-"));
    let program_conf = member(&files, "files/etc/supervisor/conf.d/sei-pen.conf");
    let tail = member(&files, "logs/var/log/supervisor/envio.err.log");
    assert!(tail.contains("PHP Warning: conexão recusada") && tail.contains("\\x1b[31mred\\x07"), "{tail}");
    assert!(member(&files, "logs/var/log/supervisor/supervisord.log").contains("spawned"));
    let big_tail = member(&files, "logs/var/log/supervisor/sei_processamento_01.out.log");
    assert_eq!(big_tail.lines().count(), 200, "a gigabyte log contributes its last 200 lines");
    assert!(big_tail.ends_with("linha 3999 do worker; senha=«SENHA-") || big_tail.contains("linha 3999 do worker"));
    let php = member(&files, "php-ini.txt");
    assert!(php.contains("/etc/php/8.2/apache2/php.ini:2: short_open_tag = Off"), "{php}");
    assert!(
        php.contains("openssl.cafile = /etc/ssl/certs/ca-certificates.crt") && php.contains("extension=gearman.so")
    );
    assert!(!php.contains("memory_limit"), "{php}");
    let cron = member(&files, "cron.txt");
    assert!(cron.contains("/etc/cron.d/sei:3: */2 * * * * root /usr/bin/php") && !cron.contains("logrotate"), "{cron}");
    let gearman = member(&files, "gearman-status.txt");
    assert!(gearman.contains(&format!("127.0.0.1:{}", gearmand_port)) && gearman.contains("version"), "{gearman}");
    let store = member(&files, "trust-store.txt");
    assert!(store.contains("path: ") && store.contains("ISRG Root X1"), "{store}");

    // The same secret is the same token in every file, whatever its encoding there.
    let db_token = token_after(program_conf, "DB_PASSWORD=\"");
    assert_eq!(token_after(tail, "db password="), db_token);
    assert_eq!(token_after(cron, "SEI_SENHA=\""), db_token);
    assert_eq!(token_after(big_tail, "linha 3999 do worker; senha="), db_token);
    let proxy_token = token_after(program_conf, "HTTPS_PROXY=\"http://pu:");
    assert_eq!(token_after(tail, "proxy http://pu:"), proxy_token);
    assert_ne!(proxy_token, db_token);
    // The PI password of the flag and the fixture's own are two secrets: two tokens.
    let pi_token = token_after(tail, "Authorization: Basic ");
    let pi_conf = member(&files, "ConfiguracaoModProtocoloIntegrado.php");
    assert_ne!(token_after(pi_conf, "\"SenhaWebService\" => \""), pi_token);
    assert_eq!(token_after(tail, "{\"senha\":\""), token_after(tail, "senha=%"), "JSON and URL forms alike");

    // The manifest: each file with its source and redactions; what was left out and why.
    let manifest: serde_json::Value = serde_json::from_str(member(&files, "manifest.json")).unwrap();
    let entry = |suffix: &str| {
        manifest["files"].as_array().unwrap().iter().find(|f| f["path"].as_str().unwrap().ends_with(suffix)).cloned()
    };
    let conf = entry("conf.d/sei-pen.conf").expect("sei-pen.conf in the manifest");
    assert_eq!(conf["source"], "/etc/supervisor/conf.d/sei-pen.conf");
    let redacted: Vec<(String, String)> = conf["redacted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["token"].as_str().unwrap().to_string(), r["kind"].as_str().unwrap_or("").to_string()))
        .collect();
    assert!(redacted.contains(&(db_token.clone(), "database-password".into())), "{redacted:?}");
    assert!(redacted.contains(&(proxy_token.clone(), "proxy-password".into())), "{redacted:?}");
    assert!(entry("sei_processamento_01.out.log").unwrap()["note"].as_str().unwrap().contains("1073741824"));
    let left: Vec<(String, String)> = manifest["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["what"].as_str().unwrap().to_string(), l["reason"].as_str().unwrap().to_string()))
        .collect();
    for (what, why) in [
        ("/var/log/supervisor/sei_processamento_00.err.log", "not-regular"),
        ("/var/log/supervisor/sei_processamento_01.err.log", "binary"),
        ("/etc/php/8.2/apache2/conf.d/99-huge.ini", "too-large"),
        ("/var/log/supervisor/sei_processamento_00.out.log", "not-found"),
    ] {
        assert!(left.contains(&(what.to_string(), why.to_string())), "{what}: {why} not in {left:?}");
    }
    let text = member(&files, "MANIFEST.txt");
    assert!(text.contains("Deixado de fora") && text.contains("não é um arquivo comum (FIFO)"), "{text}");
    assert!(text.contains(&format!("{db_token}  senha do banco de dados")), "{text}");
}

#[test]
fn bundle_in_english_from_the_config_file_and_usage_errors() {
    let tmp = temp_dir("bundle-en");
    let sei = sei_copy();
    let closed = free_port(Host);
    let bundle = tmp.path().join("ticket.tar.gz");
    let config = tmp.path().join("pen-doctor.toml");
    std::fs::write(
        &config,
        format!(
            "bundle = \"{}\"\nlang = \"en\"\nonly = [\"config\", \"ca\"]\nsei-dir = \"{}\"\n",
            bundle.display(),
            sei.path().display()
        ),
    )
    .unwrap();
    let run = pen_doctor(Host)
        .args(["check", "--timeout", "300ms", "--config", config.to_str().unwrap(), "--ntp-server"])
        .arg(format!("127.0.0.1:{closed}"))
        .run();
    assert!(matches!(run.code, Some(0 | 1)), "{run}");
    let unpacked = tmp.path().join("u");
    std::fs::create_dir(&unpacked).unwrap();
    let files = unpack(&bundle, &unpacked);
    let manifest = member(&files, "MANIFEST.txt");
    assert!(manifest.contains("ticket bundle") && manifest.contains("«SECRET-1»"), "{manifest}");
    assert!(member(&files, "ConfiguracaoSEI.php").contains("'Senha' => '«SECRET-"));
    // The report on stdout numbers secrets the same way as the bundle.
    assert!(!run.stdout.contains("S3nh4"), "{run}");

    for (extra, says) in [
        (vec!["--bundle", "-"], "--bundle"),
        (vec!["--bundle", "/tmp/same.tar.gz", "--output", "/tmp/same.tar.gz"], "same file"),
        (vec!["--bundle", "/nonexistent-dir/x.tar.gz"], "--bundle"),
    ] {
        let run = pen_doctor(Host).args(["check", "--only", "config"]).args(&extra).run();
        run.assert_code(2);
        assert!(run.stderr.contains(says) && run.stderr.lines().count() == 1, "{run}");
    }
}
