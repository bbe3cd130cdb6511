//! The classification demo: a microcontroller learns to tell three interleaved spiral arms apart
//! (a 2-D data set built into flash), in three steps —
//!
//! 1. split the data class by class with the LCG, and score the two baselines a classifier must
//!    beat: always the majority class, and the linear softmax model fitted to convergence;
//! 2. train a ReLU MLP on the softmax cross-entropy with Adam, stopping early on the validation
//!    cross-entropy;
//! 3. evaluate the test set once: cross-entropy, accuracy, the confusion matrix, each class's
//!    precision and recall —
//!
//! every step a typed [`Line`] handed to a [`Log`](crate::line::Log), the same text on the host
//! and on the device, every loss with its `f32` bits, so the two runs can be compared exactly.

pub mod data;
pub mod line;
pub mod story;

pub use line::Line;
pub use story::{run, Outcome, Storage};
