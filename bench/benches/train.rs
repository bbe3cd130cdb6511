//! Training and inference throughput on the host: tinytrain's run-time-widths API, its
//! fixed-size API and (with `--features peer`) dfdx 0.13 on the CPU, in one run.
//!
//! `cargo bench -p tinytrain-bench --features peer --bench train`
//!
//! One training iteration = one mini-batch of 16 samples: forward, backward, gradient
//! accumulation and one plain-SGD update. Throughput is reported in samples per second.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use tinytrain_bench::{data, label, Run, BATCH, CONFIG, SAMPLES};
use tinytrain_core::arena::{Architecture, TrainStorage};
use tinytrain_core::{shape, Dataset, Model, Optimizer};

macro_rules! architecture {
    ($name:ident, [$($w:expr),+]) => {
        struct $name;
        impl Architecture for $name {
            const WIDTHS: &'static [usize] = &[$($w),+];
            const OPTIMIZER: Optimizer = Optimizer::SGD;
        }
    };
}
architecture!(Small, [1, 16, 16, 1]);
architecture!(Medium, [10, 32, 16, 1]);
architecture!(Large, [16, 64, 64, 4]);

/// Samples per chunk on the host (see `Trainer::chunked`).
const CHUNK: usize = 16;

/// One iteration trains one mini-batch, `C` samples at a time, with run-time widths.
fn train_runtime<const C: usize>(c: &mut Criterion, widths: &[usize], name: &str) {
    let mut run = Run::<C>::new(widths);
    let mut trainer = run.trainer();
    let mut group = c.benchmark_group("train");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function(BenchmarkId::new(name, label(widths)), |b| {
        b.iter(|| black_box(trainer.step().unwrap()))
    });
}

fn train_fixed<A: Architecture, const ARENA: usize>(c: &mut Criterion) {
    let widths = A::WIDTHS;
    let (n_in, n_out) = (widths[0], widths[widths.len() - 1]);
    let (xs, ys) = data(n_in, n_out, 1);
    let data = Dataset::new(&xs, &ys, n_in, n_out).unwrap();
    let mut storage = Box::new(TrainStorage::<A, ARENA, { SAMPLES + 1 }, CHUNK>::new());
    // Train on the first SAMPLES samples, validate on the last, as the run-time benchmark does.
    let mut trainer = storage
        .trainer(CONFIG, data, 1.0 / (SAMPLES + 1) as f32 * 0.9, 0.0, 1)
        .unwrap();
    let mut group = c.benchmark_group("train");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function(BenchmarkId::new("tinytrain-fixed", label(widths)), |b| {
        b.iter(|| black_box(trainer.step().unwrap()))
    });
}

fn predict(c: &mut Criterion, widths: &[usize]) {
    let (n_in, n_out) = (widths[0], widths[widths.len() - 1]);
    let (xs, _) = data(n_in, n_out, 1);
    let mut params = vec![0.0; shape::param_len(widths)];
    tinytrain_core::mlp::init_he(widths, &mut params, &mut tinytrain_core::Lcg::new(1));
    let mut stats = vec![0.0; shape::scaler_len(widths)];
    tinytrain_core::scaler::identity(&mut stats, n_in);
    let model = Model::new(widths, &params, &stats).unwrap();
    let batch = &xs[..BATCH * n_in];
    let mut group = c.benchmark_group("predict");
    group.throughput(Throughput::Elements(BATCH as u64));
    let mut scratch = vec![0.0; CHUNK * shape::predict_scratch_len(widths)];
    let mut outs = vec![0.0; BATCH * n_out];
    group.bench_function(BenchmarkId::new("tinytrain", label(widths)), |b| {
        b.iter(|| {
            model
                .predict_many::<CHUNK>(batch, &mut scratch, &mut outs)
                .unwrap();
            black_box(&outs);
        })
    });
    let mut scratch = vec![0.0; shape::predict_scratch_len(widths)];
    let mut out = vec![0.0; n_out];
    group.bench_function(
        BenchmarkId::new("tinytrain-per-sample", label(widths)),
        |b| {
            b.iter(|| {
                for x in batch.chunks_exact(n_in) {
                    model.predict(x, &mut scratch, &mut out).unwrap();
                    black_box(&out);
                }
            })
        },
    );
}

fn tinytrain(c: &mut Criterion) {
    for widths in [Small::WIDTHS, Medium::WIDTHS, Large::WIDTHS] {
        train_runtime::<CHUNK>(c, widths, "tinytrain-runtime");
        train_runtime::<1>(c, widths, "tinytrain-per-sample");
        predict(c, widths);
    }
    const SGD: Optimizer = Optimizer::SGD;
    train_fixed::<Small, { shape::train_arena_len_chunked(Small::WIDTHS, SGD, CHUNK) }>(c);
    train_fixed::<Medium, { shape::train_arena_len_chunked(Medium::WIDTHS, SGD, CHUNK) }>(c);
    train_fixed::<Large, { shape::train_arena_len_chunked(Large::WIDTHS, SGD, CHUNK) }>(c);
}

#[cfg(feature = "peer")]
mod peer {
    //! The same networks, data, batch size and plain SGD in dfdx 0.13 on the CPU.
    use super::*;
    use dfdx::optim::{Optimizer as _, Sgd, SgdConfig};
    use dfdx::prelude::*;

    macro_rules! dfdx_bench {
        ($c:expr, $name:literal, $i:literal, $o:literal, $net:ty) => {{
            let dev: Cpu = Default::default();
            let mut model = dev.build_module::<$net, f32>();
            let mut grads = Some(model.alloc_grads());
            let mut opt = Sgd::new(
                &model,
                SgdConfig {
                    lr: f64::from(CONFIG.learning_rate),
                    momentum: None,
                    weight_decay: None,
                },
            );
            let (xs, ys) = data($i, $o, 1);
            let batches: Vec<_> = xs
                .chunks_exact($i * BATCH)
                .zip(ys.chunks_exact($o * BATCH))
                .map(|(x, y)| {
                    let x: Tensor<Rank2<BATCH, $i>, f32, _> = dev.tensor(x.to_vec());
                    let y: Tensor<Rank2<BATCH, $o>, f32, _> = dev.tensor(y.to_vec());
                    (x, y)
                })
                .collect();
            let mut group = $c.benchmark_group("train");
            group.throughput(Throughput::Elements(BATCH as u64));
            let mut k = 0;
            group.bench_function(BenchmarkId::new("dfdx", $name), |b| {
                b.iter(|| {
                    let (x, y) = &batches[k % batches.len()];
                    k += 1;
                    let pred = model.forward_mut(x.clone().traced(grads.take().unwrap()));
                    let mut g = mse_loss(pred, y.clone()).backward();
                    opt.update(&mut model, &g).unwrap();
                    model.zero_grads(&mut g);
                    grads = Some(g);
                })
            });
            drop(group);
            let mut group = $c.benchmark_group("predict");
            group.throughput(Throughput::Elements(BATCH as u64));
            group.bench_function(BenchmarkId::new("dfdx", $name), |b| {
                b.iter(|| black_box(model.forward(batches[0].0.clone())))
            });
        }};
    }

    pub fn dfdx(c: &mut Criterion) {
        dfdx_bench!(
            c,
            "1-16-16-1",
            1,
            1,
            (Linear<1, 16>, ReLU, Linear<16, 16>, ReLU, Linear<16, 1>)
        );
        dfdx_bench!(
            c,
            "10-32-16-1",
            10,
            1,
            (Linear<10, 32>, ReLU, Linear<32, 16>, ReLU, Linear<16, 1>)
        );
        dfdx_bench!(
            c,
            "16-64-64-4",
            16,
            4,
            (Linear<16, 64>, ReLU, Linear<64, 64>, ReLU, Linear<64, 4>)
        );
    }
}

#[cfg(feature = "peer")]
criterion_group!(benches, tinytrain, peer::dfdx);
#[cfg(not(feature = "peer"))]
criterion_group!(benches, tinytrain);
criterion_main!(benches);
