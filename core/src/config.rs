//! The hyperparameters of training, with sane defaults, and the settings of a stream
//! ([`StreamConfig`]: how [`crate::stream`] keeps and schedules its samples).

use crate::loss::Loss;
use crate::{Error, Init, Optimizer};

/// What the user chooses before training. Start from [`Config::DEFAULT`]:
///
/// ```
/// use tinytrain_core::{Config, Optimizer};
/// let config = Config { learning_rate: 0.005, optimizer: Optimizer::ADAM, ..Config::DEFAULT };
/// assert!(config.validate().is_ok());
/// assert!(Config { batch_size: 0, ..Config::DEFAULT }.validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    /// Step size of gradient descent (default 0.01).
    pub learning_rate: f32,
    /// Samples per mini-batch; one update per batch (default 16). The last batch of an epoch
    /// holds the remaining samples: it is used, not dropped. A batch size of at least the
    /// training set's size gives full-batch gradient descent.
    pub batch_size: usize,
    /// Upper bound on epochs; one epoch visits every training sample once (default 500).
    pub max_epochs: u32,
    /// Epochs without validation improvement before stopping early (default 20);
    /// `u32::MAX` never stops early.
    pub patience: u32,
    /// An improvement must lower the best validation loss by more than this (default 0).
    pub min_delta: f32,
    /// Stop once validation loss is at or below this; 0 disables it (default 0).
    pub target_loss: f32,
    /// Seeds initialisation and the per-epoch shuffle (default 1).
    pub seed: u64,
    /// How the initial weights are drawn (default [`Init::Torch`], chosen by measurement: see
    /// the repository's LEARNING.md).
    pub init: Init,
    /// Shuffle the training samples every epoch (default true).
    pub shuffle: bool,
    /// The update rule (default SGD).
    pub optimizer: Optimizer,
    /// The loss minimised, reported and compared on validation (default mean squared error).
    pub loss: Loss,
    /// The first layer trained, 0-based (default 0: every layer). The layers below it are
    /// frozen: they keep their weights, get no gradient sums and no optimizer state, and the
    /// errors are not back-propagated into them — fine-tuning the last layers of a trained
    /// model costs only what those layers cost. Must be below the number of layers
    /// ([`crate::Error::TrainableFrom`]).
    pub trainable_from: usize,
    /// Standardise inputs and targets with statistics of the training split (default true).
    pub standardize: bool,
    /// Rescale the batch gradient to at most this L2 norm; 0 disables clipping (default 0).
    pub clip_norm: f32,
    /// A gradient norm below this counts as vanished (default 1e-6).
    pub stall_grad_norm: f32,
    /// Epochs in a row of vanished gradient above the loss's floor that make a stall, or of
    /// training loss at its floor that make convergence; 0 disables both (default 10).
    pub stall_epochs: u32,
    /// Training loss above this multiple of its initial value (at least of the targets'
    /// variance) for [`crate::stopping::DIVERGENCE_EPOCHS`] epochs is divergence (default 100).
    pub divergence_factor: f32,
}

impl Config {
    /// The defaults listed on each field.
    pub const DEFAULT: Self = Self {
        learning_rate: 0.01,
        batch_size: 16,
        max_epochs: 500,
        patience: 20,
        min_delta: 0.0,
        target_loss: 0.0,
        seed: 1,
        init: Init::Torch,
        shuffle: true,
        optimizer: Optimizer::SGD,
        loss: Loss::MeanSquaredError,
        trainable_from: 0,
        standardize: true,
        clip_norm: 0.0,
        stall_grad_norm: 1e-6,
        stall_epochs: 10,
        divergence_factor: 100.0,
    };

    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), Error> {
        let non_negative = |x: f32| x.is_finite() && x >= 0.0;
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::InvalidLearningRate);
        }
        if self.batch_size == 0 {
            return Err(Error::BatchSizeZero);
        }
        let checks = [
            (self.max_epochs > 0, "max_epochs"),
            (non_negative(self.min_delta), "min_delta"),
            (non_negative(self.target_loss), "target_loss"),
            (non_negative(self.clip_norm), "clip_norm"),
            (non_negative(self.stall_grad_norm), "stall_grad_norm"),
            (
                self.divergence_factor.is_finite() && self.divergence_factor > 1.0,
                "divergence_factor",
            ),
        ];
        if let Some((_, name)) = checks.iter().find(|(ok, _)| !ok) {
            return Err(Error::InvalidHyperparameter { name });
        }
        self.optimizer.validate()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What the replay buffer keeps once it is full; see the [stream module docs](crate::stream)
/// for the trade-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ReplayPolicy {
    /// A uniform sample of every training sample seen (Vitter's algorithm R): the `i`-th
    /// (0-based) replaces a random slot with probability `replay / (i + 1)`.
    Reservoir,
    /// The most recent training samples, first in, first out.
    Window,
}

impl ReplayPolicy {
    /// The name used on the command line and in reports: `reservoir`, `window`.
    pub const fn name(&self) -> &'static str {
        match self {
            ReplayPolicy::Reservoir => "reservoir",
            ReplayPolicy::Window => "window",
        }
    }
}

/// How a [`Stream`](crate::Stream) keeps and schedules its samples. Start from [`StreamConfig::DEFAULT`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StreamConfig {
    /// Training samples the replay buffer holds, at least 1 and at least
    /// [`Config::batch_size`]: a mini-batch is drawn from it (default 128).
    pub replay: usize,
    /// What the replay buffer keeps once full (default [`ReplayPolicy::Reservoir`]).
    pub policy: ReplayPolicy,
    /// Every this many arrivals (counting from 1), one goes to validation; at least 2
    /// (default 5: a fifth of the stream).
    pub holdout_every: u32,
    /// Validation samples kept, the most recent, at least 1 (default 64: a window of 32 scores
    /// the same weights two or three times apart from one window to the next, too noisy to tell
    /// drift from chance).
    pub validation: usize,
    /// Every this many arrivals, one goes to the test window; 0 for none (default), else at
    /// least 2 and not a multiple of `holdout_every` (those go to validation).
    pub test_every: u32,
    /// Test samples kept, the most recent: 0 without a test window (default), at least 1 with.
    pub test: usize,
    /// Arrivals that fit the standardisation before training starts (default 32); at least 1
    /// when [`Config::standardize`] is on.
    pub warmup: u32,
    /// After every this many arrivals, `steps_per` steps are due; at least 1 (default 4).
    pub every: u32,
    /// Mini-batch steps due after every `every` arrivals; at least 1 (default 1).
    pub steps_per: u32,
    /// Validation loss above this multiple of its typical level is drift (default 3); above 1.
    pub drift_factor: f32,
    /// Epochs in a row above the drift factor that make a drift; at least 1 (default 3).
    pub drift_epochs: u32,
}

impl StreamConfig {
    /// The defaults listed on each field: every arriving sample replayed four times on average
    /// (batches of 16 every 4 arrivals).
    pub const DEFAULT: Self = Self {
        replay: 128,
        policy: ReplayPolicy::Reservoir,
        holdout_every: 5,
        validation: 64,
        test_every: 0,
        test: 0,
        warmup: 32,
        every: 4,
        steps_per: 1,
        drift_factor: 3.0,
        drift_epochs: 3,
    };

    /// Checks every field, and those of `config` that a stream reads; the error names the first
    /// bad one.
    ///
    /// ```
    /// use tinytrain_core::stream::StreamConfig;
    /// use tinytrain_core::{Config, Error};
    /// assert!(StreamConfig::DEFAULT.validate(&Config::DEFAULT).is_ok());
    /// let bad = StreamConfig { holdout_every: 1, ..StreamConfig::DEFAULT };
    /// assert_eq!(
    ///     bad.validate(&Config::DEFAULT),
    ///     Err(Error::InvalidHyperparameter { name: "holdout_every" })
    /// );
    /// ```
    pub fn validate(&self, config: &Config) -> Result<(), Error> {
        let test = self.test_every;
        let checks = [
            (self.replay > 0, "replay"),
            // A mini-batch larger than the buffer it is drawn from repeats its samples, and a
            // batch of billions would run for hours at every step.
            (config.batch_size <= self.replay, "batch_size"),
            (self.holdout_every >= 2, "holdout_every"),
            (self.validation > 0, "validation"),
            (
                test == 0 || (test >= 2 && !test.is_multiple_of(self.holdout_every)),
                "test_every",
            ),
            ((test == 0) == (self.test == 0), "test"),
            (self.warmup > 0 || !config.standardize, "warmup"),
            (self.every > 0, "every"),
            (self.steps_per > 0, "steps_per"),
            (
                self.drift_factor.is_finite() && self.drift_factor > 1.0,
                "drift_factor",
            ),
            (self.drift_epochs > 0, "drift_epochs"),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, name)) => Err(Error::InvalidHyperparameter { name }),
            None => Ok(()),
        }
    }

    /// Steps in an epoch: `⌈replay / batch_size⌉` (1 for a batch size of 0).
    pub const fn steps_per_epoch(&self, batch_size: usize) -> usize {
        let batch = if batch_size == 0 { 1 } else { batch_size };
        self.replay.div_ceil(batch)
    }

    /// Samples kept in all: replay buffer, validation and test windows.
    pub const fn samples(&self) -> usize {
        self.replay
            .saturating_add(self.validation)
            .saturating_add(self.test)
    }
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}
