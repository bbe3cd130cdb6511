//! # tinytrain-demo
//!
//! The on-device learning demo, as code that runs unchanged on a microcontroller and on a
//! desktop. It learns a noisy sine (a data set built into flash) in three steps —
//!
//! 1. split the data with the LCG and fit the linear baseline;
//! 2. train a ReLU MLP with mini-batch Adam, a shuffle every epoch and early stopping;
//! 3. evaluate the test set once and compare with the baseline: the network must be
//!    [`FACTOR`] times better —
//!
//! then saves the model to flash, power-loss safe, and resets: the next [`boot()`] loads it back
//! and checks it bit for bit instead of training again.
//!
//! Every step is a typed [`Line`] handed to a [`Log`]. The firmware prints lines with `defmt`,
//! the host with `Display`; both texts are identical, and every loss carries its `f32` bits, so
//! the two runs can be compared exactly.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod boot;
pub mod classify;
pub mod data;
mod hash;
#[cfg(feature = "std")]
pub mod host;
pub mod line;
pub mod memory;
pub mod recipe;
pub mod story;
pub mod stream;

pub use boot::{boot, Boot, Handover, Next, Policy, BLOB_LEN, SECTIONS, SLOT_SIZE};
pub use hash::fnv1a_f32;
pub use line::{Line, Log, Loss};
pub use memory::{Storage, SCRATCH_LEN};
pub use recipe::{FACTOR, WIDTHS};
pub use story::Outcome;
