//! Hyperparameter sweeps: every combination trained `repeats` times (seeds `seed`, `seed + 1`,
//! … for the initial weights and the shuffle, on one split), the one with the lowest mean
//! validation loss chosen, and only that one tested — once.

use crate::error::{Error, Result};
use crate::model_file::SavedOptimizer;
use crate::net::Net;
use crate::parts::Parts;
use crate::score;
use crate::train::{self, Ending, OptimizerKind, Reference, TrainConfig};
use serde::Serialize;
use tinytrain_core::format::Training;
use tinytrain_core::Dataset;

/// The values to combine; every other setting comes from `base`.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// The settings shared by every combination.
    pub base: TrainConfig,
    /// Layer widths to try.
    pub layers: Vec<Vec<usize>>,
    /// Update rules to try.
    pub optimizers: Vec<OptimizerKind>,
    /// Learning rates to try.
    pub learning_rates: Vec<f32>,
    /// Batch sizes to try.
    pub batch_sizes: Vec<usize>,
}

impl Grid {
    /// Every combination, layers varying slowest and batch sizes fastest.
    ///
    /// ```
    /// use tinytrain_host_sim::{sweep::Grid, train::{OptimizerKind, TrainConfig}};
    /// let grid = Grid {
    ///     base: TrainConfig::new(vec![1, 8, 1]), layers: vec![vec![1, 8, 1], vec![1, 16, 1]],
    ///     optimizers: vec![OptimizerKind::Adam], learning_rates: vec![0.001, 0.01], batch_sizes: vec![8],
    /// };
    /// let all = grid.combinations();
    /// assert_eq!(all.len(), 4);
    /// assert_eq!((all[1].layers.clone(), all[1].learning_rate), (vec![1, 8, 1], 0.01));
    /// ```
    pub fn combinations(&self) -> Vec<TrainConfig> {
        let mut all = Vec::new();
        for layers in &self.layers {
            for &optimizer in &self.optimizers {
                for &learning_rate in &self.learning_rates {
                    for &batch_size in &self.batch_sizes {
                        all.push(TrainConfig {
                            layers: layers.clone(),
                            optimizer,
                            learning_rate,
                            batch_size,
                            ..self.base.clone()
                        });
                    }
                }
            }
        }
        all
    }

    /// Checks every value of every list before anything trains, naming the flag and the value
    /// that is wrong: `--lr 0: …`.
    ///
    /// ```
    /// use tinytrain_host_sim::{sweep::Grid, train::{OptimizerKind, TrainConfig}};
    /// let grid = Grid {
    ///     base: TrainConfig::new(vec![1, 8, 1]), layers: vec![vec![1, 8, 1]], optimizers: vec![OptimizerKind::Adam],
    ///     learning_rates: vec![0.01, 0.02, 0.0], batch_sizes: vec![8],
    /// };
    /// let e = grid.check().unwrap_err().to_string();
    /// assert!(e.starts_with("--lr 0: "), "{e}");
    /// ```
    pub fn check(&self) -> Result<()> {
        let valid = |settings: &TrainConfig, context: String| {
            settings.config().validate().map_err(Error::core(context))
        };
        valid(&self.base, "invalid settings".into())?;
        for &learning_rate in &self.learning_rates {
            let settings = TrainConfig {
                learning_rate,
                ..self.base.clone()
            };
            valid(&settings, format!("--lr {learning_rate}"))?;
        }
        for &batch_size in &self.batch_sizes {
            let settings = TrainConfig {
                batch_size,
                ..self.base.clone()
            };
            valid(&settings, format!("--batch {batch_size}"))?;
        }
        for &optimizer in &self.optimizers {
            let settings = TrainConfig {
                optimizer,
                ..self.base.clone()
            };
            valid(&settings, format!("--optimizer {}", optimizer.name()))?;
        }
        if self.combinations().is_empty() {
            return Err(Error::NothingToSweep);
        }
        Ok(())
    }
}

/// One training run of a combination, judged on training and validation data only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Repeat {
    /// The seed of its initial weights and shuffle.
    pub seed: u64,
    /// Training MSE of its best-validation weights.
    pub train_mse: f64,
    /// Validation MSE.
    pub val_mse: f64,
    /// Validation R² (`null` for a constant target).
    pub val_r2: Option<f64>,
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
    /// Mean validation MSE over the repeats: what the choice is made on (NaN if one is not
    /// finite, which never wins).
    pub val_mse: f64,
    /// Standard deviation of the repeats' validation MSE (0 for one repeat).
    pub val_mse_sd: f64,
    /// Mean validation R² over the repeats.
    pub val_r2: Option<f64>,
    /// Mean training MSE over the repeats.
    pub train_mse: f64,
}

/// The result of a sweep.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// Every combination, in [`Grid::combinations`] order.
    pub rows: Vec<Row>,
    /// Index of the chosen row: the lowest mean validation MSE (the first of equals).
    pub chosen: usize,
    /// The chosen combination's repeat with the lowest validation MSE.
    pub net: Net,
    /// Its optimizer's state at the end of its run, to resume from.
    pub optimizer: SavedOptimizer,
    /// Its training settings.
    pub training: Training,
    /// That network's seed.
    pub seed: u64,
    /// Its test figures, the only test evaluation of the sweep (`None` without a test set).
    pub test: Option<score::Fit>,
    /// The exact linear fit's validation figures, the baseline to beat.
    pub baseline_val: score::Fit,
    /// Ctrl-C stopped the sweep: `rows` ends with the combination it interrupted (if an epoch
    /// of it ended), and the choice is among these rows only.
    pub interrupted: bool,
}

/// One training run of a sweep, as [`search`] sees it.
#[derive(Debug, Clone)]
pub struct Trial<R, K> {
    /// Its figures, what is kept of it (its network, and what a model file saves with it) and
    /// the validation loss compared (`None` when Ctrl-C stopped it before an epoch ended).
    pub done: Option<(R, K, f64)>,
    /// Ctrl-C stopped it.
    pub interrupted: bool,
}

/// What [`search`] chose.
#[derive(Debug, Clone)]
pub struct Choice<Row, K> {
    /// Every combination trained.
    pub rows: Vec<Row>,
    /// Index of the chosen row: the lowest mean validation loss (the first of equals).
    pub chosen: usize,
    /// What is kept of the chosen row's run with the lowest validation loss.
    pub kept: K,
    /// That run's seed.
    pub seed: u64,
    /// Ctrl-C stopped the search.
    pub interrupted: bool,
}

/// The search shared by every task's sweep: trains each combination with `trial` `repeats`
/// times (seeds `seed`, `seed + 1`, …), summarises its runs into a row (`summarise`, whose
/// `loss` is compared: a NaN never wins), calls `on_row`, and chooses the row of the lowest
/// loss and its best run. Ctrl-C ends it with a choice among the rows so far.
pub fn search<R, K, Row>(
    combinations: &[TrainConfig],
    repeats: u32,
    mut trial: impl FnMut(&TrainConfig) -> Result<Trial<R, K>>,
    summarise: impl Fn(TrainConfig, Vec<R>) -> Row,
    loss: impl Fn(&Row) -> f64,
    mut on_row: impl FnMut(usize, &Row),
) -> Result<Choice<Row, K>> {
    let mut rows = Vec::with_capacity(combinations.len());
    // The best run of each row, and the chosen row.
    let mut best: Option<(usize, f64, K, u64)> = None;
    let mut interrupted = false;
    for (k, settings) in combinations.iter().enumerate() {
        let mut runs = Vec::new();
        let mut kept: Option<(f64, K, u64)> = None;
        for r in 0..repeats.max(1) {
            if interrupted {
                break;
            }
            let seed = settings.seed.wrapping_add(u64::from(r));
            let settings = TrainConfig {
                seed,
                ..settings.clone()
            };
            let t = trial(&settings)?;
            interrupted = t.interrupted;
            let Some((repeat, run, val)) = t.done else {
                break;
            };
            runs.push(repeat);
            if kept.as_ref().is_none_or(|(v, _, _)| val < *v) {
                kept = Some((val, run, seed));
            }
        }
        if runs.is_empty() {
            break;
        }
        let row = summarise(settings.clone(), runs);
        on_row(k, &row);
        let row_loss = loss(&row);
        let better = best
            .as_ref()
            .is_none_or(|(_, val, _, _)| row_loss < *val || val.is_nan());
        if let (true, Some((_, run, seed))) = (better, kept) {
            best = Some((k, row_loss, run, seed));
        }
        rows.push(row);
        if interrupted {
            break;
        }
    }
    let Some((chosen, _, kept, seed)) = best else {
        return Err(if interrupted {
            Error::Interrupted {
                outcome: "no epoch had ended: nothing to save".into(),
            }
        } else {
            Error::NothingToSweep
        });
    };
    Ok(Choice {
        rows,
        chosen,
        kept,
        seed,
        interrupted,
    })
}

/// Trains every combination `repeats` times on `parts`, calling `on_row` after each, chooses by
/// mean validation MSE and tests the chosen network. `combinations` must not be empty. Ctrl-C
/// (once [`crate::interrupt::watch`] is on) ends the sweep with a choice among the rows so far
/// and no test evaluation; see [`Sweep::interrupted`].
pub fn run(
    data: &Dataset<'_>,
    parts: &Parts,
    combinations: &[TrainConfig],
    repeats: u32,
    on_row: impl FnMut(usize, &Row),
) -> Result<Sweep> {
    let reference = Reference::new(data, parts)?;
    let trial = |settings: &TrainConfig| {
        let run = train::fit(data, settings, parts, reference.floor(settings), |_, _| {})?;
        if run.interrupted && run.report.epochs_run == 0 {
            return Ok(Trial {
                done: None,
                interrupted: true,
            });
        }
        let scores = score::scores(&run.net, data, parts)?;
        let repeat = Repeat {
            seed: settings.seed,
            train_mse: scores.train.mse,
            val_mse: scores.val.mse,
            val_r2: scores.val.r2,
            epochs_run: run.report.epochs_run,
            best_epoch: run.report.best_epoch,
            stop_reason: run.stop_name(),
        };
        let interrupted = run.interrupted;
        Ok(Trial {
            done: Some((repeat, run, scores.val.mse)),
            interrupted,
        })
    };
    let choice = search(
        combinations,
        repeats,
        trial,
        summarise,
        |row| row.val_mse,
        on_row,
    )?;
    let run = choice.kept;
    let test = if choice.interrupted {
        None
    } else {
        score::fit(&run.net, data, &parts.test)?
    };
    let baseline_val = score::scores(&reference.baseline.net, data, parts)?.val;
    Ok(Sweep {
        rows: choice.rows,
        chosen: choice.chosen,
        net: run.net,
        optimizer: run.optimizer,
        training: run.training,
        seed: choice.seed,
        test,
        baseline_val,
        interrupted: choice.interrupted,
    })
}

/// A row's means and spread.
fn summarise(config: TrainConfig, repeats: Vec<Repeat>) -> Row {
    let n = repeats.len().max(1) as f64;
    let (val_mse, val_mse_sd) = mean_and_sd(repeats.iter().map(|r| r.val_mse));
    let r2s: Option<Vec<f64>> = repeats.iter().map(|r| r.val_r2).collect();
    Row {
        config,
        val_mse,
        val_mse_sd,
        val_r2: r2s.map(|v| v.iter().sum::<f64>() / n),
        train_mse: repeats.iter().map(|r| r.train_mse).sum::<f64>() / n,
        repeats,
    }
}

/// The mean of the repeats' validation losses `losses` (NaN unless finite: it never wins) and
/// their sample standard deviation (0 for one repeat).
pub(crate) fn mean_and_sd(losses: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = losses.clone().count().max(1) as f64;
    let mean = losses.clone().sum::<f64>() / n;
    let var = losses.map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (if mean.is_finite() { mean } else { f64::NAN }, var.sqrt())
}

/// The columns every sweep table starts with — `#`, layers, optimizer, lr, batch, epochs and
/// stop — then `rest`, and the spread's header (`± sd` when rows have several repeats).
pub(crate) fn header(repeats: usize, rest: impl FnOnce(&str) -> String) -> String {
    let spread = if repeats > 1 { "± sd" } else { "" };
    format!(
        "  {:>3}  {:<14} {:<9} {:>8} {:>6}  {:>6} {:<14} {}\n",
        "#",
        "layers",
        "optimizer",
        "lr",
        "batch",
        "epochs",
        "stop",
        rest(spread)
    )
}

/// Row `k`'s first columns (the chosen one marked with `*`): its combination, and the epochs and
/// stop of its first repeat.
pub(crate) fn row_start(
    k: usize,
    chosen: usize,
    c: &TrainConfig,
    first: Option<(u32, &str)>,
) -> String {
    let mark = if k == chosen { '*' } else { ' ' };
    format!(
        "{mark} {:>3}  {:<14} {:<9} {:>8} {:>6}  {:>6} {:<14} ",
        k + 1,
        c.widths_text(),
        c.optimizer.name(),
        c.learning_rate,
        c.batch_size,
        first.map_or(0, |f| f.0),
        first.map_or("", |f| f.1),
    )
}

/// A row's spread column: `± sd` over several repeats, nothing for one.
pub(crate) fn spread(repeats: usize, sd: f64) -> String {
    if repeats > 1 {
        format!("± {sd:.6}")
    } else {
        String::new()
    }
}

/// The line naming the chosen combination (`by`: what it was chosen on) and the kept seed.
pub(crate) fn chosen_line(chosen: usize, config: &TrainConfig, by: &str, seed: u64) -> String {
    format!(
        "chosen  #{} by mean validation {by}: {} (kept seed {seed})\n",
        chosen + 1,
        describe(config),
    )
}

/// The test line when there are no test figures: the sweep was interrupted, or has no test set.
pub(crate) fn no_test_line(interrupted: bool) -> String {
    if interrupted {
        "test    not evaluated: the sweep was interrupted\n".to_owned()
    } else {
        "test    no test set (--test 0)\n".to_owned()
    }
}

/// One line naming a combination's swept values.
pub fn describe(s: &TrainConfig) -> String {
    format!(
        "{} {} lr {} batch {}",
        s.widths_text(),
        s.optimizer.name(),
        s.learning_rate,
        s.batch_size
    )
}

/// The sweep's JSON file.
#[derive(Serialize)]
struct Json<'a> {
    rows: &'a [Row],
    chosen: usize,
    chosen_config: Option<&'a TrainConfig>,
    chosen_seed: u64,
    test: Option<score::Fit>,
    baseline_val: score::Fit,
}

impl Sweep {
    /// The results as a table, the chosen row marked with `*`, and the chosen network's test
    /// figures.
    pub fn table(&self) -> String {
        let repeats = self.rows.first().map_or(1, |r| r.repeats.len());
        let mut s = header(repeats, |spread| {
            format!(
                "{:>10} {:>10} {:>9} {:>7}",
                "train MSE", "val MSE", spread, "val R²"
            )
        });
        for (k, r) in self.rows.iter().enumerate() {
            let first = r.repeats.first().map(|f| (f.epochs_run, f.stop_reason));
            let r2 = r.val_r2.map_or("-".to_owned(), |v| format!("{v:.4}"));
            s += &format!(
                "{}{:>10.6} {:>10.6} {:>9} {:>7}\n",
                row_start(k, self.chosen, &r.config, first),
                r.train_mse,
                r.val_mse,
                spread(repeats, r.val_mse_sd),
                r2
            );
        }
        if repeats > 1 {
            s += &format!(
                "        {repeats} repeats per row (seeds {} to {}): epochs and stop of the first, \
                 MSE and R² the mean\n",
                self.rows.first().map_or(0, |r| r.config.seed),
                self.rows
                    .first()
                    .map_or(0, |r| r.config.seed + repeats as u64 - 1)
            );
        }
        let r2 = self
            .baseline_val
            .r2
            .map_or("-".to_owned(), |v| format!("{v:.4}"));
        s += &format!(
            "linear  the exact least-squares fit: val MSE {:.6}, val R² {r2}\n",
            self.baseline_val.mse
        );
        if let Some(r) = self.rows.get(self.chosen) {
            s += &chosen_line(self.chosen, &r.config, "MSE", self.seed);
        }
        s += &match self.test {
            Some(t) => format!(
                "test    MSE {:.6}, R² {} (evaluated once, for the chosen network only)\n",
                t.mse,
                t.r2.map_or("-".to_owned(), |v| format!("{v:.4}"))
            ),
            None => no_test_line(self.interrupted),
        };
        s
    }

    /// The rows, the choice and its test figures as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        let json = Json {
            rows: &self.rows,
            chosen: self.chosen + 1,
            chosen_config: self.rows.get(self.chosen).map(|r| &r.config),
            chosen_seed: self.seed,
            test: self.test,
            baseline_val: self.baseline_val,
        };
        // Numbers, strings and vectors always serialise.
        serde_json::to_string_pretty(&json).unwrap_or_default() + "\n"
    }
}
