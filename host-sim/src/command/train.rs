//! `tinytrain train`: regression on a CSV file, from initial weights or a saved model
//! (`--model-in`); and what every training flow writes (`Trained`, `TrainArgs::write`).

use super::{
    file_output, layers, list_written, model_file, parts, results, save_interrupted, settings,
};
use crate::cli::{ModelPart, TrainArgs};
use crate::error::{Error, Result};
use crate::interrupt;
use crate::model_file::ModelFile;
use crate::output::{self, Location, Outputs};
use crate::plot;
use crate::predict;
use crate::progress::Progress;
use crate::report::{Columns, Report};
use crate::table::{Samples, Table};
use crate::train::{self, Ending, OptimizerKind, Outcome};
use std::io::Write;
use std::path::Path;
use tinytrain_core::learner::Start;

/// `tinytrain train`: regression, over epochs.
pub fn run(args: TrainArgs, quiet: bool, out: &mut dyn Write) -> Result<()> {
    args.check_outputs()?;
    let start = args
        .model_in
        .as_deref()
        .map(ModelFile::read_regression)
        .transpose()?;
    let table = Table::read(&args.data.data)?;
    let target = args.data.target.as_deref();
    let samples = match (&start, &args.model_in) {
        (Some(model), Some(path)) => samples_for(&table, model, path, target)?,
        _ => table.features_and_target(target)?,
    };
    let file = args.data.data.display().to_string();
    let n_in = samples.n_in();
    let saved = start.as_ref();
    let layers = layers(args.layers.as_ref(), saved.map(|m| &m.net), n_in);
    train::check_widths(&layers, n_in, &file)?;
    if let Some(model) = saved.filter(|m| m.net.widths != layers) {
        return Err(Error::Widths {
            layers: train::widths_text(&layers),
            problem: format!(
                "the --model-in model has the widths {}",
                train::widths_text(&model.net.widths)
            ),
        });
    }
    let data = samples.dataset()?;
    let update = args.update.or_saved(saved);
    let settings = settings(&args.run, layers, update);
    let parts = parts(&args.run, samples.len())?;
    let reference = train::Reference::new(&data, &parts)?;
    let progress = if quiet {
        Progress::Hidden
    } else {
        Progress::for_stderr(settings.max_epochs)
    };
    interrupt::watch();
    let floor = reference.floor(&settings);
    let from = args.model_in.as_deref().zip(saved);
    let run = train::fit_from(&data, &settings, &parts, floor, from, |s, scale| {
        progress.epoch(s, scale)
    })?;
    if let (Some(start), Some(path)) = (run.start, &args.model_in) {
        eprintln!("note: {}", start_note(path, start, update.rule));
    }
    let save = (args.model.as_deref(), args.model_without.as_slice());
    if run.interrupted {
        return interrupted(out, &run, &samples, save);
    }
    let outcome = train::outcome(&data, &settings, run, reference)?;
    let columns = Columns {
        features: samples.input_names.clone(),
        target: samples.target_name.clone().unwrap_or_default(),
    };
    let report = Report::new(&file, columns, &outcome);
    let trained = Regression {
        outcome,
        report,
        samples: &samples,
    };
    args.write(&trained, quiet, out)
}

/// What a finished run gives the outputs of `train`, whatever the task.
pub(crate) trait Trained {
    /// The report's summary: the lines printed.
    fn summary(&self) -> String;
    /// The report as JSON (`--report`).
    fn json(&self) -> String;
    /// Writes the figures into `dir` through `outputs` (`--plot`); a note for each left out.
    fn figures(&self, dir: &Path, outputs: &mut Outputs) -> Vec<String>;
    /// The model file (`--model`), less the parts in `without`.
    fn model(&self, without: &[ModelPart]) -> Result<Vec<u8>>;
    /// No epoch beat the initial weights.
    fn untrained(&self) -> bool;
}

/// A regression run with its report, on `samples`.
struct Regression<'a> {
    outcome: Outcome,
    report: Report,
    samples: &'a Samples,
}

impl Trained for Regression<'_> {
    fn summary(&self) -> String {
        self.report.summary()
    }

    fn json(&self) -> String {
        self.report.to_json()
    }

    fn figures(&self, dir: &Path, outputs: &mut Outputs) -> Vec<String> {
        plot::write_all(dir, self.samples, &self.outcome, outputs)
    }

    fn model(&self, without: &[ModelPart]) -> Result<Vec<u8>> {
        let run = &self.outcome.run;
        let parts = (&run.net, &run.optimizer, run.training);
        model_file(parts, self.samples, without).to_bytes()
    }

    fn untrained(&self) -> bool {
        self.outcome.run.untrained()
    }
}

impl TrainArgs {
    /// Checks `--report`, `--plot` and `--model` before any work.
    pub(crate) fn check_outputs(&self) -> Result<()> {
        let mut locations = Vec::new();
        if let Some(path) = file_output(&self.report) {
            locations.push(Location::file("--report", path));
        }
        if let Some(dir) = &self.plot {
            locations.push(Location::directory("--plot", dir));
        }
        if let Some(path) = &self.model {
            locations.push(Location::file("--model", path));
        }
        output::check(&locations)
    }

    /// Writes what the run `trained` gives to the outputs asked for — the JSON report, the
    /// figures, the model (not an untrained one, without `--keep-untrained`) — prints the
    /// summary with the notes and the outputs written, or the JSON report for `--report -`,
    /// finishes the outputs, and ends with [`Error::Untrained`] for an untrained model.
    pub(crate) fn write(
        &self,
        trained: &impl Trained,
        quiet: bool,
        out: &mut dyn Write,
    ) -> Result<()> {
        let mut outputs = Outputs::default();
        if let Some(path) = file_output(&self.report) {
            outputs.write(path, || Ok(trained.json().into_bytes()));
        }
        let notes = match &self.plot {
            Some(dir) => trained.figures(dir, &mut outputs),
            None => Vec::new(),
        };
        let untrained = trained.untrained();
        if let Some(path) = &self.model {
            if !untrained || self.keep_untrained {
                outputs.write(path, || trained.model(&self.model_without));
            }
        }
        let mut text = trained.summary();
        for note in notes {
            text += &format!("note      {note}\n");
        }
        list_written(&mut text, &outputs, 10);
        let to_stdout = self.report.is_some() && file_output(&self.report).is_none();
        results(out, quiet, &text, to_stdout.then(|| trained.json()))?;
        outputs.finish()?;
        if untrained {
            return Err(Error::Untrained {
                model: self.model.clone().filter(|_| !self.keep_untrained),
            });
        }
        Ok(())
    }
}

/// Ctrl-C stopped `train` during `run` (or during the baseline after it): saves the run's best
/// weights so far to `model`, says so, and ends with [`Error::Interrupted`].
fn interrupted(
    out: &mut dyn Write,
    run: &train::Run,
    samples: &Samples,
    (model, without): (Option<&Path>, &[ModelPart]),
) -> Result<()> {
    let line = format!(
        "validation MSE {}",
        crate::numbers::number(run.to_original_units(run.report.best_val_mse))
    );
    let parts = (&run.net, &run.optimizer, run.training);
    save_interrupted(out, &run.report, &line, model, || {
        model_file(parts, samples, without).to_bytes()
    })
}

/// The samples `train --model-in` trains on: the columns of `table` matched to the inputs of
/// `model` (read from `path`) by name, or by position for a model without names; the target
/// column must be there.
fn samples_for(
    table: &Table,
    model: &ModelFile,
    path: &Path,
    target: Option<&str>,
) -> Result<Samples> {
    let matched = predict::columns(table, model, path, target)?;
    for note in &matched.notes {
        eprintln!("note: {note}");
    }
    let samples = matched.samples;
    if samples.target_name.is_none() {
        let named = model.output_names.as_deref().and_then(|n| n.first());
        return Err(Error::Columns {
            path: table.path.clone(),
            problem: match named {
                Some(name) => format!(
                    "no column `{name}`, the target of the model {}: name the target with \
                     --target",
                    path.display()
                ),
                None => "no target column: name it with --target".into(),
            },
        });
    }
    Ok(samples)
}

/// What `train --model-in` says about how the optimizer started.
fn start_note(path: &Path, start: Start, rule: OptimizerKind) -> String {
    match start {
        Start::Resumed { steps } => format!(
            "resumed from {}: the {} optimizer's state came with it ({steps} updates before)",
            path.display(),
            rule.name()
        ),
        Start::WarmUp { steps } => format!(
            "{} holds no {} optimizer state: the optimizer starts afresh{}",
            path.display(),
            rule.name(),
            if steps > 0 {
                format!(", its learning rate warmed up over {steps} updates")
            } else {
                String::new()
            }
        ),
    }
}
