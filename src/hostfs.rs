//! Reads the host's own files (`/etc`, `/var`, `/proc`) for the node checks, under an optional
//! root prefix so tests can point them at fixture trees.
//!
//! `PEN_DOCTOR_ROOT=/some/dir` is read here and only here: `/etc/crontab` is then read from
//! `/some/dir/etc/crontab`. Paths under `/proc` come from the root only when it holds a `proc`
//! directory (so a fixture tree can fake `/proc/net/if_inet6` while process tests still see
//! the real processes). A path that already lies under the root is left alone. Sockets and
//! network endpoints are never rewritten.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Largest file the node checks read whole (configuration files, crontabs).
pub const MAX_FILE: u64 = 1024 * 1024;

fn root() -> Option<&'static Path> {
    static ROOT: OnceLock<Option<PathBuf>> = OnceLock::new();
    ROOT.get_or_init(|| std::env::var_os("PEN_DOCTOR_ROOT").filter(|v| !v.is_empty()).map(PathBuf::from)).as_deref()
}

/// Where to read the host path `abs` (an absolute path as written on a real host).
pub fn path(abs: impl AsRef<Path>) -> PathBuf {
    let abs = abs.as_ref();
    let Some(root) = root() else { return abs.to_path_buf() };
    if abs.starts_with(root) || !abs.is_absolute() {
        return abs.to_path_buf();
    }
    if abs.starts_with("/proc") && !root.join("proc").is_dir() {
        return abs.to_path_buf();
    }
    root.join(abs.strip_prefix("/").unwrap_or(abs))
}

/// The host path of a path returned by [`path`], for evidence (the root prefix removed).
pub fn display(real: &Path) -> String {
    match root().and_then(|r| real.strip_prefix(r).ok()) {
        Some(rest) => format!("/{}", rest.display()),
        None => real.display().to_string(),
    }
}

/// Reads a host file as text (lossy UTF-8), at most [`MAX_FILE`] bytes.
pub fn read(abs: impl AsRef<Path>) -> std::io::Result<String> {
    read_real(&path(abs))
}

/// Reads an already mapped file as text (lossy UTF-8), at most [`MAX_FILE`] bytes.
pub fn read_real(real: &Path) -> std::io::Result<String> {
    let mut buf = Vec::new();
    std::fs::File::open(real)?.take(MAX_FILE).read_to_end(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// The last `max` bytes of a host file (logs), as text.
pub fn read_tail(abs: impl AsRef<Path>, max: u64) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path(abs))?;
    let len = f.metadata()?.len();
    if len > max {
        f.seek(SeekFrom::Start(len - max))?;
    }
    let mut buf = Vec::new();
    f.take(max).read_to_end(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// Whether the host path exists.
pub fn exists(abs: impl AsRef<Path>) -> bool {
    path(abs).exists()
}

/// The entries of a host directory (mapped paths), sorted; empty when unreadable.
pub fn list_dir(abs: impl AsRef<Path>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match std::fs::read_dir(path(abs)) {
        Ok(rd) => rd.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

/// User names by uid, from the host's `/etc/passwd`.
pub fn users() -> std::collections::HashMap<u32, String> {
    let text = read("/etc/passwd").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let uid = f.nth(1)?.parse().ok()?;
            Some((uid, name.to_string()))
        })
        .collect()
}

/// Whether a user name exists in the host's `/etc/passwd`.
pub fn user_exists(name: &str) -> bool {
    let text = read("/etc/passwd").unwrap_or_default();
    text.lines().any(|l| l.split(':').next() == Some(name))
}

/// Matches a shell-style pattern with `*` and `?` against a file name.
pub fn wildcard(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::wildcard;

    #[test]
    fn wildcards() {
        assert!(wildcard("*.conf", "pen.conf"));
        assert!(wildcard("*.ini", ".ini"));
        assert!(!wildcard("*.conf", "pen.conf.bak"));
        assert!(wildcard("sei_?.conf", "sei_1.conf"));
        assert!(wildcard("*", "x"));
        assert!(!wildcard("a*b", "ac"));
    }
}
