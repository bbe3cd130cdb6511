//! The training loop: one mini-batch per [`Trainer::step`], or all of it with [`Trainer::fit`].

use crate::data::Label;
use crate::format::{Buffers, Loaded};
use crate::learner::{Learner, Start, Step};
use crate::optim::OptimizerState;
use crate::slices::copy_prefix;
use crate::slices::expect_width;
use crate::stopping::{Event, Monitor, StopReason};
use crate::{scaler, shape, Config, Dataset, Error, Lcg, Model, Split};

/// How many recent epochs a [`Report`] keeps (the observer of [`Trainer::fit`] sees them all):
/// enough for [`crate::diagnose::overfitting`], few enough that a report on a microcontroller's
/// stack stays small (12 bytes an epoch).
pub const HISTORY_LEN: usize = 8;

/// The losses of one epoch, in standardised units — each target's variance over the training
/// split is 1 — the units every stopping rule judges in; [`Report::to_original_units`] converts.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EpochLoss {
    /// The epoch, 1-based.
    pub epoch: u32,
    /// Mean training MSE over the epoch's batches (the weights moved during the epoch).
    pub train_mse: f32,
    /// Validation MSE at the end of the epoch.
    pub val_mse: f32,
}

/// What [`Trainer::step`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Progress {
    /// One mini-batch was trained; the epoch goes on.
    Batch,
    /// An epoch ended.
    Epoch(EpochSummary),
}

/// The end of an epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EpochSummary {
    /// Losses of the epoch.
    pub loss: EpochLoss,
    /// Root mean square of the batch gradients' L2 norms (in standardised units).
    pub grad_norm: f32,
    /// The validation loss improved: these weights are the best so far.
    pub improved: bool,
    /// Something the stopping rules saw that did not stop training (e.g. a spike).
    pub event: Option<Event>,
    /// Training stopped at this epoch, for this reason (best weights already restored).
    pub stop: Option<StopReason>,
}

/// The story of a training run.
#[derive(Debug, Clone)]
pub struct Report {
    /// Why training stopped (`None` while it runs).
    pub stop: Option<StopReason>,
    /// Epochs completed (a diverging epoch counts).
    pub epochs_run: u32,
    /// Epoch of the best validation loss, whose weights the trainer holds after stopping
    /// (0: the initial weights).
    pub best_epoch: u32,
    /// The best validation MSE (standardised units).
    pub best_val_mse: f32,
    /// The training MSE of the best epoch (standardised units).
    pub train_mse_at_best: f32,
    /// The last [`HISTORY_LEN`] epochs.
    pub history: History,
    /// The training targets' variance, mean over outputs: the factor from standardised units
    /// to the targets' own units.
    pub loss_scale: f64,
}

impl Report {
    /// A loss of this run in the targets' own units, in `f64` (a target of 1e19 has squared
    /// errors no `f32` holds). Exact for one output, or outputs of equal variance.
    ///
    /// ```
    /// use tinytrain_core::{trainer::History, Report};
    /// let report = Report {
    ///     stop: None, epochs_run: 0, best_epoch: 0, best_val_mse: 0.5, train_mse_at_best: 0.5,
    ///     history: History::new(), loss_scale: 4e38,
    /// };
    /// assert_eq!(report.to_original_units(0.5), 2e38);
    /// ```
    pub fn to_original_units(&self, loss: f32) -> f64 {
        f64::from(loss) * self.loss_scale
    }

    /// The most recent epoch.
    pub fn last(&self) -> Option<&EpochLoss> {
        self.history.recent()
    }
}

/// The last [`HISTORY_LEN`] epochs of a run: a small ring with no panicking path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct History {
    epochs: [EpochLoss; HISTORY_LEN],
    /// Where the next epoch goes.
    next: usize,
    len: usize,
}

impl History {
    /// No epoch yet.
    pub const fn new() -> Self {
        const NONE: EpochLoss = EpochLoss {
            epoch: 0,
            train_mse: 0.0,
            val_mse: 0.0,
        };
        Self {
            epochs: [NONE; HISTORY_LEN],
            next: 0,
            len: 0,
        }
    }

    /// Adds an epoch, forgetting the oldest once [`HISTORY_LEN`] are kept.
    pub fn write(&mut self, epoch: EpochLoss) {
        if let Some(slot) = self.epochs.get_mut(self.next) {
            *slot = epoch;
        }
        self.next = (self.next + 1) % HISTORY_LEN;
        self.len = (self.len + 1).min(HISTORY_LEN);
    }

    /// The epochs kept, oldest first.
    pub fn oldest_ordered(&self) -> impl DoubleEndedIterator<Item = &EpochLoss> {
        let (newer, older) = self.epochs.split_at(self.next.min(HISTORY_LEN));
        let wrapped = if self.len == HISTORY_LEN { older } else { &[] };
        wrapped.iter().chain(newer)
    }

    /// The most recent epoch.
    pub fn recent(&self) -> Option<&EpochLoss> {
        let newest = (self.next + HISTORY_LEN - 1) % HISTORY_LEN;
        self.epochs.get(newest).filter(|_| self.len > 0)
    }

    /// How many epochs are kept.
    pub fn len(&self) -> usize {
        self.len
    }

    /// No epoch yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Default for History {
    fn default() -> Self {
        Self::new()
    }
}

/// The result of [`Trainer::finish`]: the trained model and its one test evaluation.
#[derive(Debug)]
pub struct Finished<'a> {
    /// The best-validation model.
    pub model: Model<'a>,
    /// The optimizer's state, to save with the model and resume from
    /// ([`Trainer::optimizer_state`]).
    pub optimizer: OptimizerState<'a>,
    /// Test MSE in standardised units (`None` without a test set); see
    /// [`Report::to_original_units`].
    pub test_mse: Option<f32>,
    /// How training went.
    pub report: Report,
}

/// Trains a network on caller-provided storage, epoch after epoch over a [`Split`]; see the crate
/// docs for an example.
///
/// The trainer is the epoch driver of a [`Learner`]: it chooses each mini-batch (the training
/// split, shuffled every epoch, cut into batches), scores validation at the end of each epoch,
/// keeps the best weights and applies the stopping rules. The arena
/// ([`shape::train_arena_len`] values) is the learner's ([`shape::learner_arena_len`]) followed
/// by the copy of the best weights.
///
/// `C` is how many samples of a mini-batch go through the network at once. `Trainer::new` gives
/// `C = 1`, the least memory (a microcontroller's choice); `Trainer::<16>::chunked` with an
/// arena of [`shape::train_arena_len_chunked`]`(widths, optimizer, 16)` runs several times faster
/// on a PC's vector units. Every chunk size gives the same bits.
#[derive(Debug)]
pub struct Trainer<'a, const C: usize = 1, L: Label = f32> {
    learner: Learner<'a, C>,
    data: Dataset<'a, L>,
    split: Split<'a>,
    best: &'a mut [f32],
    rng: Lcg,
    /// The learner's losses divided by this are in standardised units: 1 when it trains on
    /// standardised targets, their variance when on raw ones.
    to_standard: f32,
    /// The training targets' variance (mean over outputs).
    loss_scale: f64,
    monitor: Monitor,
    epoch: u32,
    cursor: usize,
    epoch_loss: f32,
    epoch_values: usize,
    epoch_grad_sq: f32,
    epoch_batches: u32,
    history: History,
    started: bool,
    stop: Option<StopReason>,
}

impl<'a, L: Label> Trainer<'a, 1, L> {
    /// Checks everything, fits the standardisation on the training split and initialises the
    /// weights (`config.init`, seeded by `config.seed`). `arena` holds
    /// [`shape::train_arena_len`]`(widths, config.optimizer)` values (more are left unused).
    ///
    /// A classifier trains on a `Dataset<u16>` ([`Dataset::classes`]) with
    /// [`crate::loss::Loss::CrossEntropy`]: its outputs are the classes' logits, never
    /// standardised.
    ///
    /// Errors: the config's ([`Config::validate`]), the widths' ([`shape::check`]),
    /// [`Error::TrainableFrom`] for a `config.trainable_from` past the last layer,
    /// [`Error::TooFewClasses`] for a cross-entropy of fewer than two outputs,
    /// [`Error::WidthMismatch`] when the data's widths are not the network's first and last,
    /// and [`Error::BufferSize`] when `split` covers another number of samples than `data` or
    /// `arena` is too short.
    pub fn new(
        widths: &'a [usize],
        config: Config,
        data: Dataset<'a, L>,
        split: Split<'a>,
        arena: &'a mut [f32],
    ) -> Result<Self, Error> {
        Self::chunked(widths, config, data, split, arena)
    }
}

impl<'a, const C: usize, L: Label> Trainer<'a, C, L> {
    /// As [`Trainer::new`], running `C` samples at once; `arena` holds
    /// [`shape::train_arena_len_chunked`]`(widths, config.optimizer, C)` values. `C = 0` does
    /// not compile.
    pub fn chunked(
        widths: &'a [usize],
        config: Config,
        data: Dataset<'a, L>,
        split: Split<'a>,
        arena: &'a mut [f32],
    ) -> Result<Self, Error> {
        const {
            assert!(
                C > 0,
                "a chunk holds at least one sample: C must be greater than 0"
            )
        }
        crate::learner::check(widths, &config)?;
        expect_width(data.n_in(), shape::input_width(widths))?;
        expect_width(data.n_out(), shape::output_width(widths))?;
        if split.len() != data.len() {
            return Err(Error::BufferSize {
                needed: data.len(),
                found: split.len(),
            });
        }
        // With a chunk size above 0, the learner's only error is an arena too small.
        let found = arena.len();
        let too_small = || Error::BufferSize {
            needed: shape::train_arena_len_chunked(widths, config.optimizer, C),
            found,
        };
        // The initial weights are the shuffle's generator's first draws.
        let mut rng = Lcg::new(config.seed);
        let (mut learner, rest) =
            Learner::carve(widths, config, arena, &mut rng).map_err(|_| too_small())?;
        let best = rest
            .get_mut(..shape::param_len(widths))
            .ok_or_else(too_small)?;
        let (_, stats) = learner.params_and_stats_mut();
        // Fitted in either case: the stopping rules judge in standardised units. A loss whose
        // targets are never standardised (the cross-entropy's classes or probabilities) keeps
        // their identity statistics: its units, nats, are its own.
        scaler::fit(stats, &data, split.train());
        if !config.loss.standardizes_targets() {
            scaler::identity_targets(stats, data.n_in());
        }
        let loss_scale = scaler::target_variance(stats, data.n_in(), data.n_out());
        let to_standard = if config.standardize {
            1.0
        } else {
            scaler::identity(stats, data.n_in());
            (loss_scale as f32).min(f32::MAX)
        };
        copy_prefix(best, learner.params());
        Ok(Self {
            learner,
            data,
            split,
            best,
            rng,
            to_standard,
            loss_scale,
            monitor: Monitor::new(),
            epoch: 0,
            cursor: 0,
            epoch_loss: 0.0,
            epoch_values: 0,
            epoch_grad_sq: 0.0,
            epoch_batches: 0,
            history: History::new(),
            started: false,
            stop: None,
        })
    }

    /// Replaces the initial weights (e.g. to train on from known weights). Only before the first
    /// step; the standardisation fitted on the training split stays.
    pub fn set_params(&mut self, params: &[f32]) -> Result<(), Error> {
        if self.started {
            crate::slices::expect_len(params.len(), self.best.len())?;
            return Err(Error::Finished);
        }
        self.learner.set_params(params)?;
        copy_prefix(self.best, params);
        Ok(())
    }

    /// Weighs each sample's cross-entropy by its class's weight: see
    /// [`Learner::set_class_weights`]. Only before the first step.
    pub fn set_class_weights(&mut self, weights: &'a [f32]) -> Result<(), Error> {
        if self.started {
            return Err(Error::Finished);
        }
        self.learner.set_class_weights(weights)
    }

    /// Starts from a trained model — weights *and* its standardisation statistics — to fine-tune
    /// it (e.g. a model trained on the host, flashed to the device), without its optimizer's
    /// state: the learning rate warms up ([`Learner::set_model`]). Only before the first step.
    pub fn set_model(&mut self, model: &Model<'_>) -> Result<(), Error> {
        if self.started {
            return Err(Error::Finished);
        }
        self.learner.set_model(model)?;
        copy_prefix(self.best, model.params());
        Ok(())
    }

    /// Starts from a trained model and its optimizer's saved state: training resumes where it
    /// stopped ([`Learner::resume`]). Only before the first step.
    pub fn resume(&mut self, model: &Model<'_>, state: &OptimizerState<'_>) -> Result<(), Error> {
        if self.started {
            return Err(Error::Finished);
        }
        self.learner.resume(model, state)?;
        copy_prefix(self.best, model.params());
        Ok(())
    }

    /// Loads a model — with its optimizer's state, if saved for this optimizer — straight into
    /// the trainer's arena, through `load` ([`Learner::load`]). Only before the first step.
    pub fn load<F>(&mut self, load: F) -> Result<Start, Error>
    where
        F: for<'m, 'x> FnOnce(Buffers<'m, 'x>) -> Result<Loaded<'x>, Error>,
    {
        if self.started {
            return Err(Error::Finished);
        }
        let start = self.learner.load(load)?;
        copy_prefix(self.best, self.learner.params());
        Ok(start)
    }

    /// The optimizer's state now, to save with the model ([`Learner::optimizer_state`]). Once
    /// training stopped, the weights are the best epoch's and the state the last update's: the
    /// moments describe the gradients near the kept weights, and resuming from them keeps the
    /// first steps to their scale.
    pub fn optimizer_state(&self) -> OptimizerState<'_> {
        self.learner.optimizer_state()
    }

    /// The lowest training loss the network's function set can reach, in standardised units,
    /// when the caller knows it: see [`Monitor::set_floor`]. A loss at it is convergence, a
    /// vanished gradient above it a stall.
    pub fn set_floor(&mut self, floor: f32) {
        self.monitor.set_floor(floor);
    }

    /// Trains one mini-batch. At the end of an epoch also evaluates the validation set and applies
    /// the stopping rules; once stopped, the best weights are back in place and further calls
    /// return [`Error::Finished`].
    pub fn step(&mut self) -> Result<Progress, Error> {
        if self.stop.is_some() {
            return Err(Error::Finished);
        }
        if !self.started {
            self.start();
        }
        if self.cursor == 0 && self.learner.config().shuffle {
            crate::rng::shuffle(self.split.train_mut(), &mut self.rng);
        }
        let n_train = self.split.train().len();
        let end = self
            .cursor
            .saturating_add(self.learner.config().batch_size)
            .min(n_train);
        let positions = self.split.train().get(self.cursor..end).unwrap_or(&[]);
        let step = self.learner.train(self.data.select(positions));
        self.cursor = end;
        let Step::Trained(batch) = step else {
            // The loss or the weights' step was not finite: training ends as diverged, and the
            // end of the epoch puts the best weights back.
            return Ok(Progress::Epoch(self.end_epoch(f32::NAN)));
        };
        self.epoch_loss += batch.loss_sum;
        self.epoch_values += batch.terms;
        self.epoch_grad_sq += batch.grad_norm * batch.grad_norm;
        self.epoch_batches += 1;
        if self.cursor >= n_train {
            let train = self.epoch_loss / self.epoch_values.max(1) as f32;
            Ok(Progress::Epoch(self.end_epoch(train)))
        } else {
            Ok(Progress::Batch)
        }
    }

    /// Scores the initial weights as epoch 0, so that an epoch must beat them to count as best.
    /// Not inlined, like the learner's passes and update: their locals are not all in the
    /// step's frame at once (a microcontroller's stack).
    #[cold]
    #[inline(never)]
    fn start(&mut self) {
        self.started = true;
        let train = self.loss_on(Part::Train);
        let val = self.loss_on(Part::Validation);
        self.monitor.start(train, val);
    }

    /// The loss of the current weights on a part of the split, in standardised units.
    fn loss_on(&mut self, part: Part) -> f32 {
        let indices = match part {
            Part::Train => self.split.train(),
            Part::Validation => self.split.validation(),
            Part::Test => self.split.test(),
        };
        // The data set's samples have the network's widths (checked by the constructor).
        self.learner.loss_of(self.data.select(indices)) / self.to_standard
    }

    fn end_epoch(&mut self, train: f32) -> EpochSummary {
        self.epoch = self.epoch.saturating_add(1);
        let train = train / self.to_standard;
        let val = if train.is_finite() {
            self.loss_on(Part::Validation)
        } else {
            f32::NAN
        };
        let grad_norm = libm::sqrtf(self.epoch_grad_sq / self.epoch_batches.max(1) as f32);
        let verdict =
            self.monitor
                .observe(self.learner.config(), self.epoch, train, val, grad_norm);
        if verdict.improved {
            copy_prefix(self.best, self.learner.params());
        }
        let loss = EpochLoss {
            epoch: self.epoch,
            train_mse: train,
            val_mse: val,
        };
        self.history.write(loss);
        if verdict.stop.is_some() {
            self.restore_best();
            self.stop = verdict.stop;
        }
        self.cursor = 0;
        self.epoch_loss = 0.0;
        self.epoch_values = 0;
        self.epoch_grad_sq = 0.0;
        self.epoch_batches = 0;
        EpochSummary {
            loss,
            grad_norm,
            improved: verdict.improved,
            event: verdict.event,
            stop: verdict.stop,
        }
    }

    /// Puts the best weights back in place.
    fn restore_best(&mut self) {
        let (params, _) = self.learner.params_and_stats_mut();
        copy_prefix(params, self.best);
    }

    /// Trains until a stopping rule fires, calling `on_epoch` after every epoch.
    ///
    /// Errors: [`Error::Finished`] when training had already stopped; a stop (early stopping,
    /// divergence, a stall, the epoch limit) is the [`Report`]'s `stop`, not an error.
    pub fn fit(&mut self, mut on_epoch: impl FnMut(&EpochSummary)) -> Result<Report, Error> {
        loop {
            if let Progress::Epoch(summary) = self.step()? {
                on_epoch(&summary);
                if summary.stop.is_some() {
                    return Ok(self.report());
                }
            }
        }
    }

    /// How training went so far.
    pub fn report(&self) -> Report {
        Report {
            stop: self.stop,
            epochs_run: self.epoch,
            best_epoch: self.monitor.best_epoch,
            best_val_mse: self.monitor.best_val,
            train_mse_at_best: self.monitor.train_at_best,
            history: self.history,
            loss_scale: self.loss_scale,
        }
    }

    /// The current weights as a model (the best weights once training stopped).
    pub fn model(&self) -> Model<'_> {
        self.learner.model()
    }

    /// The data being trained on.
    pub fn data(&self) -> &Dataset<'a, L> {
        &self.data
    }

    /// The split being trained on.
    pub fn split(&self) -> &Split<'a> {
        &self.split
    }

    /// Ends training: restores the best-validation weights if training had not stopped yet,
    /// evaluates the test set — once — and hands over the model.
    pub fn finish(mut self) -> Finished<'a> {
        self.finish_in_place()
    }

    /// [`Self::finish`] without moving the trainer, for firmware whose stack has no room for a
    /// second copy of it (hundreds of bytes on a microcontroller): the model's slices leave the
    /// trainer, which is left with none — every later step or evaluation is an error or does
    /// nothing, none panics.
    ///
    /// ```
    /// use tinytrain_core::{shape, Config, Dataset, Split, Trainer};
    /// let (xs, ys) = ([0.0, 1.0, 2.0, 3.0], [0.0, 2.0, 4.0, 6.0]);
    /// let data = Dataset::new(&xs, &ys, 1, 1)?;
    /// let mut order = [0; 4];
    /// let split = Split::new(&mut order, 0.25, 0.25, 1)?;
    /// let config = Config { max_epochs: 3, ..Config::DEFAULT };
    /// let mut arena = [0.0; shape::train_arena_len(&[1, 1], Config::DEFAULT.optimizer)];
    /// let mut trainer = Trainer::new(&[1, 1], config, data, split, &mut arena)?;
    /// trainer.fit(|_| {})?;
    /// let done = trainer.finish_in_place();
    /// assert_eq!((done.model.params().len(), done.report.epochs_run), (2, 3));
    /// assert!(trainer.model().params().is_empty());
    /// # Ok::<(), tinytrain_core::Error>(())
    /// ```
    pub fn finish_in_place(&mut self) -> Finished<'a> {
        if self.stop.is_none() {
            self.restore_best();
        }
        let test_mse = (!self.split.test().is_empty()).then(|| self.loss_on(Part::Test));
        let report = self.report();
        let (model, optimizer) = self.learner.take_parts();
        Finished {
            model,
            optimizer,
            test_mse,
            report,
        }
    }
}

/// A part of the split, for [`Trainer::loss_on`].
#[derive(Clone, Copy)]
enum Part {
    Train,
    Validation,
    Test,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Optimizer;
    use proptest::prelude::*;
    use std::vec;
    use std::vec::Vec;

    /// Trains `epochs` epochs running `C` samples at once; returns the bits of every epoch's
    /// losses and of the final weights.
    fn run<const C: usize>(
        widths: &[usize],
        config: Config,
        xs: &[f32],
        ys: &[f32],
        epochs: u32,
    ) -> Vec<u32> {
        let (n_in, n_out) = (widths[0], widths[widths.len() - 1]);
        let data = Dataset::new(xs, ys, n_in, n_out).unwrap();
        let mut order = vec![0; data.len()];
        let split = Split::new(&mut order, 0.25, 0.0, 5).unwrap();
        let mut arena = vec![0.0; shape::train_arena_len_chunked(widths, config.optimizer, C)];
        let mut trainer = Trainer::<C>::chunked(widths, config, data, split, &mut arena).unwrap();
        bits_of(&mut trainer, epochs)
    }

    /// As [`run`], for a classifier of `classes` classes trained with the cross-entropy.
    fn run_classes<const C: usize>(
        widths: &[usize],
        config: Config,
        xs: &[f32],
        labels: &[u16],
        weights: &[f32],
        epochs: u32,
    ) -> Vec<u32> {
        let n_in = widths[0];
        let data = Dataset::classes(xs, labels, n_in, widths[widths.len() - 1]).unwrap();
        let mut order = vec![0; data.len()];
        let split = Split::new(&mut order, 0.25, 0.0, 5).unwrap();
        let mut arena = vec![0.0; shape::train_arena_len_chunked(widths, config.optimizer, C)];
        let config = Config {
            loss: crate::loss::Loss::CrossEntropy,
            ..config
        };
        let mut trainer =
            Trainer::<C, u16>::chunked(widths, config, data, split, &mut arena).unwrap();
        trainer.set_class_weights(weights).unwrap();
        bits_of(&mut trainer, epochs)
    }

    /// Trains `epochs` epochs; the bits of every epoch's losses and gradient norm, then of the
    /// final weights.
    fn bits_of<const C: usize, L: Label>(trainer: &mut Trainer<'_, C, L>, epochs: u32) -> Vec<u32> {
        let mut bits = Vec::new();
        while trainer.epoch < epochs {
            match trainer.step() {
                Ok(Progress::Epoch(e)) => bits.extend([
                    e.loss.train_mse.to_bits(),
                    e.loss.val_mse.to_bits(),
                    e.grad_norm.to_bits(),
                ]),
                Ok(Progress::Batch) => {}
                Err(_) => break,
            }
        }
        bits.extend(trainer.model().params().iter().map(|p| p.to_bits()));
        bits
    }

    #[test]
    fn a_classifier_learns_two_interleaved_classes() {
        // Class 1 inside the ring 0.5 < r < 1 of the unit square's centre, class 0 elsewhere:
        // no line separates them.
        let mut rng = crate::Lcg::new(3);
        let xs: Vec<f32> = (0..800).map(|_| rng.uniform(-1.2, 1.2)).collect();
        let labels: Vec<u16> = xs
            .chunks(2)
            .map(|p| {
                let r = (p[0] * p[0] + p[1] * p[1]).sqrt();
                u16::from(r > 0.5 && r < 1.0)
            })
            .collect();
        let data = Dataset::classes(&xs, &labels, 2, 2).unwrap();
        let widths = [2, 16, 16, 2];
        let config = Config {
            loss: crate::loss::Loss::CrossEntropy,
            optimizer: Optimizer::ADAM,
            learning_rate: 0.01,
            max_epochs: 300,
            patience: 30,
            ..Config::DEFAULT
        };
        let mut order = vec![0; data.len()];
        let split = Split::stratified(&mut order, &data, 0.2, 0.2, 1).unwrap();
        let mut arena = vec![0.0; shape::train_arena_len(&widths, config.optimizer)];
        let mut trainer = Trainer::new(&widths, config, data, split, &mut arena).unwrap();
        let report = trainer.fit(|_| {}).unwrap();
        let test: Vec<u32> = trainer.split().test().to_vec();
        let done = trainer.finish();
        let mut counts = [0u32; 4];
        let mut confusion = crate::metrics::Confusion::new(&mut counts, 2).unwrap();
        let mut scratch = [0.0; shape::predict_scratch_len(&[2, 16, 16, 2])];
        let scores =
            crate::metrics::score(&done.model, &data, &test, &mut scratch, &mut confusion).unwrap();
        assert!(scores.accuracy > 0.9, "{scores:?} {report:?}");
        // The trainer's test loss is the metrics' cross-entropy, bit for bit.
        assert_eq!(
            done.test_mse.map(f32::to_bits),
            Some(scores.cross_entropy.to_bits())
        );
        // The outputs are logits: never standardised.
        assert_eq!(&done.model.stats()[4..], &[0.0, 0.0, 1.0, 1.0]);
    }

    #[test]
    fn a_classifier_with_frozen_layers_trains_only_the_layers_above_them() {
        // Two classes split by the line x = y: the first layers, frozen at their initial
        // weights, still pass enough of it on for the last layer to learn.
        let mut rng = crate::Lcg::new(4);
        let xs: Vec<f32> = (0..400).map(|_| rng.uniform(-1.0, 1.0)).collect();
        let labels: Vec<u16> = xs.chunks(2).map(|p| u16::from(p[0] > p[1])).collect();
        let data = Dataset::classes(&xs, &labels, 2, 2).unwrap();
        let widths = [2, 16, 16, 2];
        let config = Config {
            loss: crate::loss::Loss::CrossEntropy,
            optimizer: Optimizer::ADAM,
            learning_rate: 0.01,
            max_epochs: 100,
            trainable_from: 2,
            ..Config::DEFAULT
        };
        let frozen = shape::frozen_param_len(&widths, 2);
        let mut order = vec![0; data.len()];
        let split = Split::stratified(&mut order, &data, 0.2, 0.0, 1).unwrap();
        let mut arena = vec![0.0; shape::train_arena_len(&widths, config.optimizer)];
        let mut trainer = Trainer::new(&widths, config, data, split, &mut arena).unwrap();
        let initial = trainer.model().params().to_vec();
        let report = trainer.fit(|_| {}).unwrap();
        let params = trainer.model().params();
        assert_eq!(
            params[..frozen],
            initial[..frozen],
            "the frozen layers keep their weights"
        );
        assert_ne!(params[frozen..], initial[frozen..], "the last layer learns");
        assert!(
            report.best_epoch > 0 && report.best_val_mse < 0.3,
            "{report:?}"
        );
    }

    #[test]
    fn cross_entropy_needs_two_outputs() {
        let xs = [0.0f32, 1.0, 2.0, 3.0];
        let data = Dataset::new(&xs, &xs, 1, 1).unwrap();
        let mut order = [0; 4];
        let split = Split::new(&mut order, 0.25, 0.0, 1).unwrap();
        let mut arena = vec![0.0; shape::train_arena_len(&[1, 1], Optimizer::SGD)];
        let config = Config {
            loss: crate::loss::Loss::CrossEntropy,
            ..Config::DEFAULT
        };
        assert_eq!(
            Trainer::new(&[1, 1], config, data, split, &mut arena).unwrap_err(),
            Error::TooFewClasses {
                classes: 1,
                min: crate::data::MIN_CLASSES
            }
        );
    }

    #[test]
    fn fine_tuning_starts_from_the_given_model() {
        let widths = [1, 4, 1];
        let xs: Vec<f32> = (0..20).map(|i| i as f32).collect();
        let data = Dataset::new(&xs, &xs, 1, 1).unwrap();
        let params: Vec<f32> = (0..shape::param_len(&widths))
            .map(|k| k as f32 * 0.1)
            .collect();
        let stats = [10.0, 2.0, 9.0, 3.0];
        let model = Model::new(&widths, &params, &stats).unwrap();
        let mut order = [0; 20];
        let split = Split::new(&mut order, 0.25, 0.0, 1).unwrap();
        let mut arena = vec![0.0; shape::train_arena_len(&widths, Optimizer::SGD)];
        let mut trainer = Trainer::new(&widths, Config::DEFAULT, data, split, &mut arena).unwrap();
        trainer.set_model(&model).unwrap();
        assert_eq!(trainer.model().params(), &params[..]);
        assert_eq!(trainer.model().stats(), &stats[..]);
        let bad = [0.0, 0.0, 9.0, 3.0];
        let bad = Model::new(&widths, &params, &bad).unwrap();
        assert!(trainer.set_model(&bad).is_err(), "zero deviation");
        trainer.step().unwrap();
        assert_eq!(trainer.set_model(&model), Err(Error::Finished));
    }

    #[test]
    fn history_keeps_the_last_epochs_oldest_first() {
        let mut h = History::new();
        assert!(h.is_empty() && h.recent().is_none());
        for epoch in 1..=HISTORY_LEN as u32 + 3 {
            h.write(EpochLoss {
                epoch,
                train_mse: 0.0,
                val_mse: 0.0,
            });
        }
        let kept: Vec<u32> = h.oldest_ordered().map(|e| e.epoch).collect();
        assert_eq!(kept, (4..=HISTORY_LEN as u32 + 3).collect::<Vec<_>>());
        assert_eq!(h.recent().map(|e| e.epoch), Some(HISTORY_LEN as u32 + 3));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Running several samples at once changes speed, never bits.
        #[test]
        fn every_chunk_size_gives_the_same_bits(
            hidden in proptest::collection::vec(1usize..12, 0..3),
            n_in in 1usize..4,
            n_out in 1usize..3,
            samples in 4usize..40,
            batch in 1usize..11,
            adam: bool,
            seed: u64,
        ) {
            let widths: Vec<usize> = [n_in].into_iter().chain(hidden).chain([n_out]).collect();
            let mut rng = crate::Lcg::new(seed);
            let xs: Vec<f32> = (0..samples * n_in).map(|_| rng.uniform(-2.0, 2.0)).collect();
            let ys: Vec<f32> = (0..samples * n_out).map(|_| rng.uniform(-2.0, 2.0)).collect();
            let config = Config {
                batch_size: batch,
                seed,
                optimizer: if adam { Optimizer::ADAM } else { Optimizer::SGD },
                ..Config::DEFAULT
            };
            let one = run::<1>(&widths, config, &xs, &ys, 3);
            prop_assert_eq!(&one, &run::<4>(&widths, config, &xs, &ys, 3));
            prop_assert_eq!(&one, &run::<16>(&widths, config, &xs, &ys, 3));
            // Clipping that never clips takes the norm before the update; without it the
            // update adds the squares up on its way: the same norms, the same bits.
            let unclipped = Config { clip_norm: f32::MAX, ..config };
            prop_assert_eq!(&one, &run::<1>(&widths, unclipped, &xs, &ys, 3));
        }

        /// The same for a classifier, with and without class weights.
        #[test]
        fn every_chunk_size_gives_a_classifier_the_same_bits(
            hidden in proptest::collection::vec(1usize..12, 0..3),
            n_in in 1usize..4,
            classes in 2usize..5,
            samples in 4usize..40,
            batch in 1usize..11,
            weighted: bool,
            seed: u64,
        ) {
            let widths: Vec<usize> = [n_in].into_iter().chain(hidden).chain([classes]).collect();
            let mut rng = crate::Lcg::new(seed);
            let xs: Vec<f32> = (0..samples * n_in).map(|_| rng.uniform(-2.0, 2.0)).collect();
            let labels: Vec<u16> = (0..samples).map(|_| rng.below(classes as u32) as u16).collect();
            let weights: Vec<f32> = if weighted {
                (0..classes).map(|k| 0.5 + k as f32).collect()
            } else {
                Vec::new()
            };
            let config = Config { batch_size: batch, seed, optimizer: Optimizer::ADAM, ..Config::DEFAULT };
            let one = run_classes::<1>(&widths, config, &xs, &labels, &weights, 3);
            prop_assert_eq!(&one, &run_classes::<4>(&widths, config, &xs, &labels, &weights, 3));
            prop_assert_eq!(&one, &run_classes::<16>(&widths, config, &xs, &labels, &weights, 3));
        }
    }
}
