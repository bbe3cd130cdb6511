//! Step 1, "what is good": the loss a network is trained to minimise, and its gradient.
//!
//! [`Loss`] is the one place a loss is written. Training ([`crate::Learner::step`]), validation
//! and evaluation ([`crate::Learner::evaluate`], [`crate::Model::mse`]) all call it, so a new loss
//! is a new variant here, not a new trainer.
//!
//! **Mean squared error**, for regression: for predictions `y` and targets `t` of `n` outputs,
//! `MSE = (1/n) Σ (y - t)²`; over a batch or a data set the mean runs over samples too. Its
//! gradient for one sample is `∂MSE/∂y = 2 (y - t) / n`.
//!
//! **Cross-entropy**, for classification: the network's `K` outputs are logits `z`, their
//! softmax the class probabilities `p` ([`crate::softmax`]), and the loss of a sample of class
//! `c` is `−ln p_c = ln Σ exp(z_k) − z_c`, in nats; its gradient is `p − t` for the one-hot `t`.
//! For a target distribution `t` (values that add up to 1, say) it is `−Σ t_k ln p_k`, of
//! gradient `p Σt − t`. One loss per sample, whatever `K`: over a batch the mean runs over
//! samples. Class weights scale each sample's loss and gradient by its class's weight (the
//! mean still divides by the number of samples: balanced weights add up to it over the
//! training samples). The targets are never standardised.
//!
//! Early stopping watches the validation cross-entropy, not the accuracy: accuracy moves in
//! steps of one sample and stays flat while the probabilities improve, so a patience counted in
//! accuracy stops on ties; the cross-entropy is smooth, is what the weights descend, and rises
//! as soon as the network grows overconfident in its mistakes — the first sign of overfitting.

use crate::data::Target;
use crate::lanes::add_lanes;
use crate::softmax::shifted_sum;

/// A loss: a value to minimise and its gradient with respect to the network's outputs.
///
/// ```
/// use tinytrain_core::loss::Loss;
/// let mse = Loss::MeanSquaredError;
/// assert_eq!(mse.value(&[1.0, 3.0], &[0.0, 1.0]), 2.5);
/// let mut g = [0.0; 2];
/// mse.gradient(&[1.0, 3.0], &[0.0, 1.0], &mut g);
/// assert_eq!(g, [1.0, 2.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Loss {
    /// Mean squared error, for regression: `(1/n) Σ (y - t)²` over the `n` outputs.
    #[default]
    MeanSquaredError,
    /// Cross-entropy of the softmax of the outputs, for classification: `−ln p_c` for a sample
    /// of class `c`.
    CrossEntropy,
}

impl Loss {
    /// The name used in reports: `mse`, `cross_entropy`.
    pub const fn name(&self) -> &'static str {
        match self {
            Loss::MeanSquaredError => "mse",
            Loss::CrossEntropy => "cross_entropy",
        }
    }

    /// Whether a trainer standardises the targets for this loss: yes for MSE, never for
    /// cross-entropy (its targets are classes or probabilities).
    pub const fn standardizes_targets(&self) -> bool {
        match self {
            Loss::MeanSquaredError => true,
            Loss::CrossEntropy => false,
        }
    }

    /// The loss of one sample, `prediction` and `target` in the same units; for cross-entropy
    /// `prediction` holds the logits and `target` the class probabilities (one-hot for a class:
    /// [`crate::softmax::cross_entropy`] takes the class itself).
    ///
    /// ```
    /// use tinytrain_core::loss::Loss;
    /// let ce = Loss::CrossEntropy.value(&[0.0, 0.0], &[0.0, 1.0]);
    /// assert!((ce - 2f32.ln()).abs() < 1e-7);
    /// ```
    pub fn value(&self, prediction: &[f32], target: &[f32]) -> f32 {
        match self {
            Loss::MeanSquaredError => {
                let n = prediction.len().min(target.len()).max(1) as f32;
                squared_error(prediction, target) / n
            }
            Loss::CrossEntropy => {
                let (max, sum) = shifted_sum(prediction);
                soft_loss(max, sum, prediction.iter().zip(target))
            }
        }
    }

    /// Writes `∂loss/∂prediction` of one sample into `grad` (MSE: `2 (y - t) / n`;
    /// cross-entropy: `p Σt − t`, which is `p − t` for probabilities).
    pub fn gradient(&self, prediction: &[f32], target: &[f32], grad: &mut [f32]) {
        match self {
            Loss::MeanSquaredError => {
                let scale = 2.0 / prediction.len().min(target.len()).max(1) as f32;
                for ((g, y), t) in grad.iter_mut().zip(prediction).zip(target) {
                    *g = scale * (y - t);
                }
            }
            Loss::CrossEntropy => {
                let (max, sum) = shifted_sum(prediction);
                let total = target.iter().fold(0.0, |acc, t| acc + t);
                for ((g, z), t) in grad.iter_mut().zip(prediction).zip(target) {
                    *g = libm::expf(z - max) / sum * total - t;
                }
            }
        }
    }

    /// How many terms a sample of `n_out` outputs adds to a mean loss: the mean squared error
    /// averages over outputs as well as samples, so `n_out`; cross-entropy is one loss per
    /// sample, so 1.
    pub const fn terms(&self, n_out: usize) -> usize {
        match self {
            Loss::MeanSquaredError => n_out,
            Loss::CrossEntropy => 1,
        }
    }

    /// Training: for a chunk of `C` samples whose network outputs are in `outputs`
    /// (feature-major: output `k` of lane `s` at `k·C + s`, in the network's units), writes
    /// `∂loss/∂y` over each used lane's outputs and adds each sample's loss, in the network's
    /// units ([`Units::Network`]) and summed over its [`Self::terms`], to `sum`, sample after
    /// sample. `samples` holds the chunk's `(inputs, targets)`, lane `s` in `samples[s]`; `means`
    /// and `devs` are the targets' standardisation; `weights` the class weights (none: 1 each).
    ///
    /// For MSE the error of output `k` is `e = y - (t - mean)/dev`: its gradient `2e/n`, its
    /// square `e²`. The squares are added output after output for all lanes at once, so each
    /// sample's sum runs in output order, as [`Self::value`]'s.
    ///
    /// For cross-entropy each lane's largest logit is found first, then `exp(z - max)` is
    /// written over the logits output after output while each lane's sum of them grows in
    /// output order (as [`crate::softmax::shifted_sum`]), then the gradient `w (p - t)` over
    /// them.
    #[inline(always)]
    pub(crate) fn backward_chunk<const C: usize, T: Target>(
        &self,
        outputs: &mut [f32],
        samples: &[(&[f32], T)],
        means: &[f32],
        devs: &[f32],
        weights: &[f32],
        sum: &mut f32,
    ) {
        const {
            assert!(
                C > 0,
                "a chunk holds at least one sample: C must be greater than 0"
            )
        }
        match self {
            Loss::MeanSquaredError => {
                let g = 2.0 / means.len().max(1) as f32;
                let mut squares = [0.0; C];
                let targets = outputs.chunks_exact_mut(C).zip(means).zip(devs);
                for (k, ((lanes, m), s)) in targets.enumerate() {
                    for ((y, (_, t)), sq) in lanes.iter_mut().zip(samples).zip(&mut squares) {
                        let err = *y - (t.value(k) - m) / s;
                        *sq += err * err;
                        *y = g * err;
                    }
                }
                for sq in squares.iter().take(samples.len()) {
                    *sum += sq;
                }
            }
            Loss::CrossEntropy => {
                let mut max = [f32::NEG_INFINITY; C];
                for lanes in outputs.chunks_exact(C) {
                    for (m, z) in max.iter_mut().zip(lanes) {
                        *m = m.max(*z);
                    }
                }
                // Per lane: Σ exp(z - max), the target's part `z_c - max` (or Σ t (z - max)),
                // and Σ t.
                let mut exps = [0.0f32; C];
                let mut picked = [0.0f32; C];
                let mut totals = [0.0f32; C];
                for (k, lanes) in outputs.chunks_exact_mut(C).enumerate() {
                    let lane = lanes.iter_mut().zip(samples).zip(&max);
                    let sums = exps
                        .iter_mut()
                        .zip(picked.iter_mut())
                        .zip(totals.iter_mut());
                    for (((z, (_, t)), m), ((e, p), total)) in lane.zip(sums) {
                        let shifted = *z - m;
                        match t.class() {
                            Some(c) if c == k => *p = shifted,
                            Some(_) => {}
                            None => {
                                *p += t.value(k) * shifted;
                                *total += t.value(k);
                            }
                        }
                        *z = libm::expf(shifted);
                        *e += *z;
                    }
                }
                for (k, lanes) in outputs.chunks_exact_mut(C).enumerate() {
                    for ((z, (_, t)), (e, total)) in
                        lanes.iter_mut().zip(samples).zip(exps.iter().zip(&totals))
                    {
                        let p = *z / e;
                        *z = match t.class() {
                            Some(c) => class_weight(weights, c) * (p - t.value(k)),
                            None => p * total - t.value(k),
                        };
                    }
                }
                let lanes = samples.iter().zip(exps.iter().zip(&picked)).zip(&totals);
                for (((_, t), (e, p)), total) in lanes {
                    *sum += match t.class() {
                        Some(c) => class_weight(weights, c) * (libm::logf(*e) - p),
                        None => total * libm::logf(*e) - p,
                    };
                }
            }
        }
    }

    /// Evaluation: the loss of one sample summed over its [`Self::terms`], in `units`, from the
    /// network's `outputs` (one lane of a chunk), the targets' standardisation `means` and
    /// `devs`, and the class weights (none: 1 each).
    ///
    /// For MSE in [`Units::Original`] each output is first brought back to the targets' units,
    /// `y·dev + mean`, then compared: the loss a user of the model sees. In
    /// [`Units::Network`] the target is standardised instead, `(t - mean)/dev`, as training
    /// computes it. For cross-entropy (whose targets are never standardised: both units are
    /// nats), the same arithmetic in the same order as [`Self::backward_chunk`]'s.
    #[inline(always)]
    pub(crate) fn sample_sum<'y, T: Target>(
        &self,
        outputs: impl Iterator<Item = &'y f32> + Clone,
        target: T,
        means: &[f32],
        devs: &[f32],
        units: Units,
        weights: &[f32],
    ) -> f32 {
        match self {
            Loss::MeanSquaredError => outputs.zip(means.iter().zip(devs)).enumerate().fold(
                0.0,
                |acc, (k, (y, (m, s)))| {
                    let t = target.value(k);
                    let e = match units {
                        Units::Original => (*y * s + m) - t,
                        Units::Network => *y - (t - m) / s,
                    };
                    acc + e * e
                },
            ),
            Loss::CrossEntropy => {
                let max = outputs.clone().fold(f32::NEG_INFINITY, |m, z| m.max(*z));
                let sum = outputs
                    .clone()
                    .fold(0.0, |acc, z| acc + libm::expf(z - max));
                match target.class() {
                    Some(c) => {
                        let z = outputs.clone().nth(c).copied().unwrap_or(f32::NAN);
                        class_weight(weights, c) * crate::softmax::class_loss(max, sum, z)
                    }
                    None => {
                        let values = outputs.enumerate().map(|(k, z)| (z, target.value(k)));
                        soft_loss(max, sum, values)
                    }
                }
            }
        }
    }
}

/// The units of a loss: the targets' own, or the network's outputs — standardised targets (each
/// of variance 1 over the training split) when it trains on them, the raw targets otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Units {
    /// The targets' own units: what a user of the model sees.
    Original,
    /// The network's units: what training and the stopping rules see.
    Network,
}

/// The weight of class `c`: 1 without weights.
#[inline(always)]
fn class_weight(weights: &[f32], c: usize) -> f32 {
    weights.get(c).copied().unwrap_or(1.0)
}

/// `Σt · ln sum − Σ t (z − max)`: the cross-entropy of target probabilities `t` under the
/// softmax of logits `z`, from [`crate::softmax::shifted_sum`]'s two halves; both sums in output
/// order.
fn soft_loss<Z: core::borrow::Borrow<f32>, V: core::borrow::Borrow<f32>>(
    max: f32,
    sum: f32,
    pairs: impl Iterator<Item = (Z, V)>,
) -> f32 {
    let (mut picked, mut total) = (0.0f32, 0.0f32);
    for (z, t) in pairs {
        let t = *t.borrow();
        picked += t * (*z.borrow() - max);
        total += t;
    }
    total * libm::logf(sum) - picked
}

/// `Σ (y - t)²` of one sample.
pub fn squared_error(prediction: &[f32], target: &[f32]) -> f32 {
    prediction
        .iter()
        .zip(target)
        .fold(0.0, |acc, (y, t)| acc + (y - t) * (y - t))
}

/// `Σ v²` in eight interleaved partial sums, added up in a fixed order at the end: eight
/// independent chains instead of one long one (several times faster on a superscalar CPU), and
/// the same order — so the same bits — on every platform.
///
/// ```
/// use tinytrain_core::loss::sum_of_squares;
/// assert_eq!(sum_of_squares(&[1.0, 2.0, 2.0]), 9.0);
/// ```
pub fn sum_of_squares(values: &[f32]) -> f32 {
    let (blocks, tail) = values.as_chunks::<8>();
    let mut lanes = [0.0f32; 8];
    for block in blocks {
        for (lane, v) in lanes.iter_mut().zip(block) {
            *lane += *v * *v;
        }
    }
    for (lane, v) in lanes.iter_mut().zip(tail) {
        *lane += *v * *v;
    }
    add_lanes(lanes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    const MSE: Loss = Loss::MeanSquaredError;

    #[test]
    fn gradient_is_the_derivative() {
        let (y, t) = ([0.5f32, -1.0, 2.0], [0.0f32, 1.0, 2.5]);
        let mut g = [0.0; 3];
        MSE.gradient(&y, &t, &mut g);
        for k in 0..3 {
            let mut up = y;
            up[k] += 1e-3;
            let mut down = y;
            down[k] -= 1e-3;
            let numeric = (MSE.value(&up, &t) - MSE.value(&down, &t)) / 2e-3;
            assert!((numeric - g[k]).abs() < 1e-3, "{numeric} vs {}", g[k]);
        }
    }

    #[test]
    fn perfect_prediction_costs_nothing() {
        assert_eq!(MSE.value(&[1.0, 2.0], &[1.0, 2.0]), 0.0);
    }

    const CE: Loss = Loss::CrossEntropy;

    #[test]
    fn the_cross_entropy_gradient_is_the_derivative() {
        let z = [0.5f32, -1.0, 2.0];
        for t in [[0.0f32, 1.0, 0.0], [0.2, 0.3, 0.5], [1.0, 1.0, 0.0]] {
            let mut g = [0.0; 3];
            CE.gradient(&z, &t, &mut g);
            for k in 0..3 {
                let (mut up, mut down) = (z, z);
                up[k] += 1e-2;
                down[k] -= 1e-2;
                let numeric = (CE.value(&up, &t) - CE.value(&down, &t)) / 2e-2;
                assert!((numeric - g[k]).abs() < 2e-3, "{numeric} vs {}", g[k]);
            }
        }
        // One-hot probabilities are the class.
        let one_hot = CE.value(&z, &[0.0, 0.0, 1.0]);
        assert_eq!(
            one_hot.to_bits(),
            crate::softmax::cross_entropy(&z, 2).to_bits()
        );
        assert_eq!(
            (CE.terms(3), CE.name(), CE.standardizes_targets()),
            (1, "cross_entropy", false)
        );
    }

    proptest! {
        /// The cross-entropy kernels of training and evaluation are the per-sample loss and
        /// gradient bit for bit, for classes (weighted or not) and for probability targets.
        #[test]
        fn the_cross_entropy_kernels_are_the_per_sample_loss(
            rows in proptest::collection::vec(
                (proptest::collection::vec(-30.0f32..30.0, 3), 0u16..3, proptest::collection::vec(0.0f32..1.0, 3)),
                1..5,
            ),
            weighted: bool,
        ) {
            const C: usize = 4;
            const K: usize = 3;
            let weights: &[f32] = if weighted { &[0.5, 2.0, 1.25] } else { &[] };
            let mut chunk = [0.0f32; K * C];
            for (s, (z, _, _)) in rows.iter().enumerate() {
                for k in 0..K {
                    chunk[k * C + s] = z[k];
                }
            }
            let (zeros, ones) = ([0.0f32; K], [1.0f32; K]);
            // Class targets.
            let samples: Vec<(&[f32], u16)> = rows.iter().map(|(_, c, _)| (&[][..], *c)).collect();
            let mut grads = chunk;
            let mut sum = 0.0f32;
            CE.backward_chunk::<C, u16>(&mut grads, &samples, &zeros, &ones, weights, &mut sum);
            let mut want = 0.0f32;
            for (s, (z, c, _)) in rows.iter().enumerate() {
                let w = weights.get(usize::from(*c)).copied().unwrap_or(1.0);
                want += w * crate::softmax::cross_entropy(z, usize::from(*c));
                let mut g = [0.0f32; K];
                crate::softmax::cross_entropy_gradient(z, usize::from(*c), &mut g);
                for k in 0..K {
                    prop_assert_eq!(grads[k * C + s].to_bits(), (w * g[k]).to_bits());
                }
                let lane = chunk.iter().skip(s).step_by(C);
                let got = CE.sample_sum(lane, *c, &zeros, &ones, Units::Network, weights);
                let one = w * crate::softmax::cross_entropy(z, usize::from(*c));
                prop_assert_eq!(got.to_bits(), one.to_bits());
            }
            prop_assert_eq!(sum.to_bits(), want.to_bits());
            // Probability targets.
            let samples: Vec<(&[f32], &[f32])> = rows.iter().map(|(_, _, t)| (&[][..], &t[..])).collect();
            let mut grads = chunk;
            let mut sum = 0.0f32;
            CE.backward_chunk::<C, &[f32]>(&mut grads, &samples, &zeros, &ones, weights, &mut sum);
            let mut want = 0.0f32;
            for (s, (z, _, t)) in rows.iter().enumerate() {
                want += CE.value(z, t);
                let mut g = [0.0f32; K];
                CE.gradient(z, t, &mut g);
                for k in 0..K {
                    prop_assert_eq!(grads[k * C + s].to_bits(), g[k].to_bits());
                }
                let lane = chunk.iter().skip(s).step_by(C);
                let got = CE.sample_sum(lane, &t[..], &zeros, &ones, Units::Network, weights);
                prop_assert_eq!(got.to_bits(), CE.value(z, t).to_bits());
            }
            prop_assert_eq!(sum.to_bits(), want.to_bits());
        }
    }

    proptest! {
        /// The kernels training and evaluation run are the per-sample loss, bit for bit, in
        /// data that needs no standardisation; with standardisation, the training kernel's
        /// gradient is the derivative in standardised units and its loss in original units.
        #[test]
        fn the_chunk_kernels_are_the_per_sample_loss(
            rows in proptest::collection::vec(
                proptest::collection::vec((-3.0f32..3.0, -3.0f32..3.0), 3),
                1..5,
            ),
            mean in -2.0f32..2.0,
            dev in 0.5f32..3.0,
        ) {
            const C: usize = 4;
            const N_OUT: usize = 3;
            // Each sample's outputs and targets.
            let ys: Vec<Vec<f32>> = rows.iter().map(|r| r.iter().map(|p| p.0).collect()).collect();
            let ts: Vec<Vec<f32>> = rows.iter().map(|r| r.iter().map(|p| p.1).collect()).collect();
            let samples: Vec<(&[f32], &[f32])> = ts.iter().map(|t| (&[][..], &t[..])).collect();
            // The outputs feature-major, lane `s` for sample `s`.
            let mut chunk = [0.0f32; N_OUT * C];
            for (s, y) in ys.iter().enumerate() {
                for k in 0..N_OUT {
                    chunk[k * C + s] = y[k];
                }
            }

            // Identity standardisation: the per-sample functions exactly.
            let (zeros, ones) = ([0.0f32; N_OUT], [1.0f32; N_OUT]);
            let mut grads = chunk;
            let mut sum = 0.0;
            MSE.backward_chunk::<C, &[f32]>(&mut grads, &samples, &zeros, &ones, &[], &mut sum);
            let mut want = 0.0f32;
            for (s, (y, t)) in ys.iter().zip(&ts).enumerate() {
                want += squared_error(y, t);
                let mut g = [0.0; N_OUT];
                MSE.gradient(y, t, &mut g);
                for k in 0..N_OUT {
                    prop_assert_eq!(grads[k * C + s].to_bits(), g[k].to_bits());
                }
                let lane = chunk.iter().skip(s).step_by(C);
                for units in [Units::Original, Units::Network] {
                    let got = MSE.sample_sum(lane.clone(), &t[..], &zeros, &ones, units, &[]);
                    prop_assert_eq!(got.to_bits(), squared_error(y, t).to_bits());
                }
            }
            prop_assert_eq!(sum.to_bits(), want.to_bits());

            // Standardised outputs z: the prediction in original units is z·dev + mean; the
            // training loss is in standardised units, (z - (t - mean)/dev)².
            let (means, devs) = ([mean; N_OUT], [dev; N_OUT]);
            let mut grads = chunk;
            let mut sum = 0.0;
            MSE.backward_chunk::<C, &[f32]>(&mut grads, &samples, &means, &devs, &[], &mut sum);
            let mut want = 0.0f64;
            for (s, (z, t)) in ys.iter().zip(&ts).enumerate() {
                let y: Vec<f32> = z.iter().map(|z| z * dev + mean).collect();
                let standard: Vec<f32> = t.iter().map(|t| (t - mean) / dev).collect();
                want += f64::from(squared_error(z, &standard));
                for k in 0..N_OUT {
                    // ∂MSE/∂z = 2 (z - (t - mean)/dev) / n
                    let g = 2.0 * (z[k] - (t[k] - mean) / dev) / N_OUT as f32;
                    prop_assert!((grads[k * C + s] - g).abs() <= 1e-5 * (1.0 + g.abs()));
                }
                let lane = chunk.iter().skip(s).step_by(C);
                let got = MSE.sample_sum(lane.clone(), &t[..], &means, &devs, Units::Original, &[]);
                prop_assert!((got - squared_error(&y, t)).abs() <= 1e-5 * (1.0 + got));
                let got = MSE.sample_sum(lane, &t[..], &means, &devs, Units::Network, &[]);
                prop_assert_eq!(got.to_bits(), squared_error(z, &standard).to_bits());
            }
            prop_assert!((f64::from(sum) - want).abs() <= 1e-4 * (1.0 + want));
        }
    }
}
