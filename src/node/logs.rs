//! Log tails read bounded from the end: the last lines of a program's stdout or stderr log and
//! of supervisord's own log, however large the file (only its last [`TAIL_BYTES`] are read),
//! secrets removed, a binary file said to be binary instead of shown.

use crate::hostfs;
use serde::Serialize;

/// Bytes read from the end of a log.
pub const TAIL_BYTES: u64 = 16 * 1024;
/// Lines kept from a tail.
pub const TAIL_LINES: usize = 10;
/// Characters kept of one line.
pub const LINE_CHARS: usize = 300;

/// The end of a log, as evidence.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Tail {
    /// Where it was read: a host path, or `supervisord` (XML-RPC).
    pub source: String,
    pub lines: Vec<String>,
    /// The bytes are not text (NULs or mostly control bytes): no line is shown.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub binary: bool,
}

impl Tail {
    /// The last line, or `-`.
    pub fn last(&self) -> String {
        self.lines.last().cloned().unwrap_or_else(|| "-".into())
    }
}

/// The last lines of `text` (not empty), each cut to [`LINE_CHARS`], secrets removed.
pub fn last_lines(text: &str, n: usize) -> Vec<String> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| crate::redact::redact(&l.chars().take(LINE_CHARS).collect::<String>()))
        .collect()
}

/// Whether bytes read from a log look binary.
pub fn looks_binary(text: &str) -> bool {
    if text.contains('\0') {
        return true;
    }
    let total = text.chars().count().max(1);
    let odd = text.chars().filter(|c| *c == '\u{fffd}' || (c.is_control() && !matches!(c, '\n' | '\r' | '\t'))).count();
    odd * 10 > total
}

/// A tail from text already read (XML-RPC, or a file).
pub fn tail_of_text(text: &str, source: &str) -> Tail {
    // A log truncated in place while its writer kept its offset (logrotate's copytruncate), or
    // preallocated, starts with a hole of NULs: not binary, only empty.
    let text = text.trim_start_matches('\0');
    if looks_binary(text) {
        return Tail { source: source.to_string(), lines: Vec::new(), binary: true };
    }
    Tail { source: source.to_string(), lines: last_lines(text, TAIL_LINES), binary: false }
}

/// The tail of a host log file (host path, mapped).
pub fn tail_file(host_path: &str) -> Result<Tail, hostfs::FileError> {
    let text = hostfs::read_tail(host_path, TAIL_BYTES)?;
    Ok(tail_of_text(&text, host_path))
}

/// The real exit status supervisord logged for a process (`exited: NAME (exit status N; …)`)
/// and its last spawn error (`spawnerr: …`), from the end of its own log.
pub fn exit_from_daemon_log(text: &str, process: &str) -> (Option<i64>, Option<String>) {
    let mut status = None;
    let mut spawnerr = None;
    let exited = format!("exited: {process} (exit status ");
    let gave_up = "spawnerr: ";
    for line in text.lines() {
        if let Some(i) = line.find(&exited) {
            let rest = &line[i + exited.len()..];
            status = rest.split(|c: char| !c.is_ascii_digit() && c != '-').next().and_then(|n| n.parse().ok());
        } else if let Some(i) = line.find(gave_up) {
            if line.contains(process) || !line.contains(": ") {
                spawnerr = Some(crate::redact::redact(line[i + gave_up.len()..].trim()));
            }
        }
    }
    (status, spawnerr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_status_from_supervisord_log() {
        let log = "2026-11-27 00:01:00,001 INFO spawned: 'mon' with pid 12\n\
                   2026-11-27 00:01:00,010 INFO exited: mon (exit status 127; not expected)\n\
                   2026-11-27 00:01:01,010 INFO exited: other (exit status 1; not expected)\n";
        assert_eq!(exit_from_daemon_log(log, "mon").0, Some(127));
        assert_eq!(exit_from_daemon_log(log, "none").0, None);
        assert!(looks_binary("\u{0}\u{1}abc"));
        assert!(!looks_binary("Could not open input file: x.php\n"));
        assert_eq!(last_lines("a\n\nb\nc\n", 2), vec!["b", "c"]);
    }
}
