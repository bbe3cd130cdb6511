//! Learning works: a ReLU network fits a noisy sine close to the noise floor and beats the
//! linear baseline by a wide margin; training is deterministic; early stopping keeps the best
//! weights; a learning rate far too large ends as `diverged` with the best weights restored.

use tinytrain_core::diagnose::Comparison;
use tinytrain_core::{
    shape, Config, Dataset, Finished, Lcg, Optimizer, Progress, Split, StopReason, Trainer,
};

/// Noise standard deviation of the sine data.
const SIGMA: f32 = 0.1;

/// `n` samples of `y = sin(2x) + N(0, σ²)` for `x` uniform in `[-3, 3)`.
fn noisy_sine(n: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Lcg::new(seed);
    let xs: Vec<f32> = (0..n).map(|_| rng.uniform(-3.0, 3.0)).collect();
    let ys = xs
        .iter()
        .map(|x| {
            // Box–Muller from two uniforms in (0, 1].
            let (u, v) = (1.0 - rng.next_f32(), rng.next_f32());
            let normal = (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos();
            (2.0 * x).sin() + SIGMA * normal
        })
        .collect();
    (xs, ys)
}

struct Run {
    val: f32,
    test: f32,
    stop: StopReason,
    best_epoch: u32,
    params: Vec<f32>,
    val_curve: Vec<f32>,
}

fn train(widths: &[usize], config: Config, xs: &[f32], ys: &[f32]) -> Run {
    let data = Dataset::new(xs, ys, 1, 1).unwrap();
    let mut order = vec![0; xs.len()];
    let split = Split::new(&mut order, 0.2, 0.2, 11).unwrap();
    let mut arena = vec![0.0; shape::train_arena_len(widths, config.optimizer)];
    let mut trainer = Trainer::new(widths, config, data, split, &mut arena).unwrap();
    let mut val_curve = Vec::new();
    let report = trainer.fit(|e| val_curve.push(e.loss.val_mse)).unwrap();
    let Finished {
        model, test_mse, ..
    } = trainer.finish();
    Run {
        val: report.best_val_mse,
        test: test_mse.unwrap(),
        stop: report.stop.unwrap(),
        best_epoch: report.best_epoch,
        params: model.params().to_vec(),
        val_curve,
    }
}

fn mlp_config() -> Config {
    Config {
        learning_rate: 0.005,
        batch_size: 16,
        max_epochs: 1500,
        patience: 100,
        optimizer: Optimizer::ADAM,
        ..Config::DEFAULT
    }
}

#[test]
fn relu_network_reaches_the_noise_floor_and_beats_the_baseline() {
    let (xs, ys) = noisy_sine(256, 5);
    let noise = SIGMA * SIGMA;
    let mlp = train(&[1, 16, 16, 1], mlp_config(), &xs, &ys);
    let linear = train(&[1, 1], mlp_config(), &xs, &ys);
    eprintln!(
        "noisy sine, 256 samples, noise variance {noise}: 1-16-16-1 val {} test {} \
         (best epoch {}, {:?}); linear val {} test {}",
        mlp.val, mlp.test, mlp.best_epoch, mlp.stop, linear.val, linear.test
    );
    assert!(
        mlp.val <= 2.0 * noise,
        "validation MSE {} is not within 2x the noise variance {noise}",
        mlp.val
    );
    let vs_baseline = Comparison {
        baseline_mse: linear.val,
        model_mse: mlp.val,
    };
    assert!(
        vs_baseline.beats(10.0),
        "MLP {} vs linear {}: only {}x better",
        mlp.val,
        linear.val,
        vs_baseline.improvement()
    );
    assert!(mlp.test <= 3.0 * noise, "test MSE {}", mlp.test);
}

#[test]
fn same_seed_same_bits_other_seed_other_bits() {
    let (xs, ys) = noisy_sine(64, 1);
    let config = Config {
        max_epochs: 20,
        ..mlp_config()
    };
    let a = train(&[1, 8, 8, 1], config, &xs, &ys);
    let b = train(&[1, 8, 8, 1], config, &xs, &ys);
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.params), bits(&b.params));
    assert_eq!(bits(&a.val_curve), bits(&b.val_curve));
    let c = train(&[1, 8, 8, 1], Config { seed: 2, ..config }, &xs, &ys);
    assert_ne!(bits(&a.params), bits(&c.params));
}

#[test]
fn early_stopping_returns_the_best_validation_weights() {
    // Few samples, a wide network and no patience for noise: it overfits, then stops.
    let (xs, ys) = noisy_sine(40, 3);
    let config = Config {
        learning_rate: 0.01,
        batch_size: 4,
        patience: 30,
        max_epochs: 3000,
        ..mlp_config()
    };
    let run = train(&[1, 32, 32, 1], config, &xs, &ys);
    assert_eq!(run.stop, StopReason::EarlyStopped);
    let best = run.val_curve.iter().copied().fold(f32::INFINITY, f32::min);
    assert_eq!(run.val, best);
    assert_eq!(run.val_curve[run.best_epoch as usize - 1], best);
    // Patience 30: thirty epochs without improvement are tolerated, the thirty-first stops.
    assert_eq!(run.val_curve.len() as u32, run.best_epoch + 31);

    // The weights handed back give exactly the best validation loss.
    let data = Dataset::new(&xs, &ys, 1, 1).unwrap();
    let mut order = vec![0; xs.len()];
    let split = Split::new(&mut order, 0.2, 0.2, 11).unwrap();
    let widths = [1, 32, 32, 1];
    let mut arena = vec![0.0; shape::train_arena_len(&widths, config.optimizer)];
    let mut trainer = Trainer::new(&widths, config, data, split, &mut arena).unwrap();
    let report = trainer.fit(|_| {}).unwrap();
    let mut scratch = vec![0.0; shape::predict_scratch_len(&widths)];
    let model = trainer.model();
    let val = model
        .mse(&data, trainer.split().validation(), &mut scratch)
        .unwrap();
    // The model's MSE in the data's units is the best standardised one, scaled (to f32
    // rounding: the trainer judges in standardised units).
    let best = report.to_original_units(best);
    assert!(
        (f64::from(val) / best - 1.0).abs() < 1e-5,
        "{val} vs {best}"
    );
}

#[test]
fn far_too_large_a_learning_rate_diverges_and_restores_the_best_weights() {
    let (xs, ys) = noisy_sine(128, 9);
    let config = Config {
        learning_rate: 5.0,
        optimizer: Optimizer::SGD,
        ..mlp_config()
    };
    let data = Dataset::new(&xs, &ys, 1, 1).unwrap();
    let mut order = vec![0; xs.len()];
    let split = Split::new(&mut order, 0.2, 0.2, 11).unwrap();
    let widths = [1, 16, 16, 1];
    let mut arena = vec![0.0; shape::train_arena_len(&widths, config.optimizer)];
    let mut trainer = Trainer::new(&widths, config, data, split, &mut arena).unwrap();
    let initial = trainer.model().params().to_vec();
    let report = trainer.fit(|_| {}).unwrap();
    assert_eq!(report.stop, Some(StopReason::Diverged));
    assert!(
        report.epochs_run < 20,
        "caught early: {}",
        report.epochs_run
    );
    let params = trainer.model().params();
    assert!(params.iter().all(|p| p.is_finite()));
    if report.best_epoch == 0 {
        assert_eq!(
            params,
            &initial[..],
            "no good epoch: the initial weights come back"
        );
    }
    assert!(matches!(
        trainer.step(),
        Err(tinytrain_core::Error::Finished)
    ));
}

#[test]
fn gradient_clipping_tames_the_same_learning_rate() {
    let (xs, ys) = noisy_sine(128, 9);
    // He's larger initial weights: this learning rate then blows up within a few epochs.
    let config = Config {
        learning_rate: 0.5,
        optimizer: Optimizer::SGD,
        max_epochs: 50,
        init: tinytrain_core::Init::He,
        ..mlp_config()
    };
    let wild = train(&[1, 16, 16, 1], config, &xs, &ys);
    let clipped = train(
        &[1, 16, 16, 1],
        Config {
            clip_norm: 0.5,
            ..config
        },
        &xs,
        &ys,
    );
    assert_eq!(wild.stop, StopReason::Diverged);
    assert_ne!(clipped.stop, StopReason::Diverged);
}

#[test]
fn all_weights_zero_is_a_saddle_point_and_is_reported_as_a_stall() {
    // With every weight and bias at zero, each hidden unit outputs 0 and gets no gradient:
    // only the output bias learns (the mean), then the gradient vanishes with the loss high.
    let (xs, ys) = noisy_sine(64, 4);
    let data = Dataset::new(&xs, &ys, 1, 1).unwrap();
    let mut order = vec![0; xs.len()];
    let split = Split::new(&mut order, 0.2, 0.2, 11).unwrap();
    let widths = [1, 8, 1];
    let config = Config {
        learning_rate: 0.1,
        optimizer: Optimizer::SGD,
        batch_size: 64,
        patience: 1000,
        max_epochs: 2000,
        ..Config::DEFAULT
    };
    let mut arena = vec![0.0; shape::train_arena_len(&widths, config.optimizer)];
    let mut trainer = Trainer::new(&widths, config, data, split, &mut arena).unwrap();
    trainer
        .set_params(&vec![0.0; shape::param_len(&widths)])
        .unwrap();
    let mut last = None;
    while let Ok(p) = trainer.step() {
        if let Progress::Epoch(s) = p {
            last = Some(s);
        }
    }
    let last = last.unwrap();
    assert_eq!(last.stop, Some(StopReason::Stalled), "{last:?}");
    assert!(last.grad_norm < 1e-6);
    assert!(
        last.loss.val_mse > 0.3,
        "loss still high: {}",
        last.loss.val_mse
    );
}

#[test]
fn gradient_descent_beats_brute_force_with_far_less_work() {
    use tinytrain_core::brute::{search_line, Grid};
    // y = 1.7x - 0.3 + noise: the best line is not on the grid's points.
    let mut rng = Lcg::new(21);
    let xs: Vec<f32> = (0..200).map(|_| rng.uniform(-2.0, 2.0)).collect();
    let ys: Vec<f32> = xs
        .iter()
        .map(|x| 1.7 * x - 0.3 + rng.uniform(-0.1, 0.1))
        .collect();
    let data = Dataset::new(&xs, &ys, 1, 1).unwrap();
    let all: Vec<u32> = (0..200).collect();
    let grid = Grid {
        weight: (-5.0, 5.0),
        bias: (-5.0, 5.0),
        steps: 100,
    };
    let brute = search_line(&data, &all, &grid).unwrap();

    let mut order = all.clone();
    let split = Split::from_order(&mut order, 199, 1).unwrap();
    let config = Config {
        learning_rate: 0.1,
        batch_size: 200,
        max_epochs: 200,
        patience: u32::MAX,
        standardize: false,
        optimizer: Optimizer::SGD,
        ..Config::DEFAULT
    };
    let widths = [1, 1];
    let mut arena = vec![0.0; shape::train_arena_len(&widths, config.optimizer)];
    let mut trainer = Trainer::new(&widths, config, data, split, &mut arena).unwrap();
    let report = trainer.fit(|_| {}).unwrap();
    let mut scratch = vec![0.0; shape::predict_scratch_len(&widths)];
    let gd = trainer.model().mse(&data, &all, &mut scratch).unwrap();

    // 10 000 full passes over the data for the grid, 200 for gradient descent.
    assert_eq!(brute.evaluations, 10_000);
    assert!(report.epochs_run <= 200);
    assert!(
        gd < brute.mse,
        "gradient descent {gd} vs grid {}",
        brute.mse
    );
    let w = trainer.model().params()[0];
    assert!(
        (w - 1.7).abs() < 0.01 && (brute.weight - 1.7).abs() > 0.01,
        "{w} vs {}",
        brute.weight
    );
}

#[test]
fn every_relu_dead_is_a_stall_and_a_line_at_its_fit_converges() {
    // Hidden biases of -100: every ReLU outputs 0 for every input, the network is its output
    // bias, and full-batch gradient descent takes that to the targets' mean, where the
    // gradient vanishes with the loss at the targets' variance (1): a stall, not convergence.
    let (xs, ys) = noisy_sine(64, 4);
    let widths = [1, 8, 1];
    let data = Dataset::new(&xs, &ys, 1, 1).unwrap();
    let config = Config {
        learning_rate: 0.1,
        batch_size: 64,
        max_epochs: 5000,
        patience: u32::MAX,
        optimizer: Optimizer::SGD,
        ..Config::DEFAULT
    };
    let mut order = vec![0; xs.len()];
    let split = Split::new(&mut order, 0.2, 0.0, 11).unwrap();
    let mut arena = vec![0.0; shape::train_arena_len(&widths, config.optimizer)];
    let mut trainer = Trainer::new(&widths, config, data, split, &mut arena).unwrap();
    let mut params = trainer.model().params().to_vec();
    params[8..16].iter_mut().for_each(|b| *b = -100.0);
    trainer.set_params(&params).unwrap();
    let report = trainer.fit(|_| {}).unwrap();
    assert_eq!(report.stop, Some(StopReason::Stalled), "{report:?}");
    assert!(report.last().unwrap().train_mse > 0.5);

    // The linear model with full batches reaches the exact least-squares fit: told that floor,
    // the trainer calls it converged.
    let widths = [1, 1];
    let mut order = vec![0; xs.len()];
    let split = Split::new(&mut order, 0.2, 0.0, 11).unwrap();
    let train: Vec<u32> = split.train().to_vec();
    let (mut p, mut s, mut scratch) = ([0.0; 2], [0.0; 4], [0.0; 6]);
    let fit = tinytrain_core::lstsq::fit(&data, &train, &mut p, &mut s, &mut scratch).unwrap();
    let mut arena = vec![0.0; shape::train_arena_len(&widths, config.optimizer)];
    let mut trainer = Trainer::new(&widths, config, data, split, &mut arena).unwrap();
    trainer.set_floor(fit.standardized_mse as f32);
    let report = trainer.fit(|_| {}).unwrap();
    assert_eq!(report.stop, Some(StopReason::Converged), "{report:?}");
    let last = report.last().unwrap().train_mse;
    assert!(
        f64::from(last) <= fit.standardized_mse * 1.01,
        "{last} vs {fit:?}"
    );
}
