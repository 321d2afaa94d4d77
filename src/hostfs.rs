//! Every file pen-doctor reads goes through here: one bounded reader that opens without
//! blocking, refuses what is not a regular file and what is larger than the cap of its kind, and
//! reads at most that cap even when the file grows; a tail reader for logs; the host-path
//! mapping for fixture trees; and who on the host may read a file (accounts, owner, mode).
//!
//! `PEN_DOCTOR_ROOT=/some/dir` is read here and only here: `/etc/crontab` is then read from
//! `/some/dir/etc/crontab`. Paths under `/proc` come from the root only when it holds a `proc`
//! directory (so a fixture tree can fake `/proc/net/if_inet6` while process tests still see
//! the real processes). A path that already lies under the root is left alone. Sockets and
//! network endpoints are never rewritten. Paths the user gave (flags, the SEI configuration)
//! are read as they are.

use std::collections::HashMap;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;

/// What a file is read as: decides its size cap and whether kernel pseudo-files are accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The `--config` TOML file.
    RunConfig,
    /// A password file (`--cert-password-file`); only its first line is used.
    Password,
    /// A certificate or client identity (PEM, DER, PKCS#12).
    Certificate,
    /// A CA bundle, or the whole of a certificate directory.
    CaBundle,
    /// A PHP file of SEI or of a module.
    PhpSource,
    /// A configuration file of the host: php.ini, crontabs, supervisord.conf, `/etc` files.
    HostConfig,
    /// A kernel pseudo-file under `/proc` or `/sys` that pen-doctor reads on purpose.
    Kernel,
    /// A JSON report read back by `merge` and `diff`.
    Report,
    /// A shared library or PHP extension (ELF) whose dynamic section is read.
    Library,
}

impl Kind {
    /// The largest file of this kind that is read; anything larger is refused.
    pub const fn limit(self) -> u64 {
        match self {
            // A client certificate with its key and chain takes a few kilobytes.
            Kind::RunConfig | Kind::HostConfig | Kind::Kernel | Kind::Certificate => MIB,
            Kind::Password => 64 * KIB,
            // The distributions' bundles (and whole certificate directories) are 200–700 KiB;
            // a run's report, 20–200 KiB.
            Kind::CaBundle | Kind::Report => 2 * MIB,
            Kind::PhpSource => 4 * MIB,
            // PHP's curl.so is 100–300 KiB, libcurl under 1 MiB.
            Kind::Library => 16 * MIB,
        }
    }

    /// Only kernel files pen-doctor names itself may live on `/proc` or `/sys`; a path the user
    /// or a configuration gave that leads there (`/proc/kmsg` behind a link) is refused.
    const fn pseudo_allowed(self) -> bool {
        matches!(self, Kind::Kernel)
    }
}

/// Why a file could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Reason {
    #[error("not found")]
    NotFound,
    #[error("permission denied for {user}")]
    PermissionDenied { user: String },
    /// What it is instead: `a FIFO`, `a character device`, `a directory`…
    #[error("not a regular file ({0})")]
    NotRegular(&'static str),
    /// `size` is `None` when the file grew past the limit while it was read (or has no size,
    /// as kernel files).
    #[error("too large ({}, limit {})", size_text(*.size, *.limit), human_size(*.limit))]
    TooLarge { size: Option<u64>, limit: u64 },
    #[error("not text (invalid UTF-8)")]
    NotText,
    #[error("{0}")]
    Io(String),
}

fn size_text(size: Option<u64>, limit: u64) -> String {
    match size {
        Some(n) => format!("{n} bytes"),
        None => format!("more than {limit} bytes"),
    }
}

/// `4 MiB`, `64 KiB`, `1000 bytes`: a byte count as people read limits.
pub fn human_size(n: u64) -> String {
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= KIB && n.is_multiple_of(KIB) {
        format!("{} KiB", n / KIB)
    } else {
        format!("{n} bytes")
    }
}

/// A file that could not be read: which, and why. Shown as `PATH: REASON`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct FileError {
    pub path: PathBuf,
    pub reason: Reason,
}

impl FileError {
    pub fn is_not_found(&self) -> bool {
        self.reason == Reason::NotFound
    }
}

fn io_reason(e: &std::io::Error) -> Reason {
    match e.kind() {
        std::io::ErrorKind::NotFound => Reason::NotFound,
        std::io::ErrorKind::PermissionDenied => Reason::PermissionDenied { user: current_user() },
        _ => Reason::Io(e.to_string()),
    }
}

/// What a file that is not a regular file is, in words.
fn not_regular(meta: &Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_fifo() {
        Some("a FIFO")
    } else if t.is_char_device() {
        Some("a character device")
    } else if t.is_block_device() {
        Some("a block device")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        Some("an unknown file type")
    }
}

const PSEUDO_FILE: &str = "a kernel pseudo-file of /proc or /sys";

/// Whether a `statfs` filesystem type is one of the kernel's pseudo filesystems, whose "regular"
/// files may block, never end, or consume what they return (`/proc/kmsg`).
fn pseudo_fs_type(f_type: u32) -> bool {
    const TYPES: &[u32] = &[
        0x9fa0,      // proc
        0x6265_6572, // sysfs
        0x6462_6720, // debugfs
        0x7472_6163, // tracefs
        0x7363_6673, // securityfs
        0x6265_6570, // configfs
        0x0027_e0eb, // cgroup
        0x6367_7270, // cgroup2
        0xcafe_4a11, // bpf
        0xde5e_81e4, // efivarfs
        0x6165_676c, // pstore
    ];
    TYPES.contains(&f_type)
}

fn on_pseudo_fs_path(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else { return false };
    let mut st = std::mem::MaybeUninit::<libc::statfs>::zeroed();
    // SAFETY: `c` is a valid NUL-terminated path and `st` a buffer of the right type.
    if unsafe { libc::statfs(c.as_ptr(), st.as_mut_ptr()) } != 0 {
        return false;
    }
    // SAFETY: statfs succeeded and filled the struct.
    pseudo_fs_type(unsafe { st.assume_init() }.f_type as u32)
}

fn on_pseudo_fs_fd(file: &File) -> bool {
    use std::os::fd::AsRawFd;
    let mut st = std::mem::MaybeUninit::<libc::statfs>::zeroed();
    // SAFETY: the descriptor is open for the life of `file`; `st` is a buffer of the right type.
    if unsafe { libc::fstatfs(file.as_raw_fd(), st.as_mut_ptr()) } != 0 {
        return false;
    }
    // SAFETY: fstatfs succeeded and filled the struct.
    pseudo_fs_type(unsafe { st.assume_init() }.f_type as u32)
}

/// Opens a file for reading without ever blocking: the path is judged before it is opened (a
/// device or FIFO is never opened at all), opened with `O_NONBLOCK|O_NOCTTY`, and the opened
/// descriptor judged again (the path may have changed in between). Returns the file and its size.
fn open_checked(path: &Path, kind: Kind, limit: Option<u64>) -> Result<(File, u64), Reason> {
    let meta = std::fs::metadata(path).map_err(|e| io_reason(&e))?;
    if let Some(what) = not_regular(&meta) {
        return Err(Reason::NotRegular(what));
    }
    if !kind.pseudo_allowed() && on_pseudo_fs_path(path) {
        return Err(Reason::NotRegular(PSEUDO_FILE));
    }
    if let Some(limit) = limit.filter(|l| meta.len() > *l) {
        return Err(Reason::TooLarge { size: Some(meta.len()), limit });
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| io_reason(&e))?;
    let meta = file.metadata().map_err(|e| io_reason(&e))?;
    if let Some(what) = not_regular(&meta) {
        return Err(Reason::NotRegular(what));
    }
    if !kind.pseudo_allowed() && on_pseudo_fs_fd(&file) {
        return Err(Reason::NotRegular(PSEUDO_FILE));
    }
    if let Some(limit) = limit.filter(|l| meta.len() > *l) {
        return Err(Reason::TooLarge { size: Some(meta.len()), limit });
    }
    Ok((file, meta.len()))
}

fn read_bytes(path: &Path, kind: Kind) -> Result<Vec<u8>, Reason> {
    let limit = kind.limit();
    let (file, len) = open_checked(path, kind, Some(limit))?;
    let mut buf = Vec::with_capacity(len.min(limit) as usize + 1);
    file.take(limit + 1).read_to_end(&mut buf).map_err(|e| io_reason(&e))?;
    if buf.len() as u64 > limit {
        return Err(Reason::TooLarge { size: None, limit });
    }
    Ok(buf)
}

/// Reads a whole file of `kind`: a regular file of at most `kind.limit()` bytes.
pub fn read_file(path: &Path, kind: Kind) -> Result<Vec<u8>, FileError> {
    read_bytes(path, kind).map_err(|reason| FileError { path: path.to_path_buf(), reason })
}

/// Reads a whole file of `kind` as UTF-8 text; other bytes are [`Reason::NotText`].
pub fn read_text(path: &Path, kind: Kind) -> Result<String, FileError> {
    let bytes = read_file(path, kind)?;
    String::from_utf8(bytes).map_err(|_| FileError { path: path.to_path_buf(), reason: Reason::NotText })
}

/// Reads a whole file of `kind` as text, invalid UTF-8 replaced.
pub fn read_lossy(path: &Path, kind: Kind) -> Result<String, FileError> {
    read_file(path, kind).map(|b| String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into()))
}

/// The last `max` bytes of a log file, as text; however large the file, at most `max` bytes
/// are read (a file growing meanwhile included).
pub fn read_tail_file(path: &Path, max: u64) -> Result<String, FileError> {
    let tail = || -> Result<Vec<u8>, Reason> {
        let (mut file, len) = open_checked(path, Kind::HostConfig, None)?;
        if len > max {
            file.seek(SeekFrom::Start(len - max)).map_err(|e| io_reason(&e))?;
        }
        let mut buf = Vec::with_capacity(len.min(max) as usize);
        file.take(max).read_to_end(&mut buf).map_err(|e| io_reason(&e))?;
        Ok(buf)
    };
    tail()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|reason| FileError { path: path.to_path_buf(), reason })
}

/// Variables naming a file that a library reads by itself, with no bound of ours: OpenSSL
/// opens `OPENSSL_CONF` with a blocking read when it first starts.
const LIBRARY_FILE_VARIABLES: &[&str] = &["OPENSSL_CONF"];

/// Checks the files the environment makes libraries read before any of them starts: each must be
/// a regular file of at most [`Kind::HostConfig`]'s limit (a missing one is the library's
/// business). The error is one line naming the variable and the file.
pub fn check_library_files() -> Result<(), String> {
    for var in LIBRARY_FILE_VARIABLES {
        let Some(value) = std::env::var_os(var).filter(|v| !v.is_empty()) else { continue };
        let path = PathBuf::from(value);
        match open_checked(&path, Kind::HostConfig, Some(Kind::HostConfig.limit())) {
            Ok(_) | Err(Reason::NotFound) => {}
            Err(reason) => return Err(format!("{var}={}: {reason}", path.display())),
        }
    }
    Ok(())
}

// ----------------------------------------------------------------------------- host paths

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

/// The kind of a host file by its host path: kernel files under `/proc` and `/sys`, else a
/// configuration file.
fn host_kind(host_path: &str) -> Kind {
    if host_path.starts_with("/proc/") || host_path.starts_with("/sys/") {
        Kind::Kernel
    } else {
        Kind::HostConfig
    }
}

/// The error of a mapped file, naming it by its host path.
fn shown_error(real: &Path, e: FileError) -> FileError {
    FileError { path: PathBuf::from(display(real)), reason: e.reason }
}

/// Reads a host file as text (lossy UTF-8): a configuration file, or a kernel file when the
/// path lies under `/proc` or `/sys`. The error names the host path.
pub fn read(abs: impl AsRef<Path>) -> Result<String, FileError> {
    read_real(&path(abs))
}

/// Reads an already mapped host file as text (lossy UTF-8), as [`read`] does.
pub fn read_real(real: &Path) -> Result<String, FileError> {
    let kind = host_kind(&display(real));
    read_lossy(real, kind).map_err(|e| shown_error(real, e))
}

/// The last `max` bytes of a host log file, as text. The error names the host path.
pub fn read_tail(abs: impl AsRef<Path>, max: u64) -> Result<String, FileError> {
    let real = path(abs);
    read_tail_file(&real, max).map_err(|e| shown_error(&real, e))
}

/// Whether the host path exists.
pub fn exists(abs: impl AsRef<Path>) -> bool {
    path(abs).exists()
}

/// Directory entries read at most (a directory of millions of files costs no more than this).
pub const MAX_DIR_ENTRIES: usize = 100_000;

/// The entries of a directory (as given, not mapped), sorted; empty when unreadable; at most
/// [`MAX_DIR_ENTRIES`].
pub fn list_real_dir(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.take(MAX_DIR_ENTRIES).filter_map(|e| e.ok()).map(|e| e.path()).collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

/// The entries of a host directory (mapped paths), sorted; empty when unreadable.
pub fn list_dir(abs: impl AsRef<Path>) -> Vec<PathBuf> {
    list_real_dir(&path(abs))
}

// ----------------------------------------------------------------------------- accounts

/// One line of a passwd file.
#[derive(Clone, Debug)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

fn parse_accounts(text: &str) -> Vec<Account> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            Some(Account { name: f.first()?.to_string(), uid: f.get(2)?.parse().ok()?, gid: f.get(3)?.parse().ok()? })
        })
        .collect()
}

/// The accounts of this machine's `/etc/passwd` (not mapped: files named by the user belong to
/// the real machine).
fn real_accounts() -> Vec<Account> {
    parse_accounts(&read_lossy(Path::new("/etc/passwd"), Kind::HostConfig).unwrap_or_default())
}

/// User names by uid, from the host's `/etc/passwd` (mapped).
pub fn users() -> HashMap<u32, String> {
    parse_accounts(&read("/etc/passwd").unwrap_or_default()).into_iter().map(|a| (a.uid, a.name)).collect()
}

/// Whether a user name exists in the host's `/etc/passwd` (mapped).
pub fn user_exists(name: &str) -> bool {
    let text = read("/etc/passwd").unwrap_or_default();
    text.lines().any(|l| l.split(':').next() == Some(name))
}

thread_local! {
    /// Set while [`current_user`] reads `/etc/passwd`: a permission error there names the uid
    /// instead of looking the user up again.
    static LOOKING_UP_USER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The user pen-doctor runs as.
pub fn current_user() -> String {
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    if LOOKING_UP_USER.with(|l| l.replace(true)) {
        return format!("uid {uid}");
    }
    let name = real_accounts().into_iter().find(|u| u.uid == uid).map(|u| u.name);
    LOOKING_UP_USER.with(|l| l.set(false));
    name.unwrap_or_else(|| format!("uid {uid}"))
}

/// The groups of `/etc/group`: (name, gid, members).
fn real_groups() -> Vec<(String, u32, Vec<String>)> {
    read_lossy(Path::new("/etc/group"), Kind::HostConfig)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            let members = f.get(3).map(|m| m.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect());
            Some((f.first()?.to_string(), f.get(2)?.parse().ok()?, members.unwrap_or_default()))
        })
        .collect()
}

/// The owner (`user:group`) and mode (`0640`) of a file.
pub fn owner_and_mode(path: &Path) -> Option<(String, String)> {
    let m = std::fs::metadata(path).ok()?;
    let owner = real_accounts().into_iter().find(|u| u.uid == m.uid()).map(|u| u.name);
    let group = real_groups().into_iter().find(|g| g.1 == m.gid()).map(|g| g.0);
    Some((
        format!("{}:{}", owner.unwrap_or_else(|| m.uid().to_string()), group.unwrap_or_else(|| m.gid().to_string())),
        format!("{:04o}", m.mode() & 0o7777),
    ))
}

/// The web-server users present on this host (`www-data`, `apache`, `nginx`).
pub fn web_users() -> Vec<String> {
    let all = real_accounts();
    ["www-data", "apache", "nginx"]
        .iter()
        .filter(|n| all.iter().any(|u| u.name == **n))
        .map(|n| n.to_string())
        .collect()
}

/// Whether `user` may read the file by its mode bits (directories on the way are not judged).
pub fn user_can_read(path: &Path, user: &str) -> bool {
    let Ok(m) = std::fs::metadata(path) else { return false };
    let Some(u) = real_accounts().into_iter().find(|u| u.name == user) else { return false };
    let mode = m.mode();
    if u.uid == 0 {
        return true;
    }
    if u.uid == m.uid() {
        return mode & 0o400 != 0;
    }
    let in_group = u.gid == m.gid()
        || real_groups().iter().any(|(_, gid, members)| *gid == m.gid() && members.iter().any(|n| n == user));
    if in_group {
        return mode & 0o040 != 0;
    }
    mode & 0o004 != 0
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
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard("*.conf", "pen.conf"));
        assert!(wildcard("*.ini", ".ini"));
        assert!(!wildcard("*.conf", "pen.conf.bak"));
        assert!(wildcard("sei_?.conf", "sei_1.conf"));
        assert!(wildcard("*", "x"));
        assert!(!wildcard("a*b", "ac"));
    }

    fn reason(path: &Path, kind: Kind) -> Reason {
        read_file(path, kind).expect_err("must be refused").reason
    }

    #[test]
    fn what_is_not_a_regular_file_is_refused_unopened() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid path; mkfifo only creates the node.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert_eq!(reason(&fifo, Kind::RunConfig), Reason::NotRegular("a FIFO"));
        assert_eq!(reason(Path::new("/dev/zero"), Kind::Certificate), Reason::NotRegular("a character device"));
        assert_eq!(reason(dir.path(), Kind::HostConfig), Reason::NotRegular("a directory"));
        assert_eq!(reason(&dir.path().join("none"), Kind::HostConfig), Reason::NotFound);

        // /proc/kmsg behind a link: refused as a pseudo-file, unless the kind is a kernel file.
        let link = dir.path().join("kmsg");
        std::os::unix::fs::symlink("/proc/kmsg", &link).unwrap();
        assert_eq!(reason(&link, Kind::PhpSource), Reason::NotRegular(PSEUDO_FILE));
        assert!(read_file(Path::new("/proc/self/stat"), Kind::Kernel).is_ok());
        assert_eq!(reason(Path::new("/proc/self/stat"), Kind::HostConfig), Reason::NotRegular(PSEUDO_FILE));

        let e = read_file(&fifo, Kind::Password).unwrap_err();
        assert_eq!(e.to_string(), format!("{}: not a regular file (a FIFO)", fifo.display()));
    }

    #[test]
    fn sizes_are_capped_before_and_while_reading() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big");
        std::fs::File::create(&big).unwrap().set_len(2 * 1024 * MIB).unwrap();
        assert_eq!(reason(&big, Kind::PhpSource), Reason::TooLarge { size: Some(2 * 1024 * MIB), limit: 4 * MIB });
        assert_eq!(
            read_file(&big, Kind::Report).unwrap_err().reason.to_string(),
            "too large (2147483648 bytes, limit 2 MiB)"
        );
        let exact = dir.path().join("exact");
        std::fs::write(&exact, vec![b'a'; Kind::Password.limit() as usize]).unwrap();
        assert_eq!(read_file(&exact, Kind::Password).unwrap().len() as u64, Kind::Password.limit());
        std::fs::write(&exact, vec![b'a'; Kind::Password.limit() as usize + 1]).unwrap();
        assert!(matches!(reason(&exact, Kind::Password), Reason::TooLarge { .. }));
        // A log: only its end is read, however large it is.
        let log = dir.path().join("log");
        let mut f = std::fs::File::create(&log).unwrap();
        f.set_len(1024 * MIB).unwrap();
        f.seek(SeekFrom::End(0)).unwrap();
        std::io::Write::write_all(&mut f, b"\nlast line\n").unwrap();
        assert_eq!(read_tail_file(&log, 11).unwrap(), "\nlast line\n");
        assert_eq!(
            read_tail_file(Path::new("/dev/zero"), 11).unwrap_err().reason,
            Reason::NotRegular("a character device")
        );
        std::fs::write(&exact, [b'p', 0xff, 0xfe]).unwrap();
        assert_eq!(read_text(&exact, Kind::Password).unwrap_err().reason, Reason::NotText);
        assert_eq!(read_lossy(&exact, Kind::Password).unwrap(), "p\u{fffd}\u{fffd}");
    }
}
