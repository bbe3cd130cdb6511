//! The classification demo's steps — a stratified split, two baselines, training with early
//! stopping on the validation cross-entropy, one test with its confusion matrix — and the memory
//! they run in; the same code on every platform.

use super::data::{self, CLASSES, PER_CLASS, SAMPLES};
use super::line::Line;
use crate::line::Loss;
use crate::Log;
use tinytrain_core::arena::{Architecture, TrainStorage};
use tinytrain_core::diagnose::{never_predicted, overfitting};
use tinytrain_core::metrics::{
    class_counts, confusion_len, majority, prior_scores, score, Confusion, Scores,
};
use tinytrain_core::{logistic, shape, Config, Error, Model, Optimizer, SplitPart, Trainer};

/// The network: two inputs, two hidden ReLU layers of 16 units, one logit per class; Adam.
#[derive(Debug)]
pub struct Mlp;

impl Architecture for Mlp {
    const WIDTHS: &'static [usize] = &[2, 16, 16, CLASSES];
    const OPTIMIZER: Optimizer = Optimizer::ADAM;
}

/// The network's layer widths.
pub const WIDTHS: &[usize] = Mlp::WIDTHS;
/// The linear softmax baseline's widths.
pub const LINEAR: [usize; 2] = [2, CLASSES];
/// Fraction of each class held out for validation.
pub const VAL_FRACTION: f32 = 0.2;
/// Fraction of each class held out for the final test.
pub const TEST_FRACTION: f32 = 0.2;
/// Seed of the split.
pub const SPLIT_SEED: u64 = 7;
/// Samples run through the network at once (the same bits as one by one).
pub const CHUNK: usize = 4;

/// How the network is trained: early stopping on the validation cross-entropy.
pub const CONFIG: Config = Config {
    learning_rate: 0.01,
    batch_size: 16,
    max_epochs: 500,
    patience: 50,
    seed: 1,
    optimizer: Mlp::OPTIMIZER,
    ..Config::DEFAULT
};

/// Length of the network's training arena.
pub const ARENA_LEN: usize = shape::train_arena_len_chunked(Mlp::WIDTHS, Mlp::OPTIMIZER, CHUNK);

/// All the memory the classification demo runs in; `const`-constructible so firmware can keep
/// it `static`.
#[derive(Debug)]
pub struct Storage {
    network: TrainStorage<Mlp, ARENA_LEN, SAMPLES, CHUNK>,
    linear_params: [f32; shape::param_len(&LINEAR)],
    linear_stats: [f32; shape::scaler_len(&LINEAR)],
    /// The logistic fit's scratch.
    fit: [f64; logistic::scratch_len(2, CLASSES)],
    /// The confusion matrix's counts: a `const` capacity of [`CLASSES`] classes.
    counts: [u32; confusion_len(CLASSES)],
    predict: [f32; shape::predict_scratch_len(WIDTHS)],
}

impl Storage {
    /// Zeroed storage.
    pub const fn new() -> Self {
        Self {
            network: TrainStorage::new(),
            linear_params: [0.0; shape::param_len(&LINEAR)],
            linear_stats: [0.0; shape::scaler_len(&LINEAR)],
            fit: [0.0; logistic::scratch_len(2, CLASSES)],
            counts: [0; confusion_len(CLASSES)],
            predict: [0.0; shape::predict_scratch_len(WIDTHS)],
        }
    }
}

impl Default for Storage {
    fn default() -> Self {
        Self::new()
    }
}

/// What the classification demo found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// The network's test accuracy beat both baselines'.
    pub pass: bool,
    /// The network's test accuracy.
    pub accuracy: f32,
    /// The linear softmax model's test accuracy.
    pub linear: f32,
    /// The majority class's test accuracy.
    pub majority: f32,
    /// Epochs the network trained for.
    pub epochs: u32,
    /// Training samples processed (epochs × training set size).
    pub trained_samples: u64,
    /// FNV-1a of the trained weights' bits.
    pub weights_hash: u32,
}

/// The baselines' test accuracies.
struct Baselines {
    majority: f32,
    linear: f32,
}

/// Runs the story — split, baselines, training, test — logging every step.
pub fn run(storage: &mut Storage, log: &mut impl Log<Line>) -> Result<Outcome, Error> {
    let data = data::dataset()?;
    let Storage {
        network,
        linear_params,
        linear_stats,
        fit,
        counts,
        predict,
    } = storage;
    let mut trainer = network.classifier(CONFIG, data, VAL_FRACTION, TEST_FRACTION, SPLIT_SEED)?;
    let split = trainer.split();
    log.line(&Line::Data {
        samples: data.len() as u32,
        per_class: PER_CLASS as u32,
        seed: SPLIT_SEED as u32,
        train: split.train().len() as u32,
        validation: split.validation().len() as u32,
        test: split.test().len() as u32,
    });
    let linear = LinearParts {
        params: linear_params,
        stats: linear_stats,
        fit,
    };
    let baselines = baselines(&trainer, linear, counts, log)?;
    let epochs = train(&mut trainer, log)?;
    let trained_samples = u64::from(epochs) * trainer.split().train().len() as u64;
    // Training stopped: the trainer holds the best-validation weights. The test set, once.
    let model = trainer.model();
    let mut confusion = Confusion::new(counts, CLASSES)?;
    let scores = score(
        &model,
        &data,
        trainer.split().test(),
        predict,
        &mut confusion,
    )?;
    report(&model, &scores, &confusion, log);
    let weights_hash = crate::fnv1a_f32(model.params());
    let pass = scores.accuracy > baselines.linear && scores.accuracy > baselines.majority;
    log.line(&Line::Verdict {
        pass,
        accuracy: scores.accuracy,
        linear: baselines.linear,
        majority: baselines.majority,
    });
    Ok(Outcome {
        pass,
        accuracy: scores.accuracy,
        linear: baselines.linear,
        majority: baselines.majority,
        epochs,
        trained_samples,
        weights_hash,
    })
}

/// The linear baseline's memory.
struct LinearParts<'s> {
    params: &'s mut [f32],
    stats: &'s mut [f32],
    fit: &'s mut [f64],
}

/// Step 1: the majority class of the training split and the linear softmax model fitted on it,
/// both scored on the test split.
///
/// Not inlined: its frames are off the stack before training starts.
#[inline(never)]
fn baselines(
    trainer: &Trainer<'_, CHUNK, u16>,
    linear: LinearParts<'_>,
    counts: &mut [u32],
    log: &mut impl Log<Line>,
) -> Result<Baselines, Error> {
    let (data, split) = (trainer.data(), trainer.split());
    let (mut train, mut test) = ([0u32; CLASSES], [0u32; CLASSES]);
    class_counts(data, split.train(), &mut train);
    class_counts(data, split.test(), &mut test);
    let majority_class = majority(&train).ok_or(Error::EmptySplit {
        part: SplitPart::Train,
    })?;
    let prior = prior_scores(&train, &test)?;
    log.line(&Line::Majority {
        class: majority_class as u32,
        accuracy: prior.accuracy,
    });
    let fit = logistic::fit(
        data,
        split.train(),
        &[],
        linear.params,
        linear.stats,
        linear.fit,
    )?;
    let model = Model::new(&LINEAR, linear.params, linear.stats)?;
    let mut confusion = Confusion::new(counts, CLASSES)?;
    let mut scratch = [0.0; shape::predict_scratch_len(&LINEAR)];
    let scores = score(&model, data, split.test(), &mut scratch, &mut confusion)?;
    log.line(&Line::Linear {
        iterations: fit.iterations,
        converged: fit.converged,
        accuracy: scores.accuracy,
        cross_entropy: Loss(scores.cross_entropy),
    });
    Ok(Baselines {
        majority: prior.accuracy,
        linear: scores.accuracy,
    })
}

/// Step 2: trains the network until a stopping rule fires, logging every epoch and the stop;
/// returns the epochs run.
fn train(trainer: &mut Trainer<'_, CHUNK, u16>, log: &mut impl Log<Line>) -> Result<u32, Error> {
    log.line(&Line::Training {
        widths: WIDTHS,
        params: shape::param_len(WIDTHS) as u32,
        learning_rate: CONFIG.learning_rate,
        batch: CONFIG.batch_size as u32,
        patience: CONFIG.patience,
        max_epochs: CONFIG.max_epochs,
    });
    let report = trainer.fit(|summary| {
        log.line(&Line::Epoch {
            epoch: summary.loss.epoch,
            train: Loss(summary.loss.train_mse),
            validation: Loss(summary.loss.val_mse),
            best: summary.improved,
        })
    })?;
    if let Some(reason) = report.stop {
        log.line(&Line::Stopped {
            reason,
            epochs: report.epochs_run,
            best_epoch: report.best_epoch,
            best_validation: Loss(report.best_val_mse),
        });
    }
    if let Some(o) = overfitting(&report) {
        log.line(&Line::Overfitting {
            best_epoch: o.best_epoch,
            train: (Loss(o.train.0), Loss(o.train.1)),
            validation: (Loss(o.val.0), Loss(o.val.1)),
        });
    }
    Ok(report.epochs_run)
}

/// Step 3's lines: the test scores, the confusion matrix, each class's precision and recall, a
/// class never predicted, the weights' fingerprint.
///
/// Not inlined: one copy of its formatting in flash.
#[inline(never)]
fn report(model: &Model<'_>, scores: &Scores, confusion: &Confusion<'_>, log: &mut impl Log<Line>) {
    log.line(&Line::Test {
        cross_entropy: Loss(scores.cross_entropy),
        accuracy: scores.accuracy,
    });
    for class in 0..CLASSES {
        let mut row = [0u32; CLASSES];
        for (r, c) in row.iter_mut().zip(confusion.row(class)) {
            *r = *c;
        }
        log.line(&Line::Confusion {
            class: class as u32,
            row,
        });
    }
    for class in 0..CLASSES {
        log.line(&Line::Class {
            class: class as u32,
            precision: confusion.precision(class),
            recall: confusion.recall(class),
        });
    }
    if let Some(found) = never_predicted(confusion) {
        log.line(&Line::NeverPredicted {
            class: found.class as u32,
            support: u32::try_from(found.support).unwrap_or(u32::MAX),
        });
    }
    log.line(&Line::Weights {
        params: model.params().len() as u32,
        hash: crate::fnv1a_f32(model.params()),
    });
}
