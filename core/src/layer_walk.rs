//! The one walk over a network's layers, given its widths: each layer's index, fan-in, fan-out
//! and whether ReLU follows, and the cuts of its parameters from the slices laid out as
//! [`crate::shape`] describes. The passes ([`crate::mlp`]), the initialisation
//! ([`crate::Init`]) and [`crate::mlp::layers`] all take their layers from it; it imports
//! nothing else of the crate, so each of them depends on it and not on each other. The count of
//! a network's parameters ([`param_len`], also [`crate::shape::param_len`]) is here for the same
//! reason: the update rules need it and the buffer layouts need the update rules.

/// One step of the [`walk`]: a layer's place and shape, and the cuts of its parts from the
/// slices laid out as [`crate::shape`] describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Step {
    /// The layer's index, 0 for the input side.
    pub index: usize,
    /// Inputs of the layer.
    pub fan_in: usize,
    /// Outputs of the layer.
    pub fan_out: usize,
    /// Whether ReLU follows (every layer but the last).
    pub relu: bool,
}

impl Step {
    /// Number of weights (biases not counted).
    pub const fn weights(&self) -> usize {
        self.fan_in.wrapping_mul(self.fan_out)
    }

    /// Number of parameters: weights, then biases.
    pub const fn param_len(&self) -> usize {
        self.weights().wrapping_add(self.fan_out)
    }

    /// Values of its input for a chunk of `C` samples.
    pub const fn input_len<const C: usize>(&self) -> usize {
        self.fan_in.wrapping_mul(C)
    }

    /// Values of its output for a chunk of `C` samples.
    pub const fn output_len<const C: usize>(&self) -> usize {
        self.fan_out.wrapping_mul(C)
    }

    /// Its weights and biases cut from the front of `params` (its parameters and those of the
    /// layers after it), and the parameters after them.
    #[inline(always)]
    pub fn params_front<S: Cut>(&self, params: S) -> (S, S, S) {
        let (w, rest) = params.front(self.weights());
        let (b, rest) = rest.front(self.fan_out);
        (w, b, rest)
    }

    /// The parameters before it, and its weights and biases cut from the back of `params`
    /// (its parameters and those of the layers before it).
    #[inline(always)]
    pub fn params_back<S: Cut>(&self, params: S) -> (S, S, S) {
        let (rest, layer) = params.back(self.param_len());
        let (w, b) = layer.front(self.weights());
        (rest, w, b)
    }
}

/// A slice a [`Step`] cuts a layer's part from, shared or mutable. A short slice gives a short
/// part, never a panic.
pub(crate) trait Cut: Sized {
    /// The first `n` values (fewer if the slice is short) and the rest.
    fn front(self, n: usize) -> (Self, Self);
    /// What precedes the last `n` values (fewer if the slice is short), and those.
    fn back(self, n: usize) -> (Self, Self);
}

impl Cut for &[f32] {
    #[inline(always)]
    fn front(self, n: usize) -> (Self, Self) {
        self.split_at(n.min(self.len()))
    }
    #[inline(always)]
    fn back(self, n: usize) -> (Self, Self) {
        self.split_at(self.len().saturating_sub(n))
    }
}

impl Cut for &mut [f32] {
    #[inline(always)]
    fn front(self, n: usize) -> (Self, Self) {
        let n = n.min(self.len());
        self.split_at_mut(n)
    }
    #[inline(always)]
    fn back(self, n: usize) -> (Self, Self) {
        let n = self.len().saturating_sub(n);
        self.split_at_mut(n)
    }
}

/// The one walk over the layers of `widths`, input side first (`.rev()`: output side first):
/// the passes, the initialisation and [`crate::mlp::layers`] all take each layer from it.
///
/// It carries no offsets: the passes cut each layer's parameters and activations from the ends
/// of what is left ([`Step::params_front`], [`Step::params_back`], [`Cut`]), so their loops
/// keep no more state than their slices, and no offset is ever checked twice.
pub(crate) fn walk(widths: &[usize]) -> Walk<'_> {
    Walk {
        pairs: widths.windows(2).enumerate(),
        hidden: widths.len().saturating_sub(2),
    }
}

/// Iterator returned by [`walk`].
#[derive(Debug, Clone)]
pub(crate) struct Walk<'a> {
    /// Each layer's index and its input and output widths, side by side.
    pairs: core::iter::Enumerate<core::slice::Windows<'a, usize>>,
    /// Layers followed by ReLU: all but the output layer.
    hidden: usize,
}

impl Walk<'_> {
    #[inline(always)]
    fn step(&self, (index, pair): (usize, &[usize])) -> Option<Step> {
        let &[fan_in, fan_out] = pair else {
            return None;
        };
        Some(Step {
            index,
            fan_in,
            fan_out,
            relu: index < self.hidden,
        })
    }
}

impl Iterator for Walk<'_> {
    type Item = Step;
    #[inline(always)]
    fn next(&mut self) -> Option<Step> {
        let pair = self.pairs.next()?;
        self.step(pair)
    }

    #[inline(always)]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.pairs.size_hint()
    }
}

impl ExactSizeIterator for Walk<'_> {}

impl DoubleEndedIterator for Walk<'_> {
    #[inline(always)]
    fn next_back(&mut self) -> Option<Step> {
        let pair = self.pairs.next_back()?;
        self.step(pair)
    }
}

/// Parameters (weights and biases) of the network: per layer `fan_in × fan_out + fan_out`
/// (saturating: absurd widths give a huge length that no buffer matches).
pub const fn param_len(widths: &[usize]) -> usize {
    let mut total: usize = 0;
    let mut rest = widths;
    while let [fan_in, tail @ ..] = rest {
        if let [fan_out, ..] = tail {
            total = total.saturating_add(fan_in.saturating_mul(*fan_out).saturating_add(*fan_out));
        }
        rest = tail;
    }
    total
}
