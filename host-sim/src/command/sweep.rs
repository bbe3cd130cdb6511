//! `tinytrain sweep`: every combination of the given settings trained, the choice made on the
//! validation loss (classifiers: [`super::classify::sweep`]).

use super::{file_output, model_file, parts, results, settings};
use crate::cli::SweepArgs;
use crate::error::{Error, Result};
use crate::interrupt;
use crate::output::{self, Location, Outputs};
use crate::sweep::{self, Grid};
use crate::table::Table;
use crate::train::{self, OptimizerKind};
use std::io::Write;

/// `tinytrain sweep`.
pub fn run(args: SweepArgs, quiet: bool, out: &mut dyn Write) -> Result<()> {
    if let Some((weighting, capacity)) = args.data.classification()? {
        return super::classify::sweep(args, weighting, capacity, quiet, out);
    }
    args.check_outputs()?;
    let table = Table::read(&args.data.data)?;
    let samples = table.features_and_target(args.data.target.as_deref())?;
    let file = args.data.data.display().to_string();
    let n_in = samples.n_in();
    let mut layers: Vec<Vec<usize>> = args.layers.iter().map(|l| l.0.clone()).collect();
    if layers.is_empty() {
        layers.push(vec![n_in, 16, 16, 1]);
    }
    for widths in &layers {
        train::check_widths(widths, n_in, &file)?;
    }
    let data = samples.dataset()?;
    let base = settings(&args.run, vec![n_in, 1], OptimizerKind::Sgd, 0.01, 16);
    let parts = parts(&args.run, samples.len())?;
    let grid = Grid {
        base,
        layers,
        optimizers: args.optimizer.clone(),
        learning_rates: args.lr.clone(),
        batch_sizes: args.batch.clone(),
    };
    grid.check()?;
    let combinations = grid.combinations();
    let total = combinations.len();
    interrupt::watch();
    let result = sweep::run(&data, &parts, &combinations, args.repeats, |k, row| {
        if quiet {
            return;
        }
        eprintln!(
            "{}/{total}  {}  validation {:.6}  ({} after {} epochs)",
            k + 1,
            sweep::describe(&row.config),
            row.val_mse,
            row.repeats.first().map_or("", |r| r.stop_reason),
            row.repeats.first().map_or(0, |r| r.epochs_run)
        );
    })?;
    let mut outputs = Outputs::default();
    if let Some(path) = file_output(&args.report).filter(|_| !result.interrupted) {
        outputs.write(path, || Ok(result.to_json().into_bytes()));
    }
    if let Some(path) = &args.model {
        let parts = (&result.net, &result.optimizer, result.training);
        outputs.write(path, || {
            model_file(parts, &samples, &args.model_without).to_bytes()
        });
    }
    args.finish(
        out,
        quiet,
        result.table(),
        outputs,
        result.interrupted,
        result.rows.len(),
        || result.to_json(),
    )
}

impl SweepArgs {
    /// Checks `--report` and `--model` before any work.
    pub(crate) fn check_outputs(&self) -> Result<()> {
        let mut locations = Vec::new();
        if let Some(path) = file_output(&self.report) {
            locations.push(Location::file("--report", path));
        }
        if let Some(path) = &self.model {
            locations.push(Location::file("--model", path));
        }
        output::check(&locations)
    }

    /// Prints the table `text` with the outputs written, or the JSON for `--report -`,
    /// finishes the outputs, and ends with [`Error::Interrupted`] when Ctrl-C stopped the
    /// sweep after `rows` combinations.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn finish(
        &self,
        out: &mut dyn Write,
        quiet: bool,
        mut text: String,
        outputs: Outputs,
        interrupted: bool,
        rows: usize,
        json: impl FnOnce() -> String,
    ) -> Result<()> {
        for path in outputs.written() {
            text += &format!("wrote   {}\n", path.display());
        }
        let to_stdout =
            self.report.is_some() && file_output(&self.report).is_none() && !interrupted;
        results(out, quiet, &text, to_stdout.then(json))?;
        outputs.finish()?;
        if interrupted {
            return Err(Error::Interrupted {
                outcome: match &self.model {
                    Some(path) => format!(
                        "the best of the {rows} combinations trained so far was saved to {}; \
                         the report was not written",
                        path.display()
                    ),
                    None => format!(
                        "no --model given: the best of the {rows} combinations trained so far \
                         was not saved"
                    ),
                },
            });
        }
        Ok(())
    }
}
