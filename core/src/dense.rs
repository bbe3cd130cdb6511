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
//! inputs runs bias first then in input order; a sum over outputs runs in output order; a
//! weight's gradient adds samples in sample order — so the results are bit-identical for every
//! chunk size and on every platform. Only the order in which the independent sums are
//! *interleaved* depends on `C`: narrow chunks keep a few rows or columns of sums in a
//! microcontroller's 32 scalar registers, [wide](is_wide) ones fill a PC's vector registers.

use crate::slices::at_least_one;

/// Chunks of at least this many samples take the schedule of a PC's vector units.
pub const WIDE: usize = 8;

/// Whether a chunk of `chunk` samples takes the wide schedule: weight gradients from the input
/// rearranged by [`transpose`]. Narrow chunks read the input as it is.
pub const fn is_wide(chunk: usize) -> bool {
    chunk >= WIDE
}

/// `y = act(W·x + b)` for `C` samples; `act` is ReLU if `relu`, the identity otherwise.
///
/// `x` holds `fan_in × C` values, `y` holds `fan_out × C`, `w` `fan_out × fan_in`, `b` `fan_out`.
/// Outputs are computed four at a time (two in a wide chunk, whose lanes fill more registers),
/// so that each input is loaded once for all of them; the remaining ones one by one. A layer of
/// one input keeps its lanes in registers for every output.
///
/// `C = 0` does not compile.
pub fn forward<const C: usize>(w: &[f32], b: &[f32], x: &[f32], y: &mut [f32], relu: bool) {
    const {
        assert!(
            C > 0,
            "a chunk holds at least one sample: C must be greater than 0"
        )
    }
    let (x, _) = x.as_chunks::<C>();
    let (y, _) = y.as_chunks_mut::<C>();
    if let [x] = x {
        // One input (a first layer): its lanes stay in registers for every output.
        for ((w, b), y) in w.iter().zip(b).zip(y) {
            let mut acc = [*b; C];
            mul_add(&mut acc, *w, x);
            activate(y, acc, relu);
        }
        return;
    }
    let n = x.len().max(1);
    let (w, b, y) = if is_wide(C) {
        forward_pairs(w, b, x, y, relu, n)
    } else {
        forward_quads(w, b, x, y, relu, n)
    };
    let (x4, x_rest) = x.as_chunks::<4>();
    for ((w, b), y) in w.chunks_exact(at_least_one(n)).zip(b).zip(y) {
        let mut acc = [*b; C];
        // Four inputs at a time: one loop step for four weights.
        let (w4, w_rest) = w.as_chunks::<4>();
        for (xs, ws) in x4.iter().zip(w4) {
            for (xi, w) in xs.iter().zip(ws) {
                mul_add(&mut acc, *w, xi);
            }
        }
        for (xi, w) in x_rest.iter().zip(w_rest) {
            mul_add(&mut acc, *w, xi);
        }
        activate(y, acc, relu);
    }
}

/// The outputs four at a time; returns the weights, biases and outputs left over.
#[inline(always)]
fn forward_quads<'a, 'b, 'y, const C: usize>(
    w: &'a [f32],
    b: &'b [f32],
    x: &[[f32; C]],
    y: &'y mut [[f32; C]],
    relu: bool,
    n: usize,
) -> (&'a [f32], &'b [f32], &'y mut [[f32; C]]) {
    let (y4, y_rest) = y.as_chunks_mut::<4>();
    let (b4, b_rest) = b.as_chunks::<4>();
    let mut w4 = w.chunks_exact(at_least_one(4 * n));
    for ((y, b), w) in y4.iter_mut().zip(b4).zip(&mut w4) {
        let (w0, w) = split(w, n);
        let (w1, w) = split(w, n);
        let (w2, w3) = split(w, n);
        let mut acc = [[b[0]; C], [b[1]; C], [b[2]; C], [b[3]; C]];
        for ((((xi, w0), w1), w2), w3) in x.iter().zip(w0).zip(w1).zip(w2).zip(w3) {
            column(&mut acc, [*w0, *w1, *w2, *w3], xi);
        }
        for (y, a) in y.iter_mut().zip(acc) {
            activate(y, a, relu);
        }
    }
    (w4.remainder(), b_rest, y_rest)
}

/// The outputs two at a time; returns the weights, biases and outputs left over.
#[inline(always)]
fn forward_pairs<'a, 'b, 'y, const C: usize>(
    w: &'a [f32],
    b: &'b [f32],
    x: &[[f32; C]],
    y: &'y mut [[f32; C]],
    relu: bool,
    n: usize,
) -> (&'a [f32], &'b [f32], &'y mut [[f32; C]]) {
    let (y2, y_rest) = y.as_chunks_mut::<2>();
    let (b2, b_rest) = b.as_chunks::<2>();
    let mut w2 = w.chunks_exact(at_least_one(2 * n));
    for ((y, b), w) in y2.iter_mut().zip(b2).zip(&mut w2) {
        let (w0, w1) = split(w, n);
        let mut acc = [[b[0]; C], [b[1]; C]];
        for ((xi, w0), w1) in x.iter().zip(w0).zip(w1) {
            column(&mut acc, [*w0, *w1], xi);
        }
        for (y, a) in y.iter_mut().zip(acc) {
            activate(y, a, relu);
        }
    }
    (w2.remainder(), b_rest, y_rest)
}

/// The first row of `n` values and the rest.
#[inline(always)]
fn split(w: &[f32], n: usize) -> (&[f32], &[f32]) {
    w.split_at_checked(n).unwrap_or((w, &[]))
}

/// `acc[r] += w[r] · x` for every row `r` and lane.
#[inline(always)]
fn column<const C: usize, const R: usize>(acc: &mut [[f32; C]; R], w: [f32; R], x: &[f32; C]) {
    for (a, wv) in acc.iter_mut().zip(w) {
        mul_add(a, wv, x);
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

/// Adds the weight and bias gradients of a chunk's samples, sample after sample:
/// `gw[o][i] += dy[o][s]·x[s][i]`, `gb[o] += dy[o][s]`.
///
/// `dy` is ∂loss/∂z of the layer's outputs (feature-major, `fan_out × C`); lanes of a partial
/// chunk hold zeros and add nothing. For a narrow chunk, `xs` is the layer's input itself; for a
/// [wide](is_wide) one it is the input rearranged by [`transpose`] into blocks of [`BLOCK`]
/// inputs, so that the gradients of a block of weights stay in vector registers while the
/// samples stream by.
///
/// `C = 0` does not compile.
pub fn accumulate<const C: usize>(dy: &[f32], xs: &[f32], gw: &mut [f32], gb: &mut [f32]) {
    const {
        assert!(
            C > 0,
            "a chunk holds at least one sample: C must be greater than 0"
        )
    }
    let (dy, _) = dy.as_chunks::<C>();
    if is_wide(C) {
        for (g, d) in gb.iter_mut().zip(dy) {
            add_samples(g, d);
        }
        let fan_in = gw.len() / gb.len().max(1);
        accumulate_blocks::<C>(dy, xs, gw, fan_in.max(1));
    } else if C == 1 {
        accumulate_one(dy.as_flattened(), xs, gw, gb);
    } else {
        let (x, _) = xs.as_chunks::<C>();
        accumulate_rows::<C>(dy, x, gw, gb);
    }
}

/// Inputs at a time for one sample (`C = 1`) in [`accumulate`] and [`backprop`]: half of a
/// Cortex-M's 32 floating-point registers.
const SPAN: usize = 16;

/// One sample: [`SPAN`] inputs at a time stay in registers while the rows of gradients stream
/// by.
#[inline(always)]
fn accumulate_one(dy: &[f32], x: &[f32], gw: &mut [f32], gb: &mut [f32]) {
    for (g, d) in gb.iter_mut().zip(dy) {
        *g += *d;
    }
    let n = x.len().max(1);
    for (k, xs) in x.chunks(SPAN).enumerate() {
        let at = k * SPAN;
        if let Some(xs) = xs.first_chunk::<SPAN>() {
            let xs = *xs;
            for (row, d) in gw.chunks_exact_mut(at_least_one(n)).zip(dy) {
                if let Some(gs) = row.get_mut(at..).and_then(|r| r.first_chunk_mut::<SPAN>()) {
                    add_scaled(gs, *d, &xs);
                }
            }
        } else {
            for (row, d) in gw.chunks_exact_mut(at_least_one(n)).zip(dy) {
                let gs = row.get_mut(at..).unwrap_or(&mut []);
                add_scaled(gs, *d, xs);
            }
        }
    }
}

/// `g[i] += d · x[i]`.
#[inline(always)]
fn add_scaled(g: &mut [f32], d: f32, x: &[f32]) {
    for (g, x) in g.iter_mut().zip(x) {
        *g += d * *x;
    }
}

/// Narrow chunks: the errors of four outputs stay in registers while the inputs stream by (the
/// lanes of a single input while the rows stream by).
#[inline(always)]
fn accumulate_rows<const C: usize>(
    dy: &[[f32; C]],
    x: &[[f32; C]],
    gw: &mut [f32],
    gb: &mut [f32],
) {
    if let [x] = x {
        // One input (a first layer): its lanes stay in registers for every row.
        for ((d, gb), g) in dy.iter().zip(gb).zip(gw) {
            add_samples(gb, d);
            add_products(g, d, x);
        }
        return;
    }
    let n = x.len().max(1);
    let (d4, d_rest) = dy.as_chunks::<4>();
    let (gb4, gb_rest) = gb.as_chunks_mut::<4>();
    let mut g4 = gw.chunks_exact_mut(at_least_one(4 * n));
    for ((d, gb), g) in d4.iter().zip(gb4).zip(&mut g4) {
        let mut rows = g.chunks_exact_mut(at_least_one(n));
        let (Some(g0), Some(g1), Some(g2), Some(g3)) =
            (rows.next(), rows.next(), rows.next(), rows.next())
        else {
            return;
        };
        // A copy the gradients cannot alias, so that it stays in registers.
        let d = *d;
        for (g, d) in gb.iter_mut().zip(&d) {
            add_samples(g, d);
        }
        for ((((xi, g0), g1), g2), g3) in x.iter().zip(g0).zip(g1).zip(g2).zip(g3) {
            for (g, d) in [g0, g1, g2, g3].into_iter().zip(&d) {
                add_products(g, d, xi);
            }
        }
    }
    let mut rows = g4.into_remainder();
    for (d, gb) in d_rest.iter().zip(gb_rest) {
        let Some((g, rest)) = rows.split_at_mut_checked(n) else {
            return;
        };
        rows = rest;
        let d = *d;
        add_samples(gb, &d);
        for (xi, g) in x.iter().zip(g) {
            add_products(g, &d, xi);
        }
    }
}

/// `g += Σ_s d[s]`, samples in order: a bias's gradient.
#[inline(always)]
fn add_samples<const C: usize>(g: &mut f32, d: &[f32; C]) {
    let mut acc = *g;
    for ds in d {
        acc += *ds;
    }
    *g = acc;
}

/// `g += Σ_s d[s]·x[s]`, samples in order.
#[inline(always)]
fn add_products<const C: usize>(g: &mut f32, d: &[f32; C], x: &[f32; C]) {
    let mut acc = *g;
    for (ds, xs) in d.iter().zip(x) {
        acc += *ds * *xs;
    }
    *g = acc;
}

/// Lanes of the register blocks of the wide schedule.
pub const BLOCK: usize = 8;

/// Wide chunks: the gradients of two rows of a block of [`BLOCK`] weights stay in registers
/// while the samples stream by, sharing each load of the inputs.
fn accumulate_blocks<const C: usize>(dy: &[[f32; C]], xt: &[f32], gw: &mut [f32], fan_in: usize) {
    let (x_rows, _) = xt.as_chunks::<BLOCK>();
    let (d_pairs, d_last) = dy.as_chunks::<2>();
    let mut rows = gw.chunks_exact_mut(at_least_one(fan_in));
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
            if g0_tail.len() <= BLOCK / 2 {
                pair_tail::<C, { BLOCK / 2 }>([g0_tail, g1_tail], [d0, d1], x);
            } else {
                pair_tail::<C, BLOCK>([g0_tail, g1_tail], [d0, d1], x);
            }
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
            let mut acc = padded::<BLOCK>(g_tail);
            for (e, xs) in d.iter().zip(x) {
                mul_add(&mut acc, *e, xs);
            }
            unpad(g_tail, acc);
        }
    }
}

/// The last, partial block of two rows, in the first `L` lanes of the block (half of them when
/// the tail fits: half the work).
#[inline(always)]
fn pair_tail<const C: usize, const L: usize>(
    [g0, g1]: [&mut [f32]; 2],
    [d0, d1]: [&[f32; C]; 2],
    x: &[[f32; BLOCK]],
) {
    let (mut acc0, mut acc1) = (padded::<L>(g0), padded::<L>(g1));
    for ((e0, e1), xs) in d0.iter().zip(d1).zip(x) {
        if let Some(xs) = xs.first_chunk::<L>() {
            mul_add(&mut acc0, *e0, xs);
            mul_add(&mut acc1, *e1, xs);
        }
    }
    unpad(g0, acc0);
    unpad(g1, acc1);
}

/// The last, partial block of a row as a block of `L` lanes (the padding lanes stay unused), so
/// that it runs in vector registers like the others.
#[inline(always)]
fn padded<const L: usize>(tail: &[f32]) -> [f32; L] {
    let mut block = [0.0; L];
    for (b, v) in block.iter_mut().zip(tail) {
        *b = *v;
    }
    block
}

/// Writes back the used lanes of a [`padded`] block.
#[inline(always)]
fn unpad<const L: usize>(tail: &mut [f32], block: [f32; L]) {
    for (v, b) in tail.iter_mut().zip(block) {
        *v = b;
    }
}

/// Rearranges a feature-major chunk (`fan_in × C`) for the wide schedule of [`accumulate`]:
/// blocks of [`BLOCK`] inputs, each holding `C` rows (one per sample) of `BLOCK` values, zero
/// padded. `xt` holds [`transposed_len`]`(fan_in, C)` values.
///
/// `C = 0` does not compile.
pub fn transpose<const C: usize>(x: &[f32], xt: &mut [f32]) {
    const {
        assert!(
            C > 0,
            "a chunk holds at least one sample: C must be greater than 0"
        )
    }
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

/// Length of [`transpose`]'s output for `fan_in` inputs and chunks of `chunk` samples: 0 for a
/// narrow chunk, which needs none.
pub const fn transposed_len(fan_in: usize, chunk: usize) -> usize {
    if !is_wide(chunk) {
        return 0;
    }
    fan_in
        .div_ceil(BLOCK)
        .saturating_mul(BLOCK)
        .saturating_mul(chunk)
}

/// ∂loss/∂z of the previous layer, written over its activations `x`:
/// `x[i][s] ← relu'(x[i][s]) · Σ_o W[o][i]·dy[o][s]`, the sum in output order, where
/// `relu'(x) = 1 if x > 0 else 0` (`x` is the previous layer's ReLU output, +0 or positive,
/// needed no more once the weight gradients are added).
///
/// Several inputs are taken at a time — sixteen for one sample, four for a narrow chunk, two
/// for a wide one — so that each error `dy[o]` is loaded once for all of them.
///
/// `C = 0` does not compile.
pub fn backprop<const C: usize>(w: &[f32], dy: &[f32], x: &mut [f32]) {
    const {
        assert!(
            C > 0,
            "a chunk holds at least one sample: C must be greater than 0"
        )
    }
    let (dy, _) = dy.as_chunks::<C>();
    let (x, _) = x.as_chunks_mut::<C>();
    if is_wide(C) {
        backprop_columns::<C, 2>(w, dy, x);
    } else if C == 1 {
        backprop_columns::<C, SPAN>(w, dy, x);
    } else {
        backprop_columns::<C, 4>(w, dy, x);
    }
}

/// The inputs `K` at a time, then the remaining ones one by one.
#[inline(always)]
fn backprop_columns<const C: usize, const K: usize>(
    w: &[f32],
    dy: &[[f32; C]],
    x: &mut [[f32; C]],
) {
    let n = x.len();
    let (groups, rest) = x.as_chunks_mut::<K>();
    let done = groups.len() * K;
    for (k, x) in groups.iter_mut().enumerate() {
        errors::<C, K>(w, dy, n, k * K, x);
    }
    for (k, x) in rest.iter_mut().enumerate() {
        errors::<C, 1>(w, dy, n, done + k, core::array::from_mut(x));
    }
}

/// The errors of inputs `i..i + K` of a layer with `n` inputs, over their activations `x`.
#[inline(always)]
fn errors<const C: usize, const K: usize>(
    w: &[f32],
    dy: &[[f32; C]],
    n: usize,
    i: usize,
    x: &mut [[f32; C]; K],
) {
    let n = n.max(1);
    if i.checked_add(K).is_none_or(|end| end > n) {
        return;
    }
    // Every row has the columns `i..i + K` (checked once above): no test per row.
    let mut rows = w.chunks_exact(at_least_one(n)).zip(dy).map(|(row, d)| {
        let ws = row.get(i..).and_then(|r| r.first_chunk::<K>());
        (ws.unwrap_or(&[0.0; K]), d)
    });
    let Some((w0, d0)) = rows.next() else {
        return;
    };
    let mut acc = [[0.0; C]; K];
    for (a, w) in acc.iter_mut().zip(w0) {
        for (e, d) in a.iter_mut().zip(d0) {
            *e = w * d;
        }
    }
    for (ws, d) in rows {
        column(&mut acc, *ws, d);
    }
    for (lanes, a) in x.iter_mut().zip(acc) {
        // A ReLU output is +0, positive or NaN: an inactive unit already holds its error, +0.
        let bits = lanes.map(f32::to_bits);
        for ((v, e), bits) in lanes.iter_mut().zip(a).zip(bits) {
            if SCALAR_MASK {
                // Only the active units are written: conditional stores.
                if bits != 0 {
                    *v = e;
                }
            } else {
                // A select of the error or +0: branch-free, in vector lanes.
                *v = if bits == 0 { 0.0 } else { e };
            }
        }
    }
}

/// Whether the error mask is written as conditional stores (a Cortex-M: one integer test and a
/// predicated store per value) rather than as a select (a PC's vectors, where data-dependent
/// branches would be mispredicted). Both write the same bits.
const SCALAR_MASK: bool = cfg!(target_arch = "arm");

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

/// ReLU: `max(z, 0)`, always +0 for an inactive unit (also for `z = -0`), so that the error
/// mask of [`backprop`] is one integer test; NaN stays NaN so that divergence is seen, not hidden.
#[inline(always)]
fn relu_of(z: f32) -> f32 {
    if z <= 0.0 {
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
        let mut x = [2.0, 0.0]; // second input was a dead ReLU
        let dy = [1.0, 0.5];
        let mut gw = [0.0; 4];
        let mut gb = [0.0; 2];
        accumulate::<1>(&dy, &x, &mut gw, &mut gb);
        backprop::<1>(&w, &dy, &mut x);
        assert_eq!(gw, [2.0, 0.0, 1.0, 0.0]);
        assert_eq!(gb, [1.0, 0.5]);
        // dx[0] = 1*1 + (-3)*0.5 = -0.5; dx[1] is masked by the dead unit.
        assert_eq!(x, [-0.5, 0.0]);
    }

    #[test]
    fn transpose_into_blocks_of_samples() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]; // 1 feature × C = 8
        let mut xt = [9.0; transposed_len(1, 8)];
        transpose::<8>(&x, &mut xt);
        for (s, row) in xt.chunks(BLOCK).enumerate() {
            assert_eq!(row[0], x[s]);
            assert!(row[1..].iter().all(|v| *v == 0.0));
        }
        assert_eq!(transposed_len(11, 4), 0, "narrow chunks need no transpose");
    }

    /// Every schedule — per sample, narrow chunks, wide chunks — gives the bits of the
    /// per-sample definitions, including partial groups of rows and columns.
    #[test]
    fn every_schedule_matches_the_plain_definitions() {
        fn check<const C: usize>(n_in: usize, n_out: usize) {
            let w: std::vec::Vec<f32> =
                (0..n_in * n_out).map(|k| (k as f32 * 0.37).sin()).collect();
            let b: std::vec::Vec<f32> = (0..n_out).map(|k| (k as f32 * 0.5).cos()).collect();
            // Inputs as a ReLU leaves them: positive or +0.
            let x: std::vec::Vec<f32> = (0..n_in * C)
                .map(|k| relu_of((k as f32 * 0.71).sin()))
                .collect();
            let dy: std::vec::Vec<f32> = (0..n_out * C).map(|k| (k as f32 * 0.91).cos()).collect();
            let mut y = std::vec![0.0; n_out * C];
            forward::<C>(&w, &b, &x, &mut y, true);
            let mut xt = std::vec![0.0; transposed_len(n_in, C)];
            let xs = if is_wide(C) {
                transpose::<C>(&x, &mut xt);
                &xt
            } else {
                &x
            };
            let (mut gw, mut gb) = (std::vec![0.5f32; n_in * n_out], std::vec![0.25f32; n_out]);
            accumulate::<C>(&dy, xs, &mut gw, &mut gb);
            let mut dx = x.clone();
            backprop::<C>(&w, &dy, &mut dx);

            let (mut want_w, mut want_b) =
                (std::vec![0.5f32; n_in * n_out], std::vec![0.25f32; n_out]);
            for s in 0..C {
                let xs: std::vec::Vec<f32> = (0..n_in).map(|i| x[i * C + s]).collect();
                let ds: std::vec::Vec<f32> = (0..n_out).map(|o| dy[o * C + s]).collect();
                for o in 0..n_out {
                    let mut z = b[o];
                    for i in 0..n_in {
                        z += w[o * n_in + i] * xs[i];
                    }
                    assert_eq!(y[o * C + s].to_bits(), relu_of(z).to_bits());
                    want_b[o] += ds[o];
                    for i in 0..n_in {
                        want_w[o * n_in + i] += ds[o] * xs[i];
                    }
                }
                for i in 0..n_in {
                    let mut e = w[i] * ds[0];
                    for o in 1..n_out {
                        e += w[o * n_in + i] * ds[o];
                    }
                    let want = if xs[i] <= 0.0 { 0.0 } else { e };
                    assert_eq!(dx[i * C + s].to_bits(), want.to_bits());
                }
            }
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<std::vec::Vec<_>>();
            assert_eq!(bits(&gw), bits(&want_w));
            assert_eq!(bits(&gb), bits(&want_b));
        }
        // A full span and a partial one of inputs, four rows and three more of outputs; a
        // layer of one input; a layer of one output.
        for (n_in, n_out) in [(19, 7), (1, 6), (5, 1)] {
            check::<1>(n_in, n_out);
            check::<2>(n_in, n_out);
            check::<4>(n_in, n_out);
            check::<8>(n_in, n_out);
            check::<16>(n_in, n_out);
        }
    }

    #[test]
    fn relu_keeps_nan() {
        assert!(relu_of(f32::NAN).is_nan());
        assert_eq!(relu_of(-1.0).to_bits(), 0);
        assert_eq!(relu_of(-0.0).to_bits(), 0, "an inactive unit is +0");
    }
}
