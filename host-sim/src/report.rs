//! What `tinytrain train` tells: a few lines on stdout and, with `--report`, a JSON file.
//!
//! The JSON report's layout is versioned ([`SCHEMA_VERSION`]); every MSE is in the target's own
//! units, computed in `f64`.

use crate::diagnostics::Diagnostics;
use crate::numbers::number;
use crate::parts::Parts;
use crate::score::Scores;
use crate::train::{Ending, Outcome, TrainConfig};
use serde::Serialize;

/// The version of the report's layout; it grows when a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

/// Above this many data rows the report leaves the split's row indices out (with a note), so
/// that the report of a ten-million-row file stays small.
pub const SPLIT_ROWS_MAX: usize = 100_000;

/// One epoch of the `history`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Epoch {
    /// 1-based.
    pub epoch: u32,
    /// Mean training MSE over the epoch's batches (`null` if not finite).
    pub train_mse: f64,
    /// Validation MSE at the end of the epoch (`null` if not finite).
    pub val_mse: f64,
}

/// The names of the columns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Columns {
    /// The feature (input) columns, in the network's input order.
    pub features: Vec<String>,
    /// The target column.
    pub target: String,
}

/// Sizes of the three parts of the split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sizes {
    /// Training samples.
    pub train: usize,
    /// Validation samples.
    pub val: usize,
    /// Test samples.
    pub test: usize,
}

impl Sizes {
    /// The sizes of `parts`.
    pub fn of(parts: &Parts) -> Self {
        Self {
            train: parts.train.len(),
            val: parts.val.len(),
            test: parts.test.len(),
        }
    }
}

/// A report's `split` and `split_note`: the parts' rows, or above [`SPLIT_ROWS_MAX`] rows none
/// and a note that the `seed` draws them again.
pub(crate) fn split_field(parts: &Parts, seed: u64) -> (Option<Parts>, Option<String>) {
    let rows = parts.len();
    if rows <= SPLIT_ROWS_MAX {
        (Some(parts.clone()), None)
    } else {
        let note = format!(
            "{rows} rows: above {SPLIT_ROWS_MAX} the split's rows are left out of the report; \
             the seed {seed} draws it again"
        );
        (None, Some(note))
    }
}

/// A model's figures on the three parts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Figures {
    /// MSE on the training set.
    pub train_mse: f64,
    /// MSE on the validation set.
    pub val_mse: f64,
    /// MSE on the test set, evaluated once (`null` without a test set).
    pub test_mse: Option<f64>,
    /// R² on the training set (`null` for a constant target).
    pub train_r2: Option<f64>,
    /// R² on the validation set.
    pub val_r2: Option<f64>,
    /// R² on the test set.
    pub test_r2: Option<f64>,
}

impl Figures {
    fn new(s: &Scores) -> Self {
        Self {
            train_mse: s.train.mse,
            val_mse: s.val.mse,
            test_mse: s.test.map(|f| f.mse),
            train_r2: s.train.r2,
            val_r2: s.val.r2,
            test_r2: s.test.and_then(|f| f.r2),
        }
    }
}

/// The JSON report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The CSV file.
    pub data: String,
    /// Its feature and target columns.
    pub columns: Columns,
    /// The sizes of the split's parts.
    pub samples: Sizes,
    /// The split's 0-based data rows (`null` above [`SPLIT_ROWS_MAX`] rows); `train --split`
    /// reads it back.
    pub split: Option<Parts>,
    /// Why `split` is `null`, if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split_note: Option<String>,
    /// The kept (best-validation) network.
    pub network: Figures,
    /// The least-squares linear model of the training set, on the same split.
    pub baseline: Figures,
    /// Epochs trained.
    pub epochs_run: u32,
    /// Epoch whose weights were kept (0: the initial weights: the network is untrained).
    pub best_epoch: u32,
    /// Why training stopped (`early_stopped`, `max_epochs`, `converged`, `diverged`, …).
    pub stop_reason: &'static str,
    /// Untrained, overfitting, convergence, stall, divergence, spikes, noise floor, baseline.
    pub diagnostics: Diagnostics,
    /// Every epoch's losses.
    pub history: Vec<Epoch>,
    /// The settings.
    pub config: TrainConfig,
}

impl Report {
    /// Collects the report of a run on the file `data` with columns `columns`.
    pub fn new(data: &str, columns: Columns, outcome: &Outcome) -> Self {
        let run = &outcome.run;
        let parts = &run.parts;
        let (split, split_note) = split_field(parts, outcome.settings.seed);
        let finite = |v: f64| if v.is_finite() { v } else { f64::NAN };
        Self {
            schema_version: SCHEMA_VERSION,
            data: data.to_owned(),
            columns,
            samples: Sizes::of(parts),
            split,
            split_note,
            network: Figures::new(&outcome.scores),
            baseline: Figures::new(&outcome.baseline_scores),
            epochs_run: run.report.epochs_run,
            best_epoch: run.report.best_epoch,
            stop_reason: run.stop_name(),
            diagnostics: Diagnostics::new(
                &outcome.settings,
                run,
                &outcome.scores,
                &outcome.baseline_scores,
                outcome.noise,
            ),
            history: run
                .history
                .iter()
                .map(|e| Epoch {
                    epoch: e.epoch,
                    train_mse: finite(run.to_original_units(e.train_mse)),
                    val_mse: finite(run.to_original_units(e.val_mse)),
                })
                .collect(),
            config: outcome.settings.clone(),
        }
    }

    /// Pretty-printed JSON (NaN is written as `null`).
    pub fn to_json(&self) -> String {
        // A struct of numbers, strings and vectors always serialises.
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// The summary printed by `tinytrain train`.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "data      {} ({} train, {} validation, {} test)\n\
             model     {} {}, lr {}, batch {}, init {}, seed {}\n\
             stopped   {} at epoch {}; kept the weights of epoch {}\n",
            self.data,
            self.samples.train,
            self.samples.val,
            self.samples.test,
            self.config.widths_text(),
            self.config.optimizer.name(),
            self.config.learning_rate,
            self.config.batch_size,
            self.config.init.name(),
            self.config.seed,
            self.stop_reason,
            self.epochs_run,
            self.best_epoch,
        );
        s += &line("network", &self.network);
        s += &line("baseline", &self.baseline);
        for note in &self.diagnostics.notes {
            s += &format!("note      {note}\n");
        }
        s
    }
}

/// `network   mse train … validation … test …   r2 …` (test last: reported, not compared).
fn line(name: &str, f: &Figures) -> String {
    let r2 = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.4}"));
    let test = f.test_mse.map_or("-".to_owned(), number);
    format!(
        "{name:<9} mse train {}  validation {}  test {}   r2 train {}  validation {}  test {}\n",
        number(f.train_mse),
        number(f.val_mse),
        test,
        r2(f.train_r2),
        r2(f.val_r2),
        r2(f.test_r2),
    )
}
