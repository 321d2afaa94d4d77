//! No secret leaves in any encoding and no raw control character reaches any output, against
//! real peers that try: an nginx standing in for Protocolo Integrado that echoes the request's
//! `Authorization` header (whole, cut short, inside JSON, with a 500); a supervisord whose PEN
//! program prints the certificate and database passwords (plain, URL-encoded, JSON-escaped,
//! base64) and has an escape sequence in its name; web-service and supervisord URLs with
//! `user:password@`; a proxy that echoes `Proxy-Authorization` in its status line; certificates,
//! HTTP bodies and status lines full of ESC, BEL, NUL, C1 and bidi characters. Every format,
//! both languages, stdout, stderr and `--output`.

mod support;
use support::pki_tls::{ec_key, issue, Spec};
use support::*;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

const FORMATS: &[&str] = &["human", "json", "markdown", "junit", "nagios", "prometheus"];
/// The formats that show a finding's message (prometheus carries numbers only).
const WORDY: &[&str] = &["human", "json", "markdown", "junit", "nagios"];

const PI_USER: &str = "usuario-pi";
const PI_PW: &str = "Pi Echo/Pw+3c9d!é";
const CERT_PW: &str = "Cert \"Pw\"/9f\\3a!é";
const DB_PW: &str = "Db Pw+7d2e&x<y>";
const URL_PW: &str = "Url-Pass-5e1b";
const SUP_PW: &str = "Sup-Pass-8a2f";
const PROXY_USER: &str = "proxy-user";
const PROXY_PW: &str = "Prx Pw/é+5a";

/// Control characters and bidi overrides a hostile peer puts in what it sends.
const EVIL: &str = "\u{1b}[31m\u{7}\u{9b}2J\u{202e}";

// ------------------------------------------------------------------------------ the scans

fn b64(bytes: &str) -> String {
    openssl::base64::encode_block(bytes.as_bytes())
}

/// Every form in which `password` (sent as `user:password` Basic credentials when `user` is
/// given) could leak, and every 8-character piece of those forms that carries its bits.
fn leak_forms(user: Option<&str>, password: &str) -> Vec<String> {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let url = utf8_percent_encode(password, NON_ALPHANUMERIC).to_string();
    let json = serde_json::to_string(password).unwrap();
    let xml = password.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let mut whole = vec![password.to_string(), url.replace("%20", "+"), url, json[1..json.len() - 1].to_string(), xml];
    let mut base64 = vec![b64(password).trim_end_matches('=').to_string()];
    if let Some(user) = user {
        let encoded = b64(&format!("{user}:{password}"));
        // From the first character that holds a bit of the password.
        let first = (user.len() + 1) * 8 / 6;
        base64.push(encoded.trim_end_matches('=')[first..].to_string());
    }
    let mut out = Vec::new();
    for form in whole.iter().chain(&base64) {
        let chars: Vec<char> = form.chars().collect();
        for w in chars.windows(8.min(chars.len())) {
            out.push(w.iter().collect());
        }
    }
    whole.append(&mut base64);
    out.extend(whole);
    out.sort();
    out.dedup();
    out
}

#[track_caller]
fn assert_no_leak(forms: &[String], what: &str, text: &str) {
    for form in forms {
        assert!(!text.contains(form.as_str()), "{what} shows a secret form {form:?}:\n{text}");
    }
}

/// A character that must never reach a terminal raw (a newline between lines is fine).
fn raw_control(c: char) -> bool {
    (c < ' ' && c != '\n')
        || ('\u{7f}'..='\u{9f}').contains(&c)
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

#[track_caller]
fn assert_no_control(what: &str, text: &str) {
    if let Some((i, c)) = text.char_indices().find(|(_, c)| raw_control(*c)) {
        let around: String = text[i.saturating_sub(60)..].chars().take(120).collect();
        panic!("{what} holds a raw {:?} at byte {i}: {around:?}", c);
    }
}

/// Whether `text` shows `escaped` (as it is, or inside a JSON string with its `\` doubled).
fn shows(text: &str, escaped: &str) -> bool {
    // Markdown escapes its own punctuation once more (`\\x1b\\[31m`): it renders the same.
    let markdown: String = escaped
        .chars()
        .flat_map(|c| {
            let escape = matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '&' | '~');
            escape.then_some('\\').into_iter().chain(std::iter::once(c))
        })
        .collect();
    text.contains(escaped) || text.contains(&escaped.replace('\\', "\\\\")) || text.contains(&markdown)
}

/// One output of a run: what it is, and its text.
struct Output {
    what: String,
    format: &'static str,
    lang: &'static str,
    text: String,
}

/// Runs `pen-doctor ARGS` in every format and language, to stdout and with `--output`; returns
/// stdout, stderr and the written file of each.
fn every_output(args: &[String], envs: &[(&str, &str)]) -> Vec<Output> {
    let dir = temp_dir("redaction-out");
    let mut outs = Vec::new();
    for &format in FORMATS {
        for lang in ["pt", "en"] {
            let run = |extra: &[&str]| {
                let mut cmd = pen_doctor(Host);
                cmd.args(args).args(["--format", format, "--lang", lang, "--color", "never"]).args(extra);
                for (k, v) in envs {
                    cmd.env(k, v);
                }
                let run = cmd.run();
                assert!(matches!(run.code, Some(0..=3)), "{run}");
                run
            };
            let out = |what: String, text: String| Output { what, format, lang, text };
            let r = run(&[]);
            outs.push(out(format!("stdout {format}/{lang}"), r.stdout));
            outs.push(out(format!("stderr {format}/{lang}"), r.stderr));
            let file = dir.path().join(format!("{format}-{lang}"));
            let r = run(&["--output", file.to_str().unwrap()]);
            outs.push(out(format!("stderr {format}/{lang} --output"), r.stderr));
            let written = std::fs::read_to_string(&file).unwrap_or_default();
            assert!(!written.is_empty(), "{format}/{lang}: --output written");
            outs.push(out(format!("--output {format}/{lang}"), written));
        }
    }
    outs
}

fn report_of(outs: &[Output]) -> serde_json::Value {
    let o = outs.iter().find(|o| o.what == "stdout json/en").expect("the json run");
    serde_json::from_str(&o.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", o.text))
}

fn finding<'a>(report: &'a serde_json::Value, id: &str, code: &str) -> &'a serde_json::Value {
    support::finding(check(report, id), code)
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

// ------------------------------------------------------------------- certificates with evil names

/// nginx on loopback serving `pi.test` with a certificate whose subject is full of control
/// characters, answering with the request's `Authorization` header or with control characters.
struct Lab {
    lab: Running,
    dir: tempfile::TempDir,
}

impl Lab {
    fn start() -> Lab {
        let dir = temp_dir("redaction-lab");
        let d = dir.path();
        // The library takes any bytes in a name (the `openssl` command cannot put NUL in one).
        let root = issue(&Spec { org: "Redaction Tests", ..Spec::ca("Redaction Root") }, ec_key(), None);
        let (org, cn) = (format!("Servidor{EVIL}"), format!("pi.test\u{0}{EVIL}\u{1b}]0;pwned\u{7}"));
        let leaf = issue(&Spec { org: &org, cn: &cn, ..Spec::server("pi.test") }, ec_key(), Some(&root));
        let write = |name: &str, text: String| {
            let p = d.join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let ca_bundle = write("root.pem", root.pem());
        let chain = write("chain.pem", leaf.pem() + &root.pem());
        let key = write("key.pem", leaf.key_pem());
        let filler = "a".repeat(70);
        // nginx's configuration takes raw bytes in its strings: ESC, BEL, C1 and bidi as they are.
        let site = Site::empty()
            .location("location /echo/ { return 200 \"$http_authorization\"; }")
            .location(&format!(
                "location /cut/ {{ default_type text/html; \
                 return 200 \"<html><body>{filler} Basic-echo: $http_authorization</body></html>\"; }}"
            ))
            .location(
                "location /json/ { default_type application/json; return 200 '{\"echo\":\"$http_authorization\"}'; }",
            )
            .location("location /err/ { return 500 \"$http_authorization\"; }")
            .location(&format!("location /ctl/ {{ return 200 \"{EVIL} clear{EVIL}\u{1b}]0;title\u{7} end\"; }}"));
        let lab = Scenario::new().host("pi.test").identity(&chain, &key).trust(&ca_bundle).site(site).start();
        Lab { lab, dir }
    }

    /// `check` flags for the Protocolo Integrado target at `path` of this nginx.
    fn pi_args(&self, path: &str) -> Vec<String> {
        let args = CheckArgs::new().target("protocolo-integrado");
        self.lab
            .endpoint(args, "protocolo-integrado", "pi.test", path)
            .ca_bundle(self.lab.store())
            .only("http")
            .timeout("3s")
            .args(&["--deadline", "20s", "--sei-dir", "/nonexistent-sei"])
            .argv()
            .to_vec()
    }
}

// ----------------------------------------------------------------------------------- the tests

#[test]
fn protocolo_integrado_echoing_the_authorization_header_leaks_nothing() {
    let lab = Lab::start();
    let forms = leak_forms(Some(PI_USER), PI_PW);
    for path in ["/echo/", "/cut/", "/json/", "/err/"] {
        let mut args = lab.pi_args(path);
        args.extend(strings(&["--pi-user", PI_USER, "--pi-password-env", "PDT_PI_PW"]));
        let outs = every_output(&args, &[("PDT_PI_PW", PI_PW)]);
        for o in &outs {
            assert_no_leak(&forms, &format!("{path} {}", o.what), &o.text);
        }
        let report = report_of(&outs);
        if path == "/err/" {
            finding(&report, "http:protocolo-integrado", "HTTP_SERVER_ERROR");
        } else {
            // The echo did come back, and shows masked.
            let f = finding(&report, "http:protocolo-integrado", "HTTP_UNEXPECTED_RESPONSE");
            let detail = f["params"]["detail"].as_str().unwrap();
            assert!(detail.contains("Basic ***"), "{path}: {detail}");
        }
    }
}

#[test]
fn control_characters_from_peers_and_certificates_are_escaped() {
    let lab = Lab::start();
    let outs = every_output(&lab.pi_args("/ctl/"), &[]);
    for o in &outs {
        assert_no_control(&o.what, &o.text);
        if o.what.starts_with("stdout") && WORDY.contains(&o.format) {
            // The operator still sees that something was there.
            assert!(shows(&o.text, "\\x1b[31m\\x07\\u{9b}2J\\u{202e} clear"), "{}:\n{}", o.what, o.text);
        }
    }
    let report = report_of(&outs);
    let f = finding(&report, "http:protocolo-integrado", "HTTP_UNEXPECTED_RESPONSE");
    assert!(f["params"]["detail"].as_str().unwrap().contains("\\x07\\u{9b}2J\\u{202e} clear"), "{f:#}");
    let chain = check(&report, "tls:protocolo-integrado")["evidence"].to_string();
    assert!(chain.contains("pi.test\\\\x00\\\\x1b[31m"), "the server's subject, escaped: {chain}");

    // A client certificate whose subject is hostile: `cert` and `check --cert`.
    let (org, cn) = (format!("Orgao{EVIL}"), format!("cliente\u{0}{EVIL}"));
    let client = issue(&Spec::client(&cn, &org), ec_key(), None);
    let file = lab.dir.path().join("client.pem");
    std::fs::write(&file, client.pem() + &client.key_pem()).unwrap();
    for &format in FORMATS {
        for lang in ["pt", "en"] {
            let run = pen_doctor(Host).args(["cert", file.to_str().unwrap(), "--format", format, "--lang", lang]).run();
            assert!(matches!(run.code, Some(0..=3)), "{run}");
            assert_no_control(&format!("cert {format}/{lang} stdout"), &run.stdout);
            assert_no_control(&format!("cert {format}/{lang} stderr"), &run.stderr);
            if ["human", "markdown", "json"].contains(&format) {
                assert!(shows(&run.stdout, "cliente\\x00\\x1b[31m"), "{run}");
            }
        }
    }
    let args = strings(&["check", "--cert", file.to_str().unwrap(), "--only", "cert", "--sei-dir", "/nonexistent-sei"]);
    for o in every_output(&args, &[]) {
        assert_no_control(&o.what, &o.text);
    }
}

#[test]
fn supervisord_program_printing_passwords_leaks_nothing() {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let tmp = temp_dir("redaction-supervisor");
    let root = tmp.path();
    write(root, "etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
    let url = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    let json = |s: &str| serde_json::to_string(s).unwrap();
    let said = format!(
        "PHP Fatal error: certificado com senha {CERT_PW} recusado\n\
         mysql://sei:{db_url}@db/sei falhou; senha={cert_url}\n\
         {{\"cert\":{cert_json},\"db\":{db_json}}}\n\
         base64 {cert_b64} {db_b64}\n\
         {EVIL}vermelho\u{7} senha do banco: {DB_PW}\n",
        db_url = url(DB_PW),
        cert_url = url(CERT_PW),
        cert_json = json(CERT_PW),
        db_json = json(DB_PW),
        cert_b64 = b64(CERT_PW),
        db_b64 = b64(DB_PW),
    );
    let script = write(
        root,
        "opt/sei/scripts/mod-pen/MonitoramentoEnvioTarefasPEN.php",
        &format!("#!/bin/bash\ncat >&2 <<'PDT_EOF'\n{said}PDT_EOF\ncat <<'PDT_EOF'\n{said}PDT_EOF\nexit 3\n"),
    );
    // A second program with an escape sequence in its name (supervisord takes it; its own XML
    // parser then refuses the name in a request, so this one's log cannot be read back).
    let other = write(
        root,
        "opt/sei/scripts/mod-pen/MonitoramentoRecebimentoTarefasPEN.php",
        "#!/bin/bash\necho 'falhou' >&2\nexit 3\n",
    );
    let sock = root.join("supervisor.sock");
    let conf = write(
        root,
        "etc/supervisor/supervisord.conf",
        &format!(
            "[unix_http_server]\nfile={sock}\nchmod=0700\n\
             [supervisord]\nlogfile={r}/supervisord.log\npidfile={r}/supervisord.pid\nchildlogdir={r}\nnodaemon=true\n\
             [rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
             [program:sei_envio]\ncommand=/bin/bash {script}\nautostart=true\nstartsecs=1\nstartretries=0\n\
             [program:sei_recebimento\u{1b}[31m\u{7}]\ncommand=/bin/bash {other}\nautostart=true\nstartsecs=1\nstartretries=0\n",
            sock = sock.display(),
            r = root.display(),
            script = script.display(),
            other = other.display(),
        ),
    );
    let _sd = support::node::supervisord(&conf);
    let envs =
        [("PEN_DOCTOR_ROOT", root.to_str().unwrap()), ("PDT_CERT_PW", CERT_PW), ("PEN_DOCTOR_DB_PASSWORD", DB_PW)];
    let args = strings(&[
        "check",
        "--only",
        "supervisor",
        "--cert-password-env",
        "PDT_CERT_PW",
        "--timeout",
        "2s",
        "--sei-dir",
        "/nonexistent-sei",
    ]);

    // Wait until the program has given up (FATAL) and its stderr is there to be read.
    let start = Instant::now();
    loop {
        let mut cmd = pen_doctor(Host);
        cmd.args(&args).args(["--format", "json"]);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let run = cmd.run();
        let report = run.json();
        let fatal = check(&report, "supervisor")["findings"].as_array().map_or(0, |fs| {
            fs.iter()
                .filter(|f| f["code"] == "SUPERVISOR_PROGRAM_NOT_RUNNING" && f["params"]["state"] == "FATAL")
                .count()
        });
        if fatal == 2 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "the program never became FATAL:\n{run}");
        std::thread::sleep(Duration::from_millis(200));
    }

    let mut forms = leak_forms(None, CERT_PW);
    forms.extend(leak_forms(None, DB_PW));
    let outs = every_output(&args, &envs);
    for o in &outs {
        assert_no_leak(&forms, &o.what, &o.text);
        assert_no_control(&o.what, &o.text);
        if o.what.starts_with("stdout") && WORDY.contains(&o.format) {
            assert!(
                shows(&o.text, "sei_recebimento\\x1b[31m\\x07"),
                "the program's name, escaped: {}\n{}",
                o.what,
                o.text
            );
        }
    }
    let report = report_of(&outs);
    let f = check(&report, "supervisor")["findings"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["params"]["program"] == "sei_envio"))
        .unwrap_or_else(|| panic!("no finding for sei_envio: {report:#}"));
    assert_eq!(f["params"]["stderr"], "\\x1b[31m\\x07\\u{9b}2J\\u{202e}vermelho\\x07 senha do banco: ***", "{f:#}");
    let tail = check(&report, "supervisor")["evidence"]["pen_programs"].to_string();
    assert!(tail.contains("certificado com senha ***") && tail.contains("base64 *** ***"), "{tail}");
}

#[test]
fn passwords_inside_urls_are_never_printed() {
    let lab = Lab::start();
    let port = lab.lab.port();
    let sei = support::node::sei_copy("modpen4");
    let edit = |rel: &str, from: &str, to: &str| {
        let p = sei.path().join(rel);
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains(from), "{rel} holds {from}");
        std::fs::write(&p, text.replace(from, to)).unwrap();
    };
    edit(
        "config/mod-protocolo-integrado/ConfiguracaoModProtocoloIntegrado.php",
        "https://protocolointegrado.preprod.nuvem.gov.br/ProtocoloWS/integradorService?wsdl",
        &format!("https://oex:{URL_PW}@pi.test:{port}/echo/"),
    );
    edit(
        "config/mod-pen/ConfiguracaoModPEN.php",
        "https://homolog.api.processoeletronico.gov.br/interoperabilidade/rest/v3/",
        &format!("https://pen:{URL_PW}@pi.test:{port}/interoperabilidade/rest/v3/"),
    );
    let closed = free_port(Host);
    let args = CheckArgs::new()
        .flag("--sei-dir", sei.path().to_str().unwrap())
        .target("tramita,protocolo-integrado")
        .resolve("pi.test", port, "127.0.0.1")
        .ca_bundle(lab.lab.store())
        .flag("--supervisor", format!("http://127.0.0.1:{closed}"))
        .flag("--skip", "ntp,process,cron,gearman")
        .timeout("2s")
        .flag("--deadline", "20s")
        .argv()
        .to_vec();
    let mut forms = leak_forms(None, URL_PW);
    forms.extend(leak_forms(None, SUP_PW));
    // The Protocolo Integrado password of the SEI configuration, echoed by the peer.
    forms.extend(leak_forms(Some("oex.integracao"), "S3nh4-PI-Fixture!"));
    let outs = every_output(&args, &[]);
    for o in &outs {
        assert_no_leak(&forms, &o.what, &o.text);
    }
    // A password inside --supervisor is refused (passwords are never flag values), and the
    // refusal does not repeat it.
    for format in ["human", "nagios"] {
        let sup = format!("http://sup:{SUP_PW}@127.0.0.1:{closed}");
        let run = pen_doctor(Host).args(["check", "--supervisor", &sup, "--format", format]).run();
        assert!(matches!(run.code, Some(2 | 3)), "{run}");
        assert_no_leak(&forms, "--supervisor refusal", &format!("{}{}", run.stdout, run.stderr));
    }
    // The URLs were printed, with their passwords masked.
    let all_json: String =
        outs.iter().filter(|o| o.format == "json" && o.lang == "en").map(|o| o.text.as_str()).collect();
    assert!(all_json.contains(&format!("https://oex:***@pi.test:{port}/echo/")), "{all_json}");
}

/// A hostile HTTP proxy: answers every CONNECT with a 407 whose status line and body repeat the
/// `Proxy-Authorization` it got, base64 and decoded, with control characters.
struct EchoProxy {
    port: u16,
    _server: TcpServer,
}

impl EchoProxy {
    fn start() -> EchoProxy {
        let server = TcpServer::start(
            Host,
            "127.0.0.1:0",
            TcpBehaviour::serve(|conn| {
                let _ = answer(conn);
            }),
        );
        EchoProxy { port: server.port(), _server: server }
    }
}

fn answer(mut conn: std::net::TcpStream) -> std::io::Result<()> {
    conn.set_nonblocking(false)?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 && conn.read(&mut byte)? == 1 {
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let echo = head.lines().find_map(|l| l.strip_prefix("Proxy-Authorization: ")).unwrap_or("(none)").to_string();
    let decoded = echo
        .strip_prefix("Basic ")
        .and_then(|t| openssl::base64::decode_block(t).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let body = format!("you sent Proxy-Authorization: {echo}, that is {decoded}\n");
    let reply = format!(
        "HTTP/1.1 407 {decoded} {echo}{EVIL}\r\nProxy-Authenticate: Basic realm=\"x\"\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(reply.as_bytes())
}

#[test]
fn a_proxy_echoing_proxy_authorization_leaks_nothing() {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let proxy = EchoProxy::start();
    let proxy_url =
        format!("http://{PROXY_USER}:{}@127.0.0.1:{}", utf8_percent_encode(PROXY_PW, NON_ALPHANUMERIC), proxy.port);
    let args = CheckArgs::new()
        .target("tramita")
        .endpoint("tramita", "https://tramita.test/")
        .resolve("tramita.test", 443, "127.0.0.1")
        .only("tcp")
        .timeout("2s")
        .flag("--sei-dir", "/nonexistent-sei")
        .argv()
        .to_vec();
    let forms = leak_forms(Some(PROXY_USER), PROXY_PW);
    let outs = every_output(&args, &[("HTTPS_PROXY", &proxy_url)]);
    for o in &outs {
        assert_no_leak(&forms, &o.what, &o.text);
        assert_no_control(&o.what, &o.text);
    }
    // The proxy's answer is shown, masked and escaped.
    let report = report_of(&outs);
    let f = finding(&report, "tcp:tramita", "PROXY_AUTH_REQUIRED");
    let answer = f["params"]["answer"].as_str().unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 407 ") && answer.contains("Basic ***") && answer.contains("\\x1b[31m"),
        "{answer}"
    );
}

#[test]
fn error_lines_are_redacted_and_escaped() {
    let webhook = "https://hook:Hook-Pw-4d1c@bad host.test/";
    for format in ["human", "nagios"] {
        let run = pen_doctor(Host).args(["check", "--webhook", webhook, "--format", format]).run();
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(matches!(run.code, Some(2 | 3)), "{run}");
        assert!(all.contains("hook:***@bad host.test"), "the error names the URL, masked: {run}");
        assert_no_leak(&leak_forms(None, "Hook-Pw-4d1c"), "usage error", &all);
    }
    let run = pen_doctor(Host).args(["explain", "NO_SUCH\u{1b}[2J\u{7}\u{202e}"]).run();
    run.assert_code(2);
    assert_no_control("explain stderr", &run.stderr);
    assert!(run.stderr.contains("NO_SUCH\\x1b[2J\\x07\\u{202e}"), "{run}");
    let out = temp_dir("redaction-err");
    let target = out.path().join("missing-dir\u{1b}[31m").join("r.json");
    let run = pen_doctor(Host)
        .args(["check", "--only", "config", "--sei-dir", "/nonexistent-sei", "--output", target.to_str().unwrap()])
        .run();
    assert_no_control("--output error", &run.stderr);
}

#[test]
fn reports_read_back_by_merge_and_diff_are_escaped() {
    let run =
        pen_doctor(Host).args(["check", "--only", "config", "--sei-dir", "/nonexistent-sei", "--format", "json"]).run();
    let mut report = run.json();
    report["run"]["host"]["hostname"] = format!("node{EVIL}\u{1b}]0;pwned\u{7}").into();
    for c in report["checks"].as_array_mut().unwrap() {
        c["summary"] = format!("summary{EVIL}").into();
        for f in c["findings"].as_array_mut().into_iter().flatten() {
            f["message"] = format!("message{EVIL} http://u:Merge-Pw-1@h/").into();
        }
    }
    let dir = temp_dir("redaction-merge");
    let a = dir.path().join("a.json");
    std::fs::write(&a, report.to_string()).unwrap();
    report["checks"][0]["status"] = "ok".into();
    let b = dir.path().join("b.json");
    std::fs::write(&b, report.to_string()).unwrap();
    for format in ["human", "markdown"] {
        for cmd in [
            vec!["merge", a.to_str().unwrap(), b.to_str().unwrap()],
            vec!["diff", a.to_str().unwrap(), b.to_str().unwrap()],
        ] {
            let run = pen_doctor(Host).args(&cmd).args(["--format", format, "--color", "never"]).run();
            assert!(matches!(run.code, Some(0 | 1)), "{run}");
            assert_no_control(&format!("{} {format}", cmd[0]), &run.stdout);
            assert!(!run.stdout.contains("Merge-Pw-1"), "{run}");
            if cmd[0] == "merge" {
                // Markdown escapes the escape's backslash and bracket once more: it renders the same.
                let shown = if format == "markdown" { "node\\\\x1b\\[31m" } else { "node\\x1b[31m" };
                assert!(run.stdout.contains(shown), "the node's name, escaped: {run}");
            }
        }
    }
}

#[test]
fn command_lines_and_cron_lines_with_passwords_leak_nothing() {
    use std::os::unix::process::CommandExt;
    let tmp = temp_dir("redaction-host");
    let root = tmp.path();
    write(root, "etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
    let url = percent_encoding::utf8_percent_encode(DB_PW, percent_encoding::NON_ALPHANUMERIC).to_string();
    write(
        root,
        "etc/cron.d/sei-mod-pen",
        &format!(
            "*/10 * * * * root /usr/bin/bash /opt/sei/scripts/mod-pen/verificar-reboot-fila.sh \
             --db mysql://sei:{url}@db/sei --senha '{DB_PW}' {EVIL}\n"
        ),
    );
    // A worker whose command line carries the database password (the shell stays, so its
    // command line is the one written here).
    let mut cmd = std::process::Command::new("bash");
    cmd.arg0("/opt/sei/scripts/mod-pen/ProcessamentoTarefasPEN.php").args([
        "-c",
        "sleep 300; :",
        "worker",
        &format!("--senha={DB_PW}"),
        EVIL,
    ]);
    let worker = Proc::spawn_quiet("worker", cmd);
    std::thread::sleep(Duration::from_millis(300));
    let args = strings(&["check", "--only", "process,cron", "--sei-dir", "/nonexistent-sei"]);
    let envs = [("PEN_DOCTOR_ROOT", root.to_str().unwrap()), ("PEN_DOCTOR_DB_PASSWORD", DB_PW)];
    let outs = every_output(&args, &envs);
    let forms = leak_forms(None, DB_PW);
    for o in &outs {
        assert_no_leak(&forms, &o.what, &o.text);
        assert_no_control(&o.what, &o.text);
    }
    let report = report_of(&outs);
    let workers = check(&report, "process:pen")["evidence"]["workers"].as_array().cloned().unwrap_or_default();
    let mine = workers.iter().find(|w| w["pid"] == worker.pid()).unwrap_or_else(|| panic!("{report:#}"));
    let command = mine["command"].as_str().unwrap();
    assert!(command.contains("--senha=*** \\x1b[31m"), "{command}");
    let entry = check(&report, "cron:pen")["evidence"]["entry"]["entry"].as_str().unwrap().to_string();
    assert!(entry.contains("mysql://sei:***@db/sei --senha '***' \\x1b[31m"), "{entry}");
}
