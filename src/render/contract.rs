//! The contract every renderer keeps: a report in, the bytes of one format out, and the exit
//! status that format's readers expect (Nagios has its own convention; the others share one).

use crate::report::model::Report;

/// Turns a report into the bytes of one format, and says the exit status that goes with it.
pub trait Render {
    fn render(&self, report: &Report) -> Vec<u8>;

    /// The exit status for the report: 0 when nothing failed, 1 when something did (or warned,
    /// with `strict`). Nagios maps to its OK/WARNING/CRITICAL/UNKNOWN instead.
    fn exit_code(&self, report: &Report, strict: bool) -> i32 {
        crate::report::exit_code(report, strict)
    }

    /// The exit status when the report could not be made or delivered: 2 (Nagios: UNKNOWN, 3).
    fn unusable_code(&self) -> i32 {
        2
    }
}
