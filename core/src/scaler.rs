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

use crate::Dataset;

/// Writes the identity statistics (mean 0, deviation 1).
pub fn identity(stats: &mut [f32], n_in: usize) {
    let (inputs, outputs) = stats.split_at_mut((2 * n_in).min(stats.len()));
    for part in [inputs, outputs] {
        let half = part.len() / 2;
        let (mean, std) = part.split_at_mut(half);
        mean.iter_mut().for_each(|v| *v = 0.0);
        std.iter_mut().for_each(|v| *v = 1.0);
    }
}

/// Fits means and deviations of inputs and targets over the samples at `indices`.
///
/// A constant column (deviation 0 or not finite) keeps deviation 1, so it is only shifted.
pub fn fit(stats: &mut [f32], data: &Dataset<'_>, indices: &[u32]) {
    let n_in = data.n_in();
    let (inputs, outputs) = stats.split_at_mut((2 * n_in).min(stats.len()));
    fit_columns(inputs, indices, |i| data.sample(i).map(|(x, _)| x));
    fit_columns(outputs, indices, |i| data.sample(i).map(|(_, t)| t));
}

fn fit_columns<'d>(stats: &mut [f32], indices: &[u32], row: impl Fn(usize) -> Option<&'d [f32]>) {
    let half = stats.len() / 2;
    let (mean, std) = stats.split_at_mut(half);
    let rows = || indices.iter().filter_map(|&i| row(i as usize));
    let n = rows().count().max(1) as f32;
    for (col, (m, s)) in mean.iter_mut().zip(std.iter_mut()).enumerate() {
        let values = || rows().filter_map(|r| r.get(col).copied());
        *m = values().fold(0.0, |acc, v| acc + v) / n;
        let var = values().fold(0.0, |acc, v| acc + (v - *m) * (v - *m)) / n;
        let dev = libm::sqrtf(var);
        *s = if dev > f32::EPSILON * (1.0 + m.abs()) && dev.is_finite() {
            dev
        } else {
            1.0
        };
    }
}

/// `(x - mean) / std` for every input of a sample, written to lane `lane` of a feature-major
/// chunk of `C` samples (for `C = 1`: `out[i]`).
pub fn scale_inputs<const C: usize>(stats: &[f32], raw: &[f32], lane: usize, out: &mut [f32]) {
    let (mean, rest) = stats.split_at(raw.len().min(stats.len()));
    let std = rest;
    for (((lanes, x), m), s) in out.chunks_exact_mut(C).zip(raw).zip(mean).zip(std) {
        if let Some(o) = lanes.get_mut(lane) {
            *o = (x - m) / s;
        }
    }
}

/// `(t - mean) / std` for every target of a sample, written to lane `lane` of a feature-major
/// chunk of `C` samples.
pub fn scale_targets<const C: usize>(
    stats: &[f32],
    n_in: usize,
    raw: &[f32],
    lane: usize,
    out: &mut [f32],
) {
    let (mean, std) = means_and_devs(stats, 2 * n_in, raw.len());
    let lanes = out.iter_mut().skip(lane).step_by(C);
    for (((o, t), m), s) in lanes.zip(raw).zip(mean).zip(std) {
        *o = (t - m) / s;
    }
}

/// `y · std + mean` for every output: back to the data's units.
pub fn unscale_outputs(stats: &[f32], n_in: usize, values: &mut [f32]) {
    let (mean, std) = means_and_devs(stats, 2 * n_in, values.len());
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
    means_and_devs(stats, 2 * n_in, n_out)
}

/// Checks statistics from outside (e.g. a loaded model): finite means, finite deviations above 0.
pub fn check(stats: &[f32], n_in: usize) -> Result<(), crate::Error> {
    let (inputs, outputs) = stats.split_at((2 * n_in).min(stats.len()));
    let devs = [inputs, outputs].map(|part| part.get(part.len() / 2..).unwrap_or(&[]));
    let bad_dev = |v: &f32| *v <= 0.0; // NaN is caught first, as non-finite
    match stats.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(crate::Error::NonFiniteParameter { index }),
        None if devs.iter().any(|d| d.iter().any(bad_dev)) => {
            Err(crate::Error::InvalidHyperparameter {
                name: "standard deviation",
            })
        }
        None => Ok(()),
    }
}

fn means_and_devs(stats: &[f32], at: usize, n: usize) -> (&[f32], &[f32]) {
    let part = stats.get(at..).unwrap_or(&[]);
    let (mean, rest) = part.split_at(n.min(part.len()));
    (mean, rest.get(..n).unwrap_or(rest))
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
