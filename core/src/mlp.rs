//! The whole network: dense layers, ReLU between them, a linear output.
//!
//! These functions work on caller-provided slices laid out as [`crate::shape`] describes: all
//! layers' parameters one after the other, and for back-propagation all activations of one
//! sample one after the other (`[x | h1 | h2 | … | y]`). Lengths are checked once by the types
//! that own the buffers ([`crate::Trainer`], [`crate::Model`]); here a short slice only shortens
//! the work (the kernels zip), it never panics. Offsets wrap instead of saturating: widths that
//! passed [`shape::check`] cannot overflow, and others only give offsets no slice has.

use crate::layer_walk::{walk, Cut, Step, Walk};
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

/// The layers of a network with their offsets, input side first; `.rev()` walks them output
/// side first. The layers are those the passes walk; the offsets add up their parameters and
/// inputs.
///
/// ```
/// use tinytrain_core::mlp::layers;
/// let shapes: Vec<_> = layers(&[2, 3, 1]).map(|l| (l.fan_in, l.fan_out, l.params_at)).collect();
/// assert_eq!(shapes, [(2, 3, 0), (3, 1, 9)]);
/// ```
pub fn layers(widths: &[usize]) -> Layers<'_> {
    Layers {
        widths,
        walk: walk(widths),
        front_at: (0, 0),
        back_at: None,
    }
}

/// Iterator returned by [`layers`]. Offsets are carried along, so each step is a few additions.
#[derive(Debug, Clone)]
pub struct Layers<'a> {
    widths: &'a [usize],
    walk: Walk<'a>,
    /// Parameter and activation offsets of the next layer from the front.
    front_at: (usize, usize),
    /// Parameter and activation offsets of the last layer taken from the back, once walking
    /// from the back.
    back_at: Option<(usize, usize)>,
}

/// `step` at parameter and activation offsets `at`.
fn layer_at(step: Step, (params_at, acts_at): (usize, usize)) -> Layer {
    Layer {
        fan_in: step.fan_in,
        fan_out: step.fan_out,
        params_at,
        acts_at,
        relu: step.relu,
    }
}

impl Iterator for Layers<'_> {
    type Item = Layer;
    fn next(&mut self) -> Option<Layer> {
        let step = self.walk.next()?;
        let (params_at, acts_at) = self.front_at;
        self.front_at = (
            params_at.wrapping_add(step.param_len()),
            acts_at.wrapping_add(step.fan_in),
        );
        Some(layer_at(step, (params_at, acts_at)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.walk.size_hint()
    }
}

impl ExactSizeIterator for Layers<'_> {}

impl DoubleEndedIterator for Layers<'_> {
    fn next_back(&mut self) -> Option<Layer> {
        let step = self.walk.next_back()?;
        let widths = self.widths;
        let (params_end, acts_end) = *self.back_at.get_or_insert_with(|| {
            let before_output = widths.get(..widths.len().saturating_sub(1));
            (
                shape::param_len(widths),
                shape::activation_len(before_output.unwrap_or(&[])),
            )
        });
        let at = (
            params_end.wrapping_sub(step.param_len()),
            acts_end.wrapping_sub(step.fan_in),
        );
        self.back_at = Some(at);
        Some(layer_at(step, at))
    }
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
    for layer in walk(widths) {
        let (w, b, rest) = layer.params_front(params);
        params = rest;
        let (x, rest) = core::mem::take(&mut acts).front(layer.input_len::<C>());
        let (y, _) = (&mut *rest).front(layer.output_len::<C>());
        dense::forward::<C>(w, b, x, y, layer.relu);
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
    for layer in walk(widths).rev() {
        if layer.index < first {
            return;
        }
        let (rest, w, _) = layer.params_back(params);
        params = rest;
        let (rest, gw, gb) = layer.params_back(core::mem::take(&mut grads));
        grads = rest;
        let (rest, dy) = core::mem::take(&mut acts).back(layer.output_len::<C>());
        let (_, x) = (&mut *rest).back(layer.input_len::<C>());
        if dense::is_wide(C) {
            dense::transpose::<C>(x, xt);
            dense::accumulate::<C>(dy, xt, gw, gb);
        } else {
            dense::accumulate::<C>(dy, x, gw, gb);
        }
        if layer.index > first {
            dense::backprop::<C>(w, dy, x);
        }
        acts = rest;
    }
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

    #[test]
    fn layers_walked_from_both_ends_meet() {
        let w = [3, 4, 2, 1];
        let mut it = layers(&w);
        assert_eq!(it.len(), 3);
        let first = it.next().unwrap();
        let last = it.next_back().unwrap();
        let middle = it.next_back().unwrap();
        assert_eq!(it.next(), None);
        assert_eq!(it.next_back(), None);
        assert_eq!(vec![first, middle, last], layers(&w).collect::<Vec<_>>());
        assert!(first.relu && middle.relu && !last.relu);
        assert_eq!(layers(&[5]).count(), 0);
        assert_eq!(layers(&[]).rev().count(), 0);
    }

    proptest! {
        /// The cuts of the walk, from the front and from the back, are the layers' parameters
        /// and activations at the offsets [`layers`] reports, and a short slice only shortens
        /// them.
        #[test]
        fn cuts_agree_with_the_offsets(
            widths in proptest::collection::vec(1usize..6, 0..6),
            short in 0usize..40,
        ) {
            const C: usize = 3;
            let params: Vec<f32> = (0..param_len(&widths)).map(|i| i as f32).collect();
            let acts: Vec<f32> = (0..C * activation_len(&widths)).map(|i| i as f32).collect();
            let expected: Vec<Layer> = layers(&widths).collect();
            prop_assert_eq!(walk(&widths).len(), expected.len());

            let (mut front, mut a) = (&params[..], &acts[..]);
            for (step, layer) in walk(&widths).zip(&expected) {
                prop_assert_eq!((step.fan_in, step.fan_out, step.relu), (layer.fan_in, layer.fan_out, layer.relu));
                let (w, b, rest) = step.params_front(front);
                front = rest;
                let at = layer.params_at;
                prop_assert_eq!(w, &params[at..at + layer.weights()]);
                prop_assert_eq!(b, &params[at + layer.weights()..at + layer.weights() + layer.fan_out]);
                let (x, rest) = a.front(step.input_len::<C>());
                a = rest;
                prop_assert_eq!(x, &acts[C * layer.acts_at..C * (layer.acts_at + layer.fan_in)]);
            }
            prop_assert!(front.is_empty());

            let mut back = &params[..];
            for (step, layer) in walk(&widths).rev().zip(expected.iter().rev()) {
                prop_assert_eq!(step.index, expected.iter().position(|l| l == layer).unwrap());
                let (rest, w, b) = step.params_back(back);
                back = rest;
                let at = layer.params_at;
                prop_assert_eq!(w, &params[at..at + layer.weights()]);
                prop_assert_eq!(b.len(), layer.fan_out);
            }
            prop_assert!(back.is_empty());

            let cut = &params[..params.len().saturating_sub(short)];
            let mut rest = cut;
            let mut total = 0;
            for step in walk(&widths) {
                let (w, b, after) = step.params_front(rest);
                total += w.len() + b.len();
                rest = after;
            }
            prop_assert_eq!(total, cut.len());
        }
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
