//! Hyperparameter sweeps: every combination trained, the one with the lowest validation loss
//! chosen, and only that one tested — once.

use crate::error::{Error, Result};
use crate::net::Net;
use crate::train::{self, Rule, Settings};
use serde::Serialize;
use tinytrain_core::Dataset;

/// The values to combine; every other setting comes from `base`.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// The settings shared by every combination.
    pub base: Settings,
    /// Layer widths to try.
    pub layers: Vec<Vec<usize>>,
    /// Update rules to try.
    pub optimizers: Vec<Rule>,
    /// Learning rates to try.
    pub learning_rates: Vec<f32>,
    /// Batch sizes to try.
    pub batch_sizes: Vec<usize>,
}

impl Grid {
    /// Every combination, layers varying slowest and batch sizes fastest.
    ///
    /// ```
    /// use tinytrain_host_sim::{sweep::Grid, train::{Rule, Settings}};
    /// let base = Settings {
    ///     layers: vec![1, 8, 1], optimizer: Rule::Sgd, learning_rate: 0.01, batch_size: 16,
    ///     max_epochs: 100, patience: 10, seed: 1, val_fraction: 0.2, test_fraction: 0.2,
    ///     standardize: false,
    /// };
    /// let grid = Grid {
    ///     base, layers: vec![vec![1, 8, 1], vec![1, 16, 1]], optimizers: vec![Rule::Adam],
    ///     learning_rates: vec![0.001, 0.01], batch_sizes: vec![8],
    /// };
    /// let all = grid.combinations();
    /// assert_eq!(all.len(), 4);
    /// assert_eq!((all[1].layers.clone(), all[1].learning_rate), (vec![1, 8, 1], 0.01));
    /// ```
    pub fn combinations(&self) -> Vec<Settings> {
        let mut all = Vec::new();
        for layers in &self.layers {
            for &optimizer in &self.optimizers {
                for &learning_rate in &self.learning_rates {
                    for &batch_size in &self.batch_sizes {
                        all.push(Settings {
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
    /// use tinytrain_host_sim::{sweep::Grid, train::{Rule, Settings}};
    /// let base = Settings {
    ///     layers: vec![1, 8, 1], optimizer: Rule::Sgd, learning_rate: 0.01, batch_size: 16,
    ///     max_epochs: 100, patience: 10, seed: 1, val_fraction: 0.2, test_fraction: 0.2,
    ///     standardize: false,
    /// };
    /// let grid = Grid {
    ///     base, layers: vec![vec![1, 8, 1]], optimizers: vec![Rule::Adam],
    ///     learning_rates: vec![0.01, 0.02, 0.0], batch_sizes: vec![8],
    /// };
    /// let e = grid.check().unwrap_err().to_string();
    /// assert!(e.starts_with("--lr 0: "), "{e}");
    /// ```
    pub fn check(&self) -> Result<()> {
        let valid = |settings: &Settings, context: String| {
            settings.config().validate().map_err(Error::core(context))
        };
        valid(&self.base, "invalid settings".into())?;
        for &learning_rate in &self.learning_rates {
            let settings = Settings {
                learning_rate,
                ..self.base.clone()
            };
            valid(&settings, format!("--lr {learning_rate}"))?;
        }
        for &batch_size in &self.batch_sizes {
            let settings = Settings {
                batch_size,
                ..self.base.clone()
            };
            valid(&settings, format!("--batch {batch_size}"))?;
        }
        for &optimizer in &self.optimizers {
            let settings = Settings {
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

/// One trained combination, judged on training and validation data only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Its settings.
    pub config: Settings,
    /// Training MSE of its best-validation weights.
    pub train_mse: f32,
    /// Validation MSE: what the choice is made on.
    pub val_mse: f32,
    /// Epochs trained.
    pub epochs_run: u32,
    /// The epoch whose weights were kept.
    pub best_epoch: u32,
    /// Why training stopped.
    pub stop_reason: &'static str,
}

/// The result of a sweep.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// Every combination, in [`Grid::combinations`] order.
    pub rows: Vec<Row>,
    /// Index of the chosen row: the lowest validation MSE (the first of equals).
    pub chosen: usize,
    /// The chosen network.
    pub net: Net,
    /// The chosen network's test MSE, the only test evaluation of the sweep (`None` without a
    /// test set, or when interrupted).
    pub test_mse: Option<f32>,
    /// Ctrl-C stopped the sweep: `rows` ends with the combination it interrupted (if an epoch
    /// of it ended), and the choice is among these rows only.
    pub interrupted: bool,
}

/// Trains every combination, calling `on_row` after each, chooses by validation MSE and tests
/// the chosen network. `combinations` must not be empty. Ctrl-C (once
/// [`crate::interrupt::watch`] is on) ends the sweep with a choice among the rows so far and
/// no test evaluation; see [`Sweep::interrupted`].
pub fn run(
    data: &Dataset<'_>,
    combinations: &[Settings],
    mut on_row: impl FnMut(usize, &Row),
) -> Result<Sweep> {
    let mut rows = Vec::with_capacity(combinations.len());
    let mut best: Option<(usize, f32, train::Run)> = None;
    let mut interrupted = false;
    for (k, settings) in combinations.iter().enumerate() {
        let run = train::fit(data, settings, |_| {})?;
        interrupted = run.interrupted;
        if interrupted && run.report.epochs_run == 0 {
            break;
        }
        let row = Row {
            config: settings.clone(),
            train_mse: run.net.mse(data, &run.parts.train)?,
            val_mse: run.net.mse(data, &run.parts.validation)?,
            epochs_run: run.report.epochs_run,
            best_epoch: run.report.best_epoch,
            stop_reason: run.stop_name(),
        };
        on_row(k, &row);
        let better = best
            .as_ref()
            .is_none_or(|(_, val, _)| row.val_mse < *val || val.is_nan());
        if better {
            best = Some((k, row.val_mse, run));
        }
        rows.push(row);
        if interrupted {
            break;
        }
    }
    let Some((chosen, _, run)) = best else {
        return Err(if interrupted {
            Error::Interrupted {
                outcome: "no epoch had ended: nothing to save".into(),
            }
        } else {
            Error::NothingToSweep
        });
    };
    let test_mse = if run.parts.test.is_empty() || interrupted {
        None
    } else {
        Some(run.net.mse(data, &run.parts.test)?)
    };
    Ok(Sweep {
        rows,
        chosen,
        net: run.net,
        test_mse,
        interrupted,
    })
}

/// One line naming a combination's swept values.
pub fn describe(s: &Settings) -> String {
    format!(
        "{} {} lr {} batch {}",
        s.layers_text(),
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
    chosen_config: Option<&'a Settings>,
    test_mse: Option<f32>,
}

impl Sweep {
    /// The results as a table, the chosen row marked with `*`, and the test MSE.
    pub fn table(&self) -> String {
        let mut s = format!(
            "  {:>3}  {:<14} {:<9} {:>8} {:>6}  {:>6} {:>5}  {:<14} {:>10} {:>10}\n",
            "#",
            "layers",
            "optimizer",
            "lr",
            "batch",
            "epochs",
            "best",
            "stop",
            "train MSE",
            "val MSE"
        );
        for (k, r) in self.rows.iter().enumerate() {
            let mark = if k == self.chosen { '*' } else { ' ' };
            let c = &r.config;
            s += &format!(
                "{mark} {:>3}  {:<14} {:<9} {:>8} {:>6}  {:>6} {:>5}  {:<14} {:>10.6} {:>10.6}\n",
                k + 1,
                c.layers_text(),
                c.optimizer.name(),
                c.learning_rate,
                c.batch_size,
                r.epochs_run,
                r.best_epoch,
                r.stop_reason,
                r.train_mse,
                r.val_mse
            );
        }
        let chosen = self.rows.get(self.chosen);
        if let Some(r) = chosen {
            s += &format!(
                "chosen  #{} by validation MSE: {}\n",
                self.chosen + 1,
                describe(&r.config)
            );
        }
        s += &match self.test_mse {
            Some(t) => format!("test    MSE {t:.6} (evaluated once, for the chosen one only)\n"),
            None if self.interrupted => {
                "test    not evaluated: the sweep was interrupted\n".to_owned()
            }
            None => "test    no test set (--test 0)\n".to_owned(),
        };
        s
    }

    /// The rows, the choice and its test MSE as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        let json = Json {
            rows: &self.rows,
            chosen: self.chosen + 1,
            chosen_config: self.rows.get(self.chosen).map(|r| &r.config),
            test_mse: self.test_mse,
        };
        // Numbers, strings and vectors always serialise.
        serde_json::to_string_pretty(&json).unwrap_or_default() + "\n"
    }
}
