//! What `tinytrain train` tells: a few lines on stdout and, with `--report`, a JSON file.

use crate::train::{Diagnostics, Outcome, Settings};
use serde::Serialize;

/// One epoch of the `history`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Epoch {
    /// 1-based.
    pub epoch: u32,
    /// Mean training MSE over the epoch's batches.
    pub train_mse: f32,
    /// Validation MSE at the end of the epoch.
    pub val_mse: f32,
}

/// Sizes of the three parts of the split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sizes {
    /// Training samples.
    pub train: usize,
    /// Validation samples.
    pub validation: usize,
    /// Test samples.
    pub test: usize,
}

/// The JSON report. Every MSE is in the target's original units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The CSV file.
    pub data: String,
    /// The split.
    pub samples: Sizes,
    /// MSE of the final (best-validation) network on the training set.
    pub train_mse: f32,
    /// Its MSE on the validation set.
    pub val_mse: f32,
    /// Its MSE on the test set, evaluated once.
    pub test_mse: Option<f32>,
    /// Its R² on the test set.
    pub test_r2: Option<f32>,
    /// The linear model's test MSE on the same split.
    pub baseline_test_mse: Option<f32>,
    /// The linear model's validation MSE.
    pub baseline_val_mse: f32,
    /// Epochs trained.
    pub epochs_run: u32,
    /// Epoch whose weights were kept.
    pub best_epoch: u32,
    /// Why training stopped (`early_stopped`, `max_epochs`, `diverged`, `stalled`, …).
    pub stop_reason: &'static str,
    /// Overfitting, stall, divergence, noise floor, baseline comparison.
    pub diagnostics: Diagnostics,
    /// Every epoch's losses.
    pub history: Vec<Epoch>,
    /// The settings.
    pub config: Settings,
}

impl Report {
    /// Collects the report of a run on `data` (the file's name).
    pub fn new(data: &str, outcome: &Outcome) -> Self {
        let run = &outcome.run;
        Self {
            data: data.to_owned(),
            samples: Sizes {
                train: run.parts.train.len(),
                validation: run.parts.validation.len(),
                test: run.parts.test.len(),
            },
            train_mse: outcome.scores.train_mse,
            val_mse: outcome.scores.val_mse,
            test_mse: outcome.scores.test_mse,
            test_r2: outcome.scores.test_r2,
            baseline_test_mse: outcome.baseline.test_mse,
            baseline_val_mse: outcome.baseline.val_mse,
            epochs_run: run.report.epochs_run,
            best_epoch: run.report.best_epoch,
            stop_reason: run.stop().name(),
            diagnostics: outcome.diagnostics.clone(),
            history: run
                .history
                .iter()
                .map(|e| Epoch {
                    epoch: e.epoch,
                    train_mse: e.train_mse,
                    val_mse: e.val_mse,
                })
                .collect(),
            config: outcome.settings.clone(),
        }
    }

    /// Pretty-printed JSON.
    pub fn to_json(&self) -> String {
        // A struct of numbers, strings and vectors always serialises.
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// The summary printed by `tinytrain train`.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "data      {} ({} train, {} validation, {} test)\n\
             model     {} {}, lr {}, batch {}, seed {}\n\
             stopped   {} at epoch {}; kept the weights of epoch {}\n",
            self.data,
            self.samples.train,
            self.samples.validation,
            self.samples.test,
            self.config.layers_text(),
            self.config.optimizer.name(),
            self.config.learning_rate,
            self.config.batch_size,
            self.config.seed,
            self.stop_reason,
            self.epochs_run,
            self.best_epoch,
        );
        let opt = |v: Option<f32>| v.map_or("-".to_owned(), number);
        s += &format!(
            "mse       train {}  validation {}  test {}\n",
            number(self.train_mse),
            number(self.val_mse),
            opt(self.test_mse)
        );
        s += &format!(
            "baseline  linear: validation {}  test {}\n",
            number(self.baseline_val_mse),
            opt(self.baseline_test_mse)
        );
        if let Some(r2) = self.test_r2 {
            s += &format!("r2        test {r2:.4}\n");
        }
        for note in &self.diagnostics.notes {
            s += &format!("note      {note}\n");
        }
        s
    }
}

/// A loss for people: six decimals, or scientific notation when that would hide it.
///
/// ```
/// use tinytrain_host_sim::report::number;
/// assert_eq!(number(0.0123456), "0.012346");
/// assert_eq!(number(1.5e35), "1.500e35");
/// assert_eq!(number(2e-7), "2.000e-7");
/// assert_eq!(number(f32::NAN), "NaN");
/// ```
pub fn number(v: f32) -> String {
    let magnitude = v.abs();
    if magnitude != 0.0 && magnitude.is_finite() && !(1e-4..1e5).contains(&magnitude) {
        format!("{v:.3e}")
    } else {
        format!("{v:.6}")
    }
}
