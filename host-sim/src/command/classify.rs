//! The commands with `--task classify` (`train`, `sweep`) and `predict` with a classifier: the
//! same flags, checks before work, outputs and exit codes as regression's.

use super::{file_output, print, save_interrupted, settings, DEFAULT_BATCH, DEFAULT_LR};
use crate::classify::{self, plot, predict, report::Report, sweep, Labelled, Weighting};
use crate::cli::{ModelPart, PredictArgs, SweepArgs, TrainArgs};
use crate::error::{Error, Result};
use crate::interrupt;
use crate::model_file::ModelFile;
use crate::net::Net;
use crate::output::Outputs;
use crate::progress::Progress;
use crate::sweep::Grid;
use crate::table::Table;
use crate::train::{Ending, OptimizerKind};
use std::io::Write;
use std::path::Path;
use tinytrain_core::format::Task;

/// The hidden widths of the default network, as regression's: `FEATURES,16,16,CLASSES`.
const DEFAULT_HIDDEN: [usize; 2] = [16, 16];

/// The default widths for `labelled`.
fn default_layers(labelled: &Labelled) -> Vec<usize> {
    let mut widths = vec![labelled.n_in()];
    widths.extend(DEFAULT_HIDDEN);
    widths.push(labelled.n_classes());
    widths
}

/// Reads the labelled samples of `--data`, the label column `--target` (the last without it).
fn read(path: &Path, target: Option<&str>, capacity: usize) -> Result<Labelled> {
    let table = Table::read_labelled(path, target, capacity)?;
    Labelled::from_table(&table)
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
    let layers = args
        .layers
        .clone()
        .map_or_else(|| default_layers(&labelled), |l| l.0);
    classify::check_widths(&layers, labelled.n_in(), labelled.n_classes(), &file)?;
    let settings = settings(
        &args.run,
        layers,
        args.optimizer.unwrap_or(OptimizerKind::Sgd),
        args.lr.unwrap_or(DEFAULT_LR),
        args.batch.unwrap_or(DEFAULT_BATCH),
    );
    let run_args = &args.run;
    let parts = classify::parts(
        &labelled,
        run_args.val,
        run_args.test,
        run_args.seed,
        run_args.split.as_deref(),
    )?;
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
    let mut outputs = Outputs::default();
    if let Some(path) = file_output(&args.report) {
        outputs.write(path, || Ok(report.to_json().into_bytes()));
    }
    let mut notes = Vec::new();
    if let Some(dir) = &args.plot {
        notes = plot::write_all(dir, &labelled, &outcome, &mut outputs);
    }
    let untrained = outcome.run.untrained();
    if let Some(path) = &args.model {
        if !untrained || args.keep_untrained {
            outputs.write(path, || {
                model_file(outcome.run.net.clone(), &labelled, &args.model_without).to_bytes()
            });
        }
    }
    let mut text = report.summary();
    for note in notes {
        text += &format!("note      {note}\n");
    }
    args.finish(out, quiet, text, outputs, untrained, || report.to_json())
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
    let mut layers: Vec<Vec<usize>> = args.layers.iter().map(|l| l.0.clone()).collect();
    if layers.is_empty() {
        layers.push(default_layers(&labelled));
    }
    for widths in &layers {
        classify::check_widths(widths, n_in, classes, &file)?;
    }
    let base = settings(&args.run, vec![n_in, classes], OptimizerKind::Sgd, 0.01, 16);
    let run_args = &args.run;
    let parts = classify::parts(
        &labelled,
        run_args.val,
        run_args.test,
        run_args.seed,
        run_args.split.as_deref(),
    )?;
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
    let mut outputs = Outputs::default();
    if let Some(path) = file_output(&args.report).filter(|_| !result.interrupted) {
        outputs.write(path, || Ok(result.to_json().into_bytes()));
    }
    if let Some(path) = &args.model {
        outputs.write(path, || {
            model_file(result.net.clone(), &labelled, &args.model_without).to_bytes()
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
