//! Step 3, "find the best function": the update rules of gradient descent.
//!
//! The trainer sums the gradient of every sample of a mini-batch, then calls [`Optimizer::update`]
//! once with the batch's mean gradient `g = Σ g_s / B`:
//!
//! - **SGD**: `w ← w - lr·g` (computed as `w - (lr/B)·Σ g_s`)
//! - **Momentum** (heavy ball, as PyTorch): `v ← β·v + g`, `w ← w - lr·v`
//! - **Adam**: `m ← β₁m + (1-β₁)g`, `v ← β₂v + (1-β₂)g²`,
//!   `w ← w - lr · (m / (1-β₁ᵗ)) / (√(v / (1-β₂ᵗ)) + ε)`
//!
//! Optimizers are kept apart from the layers: they see flat slices of parameters, gradients and
//! their own state ([`Optimizer::state_per_param`] values per parameter).

use crate::Error;

/// An update rule and its hyperparameters (the learning rate lives in [`crate::Config`]).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Optimizer {
    /// Plain (mini-batch) stochastic gradient descent.
    Sgd,
    /// SGD with heavy-ball momentum.
    Momentum {
        /// Fraction of the previous velocity kept, in `[0, 1)`.
        beta: f32,
    },
    /// Adam (Kingma & Ba, 2015).
    Adam {
        /// Decay of the first moment, in `[0, 1)`.
        beta1: f32,
        /// Decay of the second moment, in `[0, 1)`.
        beta2: f32,
        /// Added to the denominator, > 0.
        epsilon: f32,
    },
}

/// The optimizer's step count and Adam's bias-correction powers `β₁ᵗ` and `β₂ᵗ`, kept as running
/// products (for SGD and momentum they stay 1).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BiasCorrection {
    steps: u64,
    beta1_t: f32,
    beta2_t: f32,
}

impl BiasCorrection {
    /// Before the first step (`t = 0`).
    pub const fn new() -> Self {
        Self {
            steps: 0,
            beta1_t: 1.0,
            beta2_t: 1.0,
        }
    }

    /// BiasCorrection saved after `steps` updates, to resume from (checked by
    /// [`OptimizerState::check`]).
    pub const fn resume(steps: u64, beta1_t: f32, beta2_t: f32) -> Self {
        Self {
            steps,
            beta1_t,
            beta2_t,
        }
    }

    /// Updates taken so far (`t`).
    pub const fn steps(&self) -> u64 {
        self.steps
    }

    /// `β₁ᵗ` (1 for SGD and momentum).
    pub const fn beta1_t(&self) -> f32 {
        self.beta1_t
    }

    /// `β₂ᵗ` (1 for SGD and momentum).
    pub const fn beta2_t(&self) -> f32 {
        self.beta2_t
    }
}

impl Default for BiasCorrection {
    fn default() -> Self {
        Self::new()
    }
}

/// An optimizer's state between two updates, as saved with a model ([`crate::format`]): what a
/// trainer needs to resume training where it stopped rather than start the rule afresh.
///
/// `values` holds [`Optimizer::state_per_param`] values per parameter of the trainable layers
/// (the layers from `trainable_from` on, whose parameters end the parameter list): momentum's
/// velocity, or Adam's first and second moments side by side (`m₀, v₀, m₁, v₁, …`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptimizerState<'a> {
    /// The rule and its hyperparameters.
    pub optimizer: Optimizer,
    /// The step count and bias-correction powers.
    pub bias_correction: BiasCorrection,
    /// The first layer with state: layers below it are frozen (0: every layer trains).
    pub trainable_from: usize,
    /// The per-parameter state.
    pub values: &'a [f32],
}

impl OptimizerState<'_> {
    /// Values of state for a network with these widths: [`Optimizer::state_per_param`] per
    /// parameter of the layers from `trainable_from` on (0 when no layer trains).
    pub const fn values_len(
        widths: &[usize],
        optimizer: Optimizer,
        trainable_from: usize,
    ) -> usize {
        let trainable = match widths.split_at_checked(trainable_from) {
            Some((_, rest)) => crate::layer_walk::param_len(rest),
            None => 0,
        };
        optimizer.state_per_param().saturating_mul(trainable)
    }

    /// Checks the state for a network with these widths: valid hyperparameters, a trainable
    /// layer, one value per trainable parameter and slot ([`Error::OptimizerMismatch`]
    /// otherwise), finite values and non-negative second moments
    /// ([`Error::InvalidOptimizerState`]), and powers that match the step count (for Adam 1
    /// before the first step and in `[0, 1)` after it; 1 for the others).
    pub fn check(&self, widths: &[usize]) -> Result<(), Error> {
        let values = self.values;
        let get = |k: usize| values.get(k).copied().unwrap_or(f32::NAN);
        check_state(
            self.optimizer,
            self.bias_correction,
            self.trainable_from,
            widths,
            values.len(),
            get,
        )
    }
}

/// [`OptimizerState::check`] on `count` values that `value` returns one by one.
pub(crate) fn check_state(
    optimizer: Optimizer,
    bias_correction: BiasCorrection,
    trainable_from: usize,
    widths: &[usize],
    count: usize,
    value: impl Fn(usize) -> f32,
) -> Result<(), Error> {
    check_state_fields(optimizer, bias_correction, trainable_from, widths, count)?;
    (0..count).try_for_each(|k| check_state_value(optimizer, k, value(k)))
}

/// The checks of [`OptimizerState::check`] but those of the values: valid hyperparameters, a
/// trainable layer, `count` values, powers that match the step count.
pub(crate) fn check_state_fields(
    optimizer: Optimizer,
    bias_correction: BiasCorrection,
    trainable_from: usize,
    widths: &[usize],
    count: usize,
) -> Result<(), Error> {
    optimizer.validate()?;
    let layers = widths.len().saturating_sub(1);
    if trainable_from >= layers
        || count != OptimizerState::values_len(widths, optimizer, trainable_from)
    {
        return Err(Error::OptimizerMismatch);
    }
    let p = bias_correction;
    let powers_ok = match optimizer {
        Optimizer::Adam { .. } if p.steps == 0 => p.beta1_t == 1.0 && p.beta2_t == 1.0,
        Optimizer::Adam { .. } => {
            let unit = |x: f32| (0.0..1.0).contains(&x);
            unit(p.beta1_t) && unit(p.beta2_t)
        }
        _ => p.beta1_t == 1.0 && p.beta2_t == 1.0,
    };
    if !powers_ok {
        return Err(Error::MalformedSection {
            section: crate::Section::Optimizer,
            problem: "the bias-correction powers do not match the step count",
        });
    }
    Ok(())
}

/// Checks state value `k`: finite, and not negative if it is a second moment (Adam's odd
/// values).
pub(crate) fn check_state_value(optimizer: Optimizer, k: usize, v: f32) -> Result<(), Error> {
    let second_moment = optimizer.state_per_param() == 2 && k % 2 == 1;
    if !v.is_finite() || (second_moment && v < 0.0) {
        Err(Error::InvalidOptimizerState { index: k })
    } else {
        Ok(())
    }
}

impl Optimizer {
    /// Plain SGD.
    pub const SGD: Self = Optimizer::Sgd;
    /// Momentum with `β = 0.9`.
    pub const MOMENTUM: Self = Optimizer::Momentum { beta: 0.9 };
    /// Adam with the usual `β₁ = 0.9, β₂ = 0.999, ε = 1e-8`.
    pub const ADAM: Self = Optimizer::Adam {
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-8,
    };

    /// Values of state this rule keeps per parameter: 0 (SGD), 1 (momentum) or 2 (Adam).
    pub const fn state_per_param(&self) -> usize {
        match self {
            Optimizer::Sgd => 0,
            Optimizer::Momentum { .. } => 1,
            Optimizer::Adam { .. } => 2,
        }
    }

    /// Updates of linear learning-rate warm-up when this rule restarts from trained weights
    /// without its saved state ([`crate::learner::Learner::set_model`]).
    ///
    /// Adam restarted with zero moments takes bias-corrected first steps of about the learning
    /// rate in *every* parameter, whatever the gradient's size (`m̂/√v̂ = ±1` at `t = 1`): a
    /// converged network is thrown far from its minimum. Its variance estimate needs about
    /// `1/(1-β₂)` updates to settle; ramping the learning rate up linearly over `2/(1-β₂)` updates
    /// (2000 for `β₂ = 0.999`) keeps those first steps small — the "untuned warm-up" of Ma and
    /// Yarats, *On the adequacy of untuned warmup for adaptive optimization* (AAAI 2021). SGD
    /// has no state, and momentum restarted at zero velocity starts with SGD's step and grows
    /// from there: no warm-up (0).
    ///
    /// ```
    /// use tinytrain_core::Optimizer;
    /// assert_eq!(Optimizer::ADAM.warmup_steps(), 2000);
    /// assert_eq!((Optimizer::SGD.warmup_steps(), Optimizer::MOMENTUM.warmup_steps()), (0, 0));
    /// ```
    pub fn warmup_steps(&self) -> u32 {
        match *self {
            Optimizer::Adam { beta2, .. } => {
                let steps = libm::roundf(2.0 / (1.0 - beta2));
                if steps.is_finite() && steps < u32::MAX as f32 {
                    steps as u32
                } else {
                    u32::MAX
                }
            }
            Optimizer::Sgd | Optimizer::Momentum { .. } => 0,
        }
    }

    /// Checks the hyperparameters.
    pub fn validate(&self) -> Result<(), Error> {
        let unit = |x: f32| (0.0..1.0).contains(&x);
        match *self {
            Optimizer::Sgd => Ok(()),
            Optimizer::Momentum { beta } if unit(beta) => Ok(()),
            Optimizer::Momentum { .. } => Err(Error::InvalidHyperparameter { name: "beta" }),
            Optimizer::Adam {
                beta1,
                beta2,
                epsilon,
            } => {
                if !unit(beta1) {
                    Err(Error::InvalidHyperparameter { name: "beta1" })
                } else if !unit(beta2) {
                    Err(Error::InvalidHyperparameter { name: "beta2" })
                } else if !(epsilon > 0.0 && epsilon.is_finite()) {
                    Err(Error::InvalidHyperparameter { name: "epsilon" })
                } else {
                    Ok(())
                }
            }
        }
    }

    /// One update of `params` from `grad_sum` (the gradient summed over a batch) times `scale`
    /// (`1/B`, possibly reduced further by gradient clipping). The sums are consumed: they are
    /// zero afterwards, ready for the next batch. Returns their sum of squares, the bits of
    /// [`crate::loss::sum_of_squares`]`(grad_sum)`: one pass over memory instead of three.
    ///
    /// `state` holds [`Self::state_per_param`] × `params.len()` values, zero before the first step.
    ///
    /// ```
    /// use tinytrain_core::{optim::BiasCorrection, Optimizer};
    /// let (mut params, mut grads) = ([1.0, -1.0], [4.0, -2.0]);
    /// let squares = Optimizer::SGD.update(&mut params, &mut grads, &mut [], 0.5, 0.5, &mut BiasCorrection::new());
    /// assert_eq!((params, grads, squares), ([0.0, -0.5], [0.0, 0.0], 20.0));
    /// ```
    #[inline(never)]
    pub fn update(
        &self,
        params: &mut [f32],
        grad_sum: &mut [f32],
        state: &mut [f32],
        learning_rate: f32,
        scale: f32,
        bias_correction: &mut BiasCorrection,
    ) -> f32 {
        let c = bias_correction;
        c.steps = c.steps.saturating_add(1);
        match *self {
            Optimizer::Sgd => {
                let step = learning_rate * scale;
                // No state: zero-sized placeholders, as many as there are parameters.
                let none: &mut [()] = &mut [(); usize::MAX];
                apply_update(params, grad_sum, none, |p, g, ()| *p -= step * g)
            }
            Optimizer::Momentum { beta } => {
                let (vs, _) = state.as_chunks_mut::<1>();
                apply_update(params, grad_sum, vs, |p, g, [v]| {
                    *v = beta * *v + g * scale;
                    *p -= learning_rate * *v;
                })
            }
            Optimizer::Adam {
                beta1,
                beta2,
                epsilon,
            } => {
                c.beta1_t *= beta1;
                c.beta2_t *= beta2;
                let correct1 = 1.0 / (1.0 - c.beta1_t);
                let correct2 = 1.0 / (1.0 - c.beta2_t);
                // A square root per parameter outweighs a second pass over the sums: the
                // squares first, then each parameter with its two moments, side by side.
                let squares = crate::loss::sum_of_squares(grad_sum);
                let (moments, _) = state.as_chunks_mut::<2>();
                for ((p, g), [m, v]) in params.iter_mut().zip(grad_sum).zip(moments) {
                    let g = take(g) * scale;
                    *m = beta1 * *m + (1.0 - beta1) * g;
                    *v = beta2 * *v + (1.0 - beta2) * (g * g);
                    *p -= learning_rate * (*m * correct1) / (sqrt(*v * correct2) + epsilon);
                }
                squares
            }
        }
    }
}

/// Applies `rule` to every parameter with its gradient sum (left zero) and its state; returns
/// the sums' squares added in eight lanes, as [`crate::loss::sum_of_squares`] adds them.
#[inline(always)]
fn apply_update<S>(
    params: &mut [f32],
    grads: &mut [f32],
    state: &mut [S],
    rule: impl Fn(&mut f32, f32, &mut S),
) -> f32 {
    let mut lanes = [0.0f32; 8];
    // The same length for all three, so that their blocks of eight line up.
    let n = params.len().min(grads.len()).min(state.len());
    let (p8, p_tail) = params.get_mut(..n).unwrap_or(&mut []).as_chunks_mut::<8>();
    let (g8, g_tail) = grads.get_mut(..n).unwrap_or(&mut []).as_chunks_mut::<8>();
    let (s8, s_tail) = state.get_mut(..n).unwrap_or(&mut []).as_chunks_mut::<8>();
    for ((p, g), s) in p8.iter_mut().zip(g8).zip(s8) {
        let g = core::mem::replace(g, [0.0; 8]);
        for (lane, g) in lanes.iter_mut().zip(g) {
            *lane += g * g;
        }
        for ((p, g), s) in p.iter_mut().zip(g).zip(s) {
            rule(p, g, s);
        }
    }
    for (((p, g), s), lane) in p_tail.iter_mut().zip(g_tail).zip(s_tail).zip(&mut lanes) {
        let g = take(g);
        *lane += g * g;
        rule(p, g, s);
    }
    crate::lanes::add_lanes(lanes)
}

/// A gradient sum, leaving zero in its place.
#[inline(always)]
fn take(g: &mut f32) -> f32 {
    core::mem::replace(g, 0.0)
}

#[cfg(not(feature = "fast-math"))]
#[inline(always)]
fn sqrt(x: f32) -> f32 {
    libm::sqrtf(x)
}

#[cfg(feature = "fast-math")]
#[inline(always)]
fn sqrt(x: f32) -> f32 {
    micromath::F32Ext::sqrt(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    /// Each rule written one parameter at a time, as the module's docs state it.
    fn plain(rule: Optimizer, p: &mut [f32], g: &[f32], s: &mut [f32], lr: f32, scale: f32) {
        for (i, (p, g)) in p.iter_mut().zip(g).enumerate() {
            match rule {
                Optimizer::Sgd => *p -= (lr * scale) * g,
                Optimizer::Momentum { beta } => {
                    s[i] = beta * s[i] + g * scale;
                    *p -= lr * s[i];
                }
                Optimizer::Adam {
                    beta1,
                    beta2,
                    epsilon,
                } => {
                    // The first step: the bias corrections divide by 1 - β.
                    let g = g * scale;
                    let (m, v) = (2 * i, 2 * i + 1);
                    s[m] = beta1 * s[m] + (1.0 - beta1) * g;
                    s[v] = beta2 * s[v] + (1.0 - beta2) * (g * g);
                    let c1 = 1.0 / (1.0 - beta1);
                    let c2 = 1.0 / (1.0 - beta2);
                    *p -= lr * (s[m] * c1) / (libm::sqrtf(s[v] * c2) + epsilon);
                }
            }
        }
    }

    proptest! {
        /// An update steps every parameter as the rule says, whatever the length (blocks of
        /// eight and a tail), leaves the sums zero and returns `loss::sum_of_squares` of them,
        /// bit for bit.
        #[test]
        fn an_update_is_the_rule_per_parameter_and_returns_the_squares(
            values in proptest::collection::vec((-4.0f32..4.0, -4.0f32..4.0), 0..40),
            rule in 0..3usize,
        ) {
            let rule = [Optimizer::SGD, Optimizer::MOMENTUM, Optimizer::ADAM][rule];
            let (params, grads): (Vec<f32>, Vec<f32>) = values.into_iter().unzip();
            let state_len = params.len() * rule.state_per_param();
            let (mut p, mut g, mut s) = (params.clone(), grads.clone(), std::vec![0.25; state_len]);
            let squares = rule.update(&mut p, &mut g, &mut s, 0.1, 0.5, &mut BiasCorrection::new());
            let (mut want_p, mut want_s) = (params, std::vec![0.25; state_len]);
            plain(rule, &mut want_p, &grads, &mut want_s, 0.1, 0.5);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(bits(&p), bits(&want_p));
            prop_assert_eq!(bits(&s), bits(&want_s));
            prop_assert!(g.iter().all(|g| g.to_bits() == 0), "the sums are left zero");
            prop_assert_eq!(squares.to_bits(), crate::loss::sum_of_squares(&grads).to_bits());
        }
    }

    #[test]
    fn sgd_steps_against_the_gradient() {
        let mut p = [1.0, -1.0];
        let mut g = [4.0, -2.0];
        let squares = Optimizer::SGD.update(
            &mut p,
            &mut g,
            &mut [],
            0.5,
            0.5,
            &mut BiasCorrection::new(),
        );
        assert_eq!(p, [0.0, -0.5]);
        assert_eq!(g, [0.0, 0.0], "the sums are consumed");
        assert_eq!(squares, 20.0);
    }

    #[test]
    fn momentum_accumulates_velocity() {
        let mut p = [0.0];
        let mut v = [0.0];
        let opt = Optimizer::Momentum { beta: 0.5 };
        opt.update(
            &mut p,
            &mut [1.0],
            &mut v,
            1.0,
            1.0,
            &mut BiasCorrection::new(),
        );
        opt.update(
            &mut p,
            &mut [1.0],
            &mut v,
            1.0,
            1.0,
            &mut BiasCorrection::new(),
        );
        assert_eq!(v, [1.5]);
        assert_eq!(p, [-2.5]);
    }

    #[test]
    fn adam_first_step_is_learning_rate_sized() {
        // With bias correction the first step is lr · g/|g| (up to ε).
        let mut p = [0.0, 0.0];
        let mut s = [0.0; 4];
        Optimizer::ADAM.update(
            &mut p,
            &mut [3.0, -0.01],
            &mut s,
            0.1,
            1.0,
            &mut BiasCorrection::new(),
        );
        assert!(
            (p[0] + 0.1).abs() < 1e-5 && (p[1] - 0.1).abs() < 1e-4,
            "{p:?}"
        );
    }

    #[test]
    fn bad_hyperparameters_are_named() {
        let bad = Optimizer::Adam {
            beta1: 1.0,
            beta2: 0.9,
            epsilon: 1e-8,
        };
        assert_eq!(
            bad.validate(),
            Err(Error::InvalidHyperparameter { name: "beta1" })
        );
        let bad = Optimizer::Momentum { beta: f32::NAN };
        assert!(bad.validate().is_err());
    }
}
