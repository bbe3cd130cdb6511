//! The linear baseline, fitted exactly: ordinary least squares, the best linear model of the
//! training samples ("start simple"), on the device as on the host.
//!
//! [`fit`] solves the normal equations `(AᵀA + λD) β = Aᵀt` for each output, where each row of
//! `A` is a training sample's standardised inputs followed by a 1 (the bias). Standardising
//! first (with [`crate::scaler::fit`]) keeps `AᵀA` well conditioned: its diagonal is the number
//! of samples for every varying input. The ridge term `λ = RIDGE × n` on the inputs' diagonal
//! (`D` leaves the bias out) makes the system positive definite when inputs repeat one another
//! or a column is constant, so the fit exists for every data set; its coefficients then spread
//! over the equal columns, as the minimum-norm solution does. It is solved by a Cholesky
//! factorisation `LLᵀ` (Golub & Van Loan, *Matrix Computations*, 4th ed., algorithm 4.2.1),
//! computed once and used for every output's right-hand side.
//!
//! Every sum runs in `f64` (in software on a Cortex-M4F: fine for a fit made once), in sample
//! order, so the host and the device get the same bits. No heap: the caller provides
//! [`scratch_len`] `f64` values — the `(n_in + 1)²` matrix and one right-hand side.
//!
//! The result is a [`crate::Model`] of widths `[n_in, n_out]`: parameters in the layout of a
//! dense layer, and the standardisation that goes with them.
//!
//! ```
//! use tinytrain_core::{lstsq, shape, Dataset, Model};
//! // y = 3x - 2, exactly, on 8 samples.
//! let xs: Vec<f32> = (0..8).map(|i| i as f32).collect();
//! let ys: Vec<f32> = xs.iter().map(|x| 3.0 * x - 2.0).collect();
//! let data = Dataset::new(&xs, &ys, 1, 1)?;
//! const WIDTHS: [usize; 2] = [1, 1];
//! let mut params = [0.0; shape::param_len(&WIDTHS)];
//! let mut stats = [0.0; shape::scaler_len(&WIDTHS)];
//! let mut scratch = [0.0; lstsq::scratch_len(1)];
//! let all: Vec<u32> = (0..8).collect();
//! let fit = lstsq::fit(&data, &all, &mut params, &mut stats, &mut scratch)?;
//! assert!(fit.mse < 1e-9);
//! let model = Model::new(&WIDTHS, &params, &stats)?;
//! let mut y = [0.0];
//! model.predict(&[10.0], &mut [0.0; 2], &mut y)?;
//! assert!((y[0] - 28.0).abs() < 1e-4);
//! # Ok::<(), tinytrain_core::Error>(())
//! ```

use crate::slices::at_least_one;
use crate::slices::expect_len;
use crate::{scaler, shape, Dataset, Error, SplitPart};

/// The ridge term, relative to the number of samples: `λ = RIDGE × n` is added to the inputs'
/// diagonal of `AᵀA`, whose entries are `n` for a varying standardised input. It moves the
/// coefficients by about a ten-billionth of themselves (the training MSE by far less), and keeps
/// every pivot of the factorisation above the `f64` rounding of the sums (about `1e-16 × n`).
pub const RIDGE: f64 = 1e-10;

/// `f64` scratch [`fit`] needs for `n_in` inputs: the `(n_in + 1)²` matrix `AᵀA` (then its
/// Cholesky factor) and one vector of `n_in + 1` (a row of `A`, then a right-hand side, then
/// its solution). Saturates for absurd widths.
pub const fn scratch_len(n_in: usize) -> usize {
    let k = n_in.saturating_add(1);
    k.saturating_mul(k).saturating_add(k)
}

/// What the fit achieved on the samples it was fitted on.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Fit {
    /// Training MSE in the targets' original units, from the `f64` coefficients.
    pub mse: f64,
    /// Training MSE in standardised units (each output relative to its variance), the figure
    /// the stopping rules compare with.
    pub standardized_mse: f64,
    /// Samples fitted on.
    pub samples: usize,
}

/// Fits the least-squares linear model of the samples at `indices`: writes its standardisation
/// into `stats` ([`shape::scaler_len`]`([n_in, n_out])` values, fitted on those samples) and its
/// weights and biases into `params` ([`shape::param_len`]`([n_in, n_out])`). `scratch` holds
/// [`scratch_len`]`(n_in)` values.
///
/// Errors: a buffer of the wrong length, no index ([`Error::EmptySplit`]), an index out of range,
/// or a factorisation without a positive pivot ([`Error::Singular`]: sums that overflow `f64`;
/// the ridge term keeps it away otherwise).
pub fn fit(
    data: &Dataset<'_>,
    indices: &[u32],
    params: &mut [f32],
    stats: &mut [f32],
    scratch: &mut [f64],
) -> Result<Fit, Error> {
    let (n_in, n_out) = (data.n_in(), data.n_out());
    let widths = [n_in, n_out];
    expect_len(params.len(), shape::param_len(&widths))?;
    expect_len(stats.len(), shape::scaler_len(&widths))?;
    expect_len(scratch.len(), scratch_len(n_in))?;
    if indices.is_empty() {
        return Err(Error::EmptySplit {
            part: SplitPart::Train,
        });
    }
    if let Some(&index) = indices.iter().find(|&&i| i as usize >= data.len()) {
        return Err(Error::IndexOutOfRange {
            index: index as usize,
            len: data.len(),
        });
    }
    scaler::fit(stats, data, indices);
    // At least 1, which the compiler then knows: no panicking path for a zero chunk size.
    let k = at_least_one(n_in.saturating_add(1));
    let (gram, row) = scratch.split_at_mut(k.saturating_mul(k).min(scratch.len()));
    let features = Features { data, stats, n_in };
    gram.iter_mut().for_each(|v| *v = 0.0);
    for &i in indices {
        features.row(i, row);
        // The lower triangle of AᵀA, one sample at a time.
        for (a, (g, za)) in gram.chunks_exact_mut(k).zip(row.iter()).enumerate() {
            for (gb, zb) in g.iter_mut().zip(row.iter()).take(a + 1) {
                *gb += za * zb;
            }
        }
    }
    let n = indices.len() as f64;
    for (a, g) in gram.chunks_exact_mut(k).take(n_in).enumerate() {
        if let Some(d) = g.get_mut(a) {
            *d += RIDGE * n;
        }
    }
    cholesky(gram, k)?;
    let (mut sse, mut sse_std) = (0.0, 0.0);
    let (weights, biases) = params.split_at_mut(n_in.saturating_mul(n_out).min(params.len()));
    let rows = weights
        .chunks_exact_mut(at_least_one(n_in))
        .zip(biases.iter_mut());
    for (out, (w, b)) in rows.enumerate() {
        // Aᵀt for this output's standardised target, into `row`.
        row.iter_mut().for_each(|v| *v = 0.0);
        for &i in indices {
            let t = features.target(i, out);
            features.accumulate(i, t, row);
        }
        solve(gram, k, row);
        let residuals: f64 = indices
            .iter()
            .map(|&i| {
                let r = features.target(i, out) - features.predict(i, row);
                r * r
            })
            .sum();
        let (_, devs) = scaler::target_stats(features.stats, n_in, n_out);
        let dev = f64::from(devs.get(out).copied().unwrap_or(1.0));
        sse_std += residuals;
        sse += residuals * dev * dev;
        for (wj, beta) in w.iter_mut().zip(row.iter()) {
            *wj = *beta as f32;
        }
        *b = row.get(n_in).copied().unwrap_or(0.0) as f32;
    }
    let values = n * n_out as f64;
    Ok(Fit {
        mse: sse / values,
        standardized_mse: sse_std / values,
        samples: indices.len(),
    })
}

/// The samples in the fit's coordinates: standardised inputs and a 1, standardised targets,
/// computed in `f64` from the `f32` statistics the model keeps.
struct Features<'d, 's> {
    data: &'d Dataset<'d>,
    stats: &'s [f32],
    n_in: usize,
}

impl Features<'_, '_> {
    /// Row `i` of `A`: the standardised inputs of sample `i`, then 1.
    fn row(&self, i: u32, row: &mut [f64]) {
        let (means, devs) = scaler::input_stats(self.stats, self.n_in);
        let x = self.data.sample(i as usize).map_or(&[][..], |(x, _)| x);
        let columns = x.iter().zip(means).zip(devs);
        for (z, ((x, m), s)) in row.iter_mut().zip(columns) {
            *z = (f64::from(*x) - f64::from(*m)) / f64::from(*s);
        }
        if let Some(one) = row.get_mut(self.n_in) {
            *one = 1.0;
        }
    }

    /// Adds `t ×` row `i` of `A` to `rhs`.
    fn accumulate(&self, i: u32, t: f64, rhs: &mut [f64]) {
        let (means, devs) = scaler::input_stats(self.stats, self.n_in);
        let x = self.data.sample(i as usize).map_or(&[][..], |(x, _)| x);
        for (r, ((x, m), s)) in rhs.iter_mut().zip(x.iter().zip(means).zip(devs)) {
            *r += t * ((f64::from(*x) - f64::from(*m)) / f64::from(*s));
        }
        if let Some(bias) = rhs.get_mut(self.n_in) {
            *bias += t;
        }
    }

    /// Row `i` of `A` times the coefficients `beta`.
    fn predict(&self, i: u32, beta: &[f64]) -> f64 {
        let (means, devs) = scaler::input_stats(self.stats, self.n_in);
        let x = self.data.sample(i as usize).map_or(&[][..], |(x, _)| x);
        let bias = beta.get(self.n_in).copied().unwrap_or(0.0);
        let columns = x.iter().zip(means).zip(devs).zip(beta);
        columns.fold(bias, |acc, (((x, m), s), b)| {
            acc + b * ((f64::from(*x) - f64::from(*m)) / f64::from(*s))
        })
    }

    /// Standardised target `out` of sample `i`.
    fn target(&self, i: u32, out: usize) -> f64 {
        let n_out = self.data.n_out();
        let (means, devs) = scaler::target_stats(self.stats, self.n_in, n_out);
        let t = self.data.sample(i as usize).and_then(|(_, t)| t.get(out));
        let (m, s) = (means.get(out), devs.get(out));
        match (t, m, s) {
            (Some(t), Some(m), Some(s)) => (f64::from(*t) - f64::from(*m)) / f64::from(*s),
            _ => 0.0,
        }
    }
}

/// Overwrites the lower triangle of the symmetric `k × k` matrix `g` (row-major) with its
/// Cholesky factor `L`, `g = LLᵀ`. Fails if a pivot is not positive and finite.
fn cholesky(g: &mut [f64], k: usize) -> Result<(), Error> {
    for j in 0..k {
        for i in j..k {
            // g[i][j] - Σ_{p<j} L[i][p] L[j][p]
            let mut sum = at(g, k, i, j);
            for p in 0..j {
                sum -= at(g, k, i, p) * at(g, k, j, p);
            }
            let value = if i == j {
                if !(sum > 0.0 && sum.is_finite()) {
                    return Err(Error::Singular);
                }
                libm::sqrt(sum)
            } else {
                sum / at(g, k, j, j)
            };
            if let Some(v) = g.get_mut(i * k + j) {
                *v = value;
            }
        }
    }
    Ok(())
}

/// Solves `LLᵀ x = b` in place (`b` becomes `x`) with the factor from [`cholesky`]: forward
/// then back substitution.
fn solve(l: &[f64], k: usize, b: &mut [f64]) {
    for i in 0..k {
        let mut sum = b.get(i).copied().unwrap_or(0.0);
        for p in 0..i {
            sum -= at(l, k, i, p) * b.get(p).copied().unwrap_or(0.0);
        }
        if let Some(v) = b.get_mut(i) {
            *v = sum / at(l, k, i, i);
        }
    }
    for i in (0..k).rev() {
        let mut sum = b.get(i).copied().unwrap_or(0.0);
        for p in i + 1..k {
            sum -= at(l, k, p, i) * b.get(p).copied().unwrap_or(0.0);
        }
        if let Some(v) = b.get_mut(i) {
            *v = sum / at(l, k, i, i);
        }
    }
}

/// Entry `(i, j)` of a row-major `k × k` matrix (0 outside it).
fn at(m: &[f64], k: usize, i: usize, j: usize) -> f64 {
    m.get(i * k + j).copied().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Lcg, Model};
    use std::vec;
    use std::vec::Vec;

    /// Fits all `n` samples; returns the fit, the parameters and the statistics.
    fn fit_all(xs: &[f32], ys: &[f32], n_in: usize, n_out: usize) -> (Fit, Vec<f32>, Vec<f32>) {
        let data = Dataset::new(xs, ys, n_in, n_out).unwrap();
        let widths = [n_in, n_out];
        let mut params = vec![0.0; shape::param_len(&widths)];
        let mut stats = vec![0.0; shape::scaler_len(&widths)];
        let mut scratch = vec![0.0; scratch_len(n_in)];
        let all: Vec<u32> = (0..data.len() as u32).collect();
        let fit = fit(&data, &all, &mut params, &mut stats, &mut scratch).unwrap();
        (fit, params, stats)
    }

    #[test]
    fn recovers_an_exact_plane_with_two_outputs() {
        let mut rng = Lcg::new(3);
        let xs: Vec<f32> = (0..3 * 50).map(|_| rng.uniform(-5.0, 5.0)).collect();
        let ys: Vec<f32> = xs
            .chunks(3)
            .flat_map(|x| [2.0 * x[0] - x[1] + 0.5 * x[2] + 7.0, 100.0 - 3.0 * x[2]])
            .collect();
        let (fit, params, stats) = fit_all(&xs, &ys, 3, 2);
        assert!(fit.mse < 1e-10 && fit.standardized_mse < 1e-12, "{fit:?}");
        let model = Model::new(&[3, 2], &params, &stats).unwrap();
        let mut y = [0.0; 2];
        model
            .predict(&[1.0, 2.0, 3.0], &mut [0.0; 5], &mut y)
            .unwrap();
        assert!(
            (y[0] - 8.5).abs() < 1e-4 && (y[1] - 91.0).abs() < 1e-4,
            "{y:?}"
        );
    }

    #[test]
    fn noisy_line_matches_the_closed_form() {
        // One input: slope = cov(x, y) / var(x), MSE = var(y) (1 - r²).
        let mut rng = Lcg::new(11);
        let xs: Vec<f32> = (0..200).map(|_| rng.uniform(0.0, 10.0)).collect();
        let ys: Vec<f32> = xs
            .iter()
            .map(|x| 1.5 * x + rng.uniform(-2.0, 2.0))
            .collect();
        let (fit, _, _) = fit_all(&xs, &ys, 1, 1);
        let n = xs.len() as f64;
        let mean = |v: &[f32]| v.iter().map(|&a| f64::from(a)).sum::<f64>() / n;
        let (mx, my) = (mean(&xs), mean(&ys));
        let cov = xs
            .iter()
            .zip(&ys)
            .map(|(&x, &y)| (f64::from(x) - mx) * (f64::from(y) - my));
        let cov = cov.sum::<f64>() / n;
        let var =
            |v: &[f32], m: f64| v.iter().map(|&a| (f64::from(a) - m).powi(2)).sum::<f64>() / n;
        let expected = var(&ys, my) - cov * cov / var(&xs, mx);
        assert!(
            (fit.mse / expected - 1.0).abs() < 1e-9,
            "{} vs {expected}",
            fit.mse
        );
    }

    #[test]
    fn repeated_and_constant_columns_still_fit() {
        // x, x again, and a constant: rank 1 plus the bias.
        let xs: Vec<f32> = (0..20).flat_map(|i| [i as f32, i as f32, 4.0]).collect();
        let ys: Vec<f32> = (0..20).map(|i| 2.0 * i as f32 + 1.0).collect();
        let (fit, params, _) = fit_all(&xs, &ys, 3, 1);
        assert!(fit.mse < 1e-8, "{fit:?}");
        assert!(
            (params[0] - params[1]).abs() < 1e-6,
            "shared evenly: {params:?}"
        );
        assert_eq!(params[2], 0.0, "a constant column gets no weight");
    }

    #[test]
    fn constant_and_huge_targets_give_finite_figures() {
        let xs: Vec<f32> = (0..10).map(|i| i as f32).collect();
        let (fit, _, _) = fit_all(&xs, &[1e30; 10], 1, 1);
        assert_eq!((fit.mse, fit.standardized_mse), (0.0, 0.0));
        let ys: Vec<f32> = xs.iter().map(|x| x * 1e19).collect();
        let (fit, _, _) = fit_all(&xs, &ys, 1, 1);
        assert!(fit.mse.is_finite() && fit.mse < 1e26, "{fit:?}");
    }

    #[test]
    fn bad_arguments_are_errors() {
        let data = Dataset::new(&[1.0, 2.0], &[1.0, 2.0], 1, 1).unwrap();
        let (mut p, mut s, mut scratch) = ([0.0; 2], [0.0; 4], [0.0; 6]);
        assert_eq!(
            fit(&data, &[], &mut p, &mut s, &mut scratch),
            Err(Error::EmptySplit {
                part: SplitPart::Train
            })
        );
        assert_eq!(
            fit(&data, &[0, 2], &mut p, &mut s, &mut scratch),
            Err(Error::IndexOutOfRange { index: 2, len: 2 })
        );
        assert!(fit(&data, &[0, 1], &mut p, &mut s, &mut scratch[..5]).is_err());
        assert!(fit(&data, &[0, 1], &mut p[..1], &mut s, &mut scratch).is_err());
    }
}
