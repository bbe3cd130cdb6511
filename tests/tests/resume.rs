//! Fine-tuning resumes, not restarts: a converged network trained on with its optimizer's saved
//! state stays where it was; restarted with zero state at the same learning rate, Adam throws
//! it off its minimum; the warm-up that `set_model` applies when no state was saved keeps it
//! close. The model goes through the model format, as it would through flash or a file.
//!
//! "Converged" is checked, not assumed: over the epochs after its best one, the run's own
//! validation loss stayed within 10 % of the best. (With a learning rate that keeps mini-batch
//! training noisy — the demo's sine at batch 16 swings up to 2.4× after its best epoch — a
//! resumed run swings just as much: resuming reproduces training, noise and all.)

use tinytrain_core::format::{self, Buffers, Contents, Sections};
use tinytrain_core::learner::Start;
use tinytrain_core::{
    shape, Config, Dataset, Init, Lcg, Model, Optimizer, Progress, Split, Trainer,
};

const WIDTHS: [usize; 4] = [3, 16, 16, 1];
/// Epochs of fine-tuning watched.
const EPOCHS: usize = 30;

/// Adam at 0.005 in batches of 64, from He's initial weights: converges to a plateau on the
/// data below.
const CONFIG: Config = Config {
    learning_rate: 0.005,
    optimizer: Optimizer::ADAM,
    batch_size: 64,
    max_epochs: 1000,
    patience: 30,
    init: Init::He,
    ..Config::DEFAULT
};

/// 300 samples of a gently curved surface, `y = 0.5a - 0.3b + 0.8c + 0.2ab + N(0, 0.01²)`,
/// inputs uniform in `[-1, 1]`.
fn surface() -> (Vec<f32>, Vec<f32>) {
    let mut rng = Lcg::new(3);
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for _ in 0..300 {
        let [a, b, c] = [(); 3].map(|()| rng.uniform(-1.0, 1.0));
        let (u, v) = (1.0 - rng.next_f32(), rng.next_f32());
        let normal = (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos();
        xs.extend([a, b, c]);
        ys.push(0.5 * a - 0.3 * b + 0.8 * c + 0.2 * a * b + 0.01 * normal);
    }
    (xs, ys)
}

/// A trainer on the surface, always with the same split.
fn with_trainer<R>(config: Config, run: impl FnOnce(&mut Trainer<'_>) -> R) -> R {
    let (xs, ys) = surface();
    let data = Dataset::new(&xs, &ys, 3, 1).unwrap();
    let mut order = vec![0; data.len()];
    let split = Split::new(&mut order, 0.2, 0.2, 5).unwrap();
    let mut arena = vec![0.0; shape::train_arena_len(&WIDTHS, config.optimizer)];
    let mut trainer = Trainer::new(&WIDTHS, config, data, split, &mut arena).unwrap();
    run(&mut trainer)
}

/// Trains to the early stop; returns the model blob (weights, statistics, optimizer state),
/// the best validation MSE and the worst one after it, as a multiple of the best.
fn converged() -> (Vec<u8>, f32, f32) {
    with_trainer(CONFIG, |trainer| {
        let mut val = Vec::new();
        let report = trainer.fit(|e| val.push(e.loss.val_mse)).unwrap();
        assert!(report.stop.is_some() && report.epochs_run < CONFIG.max_epochs);
        let best = report.best_val_mse;
        let after = &val[report.best_epoch as usize..];
        let swing = after.iter().fold(0.0f32, |m, v| m.max(*v)) / best;
        let contents = Contents {
            optimizer: Some(trainer.optimizer_state()),
            ..Contents::new(trainer.model())
        };
        let sections = Sections {
            optimizer: Some(CONFIG.optimizer),
            ..Sections::NONE
        };
        let mut blob = vec![0; format::encoded_len(&WIDTHS, sections)];
        format::save(&contents, &mut blob).unwrap();
        (blob, best, swing)
    })
}

/// How a fine-tuning run starts from the converged model.
#[derive(Clone, Copy, Debug)]
enum From {
    /// The model and its optimizer state, loaded from the blob.
    SavedState,
    /// The model without state: `set_model`, whose learning rate warms up.
    WarmUp,
    /// The weights without state or warm-up (`set_params`; the split's statistics are the
    /// model's already): what `set_model` did before the warm-up.
    ZeroState,
}

/// Fine-tunes the model in `blob` on the same data, split and settings; returns every epoch's
/// validation MSE.
fn fine_tune(blob: &[u8], from: From) -> Vec<f32> {
    let config = Config {
        patience: u32::MAX,
        ..CONFIG
    };
    with_trainer(config, |trainer| {
        let mut params = vec![0.0; shape::param_len(&WIDTHS)];
        let mut stats = vec![0.0; shape::scaler_len(&WIDTHS)];
        format::load(blob, &WIDTHS, Buffers::new(&mut params, &mut stats)).unwrap();
        match from {
            From::SavedState => {
                let start = trainer
                    .load(|buffers| format::load(blob, &WIDTHS, buffers))
                    .unwrap();
                assert!(
                    matches!(start, Start::Resumed { steps } if steps > 0),
                    "{start:?}"
                );
            }
            From::WarmUp => {
                let model = Model::new(&WIDTHS, &params, &stats).unwrap();
                trainer.set_model(&model).unwrap();
            }
            From::ZeroState => {
                assert_eq!(trainer.model().stats(), &stats[..]);
                trainer.set_params(&params).unwrap();
            }
        }
        let mut val = Vec::new();
        while val.len() < EPOCHS {
            if let Progress::Epoch(e) = trainer.step().unwrap() {
                val.push(e.loss.val_mse);
            }
        }
        val
    })
}

#[test]
fn fine_tuning_with_the_saved_state_resumes_where_training_stopped() {
    let (blob, best, swing) = converged();
    assert!(
        swing <= 1.10,
        "not converged: {swing}x after the best epoch"
    );
    let ratios = |from: From| {
        let val = fine_tune(&blob, from);
        let worst = val.iter().fold(0.0f32, |m, v| m.max(*v));
        (val[0] / best, worst / best)
    };
    let (resumed_first, resumed) = ratios(From::SavedState);
    let (warmed_first, warmed) = ratios(From::WarmUp);
    let (restarted_first, restarted) = ratios(From::ZeroState);
    eprintln!(
        "fine-tuning a converged [3, 16, 16, 1] (validation MSE {best}, within {swing:.3}x after \
         its best epoch) for {EPOCHS} epochs with Adam at the same learning rate, validation MSE \
         of the first and the worst epoch as multiples of the converged one: saved optimizer \
         state {resumed_first:.3}x, {resumed:.3}x; no state, warm-up {warmed_first:.3}x, \
         {warmed:.3}x; zero state {restarted_first:.2}x, {restarted:.2}x"
    );
    assert!(
        resumed <= 1.10,
        "resumed: {resumed}x the converged validation MSE"
    );
    assert!(warmed <= 1.10, "warmed up: {warmed}x");
    assert!(
        restarted_first > 3.0,
        "the restart the state guards against: {restarted_first}x"
    );
}
