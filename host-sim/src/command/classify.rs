//! The commands with `--task classify` (`train`, `sweep`) and `predict` with a classifier: the
//! same flags, checks before work, outputs and exit codes as regression's.

use super::sweep::Swept;
use super::train::Trained;
use super::{default_layers, print, save_interrupted, settings};
use crate::classify::{self, plot, predict, report::Report, sweep, Labelled, Outcome, Weighting};
use crate::cli::{ModelPart, PredictArgs, RunArgs, SweepArgs, TrainArgs};
use crate::error::{Error, Result};
use crate::interrupt;
use crate::model_file::ModelFile;
use crate::net::Net;
use crate::output::Outputs;
use crate::parts::Parts;
use crate::progress::Progress;
use crate::table::Table;
use crate::train::Ending;
use std::io::Write;
use std::path::Path;
use tinytrain_core::format::Task;

/// Reads the labelled samples of `--data`, the label column `--target` (the last without it).
fn read(path: &Path, target: Option<&str>, capacity: usize) -> Result<Labelled> {
    let table = Table::read_labelled(path, target, capacity)?;
    Labelled::from_table(&table)
}

/// The stratified split of `labelled` (`--val`, `--test`, `--seed`), or the one `--split` reads.
fn parts(labelled: &Labelled, run: &RunArgs) -> Result<Parts> {
    let split = run.split.as_deref();
    classify::parts(labelled, run.val, run.test, run.seed, split)
}

/// A trained classifier as a model file: its task, and its input names and class labels unless
/// `without` names them (`predict` then takes the columns by position and numbers the classes).
fn model_file(net: Net, labelled: &Labelled, without: &[ModelPart]) -> ModelFile {
    let names = !without.contains(&ModelPart::Names);
    ModelFile {
        task: Task::Classification,
        input_names: names.then(|| labelled.input_names.clone()),
        output_names: names.then(|| labelled.classes.clone()),
        ..ModelFile::new(net)
    }
}

/// `tinytrain train --task classify`.
pub fn train(
    args: TrainArgs,
    weighting: Weighting,
    capacity: usize,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<()> {
    if args.model_in.is_some() {
        return Err(Error::Flag {
            flag: "--model-in",
            problem: "fine-tunes regression models; a classifier trains from its initial \
                      weights"
                .into(),
        });
    }
    args.check_outputs()?;
    let labelled = read(&args.data.data, args.data.target.as_deref(), capacity)?;
    let file = args.data.data.display().to_string();
    let (n_in, classes) = (labelled.n_in(), labelled.n_classes());
    let layers = args
        .layers
        .clone()
        .map_or_else(|| default_layers(n_in, classes), |l| l.0);
    classify::check_widths(&layers, n_in, classes, &file)?;
    let settings = settings(&args.run, layers, args.update.or_saved(None));
    let parts = parts(&labelled, &args.run)?;
    let weights = classify::class_weights(&labelled, &parts, weighting);
    let baselines = classify::baselines(&labelled, &parts, &weights)?;
    let progress = if quiet {
        Progress::Hidden
    } else {
        Progress::for_stderr(settings.max_epochs)
    };
    interrupt::watch();
    let data = labelled.dataset()?;
    let run = classify::fit(&data, &settings, &parts, &weights, |s| {
        progress.epoch_of("cross-entropy", s, 1.0)
    })?;
    if run.interrupted {
        let save = (args.model.as_deref(), args.model_without.as_slice());
        return interrupted(out, &run, &labelled, save);
    }
    let outcome = classify::outcome(&labelled, &settings, weighting, run, baselines)?;
    let report = Report::new(&file, &labelled, &outcome);
    let trained = Classification {
        outcome,
        report,
        labelled: &labelled,
    };
    args.write(&trained, quiet, out)
}

/// A classifier's run with its report, on `labelled`.
struct Classification<'a> {
    outcome: Outcome,
    report: Report,
    labelled: &'a Labelled,
}

impl Trained for Classification<'_> {
    fn summary(&self) -> String {
        self.report.summary()
    }

    fn json(&self) -> String {
        self.report.to_json()
    }

    fn figures(&self, dir: &Path, outputs: &mut Outputs) -> Vec<String> {
        plot::write_all(dir, self.labelled, &self.outcome, outputs)
    }

    fn model(&self, without: &[ModelPart]) -> Result<Vec<u8>> {
        model_file(self.outcome.run.net.clone(), self.labelled, without).to_bytes()
    }

    fn untrained(&self) -> bool {
        self.outcome.run.untrained()
    }
}

/// Ctrl-C stopped a classifier's training: saves its best weights so far to `model`, says so,
/// and ends with [`Error::Interrupted`].
fn interrupted(
    out: &mut dyn Write,
    run: &classify::Run,
    labelled: &Labelled,
    (model, without): (Option<&Path>, &[ModelPart]),
) -> Result<()> {
    let loss = format!(
        "validation cross-entropy {}",
        crate::numbers::number(f64::from(run.report.best_val_mse))
    );
    save_interrupted(out, &run.report, &loss, model, || {
        model_file(run.net.clone(), labelled, without).to_bytes()
    })
}

/// `tinytrain predict` with a classifier.
pub fn predict(
    args: &PredictArgs,
    model: &ModelFile,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let predictions = predict::run(
        model,
        &args.model,
        &args.data,
        args.target.as_deref(),
        args.probabilities,
    )?;
    for note in predictions.notes.iter().filter(|_| !quiet) {
        eprintln!("note: {note}");
    }
    print(out, &predictions.csv)?;
    if let (Some((right, n)), Some(name), false) =
        (predictions.accuracy, &predictions.target, quiet)
    {
        let accuracy = right as f64 / n.max(1) as f64;
        eprintln!("accuracy {accuracy:.6} over {n} samples ({right} right; labels {name})");
    }
    Ok(())
}

/// `tinytrain sweep --task classify`.
pub fn sweep(
    args: SweepArgs,
    weighting: Weighting,
    capacity: usize,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<()> {
    args.check_outputs()?;
    let labelled = read(&args.data.data, args.data.target.as_deref(), capacity)?;
    let file = args.data.data.display().to_string();
    let (n_in, classes) = (labelled.n_in(), labelled.n_classes());
    let check = |widths: &[usize]| classify::check_widths(widths, n_in, classes, &file);
    let layers = args.layers(n_in, classes, check)?;
    let parts = parts(&labelled, &args.run)?;
    let combinations = args.combinations(layers)?;
    let total = combinations.len();
    let weights = classify::class_weights(&labelled, &parts, weighting);
    interrupt::watch();
    let result = sweep::run(
        &labelled,
        &parts,
        &weights,
        &combinations,
        args.repeats,
        |k, row| {
            if quiet {
                return;
            }
            eprintln!(
                "{}/{total}  {}  validation cross-entropy {:.6}, accuracy {:.4}  ({} after {} \
                 epochs)",
                k + 1,
                crate::sweep::describe(&row.config),
                row.val_loss,
                row.val_accuracy,
                row.repeats.first().map_or("", |r| r.stop_reason),
                row.repeats.first().map_or(0, |r| r.epochs_run)
            );
        },
    )?;
    let swept = ClassifierSweep {
        sweep: result,
        labelled: &labelled,
    };
    args.write(&swept, quiet, out)
}

/// A classifier sweep on `labelled`.
struct ClassifierSweep<'a> {
    sweep: sweep::Sweep,
    labelled: &'a Labelled,
}

impl Swept for ClassifierSweep<'_> {
    fn table(&self) -> String {
        self.sweep.table()
    }

    fn json(&self) -> String {
        self.sweep.to_json()
    }

    fn model(&self, without: &[ModelPart]) -> Result<Vec<u8>> {
        model_file(self.sweep.net.clone(), self.labelled, without).to_bytes()
    }

    fn interrupted(&self) -> bool {
        self.sweep.interrupted
    }

    fn rows(&self) -> usize {
        self.sweep.rows.len()
    }
}
