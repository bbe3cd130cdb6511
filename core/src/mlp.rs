//! The whole network: dense layers, ReLU between them, a linear output.
//!
//! These functions work on caller-provided slices laid out as [`crate::shape`] describes: all
//! layers' parameters one after the other, and for back-propagation all activations of one
//! sample one after the other (`[x | h1 | h2 | … | y]`). Lengths are checked once by the types
//! that own the buffers ([`crate::Trainer`], [`crate::Model`]); here a short slice only shortens
//! the work (the kernels zip), it never panics. Offsets wrap instead of saturating: widths that
//! passed [`shape::check`] cannot overflow, and others only give offsets no slice has.

use crate::{dense, shape, Lcg};

/// The shape of one layer and where its parameters and activations start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layer {
    /// Inputs of the layer.
    pub fan_in: usize,
    /// Outputs of the layer.
    pub fan_out: usize,
    /// Offset of its weights in the parameter slice (its biases follow the weights).
    pub params_at: usize,
    /// Offset of its input in the activation slice (its output follows the input).
    pub acts_at: usize,
    /// Whether ReLU follows (every layer but the last).
    pub relu: bool,
}

impl Layer {
    /// Number of weights (biases not counted).
    pub const fn weights(&self) -> usize {
        self.fan_in.wrapping_mul(self.fan_out)
    }
}

/// The layers of a network, input side first; `.rev()` walks them output side first.
///
/// ```
/// use tinytrain_core::mlp::layers;
/// let shapes: Vec<_> = layers(&[2, 3, 1]).map(|l| (l.fan_in, l.fan_out, l.params_at)).collect();
/// assert_eq!(shapes, [(2, 3, 0), (3, 1, 9)]);
/// ```
pub fn layers(widths: &[usize]) -> Layers<'_> {
    Layers {
        widths,
        front: 0,
        back: widths.len().saturating_sub(1),
        front_at: (0, 0),
        back_at: None,
    }
}

/// Iterator returned by [`layers`]. Offsets are carried along, so each step is a few additions.
#[derive(Debug, Clone)]
pub struct Layers<'a> {
    widths: &'a [usize],
    front: usize,
    back: usize,
    /// Parameter and activation offsets of layer `front`.
    front_at: (usize, usize),
    /// Parameter and activation offsets of layer `back`, once walking from the back.
    back_at: Option<(usize, usize)>,
}

impl Layers<'_> {
    fn layer(&self, k: usize, (params_at, acts_at): (usize, usize)) -> Layer {
        let (fan_in, fan_out) = match self.widths.get(k..k.saturating_add(2)) {
            Some([a, b]) => (*a, *b),
            _ => (0, 0),
        };
        Layer {
            fan_in,
            fan_out,
            params_at,
            acts_at,
            relu: k.saturating_add(2) < self.widths.len(),
        }
    }
}

/// Parameters of a layer: weights and biases.
const fn layer_len(layer: &Layer) -> usize {
    layer.weights().wrapping_add(layer.fan_out)
}

impl Iterator for Layers<'_> {
    type Item = Layer;
    fn next(&mut self) -> Option<Layer> {
        (self.front < self.back).then(|| {
            let layer = self.layer(self.front, self.front_at);
            self.front += 1;
            self.front_at = (
                layer.params_at.wrapping_add(layer_len(&layer)),
                layer.acts_at.wrapping_add(layer.fan_in),
            );
            layer
        })
    }
}

impl DoubleEndedIterator for Layers<'_> {
    fn next_back(&mut self) -> Option<Layer> {
        (self.front < self.back).then(|| {
            let widths = self.widths;
            let (params_end, acts_end) = *self.back_at.get_or_insert_with(|| {
                let before_output = widths.get(..widths.len().saturating_sub(1));
                (
                    shape::param_len(widths),
                    shape::activation_len(before_output.unwrap_or(&[])),
                )
            });
            self.back -= 1;
            let mut layer = self.layer(self.back, (0, 0));
            layer.params_at = params_end.wrapping_sub(layer_len(&layer));
            layer.acts_at = acts_end.wrapping_sub(layer.fan_in);
            self.back_at = Some((layer.params_at, layer.acts_at));
            layer
        })
    }
}

/// Mutable weights and biases of `layer` within `params`.
pub(crate) fn layer_params_mut<'p>(
    params: &'p mut [f32],
    layer: &Layer,
) -> (&'p mut [f32], &'p mut [f32]) {
    let rest = params.get_mut(layer.params_at..).unwrap_or(&mut []);
    let n = layer.weights().min(rest.len());
    let (w, rest) = rest.split_at_mut(n);
    let n = layer.fan_out.min(rest.len());
    (w, rest.split_at_mut(n).0)
}

/// He (Kaiming) uniform initialisation, [`crate::Init::He`]: weights from
/// `U(-√(6/fan_in), √(6/fan_in))`, drawn layer by layer and row by row from `rng`; biases zero.
pub fn init_he(widths: &[usize], params: &mut [f32], rng: &mut Lcg) {
    crate::Init::He.fill(widths, params, rng);
}

/// Forward pass of a chunk of `C` samples, keeping every activation for [`backward`].
///
/// `acts` holds `C ×` [`shape::activation_len`] values, layer after layer, each layer
/// feature-major (see [`dense`]); it starts with the inputs (written by the caller) and ends
/// with the outputs.
///
/// `C = 0` does not compile.
#[inline(never)]
pub fn forward<const C: usize>(widths: &[usize], params: &[f32], acts: &mut [f32]) {
    const {
        assert!(
            C > 0,
            "a chunk holds at least one sample: C must be greater than 0"
        )
    }
    let (mut params, mut acts) = (params, acts);
    let hidden = widths.len().saturating_sub(2);
    for (k, pair) in widths.windows(2).enumerate() {
        let &[fan_in, fan_out] = pair else { return };
        let (w, rest) = front(params, fan_in.wrapping_mul(fan_out));
        let (b, rest) = front(rest, fan_out);
        params = rest;
        let (x, rest) = front_mut(core::mem::take(&mut acts), fan_in.wrapping_mul(C));
        let (y, _) = front_mut(&mut *rest, fan_out.wrapping_mul(C));
        dense::forward::<C>(w, b, x, y, k < hidden);
        acts = rest;
    }
}

/// Back-propagation of a chunk of `C` samples through layers `first..` (0-based; the layers
/// below `first` are frozen); adds their gradients to `grads`, sample after sample.
///
/// `grads` holds the gradient sums of the trainable layers only
/// ([`shape::trainable_param_len`]: the tail of the parameters). The errors stop at layer
/// `first`'s input: nothing is computed for a frozen layer. `acts` holds the activations from
/// [`forward`] with ∂loss/∂output written over the outputs (feature-major); in a partial chunk
/// every unused lane must be zero. On the way back, each hidden layer's errors take the place of
/// its activations, which are needed no more: no other memory is used. `xt` holds
/// [`dense::transposed_len`]`(`[`shape::max_fan_in`]`, C)` values of scratch (none for a narrow
/// chunk).
///
/// `C = 0` does not compile.
#[inline(never)]
pub fn backward<const C: usize>(
    widths: &[usize],
    first: usize,
    params: &[f32],
    acts: &mut [f32],
    grads: &mut [f32],
    xt: &mut [f32],
) {
    const {
        assert!(
            C > 0,
            "a chunk holds at least one sample: C must be greater than 0"
        )
    }
    let (mut params, mut grads) = (params, grads);
    let before_output =
        shape::activation_len(widths.get(..widths.len().saturating_sub(1)).unwrap_or(&[]));
    let mut acts = acts
        .get_mut(
            ..before_output
                .wrapping_add(shape::output_width(widths))
                .wrapping_mul(C),
        )
        .unwrap_or(&mut []);
    for (k, pair) in widths.windows(2).enumerate().rev() {
        let &[fan_in, fan_out] = pair else { return };
        if k < first {
            return;
        }
        let weights = fan_in.wrapping_mul(fan_out);
        let (rest, layer) = back(params, weights.wrapping_add(fan_out));
        params = rest;
        let (w, _) = front(layer, weights);
        let (rest, layer) = back_mut(core::mem::take(&mut grads), weights.wrapping_add(fan_out));
        grads = rest;
        let (gw, gb) = front_mut(layer, weights);
        let (rest, dy) = back_mut(core::mem::take(&mut acts), fan_out.wrapping_mul(C));
        let (_, x) = back_mut(&mut *rest, fan_in.wrapping_mul(C));
        if dense::is_wide(C) {
            dense::transpose::<C>(x, xt);
            dense::accumulate::<C>(dy, xt, gw, gb);
        } else {
            dense::accumulate::<C>(dy, x, gw, gb);
        }
        if k > first {
            dense::backprop::<C>(w, dy, x);
        }
        acts = rest;
    }
}

/// The first `n` values of `s` (fewer if it is short) and the rest.
fn front(s: &[f32], n: usize) -> (&[f32], &[f32]) {
    s.split_at(n.min(s.len()))
}

/// The first `n` values of `s` (fewer if it is short) and the rest, mutable.
fn front_mut(s: &mut [f32], n: usize) -> (&mut [f32], &mut [f32]) {
    let n = n.min(s.len());
    s.split_at_mut(n)
}

/// The last `n` values of `s` (fewer if it is short) and what precedes them.
fn back(s: &[f32], n: usize) -> (&[f32], &[f32]) {
    s.split_at(s.len().saturating_sub(n))
}

/// The last `n` values of `s` (fewer if it is short) and what precedes them, mutable.
fn back_mut(s: &mut [f32], n: usize) -> (&mut [f32], &mut [f32]) {
    let n = s.len().saturating_sub(n);
    s.split_at_mut(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::{activation_len, param_len};
    use proptest::prelude::*;
    use std::vec;
    use std::vec::Vec;

    fn loss_of(widths: &[usize], params: &[f32], x: &[f32], t: &[f32]) -> f64 {
        let mut acts = vec![0.0; activation_len(widths)];
        acts[..x.len()].copy_from_slice(x);
        forward::<1>(widths, params, &mut acts);
        acts[acts.len() - t.len()..]
            .iter()
            .zip(t)
            .map(|(y, t)| f64::from(y - t).powi(2))
            .sum::<f64>()
    }

    #[test]
    fn layers_walk_both_ways() {
        let w = [3, 4, 2, 1];
        let fwd: Vec<Layer> = layers(&w).collect();
        let mut back: Vec<Layer> = layers(&w).rev().collect();
        back.reverse();
        assert_eq!(fwd, back);
        assert_eq!(fwd.len(), 3);
        assert_eq!(fwd[2].params_at, 3 * 4 + 4 + 4 * 2 + 2);
        assert_eq!(fwd[2].acts_at, 3 + 4);
        assert!(fwd[1].relu && !fwd[2].relu);
    }

    proptest! {
        /// Back-propagation agrees with central finite differences of the loss Σ(y - t)².
        #[test]
        fn gradients_match_finite_differences(
            widths in proptest::collection::vec(1usize..5, 2..5),
            seed: u64,
            x in proptest::collection::vec(-2.0f32..2.0, 4),
            t in proptest::collection::vec(-2.0f32..2.0, 4),
        ) {
            let n_in = widths[0];
            let n_out = *widths.last().unwrap();
            let (x, t) = (&x[..n_in.min(4)], &t[..n_out.min(4)]);
            prop_assume!(x.len() == n_in && t.len() == n_out);
            let mut params = vec![0.0; param_len(&widths)];
            let mut rng = Lcg::new(seed);
            init_he(&widths, &mut params, &mut rng);
            for p in params.iter_mut() { *p += rng.uniform(-0.1, 0.1); }

            let mut acts = vec![0.0; activation_len(&widths)];
            acts[..n_in].copy_from_slice(x);
            forward::<1>(&widths, &params, &mut acts);
            let at = acts.len() - n_out;
            for (y, t) in acts[at..].iter_mut().zip(t) { *y = 2.0 * (*y - t); }
            let mut grads = vec![0.0; params.len()];
            backward::<1>(&widths, 0, &params, &mut acts, &mut grads, &mut []);

            let h = 1e-2f32;
            for k in 0..params.len() {
                let mut p = params.clone();
                p[k] = params[k] + h;
                let up = loss_of(&widths, &p, x, t);
                p[k] = params[k] - h;
                let down = loss_of(&widths, &p, x, t);
                // A kink of a ReLU inside [p - h, p + h] makes the difference meaningless.
                let mut mid = params.clone();
                let mut kinks = false;
                for s in [-1.0f32, 1.0] {
                    mid[k] = params[k] + s * h;
                    let mut a = vec![0.0; activation_len(&widths)];
                    a[..n_in].copy_from_slice(x);
                    forward::<1>(&widths, &mid, &mut a);
                    let mut b = vec![0.0; activation_len(&widths)];
                    b[..n_in].copy_from_slice(x);
                    forward::<1>(&widths, &params, &mut b);
                    kinks |= a.iter().zip(&b).any(|(u, v)| (*u > 0.0) != (*v > 0.0));
                }
                if kinks { continue; }
                let numeric = (up - down) / (2.0 * f64::from(h));
                let analytic = f64::from(grads[k]);
                prop_assert!(
                    (numeric - analytic).abs() <= 1e-2 * (1.0 + numeric.abs()),
                    "param {}: numeric {} analytic {}", k, numeric, analytic
                );
            }
        }
    }
}
