//! The command line: arguments (clap) and one function per command.

use crate::error::{Error, Result};
use crate::model_file::{ModelFile, SavedOptimizer};
use crate::net::Net;
use crate::output::{self, Location, Outputs};
use crate::parts::Parts;
use crate::progress::Progress;
use crate::report::{Columns, Report};
use crate::sweep::{self, Grid};
use crate::table::{Samples, Table};
use crate::train::{self, Ending, OptimizerKind, TrainConfig};
use crate::{export, interrupt, plot, predict, state_dict};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};
use tinytrain_core::format::Training;
use tinytrain_core::learner::Start;
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
    Device(crate::device::command::DeviceCommand),
}

/// `train`'s learning rate without `--lr` (or a `--model-in` model's).
pub(crate) const DEFAULT_LR: f32 = 0.01;
/// `train`'s batch size without `--batch` (or a `--model-in` model's).
pub(crate) const DEFAULT_BATCH: usize = 16;

/// The path that names standard input (`--data -`) or standard output (`--report -`).
pub const STANDARD_STREAM: &str = "-";

/// Whether `path` is [`STANDARD_STREAM`].
pub fn is_standard_stream(path: &Path) -> bool {
    path == Path::new(STANDARD_STREAM)
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
    /// The update rule [default: sgd, or the --model-in model's].
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerKind>,
    /// Learning rate (step size) [default: 0.01, or the --model-in model's].
    #[arg(long)]
    pub lr: Option<f32>,
    /// Samples per mini-batch [default: 16, or the --model-in model's].
    #[arg(long)]
    pub batch: Option<usize>,
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
    pub streaming: crate::stream::StreamArgs,
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

/// Runs a command, writing its results to `out` (progress and notes go to stderr).
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<()> {
    let quiet = cli.quiet;
    match cli.command {
        Command::Demo => demo(out),
        Command::Train(args) => train(args, quiet, out),
        Command::Predict(args) => predict(args, quiet, out),
        Command::Sweep(args) => sweep(args, quiet, out),
        Command::Export(args) => export(args, out),
        Command::Import(args) => import(args, out),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "tinytrain", &mut text);
            print(out, &String::from_utf8_lossy(&text))
        }
        Command::Device(command) => crate::device::command::run(command, out),
    }
}

fn demo(out: &mut dyn Write) -> Result<()> {
    use tinytrain_demo::host::{run_on_host, HostError};
    let story = run_on_host(out).map_err(|e| match e {
        HostError::Train(source) => Error::Core {
            context: "demo".into(),
            source,
        },
        HostError::Io(source) => Error::Write {
            path: "standard output".into(),
            source,
        },
        _ => Error::DemoFailed {
            reason: e.to_string(),
        },
    })?;
    let trained = story.trained;
    if !trained.beat {
        Err(Error::DemoFailed {
            reason: format!(
                "the network's test MSE {} is not {} times below the baseline's {}",
                trained.test_mse,
                tinytrain_demo::FACTOR,
                trained.baseline_test_mse
            ),
        })
    } else if !story.reloaded {
        Err(Error::DemoFailed {
            reason: "the model saved before the reset did not load back bit for bit".into(),
        })
    } else {
        Ok(())
    }
}

fn train(args: TrainArgs, quiet: bool, out: &mut dyn Write) -> Result<()> {
    let classification = args.data.classification()?;
    if args.stream {
        if classification.is_some() {
            return Err(Error::Flag {
                flag: "--stream",
                problem: "learns values on the mean squared error; it does not take \
                          --task classify"
                    .into(),
            });
        }
        return crate::stream::train(&args, quiet, out);
    }
    if let Some((weighting, capacity)) = classification {
        return crate::classify::command::train(args, weighting, capacity, quiet, out);
    }
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
    let layers = match (args.layers.clone(), saved) {
        (Some(layers), _) => layers.0,
        (None, Some(model)) => model.net.widths.clone(),
        (None, None) => vec![n_in, 16, 16, 1],
    };
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
    let saved_rule = saved.and_then(|m| OptimizerKind::of(&m.optimizer.as_ref()?.optimizer));
    let training = saved.and_then(|m| m.training);
    let rule = args.optimizer.or(saved_rule).unwrap_or(OptimizerKind::Sgd);
    let lr = args
        .lr
        .or(training.map(|t| t.learning_rate))
        .unwrap_or(DEFAULT_LR);
    let batch = args.batch.or(training.map(|t| t.batch_size as usize));
    let settings = settings(&args.run, layers, rule, lr, batch.unwrap_or(DEFAULT_BATCH));
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
        eprintln!("note: {}", start_note(path, start, rule));
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
    let mut outputs = Outputs::default();
    if let Some(path) = file_output(&args.report) {
        outputs.write(path, || Ok(report.to_json().into_bytes()));
    }
    let mut notes = Vec::new();
    if let Some(dir) = &args.plot {
        notes = plot::write_all(dir, &samples, &outcome, &mut outputs);
    }
    let untrained = outcome.run.untrained();
    if let Some(path) = &args.model {
        if !untrained || args.keep_untrained {
            let run = &outcome.run;
            let parts = (&run.net, &run.optimizer, run.training);
            outputs.write(path, || {
                model_file(parts, &samples, &args.model_without).to_bytes()
            });
        }
    }
    let mut text = report.summary();
    for note in notes {
        text += &format!("note      {note}\n");
    }
    args.finish(out, quiet, text, outputs, untrained, || report.to_json())
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

    /// Prints the summary `text` with the outputs written, or the JSON report for `--report -`,
    /// finishes the outputs, and ends with [`Error::Untrained`] for an `untrained` model.
    pub(crate) fn finish(
        &self,
        out: &mut dyn Write,
        quiet: bool,
        mut text: String,
        outputs: Outputs,
        untrained: bool,
        json: impl FnOnce() -> String,
    ) -> Result<()> {
        for path in outputs.written() {
            text += &format!("wrote     {}\n", path.display());
        }
        let to_stdout = self.report.is_some() && file_output(&self.report).is_none();
        results(out, quiet, &text, to_stdout.then(json))?;
        outputs.finish()?;
        if untrained {
            return Err(Error::Untrained {
                model: self.model.clone().filter(|_| !self.keep_untrained),
            });
        }
        Ok(())
    }
}

/// `path` unless it is absent or [`STANDARD_STREAM`]: an output to check and write as a file.
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
fn parts(run: &RunArgs, rows: usize) -> Result<Parts> {
    match &run.split {
        Some(path) => Parts::read(path, rows),
        None => Parts::draw(rows, run.val, run.test, run.seed),
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

fn predict(args: PredictArgs, quiet: bool, out: &mut dyn Write) -> Result<()> {
    let model = ModelFile::read(&args.model)?;
    if model.task == tinytrain_core::format::Task::Classification {
        return crate::classify::command::predict(&args, &model, quiet, out);
    }
    if args.probabilities {
        return Err(Error::Flag {
            flag: "--probabilities",
            problem: format!(
                "{} is a regression model: it predicts values, not classes",
                args.model.display()
            ),
        });
    }
    let table = Table::read(&args.data)?;
    let matched = predict::columns(&table, &model, &args.model, args.target.as_deref())?;
    for note in matched.notes.iter().filter(|_| !quiet) {
        eprintln!("note: {note}");
    }
    let samples = &matched.samples;
    let (csv, mse) = predict::csv(&model, samples)?;
    print(out, &csv)?;
    if let (Some(mse), Some(name), false) = (mse, &samples.target_name, quiet) {
        let n = samples.len();
        eprintln!("mse {mse:.6} over {n} samples (target {name})");
    }
    Ok(())
}

fn sweep(args: SweepArgs, quiet: bool, out: &mut dyn Write) -> Result<()> {
    if let Some((weighting, capacity)) = args.data.classification()? {
        return crate::classify::command::sweep(args, weighting, capacity, quiet, out);
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

/// A trained network as a model file, with the names of the columns it was trained on and its
/// optimizer's state and training settings, less the parts in `without`.
fn model_file(
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

fn export(args: ExportArgs, out: &mut dyn Write) -> Result<()> {
    let mut locations = Vec::new();
    if let Some(path) = &args.rust {
        locations.push(Location::file("--rust", path));
    }
    if let Some(path) = &args.safetensors {
        locations.push(Location::file("--safetensors", path));
    }
    output::check(&locations)?;
    let file = ModelFile::read(&args.model)?;
    let net = &file.net;
    let origin = args.model.file_name().unwrap_or_default().to_string_lossy();
    let mut outputs = Outputs::default();
    if let Some(path) = &args.rust {
        outputs.write(path, || Ok(export::rust_source(net, &origin).into_bytes()));
    }
    if let Some(path) = &args.safetensors {
        outputs.write(path, || state_dict::to_safetensors(&file));
    }
    let mut text = String::new();
    for path in outputs.written() {
        text += &format!(
            "wrote {} ({} parameters, widths {})\n",
            path.display(),
            net.params.len(),
            train::widths_text(&net.widths)
        );
    }
    print(out, &text)?;
    outputs.finish().map(drop)
}

fn import(args: ImportArgs, out: &mut dyn Write) -> Result<()> {
    output::check(&[Location::file("--model", &args.model)])?;
    let file = state_dict::read(&args.safetensors)?;
    file.write(&args.model)?;
    let net = &file.net;
    let text = format!(
        "wrote {} ({} parameters, widths {})\n",
        args.model.display(),
        net.params.len(),
        train::widths_text(&net.widths)
    );
    print(out, &text)
}

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

pub(crate) fn print(out: &mut dyn Write, text: &str) -> Result<()> {
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|source| Error::Write {
            path: "standard output".into(),
            source,
        })
}
