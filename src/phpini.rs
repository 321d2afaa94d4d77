//! PHP's own settings as SEI's PHP really loads them, read statically: which php.ini files each
//! PHP that runs SEI reads — the web server's (Debian `/etc/php/*/fpm` and `/etc/php/*/apache2`,
//! RHEL `/etc/php.ini`, Remi's collections, the official docker images' `/usr/local/etc/php`), the
//! command line's (`/etc/php/*/cli`), and the `-c FILE` (and `-d key=value`) that supervisor
//! programs, crontab lines and running PHP processes give — each followed by the `.ini` files of
//! its scan directory, as PHP reads them; and the effective value of a key, with the file and line
//! that set it.
//!
//! Used by `config:sei` (`short_open_tag`, `disable_functions`, `extension_dir`) and `ca:store`
//! (`openssl.cafile`, `curl.cainfo`). Every file goes through the bounded reader; a file that
//! exists but cannot be read is listed, never a reason to stop.

use crate::hostfs::{self, FileError, Kind};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `.ini` files read at most from one scan directory.
pub const MAX_SCAN_FILES: usize = 200;
/// Configurations named by `-c` read at most.
pub const MAX_GIVEN: usize = 8;

/// Which PHP a configuration belongs to.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The web server's PHP: the pages of SEI (php-fpm, Apache's mod_php).
    Web,
    /// The command line's PHP: the workers, the monitors and SEI's scheduler.
    Cli,
    /// Both (RHEL's one php.ini, or `--php-ini`).
    Both,
}

impl Role {
    pub fn web(&self) -> bool {
        matches!(self, Role::Web | Role::Both)
    }
    pub fn cli(&self) -> bool {
        matches!(self, Role::Cli | Role::Both)
    }
}

/// Where a value came from: a file and line, or PHP's built-in default.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Setting {
    pub value: String,
    /// `FILE:LINE`, `-d in …`, or `PHP's built-in default`.
    pub from: String,
    /// The file that set it (`None` for `-d`).
    pub file: Option<String>,
}

/// One PHP's configuration.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PhpConfig {
    /// `fpm 8.2`, `apache2 8.2`, `cli 8.2`, `rhel`, `-c /etc/php.ini (supervisor …)`…
    pub label: String,
    pub role: Role,
    /// The main php.ini as a host path; `None` when PHP finds none (it then runs with its
    /// built-in defaults plus the scan directory).
    pub main: Option<String>,
    /// A main file that was named (by `-c`) but does not exist.
    pub missing_main: Option<String>,
    /// The scan directory's `.ini` files read, in PHP's order.
    pub scanned: Vec<String>,
    #[serde(skip)]
    values: BTreeMap<String, Setting>,
}

impl PhpConfig {
    /// The effective value of `key` (the last assignment of php.ini, then its scan directory,
    /// then `-d`), or `None` when nothing sets it.
    pub fn get(&self, key: &str) -> Option<&Setting> {
        self.values.get(key)
    }

    /// `short_open_tag`: on or off, and where that came from (PHP's built-in default is on).
    pub fn short_open_tag(&self) -> (bool, String) {
        match self.get("short_open_tag") {
            Some(s) => (ini_bool(&s.value), s.from.clone()),
            None => (true, BUILT_IN.to_string()),
        }
    }

    /// The functions `disable_functions` turns off, and where.
    pub fn disabled_functions(&self) -> (Vec<String>, Option<String>) {
        match self.get("disable_functions") {
            Some(s) => (
                s.value.split(',').map(|f| f.trim().to_string()).filter(|f| !f.is_empty()).collect(),
                Some(s.from.clone()),
            ),
            None => (Vec::new(), None),
        }
    }
}

/// What discovery found.
#[derive(Clone, Debug, Default)]
pub struct PhpInis {
    pub configs: Vec<PhpConfig>,
    /// Files that exist but could not be read (too large, binary, no permission…).
    pub unreadable: Vec<FileError>,
}

impl PhpInis {
    /// The configurations of the web server's PHP.
    pub fn web(&self) -> impl Iterator<Item = &PhpConfig> {
        self.configs.iter().filter(|c| c.role.web())
    }

    /// The configurations of the command line's PHP.
    pub fn cli(&self) -> impl Iterator<Item = &PhpConfig> {
        self.configs.iter().filter(|c| c.role.cli())
    }
}

/// The source of a value no file set.
pub const BUILT_IN: &str = "PHP's built-in default";

/// PHP's reading of an ini boolean: `1`, `On`, `Yes`, `True` are true; anything else false.
pub fn ini_bool(v: &str) -> bool {
    matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "on" | "yes" | "true")
}

/// The assignments of a php.ini text in order: (key, value, line). Comments (`;`, and `#` of
/// old files), sections and lines without `=` are skipped; quotes around a value are removed
/// and a `;` comment after an unquoted value is cut.
pub fn parse(text: &str) -> Vec<(String, String, usize)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with(';') || t.starts_with('#') || t.starts_with('[') {
            continue;
        }
        let Some((k, v)) = t.split_once('=') else { continue };
        let key = k.trim();
        if key.is_empty() || key.contains(char::is_whitespace) {
            continue;
        }
        let v = v.trim();
        let value = match v.chars().next() {
            Some(q @ ('"' | '\'')) => v[1..].split(q).next().unwrap_or("").to_string(),
            _ => v.split(';').next().unwrap_or("").trim().to_string(),
        };
        out.push((key.to_string(), value, i + 1));
    }
    out
}

/// The value of `key` in php.ini text: the last assignment wins; an empty value is `None`.
pub fn value_in(text: &str, key: &str) -> Option<String> {
    parse(text).into_iter().rev().find(|(k, _, _)| k == key).map(|(_, v, _)| v).filter(|v| !v.is_empty())
}

/// A PHP whose files are to be read: its main file (host path, or a real path when given by
/// the user) and its scan directory.
struct Layout {
    label: String,
    role: Role,
    main: Option<PathBuf>,
    scan_dir: Option<PathBuf>,
    /// `-d` settings of the command line that starts it: (key, value, where).
    defines: Vec<(String, String, String)>,
    /// Paths are host paths to map through `hostfs::path` (false for `--php-ini`).
    host: bool,
}

/// Versions under `/etc/php` (Debian, Ubuntu, sury), newest first.
fn debian_versions() -> Vec<String> {
    let mut v: Vec<String> = hostfs::list_dir("/etc/php")
        .into_iter()
        .filter(|p| p.is_dir())
        .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_string))
        .collect();
    v.sort_by_key(|a| std::cmp::Reverse(version_key(a)));
    v
}

fn version_key(v: &str) -> Vec<u32> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

/// The Debian PHP versions a SAPI runs with here: the `php` alternative (CLI), the PHP module
/// Apache loads (`mods-enabled/php8.2.load`), the running php-fpm masters (`/etc/php/8.2/fpm/…`
/// in their command line). Empty when it cannot be told.
fn versions_in_use(sapi: &str) -> Vec<String> {
    let version_in = |text: &str| -> Option<String> {
        let v: String =
            text.chars().skip_while(|c| !c.is_ascii_digit()).take_while(|c| c.is_ascii_digit() || *c == '.').collect();
        let v = v.trim_end_matches('.').to_string();
        (v.contains('.')).then_some(v)
    };
    let mut out = Vec::new();
    match sapi {
        "cli" => {
            if let Ok(target) = std::fs::read_link(hostfs::path("/etc/alternatives/php")) {
                let name = target.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
                out.extend(name.strip_prefix("php").and_then(version_in));
            }
        }
        "apache2" => {
            for f in hostfs::list_dir("/etc/apache2/mods-enabled") {
                let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
                if let Some(rest) = name.strip_prefix("php").and_then(|r| r.strip_suffix(".load")) {
                    out.extend(version_in(rest));
                }
            }
        }
        _ => {
            for dir in hostfs::list_dir("/proc") {
                if !dir.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.chars().all(|c| c.is_ascii_digit())) {
                    continue;
                }
                let Ok(raw) = hostfs::read_file(&dir.join("cmdline"), Kind::Kernel) else { continue };
                let text = String::from_utf8_lossy(&raw);
                if let Some(i) = text.find("/etc/php/").filter(|_| text.starts_with("php-fpm")) {
                    out.extend(version_in(&text[i + "/etc/php/".len()..]));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The packaged PHPs of this host.
fn packaged() -> Vec<Layout> {
    let mut out = Vec::new();
    let layout = |label: String, role: Role, main: &str, scan: &str| Layout {
        label,
        role,
        main: Some(PathBuf::from(main)),
        scan_dir: Some(PathBuf::from(scan)),
        defines: Vec::new(),
        host: true,
    };
    let versions = debian_versions();
    for (sapi, role) in [("fpm", Role::Web), ("apache2", Role::Web), ("cli", Role::Cli)] {
        let present: Vec<&String> =
            versions.iter().filter(|v| hostfs::path(format!("/etc/php/{v}/{sapi}")).is_dir()).collect();
        // Only the PHPs this host runs, when that can be told: Apache's enabled PHP module (none
        // enabled: Apache does not run PHP itself), else with several versions side by side.
        let used = match sapi {
            "apache2" if hostfs::path("/etc/apache2/mods-enabled").is_dir() => Some(versions_in_use(sapi)),
            _ if present.len() > 1 => Some(versions_in_use(sapi)).filter(|u| !u.is_empty()),
            _ => None,
        };
        for v in present.into_iter().filter(|v| used.as_ref().is_none_or(|u| u.contains(v))) {
            let dir = format!("/etc/php/{v}/{sapi}");
            out.push(layout(format!("{sapi} {v}"), role.clone(), &format!("{dir}/php.ini"), &format!("{dir}/conf.d")));
        }
    }
    if hostfs::exists("/etc/php.ini") || hostfs::path("/etc/php.d").is_dir() {
        out.push(layout("rhel".into(), Role::Both, "/etc/php.ini", "/etc/php.d"));
    }
    let mut remi: Vec<PathBuf> = hostfs::list_dir("/etc/opt/remi").into_iter().filter(|p| p.is_dir()).collect();
    remi.reverse();
    for d in remi {
        let shown = hostfs::display(&d);
        let name = d.file_name().and_then(|n| n.to_str()).unwrap_or("remi").to_string();
        out.push(layout(name, Role::Both, &format!("{shown}/php.ini"), &format!("{shown}/php.d")));
    }
    if hostfs::path("/usr/local/etc/php").is_dir() {
        out.push(layout("docker".into(), Role::Both, "/usr/local/etc/php/php.ini", "/usr/local/etc/php/conf.d"));
    }
    out
}

/// A PHP command line found in a crontab, a supervisor program or a running process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhpCommand {
    /// `-c FILE` (or `--php-ini FILE`), as written.
    pub ini: Option<String>,
    /// `-d key=value` settings.
    pub defines: Vec<(String, String)>,
    /// Where it was found: `/etc/crontab:12`, `process 4242`…
    pub from: String,
}

fn is_php_binary(word: &str) -> bool {
    let base = word.rsplit('/').next().unwrap_or(word);
    base == "php"
        || base == "php-cli"
        || (base.starts_with("php") && base[3..].chars().all(|c| c.is_ascii_digit() || c == '.') && base.len() > 3)
}

/// The PHP command line within `words` (a shell line split on blanks, or a process's argv):
/// the `-c` and `-d` options given to a PHP binary, if one runs.
pub fn php_options(words: &[&str], from: &str) -> Option<PhpCommand> {
    let start = words.iter().position(|w| is_php_binary(w.trim_matches(|c| c == '"' || c == '\'')))?;
    let mut cmd = PhpCommand { ini: None, defines: Vec::new(), from: from.to_string() };
    let mut it = words[start + 1..].iter().map(|w| w.trim_matches(|c| c == '"' || c == '\''));
    while let Some(w) = it.next() {
        if w == "-c" || w == "--php-ini" {
            cmd.ini = it.next().map(str::to_string);
        } else if let Some(v) = w.strip_prefix("--php-ini=") {
            cmd.ini = Some(v.to_string());
        } else if let Some(v) = w.strip_prefix("-c").filter(|v| !v.is_empty() && !w.starts_with("--")) {
            cmd.ini = Some(v.to_string());
        } else if w == "-d" || w == "--define" {
            if let Some((k, v)) = it.next().and_then(|d| d.split_once('=')) {
                cmd.defines.push((k.trim().to_string(), v.trim().to_string()));
            }
        } else if let Some((k, v)) = w.strip_prefix("-d").filter(|d| !d.is_empty()).and_then(|d| d.split_once('=')) {
            cmd.defines.push((k.trim().to_string(), v.trim().to_string()));
        } else if !w.starts_with('-') {
            // The script: what follows are its own arguments.
            break;
        }
    }
    (cmd.ini.is_some() || !cmd.defines.is_empty()).then_some(cmd)
}

/// Files whose lines start PHP for SEI: crontabs and supervisor configurations.
fn command_files() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = ["/etc/crontab", "/etc/supervisord.conf", "/etc/supervisor/supervisord.conf"]
        .iter()
        .map(hostfs::path)
        .collect();
    for dir in
        ["/etc/cron.d", "/var/spool/cron/crontabs", "/var/spool/cron", "/etc/supervisor/conf.d", "/etc/supervisord.d"]
    {
        out.extend(hostfs::list_dir(dir).into_iter().filter(|p| !p.is_dir()).take(MAX_SCAN_FILES));
    }
    out
}

/// The PHP command lines of the crontabs, supervisor configurations and running processes.
pub fn php_commands(unreadable: &mut Vec<FileError>) -> Vec<PhpCommand> {
    let mut out = Vec::new();
    for f in command_files() {
        let text = match hostfs::read_real(&f) {
            Ok(t) => t,
            Err(e) if e.is_not_found() => continue,
            Err(e) => {
                unreadable.push(e);
                continue;
            }
        };
        let shown = hostfs::display(&f);
        for (i, line) in text.lines().enumerate() {
            let t = line.trim();
            if t.starts_with('#') || t.starts_with(';') || !t.contains("php") {
                continue;
            }
            let t = t.strip_prefix("command").map(|r| r.trim_start().trim_start_matches('=')).unwrap_or(t);
            let words: Vec<&str> = t.split_whitespace().collect();
            if let Some(c) = php_options(&words, &format!("{shown}:{}", i + 1)) {
                out.push(c);
            }
        }
    }
    for dir in hostfs::list_dir("/proc") {
        let Some(pid) = dir.file_name().and_then(|n| n.to_str()).and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(raw) = hostfs::read_file(&dir.join("cmdline"), Kind::Kernel) else { continue };
        let text = String::from_utf8_lossy(&raw);
        let args: Vec<&str> = text.split('\0').filter(|a| !a.is_empty()).collect();
        if let Some(c) = php_options(&args, &format!("process {pid}")) {
            out.push(c);
        }
    }
    out
}

/// The layouts of the `-c` files commands give (each once), the CLI's scan directory after them.
fn given(commands: &[PhpCommand], cli_scan: Option<PathBuf>) -> Vec<Layout> {
    let mut out: Vec<Layout> = Vec::new();
    for c in commands {
        let Some(ini) = &c.ini else { continue };
        if let Some(l) = out.iter_mut().find(|l| l.main.as_deref() == Some(Path::new(ini))) {
            for (k, v) in &c.defines {
                l.defines.push((k.clone(), v.clone(), format!("-d in {}", c.from)));
            }
            continue;
        }
        if out.len() >= MAX_GIVEN {
            break;
        }
        // `-c DIR` looks for DIR/php.ini.
        let main = if hostfs::path(ini).is_dir() { Path::new(ini).join("php.ini") } else { PathBuf::from(ini) };
        out.push(Layout {
            label: format!("-c {ini} ({})", c.from),
            role: Role::Cli,
            main: Some(main),
            scan_dir: cli_scan.clone(),
            defines: c.defines.iter().map(|(k, v)| (k.clone(), v.clone(), format!("-d in {}", c.from))).collect(),
            host: true,
        });
    }
    out
}

/// Reads one PHP's files.
fn read_layout(l: Layout, unreadable: &mut Vec<FileError>) -> PhpConfig {
    let mut cfg = PhpConfig {
        label: l.label,
        role: l.role,
        main: None,
        missing_main: None,
        scanned: Vec::new(),
        values: BTreeMap::new(),
    };
    let map = |p: &Path| if l.host { hostfs::path(p) } else { p.to_path_buf() };
    let apply = |cfg: &mut PhpConfig, text: &str, shown: &str| {
        for (k, v, line) in parse(text) {
            cfg.values.insert(k, Setting { value: v, from: format!("{shown}:{line}"), file: Some(shown.to_string()) });
        }
    };
    if let Some(main) = &l.main {
        let real = map(main);
        let shown = if l.host { hostfs::display(&real) } else { real.display().to_string() };
        match hostfs::read_lossy(&real, Kind::HostConfig) {
            Ok(text) => {
                apply(&mut cfg, &text, &shown);
                cfg.main = Some(shown);
            }
            Err(e) if e.is_not_found() => cfg.missing_main = Some(shown),
            Err(e) => unreadable.push(FileError { path: PathBuf::from(shown), reason: e.reason }),
        }
    }
    if let Some(dir) = &l.scan_dir {
        let files: Vec<PathBuf> = hostfs::list_real_dir(&map(dir))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "ini"))
            .take(MAX_SCAN_FILES)
            .collect();
        for f in files {
            let shown = if l.host { hostfs::display(&f) } else { f.display().to_string() };
            match hostfs::read_lossy(&f, Kind::HostConfig) {
                Ok(text) => {
                    apply(&mut cfg, &text, &shown);
                    cfg.scanned.push(shown);
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => unreadable.push(FileError { path: PathBuf::from(shown), reason: e.reason }),
            }
        }
    }
    for (k, v, from) in l.defines {
        cfg.values.insert(k, Setting { value: v, from, file: None });
    }
    cfg
}

/// The php.ini configurations of this host: `--php-ini` alone when given (it is the one SEI
/// runs with, for its pages and its workers), else the packaged PHPs and the `-c` files of
/// `commands`. A PHP with no file at all is not listed: nothing says it runs SEI.
pub fn discover(explicit: Option<&Path>, commands: &[PhpCommand]) -> PhpInis {
    let mut out = PhpInis::default();
    let layouts = match explicit {
        Some(p) => vec![Layout {
            label: format!("--php-ini {}", p.display()),
            role: Role::Both,
            main: Some(p.to_path_buf()),
            scan_dir: p.parent().map(|d| d.join("conf.d")).filter(|d| d.is_dir()),
            defines: Vec::new(),
            host: false,
        }],
        None => {
            let packaged = packaged();
            let cli_scan = packaged.iter().find(|l| l.role.cli()).and_then(|l| l.scan_dir.clone());
            let mut all = given(commands, cli_scan);
            all.extend(packaged);
            all
        }
    };
    for l in layouts {
        let explicit_main = explicit.is_some();
        let cfg = read_layout(l, &mut out.unreadable);
        if explicit_main {
            if let Some(m) = &cfg.missing_main {
                out.unreadable.push(FileError { path: PathBuf::from(m), reason: hostfs::Reason::NotFound });
            }
        }
        if cfg.main.is_some() || !cfg.scanned.is_empty() || cfg.missing_main.is_some() {
            out.configs.push(cfg);
        }
    }
    out
}

/// [`discover`] with the command lines of this host.
pub fn discover_host(explicit: Option<&Path>) -> PhpInis {
    let mut unreadable = Vec::new();
    let commands = if explicit.is_some() { Vec::new() } else { php_commands(&mut unreadable) };
    let mut inis = discover(explicit, &commands);
    unreadable.append(&mut inis.unreadable);
    inis.unreadable = unreadable;
    inis
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_text() {
        let ini = "[PHP]\n; short_open_tag = On\nshort_open_tag = Off\nengine=On ; comment\n\
                   disable_functions = \"pcntl_fork,pcntl_exec\"\n#old = 1\nopenssl.cafile='/etc/x.pem'\nbad line\n\
                   short_open_tag = On\n";
        let p = parse(ini);
        assert_eq!(p[0], ("short_open_tag".into(), "Off".into(), 3));
        assert_eq!(p[1], ("engine".into(), "On".into(), 4));
        assert_eq!(p[2].1, "pcntl_fork,pcntl_exec");
        assert_eq!(value_in(ini, "openssl.cafile").as_deref(), Some("/etc/x.pem"));
        assert_eq!(value_in(ini, "short_open_tag").as_deref(), Some("On"));
        assert_eq!(value_in("curl.cainfo=\n", "curl.cainfo"), None);
        for (v, b) in [
            ("On", true),
            ("1", true),
            ("yes", true),
            ("TRUE", true),
            ("Off", false),
            ("0", false),
            ("", false),
            ("none", false),
        ] {
            assert_eq!(ini_bool(v), b, "{v}");
        }
        crate::mutation::mutants(&[ini.as_bytes()], 2000, |v| {
            let _ = parse(&String::from_utf8_lossy(v));
        });
    }

    #[test]
    fn php_command_lines() {
        let w = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        let opts = |s: &str| php_options(&w(s).iter().map(String::as_str).collect::<Vec<_>>(), "x");
        let c = opts("00 * * * * root /usr/bin/php -c /etc/php.ini /opt/sei/scripts/AgendamentoTarefaSEI.php 2>&1")
            .unwrap();
        assert_eq!(c.ini.as_deref(), Some("/etc/php.ini"));
        let c = opts("/usr/bin/php7.4 -c/etc/php/7.4/cli/php.ini -d short_open_tag=On x.php -c ignored").unwrap();
        assert_eq!(c.ini.as_deref(), Some("/etc/php/7.4/cli/php.ini"));
        assert_eq!(c.defines, [("short_open_tag".to_string(), "On".to_string())]);
        assert_eq!(opts("php --php-ini=/a.ini x.php").unwrap().ini.as_deref(), Some("/a.ini"));
        assert!(opts("/usr/bin/php /opt/sei/scripts/x.php").is_none());
        assert!(opts("grep -c php /etc/passwd").is_none());
        assert!(opts("/usr/bin/phpize -c x").is_none());
    }
}
