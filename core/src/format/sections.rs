//! The optional sections of a version 2 blob: their kind codes and payloads.

use super::bytes::{Sink, Writer};
use super::source::{Source, Stream};
use crate::optim::{self, BiasCorrection, OptimizerState};
use crate::{Error, Optimizer, Section};

/// The kind code of a section (section headers hold it as a `u16`).
pub(super) const fn code(section: Section) -> u16 {
    match section {
        Section::Header => 0,
        Section::InputNames => 1,
        Section::OutputNames => 2,
        Section::Optimizer => 3,
        Section::Training => 4,
    }
}

/// The section of a kind code.
pub(super) fn from_code(kind: u16) -> Result<Section, Error> {
    match kind {
        1 => Ok(Section::InputNames),
        2 => Ok(Section::OutputNames),
        3 => Ok(Section::Optimizer),
        4 => Ok(Section::Training),
        _ => Err(Error::UnknownSection { kind }),
    }
}

/// Bytes of a section header: kind (`u16`), 0 (`u16`), payload length (`u32`).
pub(super) const SECTION_HEADER: usize = 8;

/// Bytes of the optimizer section before its per-parameter values.
pub(super) const OPTIMIZER_FIXED: usize = 32;

/// Bytes of the training section's payload.
pub(super) const TRAINING_LEN: usize = 16;

/// The training settings that matter to resume a run: saved with a model, so that training goes
/// on as it was going.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Training {
    /// The learning rate the model was trained with (finite, above 0).
    pub learning_rate: f32,
    /// Samples per mini-batch (at least 1).
    pub batch_size: u32,
    /// The gradient-clipping norm; 0 disables clipping (finite, at least 0).
    pub clip_norm: f32,
    /// Epochs trained so far.
    pub epochs: u32,
}

impl Training {
    /// The settings of a [`crate::Config`] after `epochs` epochs.
    pub fn from_config(config: &crate::Config, epochs: u32) -> Self {
        Self {
            learning_rate: config.learning_rate,
            batch_size: u32::try_from(config.batch_size).unwrap_or(u32::MAX),
            clip_norm: config.clip_norm,
            epochs,
        }
    }

    /// Checks the settings, naming the first bad one.
    pub fn check(&self) -> Result<(), Error> {
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::InvalidLearningRate);
        }
        if self.batch_size == 0 {
            return Err(Error::BatchSizeZero);
        }
        if !(self.clip_norm.is_finite() && self.clip_norm >= 0.0) {
            return Err(Error::InvalidHyperparameter { name: "clip_norm" });
        }
        Ok(())
    }
}

pub(super) fn write_training<K: Sink + ?Sized>(t: &Training, w: &mut Writer<'_, K>) {
    w.f32(t.learning_rate);
    w.u32(t.batch_size);
    w.f32(t.clip_norm);
    w.u32(t.epochs);
}

/// Reads and checks the training settings that fill the stream up to its limit.
pub(super) fn read_training<S: Source + ?Sized>(s: &mut Stream<'_, S>) -> Result<Training, Error> {
    if s.remaining() != TRAINING_LEN {
        return Err(s.malformed("its length is not that of the training settings"));
    }
    let t = Training {
        learning_rate: s.f32()?,
        batch_size: s.u32()?,
        clip_norm: s.f32()?,
        epochs: s.u32()?,
    };
    t.check()?;
    Ok(t)
}

/// The optimizer section's fields before the values: rule (`u8`: 0 SGD, 1 momentum, 2 Adam),
/// 0 (`u8`), first trainable layer (`u16`), three hyperparameters (`f32`: momentum's `β`, or
/// Adam's `β₁ β₂ ε`; 0 where the rule has none), step count (`u64`), `β₁ᵗ` and `β₂ᵗ` (`f32`).
pub(super) fn write_optimizer<K: Sink + ?Sized>(state: &OptimizerState<'_>, w: &mut Writer<'_, K>) {
    let (rule, h) = match state.optimizer {
        Optimizer::Sgd => (0, [0.0; 3]),
        Optimizer::Momentum { beta } => (1, [beta, 0.0, 0.0]),
        Optimizer::Adam {
            beta1,
            beta2,
            epsilon,
        } => (2, [beta1, beta2, epsilon]),
    };
    w.u8(rule);
    w.u8(0);
    w.u16(u16::try_from(state.trainable_from).unwrap_or(u16::MAX));
    h.iter().for_each(|v| w.f32(*v));
    w.u64(state.bias_correction.steps());
    w.f32(state.bias_correction.beta1_t());
    w.f32(state.bias_correction.beta2_t());
    state.values.iter().for_each(|v| w.f32(*v));
}

/// The optimizer section, read and checked for a network with these widths: its fields, and
/// where its values start in the blob.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Saved {
    pub(super) optimizer: Optimizer,
    pub(super) trainable_from: usize,
    pub(super) bias_correction: BiasCorrection,
    /// The blob offset of the first value, and the number of values.
    pub(super) values_at: usize,
    pub(super) len: usize,
}

/// Reads and checks the optimizer state that fills the stream up to its limit.
pub(super) fn read_optimizer<S: Source + ?Sized>(
    s: &mut Stream<'_, S>,
    widths: &[usize],
) -> Result<Saved, Error> {
    let rule = s.byte()?;
    s.zeros(1)?;
    let trainable_from = usize::from(s.u16()?);
    let h = [s.f32()?, s.f32()?, s.f32()?];
    let optimizer = match (rule, h) {
        (0, [0.0, 0.0, 0.0]) => Optimizer::Sgd,
        (1, [beta, 0.0, 0.0]) => Optimizer::Momentum { beta },
        (2, [beta1, beta2, epsilon]) => Optimizer::Adam {
            beta1,
            beta2,
            epsilon,
        },
        (0..=2, _) => return Err(s.malformed("a hyperparameter the rule does not have is not 0")),
        _ => return Err(s.malformed("the update rule is not SGD, momentum or Adam")),
    };
    let bias_correction = BiasCorrection::resume(s.u64()?, s.f32()?, s.f32()?);
    let len = OptimizerState::values_len(widths, optimizer, trainable_from);
    if s.remaining() != len.saturating_mul(4) {
        return Err(s.malformed("the number of values is not the state of the trainable layers"));
    }
    optim::check_state_fields(optimizer, bias_correction, trainable_from, widths, len)?;
    let values_at = s.position();
    for k in 0..len {
        optim::check_state_value(optimizer, k, s.f32()?)?;
    }
    Ok(Saved {
        optimizer,
        trainable_from,
        bias_correction,
        values_at,
        len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for s in [
            Section::InputNames,
            Section::OutputNames,
            Section::Optimizer,
            Section::Training,
        ] {
            assert_eq!(from_code(code(s)), Ok(s));
        }
        assert_eq!(from_code(0), Err(Error::UnknownSection { kind: 0 }));
        assert_eq!(from_code(9), Err(Error::UnknownSection { kind: 9 }));
    }

    #[test]
    fn bad_training_settings_are_named() {
        let good = Training {
            learning_rate: 0.01,
            batch_size: 16,
            clip_norm: 0.0,
            epochs: 3,
        };
        assert_eq!(good.check(), Ok(()));
        let bad = Training {
            batch_size: 0,
            ..good
        };
        assert_eq!(bad.check(), Err(Error::BatchSizeZero));
        let bad = Training {
            clip_norm: f32::NAN,
            ..good
        };
        assert_eq!(
            bad.check(),
            Err(Error::InvalidHyperparameter { name: "clip_norm" })
        );
    }
}
