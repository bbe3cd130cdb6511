//! No input makes the core panic: NaN, infinities, empty slices, absurd widths and
//! hyperparameters all end in an `Err` or a finished training run.

use proptest::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use tinytrain_core::loss::Loss;
use tinytrain_core::{shape, Config, Dataset, Init, Model, Optimizer, Split, Trainer};

const SPECIAL_F32: [f32; 8] = [
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    0.0,
    -0.0,
    f32::MAX,
    f32::MIN_POSITIVE,
    1e-45,
];

fn wild_f32() -> impl Strategy<Value = f32> {
    prop_oneof![prop::sample::select(&SPECIAL_F32[..]), -1e3f32..1e3]
}

fn wild_usize() -> impl Strategy<Value = usize> {
    prop_oneof![
        prop::sample::select(&[0, usize::MAX, 1 << 40][..]),
        1usize..6
    ]
}

fn optimizer() -> impl Strategy<Value = Optimizer> {
    prop_oneof![
        Just(Optimizer::Sgd),
        mostly(0.0..1.0).prop_map(|beta| Optimizer::Momentum { beta }),
        (mostly(0.0..1.0), mostly(0.0..1.0), mostly(1e-9..1e-3)).prop_map(
            |(beta1, beta2, epsilon)| {
                Optimizer::Adam {
                    beta1,
                    beta2,
                    epsilon,
                }
            }
        ),
    ]
}

/// Mostly sane values, so that most cases train, with a wild value one time in eight.
fn mostly(sane: std::ops::Range<f32>) -> impl Strategy<Value = f32> {
    prop_oneof![7 => sane, 1 => wild_f32()]
}

prop_compose! {
    fn config()(
        rates in (mostly(0.0..2.0), mostly(0.0..0.1), mostly(0.0..0.5)),
        limits in (mostly(0.0..2.0), mostly(0.0..1e-3), mostly(1.5..1e3)),
        batch_size in prop_oneof![3 => 1usize..8, 1 => wild_usize()],
        epochs in proptest::array::uniform2(prop_oneof![1 => Just(0u32), 1 => Just(u32::MAX), 6 => 1u32..4]),
        seed: u64,
        flags: (bool, bool),
        optimizer in optimizer(),
        init in proptest::sample::select(Init::ALL.to_vec()),
        trainable_from in prop_oneof![4 => Just(0usize), 1 => 0usize..4],
    ) -> Config {
        let (learning_rate, min_delta, target_loss) = rates;
        let (clip_norm, stall_grad_norm, divergence_factor) = limits;
        Config {
            learning_rate, batch_size, max_epochs: epochs[0], patience: epochs[1], min_delta,
            target_loss, seed, init, shuffle: flags.0, optimizer, loss: Loss::MeanSquaredError,
            trainable_from, standardize: flags.1, clip_norm,
            stall_grad_norm, stall_epochs: 2, divergence_factor,
        }
    }
}

/// Cases of `training_never_panics` that got as far as training.
static TRAINED: AtomicUsize = AtomicUsize::new(0);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Run by [`training_never_panics_and_mostly_trains`], which also counts the cases trained.
    fn training_never_panics(
        hidden in proptest::collection::vec(prop_oneof![3 => 1usize..5, 1 => wild_usize()], 0..3),
        wild_widths in proptest::option::weighted(0.1, proptest::collection::vec(wild_usize(), 0..5)),
        n_in in prop_oneof![9 => 1usize..4, 1 => Just(0usize)],
        values in prop_oneof![
            9 => proptest::collection::vec(-10.0f32..10.0, 20..80),
            1 => proptest::collection::vec(wild_f32(), 0..40),
        ],
        config in config(),
        val in mostly(0.2..0.4),
        test in prop_oneof![2 => Just(0.0f32), 5 => 0.15f32..0.3, 1 => wild_f32()],
        arena_extra in 0usize..3,
        arena_short in proptest::bool::weighted(0.1),
    ) {
        let n_out = 1;
        let widths = wild_widths.unwrap_or_else(|| {
            std::iter::once(n_in).chain(hidden).chain(std::iter::once(n_out)).collect()
        });
        let n = values.len() / (n_in + n_out).max(1);
        let (inputs, targets) = values.split_at((n * n_in).min(values.len()));
        let Ok(data) = Dataset::new(inputs, &targets[..n.min(targets.len())], n_in, n_out) else {
            return Ok(());
        };
        let mut order = vec![0u32; data.len()];
        let Ok(split) = Split::new(&mut order, val, test, config.seed) else { return Ok(()); };
        let needed = shape::train_arena_len(&widths, config.optimizer).min(10_000);
        let len = if arena_short { needed.saturating_sub(1) } else { needed + arena_extra };
        let mut arena = vec![0.0f32; len];
        if let Ok(mut trainer) = Trainer::new(&widths, config, data, split, &mut arena) {
            for _ in 0..200 {
                if trainer.step().is_err() { break; }
            }
            let _ = trainer.report();
            let done = trainer.finish();
            prop_assert!(done.model.params().iter().all(|p| p.is_finite()));
            TRAINED.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn prediction_never_panics(
        widths in proptest::collection::vec(wild_usize(), 0..5),
        params in proptest::collection::vec(wild_f32(), 0..60),
        stats in proptest::collection::vec(wild_f32(), 0..12),
        input in proptest::collection::vec(wild_f32(), 0..6),
        scratch_len in 0usize..40,
        out_len in 0usize..3,
    ) {
        if let Ok(model) = Model::new(&widths, &params, &stats) {
            let mut scratch = vec![0.0; scratch_len];
            let mut out = vec![0.0; out_len];
            let _ = model.predict(&input, &mut scratch, &mut out);
        }
    }
}

#[test]
fn training_never_panics_and_mostly_trains() {
    training_never_panics();
    let trained = TRAINED.load(Ordering::Relaxed);
    assert!(
        trained >= 50,
        "only {trained} of 512 cases trained: the strategies are too wild"
    );
}
