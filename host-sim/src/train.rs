//! One training run on CSV samples, through the core's [`Trainer`], and what to make of it.

use crate::error::{Error, Result};
use crate::net::Net;
use crate::report::number;
use serde::Serialize;
use tinytrain_core::diagnose::{self, Comparison};
use tinytrain_core::{
    shape, Config, Dataset, EpochLoss, EpochSummary, Optimizer, Progress, Report, Split,
    StopReason, Trainer,
};

/// The update rule, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    /// Plain mini-batch stochastic gradient descent.
    Sgd,
    /// SGD with heavy-ball momentum (β = 0.9).
    Momentum,
    /// Adam (β₁ = 0.9, β₂ = 0.999, ε = 1e-8).
    Adam,
}

impl Rule {
    /// The core's optimizer with its usual hyperparameters.
    pub fn optimizer(self) -> Optimizer {
        match self {
            Rule::Sgd => Optimizer::SGD,
            Rule::Momentum => Optimizer::MOMENTUM,
            Rule::Adam => Optimizer::ADAM,
        }
    }

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Sgd => "sgd",
            Rule::Momentum => "momentum",
            Rule::Adam => "adam",
        }
    }
}

/// Everything chosen before a training run; the `config` of a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Settings {
    /// Layer widths, input first.
    pub layers: Vec<usize>,
    /// The update rule.
    pub optimizer: Rule,
    /// Step size.
    pub learning_rate: f32,
    /// Samples per mini-batch.
    pub batch_size: usize,
    /// Upper bound on epochs.
    pub max_epochs: u32,
    /// Epochs without validation improvement before stopping.
    pub patience: u32,
    /// Seeds the split, the initial weights and the shuffle.
    pub seed: u64,
    /// Fraction of the samples held out for validation.
    pub val_fraction: f32,
    /// Fraction of the samples held out for the final test.
    pub test_fraction: f32,
    /// Standardise inputs and target with training-split statistics.
    pub standardize: bool,
}

impl Settings {
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
            ..Config::DEFAULT
        }
    }

    /// The same settings for the linear model `[n_in, n_out]`.
    pub fn linear(&self) -> Self {
        let n_in = shape::input_width(&self.layers);
        let n_out = shape::output_width(&self.layers);
        Self {
            layers: vec![n_in, n_out],
            ..self.clone()
        }
    }

    /// The widths as written on the command line, e.g. `1,16,1`.
    pub fn layers_text(&self) -> String {
        layers_text(&self.layers)
    }
}

/// Widths joined by commas.
pub fn layers_text(widths: &[usize]) -> String {
    let texts: Vec<String> = widths.iter().map(usize::to_string).collect();
    texts.join(",")
}

/// Sample indices of the three parts of a split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parts {
    /// Training samples.
    pub train: Vec<u32>,
    /// Validation samples.
    pub validation: Vec<u32>,
    /// Test samples (empty without a test set).
    pub test: Vec<u32>,
}

/// A finished training run. The test set has not been looked at.
#[derive(Debug, Clone)]
pub struct Run {
    /// The best-validation network.
    pub net: Net,
    /// The trainer's report.
    pub report: Report,
    /// The losses of every epoch.
    pub history: Vec<EpochLoss>,
    /// The split the run used.
    pub parts: Parts,
    /// Ctrl-C stopped the run before a stopping rule did (see [`crate::interrupt`]); `net`
    /// holds the best weights of the epochs that ended.
    pub interrupted: bool,
}

impl Run {
    /// Why training stopped.
    pub fn stop(&self) -> StopReason {
        self.report.stop.unwrap_or(StopReason::MaxEpochs)
    }

    /// Why training stopped, as reports name it: [`StopReason::name`], or `interrupted`.
    pub fn stop_name(&self) -> &'static str {
        if self.interrupted {
            "interrupted"
        } else {
            self.stop().name()
        }
    }
}

/// Checks that `widths` fit samples of `n_in` inputs and one target.
pub fn check_layers(widths: &[usize], n_in: usize, file: &str) -> Result<()> {
    let bad = |problem: String| Error::Layers {
        layers: layers_text(widths),
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
    if shape::output_width(widths) != 1 {
        return Err(bad(format!(
            "the last width must be 1: {file} has one target column"
        )));
    }
    Ok(())
}

/// Trains `settings.layers` on `data` until a stopping rule fires, calling `on_epoch` after
/// every epoch. The split comes from `settings.seed`, so two runs with the same seed split
/// alike (the linear baseline relies on it). Ctrl-C (once [`crate::interrupt::watch`] is on)
/// stops it after the current mini-batch with the best weights so far: see
/// [`Run::interrupted`].
pub fn fit(
    data: &Dataset<'_>,
    settings: &Settings,
    mut on_epoch: impl FnMut(&EpochSummary),
) -> Result<Run> {
    let widths = &settings.layers;
    shape::check(widths).map_err(Error::core(format!("--layers {}", settings.layers_text())))?;
    let config = settings.config();
    config.validate().map_err(Error::core("invalid settings"))?;
    let mut order = vec![0u32; data.len()];
    let split = Split::new(
        &mut order,
        settings.val_fraction,
        settings.test_fraction,
        settings.seed,
    )
    .map_err(Error::core(format!(
        "--val {} --test {} on {} samples",
        settings.val_fraction,
        settings.test_fraction,
        data.len()
    )))?;
    let mut arena = vec![0.0; shape::train_arena_len_chunked(widths, config.optimizer, CHUNK)];
    let mut trainer = Trainer::<CHUNK>::chunked(widths, config, *data, split, &mut arena)
        .map_err(Error::core("training"))?;
    let mut history = Vec::new();
    let mut interrupted = false;
    while !interrupted {
        if let Progress::Epoch(summary) = trainer.step().map_err(Error::core("training"))? {
            history.push(summary.loss);
            on_epoch(&summary);
            if summary.stop.is_some() {
                break;
            }
        }
        interrupted = crate::interrupt::requested();
    }
    let split = trainer.split();
    let parts = Parts {
        train: split.train().to_vec(),
        validation: split.validation().to_vec(),
        test: split.test().to_vec(),
    };
    let report = trainer.report();
    // A stopped trainer holds its best weights; an interrupted one gets them back from
    // `finish` (whose test evaluation is not looked at).
    let net = if interrupted {
        Net::from_model(&trainer.finish().model)
    } else {
        Net::from_model(&trainer.model())
    };
    Ok(Run {
        net,
        report,
        history,
        parts,
        interrupted,
    })
}

/// Samples of a mini-batch that run through the network at once, in the CPU's vector lanes
/// (the same bits as one at a time, as on the device).
const CHUNK: usize = 16;

/// The losses of a trained network in the targets' original units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    /// MSE on the training set.
    pub train_mse: f32,
    /// MSE on the validation set.
    pub val_mse: f32,
    /// MSE on the test set (`None` without a test set).
    pub test_mse: Option<f32>,
    /// Coefficient of determination on the test set: 1 − MSE / variance of the test targets.
    pub test_r2: Option<f32>,
}

/// Scores a run, evaluating its test set — call this once, for the run that was chosen.
pub fn score(data: &Dataset<'_>, run: &Run) -> Result<Scores> {
    let parts = &run.parts;
    let test_mse = if parts.test.is_empty() {
        None
    } else {
        Some(run.net.mse(data, &parts.test)?)
    };
    let variance = target_variance(data, &parts.test);
    Ok(Scores {
        train_mse: run.net.mse(data, &parts.train)?,
        val_mse: run.net.mse(data, &parts.validation)?,
        test_mse,
        test_r2: test_mse.zip(variance).map(|(mse, var)| 1.0 - mse / var),
    })
}

/// Variance of the targets at `indices` about their mean (`None` if empty or constant).
fn target_variance(data: &Dataset<'_>, indices: &[u32]) -> Option<f32> {
    let ts: Vec<f64> = data
        .select(indices)
        .flat_map(|(_, t)| t.iter().map(|&v| f64::from(v)))
        .collect();
    let n = ts.len() as f64;
    let mean = ts.iter().sum::<f64>() / n;
    let var = ts.iter().map(|t| (t - mean) * (t - mean)).sum::<f64>() / n;
    (var > 0.0 && var.is_finite()).then_some(var as f32)
}

/// The outcome of `tinytrain train`: the run, its scores and the linear baseline's.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The settings of the run.
    pub settings: Settings,
    /// The network's run.
    pub run: Run,
    /// Its scores.
    pub scores: Scores,
    /// The linear model trained on the same split.
    pub baseline_net: Net,
    /// Its scores.
    pub baseline: Scores,
    /// What the numbers mean.
    pub diagnostics: Diagnostics,
}

/// Trains the network and the linear baseline, then scores both once.
pub fn train(
    data: &Dataset<'_>,
    settings: &Settings,
    on_epoch: impl FnMut(&EpochSummary),
) -> Result<Outcome> {
    let run = fit(data, settings, on_epoch)?;
    let baseline_run = fit(data, &settings.linear(), |_| {})?;
    outcome(data, settings, run, baseline_run)
}

/// Scores the network's run and the linear baseline's (trained on the same split with
/// [`Settings::linear`]) once, and reads what the numbers mean.
pub fn outcome(
    data: &Dataset<'_>,
    settings: &Settings,
    run: Run,
    baseline_run: Run,
) -> Result<Outcome> {
    let scores = score(data, &run)?;
    let baseline = score(data, &baseline_run)?;
    let diagnostics = Diagnostics::new(data, &run, &scores, &baseline);
    Ok(Outcome {
        settings: settings.clone(),
        run,
        scores,
        baseline_net: baseline_run.net,
        baseline,
        diagnostics,
    })
}

/// A ratio with two decimals, or scientific notation when large.
fn ratio(r: f32) -> String {
    if r.abs() < 1e5 {
        format!("{r:.2}")
    } else {
        format!("{r:.2e}")
    }
}

/// The samples [`diagnose::noise_floor`] looks at, at most (it takes O(n²) time).
pub const NOISE_FLOOR_SAMPLES: usize = 4000;

/// What the numbers of a run mean: the `diagnostics` of a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostics {
    /// Validation loss rose after the best epoch while training loss kept falling.
    pub overfitting: bool,
    /// The gradient vanished while the loss was still high.
    pub stalled: bool,
    /// The loss exploded or became NaN.
    pub diverged: bool,
    /// Noise variance estimated from repeated inputs in the training and validation sets.
    pub noise_floor_mse: Option<f32>,
    /// Baseline MSE divided by the network's (test set, else validation set): above 1 the
    /// network beats the linear model.
    pub baseline_ratio: f32,
    /// The above in sentences.
    pub notes: Vec<String>,
}

impl Diagnostics {
    /// Reads a run's report, its scores and the baseline's.
    pub fn new(data: &Dataset<'_>, run: &Run, scores: &Scores, baseline: &Scores) -> Self {
        let mut notes = vec![format!(
            "stopped ({}) at epoch {}: {}",
            run.stop().name(),
            run.report.epochs_run,
            run.stop().explain()
        )];
        let overfit = diagnose::overfitting(&run.report);
        if let Some(o) = overfit {
            notes.push(format!(
                "overfitting: after epoch {} training MSE fell from {} to {} while \
                 validation MSE rose from {} to {}; the epoch-{} weights were kept",
                o.best_epoch,
                number(o.train.0),
                number(o.train.1),
                number(o.val.0),
                number(o.val.1),
                o.best_epoch
            ));
        }
        let seen: Vec<u32> = run
            .parts
            .train
            .iter()
            .chain(&run.parts.validation)
            .take(NOISE_FLOOR_SAMPLES)
            .copied()
            .collect();
        let floor = diagnose::noise_floor(data, &seen);
        if let Some(f) = floor {
            notes.push(format!(
                "noise floor ≈ {} (from {} samples sharing {} input values): no model of \
                 these inputs can go much below it; validation MSE is {}× that",
                number(f.mse),
                f.samples,
                f.groups,
                ratio(scores.val_mse / f.mse)
            ));
        }
        let (model_mse, baseline_mse, set) = match (scores.test_mse, baseline.test_mse) {
            (Some(m), Some(b)) => (m, b, "test"),
            _ => (scores.val_mse, baseline.val_mse, "validation"),
        };
        let comparison = Comparison {
            baseline_mse,
            model_mse,
        };
        notes.push(if comparison.beats(1.0) {
            format!(
                "the network's {set} MSE is {}× lower than the linear baseline's ({})",
                ratio(comparison.improvement()),
                number(baseline_mse)
            )
        } else {
            format!(
                "the network does not beat the linear baseline ({set} MSE {} vs {}): prefer \
                 the linear model, or train longer",
                number(model_mse),
                number(baseline_mse)
            )
        });
        let stop = run.stop();
        Self {
            overfitting: overfit.is_some(),
            stalled: stop == StopReason::Stalled,
            diverged: stop == StopReason::Diverged,
            noise_floor_mse: floor.map(|f| f.mse),
            baseline_ratio: comparison.improvement(),
            notes,
        }
    }
}
