//! What each subcommand does: `check` (settings → plan → engine → report → renderer → output),
//! `explain`, `kb list|show`, `cert`, the fleet commands `merge` and `diff`, and the generated
//! `completions` and `man`. Returns the process exit code.

use crate::checks;
use crate::cli::{Cli, ColorArg, Command, FleetFormat, FormatArg, KbCommand, LangArg};
use crate::engine;
use crate::kb;
use crate::model::Lang;
use crate::output;
use crate::render;
use crate::report::model::Timestamp;
use crate::report::{self, RunMeta};
use crate::settings;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn lang_of(arg: Option<LangArg>) -> Lang {
    match arg {
        Some(LangArg::En) => Lang::En,
        _ => Lang::Pt,
    }
}

/// The OS family of `--os`, else this host's.
fn family_of(os: Option<crate::cli::OsArg>) -> crate::model::OsFamily {
    os.map(|o| o.family()).unwrap_or_else(|| crate::host::host_info().1)
}

/// The language of the command line's own words (help, man, completions): `--lang`, else the
/// locale.
fn ui_lang(arg: Option<LangArg>) -> Lang {
    match arg {
        Some(l) => lang_of(Some(l)),
        None => crate::ui::lang_of_locale(|k| std::env::var(k).ok()),
    }
}

/// Runs the command line; the value is the process exit code.
pub fn run(mut cli: Cli) -> i32 {
    // Before OpenSSL starts: a FIFO in OPENSSL_CONF would hang it with no deadline of ours.
    if let Err(e) = crate::hostfs::check_library_files() {
        if matches!(&cli.command, Command::Check(a) if a.format == Some(FormatArg::Nagios)) {
            println!("{}", render::nagios::unknown_line(&e));
            return 3;
        }
        eprintln!("pen-doctor: {e}");
        return 2;
    }
    if let Some(lang) = cli.lang {
        cli.command.default_lang(lang);
    }
    match cli.command {
        Command::Check(args) => check(*args),
        Command::Explain { code, lang, os } => explain(&code, lang_of(lang), family_of(os)),
        Command::Kb { command: KbCommand::List { codes }, lang } => kb_list(lang_of(lang), codes),
        Command::Kb { command: KbCommand::Show { id, os }, lang } => kb_show(&id, lang_of(lang), family_of(os)),
        Command::Cert(args) => cert(args),
        Command::Merge { reports, format, lang, color } => merge(&reports, format, lang_of(lang), color),
        Command::Diff { before, after, format, lang, color } => diff(&before, &after, format, lang_of(lang), color),
        Command::Render { report, format, lang, color, strict } => {
            crate::rerender::run(&report, format, lang, color, strict)
        }
        Command::Completions { shell, lang } => completions(shell, ui_lang(lang)),
        Command::Man { subcommand, lang } => man(subcommand.as_deref(), ui_lang(lang)),
    }
}

fn check(args: crate::cli::CheckArgs) -> i32 {
    let started = Instant::now();
    let started_at = Timestamp::now();
    let format_flag = args.format;
    let list = args.list;
    // Where --only/--skip came from, to blame the right place for an unknown entry.
    let selectors_from_flags = (args.only.is_some(), args.skip.is_some());
    let config = args.config.clone();
    let settings = match settings::build(args, std::io::stdout().is_terminal()) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            let nagios = crate::cli::nagios_requested(format_flag, config.as_deref());
            return crate::cli::usage_error(&e.to_string(), nagios);
        }
    };
    let nagios = settings.format == crate::model::Format::Nagios;
    let all = checks::all_checks(&settings);
    if list {
        return output::print(crate::selectors::list_text(&all, settings.lang).as_bytes(), 0, 2);
    }
    let lists = [
        ("only", settings.only.as_deref().unwrap_or_default(), selectors_from_flags.0),
        ("skip", &settings.skip[..], selectors_from_flags.1),
    ];
    for (name, entries, from_flag) in lists {
        let unknown = crate::selectors::unknown(entries, &all);
        if unknown.is_empty() {
            continue;
        }
        let place = match &config {
            Some(file) if !from_flag => format!("--config {}: {name}", file.display()),
            _ => format!("--{name}"),
        };
        return crate::cli::usage_error(
            &format!("{place}: {}", crate::selectors::unknown_message(&unknown, Some(&all))),
            nagios,
        );
    }
    if let Some(path) = &settings.output {
        if let Err(e) = output::check_destination(path) {
            return crate::cli::usage_error(&format!("--output {e}"), nagios);
        }
    }
    if let Some(path) = &settings.bundle {
        if let Err(e) = output::check_destination(path) {
            return crate::cli::usage_error(&format!("--bundle {e}"), nagios);
        }
        crate::bundle::prepare(&settings);
    }
    // The process ends by --deadline + 1 s whatever holds it.
    let _watchdog = crate::watchdog::arm(settings.started, settings.deadline, nagios);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            output::error_line(&format!("cannot start the runtime: {e}"));
            return 2;
        }
    };
    let (selected, dropped) = engine::select(all, settings.only.as_deref(), &settings.skip);
    let progress = crate::progress::Progress::on_tty(selected.len(), settings.lang);
    let on_done: engine::OnDone = match &progress {
        Some(p) => {
            let p = Arc::clone(p);
            Arc::new(move |_: &crate::model::CheckId| p.tick())
        }
        None => Arc::new(|_: &crate::model::CheckId| {}),
    };
    let mut executed = runtime.block_on(engine::run_observed(
        Arc::clone(&settings),
        selected,
        dropped,
        |c| kb::kb().severity(c),
        on_done,
    ));
    crate::correlate::correlate(&mut executed);
    report::accept(&mut executed, &settings.ignore);
    runtime.shutdown_background();
    if let Some(p) = progress {
        p.finish();
    }
    // Read before the report is built: secret-named values found in the files are masked there too.
    let gathered = settings.bundle.as_ref().map(|_| {
        let until = (started + settings.deadline).max(Instant::now() + Duration::from_millis(500));
        crate::bundle::gather(&settings, &executed, until)
    });
    let mut report = report::build(
        executed,
        RunMeta {
            started_at,
            duration_ms: started.elapsed().as_millis() as u64,
            environment: settings.env.as_str().to_string(),
            host: settings.host.clone(),
            lang: settings.lang,
            os_family: settings.os_family,
            discovered: report::discovered(&settings),
        },
    );
    // What this node tells the fleet rules of `pen-doctor merge`.
    report.node = Some(crate::fleet::facts::of_run(&report, settings.env_requested.map(|e| e.as_str())));
    let renderer = render::for_run(&settings);
    let bytes = renderer.render(&report);
    let code = renderer.exit_code(&report, settings.strict);
    // A device or FIFO gets what is left of --deadline (at least half a second) to take the report.
    let write_by = (started + settings.deadline).max(Instant::now() + Duration::from_millis(500));
    let judged = code;
    let code = deliver(&bytes, settings.output.as_deref(), write_by, code, nagios);
    // The report went to a file: on a terminal, one line says where and what it found.
    if let Some(path) = settings.output.as_deref().filter(|p| p.as_os_str() != "-") {
        if code == judged && std::io::stdout().is_terminal() && !nagios {
            println!("{}", render::human::written_line(&report, path));
        }
    }
    match (gathered, &settings.bundle) {
        (Some(g), Some(path)) => write_bundle(g, &report, &settings, path, code, nagios),
        _ => code,
    }
}

/// Writes the ticket bundle after the report; a bundle that cannot be written is said once and
/// makes the exit code 2 (Nagios: 3). On a terminal, one line says where it went.
fn write_bundle(
    g: crate::bundle::Gathered,
    report: &report::model::Report,
    settings: &settings::Settings,
    path: &std::path::Path,
    code: i32,
    nagios: bool,
) -> i32 {
    let write_by = Instant::now() + Duration::from_secs(5);
    match crate::bundle::write(g, report, settings.strict, path, write_by) {
        Ok(w) => {
            if std::io::stderr().is_terminal() {
                let line = crate::ui::text("bundle.written", settings.lang)
                    .replace("{path}", &path.display().to_string())
                    .replace("{files}", &w.files.to_string())
                    .replace("{tokens}", &w.tokens.to_string())
                    .replace("{left}", &w.left_out.to_string());
                output::error_line(&line);
            }
            code
        }
        Err(e) if nagios => {
            output::error_line(&e);
            3
        }
        Err(e) => {
            output::error_line(&e);
            2
        }
    }
}

/// Writes a report to stdout or `--output` and returns the exit code: `code` when written (or
/// when stdout's reader went away, quietly); after a write error said once, 2 (Nagios: 3, with
/// UNKNOWN on stdout when the report was meant for a file).
fn deliver(bytes: &[u8], path: Option<&std::path::Path>, write_by: Instant, code: i32, nagios: bool) -> i32 {
    let to_file = path.is_some_and(|p| p.as_os_str() != "-");
    match output::write(bytes, path, write_by) {
        Ok(()) => code,
        Err(e) if !to_file && output::reader_gone(&e) => code,
        Err(e) if !to_file => {
            output::error_line(&format!("cannot write to stdout: {e}"));
            if nagios {
                3
            } else {
                2
            }
        }
        Err(e) => crate::cli::usage_error(&format!("cannot write the report: {e}"), nagios),
    }
}

fn fleet_color(color: Option<ColorArg>) -> bool {
    settings::resolve_color(color, std::io::stdout().is_terminal())
}

fn merge(paths: &[std::path::PathBuf], format: Option<FleetFormat>, lang: Lang, color: Option<ColorArg>) -> i32 {
    let nodes = match crate::fleet::load_nodes(paths) {
        Ok(n) => n,
        Err(e) => {
            output::error_line(&e.to_string());
            return 2;
        }
    };
    let (text, failed) = crate::fleet::merge(&nodes, format.unwrap_or(FleetFormat::Human), lang, fleet_color(color));
    output::print(text.as_bytes(), i32::from(failed), 2)
}

fn diff(
    before: &std::path::Path,
    after: &std::path::Path,
    format: Option<FleetFormat>,
    lang: Lang,
    color: Option<ColorArg>,
) -> i32 {
    let (a, b) = match (crate::fleet::load(before), crate::fleet::load(after)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            output::error_line(&e.to_string());
            return 2;
        }
    };
    let (text, worse) = crate::fleet::diff(&a, &b, format.unwrap_or(FleetFormat::Human), lang, fleet_color(color));
    output::print(text.as_bytes(), i32::from(worse), 2)
}

fn completions(shell: clap_complete::Shell, lang: Lang) -> i32 {
    output::print(&crate::ui::completion_script(shell, lang), 0, 2)
}

fn man(subcommand: Option<&str>, lang: Lang) -> i32 {
    match crate::ui::man_page(subcommand, lang) {
        Ok(page) => output::print(&page, 0, 2),
        Err(e) => {
            output::error_line(&e);
            2
        }
    }
}

/// `pen-doctor cert FILE`: one `cert` check on the file, its facts, then the report as a run's.
fn cert(args: crate::cli::CertArgs) -> i32 {
    use crate::checks::client_cert::{facts, inspect, Which};
    use crate::cli::FormatArg;
    let started = Instant::now();
    let password = match (&args.password_env, &args.password_file) {
        (Some(var), _) => settings::password_from_env("--password-env", var).map(Some),
        (None, Some(file)) => settings::password_from_file("--password-file", file).map(Some),
        (None, None) => Ok(None),
    };
    let nagios = args.format == Some(FormatArg::Nagios);
    let password = match password {
        Ok(p) => p,
        Err(e) => return crate::cli::usage_error(&e.to_string(), nagios),
    };
    let mut outcome = inspect(Some(&args.file), password.as_ref(), Which::Client, true);
    report::clean::outcome(&mut outcome);
    let lang = lang_of(args.lang);
    let facts = facts(&outcome.evidence, &outcome.measures);
    let color = settings::resolve_color(args.color, std::io::stdout().is_terminal());
    let status = outcome.resolved_status(|c| kb::kb().severity(c));
    let (host, os_family) = crate::host::host_info();
    let executed = engine::Executed {
        id: crate::model::CheckId::fixed(crate::model::Kind::Cert, "file").to_string(),
        kind: "cert",
        target: None,
        status,
        outcome,
        duration: started.elapsed(),
    };
    let report = report::build(
        vec![executed],
        RunMeta {
            started_at: Timestamp::now(),
            duration_ms: started.elapsed().as_millis() as u64,
            environment: "-".into(),
            host,
            lang,
            os_family,
            discovered: Default::default(),
        },
    );
    let format = args.format.unwrap_or(FormatArg::Human);
    let mut bytes = render::cert::facts(facts, format.into(), lang);
    let renderer = render::renderer(format.into(), color);
    bytes.extend(renderer.render(&report));
    let code = renderer.exit_code(&report, false);
    deliver(&bytes, None, Instant::now(), code, nagios)
}

fn explain(code: &str, lang: Lang, family: crate::model::OsFamily) -> i32 {
    let kb = kb::kb();
    let wanted = code.trim().to_ascii_uppercase().replace(['-', ' '], "_");
    let Some(c) = kb.code(&wanted) else {
        let mut message = format!("unknown code {} (see `pen-doctor kb list --codes`)", crate::flagvalue::quote(code));
        if kb.article(code.trim()).is_some() {
            message.push_str(&format!("; {} is an article: `pen-doctor kb show {}`", code.trim(), code.trim()));
        }
        let near = crate::flagvalue::nearest(&wanted, kb.codes.iter().map(|c| c.code.as_str()));
        if !near.is_empty() {
            message.push_str(&format!("; did you mean {}?", near.join(", ")));
        }
        output::error_line(&message);
        return 2;
    };
    let link = |id: &str| kb.article(id).map(|a| render::kb_text::Link { title: a.title.clone(), url: a.url.clone() });
    let view = render::kb_text::Explain {
        code: c.code.clone(),
        severity: c.severity.as_str().to_string(),
        title: c.title.get(lang).to_string(),
        explanation: c.explanation.get(lang).to_string(),
        article: c.article.clone(),
        cause: c.cause.map(|n| (n, kb.cause_title(&c.article, n, lang).unwrap_or_default())),
        link: link(&c.article),
        routes: kb
            .routes
            .iter()
            .filter(|r| r.covers(&c.code) && r.article != c.article)
            .map(|r| (r.target.clone(), r.article.clone(), link(&r.article)))
            .collect(),
        os: os_name(family, lang),
        fix: fix_steps(c, lang, family),
    };
    output::print(render::kb_text::explain(&view, lang).as_bytes(), 0, 2)
}

/// A code's fix steps for an OS family; without a run there are no values, so each parameter
/// shows as `<name>`.
fn fix_steps(c: &kb::Code, lang: Lang, family: crate::model::OsFamily) -> Vec<String> {
    let names: std::collections::BTreeMap<&str, String> =
        c.params.iter().map(|p| (p.as_str(), format!("<{p}>"))).collect();
    let none = Default::default();
    kb::kb().fix(c, lang, family).iter().map(|s| report::fill_discovered(&kb::fill(s, &names), &none, lang)).collect()
}

/// The name of an OS family for people.
fn os_name(family: crate::model::OsFamily, lang: Lang) -> String {
    let key = family.fix_key().unwrap_or("other");
    crate::ui::text(&format!("os.{key}"), lang)
}

fn kb_list(lang: Lang, codes: bool) -> i32 {
    let kb = kb::kb();
    let out = if codes {
        let lines: Vec<_> = kb.codes.iter().map(|c| code_line(c, lang, Vec::new())).collect();
        render::kb_text::code_list(&lines)
    } else {
        let articles: Vec<_> =
            kb.articles.iter().map(|a| (a.id.clone(), a.title.clone(), kb.codes_of(&a.id).len())).collect();
        render::kb_text::article_list(&articles, lang)
    };
    output::print(out.as_bytes(), 0, 2)
}

/// A finding code as the KB's listings show it, with its fix steps when given.
fn code_line(c: &kb::Code, lang: Lang, fix: Vec<String>) -> render::kb_text::CodeLine {
    render::kb_text::CodeLine {
        code: c.code.clone(),
        severity: c.severity.as_str().to_string(),
        article: c.article.clone(),
        cause: c.cause,
        title: c.title.get(lang).to_string(),
        fix,
    }
}

fn kb_show(id: &str, lang: Lang, family: crate::model::OsFamily) -> i32 {
    let kb = kb::kb();
    let Some(a) = kb.article(id) else {
        let mut message = format!("unknown article {} (see `pen-doctor kb list`)", crate::flagvalue::quote(id));
        let wanted = id.trim().to_ascii_uppercase();
        if kb.code(&wanted.replace(['-', ' '], "_")).is_some() {
            message.push_str(&format!("; {wanted} is a finding code: `pen-doctor explain {wanted}`"));
        } else {
            let near = crate::flagvalue::nearest(&wanted, kb.articles.iter().map(|a| a.id.as_str()));
            if !near.is_empty() {
                message.push_str(&format!("; did you mean {}?", near.join(", ")));
            }
        }
        output::error_line(&message);
        return 2;
    };
    let view = render::kb_text::Article {
        id: a.id.clone(),
        title: a.title.clone(),
        url: a.url.clone(),
        references: a.references.clone(),
        summary: a.summary.get(lang).to_string(),
        causes: a.causes.iter().map(|c| (c.number, c.title.get(lang).to_string())).collect(),
        os: os_name(family, lang),
        codes: kb.codes_of(&a.id).into_iter().map(|c| code_line(c, lang, fix_steps(c, lang, family))).collect(),
        reply_template: a.reply_template.get(lang).to_string(),
    };
    output::print(render::kb_text::article(&view, lang).as_bytes(), 0, 2)
}
