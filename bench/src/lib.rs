//! Shared setup of the benchmarks: the networks measured and their synthetic data.

use tinytrain_core::{Config, Lcg, Optimizer};

/// Samples per mini-batch in every training benchmark.
pub const BATCH: usize = 16;
/// Training samples per epoch in every training benchmark.
pub const SAMPLES: usize = 1024;

/// The training settings of every benchmark: plain SGD with a small learning rate, batches in
/// order (no shuffle), raw data, and no stopping rule that could end a long run.
pub const CONFIG: Config = Config {
    learning_rate: 1e-4,
    batch_size: BATCH,
    max_epochs: u32::MAX,
    patience: u32::MAX,
    shuffle: false,
    standardize: false,
    stall_epochs: 0,
    divergence_factor: f32::MAX,
    optimizer: Optimizer::SGD,
    ..Config::DEFAULT
};

/// `SAMPLES` + 1 samples (the last one is the validation set) of `n_in` inputs and `n_out`
/// targets, uniform in `[-1, 1)`, row by row.
pub fn data(n_in: usize, n_out: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Lcg::new(seed);
    let mut values = |n: usize| (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect::<Vec<f32>>();
    let xs = values((SAMPLES + 1) * n_in);
    let ys = values((SAMPLES + 1) * n_out);
    (xs, ys)
}
