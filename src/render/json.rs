//! The JSON report of SPEC §6 (schema version 1), pretty-printed.

use super::contract::Render;
use crate::report::model::Report;

pub struct Json;

impl Render for Json {
    fn render(&self, report: &Report) -> Vec<u8> {
        let mut out =
            serde_json::to_vec_pretty(report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}").into_bytes());
        out.push(b'\n');
        out
    }
}
