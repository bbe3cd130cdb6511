//! Trains one network for a fixed number of mini-batches, for profilers (callgrind, perf):
//! `cargo run --release -p tinytrain-bench --example profile -- 16,64,64,4 16 2000`
//! (widths, samples per chunk: 1 or 16, batches).

use tinytrain_bench::Run;

fn train<const C: usize>(widths: &[usize], batches: usize) -> f32 {
    let mut run = Run::<C>::new(widths);
    let mut trainer = run.trainer();
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
