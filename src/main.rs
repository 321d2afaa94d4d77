//! The `pen-doctor` binary: parse the command line (its help in the language of `--lang` or of
//! the locale), run it, exit with its code.

use clap::FromArgMatches;

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let lang = pen_doctor::ui::lang_of_args(&args);
    let parsed = pen_doctor::ui::command(lang)
        .try_get_matches_from(&args)
        .and_then(|m| pen_doctor::cli::Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => std::process::exit(pen_doctor::cli::report_usage_error(e, &args)),
    };
    std::process::exit(pen_doctor::app::run(cli));
}
