//! Reports of many nodes and many runs: `merge` (one table of nodes × checks, and the findings
//! that differ between nodes — the manual requires NTP and the trust store on every node) and
//! `diff` (what changed between two runs). Both read JSON reports back (schema version 1).

use crate::cli::FleetFormat;
use crate::kb::Lang;
use crate::render::word;
use crate::report::model::{Report, Status};
use colored::Colorize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::Path;

/// A report read back from a file, with the name its node is shown under.
pub struct NodeReport {
    pub node: String,
    pub report: Report,
}

/// Reads a JSON report; the error is one line naming the file and what is wrong.
pub fn load(path: &Path) -> Result<Report, String> {
    let shown = path.display();
    let text = crate::hostfs::read_file(path, crate::hostfs::Kind::Report)
        .map_err(|e| format!("{shown}: cannot read: {}", e.reason))?;
    let value: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|e| format!("{shown}: not a JSON report (`pen-doctor check --format json`): {e}"))?;
    match value.get("schema_version").and_then(|v| v.as_u64()) {
        Some(1) => {}
        Some(n) => return Err(format!("{shown}: schema_version {n} is not supported (this pen-doctor reads 1)")),
        None => return Err(format!("{shown}: not a pen-doctor report (no schema_version)")),
    }
    let mut report: Report =
        serde_json::from_value(value).map_err(|e| format!("{shown}: not a pen-doctor report: {e}"))?;
    // The file came from elsewhere: its texts are cleaned like a peer's before they are shown.
    crate::report::clean::report(&mut report);
    Ok(report)
}

/// The most report bytes `merge` reads in all (each report is at most 2 MiB).
pub const MAX_FLEET_BYTES: u64 = 16 * 1024 * 1024;

/// Loads the reports and names each node by its hostname (made unique with the file name).
pub fn load_nodes(paths: &[std::path::PathBuf]) -> Result<Vec<NodeReport>, String> {
    let mut nodes: Vec<NodeReport> = Vec::new();
    let mut total = 0;
    for p in paths {
        let report = load(p)?;
        // Read already, so a regular file of at most 2 MiB: its size is what it cost.
        total += std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        if total > MAX_FLEET_BYTES {
            return Err(format!(
                "{}: the reports read so far take more than {} MiB in all; merge fewer at a time",
                p.display(),
                MAX_FLEET_BYTES >> 20
            ));
        }
        let mut node = report.run.host.hostname.clone();
        if node.is_empty() || nodes.iter().any(|n| n.node == node) {
            let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            node = if node.is_empty() { stem } else { format!("{node} ({stem})") };
        }
        nodes.push(NodeReport { node, report });
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

/// A finding seen on some nodes: (check id, code) → nodes, with one message as an example.
struct Seen {
    nodes: BTreeSet<usize>,
    severity: &'static str,
    message: String,
}

/// The result of `merge`: the rendered text and whether any node has a failure.
pub fn merge(nodes: &[NodeReport], format: FleetFormat, lang: Lang, color: bool) -> (String, bool) {
    let ids = check_ids(nodes.iter().map(|n| &n.report));
    let md = format == FleetFormat::Markdown;
    let color = color && !md;
    let mut out = String::new();
    let title = word(lang, "pen-doctor — frota", "pen-doctor — fleet");
    if md {
        let _ = writeln!(out, "# {title}\n");
    } else {
        let _ = writeln!(out, "{title}\n");
    }

    // One line per node.
    if md {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |\n|---|---|---|---|",
            word(lang, "Nó", "Node"),
            word(lang, "Ambiente", "Environment"),
            word(lang, "Execução", "Run"),
            word(lang, "Resultado", "Result")
        );
    }
    for n in nodes {
        let r = &n.report;
        let s = &r.summary;
        let counts = format!("{} ok, {} warn, {} fail, {} skip, {} error", s.ok, s.warn, s.fail, s.skip, s.error);
        if md {
            let _ = writeln!(
                out,
                "| {} | {} | {} | **{}** — {counts} |",
                n.node.replace('|', "\\|"),
                r.run.environment,
                r.run.started_at,
                s.status
            );
        } else {
            let _ = writeln!(
                out,
                "  {:<20} {:<13} {}  {:<4} {counts}",
                n.node, r.run.environment, r.run.started_at, s.status
            );
        }
    }
    out.push('\n');

    // The table: one row per check, one column per node.
    if md {
        let _ = write!(out, "| {} |", word(lang, "Verificação", "Check"));
        for n in nodes {
            let _ = write!(out, " {} |", n.node.replace('|', "\\|"));
        }
        out.push_str("\n|---|");
        for _ in nodes {
            out.push_str(":---:|");
        }
        out.push('\n');
        for id in &ids {
            let _ = write!(out, "| `{id}` |");
            for n in nodes {
                let st = status_of(&n.report, id);
                let _ = write!(out, " {} {} |", symbol(st), st.map(|s| s.as_str()).unwrap_or(""));
            }
            out.push('\n');
        }
    } else {
        let width = ids.iter().map(|i| i.chars().count()).max().unwrap_or(5).max(5);
        let cols: Vec<usize> = nodes.iter().map(|n| n.node.chars().count().max(1)).collect();
        let _ = write!(out, "{:<width$}", word(lang, "verificação", "check"));
        for n in nodes {
            let _ = write!(out, "  {}", n.node);
        }
        out.push('\n');
        for id in &ids {
            let _ = write!(out, "{id:<width$}");
            for (n, w) in nodes.iter().zip(&cols) {
                let st = status_of(&n.report, id);
                let pad = " ".repeat(w.saturating_sub(1));
                let _ = write!(out, "  {}{pad}", paint(symbol(st), st, color));
            }
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "\n{}: ✔ ok  ⚠ {}  ✘ {}  ‼ {}  – {}  · {}",
            word(lang, "legenda", "legend"),
            word(lang, "aviso", "warn"),
            word(lang, "falha", "fail"),
            word(lang, "erro", "error"),
            word(lang, "pulada", "skipped"),
            word(lang, "não executada", "not run")
        );
    }

    // Findings by (check, code), and on which nodes they appear.
    let mut seen: BTreeMap<(usize, String, String), Seen> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        for c in &n.report.checks {
            let rank = ids.iter().position(|x| *x == c.id).unwrap_or(usize::MAX);
            for f in &c.findings {
                let e = seen.entry((rank, c.id.clone(), f.code.clone())).or_insert_with(|| Seen {
                    nodes: BTreeSet::new(),
                    severity: f.severity.as_str(),
                    message: f.message.clone(),
                });
                e.nodes.insert(i);
            }
        }
    }
    let ran = |id: &str| -> BTreeSet<usize> {
        nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| matches!(status_of(&n.report, id), Some(s) if s != Status::Skip))
            .map(|(i, _)| i)
            .collect()
    };
    let names = |set: &BTreeSet<usize>| -> String {
        set.iter().map(|&i| nodes[i].node.as_str()).collect::<Vec<_>>().join(", ")
    };
    let all: BTreeSet<usize> = (0..nodes.len()).collect();
    let mut differ = Vec::new();
    let mut everywhere = Vec::new();
    for ((_, id, code), s) in &seen {
        if s.nodes == all {
            everywhere.push((id, code, s));
        } else {
            let ran_on = ran(id);
            let without: BTreeSet<usize> = ran_on.difference(&s.nodes).copied().collect();
            let not_run: BTreeSet<usize> = all.difference(&ran_on).filter(|i| !s.nodes.contains(i)).copied().collect();
            differ.push((id, code, s, without, not_run));
        }
    }
    // Checks whose status differs although no finding tells them apart (e.g. an error).
    let mut status_differs = Vec::new();
    for id in &ids {
        let statuses: BTreeSet<Status> = nodes.iter().filter_map(|n| status_of(&n.report, id)).collect();
        if statuses.len() > 1 && !differ.iter().any(|(d, _, _, _, _)| *d == id) {
            status_differs.push(id);
        }
    }
    let heading = |out: &mut String, text: &str| {
        if md {
            let _ = writeln!(out, "\n## {text}\n");
        } else {
            let _ = writeln!(out, "\n{text}:");
        }
    };
    heading(&mut out, word(lang, "Achados que diferem entre os nós", "Findings that differ between nodes"));
    if differ.is_empty() && status_differs.is_empty() {
        let _ = writeln!(out, "{}", word(lang, "  nenhum", "  none"));
    }
    for (id, code, s, without, not_run) in &differ {
        let bullet = if md { "-" } else { " " };
        let mut line = format!(
            "{bullet} {} {} [{}] — {}: {}",
            if md { format!("`{id}`") } else { id.to_string() },
            if md { format!("`{code}`") } else { code.to_string() },
            s.severity,
            word(lang, "em", "on"),
            names(&s.nodes),
        );
        if !without.is_empty() {
            let _ = write!(line, "; {}: {}", word(lang, "não em", "not on"), names(without));
        }
        if !not_run.is_empty() {
            let _ = write!(line, "; {}: {}", word(lang, "não verificado em", "not checked on"), names(not_run));
        }
        let _ = writeln!(out, "{line}");
        let _ = writeln!(out, "{}  {}", if md { "" } else { "  " }, s.message);
    }
    for id in status_differs {
        let per: Vec<String> = nodes
            .iter()
            .filter_map(|n| status_of(&n.report, id).map(|st| format!("{} {}", n.node, st.as_str())))
            .collect();
        let bullet = if md { "-" } else { " " };
        let _ = writeln!(out, "{bullet} {id}: {}", per.join(", "));
    }
    if !everywhere.is_empty() {
        heading(&mut out, word(lang, "Achados em todos os nós", "Findings on every node"));
        for (id, code, s) in everywhere {
            let bullet = if md { "-" } else { " " };
            let _ = writeln!(out, "{bullet} {id} {code} [{}]: {}", s.severity, s.message);
        }
    }
    let failed = nodes.iter().any(|n| n.report.summary.fail + n.report.summary.error > 0);
    (out, failed)
}

/// The result of `diff`: the rendered text and whether a check got worse.
pub fn diff(before: &Report, after: &Report, format: FleetFormat, lang: Lang, color: bool) -> (String, bool) {
    let md = format == FleetFormat::Markdown;
    let color = color && !md;
    let mut out = String::new();
    let title = word(lang, "pen-doctor — o que mudou", "pen-doctor — what changed");
    if md {
        let _ = writeln!(out, "# {title}\n");
    } else {
        let _ = writeln!(out, "{title}\n");
    }
    let line = |r: &Report| {
        let s = &r.summary;
        format!(
            "{} {} ({}) — {} — {} ok, {} warn, {} fail, {} skip, {} error",
            r.run.host.hostname, r.run.started_at, r.run.environment, s.status, s.ok, s.warn, s.fail, s.skip, s.error
        )
    };
    let bullet = if md { "- " } else { "  " };
    let _ = writeln!(out, "{bullet}{}: {}", word(lang, "antes", "before"), line(before));
    let _ = writeln!(out, "{bullet}{}: {}", word(lang, "depois", "after"), line(after));
    if before.run.host.hostname != after.run.host.hostname {
        let _ = writeln!(
            out,
            "{bullet}{}",
            word(lang, "atenção: os relatórios são de hosts diferentes", "note: the reports come from different hosts")
        );
    }
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
                added.push(format!("{id} {code} [{sev}]: {msg}"));
            }
        }
        for (code, (msg, sev)) in &fa {
            if !fb.contains_key(code) {
                removed.push(format!("{id} {code} [{sev}]: {msg}"));
            }
        }
    }
    let heading = |out: &mut String, text: &str| {
        if md {
            let _ = writeln!(out, "\n## {text}\n");
        } else {
            let _ = writeln!(out, "\n{text}:");
        }
    };
    heading(&mut out, word(lang, "Verificações que mudaram", "Checks whose status changed"));
    if changes.is_empty() {
        let _ = writeln!(out, "{bullet}{}", word(lang, "nenhuma", "none"));
    }
    for (id, a, b) in changes {
        let show = |s: Option<Status>| s.map(|s| s.as_str()).unwrap_or("—");
        let arrow = format!("{} → {}", show(a), show(b));
        let arrow = match (color, rank(b).cmp(&rank(a))) {
            (true, std::cmp::Ordering::Greater) => arrow.red().bold().to_string(),
            (true, std::cmp::Ordering::Less) => arrow.green().bold().to_string(),
            _ => arrow,
        };
        let _ = writeln!(out, "{bullet}{id}: {arrow}");
    }
    heading(&mut out, word(lang, "Achados novos", "Findings added"));
    if added.is_empty() {
        let _ = writeln!(out, "{bullet}{}", word(lang, "nenhum", "none"));
    }
    for a in added {
        let _ = writeln!(out, "{bullet}{}{a}", if md { "" } else { "+ " });
    }
    heading(&mut out, word(lang, "Achados resolvidos", "Findings removed"));
    if removed.is_empty() {
        let _ = writeln!(out, "{bullet}{}", word(lang, "nenhum", "none"));
    }
    for r in removed {
        let _ = writeln!(out, "{bullet}{}{r}", if md { "" } else { "- " });
    }
    (out, worse)
}
