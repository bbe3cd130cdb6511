//! Standardisation: inputs and targets shifted and scaled to mean 0 and standard deviation 1.
//!
//! The statistics are fitted on the training split only (fitting them on validation or test
//! data would leak those sets into training) and travel with the model, so predictions and
//! reported losses are in the data's original units.
//!
//! Layout of the statistics slice ([`crate::shape::scaler_len`] values):
//! `[input means | input std devs | target means | target std devs]`.
//! Without standardisation the means are 0 and the deviations 1, which leaves every value's bits
//! unchanged: one code path serves both.

use crate::data::{Label, Target};
use crate::{Dataset, Field, Statistic};

/// Writes the identity statistics (mean 0, deviation 1).
pub fn identity(stats: &mut [f32], n_in: usize) {
    let (inputs, outputs) = stats.split_at_mut(n_in.saturating_mul(2).min(stats.len()));
    for part in [inputs, outputs] {
        let half = part.len() / 2;
        let (mean, std) = part.split_at_mut(half);
        mean.iter_mut().for_each(|v| *v = 0.0);
        std.iter_mut().for_each(|v| *v = 1.0);
    }
}

/// Writes the identity statistics of the targets only (the inputs' are left as they are).
pub fn identity_targets(stats: &mut [f32], n_in: usize) {
    if let Some(targets) = stats.get_mut((2 * n_in).min(stats.len())..) {
        identity(targets, 0);
    }
}

/// A column whose standard deviation is at most this fraction of its mean's magnitude is
/// constant: an `f32` keeps about seven significant digits, so a spread of a millionth of the
/// values (about eight units in the last place) is rounding, not information. Dividing by it
/// would blow a difference in the seventh digit up to thousands of standard deviations.
pub const CONSTANT_RELATIVE_DEV: f64 = 1e-6;

/// Fits means and deviations of inputs and targets over the samples at `indices` (population
/// statistics, dividing by the number of samples). Class targets are not standardised: a
/// classifier's outputs are logits, and their statistics stay the identity (mean 0,
/// deviation 1).
///
/// Sums run in `f64`, two passes (the mean, then the squared differences from it), so a column
/// of equal values gets exactly that value as its mean and deviation 0; the results are rounded
/// to `f32` once. A constant column — deviation 0, at most [`CONSTANT_RELATIVE_DEV`] of the
/// mean's magnitude, or too small for an `f32` — keeps deviation 1: it is only shifted.
///
/// ```
/// use tinytrain_core::{scaler, Dataset};
/// // A feature that is 14.62 in every row, and the target 2x.
/// let xs: Vec<f32> = (0..34).flat_map(|i| [i as f32, 14.62]).collect();
/// let ys: Vec<f32> = (0..34).map(|i| 2.0 * i as f32).collect();
/// let data = Dataset::new(&xs, &ys, 2, 1)?;
/// let mut stats = [0.0; 6];
/// let all: Vec<u32> = (0..34).collect();
/// scaler::fit(&mut stats, &data, &all);
/// let (means, devs) = scaler::input_stats(&stats, 2);
/// assert_eq!((means[1], devs[1]), (14.62, 1.0));
/// # Ok::<(), tinytrain_core::Error>(())
/// ```
pub fn fit<L: Label>(stats: &mut [f32], data: &Dataset<'_, L>, indices: &[u32]) {
    let n_in = data.n_in();
    let (inputs, outputs) = stats.split_at_mut(n_in.saturating_mul(2).min(stats.len()));
    // Indices out of range are skipped.
    let n = indices
        .iter()
        .filter(|&&i| (i as usize) < data.len())
        .count();
    fit_columns(inputs, indices, n, |i, col| {
        data.sample(i).and_then(|(x, _)| x.get(col).copied())
    });
    if L::CLASSES {
        identity_targets(outputs, 0);
    } else {
        fit_columns(outputs, indices, n, |i, col| {
            data.sample(i).map(|(_, t)| t.value(col))
        });
    }
}

/// Fits the columns whose values `value(sample, column)` gives, over the `n` samples at
/// `indices` that have them.
fn fit_columns(
    stats: &mut [f32],
    indices: &[u32],
    n: usize,
    value: impl Fn(usize, usize) -> Option<f32>,
) {
    let half = stats.len() / 2;
    let (mean, std) = stats.split_at_mut(half);
    let n = n.max(1) as f64;
    for (col, (m, s)) in mean.iter_mut().zip(std.iter_mut()).enumerate() {
        let value = &value;
        let values = || {
            indices
                .iter()
                .filter_map(move |&i| value(i as usize, col).map(f64::from))
        };
        let mean = values().sum::<f64>() / n;
        let var = values().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        let dev = libm::sqrt(var);
        *m = mean as f32;
        *s = if is_spread(dev, mean) {
            dev as f32
        } else {
            1.0
        };
    }
}

/// Whether a column of deviation `dev` and mean `mean` varies (see [`CONSTANT_RELATIVE_DEV`]).
fn is_spread(dev: f64, mean: f64) -> bool {
    dev > CONSTANT_RELATIVE_DEV * mean.abs() && (dev as f32).is_normal()
}

/// `(x - mean) / std` for every input of a sample, written to lane `lane` of a feature-major
/// chunk of `C` samples (for `C = 1`: `out[i]`). `C = 0` does not compile.
pub fn scale_inputs<const C: usize>(stats: &[f32], raw: &[f32], lane: usize, out: &mut [f32]) {
    const {
        assert!(
            C > 0,
            "a chunk holds at least one sample: C must be greater than 0"
        )
    }
    let (mean, rest) = stats.split_at(raw.len().min(stats.len()));
    let std = rest;
    for (((lanes, x), m), s) in out.chunks_exact_mut(C).zip(raw).zip(mean).zip(std) {
        if let Some(o) = lanes.get_mut(lane) {
            *o = (x - m) / s;
        }
    }
}

/// `(t - mean) / std` for every target of a sample, written to lane `lane` of a feature-major
/// chunk of `C` samples. `C = 0` does not compile.
pub fn scale_targets<const C: usize>(
    stats: &[f32],
    n_in: usize,
    raw: &[f32],
    lane: usize,
    out: &mut [f32],
) {
    const {
        assert!(
            C > 0,
            "a chunk holds at least one sample: C must be greater than 0"
        )
    }
    let (mean, std) = means_and_devs(stats, n_in.saturating_mul(2), raw.len());
    let lanes = out.iter_mut().skip(lane).step_by(C);
    for (((o, t), m), s) in lanes.zip(raw).zip(mean).zip(std) {
        *o = (t - m) / s;
    }
}

/// `y · std + mean` for every output: back to the data's units.
pub fn unscale_outputs(stats: &[f32], n_in: usize, values: &mut [f32]) {
    let (mean, std) = means_and_devs(stats, n_in.saturating_mul(2), values.len());
    for ((y, m), s) in values.iter_mut().zip(mean).zip(std) {
        *y = *y * s + m;
    }
}

/// The means and deviations of the inputs.
pub fn input_stats(stats: &[f32], n_in: usize) -> (&[f32], &[f32]) {
    means_and_devs(stats, 0, n_in)
}

/// The means and deviations of the targets.
pub fn target_stats(stats: &[f32], n_in: usize, n_out: usize) -> (&[f32], &[f32]) {
    means_and_devs(stats, n_in.saturating_mul(2), n_out)
}

/// The targets' variance, mean over the outputs, from their fitted deviations (1 for a constant
/// target): the factor from standardised squared errors to the targets' own units.
pub fn target_variance(stats: &[f32], n_in: usize, n_out: usize) -> f64 {
    let (_, devs) = target_stats(stats, n_in, n_out);
    let sum: f64 = devs.iter().map(|d| f64::from(*d) * f64::from(*d)).sum();
    sum / devs.len().max(1) as f64
}

/// Checks statistics from outside (e.g. a loaded model): finite means, finite deviations above 0.
/// The error names the column and the statistic.
///
/// ```
/// use tinytrain_core::{scaler, Error, Field, Statistic};
/// assert!(scaler::check(&[0.0, 1.0, 5.0, 2.0], 1).is_ok());
/// assert_eq!(
///     scaler::check(&[0.0, 0.0, 5.0, 2.0], 1),
///     Err(Error::InvalidStatistic { field: Field::Input(0), statistic: Statistic::Deviation })
/// );
/// assert_eq!(
///     scaler::check(&[0.0, 1.0, f32::NAN, 2.0], 1),
///     Err(Error::InvalidStatistic { field: Field::Target(0), statistic: Statistic::Mean })
/// );
/// ```
pub fn check(stats: &[f32], n_in: usize) -> Result<(), crate::Error> {
    let n_out = (stats.len() / 2).saturating_sub(n_in);
    check_each(n_in, n_out, |k| stats.get(k).copied().unwrap_or(f32::NAN))
}

/// [`check`] on the statistics of `n_in` inputs and `n_out` targets that `value` returns one by
/// one, in the layout of the module docs.
pub(crate) fn check_each(
    n_in: usize,
    n_out: usize,
    value: impl Fn(usize) -> f32,
) -> Result<(), crate::Error> {
    let len = n_in.saturating_add(n_out).saturating_mul(2);
    (0..len).try_for_each(|k| check_value(n_in, n_out, k, value(k)))
}

/// Checks statistic `k` of `n_in` inputs and `n_out` targets (module docs' layout): a finite
/// mean, or a finite deviation above 0. Checked in their order, means before deviations in each
/// part, the first failure is the one [`check`] reports: the model format checks them so, one by
/// one, as it reads them.
pub(crate) fn check_value(n_in: usize, n_out: usize, k: usize, v: f32) -> Result<(), crate::Error> {
    let (field, statistic) = match k {
        k if k < n_in => (Field::Input(k), Statistic::Mean),
        k if k < 2 * n_in => (Field::Input(k - n_in), Statistic::Deviation),
        k if k < 2 * n_in + n_out => (Field::Target(k - 2 * n_in), Statistic::Mean),
        k => (
            Field::Target(k.saturating_sub(2 * n_in + n_out)),
            Statistic::Deviation,
        ),
    };
    // NaN fails `> 0.0`; an infinite deviation fails the finiteness test.
    let ok = match statistic {
        Statistic::Mean => v.is_finite(),
        Statistic::Deviation => v.is_finite() && v > 0.0,
    };
    if ok {
        Ok(())
    } else {
        Err(crate::Error::InvalidStatistic { field, statistic })
    }
}

fn means_and_devs(stats: &[f32], at: usize, n: usize) -> (&[f32], &[f32]) {
    let part = stats.get(at..).unwrap_or(&[]);
    let (mean, rest) = part.split_at(n.min(part.len()));
    (mean, rest.get(..n).unwrap_or(rest))
}

/// Running means and variances of a sample's columns — its inputs, then its targets — added
/// one sample at a time without keeping the samples (Welford, 1962, in `f64`): the statistics of
/// a stream's warm-up. For each column, with `n` samples so far:
/// `δ = v - mean; mean += δ / n; m2 += δ · (v - mean)`; the variance is `m2 / n` (population
/// statistics, as [`fit`]).
///
/// ```
/// use tinytrain_core::scaler::Moments;
/// let mut values = [0.0f64; 4]; // one input and one target: two means, two sums
/// let mut moments = Moments::new(&mut values);
/// for (x, t) in [(1.0f32, 10.0f32), (3.0, 10.0)] {
///     moments.add(&[x], &[t]);
/// }
/// let mut stats = [0.0f32; 4];
/// moments.write_stats(&mut stats, 1);
/// assert_eq!(stats, [2.0, 1.0, 10.0, 1.0]); // a constant target keeps deviation 1
/// ```
#[derive(Debug)]
pub struct Moments<'a> {
    /// The means of every column, then their sums of squared deviations (`m2`).
    values: &'a mut [f64],
    count: u64,
}

impl<'a> Moments<'a> {
    /// No sample yet, over `values`: two per column ([`crate::shape::moments_len`]).
    pub fn new(values: &'a mut [f64]) -> Self {
        values.iter_mut().for_each(|v| *v = 0.0);
        Self { values, count: 0 }
    }

    /// Samples added so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Adds one sample's inputs and targets.
    pub fn add(&mut self, inputs: &[f32], targets: &[f32]) {
        self.count = self.count.saturating_add(1);
        let n = self.count as f64;
        let (means, m2s) = self.values.split_at_mut(self.values.len() / 2);
        for ((v, mean), m2) in inputs.iter().chain(targets).zip(means).zip(m2s) {
            let v = f64::from(*v);
            let delta = v - *mean;
            *mean += delta / n;
            *m2 += delta * (v - *mean);
        }
    }

    /// Writes the statistics (the layout of this module's slice, `n_in` inputs first): the
    /// means, and the deviations `√(m2 / n)` — a constant column keeps deviation 1, as in
    /// [`fit`]. Without a sample, the identity.
    pub fn write_stats(&self, stats: &mut [f32], n_in: usize) {
        identity(stats, n_in);
        if self.count == 0 {
            return;
        }
        let n = self.count as f64;
        let (means, m2s) = self.values.split_at(self.values.len() / 2);
        let (inputs, targets) = stats.split_at_mut((2 * n_in).min(stats.len()));
        let (in_means, out_means) = means.split_at(n_in.min(means.len()));
        let (in_m2s, out_m2s) = m2s.split_at(n_in.min(m2s.len()));
        let parts = [(inputs, in_means, in_m2s), (targets, out_means, out_m2s)];
        for (part, means, m2s) in parts {
            let half = part.len() / 2;
            let (m, s) = part.split_at_mut(half);
            for ((m, s), (mean, m2)) in m.iter_mut().zip(s).zip(means.iter().zip(m2s)) {
                let dev = libm::sqrt(m2 / n);
                *m = *mean as f32;
                *s = if is_spread(dev, *mean) {
                    dev as f32
                } else {
                    1.0
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitted_on_the_given_indices_only() {
        let xs = [1.0, 3.0, 100.0];
        let ys = [10.0, 10.0, -5.0];
        let data = Dataset::new(&xs, &ys, 1, 1).unwrap();
        let mut stats = [0.0; 4];
        fit(&mut stats, &data, &[0, 1]);
        assert_eq!(stats, [2.0, 1.0, 10.0, 1.0]); // constant target keeps deviation 1
        let mut z = [0.0];
        scale_inputs::<1>(&stats, &[3.0], 0, &mut z);
        assert_eq!(z, [1.0]);
        let mut y = [0.5];
        unscale_outputs(&stats, 1, &mut y);
        assert_eq!(y, [10.5]);
    }

    /// One column of `values`, its target 0: the column's fitted mean and deviation.
    fn column_stats(values: &[f32]) -> (f32, f32) {
        let targets = std::vec![0.0; values.len()];
        let data = Dataset::new(values, &targets, 1, 1).unwrap();
        let all: std::vec::Vec<u32> = (0..values.len() as u32).collect();
        let mut stats = [0.0; 4];
        fit(&mut stats, &data, &all);
        (stats[0], stats[1])
    }

    #[test]
    fn a_constant_column_of_any_magnitude_is_only_shifted() {
        // 14.62 on 34 rows: summed in f32, its mean came out 14.619998 and its deviation
        // 1.9e-6, so 14.63 became 5000 standard deviations.
        for c in [14.62f32, 0.0, -7.5e-30, 1e30, -3.0e38, f32::MIN_POSITIVE] {
            assert_eq!(column_stats(&[c; 34]), (c, 1.0), "{c}");
        }
        // Rounding noise in the 8th digit is constant; a spread in the 5th digit is not.
        let noise: std::vec::Vec<f32> = (0..34)
            .map(|i| 14.62 + if i % 2 == 0 { 1e-6 } else { -1e-6 })
            .collect();
        assert_eq!(column_stats(&noise).1, 1.0);
        let spread: std::vec::Vec<f32> = (0..34)
            .map(|i| 14.62 + if i % 2 == 0 { 1e-3 } else { -1e-3 })
            .collect();
        let (mean, dev) = column_stats(&spread);
        assert!(
            (mean - 14.62).abs() < 1e-6 && (dev - 1e-3).abs() < 1e-6,
            "{mean} {dev}"
        );
    }

    #[test]
    fn huge_and_tiny_columns_get_finite_statistics() {
        let huge: std::vec::Vec<f32> = (0..10).map(|i| i as f32 * 1e37).collect();
        let (mean, dev) = column_stats(&huge);
        assert_eq!(mean, 4.5e37);
        assert!((dev / 2.8722813e37 - 1.0).abs() < 1e-6, "{dev}");
        let tiny: std::vec::Vec<f32> = (0..10).map(|i| i as f32 * 1e-40).collect();
        assert_eq!(
            column_stats(&tiny).1,
            1.0,
            "a deviation below f32's normal range"
        );
    }

    #[test]
    fn lanes_of_a_chunk() {
        let stats = [1.0, 2.0, 2.0, 4.0, 0.0, 1.0];
        let mut chunk = [0.0; 6]; // 2 inputs × C = 3
        scale_inputs::<3>(&stats, &[3.0, 6.0], 1, &mut chunk);
        assert_eq!(chunk, [0.0, 1.0, 0.0, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn outside_statistics_are_checked() {
        assert!(check(&[0.0, 1.0, 5.0, 2.0], 1).is_ok());
        assert!(check(&[0.0, 0.0, 5.0, 2.0], 1).is_err(), "zero deviation");
        assert!(check(&[f32::NAN, 1.0, 5.0, 2.0], 1).is_err());
    }

    #[test]
    fn identity_changes_no_bits() {
        let mut stats = [9.0; 6];
        identity(&mut stats, 2);
        assert_eq!(stats, [0.0, 0.0, 1.0, 1.0, 0.0, 1.0]);
        let raw = [0.1f32, -3.7e-39];
        let mut out = [0.0; 2];
        scale_inputs::<1>(&stats, &raw, 0, &mut out);
        assert_eq!(out[0].to_bits(), raw[0].to_bits());
        assert_eq!(out[1].to_bits(), raw[1].to_bits());
    }
}
