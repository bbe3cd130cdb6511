//! The `tinytrain` command; see `tinytrain --help`.

use clap::Parser;
use std::process::ExitCode;
use tinytrain_host_sim::cli::Cli;
use tinytrain_host_sim::run::run;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli, &mut std::io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
