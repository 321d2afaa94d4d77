//! The `pen-doctor` binary: parse the command line, run it, exit with its code.

use clap::Parser;

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match pen_doctor::cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => std::process::exit(pen_doctor::cli::report_usage_error(e, &args)),
    };
    std::process::exit(pen_doctor::app::run(cli));
}
