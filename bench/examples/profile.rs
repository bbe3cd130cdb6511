//! Trains one network for a fixed number of mini-batches, for profilers (callgrind, perf):
//! `cargo run --release -p tinytrain-bench --example profile -- 16,64,64,4 16 2000`
//! (widths, samples per chunk: 1 or 16, batches).

use tinytrain_bench::{data, CONFIG, SAMPLES};
use tinytrain_core::{shape, Dataset, Split, Trainer};

fn train<const C: usize>(widths: &[usize], batches: usize) -> f32 {
    let (n_in, n_out) = (widths[0], widths[widths.len() - 1]);
    let (xs, ys) = data(n_in, n_out, 1);
    let data = Dataset::new(&xs, &ys, n_in, n_out).expect("valid data");
    let mut order: Vec<u32> = (0..=SAMPLES as u32).collect();
    let split = Split::from_order(&mut order, SAMPLES, 1).expect("valid split");
    let config = CONFIG;
    let mut arena = vec![0.0; shape::train_arena_len_chunked(widths, config.optimizer, C)];
    let mut trainer =
        Trainer::<C>::chunked(widths, config, data, split, &mut arena).expect("trainer");
    for _ in 0..batches {
        trainer.step().expect("a step");
    }
    trainer.model().params().iter().sum()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let widths: Vec<usize> = args
        .first()
        .map_or("16,64,64,4", String::as_str)
        .split(',')
        .map(|w| w.parse().expect("a width"))
        .collect();
    let chunk: usize = args
        .get(1)
        .map_or(Ok(16), |c| c.parse())
        .expect("a chunk size");
    let batches: usize = args
        .get(2)
        .map_or(Ok(2000), |b| b.parse())
        .expect("a batch count");
    let checksum = match chunk {
        1 => train::<1>(&widths, batches),
        _ => train::<16>(&widths, batches),
    };
    println!("{checksum}");
}
