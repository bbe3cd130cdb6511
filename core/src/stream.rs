//! Learning from a stream: samples arrive one at a time — from a sensor, a serial link, a file
//! read in order — and the network learns from them as they come, in memory that does not grow
//! with the stream.
//!
//! [`Stream`] is a driver of the [`Learner`], like [`crate::Trainer`], but it never holds the
//! whole data set. What it keeps (caller-provided storage, sizes from `const fn`s):
//!
//! - a **replay buffer** of [`StreamConfig::replay`] training samples. Once it is full, its
//!   [`ReplayPolicy`] decides what it holds: [`ReplayPolicy::Reservoir`] a uniform sample of
//!   every training sample seen so far (Vitter's algorithm R), [`ReplayPolicy::Window`] the most
//!   recent ones. A reservoir remembers the past — the choice for a stationary signal, where
//!   old samples are as good as new — but after a change of regime it holds old samples for a
//!   long time (after `n` samples of the new regime, out of `N₀ + n` in all, a fraction
//!   `N₀ / (N₀ + n)` of the buffer is still old). A window forgets in `replay` arrivals: the
//!   choice for a drifting signal, at the price of forgetting what it has not seen lately.
//! - a **validation window**: every [`StreamConfig::holdout_every`]-th arrival (decided by its
//!   index alone, so every run of the same stream agrees) goes there instead of the replay
//!   buffer; it holds the [`StreamConfig::validation`] most recent (first in, first out).
//! - optionally a **test window** of the [`StreamConfig::test`] most recent of every
//!   [`StreamConfig::test_every`]-th arrival (validation has precedence on an index both
//!   divide), scored only by [`Stream::finish`], the final exam.
//! - the **learner**'s arena and a **checkpoint**: the best weights so far.
//!
//! RAM: [`shape::stream_arena_len`] values — the learner's arena, the checkpoint of the trained
//! parameters and `(replay + validation + test) × (inputs + outputs)` sample values — plus
//! [`shape::moments_len`] `f64`s, however many samples arrive. Arrivals are counted in `u64`.
//!
//! ## What happens to a sample
//! 1. [`Stream::push`] checks it (its widths, every value finite: a typed error naming its
//!    arrival index, and nothing is stored) and stores it in the buffer its index routes it to.
//! 2. **Warm-up**: the first [`StreamConfig::warmup`] arrivals fit the standardisation — a
//!    running mean and variance of every input and target over the training samples among them
//!    ([`scaler::Moments`], Welford, `f64`) — then the statistics are frozen and stored with the
//!    model. The warm-up samples are not thrown away: they are in the buffers, in the data's
//!    units, and training starts when the statistics are frozen. A stream that starts from a
//!    trained model ([`Stream::set_model`]) keeps the model's statistics and has no warm-up.
//! 3. **Schedule**: after every [`StreamConfig::every`] arrivals past the warm-up,
//!    [`StreamConfig::steps_per`] mini-batch steps become due; [`Stream::step`] runs one, a
//!    mini-batch of [`Config::batch_size`] samples drawn from the replay buffer with the seeded
//!    [`Lcg`] (uniformly, with replacement). [`Stream::feed`] pushes and runs what is due.
//! 4. An **epoch** is `⌈replay / batch_size⌉` steps. At its end the validation window is
//!    scored, the best weights are kept (the checkpoint), the stopping rules of
//!    [`crate::stopping`] judge the epoch, and the observer sees a [`StreamEpoch`]. Once the
//!    window has turned over (`validation` new samples held out), the checkpoint is scored
//!    again on it before the epoch is judged: the current weights must beat the checkpoint on
//!    the same samples, not a score it got on older ones — on a drifting signal every window is
//!    harder than the last, and a best loss from the past would keep old weights for ever. For
//!    the same reason the checkpoint is scored again on the current window before an early
//!    stop: a window that turns over more slowly than `patience` epochs (after a drift, half
//!    old samples and half new) would otherwise pause the stream on stale scores.
//!
//! ## Pause, drift, resume
//! When a stopping rule fires — validation has not improved for `patience` epochs, or the loss
//! converged, stalled, reached its target or diverged (`max_epochs` does not apply to a
//! stream) — the stream **pauses** ([`Event::Paused`]): the checkpoint's weights are put back
//! and no more steps train; samples are still taken in, and at the same cadence (a paused
//! epoch is as many arrivals as a trained one) the validation window is scored.
//!
//! **Drift** ([`Event::Drift`]): when the validation loss stays above [`StreamConfig::drift_factor`]
//! times the best validation loss for [`StreamConfig::drift_epochs`] epochs in a row — paused
//! or not — the data has changed. The checkpoint is scored again on the current window (the old
//! best may no longer be best), the better of it and the current weights becomes the best to
//! beat, the stopping rules start afresh, and a paused stream **resumes** ([`Event::Resumed`])
//! from the checkpoint with a fresh optimizer state.
//!
//! ## Same bits
//! The stream fed the same samples in the same order, with the same settings, gives the same
//! bits on every platform: every decision comes from arrival indices and the seeded [`Lcg`], and
//! every sum runs in a fixed order.

use crate::data::Sample;
use crate::learner::{self, Learner, Step};
use crate::scaler::{self, Moments};
use crate::slices::copy_prefix;
use crate::slices::expect_len;
use crate::stopping::{Drift, Event, Monitor, StopReason};
use crate::{shape, Config, Error, Field, Lcg, Model};

pub use crate::config::{ReplayPolicy, StreamConfig};

/// Where an arriving sample went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Route {
    /// The replay buffer (a reservoir may have left it out).
    Training,
    /// The validation window.
    Validation,
    /// The test window.
    Test,
}

/// The end of a stream's epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StreamEpoch {
    /// The epoch, 1-based, paused ones included.
    pub epoch: u32,
    /// Samples taken in when it ended.
    pub arrivals: u64,
    /// Mean training loss over its steps (the weights moved during the epoch); `None` for a
    /// paused epoch, NaN for one that diverged. Every loss of a stream is in standardised units —
    /// each target's variance over the warm-up is 1 — the units the stopping rules judge in;
    /// [`StreamReport::to_original_units`] converts.
    pub train_loss: Option<f32>,
    /// Loss on the validation window at its end; `None` while the window is empty.
    pub val_loss: Option<f32>,
    /// Root mean square of the steps' gradient norms (standardised units); `None` when paused.
    pub grad_norm: Option<f32>,
    /// The validation loss improved: these weights are the new checkpoint.
    pub improved: bool,
    /// The stream is paused at its end.
    pub paused: bool,
    /// What happened: a spike, a pause; a drift, a resume (at most two).
    pub events: [Option<Event>; 2],
}

impl StreamEpoch {
    /// Its events, in the order they happened.
    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.events.iter().flatten()
    }
}

/// What [`Stream::step`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StreamProgress {
    /// No step was due.
    Idle,
    /// A step ran (trained a mini-batch, or counted towards a paused epoch); the epoch goes on.
    Step,
    /// An epoch ended.
    Epoch(StreamEpoch),
}

/// The story of a stream so far.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StreamReport {
    /// Samples taken in.
    pub arrivals: u64,
    /// Epochs run, paused ones included.
    pub epochs: u32,
    /// Epoch of the checkpoint (0: the weights training started from).
    pub best_epoch: u32,
    /// The checkpoint's validation loss (infinite before one is scored).
    pub best_val: f32,
    /// Why the stream is paused, if it is.
    pub paused: Option<StopReason>,
    /// Drifts seen.
    pub drifts: u32,
    /// The targets' variance (mean over the outputs) fitted on the warm-up, or the model's the
    /// stream started from: the factor from a standardised loss to the targets' own units.
    pub loss_scale: f64,
}

impl StreamReport {
    /// A loss of this stream in the targets' own units, in `f64`.
    pub fn to_original_units(&self, loss: f32) -> f64 {
        f64::from(loss) * self.loss_scale
    }
}

/// The result of [`Stream::finish`]: the best weights and the final exam.
#[derive(Debug)]
pub struct StreamFinished<'a> {
    /// The checkpoint: the best-validation weights.
    pub model: Model<'a>,
    /// Their loss on the test window, in standardised units (`None` without test samples).
    pub test_loss: Option<f32>,
    /// How the stream went.
    pub report: StreamReport,
}

/// Learns from samples as they arrive; see the [module docs](self).
///
/// ```
/// use tinytrain_core::stream::{Stream, StreamConfig};
/// use tinytrain_core::{shape, Config, Optimizer};
///
/// const WIDTHS: [usize; 3] = [1, 8, 1];
/// let config = Config { optimizer: Optimizer::ADAM, ..Config::DEFAULT };
/// let settings = StreamConfig::DEFAULT;
/// let mut arena = vec![0.0; shape::stream_arena_len(&WIDTHS, &config, &settings, 1)];
/// let mut moments = [0.0; shape::moments_len(&WIDTHS)];
/// let mut stream = Stream::<1>::new(&WIDTHS, config, settings, &mut arena, &mut moments)?;
/// // y = x² for x drawn uniformly from [-1, 1): 4000 arrivals.
/// let mut rng = tinytrain_core::Lcg::new(3);
/// let mut last = None;
/// for _ in 0..4000 {
///     let x = rng.uniform(-1.0, 1.0);
///     stream.feed(&[x], &[x * x], |epoch| last = epoch.val_loss)?;
/// }
/// // Standardised units: the network explains all but 2% of the targets' variance.
/// assert!(last.unwrap() < 0.02, "{last:?}");
/// # Ok::<(), tinytrain_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Stream<'a, const C: usize = 1> {
    learner: Learner<'a, C>,
    settings: StreamConfig,
    /// The best weights of the trained layers (the frozen ones never change).
    best: &'a mut [f32],
    replay: Buffer<'a>,
    validation: Buffer<'a>,
    test: Buffer<'a>,
    moments: Moments<'a>,
    /// Draws the reservoir's slots and the mini-batches.
    rng: Lcg,
    arrivals: u64,
    /// The statistics are frozen: training may start.
    warm: bool,
    /// Arrivals until the next validation, test and schedule tick (count-downs: no 64-bit
    /// division on a microcontroller).
    until_holdout: u32,
    until_test: u32,
    until_tick: u32,
    due: u32,
    steps_per_epoch: usize,
    steps: usize,
    epoch: u32,
    epoch_loss: f32,
    epoch_terms: usize,
    epoch_grad_sq: f32,
    epoch_batches: u32,
    monitor: Monitor,
    started: bool,
    best_epoch: u32,
    paused: Option<StopReason>,
    /// The checkpoint's typical validation loss, the reference of drift.
    level: Level,
    /// Samples held out since the checkpoint was last scored.
    held_out: usize,
    /// Divides a loss in the network's units into standardised units: 1 when the network
    /// trains on standardised targets, their variance when it trains on raw ones.
    to_standard: f32,
    /// The targets' variance: multiplies a standardised loss into the targets' units.
    loss_scale: f64,
    above_for: u32,
    drifts: u32,
}

impl<'a, const C: usize> Stream<'a, C> {
    /// Checks everything and initialises the weights (`config.init`, seeded by `config.seed`).
    /// `arena` holds [`shape::stream_arena_len`]`(widths, &config, &settings, C)` values and
    /// `moments` [`shape::moments_len`]`(widths)` (more of either are left unused).
    ///
    /// `C` is how many samples of a mini-batch go through the network at once, as for
    /// [`crate::Trainer`]: every chunk size gives the same bits.
    pub fn new(
        widths: &'a [usize],
        config: Config,
        settings: StreamConfig,
        arena: &'a mut [f32],
        moments: &'a mut [f64],
    ) -> Result<Self, Error> {
        if C == 0 {
            return Err(Error::InvalidHyperparameter { name: "chunk" });
        }
        learner::check(widths, &config)?;
        settings.validate(&config)?;
        let found = arena.len();
        let too_small = || Error::BufferSize {
            needed: shape::stream_arena_len(widths, &config, &settings, C),
            found,
        };
        let mut rng = Lcg::new(config.seed);
        let (mut learner, rest) =
            Learner::carve(widths, config, arena, &mut rng).map_err(|_| too_small())?;
        let (n_in, n_out) = (shape::input_width(widths), shape::output_width(widths));
        scaler::identity(learner.params_and_stats_mut().1, n_in);
        let trainable = shape::trainable_param_len(widths, config.trainable_from);
        let (best, rest) = rest.split_at_mut_checked(trainable).ok_or_else(too_small)?;
        copy_prefix(best, learner.trainable_params_mut());
        let (replay, rest) =
            Buffer::carve(rest, settings.replay, n_in, n_out).ok_or_else(too_small)?;
        let (validation, rest) =
            Buffer::carve(rest, settings.validation, n_in, n_out).ok_or_else(too_small)?;
        let (test, _) = Buffer::carve(rest, settings.test, n_in, n_out).ok_or_else(too_small)?;
        let needed = shape::moments_len(widths);
        let found = moments.len();
        let moments = moments
            .get_mut(..needed)
            .ok_or(Error::BufferSize { needed, found })?;
        let warm = settings.warmup == 0;
        Ok(Self {
            learner,
            settings,
            best,
            replay,
            validation,
            test,
            moments: Moments::new(moments),
            rng,
            arrivals: 0,
            warm,
            until_holdout: settings.holdout_every,
            until_test: settings.test_every,
            until_tick: settings.every,
            due: 0,
            steps_per_epoch: settings.steps_per_epoch(config.batch_size),
            steps: 0,
            epoch: 0,
            epoch_loss: 0.0,
            epoch_terms: 0,
            epoch_grad_sq: 0.0,
            epoch_batches: 0,
            monitor: Monitor::new(),
            started: false,
            best_epoch: 0,
            paused: None,
            level: Level::at(f32::INFINITY),
            held_out: 0,
            to_standard: 1.0,
            loss_scale: 1.0,
            above_for: 0,
            drifts: 0,
        })
    }

    /// Starts from a trained model — its weights *and* its standardisation, which stays: no
    /// warm-up — to fine-tune it on the stream (with [`Config::trainable_from`], only its last
    /// layers). Only before the first arrival ([`Error::Started`]).
    pub fn set_model(&mut self, model: &Model<'_>) -> Result<(), Error> {
        if self.arrivals > 0 {
            return Err(Error::Started);
        }
        self.learner.set_model(model)?;
        copy_prefix(self.best, self.learner.trainable_params_mut());
        self.warm = true;
        let (n_in, n_out) = (self.replay.n_in, self.replay.n_out);
        self.loss_scale = scaler::target_variance(model.stats(), n_in, n_out);
        Ok(())
    }

    /// Replaces the initial weights (the standardisation is still fitted on the warm-up). Only
    /// before the first arrival ([`Error::Started`]).
    pub fn set_params(&mut self, params: &[f32]) -> Result<(), Error> {
        if self.arrivals > 0 {
            expect_len(params.len(), self.learner.params().len())?;
            return Err(Error::Started);
        }
        self.learner.set_params(params)?;
        copy_prefix(self.best, self.learner.trainable_params_mut());
        Ok(())
    }

    /// Takes one arriving sample — `inputs` and `targets` in the data's units — into the buffer
    /// its arrival index routes it to, and makes steps due on the schedule.
    ///
    /// Errors, with nothing stored and the sample not counted: the wrong number of inputs or
    /// targets ([`Error::ArrivalShape`]), a NaN or an infinity ([`Error::NonFiniteArrival`]);
    /// both name its arrival index.
    pub fn push(&mut self, inputs: &[f32], targets: &[f32]) -> Result<Route, Error> {
        self.check(inputs, targets)?;
        let holdout = tick(&mut self.until_holdout, self.settings.holdout_every);
        let test = self.settings.test_every > 0
            && tick(&mut self.until_test, self.settings.test_every)
            && !holdout;
        let route = if holdout {
            self.validation.push_window(inputs, targets);
            self.held_out = self.held_out.saturating_add(1);
            Route::Validation
        } else if test {
            self.test.push_window(inputs, targets);
            Route::Test
        } else {
            match self.settings.policy {
                ReplayPolicy::Reservoir => {
                    self.replay.push_reservoir(inputs, targets, &mut self.rng)
                }
                ReplayPolicy::Window => self.replay.push_window(inputs, targets),
            }
            if !self.warm {
                self.moments.add(inputs, targets);
            }
            Route::Training
        };
        self.arrivals = self.arrivals.saturating_add(1);
        if self.warm {
            if tick(&mut self.until_tick, self.settings.every) {
                self.due = self.due.saturating_add(self.settings.steps_per);
            }
        } else if self.arrivals >= u64::from(self.settings.warmup) {
            self.freeze();
        }
        Ok(route)
    }

    /// Pushes a sample, then runs every step due, calling `on_epoch` at the end of each epoch.
    pub fn feed(
        &mut self,
        inputs: &[f32],
        targets: &[f32],
        mut on_epoch: impl FnMut(&StreamEpoch),
    ) -> Result<Route, Error> {
        let route = self.push(inputs, targets)?;
        loop {
            match self.step() {
                StreamProgress::Idle => return Ok(route),
                StreamProgress::Step => {}
                StreamProgress::Epoch(epoch) => on_epoch(&epoch),
            }
        }
    }

    /// Runs one due step: trains a mini-batch drawn from the replay buffer, or, while paused,
    /// counts towards the epoch. At the end of an epoch, scores the validation window and
    /// applies the rules of the [module docs](self).
    pub fn step(&mut self) -> StreamProgress {
        if self.due == 0 {
            return StreamProgress::Idle;
        }
        self.due -= 1;
        if self.paused.is_some() {
            self.steps += 1;
            return if self.steps >= self.steps_per_epoch {
                StreamProgress::Epoch(self.end_epoch(None))
            } else {
                StreamProgress::Step
            };
        }
        let len = self.replay.len as u64;
        if len == 0 {
            // Not reached: the first arrival always goes to the replay buffer.
            return StreamProgress::Idle;
        }
        if !self.started {
            self.start();
        }
        let (rng, replay) = (&mut self.rng, &self.replay);
        let draws = 0..self.learner.config().batch_size;
        let batch = draws.map(|_| replay.sample(rng.below_u64(len) as usize));
        let Step::Trained(batch) = self.learner.train(batch) else {
            return StreamProgress::Epoch(self.end_epoch(Some(f32::NAN)));
        };
        self.epoch_loss += batch.loss_sum;
        self.epoch_terms = self.epoch_terms.saturating_add(batch.terms);
        self.epoch_grad_sq += batch.grad_norm * batch.grad_norm;
        self.epoch_batches = self.epoch_batches.saturating_add(1);
        self.steps += 1;
        if self.steps >= self.steps_per_epoch {
            let train = self.epoch_loss / self.epoch_terms.max(1) as f32 / self.to_standard;
            StreamProgress::Epoch(self.end_epoch(Some(train)))
        } else {
            StreamProgress::Step
        }
    }

    /// The checks of [`Self::push`].
    fn check(&self, inputs: &[f32], targets: &[f32]) -> Result<(), Error> {
        let (n_in, n_out) = (self.replay.n_in, self.replay.n_out);
        let arrival = self.arrivals;
        if inputs.len() != n_in || targets.len() != n_out {
            return Err(Error::ArrivalShape {
                arrival,
                inputs: inputs.len(),
                targets: targets.len(),
                n_in,
                n_out,
            });
        }
        let bad = |values: &[f32]| values.iter().position(|v| !v.is_finite());
        let field = match (bad(inputs), bad(targets)) {
            (Some(i), _) => Field::Input(i),
            (None, Some(i)) => Field::Target(i),
            (None, None) => return Ok(()),
        };
        Err(Error::NonFiniteArrival { arrival, field })
    }

    /// The end of the warm-up: the statistics are fitted and frozen, training may start. They
    /// are fitted in either case: the stopping rules judge in standardised units, and without
    /// standardisation a loss is divided by the targets' variance.
    #[cold]
    fn freeze(&mut self) {
        self.warm = true;
        if self.moments.count() == 0 {
            return;
        }
        let (n_in, n_out) = (self.replay.n_in, self.replay.n_out);
        let standardize = self.learner.config().standardize;
        let scaled_targets = self.learner.config().loss.standardizes_targets();
        let (_, stats) = self.learner.params_and_stats_mut();
        self.moments.write_stats(stats, n_in);
        self.loss_scale = if scaled_targets {
            scaler::target_variance(stats, n_in, n_out)
        } else {
            // Class probabilities for the cross-entropy: never standardised, its loss in nats.
            scaler::identity_targets(stats, n_in);
            1.0
        };
        if !standardize {
            self.to_standard = (self.loss_scale as f32).min(f32::MAX);
            scaler::identity(stats, n_in);
        }
    }

    /// Scores the starting weights as epoch 0: an epoch must beat them to count as best.
    #[cold]
    #[inline(never)]
    fn start(&mut self) {
        self.started = true;
        let train = self.learner.loss_of(self.replay.samples()) / self.to_standard;
        let val = self.validation_loss().unwrap_or(f32::NAN);
        self.monitor.start(train, val);
        self.best_epoch = self.epoch;
        self.level = Level::at(val);
    }

    /// The current weights' loss on the validation window, in standardised units (`None` while
    /// it is empty).
    fn validation_loss(&mut self) -> Option<f32> {
        (self.validation.len > 0)
            .then(|| self.learner.loss_of(self.validation.samples()) / self.to_standard)
    }

    /// Ends an epoch whose mean training loss is `train` (`None`: paused).
    #[inline(never)]
    fn end_epoch(&mut self, train: Option<f32>) -> StreamEpoch {
        self.epoch = self.epoch.saturating_add(1);
        let grad_norm =
            train.map(|_| libm::sqrtf(self.epoch_grad_sq / self.epoch_batches.max(1) as f32));
        let diverged = train.is_some_and(|t| !t.is_finite());
        let val = if diverged {
            None
        } else {
            self.validation_loss()
        };
        let mut events = Events::default();
        let mut improved = false;
        if let Some(drift) = val.and_then(|v| self.drift(v)) {
            improved = self.rebase(drift, &mut events);
        } else if let (Some(train), Some(grad_norm)) = (train, grad_norm) {
            if self.held_out >= self.settings.validation {
                self.rescore();
            }
            improved = self.judge(train, val, grad_norm, &mut events);
        }
        self.steps = 0;
        self.epoch_loss = 0.0;
        self.epoch_terms = 0;
        self.epoch_grad_sq = 0.0;
        self.epoch_batches = 0;
        StreamEpoch {
            epoch: self.epoch,
            arrivals: self.arrivals,
            train_loss: train,
            val_loss: val,
            grad_norm,
            improved,
            paused: self.paused.is_some(),
            events: events.0,
        }
    }

    /// The stopping rules on a trained epoch; returns whether it improved.
    fn judge(&mut self, train: f32, val: Option<f32>, grad_norm: f32, events: &mut Events) -> bool {
        let Some(val) = val else {
            // No validation sample yet: nothing to compare, only a divergence to catch.
            if !train.is_finite() {
                self.pause(StopReason::Diverged, events);
            }
            return false;
        };
        // A stream has no last epoch.
        let rules = Config {
            max_epochs: u32::MAX,
            ..*self.learner.config()
        };
        let improves = val < self.monitor.best_val - rules.min_delta;
        if self.held_out > 0 && !improves {
            // Before early stopping, the checkpoint is scored on this window (see `rescore`):
            // the current weights pause only if they do not beat it on the same samples.
            let peek = self
                .monitor
                .clone()
                .observe(&rules, self.epoch, train, val, grad_norm);
            if peek.stop == Some(StopReason::EarlyStopped) {
                self.rescore();
            }
        }
        let verdict = self
            .monitor
            .observe(&rules, self.epoch, train, val, grad_norm);
        events.push(verdict.event);
        if verdict.improved {
            copy_prefix(self.best, self.learner.trainable_params_mut());
            self.best_epoch = self.epoch;
        }
        if let Some(reason) = verdict.stop {
            self.pause(reason, events);
        }
        verdict.improved
    }

    /// The window has turned over since the checkpoint was last scored: scores it again, so that
    /// the current weights are measured against it on the same samples. On a drifting signal the
    /// window gets harder for every model, and a best loss from an older window would keep old
    /// weights as the best for ever.
    #[cold]
    fn rescore(&mut self) {
        self.held_out = 0;
        if self.monitor.best_val.is_finite() {
            self.swap_best();
            if let Some(val) = self.validation_loss() {
                self.monitor.best_val = val;
            }
            self.swap_best();
        }
    }

    /// Stops training for `reason`, with the checkpoint's weights in place.
    fn pause(&mut self, reason: StopReason, events: &mut Events) {
        self.restore_best();
        self.paused = Some(reason);
        events.push(Some(Event::Paused(reason)));
    }

    /// Whether the validation loss `val` confirms a drift (see the [module docs](self)); a
    /// score below the threshold joins the reference level.
    fn drift(&mut self, val: f32) -> Option<Drift> {
        let reference = self.level.value;
        let threshold = self.settings.drift_factor * reference;
        let known = self.level.epochs >= self.settings.drift_epochs;
        if !(known && val > threshold) {
            self.above_for = 0;
            self.level.add(val);
            return None;
        }
        self.above_for = self.above_for.saturating_add(1);
        if self.above_for < self.settings.drift_epochs {
            return None;
        }
        Some(Drift {
            since_epoch: self.epoch.saturating_sub(self.above_for - 1),
            reference,
            val,
            threshold,
            checkpoint_val: val,
        })
    }

    /// After a drift: scores the checkpoint on the current window, keeps the better of it and
    /// the current weights as the best to beat, starts the rules afresh and resumes a paused
    /// stream. Returns whether the current weights became the checkpoint.
    #[cold]
    fn rebase(&mut self, mut drift: Drift, events: &mut Events) -> bool {
        self.above_for = 0;
        self.drifts = self.drifts.saturating_add(1);
        // The checkpoint's loss: swapped in, scored, swapped back.
        self.swap_best();
        let checkpoint = self.validation_loss().unwrap_or(f32::INFINITY);
        self.swap_best();
        drift.checkpoint_val = checkpoint;
        let current = drift.val;
        let improved = current < checkpoint;
        if improved {
            copy_prefix(self.best, self.learner.trainable_params_mut());
            self.best_epoch = self.epoch;
        }
        let best = current.min(checkpoint);
        let initial_train = self.monitor.initial_train;
        self.monitor = Monitor::new();
        self.monitor.start(initial_train, best);
        self.level = Level::at(best);
        events.push(Some(Event::Drift(drift)));
        if self.paused.take().is_some() {
            events.push(Some(Event::Resumed));
        }
        improved
    }

    /// Puts the checkpoint back in place.
    fn restore_best(&mut self) {
        copy_prefix(self.learner.trainable_params_mut(), self.best);
    }

    /// Exchanges the current trained weights and the checkpoint.
    fn swap_best(&mut self) {
        let current = self.learner.trainable_params_mut();
        for (a, b) in current.iter_mut().zip(self.best.iter_mut()) {
            core::mem::swap(a, b);
        }
    }

    /// How the stream went so far.
    pub fn report(&self) -> StreamReport {
        StreamReport {
            arrivals: self.arrivals,
            epochs: self.epoch,
            best_epoch: self.best_epoch,
            best_val: self.monitor.best_val,
            paused: self.paused,
            drifts: self.drifts,
            loss_scale: self.loss_scale,
        }
    }

    /// The current weights and standardisation as a model (the checkpoint's while paused).
    pub fn model(&self) -> Model<'_> {
        self.learner.model()
    }

    /// Samples taken in so far.
    pub fn arrivals(&self) -> u64 {
        self.arrivals
    }

    /// Steps due, waiting for [`Self::step`].
    pub fn due(&self) -> u32 {
        self.due
    }

    /// Whether the warm-up is over (the statistics are frozen).
    pub fn is_warm(&self) -> bool {
        self.warm
    }

    /// Why the stream is paused, if it is.
    pub fn paused(&self) -> Option<StopReason> {
        self.paused
    }

    /// The test window's samples, `(inputs, targets)` in the data's units, most recent last
    /// once the window has wrapped: to score another model (e.g. one frozen earlier) on the
    /// same final exam as [`Self::finish`].
    pub fn test_window(&self) -> impl Iterator<Item = Sample<'_>> + Clone {
        self.test.samples()
    }

    /// Samples in the replay buffer, the validation window and the test window.
    pub fn buffered(&self) -> [usize; 3] {
        [self.replay.len, self.validation.len, self.test.len]
    }

    /// Ends the stream: puts the checkpoint's weights in place, scores the test window — once —
    /// and hands over the model.
    pub fn finish(mut self) -> StreamFinished<'a> {
        self.restore_best();
        let report = self.report();
        let test_loss = (self.test.len > 0)
            .then(|| self.learner.loss_of(self.test.samples()) / self.to_standard);
        StreamFinished {
            model: self.learner.into_model(),
            test_loss,
            report,
        }
    }
}

/// Counts one arrival down from `every`; true (and starts again) at every `every`-th.
#[inline(always)]
fn tick(until: &mut u32, every: u32) -> bool {
    *until = until.saturating_sub(1);
    if *until == 0 {
        *until = every;
        true
    } else {
        false
    }
}

/// Row `slot` of rows of `n` values (empty past the end).
fn row(values: &[f32], slot: usize, n: usize) -> &[f32] {
    let at = slot.saturating_mul(n);
    values.get(at..).and_then(|r| r.get(..n)).unwrap_or(&[])
}

/// Row `slot` of rows of `n` values, to write.
fn row_mut(values: &mut [f32], slot: usize, n: usize) -> Option<&mut [f32]> {
    values.get_mut(slot.checked_mul(n)?..)?.get_mut(..n)
}

/// The epochs a drift's reference level averages at most: it forgets slowly.
pub const LEVEL_EPOCHS: u32 = 32;

/// The typical validation loss, the reference of drift: the running mean of the epochs'
/// validation losses — of those that stayed below the drift threshold — since training started
/// or since the last drift (from the best loss then). Past [`LEVEL_EPOCHS`] epochs it forgets
/// the oldest slowly (an exponential mean of weight `1/LEVEL_EPOCHS`). Not the best loss: the
/// lowest of many noisy scores is lower than the weights' typical loss, and a drift measured
/// from it fires on noise. A drift needs a level of at least `drift_epochs` epochs.
#[derive(Debug, Clone, Copy)]
struct Level {
    value: f32,
    epochs: u32,
}

impl Level {
    /// One epoch's loss.
    fn at(val: f32) -> Self {
        Self {
            value: val,
            epochs: u32::from(val.is_finite()),
        }
    }

    /// Adds an epoch's loss to the mean.
    fn add(&mut self, val: f32) {
        if !(val.is_finite() && self.value.is_finite()) {
            return;
        }
        self.epochs = (self.epochs + 1).min(LEVEL_EPOCHS);
        self.value += (val - self.value) / self.epochs as f32;
    }
}

/// At most two events of an epoch.
#[derive(Default)]
struct Events([Option<Event>; 2]);

impl Events {
    fn push(&mut self, event: Option<Event>) {
        if let Some(slot) = self.0.iter_mut().find(|e| e.is_none()) {
            *slot = event;
        }
    }
}

/// Samples kept in caller storage: inputs and targets, row after row, in the data's units.
#[derive(Debug)]
struct Buffer<'a> {
    inputs: &'a mut [f32],
    targets: &'a mut [f32],
    n_in: usize,
    n_out: usize,
    capacity: usize,
    len: usize,
    /// Samples offered so far.
    seen: u64,
    /// The slot a window writes next.
    next: usize,
}

impl<'a> Buffer<'a> {
    /// A buffer of `capacity` samples at the start of `arena`, and the rest of it.
    fn carve(
        arena: &'a mut [f32],
        capacity: usize,
        n_in: usize,
        n_out: usize,
    ) -> Option<(Self, &'a mut [f32])> {
        let (inputs, rest) = arena.split_at_mut_checked(capacity.checked_mul(n_in)?)?;
        let (targets, rest) = rest.split_at_mut_checked(capacity.checked_mul(n_out)?)?;
        let buffer = Self {
            inputs,
            targets,
            n_in,
            n_out,
            capacity,
            len: 0,
            seen: 0,
            next: 0,
        };
        Some((buffer, rest))
    }

    /// Writes a sample into `slot`.
    fn write(&mut self, slot: usize, inputs: &[f32], targets: &[f32]) {
        if let Some(x) = row_mut(self.inputs, slot, self.n_in) {
            copy_prefix(x, inputs);
        }
        if let Some(t) = row_mut(self.targets, slot, self.n_out) {
            copy_prefix(t, targets);
        }
    }

    /// The sample in `slot` (empty slices past the end).
    fn sample(&self, slot: usize) -> Sample<'_> {
        (
            row(self.inputs, slot, self.n_in),
            row(self.targets, slot, self.n_out),
        )
    }

    /// Every sample kept, slot after slot.
    fn samples(&self) -> impl Iterator<Item = Sample<'_>> + Clone {
        (0..self.len).map(|slot| self.sample(slot))
    }

    /// The most recent samples: the next slot in turn.
    fn push_window(&mut self, inputs: &[f32], targets: &[f32]) {
        let slot = self.next;
        self.write(slot, inputs, targets);
        self.next = if slot + 1 >= self.capacity {
            0
        } else {
            slot + 1
        };
        self.len = (self.len + 1).min(self.capacity);
        self.seen = self.seen.saturating_add(1);
    }

    /// Algorithm R: the `i`-th sample (0-based) fills slot `i` while there is room, then replaces
    /// slot `j`, drawn uniformly from `0..=i`, if `j` is a slot.
    fn push_reservoir(&mut self, inputs: &[f32], targets: &[f32], rng: &mut Lcg) {
        if self.len < self.capacity {
            self.write(self.len, inputs, targets);
            self.len += 1;
        } else {
            let j = rng.below_u64(self.seen.saturating_add(1));
            if let Some(slot) = usize::try_from(j).ok().filter(|j| *j < self.capacity) {
                self.write(slot, inputs, targets);
            }
        }
        self.seen = self.seen.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Optimizer;
    use std::vec;
    use std::vec::Vec;

    /// Storage for a stream of `widths`.
    fn storage(widths: &[usize], config: &Config, settings: &StreamConfig) -> (Vec<f32>, Vec<f64>) {
        (
            vec![0.0; shape::stream_arena_len(widths, config, settings, 16)],
            vec![0.0; shape::moments_len(widths)],
        )
    }

    const SMALL: StreamConfig = StreamConfig {
        replay: 16,
        validation: 8,
        warmup: 10,
        ..StreamConfig::DEFAULT
    };

    #[test]
    fn bad_settings_are_named() {
        let c = Config::DEFAULT;
        let name = |s: StreamConfig| match s.validate(&c) {
            Err(Error::InvalidHyperparameter { name }) => name,
            other => panic!("{other:?}"),
        };
        let d = StreamConfig::DEFAULT;
        assert_eq!(name(StreamConfig { replay: 0, ..d }), "replay");
        let big_batch = Config {
            batch_size: d.replay + 1,
            ..c
        };
        assert_eq!(
            d.validate(&big_batch),
            Err(Error::InvalidHyperparameter { name: "batch_size" })
        );
        let whole = Config {
            batch_size: d.replay,
            ..c
        };
        assert_eq!(d.validate(&whole), Ok(()));
        for k in [0, 1] {
            assert_eq!(
                name(StreamConfig {
                    holdout_every: k,
                    ..d
                }),
                "holdout_every"
            );
        }
        assert_eq!(name(StreamConfig { validation: 0, ..d }), "validation");
        for t in [1, 10] {
            let s = StreamConfig {
                test_every: t,
                test: 4,
                ..d
            };
            assert_eq!(name(s), "test_every", "{t} (every 5th is validation)");
        }
        assert_eq!(name(StreamConfig { test_every: 3, ..d }), "test");
        assert_eq!(name(StreamConfig { test: 3, ..d }), "test");
        assert_eq!(name(StreamConfig { warmup: 0, ..d }), "warmup");
        assert_eq!(name(StreamConfig { every: 0, ..d }), "every");
        assert_eq!(name(StreamConfig { steps_per: 0, ..d }), "steps_per");
        for f in [1.0, f32::NAN, f32::INFINITY] {
            assert_eq!(
                name(StreamConfig {
                    drift_factor: f,
                    ..d
                }),
                "drift_factor"
            );
        }
        assert_eq!(
            name(StreamConfig {
                drift_epochs: 0,
                ..d
            }),
            "drift_epochs"
        );
        let raw = Config {
            standardize: false,
            ..c
        };
        assert!(StreamConfig { warmup: 0, ..d }.validate(&raw).is_ok());
        let widths = [1, 4, 1];
        let frozen = Config {
            trainable_from: 2,
            ..c
        };
        let (mut arena, mut moments) = storage(&widths, &c, &d);
        assert_eq!(
            Stream::<4>::new(&widths, frozen, d, &mut arena, &mut moments).unwrap_err(),
            Error::TrainableFrom {
                layer: 2,
                layers: 2
            }
        );
        let short = shape::stream_arena_len(&widths, &c, &d, 4) - 1;
        assert_eq!(
            Stream::<4>::new(&widths, c, d, &mut arena[..short], &mut moments).unwrap_err(),
            Error::BufferSize {
                needed: short + 1,
                found: short
            }
        );
    }

    #[test]
    fn a_bad_sample_is_refused_by_its_arrival_index_and_not_stored() {
        let widths = [2, 3, 1];
        let (mut arena, mut moments) = storage(&widths, &Config::DEFAULT, &SMALL);
        let mut s =
            Stream::<4>::new(&widths, Config::DEFAULT, SMALL, &mut arena, &mut moments).unwrap();
        for i in 0..7 {
            s.push(&[i as f32, 1.0], &[2.0]).unwrap();
        }
        let before = s.buffered();
        assert_eq!(
            s.push(&[1.0], &[2.0]),
            Err(Error::ArrivalShape {
                arrival: 7,
                inputs: 1,
                targets: 1,
                n_in: 2,
                n_out: 1
            })
        );
        assert_eq!(
            s.push(&[1.0, f32::INFINITY], &[2.0]),
            Err(Error::NonFiniteArrival {
                arrival: 7,
                field: Field::Input(1)
            })
        );
        assert_eq!(
            s.push(&[1.0, 0.0], &[f32::NAN]),
            Err(Error::NonFiniteArrival {
                arrival: 7,
                field: Field::Target(0)
            })
        );
        assert_eq!((s.arrivals(), s.buffered()), (7, before));
        assert_eq!(s.push(&[1.0, 0.0], &[3.0]), Ok(Route::Training));
        assert_eq!(s.arrivals(), 8);
    }

    #[test]
    fn arrivals_are_routed_by_their_index() {
        let widths = [1, 1];
        let settings = StreamConfig {
            holdout_every: 4,
            test_every: 6,
            test: 3,
            ..SMALL
        };
        let (mut arena, mut moments) = storage(&widths, &Config::DEFAULT, &settings);
        let mut s =
            Stream::<1>::new(&widths, Config::DEFAULT, settings, &mut arena, &mut moments).unwrap();
        let routes: Vec<Route> = (1..=24)
            .map(|n| s.push(&[n as f32], &[0.0]).unwrap())
            .collect();
        for (n, route) in (1..=24).zip(&routes) {
            let want = if n % 4 == 0 {
                Route::Validation // 12 and 24 too: validation first
            } else if n % 6 == 0 {
                Route::Test
            } else {
                Route::Training
            };
            assert_eq!(*route, want, "arrival {n}");
        }
        // 16 training, 6 validation (8 kept), 2 test (6 and 18).
        assert_eq!(s.buffered(), [16, 6, 2]);
        let inputs = |b: &Buffer<'_>| b.samples().map(|(x, _)| x[0]).collect::<Vec<_>>();
        assert_eq!(inputs(&s.test), [6.0, 18.0]);
        // The validation window keeps the most recent, first in, first out.
        for n in 25..=40 {
            s.push(&[n as f32], &[0.0]).unwrap();
        }
        let mut kept = inputs(&s.validation);
        kept.sort_by(f32::total_cmp);
        assert_eq!(kept, [12.0, 16.0, 20.0, 24.0, 28.0, 32.0, 36.0, 40.0]);
    }

    /// Pushes `n` samples `[i]` (0-based), all training, into a replay buffer of 10; returns
    /// the values it keeps.
    fn replay(policy: ReplayPolicy, n: u32, seed: u64) -> Vec<u32> {
        let mut data = vec![0.0; 20 * 2];
        let (buffer, _) = Buffer::carve(&mut data, 10, 1, 1).unwrap();
        let mut buffer = buffer;
        let mut rng = Lcg::new(seed);
        for i in 0..n {
            let x = [i as f32];
            match policy {
                ReplayPolicy::Reservoir => buffer.push_reservoir(&x, &[0.0], &mut rng),
                ReplayPolicy::Window => buffer.push_window(&x, &[0.0]),
            }
        }
        buffer.samples().map(|(x, _)| x[0] as u32).collect()
    }

    #[test]
    fn a_reservoir_keeps_a_uniform_sample_of_everything_seen() {
        // 100 samples through 10 slots, 4000 times: each sample is kept with probability 1/10.
        let mut kept = [0u32; 100];
        for seed in 0..4000 {
            let sample = replay(ReplayPolicy::Reservoir, 100, seed);
            assert_eq!(sample.len(), 10);
            for i in sample {
                kept[i as usize] += 1;
            }
        }
        // Binomial(4000, 0.1): mean 400, standard deviation 19.
        for (i, k) in kept.iter().enumerate() {
            assert!(
                (320..480).contains(k),
                "sample {i} kept {k} times: {kept:?}"
            );
        }
        // Early and late halves alike (a window would keep only the last ten).
        let early: u32 = kept[..50].iter().sum();
        assert!((19_000..21_000).contains(&early), "{early}");
        let mut window = replay(ReplayPolicy::Window, 100, 0);
        window.sort();
        assert_eq!(window, (90..100).collect::<Vec<_>>());
    }

    #[test]
    fn a_reservoir_draws_its_slots_from_every_arrival_past_two_to_the_32() {
        let mut data = vec![0.0; 8];
        let (mut buffer, _) = Buffer::carve(&mut data, 4, 1, 1).unwrap();
        for i in 0..4 {
            buffer.push_reservoir(&[i as f32], &[0.0], &mut Lcg::new(1));
        }
        // As if 5·2³² samples had been seen: a new one is kept with probability 4 / (5·2³²+1).
        buffer.seen = 5 << 32;
        let mut rng = Lcg::new(2);
        for _ in 0..10_000 {
            buffer.push_reservoir(&[9.0], &[0.0], &mut rng);
        }
        assert_eq!(buffer.seen, (5 << 32) + 10_000);
        let kept: Vec<f32> = buffer.samples().map(|(x, _)| x[0]).collect();
        assert_eq!(
            kept,
            [0.0, 1.0, 2.0, 3.0],
            "none of 10 000 late samples is kept"
        );
    }

    #[test]
    fn a_stream_on_the_cross_entropy_standardises_its_inputs_only() {
        let widths = [1, 4, 2];
        let config = Config {
            loss: crate::loss::Loss::CrossEntropy,
            ..Config::DEFAULT
        };
        let settings = StreamConfig {
            warmup: 20,
            ..SMALL
        };
        let (mut arena, mut moments) = storage(&widths, &config, &settings);
        let mut s = Stream::<4>::new(&widths, config, settings, &mut arena, &mut moments).unwrap();
        let mut rng = Lcg::new(3);
        for _ in 0..20 {
            let x = rng.uniform(10.0, 20.0);
            let class = if x > 15.0 { [0.0, 1.0] } else { [1.0, 0.0] };
            s.push(&[x], &class).unwrap();
        }
        assert!(s.is_warm());
        let stats = s.model().stats();
        assert!(
            stats[0] > 10.0 && stats[1] > 1.0,
            "the input is standardised: {stats:?}"
        );
        assert_eq!(&stats[2..], &[0.0, 0.0, 1.0, 1.0], "the logits are not");
    }

    #[test]
    fn the_warm_up_fits_the_statistics_on_training_samples_then_freezes_them() {
        let widths = [2, 3, 1];
        let settings = StreamConfig {
            warmup: 50,
            ..SMALL
        };
        let (mut arena, mut moments) = storage(&widths, &Config::DEFAULT, &settings);
        let mut s =
            Stream::<4>::new(&widths, Config::DEFAULT, settings, &mut arena, &mut moments).unwrap();
        let mut rng = Lcg::new(7);
        let mut training: Vec<[f64; 3]> = Vec::new();
        for _ in 0..50 {
            assert!(!s.is_warm());
            assert_eq!(s.due(), 0, "nothing trains during the warm-up");
            let row = [
                rng.uniform(-1.0, 3.0),
                rng.uniform(100.0, 101.0),
                rng.uniform(5.0, 9.0),
            ];
            if s.push(&row[..2], &row[2..]).unwrap() == Route::Training {
                training.push(row.map(f64::from));
            }
        }
        assert!(s.is_warm());
        assert_eq!(training.len(), 40, "every fifth arrival held out");
        let stats = s.model().stats().to_vec();
        // [input means | input deviations | target mean | target deviation]
        for (col, (mean, dev)) in [(0, 2), (1, 3), (4, 5)]
            .map(|(m, d)| (stats[m], stats[d]))
            .into_iter()
            .enumerate()
        {
            let values: Vec<f64> = training.iter().map(|r| r[col]).collect();
            let n = values.len() as f64;
            let m = values.iter().sum::<f64>() / n;
            let v = values.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n;
            assert!(
                (f64::from(mean) - m).abs() < 1e-5 * (1.0 + m.abs()),
                "{mean} vs {m}"
            );
            assert!(
                (f64::from(dev) - v.sqrt()).abs() < 1e-5,
                "{dev} vs {}",
                v.sqrt()
            );
        }
        // Frozen: more samples, far off, change nothing.
        for _ in 0..20 {
            s.push(&[1000.0, -1000.0], &[1e6]).unwrap();
        }
        assert_eq!(s.model().stats(), &stats[..]);
        // The warm-up samples were kept: the buffers filled during it.
        assert_eq!(s.buffered()[0], 16);
    }

    #[test]
    fn steps_come_on_the_schedule_and_an_epoch_is_the_replay_buffer_in_batches() {
        let widths = [1, 4, 1];
        let settings = StreamConfig {
            replay: 40,
            every: 3,
            steps_per: 2,
            warmup: 6,
            ..SMALL
        };
        let config = Config {
            batch_size: 16,
            ..Config::DEFAULT
        };
        assert_eq!(settings.steps_per_epoch(16), 3);
        let (mut arena, mut moments) = storage(&widths, &config, &settings);
        let mut s = Stream::<4>::new(&widths, config, settings, &mut arena, &mut moments).unwrap();
        let mut steps = 0;
        let mut epochs = Vec::new();
        for n in 1..=60u64 {
            s.push(&[n as f32 / 60.0], &[1.0]).unwrap();
            // Two steps due after every third arrival past the warm-up of six.
            let due = if n > 6 && n % 3 == 0 { 2 } else { 0 };
            assert_eq!(s.due(), due, "arrival {n}");
            loop {
                match s.step() {
                    StreamProgress::Idle => break,
                    StreamProgress::Step => steps += 1,
                    StreamProgress::Epoch(e) => {
                        steps += 1;
                        epochs.push((e.epoch, e.arrivals, steps));
                    }
                }
            }
        }
        // 18 ticks (arrivals 9, 12, …, 60), 36 steps, an epoch every 3 steps: the first ends
        // with the first step of arrival 12, the second with the second step of arrival 15.
        assert_eq!(steps, 36);
        assert_eq!(epochs.len(), 12);
        assert_eq!(epochs[0], (1, 12, 3));
        assert_eq!(epochs[1], (2, 15, 6));
    }

    /// A 1-8-1 network streamed `n` samples of `y = f(x)` for `x` uniform in [-1, 1), with a
    /// little noise; returns every epoch and the stream's report.
    fn run<const C: usize>(
        config: Config,
        settings: StreamConfig,
        n: u32,
        f: impl Fn(u32, f32) -> f32,
    ) -> (Vec<StreamEpoch>, StreamReport, Vec<f32>) {
        let widths = [1, 8, 1];
        let (mut arena, mut moments) = storage(&widths, &config, &settings);
        let mut s = Stream::<C>::new(&widths, config, settings, &mut arena, &mut moments).unwrap();
        let mut rng = Lcg::new(42);
        let mut epochs = Vec::new();
        for i in 0..n {
            let x = rng.uniform(-1.0, 1.0);
            let y = f(i, x) + 0.05 * rng.uniform(-1.0, 1.0);
            s.feed(&[x], &[y], |e| epochs.push(*e)).unwrap();
        }
        let report = s.report();
        (epochs, report, s.model().params().to_vec())
    }

    fn adam() -> Config {
        Config {
            learning_rate: 0.01,
            optimizer: Optimizer::ADAM,
            patience: 10,
            ..Config::DEFAULT
        }
    }

    #[test]
    fn every_chunk_size_gives_the_same_bits() {
        let f = |i: u32, x: f32| if i < 3000 { x * x } else { 1.0 - x };
        let bits = |(epochs, report, params): (Vec<StreamEpoch>, StreamReport, Vec<f32>)| {
            let losses: Vec<u32> = epochs
                .iter()
                .flat_map(|e| [e.train_loss, e.val_loss, e.grad_norm])
                .map(|l| l.map_or(0, f32::to_bits))
                .collect();
            (
                losses,
                report.drifts,
                params.iter().map(|p| p.to_bits()).collect::<Vec<_>>(),
            )
        };
        let one = bits(run::<1>(adam(), StreamConfig::DEFAULT, 6000, f));
        assert_eq!(one, bits(run::<4>(adam(), StreamConfig::DEFAULT, 6000, f)));
        assert_eq!(one, bits(run::<16>(adam(), StreamConfig::DEFAULT, 6000, f)));
        assert!(one.1 > 0, "the run saw its drift");
    }

    #[test]
    fn a_stationary_stream_pauses_and_a_paused_stream_does_not_train() {
        let widths = [1, 8, 1];
        let settings = StreamConfig::DEFAULT;
        let (mut arena, mut moments) = storage(&widths, &adam(), &settings);
        let mut s = Stream::<4>::new(&widths, adam(), settings, &mut arena, &mut moments).unwrap();
        let mut rng = Lcg::new(42);
        let mut epochs = Vec::new();
        // The weights of the last improvement, and every paused epoch's weights.
        let (mut checkpoint, mut paused) = (Vec::new(), Vec::new());
        for _ in 0..30_000 {
            let x = rng.uniform(-1.0, 1.0);
            s.push(&[x], &[x * x + 0.05 * rng.uniform(-1.0, 1.0)])
                .unwrap();
            while let StreamProgress::Step | StreamProgress::Epoch(_) = {
                let progress = s.step();
                if let StreamProgress::Epoch(e) = progress {
                    if e.improved {
                        checkpoint = s.model().params().to_vec();
                    }
                    if e.paused {
                        paused.push(s.model().params().to_vec());
                    }
                    epochs.push(e);
                }
                progress
            } {}
        }
        let report = s.report();
        let pause = epochs
            .iter()
            .position(|e| e.events().any(|e| matches!(e, Event::Paused(_))))
            .expect("paused");
        assert_eq!(report.paused, Some(StopReason::EarlyStopped));
        assert_eq!(report.drifts, 0, "no drift on a stationary stream");
        let after = &epochs[pause + 1..];
        assert!(!after.is_empty());
        // Paused epochs: no training loss, no improvement, and the checkpoint's weights — those
        // of the last improvement — all along.
        assert!(after
            .iter()
            .all(|e| e.paused && e.train_loss.is_none() && !e.improved));
        assert_eq!(paused.len(), after.len() + 1);
        assert!(paused.iter().all(|p| *p == checkpoint));
    }

    #[test]
    fn a_drift_is_seen_the_checkpoint_rescored_and_training_resumed() {
        // x² for 20 000 arrivals, then 1 - x: the old weights are far off.
        let change = 20_000;
        let f = |i: u32, x: f32| if i < change { x * x } else { 1.0 - x };
        let settings = StreamConfig {
            policy: ReplayPolicy::Window,
            ..StreamConfig::DEFAULT
        };
        let (epochs, report, _) = run::<4>(adam(), settings, 40_000, f);
        let drifts: Vec<(&StreamEpoch, Drift)> = epochs
            .iter()
            .flat_map(|e| {
                e.events().filter_map(move |ev| match ev {
                    Event::Drift(d) => Some((e, *d)),
                    _ => None,
                })
            })
            .collect();
        assert_eq!(drifts.len(), 1, "{drifts:?}");
        let (at, drift) = drifts[0];
        assert!(at.arrivals > u64::from(change), "not before the change");
        assert!(
            at.arrivals < u64::from(change) + 1000,
            "within 1000 arrivals: {at:?}"
        );
        assert!(drift.val > drift.threshold && drift.threshold == 3.0 * drift.reference);
        assert!(
            drift.checkpoint_val > drift.threshold,
            "the old best is no longer good"
        );
        // Paused before the change, resumed by the drift, and learned the new regime.
        let before = epochs
            .iter()
            .rev()
            .find(|e| e.arrivals <= u64::from(change));
        assert!(before.is_some_and(|e| e.paused));
        assert!(at.events().any(|e| *e == Event::Resumed));
        let last = epochs.last().unwrap();
        assert!(
            last.val_loss.unwrap() < 0.01,
            "tracks the new regime: {last:?} (its variance is 0.33)"
        );
        assert_eq!(report.drifts, 1);
    }

    /// Seeds of the slowly turning window's test.
    const SEEDS: u64 = 6;

    #[test]
    fn after_a_drift_a_slowly_turning_window_does_not_pause_on_stale_scores() {
        // sin 3x, then 1 - 2 sin 3x. The validation window turns over in 160 arrivals (32 held
        // out, one in 5), 20 epochs of 8 arrivals: twice the patience. Just after the drift it
        // holds mostly old samples, on which the checkpoint scored well; as new samples come in
        // every score rises, and only a comparison on the same window tells that the new weights
        // beat the checkpoint.
        let change = 1500;
        let widths = [1, 16, 16, 1];
        let settings = StreamConfig {
            policy: ReplayPolicy::Window,
            replay: 64,
            validation: 32,
            every: 2,
            ..StreamConfig::DEFAULT
        };
        for seed in 1..=SEEDS {
            let config = Config { seed, ..adam() };
            let (mut arena, mut moments) = storage(&widths, &config, &settings);
            let mut s =
                Stream::<4>::new(&widths, config, settings, &mut arena, &mut moments).unwrap();
            let mut rng = Lcg::new(seed);
            let mut last = None;
            for i in 0..2 * change {
                let x = rng.uniform(-1.0, 1.0);
                let wave = libm::sinf(3.0 * x);
                let y = if i < change { wave } else { 1.0 - 2.0 * wave };
                s.feed(&[x], &[y + 0.05 * rng.uniform(-1.0, 1.0)], |e| {
                    last = Some(*e)
                })
                .unwrap();
            }
            // The new response's variance is about 4 in the units of the old one: without the
            // comparison on the same window most seeds stay paused near it (5 to 11).
            let last = last.unwrap();
            assert_eq!(s.report().drifts, 1, "seed {seed}");
            assert!(
                last.val_loss.is_some_and(|v| v < 1.0),
                "seed {seed}: tracks the new response: {last:?}"
            );
        }
    }

    #[test]
    fn a_diverging_stream_pauses_with_its_best_weights_back() {
        let sgd = Config {
            learning_rate: 50.0,
            ..Config::DEFAULT
        };
        let (epochs, report, params) =
            run::<4>(sgd, StreamConfig::DEFAULT, 2000, |_, x| 3.0 * x + 1.0);
        assert_eq!(report.paused, Some(StopReason::Diverged));
        let paused = epochs
            .iter()
            .find(|e| {
                e.events()
                    .any(|e| *e == Event::Paused(StopReason::Diverged))
            })
            .expect("a pause for divergence");
        assert!(paused.paused);
        assert!(
            params.iter().all(|p| p.is_finite()),
            "the checkpoint is back"
        );
    }

    #[test]
    fn frozen_layers_keep_their_weights_and_the_rest_trains_as_if_all_did() {
        let widths = [2, 5, 4, 1];
        let settings = SMALL;
        let sgd = Config {
            learning_rate: 0.05,
            ..Config::DEFAULT
        };
        let frozen = Config {
            trainable_from: 1,
            ..sgd
        };
        let full_len = shape::stream_arena_len(&widths, &sgd, &settings, 16);
        let frozen_len = shape::stream_arena_len(&widths, &frozen, &settings, 16);
        // The first layer (2·5 + 5 parameters): no gradients, no checkpoint copy.
        assert_eq!(full_len - frozen_len, 2 * 15);
        let (mut a, mut ma) = storage(&widths, &sgd, &settings);
        let (mut b, mut mb) = storage(&widths, &frozen, &settings);
        let mut all = Stream::<4>::new(&widths, sgd, settings, &mut a, &mut ma).unwrap();
        let mut last = Stream::<4>::new(&widths, frozen, settings, &mut b, &mut mb).unwrap();
        let start = all.model().params().to_vec();
        assert_eq!(last.model().params(), &start[..]);
        let mut rng = Lcg::new(3);
        // Up to the first step: the same samples, the same statistics, one update.
        while all.due() == 0 {
            let x = [rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)];
            let y = [x[0] * x[1]];
            all.push(&x, &y).unwrap();
            last.push(&x, &y).unwrap();
        }
        // One step each (the epochs differ: the frozen layer is left out of the gradient norm).
        all.step();
        last.step();
        let (p_all, p_last) = (all.model().params(), last.model().params());
        assert_eq!(&p_last[..15], &start[..15], "the frozen layer did not move");
        assert_ne!(&p_all[..15], &start[..15], "trained, it would have");
        let bits = |p: &[f32]| p.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(&p_last[15..]),
            bits(&p_all[15..]),
            "the rest: the same step"
        );
    }

    #[test]
    fn a_model_keeps_its_statistics_and_starts_at_once() {
        let widths = [1, 4, 1];
        let (mut arena, mut moments) = storage(&widths, &Config::DEFAULT, &SMALL);
        let mut s =
            Stream::<4>::new(&widths, Config::DEFAULT, SMALL, &mut arena, &mut moments).unwrap();
        let params: Vec<f32> = (0..shape::param_len(&widths))
            .map(|k| k as f32 * 0.1)
            .collect();
        let stats = [10.0, 2.0, -3.0, 0.5];
        s.set_model(&Model::new(&widths, &params, &stats).unwrap())
            .unwrap();
        assert!(s.is_warm());
        for _ in 0..4 {
            s.push(&[11.0], &[-3.0]).unwrap();
        }
        assert_eq!(s.due(), 1, "no warm-up");
        assert_eq!(s.model().stats(), &stats[..]);
        let model = Model::new(&widths, &params, &stats).unwrap();
        assert_eq!(s.set_model(&model), Err(Error::Started));
        assert_eq!(s.set_params(&params), Err(Error::Started));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Any settings, any arena and any samples: a typed error or a stream that runs.
        #[test]
        fn no_input_panics(
            widths in proptest::collection::vec(0usize..4, 0..4),
            sizes in proptest::collection::vec(0usize..40, 6),
            ticks in proptest::collection::vec(0u32..9, 6),
            factor in proptest::prop_oneof![proptest::strategy::Just(f32::NAN), 0.0f32..5.0],
            trainable_from in 0usize..4,
            adam: bool,
            short_arena in 0usize..3,
            values in proptest::collection::vec(
                proptest::prop_oneof![
                    8 => -3.0f32..3.0,
                    1 => proptest::sample::select(vec![f32::NAN, f32::INFINITY, 1e30, -0.0]),
                ],
                0..400,
            ),
            width_noise in proptest::collection::vec(0usize..3, 0..400),
        ) {
            let config = Config {
                trainable_from,
                batch_size: sizes[5],
                optimizer: if adam { Optimizer::ADAM } else { Optimizer::SGD },
                patience: ticks[5],
                ..Config::DEFAULT
            };
            let settings = StreamConfig {
                replay: sizes[0],
                validation: sizes[1],
                test: sizes[2],
                warmup: sizes[3] as u32,
                holdout_every: ticks[0],
                test_every: ticks[1],
                every: ticks[2],
                steps_per: ticks[3],
                drift_epochs: ticks[4],
                drift_factor: factor,
                ..StreamConfig::DEFAULT
            };
            let len = shape::stream_arena_len(&widths, &config, &settings, 4);
            let mut arena = vec![0.0; len.min(1 << 16).saturating_sub(short_arena)];
            let mut moments = vec![0.0; shape::moments_len(&widths).min(64)];
            let Ok(mut s) = Stream::<4>::new(&widths, config, settings, &mut arena, &mut moments)
            else {
                return Ok(());
            };
            let (n_in, n_out) = (widths[0], widths[widths.len() - 1]);
            for (at, noise) in width_noise.into_iter().enumerate() {
                // A window of the values, one or two off the widths now and then.
                let from = &values[at % values.len().max(1)..];
                let x_len = (n_in + noise).saturating_sub(1);
                let (x, rest) = from.split_at(x_len.min(from.len()));
                let y = &rest[..n_out.min(rest.len())];
                let before = s.arrivals();
                match s.feed(x, y, |e| assert!(e.epoch > 0)) {
                    Ok(_) => proptest::prop_assert_eq!(s.arrivals(), before + 1),
                    Err(_) => proptest::prop_assert_eq!(s.arrivals(), before),
                }
            }
            let done = s.finish();
            proptest::prop_assert!(done.model.params().iter().all(|p| p.is_finite()));
        }
    }

    #[test]
    fn a_million_arrivals_in_fixed_memory() {
        let widths = [1, 4, 1];
        let config = Config {
            learning_rate: 0.02,
            ..Config::DEFAULT
        };
        let settings = StreamConfig {
            test_every: 7,
            test: 16,
            ..StreamConfig::DEFAULT
        };
        let (mut arena, mut moments) = storage(&widths, &config, &settings);
        let lens = (arena.len(), moments.len());
        let mut s = Stream::<4>::new(&widths, config, settings, &mut arena, &mut moments).unwrap();
        let mut rng = Lcg::new(8);
        let mut epochs = 0u32;
        for i in 0..1_000_000u32 {
            let x = rng.uniform(-1.0, 1.0);
            let y = if i % 100_000 < 50_000 { x } else { -x };
            s.feed(&[x], &[y], |_| epochs += 1).unwrap();
            assert!(s.due() <= settings.steps_per);
        }
        let report = s.report();
        assert_eq!(report.arrivals, 1_000_000);
        assert_eq!(report.epochs, epochs);
        // (1 000 000 - 32 warm-up) / 4 steps, 8 a epoch.
        assert_eq!(epochs, 999_968 / 4 / 8);
        assert_eq!(s.buffered(), [128, 64, 16]);
        let finished = s.finish();
        assert!(finished.test_loss.is_some_and(f32::is_finite));
        assert!(finished.model.params().iter().all(|p| p.is_finite()));
        assert_eq!((arena.len(), moments.len()), lens);
    }
}
