//! `tinytrain sweep`: every combination of the given settings trained, the choice made on the
//! validation loss; and what every sweep writes (`Swept`, `SweepArgs::write`).

use super::{
    default_layers, file_output, list_written, model_file, parts, results, settings, Update,
};
use crate::cli::{ModelPart, SweepArgs};
use crate::error::{Error, Result};
use crate::interrupt;
use crate::output::{self, Location, Outputs};
use crate::sweep::{self, Grid, Sweep};
use crate::table::{Samples, Table};
use crate::train::{self, TrainConfig};
use std::io::Write;

/// `tinytrain sweep` of regression networks.
pub fn run(args: SweepArgs, quiet: bool, out: &mut dyn Write) -> Result<()> {
    args.check_outputs()?;
    let table = Table::read(&args.data.data)?;
    let samples = table.features_and_target(args.data.target.as_deref())?;
    let file = args.data.data.display().to_string();
    let n_in = samples.n_in();
    let layers = args.layers(n_in, 1, |widths| train::check_widths(widths, n_in, &file))?;
    let data = samples.dataset()?;
    let parts = parts(&args.run, samples.len())?;
    let combinations = args.combinations(layers)?;
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
    let swept = Regression {
        sweep: result,
        samples: &samples,
    };
    args.write(&swept, quiet, out)
}

/// What a finished sweep gives the outputs of `sweep`, whatever the task.
pub(crate) trait Swept {
    /// The table of every combination and the choice: the lines printed.
    fn table(&self) -> String;
    /// Every combination's results and the choice as JSON (`--report`).
    fn json(&self) -> String;
    /// The chosen model's file (`--model`), less the parts in `without`.
    fn model(&self, without: &[ModelPart]) -> Result<Vec<u8>>;
    /// Ctrl-C stopped the sweep.
    fn interrupted(&self) -> bool;
    /// The combinations trained.
    fn rows(&self) -> usize;
}

/// A regression sweep on `samples`.
struct Regression<'a> {
    sweep: Sweep,
    samples: &'a Samples,
}

impl Swept for Regression<'_> {
    fn table(&self) -> String {
        self.sweep.table()
    }

    fn json(&self) -> String {
        self.sweep.to_json()
    }

    fn model(&self, without: &[ModelPart]) -> Result<Vec<u8>> {
        let s = &self.sweep;
        model_file((&s.net, &s.optimizer, s.training), self.samples, without).to_bytes()
    }

    fn interrupted(&self) -> bool {
        self.sweep.interrupted
    }

    fn rows(&self) -> usize {
        self.sweep.rows.len()
    }
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

    /// The widths to try for `n_in` inputs and `n_out` outputs: every `--layers`, or the
    /// default network's; each checked by `check`.
    pub(crate) fn layers(
        &self,
        n_in: usize,
        n_out: usize,
        check: impl Fn(&[usize]) -> Result<()>,
    ) -> Result<Vec<Vec<usize>>> {
        let mut layers: Vec<Vec<usize>> = self.layers.iter().map(|l| l.0.clone()).collect();
        if layers.is_empty() {
            layers.push(default_layers(n_in, n_out));
        }
        for widths in &layers {
            check(widths)?;
        }
        Ok(layers)
    }

    /// Every combination of `layers` and the values of `--optimizer`, `--lr` and `--batch`,
    /// the other settings from the flags of the run; every value checked before anything
    /// trains.
    pub(crate) fn combinations(&self, layers: Vec<Vec<usize>>) -> Result<Vec<TrainConfig>> {
        let grid = Grid {
            // Every combination has widths of its own.
            base: settings(&self.run, Vec::new(), Update::DEFAULT),
            layers,
            optimizers: self.optimizer.clone(),
            learning_rates: self.lr.clone(),
            batch_sizes: self.batch.clone(),
        };
        grid.check()?;
        Ok(grid.combinations())
    }

    /// Writes what the sweep `swept` gives to the outputs asked for — the JSON report (not
    /// for an interrupted sweep), the chosen model — prints the table with the outputs
    /// written, or the JSON for `--report -`, finishes the outputs, and ends with
    /// [`Error::Interrupted`] when Ctrl-C stopped the sweep.
    pub(crate) fn write(&self, swept: &impl Swept, quiet: bool, out: &mut dyn Write) -> Result<()> {
        let interrupted = swept.interrupted();
        let mut outputs = Outputs::default();
        if let Some(path) = file_output(&self.report).filter(|_| !interrupted) {
            outputs.write(path, || Ok(swept.json().into_bytes()));
        }
        if let Some(path) = &self.model {
            outputs.write(path, || swept.model(&self.model_without));
        }
        let mut text = swept.table();
        list_written(&mut text, &outputs, 8);
        let to_stdout =
            self.report.is_some() && file_output(&self.report).is_none() && !interrupted;
        results(out, quiet, &text, to_stdout.then(|| swept.json()))?;
        outputs.finish()?;
        if interrupted {
            let rows = swept.rows();
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
