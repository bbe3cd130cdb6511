//! The linear baseline of classification: multinomial logistic regression — the linear softmax
//! model, widths `[n_in, classes]` — trained to convergence on the training samples ("start
//! simple"), on the device as on the host.
//!
//! [`fit`] minimises, full batch, the mean cross-entropy plus scikit-learn's default L2 penalty
//! (`LogisticRegression(C=1)`):
//!
//! ```text
//! J(W, b) = (1/n) Σ_i w_{c_i} [ln Σ_k exp(z_ik) − z_{i c_i}] + ‖W‖² / (2n),   z_i = W x̃_i + b
//! ```
//!
//! over the standardised inputs `x̃` (statistics fitted on the same samples, as
//! [`crate::scaler::fit`]), with class weights `w` (1 without). The penalty spares the biases,
//! and keeps the minimum finite when the classes are linearly separable (without it the weights
//! would grow for ever); it fades as `n` grows. `J` is strictly convex in `W` and convex in
//! `b`: its minimum is the best linear classifier, which any network must beat.
//!
//! The minimiser is L-BFGS (Nocedal & Wright, *Numerical Optimization*, 2nd ed., 2006:
//! algorithm 7.4, the two-loop recursion, with the last [`MEMORY`] steps and the initial
//! scaling of eq. 7.20) with a backtracking line search on the Armijo condition (algorithm 3.1,
//! `c₁ = 1e-4`). It stops, converged, once every component of the gradient of `J` is at most
//! [`TOLERANCE`] in magnitude; after [`MAX_ITERATIONS`] iterations, or when no step along the
//! search direction lowers `J` in `f64` any more, it stops unconverged and says so
//! ([`Fit::converged`]).
//!
//! Every sum runs in `f64`, in sample order, with `exp` and `ln` from the `libm` crate: the
//! host and the device get the same bits. No heap: the caller provides [`scratch_len`] `f64`
//! values. The result is a [`crate::Model`] of widths `[n_in, classes]`: parameters in the
//! layout of a dense layer, rounded to `f32` once, and the standardisation that goes with them.
//!
//! ```
//! use tinytrain_core::{logistic, shape, Dataset};
//! // Class 1 above the line x₀ + x₁ = 1, class 0 below, on a 6 × 6 grid.
//! let xs: Vec<f32> = (0..36).flat_map(|i| [(i % 6) as f32 / 5.0, (i / 6) as f32 / 5.0]).collect();
//! let labels: Vec<u16> = xs.chunks(2).map(|x| u16::from(x[0] + x[1] > 1.0)).collect();
//! let data = Dataset::classes(&xs, &labels, 2, 2)?;
//! const WIDTHS: [usize; 2] = [2, 2];
//! let mut params = [0.0; shape::param_len(&WIDTHS)];
//! let mut stats = [0.0; shape::scaler_len(&WIDTHS)];
//! let mut scratch = [0.0; logistic::scratch_len(2, 2)];
//! let all: Vec<u32> = (0..36).collect();
//! let fit = logistic::fit(&data, &all, &[], &mut params, &mut stats, &mut scratch)?;
//! assert!(fit.converged && fit.gradient <= logistic::TOLERANCE);
//! assert!(fit.cross_entropy < 0.2, "{fit:?}");
//! # Ok::<(), tinytrain_core::Error>(())
//! ```

use crate::slices::{expect_len, expect_width};
use crate::{scaler, shape, Dataset, Error, SplitPart};

/// Steps L-BFGS remembers to model the curvature: Nocedal & Wright's advice, 3 to 20; 8 keeps the
/// scratch small on a microcontroller.
pub const MEMORY: usize = 8;

/// Converged: every component of the objective's gradient is at most this, in nats per unit
/// of a standardised input's weight. At `1e-6` the mean cross-entropy is within about `1e-12`
/// of its minimum on a well-conditioned problem — far below any difference a report shows.
pub const TOLERANCE: f64 = 1e-6;

/// Iterations before L-BFGS stops unconverged. Problems of tens of inputs and classes converge
/// in well under 1000.
pub const MAX_ITERATIONS: u32 = 1000;

/// The Armijo condition's constant `c₁`: a step must lower `J` by at least this fraction of
/// what the gradient promises.
const ARMIJO: f64 = 1e-4;

/// Halvings of the step before the line search gives up.
const MAX_HALVINGS: u32 = 60;

/// Parameters of the linear softmax model of `n_in` inputs and `classes` classes.
const fn param_count(n_in: usize, classes: usize) -> usize {
    n_in.saturating_add(1).saturating_mul(classes)
}

/// `f64` scratch [`fit`] needs: five vectors of the model's `P = (n_in + 1) × classes`
/// parameters (the parameters, their gradient, the search direction, the trial point and its
/// gradient), `2 × MEMORY` more for the remembered steps and gradient changes, `2 × MEMORY`
/// scalars, and one sample's standardised inputs and logits. Saturates for absurd sizes.
pub const fn scratch_len(n_in: usize, classes: usize) -> usize {
    let p = param_count(n_in, classes);
    p.saturating_mul(5 + 2 * MEMORY)
        .saturating_add(2 * MEMORY)
        .saturating_add(n_in)
        .saturating_add(classes)
}

/// What the fit achieved on the samples it was fitted on.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Fit {
    /// The objective `J` at the end: weighted mean cross-entropy plus the penalty.
    pub objective: f64,
    /// Mean cross-entropy in nats of the training samples (unweighted, without the penalty),
    /// from the `f64` parameters.
    pub cross_entropy: f64,
    /// The largest magnitude of a component of the gradient of `J` at the end.
    pub gradient: f64,
    /// L-BFGS iterations run.
    pub iterations: u32,
    /// The gradient came down to [`TOLERANCE`].
    pub converged: bool,
    /// Samples fitted on.
    pub samples: usize,
}

/// Fits the linear softmax model of the samples at `indices`: writes its standardisation into
/// `stats` ([`shape::scaler_len`]`([n_in, classes])` values, fitted on those samples) and its
/// weights and biases into `params` ([`shape::param_len`]`([n_in, classes])`). `class_weights`
/// holds one weight per class, or none for 1 each (finite and at least 0). `scratch` holds
/// [`scratch_len`]`(n_in, classes)` values.
///
/// Errors: a buffer of the wrong length ([`Error::BufferSize`]), class weights of the wrong
/// count ([`Error::WidthMismatch`]) or value ([`Error::InvalidHyperparameter`]), no index
/// ([`Error::EmptySplit`]), an index out of range ([`Error::IndexOutOfRange`]).
pub fn fit(
    data: &Dataset<'_, u16>,
    indices: &[u32],
    class_weights: &[f32],
    params: &mut [f32],
    stats: &mut [f32],
    scratch: &mut [f64],
) -> Result<Fit, Error> {
    let (n_in, classes) = (data.n_in(), data.n_classes());
    let widths = [n_in, classes];
    expect_len(params.len(), shape::param_len(&widths))?;
    expect_len(stats.len(), shape::scaler_len(&widths))?;
    expect_len(scratch.len(), scratch_len(n_in, classes))?;
    if !class_weights.is_empty() {
        expect_width(class_weights.len(), classes)?;
        if class_weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err(Error::InvalidHyperparameter {
                name: "class_weights",
            });
        }
    }
    if indices.is_empty() {
        return Err(Error::EmptySplit {
            part: SplitPart::Train,
        });
    }
    if let Some(&i) = indices.iter().find(|&&i| i as usize >= data.len()) {
        return Err(Error::IndexOutOfRange {
            index: i as usize,
            len: data.len(),
        });
    }
    scaler::fit(stats, data, indices);
    let p = param_count(n_in, classes);
    let problem = Problem {
        data,
        indices,
        class_weights,
        stats,
        n_in,
        classes,
    };
    // The scratch's length was checked: no part comes up short.
    let (theta, rest) = carve(scratch, p)?;
    let (grad, rest) = carve(rest, p)?;
    let (dir, rest) = carve(rest, p)?;
    let (trial, rest) = carve(rest, p)?;
    let (trial_grad, rest) = carve(rest, p)?;
    let (steps, rest) = carve(rest, p * MEMORY)?;
    let (changes, rest) = carve(rest, p * MEMORY)?;
    let (rho, rest) = carve(rest, MEMORY)?;
    let (alpha, work) = carve(rest, MEMORY)?;
    let mut memory = Memory {
        steps,
        changes,
        rho,
        alpha,
        p,
        len: 0,
        newest: 0,
    };

    theta.iter_mut().for_each(|v| *v = 0.0);
    let mut objective = problem.evaluate(theta, grad, work);
    let mut iterations = 0;
    let mut converged = max_abs(grad) <= TOLERANCE;
    while !converged && iterations < MAX_ITERATIONS {
        iterations += 1;
        memory.direction(grad, dir);
        let mut slope = dot(grad, dir);
        let descends = slope < 0.0;
        if !descends {
            // Not a descent direction (rounding in the curvature pairs): start again from
            // steepest descent.
            memory.len = 0;
            memory.direction(grad, dir);
            slope = dot(grad, dir);
        }
        // Without curvature pairs the direction is the gradient itself; its first trial step
        // moves the parameters by a distance of 1.
        let mut step = if memory.len == 0 {
            1.0 / libm::sqrt(dot(grad, grad)).max(1.0)
        } else {
            1.0
        };
        let mut accepted = None;
        for _ in 0..MAX_HALVINGS {
            for ((t, th), d) in trial.iter_mut().zip(theta.iter()).zip(dir.iter()) {
                *t = th + step * d;
            }
            let value = problem.evaluate(trial, trial_grad, work);
            if value <= objective + ARMIJO * step * slope {
                accepted = Some(value);
                break;
            }
            step *= 0.5;
        }
        let Some(value) = accepted else {
            break; // no step lowers J in f64: as close as the arithmetic gets
        };
        memory.remember(theta, trial, grad, trial_grad);
        copy(theta, trial);
        copy(grad, trial_grad);
        objective = value;
        converged = max_abs(grad) <= TOLERANCE;
    }
    for (out, v) in params.iter_mut().zip(theta.iter()) {
        *out = *v as f32;
    }
    Ok(Fit {
        objective,
        cross_entropy: problem.cross_entropy(theta, work),
        gradient: max_abs(grad),
        iterations,
        converged,
        samples: indices.len(),
    })
}

/// The data the objective is evaluated on.
struct Problem<'p, 'd> {
    data: &'p Dataset<'d, u16>,
    indices: &'p [u32],
    class_weights: &'p [f32],
    stats: &'p [f32],
    n_in: usize,
    classes: usize,
}

impl Problem<'_, '_> {
    /// `J(θ)`, and its gradient into `grad`; `work` holds a sample's inputs and logits.
    fn evaluate(&self, theta: &[f64], grad: &mut [f64], work: &mut [f64]) -> f64 {
        grad.iter_mut().for_each(|g| *g = 0.0);
        let n = self.indices.len().max(1) as f64;
        let mut loss = 0.0;
        let (x, z) = work.split_at_mut(self.n_in.min(work.len()));
        let (gw, gb) = grad.split_at_mut((self.n_in * self.classes).min(grad.len()));
        for &i in self.indices {
            let Some(class) = self.sample(i, theta, x, z) else {
                continue;
            };
            let weight = self.class_weights.get(class).map_or(1.0, |w| f64::from(*w));
            let (max, sum) = shifted_sum(z);
            loss += weight * (libm::log(sum) - (z.get(class).copied().unwrap_or(0.0) - max));
            // ∂/∂z_k = w (p_k − t_k)
            let rows = gw.chunks_exact_mut(crate::slices::at_least_one(self.n_in));
            for (k, ((row, b), zk)) in rows.zip(gb.iter_mut()).zip(z.iter()).enumerate() {
                let target = if k == class { 1.0 } else { 0.0 };
                let d = weight * (libm::exp(zk - max) / sum - target);
                for (g, xj) in row.iter_mut().zip(x.iter()) {
                    *g += d * xj;
                }
                *b += d;
            }
        }
        let lambda = 1.0 / n;
        let (w, _) = theta.split_at((self.n_in * self.classes).min(theta.len()));
        let mut penalty = 0.0;
        for (g, wj) in gw.iter_mut().zip(w) {
            *g = *g / n + lambda * wj;
            penalty += wj * wj;
        }
        for g in gb.iter_mut() {
            *g /= n;
        }
        loss / n + 0.5 * lambda * penalty
    }

    /// The unweighted mean cross-entropy at `theta`.
    fn cross_entropy(&self, theta: &[f64], work: &mut [f64]) -> f64 {
        let (x, z) = work.split_at_mut(self.n_in.min(work.len()));
        let mut loss = 0.0;
        for &i in self.indices {
            if let Some(class) = self.sample(i, theta, x, z) {
                let (max, sum) = shifted_sum(z);
                loss += libm::log(sum) - (z.get(class).copied().unwrap_or(0.0) - max);
            }
        }
        loss / self.indices.len().max(1) as f64
    }

    /// Sample `i`'s standardised inputs into `x` and logits into `z`; its class.
    fn sample(&self, i: u32, theta: &[f64], x: &mut [f64], z: &mut [f64]) -> Option<usize> {
        let (inputs, class) = self.data.sample(i as usize)?;
        let (means, devs) = scaler::input_stats(self.stats, self.n_in);
        for (((v, raw), m), s) in x.iter_mut().zip(inputs).zip(means).zip(devs) {
            *v = (f64::from(*raw) - f64::from(*m)) / f64::from(*s);
        }
        let (w, b) = theta.split_at((self.n_in * self.classes).min(theta.len()));
        let rows = w.chunks_exact(crate::slices::at_least_one(self.n_in));
        for ((zk, row), bk) in z.iter_mut().zip(rows).zip(b) {
            *zk = row
                .iter()
                .zip(x.iter())
                .fold(*bk, |acc, (wj, xj)| acc + wj * xj);
        }
        Some(usize::from(class))
    }
}

/// The L-BFGS memory: the last steps `s = θ₊ − θ` and gradient changes `y = g₊ − g`, in rings of
/// [`MEMORY`] vectors of `p` values.
struct Memory<'m> {
    steps: &'m mut [f64],
    changes: &'m mut [f64],
    rho: &'m mut [f64],
    alpha: &'m mut [f64],
    p: usize,
    len: usize,
    /// Where the newest pair is.
    newest: usize,
}

impl Memory<'_> {
    /// Ring slot of the `age`th newest pair (0: the newest).
    fn slot(&self, age: usize) -> usize {
        (self.newest + MEMORY - age % MEMORY) % MEMORY
    }

    fn pair(&self, slot: usize) -> (&[f64], &[f64]) {
        let at = slot * self.p;
        let s = self.steps.get(at..at + self.p).unwrap_or(&[]);
        let y = self.changes.get(at..at + self.p).unwrap_or(&[]);
        (s, y)
    }

    /// `dir = −H g` by the two-loop recursion (algorithm 7.4), `H₀ = γ I` with
    /// `γ = sᵀy / yᵀy` of the newest pair (eq. 7.20); `dir = −g` without pairs.
    fn direction(&mut self, grad: &[f64], dir: &mut [f64]) {
        for (d, g) in dir.iter_mut().zip(grad) {
            *d = *g;
        }
        for age in 0..self.len {
            let slot = self.slot(age);
            let (s, y) = self.pair(slot);
            let rho = self.rho.get(slot).copied().unwrap_or(0.0);
            let a = rho * dot(s, dir);
            axpy(-a, y, dir);
            if let Some(v) = self.alpha.get_mut(slot) {
                *v = a;
            }
        }
        if self.len > 0 {
            let (s, y) = self.pair(self.slot(0));
            let gamma = dot(s, y) / dot(y, y);
            dir.iter_mut().for_each(|d| *d *= gamma);
        }
        for age in (0..self.len).rev() {
            let slot = self.slot(age);
            let (s, y) = self.pair(slot);
            let rho = self.rho.get(slot).copied().unwrap_or(0.0);
            let b = rho * dot(y, dir);
            let a = self.alpha.get(slot).copied().unwrap_or(0.0);
            axpy(a - b, s, dir);
        }
        dir.iter_mut().for_each(|d| *d = -*d);
    }

    /// Keeps the pair of a step from `theta` to `next`, unless its curvature `sᵀy` is not
    /// clearly positive (it would break the update's positive definiteness).
    fn remember(&mut self, theta: &[f64], next: &[f64], grad: &[f64], next_grad: &[f64]) {
        let slot = if self.len == 0 {
            0
        } else {
            (self.newest + 1) % MEMORY
        };
        let at = slot * self.p;
        let (Some(s), Some(y)) = (
            self.steps.get_mut(at..at + self.p),
            self.changes.get_mut(at..at + self.p),
        ) else {
            return;
        };
        for (((s, y), (a, b)), (ga, gb)) in s
            .iter_mut()
            .zip(y.iter_mut())
            .zip(theta.iter().zip(next))
            .zip(grad.iter().zip(next_grad))
        {
            *s = b - a;
            *y = gb - ga;
        }
        let sy = dot(s, y);
        let curved = sy > 1e-12 * libm::sqrt(dot(s, s) * dot(y, y));
        if !curved {
            return;
        }
        if let Some(r) = self.rho.get_mut(slot) {
            *r = 1.0 / sy;
        }
        self.newest = slot;
        self.len = (self.len + 1).min(MEMORY);
    }
}

/// The first `n` values of `rest`, and the others.
fn carve(rest: &mut [f64], n: usize) -> Result<(&mut [f64], &mut [f64]), Error> {
    let found = rest.len();
    rest.split_at_mut_checked(n)
        .ok_or(Error::BufferSize { needed: n, found })
}

fn copy(dst: &mut [f64], src: &[f64]) {
    dst.iter_mut().zip(src).for_each(|(d, s)| *d = *s);
}

/// The largest logit and `Σ exp(z − max)`, in `f64`.
fn shifted_sum(z: &[f64]) -> (f64, f64) {
    let max = z.iter().fold(f64::NEG_INFINITY, |m, v| m.max(*v));
    let sum = z.iter().fold(0.0, |s, v| s + libm::exp(v - max));
    (max, sum)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).fold(0.0, |acc, (x, y)| acc + x * y)
}

/// `y += a x`.
fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m: f64, x| m.max(x.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Lcg, Model};
    use std::vec;
    use std::vec::Vec;

    /// Three Gaussian blobs in two dimensions, `n` samples each.
    fn blobs(n: usize, spread: f32, seed: u64) -> (Vec<f32>, Vec<u16>) {
        let mut rng = Lcg::new(seed);
        let centres = [(0.0, 2.0), (-2.0, -1.0), (2.0, -1.0)];
        let mut xs = Vec::new();
        let mut labels = Vec::new();
        for i in 0..3 * n {
            let (cx, cy) = centres[i % 3];
            let g = |rng: &mut Lcg| (0..12).map(|_| rng.next_f32()).sum::<f32>() - 6.0;
            xs.push(cx + spread * g(&mut rng));
            xs.push(cy + spread * g(&mut rng));
            labels.push((i % 3) as u16);
        }
        (xs, labels)
    }

    fn fit_all(xs: &[f32], labels: &[u16], weights: &[f32]) -> (Fit, Vec<f32>, Vec<f32>) {
        let data = Dataset::classes(xs, labels, 2, 3).unwrap();
        let widths = [2, 3];
        let mut params = vec![0.0; shape::param_len(&widths)];
        let mut stats = vec![0.0; shape::scaler_len(&widths)];
        let mut scratch = vec![0.0; scratch_len(2, 3)];
        let all: Vec<u32> = (0..labels.len() as u32).collect();
        let fit = fit(&data, &all, weights, &mut params, &mut stats, &mut scratch).unwrap();
        (fit, params, stats)
    }

    #[test]
    fn converges_to_the_stationary_point() {
        let (xs, labels) = blobs(40, 1.2, 3);
        let (fit, params, stats) = fit_all(&xs, &labels, &[]);
        assert!(fit.converged, "{fit:?}");
        assert!(fit.iterations < 100, "{fit:?}");
        // At the minimum, a finite-difference step of any parameter raises J.
        let data = Dataset::classes(&xs, &labels, 2, 3).unwrap();
        let all: Vec<u32> = (0..labels.len() as u32).collect();
        let problem = Problem {
            data: &data,
            indices: &all,
            class_weights: &[],
            stats: &stats,
            n_in: 2,
            classes: 3,
        };
        let mut scratch = vec![0.0; 5];
        let mut grad = vec![0.0; 9];
        let theta: Vec<f64> = params.iter().map(|v| f64::from(*v)).collect();
        let at = problem.evaluate(&theta, &mut grad, &mut scratch);
        assert!((at - fit.objective).abs() < 1e-9);
        for k in 0..9 {
            for h in [-1e-3, 1e-3] {
                let mut moved = theta.clone();
                moved[k] += h;
                assert!(problem.evaluate(&moved, &mut grad, &mut scratch) > at);
            }
        }
        // Separable enough: far better than the prior's ln 3.
        assert!(fit.cross_entropy < 0.5, "{fit:?}");
        let model = Model::new(&[2, 3], &params, &stats).unwrap();
        let mut y = [0.0; 3];
        model.predict(&[0.0, 2.0], &mut [0.0; 5], &mut y).unwrap();
        assert_eq!(crate::softmax::argmax(&y), Some(0));
    }

    #[test]
    fn the_gradient_is_the_derivative() {
        let (xs, labels) = blobs(5, 1.0, 9);
        let data = Dataset::classes(&xs, &labels, 2, 3).unwrap();
        let all: Vec<u32> = (0..15).collect();
        let mut stats = vec![0.0; 10];
        scaler::fit(&mut stats, &data, &all);
        let weights = [0.5, 2.0, 1.0];
        let problem = Problem {
            data: &data,
            indices: &all,
            class_weights: &weights,
            stats: &stats,
            n_in: 2,
            classes: 3,
        };
        let theta: Vec<f64> = (0..9).map(|k| (k as f64 * 0.7).sin()).collect();
        let (mut grad, mut other) = (vec![0.0; 9], vec![0.0; 9]);
        let mut work = vec![0.0; 5];
        problem.evaluate(&theta, &mut grad, &mut work);
        for k in 0..9 {
            let (mut up, mut down) = (theta.clone(), theta.clone());
            up[k] += 1e-6;
            down[k] -= 1e-6;
            let numeric = (problem.evaluate(&up, &mut other, &mut work)
                - problem.evaluate(&down, &mut other, &mut work))
                / 2e-6;
            assert!(
                (numeric - grad[k]).abs() < 1e-7,
                "{k}: {numeric} vs {}",
                grad[k]
            );
        }
    }

    #[test]
    fn separable_classes_keep_finite_weights() {
        let (xs, labels) = blobs(20, 0.1, 4);
        let (fit, params, _) = fit_all(&xs, &labels, &[]);
        assert!(fit.converged, "{fit:?}");
        assert!(
            params.iter().all(|p| p.is_finite() && p.abs() < 100.0),
            "{params:?}"
        );
    }

    #[test]
    fn class_weights_move_the_boundary_toward_the_light_class() {
        let (xs, labels) = blobs(30, 1.5, 5);
        let (_, plain, stats) = fit_all(&xs, &labels, &[]);
        let (fit, heavy, _) = fit_all(&xs, &labels, &[1.0, 5.0, 1.0]);
        assert!(fit.converged);
        let count = |params: &[f32]| {
            let model = Model::new(&[2, 3], params, &stats).unwrap();
            xs.chunks(2)
                .filter(|x| {
                    let mut y = [0.0; 3];
                    model.predict(x, &mut [0.0; 5], &mut y).unwrap();
                    crate::softmax::argmax(&y) == Some(1)
                })
                .count()
        };
        assert!(count(&heavy) > count(&plain));
    }

    #[test]
    fn bad_arguments_are_errors() {
        let (xs, labels) = blobs(2, 1.0, 1);
        let data = Dataset::classes(&xs, &labels, 2, 3).unwrap();
        let (mut params, mut stats) = (vec![0.0; 9], vec![0.0; 10]);
        let mut scratch = vec![0.0; scratch_len(2, 3)];
        let mut run = |indices: &[u32], weights: &[f32], scratch: &mut [f64]| {
            fit(&data, indices, weights, &mut params, &mut stats, scratch).map(|_| ())
        };
        assert_eq!(
            run(&[], &[], &mut scratch),
            Err(Error::EmptySplit {
                part: SplitPart::Train
            })
        );
        assert_eq!(
            run(&[0, 6], &[], &mut scratch),
            Err(Error::IndexOutOfRange { index: 6, len: 6 })
        );
        assert!(matches!(
            run(&[0], &[1.0, 1.0], &mut scratch),
            Err(Error::WidthMismatch { .. })
        ));
        assert!(matches!(
            run(&[0], &[1.0, f32::NAN, 1.0], &mut scratch),
            Err(Error::InvalidHyperparameter { .. })
        ));
        assert!(matches!(
            run(&[0], &[], &mut scratch[1..]),
            Err(Error::BufferSize { .. })
        ));
    }
}
