//! The ticket bundle (`check --bundle FILE.tar.gz`): one archive with what a second-level
//! analyst asks for, so the support desk needs no round trip — the report in JSON and Markdown,
//! the SEI and module configuration files discovery read, supervisord's configuration (main
//! file and includes) and the tails of the PEN programs' logs, the relevant php.ini lines, the
//! cron lines about SEI/PEN, the gearman status as the `gearman` check saw it and the trust-store
//! summary; and a manifest (`MANIFEST.txt`, `manifest.json`) of each file, where it came from,
//! what was redacted in it and what was left out and why.
//!
//! **Secrets.** The run switches the redactor to stable tokens ([`prepare`]): every secret is
//! `«SENHA-n»` (`«SECRET-n»` with `--lang en`) in every file and every encoding, and the same
//! secret is the same token everywhere — the analyst still sees that the password in file A is
//! the one in file B. Besides the secrets the run knows (certificate, database, Protocolo
//! Integrado and URL passwords), the values of secret-named keys in the files themselves
//! (`'SenhaScript' => '…'`, `ChaveAcesso`, `password=` of supervisord, `DB_PASSWORD="…"` in
//! `environment=`) are registered before anything is written, so the report agrees.
//!
//! **Bounds.** Files are read only when they are regular files (a FIFO or a device is left out,
//! never opened), through the project's bounded reader ([`crate::hostfs`]); a configuration file
//! above [`MEMBER_MAX`] is left out, a log contributes its last [`TAIL_BYTES`] (at most
//! [`TAIL_LINES`] lines), a file with NUL bytes is left out as binary, and members stop at
//! [`ARCHIVE_MAX`] in all. The archive is written like `--output` ([`crate::output::write`]).

use crate::engine::Executed;
use crate::hostfs;
use crate::messages::msg;
use crate::model::check_id::CA_STORE;
use crate::model::Lang;
use crate::redact;
use crate::report::model::Report;
use crate::settings::Settings;
use crate::ui;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The largest configuration file put in whole.
pub const MEMBER_MAX: u64 = 1024 * 1024;
/// The largest report or summary member.
pub const REPORT_MAX: usize = 4 * 1024 * 1024;
/// What a log contributes: its last bytes…
pub const TAIL_BYTES: u64 = 64 * 1024;
/// …and of those, its last lines.
pub const TAIL_LINES: usize = 200;
/// All members together, before compression.
pub const ARCHIVE_MAX: usize = 16 * 1024 * 1024;
/// Files looked at in one directory (conf.d, cron.d, a log directory).
const DIR_MAX: usize = 200;

/// Why something is not in the archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeftOut {
    NotFound,
    NotRegular(&'static str),
    TooLarge(u64),
    Binary,
    Unreadable(String),
    ArchiveFull,
    Deadline,
    NotInRun,
}

impl LeftOut {
    fn code(&self) -> &'static str {
        match self {
            LeftOut::NotFound => "not-found",
            LeftOut::NotRegular(_) => "not-regular",
            LeftOut::TooLarge(_) => "too-large",
            LeftOut::Binary => "binary",
            LeftOut::Unreadable(_) => "unreadable",
            LeftOut::ArchiveFull => "archive-full",
            LeftOut::Deadline => "deadline",
            LeftOut::NotInRun => "not-in-run",
        }
    }

    fn words(&self, lang: Lang) -> String {
        let base = ui::text(&format!("bundle.left.{}", self.code()), lang).to_string();
        match self {
            LeftOut::NotRegular(what) => format!("{base} ({what})"),
            LeftOut::TooLarge(n) => format!("{base} ({n} bytes > {MEMBER_MAX})"),
            LeftOut::Unreadable(e) => format!("{base}: {}", redact::clean(e)),
            LeftOut::ArchiveFull => format!("{base} ({ARCHIVE_MAX} bytes)"),
            _ => base,
        }
    }
}

/// One file of the archive, before redaction.
struct Member {
    /// Its name inside the archive.
    name: String,
    /// Where it came from (a host path, or what produced it).
    source: String,
    text: String,
    /// How it was cut (a log tail), in words.
    note: Option<String>,
}

/// Something the archive does not hold, and why.
struct Omission {
    what: String,
    why: LeftOut,
}

/// What [`gather`] read, to be written once the report exists.
pub struct Gathered {
    members: Vec<Member>,
    omitted: Vec<Omission>,
    until: Instant,
    lang: Lang,
}

/// Turns the run's redaction into stable tokens and names the secrets the settings hold; called
/// before anything runs, so the report and the archive number secrets alike.
pub fn prepare(s: &Settings) {
    redact::use_stable_tokens(msg(s.lang, "bundle.secret-token"));
    let secrets = [
        (s.cert_password.as_ref(), "certificate-password"),
        (s.pucomex_password.as_ref(), "pucomex-password"),
        (s.db_password.as_ref(), "database-password"),
        (s.pi_password.as_ref(), "pi-password"),
    ];
    for (secret, kind) in secrets {
        if let Some(v) = secret.filter(|v| !v.is_empty()) {
            redact::label_secret(v.expose(), kind);
        }
    }
    if let Some(i) = &s.sei {
        if let Some(db) = &i.database {
            label_nonempty(db.password.expose(), "database-password");
        }
        if let Some(pw) = i.pen.as_ref().and_then(|p| p.cert_password.as_ref()) {
            label_nonempty(pw.expose(), "certificate-password");
        }
        if let Some(pw) = i.pi.as_ref().and_then(|p| p.password.as_ref()) {
            label_nonempty(pw.expose(), "pi-password");
        }
    }
    let mut urls: Vec<(String, &str)> = Vec::new();
    if let Some(u) = &s.proxy.url {
        urls.push((u.to_string(), "proxy-password"));
    }
    if let Some(u) = &s.db {
        urls.push((u.clone(), "database-password"));
    }
    if let Some(u) = &s.supervisor {
        urls.push((u.clone(), "supervisor-password"));
    }
    urls.extend(s.webhooks.iter().map(|(_, u)| (u.clone(), "url-password")));
    urls.extend(s.targets.iter().map(|t| (t.url.to_string(), "url-password")));
    for (u, kind) in urls {
        if let Some(pw) = url::Url::parse(&u).ok().and_then(|u| u.password().map(str::to_string)) {
            let decoded = percent_encoding::percent_decode_str(&pw).decode_utf8_lossy().into_owned();
            label_nonempty(&decoded, kind);
            label_nonempty(&pw, kind);
        }
    }
}

fn label_nonempty(secret: &str, kind: &str) {
    if !secret.is_empty() {
        redact::label_secret(secret, kind);
    }
}

// ------------------------------------------------------------------------------- reading

/// What a file that is not a regular file is.
fn file_type_words(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "directory"
    } else if t.is_fifo() {
        "FIFO"
    } else if t.is_char_device() {
        "character device"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_socket() {
        "socket"
    } else {
        "special file"
    }
}

/// The file's type and size, judged before it is opened (a FIFO is never opened).
fn judge(real: &Path) -> Result<u64, LeftOut> {
    let meta = std::fs::metadata(real).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => LeftOut::NotFound,
        _ => LeftOut::Unreadable(e.to_string()),
    })?;
    if !meta.is_file() {
        return Err(LeftOut::NotRegular(file_type_words(&meta)));
    }
    Ok(meta.len())
}

fn text_only(text: String) -> Result<String, LeftOut> {
    if text.contains('\0') {
        Err(LeftOut::Binary)
    } else {
        Ok(text)
    }
}

/// A whole configuration file (a mapped path), at most [`MEMBER_MAX`] bytes.
fn read_whole(real: &Path) -> Result<String, LeftOut> {
    let len = judge(real)?;
    if len > MEMBER_MAX {
        return Err(LeftOut::TooLarge(len));
    }
    text_only(hostfs::read_real(real).map_err(|e| LeftOut::Unreadable(e.to_string()))?)
}

/// The tail of a log (a mapped path): its last [`TAIL_BYTES`], at most [`TAIL_LINES`] lines,
/// and how much that is of the file.
fn read_log_tail(real: &Path) -> Result<(String, u64), LeftOut> {
    let len = judge(real)?;
    let raw = hostfs::read_tail(real, TAIL_BYTES).map_err(|e| LeftOut::Unreadable(e.to_string()))?;
    // A log truncated in place (logrotate's copytruncate) starts with NUL bytes: they go; a
    // tail of nothing else is not text.
    let text = raw.replace('\0', "");
    if text.trim().is_empty() && !raw.is_empty() {
        return Err(LeftOut::Binary);
    }
    let mut lines: Vec<&str> = text.lines().collect();
    // A tail that starts inside a line drops that line's end.
    if len > TAIL_BYTES && lines.len() > 1 {
        lines.remove(0);
    }
    let from = lines.len().saturating_sub(TAIL_LINES);
    let mut out = lines[from..].join("\n");
    out.push('\n');
    Ok((out, len))
}

impl Gathered {
    fn size(&self) -> usize {
        self.members.iter().map(|m| m.text.len()).sum()
    }

    fn left(&mut self, what: impl Into<String>, why: LeftOut) {
        self.omitted.push(Omission { what: what.into(), why });
    }

    /// Adds a member unless the archive is full or the time is up.
    fn add(&mut self, name: String, source: String, text: String, note: Option<String>) -> bool {
        if Instant::now() > self.until {
            self.left(source, LeftOut::Deadline);
            return false;
        }
        if self.size() + text.len() > ARCHIVE_MAX {
            self.left(source, LeftOut::ArchiveFull);
            return false;
        }
        self.members.push(Member { name, source, text, note });
        true
    }

    /// A whole configuration file under `files/` (its secret-named values registered).
    fn add_file(&mut self, real: &Path, shown: &str, php: bool) {
        if self.members.iter().any(|m| m.source == shown) {
            return;
        }
        match read_whole(real) {
            Ok(text) => {
                register_named_secrets(&text, php);
                self.add(archive_name("files", shown), shown.to_string(), text, None);
            }
            Err(why) => self.left(shown, why),
        }
    }

    /// The tail of a log under `logs/`.
    fn add_tail(&mut self, real: &Path) {
        let shown = hostfs::display(real);
        if self.members.iter().any(|m| m.source == shown) || self.omitted.iter().any(|o| o.what == shown) {
            return;
        }
        match read_log_tail(real) {
            Ok((text, len)) => {
                let lines = text.lines().count();
                let note = ui::text("bundle.note.tail", self.lang)
                    .replace("{lines}", &lines.to_string())
                    .replace("{bytes}", &len.to_string());
                self.add(archive_name("logs", &shown), shown, text, Some(note));
            }
            Err(why) => self.left(shown, why),
        }
    }
}

/// The name of a host file inside the archive: `files/etc/supervisor/supervisord.conf`; no
/// `..`, no control characters.
fn archive_name(dir: &str, shown: &str) -> String {
    let parts: Vec<String> = shown
        .split('/')
        .filter(|p| !p.is_empty() && *p != "." && *p != "..")
        .map(|p| p.chars().map(|c| if c.is_control() || c == '\\' { '_' } else { c }).take(200).collect())
        .collect();
    format!("{dir}/{}", parts.join("/"))
}

/// Reads the files of the bundle (before the report is built, so that the secret-named values
/// found in them are masked in the report too).
pub fn gather(s: &Settings, executed: &[Executed], until: Instant) -> Gathered {
    let mut g = Gathered { members: Vec::new(), omitted: Vec::new(), until, lang: s.lang };
    gather_sei(s, &mut g);
    gather_supervisor(executed, &mut g);
    gather_php_ini(s, &mut g);
    gather_cron(executed, &mut g);
    g
}

fn gather_sei(s: &Settings, g: &mut Gathered) {
    let Some(install) = &s.sei else {
        g.left(format!("{}/config/ConfiguracaoSEI.php", s.sei_dir.display()), LeftOut::NotFound);
        return;
    };
    let mut files: Vec<PathBuf> = install.files_read.clone();
    for rel in [
        "config/ConfiguracaoSEI.php",
        "config/mod-pen/ConfiguracaoModPEN.php",
        "config/mod-protocolo-integrado/ConfiguracaoModProtocoloIntegrado.php",
    ] {
        let p = install.dir.join(rel);
        if !files.contains(&p) {
            files.push(p);
        }
    }
    for p in files {
        let shown = std::path::absolute(&p).unwrap_or(p.clone()).display().to_string();
        if !p.exists() && !install.files_read.contains(&p) {
            // A module's configuration is worth naming only when the module is configured.
            let module = p.to_string_lossy().contains("mod-pen") && crate::checks::facts::pen_node(s)
                || p.to_string_lossy().contains("mod-protocolo") && install.pi_enabled()
                || p.ends_with("ConfiguracaoSEI.php");
            if module {
                g.left(shown, LeftOut::NotFound);
            }
            continue;
        }
        g.add_file(&p, &shown, true);
    }
}

fn evidence_strings(executed: &[Executed], id: &str, key: &str) -> Option<Vec<String>> {
    let e = executed.iter().find(|e| e.id == id)?;
    let list = e.outcome.evidence.get(key)?.as_array()?;
    Some(list.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
}

fn gather_supervisor(executed: &[Executed], g: &mut Gathered) {
    // The files the `supervisor` check read; when it did not run, found the same way.
    let files = evidence_strings(executed, "supervisor", "config_files")
        .unwrap_or_else(|| crate::checks::supervisor::load_config().files);
    let mut sections = Vec::new();
    for f in &files {
        let real = hostfs::path(f);
        g.add_file(&real, f, false);
        if let Some(m) = g.members.iter().find(|m| m.source == *f) {
            sections.extend(crate::checks::supervisor::parse_ini(&m.text, f));
        }
    }
    for real in supervisor_logs(&sections) {
        g.add_tail(&real);
    }
}

/// The log files of supervisord itself and of its PEN programs (mapped paths).
fn supervisor_logs(sections: &[crate::checks::supervisor::Section]) -> Vec<PathBuf> {
    use crate::checks::supervisor::pen_script_of;
    let mut out: Vec<PathBuf> = Vec::new();
    let here = |file: &str| Path::new(file).parent().unwrap_or(Path::new("/")).display().to_string();
    let daemon = sections.iter().rev().find(|s| s.name == "supervisord");
    let childlogdir = daemon
        .and_then(|d| d.get("childlogdir"))
        .map(|e| e.value.replace("%(here)s", &here(&d_file(daemon))))
        .unwrap_or_else(|| "/tmp".into());
    if let Some(log) = daemon.and_then(|d| d.get("logfile")) {
        let v = log.value.replace("%(here)s", &here(&d_file(daemon)));
        if v.starts_with('/') {
            out.push(hostfs::path(v));
        }
    }
    for s in sections {
        let Some(program) = s.name.strip_prefix("program:") else { continue };
        if s.get("command").and_then(|c| pen_script_of(&c.value)).is_none() {
            continue;
        }
        let start: u32 = s.get("numprocs_start").and_then(|e| e.value.parse().ok()).unwrap_or(0);
        let count: u32 = s.get("numprocs").and_then(|e| e.value.parse().ok()).unwrap_or(1).clamp(1, 32);
        let redirect =
            s.get("redirect_stderr").is_some_and(|e| matches!(e.value.as_str(), "true" | "yes" | "on" | "1"));
        for stream in ["stdout", "stderr"] {
            if stream == "stderr" && redirect {
                continue;
            }
            let value = s.get(&format!("{stream}_logfile")).map(|e| e.value.clone()).unwrap_or_else(|| "AUTO".into());
            if value.eq_ignore_ascii_case("NONE") || value.eq_ignore_ascii_case("syslog") {
                continue;
            }
            if value.eq_ignore_ascii_case("AUTO") {
                // supervisord names them PROGRAM-STREAM---supervisor-RANDOM.log in childlogdir.
                let prefix = format!("{program}-{stream}---supervisor-");
                let mut found: Vec<PathBuf> = hostfs::list_dir(&childlogdir)
                    .into_iter()
                    .take(DIR_MAX * 10)
                    .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&prefix)))
                    .collect();
                found.truncate(count as usize);
                out.extend(found);
                continue;
            }
            for n in start..start + count {
                let v = value
                    .replace("%(program_name)s", program)
                    .replace("%(group_name)s", program)
                    .replace("%(process_num)02d", &format!("{n:02}"))
                    .replace("%(process_num)d", &n.to_string())
                    .replace("%(here)s", &here(&s.file));
                if v.starts_with('/') {
                    let p = hostfs::path(&v);
                    if !out.contains(&p) {
                        out.push(p);
                    }
                }
            }
        }
    }
    out
}

fn d_file(d: Option<&crate::checks::supervisor::Section>) -> String {
    d.map(|d| d.file.clone()).unwrap_or_else(|| "/etc/supervisor/supervisord.conf".into())
}

/// The php.ini keys an analyst asks about.
const PHP_KEYS: &[&str] = &[
    "short_open_tag",
    "disable_functions",
    "openssl.cafile",
    "openssl.capath",
    "curl.cainfo",
    "extension_dir",
    "extension",
    "zend_extension",
    "include_path",
];

/// The php.ini files SEI may run with (host paths), each with the conf.d directory PHP scans
/// after it.
fn php_ini_files(explicit: Option<&Path>) -> Vec<(String, Option<String>)> {
    if let Some(p) = explicit {
        let dir = p.parent().map(|d| d.join("conf.d").display().to_string());
        return vec![(p.display().to_string(), dir)];
    }
    let mut out = Vec::new();
    let mut versions = hostfs::list_dir("/etc/php");
    versions.reverse();
    for v in versions {
        let v = hostfs::display(&v);
        for sapi in ["apache2", "fpm", "cli"] {
            out.push((format!("{v}/{sapi}/php.ini"), Some(format!("{v}/{sapi}/conf.d"))));
        }
    }
    out.push(("/etc/php.ini".into(), Some("/etc/php.d".into())));
    let mut remi = hostfs::list_dir("/etc/opt/remi");
    remi.reverse();
    for d in remi {
        let d = hostfs::display(&d);
        out.push((format!("{d}/php.ini"), Some(format!("{d}/php.d"))));
    }
    out
}

/// The lines of php.ini text that set one of [`PHP_KEYS`]: (line number, line).
fn php_lines(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let t = l.trim();
            let (k, _) = t.split_once('=')?;
            (!t.starts_with(';') && !t.starts_with('#') && PHP_KEYS.contains(&k.trim()))
                .then(|| (i + 1, t.chars().take(500).collect()))
        })
        .collect()
}

fn gather_php_ini(s: &Settings, g: &mut Gathered) {
    let mut out = String::new();
    let mut any = false;
    for (ini, conf_d) in php_ini_files(s.php_ini.as_deref()) {
        let real = if s.php_ini.is_some() { PathBuf::from(&ini) } else { hostfs::path(&ini) };
        match read_whole(&real) {
            Ok(text) => {
                any = true;
                let _ = writeln!(out, "# {ini}");
                for (n, line) in php_lines(&text) {
                    let _ = writeln!(out, "{ini}:{n}: {line}");
                }
            }
            Err(LeftOut::NotFound) if s.php_ini.is_none() => continue,
            Err(why) => {
                g.left(ini, why);
                continue;
            }
        }
        let Some(dir) = conf_d else { continue };
        let real_dir = if s.php_ini.is_some() { PathBuf::from(&dir) } else { hostfs::path(&dir) };
        let files: Vec<PathBuf> = hostfs::list_dir(&real_dir)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "ini"))
            .take(DIR_MAX)
            .collect();
        let _ = writeln!(out, "# conf.d: {dir} ({} .ini)", files.len());
        for f in files {
            let shown = hostfs::display(&f);
            match read_whole(&f) {
                Ok(text) => {
                    for (n, line) in php_lines(&text) {
                        let _ = writeln!(out, "{shown}:{n}: {line}");
                    }
                }
                Err(why) => g.left(shown, why),
            }
        }
        out.push('\n');
    }
    if any {
        register_named_secrets(&out, false);
        g.add("php-ini.txt".into(), "php.ini".into(), out, None);
    } else {
        g.left("php.ini", LeftOut::NotFound);
    }
}

/// Words that make a cron line worth sending: SEI, SIP, the modules and their scripts.
const CRON_WORDS: &[&str] = &[
    "/sei",
    "/sip",
    "sei/",
    "agendamentotarefa",
    "mod-pen",
    "pen/",
    "verificar-reboot-fila",
    "verificar-servicos",
    "protocolo-integrado",
    "protocolointegrado",
    "gearman",
    "supervisor",
];

/// The cron lines of `text` about SEI/PEN, with the variable assignments of the same file.
fn cron_lines(text: &str) -> Vec<(usize, String)> {
    let relevant: Vec<(usize, String)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            let low = l.to_ascii_lowercase();
            CRON_WORDS.iter().any(|w| low.contains(w))
        })
        .map(|(i, l)| (i + 1, l.trim().chars().take(500).collect()))
        .collect();
    if relevant.is_empty() {
        return relevant;
    }
    let is_assignment = |l: &str| {
        let t = l.trim();
        !t.starts_with('#')
            && t.split_once('=')
                .is_some_and(|(k, _)| !k.is_empty() && k.trim().chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    };
    let mut all: Vec<(usize, String)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| is_assignment(l))
        .map(|(i, l)| (i + 1, l.trim().chars().take(500).collect()))
        .collect();
    all.extend(relevant);
    all.sort();
    all.dedup();
    all
}

fn gather_cron(executed: &[Executed], g: &mut Gathered) {
    let files: Vec<PathBuf> = match evidence_strings(executed, "cron:pen", "files_read") {
        Some(list) => list.iter().map(hostfs::path).collect(),
        None => {
            let mut files = vec![hostfs::path("/etc/crontab")];
            for dir in ["/etc/cron.d", "/var/spool/cron/crontabs", "/var/spool/cron"] {
                files.extend(hostfs::list_dir(dir).into_iter().take(DIR_MAX));
            }
            files
        }
    };
    let mut out = String::new();
    for real in files {
        let shown = hostfs::display(&real);
        match read_whole(&real) {
            Ok(text) => {
                for (n, line) in cron_lines(&text) {
                    let _ = writeln!(out, "{shown}:{n}: {line}");
                }
            }
            Err(LeftOut::NotFound) => {}
            // A directory under /var/spool/cron (crontabs/) is where the files are, not a file.
            Err(LeftOut::NotRegular("directory")) => {}
            Err(why) => g.left(shown, why),
        }
    }
    if out.is_empty() {
        out = format!("# {}\n", ui::text("bundle.cron.none", g.lang));
    }
    register_named_secrets(&out, false);
    g.add("cron.txt".into(), "crontab".into(), out, None);
}

// ------------------------------------------------------------------- secret-named values

/// Whether a key names a secret (`Senha`, `SenhaScript`, `ChaveAcesso`, `password`,
/// `DB_PASSWORD`, `--senha`), and not a file or variable that holds one.
fn secret_key(key: &str) -> bool {
    let k = key.trim_start_matches(['-', '$']).to_ascii_lowercase();
    let names = ["senha", "password", "passwd", "pwd", "secret", "chave", "token", "apikey", "api_key", "credential"];
    let holders = ["file", "path", "arquivo", "env", "_set", "usuario", "user", "localizacao"];
    names.iter().any(|n| k.contains(n)) && !holders.iter().any(|h| k.contains(h))
}

/// One piece of a line, for [`named_values`].
#[derive(Debug, PartialEq)]
enum Piece {
    /// A quoted literal: its raw content and its unescaped value.
    Quoted(String, String),
    Word(String),
    Sep(String),
    Other,
}

fn pieces(line: &str) -> Vec<Piece> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' || c == '"' {
            let (mut raw, mut value) = (String::new(), String::new());
            i += 1;
            while i < chars.len() && chars[i] != c {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    raw.push(chars[i]);
                    raw.push(chars[i + 1]);
                    let next = chars[i + 1];
                    if next == c || next == '\\' || (c == '"' && next == '$') {
                        value.push(next);
                    } else {
                        value.push('\\');
                        value.push(next);
                    }
                    i += 2;
                    continue;
                }
                raw.push(chars[i]);
                value.push(chars[i]);
                i += 1;
            }
            i += 1;
            out.push(Piece::Quoted(raw, value));
        } else if c.is_alphanumeric() || "_-.$/{}+@!%*".contains(c) {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || "_-.$/{}+@!%*#&?~^".contains(chars[i])) {
                i += 1;
            }
            out.push(Piece::Word(chars[start..i].iter().collect()));
        } else if c == '=' || c == ':' || c == ',' {
            let start = i;
            i += 1;
            if c == '=' && chars.get(i) == Some(&'>') {
                i += 1;
            }
            out.push(Piece::Sep(chars[start..i].iter().collect()));
        } else if c.is_whitespace() {
            i += 1;
        } else {
            out.push(Piece::Other);
            i += 1;
        }
    }
    out
}

/// The values assigned to secret-named keys in `text`: `'Senha' => 'x'`, `define('SENHA', 'x')`,
/// `password = x`, `DB_PASSWORD="x"`, `--senha 'x'`. In PHP only quoted values count (a bare
/// one is a constant or an expression).
pub fn named_values(text: &str, php: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines().take(100_000) {
        let low = line.to_ascii_lowercase();
        let define = low.contains("define(") || low.contains("define (");
        let p = pieces(line);
        for i in 0..p.len() {
            let key = match &p[i] {
                Piece::Quoted(_, v) | Piece::Word(v) if secret_key(v) => v,
                _ => continue,
            };
            let (value_at, ok) = match p.get(i + 1) {
                Some(Piece::Sep(s)) if s == "=>" || s == "=" || s == ":" => (i + 2, true),
                Some(Piece::Sep(s)) if s == "," => (i + 2, define),
                Some(Piece::Quoted(..) | Piece::Word(_)) => (i + 1, key.starts_with('-')),
                _ => (0, false),
            };
            if !ok {
                continue;
            }
            let mut found = Vec::new();
            match p.get(value_at) {
                Some(Piece::Quoted(raw, value)) => {
                    found.push(value.clone());
                    if raw != value {
                        found.push(raw.clone());
                    }
                }
                Some(Piece::Word(w)) if !php => found.push(w.clone()),
                _ => {}
            }
            for v in found {
                let plain =
                    matches!(v.to_ascii_lowercase().as_str(), "true" | "false" | "null" | "none" | "yes" | "no");
                if !v.trim().is_empty() && !plain && !redact::is_mask(&v) {
                    out.push((key.trim_start_matches(['-', '$']).chars().take(60).collect(), v));
                }
            }
        }
    }
    out
}

fn register_named_secrets(text: &str, php: bool) {
    for (key, value) in named_values(text, php) {
        redact::label_secret(&value, &format!("config-value:{key}"));
    }
}

// ------------------------------------------------------------------------------ writing

/// The status of gearman as the `gearman` check saw it, like `gearadmin --status`.
fn gearman_text(report: &Report, lang: Lang) -> Option<String> {
    let c = report.checks.iter().find(|c| c.id == "gearman")?;
    let e = &c.evidence;
    let mut out = String::new();
    let _ = writeln!(out, "# {} ({}) — {}", c.id, c.status.as_str(), c.summary);
    if let Some(why) = &c.skipped_because {
        let _ = writeln!(out, "# {why}");
    }
    for key in ["addr", "version"] {
        if let Some(v) = e.get(key).and_then(Value::as_str) {
            let _ = writeln!(out, "{key}: {v}");
        }
    }
    if let Some(functions) = e.get("functions").and_then(Value::as_array) {
        let _ = writeln!(out, "\n{}", ui::text("bundle.gearman.header", lang));
        for f in functions {
            let n = |k: &str| f.get(k).and_then(Value::as_u64).unwrap_or(0);
            let name = f.get("function").and_then(Value::as_str).unwrap_or("?");
            let _ = writeln!(out, "{name}\t{}\t{}\t{}", n("total"), n("running"), n("workers"));
        }
        out.push_str(".\n");
    }
    for f in &c.findings {
        let _ = writeln!(out, "\n{} ({}): {}", f.code, f.severity.as_str(), f.message);
    }
    let _ = writeln!(out, "\n{}", serde_json::to_string_pretty(&Value::Object(e.clone())).unwrap_or_default());
    Some(out)
}

/// Which trust store PHP uses, its relevant roots, and what each TLS check chained to.
fn trust_store_text(report: &Report, lang: Lang) -> Option<String> {
    let c = report.checks.iter().find(|c| CA_STORE.is(&c.id))?;
    let e = &c.evidence;
    let mut out = String::new();
    let _ = writeln!(out, "# {} ({}) — {}", c.id, c.status.as_str(), c.summary);
    for key in ["path", "source", "count", "damaged_blocks"] {
        if let Some(v) = e.get(key) {
            let _ = writeln!(out, "{key}: {}", v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
        }
    }
    if let Some(roots) = e.get("well_known_roots").and_then(Value::as_array) {
        let _ = writeln!(out, "\n{}:", ui::text("bundle.store.roots", lang));
        for r in roots {
            let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("-").to_string();
            let expired = r.get("expired").and_then(Value::as_bool).unwrap_or(false);
            let _ = writeln!(
                out,
                "  {}  {}  sha256={}{}",
                s("name"),
                s("not_after"),
                s("sha256"),
                if expired { "  EXPIRED" } else { "" }
            );
        }
    }
    if let Some(expired) = e.get("expired").and_then(Value::as_array) {
        let _ = writeln!(out, "\n{}:", ui::text("bundle.store.expired", lang));
        for x in expired.iter().filter_map(Value::as_str) {
            let _ = writeln!(out, "  {x}");
        }
    }
    for f in &c.findings {
        let _ = writeln!(out, "\n{} ({}): {}", f.code, f.severity.as_str(), f.message);
    }
    let tls: Vec<_> = report.checks.iter().filter(|c| c.check == "tls").collect();
    if !tls.is_empty() {
        let _ = writeln!(out, "\n{}:", ui::text("bundle.store.tls", lang));
        for t in tls {
            let anchor =
                t.evidence.get("anchor").map(|a| a.as_str().map(str::to_string).unwrap_or_else(|| a.to_string()));
            let _ =
                writeln!(out, "  {} ({}): {}", t.id, t.status.as_str(), anchor.unwrap_or_else(|| t.summary.clone()));
        }
    }
    Some(out)
}

/// Redacted and escaped for a terminal, lines kept: control characters other than newlines and
/// tabs are written as visible escapes.
fn safe_text(text: &str, used: &mut BTreeSet<usize>) -> String {
    let redacted = redact::redact_noting(text, Some(used));
    let mut out = String::with_capacity(redacted.len());
    for (i, line) in redacted.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        for (j, part) in line.split('\t').enumerate() {
            if j > 0 {
                out.push('\t');
            }
            out.push_str(&redact::escape_controls(part));
        }
    }
    out
}

/// The words for a kind of secret.
fn kind_words(kind: Option<&str>, lang: Lang) -> String {
    match kind {
        Some(k) => match k.split_once(':') {
            Some(("config-value", key)) => {
                ui::text("bundle.kind.config-value", lang).replace("{key}", &redact::clean(key))
            }
            _ => ui::get(&format!("bundle.kind.{k}"), lang)
                .map(str::to_string)
                .unwrap_or_else(|| ui::text("bundle.kind.unknown", lang)),
        },
        None => ui::text("bundle.kind.unknown", lang).to_string(),
    }
}

/// What [`write`] did, for the line on the terminal.
pub struct Written {
    pub files: usize,
    pub left_out: usize,
    pub tokens: usize,
}

/// Builds the archive from the gathered files and the report and writes it to `path` like
/// `--output` (atomically; a device or FIFO by `write_by`).
pub fn write(g: Gathered, report: &Report, strict: bool, path: &Path, write_by: Instant) -> Result<Written, String> {
    let lang = g.lang;
    let mut members: Vec<Member> = Vec::new();
    for (name, format) in [("report.json", crate::model::Format::Json), ("report.md", crate::model::Format::Markdown)] {
        let bytes = crate::render::renderer_for(format, false, strict).render(report);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        members.push(Member { name: name.into(), source: "pen-doctor check".into(), text, note: None });
    }
    let mut omitted = g.omitted;
    match gearman_text(report, lang) {
        Some(text) => {
            members.push(Member { name: "gearman-status.txt".into(), source: "gearman".into(), text, note: None })
        }
        None => omitted.push(Omission { what: "gearman".into(), why: LeftOut::NotInRun }),
    }
    match trust_store_text(report, lang) {
        Some(text) => {
            members.push(Member { name: "trust-store.txt".into(), source: CA_STORE.to_string(), text, note: None })
        }
        None => omitted.push(Omission { what: CA_STORE.to_string(), why: LeftOut::NotInRun }),
    }
    members.extend(g.members);

    let mut files = Vec::new();
    let mut contents: Vec<(String, Vec<u8>)> = Vec::new();
    let mut total = 0usize;
    for m in members {
        if m.text.len() > REPORT_MAX || total + m.text.len() > ARCHIVE_MAX {
            let why =
                if m.text.len() > REPORT_MAX { LeftOut::TooLarge(m.text.len() as u64) } else { LeftOut::ArchiveFull };
            omitted.push(Omission { what: m.source, why });
            continue;
        }
        let mut used = BTreeSet::new();
        let text = safe_text(&m.text, &mut used);
        total += text.len();
        files.push((m.name.clone(), redact::clean(&m.source), text.len(), m.note, used));
        contents.push((m.name, text.into_bytes()));
    }
    let tokens = redact::tokens();
    let token_json = |n: &usize| {
        let (token, kind) = tokens.get(n - 1).cloned().unwrap_or_default();
        json!({"token": token, "kind": kind.as_deref().map(|k| k.split(':').next().unwrap_or(k)), "what": kind_words(kind.as_deref(), lang)})
    };
    let manifest = json!({
        "tool": format!("pen-doctor {}", env!("CARGO_PKG_VERSION")),
        "created_at": report.run.started_at,
        "host": report.run.host.hostname,
        "language": if lang == Lang::En { "en" } else { "pt" },
        "tokens": (1..=tokens.len()).map(|n| token_json(&n)).collect::<Vec<_>>(),
        "files": files.iter().map(|(name, source, size, note, used)| json!({
            "path": name, "source": source, "bytes": size, "note": note,
            "redacted": used.iter().map(token_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "left_out": omitted.iter().map(|o| json!({
            "what": redact::clean(&o.what), "reason": o.why.code(), "why": o.why.words(lang),
        })).collect::<Vec<_>>(),
    });
    let manifest_text = manifest_text(&manifest, lang);
    let mut used = BTreeSet::new();
    let manifest_json = safe_text(&serde_json::to_string_pretty(&manifest).unwrap_or_default(), &mut used);
    let manifest_text = safe_text(&manifest_text, &mut used);
    let mut entries = vec![
        ("MANIFEST.txt".to_string(), manifest_text.into_bytes()),
        ("manifest.json".to_string(), manifest_json.into_bytes()),
    ];
    entries.extend(contents);
    let bytes = archive(&entries).map_err(|e| format!("cannot build the bundle: {e}"))?;
    crate::output::write(&bytes, Some(path), write_by).map_err(|e| format!("cannot write the bundle: {e}"))?;
    Ok(Written { files: entries.len(), left_out: omitted.len(), tokens: tokens.len() })
}

/// The manifest for people.
fn manifest_text(m: &Value, lang: Lang) -> String {
    let t = |k: &str| ui::text(k, lang);
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let mut out = String::new();
    let _ = writeln!(out, "{}\n", t("bundle.manifest.title"));
    let _ = writeln!(out, "{} · {} · {}\n", s(&m["tool"]), s(&m["host"]), s(&m["created_at"]));
    let _ = writeln!(out, "{}\n", t("bundle.manifest.intro"));
    let _ = writeln!(out, "## {}", t("bundle.manifest.tokens"));
    let tokens = m["tokens"].as_array().cloned().unwrap_or_default();
    if tokens.is_empty() {
        let _ = writeln!(out, "  -");
    }
    for tk in &tokens {
        let _ = writeln!(out, "  {}  {}", s(&tk["token"]), s(&tk["what"]));
    }
    let _ = writeln!(out, "\n## {}", t("bundle.manifest.files"));
    for f in m["files"].as_array().into_iter().flatten() {
        let _ = writeln!(out, "  {}  ({} bytes)", s(&f["path"]), f["bytes"]);
        let _ = writeln!(out, "      {}: {}", t("bundle.manifest.source"), s(&f["source"]));
        if let Some(note) = f["note"].as_str() {
            let _ = writeln!(out, "      {note}");
        }
        let red: Vec<String> = f["redacted"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| format!("{} ({})", s(&r["token"]), s(&r["what"])))
            .collect();
        if !red.is_empty() {
            let _ = writeln!(out, "      {}: {}", t("bundle.manifest.redacted"), red.join(", "));
        }
    }
    let _ = writeln!(out, "\n## {}", t("bundle.manifest.left-out"));
    let left = m["left_out"].as_array().cloned().unwrap_or_default();
    if left.is_empty() {
        let _ = writeln!(out, "  -");
    }
    for l in &left {
        let _ = writeln!(out, "  {}: {}", s(&l["what"]), s(&l["why"]));
    }
    out
}

/// A gzip-compressed tar of `entries` under one top directory `pen-doctor-bundle/`.
fn archive(entries: &[(String, Vec<u8>)]) -> std::io::Result<Vec<u8>> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mtime = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(mtime);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, format!("pen-doctor-bundle/{name}"), data.as_slice())?;
    }
    tar.into_inner()?.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_named_values_in_php_ini_env_and_command_lines() {
        let php = "'Senha' => 'S3nh4!',\n  'SenhaScript' => \"Scr\\\"ipt\",\n 'ChaveAcesso' => 'c0ffee',\n\
                   'Usuario' => 'sei', 'SenhaCertificado' => SENHA_CONST,\n define('PEN_SENHA', 'd3f');\n\
                   'LocalizacaoCertificado' => '/x.pem', 'Protegido' => '', 'Senha' => true,";
        let got = named_values(php, true);
        let values: Vec<&str> = got.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(values, ["S3nh4!", "Scr\"ipt", "Scr\\\"ipt", "c0ffee", "d3f"], "{got:?}");
        assert_eq!(got[0].0, "Senha");
        let ini = "[unix_http_server]\npassword = p4ss ; x\nenvironment=HOME=\"/root\",DB_PASSWORD=\"envpw\"\n\
                   command=/usr/bin/php x.php --senha 'clipw' --password=clipw2\nusername=user\n";
        let values: Vec<String> = named_values(ini, false).into_iter().map(|(_, v)| v).collect();
        assert_eq!(values, ["p4ss", "envpw", "clipw", "clipw2"]);
        assert!(named_values("cert-password-env = PDT_X\npassword_set: true\n", false).is_empty());
    }

    #[test]
    fn cron_lines_keep_sei_entries_and_the_variables_of_their_file() {
        let text = "SHELL=/bin/bash\nMAILTO=root\n# m h dom mon dow user command\n\
                    * * * * * root /usr/bin/php -c /etc/php.ini /opt/sei/scripts/AgendamentoTarefaSEI.php\n\
                    0 3 * * * root /usr/sbin/logrotate /etc/logrotate.conf\n";
        let lines = cron_lines(text);
        let numbers: Vec<usize> = lines.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, [1, 2, 4]);
        assert!(cron_lines("0 3 * * * root /usr/sbin/logrotate\nPATH=/usr/bin\n").is_empty());
    }

    #[test]
    fn php_lines_are_the_relevant_effective_ones() {
        let ini = "short_open_tag = Off\n;openssl.cafile=/x\nopenssl.cafile = /etc/ssl/ca.pem\nmemory_limit = 1G\nextension=gearman.so\n";
        let got: Vec<usize> = php_lines(ini).into_iter().map(|(n, _)| n).collect();
        assert_eq!(got, [1, 3, 5]);
    }

    #[test]
    fn archive_names_stay_inside_the_archive() {
        assert_eq!(archive_name("files", "/etc/../x/./a\u{1b}b"), "files/etc/x/a_b");
    }

    #[test]
    fn pieces_never_panic() {
        let seeds: [&[u8]; 3] = [b"'Senha' => 'x\\'", b"define(\"a\", --senha \"", b"=>=,:'\""];
        crate::mutation::mutants(&seeds, 2000, |v| {
            let _ = named_values(&String::from_utf8_lossy(v), true);
            let _ = named_values(&String::from_utf8_lossy(v), false);
        });
    }
}
