//! The contract every renderer keeps: a report in, the bytes of one format out.

use crate::report::model::Report;

/// Turns a report into the bytes of one format.
pub trait Render {
    fn render(&self, report: &Report) -> Vec<u8>;
}
