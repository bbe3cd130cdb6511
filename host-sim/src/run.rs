//! Dispatch: each command of the [`Cli`] to the function in [`crate::command`] that takes its
//! arguments.

use crate::cli::{Cli, Command};
use crate::command::{self, print};
use crate::error::Result;
use std::io::Write;

/// Runs a command, writing its results to `out` (progress and notes go to stderr).
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<()> {
    let quiet = cli.quiet;
    match cli.command {
        Command::Demo => command::demo::run(out),
        Command::Train(args) => command::train::run(args, quiet, out),
        Command::Predict(args) => command::predict::run(args, quiet, out),
        Command::Sweep(args) => command::sweep::run(args, quiet, out),
        Command::Export(args) => command::export::export(args, out),
        Command::Import(args) => command::export::import(args, out),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "tinytrain", &mut text);
            print(out, &String::from_utf8_lossy(&text))
        }
        Command::Device(command) => command::device::run(command, out),
    }
}
