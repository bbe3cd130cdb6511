//! Buffer sizes for a list of layer widths, as `const fn`s.
//!
//! A network is described by its widths, input first: `[1, 16, 16, 1]` is one input, two hidden
//! ReLU layers of 16 units and one linear output; `[n_in, n_out]` is the linear model. Every buffer
//! the core works on is a caller-provided `f32` slice whose length comes from these functions, so
//! firmware can declare `static` storage of exactly the right size:
//!
//! ```
//! use tinytrain_core::{shape, Optimizer};
//! const WIDTHS: [usize; 4] = [1, 16, 16, 1];
//! const PARAMS: usize = shape::param_len(&WIDTHS);
//! assert_eq!(PARAMS, (1 * 16 + 16) + (16 * 16 + 16) + (16 * 1 + 1));
//! static ARENA: [f32; shape::train_arena_len(&WIDTHS, Optimizer::SGD)] =
//!     [0.0; shape::train_arena_len(&WIDTHS, Optimizer::SGD)];
//! assert_eq!(ARENA.len(), 3 * PARAMS + 34 + 4);
//! ```
//!
//! All arithmetic saturates, so absurd widths give a huge length that no buffer matches (an
//! error later), never an overflow.

use crate::config::{Config, StreamConfig};
use crate::{Error, Optimizer};

pub use crate::layer_walk::param_len;

/// Activations kept for back-propagation of one sample: the sum of all widths.
pub const fn activation_len(widths: &[usize]) -> usize {
    let mut total: usize = 0;
    let mut rest = widths;
    while let [w, tail @ ..] = rest {
        total = total.saturating_add(*w);
        rest = tail;
    }
    total
}

/// The input width (0 for an empty list).
pub const fn input_width(widths: &[usize]) -> usize {
    match widths {
        [first, ..] => *first,
        [] => 0,
    }
}

/// The output width (0 for an empty list).
pub const fn output_width(widths: &[usize]) -> usize {
    match widths {
        [.., last] => *last,
        [] => 0,
    }
}

/// Standardisation statistics: mean and standard deviation of every input and every output.
pub const fn scaler_len(widths: &[usize]) -> usize {
    2usize.saturating_mul(input_width(widths).saturating_add(output_width(widths)))
}

/// The widest layer input: every width but the output's.
pub const fn max_fan_in(widths: &[usize]) -> usize {
    let mut max = 0;
    let mut rest = widths;
    while let [w, tail @ ..] = rest {
        if *w > max && !tail.is_empty() {
            max = *w;
        }
        rest = tail;
    }
    max
}

/// Scratch for back-propagation of one sample: its activations, over which the errors are
/// written on the way back.
pub const fn scratch_len(widths: &[usize]) -> usize {
    chunk_scratch_len(widths, 1)
}

/// Scratch for back-propagation of a chunk of `chunk` samples at once: their activations and,
/// for a wide chunk ([`crate::dense::is_wide`]), one layer input rearranged for the weight
/// gradients.
pub const fn chunk_scratch_len(widths: &[usize], chunk: usize) -> usize {
    chunk
        .saturating_mul(activation_len(widths))
        .saturating_add(crate::dense::transposed_len(max_fan_in(widths), chunk))
}

/// The running moments of a stream's warm-up ([`crate::scaler::Moments`], `f64` values): a mean
/// and a sum of squared deviations per input and target.
pub const fn moments_len(widths: &[usize]) -> usize {
    scaler_len(widths)
}

/// Scratch for [`crate::Model::predict`]: the activations of one sample.
pub const fn predict_scratch_len(widths: &[usize]) -> usize {
    activation_len(widths)
}

/// The whole arena [`crate::Trainer`] needs: parameters, gradients, optimizer state, the copy of
/// the best weights for early stopping, back-propagation scratch and standardisation statistics.
pub const fn train_arena_len(widths: &[usize], optimizer: Optimizer) -> usize {
    train_arena_len_chunked(widths, optimizer, 1)
}

/// The arena of a [`crate::Trainer`] that processes `chunk` samples of a mini-batch at once
/// (`Trainer::<C>::chunked`): faster on a PC, more memory, the same bits. It is the
/// [`learner_arena_len`] and the copy of the best weights.
pub const fn train_arena_len_chunked(
    widths: &[usize],
    optimizer: Optimizer,
    chunk: usize,
) -> usize {
    learner_arena_len(widths, optimizer, chunk).saturating_add(param_len(widths))
}

/// The arena of a [`crate::Learner`] that processes `chunk` samples at once and trains every
/// layer: parameters, their gradient sums, the optimizer's state, back-propagation scratch and
/// standardisation statistics.
pub const fn learner_arena_len(widths: &[usize], optimizer: Optimizer, chunk: usize) -> usize {
    learner_arena_len_from(widths, optimizer, chunk, 0)
}

/// As [`learner_arena_len`] with the layers below `trainable_from` frozen
/// ([`crate::Config::trainable_from`]): gradient sums and optimizer state only for the
/// [`trainable_param_len`] parameters of the layers from `trainable_from` on.
pub const fn learner_arena_len_from(
    widths: &[usize],
    optimizer: Optimizer,
    chunk: usize,
    trainable_from: usize,
) -> usize {
    let trainable = trainable_param_len(widths, trainable_from);
    param_len(widths)
        .saturating_add(trainable.saturating_mul(1 + optimizer.state_per_param()))
        .saturating_add(chunk_scratch_len(widths, chunk))
        .saturating_add(scaler_len(widths))
}

/// Layers of a network: one fewer than its widths.
pub const fn layer_count(widths: &[usize]) -> usize {
    widths.len().saturating_sub(1)
}

/// Parameters of the layers below `trainable_from` (0-based), which stay frozen: they come
/// first in the parameters.
pub const fn frozen_param_len(widths: &[usize], trainable_from: usize) -> usize {
    match widths.split_at_checked(trainable_from.saturating_add(1)) {
        Some((frozen, _)) => param_len(frozen),
        None => param_len(widths),
    }
}

/// Parameters of the layers from `trainable_from` (0-based) on, which are trained.
pub const fn trainable_param_len(widths: &[usize], trainable_from: usize) -> usize {
    param_len(widths).saturating_sub(frozen_param_len(widths, trainable_from))
}

/// The arena of a [`Stream`](crate::Stream) running `chunk` samples at once: the learner's
/// ([`learner_arena_len_from`], frozen layers left out), the checkpoint of the trained
/// parameters, and the samples it keeps — replay buffer, validation and test windows — with
/// their inputs and targets in the data's units.
pub const fn stream_arena_len(
    widths: &[usize],
    config: &Config,
    settings: &StreamConfig,
    chunk: usize,
) -> usize {
    let from = config.trainable_from;
    learner_arena_len_from(widths, config.optimizer, chunk, from)
        .saturating_add(trainable_param_len(widths, from))
        .saturating_add(
            settings
                .samples()
                .saturating_mul(input_width(widths).saturating_add(output_width(widths))),
        )
}

/// The arena of a trained [`crate::Model`]: parameters and standardisation statistics.
pub const fn model_len(widths: &[usize]) -> usize {
    param_len(widths).saturating_add(scaler_len(widths))
}

/// The largest parameter count accepted, so every length above stays far from overflow.
pub const MAX_PARAMS: usize = 1 << 28;

/// Checks that `widths` describe a usable network: [`Error::InvalidWidths`] for fewer than two
/// widths or a zero width, [`Error::NetworkTooLarge`] beyond [`MAX_PARAMS`] parameters or
/// activations.
///
/// ```
/// use tinytrain_core::{shape::check, Error};
/// assert!(check(&[2, 8, 1]).is_ok());
/// assert_eq!(check(&[2]), Err(Error::InvalidWidths));
/// assert_eq!(check(&[2, 0, 1]), Err(Error::InvalidWidths));
/// assert!(matches!(check(&[1 << 15, 1 << 15]), Err(Error::NetworkTooLarge { .. })));
/// ```
pub fn check(widths: &[usize]) -> Result<(), Error> {
    if widths.len() < 2 || widths.contains(&0) {
        return Err(Error::InvalidWidths);
    }
    if param_len(widths) > MAX_PARAMS || activation_len(widths) > MAX_PARAMS {
        return Err(Error::NetworkTooLarge { max: MAX_PARAMS });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_of_a_small_net() {
        let w = [2, 3, 1];
        assert_eq!(param_len(&w), 2 * 3 + 3 + 3 + 1);
        assert_eq!(activation_len(&w), 6);
        assert_eq!(scaler_len(&w), 6);
        assert_eq!(scratch_len(&w), 6);
        assert_eq!(train_arena_len(&w, Optimizer::ADAM), 13 * 5 + 6 + 6);
        assert_eq!(max_fan_in(&[2, 5, 3, 9]), 5);
        assert_eq!(chunk_scratch_len(&w, 4), 4 * 6);
        assert_eq!(chunk_scratch_len(&w, 16), 16 * 6 + 8 * 16);
    }

    #[test]
    fn absurd_widths_saturate_and_are_rejected() {
        let w = [usize::MAX, usize::MAX, 3];
        assert_eq!(param_len(&w), usize::MAX);
        assert_eq!(check(&w), Err(Error::NetworkTooLarge { max: MAX_PARAMS }));
        assert_eq!(check(&[]), Err(Error::InvalidWidths));
    }
}
