//! What `tinytrain train --task classify` tells: a few lines on stdout and, with `--report`, a
//! JSON file of the same schema version as regression's, its `task` `"classification"`.

use super::{Diagnostics, Epoch, Figures, Labelled, Outcome, PriorFigures, Weighting};
use crate::parts::Parts;
use crate::report::{split_field, Sizes, SCHEMA_VERSION};
use crate::train::{Ending, TrainConfig};
use serde::Serialize;

/// The names of the columns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Columns {
    /// The feature (input) columns, in the network's input order.
    pub features: Vec<String>,
    /// The label column.
    pub target: String,
}

/// A class and its samples in each part.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Class {
    /// Its label: the network's output of its index.
    pub label: String,
    /// Samples in the data.
    pub samples: u32,
    /// In the training part.
    pub train: u32,
    /// In the validation part.
    pub val: u32,
    /// In the test part.
    pub test: u32,
    /// Its weight in the loss (1 without class weights).
    pub weight: f32,
}

/// A model's figures on the three parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parted<F> {
    /// On the training samples.
    pub train: Option<F>,
    /// On the validation samples.
    pub val: Option<F>,
    /// On the test samples, evaluated once (`null` without a test set).
    pub test: Option<F>,
}

/// The linear baseline: the logistic regression and its fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Linear {
    /// Its figures.
    #[serde(flatten)]
    pub figures: Parted<Figures>,
    /// L-BFGS iterations.
    pub iterations: u32,
    /// The gradient came down to the tolerance.
    pub converged: bool,
    /// The training objective: weighted mean cross-entropy plus the L2 penalty.
    pub objective: f64,
}

/// The majority-class baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Majority {
    /// The training split's majority class.
    pub label: String,
    /// Its figures (the prior's cross-entropy).
    #[serde(flatten)]
    pub figures: Parted<PriorFigures>,
}

/// The settings, with the loss and the class weights.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    /// The run's settings.
    #[serde(flatten)]
    pub settings: TrainConfig,
    /// Always `cross_entropy`.
    pub loss: &'static str,
    /// `--class-weights`.
    pub class_weights: Weighting,
}

/// The JSON report of a classifier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Always `classification`.
    pub task: &'static str,
    /// The CSV file.
    pub data: String,
    /// Its feature and label columns.
    pub columns: Columns,
    /// The classes in the network's output order, with their counts.
    pub classes: Vec<Class>,
    /// The sizes of the split's parts.
    pub samples: Sizes,
    /// The split's 0-based data rows (`null` above [`crate::report::SPLIT_ROWS_MAX`] rows).
    pub split: Option<Parts>,
    /// Why `split` is `null`, if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split_note: Option<String>,
    /// The kept (best-validation) network.
    pub network: Parted<Figures>,
    /// The linear softmax model fitted to convergence on the training set.
    pub linear: Linear,
    /// Always the training split's majority class.
    pub majority: Majority,
    /// Epochs trained.
    pub epochs_run: u32,
    /// Epoch whose weights were kept (0: the initial weights).
    pub best_epoch: u32,
    /// Why training stopped.
    pub stop_reason: &'static str,
    /// What the numbers mean.
    pub diagnostics: Diagnostics,
    /// Every epoch's losses (nats, as weighted in training) and accuracies.
    pub history: Vec<Epoch>,
    /// The settings.
    pub config: Config,
}

impl Report {
    /// Collects the report of a run on `labelled`, read from the file `data`.
    pub fn new(data: &str, labelled: &Labelled, outcome: &Outcome) -> Self {
        let run = &outcome.run;
        let parts = &run.parts;
        let (split, split_note) = split_field(parts, outcome.settings.seed);
        let counts = |rows: Option<&[u32]>| labelled.counts(rows);
        let (all, train, val, test) = (
            counts(None),
            counts(Some(&parts.train)),
            counts(Some(&parts.val)),
            counts(Some(&parts.test)),
        );
        let classes = labelled
            .classes
            .iter()
            .enumerate()
            .map(|(k, label)| Class {
                label: label.clone(),
                samples: all[k],
                train: train[k],
                val: val[k],
                test: test[k],
                weight: run.weights.get(k).copied().unwrap_or(1.0),
            })
            .collect();
        let parted = |s: &super::Scores| Parted {
            train: Some(s.train.clone()),
            val: Some(s.val.clone()),
            test: s.test.clone(),
        };
        let b = &outcome.baselines;
        Self {
            schema_version: SCHEMA_VERSION,
            task: "classification",
            data: data.to_owned(),
            columns: Columns {
                features: labelled.input_names.clone(),
                target: labelled.target_name.clone(),
            },
            classes,
            samples: Sizes::of(parts),
            split,
            split_note,
            network: parted(&outcome.scores),
            linear: Linear {
                figures: parted(&b.linear_scores),
                iterations: b.fit.iterations,
                converged: b.fit.converged,
                objective: b.fit.objective,
            },
            majority: Majority {
                label: labelled
                    .classes
                    .get(b.majority)
                    .cloned()
                    .unwrap_or_default(),
                figures: Parted {
                    train: b.prior[0],
                    val: b.prior[1],
                    test: b.prior[2],
                },
            },
            epochs_run: run.report.epochs_run,
            best_epoch: run.report.best_epoch,
            stop_reason: run.stop_name(),
            diagnostics: outcome.diagnostics.clone(),
            history: run.history.clone(),
            config: Config {
                settings: outcome.settings.clone(),
                loss: "cross_entropy",
                class_weights: outcome.weighting,
            },
        }
    }

    /// Pretty-printed JSON (NaN is written as `null`).
    pub fn to_json(&self) -> String {
        // A struct of numbers, strings and vectors always serialises.
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// The summary printed by `tinytrain train --task classify`: the data and its classes, the
    /// model, the stop, each model's cross-entropy and accuracy on every part, the test set's
    /// confusion matrix (the validation set's without a test set), the notes.
    pub fn summary(&self) -> String {
        let classes: Vec<String> = self
            .classes
            .iter()
            .map(|c| format!("{} {}", c.label, c.samples))
            .collect();
        let mut s = format!(
            "data      {} ({} train, {} validation, {} test); {} classes: {}\n\
             model     {} {}, softmax cross-entropy{}, lr {}, batch {}, init {}, seed {}\n\
             stopped   {} at epoch {}; kept the weights of epoch {}\n",
            self.data,
            self.samples.train,
            self.samples.val,
            self.samples.test,
            self.classes.len(),
            crate::table::listed(&classes),
            self.config.settings.widths_text(),
            self.config.settings.optimizer.name(),
            match self.config.class_weights {
                Weighting::Balanced => " (balanced class weights)",
                Weighting::None => "",
            },
            self.config.settings.learning_rate,
            self.config.settings.batch_size,
            self.config.settings.init.name(),
            self.config.settings.seed,
            self.stop_reason,
            self.epochs_run,
            self.best_epoch,
        );
        let figures = |f: &Parted<Figures>| {
            [&f.train, &f.val, &f.test].map(|p| p.as_ref().map(|f| (f.cross_entropy, f.accuracy)))
        };
        s += &line("network", figures(&self.network));
        s += &line("linear", figures(&self.linear.figures));
        let m = &self.majority.figures;
        let prior = [m.train, m.val, m.test].map(|p| p.map(|f| (f.cross_entropy, f.accuracy)));
        s += &line("majority", prior);
        let (part, shown) = match (&self.network.test, &self.network.val) {
            (Some(test), _) => ("test", Some(test)),
            (None, val) => ("validation", val.as_ref()),
        };
        if let Some(f) = shown {
            s += &confusion_text(part, f);
        }
        for note in &self.diagnostics.notes {
            s += &format!("note      {note}\n");
        }
        s
    }
}

/// `network   cross-entropy train … validation … test …   accuracy …` (test last: reported,
/// not compared).
fn line(name: &str, f: [Option<(f64, f64)>; 3]) -> String {
    let ce = |p: Option<(f64, f64)>| p.map_or("-".to_owned(), |(c, _)| crate::numbers::number(c));
    let acc = |p: Option<(f64, f64)>| p.map_or("-".to_owned(), |(_, a)| format!("{a:.4}"));
    format!(
        "{name:<9} cross-entropy train {}  validation {}  test {}   accuracy train {}  \
         validation {}  test {}\n",
        ce(f[0]),
        ce(f[1]),
        ce(f[2]),
        acc(f[0]),
        acc(f[1]),
        acc(f[2]),
    )
}

/// The confusion matrix as text: one row per true class, then its recall and precision.
fn confusion_text(part: &str, f: &Figures) -> String {
    let width = f
        .classes
        .iter()
        .map(|c| c.label.chars().count())
        .chain(f.confusion.iter().flatten().map(|n| n.to_string().len()))
        .max()
        .unwrap_or(1)
        .clamp(4, 16);
    let cut = |label: &str| label.chars().take(width).collect::<String>();
    let mut s = format!("confusion ({part}; rows: true class, columns: predicted)\n");
    s += &format!("          {:>width$}", "");
    for c in &f.classes {
        s += &format!(" {:>width$}", cut(&c.label));
    }
    s += "   recall precision\n";
    for (row, c) in f.confusion.iter().zip(&f.classes) {
        s += &format!("          {:>width$}", cut(&c.label));
        for n in row {
            s += &format!(" {n:>width$}");
        }
        let pct = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.4}"));
        s += &format!("   {:>6} {:>9}\n", pct(c.recall), pct(c.precision));
    }
    s
}
