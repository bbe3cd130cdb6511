//! Training throughput of `tinytrain train` (samples per second): the host path — CSV-shaped
//! samples, run-time widths on heap buffers — for 1-16-16-1 and 10-32-16-1 at batch 16.
//!
//! `cargo bench -p tinytrain-host-sim`

use criterion::{BenchmarkId, Criterion, Throughput};
use tinytrain_core::{Dataset, Lcg};
use tinytrain_host_sim::parts::Parts;
use tinytrain_host_sim::train::{self, OptimizerKind, TrainConfig};

/// Samples of the synthetic data set; 60% of them are trained on per epoch.
const SAMPLES: usize = 1000;
/// Epochs per measured run (early stopping is off).
const EPOCHS: u32 = 5;

/// `SAMPLES` rows of `n_in` uniform inputs and the target `Σ sin(x_i)`.
fn data(n_in: usize) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Lcg::new(3);
    let xs: Vec<f32> = (0..SAMPLES * n_in)
        .map(|_| rng.uniform(-2.0, 2.0))
        .collect();
    let ys = xs
        .chunks_exact(n_in)
        .map(|x| x.iter().map(|v| v.sin()).sum())
        .collect();
    (xs, ys)
}

fn throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("train");
    for widths in [vec![1, 16, 16, 1], vec![10, 32, 16, 1]] {
        let (xs, ys) = data(widths[0]);
        let set = Dataset::new(&xs, &ys, widths[0], 1).expect("valid data");
        let settings = TrainConfig {
            optimizer: OptimizerKind::Adam,
            learning_rate: 0.001,
            max_epochs: EPOCHS,
            patience: u32::MAX,
            ..TrainConfig::new(widths.clone())
        };
        let parts = Parts::draw(set.len(), 0.2, 0.2, 1).expect("a valid split");
        let trained = (SAMPLES * 6 / 10) as u64 * u64::from(EPOCHS);
        group.throughput(Throughput::Elements(trained));
        let name = train::widths_text(&widths);
        group.bench_function(BenchmarkId::new("adam_batch16", name), |b| {
            b.iter(|| train::fit(&set, &settings, &parts, None, |_, _| {}).expect("training runs"))
        });
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    throughput(&mut c);
    c.final_summary();
}
