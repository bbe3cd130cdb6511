//! One dense layer: `z = W·x + b`, then ReLU on hidden layers. Its backward pass sits right below
//! its forward pass, so one screen shows the whole derivative.
//!
//! Layout of a layer's parameters: the weights `W` row by row (`fan_out` rows of `fan_in`
//! values), then the `fan_out` biases. Sums run in index order, bias first, on every platform.

/// `y = act(W·x + b)` where `act` is ReLU if `relu`, the identity otherwise.
///
/// `w` holds `y.len()` rows of `x.len()` weights, `b` holds `y.len()` biases.
pub fn forward(w: &[f32], b: &[f32], x: &[f32], y: &mut [f32], relu: bool) {
    let fan_in = x.len().max(1);
    for ((out, row), bias) in y.iter_mut().zip(w.chunks_exact(fan_in)).zip(b) {
        let z = dot(*bias, row, x);
        *out = if relu { relu_of(z) } else { z };
    }
}

/// Backward pass of [`forward`] for one sample.
///
/// Given `dy` = ∂loss/∂z of this layer's outputs and the layer's input `x`, adds this sample's
/// contribution to the gradients (`gw[o][i] += dy[o]·x[i]`, `gb[o] += dy[o]`). When `dx` is given,
/// writes ∂loss/∂z of the *previous* layer: `dx[i] = relu'(x[i]) · Σ_o W[o][i]·dy[o]`, where
/// `relu'(x) = 1 if x > 0 else 0` (the input `x` is the previous layer's ReLU output).
pub fn backward(
    w: &[f32],
    x: &[f32],
    dy: &[f32],
    gw: &mut [f32],
    gb: &mut [f32],
    dx: Option<&mut [f32]>,
) {
    let fan_in = x.len().max(1);
    for ((g_row, g_bias), d) in gw.chunks_exact_mut(fan_in).zip(gb.iter_mut()).zip(dy) {
        *g_bias += *d;
        for (g, xi) in g_row.iter_mut().zip(x) {
            *g += *d * *xi;
        }
    }
    if let Some(dx) = dx {
        dx.iter_mut().for_each(|v| *v = 0.0);
        for (row, d) in w.chunks_exact(fan_in).zip(dy) {
            for (acc, wi) in dx.iter_mut().zip(row) {
                *acc += *wi * *d;
            }
        }
        for (acc, xi) in dx.iter_mut().zip(x) {
            if *xi <= 0.0 {
                *acc = 0.0;
            }
        }
    }
}

/// `init + Σ a[i]·b[i]`, summed in index order.
#[inline(always)]
pub fn dot(init: f32, a: &[f32], b: &[f32]) -> f32 {
    let mut acc = init;
    for (x, y) in a.iter().zip(b) {
        acc += *x * *y;
    }
    acc
}

/// ReLU: `max(z, 0)`; NaN stays NaN so that divergence is seen, not hidden.
#[inline(always)]
fn relu_of(z: f32) -> f32 {
    if z < 0.0 {
        0.0
    } else {
        z
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_by_hand() {
        // W = [[1, 2], [-3, 1]], b = [0.5, -1], x = [1, 1]
        let w = [1.0, 2.0, -3.0, 1.0];
        let b = [0.5, -1.0];
        let mut y = [0.0; 2];
        forward(&w, &b, &[1.0, 1.0], &mut y, false);
        assert_eq!(y, [3.5, -3.0]);
        forward(&w, &b, &[1.0, 1.0], &mut y, true);
        assert_eq!(y, [3.5, 0.0]);
    }

    #[test]
    fn backward_by_hand() {
        let w = [1.0, 2.0, -3.0, 1.0];
        let x = [2.0, 0.0]; // second input was a dead ReLU
        let dy = [1.0, 0.5];
        let mut gw = [0.0; 4];
        let mut gb = [0.0; 2];
        let mut dx = [0.0; 2];
        backward(&w, &x, &dy, &mut gw, &mut gb, Some(&mut dx));
        assert_eq!(gw, [2.0, 0.0, 1.0, 0.0]);
        assert_eq!(gb, [1.0, 0.5]);
        // dx[0] = 1*1 + (-3)*0.5 = -0.5; dx[1] is masked by the dead unit.
        assert_eq!(dx, [-0.5, 0.0]);
    }

    #[test]
    fn relu_keeps_nan() {
        assert!(relu_of(f32::NAN).is_nan());
        assert_eq!(relu_of(-1.0), 0.0);
    }
}
