//! The training loop: one mini-batch per [`Trainer::step`], or all of it with [`Trainer::fit`].

use crate::model::{self, copy_prefix, expect_width};
use crate::optim::Powers;
use crate::stopping::{Monitor, StopReason};
use crate::{mlp, scaler, shape, Config, Dataset, Error, Lcg, Model, Split};
use heapless::HistoryBuffer;

/// How many recent epochs a [`Report`] keeps (the observer of [`Trainer::fit`] sees them all).
pub const HISTORY_LEN: usize = 32;

/// The losses of one epoch, in the targets' original units.
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
    /// The best validation MSE.
    pub best_val_mse: f32,
    /// The training MSE of the best epoch.
    pub train_mse_at_best: f32,
    /// The last [`HISTORY_LEN`] epochs, oldest first through `oldest_ordered()`.
    pub history: HistoryBuffer<EpochLoss, HISTORY_LEN>,
}

impl Report {
    /// The most recent epoch.
    pub fn last(&self) -> Option<&EpochLoss> {
        self.history.recent()
    }
}

/// The result of [`Trainer::finish`]: the trained model and its one test evaluation.
#[derive(Debug)]
pub struct Finished<'a> {
    /// The best-validation model.
    pub model: Model<'a>,
    /// Test MSE in the targets' units (`None` without a test set).
    pub test_mse: Option<f32>,
    /// How training went.
    pub report: Report,
}

/// Trains a network on caller-provided storage; see the crate docs for an example.
///
/// The arena ([`shape::train_arena_len`] values) is laid out as: parameters, gradients, optimizer
/// state, best parameters, activations, back-propagated errors, standardisation statistics.
#[derive(Debug)]
pub struct Trainer<'a> {
    widths: &'a [usize],
    config: Config,
    data: Dataset<'a>,
    split: Split<'a>,
    params: &'a mut [f32],
    grads: &'a mut [f32],
    state: &'a mut [f32],
    best: &'a mut [f32],
    acts: &'a mut [f32],
    deltas: &'a mut [f32],
    stats: &'a mut [f32],
    rng: Lcg,
    powers: Powers,
    monitor: Monitor,
    epoch: u32,
    cursor: usize,
    epoch_loss: f32,
    epoch_values: usize,
    epoch_grad_sq: f32,
    epoch_batches: u32,
    history: HistoryBuffer<EpochLoss, HISTORY_LEN>,
    stop: Option<StopReason>,
}

impl<'a> Trainer<'a> {
    /// Checks everything, fits the standardisation on the training split and initialises the
    /// weights (He uniform, seeded by `config.seed`).
    pub fn new(
        widths: &'a [usize],
        config: Config,
        data: Dataset<'a>,
        split: Split<'a>,
        arena: &'a mut [f32],
    ) -> Result<Self, Error> {
        config.validate()?;
        shape::check(widths)?;
        expect_width(data.n_in(), shape::input_width(widths))?;
        expect_width(data.n_out(), shape::output_width(widths))?;
        if split.len() != data.len() {
            return Err(Error::BufferSize {
                needed: data.len(),
                found: split.len(),
            });
        }
        let needed = shape::train_arena_len(widths, config.optimizer);
        let found = arena.len();
        let arena = arena
            .get_mut(..needed)
            .ok_or(Error::BufferSize { needed, found })?;
        let p = shape::param_len(widths);
        let (params, rest) = arena.split_at_mut(p);
        let (grads, rest) = rest.split_at_mut(p);
        let (state, rest) = rest.split_at_mut(p * config.optimizer.state_per_param());
        let (best, rest) = rest.split_at_mut(p);
        let (acts, rest) = rest.split_at_mut(shape::activation_len(widths));
        let (deltas, stats) = rest.split_at_mut(2 * shape::max_layer_width(widths));

        let mut rng = Lcg::new(config.seed);
        mlp::init_he(widths, params, &mut rng);
        if config.standardize {
            scaler::fit(stats, &data, split.train());
        } else {
            scaler::identity(stats, data.n_in());
        }
        let mut trainer = Self {
            widths,
            config,
            data,
            split,
            params,
            grads,
            state,
            best,
            acts,
            deltas,
            stats,
            rng,
            powers: Powers::new(),
            monitor: Monitor::new(),
            epoch: 0,
            cursor: 0,
            epoch_loss: 0.0,
            epoch_values: 0,
            epoch_grad_sq: 0.0,
            epoch_batches: 0,
            history: HistoryBuffer::new(),
            stop: None,
        };
        trainer.reset_state();
        Ok(trainer)
    }

    /// Replaces the initial weights (e.g. a model trained on the host, to fine-tune on the
    /// device). Only before the first step.
    pub fn set_params(&mut self, params: &[f32]) -> Result<(), Error> {
        model::expect_len(params.len(), self.params.len())?;
        if self.epoch > 0 || self.cursor > 0 {
            return Err(Error::Finished);
        }
        if let Some(i) = params.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFiniteParameter { index: i });
        }
        copy_prefix(self.params, params);
        self.reset_state();
        Ok(())
    }

    fn reset_state(&mut self) {
        self.state.iter_mut().for_each(|v| *v = 0.0);
        copy_prefix(self.best, self.params);
    }

    /// Trains one mini-batch. At the end of an epoch also evaluates the validation set and applies
    /// the stopping rules; once stopped, the best weights are back in place and further calls
    /// return [`Error::Finished`].
    pub fn step(&mut self) -> Result<Progress, Error> {
        if self.stop.is_some() {
            return Err(Error::Finished);
        }
        if self.cursor == 0 && self.config.shuffle {
            crate::rng::shuffle(self.split.train_mut(), &mut self.rng);
        }
        let n_train = self.split.train().len();
        let end = self
            .cursor
            .saturating_add(self.config.batch_size)
            .min(n_train);
        let batch_len = end.saturating_sub(self.cursor);
        self.grads.iter_mut().for_each(|g| *g = 0.0);
        let mut batch_loss = 0.0;
        for k in self.cursor..end {
            let index = self.split.train().get(k).copied().unwrap_or(0);
            batch_loss += self.accumulate(index as usize);
        }
        self.cursor = end;

        let mut scale = 1.0 / batch_len.max(1) as f32;
        let norm = libm::sqrtf(self.grads.iter().fold(0.0, |a, g| a + g * g)) * scale;
        if self.config.clip_norm > 0.0 && norm > self.config.clip_norm {
            scale *= self.config.clip_norm / norm;
        }
        if !(norm.is_finite() && batch_loss.is_finite()) {
            return Ok(Progress::Epoch(self.end_epoch(f32::NAN)));
        }
        self.config.optimizer.update(
            self.params,
            self.grads,
            self.state,
            self.config.learning_rate,
            scale,
            &mut self.powers,
        );
        self.epoch_loss += batch_loss;
        self.epoch_grad_sq += norm * norm;
        self.epoch_batches += 1;
        if self.cursor >= n_train {
            let train = self.epoch_loss / self.epoch_values.max(1) as f32;
            Ok(Progress::Epoch(self.end_epoch(train)))
        } else {
            Ok(Progress::Batch)
        }
    }

    /// Forward and backward pass of one sample; returns its squared error in original units.
    fn accumulate(&mut self, index: usize) -> f32 {
        let Some((x, t)) = self.data.sample(index) else {
            return 0.0;
        };
        let n_in = x.len();
        scaler::scale_inputs(self.stats, x, self.acts);
        mlp::forward_keep(self.widths, self.params, self.acts);
        let y = self
            .acts
            .get(self.acts.len().saturating_sub(t.len())..)
            .unwrap_or(&[]);
        // ∂MSE/∂y in standardised units; the error in original units is (y - t)·σ.
        let dy = self.deltas.get_mut(..t.len()).unwrap_or(&mut []);
        scaler::scale_targets(self.stats, n_in, t, dy);
        // ∂MSE/∂y = 2 (y - t) / n_out, as `loss::mse_grad`, computed in place over the scaled t.
        let g = 2.0 / t.len() as f32;
        let mut sq = 0.0;
        let devs = scaler::target_devs(self.stats, n_in, t.len());
        for ((d, y), s) in dy.iter_mut().zip(y).zip(devs) {
            let err = *y - *d;
            sq += (err * s) * (err * s);
            *d = g * err;
        }
        mlp::backward(self.widths, self.params, self.acts, self.grads, self.deltas);
        self.epoch_values += t.len();
        sq
    }

    fn end_epoch(&mut self, train: f32) -> EpochSummary {
        self.epoch = self.epoch.saturating_add(1);
        let val = if train.is_finite() {
            model::mse(
                self.widths,
                self.params,
                self.stats,
                &self.data,
                self.split.validation(),
                self.acts,
            )
        } else {
            f32::NAN
        };
        let grad_norm = libm::sqrtf(self.epoch_grad_sq / self.epoch_batches.max(1) as f32);
        let verdict = self
            .monitor
            .observe(&self.config, self.epoch, train, val, grad_norm);
        if verdict.improved {
            copy_prefix(self.best, self.params);
        }
        let loss = EpochLoss {
            epoch: self.epoch,
            train_mse: train,
            val_mse: val,
        };
        self.history.write(loss);
        if verdict.stop.is_some() {
            copy_prefix(self.params, self.best);
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
            stop: verdict.stop,
        }
    }

    /// Trains until a stopping rule fires, calling `on_epoch` after every epoch.
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
            history: self.history.clone(),
        }
    }

    /// The current weights as a model (the best weights once training stopped).
    pub fn model(&self) -> Model<'_> {
        Model::from_parts(self.widths, self.params, self.stats)
    }

    /// The data and split being trained on.
    pub fn split(&self) -> &Split<'a> {
        &self.split
    }

    /// Ends training: restores the best-validation weights if training had not stopped yet,
    /// evaluates the test set — once — and hands over the model.
    pub fn finish(self) -> Finished<'a> {
        if self.stop.is_none() {
            copy_prefix(self.params, self.best);
        }
        let report = self.report();
        let test = self.split.test();
        let test_mse = (!test.is_empty()).then(|| {
            model::mse(
                self.widths,
                self.params,
                self.stats,
                &self.data,
                test,
                self.acts,
            )
        });
        let (params, stats): (&'a [f32], &'a [f32]) = (self.params, self.stats);
        Finished {
            model: Model::from_parts(self.widths, params, stats),
            test_mse,
            report,
        }
    }
}
