//! One dense layer, `z = W·x + b` then ReLU on hidden layers, for a chunk of up to `C` samples
//! at once. Each backward step sits right below the forward pass, so one screen shows the whole
//! derivative.
//!
//! Layouts: a layer's parameters are its weights `W` row by row (`fan_out` rows of `fan_in`)
//! then its `fan_out` biases. Activations and errors of a chunk are *feature-major*: value `k`
//! of sample `s` sits at `k·C + s`, so the work on `C` samples runs in independent lanes (vector
//! registers on a PC, unrolled scalar registers on a Cortex-M). With `C = 1` this is simply the
//! per-sample vector.
//!
//! Every number is computed by the same sequence of IEEE operations whatever `C` is — a sum over
//! inputs runs bias first then in input order; a weight's gradient adds samples in sample order —
//! so the results are bit-identical for every chunk size and on every platform.

/// `y = act(W·x + b)` for `C` samples; `act` is ReLU if `relu`, the identity otherwise.
///
/// `x` holds `fan_in × C` values, `y` holds `fan_out × C`, `w` `fan_out × fan_in`, `b` `fan_out`.
/// Outputs are computed two at a time: twice the independent sums in flight, each input loaded
/// once for both.
pub fn forward<const C: usize>(w: &[f32], b: &[f32], x: &[f32], y: &mut [f32], relu: bool) {
    let (x, _) = x.as_chunks::<C>();
    let (y, _) = y.as_chunks_mut::<C>();
    let fan_in = x.len().max(1);
    let (y_pairs, y_last) = y.as_chunks_mut::<2>();
    let (b_pairs, b_last) = b.as_chunks::<2>();
    for (([y0, y1], [b0, b1]), rows) in y_pairs
        .iter_mut()
        .zip(b_pairs)
        .zip(w.chunks_exact(2 * fan_in))
    {
        let (w0, w1) = rows.split_at(fan_in);
        let (mut acc0, mut acc1) = ([*b0; C], [*b1; C]);
        for ((w0, w1), xi) in w0.iter().zip(w1).zip(x) {
            mul_add(&mut acc0, *w0, xi);
            mul_add(&mut acc1, *w1, xi);
        }
        activate(y0, acc0, relu);
        activate(y1, acc1, relu);
    }
    let last_row = w.get(2 * y_pairs.len() * fan_in..).unwrap_or(&[]);
    if let (Some(out), Some(bias)) = (y_last.first_mut(), b_last.first()) {
        let mut acc = [*bias; C];
        for (wi, xi) in last_row.iter().zip(x) {
            mul_add(&mut acc, *wi, xi);
        }
        activate(out, acc, relu);
    }
}

/// `y = relu(acc)` or `y = acc`.
#[inline(always)]
fn activate<const C: usize>(y: &mut [f32; C], acc: [f32; C], relu: bool) {
    *y = acc;
    if relu {
        y.iter_mut().for_each(|v| *v = relu_of(*v));
    }
}

/// Lanes of the register blocks [`accumulate`] works in.
pub const BLOCK: usize = 8;

/// Adds the weight and bias gradients of a chunk's samples, sample after sample:
/// `gw[o][i] += dy[o][s]·x[s][i]`, `gb[o] += dy[o][s]`.
///
/// `dy` is ∂loss/∂z of the layer's outputs (feature-major, `fan_out × C`); lanes of a partial
/// chunk hold zeros and add nothing. For `C = 1`, `xt` is the layer's input itself; for `C > 1`
/// it is the input rearranged by [`transpose`] into blocks of [`BLOCK`] inputs, so that the
/// gradients of a block of weights stay in registers while the samples stream by (two rows of
/// weights at a time, sharing each load of the inputs).
pub fn accumulate<const C: usize>(dy: &[f32], xt: &[f32], gw: &mut [f32], gb: &mut [f32]) {
    let fan_in = gw.len() / gb.len().max(1);
    if fan_in == 0 {
        return;
    }
    let (dy, _) = dy.as_chunks::<C>();
    for (g_bias, d) in gb.iter_mut().zip(dy) {
        for ds in d {
            *g_bias += *ds;
        }
    }
    if C == 1 {
        for (g_row, d) in gw.chunks_exact_mut(fan_in).zip(dy) {
            for ds in d {
                for (g, xv) in g_row.iter_mut().zip(xt) {
                    *g += *ds * *xv;
                }
            }
        }
        return;
    }
    let (x_rows, _) = xt.as_chunks::<BLOCK>();
    let (d_pairs, d_last) = dy.as_chunks::<2>();
    let mut rows = gw.chunks_exact_mut(fan_in);
    for [d0, d1] in d_pairs {
        let (Some(g0), Some(g1)) = (rows.next(), rows.next()) else {
            return;
        };
        let (g0_blocks, g0_tail) = g0.as_chunks_mut::<BLOCK>();
        let (g1_blocks, g1_tail) = g1.as_chunks_mut::<BLOCK>();
        let mut x_blocks = x_rows.chunks_exact(C);
        for ((a0, a1), x) in g0_blocks.iter_mut().zip(g1_blocks).zip(&mut x_blocks) {
            let (mut acc0, mut acc1) = (*a0, *a1);
            for ((e0, e1), xs) in d0.iter().zip(d1).zip(x) {
                mul_add(&mut acc0, *e0, xs);
                mul_add(&mut acc1, *e1, xs);
            }
            (*a0, *a1) = (acc0, acc1);
        }
        if let Some(x) = x_blocks.next() {
            let (mut acc0, mut acc1) = (padded(g0_tail), padded(g1_tail));
            for ((e0, e1), xs) in d0.iter().zip(d1).zip(x) {
                mul_add(&mut acc0, *e0, xs);
                mul_add(&mut acc1, *e1, xs);
            }
            unpad(g0_tail, acc0);
            unpad(g1_tail, acc1);
        }
    }
    if let (Some(g), Some(d)) = (rows.next(), d_last.first()) {
        let (g_blocks, g_tail) = g.as_chunks_mut::<BLOCK>();
        let mut x_blocks = x_rows.chunks_exact(C);
        for (a, x) in g_blocks.iter_mut().zip(&mut x_blocks) {
            let mut acc = *a;
            for (e, xs) in d.iter().zip(x) {
                mul_add(&mut acc, *e, xs);
            }
            *a = acc;
        }
        if let Some(x) = x_blocks.next() {
            let mut acc = padded(g_tail);
            for (e, xs) in d.iter().zip(x) {
                mul_add(&mut acc, *e, xs);
            }
            unpad(g_tail, acc);
        }
    }
}

/// The last, partial block of a row as a full block (the padding lanes stay unused), so that it
/// runs in vector registers like the others.
#[inline(always)]
fn padded(tail: &[f32]) -> [f32; BLOCK] {
    let mut block = [0.0; BLOCK];
    for (b, v) in block.iter_mut().zip(tail) {
        *b = *v;
    }
    block
}

/// Writes back the used lanes of a [`padded`] block.
#[inline(always)]
fn unpad(tail: &mut [f32], block: [f32; BLOCK]) {
    for (v, b) in tail.iter_mut().zip(block) {
        *v = b;
    }
}

/// Rearranges a feature-major chunk (`fan_in × C`) for [`accumulate`]: blocks of [`BLOCK`]
/// inputs, each holding `C` rows (one per sample) of `BLOCK` values, zero padded. `xt` holds
/// [`transposed_len`]`(fan_in, C)` values.
pub fn transpose<const C: usize>(x: &[f32], xt: &mut [f32]) {
    let (x, _) = x.as_chunks::<C>();
    let (xt, _) = xt.as_chunks_mut::<BLOCK>();
    for (inputs, block) in x.chunks(BLOCK).zip(xt.chunks_exact_mut(C)) {
        for (s, row) in block.iter_mut().enumerate() {
            *row = [0.0; BLOCK];
            for (dst, input) in row.iter_mut().zip(inputs) {
                *dst = input.get(s).copied().unwrap_or(0.0);
            }
        }
    }
}

/// Length of [`transpose`]'s output for `fan_in` inputs and chunks of `chunk` samples.
pub const fn transposed_len(fan_in: usize, chunk: usize) -> usize {
    fan_in
        .div_ceil(BLOCK)
        .saturating_mul(BLOCK)
        .saturating_mul(chunk)
}

/// ∂loss/∂z of the previous layer: `dx[i][s] = relu'(x[i][s]) · Σ_o W[o][i]·dy[o][s]`, the sum in
/// output order, where `relu'(x) = 1 if x > 0 else 0` (`x` is the previous layer's ReLU output).
///
/// Inputs are taken two at a time, so that each weight row is read once for both and the errors
/// `dy[o]` are loaded once for two sums.
pub fn backprop<const C: usize>(w: &[f32], dy: &[f32], x: &[f32], dx: &mut [f32]) {
    let (x, _) = x.as_chunks::<C>();
    let (dx, _) = dx.as_chunks_mut::<C>();
    let (dy, _) = dy.as_chunks::<C>();
    let fan_in = x.len().max(1);
    let rows = || w.chunks_exact(fan_in).zip(dy);
    let (dx_pairs, dx_last) = dx.as_chunks_mut::<2>();
    let (x_pairs, x_last) = x.as_chunks::<2>();
    for (k, ([dx0, dx1], [x0, x1])) in dx_pairs.iter_mut().zip(x_pairs).enumerate() {
        let (mut acc0, mut acc1) = ([0.0f32; C], [0.0f32; C]);
        let i = 2 * k;
        for (row, d) in rows() {
            if let Some([w0, w1]) = row.get(i..i + 2) {
                mul_add(&mut acc0, *w0, d);
                mul_add(&mut acc1, *w1, d);
            }
        }
        relu_mask(dx0, acc0, x0);
        relu_mask(dx1, acc1, x1);
    }
    if let (Some(dx), Some(x)) = (dx_last.first_mut(), x_last.first()) {
        let mut acc = [0.0f32; C];
        let i = 2 * dx_pairs.len();
        for (row, d) in rows() {
            if let Some(wv) = row.get(i) {
                mul_add(&mut acc, *wv, d);
            }
        }
        relu_mask(dx, acc, x);
    }
}

/// `out = acc` where the unit was active (`x > 0`), 0 where it was not.
#[inline(always)]
fn relu_mask<const C: usize>(out: &mut [f32; C], acc: [f32; C], x: &[f32; C]) {
    for ((o, a), xv) in out.iter_mut().zip(acc).zip(x) {
        *o = if *xv <= 0.0 { 0.0 } else { a };
    }
}

/// `acc[s] += a · x[s]` for every lane, written in groups of four lanes so that the compiler
/// maps them onto vector registers cleanly (one multiply and one add per lane, never fused).
#[inline(always)]
fn mul_add<const C: usize>(acc: &mut [f32; C], a: f32, x: &[f32; C]) {
    let (acc4, acc_rest) = acc.as_chunks_mut::<4>();
    let (x4, x_rest) = x.as_chunks::<4>();
    for (acc, x) in acc4.iter_mut().zip(x4) {
        for (s, v) in acc.iter_mut().zip(x) {
            *s += a * *v;
        }
    }
    for (s, v) in acc_rest.iter_mut().zip(x_rest) {
        *s += a * *v;
    }
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
        forward::<1>(&w, &b, &[1.0, 1.0], &mut y, false);
        assert_eq!(y, [3.5, -3.0]);
        forward::<1>(&w, &b, &[1.0, 1.0], &mut y, true);
        assert_eq!(y, [3.5, 0.0]);
        // Two samples, feature-major: x = [[1, 1], [2, 0]] → x0 = [1, 2], x1 = [1, 0].
        let mut y2 = [0.0; 4];
        forward::<2>(&w, &b, &[1.0, 2.0, 1.0, 0.0], &mut y2, false);
        assert_eq!(y2, [3.5, 2.5, -3.0, -7.0]);
    }

    #[test]
    fn backward_by_hand() {
        let w = [1.0, 2.0, -3.0, 1.0];
        let x = [2.0, 0.0]; // second input was a dead ReLU
        let dy = [1.0, 0.5];
        let mut gw = [0.0; 4];
        let mut gb = [0.0; 2];
        let mut dx = [0.0; 2];
        accumulate::<1>(&dy, &x, &mut gw, &mut gb);
        backprop::<1>(&w, &dy, &x, &mut dx);
        assert_eq!(gw, [2.0, 0.0, 1.0, 0.0]);
        assert_eq!(gb, [1.0, 0.5]);
        // dx[0] = 1*1 + (-3)*0.5 = -0.5; dx[1] is masked by the dead unit.
        assert_eq!(dx, [-0.5, 0.0]);
    }

    #[test]
    fn transpose_into_blocks_of_samples() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2 features × C = 3
        let mut xt = [9.0; transposed_len(2, 3)];
        transpose::<3>(&x, &mut xt);
        assert_eq!(
            xt,
            [
                1.0, 4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, // sample 0
                2.0, 5.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, // sample 1
                3.0, 6.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, // sample 2
            ]
        );
    }

    #[test]
    fn blocked_accumulation_matches_the_plain_one() {
        // 11 inputs (a full block and a partial one), 2 outputs, 4 samples in a chunk.
        let xs: std::vec::Vec<f32> = (0..44).map(|k| (k as f32 * 0.37).sin()).collect();
        let dy: std::vec::Vec<f32> = (0..8).map(|k| (k as f32 * 0.91).cos()).collect();
        let mut xt = std::vec![0.0; transposed_len(11, 4)];
        transpose::<4>(&xs, &mut xt);
        let (mut gw, mut gb) = ([0.5f32; 22], [0.25f32; 2]);
        accumulate::<4>(&dy, &xt, &mut gw, &mut gb);
        let (mut want_w, mut want_b) = ([0.5f32; 22], [0.25f32; 2]);
        for s in 0..4 {
            let x: std::vec::Vec<f32> = (0..11).map(|i| xs[i * 4 + s]).collect();
            let d = [dy[s], dy[4 + s]];
            accumulate::<1>(&d, &x, &mut want_w, &mut want_b);
        }
        assert_eq!((gw, gb), (want_w, want_b));
    }

    #[test]
    fn relu_keeps_nan() {
        assert!(relu_of(f32::NAN).is_nan());
        assert_eq!(relu_of(-1.0), 0.0);
    }
}
