//! What `--only` and `--skip` may name — a check name (`tls`), an id of this run
//! (`tls:tramita`) or a target (`tramita`) — the usage error for an entry that names nothing,
//! and the list `pen-doctor check --list` prints.

use crate::checks::Check;
use crate::kb;
use crate::model::Lang;
use crate::model::CATALOG;
use crate::targets::TARGET_NAMES;
use std::fmt::Write;

/// The entries that name neither a check, an id of `checks` nor a target.
pub fn unknown(entries: &[String], checks: &[Box<dyn Check>]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e.trim())
        .filter(|e| !(CATALOG.contains(e) || TARGET_NAMES.contains(e) || checks.iter().any(|c| c.id() == *e)))
        .map(str::to_string)
        .collect()
}

/// Edit distance counting a swap of two neighbours as one edit (`tsl` is one from `tls`),
/// for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The one-line message for unknown entries: what was given, the closest valid name, and the
/// valid names (the ids only when the run is planned).
pub fn unknown_message(unknown: &[String], checks: Option<&[Box<dyn Check>]>) -> String {
    let ids: Vec<String> = checks.map(|c| c.iter().map(|c| c.id()).collect()).unwrap_or_default();
    let mut valid: Vec<&str> = CATALOG.to_vec();
    valid.extend(TARGET_NAMES);
    valid.extend(ids.iter().map(String::as_str));
    let shown: Vec<String> = unknown.iter().take(5).map(|u| crate::flagvalue::quote(u)).collect();
    let mut msg = format!("unknown check {}", shown.join(", "));
    if unknown.len() > 5 {
        let _ = write!(msg, " and {} more", unknown.len() - 5);
    }
    if let [one] = unknown {
        if one.chars().count() > 64 {
            return msg + &valid_names(&ids);
        }
        let lower = one.to_lowercase();
        let best = valid.iter().map(|v| (distance(&lower, v), *v)).min();
        if let Some((_, v)) = best.filter(|(d, _)| *d <= 1.max(one.chars().count() / 3)) {
            let _ = write!(msg, " (did you mean '{v}'?)");
        }
    }
    msg + &valid_names(&ids)
}

fn valid_names(ids: &[String]) -> String {
    let mut msg = format!("; valid: checks {}; targets {}", CATALOG.join(", "), TARGET_NAMES.join(", "));
    if !ids.is_empty() {
        let _ = write!(msg, "; ids of this run {}", ids.join(", "));
    }
    msg.push_str(" (see `pen-doctor check --list`)");
    msg
}

/// The text of `pen-doctor check --list`: every check name with what it verifies, the ids this
/// run would have, and the targets.
pub fn list_text(checks: &[Box<dyn Check>], lang: Lang) -> String {
    let pt = lang == Lang::Pt;
    let kb = kb::kb();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        if pt {
            "Verificações (--only e --skip aceitam o nome, o id ou o alvo):"
        } else {
            "Checks (--only and --skip take the name, the id or the target):"
        }
    );
    for kind in CATALOG {
        let about = kb.summaries.get(*kind).map(|s| s.about.get(lang).to_string()).unwrap_or_default();
        let _ = writeln!(out, "  {kind:<12} {about}");
    }
    let _ = writeln!(out, "\n{}", if pt { "Ids desta execução:" } else { "Ids of this run:" });
    for c in checks {
        let _ = writeln!(out, "  {}", c.id());
    }
    let _ = writeln!(out, "\n{}", if pt { "Alvos:" } else { "Targets:" });
    for t in TARGET_NAMES {
        let _ = writeln!(out, "  {t}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_name() {
        let m = unknown_message(&["tsl".to_string()], None);
        assert!(m.contains("'tsl'") && m.contains("did you mean 'tls'"), "{m}");
        assert!(!m.contains('\n'));
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("tsl", "tls"), 1);
        assert!(unknown_message(&["TLS".to_string()], None).contains("did you mean 'tls'"));
    }
}
