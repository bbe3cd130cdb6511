//! The commands, one module each, taking the arguments [`crate::cli`] defines; what their flows
//! share is here: the run settings and split from the flags, the checked outputs, the summary or
//! JSON on standard output, and the model saved when Ctrl-C stops training.

pub mod classify;
pub mod demo;
pub mod device;
pub mod export;
pub mod predict;
pub mod stream;
pub mod sweep;
pub mod train;

use crate::cli::{ModelPart, RunArgs};
use crate::error::{Error, Result};
use crate::model_file::{ModelFile, SavedOptimizer};
use crate::net::Net;
use crate::output::Outputs;
use crate::parts::Parts;
use crate::stdio::is_standard_stream;
use crate::table::Samples;
use crate::train::{OptimizerKind, TrainConfig};
use std::io::Write;
use std::path::{Path, PathBuf};
use tinytrain_core::format::Training;

/// `train`'s learning rate without `--lr` (or a `--model-in` model's).
pub(crate) const DEFAULT_LR: f32 = 0.01;
/// `train`'s batch size without `--batch` (or a `--model-in` model's).
pub(crate) const DEFAULT_BATCH: usize = 16;

/// `path` unless it is absent or [`crate::stdio::STANDARD_STREAM`]: an output to check and write
/// as a file.
pub(crate) fn file_output(path: &Option<PathBuf>) -> Option<&PathBuf> {
    path.as_ref().filter(|p| !is_standard_stream(p))
}

/// Prints a command's summary `text` — on standard error when `json` goes to standard output,
/// not at all when `quiet` — and the JSON.
pub(crate) fn results(
    out: &mut dyn Write,
    quiet: bool,
    text: &str,
    json: Option<String>,
) -> Result<()> {
    match json {
        Some(json) => {
            if !quiet {
                eprint!("{text}");
            }
            print(out, &(json + "\n"))
        }
        None if quiet => Ok(()),
        None => print(out, text),
    }
}

/// The split: read from `--split`, or drawn with the seed.
pub(crate) fn parts(run: &RunArgs, rows: usize) -> Result<Parts> {
    match &run.split {
        Some(path) => Parts::read(path, rows),
        None => Parts::draw(rows, run.val, run.test, run.seed),
    }
}

/// Ctrl-C stopped a training run that reported `report`: saves its best weights so far
/// (`bytes`) to `model`, says so with the best validation loss `loss`, and ends with
/// [`Error::Interrupted`].
pub(crate) fn save_interrupted(
    out: &mut dyn Write,
    report: &tinytrain_core::Report,
    loss: &str,
    model: Option<&Path>,
    bytes: impl FnOnce() -> Result<Vec<u8>>,
) -> Result<()> {
    if report.epochs_run == 0 {
        return Err(Error::Interrupted {
            outcome: "no epoch had ended: nothing to save".into(),
        });
    }
    let mut text = format!(
        "stopped   interrupted at epoch {}; kept the weights of epoch {} ({loss})\n",
        report.epochs_run, report.best_epoch,
    );
    let Some(path) = model else {
        print(out, &text)?;
        return Err(Error::Interrupted {
            outcome: "no --model given: the weights were not saved".into(),
        });
    };
    let mut outputs = Outputs::default();
    outputs.write(path, bytes);
    for path in outputs.written() {
        text += &format!("wrote     {}\n", path.display());
    }
    print(out, &text)?;
    outputs.finish()?;
    Err(Error::Interrupted {
        outcome: format!(
            "the best weights so far (epoch {}) were saved to {}; the report and figures \
             were not written",
            report.best_epoch,
            path.display()
        ),
    })
}

/// A trained network as a model file, with the names of the columns it was trained on and its
/// optimizer's state and training settings, less the parts in `without`.
pub(crate) fn model_file(
    (net, optimizer, training): (&Net, &SavedOptimizer, Training),
    samples: &Samples,
    without: &[ModelPart],
) -> ModelFile {
    let names = !without.contains(&ModelPart::Names);
    let state = !without.contains(&ModelPart::State);
    ModelFile {
        input_names: names.then(|| samples.input_names.clone()),
        output_names: samples
            .target_name
            .clone()
            .filter(|_| names)
            .map(|n| vec![n]),
        optimizer: state.then(|| optimizer.clone()),
        training: state.then_some(training),
        ..ModelFile::new(net.clone())
    }
}

/// The training settings of `run`'s flags for a network of `layers` trained with `rule`, at
/// learning rate `lr` and batch size `batch`.
pub(crate) fn settings(
    run: &RunArgs,
    layers: Vec<usize>,
    rule: OptimizerKind,
    lr: f32,
    batch: usize,
) -> TrainConfig {
    TrainConfig {
        optimizer: rule,
        learning_rate: lr,
        batch_size: batch,
        max_epochs: run.epochs,
        patience: run.patience,
        seed: run.seed,
        val_fraction: run.val,
        test_fraction: run.test,
        standardize: !run.no_standardize,
        init: run.init,
        divergence_factor: run.divergence_factor,
        ..TrainConfig::new(layers)
    }
}

/// Writes `text` to `out`, the command's standard output.
pub(crate) fn print(out: &mut dyn Write, text: &str) -> Result<()> {
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|source| Error::Write {
            path: "standard output".into(),
            source,
        })
}
