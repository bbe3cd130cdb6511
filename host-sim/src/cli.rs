//! The command line's arguments (clap): every command's flags, their defaults and help. The
//! commands take them (module `command`); `run` dispatches.

use crate::error::{Error, Result};
use crate::stream::{arena_len, Policy};
use crate::train::OptimizerKind;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use tinytrain_core::stream::StreamConfig;
use tinytrain_core::{Config, Init};

/// Train small neural networks on the desktop with the same code that trains them on a
/// microcontroller.
#[derive(Debug, Parser)]
#[command(name = "tinytrain", version, about)]
pub struct Cli {
    /// No progress, notes or summary: only errors, and what the command was asked to write.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the firmware's demo on the desktop, printing the same log lines.
    Demo,
    /// Train a network on a CSV file, report, plot, save the model.
    Train(TrainArgs),
    /// Predict with a saved model: CSV on stdout — a classifier's label and, with
    /// --probabilities, each class's probability — and the MSE (or accuracy) on stderr if the
    /// target is given.
    Predict(PredictArgs),
    /// Train every combination of the given settings and choose by validation loss.
    #[command(after_help = SWEEP_WARNING)]
    Sweep(SweepArgs),
    /// Write a saved model as Rust constants (to build into firmware) or as a PyTorch
    /// state_dict in a safetensors file.
    Export(ExportArgs),
    /// Read a PyTorch nn.Sequential(Linear, ReLU, …, Linear) state_dict from a safetensors
    /// file into a model file.
    Import(ImportArgs),
    /// Print a shell's completion script: `tinytrain completions bash > ~/.local/share/bash-completion/completions/tinytrain`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Learn on a device: stream your CSV to the firmware, on the emulated board or a real one.
    #[command(subcommand)]
    Device(DeviceCommand),
}

/// Why a sweep tests only the configuration it chose.
pub const SWEEP_WARNING: &str = "\
Warning: the configurations are compared on the validation set. Each comparison fits the
choice a little more to that particular set, so the winner's validation loss is optimistic,
and the more so the more configurations are tried: tuning overfits the validation set. The
test set is therefore evaluated once, for the chosen configuration only, and its loss is the
honest estimate. Sweeping again because of the test loss would overfit the test set too.";

/// Layer widths, input first, e.g. `1,16,16,1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Widths(pub Vec<usize>);

impl std::str::FromStr for Widths {
    type Err = String;

    /// ```
    /// use tinytrain_host_sim::cli::Widths;
    /// assert_eq!("1, 16,1".parse::<Widths>(), Ok(Widths(vec![1, 16, 1])));
    /// assert!("1,x,1".parse::<Widths>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(',')
            .map(|w| match w.trim().parse::<usize>() {
                Ok(w) if w > 0 => Ok(w),
                _ => Err(format!(
                    "{w:?} is not a width: expected widths greater than 0 separated by commas, \
                     e.g. 1,16,16,1"
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Widths)
    }
}

/// The CSV file, its target column and what it holds.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// CSV file with a header row; every column holds numbers, but the labels of a classifier
    /// (`-`: standard input).
    #[arg(long, value_name = "FILE.csv")]
    pub data: PathBuf,
    /// The target column, by name or 1-based number [default: the last column].
    #[arg(long, value_name = "COL")]
    pub target: Option<String>,
    /// What the target holds: numbers to predict (`regress`, on the MSE) or class labels, text
    /// or numbers (`classify`, on the softmax cross-entropy; the classes sorted — numerically
    /// when every label is a number — are the network's outputs in order).
    #[arg(long, value_enum, default_value_t = Task::Regress)]
    pub task: Task,
    /// How each class weighs in the loss (`--task classify`): `balanced` weighs every class
    /// the same, n / (classes × n_class) per sample of the training split.
    #[arg(long, value_enum, value_name = "WEIGHTS")]
    pub class_weights: Option<crate::classify::Weighting>,
    /// The most classes a label column may hold (`--task classify`), at most 1000.
    #[arg(long, value_name = "K")]
    pub max_classes: Option<usize>,
}

/// What a model learns to predict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Task {
    /// Numbers: regression on the mean squared error.
    Regress,
    /// Classes: classification on the softmax cross-entropy.
    Classify,
}

impl DataArgs {
    /// The classification flags, checked: an error for one given without `--task classify`,
    /// or for `--max-classes` out of its range.
    pub fn classification(&self) -> Result<Option<(crate::classify::Weighting, usize)>> {
        use crate::classify::{Weighting, DEFAULT_MAX_CLASSES};
        use crate::table::MAX_CLASSES;
        if self.task == Task::Regress {
            let flag = if self.class_weights.is_some() {
                "--class-weights"
            } else if self.max_classes.is_some() {
                "--max-classes"
            } else {
                return Ok(None);
            };
            return Err(Error::Flag {
                flag,
                problem: "applies to classifiers only: add --task classify".into(),
            });
        }
        let capacity = self.max_classes.unwrap_or(DEFAULT_MAX_CLASSES);
        if !(2..=MAX_CLASSES).contains(&capacity) {
            return Err(Error::Flag {
                flag: "--max-classes",
                problem: format!("{capacity} is not from 2 to {MAX_CLASSES}"),
            });
        }
        Ok(Some((
            self.class_weights.unwrap_or(Weighting::None),
            capacity,
        )))
    }
}

/// Options shared by `train` and `sweep`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Upper bound on epochs.
    #[arg(long, default_value_t = 500)]
    pub epochs: u32,
    /// Epochs in a row without validation improvement tolerated before stopping early
    /// (0: stop at the first epoch that does not improve).
    #[arg(long, default_value_t = 20)]
    pub patience: u32,
    /// Seeds the split (unless --split gives it), the initial weights and the shuffle.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Fraction of the samples held out for validation (early stopping, model choice).
    #[arg(long, default_value_t = 0.2)]
    pub val: f32,
    /// Fraction of the samples held out for the final test, evaluated once.
    #[arg(long, default_value_t = 0.2)]
    pub test: f32,
    /// Train on the inputs and target in their raw units instead of standardising them with
    /// the training split's mean and deviation.
    #[arg(long)]
    pub no_standardize: bool,
    /// How the initial weights are drawn.
    #[arg(long, value_name = "SCHEME", default_value = Config::DEFAULT.init.name(),
          value_parser = PossibleValuesParser::new(Init::ALL.map(|i| i.name())).map(init))]
    pub init: Init,
    /// Divergence: the training loss above this multiple of its initial value (at least the
    /// targets' variance) for several epochs in a row.
    #[arg(long, value_name = "K", default_value_t = Config::DEFAULT.divergence_factor)]
    pub divergence_factor: f32,
    /// Read the split from a JSON file instead of drawing it: {"train": [...], "val": [...],
    /// "test": [...]} with 0-based data rows, or a report of `train --report`.
    #[arg(long, value_name = "FILE.json")]
    pub split: Option<PathBuf>,
}

/// The scheme named `name` (one of the parser's possible values).
pub(crate) fn init(name: String) -> Init {
    Init::ALL
        .into_iter()
        .find(|i| i.name() == name)
        .unwrap_or_default()
}

/// `tinytrain train`.
#[derive(Debug, Args)]
#[command(mut_group("StreamArgs", |group| group.requires("stream")))]
pub struct TrainArgs {
    /// The data.
    #[command(flatten)]
    pub data: DataArgs,
    /// Layer widths, input first; the first is the number of feature columns, the last 1 (the
    /// number of classes with --task classify) [default: FEATURES,16,16,1 or FEATURES,16,16,K].
    #[arg(long, value_name = "WIDTHS")]
    pub layers: Option<Widths>,
    /// How the weights are updated.
    #[command(flatten)]
    pub update: UpdateArgs,
    /// Start from a saved model, to fine-tune it: its weights, its standardisation and, when it
    /// holds the state of the same update rule, its optimizer's state — training resumes where
    /// it stopped (without that state the learning rate warms up). The file's columns are
    /// matched to the model's inputs by name; its widths, rule, learning rate and batch size
    /// are the defaults. With --stream: its weights and standardisation (no warm-up), and the
    /// same defaults.
    #[arg(long, value_name = "FILE.ttm")]
    pub model_in: Option<PathBuf>,
    /// How to train.
    #[command(flatten)]
    pub run: RunArgs,
    /// Write a JSON report: losses, diagnostics, history, settings (`-`: to standard output,
    /// the summary then going to standard error).
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,
    /// Write PNG figures into this directory: loss curves, and the learned function.
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
    /// Save the trained model in tinytrain's binary format: weights, standardisation, the
    /// columns' names, and the optimizer's state and training settings (to resume training).
    #[arg(long, value_name = "FILE.ttm")]
    pub model: Option<PathBuf>,
    /// Parts to leave out of the saved model, comma-separated: `names` (the columns' names),
    /// `state` (the optimizer's state and the training settings).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "PARTS",
        requires = "model"
    )]
    pub model_without: Vec<ModelPart>,
    /// Save the model even if no epoch beat the initial weights (the exit code is still 3).
    #[arg(long)]
    pub keep_untrained: bool,
    /// Learn from the rows as a stream, one at a time in file order, as a device learns from
    /// a sensor: a replay buffer, a held-out validation window, drift detection (instead of
    /// epochs over a split; --val, --test and --epochs do not apply).
    #[arg(long)]
    pub stream: bool,
    /// How to learn from the stream (with --stream only).
    #[command(flatten)]
    pub streaming: StreamArgs,
}

/// How the weights are updated, the flags of `train` and `device train`: each defaults to the
/// `--model-in` model's.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The update rule [default: sgd, or the --model-in model's].
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerKind>,
    /// Learning rate (step size) [default: 0.01, or the --model-in model's].
    #[arg(long)]
    pub lr: Option<f32>,
    /// Samples per mini-batch [default: 16, or the --model-in model's].
    #[arg(long)]
    pub batch: Option<usize>,
}

/// A part of a model file that can be left out (`--model-without`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelPart {
    /// The names of the input and target columns (`predict` then takes columns by position).
    Names,
    /// The optimizer's state and the training settings (fine-tuning then starts the optimizer
    /// afresh, with a warm-up).
    State,
}

/// `tinytrain predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The model file written by `tinytrain train --model`.
    #[arg(long, value_name = "FILE.ttm")]
    pub model: PathBuf,
    /// CSV file with the model's input columns, optionally and the target column (`-`: standard
    /// input).
    #[arg(long, value_name = "FILE.csv")]
    pub data: PathBuf,
    /// The target column, by name or 1-based number [default: the last column, if the file
    /// has one more column than the model has inputs; for a classifier, the one column that is
    /// not an input].
    #[arg(long, value_name = "COL")]
    pub target: Option<String>,
    /// A classifier's output also holds each class's probability (softmax of the logits), in
    /// columns `probability_<label>`.
    #[arg(long)]
    pub probabilities: bool,
}

/// `tinytrain sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The data.
    #[command(flatten)]
    pub data: DataArgs,
    /// Layer widths to try; repeat the flag for more [default: FEATURES,16,16,1, or
    /// FEATURES,16,16,K for K classes].
    #[arg(long, value_name = "WIDTHS")]
    pub layers: Vec<Widths>,
    /// Update rules to try, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "sgd")]
    pub optimizer: Vec<OptimizerKind>,
    /// Learning rates to try, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0.01")]
    pub lr: Vec<f32>,
    /// Batch sizes to try, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "16")]
    pub batch: Vec<usize>,
    /// Training runs per combination, with the seeds SEED, SEED+1, …, on the same split: the
    /// choice is made on their mean validation loss.
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub repeats: u32,
    /// How to train.
    #[command(flatten)]
    pub run: RunArgs,
    /// Write every combination's results and the choice as JSON (`-`: to standard output, the
    /// table then going to standard error).
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,
    /// Save the chosen model (as `train --model` does).
    #[arg(long, value_name = "FILE.ttm")]
    pub model: Option<PathBuf>,
    /// Parts to leave out of the saved model (as `train --model-without`).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "PARTS",
        requires = "model"
    )]
    pub model_without: Vec<ModelPart>,
}

/// `tinytrain export`.
#[derive(Debug, Args)]
#[command(group(
    clap::ArgGroup::new("outputs").required(true).multiple(true).args(["rust", "safetensors"])
))]
pub struct ExportArgs {
    /// The model file written by `tinytrain train --model`.
    #[arg(long, value_name = "FILE.ttm")]
    pub model: PathBuf,
    /// The Rust file to write.
    #[arg(long, value_name = "OUT.rs")]
    pub rust: Option<PathBuf>,
    /// The safetensors file to write: the state_dict of PyTorch's nn.Sequential(Linear, ReLU,
    /// …, Linear) and the standardisation as tensors input_mean, input_std, target_mean,
    /// target_std.
    #[arg(long, value_name = "OUT.safetensors")]
    pub safetensors: Option<PathBuf>,
}

/// `tinytrain import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A safetensors file holding the state_dict of nn.Sequential(Linear, ReLU, …, Linear)
    /// (tensors 0.weight, 0.bias, 2.weight, …), optionally with the standardisation tensors
    /// input_mean, input_std, target_mean, target_std.
    #[arg(long, value_name = "FILE.safetensors")]
    pub safetensors: PathBuf,
    /// The model file to write.
    #[arg(long, value_name = "OUT.ttm")]
    pub model: PathBuf,
}

/// The stream learner's flags, shared by `train --stream` and `device train` (the same names,
/// defaults and meaning on the host and on a device).
#[derive(Debug, Clone, clap::Args)]
pub struct StreamArgs {
    /// Training rows the replay buffer holds.
    #[arg(long, value_name = "N", default_value_t = StreamConfig::DEFAULT.replay)]
    pub replay: usize,
    /// What the replay buffer keeps once full.
    #[arg(long, value_enum, default_value_t = Policy::Reservoir)]
    pub replay_policy: Policy,
    /// Every K-th row (by its position in the stream) is held out for validation.
    #[arg(long, value_name = "K", default_value_t = StreamConfig::DEFAULT.holdout_every)]
    pub holdout_every: u32,
    /// Held-out rows kept for validation, the most recent.
    #[arg(long, value_name = "V", default_value_t = StreamConfig::DEFAULT.validation)]
    pub validation_window: usize,
    /// Every T-th row goes to a test window, scored once at the end (0: none).
    #[arg(long, value_name = "T", default_value_t = 0)]
    pub test_every: u32,
    /// Test rows kept, the most recent [default: 64 with --test-every, else 0].
    #[arg(long, value_name = "N")]
    pub test_window: Option<usize>,
    /// Rows that fit the standardisation before training starts.
    #[arg(long, value_name = "W", default_value_t = StreamConfig::DEFAULT.warmup)]
    pub warmup: u32,
    /// Mini-batch steps after every M rows.
    #[arg(long, value_name = "S", default_value_t = StreamConfig::DEFAULT.steps_per)]
    pub steps_per: u32,
    /// Rows between steps.
    #[arg(long, value_name = "M", default_value_t = StreamConfig::DEFAULT.every)]
    pub every: u32,
    /// Validation loss above this multiple of its typical level is drift.
    #[arg(long, value_name = "F", default_value_t = StreamConfig::DEFAULT.drift_factor)]
    pub drift_factor: f32,
    /// Epochs in a row above the drift factor that make a drift.
    #[arg(long, value_name = "E", default_value_t = StreamConfig::DEFAULT.drift_epochs)]
    pub drift_epochs: u32,
    /// The first layer trained, 0-based: the layers below keep their weights (fine-tuning,
    /// with --model-in).
    #[arg(long, value_name = "L", default_value_t = 0)]
    pub trainable_from: usize,
    /// Feed the rows in an order shuffled by this seed instead of file order.
    #[arg(long, value_name = "SEED")]
    pub shuffle_stream: Option<u64>,
}

/// Each stream setting the core checks ([`StreamConfig::validate`]): its name there, its flag
/// here, and the rule.
const RULES: [(&str, &str, &str); 11] = [
    (
        "batch_size",
        "--batch",
        "a stream's mini-batch is drawn from the replay buffer: at most --replay rows",
    ),
    (
        "replay",
        "--replay",
        "the replay buffer holds at least 1 row",
    ),
    (
        "holdout_every",
        "--holdout-every",
        "every K-th row is held out for validation and the others train: K is at least 2",
    ),
    (
        "validation",
        "--validation-window",
        "the validation window holds at least 1 row",
    ),
    (
        "test_every",
        "--test-every",
        "0 (no test window), or at least 2 and not a multiple of --holdout-every (those rows \
         are held out for validation)",
    ),
    (
        "test",
        "--test-window",
        "at least 1 row with --test-every, and no test window without it",
    ),
    (
        "warmup",
        "--warmup",
        "at least 1 row fits the standardisation (or --no-standardize)",
    ),
    (
        "every",
        "--every",
        "steps come after every M rows: M is at least 1",
    ),
    ("steps_per", "--steps-per", "at least 1 step"),
    (
        "drift_factor",
        "--drift-factor",
        "a finite multiple of the typical validation loss greater than 1",
    ),
    ("drift_epochs", "--drift-epochs", "at least 1 epoch"),
];

impl StreamArgs {
    /// The core's stream settings for a network of `widths` trained with `config`, checked
    /// before any row is read: a setting out of its range is an error naming its flag, its
    /// value and the rule (a mini-batch larger than the replay buffer it is drawn from among
    /// them), and so are buffers beyond [`arena_len`].
    pub fn checked(&self, widths: &[usize], config: &Config) -> Result<StreamConfig> {
        let settings = self.settings();
        if let Err(tinytrain_core::Error::InvalidHyperparameter { name }) =
            settings.validate(config)
        {
            if let Some(&(_, flag, rule)) = RULES.iter().find(|(n, _, _)| *n == name) {
                let value = match name {
                    "batch_size" => config.batch_size.to_string(),
                    _ => self.value(name),
                };
                return Err(Error::Flag {
                    flag,
                    problem: format!("{value}: {rule}"),
                });
            }
        }
        arena_len(widths, config, &settings)?;
        Ok(settings)
    }

    /// The value given for the core's setting `name`, as text.
    fn value(&self, name: &str) -> String {
        let s = self.settings();
        match name {
            "replay" => s.replay.to_string(),
            "holdout_every" => s.holdout_every.to_string(),
            "validation" => s.validation.to_string(),
            "test_every" => s.test_every.to_string(),
            "test" => s.test.to_string(),
            "warmup" => s.warmup.to_string(),
            "every" => s.every.to_string(),
            "steps_per" => s.steps_per.to_string(),
            "drift_factor" => s.drift_factor.to_string(),
            _ => s.drift_epochs.to_string(),
        }
    }

    /// The core's stream settings.
    pub fn settings(&self) -> StreamConfig {
        let test = self
            .test_window
            .unwrap_or(if self.test_every > 0 { 64 } else { 0 });
        StreamConfig {
            replay: self.replay,
            policy: self.replay_policy.policy(),
            holdout_every: self.holdout_every,
            validation: self.validation_window,
            test_every: self.test_every,
            test,
            warmup: self.warmup,
            every: self.every,
            steps_per: self.steps_per,
            drift_factor: self.drift_factor,
            drift_epochs: self.drift_epochs,
        }
    }
}

/// `tinytrain device …`.
#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Stream a CSV file's rows, in order (or --shuffle-stream), to a device that learns from
    /// them as they arrive, with the flags and bits of `train --stream`, and get the trained
    /// model back. Without --port, the emulated board (QEMU mps2-an386).
    Train(DeviceTrainArgs),
}

/// `tinytrain device train`.
#[derive(Debug, Args)]
pub struct DeviceTrainArgs {
    /// The data, sent in row order.
    #[command(flatten)]
    pub data: DataArgs,
    /// Layer widths, input first [default: FEATURES,16,16,1].
    #[arg(long, value_name = "WIDTHS")]
    pub layers: Option<Widths>,
    /// How the weights are updated.
    #[command(flatten)]
    pub update: UpdateArgs,
    /// Start from a saved model: its weights and standardisation (no warm-up); its widths,
    /// update rule, learning rate and batch size are the defaults (as `train --model-in`).
    #[arg(long, value_name = "FILE.ttm")]
    pub model_in: Option<PathBuf>,
    /// Epochs without validation improvement before training pauses.
    #[arg(long, default_value_t = 20)]
    pub patience: u32,
    /// Seeds the initial weights, the reservoir and the mini-batches.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Learn from the inputs and target in their raw units instead of standardising them with
    /// the warm-up's mean and deviation.
    #[arg(long)]
    pub no_standardize: bool,
    /// How the initial weights are drawn.
    #[arg(long, value_name = "SCHEME", default_value = Config::DEFAULT.init.name(),
          value_parser = PossibleValuesParser::new(Init::ALL.map(|i| i.name())).map(init))]
    pub init: Init,
    /// How to learn from the stream: the flags of `train --stream`.
    #[command(flatten)]
    pub streaming: StreamArgs,
    /// Save the trained model (the core's format) here.
    #[arg(long, value_name = "FILE.ttm")]
    pub model: Option<PathBuf>,
    /// Write a JSON report: every epoch, event and save, the device, the link.
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,
    /// Save the model even if no epoch beat the initial weights (the exit code is still 3).
    #[arg(long)]
    pub keep_untrained: bool,
    /// A real board's serial port (e.g. /dev/ttyACM0); without it, the emulated board.
    #[arg(long, value_name = "PORT")]
    pub port: Option<String>,
    /// The serial port's speed (with `--port`).
    #[arg(long, default_value_t = 115_200)]
    pub baud: u32,
    /// The link firmware for the emulated board [default: the repository's build,
    /// firmware/target/thumbv7em-none-eabihf/release/link; `cargo xtask link-firmware` builds it].
    #[arg(long, value_name = "ELF", conflicts_with = "port")]
    pub elf: Option<PathBuf>,
    /// The QEMU program [default: qemu-system-arm on the PATH].
    #[arg(long, value_name = "PATH", conflicts_with = "port")]
    pub qemu: Option<PathBuf>,
    /// Count the emulated device's instructions (QEMU `-icount`): exact and repeatable, about
    /// half as fast.
    #[arg(long, conflicts_with = "port")]
    pub count_instructions: bool,
    /// Write the emulated device's defmt log (raw frames: `defmt-print -e ELF < FILE` decodes
    /// them) to this file, whatever the outcome.
    #[arg(long, value_name = "FILE", conflicts_with = "port")]
    pub device_log: Option<PathBuf>,
}
