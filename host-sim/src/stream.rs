//! `tinytrain train --stream`: the CSV's rows fed one at a time, in order (or shuffled with
//! `--shuffle-stream`), to the core's stream driver ([`tinytrain_core::stream`]) — the learner a
//! device runs on samples as they arrive — with its report, figure and model.

use crate::error::{Error, Result};
use crate::model_file::ModelFile;
use crate::net::Net;
use crate::numbers::number;
use crate::table::Samples;
use crate::train::{widths_text, OptimizerKind};
use serde::Serialize;
use std::io::Write as _;
use tinytrain_core::stream::{
    ReplayPolicy, Stream, StreamConfig, StreamEpoch, StreamProgress, StreamReport,
};
use tinytrain_core::{shape, Config, Event, Lcg};

/// Samples of a mini-batch that go through the network at once (the same bits as one at a
/// time).
const CHUNK: usize = 16;

/// What the replay buffer keeps once full, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// A uniform sample of every training row seen (for a stationary signal).
    Reservoir,
    /// The most recent training rows (for a drifting signal).
    Window,
}

impl Policy {
    /// The core's policy.
    pub fn policy(self) -> ReplayPolicy {
        match self {
            Policy::Reservoir => ReplayPolicy::Reservoir,
            Policy::Window => ReplayPolicy::Window,
        }
    }
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

/// Everything chosen before a stream run: the `config` of its report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamSettings {
    /// Layer widths, input first.
    pub layers: Vec<usize>,
    /// The update rule.
    pub optimizer: OptimizerKind,
    /// Step size.
    pub learning_rate: f32,
    /// Samples per mini-batch.
    pub batch_size: usize,
    /// Epochs without validation improvement before the stream pauses.
    pub patience: u32,
    /// Seeds the initial weights, the reservoir and the mini-batches.
    pub seed: u64,
    /// Standardise with statistics fitted on the warm-up.
    pub standardize: bool,
    /// How the initial weights are drawn.
    #[serde(serialize_with = "crate::train::init_name")]
    pub init: tinytrain_core::Init,
    /// The first layer trained (0-based).
    pub trainable_from: usize,
    /// The order of the rows: `None` for file order, else the shuffle's seed.
    pub shuffle_stream: Option<u64>,
    /// The model the stream started from.
    pub model_in: Option<String>,
    /// Replay buffer size.
    pub replay: usize,
    /// Replay policy: `reservoir` or `window`.
    pub replay_policy: Policy,
    /// Every this many rows, one is held out for validation.
    pub holdout_every: u32,
    /// Validation window size.
    pub validation_window: usize,
    /// Every this many rows, one goes to the test window (0: none).
    pub test_every: u32,
    /// Test window size.
    pub test_window: usize,
    /// Warm-up rows.
    pub warmup: u32,
    /// Rows between scheduled steps.
    pub every: u32,
    /// Steps after every `every` rows.
    pub steps_per: u32,
    /// Drift threshold, a multiple of the typical validation loss.
    pub drift_factor: f32,
    /// Epochs above it that make a drift.
    pub drift_epochs: u32,
}

impl StreamSettings {
    /// The core's learner configuration.
    pub fn config(&self) -> Config {
        Config {
            learning_rate: self.learning_rate,
            batch_size: self.batch_size,
            patience: self.patience,
            seed: self.seed,
            optimizer: self.optimizer.optimizer(),
            standardize: self.standardize,
            init: self.init,
            trainable_from: self.trainable_from,
            ..Config::DEFAULT
        }
    }

    /// The core's stream settings.
    pub fn stream(&self) -> StreamConfig {
        StreamConfig {
            replay: self.replay,
            policy: self.replay_policy.policy(),
            holdout_every: self.holdout_every,
            validation: self.validation_window,
            test_every: self.test_every,
            test: self.test_window,
            warmup: self.warmup,
            every: self.every,
            steps_per: self.steps_per,
            drift_factor: self.drift_factor,
            drift_epochs: self.drift_epochs,
        }
    }
}

/// A finished stream run.
#[derive(Debug, Clone)]
pub struct StreamRun {
    /// Every epoch, in order.
    pub epochs: Vec<StreamEpoch>,
    /// The stream's report at the end.
    pub report: StreamReport,
    /// The checkpoint: the best-validation weights.
    pub net: Net,
    /// Their MSE on the test window (`None` without one).
    pub test_mse: Option<f32>,
    /// Ctrl-C stopped the stream before its last row.
    pub interrupted: bool,
}

/// The `f32` values of the arena of a stream of `widths` with `config` and `settings` (its
/// network, optimizer state and buffers, [`shape::stream_arena_len`] with 16 samples
/// at once), at most [`shape::MAX_PARAMS`]: [`Error::StreamTooLarge`] beyond (a replay buffer
/// of 10¹¹ samples would abort the allocation).
pub fn arena_len(widths: &[usize], config: &Config, settings: &StreamConfig) -> Result<usize> {
    let values = shape::stream_arena_len(widths, config, settings, CHUNK);
    if values > shape::MAX_PARAMS {
        return Err(Error::StreamTooLarge {
            replay: settings.replay,
            validation: settings.validation,
            test: settings.test,
            values,
            max: shape::MAX_PARAMS,
        });
    }
    Ok(values)
}

/// Feeds the rows of `samples` — in `order` (row indices; file order if `None`) — to a stream
/// learner, starting from `start` if given, calling `on_epoch` after every epoch with the
/// stream's report then (whose [`StreamReport::to_original_units`] converts its losses).
pub fn run(
    samples: &Samples,
    settings: &StreamSettings,
    start: Option<&Net>,
    order: Option<&[usize]>,
    mut on_epoch: impl FnMut(&StreamEpoch, &StreamReport),
) -> Result<StreamRun> {
    let widths = &settings.layers;
    let (config, stream_config) = (settings.config(), settings.stream());
    let mut arena = vec![0.0; arena_len(widths, &config, &stream_config)?];
    let mut moments = vec![0.0; shape::moments_len(widths)];
    let mut stream = Stream::<CHUNK>::new(widths, config, stream_config, &mut arena, &mut moments)
        .map_err(Error::core("--stream settings"))?;
    if let Some(net) = start {
        let model = net.model()?;
        stream
            .set_model(&model)
            .map_err(Error::core("--model-in"))?;
    }
    let n_in = samples.n_in();
    let rows = samples.len();
    let mut epochs = Vec::new();
    let mut interrupted = false;
    for k in 0..rows {
        if crate::interrupt::requested() {
            interrupted = true;
            break;
        }
        let row = order.and_then(|o| o.get(k).copied()).unwrap_or(k);
        let x = samples
            .inputs
            .get(row * n_in..(row + 1) * n_in)
            .unwrap_or(&[]);
        let y = samples.targets.get(row..=row).unwrap_or(&[]);
        stream.push(x, y).map_err(Error::core(format!(
            "row {} of {}",
            row + 1,
            samples.path.display()
        )))?;
        loop {
            match stream.step() {
                StreamProgress::Idle => break,
                StreamProgress::Step => {}
                StreamProgress::Epoch(epoch) => {
                    on_epoch(&epoch, &stream.report());
                    epochs.push(epoch);
                }
            }
        }
    }
    let report = stream.report();
    let done = stream.finish();
    Ok(StreamRun {
        epochs,
        report,
        net: Net::from_model(&done.model),
        test_mse: done.test_loss,
        interrupted,
    })
}

/// The order `--shuffle-stream SEED` feeds `rows` rows in: a permutation by the core's
/// seeded Fisher–Yates shuffle.
pub fn shuffled(rows: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<u32> = (0..rows as u32).collect();
    tinytrain_core::rng::shuffle(&mut order, &mut Lcg::new(seed));
    order.into_iter().map(|i| i as usize).collect()
}

/// One epoch of the report's `history`. MSEs in the target's units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EpochRow {
    /// 1-based, paused epochs included.
    pub epoch: u32,
    /// Rows taken in when it ended.
    pub arrivals: u64,
    /// Mean training MSE (`null` while paused, or diverged).
    pub train_mse: Option<f64>,
    /// Validation MSE (`null` before any row is held out).
    pub val_mse: Option<f64>,
    /// RMS of the steps' gradient norms (`null` while paused).
    pub grad_norm: Option<f32>,
    /// These weights became the checkpoint.
    pub best: bool,
    /// The stream is paused at its end.
    pub paused: bool,
}

impl EpochRow {
    /// The row of `epoch`; `report` converts its losses to the target's units.
    pub fn new(epoch: &StreamEpoch, report: &StreamReport) -> Self {
        let original = |v: f32| Some(report.to_original_units(v)).filter(|v| v.is_finite());
        Self {
            epoch: epoch.epoch,
            arrivals: epoch.arrivals,
            train_mse: epoch.train_loss.and_then(original),
            val_mse: epoch.val_loss.and_then(original),
            grad_norm: epoch.grad_norm.filter(|v| v.is_finite()),
            best: epoch.improved,
            paused: epoch.paused,
        }
    }
}

/// One event of the report. MSEs in the target's units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRow {
    /// `paused`, `drift`, `resumed` or `spike`.
    pub kind: &'static str,
    /// The epoch it happened at.
    pub epoch: u32,
    /// Rows taken in by then.
    pub arrivals: u64,
    /// For a pause: why (`early_stopped`, `converged`, `stalled`, `diverged`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// For a drift: the typical validation MSE before it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_mse: Option<f64>,
    /// For a drift: the validation MSE that confirmed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub val_mse: Option<f64>,
    /// For a drift: the best weights' MSE on the window then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint_mse: Option<f64>,
}

impl EventRow {
    fn new(kind: &'static str, epoch: &StreamEpoch) -> Self {
        Self {
            kind,
            epoch: epoch.epoch,
            arrivals: epoch.arrivals,
            reason: None,
            reference_mse: None,
            val_mse: None,
            checkpoint_mse: None,
        }
    }
}

/// Every event of a run, in order; `report` converts its losses to the target's units.
pub fn events(epochs: &[StreamEpoch], report: &StreamReport) -> Vec<EventRow> {
    let original = |v: f32| Some(report.to_original_units(v));
    let mut rows = Vec::new();
    for epoch in epochs {
        for event in epoch.events() {
            rows.push(match event {
                Event::Paused(reason) => EventRow {
                    reason: Some(reason.name()),
                    ..EventRow::new("paused", epoch)
                },
                Event::Drift(d) => EventRow {
                    reference_mse: original(d.reference),
                    val_mse: original(d.val),
                    checkpoint_mse: original(d.checkpoint_val),
                    ..EventRow::new("drift", epoch)
                },
                Event::Resumed => EventRow::new("resumed", epoch),
                Event::Spike(_) => EventRow::new("spike", epoch),
                _ => EventRow::new("other", epoch),
            });
        }
    }
    rows
}

/// The JSON report of `train --stream`. Every MSE is in the target's original units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The CSV file.
    pub data: String,
    /// Rows in it.
    pub rows: usize,
    /// Rows fed to the stream (fewer if interrupted).
    pub arrivals: u64,
    /// Epochs run, paused ones included.
    pub epochs_run: u32,
    /// The epoch of the checkpoint the model holds.
    pub best_epoch: u32,
    /// Its validation MSE (on the latest window it was scored on).
    pub best_val_mse: Option<f64>,
    /// Why the stream was paused at the end (`null`: training).
    pub paused: Option<&'static str>,
    /// Drifts seen.
    pub drifts: u32,
    /// The checkpoint's MSE on the test window, scored once (`null` without one).
    pub test_mse: Option<f64>,
    /// The target's variance fitted on the warm-up (or the starting model's): the factor
    /// from the standardised losses the stream judges in to the MSEs reported here.
    pub loss_scale: f64,
    /// Every pause, drift and resume.
    pub events: Vec<EventRow>,
    /// Every epoch.
    pub history: Vec<EpochRow>,
    /// The settings.
    pub config: StreamSettings,
}

impl Report {
    /// The report of `run` on `data` (the file's name) of `rows` rows.
    pub fn new(data: &str, rows: usize, settings: &StreamSettings, run: &StreamRun) -> Self {
        Self::of(data, rows, settings, &run.epochs, &run.report, run.test_mse)
    }

    /// The report of a stream on `data` of `rows` rows so far: its `epochs`, its report `r` and
    /// the checkpoint's test-window loss `test` (standardised; `None` until it is scored).
    pub fn of(
        data: &str,
        rows: usize,
        settings: &StreamSettings,
        epochs: &[StreamEpoch],
        r: &StreamReport,
        test: Option<f32>,
    ) -> Self {
        let original = |v: f32| Some(r.to_original_units(v)).filter(|v| v.is_finite());
        Self {
            data: data.to_owned(),
            rows,
            arrivals: r.arrivals,
            epochs_run: r.epochs,
            best_epoch: r.best_epoch,
            best_val_mse: original(r.best_val),
            paused: r.paused.map(|p| p.name()),
            drifts: r.drifts,
            test_mse: test.and_then(original),
            loss_scale: r.loss_scale,
            events: events(epochs, r),
            history: epochs.iter().map(|e| EpochRow::new(e, r)).collect(),
            config: settings.clone(),
        }
    }

    /// Pretty-printed JSON.
    pub fn to_json(&self) -> String {
        // A struct of numbers, strings and vectors always serialises.
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// The summary printed by `tinytrain train --stream`.
    pub fn summary(&self) -> String {
        let c = &self.config;
        let order = match c.shuffle_stream {
            Some(seed) => format!("shuffled (seed {seed})"),
            None => "in file order".to_owned(),
        };
        let mut s = format!(
            "data      {} ({} rows {order}, {} fed)\n\
             model     {} {}, lr {}, batch {}, seed {}{}\n\
             stream    replay {} ({}), every {}th row held out (window {}), warm-up {}, \
             {} step(s) every {} rows\n",
            self.data,
            self.rows,
            self.arrivals,
            widths_text(&c.layers),
            c.optimizer.name(),
            c.learning_rate,
            c.batch_size,
            c.seed,
            if c.trainable_from > 0 {
                format!(", layers below {} frozen", c.trainable_from)
            } else {
                String::new()
            },
            c.replay,
            match c.replay_policy {
                Policy::Reservoir => "reservoir",
                Policy::Window => "window",
            },
            c.holdout_every,
            c.validation_window,
            c.warmup,
            c.steps_per,
            c.every,
        );
        for e in &self.events {
            s += &format!(
                "event     {} at row {} (epoch {})",
                e.kind, e.arrivals, e.epoch
            );
            if let Some(reason) = e.reason {
                s += &format!(": {reason}");
            }
            if let (Some(val), Some(reference)) = (e.val_mse, e.reference_mse) {
                s += &format!(
                    ": validation MSE {} against a typical {}",
                    number(val),
                    number(reference)
                );
            }
            s += "\n";
        }
        let paused = self
            .paused
            .map_or(String::from("training"), |p| format!("paused ({p})"));
        s += &format!(
            "ended     {paused} after {} epochs; kept the weights of epoch {}\n",
            self.epochs_run, self.best_epoch
        );
        let opt = |v: Option<f64>| v.map_or("-".to_owned(), number);
        s += &format!(
            "mse       validation {}  test window {}\n",
            opt(self.best_val_mse),
            opt(self.test_mse)
        );
        s
    }
}

/// `tinytrain train --stream`: checks the outputs, reads the rows, feeds them to the stream,
/// writes the report, the figure and the model, and prints the summary.
pub fn train(
    args: &crate::cli::TrainArgs,
    quiet: bool,
    out: &mut dyn std::io::Write,
) -> Result<()> {
    use crate::cli::{file_output, results};
    use crate::output::{self, Location, Outputs};
    let mut locations = Vec::new();
    if let Some(path) = file_output(&args.report) {
        locations.push(Location::file("--report", path));
    }
    if let Some(dir) = &args.plot {
        locations.push(Location::directory("--plot", dir));
    }
    if let Some(path) = &args.model {
        locations.push(Location::file("--model", path));
    }
    output::check(&locations)?;
    let flags = &args.streaming;
    // `--model-in`: its weights and standardisation (no warm-up), and its update rule, learning
    // rate and batch size as the defaults, as in `train`.
    let saved = args
        .model_in
        .as_deref()
        .map(ModelFile::read_regression)
        .transpose()?;
    let saved_rule = saved
        .as_ref()
        .and_then(|m| OptimizerKind::of(&m.optimizer.as_ref()?.optimizer));
    let training = saved.as_ref().and_then(|m| m.training);
    let start = saved.map(|m| m.net);
    let table = crate::table::Table::read(&args.data.data)?;
    let samples = table.features_and_target(args.data.target.as_deref())?;
    let file = args.data.data.display().to_string();
    let n_in = samples.n_in();
    let layers = match (&args.layers, &start) {
        (Some(layers), _) => layers.0.clone(),
        (None, Some(net)) => net.widths.clone(),
        (None, None) => vec![n_in, 16, 16, 1],
    };
    crate::train::check_widths(&layers, n_in, &file)?;
    if let (Some(net), Some(path)) = (&start, &args.model_in) {
        if net.widths != layers {
            return Err(Error::Widths {
                layers: widths_text(&layers),
                problem: format!(
                    "--model-in {} has the layers {}",
                    path.display(),
                    widths_text(&net.widths)
                ),
            });
        }
    }
    let stream = flags.settings();
    let settings = StreamSettings {
        layers,
        optimizer: args.optimizer.or(saved_rule).unwrap_or(OptimizerKind::Sgd),
        learning_rate: args
            .lr
            .or(training.map(|t| t.learning_rate))
            .unwrap_or(0.01),
        batch_size: args
            .batch
            .or(training.map(|t| t.batch_size as usize))
            .unwrap_or(16),
        patience: args.run.patience,
        seed: args.run.seed,
        standardize: !args.run.no_standardize,
        init: args.run.init,
        trainable_from: flags.trainable_from,
        shuffle_stream: flags.shuffle_stream,
        model_in: args.model_in.as_ref().map(|p| p.display().to_string()),
        replay: stream.replay,
        replay_policy: flags.replay_policy,
        holdout_every: stream.holdout_every,
        validation_window: stream.validation,
        test_every: stream.test_every,
        test_window: stream.test,
        warmup: stream.warmup,
        every: stream.every,
        steps_per: stream.steps_per,
        drift_factor: stream.drift_factor,
        drift_epochs: stream.drift_epochs,
    };
    flags.checked(&settings.layers, &settings.config())?;
    let order = flags
        .shuffle_stream
        .map(|seed| shuffled(samples.len(), seed));
    crate::interrupt::watch();
    let progress = if quiet {
        Progress::Hidden
    } else {
        Progress::for_stderr(samples.len())
    };
    let run = run(
        &samples,
        &settings,
        start.as_ref(),
        order.as_deref(),
        |e, r| progress.epoch(e, r),
    )?;
    progress.finish();
    let report = Report::new(&file, samples.len(), &settings, &run);
    let mut outputs = Outputs::default();
    let mut notes = Vec::new();
    if let Some(path) = file_output(&args.report).filter(|_| !run.interrupted) {
        outputs.write(path, || Ok(report.to_json().into_bytes()));
    }
    if let Some(dir) = args.plot.as_ref().filter(|_| !run.interrupted) {
        // A failure to create it shows as the failure of the figure's write.
        let _ = std::fs::create_dir_all(dir);
        let path = dir.join("stream.png");
        let title = format!(
            "Stream: {} {}, lr {}",
            widths_text(&settings.layers),
            settings.optimizer.name(),
            settings.learning_rate
        );
        match figure(&path, &run, &title) {
            Ok(Some(png)) => outputs.write(&path, || Ok(png)),
            Ok(None) => notes.push(format!(
                "no loss to draw: {} is not written",
                path.display()
            )),
            Err(e) => outputs.write(&path, || Err(e)),
        }
    }
    // No checkpoint: the rows ended before an epoch was scored (or none beat the initial
    // weights), so the weights are the random initial ones, as `train` says with exit code 3.
    // From a saved model they are that model's, and are kept.
    let untrained = run.report.best_epoch == 0 && !run.interrupted && start.is_none();
    if let Some(path) = args
        .model
        .as_ref()
        .filter(|_| !untrained || args.keep_untrained)
    {
        let names = !args.model_without.contains(&crate::cli::ModelPart::Names);
        let file = ModelFile {
            input_names: Some(samples.input_names.clone()).filter(|_| names),
            output_names: samples
                .target_name
                .clone()
                .map(|name| vec![name])
                .filter(|_| names),
            ..ModelFile::new(run.net.clone())
        };
        outputs.write(path, || file.to_bytes());
    }
    let mut text = report.summary();
    for note in notes {
        text += &format!("note      {note}\n");
    }
    for path in outputs.written() {
        text += &format!("wrote     {}\n", path.display());
    }
    let json = args.report.is_some() && file_output(&args.report).is_none() && !run.interrupted;
    results(out, quiet, &text, json.then(|| report.to_json()))?;
    outputs.finish()?;
    if untrained {
        return Err(Error::Untrained {
            model: args.model.clone().filter(|_| !args.keep_untrained),
        });
    }
    if run.interrupted {
        return Err(Error::Interrupted {
            outcome: match &args.model {
                Some(path) => format!(
                    "stopped at row {}: the best weights so far were saved to {}; the report \
                     and figure were not written",
                    run.report.arrivals,
                    path.display()
                ),
                None => format!(
                    "stopped at row {}: no --model given, the weights were not saved",
                    run.report.arrivals
                ),
            },
        });
    }
    Ok(())
}

/// Progress over the rows on stderr: a bar on a terminal, a line every 10 epochs (and at every
/// event) otherwise, nothing with `--quiet`. MSEs in the target's units.
enum Progress {
    Hidden,
    Lines,
    Bar(indicatif::ProgressBar),
}

impl Progress {
    fn for_stderr(rows: usize) -> Self {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return Self::Lines;
        }
        let bar = indicatif::ProgressBar::new(rows as u64);
        let style = indicatif::ProgressStyle::with_template("{bar:30} row {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        Self::Bar(bar)
    }

    fn epoch(&self, e: &StreamEpoch, report: &StreamReport) {
        let mse = |v: f32| number(report.to_original_units(v));
        let text = match (e.train_loss, e.val_loss) {
            (Some(t), Some(v)) => format!("train MSE {}  validation MSE {}", mse(t), mse(v)),
            (None, Some(v)) => format!("paused  validation MSE {}", mse(v)),
            _ => String::from("warming up"),
        };
        match self {
            Self::Hidden => {}
            Self::Bar(bar) => {
                bar.set_position(e.arrivals);
                bar.set_message(text);
            }
            Self::Lines => {
                if e.epoch.is_multiple_of(10) || e.events().next().is_some() {
                    // Progress is best effort: a closed stderr must not stop training.
                    let _ = writeln!(
                        std::io::stderr(),
                        "epoch {:>5} row {:>7}  {text}",
                        e.epoch,
                        e.arrivals
                    );
                }
            }
        }
    }

    fn finish(&self) {
        if let Self::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// The figure of a stream run: training and validation MSE per epoch (in the target's units)
/// against the rows taken in, on a log scale, with every pause, drift and resume marked; as PNG
/// bytes (`path` names it in errors). `None`, drawing nothing, when no loss can be shown.
pub fn figure(path: &std::path::Path, run: &StreamRun, title: &str) -> Result<Option<Vec<u8>>> {
    use crate::plot::{bounds, drawable, failure, legend, log_ticks, render, tick_label, FONT};
    use plotters::prelude::*;
    let fail = failure(path);
    let original = |v: f32| run.report.to_original_units(v);
    let shown = |v: &f64| v.is_finite() && *v > 0.0;
    let values = run
        .epochs
        .iter()
        .flat_map(|e| [e.train_loss, e.val_loss])
        .flatten()
        .map(original)
        .filter(shown);
    let Some((lo, hi)) = bounds(values).and_then(|(lo, hi)| drawable(lo / 1.5, hi * 1.5)) else {
        return Ok(None);
    };
    let last = run.epochs.last().map_or(1, |e| e.arrivals).max(1);
    let events = events(&run.epochs, &run.report);
    render(path, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 22))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(80)
            .build_cartesian_2d(
                0..last + last / 50 + 1,
                (lo..hi).log_scale().with_key_points(log_ticks(lo, hi)),
            )
            .map_err(&fail)?;
        chart
            .configure_mesh()
            .x_desc("rows taken in")
            .y_desc("MSE (log scale)")
            .axis_desc_style((FONT, 16))
            .y_label_formatter(&|v| tick_label(*v))
            .draw()
            .map_err(&fail)?;
        // A resume comes with its drift: drawn thinner, on top, so that both show.
        let marks: [(&str, RGBColor, u32); 3] = [
            ("paused", RGBColor(127, 127, 127), 2),
            ("drift", RGBColor(214, 39, 40), 6),
            ("resumed", RGBColor(44, 160, 44), 2),
        ];
        for (kind, color, width) in marks {
            let at: Vec<u64> = events
                .iter()
                .filter(|e| e.kind == kind)
                .map(|e| e.arrivals)
                .collect();
            if at.is_empty() {
                continue;
            }
            let lines = at
                .into_iter()
                .map(move |x| PathElement::new([(x, lo), (x, hi)], color.stroke_width(width)));
            chart
                .draw_series(lines)
                .map_err(&fail)?
                .label(kind)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(width))
                });
        }
        type Pick = fn(&StreamEpoch) -> Option<f32>;
        let curves: [(&str, RGBColor, Pick); 2] = [
            ("training", RGBColor(31, 119, 180), |e| e.train_loss),
            ("validation", RGBColor(255, 127, 14), |e| e.val_loss),
        ];
        for (name, color, pick) in curves {
            // A paused stretch has no training loss: the curve breaks there.
            let mut segments: Vec<Vec<(u64, f64)>> = vec![Vec::new()];
            for e in &run.epochs {
                match pick(e).map(original).filter(shown) {
                    Some(v) => segments
                        .last_mut()
                        .into_iter()
                        .for_each(|s| s.push((e.arrivals, v))),
                    None => segments.push(Vec::new()),
                }
            }
            let mut first = true;
            for segment in segments.into_iter().filter(|s| !s.is_empty()) {
                let drawn = chart
                    .draw_series(LineSeries::new(segment, color.stroke_width(2)))
                    .map_err(&fail)?;
                if std::mem::take(&mut first) {
                    drawn.label(name).legend(move |(x, y)| {
                        PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                    });
                }
            }
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight, &fail)
    })
    .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shuffled_stream_is_a_permutation_fixed_by_its_seed() {
        let order = shuffled(50, 3);
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_eq!(order, shuffled(50, 3));
        assert_ne!(order, shuffled(50, 4));
    }
}
