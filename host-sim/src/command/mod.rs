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

use crate::cli::{ModelPart, RunArgs, UpdateArgs, Widths};
use crate::error::{Error, Result};
use crate::model_file::{ModelFile, SavedOptimizer};
use crate::net::Net;
use crate::output::Outputs;
use crate::parts::Parts;
use crate::stdio::is_standard_stream;
use crate::table::Samples;
use crate::train::{widths_text, OptimizerKind, TrainConfig};
use std::io::Write;
use std::path::{Path, PathBuf};
use tinytrain_core::format::Training;

/// The hidden widths of the default network: `FEATURES,16,16,1`, or `FEATURES,16,16,CLASSES`
/// for a classifier.
const DEFAULT_HIDDEN: [usize; 2] = [16, 16];

/// The default network's widths for `n_in` inputs and `n_out` outputs.
pub(crate) fn default_layers(n_in: usize, n_out: usize) -> Vec<usize> {
    let mut widths = vec![n_in];
    widths.extend(DEFAULT_HIDDEN);
    widths.push(n_out);
    widths
}

/// The widths of a regression network for `n_in` inputs: `--layers`, else the widths of the
/// `saved` model a run starts from (`--model-in`), else the default network's.
pub(crate) fn layers(given: Option<&Widths>, saved: Option<&Net>, n_in: usize) -> Vec<usize> {
    match (given, saved) {
        (Some(layers), _) => layers.0.clone(),
        (None, Some(net)) => net.widths.clone(),
        (None, None) => default_layers(n_in, 1),
    }
}

/// An error when the model a run starts from (`--model-in` at `path`) is not a network of
/// `layers`.
pub(crate) fn check_saved_widths(layers: &[usize], saved: Option<(&Path, &Net)>) -> Result<()> {
    match saved {
        Some((path, net)) if net.widths != layers => Err(Error::Widths {
            layers: widths_text(layers),
            problem: format!(
                "--model-in {} has the layers {}",
                path.display(),
                widths_text(&net.widths)
            ),
        }),
        _ => Ok(()),
    }
}

/// How the weights are updated: the rule, its learning rate and its batch size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Update {
    /// The update rule.
    pub rule: OptimizerKind,
    /// The learning rate.
    pub lr: f32,
    /// Samples per mini-batch.
    pub batch: usize,
}

impl Update {
    /// Without flags or a model to start from: SGD, learning rate 0.01, batches of 16.
    pub(crate) const DEFAULT: Update = Update {
        rule: OptimizerKind::Sgd,
        lr: 0.01,
        batch: 16,
    };
}

impl UpdateArgs {
    /// The flags' update, each not given taken from the `saved` model a run starts from
    /// (`--model-in`: the rule of its optimizer state, the learning rate and batch size of its
    /// training settings), else from [`Update::DEFAULT`].
    pub(crate) fn or_saved(&self, saved: Option<&ModelFile>) -> Update {
        let rule = saved.and_then(|m| OptimizerKind::of(&m.optimizer.as_ref()?.optimizer));
        let training = saved.and_then(|m| m.training);
        Update {
            rule: self.optimizer.or(rule).unwrap_or(Update::DEFAULT.rule),
            lr: self
                .lr
                .or(training.map(|t| t.learning_rate))
                .unwrap_or(Update::DEFAULT.lr),
            batch: self
                .batch
                .or(training.map(|t| t.batch_size as usize))
                .unwrap_or(Update::DEFAULT.batch),
        }
    }
}

/// `path` unless it is absent or [`crate::stdio::STANDARD_STREAM`]: an output to check and write
/// as a file.
pub(crate) fn file_output(path: &Option<PathBuf>) -> Option<&PathBuf> {
    path.as_ref().filter(|p| !is_standard_stream(p))
}

/// Adds to a command's summary `text` a line for each output written: `wrote` in a column
/// `width` characters wide, then the path.
pub(crate) fn list_written(text: &mut String, outputs: &Outputs, width: usize) {
    for path in outputs.written() {
        *text += &format!("{:width$}{}\n", "wrote", path.display());
    }
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
    list_written(&mut text, &outputs, 10);
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

/// The training settings of `run`'s flags for a network of `layers` updated by `update`.
pub(crate) fn settings(run: &RunArgs, layers: Vec<usize>, update: Update) -> TrainConfig {
    TrainConfig {
        optimizer: update.rule,
        learning_rate: update.lr,
        batch_size: update.batch,
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
