//! Every public function of the core, called with edge values — zero and huge sizes, slices
//! shorter or longer than asked for, out-of-range indices, NaN and infinities — returns or
//! fails with an `Err`; none panics (debug builds also panic on integer overflow, so an
//! overflowing size is found too). A zero chunk size does not compile (see `zero_chunk`).

use proptest::prelude::*;
use tinytrain_core::brute::{self, Grid};
use tinytrain_core::{
    crc, dense, diagnose, format, loss::Loss, lstsq, mlp, optim::BiasCorrection, scaler, shape,
    Config, Dataset, Init, Lcg, Learner, Model, Optimizer, Split, Trainer,
};

const SPECIAL_F32: [f32; 9] = [
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    0.0,
    -0.0,
    f32::MAX,
    f32::MIN,
    f32::MIN_POSITIVE,
    1e-45,
];

fn any_f32() -> impl Strategy<Value = f32> {
    prop_oneof![prop::sample::select(&SPECIAL_F32[..]), -1e3f32..1e3]
}

/// Sizes: small ones mostly, and the edges.
fn size() -> impl Strategy<Value = usize> {
    prop_oneof![
        6 => 0usize..6,
        1 => prop::sample::select(&[usize::MAX, usize::MAX / 2 + 1, 1 << 32, u32::MAX as usize + 1][..]),
    ]
}

fn widths() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(size(), 0..5)
}

fn values(max: usize) -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(any_f32(), 0..max)
}

fn optimizer() -> impl Strategy<Value = Optimizer> {
    prop_oneof![
        Just(Optimizer::Sgd),
        any_f32().prop_map(|beta| Optimizer::Momentum { beta }),
        (any_f32(), any_f32(), any_f32()).prop_map(|(beta1, beta2, epsilon)| Optimizer::Adam {
            beta1,
            beta2,
            epsilon
        }),
    ]
}

fn init() -> impl Strategy<Value = Init> {
    prop::sample::select(&[Init::He, Init::Xavier, Init::Lecun, Init::Torch][..])
}

/// The kernels of a chunk of `C` samples on slices of any lengths.
fn kernels<const C: usize>(widths: &[usize], v: &mut [Vec<f32>; 5], lane: usize, n: usize) {
    let [a, b, c, d, e] = v;
    dense::forward::<C>(a, b, c, d, true);
    dense::forward::<C>(a, b, c, d, false);
    dense::accumulate::<C>(a, b, c, d);
    dense::transpose::<C>(a, b);
    dense::backprop::<C>(a, b, c);
    mlp::forward::<C>(widths, a, b);
    mlp::backward::<C>(widths, lane, a, b, c, d);
    scaler::scale_inputs::<C>(a, b, lane, c);
    scaler::scale_targets::<C>(a, n, b, lane, e);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn shapes_never_overflow(
        widths in widths(),
        chunk in size(),
        optimizer in optimizer(),
        names in (size(), size()),
        trainable_from in size(),
        training: bool,
        state in proptest::option::of(optimizer()),
    ) {
        let sections = format::Sections {
            input_names: names.0,
            output_names: names.1,
            optimizer: state,
            trainable_from,
            training,
        };
        let _ = (sections.names_len(), sections.state_len(&widths));
        let sizes = [
            shape::param_len(&widths),
            shape::activation_len(&widths),
            shape::input_width(&widths),
            shape::output_width(&widths),
            shape::scaler_len(&widths),
            shape::max_fan_in(&widths),
            shape::scratch_len(&widths),
            shape::chunk_scratch_len(&widths, chunk),
            shape::predict_scratch_len(&widths),
            shape::train_arena_len(&widths, optimizer),
            shape::train_arena_len_chunked(&widths, optimizer, chunk),
            shape::learner_arena_len(&widths, optimizer, chunk),
            shape::model_len(&widths),
            format::encoded_len(&widths, format::Sections::NONE),
            format::encoded_len(&widths, sections),
            dense::transposed_len(shape::max_fan_in(&widths), chunk),
        ];
        if shape::check(&widths).is_ok() {
            prop_assert_eq!(
                shape::train_arena_len_chunked(&widths, optimizer, 1),
                shape::train_arena_len(&widths, optimizer)
            );
            prop_assert!(sizes[0] >= 2, "{sizes:?}");
        }
        prop_assert!(mlp::layers(&widths).count() <= widths.len());
    }

    #[test]
    fn kernels_take_slices_of_any_length(
        widths in widths(),
        v in [values(40), values(40), values(40), values(40), values(40)],
        lane in size(),
        n in size(),
    ) {
        let mut v = v;
        let lens: Vec<usize> = v.iter().map(Vec::len).collect();
        kernels::<1>(&widths, &mut v, lane, n);
        kernels::<3>(&widths, &mut v, lane, n);
        kernels::<8>(&widths, &mut v, lane, n);
        kernels::<16>(&widths, &mut v, lane, n);
        prop_assert_eq!(lens, v.iter().map(Vec::len).collect::<Vec<_>>());
    }

    #[test]
    fn statistics_take_any_sizes(
        stats in values(12),
        raw in values(6),
        n_in in size(),
        n_out in size(),
        data in values(24),
        indices in prop::collection::vec(prop_oneof![0u32..8, Just(u32::MAX)], 0..6),
    ) {
        let mut stats = stats;
        let mut out = raw.clone();
        scaler::unscale_outputs(&stats, n_in, &mut out);
        let (m, d) = scaler::input_stats(&stats, n_in);
        prop_assert!(m.len() <= n_in && d.len() <= n_in);
        let (m, d) = scaler::target_stats(&stats, n_in, n_out);
        prop_assert!(m.len() <= n_out && d.len() <= n_out);
        let _ = scaler::check(&stats, n_in);
        if let Ok(data) = Dataset::new(&data, &raw, n_in, n_out) {
            scaler::fit(&mut stats, &data, &indices);
            let slow = diagnose::noise_floor(&data, &indices);
            let mut sort_scratch = vec![0u32; raw.len() % 13];
            if let Ok(fast) = diagnose::noise_floor_sorted(&data, &indices, &mut sort_scratch) {
                prop_assert_eq!(fast, slow);
            }
            let mut params = vec![0.0; 4];
            let mut scratch = vec![0.0; 40];
            let _ = lstsq::fit(&data, &indices, &mut params, &mut stats, &mut scratch);
        }
        scaler::identity(&mut stats, n_in);
    }

    #[test]
    fn losses_take_any_lengths(p in values(6), t in values(6), n in size()) {
        let mut grad = p.clone();
        let mse = Loss::MeanSquaredError;
        let _ = mse.value(&p, &t);
        mse.gradient(&p, &t, &mut grad);
        let _ = mse.terms(n);
        let _ = tinytrain_core::loss::squared_error(&p, &t);
        let all_finite = p.iter().all(|v| v.is_finite() && v.abs() < 1e3);
        let sum = tinytrain_core::loss::sum_of_squares(&p);
        prop_assert!(!all_finite || sum.is_finite());
    }

    #[test]
    fn optimizers_take_any_lengths_and_values(
        optimizer in optimizer(),
        v in [values(12), values(12), values(30)],
        lr in any_f32(),
        scale in any_f32(),
    ) {
        let [mut params, mut grads, mut state] = v;
        let _ = optimizer.validate();
        let _ = optimizer.state_per_param();
        let mut correction = BiasCorrection::new();
        for _ in 0..3 {
            let _ = optimizer.update(&mut params, &mut grads, &mut state, lr, scale, &mut correction);
        }
    }

    #[test]
    fn random_numbers_take_any_bounds(seed: u64, n: u32, low in any_f32(), high in any_f32(), len in 0usize..20) {
        let mut rng = Lcg::new(seed);
        let k = rng.below(n);
        prop_assert!(n == 0 || k < n);
        let _ = rng.uniform(low, high);
        let mut items: Vec<usize> = (0..len).collect();
        tinytrain_core::rng::shuffle(&mut items, &mut rng);
        items.sort_unstable();
        prop_assert_eq!(items, (0..len).collect::<Vec<_>>());
    }

    #[test]
    fn initialisation_takes_any_widths(
        init in init(),
        widths in widths(),
        fans in (size(), size()),
        params in values(30),
        seed: u64,
    ) {
        let mut params = params;
        let bound = init.weight_bound(fans.0, fans.1);
        prop_assert!(!bound.is_nan());
        init.fill(&widths, &mut params, &mut Lcg::new(seed));
        mlp::init_he(&widths, &mut params, &mut Lcg::new(seed));
    }

    #[test]
    fn model_files_of_any_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..80),
        widths in widths(),
        lens in (size(), size(), size()),
    ) {
        let _ = crc::crc32(&bytes);
        let _ = format::read_header(&bytes);
        let _ = format::inspect(&bytes);
        let mut params = vec![0.0; lens.0.min(64)];
        let mut stats = vec![0.0; lens.1.min(16)];
        let _ = format::load(&bytes, &widths, format::Buffers::new(&mut params, &mut stats));
        if let Ok(model) = Model::new(&widths, &params, &stats) {
            let mut out = vec![0; lens.2.min(256)];
            let _ = format::save(&format::Contents::new(model), &mut out);
        }
    }

    #[test]
    fn data_sets_and_splits_of_any_sizes(
        inputs in values(20),
        targets in values(8),
        n_in in size(),
        n_out in size(),
        at in size(),
        indices in prop::collection::vec(any::<u32>(), 0..6),
        fractions in (any_f32(), any_f32()),
        parts in (size(), size()),
        len in 0usize..20,
        seed: u64,
    ) {
        if let Ok(data) = Dataset::new(&inputs, &targets, n_in, n_out) {
            let _ = data.sample(at);
            let picked = data.select(&indices).count();
            prop_assert!(picked <= indices.len());
            prop_assert_eq!(data.iter().count(), data.len());
        }
        let mut order = vec![0u32; len];
        if let Ok(split) = Split::new(&mut order, fractions.0, fractions.1, seed) {
            let n = split.train().len() + split.validation().len() + split.test().len();
            prop_assert_eq!(n, len);
        }
        let mut order = vec![0u32; len];
        let _ = Split::from_order(&mut order, parts.0, parts.1);
    }

    #[test]
    fn models_predict_on_slices_of_any_length(
        widths in widths(),
        params in values(30),
        stats in values(8),
        inputs in values(20),
        lens in (0usize..400, 0usize..8),
    ) {
        let Ok(model) = Model::new(&widths, &params, &stats) else { return Ok(()) };
        let mut scratch = vec![0.0; lens.0];
        let mut out = vec![0.0; lens.1];
        let _ = model.predict(&inputs, &mut scratch, &mut out);
        let _ = model.predict_many::<1>(&inputs, &mut scratch, &mut out);
        let _ = model.predict_many::<4>(&inputs, &mut scratch, &mut out);
        let _ = model.predict_many::<16>(&inputs, &mut scratch, &mut out);
    }

    #[test]
    fn learners_take_any_sizes_and_samples(
        widths in widths(),
        optimizer in optimizer(),
        arena in 0usize..300,
        x in values(4),
        t in values(3),
    ) {
        let config = Config { optimizer, ..Config::DEFAULT };
        let mut arena = vec![0.0; arena];
        if let Ok(mut learner) = Learner::<4>::new(&widths, config, &mut arena) {
            let samples = [(&x[..], &t[..]); 3];
            let _ = learner.step(samples);
            let _ = learner.evaluate(samples);
            let _ = learner.model();
        }
    }

    #[test]
    fn grid_search_takes_any_grid(
        weight in (any_f32(), any_f32()),
        bias in (any_f32(), any_f32()),
        steps in prop_oneof![0u32..12, Just(u32::MAX)],
        xs in values(8),
        indices in prop::collection::vec(prop_oneof![0u32..10, Just(u32::MAX)], 0..6),
    ) {
        let grid = Grid { weight, bias, steps };
        prop_assert_eq!(grid.points(), u64::from(steps) * u64::from(steps));
        // u32::MAX steps would take ages: searched only when refused early.
        let wide = steps > 100;
        let ys = xs.clone();
        if let Ok(data) = Dataset::new(&xs, &ys, 1, 1) {
            let finite = [weight.0, weight.1, bias.0, bias.1].iter().all(|v| v.is_finite());
            if !wide || !finite {
                if let Ok(best) = brute::search_line(&data, &indices, &grid) {
                    prop_assert_eq!(best.evaluations, grid.points());
                }
            }
        }
    }
}

#[test]
fn trainers_refuse_every_edge_size() {
    let xs = [0.0f32; 10];
    let data = Dataset::new(&xs, &xs, 1, 1).unwrap();
    for widths in [
        &[][..],
        &[1],
        &[1, 0],
        &[0, 1],
        &[1, usize::MAX],
        &[usize::MAX, 1],
    ] {
        let mut order = [0u32; 10];
        let split = Split::new(&mut order, 0.2, 0.2, 1).unwrap();
        let mut arena = vec![0.0; 64];
        let trainer = Trainer::<4>::chunked(widths, Config::DEFAULT, data, split, &mut arena);
        assert!(trainer.is_err(), "{widths:?}");
    }
}

#[test]
fn a_grid_of_65537_steps_counts_its_points_in_a_u64() {
    let grid = Grid {
        weight: (-1.0, 1.0),
        bias: (-1.0, 1.0),
        steps: 65_537,
    };
    assert_eq!(grid.points(), 65_537 * 65_537);
    assert!(grid.points() > u64::from(u32::MAX));
}
