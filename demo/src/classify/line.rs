//! The classification demo's output: typed lines, printed the same on the host (`Display`) and
//! on a device (`defmt::Format`, decoded on the host), every loss with its `f32` bits.

use super::data::CLASSES;
use crate::line::{best_mark, verdict_word, Loss, F};
use core::fmt;
use tinytrain_core::StopReason;

/// One line of the classification demo's story.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Line {
    /// The data set and its stratified split.
    Data {
        /// Samples in the data set.
        samples: u32,
        /// Samples of each class.
        per_class: u32,
        /// Seed of the LCG that drew the split.
        seed: u32,
        /// Training samples.
        train: u32,
        /// Validation samples.
        validation: u32,
        /// Test samples.
        test: u32,
    },
    /// Step 1, the first baseline: always the training set's majority class.
    Majority {
        /// The class.
        class: u32,
        /// Its test accuracy.
        accuracy: f32,
    },
    /// Step 1, the second baseline: the linear softmax model, fitted to convergence.
    Linear {
        /// L-BFGS iterations.
        iterations: u32,
        /// The gradient came down to the tolerance.
        converged: bool,
        /// Its test accuracy.
        accuracy: f32,
        /// Its test cross-entropy.
        cross_entropy: Loss,
    },
    /// Step 2 begins: the network and how it is trained.
    Training {
        /// The network's layer widths.
        widths: &'static [usize],
        /// Its number of weights and biases.
        params: u32,
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
        /// Mean training cross-entropy over the epoch.
        train: Loss,
        /// Validation cross-entropy after the epoch.
        validation: Loss,
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
        /// Its validation cross-entropy.
        best_validation: Loss,
    },
    /// Step 3: the test set, evaluated once.
    Test {
        /// The network's test cross-entropy.
        cross_entropy: Loss,
        /// Its test accuracy.
        accuracy: f32,
    },
    /// One row of the test set's confusion matrix.
    Confusion {
        /// The true class.
        class: u32,
        /// How many of its test samples were predicted as each class.
        row: [u32; CLASSES],
    },
    /// One class's precision and recall on the test set.
    Class {
        /// The class.
        class: u32,
        /// Precision; `None` if never predicted.
        precision: Option<f32>,
        /// Recall; `None` if the class has no test sample.
        recall: Option<f32>,
    },
    /// A class with test samples that the network never predicts.
    NeverPredicted {
        /// The class.
        class: u32,
        /// Its test samples, all wrong.
        support: u32,
    },
    /// The validation cross-entropy rose while the training one kept falling.
    Overfitting {
        /// The epoch of the best validation cross-entropy (its weights were kept).
        best_epoch: u32,
        /// Training cross-entropy then and at the last epoch.
        train: (Loss, Loss),
        /// Validation cross-entropy then and at the last epoch.
        validation: (Loss, Loss),
    },
    /// A fingerprint of the trained weights.
    Weights {
        /// Number of weights and biases.
        params: u32,
        /// FNV-1a (32 bits) of their little-endian bits.
        hash: u32,
    },
    /// Whether the network beat both baselines on the test set.
    Verdict {
        /// It did.
        pass: bool,
        /// The network's test accuracy.
        accuracy: f32,
        /// The linear model's.
        linear: f32,
        /// The majority class's.
        majority: f32,
    },
}

const fn converged_word(converged: bool) -> &'static str {
    if converged {
        "converged"
    } else {
        "NOT converged"
    }
}

/// The sentence of [`Line::Data`] before its numbers.
const DATA: &str = "classify: data: 3 spiral arms in 2-D";

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Line::Data {
                samples,
                per_class,
                seed,
                train,
                validation,
                test,
            } => write!(
                f,
                "{DATA}, {samples} samples ({per_class} per class); stratified split by the LCG \
                 (seed {seed}): {train} train, {validation} validation, {test} test"
            ),
            Line::Majority { class, accuracy } => write!(
                f,
                "step 1, baseline: always class {class} (the training majority): test accuracy {}",
                F(accuracy)
            ),
            Line::Linear {
                iterations,
                converged,
                accuracy,
                cross_entropy,
            } => write!(
                f,
                "step 1, baseline: linear softmax (logistic regression, L-BFGS, {iterations} \
                 iterations, {}): test accuracy {}, cross-entropy {cross_entropy}",
                converged_word(converged),
                F(accuracy)
            ),
            Line::Training {
                widths,
                params,
                learning_rate,
                batch,
                patience,
                max_epochs,
            } => write!(
                f,
                "step 2, train: ReLU MLP {widths:?} ({params} parameters), softmax cross-entropy, \
                 Adam learning rate {}, batches of {batch}, stop after {patience} epochs without \
                 improvement of the validation cross-entropy (at most {max_epochs})",
                F(learning_rate)
            ),
            Line::Epoch {
                epoch,
                train,
                validation,
                best,
            } => write!(
                f,
                "epoch {epoch}: train cross-entropy {train}, validation cross-entropy \
                 {validation}{}",
                best_mark(best)
            ),
            Line::Stopped {
                reason,
                epochs,
                best_epoch,
                best_validation,
            } => write!(
                f,
                "stopped after {epochs} epochs: {}; kept epoch {best_epoch}, validation \
                 cross-entropy {best_validation}",
                reason.name()
            ),
            Line::Test {
                cross_entropy,
                accuracy,
            } => write!(
                f,
                "step 3, test (evaluated once): MLP cross-entropy {cross_entropy}, accuracy {}",
                F(accuracy)
            ),
            Line::Confusion { class, row } => {
                write!(
                    f,
                    "confusion: true class {class}, predicted as 0, 1, 2: {row:?}"
                )
            }
            Line::Class {
                class,
                precision,
                recall,
            } => {
                write!(f, "class {class}: precision ")?;
                match precision {
                    Some(p) => write!(f, "{}", F(p))?,
                    None => f.write_str("none (never predicted)")?,
                }
                f.write_str(", recall ")?;
                match recall {
                    Some(r) => write!(f, "{}", F(r)),
                    None => f.write_str("none (no sample)"),
                }
            }
            Line::NeverPredicted { class, support } => write!(
                f,
                "diagnosis: class {class} is never predicted: its {support} test samples are \
                 all wrong"
            ),
            Line::Overfitting {
                best_epoch,
                train,
                validation,
            } => write!(
                f,
                "diagnosis: overfitting after epoch {best_epoch}: training cross-entropy fell \
                 from {} to {} while validation rose from {} to {}; early stopping kept epoch \
                 {best_epoch}",
                train.0, train.1, validation.0, validation.1
            ),
            Line::Weights { params, hash } => write!(
                f,
                "final weights: {params} parameters, FNV-1a of their bits {hash:#010x}"
            ),
            Line::Verdict {
                pass,
                accuracy,
                linear,
                majority,
            } => write!(
                f,
                "{} both baselines on the test set: accuracy {} vs linear {} and majority {}",
                verdict_word(pass),
                F(accuracy),
                F(linear),
                F(majority)
            ),
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Line {
    fn format(&self, f: defmt::Formatter<'_>) {
        match *self {
            Line::Data {
                samples,
                per_class,
                seed,
                train,
                validation,
                test,
            } => defmt::write!(
                f,
                "{=str}, {=u32} samples ({=u32} per class); stratified split by the LCG \
                 (seed {=u32}): {=u32} train, {=u32} validation, {=u32} test",
                DATA,
                samples,
                per_class,
                seed,
                train,
                validation,
                test
            ),
            Line::Majority { class, accuracy } => defmt::write!(
                f,
                "step 1, baseline: always class {=u32} (the training majority): test accuracy \
                 {=f32}",
                class,
                accuracy
            ),
            Line::Linear {
                iterations,
                converged,
                accuracy,
                cross_entropy,
            } => defmt::write!(
                f,
                "step 1, baseline: linear softmax (logistic regression, L-BFGS, {=u32} \
                 iterations, {=str}): test accuracy {=f32}, cross-entropy {}",
                iterations,
                converged_word(converged),
                accuracy,
                cross_entropy
            ),
            Line::Training {
                widths,
                params,
                learning_rate,
                batch,
                patience,
                max_epochs,
            } => defmt::write!(
                f,
                "step 2, train: ReLU MLP {=[?]} ({=u32} parameters), softmax cross-entropy, \
                 Adam learning rate {=f32}, batches of {=u32}, stop after {=u32} epochs without \
                 improvement of the validation cross-entropy (at most {=u32})",
                widths,
                params,
                learning_rate,
                batch,
                patience,
                max_epochs
            ),
            Line::Epoch {
                epoch,
                train,
                validation,
                best,
            } => defmt::write!(
                f,
                "epoch {=u32}: train cross-entropy {}, validation cross-entropy {}{=str}",
                epoch,
                train,
                validation,
                best_mark(best)
            ),
            Line::Stopped {
                reason,
                epochs,
                best_epoch,
                best_validation,
            } => defmt::write!(
                f,
                "stopped after {=u32} epochs: {=str}; kept epoch {=u32}, validation \
                 cross-entropy {}",
                epochs,
                reason.name(),
                best_epoch,
                best_validation
            ),
            Line::Test {
                cross_entropy,
                accuracy,
            } => defmt::write!(
                f,
                "step 3, test (evaluated once): MLP cross-entropy {}, accuracy {=f32}",
                cross_entropy,
                accuracy
            ),
            Line::Confusion { class, row } => defmt::write!(
                f,
                "confusion: true class {=u32}, predicted as 0, 1, 2: {=[?]}",
                class,
                row[..]
            ),
            Line::Class {
                class,
                precision,
                recall,
            } => {
                defmt::write!(f, "class {=u32}: precision ", class);
                match precision {
                    Some(p) => defmt::write!(f, "{=f32}", p),
                    None => defmt::write!(f, "none (never predicted)"),
                }
                defmt::write!(f, ", recall ");
                match recall {
                    Some(r) => defmt::write!(f, "{=f32}", r),
                    None => defmt::write!(f, "none (no sample)"),
                }
            }
            Line::NeverPredicted { class, support } => defmt::write!(
                f,
                "diagnosis: class {=u32} is never predicted: its {=u32} test samples are all \
                 wrong",
                class,
                support
            ),
            Line::Overfitting {
                best_epoch,
                train,
                validation,
            } => defmt::write!(
                f,
                "diagnosis: overfitting after epoch {=u32}: training cross-entropy fell from {} \
                 to {} while validation rose from {} to {}; early stopping kept epoch {=u32}",
                best_epoch,
                train.0,
                train.1,
                validation.0,
                validation.1,
                best_epoch
            ),
            Line::Weights { params, hash } => defmt::write!(
                f,
                "final weights: {=u32} parameters, FNV-1a of their bits {=u32:#010x}",
                params,
                hash
            ),
            Line::Verdict {
                pass,
                accuracy,
                linear,
                majority,
            } => defmt::write!(
                f,
                "{=str} both baselines on the test set: accuracy {=f32} vs linear {=f32} and \
                 majority {=f32}",
                verdict_word(pass),
                accuracy,
                linear,
                majority
            ),
        }
    }
}
