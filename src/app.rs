//! What each subcommand does: `check` (settings → plan → engine → report → renderer → output),
//! `explain`, `kb list|show` and `cert`. Returns the process exit code.

use crate::checks;
use crate::cli::{Cli, Command, KbCommand, LangArg};
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
        Command::Cert(args) => crate::checks::cert_command(args),
    }
}

fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn check(args: crate::cli::CheckArgs) -> i32 {
    let started = Instant::now();
    let started_at = now_rfc3339();
    let settings = match settings::build(args, std::io::stdout().is_terminal()) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("pen-doctor: {e}");
            return 2;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("pen-doctor: cannot start the runtime: {e}");
            return 2;
        }
    };
    let all = checks::all_checks(&settings);
    let (selected, dropped) = engine::select(all, settings.only.as_deref(), &settings.skip);
    let executed = runtime.block_on(engine::run(Arc::clone(&settings), selected, dropped, |c| kb::kb().severity(c)));
    runtime.shutdown_background();
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
    let bytes = render::renderer(settings.format, settings.color).render(&report);
    if let Err(e) = crate::output::write(&bytes, settings.output.as_deref()) {
        eprintln!("pen-doctor: cannot write the report: {e}");
        return 2;
    }
    report::exit_code(&report, settings.strict)
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
