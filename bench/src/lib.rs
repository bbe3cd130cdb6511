//! Shared setup of the benchmarks: the networks measured and their synthetic data.

use tinytrain_core::{shape, Config, Dataset, Lcg, Optimizer, Split, Trainer};

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

/// A network's name in the tables: its widths joined by dashes (`1-16-16-1`).
pub fn label(widths: &[usize]) -> String {
    widths
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("-")
}

/// What a trainer of run-time widths, `C` samples at a time, borrows: the widths, [`data`], the
/// split's sample order (the last sample validates) and the arena.
pub struct Run<const C: usize> {
    widths: Vec<usize>,
    xs: Vec<f32>,
    ys: Vec<f32>,
    order: Vec<u32>,
    arena: Vec<f32>,
}

impl<const C: usize> Run<C> {
    /// The memory of a benchmark run of `widths`.
    pub fn new(widths: &[usize]) -> Self {
        let (n_in, n_out) = (widths[0], widths[widths.len() - 1]);
        let (xs, ys) = data(n_in, n_out, 1);
        Self {
            widths: widths.to_vec(),
            xs,
            ys,
            order: (0..=SAMPLES as u32).collect(),
            arena: vec![0.0; shape::train_arena_len_chunked(widths, CONFIG.optimizer, C)],
        }
    }

    /// A fresh trainer with [`CONFIG`], batches in order.
    pub fn trainer(&mut self) -> Trainer<'_, C> {
        let (n_in, n_out) = (self.widths[0], self.widths[self.widths.len() - 1]);
        let data = Dataset::new(&self.xs, &self.ys, n_in, n_out).expect("valid data");
        let split = Split::from_order(&mut self.order, SAMPLES, 1).expect("a valid split");
        Trainer::chunked(&self.widths, CONFIG, data, split, &mut self.arena).expect("a trainer")
    }
}
