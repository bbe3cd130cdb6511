//! `tinytrain sweep --task classify`: every combination trained `repeats` times on one
//! stratified split, the one with the lowest mean validation cross-entropy chosen — the loss
//! early stopping watches, as training weighs it — and only that one tested, once.
//!
//! Not accuracy: it moves in steps of one validation sample and ties between combinations; the
//! cross-entropy tells apart networks that are right with confidence from those right by luck.

use super::{figures, fit, Labelled};
use crate::error::Result;
use crate::net::Net;
use crate::parts::Parts;
use crate::sweep::Trial;
use crate::sweep::{chosen_line, header, mean_and_sd, no_test_line, row_start, search, spread};
use crate::train::{Ending, TrainConfig};
use serde::Serialize;

/// One training run of a combination.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Repeat {
    /// The seed of its initial weights and shuffle.
    pub seed: u64,
    /// Validation cross-entropy of its kept weights, as training weighs it: what is compared.
    pub val_loss: f64,
    /// Validation accuracy.
    pub val_accuracy: f64,
    /// Training accuracy.
    pub train_accuracy: f64,
    /// Epochs trained.
    pub epochs_run: u32,
    /// The epoch whose weights were kept.
    pub best_epoch: u32,
    /// Why training stopped.
    pub stop_reason: &'static str,
}

/// A combination and its repeats.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Its settings (the seed of the first repeat).
    pub config: TrainConfig,
    /// Every repeat.
    pub repeats: Vec<Repeat>,
    /// Mean validation cross-entropy over the repeats: what the choice is made on (NaN if one
    /// is not finite, which never wins).
    pub val_loss: f64,
    /// Standard deviation of the repeats' validation cross-entropy (0 for one repeat).
    pub val_loss_sd: f64,
    /// Mean validation accuracy.
    pub val_accuracy: f64,
}

/// The result of a classifier sweep.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// Every combination.
    pub rows: Vec<Row>,
    /// Index of the chosen row.
    pub chosen: usize,
    /// The chosen combination's repeat with the lowest validation cross-entropy.
    pub net: Net,
    /// That network's seed.
    pub seed: u64,
    /// Its test cross-entropy and accuracy, the only test evaluation of the sweep.
    pub test: Option<(f64, f64)>,
    /// Ctrl-C stopped the sweep.
    pub interrupted: bool,
}

/// Trains every combination `repeats` times on `parts` with the class weights `weights`,
/// calling `on_row` after each, chooses by mean validation cross-entropy and tests the chosen
/// network.
pub fn run(
    labelled: &Labelled,
    parts: &Parts,
    weights: &[f32],
    combinations: &[TrainConfig],
    repeats: u32,
    on_row: impl FnMut(usize, &Row),
) -> Result<Sweep> {
    let data = labelled.dataset()?;
    let trial = |settings: &TrainConfig| {
        let run = fit(&data, settings, parts, weights, |_| {})?;
        if run.interrupted && run.report.epochs_run == 0 {
            return Ok(Trial {
                done: None,
                interrupted: true,
            });
        }
        let val = figures(&run.net, &data, &labelled.classes, &parts.val)?;
        let train = figures(&run.net, &data, &labelled.classes, &parts.train)?;
        let loss = f64::from(run.report.best_val_mse);
        let repeat = Repeat {
            seed: settings.seed,
            val_loss: loss,
            val_accuracy: val.map_or(f64::NAN, |f| f.accuracy),
            train_accuracy: train.map_or(f64::NAN, |f| f.accuracy),
            epochs_run: run.report.epochs_run,
            best_epoch: run.report.best_epoch,
            stop_reason: run.stop_name(),
        };
        Ok(Trial {
            done: Some((repeat, run.net, loss)),
            interrupted: run.interrupted,
        })
    };
    let choice = search(
        combinations,
        repeats,
        trial,
        summarise,
        |row| row.val_loss,
        on_row,
    )?;
    let test = if choice.interrupted {
        None
    } else {
        figures(&choice.kept, &data, &labelled.classes, &parts.test)?
            .map(|f| (f.cross_entropy, f.accuracy))
    };
    Ok(Sweep {
        rows: choice.rows,
        chosen: choice.chosen,
        net: choice.kept,
        seed: choice.seed,
        test,
        interrupted: choice.interrupted,
    })
}

/// A row's means and spread.
fn summarise(config: TrainConfig, repeats: Vec<Repeat>) -> Row {
    let n = repeats.len().max(1) as f64;
    let (val_loss, val_loss_sd) = mean_and_sd(repeats.iter().map(|r| r.val_loss));
    Row {
        config,
        val_loss,
        val_loss_sd,
        val_accuracy: repeats.iter().map(|r| r.val_accuracy).sum::<f64>() / n,
        repeats,
    }
}

/// The sweep's JSON file.
#[derive(Serialize)]
struct Json<'a> {
    task: &'static str,
    rows: &'a [Row],
    chosen: usize,
    chosen_config: Option<&'a TrainConfig>,
    chosen_seed: u64,
    test_cross_entropy: Option<f64>,
    test_accuracy: Option<f64>,
}

impl Sweep {
    /// The results as a table, the chosen row marked with `*`, and the chosen network's test
    /// figures.
    pub fn table(&self) -> String {
        let repeats = self.rows.first().map_or(1, |r| r.repeats.len());
        let mut s = header(repeats, |spread| {
            format!("{:>10} {:>9} {:>8}", "val CE", spread, "val acc")
        });
        for (k, r) in self.rows.iter().enumerate() {
            let first = r.repeats.first().map(|f| (f.epochs_run, f.stop_reason));
            s += &format!(
                "{}{:>10.6} {:>9} {:>8.4}\n",
                row_start(k, self.chosen, &r.config, first),
                r.val_loss,
                spread(repeats, r.val_loss_sd),
                r.val_accuracy
            );
        }
        if let Some(r) = self.rows.get(self.chosen) {
            s += &chosen_line(self.chosen, &r.config, "cross-entropy", self.seed);
        }
        s += &match self.test {
            Some((ce, acc)) => format!(
                "test    cross-entropy {ce:.6}, accuracy {acc:.4} (evaluated once, for the \
                 chosen network only)\n"
            ),
            None => no_test_line(self.interrupted),
        };
        s
    }

    /// The rows, the choice and its test figures as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        let json = Json {
            task: "classification",
            rows: &self.rows,
            chosen: self.chosen + 1,
            chosen_config: self.rows.get(self.chosen).map(|r| &r.config),
            chosen_seed: self.seed,
            test_cross_entropy: self.test.map(|t| t.0),
            test_accuracy: self.test.map(|t| t.1),
        };
        serde_json::to_string_pretty(&json).unwrap_or_default() + "\n"
    }
}
