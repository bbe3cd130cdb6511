//! The hyperparameters of training, with sane defaults.

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
