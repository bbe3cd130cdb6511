//! When to stop, and why: early stopping on validation loss, divergence, convergence, stalls, a
//! target.
//!
//! [`Monitor`] sees one line per epoch — training loss, validation loss, gradient norm, all in
//! *standardised units*, where each target has variance 1, so that predicting the training
//! targets' mean costs 1 — and decides. Its thresholds are documented constants, relative to that
//! variance, so every verdict can be checked against figures the user sees. The rules, in order:
//! 1. **Diverged**: the training loss or the gradient norm is NaN or infinite; or the training
//!    loss stayed above `divergence_factor × max(initial training loss, 1)` for
//!    [`DIVERGENCE_EPOCHS`] epochs in a row. (A validation loss that is not finite while the
//!    training loss is — a validation target far outside the training targets' range — is no
//!    improvement, not a divergence: the learning rate is not to blame.) A shorter rise is a [`Spike`], reported as an [`Event`]: training goes on. The
//!    reference is the loss of the initial weights, never the lowest loss so far (a loss near 0,
//!    as for a constant target, would make any wobble look like an explosion), and never below 1.
//! 2. **Target reached**: `target_loss` above 0 and validation loss at or below it.
//! 3. **Converged**: the training loss stayed at its floor for `stall_epochs` epochs in a row
//!    (0 disables the rule) — at most [`CONVERGED_LOSS`] (the targets' variance is 1), or within
//!    [`FLOOR_MARGIN`] of a floor the caller knows ([`Monitor::set_floor`]: the noise floor, or
//!    the exact linear fit for a linear model). Its gradient need not vanish: at a loss of 1e-12
//!    an `f32` weight's step rounds to nothing before the gradient gets that small.
//! 4. **Stalled**: the gradient norm stayed below `stall_grad_norm` for `stall_epochs` epochs
//!    while the training loss is above its floor: the weights sit at a critical point (a local
//!    minimum or a saddle point, e.g. every ReLU dead).
//! 5. **Early stopped**: more than `patience` epochs in a row without the validation loss
//!    improving on its best by more than `min_delta`. `patience` counts epochs without
//!    improvement: 0 stops at the first epoch that does not improve, 20 tolerates 20 and stops
//!    at the 21st, `u32::MAX` never stops.
//! 6. **Max epochs**: `max_epochs` epochs ran.

use crate::Config;

/// Epochs in a row the training loss must stay above the divergence threshold to be a
/// divergence; a shorter rise is a [`Spike`].
pub const DIVERGENCE_EPOCHS: u32 = 5;

/// The floor of the divergence threshold, in standardised units: the loss of predicting the
/// targets' mean (their variance, 1).
pub const DIVERGENCE_FLOOR: f32 = 1.0;

/// A training loss at most this fraction of the targets' variance is at its floor: the fit
/// explains all but 1e-10 of the variance. `f32` rounding alone leaves about 1e-14.
pub const CONVERGED_LOSS: f32 = 1e-10;

/// A training loss at most this fraction above a known floor ([`Monitor::set_floor`]) is at
/// that floor.
pub const FLOOR_MARGIN: f32 = 0.01;

/// Why training stopped. These are outcomes, not errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum StopReason {
    /// All `max_epochs` epochs ran.
    MaxEpochs,
    /// Validation loss stopped improving for more than `patience` epochs.
    EarlyStopped,
    /// Validation loss reached `target_loss`.
    TargetReached,
    /// The training loss stayed at its floor: nothing is left to learn.
    Converged,
    /// The loss became non-finite or stayed far above its initial value: the learning rate is
    /// too large.
    Diverged,
    /// The gradient vanished while the training loss is above its floor: stuck at a critical
    /// point.
    Stalled,
}

impl StopReason {
    /// A short name, as used in reports: `max_epochs`, `early_stopped`, `target_reached`,
    /// `converged`, `diverged`, `stalled`.
    pub const fn name(&self) -> &'static str {
        match self {
            StopReason::MaxEpochs => "max_epochs",
            StopReason::EarlyStopped => "early_stopped",
            StopReason::TargetReached => "target_reached",
            StopReason::Converged => "converged",
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
            StopReason::Converged => {
                "the training loss stayed at its floor (the exact fit, the noise floor, or \
                 1e-10 of the target's variance): nothing is left to learn"
            }
            StopReason::Diverged => {
                "the loss became NaN or infinite, or stayed far above its initial value: the \
                 learning rate is too large; the best weights seen were restored"
            }
            StopReason::Stalled => {
                "the gradient vanished while the training loss is above its floor: stuck at a \
                 critical point (a local minimum or a saddle point); try another seed, \
                 initialisation or model"
            }
        }
    }
}

impl core::fmt::Display for StopReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// A rise of the training loss above the divergence threshold that came back down within
/// [`DIVERGENCE_EPOCHS`] epochs (or lasted until training stopped for another reason).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Spike {
    /// The first epoch above the threshold.
    pub epoch: u32,
    /// How many epochs in a row it stayed above.
    pub epochs: u32,
    /// The highest training loss in it (standardised units).
    pub peak: f32,
    /// The threshold it crossed (standardised units).
    pub threshold: f32,
}

/// Something worth telling that happened during training but did not stop it. Drivers add
/// their own kinds; match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Event {
    /// The training loss spiked and came back: a sign of a learning rate near its limit.
    Spike(Spike),
    // The stream driver's events ([`crate::stream`]).
    /// A stream stopped training for this reason (its rules are the epoch driver's, without
    /// `max_epochs`) and put its best weights back; it still takes samples in, and scores them,
    /// watching for drift.
    Paused(StopReason),
    /// The validation loss of a stream rose above the best by the drift factor for the drift
    /// epochs in a row: the data changed.
    Drift(Drift),
    /// A paused stream trains again, after a drift.
    Resumed,
}

/// What a stream saw when its data drifted ([`Event::Drift`]). Losses in standardised units.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Drift {
    /// The first epoch of the rise.
    pub since_epoch: u32,
    /// The best weights' typical validation loss before the drift: the mean of their epochs'
    /// losses (see [`crate::stream`]).
    pub reference: f32,
    /// The validation loss that confirmed it.
    pub val: f32,
    /// The threshold it stayed above: the drift factor times `reference`.
    pub threshold: f32,
    /// The best weights' loss on the current validation window: the new loss to beat (the old
    /// best may no longer be best).
    pub checkpoint_val: f32,
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
    /// Training loss of the initial weights (infinite before [`Monitor::start`]).
    pub initial_train: f32,
    /// Spikes seen so far.
    pub spikes: u32,
    floor: Option<f32>,
    above_for: u32,
    peak: f32,
    since_best: u32,
    vanished_for: u32,
    at_floor_for: u32,
}

/// The monitor's verdict on one epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Verdict {
    /// The validation loss improved: these weights are the new best.
    pub improved: bool,
    /// Something happened that did not stop training.
    pub event: Option<Event>,
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
            initial_train: f32::INFINITY,
            spikes: 0,
            floor: None,
            above_for: 0,
            peak: 0.0,
            since_best: 0,
            vanished_for: 0,
            at_floor_for: 0,
        }
    }

    /// The lowest training loss the model's function set can reach, if known, in standardised
    /// units: the noise floor, or for a linear model the exact least-squares fit
    /// ([`crate::lstsq`]). A vanished gradient at (or below) it is convergence. Ignored unless
    /// finite and at least 0.
    pub fn set_floor(&mut self, floor: f32) {
        self.floor = (floor.is_finite() && floor >= 0.0).then_some(floor);
    }

    /// Scores the initial weights (epoch 0): later epochs must beat their validation loss, and
    /// their training loss is the reference of divergence.
    pub fn start(&mut self, train: f32, val: f32) {
        if train.is_finite() && val.is_finite() {
            self.best_val = val;
            self.train_at_best = train;
            self.initial_train = train;
        }
    }

    /// The training loss above which an epoch counts towards divergence.
    pub fn divergence_threshold(&self, config: &Config) -> f32 {
        let reference = if self.initial_train.is_finite() {
            self.initial_train.max(DIVERGENCE_FLOOR)
        } else {
            DIVERGENCE_FLOOR
        };
        config.divergence_factor * reference
    }

    /// Whether a training loss is at its floor (see the [module docs](self)).
    pub fn at_floor(&self, train: f32) -> bool {
        let floor = self.floor.map_or(0.0, |f| f * (1.0 + FLOOR_MARGIN));
        train <= CONVERGED_LOSS.max(floor)
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
        let diverged = Verdict {
            improved: false,
            event: None,
            stop: Some(StopReason::Diverged),
        };
        if !(train.is_finite() && grad_norm.is_finite()) {
            return diverged;
        }
        let threshold = self.divergence_threshold(config);
        let mut event = None;
        if train > threshold {
            self.above_for = self.above_for.saturating_add(1);
            self.peak = self.peak.max(train);
            if self.above_for >= DIVERGENCE_EPOCHS {
                return diverged;
            }
        } else if self.above_for > 0 {
            event = Some(self.spike_ended(epoch, threshold));
        }
        let improved = val < self.best_val - config.min_delta;
        if improved {
            self.best_val = val;
            self.best_epoch = epoch;
            self.train_at_best = train;
            self.since_best = 0;
        } else {
            self.since_best = self.since_best.saturating_add(1);
        }
        let count = |n: u32, now: bool| if now { n.saturating_add(1) } else { 0 };
        self.vanished_for = count(self.vanished_for, grad_norm < config.stall_grad_norm);
        self.at_floor_for = count(self.at_floor_for, self.at_floor(train));
        let stop = if config.target_loss > 0.0 && val <= config.target_loss {
            Some(StopReason::TargetReached)
        } else if config.stall_epochs > 0 && self.at_floor_for >= config.stall_epochs {
            Some(StopReason::Converged)
        } else if config.stall_epochs > 0 && self.vanished_for >= config.stall_epochs {
            Some(StopReason::Stalled)
        } else if self.since_best > config.patience {
            Some(StopReason::EarlyStopped)
        } else if epoch >= config.max_epochs {
            Some(StopReason::MaxEpochs)
        } else {
            None
        };
        if stop.is_some() && self.above_for > 0 && event.is_none() {
            // Still above when training stopped for another reason: a spike all the same.
            event = Some(self.spike_ended(epoch.saturating_add(1), threshold));
        }
        Verdict {
            improved,
            event,
            stop,
        }
    }

    /// The spike that ended before `epoch`.
    fn spike_ended(&mut self, epoch: u32, threshold: f32) -> Event {
        let spike = Spike {
            epoch: epoch.saturating_sub(self.above_for),
            epochs: self.above_for,
            peak: self.peak,
            threshold,
        };
        self.spikes = self.spikes.saturating_add(1);
        self.above_for = 0;
        self.peak = 0.0;
        Event::Spike(spike)
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
    use std::vec::Vec;

    fn config() -> Config {
        Config {
            patience: 2,
            max_epochs: 100,
            ..Config::DEFAULT
        }
    }

    /// Feeds `(train, val, grad_norm)` epochs from 1; returns every verdict.
    fn run(c: &Config, m: &mut Monitor, epochs: &[(f32, f32, f32)]) -> Vec<Verdict> {
        let numbered = epochs.iter().zip(1..);
        numbered
            .map(|(&(t, v, g), e)| m.observe(c, e, t, v, g))
            .collect()
    }

    fn stops(verdicts: &[Verdict]) -> Vec<Option<StopReason>> {
        verdicts.iter().map(|v| v.stop).collect()
    }

    #[test]
    fn patience_counts_epochs_without_improvement() {
        let c = config();
        let mut m = Monitor::new();
        let v = run(
            &c,
            &mut m,
            &[
                (1.0, 1.0, 1.0),
                (0.9, 0.5, 1.0),
                (0.8, 0.6, 1.0),
                (0.7, 0.7, 1.0),
                (0.6, 0.8, 1.0),
            ],
        );
        // Two epochs without improvement are tolerated, the third stops.
        assert_eq!(
            stops(&v),
            [None, None, None, None, Some(StopReason::EarlyStopped)]
        );
        assert_eq!((m.best_epoch, m.best_val), (2, 0.5));
    }

    #[test]
    fn patience_zero_stops_at_the_first_epoch_that_does_not_improve() {
        let c = Config {
            patience: 0,
            ..config()
        };
        let mut m = Monitor::new();
        m.start(2.0, 2.0);
        let v = run(
            &c,
            &mut m,
            &[(1.5, 1.5, 1.0), (1.0, 1.0, 1.0), (0.9, 1.2, 1.0)],
        );
        assert_eq!(stops(&v), [None, None, Some(StopReason::EarlyStopped)]);
        assert!(v[0].improved && v[1].improved && !v[2].improved);
        // An epoch that improves never stops it, not even the first.
        let mut m = Monitor::new();
        m.start(2.0, 2.0);
        assert_eq!(m.observe(&c, 1, 1.0, 1.0, 1.0).stop, None);
    }

    #[test]
    fn patience_max_never_stops_early() {
        let c = Config {
            patience: u32::MAX,
            ..config()
        };
        let mut m = Monitor::new();
        m.observe(&c, 1, 1.0, 1.0, 1.0);
        m.since_best = u32::MAX - 1;
        assert_eq!(m.observe(&c, 2, 1.0, 2.0, 1.0).stop, None);
        assert_eq!(m.observe(&c, 3, 1.0, 2.0, 1.0).stop, None);
    }

    #[test]
    fn nan_is_divergence_at_once() {
        let (c, mut m) = (config(), Monitor::new());
        m.start(1.0, 1.0);
        for (t, v, g) in [
            (f32::NAN, 1.0, 1.0),
            (f32::INFINITY, 1.0, 1.0),
            (1.0, 1.0, f32::NAN),
        ] {
            assert_eq!(m.observe(&c, 1, t, v, g).stop, Some(StopReason::Diverged));
        }
        // A validation loss out of f32's range with a finite training loss is the data's doing
        // (a validation target far outside the training targets): no improvement, no stop.
        let v = m.observe(&c, 1, 0.5, f32::INFINITY, 1.0);
        assert_eq!((v.improved, v.stop), (false, None));
    }

    #[test]
    fn a_blow_up_must_last_to_be_divergence() {
        let c = Config {
            patience: 1000,
            ..config()
        };
        let mut m = Monitor::new();
        m.start(1.0, 1.0);
        let high = (1e6, 1.0, 1.0);
        let v = run(&c, &mut m, &[high; DIVERGENCE_EPOCHS as usize]);
        let last = DIVERGENCE_EPOCHS as usize - 1;
        assert!(v[..last].iter().all(|v| v.stop.is_none()));
        assert_eq!(v[last].stop, Some(StopReason::Diverged));
    }

    #[test]
    fn a_brief_rise_is_a_spike_not_a_stop() {
        let c = Config {
            patience: 1000,
            ..config()
        };
        let mut m = Monitor::new();
        m.start(2.0, 2.0);
        // Threshold 100 × 2: two epochs above, then back down.
        let v = run(
            &c,
            &mut m,
            &[
                (1.0, 1.0, 1.0),
                (300.0, 5.0, 9.0),
                (900.0, 5.0, 9.0),
                (0.5, 0.5, 1.0),
            ],
        );
        assert!(stops(&v).iter().all(Option::is_none));
        assert_eq!(v[1].event, None);
        let spike = Spike {
            epoch: 2,
            epochs: 2,
            peak: 900.0,
            threshold: 200.0,
        };
        assert_eq!(v[3].event, Some(Event::Spike(spike)));
        assert!(v[3].improved);
        assert_eq!(m.spikes, 1);
    }

    #[test]
    fn a_loss_near_zero_is_no_reference_for_divergence() {
        // A constant target: every loss is tiny; a rise from 1e-12 to 1e-6 is no explosion.
        let (c, mut m) = (config(), Monitor::new());
        m.start(1e-12, 1e-12);
        assert_eq!(m.divergence_threshold(&c), 100.0);
        let v = run(
            &c,
            &mut m,
            &[(0.0, 0.0, 0.0), (1e-6, 1e-6, 1e-3), (1e-9, 1e-9, 1e-3)],
        );
        assert!(v.iter().all(|v| v.stop.is_none() && v.event.is_none()));
    }

    #[test]
    fn a_loss_at_its_floor_is_convergence_even_with_a_gradient() {
        let c = Config {
            stall_epochs: 3,
            patience: 50,
            ..config()
        };
        let mut m = Monitor::new();
        let at_floor = (1e-12, 1e-12, 2e-6);
        assert_eq!(
            stops(&run(&c, &mut m, &[at_floor; 3])),
            [None, None, Some(StopReason::Converged)]
        );
        // Once back above the floor, the count starts again.
        let mut m = Monitor::new();
        let above = (1e-3, 1e-3, 2e-6);
        let v = run(&c, &mut m, &[at_floor, at_floor, above, at_floor, at_floor]);
        assert!(stops(&v).iter().all(Option::is_none));
    }

    #[test]
    fn a_vanished_gradient_at_the_floor_is_convergence() {
        let c = Config {
            stall_epochs: 3,
            patience: 50,
            ..config()
        };
        let tiny = (1e-14, 1e-14, 1e-8);
        let mut m = Monitor::new();
        assert_eq!(
            stops(&run(&c, &mut m, &[tiny; 3])),
            [None, None, Some(StopReason::Converged)]
        );
        // A known floor: the exact linear fit, 0.3 of the variance.
        let mut m = Monitor::new();
        m.set_floor(0.3);
        let at_fit = (0.3029, 0.35, 1e-8);
        assert_eq!(
            stops(&run(&c, &mut m, &[at_fit; 3]))[2],
            Some(StopReason::Converged)
        );
    }

    #[test]
    fn a_vanished_gradient_above_the_floor_is_a_stall() {
        let c = Config {
            stall_epochs: 3,
            patience: 50,
            ..config()
        };
        // Every ReLU dead: the network predicts the mean, loss 1.
        let dead = (1.0, 1.0, 0.0);
        let mut m = Monitor::new();
        assert_eq!(
            stops(&run(&c, &mut m, &[dead; 3])),
            [None, None, Some(StopReason::Stalled)]
        );
        let mut m = Monitor::new();
        m.set_floor(0.3);
        assert_eq!(
            stops(&run(&c, &mut m, &[(0.5, 0.5, 0.0); 3]))[2],
            Some(StopReason::Stalled)
        );
        // A floor that is not a number is no floor.
        m.set_floor(f32::NAN);
        assert!(!m.at_floor(0.5) && m.at_floor(CONVERGED_LOSS));
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
        // Without a target, a validation loss of 0 is no target reached.
        let c = Config {
            max_epochs: 2,
            ..config()
        };
        let mut m = Monitor::new();
        assert_eq!(m.observe(&c, 1, 0.0, 0.0, 1.0).stop, None);
    }

    #[test]
    fn a_spike_cut_short_by_another_stop_is_still_reported() {
        let c = Config {
            max_epochs: 2,
            ..config()
        };
        let mut m = Monitor::new();
        m.start(1.0, 1.0);
        let v = run(&c, &mut m, &[(0.5, 0.5, 1.0), (500.0, 0.9, 1.0)]);
        assert_eq!(v[1].stop, Some(StopReason::MaxEpochs));
        assert!(matches!(
            v[1].event,
            Some(Event::Spike(Spike {
                epoch: 2,
                epochs: 1,
                ..
            }))
        ));
    }
}
