//! The check kinds of SPEC §3 in catalog order: the order of the report, and the names
//! `--only`/`--skip` and the knowledge base's summaries accept.

/// Check names in catalog order (SPEC §3): the order of the report, whatever order they finish in.
pub const CATALOG: &[&str] = &[
    "config",
    "cert",
    "ca",
    "dns",
    "tcp",
    "tls",
    "http",
    "gearman",
    "supervisor",
    "process",
    "cron",
    "ntp",
    "pi",
    "pen",
    "sei",
    "webhook",
];

/// Position of a check kind in the catalog (unknown kinds last).
pub fn catalog_rank(kind: &str) -> usize {
    CATALOG.iter().position(|k| *k == kind).unwrap_or(CATALOG.len())
}
