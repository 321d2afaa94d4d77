//! `pen-doctor render REPORT.json`: a saved JSON report rendered again in any format. The file is
//! read like `merge` reads it (bounded, `schema_version` checked, texts cleaned as a peer's).
//! The report's language is recognised from its findings; asked for another one, every finding's
//! message and fix steps are written again from the knowledge base with the saved parameters
//! (the one-line summaries of passing checks keep the words they were saved with).

use crate::cli::{ColorArg, FormatArg, LangArg};
use crate::kb;
use crate::messages::msg;
use crate::model::Lang;
use crate::model::OsFamily;
use crate::output;
use crate::render;
use crate::report::model::Report;
use std::io::IsTerminal;
use std::path::Path;

/// The largest report read back.
const MAX_REPORT: u64 = 4 * 1024 * 1024;

/// Runs `render`; the exit code is the report's, as `check` would have given it.
pub fn run(
    path: &Path,
    format: Option<FormatArg>,
    lang: Option<LangArg>,
    color: Option<ColorArg>,
    strict: bool,
) -> i32 {
    let format = format.unwrap_or(FormatArg::Human);
    let nagios = format == FormatArg::Nagios;
    // Only a regular file of a report's size is read (a FIFO would never end, a device never
    // stop).
    let refused = match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => Some("not a regular file".to_string()),
        Ok(m) if m.len() > MAX_REPORT => {
            Some(format!("too large ({} bytes; a report is at most {MAX_REPORT})", m.len()))
        }
        _ => None,
    };
    if let Some(why) = refused {
        return crate::cli::usage_error(&format!("{}: {why}", path.display()), nagios);
    }
    let mut report = match crate::fleet::load(path) {
        Ok(r) => r,
        Err(e) => return crate::cli::usage_error(&e, nagios),
    };
    let saved = saved_lang(&report);
    let wanted = match lang {
        Some(LangArg::En) => Lang::En,
        Some(LangArg::Pt) => Lang::Pt,
        None => saved,
    };
    report.os_family = family(&report);
    report.lang = wanted;
    if wanted != saved {
        translate(&mut report, saved, wanted);
    }
    // The diagnosis in the wanted language (and for reports saved before it existed).
    report.diagnosis = crate::report::diagnosis::diagnose(&mut report.checks, wanted);
    crate::report::fill_kb_words(&mut report);
    let color = crate::settings::resolve_color(color, std::io::stdout().is_terminal());
    let renderer = render::renderer_for(format.into(), color, strict);
    let bytes = renderer.render(&report);
    output::print(&bytes, renderer.exit_code(&report, strict), renderer.unusable_code())
}

/// The OS family the report's fixes were written for, from its host facts.
fn family(report: &Report) -> OsFamily {
    let host = &report.run.host;
    match host.os_family.as_str() {
        "debian" => OsFamily::Debian,
        "rhel" => {
            let major =
                host.os.split(|c: char| !c.is_ascii_digit()).find(|w| !w.is_empty()).and_then(|w| w.parse().ok());
            match major {
                Some(0..=6) => OsFamily::Rhel6,
                Some(7) => OsFamily::Rhel7,
                _ => OsFamily::Rhel8,
            }
        }
        _ => OsFamily::Other,
    }
}

/// The language the report was written in: the one whose message template, filled with a
/// finding's saved parameters, gives the saved message; Portuguese when nothing tells.
fn saved_lang(report: &Report) -> Lang {
    let kb = kb::kb();
    for f in report.checks.iter().flat_map(|c| &c.findings) {
        let Some(code) = kb.code(&f.code) else { continue };
        for lang in [Lang::En, Lang::Pt] {
            if crate::report::phrases::singular(
                &kb::fill(code.message.get(lang), &crate::report::phrases::params(&f.params, lang)),
                lang,
            ) == f.message
                && code.message.pt != code.message.en
            {
                return lang;
            }
        }
    }
    let skip_en = report.checks.iter().any(|c| c.summary.starts_with(skip_prefix(Lang::En)));
    if skip_en {
        Lang::En
    } else {
        Lang::Pt
    }
}

/// The words before the reason in the summary of a check whose prerequisite was not met.
fn skip_prefix(lang: Lang) -> &'static str {
    msg(lang, "report.prerequisite-not-met").split("{reason}").next().unwrap_or_default()
}

/// Writes every finding's message and fix steps again in `to`, and the summaries made of them.
fn translate(report: &mut Report, from: Lang, to: Lang) {
    let kb = kb::kb();
    let family = report.os_family;
    for check in &mut report.checks {
        let first_message = check.findings.first().map(|f| f.message.clone());
        for f in &mut check.findings {
            let Some(code) = kb.code(&f.code) else { continue };
            let shown = crate::report::phrases::params(&f.params, to);
            f.message = crate::report::phrases::singular(&kb::fill(code.message.get(to), &shown), to);
            let discovered = &report.run.discovered;
            f.fix = kb
                .fix(code, to, family)
                .iter()
                .map(|s| crate::report::fill_discovered(&kb::fill(s, &f.params), discovered, to))
                .collect();
        }
        if first_message.as_deref() == Some(check.summary.as_str()) {
            if let Some(f) = check.findings.first() {
                check.summary = f.message.clone();
            }
        } else if let Some(rest) = check.summary.strip_prefix(skip_prefix(from)) {
            let why = check.skipped_because.as_deref().map(|r| crate::report::skip_reason(r, to));
            let why = why.as_deref().unwrap_or(rest);
            check.summary = crate::messages::fill(to, "report.prerequisite-not-met", &[("reason", why)]);
        }
    }
    // The texts came from the knowledge base and the saved parameters: cleaned like the rest.
    crate::report::clean::report(report);
}
