//! What `--only` and `--skip` may name — a check name (`tls`), an id of this run
//! (`tls:tramita`) or a target (`tramita`) — the usage error for an entry that names nothing,
//! and the list `pen-doctor check --list` prints.

use crate::checks::Check;
use crate::kb;
use crate::messages::msg;
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

/// The one-line message for unknown entries: what was given, the closest valid name, and the
/// valid names (the ids only when the run is planned).
pub fn unknown_message(unknown: &[String], checks: Option<&[Box<dyn Check>]>) -> String {
    let ids: Vec<String> = checks.map(|c| c.iter().map(|c| c.id().to_string()).collect()).unwrap_or_default();
    crate::flagvalue::unknown_selectors(unknown, &ids)
}

/// The text of `pen-doctor check --list`: every check name with what it verifies, the ids this
/// run would have, and the targets.
pub fn list_text(checks: &[Box<dyn Check>], lang: Lang) -> String {
    let kb = kb::kb();
    let mut out = String::new();
    let _ = writeln!(out, "{}", msg(lang, "check-list.checks"));
    for kind in CATALOG {
        let about = kb.summaries.get(*kind).map(|s| s.about.get(lang).to_string()).unwrap_or_default();
        let _ = writeln!(out, "  {kind:<12} {about}");
    }
    let _ = writeln!(out, "\n{}", msg(lang, "check-list.ids"));
    for c in checks {
        let _ = writeln!(out, "  {}", c.id());
    }
    let _ = writeln!(out, "\n{}", msg(lang, "check-list.targets"));
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
        assert!(unknown_message(&["TLS".to_string()], None).contains("did you mean 'tls'"));
    }
}
