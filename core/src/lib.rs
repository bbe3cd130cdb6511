//! # tinytrain-core
//!
//! Trains small neural networks — a linear model or a ReLU multilayer perceptron — with no heap,
//! no `unsafe` and no panicking path, on a microcontroller or a PC, with the same bits on both.
//!
//! The three steps of machine learning, as modules:
//! 1. **What is good**: [`loss`] — the mean squared error for values, the softmax cross-entropy
//!    for classes ([`softmax`]): one [`loss::Loss`] that training, validation and evaluation all
//!    use.
//! 2. **The set of functions**: [`mlp`] over [`dense`] layers — `widths = [n_in, n_out]` is the
//!    linear model, `[n_in, 16, 16, n_out]` a two-hidden-layer ReLU network, starting from
//!    weights drawn as [`Init`] says. The baseline to beat is the linear model fitted exactly:
//!    [`lstsq`].
//! 3. **Find the best one**: a [`Learner`] trains one mini-batch — forward, loss, backward, one
//!    update of the [`Optimizer`] — and drivers choose the batches: [`Trainer`] runs epochs
//!    with a seeded shuffle ([`Lcg`]) over a train/validation/test [`Split`] and early stopping
//!    ([`stopping`]); [`brute`] searches a grid instead, for toy models.
//!
//! [`stopping`] decides, in standardised units and on documented thresholds: convergence, a stall
//! at a critical point, divergence, a spike; [`diagnose`] reads the outcome: overfitting, the
//! baseline to beat, the noise floor.
//!
//! [`format`] turns a trained model into checked bytes; [`slots`] keeps it on NOR flash so that a
//! power cut in the middle of a save loses nothing.
//!
//! Storage is a caller-provided `f32` arena whose size comes from `const fn`s in [`shape`], so
//! firmware declares it `static` and a host program sizes it at run time:
//!
//! ```
//! use tinytrain_core::{shape, Config, Dataset, Split, Trainer};
//!
//! // y = x² on [-1, 1]: 64 samples.
//! let xs: Vec<f32> = (0..64).map(|i| i as f32 / 32.0 - 1.0).collect();
//! let ys: Vec<f32> = xs.iter().map(|x| x * x).collect();
//! let data = Dataset::new(&xs, &ys, 1, 1)?;
//!
//! const WIDTHS: [usize; 3] = [1, 16, 1];
//! let config = Config { learning_rate: 0.05, batch_size: 8, ..Config::DEFAULT };
//! let mut arena = [0.0f32; shape::train_arena_len(&WIDTHS, tinytrain_core::Optimizer::SGD)];
//! let mut order = [0u32; 64];
//! let split = Split::new(&mut order, 0.2, 0.2, 7)?;
//!
//! let mut trainer = Trainer::new(&WIDTHS, config, data, split, &mut arena)?;
//! let report = trainer.fit(|epoch| { let _ = epoch.loss.val_mse; })?;
//! let done = trainer.finish(); // the test set, evaluated once
//! assert!(done.test_mse.unwrap() < 0.01, "{report:?}");
//! # Ok::<(), tinytrain_core::Error>(())
//! ```
#![cfg_attr(not(test), no_std)]
// docs.rs (`--cfg docsrs`, nightly) marks what each cargo feature adds.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod arena;
pub mod brute;
pub mod config;
pub mod crc;
pub mod data;
pub mod dense;
pub mod diagnose;
pub mod error;
pub mod format;
pub mod init;
mod lanes;
mod layer_walk;
pub mod learner;
pub mod logistic;
pub mod loss;
pub mod lstsq;
pub mod metrics;
pub mod mlp;
pub mod model;
pub mod optim;
pub mod rng;
pub mod scaler;
pub mod shape;
mod slices;
pub mod slots;
pub mod softmax;
pub mod split;
pub mod stopping;
pub mod stream;
pub mod trainer;

pub use config::Config;
pub use data::Dataset;
pub use error::{Error, Field, Section, SplitPart, Statistic};
pub use init::Init;
pub use learner::Learner;
pub use model::Model;
pub use optim::{Optimizer, OptimizerState};
pub use rng::Lcg;
pub use slots::{ModelStore, Slot, Stored};
pub use split::Split;
pub use stopping::{Event, StopReason};
pub use stream::{Stream, StreamConfig};
pub use trainer::{EpochLoss, EpochSummary, Finished, History, Progress, Report, Trainer};
