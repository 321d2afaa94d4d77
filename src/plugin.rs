//! The Nagios plugin conventions shared below the renderers: what NRPE passes back of a
//! plugin's output, the UNKNOWN line of a run that cannot judge at all (a usage error), and text
//! made safe for a plugin line.

/// What NRPE passes back of a plugin's output by default (and what check_nrpe shows).
pub const NRPE_MAX_OUTPUT: usize = 1024;

/// The one line printed when the tool cannot run at all (bad usage): UNKNOWN, exit 3.
pub fn unknown_line(error: &str) -> String {
    format!("PEN-DOCTOR UNKNOWN - {}", plain(error))
}

/// Text that cannot break the plugin output: no `|` (it starts performance data), one line
/// (every line break and other control character becomes a space).
pub fn plain(text: &str) -> String {
    text.replace('|', "/").replace(|c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'), " ")
}
