//! When to stop, and why: early stopping on validation loss, divergence, stalls, a target.
//!
//! [`Monitor`] sees one line per epoch (train loss, validation loss, gradient norm) and decides.
//! Its rules, checked in this order:
//! 1. **Diverged**: a loss is NaN or infinite, or the training loss exceeds
//!    `divergence_factor` × its lowest value so far — the learning rate is too large.
//! 2. **Target reached**: validation loss at or below `target_loss` (when above 0).
//! 3. **Stalled**: the gradient norm stayed below `stall_grad_norm` for `stall_epochs` epochs
//!    while the loss is above target — the weights sit at a critical point: a local minimum or a
//!    saddle point (for example all ReLUs dead, or all weights zero).
//! 4. **Early stopped**: `patience` epochs in a row without the validation loss improving on its
//!    best by more than `min_delta`.
//! 5. **Max epochs**: `max_epochs` epochs ran.

use crate::Config;

/// Why training stopped. These are outcomes, not errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum StopReason {
    /// All `max_epochs` epochs ran.
    MaxEpochs,
    /// Validation loss stopped improving for `patience` epochs.
    EarlyStopped,
    /// Validation loss reached `target_loss`.
    TargetReached,
    /// The loss became non-finite or exploded: the learning rate is too large.
    Diverged,
    /// The gradient vanished while the loss is still above target: stuck at a critical point.
    Stalled,
}

impl StopReason {
    /// A short name, as used in reports: `max_epochs`, `early_stopped`, `target_reached`,
    /// `diverged`, `stalled`.
    pub const fn name(&self) -> &'static str {
        match self {
            StopReason::MaxEpochs => "max_epochs",
            StopReason::EarlyStopped => "early_stopped",
            StopReason::TargetReached => "target_reached",
            StopReason::Diverged => "diverged",
            StopReason::Stalled => "stalled",
        }
    }

    /// What it means for the user, in one sentence.
    pub const fn explain(&self) -> &'static str {
        match self {
            StopReason::MaxEpochs => "ran every epoch allowed; more epochs might still help",
            StopReason::EarlyStopped => {
                "validation loss stopped improving; the best-validation weights were kept"
            }
            StopReason::TargetReached => "validation loss reached the target",
            StopReason::Diverged => {
                "the loss exploded or became NaN: the learning rate is too large; \
                 the best weights seen were restored"
            }
            StopReason::Stalled => {
                "the gradient vanished while the loss is still high: stuck at a critical point \
                 (a local minimum or a saddle point); try another seed, initialisation or model"
            }
        }
    }
}

impl core::fmt::Display for StopReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// The running state of the stopping rules (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq)]
pub struct Monitor {
    /// Lowest validation loss so far (infinite before the first epoch).
    pub best_val: f32,
    /// Epoch of `best_val` (1-based; 0 means the initial weights).
    pub best_epoch: u32,
    /// Training loss in the epoch of `best_val`.
    pub train_at_best: f32,
    lowest_train: f32,
    since_best: u32,
    stalled_for: u32,
}

/// The monitor's verdict on one epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// The validation loss improved: these weights are the new best.
    pub improved: bool,
    /// Training should stop now.
    pub stop: Option<StopReason>,
}

impl Monitor {
    /// Before the first epoch.
    pub const fn new() -> Self {
        Self {
            best_val: f32::INFINITY,
            best_epoch: 0,
            train_at_best: f32::INFINITY,
            lowest_train: f32::INFINITY,
            since_best: 0,
            stalled_for: 0,
        }
    }

    /// Scores the initial weights (epoch 0): later epochs must beat their validation loss.
    pub fn start(&mut self, train: f32, val: f32) {
        if train.is_finite() && val.is_finite() {
            self.best_val = val;
            self.train_at_best = train;
            self.lowest_train = train;
        }
    }

    /// Judges epoch `epoch` (1-based).
    pub fn observe(
        &mut self,
        config: &Config,
        epoch: u32,
        train: f32,
        val: f32,
        grad_norm: f32,
    ) -> Verdict {
        let exploded = train > config.divergence_factor * self.lowest_train;
        if !(train.is_finite() && val.is_finite() && grad_norm.is_finite()) || exploded {
            return Verdict {
                improved: false,
                stop: Some(StopReason::Diverged),
            };
        }
        self.lowest_train = self.lowest_train.min(train);
        let improved = val < self.best_val - config.min_delta;
        if improved {
            self.best_val = val;
            self.best_epoch = epoch;
            self.train_at_best = train;
            self.since_best = 0;
        } else {
            self.since_best = self.since_best.saturating_add(1);
        }
        let above_target = val > config.target_loss;
        self.stalled_for = if grad_norm < config.stall_grad_norm && above_target {
            self.stalled_for.saturating_add(1)
        } else {
            0
        };
        let stop = if !above_target {
            Some(StopReason::TargetReached)
        } else if config.stall_epochs > 0 && self.stalled_for >= config.stall_epochs {
            Some(StopReason::Stalled)
        } else if self.since_best >= config.patience {
            Some(StopReason::EarlyStopped)
        } else if epoch >= config.max_epochs {
            Some(StopReason::MaxEpochs)
        } else {
            None
        };
        Verdict { improved, stop }
    }
}

impl Default for Monitor {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config {
            patience: 2,
            max_epochs: 100,
            ..Config::DEFAULT
        }
    }

    #[test]
    fn early_stops_after_patience() {
        let (c, mut m) = (config(), Monitor::new());
        assert!(m.observe(&c, 1, 1.0, 1.0, 1.0).improved);
        assert!(m.observe(&c, 2, 0.9, 0.5, 1.0).improved);
        assert_eq!(m.observe(&c, 3, 0.8, 0.6, 1.0).stop, None);
        assert_eq!(
            m.observe(&c, 4, 0.7, 0.7, 1.0).stop,
            Some(StopReason::EarlyStopped)
        );
        assert_eq!((m.best_epoch, m.best_val), (2, 0.5));
    }

    #[test]
    fn explosion_and_nan_are_divergence() {
        let (c, mut m) = (config(), Monitor::new());
        m.observe(&c, 1, 1.0, 1.0, 1.0);
        assert_eq!(
            m.observe(&c, 2, 1e6, 1.0, 1.0).stop,
            Some(StopReason::Diverged)
        );
        assert_eq!(
            m.observe(&c, 2, f32::NAN, 1.0, 1.0).stop,
            Some(StopReason::Diverged)
        );
    }

    #[test]
    fn vanishing_gradient_with_high_loss_is_a_stall() {
        let c = Config {
            stall_epochs: 3,
            patience: 50,
            ..config()
        };
        let mut m = Monitor::new();
        let stops: std::vec::Vec<_> = (1..=3)
            .map(|e| m.observe(&c, e, 2.0, 2.0, 0.0).stop)
            .collect();
        assert_eq!(stops, [None, None, Some(StopReason::Stalled)]);
    }

    #[test]
    fn target_and_max_epochs() {
        let c = Config {
            target_loss: 0.1,
            max_epochs: 2,
            ..config()
        };
        let mut m = Monitor::new();
        assert_eq!(
            m.observe(&c, 1, 0.5, 0.05, 1.0).stop,
            Some(StopReason::TargetReached)
        );
        let mut m = Monitor::new();
        m.observe(&c, 1, 0.5, 0.5, 1.0);
        assert_eq!(
            m.observe(&c, 2, 0.4, 0.4, 1.0).stop,
            Some(StopReason::MaxEpochs)
        );
    }
}
