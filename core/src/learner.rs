//! The learner under every driver: a network's parameters, their gradient sums and the
//! optimizer's state, trained one mini-batch at a time on whatever samples a driver chooses.
//!
//! A driver decides *which* samples form a batch — [`crate::Trainer`] walks epochs over a
//! [`crate::Split`], a stream driver samples a replay buffer — and hands them to
//! [`Learner::step`], which runs the forward pass, the [`Loss`](crate::loss::Loss) and its
//! gradient, back-propagation and one update of the [`Optimizer`](crate::Optimizer). Every driver
//! goes through this one code path, so they give the same bits for the same samples.

use crate::data::{Sample, Target};
use crate::format::{Buffers, Loaded};
use crate::loss::Units;
use crate::model;
use crate::optim::{BiasCorrection, OptimizerState};
use crate::slices::copy_prefix;
use crate::slices::{expect_len, expect_width};
use crate::{mlp, scaler, shape, Config, Error, Lcg, Model};

/// How a learner started from a saved model ([`Learner::load`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Start {
    /// The optimizer's saved state came with the model: training resumes where it stopped,
    /// after this many updates.
    Resumed {
        /// Updates taken before the model was saved.
        steps: u64,
    },
    /// No state for this update rule came with the model: the optimizer starts afresh, its
    /// learning rate warmed up over this many updates ([`crate::Optimizer::warmup_steps`]).
    WarmUp {
        /// Updates of warm-up.
        steps: u32,
    },
}

/// One mini-batch, as [`Learner::step`] trained it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Batch {
    /// Samples in the batch.
    pub samples: usize,
    /// The samples' losses before the update, in the network's units (see
    /// [`Learner::evaluate`]), added up over
    /// [`Self::terms`] terms (for MSE: every output's squared error).
    pub loss_sum: f32,
    /// Terms in [`Self::loss_sum`] ([`crate::loss::Loss::terms`] per sample): `loss_sum / terms`
    /// is the batch's mean loss.
    pub terms: usize,
    /// L2 norm of the batch's mean gradient, before clipping, in standardised units.
    pub grad_norm: f32,
}

/// What [`Learner::step`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Step {
    /// The weights took the batch's step.
    Trained(Batch),
    /// The batch's loss or the update was NaN or infinite: the learning rate is too large (or
    /// a sample holds a non-finite value). The weights may now hold non-finite values: a driver
    /// puts a checkpoint back ([`Learner::set_params`]) before training on.
    Diverged,
}

/// A network being trained, on caller-provided storage; see the [module docs](self).
///
/// The arena holds [`shape::learner_arena_len`]`(widths, config.optimizer, C)` values laid out
/// as: parameters, gradient sums, optimizer state, activations (the back-propagated errors are
/// written over them), a transpose buffer (wide chunks only), standardisation statistics. With
/// the layers below [`Config::trainable_from`] frozen, gradient sums and optimizer state cover
/// only the layers trained ([`shape::learner_arena_len_from`]).
///
/// `C` is how many samples of a mini-batch go through the network at once: `C = 1` needs the
/// least memory, `C = 4` is fastest on a Cortex-M4F, `C = 16` on a PC's vector units. Every
/// chunk size gives the same bits.
///
/// ```
/// use tinytrain_core::learner::{Learner, Step};
/// use tinytrain_core::{shape, Config, Optimizer};
/// const WIDTHS: [usize; 3] = [1, 8, 1];
/// let mut arena = [0.0; shape::learner_arena_len(&WIDTHS, Optimizer::SGD, 1)];
/// let config = Config { learning_rate: 0.05, ..Config::DEFAULT };
/// let mut learner = Learner::<1>::new(&WIDTHS, config, &mut arena)?;
/// // y = 2x: a batch of four samples, as (inputs, targets).
/// let batch = [([-1.0], [-2.0]), ([-0.5], [-1.0]), ([0.5], [1.0]), ([1.0], [2.0])];
/// let samples = || batch.iter().map(|(x, t)| (&x[..], &t[..]));
/// let before = learner.evaluate(samples())?;
/// for _ in 0..50 {
///     assert!(matches!(learner.step(samples())?, Step::Trained(_)));
/// }
/// assert!(learner.evaluate(samples())? < before / 10.0);
/// # Ok::<(), tinytrain_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Learner<'a, const C: usize = 1> {
    widths: &'a [usize],
    config: Config,
    /// Parameters of the frozen layers, at the start of `params`.
    frozen: usize,
    params: &'a mut [f32],
    grads: &'a mut [f32],
    state: &'a mut [f32],
    acts: &'a mut [f32],
    transposed: &'a mut [f32],
    stats: &'a mut [f32],
    class_weights: &'a [f32],
    bias_correction: BiasCorrection,
    warmup: Warmup,
}

/// A linear learning-rate warm-up: update `k` of `len` (1-based) takes `k/len` of the learning
/// rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Warmup {
    len: u32,
    done: u32,
}

impl Warmup {
    const NONE: Self = Self { len: 0, done: 0 };

    /// The learning rate of the next update, and the warm-up one update further.
    fn next(self, learning_rate: f32) -> (f32, Self) {
        if self.done >= self.len {
            return (learning_rate, Self::NONE);
        }
        let done = self.done + 1;
        let rate = learning_rate * (done as f32 / self.len as f32);
        (rate, Self { done, ..self })
    }
}

impl<'a, const C: usize> Learner<'a, C> {
    /// Checks the widths and the configuration, initialises the weights (`config.init`, seeded
    /// by `config.seed`) and sets the identity standardisation (mean 0, deviation 1: a driver or
    /// [`Self::set_model`] sets real statistics). `arena` holds at least
    /// [`shape::learner_arena_len`]`(widths, config.optimizer, C)` values (more are left
    /// unused). `C = 0` does not compile.
    pub fn new(widths: &'a [usize], config: Config, arena: &'a mut [f32]) -> Result<Self, Error> {
        const {
            assert!(
                C > 0,
                "a chunk holds at least one sample: C must be greater than 0"
            )
        }
        check(widths, &config)?;
        let mut rng = Lcg::new(config.seed);
        let (learner, _) = Self::carve(widths, config, arena, &mut rng)?;
        scaler::identity(learner.stats, shape::input_width(widths));
        Ok(learner)
    }

    /// As [`Self::new`] for a driver that has checked `widths` and `config` already ([`check`]),
    /// drawing the
    /// initial weights from `rng` and leaving the statistics for it to write; also returns what
    /// `arena` holds beyond the learner's part.
    pub(crate) fn carve(
        widths: &'a [usize],
        config: Config,
        arena: &'a mut [f32],
        rng: &mut Lcg,
    ) -> Result<(Self, &'a mut [f32]), Error> {
        const {
            assert!(
                C > 0,
                "a chunk holds at least one sample: C must be greater than 0"
            )
        }
        let found = arena.len();
        // The total is worked out only for the error: a microcontroller's widths are constants,
        // and each part's length then is one too.
        let too_small = || Error::BufferSize {
            needed: shape::learner_arena_len(widths, config.optimizer, C),
            found,
        };
        let carve =
            |rest: &'a mut [f32], n: usize| rest.split_at_mut_checked(n).ok_or_else(too_small);
        let p = shape::param_len(widths);
        let trainable = shape::trainable_param_len(widths, config.trainable_from);
        let (params, rest) = carve(arena, p)?;
        let (grads, rest) = carve(rest, trainable)?;
        let (state, rest) = carve(rest, trainable * config.optimizer.state_per_param())?;
        let (acts, rest) = carve(rest, C * shape::activation_len(widths))?;
        let transposed_len = crate::dense::transposed_len(shape::max_fan_in(widths), C);
        let (transposed, rest) = carve(rest, transposed_len)?;
        let (stats, rest) = carve(rest, shape::scaler_len(widths))?;
        config.init.fill(widths, params, rng);
        zero(grads);
        zero(state);
        let learner = Self {
            widths,
            config,
            frozen: p - trainable,
            params,
            grads,
            state,
            acts,
            transposed,
            stats,
            class_weights: &[],
            bias_correction: BiasCorrection::new(),
            warmup: Warmup::NONE,
        };
        Ok((learner, rest))
    }

    /// The layer widths, input first.
    pub fn widths(&self) -> &'a [usize] {
        self.widths
    }

    /// The configuration: learning rate, update rule, loss, clipping.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Weighs each sample's cross-entropy by its class's weight (one weight per output, finite
    /// and at least 0; see [`crate::metrics::balanced_weights`]), in training and in
    /// [`Self::evaluate`]; an empty slice weighs every class 1. The mean loss still divides by
    /// the number of samples. The mean squared error ignores them.
    ///
    /// Errors: a count other than the outputs' ([`Error::WidthMismatch`]), a weight that is
    /// negative or not finite ([`Error::InvalidHyperparameter`]).
    pub fn set_class_weights(&mut self, weights: &'a [f32]) -> Result<(), Error> {
        check_class_weights(weights, shape::output_width(self.widths))?;
        self.class_weights = weights;
        Ok(())
    }

    /// The class weights (empty: 1 each).
    pub fn class_weights(&self) -> &'a [f32] {
        self.class_weights
    }

    /// The current weights and standardisation as a model.
    pub fn model(&self) -> Model<'_> {
        Model::from_parts(self.widths, self.params, self.stats)
    }

    /// The optimizer's state — velocity or moments, step count, bias-correction powers — with
    /// the weights, all a later run needs to train on as if it had never stopped: save it with
    /// the model ([`crate::format::Contents::optimizer`]) and hand it to [`Self::resume`].
    pub fn optimizer_state(&self) -> OptimizerState<'_> {
        state_of(&self.config, self.bias_correction, self.state)
    }

    /// Replaces the weights, and starts the optimizer afresh (zero state, step 0).
    pub fn set_params(&mut self, params: &[f32]) -> Result<(), Error> {
        expect_len(params.len(), self.params.len())?;
        if let Some(index) = params.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFiniteParameter { index });
        }
        copy_prefix(self.params, params);
        self.restart();
        Ok(())
    }

    /// Starts from a trained model — weights *and* standardisation statistics — to fine-tune
    /// it (e.g. a model trained on the host, flashed to the device), without its optimizer's
    /// state: the optimizer starts afresh and its learning rate warms up linearly over
    /// [`crate::Optimizer::warmup_steps`] updates, so that the first steps are small (Adam's
    /// first steps from zero moments would otherwise be a learning rate in every parameter).
    /// With the saved state, [`Self::resume`] trains on where training stopped.
    pub fn set_model(&mut self, model: &Model<'_>) -> Result<(), Error> {
        self.check_model(model)?;
        self.set_params(model.params())?;
        copy_prefix(self.stats, model.stats());
        self.warmup = Warmup {
            len: self.config.optimizer.warmup_steps(),
            done: 0,
        };
        Ok(())
    }

    /// Starts from a trained model and its optimizer's saved state: training resumes where it
    /// stopped — the same updates, bit for bit, as if it had never stopped.
    ///
    /// Errors, with nothing changed: those of [`Self::set_model`]; [`Error::OptimizerMismatch`]
    /// for state of another update rule, other hyperparameters or another network, and the
    /// errors of [`OptimizerState::check`].
    pub fn resume(&mut self, model: &Model<'_>, state: &OptimizerState<'_>) -> Result<(), Error> {
        self.check_model(model)?;
        self.check_state(state)?;
        self.set_params(model.params())?;
        copy_prefix(self.stats, model.stats());
        copy_prefix(self.state, state.values);
        self.bias_correction = state.bias_correction;
        Ok(())
    }

    /// Loads a model straight into the learner's storage — weights, statistics and the
    /// optimizer's state, with no buffer of the caller's — through `load`, which calls
    /// [`crate::format::load`] or [`crate::slots::ModelStore::load`] with the buffers it is
    /// given, and starts from it: resumed if the model holds state for this optimizer, else
    /// afresh with a warm-up (as [`Self::set_model`]).
    ///
    /// ```
    /// use tinytrain_core::format::{self, Contents, Sections};
    /// use tinytrain_core::learner::{Learner, Start};
    /// use tinytrain_core::{shape, Config, Optimizer};
    /// const W: [usize; 2] = [1, 1];
    /// let config = Config { optimizer: Optimizer::ADAM, ..Config::DEFAULT };
    /// let mut arena = [0.0; shape::learner_arena_len(&W, Optimizer::ADAM, 1)];
    /// let mut learner = Learner::<1>::new(&W, config, &mut arena)?;
    /// learner.step([(&[1.0][..], &[2.0][..])])?;
    /// let contents = Contents {
    ///     optimizer: Some(learner.optimizer_state()),
    ///     ..Contents::new(learner.model())
    /// };
    /// let mut blob = [0u8; format::encoded_len(&W, Sections { optimizer: Some(Optimizer::ADAM), ..Sections::NONE })];
    /// format::save(&contents, &mut blob)?;
    ///
    /// let mut arena = [0.0; shape::learner_arena_len(&W, Optimizer::ADAM, 1)];
    /// let mut resumed = Learner::<1>::new(&W, config, &mut arena)?;
    /// let start = resumed.load(|buffers| format::load(&blob, &W, buffers))?;
    /// assert_eq!(start, Start::Resumed { steps: 1 });
    /// # Ok::<(), tinytrain_core::Error>(())
    /// ```
    ///
    /// Errors: those of `load`, with nothing changed.
    pub fn load<F>(&mut self, load: F) -> Result<Start, Error>
    where
        F: for<'m, 'x> FnOnce(Buffers<'m, 'x>) -> Result<Loaded<'x>, Error>,
    {
        let buffers = Buffers {
            state: Some(&mut *self.state),
            ..Buffers::new(self.params, self.stats)
        };
        let loaded = load(buffers)?;
        let saved = loaded
            .optimizer
            .map(|s| (s.optimizer, s.trainable_from, s.bias_correction));
        match saved {
            Some((optimizer, from, correction))
                if optimizer == self.config.optimizer && from == self.config.trainable_from =>
            {
                // The state is in place, checked by the format.
                self.bias_correction = correction;
                self.warmup = Warmup::NONE;
                Ok(Start::Resumed {
                    steps: correction.steps(),
                })
            }
            _ => {
                self.restart();
                let steps = self.config.optimizer.warmup_steps();
                self.warmup = Warmup {
                    len: steps,
                    done: 0,
                };
                Ok(Start::WarmUp { steps })
            }
        }
    }

    /// The checks of a model to start from, before anything is written.
    fn check_model(&self, model: &Model<'_>) -> Result<(), Error> {
        expect_width(model.widths().len(), self.widths.len())?;
        for (m, w) in model.widths().iter().zip(self.widths) {
            expect_width(*m, *w)?;
        }
        scaler::check(model.stats(), shape::input_width(self.widths))?;
        if let Some(index) = model.params().iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFiniteParameter { index });
        }
        Ok(())
    }

    /// The checks of saved state to resume from.
    fn check_state(&self, state: &OptimizerState<'_>) -> Result<(), Error> {
        state.check(self.widths)?;
        if state.optimizer != self.config.optimizer
            || state.trainable_from != self.config.trainable_from
        {
            return Err(Error::OptimizerMismatch);
        }
        Ok(())
    }

    /// The optimizer starts afresh: zero state, step 0, no warm-up (the gradient sums are zero
    /// between steps already).
    pub(crate) fn restart(&mut self) {
        zero(self.state);
        self.bias_correction = BiasCorrection::new();
        self.warmup = Warmup::NONE;
    }

    /// The parameters, for a driver's checkpoint.
    pub(crate) fn params(&self) -> &[f32] {
        self.params
    }

    /// The parameters of the trainable layers (the tail of the parameters), for a driver's
    /// checkpoint: the frozen ones never change.
    pub(crate) fn trainable_params_mut(&mut self) -> &mut [f32] {
        self.params.get_mut(self.frozen..).unwrap_or(&mut [])
    }

    /// The parameters and the standardisation statistics, for a driver that writes them.
    pub(crate) fn params_and_stats_mut(&mut self) -> (&mut [f32], &mut [f32]) {
        (self.params, self.stats)
    }

    /// Hands the weights and statistics over for good, as a model.
    pub(crate) fn into_model(self) -> Model<'a> {
        self.into_parts().0
    }

    /// Hands the weights and statistics over for good, as a model, with the optimizer's state,
    /// without moving the learner: it is left with no parameters, statistics or state (every
    /// later step or evaluation is an error or does nothing; none panics).
    pub(crate) fn take_parts(&mut self) -> (Model<'a>, OptimizerState<'a>) {
        let params: &'a mut [f32] = core::mem::take(&mut self.params);
        let stats: &'a mut [f32] = core::mem::take(&mut self.stats);
        let values: &'a mut [f32] = core::mem::take(&mut self.state);
        let state = state_of(&self.config, self.bias_correction, values);
        (Model::from_parts(self.widths, params, stats), state)
    }

    /// Hands the weights and statistics over for good, as a model, with the optimizer's state.
    pub(crate) fn into_parts(self) -> (Model<'a>, OptimizerState<'a>) {
        let (params, stats, values): (&'a [f32], &'a [f32], &'a [f32]) =
            (self.params, self.stats, self.state);
        let state = state_of(&self.config, self.bias_correction, values);
        (Model::from_parts(self.widths, params, stats), state)
    }

    /// Trains one mini-batch: every sample's forward pass, loss and back-propagation, `C` at a
    /// time, then one update with the batch's mean gradient (clipped to
    /// [`Config::clip_norm`]). `batch` yields `(inputs, targets)` in the data's units; the
    /// standardisation statistics scale them. It is read twice: every sample's widths are
    /// checked before any is trained on.
    ///
    /// Errors, with nothing changed: an empty batch ([`Error::EmptyData`]); a sample whose inputs
    /// or targets have the wrong width ([`Error::WidthMismatch`]). A non-finite loss or update is
    /// not an error but [`Step::Diverged`].
    pub fn step<'d, T: Target, B>(&mut self, batch: B) -> Result<Step, Error>
    where
        B: IntoIterator<Item = Sample<'d, T>>,
        B::IntoIter: Clone,
    {
        let samples = batch.into_iter();
        if check_widths(samples.clone(), self.sample_widths())? == 0 {
            return Err(Error::EmptyData);
        }
        Ok(self.train(samples))
    }

    /// [`Self::step`] on samples of the network's widths, checked by the driver (for example
    /// the rows of a [`crate::Dataset`]). An empty batch changes nothing.
    pub(crate) fn train<'d, T: Target>(
        &mut self,
        batch: impl Iterator<Item = Sample<'d, T>>,
    ) -> Step {
        let mut samples = batch;
        let mut loss_sum = 0.0;
        let mut n: usize = 0;
        loop {
            match self.accumulate(&mut samples, &mut loss_sum) {
                0 => break,
                k => n = n.saturating_add(k),
            }
        }
        if n == 0 {
            return Step::Trained(Batch {
                samples: 0,
                loss_sum,
                terms: 0,
                grad_norm: 0.0,
            });
        }
        let mean = 1.0 / n as f32;
        let mut scale = mean;
        let clip = self.config.clip_norm;
        if clip > 0.0 {
            // Clipping needs the norm before the update; otherwise the update adds it up.
            let norm = libm::sqrtf(crate::loss::sum_of_squares(self.grads)) * mean;
            if norm > clip {
                scale *= clip / norm;
            }
        }
        if !loss_sum.is_finite() {
            zero(self.grads);
            return Step::Diverged;
        }
        let (learning_rate, warmup) = self.warmup.next(self.config.learning_rate);
        self.warmup = warmup;
        let trainable = self.params.get_mut(self.frozen..).unwrap_or(&mut []);
        let squares = self.config.optimizer.update(
            trainable,
            self.grads,
            self.state,
            learning_rate,
            scale,
            &mut self.bias_correction,
        );
        let grad_norm = libm::sqrtf(squares) * mean;
        if !grad_norm.is_finite() {
            return Step::Diverged;
        }
        Step::Trained(Batch {
            samples: n,
            loss_sum,
            terms: n.saturating_mul(self.config.loss.terms(shape::output_width(self.widths))),
            grad_norm,
        })
    }

    /// Forward and backward pass of the next (at most) `C` samples of `samples`; adds their
    /// losses to `loss_sum`, sample after sample, and returns how many there were.
    ///
    /// Not inlined, like the update: their locals are not all in the step's frame at once (a
    /// microcontroller's stack).
    #[inline(never)]
    fn accumulate<'d, T: Target>(
        &mut self,
        samples: &mut impl Iterator<Item = Sample<'d, T>>,
        loss_sum: &mut f32,
    ) -> usize {
        let (n_in, n_out) = self.sample_widths();
        // The chunk's samples, looked up once: lane `s` holds sample `s`.
        let mut chunk: [Sample<'d, T>; C] = [(&[], T::default()); C];
        let mut used = 0;
        for (lane, sample) in chunk.iter_mut().zip(samples) {
            *lane = sample;
            used += 1;
        }
        let chunk = chunk.get(..used).unwrap_or(&[]);
        if used == 0 {
            return 0;
        }
        // Standardised inputs, feature-major: `(x - mean) / std`, as `scaler::scale_inputs`.
        let (means, devs) = scaler::input_stats(self.stats, n_in);
        let inputs = self.acts.chunks_exact_mut(C).zip(means).zip(devs);
        for (k, ((lanes, m), s)) in inputs.enumerate() {
            for (v, (x, _)) in lanes.iter_mut().zip(chunk) {
                *v = (x.get(k).copied().unwrap_or(0.0) - m) / s;
            }
        }
        mlp::forward::<C>(self.widths, self.params, self.acts);
        let out_at = self.acts.len().saturating_sub(n_out.saturating_mul(C));
        let outputs = self.acts.get_mut(out_at..).unwrap_or(&mut []);
        let (means, devs) = scaler::target_stats(self.stats, n_in, n_out);
        self.config.loss.backward_chunk::<C, T>(
            outputs,
            chunk,
            means,
            devs,
            self.class_weights,
            loss_sum,
        );
        if used < C {
            // Unused lanes must add nothing: zero activations, zero errors.
            for lanes in self.acts.chunks_exact_mut(C) {
                lanes.iter_mut().skip(used).for_each(|v| *v = 0.0);
            }
        }
        mlp::backward::<C>(
            self.widths,
            self.config.trainable_from,
            self.params,
            self.acts,
            self.grads,
            self.transposed,
        );
        used
    }

    /// The mean loss of `samples` (`(inputs, targets)` in the data's units) under the current
    /// weights, in the network's units — standardised when the statistics standardise the
    /// targets, so each target's variance over the data they were fitted on is 1 — as training
    /// reports it; 0 for no samples. [`Model::mse`] gives the loss in the targets' own units. Runs `C` samples at a time; the sums run
    /// in sample order, so every `C` gives the same bits.
    ///
    /// Errors: a sample whose inputs or targets have the wrong width ([`Error::WidthMismatch`]),
    /// checked before any is evaluated.
    pub fn evaluate<'d, T: Target, S>(&mut self, samples: S) -> Result<f32, Error>
    where
        S: IntoIterator<Item = Sample<'d, T>>,
        S::IntoIter: Clone,
    {
        let samples = samples.into_iter();
        check_widths(samples.clone(), self.sample_widths())?;
        Ok(self.loss_of(samples))
    }

    /// [`Self::evaluate`] on samples of the network's widths, checked by the driver.
    pub(crate) fn loss_of<'d, T: Target>(
        &mut self,
        samples: impl Iterator<Item = Sample<'d, T>>,
    ) -> f32 {
        let model = Model::from_parts(self.widths, self.params, self.stats);
        model::evaluate::<C, T>(
            self.config.loss,
            &model,
            samples,
            self.acts,
            Units::Network,
            self.class_weights,
        )
    }

    /// Inputs and targets per sample.
    fn sample_widths(&self) -> (usize, usize) {
        (
            shape::input_width(self.widths),
            shape::output_width(self.widths),
        )
    }
}

/// Checks what a learner of `widths` trained with `config` needs: a usable network, every
/// setting in range, a trainable layer, a loss that suits the outputs.
pub(crate) fn check(widths: &[usize], config: &Config) -> Result<(), Error> {
    config.validate()?;
    shape::check(widths)?;
    let layers = shape::layer_count(widths);
    if config.trainable_from >= layers {
        return Err(Error::TrainableFrom {
            layer: config.trainable_from,
            layers,
        });
    }
    check_loss(widths, config)
}

/// The optimizer's state of a learner trained with `config`, its values in `values`.
fn state_of<'s>(
    config: &Config,
    bias_correction: BiasCorrection,
    values: &'s [f32],
) -> OptimizerState<'s> {
    OptimizerState {
        optimizer: config.optimizer,
        bias_correction,
        trainable_from: config.trainable_from,
        values,
    }
}

/// Checks that every sample has `n_in` inputs and a target for `n_out` outputs; returns how
/// many there are. A class out of range names its sample in the batch.
fn check_widths<'d, T: Target>(
    samples: impl Iterator<Item = Sample<'d, T>>,
    (n_in, n_out): (usize, usize),
) -> Result<usize, Error> {
    let mut n = 0;
    for (x, t) in samples {
        expect_width(x.len(), n_in)?;
        t.check(n_out).map_err(|e| match e {
            Error::ClassOutOfRange { class, classes, .. } => Error::ClassOutOfRange {
                sample: n,
                class,
                classes,
            },
            other => other,
        })?;
        n += 1;
    }
    Ok(n)
}

/// Checks that the loss suits the network: cross-entropy needs at least two outputs (a softmax of
/// one is always 1).
pub(crate) fn check_loss(widths: &[usize], config: &Config) -> Result<(), Error> {
    let n_out = shape::output_width(widths);
    if config.loss == crate::loss::Loss::CrossEntropy && n_out < crate::data::MIN_CLASSES {
        return Err(Error::TooFewClasses {
            classes: n_out,
            min: crate::data::MIN_CLASSES,
        });
    }
    Ok(())
}

/// Checks class weights for `n_out` outputs: none, or one per output, finite and at least 0.
pub(crate) fn check_class_weights(weights: &[f32], n_out: usize) -> Result<(), Error> {
    if weights.is_empty() {
        return Ok(());
    }
    expect_width(weights.len(), n_out)?;
    if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
        return Err(Error::InvalidHyperparameter {
            name: "class_weights",
        });
    }
    Ok(())
}

/// Sets every value to zero.
#[inline(always)]
fn zero(values: &mut [f32]) {
    values.iter_mut().for_each(|v| *v = 0.0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Optimizer;
    use std::vec;

    #[test]
    fn bad_batches_are_errors_and_change_nothing() {
        let widths = [2, 3, 1];
        let mut arena = vec![0.0; shape::learner_arena_len(&widths, Optimizer::ADAM, 4)];
        let config = Config {
            optimizer: Optimizer::ADAM,
            ..Config::DEFAULT
        };
        let mut learner = Learner::<4>::new(&widths, config, &mut arena).unwrap();
        let before = learner.model().params().to_vec();
        let empty: [(&[f32], &[f32]); 0] = [];
        assert_eq!(learner.step(empty), Err(Error::EmptyData));
        let good: (&[f32], &[f32]) = (&[1.0, 2.0], &[3.0]);
        let narrow: (&[f32], &[f32]) = (&[1.0], &[3.0]);
        let wide_target: (&[f32], &[f32]) = (&[1.0, 2.0], &[3.0, 4.0]);
        let batch = [good, good, good, good, good, narrow];
        assert_eq!(
            learner.step(batch),
            Err(Error::WidthMismatch {
                expected: 2,
                found: 1
            })
        );
        assert_eq!(
            learner.step([wide_target]),
            Err(Error::WidthMismatch {
                expected: 1,
                found: 2
            })
        );
        assert_eq!(learner.model().params(), &before[..]);
        assert!(learner.grads.iter().all(|g| g.to_bits() == 0), "sums reset");
        assert_eq!(
            learner.evaluate([narrow]).map(|_| ()),
            Err(Error::WidthMismatch {
                expected: 2,
                found: 1
            })
        );
        // The same good batch now trains as if nothing had happened.
        let mut fresh_arena = vec![0.0; arena_len(&widths)];
        let mut fresh = Learner::<4>::new(&widths, config, &mut fresh_arena).unwrap();
        let a = learner.step([good; 5]).unwrap();
        let b = fresh.step([good; 5]).unwrap();
        assert_eq!(a, b);
        assert_eq!(learner.model().params(), fresh.model().params());
    }

    fn arena_len(widths: &[usize]) -> usize {
        shape::learner_arena_len(widths, Optimizer::ADAM, 4)
    }

    #[test]
    fn a_non_finite_sample_is_divergence_not_an_update() {
        let widths = [1, 4, 1];
        let mut arena = vec![0.0; shape::learner_arena_len(&widths, Optimizer::SGD, 1)];
        let mut learner = Learner::<1>::new(&widths, Config::DEFAULT, &mut arena).unwrap();
        let before = learner.model().params().to_vec();
        let nan: (&[f32], &[f32]) = (&[f32::NAN], &[1.0]);
        assert_eq!(learner.step([nan]), Ok(Step::Diverged));
        assert_eq!(learner.model().params(), &before[..]);
        assert!(learner.grads.iter().all(|g| g.to_bits() == 0), "sums reset");
    }

    #[test]
    fn setting_weights_restarts_the_optimizer() {
        let widths = [1, 2, 1];
        let config = Config {
            optimizer: Optimizer::ADAM,
            ..Config::DEFAULT
        };
        let mut arena = vec![0.0; shape::learner_arena_len(&widths, config.optimizer, 1)];
        let mut learner = Learner::<1>::new(&widths, config, &mut arena).unwrap();
        let start = learner.model().params().to_vec();
        let sample: (&[f32], &[f32]) = (&[0.5], &[1.0]);
        let first = learner.step([sample]).unwrap();
        assert_ne!(
            learner.optimizer_state().bias_correction,
            BiasCorrection::new()
        );
        learner.set_params(&start).unwrap();
        assert_eq!(
            learner.optimizer_state().bias_correction,
            BiasCorrection::new()
        );
        assert!(learner.optimizer_state().values.iter().all(|v| *v == 0.0));
        assert_eq!(learner.step([sample]).unwrap(), first);
        let mut bad = start.clone();
        bad[2] = f32::INFINITY;
        assert_eq!(
            learner.set_params(&bad),
            Err(Error::NonFiniteParameter { index: 2 })
        );
        assert_eq!(
            learner.set_params(&start[1..]),
            Err(Error::BufferSize {
                needed: start.len(),
                found: start.len() - 1
            })
        );
    }

    /// Batches of `y = x₀ - 2x₁` from a seeded generator.
    fn batches(seed: u64, n: usize) -> Vec<Vec<([f32; 2], [f32; 1])>> {
        let mut rng = Lcg::new(seed);
        (0..n)
            .map(|_| {
                (0..5)
                    .map(|_| {
                        let x = [rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)];
                        (x, [x[0] - 2.0 * x[1]])
                    })
                    .collect()
            })
            .collect()
    }

    fn train_on(learner: &mut Learner<'_, 2>, batches: &[Vec<([f32; 2], [f32; 1])>]) {
        for batch in batches {
            let samples = batch.iter().map(|(x, t)| (&x[..], &t[..]));
            assert!(matches!(learner.step(samples), Ok(Step::Trained(_))));
        }
    }

    /// Saved with its state and loaded back, a learner trains on to the very bits of one that
    /// never stopped — for every update rule.
    #[test]
    fn resuming_from_saved_state_gives_the_bits_of_never_stopping() {
        use crate::format::{self, Contents, Sections};
        let widths = [2, 5, 1];
        let (first, then) = (batches(1, 12), batches(2, 9));
        for optimizer in [Optimizer::SGD, Optimizer::MOMENTUM, Optimizer::ADAM] {
            let config = Config {
                optimizer,
                ..Config::DEFAULT
            };
            let len = shape::learner_arena_len(&widths, optimizer, 2);
            let mut arena = vec![0.0; len];
            let mut never = Learner::<2>::new(&widths, config, &mut arena).unwrap();
            train_on(&mut never, &first);
            let contents = Contents {
                optimizer: Some(never.optimizer_state()),
                ..Contents::new(never.model())
            };
            let sections = Sections {
                optimizer: Some(optimizer),
                ..Sections::NONE
            };
            let mut blob = vec![0; format::encoded_len(&widths, sections)];
            format::save(&contents, &mut blob).unwrap();
            train_on(&mut never, &then);

            let other = Config { seed: 99, ..config };
            let mut arena = vec![0.0; len];
            let mut resumed = Learner::<2>::new(&widths, other, &mut arena).unwrap();
            let start = resumed.load(|b| format::load(&blob, &widths, b)).unwrap();
            assert_eq!(start, Start::Resumed { steps: 12 });
            train_on(&mut resumed, &then);
            let bits = |l: &Learner<'_, 2>| {
                let state = l.optimizer_state();
                let values = l.model().params().iter().chain(state.values);
                (
                    values.map(|v| v.to_bits()).collect::<Vec<_>>(),
                    state.bias_correction,
                )
            };
            assert_eq!(bits(&resumed), bits(&never), "{optimizer:?}");
        }
    }

    #[test]
    fn a_model_without_state_warms_adam_up() {
        let widths = [2, 5, 1];
        let config = Config {
            optimizer: Optimizer::ADAM,
            ..Config::DEFAULT
        };
        let len = shape::learner_arena_len(&widths, Optimizer::ADAM, 2);
        let mut arena = vec![0.0; len];
        let mut trained = Learner::<2>::new(&widths, config, &mut arena).unwrap();
        train_on(&mut trained, &batches(1, 20));
        let params = trained.model().params().to_vec();
        let stats = trained.model().stats().to_vec();
        let model = Model::new(&widths, &params, &stats).unwrap();

        let mut arena = vec![0.0; len];
        let mut tuned = Learner::<2>::new(&widths, config, &mut arena).unwrap();
        tuned.set_model(&model).unwrap();
        // A state for another rule is refused, and changes nothing.
        let momentum = vec![0.0; params.len()];
        let wrong = OptimizerState {
            optimizer: Optimizer::MOMENTUM,
            bias_correction: BiasCorrection::new(),
            trainable_from: 0,
            values: &momentum,
        };
        assert_eq!(tuned.resume(&model, &wrong), Err(Error::OptimizerMismatch));
        let lr = config.learning_rate;
        let warmup = Optimizer::ADAM.warmup_steps() as f32;
        let step = |l: &mut Learner<'_, 2>, batch: &Vec<([f32; 2], [f32; 1])>| {
            let before = l.model().params().to_vec();
            train_on(l, core::slice::from_ref(batch));
            let after = l.model().params();
            before
                .iter()
                .zip(after)
                .fold(0.0f32, |m, (b, a)| m.max((a - b).abs()))
        };
        let batch = &batches(3, 1)[0];
        // Update k of the warm-up moves no parameter by more than k/2000 of the learning rate
        // (Adam's bias-corrected step is at most about lr in each).
        for k in 1..=3 {
            let moved = step(&mut tuned, batch);
            assert!(
                moved <= 1.01 * lr * k as f32 / warmup,
                "update {k}: {moved}"
            );
        }
        // Without the warm-up, the first update moves parameters by the learning rate.
        let mut arena = vec![0.0; len];
        let mut restarted = Learner::<2>::new(&widths, config, &mut arena).unwrap();
        restarted.set_model(&model).unwrap();
        restarted.set_params(&params).unwrap();
        assert!(step(&mut restarted, batch) > 0.5 * lr);
    }

    #[test]
    fn a_short_arena_and_a_zero_chunk_are_errors() {
        let widths = [1, 2, 1];
        let needed = shape::learner_arena_len(&widths, Optimizer::SGD, 1);
        let mut arena = vec![0.0; needed - 1];
        assert_eq!(
            Learner::<1>::new(&widths, Config::DEFAULT, &mut arena).unwrap_err(),
            Error::BufferSize {
                needed,
                found: needed - 1
            }
        );
    }
}
