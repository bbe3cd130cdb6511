//! What the demo learns with and how: the network, the baseline to beat, the split, the
//! training settings, and the sizes they fix. Every other module of the demo reads them here.

use tinytrain_core::arena::Architecture;
use tinytrain_core::{shape, Config, Optimizer};

/// The network: one input, two hidden ReLU layers of 16 units, one output; trained with Adam.
#[derive(Debug)]
pub struct Mlp;

impl Architecture for Mlp {
    const WIDTHS: &'static [usize] = &[1, 16, 16, 1];
    const OPTIMIZER: Optimizer = Optimizer::ADAM;
}

/// The baseline to beat: the least-squares line of the training samples
/// ([`tinytrain_core::lstsq`]).
pub const BASELINE_WIDTHS: &[usize] = &[1, 1];

/// The network's layer widths.
pub const WIDTHS: &[usize] = Mlp::WIDTHS;
/// The network must reach a test MSE this many times lower than the baseline's.
pub const FACTOR: f32 = 10.0;
/// Fraction of the samples held out for validation.
pub const VAL_FRACTION: f32 = 0.2;
/// Fraction of the samples held out for the final test.
pub const TEST_FRACTION: f32 = 0.2;
/// Seed of the split's shuffle (the same split for both models).
pub const SPLIT_SEED: u64 = 7;
/// Test samples whose predictions are shown.
pub const PREDICTIONS: usize = 5;

/// How the network is trained.
pub const CONFIG: Config = Config {
    learning_rate: 0.01,
    batch_size: 16,
    max_epochs: 300,
    patience: 30,
    seed: 1,
    optimizer: Mlp::OPTIMIZER,
    ..Config::DEFAULT
};

/// Samples both models' forward and backward passes run at once: the same bits as one by one,
/// 40% fewer instructions per sample on a Cortex-M4F for the activations of three more samples
/// (408 bytes); one size for both models, so the trainer's code is there once.
pub const CHUNK: usize = 4;
/// Length of the network's training arena.
pub const ARENA_LEN: usize = shape::train_arena_len_chunked(Mlp::WIDTHS, Mlp::OPTIMIZER, CHUNK);
/// Length of the scratch of [`CHUNK`] predictions at once.
pub(crate) const PREDICT_SCRATCH_LEN: usize = CHUNK * shape::predict_scratch_len(WIDTHS);
