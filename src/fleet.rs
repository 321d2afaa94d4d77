//! Reports of many nodes and many runs: `merge` (one table of nodes × checks, the fleet rules
//! no single node can check — `rules` — and the findings that differ between nodes, leaving out
//! what is only the consequence of one node's own failure) and `diff` (what changed between two
//! runs). Both read JSON reports back (schema version 1, with or without the `node` section of
//! newer runs) and say clearly which reports they cannot read.

pub mod facts;
pub mod rules;

use crate::cli::FleetFormat;
use crate::flagvalue::safe;
use crate::host::OsFamily;
use crate::kb::{self, Lang};
use crate::messages::{self, msg};
use crate::render::words::time_word;
use crate::report::model::{
    HostInfo, NodeFacts, Report, ReportedFinding, Severity, Status, Summary, Timestamp, ToolInfo,
};
use colored::Colorize;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::Path;

/// The JSON report schema version this pen-doctor reads (and writes).
pub const READS_SCHEMA: u32 = 1;
/// The version of `merge --format json` (schema/fleet.schema.json).
pub const FLEET_SCHEMA_VERSION: u32 = 1;

/// A report read back from a file, with the name its node is shown under.
pub struct NodeReport {
    pub node: String,
    /// The file it was read from, as given.
    pub file: String,
    pub report: Report,
    /// Checks that a root cause of this node's own diagnosis accounts for (its consequences).
    pub explained: BTreeSet<String>,
}

/// Reads a JSON report; the error is one line naming the file and what is wrong.
pub fn load(path: &Path) -> Result<Report, String> {
    load_node(path).map(|(report, _)| report)
}

/// Reads a JSON report and the checks its diagnosis explains by another check's failure.
fn load_node(path: &Path) -> Result<(Report, BTreeSet<String>), String> {
    let shown = safe(&path.display().to_string(), 200);
    let text = crate::hostfs::read_file(path, crate::hostfs::Kind::Report)
        .map_err(|e| format!("{shown}: cannot read: {}", e.reason))?;
    let value: serde_json::Value = serde_json::from_slice(&text).map_err(|e| {
        format!("{shown}: not a JSON report (`pen-doctor check --format json`): {}", safe(&e.to_string(), 200))
    })?;
    schema_supported(&value).map_err(|e| format!("{shown}: {e}"))?;
    let explained = explained_by_diagnosis(&value);
    let mut report: Report = serde_json::from_value(value)
        .map_err(|e| format!("{shown}: not a pen-doctor report: {}", safe(&e.to_string(), 200)))?;
    // The file came from elsewhere: its texts are cleaned like a peer's before they are shown.
    crate::report::clean::report(&mut report);
    Ok((report, explained))
}

/// The most report bytes `merge` reads in all (each report is at most 2 MiB).
pub const MAX_FLEET_BYTES: u64 = 16 * 1024 * 1024;

/// Whether this pen-doctor reads a report of that `schema_version`; if not, why, in one line
/// that names the version, the pen-doctor that wrote it and what to do.
fn schema_supported(value: &serde_json::Value) -> Result<(), String> {
    let ours = env!("CARGO_PKG_VERSION");
    let writer = value
        .pointer("/tool/version")
        .and_then(|v| v.as_str())
        .map(|v| format!(", written by pen-doctor {}", safe(v, 40)))
        .unwrap_or_default();
    match value.get("schema_version").and_then(|v| v.as_u64()) {
        Some(n) if n == u64::from(READS_SCHEMA) => Ok(()),
        Some(n) if n > u64::from(READS_SCHEMA) => Err(format!(
            "schema_version {n} is not supported (a newer report format{writer}); this pen-doctor {ours} reads \
             schema_version {READS_SCHEMA}: run merge/diff with a pen-doctor at least as new as the nodes'"
        )),
        Some(n) => Err(format!(
            "schema_version {n} is not supported (an older report format{writer}); this pen-doctor {ours} reads \
             schema_version {READS_SCHEMA}: run the check again on that node with this version"
        )),
        None => Err("not a pen-doctor report (no schema_version)".into()),
    }
}

/// The checks a report's `diagnosis` (when it has one) says follow from another check's failure.
fn explained_by_diagnosis(value: &serde_json::Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let Some(causes) = value.get("diagnosis").and_then(|d| d.as_array()) else { return out };
    for cause in causes.iter().take(1000) {
        let own = cause.get("check").and_then(|c| c.as_str()).unwrap_or_default();
        let explains = cause.get("explains").and_then(|e| e.as_array()).map(Vec::as_slice).unwrap_or_default();
        for id in explains.iter().take(1000).filter_map(|e| e.as_str()) {
            if id != own {
                out.insert(id.to_string());
            }
        }
    }
    out
}

/// Loads the reports and names each node by its hostname; nodes that share a hostname (or have
/// none) are told apart by their file names.
pub fn load_nodes(paths: &[std::path::PathBuf]) -> Result<Vec<NodeReport>, String> {
    // The sizes first: a set of reports too large in all is refused before any is parsed (one
    // report too large on its own is refused by its reading, with that reason).
    let mut total = 0;
    for p in paths {
        let size = std::fs::metadata(p).map(|m| if m.is_file() { m.len() } else { 0 }).unwrap_or(0);
        if size > crate::hostfs::Kind::Report.limit() {
            load(p)?;
        }
        total += size;
        if total > MAX_FLEET_BYTES {
            return Err(format!(
                "{}: the reports take more than {} MiB in all; merge fewer at a time",
                safe(&p.display().to_string(), 200),
                MAX_FLEET_BYTES >> 20
            ));
        }
    }
    let mut nodes: Vec<NodeReport> = Vec::new();
    for p in paths {
        let (report, explained) = load_node(p)?;
        let node = report.run.host.hostname.clone();
        nodes.push(NodeReport { node, file: p.display().to_string(), report, explained });
    }
    let hostnames: Vec<String> = nodes.iter().map(|n| n.node.clone()).collect();
    for (n, p) in nodes.iter_mut().zip(paths) {
        if n.node.is_empty() || hostnames.iter().filter(|h| **h == n.node).count() > 1 {
            let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            n.node = if n.node.is_empty() { stem } else { format!("{} ({stem})", n.node) };
        }
    }
    // The same file twice, or names that still collide: number them.
    for i in 1..nodes.len() {
        if nodes[..i].iter().any(|m| m.node == nodes[i].node) {
            nodes[i].node = format!("{} #{}", nodes[i].node, i + 1);
        }
    }
    Ok(nodes)
}

fn symbol(status: Option<Status>) -> &'static str {
    match status {
        Some(Status::Ok) => "✔",
        Some(Status::Warn) => "⚠",
        Some(Status::Fail) => "✘",
        Some(Status::Error) => "‼",
        Some(Status::Skip) => "–",
        None => "·",
    }
}

fn paint(symbol: &str, status: Option<Status>, color: bool) -> String {
    if !color {
        return symbol.to_string();
    }
    match status {
        Some(Status::Ok) => symbol.green().to_string(),
        Some(Status::Warn) => symbol.yellow().to_string(),
        Some(Status::Fail) => symbol.red().bold().to_string(),
        Some(Status::Error) => symbol.magenta().bold().to_string(),
        _ => symbol.dimmed().to_string(),
    }
}

/// Check ids in the order they first appear across the reports (each report is in catalog order).
fn check_ids<'a>(reports: impl Iterator<Item = &'a Report>) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for r in reports {
        let mut last = 0;
        for c in &r.checks {
            match ids.iter().position(|i| *i == c.id) {
                Some(p) => last = p + 1,
                None => {
                    ids.insert(last, c.id.clone());
                    last += 1;
                }
            }
        }
    }
    ids
}

fn status_of(r: &Report, id: &str) -> Option<Status> {
    r.checks.iter().find(|c| c.id == id).map(|c| c.status)
}

/// The OS family a report's host belongs to, for the fix steps of fleet findings.
fn family_of(host: &HostInfo) -> OsFamily {
    match host.os_family.as_str() {
        "debian" => OsFamily::Debian,
        "rhel" => {
            let major: Option<u32> =
                host.os.split(|c: char| !c.is_ascii_digit()).find(|w| !w.is_empty()).and_then(|w| w.parse().ok());
            match major {
                Some(6) => OsFamily::Rhel6,
                Some(7) => OsFamily::Rhel7,
                Some(n) if n >= 8 => OsFamily::Rhel8,
                _ => OsFamily::Other,
            }
        }
        _ => OsFamily::Other,
    }
}

/// `merge --format json` (schema/fleet.schema.json): the whole fleet view, for machines.
#[derive(Debug, Serialize)]
pub struct Fleet {
    pub schema_version: u32,
    pub kind: &'static str,
    pub tool: ToolInfo,
    pub summary: FleetSummary,
    pub nodes: Vec<FleetNode>,
    /// The fleet rules' findings, worst first.
    pub findings: Vec<FleetFinding>,
    /// Every fleet rule and how it came out (`unknown` when some report lacks its facts).
    pub rules: Vec<rules::RuleResult>,
    /// One row per check: each node's status (`null`: not in that node's report).
    pub checks: Vec<CheckRow>,
    /// Findings (or statuses) that differ between the nodes where the check was compared.
    pub differences: Vec<Difference>,
    /// Findings on every node where the check was compared.
    pub common: Vec<Common>,
    /// What a person should know about the inputs (older reports, mixed versions).
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct FleetSummary {
    /// `fail` when a node or a fleet rule fails, else `warn` when one warns, else `ok`.
    pub status: &'static str,
    pub nodes: usize,
    /// Nodes whose own report has a failed or errored check.
    pub nodes_failing: usize,
    /// Fleet findings by severity.
    pub fail: usize,
    pub warn: usize,
}

#[derive(Debug, Serialize)]
pub struct FleetNode {
    pub name: String,
    pub file: String,
    pub hostname: String,
    pub environment: String,
    pub started_at: Timestamp,
    pub tool_version: String,
    pub schema_version: u32,
    pub os: String,
    pub os_family: String,
    pub summary: Summary,
    /// The node's facts; `null` for a report of a pen-doctor that did not write them.
    pub facts: Option<NodeFacts>,
}

#[derive(Debug, Serialize)]
pub struct FleetFinding {
    #[serde(flatten)]
    pub finding: ReportedFinding,
    pub nodes: Vec<String>,
    /// The title of the finding's numbered cause, looked up when the fleet is built, for the
    /// renderers (not in the JSON).
    #[serde(skip)]
    pub cause_title: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct CheckRow {
    pub id: String,
    pub statuses: BTreeMap<String, Option<Status>>,
}

#[derive(Debug, Serialize)]
pub struct Difference {
    pub check: String,
    /// The finding's code; `null` when only the statuses differ.
    pub code: Option<String>,
    pub severity: Option<Severity>,
    pub message: Option<String>,
    /// Nodes with the finding.
    pub on: Vec<String>,
    /// Nodes where the check was compared and the finding is absent.
    pub not_on: Vec<String>,
    /// Nodes where the check did not run, was skipped, or only failed as a consequence of
    /// another of that node's failures: not compared.
    pub not_checked_on: Vec<String>,
    /// Each compared node's status of the check.
    pub statuses: BTreeMap<String, Status>,
}

#[derive(Debug, Serialize)]
pub struct Common {
    pub check: String,
    pub code: String,
    pub severity: Severity,
    pub message: String,
    pub not_checked_on: Vec<String>,
}

/// Whether a node's check takes part in the comparison: it ran (a skip without findings did
/// not) and it is not a consequence of another of the node's failures.
fn compared(n: &NodeReport, id: &str) -> bool {
    if n.explained.contains(id) {
        return false;
    }
    match n.report.checks.iter().find(|c| c.id == id) {
        None => false,
        Some(c) => !(c.status == Status::Skip && c.findings.is_empty()),
    }
}

/// Builds the fleet view of the nodes' reports.
pub fn build(nodes: &[NodeReport], lang: Lang) -> Fleet {
    let knowledge = kb::kb();
    let ids = check_ids(nodes.iter().map(|n| &n.report));

    // The fleet rules over the nodes' facts.
    let rule_nodes: Vec<rules::Node> =
        nodes.iter().map(|n| rules::Node { name: &n.node, facts: n.report.node.as_ref() }).collect();
    let (fired, rule_results) = rules::evaluate(&rule_nodes, lang);
    let mut findings: Vec<FleetFinding> = fired
        .into_iter()
        .map(|f| {
            let mut families: Vec<OsFamily> =
                nodes.iter().filter(|n| f.nodes.contains(&n.node)).map(|n| family_of(&n.report.run.host)).collect();
            families.dedup();
            let family = if families.len() == 1 { families[0] } else { OsFamily::Other };
            let finding = crate::report::enrich(knowledge, &f.finding, lang, family);
            let cause_title = finding.kb.cause.and_then(|n| knowledge.cause_title(&finding.kb.article, n, lang));
            FleetFinding { finding, nodes: f.nodes, cause_title }
        })
        .collect();
    findings.sort_by_key(|f| f.finding.severity);

    // Findings by (check, code), on the nodes where the check is compared.
    // (catalog rank, check id, code) → (nodes with it, severity, one message as an example).
    type Seen = BTreeMap<(usize, String, String), (BTreeSet<usize>, Severity, String)>;
    let mut seen: Seen = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        for c in n.report.checks.iter().filter(|c| !n.explained.contains(&c.id)) {
            let rank = ids.iter().position(|x| *x == c.id).unwrap_or(usize::MAX);
            for f in &c.findings {
                let e = seen
                    .entry((rank, c.id.clone(), f.code.clone()))
                    .or_insert_with(|| (BTreeSet::new(), f.severity, f.message.clone()));
                e.0.insert(i);
            }
        }
    }
    let names = |set: &BTreeSet<usize>| -> Vec<String> { set.iter().map(|&i| nodes[i].node.clone()).collect() };
    let all: BTreeSet<usize> = (0..nodes.len()).collect();
    let statuses_on = |id: &str, set: &BTreeSet<usize>| -> BTreeMap<String, Status> {
        set.iter().filter_map(|&i| status_of(&nodes[i].report, id).map(|s| (nodes[i].node.clone(), s))).collect()
    };
    let mut differences = Vec::new();
    let mut common = Vec::new();
    for ((_, id, code), (on, severity, message)) in &seen {
        let cmp: BTreeSet<usize> =
            all.iter().copied().filter(|&i| compared(&nodes[i], id) || on.contains(&i)).collect();
        let not_on: BTreeSet<usize> = cmp.difference(on).copied().collect();
        let not_checked: BTreeSet<usize> = all.difference(&cmp).copied().collect();
        if not_on.is_empty() {
            common.push(Common {
                check: id.clone(),
                code: code.clone(),
                severity: *severity,
                message: message.clone(),
                not_checked_on: names(&not_checked),
            });
        } else {
            differences.push(Difference {
                check: id.clone(),
                code: Some(code.clone()),
                severity: Some(*severity),
                message: Some(message.clone()),
                on: names(on),
                not_on: names(&not_on),
                not_checked_on: names(&not_checked),
                statuses: statuses_on(id, &cmp),
            });
        }
    }
    // Checks whose status differs where compared although no finding tells the nodes apart.
    for id in &ids {
        if differences.iter().any(|d| d.check == *id) {
            continue;
        }
        let cmp: BTreeSet<usize> = all.iter().copied().filter(|&i| compared(&nodes[i], id)).collect();
        let statuses = statuses_on(id, &cmp);
        let distinct: BTreeSet<Status> = statuses.values().copied().collect();
        if distinct.len() > 1 {
            differences.push(Difference {
                check: id.clone(),
                code: None,
                severity: None,
                message: None,
                on: Vec::new(),
                not_on: Vec::new(),
                not_checked_on: names(&all.difference(&cmp).copied().collect()),
                statuses,
            });
        }
    }

    let checks = ids
        .iter()
        .map(|id| CheckRow {
            id: id.clone(),
            statuses: nodes.iter().map(|n| (n.node.clone(), status_of(&n.report, id))).collect(),
        })
        .collect();
    let mut notes = Vec::new();
    for n in nodes.iter().filter(|n| n.report.node.is_none()) {
        notes.push(messages::fill(
            lang,
            "fleet.report-without-node",
            &[("node", &n.node), ("version", &n.report.tool.version)],
        ));
    }
    let versions: BTreeSet<&str> = nodes.iter().map(|n| n.report.tool.version.as_str()).collect();
    if versions.len() > 1 {
        let list = versions.iter().copied().collect::<Vec<_>>().join(", ");
        notes.push(messages::fill(lang, "fleet.versions-differ", &[("list", &list)]));
    }

    let nodes_failing = nodes.iter().filter(|n| n.report.summary.fail + n.report.summary.error > 0).count();
    let fail = findings.iter().filter(|f| f.finding.severity == Severity::Fail).count();
    let warn = findings.iter().filter(|f| f.finding.severity == Severity::Warn).count();
    let nodes_warning = nodes.iter().any(|n| n.report.summary.warn > 0);
    let status = if nodes_failing + fail > 0 {
        "fail"
    } else if warn > 0 || nodes_warning {
        "warn"
    } else {
        "ok"
    };
    Fleet {
        schema_version: FLEET_SCHEMA_VERSION,
        kind: "pen-doctor-fleet",
        tool: ToolInfo { name: "pen-doctor".into(), version: env!("CARGO_PKG_VERSION").into() },
        summary: FleetSummary { status, nodes: nodes.len(), nodes_failing, fail, warn },
        nodes: nodes
            .iter()
            .map(|n| {
                let r = &n.report;
                FleetNode {
                    name: n.node.clone(),
                    file: n.file.clone(),
                    hostname: r.run.host.hostname.clone(),
                    environment: r.run.environment.clone(),
                    started_at: r.run.started_at,
                    tool_version: r.tool.version.clone(),
                    schema_version: r.schema_version,
                    os: r.run.host.os.clone(),
                    os_family: r.run.host.os_family.clone(),
                    summary: r.summary.clone(),
                    facts: r.node.clone(),
                }
            })
            .collect(),
        findings,
        rules: rule_results,
        checks,
        differences,
        common,
        notes,
    }
}

/// Text from a report made safe for a terminal line.
fn t(text: &str) -> String {
    safe(text, 2000)
}

/// Text from a report made safe inside Markdown: no HTML, no emphasis, no table break, one line.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '&' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Words for the facts a rule missed.
fn missing_words(missing: &[&str], lang: Lang) -> String {
    missing
        .iter()
        .map(|m| match *m {
            "node" => msg(lang, "fleet.node-facts-report-of-an-older"),
            "certificate_sha256" => msg(lang, "fleet.client-certificate-not-read"),
            "environment" => msg(lang, "fleet.environment"),
            "scheduler_cron" => msg(lang, "fleet.sei-s-scheduler-in-cron-not-reported"),
            "gearman_configured" => msg(lang, "fleet.gearman-not-checked"),
            "supervisor_configured" => msg(lang, "fleet.supervisor-not-checked"),
            other => other,
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The result of `merge`: the rendered text and whether a node or a fleet rule failed.
pub fn merge(nodes: &[NodeReport], format: FleetFormat, lang: Lang, color: bool) -> (String, bool) {
    let fleet = build(nodes, lang);
    let failed = fleet.summary.status == "fail";
    let text = match format {
        FleetFormat::Json => {
            let mut s = serde_json::to_string_pretty(&fleet).unwrap_or_default();
            s.push('\n');
            s
        }
        FleetFormat::Markdown => render_markdown(&fleet, lang),
        FleetFormat::Human => render_human(&fleet, lang, color),
    };
    (text, failed)
}

fn counts(s: &Summary) -> String {
    format!("{} ok, {} warn, {} fail, {} skip, {} error", s.ok, s.warn, s.fail, s.skip, s.error)
}

fn severity_label(s: Severity, lang: Lang) -> &'static str {
    match s {
        Severity::Fail => msg(lang, "fleet.fail"),
        Severity::Warn => msg(lang, "fleet.warn"),
        Severity::Info => "INFO",
    }
}

fn verdict_label(v: rules::Verdict, lang: Lang) -> &'static str {
    match v {
        rules::Verdict::Ok => "ok",
        rules::Verdict::Fired => msg(lang, "fleet.fired-above"),
        rules::Verdict::Unknown => msg(lang, "fleet.unknown"),
    }
}

fn cause_text(f: &FleetFinding, lang: Lang) -> String {
    f.finding
        .kb
        .cause
        .map(|n| {
            let title = f.cause_title.as_deref().unwrap_or_default();
            format!(", {} {n} ({title})", msg(lang, "fleet.cause"))
        })
        .unwrap_or_default()
}

fn render_human(fleet: &Fleet, lang: Lang, color: bool) -> String {
    let mut out = String::new();
    let n = fleet.nodes.len();
    let _ = writeln!(out, "{} ({n} {})\n", msg(lang, "fleet.pen-doctor-fleet"), msg(lang, "fleet.nodes"));
    for node in &fleet.nodes {
        let _ = writeln!(
            out,
            "  {:<20} {:<13} {}  {:<4} {}",
            t(&node.name),
            t(&node.environment),
            time_word(node.started_at, lang),
            t(&node.summary.status),
            counts(&node.summary)
        );
    }

    let _ = writeln!(out, "\n{}:", msg(lang, "fleet.fleet-findings"));
    if fleet.findings.is_empty() {
        let _ = writeln!(out, "  {}", msg(lang, "fleet.none"));
    }
    for f in &fleet.findings {
        let label = severity_label(f.finding.severity, lang);
        let label = match (color, f.finding.severity) {
            (true, Severity::Fail) => label.red().bold().to_string(),
            (true, Severity::Warn) => label.yellow().bold().to_string(),
            _ => label.to_string(),
        };
        let _ =
            writeln!(out, "  {label} {} — {}: {}", f.finding.code, msg(lang, "fleet.nodes"), t(&f.nodes.join(", ")));
        let _ = writeln!(out, "    {}", t(&f.finding.message));
        let _ = writeln!(out, "    {}: {}{}", msg(lang, "fleet.article"), f.finding.kb.article, cause_text(f, lang));
        let _ = writeln!(out, "    {}", f.finding.kb.url);
        if !f.finding.fix.is_empty() {
            let _ = writeln!(out, "    {}:", msg(lang, "fleet.how-to-fix"));
            for (i, step) in f.finding.fix.iter().enumerate() {
                let _ = writeln!(out, "      {}. {}", i + 1, t(step));
            }
        }
        let _ = writeln!(out, "    {}: pen-doctor explain {}", msg(lang, "fleet.details"), f.finding.code);
    }
    let _ = writeln!(out, "\n{}:", msg(lang, "fleet.fleet-rules"));
    for r in &fleet.rules {
        let mut line = format!("  {:<38} {}", r.code, verdict_label(r.verdict, lang));
        if !r.unknown_on.is_empty() {
            let _ = write!(
                line,
                " — {} {}: {}",
                missing_words(&r.missing, lang),
                msg(lang, "fleet.on"),
                t(&r.unknown_on.join(", "))
            );
        }
        let _ = writeln!(out, "{line}");
    }
    out.push('\n');

    // The table: one row per check, one column per node.
    let width = fleet.checks.iter().map(|c| c.id.chars().count()).max().unwrap_or(5).max(5);
    let cols: Vec<usize> = fleet.nodes.iter().map(|n| t(&n.name).chars().count().max(1)).collect();
    let _ = write!(out, "{:<width$}", msg(lang, "fleet.check"));
    for node in &fleet.nodes {
        let _ = write!(out, "  {}", t(&node.name));
    }
    out.push('\n');
    for row in &fleet.checks {
        let _ = write!(out, "{:<width$}", t(&row.id));
        for (node, w) in fleet.nodes.iter().zip(&cols) {
            let st = row.statuses.get(&node.name).copied().flatten();
            let pad = " ".repeat(w.saturating_sub(1));
            let _ = write!(out, "  {}{pad}", paint(symbol(st), st, color));
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\n{}: ✔ ok  ⚠ {}  ✘ {}  ‼ {}  – {}  · {}",
        msg(lang, "fleet.legend"),
        msg(lang, "fleet.warn-2"),
        msg(lang, "fleet.fail-2"),
        msg(lang, "fleet.error"),
        msg(lang, "fleet.skipped"),
        msg(lang, "fleet.not-run")
    );

    let _ = writeln!(out, "\n{}:", msg(lang, "fleet.findings-that-differ-between-nodes"));
    if fleet.differences.is_empty() {
        let _ = writeln!(out, "  {}", msg(lang, "fleet.none"));
    }
    for d in &fleet.differences {
        match (&d.code, d.severity, &d.message) {
            (Some(code), Some(sev), Some(message)) => {
                let mut line = format!(
                    "  {} {code} [{}] — {}: {}",
                    t(&d.check),
                    sev.as_str(),
                    msg(lang, "fleet.on"),
                    t(&d.on.join(", "))
                );
                if !d.not_on.is_empty() {
                    let _ = write!(line, "; {}: {}", msg(lang, "fleet.not-on"), t(&d.not_on.join(", ")));
                }
                if !d.not_checked_on.is_empty() {
                    let _ =
                        write!(line, "; {}: {}", msg(lang, "fleet.not-checked-on"), t(&d.not_checked_on.join(", ")));
                }
                let _ = writeln!(out, "{line}");
                let _ = writeln!(out, "    {}", t(message));
            }
            _ => {
                let per: Vec<String> = d.statuses.iter().map(|(n, s)| format!("{} {}", t(n), s.as_str())).collect();
                let _ = writeln!(out, "  {}: {}", t(&d.check), per.join(", "));
            }
        }
    }
    if !fleet.common.is_empty() {
        let _ = writeln!(out, "\n{}:", msg(lang, "fleet.findings-on-every-node"));
        for c in &fleet.common {
            let mut line = format!("  {} {} [{}]: {}", t(&c.check), c.code, c.severity.as_str(), t(&c.message));
            if !c.not_checked_on.is_empty() {
                let _ = write!(line, " ({}: {})", msg(lang, "fleet.not-checked-on"), t(&c.not_checked_on.join(", ")));
            }
            let _ = writeln!(out, "{line}");
        }
    }
    if !fleet.notes.is_empty() {
        let _ = writeln!(out, "\n{}:", msg(lang, "fleet.notes"));
        for note in &fleet.notes {
            let _ = writeln!(out, "  - {}", t(note));
        }
    }
    out
}

fn render_markdown(fleet: &Fleet, lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", msg(lang, "fleet.pen-doctor-fleet"));
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} |\n|---|---|---|---|",
        msg(lang, "fleet.node"),
        msg(lang, "fleet.environment-2"),
        msg(lang, "fleet.run"),
        msg(lang, "fleet.result")
    );
    for node in &fleet.nodes {
        let _ = writeln!(
            out,
            "| {} | {} | {} | **{}** — {} |",
            md(&node.name),
            md(&node.environment),
            time_word(node.started_at, lang),
            md(&node.summary.status),
            counts(&node.summary)
        );
    }

    let _ = writeln!(out, "\n## {}\n", msg(lang, "fleet.fleet-findings"));
    if fleet.findings.is_empty() {
        let _ = writeln!(out, "{}", msg(lang, "fleet.none-2"));
    }
    for f in &fleet.findings {
        let _ =
            writeln!(out, "### `{}` — {} ({})\n", f.finding.code, md(&f.nodes.join(", ")), f.finding.severity.as_str());
        let _ = writeln!(out, "{}\n", md(&f.finding.message));
        let _ = writeln!(
            out,
            "- **{}:** [{}]({}){}",
            msg(lang, "fleet.article"),
            f.finding.kb.article,
            f.finding.kb.url,
            md(&cause_text(f, lang))
        );
        let _ = writeln!(out, "- *{}*", md(&f.finding.kb.title));
        if !f.finding.fix.is_empty() {
            let _ = writeln!(out, "\n**{}:**\n", msg(lang, "fleet.how-to-fix"));
            for (i, step) in f.finding.fix.iter().enumerate() {
                let _ = writeln!(out, "{}. {}", i + 1, md(step));
            }
        }
        out.push('\n');
    }
    let _ = writeln!(out, "\n## {}\n", msg(lang, "fleet.fleet-rules"));
    let _ = writeln!(out, "| {} | {} |\n|---|---|", msg(lang, "fleet.rule"), msg(lang, "fleet.result"));
    for r in &fleet.rules {
        let mut result = verdict_label(r.verdict, lang).to_string();
        if !r.unknown_on.is_empty() {
            let _ = write!(
                result,
                " — {} {}: {}",
                missing_words(&r.missing, lang),
                msg(lang, "fleet.on"),
                r.unknown_on.join(", ")
            );
        }
        let _ = writeln!(out, "| `{}` | {} |", r.code, md(&result));
    }

    let _ = write!(out, "\n## {}\n\n| {} |", msg(lang, "fleet.checks"), msg(lang, "fleet.check-2"));
    for node in &fleet.nodes {
        let _ = write!(out, " {} |", md(&node.name));
    }
    out.push_str("\n|---|");
    for _ in &fleet.nodes {
        out.push_str(":---:|");
    }
    out.push('\n');
    for row in &fleet.checks {
        let _ = write!(out, "| `{}` |", row.id.replace('`', "'"));
        for node in &fleet.nodes {
            let st = row.statuses.get(&node.name).copied().flatten();
            let _ = write!(out, " {} {} |", symbol(st), st.map(|s| s.as_str()).unwrap_or(""));
        }
        out.push('\n');
    }

    let _ = writeln!(out, "\n## {}\n", msg(lang, "fleet.findings-that-differ-between-nodes"));
    if fleet.differences.is_empty() {
        let _ = writeln!(out, "{}", msg(lang, "fleet.none-2"));
    }
    for d in &fleet.differences {
        let id = d.check.replace('`', "'");
        match (&d.code, d.severity, &d.message) {
            (Some(code), Some(sev), Some(message)) => {
                let mut line = format!(
                    "- `{id}` `{code}` [{}] — {}: {}",
                    sev.as_str(),
                    msg(lang, "fleet.on"),
                    md(&d.on.join(", "))
                );
                if !d.not_on.is_empty() {
                    let _ = write!(line, "; {}: {}", msg(lang, "fleet.not-on"), md(&d.not_on.join(", ")));
                }
                if !d.not_checked_on.is_empty() {
                    let _ =
                        write!(line, "; {}: {}", msg(lang, "fleet.not-checked-on"), md(&d.not_checked_on.join(", ")));
                }
                let _ = writeln!(out, "{line}");
                let _ = writeln!(out, "  {}", md(message));
            }
            _ => {
                let per: Vec<String> = d.statuses.iter().map(|(n, s)| format!("{} {}", md(n), s.as_str())).collect();
                let _ = writeln!(out, "- `{id}`: {}", per.join(", "));
            }
        }
    }
    if !fleet.common.is_empty() {
        let _ = writeln!(out, "\n## {}\n", msg(lang, "fleet.findings-on-every-node"));
        for c in &fleet.common {
            let _ = writeln!(
                out,
                "- `{}` `{}` [{}]: {}",
                c.check.replace('`', "'"),
                c.code,
                c.severity.as_str(),
                md(&c.message)
            );
        }
    }
    if !fleet.notes.is_empty() {
        let _ = writeln!(out, "\n## {}\n", msg(lang, "fleet.notes"));
        for note in &fleet.notes {
            let _ = writeln!(out, "- {}", md(note));
        }
    }
    out
}

/// The node facts that differ between two reports: (fact, before, after).
fn facts_changed(before: &NodeFacts, after: &NodeFacts) -> Vec<(&'static str, String, String)> {
    let show = |v: serde_json::Value| match v {
        serde_json::Value::Null => "—".to_string(),
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    };
    let (a, b) = (serde_json::to_value(before).unwrap_or_default(), serde_json::to_value(after).unwrap_or_default());
    let mut out = Vec::new();
    for key in [
        "environment",
        "certificate_sha256",
        "certificate_subject",
        "scheduler_cron",
        "gearman_configured",
        "gearman_address",
        "supervisor_configured",
        "module_version",
    ] {
        let (x, y) = (a.get(key).cloned().unwrap_or_default(), b.get(key).cloned().unwrap_or_default());
        if x != y {
            out.push((key, show(x), show(y)));
        }
    }
    out
}

/// `diff --format json`: what changed, for machines.
#[derive(Serialize)]
struct DiffJson<'a> {
    kind: &'static str,
    before: DiffSide<'a>,
    after: DiffSide<'a>,
    worse: bool,
    changes: Vec<DiffChange<'a>>,
    added: Vec<DiffFinding>,
    removed: Vec<DiffFinding>,
    facts_changed: Vec<DiffFact>,
    notes: Vec<String>,
}

#[derive(Serialize)]
struct DiffSide<'a> {
    hostname: &'a str,
    started_at: Timestamp,
    environment: &'a str,
    tool_version: &'a str,
    summary: &'a Summary,
}

#[derive(Serialize)]
struct DiffChange<'a> {
    check: &'a str,
    before: Option<Status>,
    after: Option<Status>,
}

#[derive(Serialize)]
struct DiffFinding {
    check: String,
    code: String,
    severity: &'static str,
    message: String,
}

#[derive(Serialize)]
struct DiffFact {
    fact: &'static str,
    before: String,
    after: String,
}

/// The result of `diff`: the rendered text and whether a check got worse.
pub fn diff(before: &Report, after: &Report, format: FleetFormat, lang: Lang, color: bool) -> (String, bool) {
    let md_format = format == FleetFormat::Markdown;
    let color = color && format == FleetFormat::Human;
    let ids = check_ids([before, after].into_iter());
    let rank = |s: Option<Status>| match s {
        Some(Status::Ok) | Some(Status::Skip) | None => 0,
        Some(Status::Warn) => 1,
        Some(Status::Fail) | Some(Status::Error) => 2,
    };
    let mut worse = false;
    let mut changes = Vec::new();
    let mut added = Vec::new();
    let mut removed = Vec::new();
    for id in &ids {
        let (a, b) = (status_of(before, id), status_of(after, id));
        if a != b {
            if rank(b) > rank(a) {
                worse = true;
            }
            changes.push((id, a, b));
        }
        let codes = |r: &Report| -> BTreeMap<String, (String, &'static str)> {
            r.checks
                .iter()
                .filter(|c| c.id == *id)
                .flat_map(|c| c.findings.iter().map(|f| (f.code.clone(), (f.message.clone(), f.severity.as_str()))))
                .collect()
        };
        let (fa, fb) = (codes(before), codes(after));
        for (code, (msg, sev)) in &fb {
            if !fa.contains_key(code) {
                added.push(DiffFinding { check: id.clone(), code: code.clone(), severity: sev, message: msg.clone() });
            }
        }
        for (code, (msg, sev)) in &fa {
            if !fb.contains_key(code) {
                removed.push(DiffFinding {
                    check: id.clone(),
                    code: code.clone(),
                    severity: sev,
                    message: msg.clone(),
                });
            }
        }
    }
    let facts = match (&before.node, &after.node) {
        (Some(a), Some(b)) => facts_changed(a, b),
        _ => Vec::new(),
    };
    let mut notes = Vec::new();
    if before.run.host.hostname != after.run.host.hostname {
        notes.push(msg(lang, "fleet.note-the-reports-come-from-different").to_string());
    }
    for (side, r) in [(msg(lang, "fleet.before"), before), (msg(lang, "fleet.after"), after)] {
        if r.node.is_none() {
            notes.push(messages::fill(
                lang,
                "fleet.diff-side-without-node",
                &[("side", side), ("version", &r.tool.version)],
            ));
        }
    }

    if format == FleetFormat::Json {
        fn side(r: &Report) -> DiffSide<'_> {
            DiffSide {
                hostname: &r.run.host.hostname,
                started_at: r.run.started_at,
                environment: &r.run.environment,
                tool_version: &r.tool.version,
                summary: &r.summary,
            }
        }
        let doc = DiffJson {
            kind: "pen-doctor-diff",
            before: side(before),
            after: side(after),
            worse,
            changes: changes.iter().map(|(id, a, b)| DiffChange { check: id, before: *a, after: *b }).collect(),
            added,
            removed,
            facts_changed: facts.into_iter().map(|(fact, before, after)| DiffFact { fact, before, after }).collect(),
            notes,
        };
        let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
        s.push('\n');
        return (s, worse);
    }

    let clean = |text: &str| if md_format { md(text) } else { t(text) };
    let mut out = String::new();
    let title = msg(lang, "fleet.pen-doctor-what-changed");
    if md_format {
        let _ = writeln!(out, "# {title}\n");
    } else {
        let _ = writeln!(out, "{title}\n");
    }
    let line = |r: &Report| {
        let s = &r.summary;
        format!(
            "{} {} ({}) — {} — {}",
            clean(&r.run.host.hostname),
            time_word(r.run.started_at, lang),
            clean(&r.run.environment),
            clean(&s.status),
            counts(s)
        )
    };
    let bullet = if md_format { "- " } else { "  " };
    let _ = writeln!(out, "{bullet}{}: {}", msg(lang, "fleet.before"), line(before));
    let _ = writeln!(out, "{bullet}{}: {}", msg(lang, "fleet.after"), line(after));
    for note in &notes {
        let _ = writeln!(out, "{bullet}{}", clean(note));
    }
    let heading = |out: &mut String, text: &str| {
        if md_format {
            let _ = writeln!(out, "\n## {text}\n");
        } else {
            let _ = writeln!(out, "\n{text}:");
        }
    };
    heading(&mut out, msg(lang, "fleet.checks-whose-status-changed"));
    if changes.is_empty() {
        let _ = writeln!(out, "{bullet}{}", msg(lang, "fleet.none-3"));
    }
    for (id, a, b) in changes {
        let show = |s: Option<Status>| s.map(|s| s.as_str()).unwrap_or("—");
        let arrow = format!("{} → {}", show(a), show(b));
        let arrow = match (color, rank(b).cmp(&rank(a))) {
            (true, std::cmp::Ordering::Greater) => arrow.red().bold().to_string(),
            (true, std::cmp::Ordering::Less) => arrow.green().bold().to_string(),
            _ => arrow,
        };
        let _ = writeln!(out, "{bullet}{}: {arrow}", clean(id));
    }
    let finding_line =
        |f: &DiffFinding| format!("{} {} [{}]: {}", clean(&f.check), f.code, f.severity, clean(&f.message));
    heading(&mut out, msg(lang, "fleet.findings-added"));
    if added.is_empty() {
        let _ = writeln!(out, "{bullet}{}", msg(lang, "fleet.none"));
    }
    for a in &added {
        let _ = writeln!(out, "{bullet}{}{}", if md_format { "" } else { "+ " }, finding_line(a));
    }
    heading(&mut out, msg(lang, "fleet.findings-removed"));
    if removed.is_empty() {
        let _ = writeln!(out, "{bullet}{}", msg(lang, "fleet.none"));
    }
    for r in &removed {
        let _ = writeln!(out, "{bullet}{}{}", if md_format { "" } else { "- " }, finding_line(r));
    }
    if !facts.is_empty() {
        heading(&mut out, msg(lang, "fleet.node-facts-that-changed"));
        for (fact, a, b) in &facts {
            let _ = writeln!(out, "{bullet}{fact}: {} → {}", clean(a), clean(b));
        }
    }
    (out, worse)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_diagnosis_names_the_consequences_of_a_node_failure() {
        let report = json!({"diagnosis": [
            {"code": "DNS_SERVFAIL", "check": "dns:tramita", "explains": ["dns:tramita", "tcp:tramita", "ntp"]},
            {"code": "X", "explains": "not a list"},
        ]});
        let explained = explained_by_diagnosis(&report);
        assert_eq!(explained.into_iter().collect::<Vec<_>>(), vec!["ntp", "tcp:tramita"]);
        assert!(explained_by_diagnosis(&json!({"diagnosis": null})).is_empty());
    }

    #[test]
    fn schema_versions_are_told_apart() {
        assert!(schema_supported(&json!({"schema_version": 1})).is_ok());
        let newer = schema_supported(&json!({"schema_version": 3, "tool": {"version": "2.0.0\u{1b}[1m"}})).unwrap_err();
        assert!(
            newer.starts_with(
                "schema_version 3 is not supported (a newer report format, written by pen-doctor 2.0.0\\x1b[1m)"
            ),
            "{newer}"
        );
        let older = schema_supported(&json!({"schema_version": 0})).unwrap_err();
        assert!(older.contains("an older report format") && older.contains("run the check again"), "{older}");
        assert_eq!(schema_supported(&json!({})).unwrap_err(), "not a pen-doctor report (no schema_version)");
    }

    #[test]
    fn fixes_follow_the_family_of_the_nodes() {
        let host = |family: &str, os: &str| HostInfo {
            hostname: String::new(),
            os: os.into(),
            os_family: family.into(),
            kernel: String::new(),
        };
        assert_eq!(family_of(&host("debian", "Debian GNU/Linux 12 (bookworm)")), OsFamily::Debian);
        assert_eq!(family_of(&host("rhel", "CentOS release 6.10 (Final)")), OsFamily::Rhel6);
        assert_eq!(family_of(&host("rhel", "CentOS Linux 7 (Core)")), OsFamily::Rhel7);
        assert_eq!(family_of(&host("rhel", "Rocky Linux 9.3 (Blue Onyx)")), OsFamily::Rhel8);
        assert_eq!(family_of(&host("other", "")), OsFamily::Other);
    }

    #[test]
    fn text_from_reports_is_inert_in_markdown_and_on_a_terminal() {
        assert_eq!(md("<b>x</b> | *y* `z`\n"), "\\<b\\>x\\</b\\> \\| \\*y\\* \\`z\\` ");
        assert_eq!(t("a\u{1b}[31mb"), "a\\x1b[31mb");
    }
}
