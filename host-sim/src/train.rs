//! One training run on CSV samples, through the core's [`Trainer`], the exact linear baseline
//! beside it, and what to make of them.

use crate::baseline::{self, Baseline};
use crate::error::{Error, Result};
use crate::model_file::{ModelFile, SavedOptimizer};
use crate::net::Net;
use crate::parts::Parts;
use crate::score::{self, Scores};
use serde::Serialize;
use std::path::Path;
use tinytrain_core::diagnose::{self, NoiseFloor};
use tinytrain_core::format::Training;
use tinytrain_core::learner::Start;
use tinytrain_core::{
    scaler, shape, Config, Dataset, EpochLoss, EpochSummary, Event, Init, Optimizer, Progress,
    Report, StopReason, Trainer,
};

/// The update rule, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Plain mini-batch stochastic gradient descent.
    Sgd,
    /// SGD with heavy-ball momentum (β = 0.9).
    Momentum,
    /// Adam (β₁ = 0.9, β₂ = 0.999, ε = 1e-8).
    Adam,
}

impl OptimizerKind {
    /// The rule of an optimizer, whatever its hyperparameters.
    pub fn of(optimizer: &Optimizer) -> Option<Self> {
        match optimizer {
            Optimizer::Sgd => Some(OptimizerKind::Sgd),
            Optimizer::Momentum { .. } => Some(OptimizerKind::Momentum),
            Optimizer::Adam { .. } => Some(OptimizerKind::Adam),
            _ => None,
        }
    }

    /// The core's optimizer with its usual hyperparameters.
    pub fn optimizer(self) -> Optimizer {
        match self {
            OptimizerKind::Sgd => Optimizer::SGD,
            OptimizerKind::Momentum => Optimizer::MOMENTUM,
            OptimizerKind::Adam => Optimizer::ADAM,
        }
    }

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            OptimizerKind::Sgd => "sgd",
            OptimizerKind::Momentum => "momentum",
            OptimizerKind::Adam => "adam",
        }
    }
}

/// Everything chosen before a training run; the `config` of a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainConfig {
    /// Layer widths, input first.
    pub layers: Vec<usize>,
    /// The update rule.
    pub optimizer: OptimizerKind,
    /// Step size.
    pub learning_rate: f32,
    /// Samples per mini-batch.
    pub batch_size: usize,
    /// Upper bound on epochs.
    pub max_epochs: u32,
    /// Epochs without validation improvement tolerated before stopping (0: stop at the first).
    pub patience: u32,
    /// Seeds the split (unless it is read from a file), the initial weights and the shuffle.
    pub seed: u64,
    /// Fraction of the samples held out for validation.
    pub val_fraction: f32,
    /// Fraction of the samples held out for the final test.
    pub test_fraction: f32,
    /// Standardise inputs and target with training-split statistics.
    pub standardize: bool,
    /// How the initial weights are drawn.
    #[serde(serialize_with = "init_name")]
    pub init: Init,
    /// Training loss above this multiple of its initial value (at least the targets' variance)
    /// for several epochs is divergence.
    pub divergence_factor: f32,
}

pub(crate) fn init_name<S: serde::Serializer>(
    init: &Init,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(init.name())
}

impl TrainConfig {
    /// The defaults of `tinytrain train` for the widths `layers`.
    pub fn new(layers: Vec<usize>) -> Self {
        let c = Config::DEFAULT;
        Self {
            layers,
            optimizer: OptimizerKind::Sgd,
            learning_rate: c.learning_rate,
            batch_size: c.batch_size,
            max_epochs: c.max_epochs,
            patience: c.patience,
            seed: c.seed,
            val_fraction: 0.2,
            test_fraction: 0.2,
            standardize: c.standardize,
            init: c.init,
            divergence_factor: c.divergence_factor,
        }
    }

    /// The core's configuration.
    pub fn config(&self) -> Config {
        Config {
            learning_rate: self.learning_rate,
            batch_size: self.batch_size,
            max_epochs: self.max_epochs,
            patience: self.patience,
            seed: self.seed,
            optimizer: self.optimizer.optimizer(),
            standardize: self.standardize,
            init: self.init,
            divergence_factor: self.divergence_factor,
            ..Config::DEFAULT
        }
    }

    /// The network is the linear model `[n_in, n_out]`.
    pub fn is_linear(&self) -> bool {
        self.layers.len() == 2
    }

    /// The widths as written on the command line, e.g. `1,16,1`.
    pub fn widths_text(&self) -> String {
        widths_text(&self.layers)
    }
}

/// Widths joined by commas.
pub fn widths_text(widths: &[usize]) -> String {
    let texts: Vec<String> = widths.iter().map(usize::to_string).collect();
    texts.join(",")
}

/// A finished training run. The test set has not been looked at.
#[derive(Debug, Clone)]
pub struct Run {
    /// The best-validation network.
    pub net: Net,
    /// The optimizer's state at the end of the run: the last update's (see
    /// [`Trainer::optimizer_state`]), saved with the model to resume from.
    pub optimizer: SavedOptimizer,
    /// The settings to resume with, and the epochs trained (a starting model's included).
    pub training: Training,
    /// How the run started from a saved model ([`fit_from`]), if it did.
    pub start: Option<Start>,
    /// The trainer's report.
    pub report: Report,
    /// The losses of every epoch (the trainer's units: see [`Run::to_original_units`]).
    pub history: Vec<EpochLoss>,
    /// What the stopping rules saw that did not stop training, with its epoch.
    pub events: Vec<(u32, Event)>,
    /// The split the run used.
    pub parts: Parts,
    /// The factor from the trainer's losses to the targets' units.
    pub loss_scale: f64,
    /// Ctrl-C stopped the run before a stopping rule did (see [`crate::interrupt`]); `net`
    /// holds the best weights of the epochs that ended.
    pub interrupted: bool,
}

/// How a finished run ended, read from its trainer's report: shared by the regression and the
/// classification runs ([`Run`], and the classifier's run of `classify`).
pub trait Ending {
    /// The trainer's report.
    fn report(&self) -> &Report;

    /// Ctrl-C stopped the run before a stopping rule did.
    fn interrupted(&self) -> bool;

    /// Why training stopped.
    fn stop(&self) -> StopReason {
        self.report().stop.unwrap_or(StopReason::MaxEpochs)
    }

    /// Why training stopped, as reports name it: [`StopReason::name`], or `interrupted`.
    fn stop_name(&self) -> &'static str {
        if self.interrupted() {
            "interrupted"
        } else {
            self.stop().name()
        }
    }

    /// No epoch beat the initial weights: the network is untrained.
    fn untrained(&self) -> bool {
        self.report().best_epoch == 0
    }

    /// The notes a run's diagnostics open with: why (`stop` names it) and when training
    /// stopped, and that an untrained network is not saved.
    fn ending_notes(&self, stop: &str) -> Vec<String> {
        let mut notes = vec![format!(
            "stopped ({stop}) at epoch {}: {}",
            self.report().epochs_run,
            self.stop().explain()
        )];
        if self.untrained() {
            notes.push(
                "no epoch beat the initial weights: the model is untrained (it is not saved \
                 unless --keep-untrained is given)"
                    .to_owned(),
            );
        }
        notes
    }
}

impl Ending for Run {
    fn report(&self) -> &Report {
        &self.report
    }

    fn interrupted(&self) -> bool {
        self.interrupted
    }
}

impl Run {
    /// A loss of the trainer in the targets' units, in `f64` (no overflow).
    pub fn to_original_units(&self, loss: f32) -> f64 {
        f64::from(loss) * self.loss_scale
    }
}

/// Checks that `widths` fit samples of `n_in` inputs and one target.
pub fn check_widths(widths: &[usize], n_in: usize, file: &str) -> Result<()> {
    check_network_widths(widths, n_in, 1, file, || {
        format!("the last width must be 1: {file} has one target column")
    })
}

/// Checks that `widths` make a network a model file holds, of `n_in` inputs (the feature
/// columns of `file`) and `outputs` outputs; `last` words the problem of another last width.
pub(crate) fn check_network_widths(
    widths: &[usize],
    n_in: usize,
    outputs: usize,
    file: &str,
    last: impl FnOnce() -> String,
) -> Result<()> {
    let bad = |problem: String| Error::Widths {
        layers: widths_text(widths),
        problem,
    };
    shape::check(widths).map_err(|e| bad(e.to_string()))?;
    if widths.len() > tinytrain_core::format::MAX_LAYERS {
        return Err(bad(format!(
            "at most {} widths fit a model file",
            tinytrain_core::format::MAX_LAYERS
        )));
    }
    if widths.iter().any(|&w| w > usize::from(u16::MAX)) {
        return Err(bad(format!(
            "widths above {} do not fit a model file",
            u16::MAX
        )));
    }
    if shape::input_width(widths) != n_in {
        let s = if n_in == 1 { "" } else { "s" };
        return Err(bad(format!(
            "the first width must be the number of feature columns: {file} has {n_in} feature column{s}"
        )));
    }
    if shape::output_width(widths) != outputs {
        return Err(bad(last()));
    }
    Ok(())
}

/// Trains `settings.layers` on the `parts` of `data` until a stopping rule fires, calling
/// `on_epoch(summary, loss_scale)` after every epoch: the summary's losses are in standardised
/// units, `loss_scale` the factor to the targets' units (as [`Run::to_original_units`]). `floor` is the lowest training loss the network can reach, in
/// standardised units, if known (see [`tinytrain_core::Trainer::set_floor`]). Ctrl-C (once
/// [`crate::interrupt::watch`] is on) stops it after the current mini-batch with the best
/// weights so far: see [`Run::interrupted`].
pub fn fit(
    data: &Dataset<'_>,
    settings: &TrainConfig,
    parts: &Parts,
    floor: Option<f32>,
    on_epoch: impl FnMut(&EpochSummary, f64),
) -> Result<Run> {
    fit_from(data, settings, parts, floor, None, on_epoch)
}

/// [`fit`], starting from a saved model when `start` gives one (`--model-in`: its file and its
/// contents): its weights and standardisation, and its optimizer's state when it holds the
/// state of `settings`' update rule — training then resumes where it stopped; otherwise the
/// learning rate warms up ([`Trainer::set_model`]).
pub fn fit_from(
    data: &Dataset<'_>,
    settings: &TrainConfig,
    parts: &Parts,
    floor: Option<f32>,
    start: Option<(&Path, &ModelFile)>,
    mut on_epoch: impl FnMut(&EpochSummary, f64),
) -> Result<Run> {
    let widths = &settings.layers;
    shape::check(widths).map_err(Error::core(format!("--layers {}", settings.widths_text())))?;
    let config = settings.config();
    config.validate().map_err(Error::core("invalid settings"))?;
    // The trainer walks every row of its data set: rows outside the split are left out of a
    // copy, whose row k is the k-th row of the split.
    let rows = parts.rows();
    let copy;
    let (data, mut order) = if rows.len() == data.len() {
        (*data, rows.clone())
    } else {
        let (inputs, targets) = data
            .select(&rows)
            .map(|(x, t)| (x.to_vec(), t.to_vec()))
            .unzip::<_, _, Vec<_>, Vec<_>>();
        copy = (inputs.concat(), targets.concat());
        let subset = Dataset::new(&copy.0, &copy.1, data.n_in(), data.n_out())
            .map_err(Error::core("the split's rows"))?;
        (subset, (0..rows.len() as u32).collect())
    };
    let split = parts.split(&mut order)?;
    let mut arena = vec![0.0; shape::train_arena_len_chunked(widths, config.optimizer, CHUNK)];
    let mut trainer = Trainer::<CHUNK>::chunked(widths, config, data, split, &mut arena)
        .map_err(Error::core("training"))?;
    if let Some(floor) = floor {
        trainer.set_floor(floor);
    }
    let (start, epochs_before) = match start {
        Some((path, file)) => (
            Some(begin(&mut trainer, path, file)?),
            file.training.map_or(0, |t| t.epochs),
        ),
        None => (None, 0),
    };
    let loss_scale = trainer.report().loss_scale;
    let mut history = Vec::new();
    let mut events = Vec::new();
    let mut interrupted = false;
    while !interrupted {
        if let Progress::Epoch(summary) = trainer.step().map_err(Error::core("training"))? {
            history.push(summary.loss);
            if let Some(event) = summary.event {
                events.push((summary.loss.epoch, event));
            }
            on_epoch(&summary, loss_scale);
            if summary.stop.is_some() {
                break;
            }
        }
        interrupted = crate::interrupt::requested();
    }
    let report = trainer.report();
    let training = Training::from_config(&config, epochs_before.saturating_add(report.epochs_run));
    // A stopped trainer holds its best weights; an interrupted one gets them back from
    // `finish` (whose test evaluation is not looked at).
    let (net, optimizer) = if interrupted {
        let done = trainer.finish();
        (
            Net::from_model(&done.model),
            SavedOptimizer::from_state(&done.optimizer),
        )
    } else {
        let state = SavedOptimizer::from_state(&trainer.optimizer_state());
        (Net::from_model(&trainer.model()), state)
    };
    Ok(Run {
        net,
        optimizer,
        training,
        start,
        report,
        history,
        events,
        parts: parts.clone(),
        loss_scale,
        interrupted,
    })
}

/// Samples of a mini-batch that run through the network at once, in the CPU's vector lanes
/// (the same bits as one at a time, as on the device).
const CHUNK: usize = 16;

/// Starts `trainer` from the model `file` read from `path`: resumed with its optimizer's state
/// if it holds the state of the trainer's rule, else warmed up.
fn begin(trainer: &mut Trainer<'_, CHUNK>, path: &Path, file: &ModelFile) -> Result<Start> {
    let context = || format!("--model-in {}", path.display());
    let model = file.net.model()?;
    if let Some(saved) = &file.optimizer {
        match trainer.resume(&model, &saved.state()) {
            Ok(()) => {
                return Ok(Start::Resumed {
                    steps: saved.bias_correction.steps(),
                })
            }
            Err(tinytrain_core::Error::OptimizerMismatch) => {}
            Err(e) => return Err(Error::core(context())(e)),
        }
    }
    trainer.set_model(&model).map_err(Error::core(context()))?;
    Ok(Start::WarmUp {
        steps: trainer.optimizer_state().optimizer.warmup_steps(),
    })
}

/// The outcome of `tinytrain train`: the run, the exact linear baseline, both scored once.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The settings of the run.
    pub settings: TrainConfig,
    /// The network's run.
    pub run: Run,
    /// Its scores on the three parts.
    pub scores: Scores,
    /// The least-squares linear model of the training samples.
    pub baseline: Baseline,
    /// Its scores on the three parts.
    pub baseline_scores: Scores,
    /// The noise floor of the samples seen in training, when inputs repeat.
    pub noise: Option<NoiseFloor>,
}

/// Fits the baseline, trains the network on the same split, then scores both once.
pub fn train(
    data: &Dataset<'_>,
    settings: &TrainConfig,
    parts: &Parts,
    on_epoch: impl FnMut(&EpochSummary, f64),
) -> Result<Outcome> {
    let reference = Reference::new(data, parts)?;
    let run = fit(data, settings, parts, reference.floor(settings), on_epoch)?;
    outcome(data, settings, run, reference)
}

/// Scores a finished run and the exact linear baseline once, on the run's split (what the
/// numbers mean is for the `diagnostics` module to say).
pub fn outcome(
    data: &Dataset<'_>,
    settings: &TrainConfig,
    run: Run,
    reference: Reference,
) -> Result<Outcome> {
    let parts = &run.parts;
    let scores = score::scores(&run.net, data, parts)?;
    let Reference { baseline, noise } = reference;
    let baseline_scores = score::scores(&baseline.net, data, parts)?;
    Ok(Outcome {
        settings: settings.clone(),
        run,
        scores,
        baseline,
        baseline_scores,
        noise,
    })
}

/// What a network's training loss is measured against: the exact linear fit of the training
/// samples and the noise floor of the samples seen in training (training and validation).
#[derive(Debug, Clone)]
pub struct Reference {
    /// The least-squares linear model.
    pub baseline: Baseline,
    /// The noise floor, when inputs repeat.
    pub noise: Option<NoiseFloor>,
}

impl Reference {
    /// Fits the baseline and estimates the noise floor on a split.
    pub fn new(data: &Dataset<'_>, parts: &Parts) -> Result<Self> {
        let seen: Vec<u32> = parts
            .train
            .iter()
            .chain(&parts.val)
            .take(NOISE_FLOOR_SAMPLES)
            .copied()
            .collect();
        // The sorted estimate, which needs memory the device does not spare: O(n log n) time
        // where the device's takes O(n²), with the same bits.
        let mut scratch = vec![0; diagnose::noise_floor_scratch_len(seen.len())];
        let noise = diagnose::noise_floor_sorted(data, &seen, &mut scratch)
            .map_err(Error::core("the noise floor"))?;
        Ok(Self {
            baseline: baseline::fit(data, &parts.train)?,
            noise,
        })
    }

    /// The lowest training loss a network of `settings.layers` can reach, in standardised
    /// units (each target's variance is 1), if known: the exact fit for the linear model, the
    /// noise floor for any other.
    pub fn floor(&self, settings: &TrainConfig) -> Option<f32> {
        if settings.is_linear() {
            Some(self.baseline.fit.standardized_mse as f32)
        } else {
            let variance = target_variance(&self.baseline.net);
            self.noise.map(|n| (f64::from(n.mse) / variance) as f32)
        }
    }
}

/// The variance the standardisation of `net` divides the target's squared errors by (1 for a
/// constant target, which is only shifted).
fn target_variance(net: &Net) -> f64 {
    let (_, devs) = scaler::target_stats(&net.stats, shape::input_width(&net.widths), 1);
    let dev = f64::from(devs.first().copied().unwrap_or(1.0));
    dev * dev
}

/// The samples the noise floor looks at, at most (the device's estimate, which the reports
/// must match, takes O(n²) time).
pub const NOISE_FLOOR_SAMPLES: usize = 4000;
