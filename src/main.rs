//! The `pen-doctor` binary: parse the command line, run it, exit with its code.

use clap::Parser;

fn main() {
    let cli = pen_doctor::cli::Cli::parse();
    std::process::exit(pen_doctor::app::run(cli));
}
