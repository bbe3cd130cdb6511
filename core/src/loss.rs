//! Step 1, "what is good": the loss a network is trained to minimise, and its gradient.
//!
//! [`Loss`] is the one place a loss is written. Training ([`crate::Learner::step`]), validation
//! and evaluation ([`crate::Learner::evaluate`], [`crate::Model::mse`]) all call it, so a new loss
//! is a new variant here, not a new trainer.
//!
//! **Mean squared error**: for predictions `y` and targets `t` of `n` outputs,
//! `MSE = (1/n) Σ (y - t)²`; over a batch or a data set the mean runs over samples too. Its
//! gradient for one sample is `∂MSE/∂y = 2 (y - t) / n`.

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
}

impl Loss {
    /// The name used in reports: `mse`.
    pub const fn name(&self) -> &'static str {
        match self {
            Loss::MeanSquaredError => "mse",
        }
    }

    /// The loss of one sample, `prediction` and `target` in the same units.
    pub fn value(&self, prediction: &[f32], target: &[f32]) -> f32 {
        match self {
            Loss::MeanSquaredError => {
                let n = prediction.len().min(target.len()).max(1) as f32;
                squared_error(prediction, target) / n
            }
        }
    }

    /// Writes `∂loss/∂prediction` of one sample into `grad` (MSE: `2 (y - t) / n`).
    pub fn gradient(&self, prediction: &[f32], target: &[f32], grad: &mut [f32]) {
        match self {
            Loss::MeanSquaredError => {
                let scale = 2.0 / prediction.len().min(target.len()).max(1) as f32;
                for ((g, y), t) in grad.iter_mut().zip(prediction).zip(target) {
                    *g = scale * (y - t);
                }
            }
        }
    }

    /// How many terms a sample of `n_out` outputs adds to a mean loss: the mean squared error
    /// averages over outputs as well as samples, so `n_out`.
    pub const fn terms(&self, n_out: usize) -> usize {
        match self {
            Loss::MeanSquaredError => n_out,
        }
    }

    /// Training: for a chunk of `C` samples whose network outputs are in `outputs`
    /// (feature-major: output `k` of lane `s` at `k·C + s`, in the network's units), writes
    /// `∂loss/∂y` over each used lane's outputs and adds each sample's loss, in the network's
    /// units ([`Units::Network`]) and summed over its [`Self::terms`], to `sum`, sample after
    /// sample. `samples` holds the chunk's `(inputs, targets)`, lane `s` in `samples[s]`; `means`
    /// and `devs` are the targets' standardisation.
    ///
    /// For MSE the error of output `k` is `e = y - (t - mean)/dev`: its gradient `2e/n`, its
    /// square `e²`. The squares are added output after output for all lanes at once, so each
    /// sample's sum runs in output order, as [`Self::value`]'s.
    #[inline(always)]
    pub(crate) fn backward_chunk<const C: usize>(
        &self,
        outputs: &mut [f32],
        samples: &[(&[f32], &[f32])],
        means: &[f32],
        devs: &[f32],
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
                        let err = *y - (t.get(k).copied().unwrap_or(0.0) - m) / s;
                        *sq += err * err;
                        *y = g * err;
                    }
                }
                for sq in squares.iter().take(samples.len()) {
                    *sum += sq;
                }
            }
        }
    }

    /// Evaluation: the loss of one sample summed over its [`Self::terms`], in `units`, from the
    /// network's `outputs` (one lane of a chunk) and the targets' standardisation `means` and
    /// `devs`.
    ///
    /// For MSE in [`Units::Original`] each output is first brought back to the targets' units,
    /// `y·dev + mean`, then compared: the loss a user of the model sees. In
    /// [`Units::Network`] the target is standardised instead, `(t - mean)/dev`, as training
    /// computes it.
    #[inline(always)]
    pub(crate) fn sample_sum<'y>(
        &self,
        outputs: impl Iterator<Item = &'y f32>,
        target: &[f32],
        means: &[f32],
        devs: &[f32],
        units: Units,
    ) -> f32 {
        match self {
            Loss::MeanSquaredError => outputs.zip(target).zip(means.iter().zip(devs)).fold(
                0.0,
                |acc, ((y, t), (m, s))| {
                    let e = match units {
                        Units::Original => (*y * s + m) - t,
                        Units::Network => *y - (t - m) / s,
                    };
                    acc + e * e
                },
            ),
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

/// The eight partial sums of [`sum_of_squares`], added in its fixed order.
#[inline(always)]
pub(crate) fn add_lanes([a, b, c, d, e, f, g, h]: [f32; 8]) -> f32 {
    ((a + b) + (c + d)) + ((e + f) + (g + h))
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
            MSE.backward_chunk::<C>(&mut grads, &samples, &zeros, &ones, &mut sum);
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
                    let got = MSE.sample_sum(lane.clone(), t, &zeros, &ones, units);
                    prop_assert_eq!(got.to_bits(), squared_error(y, t).to_bits());
                }
            }
            prop_assert_eq!(sum.to_bits(), want.to_bits());

            // Standardised outputs z: the prediction in original units is z·dev + mean; the
            // training loss is in standardised units, (z - (t - mean)/dev)².
            let (means, devs) = ([mean; N_OUT], [dev; N_OUT]);
            let mut grads = chunk;
            let mut sum = 0.0;
            MSE.backward_chunk::<C>(&mut grads, &samples, &means, &devs, &mut sum);
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
                let got = MSE.sample_sum(lane.clone(), t, &means, &devs, Units::Original);
                prop_assert!((got - squared_error(&y, t)).abs() <= 1e-5 * (1.0 + got));
                let got = MSE.sample_sum(lane, t, &means, &devs, Units::Network);
                prop_assert_eq!(got.to_bits(), squared_error(z, &standard).to_bits());
            }
            prop_assert!((f64::from(sum) - want).abs() <= 1e-4 * (1.0 + want));
        }
    }
}
