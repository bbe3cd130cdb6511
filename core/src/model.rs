//! A trained network ready to predict: widths, parameters and standardisation statistics.

use crate::data::{Sample, Target};
use crate::loss::{Loss, Units};
use crate::slices::{at_least_one, copy_prefix};
use crate::slices::{expect_len, expect_width};
use crate::{mlp, scaler, shape, Dataset, Error};

/// A network and its standardisation, borrowed from caller storage.
///
/// Predictions take inputs in the data's original units and return outputs in the targets'
/// original units.
///
/// ```
/// use tinytrain_core::{shape, Model};
/// const W: [usize; 2] = [1, 1];
/// // y = 2x + 1, no standardisation (mean 0, deviation 1).
/// let params = [2.0, 1.0];
/// let stats = [0.0, 1.0, 0.0, 1.0];
/// let model = Model::new(&W, &params, &stats)?;
/// let mut scratch = [0.0; shape::predict_scratch_len(&W)];
/// let mut y = [0.0];
/// model.predict(&[3.0], &mut scratch, &mut y)?;
/// assert_eq!(y, [7.0]);
/// # Ok::<(), tinytrain_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Model<'a> {
    widths: &'a [usize],
    params: &'a [f32],
    stats: &'a [f32],
}

impl<'a> Model<'a> {
    /// Wraps parameters ([`shape::param_len`]) and statistics ([`shape::scaler_len`]).
    ///
    /// Errors: [`Error::InvalidWidths`] and [`Error::NetworkTooLarge`] as [`shape::check`];
    /// [`Error::BufferSize`] when a slice is not of its length.
    pub fn new(widths: &'a [usize], params: &'a [f32], stats: &'a [f32]) -> Result<Self, Error> {
        shape::check(widths)?;
        expect_len(params.len(), shape::param_len(widths))?;
        expect_len(stats.len(), shape::scaler_len(widths))?;
        Ok(Self {
            widths,
            params,
            stats,
        })
    }

    /// Wraps slices whose lengths the caller already checked.
    pub(crate) fn from_parts(widths: &'a [usize], params: &'a [f32], stats: &'a [f32]) -> Self {
        Self {
            widths,
            params,
            stats,
        }
    }

    /// The layer widths, input first.
    pub fn widths(&self) -> &'a [usize] {
        self.widths
    }

    /// All weights and biases, layer after layer.
    pub fn params(&self) -> &'a [f32] {
        self.params
    }

    /// The standardisation statistics (see [`crate::scaler`]).
    pub fn stats(&self) -> &'a [f32] {
        self.stats
    }

    /// Predicts the outputs of one sample. `scratch` holds [`shape::predict_scratch_len`] values.
    ///
    /// Errors: [`Error::WidthMismatch`] when `input` or `output` is not as wide as the
    /// network's first or last layer; [`Error::BufferSize`] for `scratch` of another length.
    pub fn predict(
        &self,
        input: &[f32],
        scratch: &mut [f32],
        output: &mut [f32],
    ) -> Result<(), Error> {
        expect_width(input.len(), shape::input_width(self.widths))?;
        expect_width(output.len(), shape::output_width(self.widths))?;
        expect_len(scratch.len(), shape::predict_scratch_len(self.widths))?;
        let y = run(self.widths, self.params, self.stats, input, scratch);
        copy_prefix(output, y);
        Ok(())
    }

    /// Predicts many samples, `C` at a time in vector lanes: `inputs` holds whole rows of
    /// inputs, `outputs` receives the rows of outputs (the same bits as [`Model::predict`] on each
    /// row). `scratch` holds `C ×` [`shape::predict_scratch_len`] values. `C = 0` does not
    /// compile.
    ///
    /// ```
    /// use tinytrain_core::{shape, Model};
    /// const W: [usize; 2] = [1, 1];
    /// let model = Model::new(&W, &[2.0, 1.0], &[0.0, 1.0, 0.0, 1.0])?; // y = 2x + 1
    /// let mut scratch = [0.0; 4 * shape::predict_scratch_len(&W)];
    /// let mut y = [0.0; 3];
    /// model.predict_many::<4>(&[0.0, 1.0, 2.0], &mut scratch, &mut y)?;
    /// assert_eq!(y, [1.0, 3.0, 5.0]);
    /// # Ok::<(), tinytrain_core::Error>(())
    /// ```
    pub fn predict_many<const C: usize>(
        &self,
        inputs: &[f32],
        scratch: &mut [f32],
        outputs: &mut [f32],
    ) -> Result<(), Error> {
        const {
            assert!(
                C > 0,
                "a chunk holds at least one sample: C must be greater than 0"
            )
        }
        let (n_in, n_out) = (
            shape::input_width(self.widths),
            shape::output_width(self.widths),
        );
        let rows = inputs.len() / n_in.max(1);
        if inputs.len() != rows * n_in || rows.checked_mul(n_out) != Some(outputs.len()) {
            return Err(Error::DataShape {
                inputs: inputs.len(),
                targets: outputs.len(),
                n_in,
                n_out,
            });
        }
        let needed = C.saturating_mul(shape::predict_scratch_len(self.widths));
        expect_len(scratch.len(), needed)?;
        let out_at = needed.saturating_sub(n_out.saturating_mul(C));
        // Widths are at least 1 (checked by `Model::new`); `at_least_one` says so to the
        // compiler, so no panicking path for a zero width is left in.
        let (n_in, n_out) = (at_least_one(n_in), at_least_one(n_out));
        let chunks = inputs
            .chunks(at_least_one(C.saturating_mul(n_in)))
            .zip(outputs.chunks_mut(at_least_one(C.saturating_mul(n_out))));
        for (x, y) in chunks {
            for (lane, row) in x.chunks_exact(n_in).enumerate() {
                scaler::scale_inputs::<C>(self.stats, row, lane, scratch);
            }
            mlp::forward::<C>(self.widths, self.params, scratch);
            let lanes = scratch.get(out_at..).unwrap_or(&[]);
            for (lane, out) in y.chunks_exact_mut(n_out).enumerate() {
                for (o, v) in out.iter_mut().zip(lanes.iter().skip(lane).step_by(C)) {
                    *o = *v;
                }
                scaler::unscale_outputs(self.stats, n_in, out);
            }
        }
        Ok(())
    }

    /// Mean squared error over the samples of `data` at `indices`, in the targets' units.
    pub fn mse(
        &self,
        data: &Dataset<'_>,
        indices: &[u32],
        scratch: &mut [f32],
    ) -> Result<f32, Error> {
        expect_width(data.n_in(), shape::input_width(self.widths))?;
        expect_width(data.n_out(), shape::output_width(self.widths))?;
        expect_len(scratch.len(), shape::predict_scratch_len(self.widths))?;
        Ok(evaluate::<1, &[f32]>(
            Loss::MeanSquaredError,
            self,
            data.select(indices),
            scratch,
            Units::Original,
            &[],
        ))
    }
}

/// Scales `input`, runs the network in `acts` and returns the unscaled output (a tail of `acts`).
pub(crate) fn run<'s>(
    widths: &[usize],
    params: &[f32],
    stats: &[f32],
    input: &[f32],
    acts: &'s mut [f32],
) -> &'s [f32] {
    scaler::scale_inputs::<1>(stats, input, 0, acts);
    mlp::forward::<1>(widths, params, acts);
    let n_out = shape::output_width(widths);
    let at = acts.len().saturating_sub(n_out);
    let y = acts.get_mut(at..).unwrap_or(&mut []);
    scaler::unscale_outputs(stats, input.len(), y);
    y
}

/// The mean [`Loss`] of `samples` (`(inputs, targets)` in the data's units) under `model` in
/// `units`, each weighted by its class's weight in `weights` (none: 1), `C` samples at a time in
/// `acts`
/// (`C ×` [`shape::activation_len`] values); 0 for no samples. Sums run in sample order, so the
/// result has the same bits for every `C`.
///
/// The samples must have the network's widths (checked by the caller).
pub(crate) fn evaluate<'d, const C: usize, T: Target>(
    loss: Loss,
    model: &Model<'_>,
    samples: impl Iterator<Item = Sample<'d, T>>,
    acts: &mut [f32],
    units: Units,
    weights: &[f32],
) -> f32 {
    const {
        assert!(
            C > 0,
            "a chunk holds at least one sample: C must be greater than 0"
        )
    }
    let (widths, params, stats) = (model.widths, model.params, model.stats);
    let (n_in, n_out) = (shape::input_width(widths), shape::output_width(widths));
    let (mean, std) = scaler::target_stats(stats, n_in, n_out);
    let out_at = acts.len().saturating_sub(n_out.saturating_mul(C));
    let mut samples = samples;
    let mut sum = 0.0;
    let mut count = 0usize;
    loop {
        let mut chunk: [Sample<'d, T>; C] = [(&[], T::default()); C];
        let mut used = 0;
        for (lane, sample) in chunk.iter_mut().zip(&mut samples) {
            *lane = sample;
            used += 1;
        }
        let chunk = chunk.get(..used).unwrap_or(&[]);
        if used == 0 {
            break;
        }
        for (lane, (x, _)) in chunk.iter().enumerate() {
            scaler::scale_inputs::<C>(stats, x, lane, acts);
        }
        mlp::forward::<C>(widths, params, acts);
        let outputs = acts.get(out_at..).unwrap_or(&[]);
        for (lane, (_, t)) in chunk.iter().enumerate() {
            let y = outputs.iter().skip(lane).step_by(C);
            sum += loss.sample_sum(y, *t, mean, std, units, weights);
            count += loss.terms(n_out);
        }
    }
    if count == 0 {
        0.0
    } else {
        sum / count as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Lcg;
    use std::vec;

    #[test]
    fn many_at_once_equals_one_at_a_time() {
        let widths = [3, 7, 5, 2];
        let mut params = vec![0.0; shape::param_len(&widths)];
        mlp::init_he(&widths, &mut params, &mut Lcg::new(4));
        let stats = [0.5, -1.0, 2.0, 1.5, 0.25, 3.0, 10.0, -2.0, 4.0, 0.5];
        let model = Model::new(&widths, &params, &stats).unwrap();
        let mut rng = Lcg::new(9);
        let inputs: std::vec::Vec<f32> = (0..3 * 21).map(|_| rng.uniform(-3.0, 3.0)).collect();
        let mut many = vec![0.0; 2 * 21];
        let mut scratch = vec![0.0; 8 * shape::predict_scratch_len(&widths)];
        model
            .predict_many::<8>(&inputs, &mut scratch, &mut many)
            .unwrap();
        let mut one = [0.0; 2];
        let mut scratch = vec![0.0; shape::predict_scratch_len(&widths)];
        for (x, want) in inputs.chunks(3).zip(many.chunks(2)) {
            model.predict(x, &mut scratch, &mut one).unwrap();
            assert_eq!(
                one.map(f32::to_bits),
                [want[0].to_bits(), want[1].to_bits()]
            );
        }
        assert!(model
            .predict_many::<8>(&inputs[1..], &mut scratch, &mut many)
            .is_err());
    }

    #[test]
    fn wrong_sizes_are_errors() {
        let w = [2, 1];
        let params = [1.0, 1.0, 0.0];
        let stats = [0.0, 0.0, 1.0, 1.0, 0.0, 1.0];
        assert_eq!(
            Model::new(&w, &params[..2], &stats).unwrap_err(),
            Error::BufferSize {
                needed: 3,
                found: 2
            }
        );
        let m = Model::new(&w, &params, &stats).unwrap();
        let mut scratch = [0.0; 3];
        let mut y = [0.0];
        assert_eq!(
            m.predict(&[1.0], &mut scratch, &mut y).unwrap_err(),
            Error::WidthMismatch {
                expected: 2,
                found: 1
            }
        );
        m.predict(&[1.0, 2.0], &mut scratch, &mut y).unwrap();
        assert_eq!(y, [3.0]);
    }
}
