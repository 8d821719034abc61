//! The `valley` binary: parses arguments and dispatches. Exit codes: 0
//! success, 2 invalid input (nothing written), 1 any other failure.

use clap::Parser;
use std::process::ExitCode;
use valley::cli::{Cli, Command};
use valley::commands;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sweep(a) => commands::sweep::run(a),
        Command::Schedule(a) => commands::schedule::run(a),
        Command::Inspect(a) => commands::inspect::run(a),
        Command::Plot(a) => commands::plot::run(a),
        Command::Merge(a) => commands::merge::run(a),
        Command::Reference => commands::reference::run(),
        Command::SameRows(a) => commands::merge::same_rows(a),
        Command::Compare(a) => commands::compare::run(a),
        Command::Report(a) => commands::report::run(a),
        Command::Claims(a) => commands::claims::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            if e.is_invalid_input() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
