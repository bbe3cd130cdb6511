//! The softmax of a network's outputs (its *logits*) and the cross-entropy of a class under it:
//! the arithmetic of classification, each forward next to its derivative.
//!
//! For logits `z₁ … z_K`, the softmax is `p_k = exp(z_k) / Σ_j exp(z_j)` and the cross-entropy
//! of a target distribution `t` is `−Σ_k t_k ln p_k`; for a class `c` (the one-hot `t`) it is
//! `−ln p_c = ln Σ_j exp(z_j) − z_c`. Its gradient with respect to the logits is `p − t`
//! (Bishop, *Pattern Recognition and Machine Learning*, 2006, eq. 4.109).
//!
//! Every sum of exponentials subtracts the largest logit first — `ln Σ exp(z_j) = m + ln Σ
//! exp(z_j − m)` with `m = max z` — so each term is at most 1, the sum lies in `[1, K]`, and the
//! log-sum-exp is finite for any finite logits (no `exp` overflows, the logarithm never sees
//! 0). `exp` and `ln` come from the `libm` crate on every platform, so the host and a
//! microcontroller compute the same bits.

/// The largest of `logits` and `Σ exp(z − max)` over them: the two halves of a stable
/// log-sum-exp. `(−∞, 0)` for no logits.
///
/// ```
/// use tinytrain_core::softmax::shifted_sum;
/// assert_eq!(shifted_sum(&[0.0, 0.0]), (0.0, 2.0));
/// // Huge logits do not overflow: exp(1000) would.
/// assert_eq!(shifted_sum(&[1000.0, 1000.0]), (1000.0, 2.0));
/// ```
#[inline]
pub fn shifted_sum(logits: &[f32]) -> (f32, f32) {
    let max = logits.iter().fold(f32::NEG_INFINITY, |m, z| m.max(*z));
    let sum = logits.iter().fold(0.0, |s, z| s + libm::expf(z - max));
    (max, sum)
}

/// `ln Σ exp(z_k)`, with the largest logit subtracted first: finite for any finite logits.
/// `−∞` for no logits (the sum of no terms is 0).
///
/// ```
/// use tinytrain_core::softmax::log_sum_exp;
/// assert!((log_sum_exp(&[0.0, 0.0]) - 2f32.ln()).abs() < 1e-7);
/// assert_eq!(log_sum_exp(&[f32::MAX, f32::MAX]), f32::MAX); // + ln 2, rounded away
/// assert_eq!(log_sum_exp(&[f32::MIN, 0.0]), 0.0);
/// ```
pub fn log_sum_exp(logits: &[f32]) -> f32 {
    let (max, sum) = shifted_sum(logits);
    max + libm::logf(sum)
}

/// Writes the softmax of `logits` into `probs` (as many as both hold): every probability in
/// `[0, 1]`, their sum 1 up to rounding, for any finite logits.
///
/// ```
/// use tinytrain_core::softmax::softmax;
/// let mut p = [0.0; 3];
/// softmax(&[1.0, 1.0, 1.0], &mut p);
/// assert_eq!(p, [1.0 / 3.0; 3]);
/// softmax(&[0.0, 200.0, 0.0], &mut p);
/// assert_eq!(p, [0.0, 1.0, 0.0]);
/// ```
pub fn softmax(logits: &[f32], probs: &mut [f32]) {
    let (max, sum) = shifted_sum(logits);
    for (p, z) in probs.iter_mut().zip(logits) {
        *p = libm::expf(z - max) / sum;
    }
}

/// The softmax of `values`, written over them.
pub fn softmax_in_place(values: &mut [f32]) {
    let (max, sum) = shifted_sum(values);
    for v in values.iter_mut() {
        *v = libm::expf(*v - max) / sum;
    }
}

/// The cross-entropy of class `class` under the softmax of `logits`, in nats:
/// `−ln p_class = ln Σ exp(z_j − m) − (z_class − m)`. At least 0; `f32::INFINITY` when `class`
/// is not below the number of logits (no probability at all), or when the logits are so far
/// apart (more than `f32::MAX`) that the loss is beyond `f32`.
///
/// ```
/// use tinytrain_core::softmax::cross_entropy;
/// // Two classes equally likely: ln 2.
/// assert!((cross_entropy(&[3.0, 3.0], 0) - 2f32.ln()).abs() < 1e-7);
/// // Sure and right costs nothing; sure and wrong costs the logits' gap.
/// assert_eq!(cross_entropy(&[0.0, 200.0], 1), 0.0);
/// assert_eq!(cross_entropy(&[0.0, 200.0], 0), 200.0);
/// ```
pub fn cross_entropy(logits: &[f32], class: usize) -> f32 {
    let (max, sum) = shifted_sum(logits);
    match logits.get(class) {
        Some(z) => class_loss(max, sum, *z),
        None => f32::INFINITY,
    }
}

/// `ln sum − (z − max)`: the cross-entropy of the class whose logit is `z`, from
/// [`shifted_sum`]'s two halves. The one formula of every cross-entropy in the crate.
#[inline(always)]
pub(crate) fn class_loss(max: f32, sum: f32, z: f32) -> f32 {
    libm::logf(sum) - (z - max)
}

/// Writes `∂ cross_entropy / ∂ logits = p − t` for class `class` into `grad` (as many as both
/// hold): the softmax, minus 1 at the class.
///
/// ```
/// use tinytrain_core::softmax::cross_entropy_gradient;
/// let mut g = [0.0; 2];
/// cross_entropy_gradient(&[0.0, 0.0], 1, &mut g);
/// assert_eq!(g, [0.5, -0.5]);
/// ```
pub fn cross_entropy_gradient(logits: &[f32], class: usize, grad: &mut [f32]) {
    softmax(logits, grad);
    if let Some(g) = grad.get_mut(class) {
        *g -= 1.0;
    }
}

/// The class with the largest logit (the most probable one); the lowest index among equals.
/// `None` for no logits, or when a logit is NaN.
///
/// ```
/// use tinytrain_core::softmax::argmax;
/// assert_eq!(argmax(&[0.5, 2.0, 2.0, -1.0]), Some(1));
/// assert_eq!(argmax(&[]), None);
/// ```
pub fn argmax(logits: &[f32]) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (k, z) in logits.iter().enumerate() {
        if z.is_nan() {
            return None;
        }
        match best {
            Some((_, b)) if *z <= b => {}
            _ => best = Some((k, *z)),
        }
    }
    best.map(|(k, _)| k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_gradient_is_the_derivative() {
        let z = [0.3f32, -1.2, 2.0, 0.0];
        for class in 0..4 {
            let mut g = [0.0; 4];
            cross_entropy_gradient(&z, class, &mut g);
            for k in 0..4 {
                let (mut up, mut down) = (z, z);
                up[k] += 1e-2;
                down[k] -= 1e-2;
                let numeric = (cross_entropy(&up, class) - cross_entropy(&down, class)) / 2e-2;
                assert!((numeric - g[k]).abs() < 1e-3, "{numeric} vs {}", g[k]);
            }
        }
    }

    #[test]
    fn a_class_out_of_range_has_no_probability() {
        assert_eq!(cross_entropy(&[1.0, 2.0], 2), f32::INFINITY);
        let mut g = [0.0; 2];
        cross_entropy_gradient(&[0.0, 0.0], 7, &mut g);
        assert_eq!(g, [0.5, 0.5]);
        assert_eq!(log_sum_exp(&[]), f32::NEG_INFINITY);
        assert_eq!(argmax(&[1.0, f32::NAN]), None);
    }

    proptest! {
        /// Any finite logits: a finite log-sum-exp at least the largest logit, probabilities in
        /// [0, 1] adding up to 1, a loss at least 0 and finite while the logits' range is.
        #[test]
        fn finite_for_any_finite_logits(
            logits in proptest::collection::vec(-3.0e38f32..3.0e38, 1..12),
            class in 0usize..12,
        ) {
            let lse = log_sum_exp(&logits);
            let max = logits.iter().fold(f32::MIN, |m, z| m.max(*z));
            prop_assert!(lse.is_finite() && lse >= max);
            let mut p = [0.0f32; 12];
            softmax(&logits, &mut p);
            let p = &p[..logits.len()];
            prop_assert!(p.iter().all(|p| (0.0..=1.0).contains(p)));
            let total: f32 = p.iter().sum();
            prop_assert!((total - 1.0).abs() < 1e-5, "{total}");
            let class = class % logits.len();
            let ce = cross_entropy(&logits, class);
            prop_assert!(ce >= 0.0);
            let range = f64::from(max) - f64::from(logits[class]);
            if range < f64::from(f32::MAX) / 2.0 {
                prop_assert!(ce.is_finite());
            }
            let mut g = [0.0f32; 12];
            cross_entropy_gradient(&logits, class, &mut g);
            prop_assert!(g.iter().all(|g| g.is_finite() && (-1.0..=1.0).contains(g)));
        }

        /// The loss is `−ln p_class` of the softmax, to f32 rounding, where p is not tiny.
        #[test]
        fn the_loss_is_minus_the_log_probability(
            logits in proptest::collection::vec(-20.0f32..20.0, 2..8),
            class in 0usize..8,
        ) {
            let class = class % logits.len();
            let mut p = [0.0f32; 8];
            softmax(&logits, &mut p);
            let direct = -f64::from(p[class]).ln();
            let ce = f64::from(cross_entropy(&logits, class));
            prop_assert!((ce - direct).abs() <= 1e-5 * (1.0 + direct), "{ce} vs {direct}");
        }
    }
}
