//! The demo's output: typed lines, printed the same on the host (`Display`) and on a device
//! (`defmt::Format`, decoded on the host).
//!
//! defmt's decoder prints an `f32` as the shortest text that reads back as the same bits (`ryu`);
//! `Display` here does the same, so a line's text is identical on both sides. Every loss also
//! carries its bits in hex.

use core::fmt;
use tinytrain_core::learner::Start;
use tinytrain_core::{Slot, StopReason, Stored};

/// Receives a story's lines, in order: the demo's [`Line`]s (the default), the classification
/// demo's ([`crate::classify::Line`]) or the stream story's ([`crate::stream::StreamLine`]).
pub trait Log<L = Line> {
    /// One line of the story.
    fn line(&mut self, line: &L);
}

/// Two receivers, each handed every line, the first one first: a log and an observer of the
/// story (a device's LED, a work counter) stay apart.
impl<L, A: Log<L>, B: Log<L>> Log<L> for (A, B) {
    fn line(&mut self, line: &L) {
        self.0.line(line);
        self.1.line(line);
    }
}

/// A loss (MSE), printed with its exact bits: `0.0123 (0x3c4985f0)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loss(pub f32);

/// One line of the demo's story.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Line {
    /// The device started.
    Boot {
        /// After a software reset that handed a saved model over; otherwise a cold start.
        warm: bool,
    },
    /// Neither flash slot holds a valid model.
    NoModel {
        /// So the network is trained from scratch.
        train: bool,
    },
    /// A model was loaded from flash.
    Loaded {
        /// The slot it came from.
        slot: Slot,
        /// Its sequence number.
        sequence: u32,
        /// It is trained on; otherwise only evaluated.
        fine_tune: bool,
    },
    /// How the network's optimizer started from the model loaded to fine-tune it.
    Resumed {
        /// Resumed from the state saved with the model, or warmed up without it.
        start: Start,
    },
    /// The data set and its split.
    Data {
        /// Samples in the data set.
        samples: u32,
        /// Seed of the LCG that shuffled the split.
        seed: u32,
        /// Training samples.
        train: u32,
        /// Validation samples.
        validation: u32,
        /// Test samples.
        test: u32,
    },
    /// Step 1: the linear baseline was fitted, exactly, by least squares.
    Baseline {
        /// The model's layer widths.
        widths: &'static [usize],
        /// Training samples it was fitted on.
        samples: u32,
        /// Its best validation MSE.
        val_mse: Loss,
        /// How many times lower the network's test MSE must be than the baseline's.
        factor: f32,
    },
    /// Step 2 begins: the network and how it is trained.
    Training {
        /// The network's layer widths.
        widths: &'static [usize],
        /// Its number of weights and biases.
        params: u32,
        /// The update rule's name.
        optimizer: &'static str,
        /// The learning rate.
        learning_rate: f32,
        /// Samples per mini-batch.
        batch: u32,
        /// Epochs without improvement before stopping early.
        patience: u32,
        /// Upper bound on epochs.
        max_epochs: u32,
    },
    /// An epoch ended.
    Epoch {
        /// The epoch, from 1.
        epoch: u32,
        /// Mean training MSE over the epoch.
        train_mse: Loss,
        /// Validation MSE after the epoch.
        val_mse: Loss,
        /// The best validation loss so far.
        best: bool,
    },
    /// Training stopped.
    Stopped {
        /// Why.
        reason: StopReason,
        /// Epochs run.
        epochs: u32,
        /// The epoch whose weights were kept.
        best_epoch: u32,
        /// Its validation MSE.
        best_val_mse: Loss,
    },
    /// Step 3: the test set, evaluated once, for both models.
    Test {
        /// The network's test MSE.
        mse: Loss,
        /// The linear baseline's test MSE.
        baseline_mse: Loss,
        /// `baseline_mse / mse`.
        ratio: f32,
    },
    /// The test set, evaluated once, for a model loaded and not retrained.
    Evaluated {
        /// Its test MSE.
        mse: Loss,
    },
    /// A prediction on a test sample.
    Prediction {
        /// The input.
        x: f32,
        /// The network's output.
        predicted: f32,
        /// The target.
        target: f32,
    },
    /// A fingerprint of the trained weights.
    Weights {
        /// Number of weights and biases.
        params: u32,
        /// FNV-1a (32 bits) of their little-endian bits.
        hash: u32,
    },
    /// Whether the network beat the baseline by the stated factor on the test set.
    Verdict {
        /// It did.
        beat: bool,
        /// The factor required.
        factor: f32,
    },
    /// The model was saved to flash.
    Saved {
        /// The slot it went to.
        slot: Slot,
        /// Its sequence number.
        sequence: u32,
    },
    /// The device resets to load the model back.
    Reset,
    /// After the reset: whether the model saved before it came back bit for bit.
    Check {
        /// Where it was saved.
        saved: Stored,
        /// Its test MSE before the reset.
        test_mse: Loss,
        /// FNV-1a of its weights' bits before the reset.
        weights_hash: u32,
        /// The model loaded after the reset has the same slot, sequence, test MSE and weights.
        same: bool,
    },
}

/// Float text as defmt's decoder writes it.
pub(crate) struct F(pub(crate) f32);

impl fmt::Display for F {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(ryu::Buffer::new().format(self.0))
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:#010x})", F(self.0), self.0.to_bits())
    }
}

/// The mark of an epoch whose weights are the best so far.
pub(crate) const fn best_mark(best: bool) -> &'static str {
    if best {
        " (best)"
    } else {
        ""
    }
}

const fn boot_kind(warm: bool) -> &'static str {
    if warm {
        "warm start (software reset)"
    } else {
        "cold start (power-on)"
    }
}

const fn no_model_then(train: bool) -> &'static str {
    if train {
        ": training one"
    } else {
        ""
    }
}

const fn loaded_then(fine_tune: bool) -> &'static str {
    if fine_tune {
        "fine-tuning it"
    } else {
        "evaluating it without retraining"
    }
}

/// The start of the optimizer in words, and its count of updates.
const fn start_words(start: Start) -> (&'static str, u64, &'static str) {
    match start {
        Start::Resumed { steps } => (
            "the optimizer's state came with the model: training resumes after",
            steps,
            "updates",
        ),
        Start::WarmUp { steps } => (
            "no optimizer state came with the model: the learning rate warms up over",
            steps as u64,
            "updates",
        ),
    }
}

const fn check_word(same: bool) -> &'static str {
    if same {
        "PASS: the model saved before the reset came back"
    } else {
        "FAIL: the model saved before the reset did not come back"
    }
}

/// The verdict on the MLP against its baseline, both demos' words.
pub(crate) const fn verdict_word(beat: bool) -> &'static str {
    if beat {
        "PASS: the MLP beat"
    } else {
        "FAIL: the MLP did not beat"
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Line::Boot { warm } => write!(f, "boot: {}", boot_kind(warm)),
            Line::NoModel { train } => write!(
                f,
                "flash: no valid model in either slot{}",
                no_model_then(train)
            ),
            Line::Loaded {
                slot,
                sequence,
                fine_tune,
            } => write!(
                f,
                "flash: loaded the model in slot {slot} (sequence {sequence}): {}",
                loaded_then(fine_tune)
            ),
            Line::Resumed { start } => {
                let (before, steps, after) = start_words(start);
                write!(f, "flash: {before} {steps} {after}")
            }
            Line::Data {
                samples,
                seed,
                train,
                validation,
                test,
            } => write!(
                f,
                "data: {samples} samples of y = sin(2 pi x) + noise, x in [-1, 1]; split by the \
                 LCG (seed {seed}): {train} train, {validation} validation, {test} test"
            ),
            Line::Baseline {
                widths,
                samples,
                val_mse,
                factor,
            } => write!(
                f,
                "step 1, baseline: linear model {widths:?} fitted by least squares on {samples} \
                 samples, validation MSE {val_mse}; the MLP must beat it {}x on the test set",
                F(factor)
            ),
            Line::Training {
                widths,
                params,
                optimizer,
                learning_rate,
                batch,
                patience,
                max_epochs,
            } => write!(
                f,
                "step 2, train: ReLU MLP {widths:?} ({params} parameters), {optimizer} \
                 learning rate {}, batches of {batch} shuffled every epoch, stop after {patience} \
                 epochs without improvement (at most {max_epochs})",
                F(learning_rate)
            ),
            Line::Epoch {
                epoch,
                train_mse,
                val_mse,
                best,
            } => write!(
                f,
                "epoch {epoch}: train MSE {train_mse}, validation MSE {val_mse}{}",
                best_mark(best)
            ),
            Line::Stopped {
                reason,
                epochs,
                best_epoch,
                best_val_mse,
            } => write!(
                f,
                "stopped after {epochs} epochs: {} ({}); kept epoch {best_epoch}, \
                 validation MSE {best_val_mse}",
                reason.name(),
                reason.explain()
            ),
            Line::Test {
                mse,
                baseline_mse,
                ratio,
            } => write!(
                f,
                "step 3, test (evaluated once): MLP MSE {mse} vs linear baseline MSE \
                 {baseline_mse}: {}x lower",
                F(ratio)
            ),
            Line::Evaluated { mse } => write!(
                f,
                "step 3, test (evaluated once): the loaded MLP's MSE {mse}, not retrained"
            ),
            Line::Prediction {
                x,
                predicted,
                target,
            } => write!(
                f,
                "  x = {}: predicted {}, target {}",
                F(x),
                F(predicted),
                F(target)
            ),
            Line::Weights { params, hash } => write!(
                f,
                "final weights: {params} parameters, FNV-1a of their bits {hash:#010x}"
            ),
            Line::Verdict { beat, factor } => write!(
                f,
                "{} the linear baseline by {}x on the test set",
                verdict_word(beat),
                F(factor)
            ),
            Line::Saved { slot, sequence } => write!(
                f,
                "flash: saved the model to slot {slot} (sequence {sequence})"
            ),
            Line::Reset => f.write_str("reset: software reset, to load the model back"),
            Line::Check {
                saved,
                test_mse,
                weights_hash,
                same,
            } => write!(
                f,
                "check: {} bit for bit: slot {} (sequence {}), test MSE {test_mse}, weights \
                 {weights_hash:#010x}",
                check_word(same),
                saved.slot,
                saved.sequence
            ),
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Loss {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=f32} ({=u32:#010x})", self.0, self.0.to_bits());
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Line {
    fn format(&self, f: defmt::Formatter<'_>) {
        match *self {
            Line::Boot { warm } => defmt::write!(f, "boot: {=str}", boot_kind(warm)),
            Line::NoModel { train } => defmt::write!(
                f,
                "flash: no valid model in either slot{=str}",
                no_model_then(train)
            ),
            Line::Loaded {
                slot,
                sequence,
                fine_tune,
            } => defmt::write!(
                f,
                "flash: loaded the model in slot {} (sequence {=u32}): {=str}",
                slot,
                sequence,
                loaded_then(fine_tune)
            ),
            Line::Resumed { start } => {
                let (before, steps, after) = start_words(start);
                defmt::write!(f, "flash: {=str} {=u64} {=str}", before, steps, after)
            }
            Line::Data {
                samples,
                seed,
                train,
                validation,
                test,
            } => defmt::write!(
                f,
                "data: {=u32} samples of y = sin(2 pi x) + noise, x in [-1, 1]; \
                 split by the LCG (seed {=u32}): {=u32} train, {=u32} validation, {=u32} test",
                samples,
                seed,
                train,
                validation,
                test
            ),
            Line::Baseline {
                widths,
                samples,
                val_mse,
                factor,
            } => defmt::write!(
                f,
                "step 1, baseline: linear model {=[?]} fitted by least squares on {=u32} \
                 samples, validation MSE {}; the MLP must beat it {=f32}x on the test set",
                widths,
                samples,
                val_mse,
                factor
            ),
            Line::Training {
                widths,
                params,
                optimizer,
                learning_rate,
                batch,
                patience,
                max_epochs,
            } => defmt::write!(
                f,
                "step 2, train: ReLU MLP {=[?]} ({=u32} parameters), {=str} \
                 learning rate {=f32}, batches of {=u32} shuffled every epoch, stop after {=u32} \
                 epochs without improvement (at most {=u32})",
                widths,
                params,
                optimizer,
                learning_rate,
                batch,
                patience,
                max_epochs
            ),
            Line::Epoch {
                epoch,
                train_mse,
                val_mse,
                best,
            } => defmt::write!(
                f,
                "epoch {=u32}: train MSE {}, validation MSE {}{=str}",
                epoch,
                train_mse,
                val_mse,
                best_mark(best)
            ),
            Line::Stopped {
                reason,
                epochs,
                best_epoch,
                best_val_mse,
            } => defmt::write!(
                f,
                "stopped after {=u32} epochs: {=str} ({=str}); kept epoch {=u32}, \
                 validation MSE {}",
                epochs,
                reason.name(),
                reason.explain(),
                best_epoch,
                best_val_mse
            ),
            Line::Test {
                mse,
                baseline_mse,
                ratio,
            } => defmt::write!(
                f,
                "step 3, test (evaluated once): MLP MSE {} vs linear baseline MSE \
                 {}: {=f32}x lower",
                mse,
                baseline_mse,
                ratio
            ),
            Line::Evaluated { mse } => defmt::write!(
                f,
                "step 3, test (evaluated once): the loaded MLP's MSE {}, not retrained",
                mse
            ),
            Line::Prediction {
                x,
                predicted,
                target,
            } => defmt::write!(
                f,
                "  x = {=f32}: predicted {=f32}, target {=f32}",
                x,
                predicted,
                target
            ),
            Line::Weights { params, hash } => defmt::write!(
                f,
                "final weights: {=u32} parameters, FNV-1a of their bits {=u32:#010x}",
                params,
                hash
            ),
            Line::Verdict { beat, factor } => defmt::write!(
                f,
                "{=str} the linear baseline by {=f32}x on the test set",
                verdict_word(beat),
                factor
            ),
            Line::Saved { slot, sequence } => defmt::write!(
                f,
                "flash: saved the model to slot {} (sequence {=u32})",
                slot,
                sequence
            ),
            Line::Reset => defmt::write!(f, "reset: software reset, to load the model back"),
            Line::Check {
                saved,
                test_mse,
                weights_hash,
                same,
            } => defmt::write!(
                f,
                "check: {=str} bit for bit: slot {} (sequence {=u32}), test MSE {}, weights \
                 {=u32:#010x}",
                check_word(same),
                saved.slot,
                saved.sequence,
                test_mse,
                weights_hash
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn losses_carry_their_bits() {
        assert_eq!(Loss(1.0).to_string(), "1.0 (0x3f800000)");
        assert_eq!(Loss(0.1).to_string(), "0.1 (0x3dcccccd)");
    }

    #[test]
    fn floats_print_as_the_decoder_prints_them() {
        // Shortest round-trip text, always with a point or an exponent.
        assert_eq!(F(2.0).to_string(), "2.0");
        assert_eq!(F(1e-7).to_string(), "1e-7");
        let text = F(0.012_345_678).to_string();
        assert_eq!(
            text.parse::<f32>().unwrap().to_bits(),
            0.012_345_678f32.to_bits()
        );
    }

    #[test]
    fn an_epoch_line() {
        let line = Line::Epoch {
            epoch: 3,
            train_mse: Loss(0.5),
            val_mse: Loss(0.25),
            best: true,
        };
        assert_eq!(
            line.to_string(),
            "epoch 3: train MSE 0.5 (0x3f000000), validation MSE 0.25 (0x3e800000) (best)"
        );
    }
}
