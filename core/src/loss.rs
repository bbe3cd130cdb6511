//! Step 1, "what is good": the mean squared error and its gradient.
//!
//! For predictions `y` and targets `t` of `n` outputs, `MSE = (1/n) Σ (y - t)²`; over a batch or
//! a data set the mean runs over samples too. Its gradient for one sample is `2 (y - t) / n`.

/// Mean squared error of one sample.
///
/// ```
/// use tinytrain_core::loss::mse;
/// assert_eq!(mse(&[1.0, 3.0], &[0.0, 1.0]), 2.5);
/// ```
pub fn mse(prediction: &[f32], target: &[f32]) -> f32 {
    let n = prediction.len().min(target.len()).max(1) as f32;
    squared_error(prediction, target) / n
}

/// `Σ (y - t)²` of one sample.
pub fn squared_error(prediction: &[f32], target: &[f32]) -> f32 {
    prediction
        .iter()
        .zip(target)
        .fold(0.0, |acc, (y, t)| acc + (y - t) * (y - t))
}

/// Writes ∂MSE/∂y of one sample, `2 (y - t) / n`, into `grad`.
///
/// ```
/// use tinytrain_core::loss::mse_grad;
/// let mut g = [0.0; 2];
/// mse_grad(&[1.0, 3.0], &[0.0, 1.0], &mut g);
/// assert_eq!(g, [1.0, 2.0]);
/// ```
pub fn mse_grad(prediction: &[f32], target: &[f32], grad: &mut [f32]) {
    let scale = 2.0 / prediction.len().min(target.len()).max(1) as f32;
    for ((g, y), t) in grad.iter_mut().zip(prediction).zip(target) {
        *g = scale * (y - t);
    }
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

    #[test]
    fn gradient_is_the_derivative() {
        let (y, t) = ([0.5f32, -1.0, 2.0], [0.0f32, 1.0, 2.5]);
        let mut g = [0.0; 3];
        mse_grad(&y, &t, &mut g);
        for k in 0..3 {
            let mut up = y;
            up[k] += 1e-3;
            let mut down = y;
            down[k] -= 1e-3;
            let numeric = (mse(&up, &t) - mse(&down, &t)) / 2e-3;
            assert!((numeric - g[k]).abs() < 1e-3, "{numeric} vs {}", g[k]);
        }
    }

    #[test]
    fn perfect_prediction_costs_nothing() {
        assert_eq!(mse(&[1.0, 2.0], &[1.0, 2.0]), 0.0);
    }
}
