//! Dispatch: each command of the [`Cli`] to the flow in [`crate::command`] that takes its
//! arguments — for `train` and `sweep`, the flow of the task and of `--stream`.

use crate::cli::{Cli, Command, SweepArgs, TrainArgs};
use crate::command::{self, print};
use crate::error::{Error, Result};
use std::io::Write;

/// Runs a command, writing its results to `out` (progress and notes go to stderr).
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<()> {
    let quiet = cli.quiet;
    match cli.command {
        Command::Demo => command::demo::run(out),
        Command::Train(args) => train(args, quiet, out),
        Command::Predict(args) => command::predict::run(args, quiet, out),
        Command::Sweep(args) => sweep(args, quiet, out),
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

/// `tinytrain train`: a classifier with `--task classify`, a stream learner with `--stream`
/// (regression only), else regression over epochs.
fn train(args: TrainArgs, quiet: bool, out: &mut dyn Write) -> Result<()> {
    match (args.stream, args.data.classification()?) {
        (true, Some(_)) => Err(Error::Flag {
            flag: "--stream",
            problem: "learns values on the mean squared error; it does not take --task classify"
                .into(),
        }),
        (true, None) => command::stream::run(&args, quiet, out),
        (false, Some((weighting, capacity))) => {
            command::classify::train(args, weighting, capacity, quiet, out)
        }
        (false, None) => command::train::run(args, quiet, out),
    }
}

/// `tinytrain sweep`: of classifiers with `--task classify`, else of regression networks.
fn sweep(args: SweepArgs, quiet: bool, out: &mut dyn Write) -> Result<()> {
    match args.data.classification()? {
        Some((weighting, capacity)) => {
            command::classify::sweep(args, weighting, capacity, quiet, out)
        }
        None => command::sweep::run(args, quiet, out),
    }
}
