//! The demo's steps — split, baseline, train, test — the same code on every platform, with the
//! network and settings of [`crate::recipe`] in the memory of [`crate::memory`].
//! [`crate::boot()`] puts them together with the model's flash storage.

use crate::data::SAMPLES;
use crate::line::{Line, Log, Loss};
use crate::memory::BaselineStorage;
use crate::recipe::{BASELINE_WIDTHS, CHUNK, CONFIG, FACTOR, PREDICTIONS, PREDICT_SCRATCH_LEN};
use crate::recipe::{SPLIT_SEED, TEST_FRACTION, VAL_FRACTION, WIDTHS};
use tinytrain_core::{
    lstsq, shape, Dataset, Error, Finished, Model, Optimizer, Split, SplitPart, Trainer,
};

/// What training the network found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// The network beat the baseline by [`FACTOR`] on the test set.
    pub beat: bool,
    /// Epochs the network trained for.
    pub epochs: u32,
    /// Training samples processed (epochs × training set size).
    pub trained_samples: u64,
    /// The network's test MSE.
    pub test_mse: f32,
    /// The baseline's test MSE.
    pub baseline_test_mse: f32,
    /// FNV-1a of the trained weights' bits.
    pub weights_hash: u32,
}

const NO_TEST_SET: Error = Error::EmptySplit {
    part: SplitPart::Test,
};

/// The test MSE of a finished training, in the targets' units.
pub fn test_mse(done: &Finished<'_>) -> Result<f32, Error> {
    let mse = done.test_mse.ok_or(NO_TEST_SET)?;
    Ok(done.report.to_original_units(mse) as f32)
}

/// Announces the data set and its split (the same for both models).
pub(crate) fn data_line(data: Dataset<'_>, split: &Split<'_>) -> Line {
    Line::Data {
        samples: data.len() as u32,
        seed: SPLIT_SEED as u32,
        train: split.train().len() as u32,
        validation: split.validation().len() as u32,
        test: split.test().len() as u32,
    }
}

/// Logs [`data_line`]. Not inlined: the line is off the stack of the caller's trainer.
#[inline(never)]
pub(crate) fn announce(data: Dataset<'_>, split: &Split<'_>, log: &mut impl Log) {
    log.line(&data_line(data, split));
}

/// Announces the data set and its split, then step 1: fits the least-squares line on the
/// demo's training split; logs its validation MSE and returns its test MSE.
///
/// Not inlined: its buffers are off the stack before the network's trainer is built.
#[inline(never)]
pub(crate) fn fit_baseline(
    storage: &mut BaselineStorage,
    data: Dataset<'static>,
    log: &mut impl Log,
) -> Result<f32, Error> {
    let BaselineStorage {
        order,
        params,
        stats,
        scratch,
    } = storage;
    let order = order
        .get_mut(..data.len())
        .ok_or(Error::CapacityExceeded { capacity: SAMPLES })?;
    let split = Split::new(order, VAL_FRACTION, TEST_FRACTION, SPLIT_SEED)?;
    log.line(&data_line(data, &split));
    lstsq::fit(&data, split.train(), params, stats, scratch)?;
    let line = Model::new(BASELINE_WIDTHS, params, stats)?;
    let mut activations = [0.0; shape::predict_scratch_len(BASELINE_WIDTHS)];
    let val_mse = line.mse(&data, split.validation(), &mut activations)?;
    log.line(&Line::Baseline {
        widths: BASELINE_WIDTHS,
        samples: split.train().len() as u32,
        val_mse: Loss(val_mse),
        factor: FACTOR,
    });
    line.mse(&data, split.test(), &mut activations)
}

/// Step 2: trains the network until a stopping rule fires, logging every epoch and the stop;
/// returns the epochs run.
///
/// Not inlined: its locals are off the stack while the network is tested.
#[inline(never)]
pub(crate) fn train(trainer: &mut Trainer<'_, CHUNK>, log: &mut impl Log) -> Result<u32, Error> {
    log.line(&Line::Training {
        widths: WIDTHS,
        params: shape::param_len(WIDTHS) as u32,
        optimizer: optimizer_name(&CONFIG.optimizer),
        learning_rate: CONFIG.learning_rate,
        batch: CONFIG.batch_size as u32,
        patience: CONFIG.patience,
        max_epochs: CONFIG.max_epochs,
    });
    // The trainer judges in standardised units; the log shows the targets' units.
    let units = trainer.report();
    let original = |loss: f32| Loss(units.to_original_units(loss) as f32);
    let report = trainer.fit(|summary| {
        log.line(&Line::Epoch {
            epoch: summary.loss.epoch,
            train_mse: original(summary.loss.train_mse),
            val_mse: original(summary.loss.val_mse),
            best: summary.improved,
        })
    })?;
    if let Some(reason) = report.stop {
        log.line(&Line::Stopped {
            reason,
            epochs: report.epochs_run,
            best_epoch: report.best_epoch,
            best_val_mse: original(report.best_val_mse),
        });
    }
    Ok(report.epochs_run)
}

/// Logs the network's predictions on the samples at `indices` (at most [`PREDICTIONS`]),
/// computed [`CHUNK`] at a time in `scratch` (at least [`PREDICT_SCRATCH_LEN`] values): the
/// trainer's forward pass, so no second copy of it is needed for predictions.
///
/// Not inlined: its arrays are off the stack while the test set is evaluated.
#[inline(never)]
pub(crate) fn predict(
    model: &Model<'_>,
    data: Dataset<'_>,
    indices: &[u32],
    scratch: &mut [f32],
    log: &mut impl Log,
) -> Result<(), Error> {
    let mut inputs = [0.0; PREDICTIONS];
    let mut targets = [0.0; PREDICTIONS];
    let mut n = 0;
    for ((x, target), (input, t)) in data
        .select(indices)
        .zip(inputs.iter_mut().zip(&mut targets))
    {
        *input = x.first().copied().unwrap_or(f32::NAN);
        *t = target.first().copied().unwrap_or(f32::NAN);
        n += 1;
    }
    let mut outputs = [0.0; PREDICTIONS];
    let (inputs, outputs) = (
        inputs.get(..n).unwrap_or(&[]),
        outputs.get_mut(..n).unwrap_or(&mut []),
    );
    let scratch = scratch.get_mut(..PREDICT_SCRATCH_LEN).unwrap_or(&mut []);
    model.predict_many::<CHUNK>(inputs, scratch, outputs)?;
    log_predictions(inputs, outputs, &targets, log);
    Ok(())
}

/// One line per prediction. Not inlined: one loop in flash, not one copy per prediction.
#[inline(never)]
fn log_predictions(inputs: &[f32], outputs: &[f32], targets: &[f32], log: &mut impl Log) {
    for ((x, predicted), target) in inputs.iter().zip(outputs).zip(targets) {
        log.line(&Line::Prediction {
            x: *x,
            predicted: *predicted,
            target: *target,
        });
    }
}

/// The first [`PREDICTIONS`] indices, in increasing order (so increasing `x`).
pub(crate) fn first_sorted(indices: &[u32]) -> heapless::Vec<u32, PREDICTIONS> {
    let mut picks: heapless::Vec<u32, PREDICTIONS> =
        indices.iter().copied().take(PREDICTIONS).collect();
    picks.sort_unstable();
    picks
}

fn optimizer_name(optimizer: &Optimizer) -> &'static str {
    match optimizer {
        Optimizer::Sgd => "SGD",
        Optimizer::Momentum { .. } => "SGD with momentum",
        Optimizer::Adam { .. } => "Adam",
        _ => "a custom optimizer",
    }
}
