//! Reading a report: the typed `pen_doctor::report::model::Report` (the report deserialises)
//! and the few lookups every test makes in its JSON (a check by id, its finding codes, one
//! finding, its evidence), said once for the whole suite.

use pen_doctor::report::model::Report;
use serde_json::Value;

/// The JSON text of a report as the typed model; panics with the text when it is not one.
#[track_caller]
pub fn typed(json: &str) -> Report {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("not a report ({e}): {json}"))
}

/// The check with `id` in a JSON report.
#[track_caller]
pub fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no check {id} in {report:#}"))
}

/// The finding codes of a check, in report order.
pub fn codes(check: &Value) -> Vec<String> {
    check["findings"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["code"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// The first finding with `code` in a check.
#[track_caller]
pub fn finding<'a>(check: &'a Value, code: &str) -> &'a Value {
    check["findings"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["code"] == code))
        .unwrap_or_else(|| panic!("no finding {code} in {check:#}"))
}

/// The ids of a report's checks, in report order.
pub fn ids(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["id"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}
