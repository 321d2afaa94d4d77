//! Every byte pen-doctor writes goes through here: stdout, the one-line errors on stderr, and
//! `--output FILE`.
//!
//! Stdout: a reader that went away (a closed pipe, `| head -1`) ends the run quietly with the
//! exit code it would have had; any other write error (`> /dev/full`) is said once on stderr and
//! the caller decides the exit code. Nothing panics on a failed write.
//!
//! `--output PATH`:
//! - `-` is stdout.
//! - A regular file (or a missing one) is replaced atomically: the report goes to a temporary
//!   file with an unpredictable name, created with `O_CREAT|O_EXCL` (never through a link) in
//!   the same directory, synced, then renamed over `PATH`. A collector never reads half a file,
//!   and a link planted at any name in a world-writable directory is never followed. An existing
//!   file keeps its permission bits.
//! - A device or FIFO (`/dev/null`, a named pipe) is written in place, never replaced. It is
//!   opened with `O_NONBLOCK`: a FIFO nobody reads is an error at once, and a reader that stops
//!   reading cannot hold the run past `deadline`. Block devices are refused.
//! - A symbolic link is followed only when it is trusted: owned by root or by the user running
//!   pen-doctor, in a directory that only root or that user can change (`/dev/stdout`, a link an
//!   administrator made in `/var/lib/...`; in a sticky directory such as `/tmp`, a link of
//!   root's or the user's own). Each link of a chain must be trusted. A link anyone else could
//!   have planted (another user's link in `/tmp`, any link in a directory others can write) is
//!   refused with an error naming it: pen-doctor never writes through it, and never replaces
//!   it either, since the user meant to write where it points.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Whether a write error means the reader went away (a closed pipe).
pub fn reader_gone(e: &std::io::Error) -> bool {
    e.kind() == ErrorKind::BrokenPipe
}

/// Writes `bytes` to stdout and flushes.
pub fn to_stdout(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

/// One line on stderr, prefixed `pen-doctor: `. A failure to write it is ignored: there is
/// nowhere left to say it.
pub fn error_line(message: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "pen-doctor: {}", crate::redact::clean(message));
    let _ = err.flush();
}

/// Writes `bytes` to stdout and returns the exit code: `code` when they were written or when the
/// reader went away (quietly); otherwise `failed`, after one line on stderr.
pub fn print(bytes: &[u8], code: i32, failed: i32) -> i32 {
    match to_stdout(bytes) {
        Ok(()) => code,
        Err(e) if reader_gone(&e) => code,
        Err(e) => {
            error_line(&format!("cannot write to stdout: {e}"));
            failed
        }
    }
}

/// Writes the report to `path` (see the module documentation); `None` or `-` is stdout. Errors
/// name the path. A device or FIFO not accepting the bytes by `deadline` is an error.
pub fn write(bytes: &[u8], output: Option<&Path>, deadline: Instant) -> std::io::Result<()> {
    match output {
        None => to_stdout(bytes),
        Some(p) if p.as_os_str() == "-" => to_stdout(bytes),
        Some(p) => write_path(bytes, p, deadline),
    }
}

/// Before a run, the cheap part of what writing to `path` needs: a directory to create the
/// file in, and not a directory itself. The error names the path.
pub fn check_destination(path: &Path) -> std::io::Result<()> {
    if path.as_os_str() == "-" {
        return Ok(());
    }
    if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(err(path, "is a directory"));
    }
    if std::fs::symlink_metadata(path).is_ok() {
        return Ok(());
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(err(path, format_args!("{} is not a directory", dir.display()))),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            Err(err(path, format_args!("the directory {} does not exist", dir.display())))
        }
        Err(e) => Err(with_path(dir, e)),
    }
}

/// Chains longer than this are refused (the kernel's own limit is 40).
const MAX_LINKS: usize = 40;

fn err(path: &Path, what: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("{}: {what}", path.display()))
}

fn with_path(path: &Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

fn write_path(bytes: &[u8], path: &Path, deadline: Instant) -> std::io::Result<()> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        let meta = match std::fs::symlink_metadata(&current) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound && current == path => return replace(bytes, path, None),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(err(path, format_args!("symbolic link to {}, which does not exist", current.display())))
            }
            Err(e) => return Err(with_path(&current, e)),
        };
        let kind = meta.file_type();
        if kind.is_file() {
            return replace(bytes, &current, Some(&meta));
        }
        if kind.is_dir() {
            return Err(err(&current, "is a directory"));
        }
        if !kind.is_symlink() {
            return in_place(bytes, &current, false, deadline);
        }
        trusted_link(&current, &meta)?;
        let target = std::fs::read_link(&current).map_err(|e| with_path(&current, e))?;
        let next = match current.parent() {
            Some(dir) if target.is_relative() => dir.join(&target),
            _ => target,
        };
        if std::fs::symlink_metadata(&next).is_err() {
            // A link of /proc/PID/fd to a pipe or a terminal names no file (`pipe:[1234]`):
            // open the (trusted) link itself when what it leads to is a device or a FIFO.
            return match std::fs::metadata(&current) {
                Ok(m) if !m.is_file() && !m.is_dir() => in_place(bytes, &current, true, deadline),
                _ => Err(err(path, format_args!("symbolic link to {}, which does not exist", next.display()))),
            };
        }
        current = next;
    }
    Err(err(path, "too many levels of symbolic links"))
}

/// A link is followed only when neither it nor its directory can have been made by someone
/// other than root or the user running pen-doctor.
fn trusted_link(link: &Path, meta: &Metadata) -> std::io::Result<()> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let ours = |uid: u32| uid == 0 || uid == me;
    let dir = match link.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let dir_meta = std::fs::metadata(&dir).map_err(|e| with_path(&dir, e))?;
    let others_may_write = dir_meta.mode() & 0o022 != 0;
    // In a sticky directory (/tmp) nobody else can replace a link of ours.
    let sticky = dir_meta.mode() & 0o1000 != 0;
    if ours(meta.uid()) && ((ours(dir_meta.uid()) && !others_may_write) || sticky) {
        return Ok(());
    }
    Err(err(
        link,
        format_args!(
            "is a symbolic link that others could have made (owner uid {}, in {}); refusing to follow it: \
             give the path it should lead to, or remove the link",
            meta.uid(),
            dir.display()
        ),
    ))
}

/// Replaces the regular file `path` (or creates it) atomically.
fn replace(bytes: &[u8], path: &Path, existing: Option<&Metadata>) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(err(path, format_args!("{} is not a directory", dir.display()))),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(err(path, format_args!("the directory {} does not exist", dir.display())))
        }
        Err(e) => return Err(with_path(dir, e)),
    }
    let mut name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "report".into());
    // Room for the random part and the suffix within NAME_MAX.
    while name.len() > 128 {
        name.pop();
    }
    // Permission bits of the file replaced; a new file gets 0666 less the umask, as File::create.
    let mode = existing.map(|m| m.mode() & 0o777).unwrap_or(0o666);
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .permissions(std::fs::Permissions::from_mode(mode))
        .tempfile_in(dir)
        .map_err(|e| err(path, format_args!("cannot create a temporary file in {}: {e}", dir.display())))?;
    if existing.is_some() {
        // Exactly the old bits, whatever the umask.
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(mode)).map_err(|e| with_path(path, e))?;
    }
    tmp.write_all(bytes).map_err(|e| with_path(path, e))?;
    tmp.as_file().sync_all().map_err(|e| with_path(path, e))?;
    tmp.persist(path).map_err(|e| with_path(path, e.error))?;
    Ok(())
}

/// Writes a device or FIFO in place, without blocking past `deadline`.
fn in_place(bytes: &[u8], path: &Path, follow: bool, deadline: Instant) -> std::io::Result<()> {
    let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY;
    if !follow {
        flags |= libc::O_NOFOLLOW;
    }
    let mut file = match OpenOptions::new().write(true).custom_flags(flags).open(path) {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
            return Err(err(path, "no process is reading this FIFO (or device)"));
        }
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(err(path, "became a symbolic link while being opened; refusing to follow it"));
        }
        Err(e) => return Err(with_path(path, e)),
    };
    let kind = file.metadata().map_err(|e| with_path(path, e))?.file_type();
    if kind.is_block_device() {
        return Err(err(path, "is a block device; refusing to write a report into it"));
    }
    if kind.is_file() || kind.is_dir() {
        return Err(err(path, "changed while being opened; refusing to write through it"));
    }
    write_until(&mut file, bytes, deadline).map_err(|e| with_path(path, e))?;
    Ok(())
}

/// Writes all of `bytes` to a non-blocking `file`, waiting for room until `deadline`.
fn write_until(file: &mut File, bytes: &[u8], deadline: Instant) -> std::io::Result<()> {
    let mut written = 0;
    while written < bytes.len() {
        match file.write(&bytes[written..]) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => written += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(std::io::Error::new(
                        ErrorKind::TimedOut,
                        format!(
                            "the reader took no more of the report by the deadline ({written} of {} bytes written)",
                            bytes.len()
                        ),
                    ));
                }
                let mut pfd = libc::pollfd { fd: file.as_raw_fd(), events: libc::POLLOUT, revents: 0 };
                let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
                // SAFETY: one valid pollfd for the duration of the call.
                if unsafe { libc::poll(&mut pfd, 1, ms) } < 0 {
                    let e = std::io::Error::last_os_error();
                    if e.kind() != ErrorKind::Interrupted {
                        return Err(e);
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    #[test]
    fn replaces_a_regular_file_whole_and_keeps_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, "old content that is longer").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write(b"new", Some(&path), soon()).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o640);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn a_device_is_written_not_replaced() {
        write(b"report", Some(Path::new("/dev/null")), soon()).unwrap();
        let meta = std::fs::metadata("/dev/null").unwrap();
        assert!(meta.file_type().is_char_device(), "/dev/null must stay a device");
    }

    #[test]
    fn a_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write(b"x", Some(dir.path()), soon()).is_err());
    }

    #[test]
    fn a_missing_directory_is_named() {
        let e = write(b"x", Some(Path::new("/nonexistent-dir-pd/sub/r.json")), soon()).unwrap_err();
        assert!(e.to_string().contains("/nonexistent-dir-pd/sub"), "{e}");
    }
}
