//! supervisord's configuration as supervisord reads it: the main file (the one the running
//! supervisord names with `-c`, else `/etc/supervisord.conf`, `/etc/supervisor/supervisord.conf`),
//! the `[include] files=` globs of the main file, relative to it, `%(here)s` as the directory of
//! the file that writes it, duplicate sections merged key by key as supervisor's parser merges
//! them (a later key wins, keys only the earlier one sets survive), and the expansions of a
//! program (`%(program_name)s`, `%(process_num)02d`, `%(ENV_X)s`…).
//!
//! Bounded: at most [`MAX_INCLUDED`] included files and [`MAX_TOTAL_BYTES`] in all, each file
//! through the bounded reader; a file that includes itself is read once and said.

use crate::hostfs;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Included files read at most (a glob matching thousands of files costs no more).
pub const MAX_INCLUDED: usize = 256;
/// Bytes of configuration read at most, all files together.
pub const MAX_TOTAL_BYTES: usize = 8 * 1024 * 1024;
/// Sections kept at most (all files together), keys kept per section at most, duplicates
/// reported at most: a hostile file costs no more.
pub const MAX_SECTIONS: usize = 4096;
pub const MAX_KEYS: usize = 256;
pub const MAX_DUPLICATES: usize = 32;

/// Where supervisord looks for its configuration when it is not given `-c`.
pub const DEFAULT_FILES: &[&str] = &["/etc/supervisord.conf", "/etc/supervisor/supervisord.conf"];

/// One key of a section, with where it was written.
#[derive(Clone, Debug)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub line: usize,
    /// The host path of the file that wrote it.
    pub file: String,
}

/// One `[section]` (after merging: every file and line that defined it contributed).
#[derive(Clone, Debug)]
pub struct Section {
    pub name: String,
    /// The host path of the file that first defined it (for people).
    pub file: String,
    pub line: usize,
    pub entries: Vec<Entry>,
}

impl Section {
    /// The value of `key` as supervisor sees it (the last one written).
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().rev().find(|e| e.key == key)
    }
}

/// Parses supervisord's INI dialect (Python's configparser as supervisor configures it):
/// `key = value` or `key: value`, keys case-insensitive, `;`/`#` comment lines, inline `;` or
/// `#` after whitespace, indented continuation lines. Sections are returned as written, one per
/// header (not merged).
pub fn parse_ini(text: &str, file: &str) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with(';') || trimmed.starts_with('#') {
            continue;
        }
        let continuation = raw.starts_with([' ', '\t']);
        if continuation {
            if let Some(e) = sections.last_mut().and_then(|s| s.entries.last_mut()) {
                e.value.push(' ');
                e.value.push_str(strip_inline_comment(trimmed));
                continue;
            }
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            sections.push(Section {
                name: name.trim().to_string(),
                file: file.to_string(),
                line: line_no,
                entries: Vec::new(),
            });
            continue;
        }
        let Some(section) = sections.last_mut() else { continue };
        let split = match (trimmed.find('='), trimmed.find(':')) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => {
                section.entries.push(Entry {
                    key: trimmed.to_ascii_lowercase(),
                    value: String::new(),
                    line: line_no,
                    file: file.to_string(),
                });
                continue;
            }
        };
        let key = trimmed[..split].trim().to_ascii_lowercase();
        let value = strip_inline_comment(trimmed[split + 1..].trim()).to_string();
        section.entries.push(Entry { key, value, line: line_no, file: file.to_string() });
    }
    sections
}

fn strip_inline_comment(v: &str) -> &str {
    let cut = [" ;", "\t;", " #", "\t#"].iter().filter_map(|p| v.find(p)).min();
    match cut {
        Some(i) => v[..i].trim_end(),
        None => v,
    }
}

/// A `[section]` defined more than once: supervisor keeps one, merged.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Duplicate {
    pub section: String,
    /// `FILE:LINE` of the first definition and of the one merged into it.
    pub first: String,
    pub again: String,
    /// Keys whose earlier value the later definition replaced.
    pub replaced: Vec<String>,
}

/// A problem of the configuration itself: (file, line, problem).
pub type Problem = (String, usize, ConfProblem);

/// What is wrong in a supervisor configuration file. The English words are the facts kept for
/// machines; a Portuguese report says them through `checks/phrases.toml` (`[[message]]`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfProblem {
    #[error("[include] without files=")]
    IncludeWithoutFiles,
    #[error(transparent)]
    Expansion(#[from] ExpandError),
    #[error("include pattern {pattern} matches more than {max} files; only the first {max} were read")]
    TooManyIncluded { pattern: String, max: usize },
    #[error("{file} includes itself ({pattern})")]
    IncludesItself { file: String, pattern: String },
    #[error("configuration larger than {0} in all; the rest was not read")]
    TooLarge(String),
    #[error("unknown key '{0}'")]
    UnknownKey(String),
    #[error("php binary not found: {0}")]
    PhpNotFound(String),
    #[error("user not found: {0}")]
    UserNotFound(String),
    #[error("script removed in module version {removed_in} (installed {installed}): {script}")]
    ScriptRemoved { removed_in: String, installed: String, script: String },
}

/// Why a `%(name)s` expansion failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExpandError {
    #[error("unterminated %( in '{0}'")]
    Unterminated(String),
    #[error("bad format in '{0}'")]
    BadFormat(String),
    #[error("unknown expansion %({0})")]
    Unknown(String),
    #[error("%({0}) is not a number")]
    NotNumber(String),
}

/// The configuration read.
#[derive(Default, Debug)]
pub struct Config {
    /// The main file (host path) and how it was found.
    pub main: Option<String>,
    pub main_from: Option<String>,
    /// The running supervisord whose `-c` named the main file.
    pub daemon_pid: Option<u32>,
    pub files: Vec<String>,
    /// Merged sections, in the order they first appear.
    pub sections: Vec<Section>,
    /// Position of each section in `sections`, by name.
    index: std::collections::HashMap<String, usize>,
    pub duplicates: Vec<Duplicate>,
    /// Duplicates beyond [`MAX_DUPLICATES`], and sections or keys beyond the caps, not kept.
    pub left_out: usize,
    pub problems: Vec<Problem>,
    /// `[include]` patterns that matched no file.
    pub unmatched: Vec<String>,
    /// Files that exist but could not be read (not regular, too large, no permission).
    pub unreadable: Vec<hostfs::FileError>,
}

impl Config {
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.index.get(name).map(|&i| &self.sections[i])
    }

    /// The `[program:x]` sections.
    pub fn programs(&self) -> impl Iterator<Item = &Section> {
        self.sections.iter().filter(|s| s.name.starts_with("program:"))
    }

    fn merge(&mut self, parsed: Vec<Section>) {
        for mut s in parsed {
            if s.entries.len() > MAX_KEYS {
                self.left_out += s.entries.len() - MAX_KEYS;
                s.entries.truncate(MAX_KEYS);
            }
            match self.index.get(&s.name).copied() {
                Some(i) => {
                    let m = &mut self.sections[i];
                    if self.duplicates.len() < MAX_DUPLICATES {
                        let replaced: Vec<String> = s
                            .entries
                            .iter()
                            .filter(|e| m.get(&e.key).is_some_and(|old| old.value != e.value))
                            .map(|e| e.key.clone())
                            .collect();
                        self.duplicates.push(Duplicate {
                            section: s.name.clone(),
                            first: format!("{}:{}", m.file, m.line),
                            again: format!("{}:{}", s.file, s.line),
                            replaced,
                        });
                    } else {
                        self.left_out += 1;
                    }
                    let room = MAX_KEYS.saturating_sub(m.entries.len());
                    self.left_out += s.entries.len().saturating_sub(room);
                    m.entries.extend(s.entries.into_iter().take(room));
                }
                None if self.sections.len() >= MAX_SECTIONS => self.left_out += 1,
                None => {
                    self.index.insert(s.name.clone(), self.sections.len());
                    self.sections.push(s);
                }
            }
        }
    }
}

/// `%(here)s` of one file: its directory.
fn expand_here(sections: &mut [Section], dir: &str) {
    for s in sections {
        for e in &mut s.entries {
            if e.value.contains("%(here)s") {
                e.value = e.value.replace("%(here)s", dir);
            }
        }
    }
}

/// Expands Python `%(name)s` / `%(name)02d` / `%%` with `vars`; an unknown name is an error
/// naming it.
pub fn expand(value: &str, vars: &BTreeMap<String, String>) -> Result<String, ExpandError> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(a) = after.strip_prefix('%') {
            out.push('%');
            rest = a;
            continue;
        }
        let Some(inner) = after.strip_prefix('(') else {
            out.push('%');
            rest = after;
            continue;
        };
        let Some(close) = inner.find(')') else { return Err(ExpandError::Unterminated(value.to_string())) };
        let name = &inner[..close];
        let spec_and_rest = &inner[close + 1..];
        let conv = spec_and_rest
            .find(|c: char| c.is_ascii_alphabetic())
            .ok_or_else(|| ExpandError::BadFormat(value.to_string()))?;
        let spec = &spec_and_rest[..conv];
        let kind = spec_and_rest.as_bytes()[conv];
        let v = vars.get(name).ok_or_else(|| ExpandError::Unknown(name.to_string()))?;
        let width: usize = spec.trim_start_matches(['0', '-']).parse::<usize>().unwrap_or(0).min(64);
        let text = match kind {
            b'd' | b'i' => {
                let n: i64 = v.trim().parse().map_err(|_| ExpandError::NotNumber(name.to_string()))?;
                if spec.starts_with('0') {
                    format!("{n:0width$}")
                } else {
                    format!("{n:width$}")
                }
            }
            _ => format!("{v:>width$}"),
        };
        out.push_str(&text);
        rest = &spec_and_rest[conv + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A running supervisord and the configuration file its command line names (`-c FILE`,
/// `-cFILE`, `--configuration FILE`, `--configuration=FILE`), relative names resolved against
/// its working directory.
pub fn running_daemons() -> Vec<(u32, Option<String>)> {
    let mut out = Vec::new();
    for dir in hostfs::list_dir("/proc") {
        let Some(pid) = dir.file_name().and_then(|n| n.to_str()).and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(raw) = hostfs::read_file(&dir.join("cmdline"), hostfs::Kind::Kernel) else { continue };
        let text = String::from_utf8_lossy(&raw);
        let args: Vec<&str> = text.split('\0').filter(|a| !a.is_empty()).collect();
        let is_daemon = args.iter().take(2).any(|a| {
            let b = super::base_name(a);
            b == "supervisord" || b.starts_with("supervisord ")
        });
        if !is_daemon {
            continue;
        }
        let mut conf = None;
        for (i, a) in args.iter().enumerate() {
            if *a == "-c" || *a == "--configuration" {
                conf = args.get(i + 1).map(|s| s.to_string());
            } else if let Some(v) = a.strip_prefix("--configuration=") {
                conf = Some(v.to_string());
            } else if let Some(v) = a.strip_prefix("-c").filter(|v| !v.is_empty() && !a.starts_with("--")) {
                conf = Some(v.to_string());
            }
        }
        let conf = conf.map(|c| {
            if c.starts_with('/') {
                c
            } else {
                let cwd = std::fs::read_link(dir.join("cwd")).unwrap_or_else(|_| PathBuf::from("/"));
                cwd.join(c).display().to_string()
            }
        });
        out.push((pid, conf));
    }
    out
}

/// Finds and reads supervisord's configuration, as supervisord reads it.
pub fn load() -> Config {
    let mut cfg = Config::default();
    let mut main: Option<(PathBuf, String)> = None;
    for (pid, conf) in running_daemons() {
        if let Some(c) = conf {
            let real = hostfs::path(&c);
            if real.is_file() {
                main = Some((real, format!("-c of the running supervisord (PID {pid})")));
                cfg.daemon_pid = Some(pid);
                break;
            }
        }
    }
    if main.is_none() {
        main =
            DEFAULT_FILES.iter().find(|f| hostfs::exists(f)).map(|f| (hostfs::path(f), "default location".to_string()));
    }
    let Some((main_real, from)) = main else { return cfg };
    load_from(&mut cfg, &main_real);
    cfg.main_from = Some(from);
    cfg
}

/// Reads the configuration whose main file is `main_real` (a mapped path).
pub fn load_from(cfg: &mut Config, main_real: &Path) {
    let shown = hostfs::display(main_real);
    let text = match hostfs::read_real(main_real) {
        Ok(t) => t,
        Err(e) => {
            cfg.unreadable.push(e);
            return;
        }
    };
    let mut total = text.len();
    let main_dir_real = main_real.parent().unwrap_or(Path::new("/")).to_path_buf();
    let main_dir_host = Path::new(&shown).parent().unwrap_or(Path::new("/")).display().to_string();
    cfg.main = Some(shown.clone());
    cfg.files.push(shown.clone());
    let mut parsed = parse_ini(&text, &shown);
    expand_here(&mut parsed, &main_dir_host);
    cfg.merge(parsed);
    let Some(include) = cfg.section("include").cloned() else { return };
    let Some(files) = include.get("files") else {
        cfg.problems.push((include.file.clone(), include.line, ConfProblem::IncludeWithoutFiles));
        return;
    };
    let env = own_env();
    let patterns = match expand(&files.value, &env) {
        Ok(v) => v,
        Err(e) => {
            cfg.problems.push((files.file.clone(), files.line, e.into()));
            files.value.clone()
        }
    };
    let main_canon = std::fs::canonicalize(main_real).ok();
    let mut seen: Vec<PathBuf> = main_canon.iter().cloned().collect();
    let mut read_count = 0usize;
    for pattern in patterns.split_whitespace() {
        let abs = if pattern.starts_with('/') { hostfs::path(pattern) } else { main_dir_real.join(pattern) };
        let (matched, capped) = glob(&abs, MAX_INCLUDED + 1);
        if matched.is_empty() {
            // supervisord only logs it: an empty conf.d is a healthy configuration.
            cfg.unmatched.push(pattern.to_string());
            continue;
        }
        if capped || matched.len() > MAX_INCLUDED {
            cfg.problems.push((
                files.file.clone(),
                files.line,
                ConfProblem::TooManyIncluded { pattern: pattern.to_string(), max: MAX_INCLUDED },
            ));
        }
        for real in matched {
            let canon = std::fs::canonicalize(&real).unwrap_or_else(|_| real.clone());
            if main_canon.as_ref() == Some(&canon) {
                cfg.problems.push((
                    files.file.clone(),
                    files.line,
                    ConfProblem::IncludesItself { file: shown.clone(), pattern: pattern.to_string() },
                ));
                continue;
            }
            if seen.contains(&canon) {
                continue;
            }
            seen.push(canon);
            if read_count >= MAX_INCLUDED {
                break;
            }
            if real.is_dir() {
                continue;
            }
            let inc_shown = hostfs::display(&real);
            match hostfs::read_real(&real) {
                Ok(t) => {
                    read_count += 1;
                    total += t.len();
                    if total > MAX_TOTAL_BYTES {
                        cfg.problems.push((
                            inc_shown,
                            0,
                            ConfProblem::TooLarge(hostfs::human_size(MAX_TOTAL_BYTES as u64)),
                        ));
                        return;
                    }
                    let dir = Path::new(&inc_shown).parent().unwrap_or(Path::new("/")).display().to_string();
                    let mut parsed = parse_ini(&t, &inc_shown);
                    expand_here(&mut parsed, &dir);
                    cfg.merge(parsed);
                    cfg.files.push(inc_shown);
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => cfg.unreadable.push(e),
            }
        }
    }
}

/// pen-doctor's own environment as `ENV_X` expansions (used where supervisord's is unknown).
fn own_env() -> BTreeMap<String, String> {
    std::env::vars().map(|(k, v)| (format!("ENV_{k}"), v)).collect()
}

/// The files a glob pattern (an absolute, already mapped path; `*` and `?` in any component)
/// matches, sorted; at most `cap` (the flag says more were there).
pub fn glob(pattern: &Path, cap: usize) -> (Vec<PathBuf>, bool) {
    let mut current: Vec<PathBuf> = vec![PathBuf::from("/")];
    let comps: Vec<String> = pattern
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            std::path::Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    let mut capped = false;
    // Directory entries looked at in all (`/*/*/*` over a whole disk costs no more).
    let mut budget = hostfs::MAX_DIR_ENTRIES;
    for comp in &comps {
        let mut next = Vec::new();
        for base in &current {
            if comp.contains(['*', '?']) {
                let entries = hostfs::list_real_dir(base);
                if entries.len() > budget {
                    capped = true;
                    break;
                }
                budget -= entries.len();
                for entry in entries {
                    let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    if !name.starts_with('.') && hostfs::wildcard(comp, name) {
                        next.push(entry);
                    }
                }
            } else if comp == ".." {
                // Lexically, as people read the path (`%(here)s/../../x`).
                let up = base.parent().unwrap_or(base).to_path_buf();
                if !next.contains(&up) {
                    next.push(up);
                }
            } else {
                let p = base.join(comp);
                if p.exists() {
                    next.push(p);
                }
            }
            if next.len() > cap {
                capped = true;
                next.truncate(cap);
                break;
            }
        }
        next.sort();
        current = next;
        if current.is_empty() {
            break;
        }
    }
    (current, capped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_dialect() {
        let t = "[program:x]\ncommand = /usr/bin/php a.php ; comment\n  --flag\nuser: apache\n; note\n[include]\nfiles = a/*.conf b.ini\n";
        let s = parse_ini(t, "/etc/s.conf");
        assert_eq!(s[0].get("command").unwrap().value, "/usr/bin/php a.php --flag");
        assert_eq!(s[0].get("user").unwrap().line, 4);
        assert_eq!(s[1].get("files").unwrap().value, "a/*.conf b.ini");
    }

    #[test]
    fn python_expansions() {
        let vars: BTreeMap<String, String> = [("program_name", "pen"), ("process_num", "3"), ("ENV_HOME", "/root")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(expand("%(program_name)s_%(process_num)02d", &vars).unwrap(), "pen_03");
        assert_eq!(expand("%(ENV_HOME)s/x 100%%", &vars).unwrap(), "/root/x 100%");
        assert!(expand("%(ENV_NOPE)s", &vars).unwrap_err().to_string().contains("ENV_NOPE"));
    }

    #[test]
    fn duplicates_merge_key_by_key() {
        let mut cfg = Config::default();
        cfg.merge(parse_ini("[program:a]\ncommand=one\nstderr_logfile=/x.log\n", "/f1"));
        cfg.merge(parse_ini("[program:a]\ncommand=two\n", "/f2"));
        let s = cfg.section("program:a").unwrap();
        assert_eq!(s.get("command").unwrap().value, "two");
        assert_eq!(s.get("stderr_logfile").unwrap().value, "/x.log");
        assert_eq!(cfg.duplicates[0].replaced, vec!["command".to_string()]);
        assert_eq!(cfg.duplicates[0].first, "/f1:1");
    }
}
