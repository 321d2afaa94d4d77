//! What each subcommand does: `check` (settings → plan → engine → report → renderer → output),
//! `explain`, `kb list|show`, `cert`, the fleet commands `merge` and `diff`, and the generated
//! `completions` and `man`. Returns the process exit code.

use crate::checks;
use crate::cli::{Cli, ColorArg, Command, FleetFormat, FormatArg, KbCommand, LangArg};
use crate::engine;
use crate::kb::{self, Lang};
use crate::render;
use crate::report::{self, RunMeta};
use crate::settings;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Instant;

fn lang_of(arg: Option<LangArg>) -> Lang {
    match arg {
        Some(LangArg::En) => Lang::En,
        _ => Lang::Pt,
    }
}

/// Runs the command line; the value is the process exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Check(args) => check(*args),
        Command::Explain { code, lang } => explain(&code, lang_of(lang)),
        Command::Kb { command: KbCommand::List, lang } => kb_list(lang_of(lang)),
        Command::Kb { command: KbCommand::Show { id }, lang } => kb_show(&id, lang_of(lang)),
        Command::Cert(args) => cert(args),
        Command::Merge { reports, format, lang, color } => merge(&reports, format, lang_of(lang), color),
        Command::Diff { before, after, format, lang, color } => diff(&before, &after, format, lang_of(lang), color),
        Command::Completions { shell } => completions(shell),
        Command::Man { subcommand } => man(subcommand.as_deref()),
    }
}

fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn check(args: crate::cli::CheckArgs) -> i32 {
    let started = Instant::now();
    let started_at = now_rfc3339();
    let nagios = args.format == Some(FormatArg::Nagios);
    let settings = match settings::build(args, std::io::stdout().is_terminal()) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            if nagios {
                // The plugin convention: a check that cannot run is UNKNOWN, on stdout.
                println!("{}", render::nagios::unknown_line(&e.to_string()));
                return 3;
            }
            eprintln!("pen-doctor: {e}");
            return 2;
        }
    };
    // The process ends by --deadline + 1 s whatever holds it.
    let _watchdog = crate::watchdog::arm(settings.started, settings.deadline, nagios);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("pen-doctor: cannot start the runtime: {e}");
            return 2;
        }
    };
    let all = checks::all_checks(&settings);
    let (selected, dropped) = engine::select(all, settings.only.as_deref(), &settings.skip);
    let progress = crate::progress::Progress::on_tty(selected.len(), settings.lang);
    let on_done: engine::OnDone = match &progress {
        Some(p) => {
            let p = Arc::clone(p);
            Arc::new(move |_: &str| p.tick())
        }
        None => Arc::new(|_: &str| {}),
    };
    let mut executed = runtime.block_on(engine::run_observed(
        Arc::clone(&settings),
        selected,
        dropped,
        |c| kb::kb().severity(c),
        on_done,
    ));
    crate::correlate::correlate(&mut executed);
    runtime.shutdown_background();
    if let Some(p) = progress {
        p.finish();
    }
    let report = report::build(
        executed,
        RunMeta {
            started_at,
            duration_ms: started.elapsed().as_millis() as u64,
            environment: settings.env.as_str().to_string(),
            host: settings.host.clone(),
            lang: settings.lang,
            os_family: settings.os_family,
        },
    );
    let bytes = render::renderer_for(settings.format, settings.color, settings.strict).render(&report);
    if let Err(e) = crate::output::write(&bytes, settings.output.as_deref()) {
        if settings.format == FormatArg::Nagios {
            println!("{}", render::nagios::unknown_line(&format!("cannot write the report: {e}")));
            return 3;
        }
        eprintln!("pen-doctor: cannot write the report: {e}");
        return 2;
    }
    if settings.format == FormatArg::Nagios {
        return render::nagios::exit_code(&report, settings.strict);
    }
    report::exit_code(&report, settings.strict)
}

fn fleet_color(color: Option<ColorArg>) -> bool {
    settings::resolve_color(color, std::io::stdout().is_terminal())
}

fn merge(paths: &[std::path::PathBuf], format: Option<FleetFormat>, lang: Lang, color: Option<ColorArg>) -> i32 {
    let nodes = match crate::fleet::load_nodes(paths) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("pen-doctor: {e}");
            return 2;
        }
    };
    let (text, failed) = crate::fleet::merge(&nodes, format.unwrap_or(FleetFormat::Human), lang, fleet_color(color));
    print!("{text}");
    i32::from(failed)
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
            eprintln!("pen-doctor: {e}");
            return 2;
        }
    };
    let (text, worse) = crate::fleet::diff(&a, &b, format.unwrap_or(FleetFormat::Human), lang, fleet_color(color));
    print!("{text}");
    i32::from(worse)
}

fn completions(shell: clap_complete::Shell) -> i32 {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "pen-doctor", &mut std::io::stdout());
    0
}

fn man(subcommand: Option<&str>) -> i32 {
    use clap::CommandFactory;
    let root = Cli::command();
    let page = match subcommand {
        None => clap_mangen::Man::new(root),
        Some(name) => match root.find_subcommand(name) {
            // The page is pen-doctor-NAME(1), as man(1) finds it; its synopsis says `pen-doctor NAME`.
            Some(sub) => {
                let name = sub.get_name().to_string();
                let page = sub
                    .clone()
                    .name(format!("pen-doctor-{name}"))
                    .bin_name(format!("pen-doctor {name}"))
                    .version(env!("CARGO_PKG_VERSION"));
                clap_mangen::Man::new(page)
            }
            None => {
                eprintln!("pen-doctor: no subcommand '{name}' (see `pen-doctor --help`)");
                return 2;
            }
        },
    };
    let mut out = Vec::new();
    if let Err(e) = page.render(&mut out) {
        eprintln!("pen-doctor: cannot render the manual page: {e}");
        return 2;
    }
    let _ = crate::output::write(&out, None);
    0
}

/// `pen-doctor cert FILE`: one `cert` check on the file, its facts, then the report as a run's.
fn cert(args: crate::cli::CertArgs) -> i32 {
    use crate::checks::client_cert::{facts_text, inspect, Which};
    use crate::cli::FormatArg;
    let started = Instant::now();
    let password = match (&args.password_env, &args.password_file) {
        (Some(var), _) => settings::password_from_env("--password-env", var).map(Some),
        (None, Some(file)) => settings::password_from_file("--password-file", file).map(Some),
        (None, None) => Ok(None),
    };
    let password = match password {
        Ok(p) => p,
        Err(e) => {
            eprintln!("pen-doctor: {e}");
            return 2;
        }
    };
    let outcome = inspect(Some(&args.file), password.as_ref(), Which::Client, true);
    let facts = facts_text(&outcome.evidence);
    let lang = lang_of(args.lang);
    let color = settings::resolve_color(args.color, std::io::stdout().is_terminal());
    let status = outcome.resolved_status(|c| kb::kb().severity(c));
    let (host, os_family) = crate::host::host_info();
    let executed = engine::Executed {
        id: "cert:file".into(),
        kind: "cert",
        target: None,
        status,
        outcome,
        duration: started.elapsed(),
    };
    let report = report::build(
        vec![executed],
        RunMeta {
            started_at: now_rfc3339(),
            duration_ms: started.elapsed().as_millis() as u64,
            environment: "-".into(),
            host,
            lang,
            os_family,
        },
    );
    let format = args.format.unwrap_or(FormatArg::Human);
    let mut bytes: Vec<u8> = match format {
        FormatArg::Human => facts.iter().map(|(k, v)| format!("{k:<14} {v}\n")).collect::<String>().into_bytes(),
        FormatArg::Markdown => facts.iter().map(|(k, v)| format!("- **{k}**: {v}\n")).collect::<String>().into_bytes(),
        _ => Vec::new(),
    };
    if !bytes.is_empty() {
        bytes.push(b'\n');
    }
    bytes.extend(render::renderer(format, color).render(&report));
    if let Err(e) = crate::output::write(&bytes, None) {
        eprintln!("pen-doctor: cannot write the report: {e}");
        return 2;
    }
    if format == FormatArg::Nagios {
        return render::nagios::exit_code(&report, false);
    }
    report::exit_code(&report, false)
}

fn explain(code: &str, lang: Lang) -> i32 {
    let kb = kb::kb();
    let Some(c) = kb.code(&code.to_ascii_uppercase()) else {
        eprintln!("pen-doctor: unknown code '{code}' (see `pen-doctor kb list`)");
        return 2;
    };
    let article = kb.article(&c.article);
    println!("{} ({})", c.code, c.severity.as_str());
    println!("{}\n", c.title.get(lang));
    println!("{}", c.explanation.get(lang).trim());
    println!();
    let cause = c
        .cause
        .map(|n| {
            format!(
                " — {} {n}: {}",
                if lang == Lang::Pt { "causa" } else { "cause" },
                kb.cause_title(&c.article, n, lang).unwrap_or_default()
            )
        })
        .unwrap_or_default();
    println!("{}: {}{cause}", if lang == Lang::Pt { "Artigo" } else { "Article" }, c.article);
    if let Some(a) = article {
        println!("  {}\n  {}", a.title, a.url);
    }
    let (_, family) = crate::host::host_info();
    // Without a run there are no values: show each parameter as <name>.
    let names: std::collections::BTreeMap<&str, String> =
        c.params.iter().map(|p| (p.as_str(), format!("<{p}>"))).collect();
    let fix: Vec<String> = kb.fix(c, lang, family).iter().map(|s| kb::fill(s, &names)).collect();
    if !fix.is_empty() {
        println!("\n{}:", if lang == Lang::Pt { "Como corrigir neste sistema" } else { "How to fix on this system" });
        for (i, s) in fix.iter().enumerate() {
            println!("  {}. {s}", i + 1);
        }
    }
    0
}

fn kb_list(lang: Lang) -> i32 {
    let kb = kb::kb();
    for a in &kb.articles {
        let n = kb.codes_of(&a.id).len();
        println!("{:<30} {} ({n} {})", a.id, a.title, if lang == Lang::Pt { "códigos" } else { "codes" });
    }
    0
}

fn kb_show(id: &str, lang: Lang) -> i32 {
    let kb = kb::kb();
    let Some(a) = kb.article(id) else {
        eprintln!("pen-doctor: unknown article '{id}' (see `pen-doctor kb list`)");
        return 2;
    };
    let pt = lang == Lang::Pt;
    println!("{}\n{}\n{}", a.id, a.title, a.url);
    for r in &a.references {
        println!("  {r}");
    }
    println!("\n{}", a.summary.get(lang).trim());
    if !a.causes.is_empty() {
        println!("\n{}:", if pt { "Causas" } else { "Causes" });
        for c in &a.causes {
            println!("  {}. {}", c.number, c.title.get(lang));
        }
    }
    let codes = kb.codes_of(&a.id);
    if !codes.is_empty() {
        println!("\n{}:", if pt { "Códigos" } else { "Codes" });
        for c in codes {
            let cause = c.cause.map(|n| format!(" [{n}]")).unwrap_or_default();
            println!("  {:<34} {:<5}{cause} {}", c.code, c.severity.as_str(), c.title.get(lang));
        }
    }
    println!("\n{}:\n", if pt { "Modelo de resposta ao chamado" } else { "Ticket reply template" });
    println!("{}", a.reply_template.get(lang).trim());
    0
}
