//! `--task classify`: a network whose outputs are one logit per class, trained on the softmax
//! cross-entropy, beside the two baselines of classification — the majority class and the linear
//! softmax model (multinomial logistic regression, fitted to convergence) — and scored on every
//! part of the split: cross-entropy, accuracy, each class's precision and recall, the confusion
//! matrix.
//!
//! The labels come from the target column as text or numbers, their classes in a fixed order
//! ([`crate::table::Labels`]); the split is stratified (each class in the same proportions in
//! every part) unless `--split` gives one, which must hold every class in its training and
//! validation parts.

pub mod plot;
pub mod predict;
pub mod report;
pub mod sweep;

use crate::error::{Error, Result};
use crate::net::Net;
use crate::parts::Parts;
use crate::table::Table;
use crate::train::{Ending, TrainConfig};
use serde::Serialize;
use tinytrain_core::diagnose::{self, ClassNoiseFloor};
use tinytrain_core::loss::Loss;
use tinytrain_core::metrics::{self, Confusion};
use tinytrain_core::{
    logistic, shape, Dataset, EpochSummary, Event, Progress, Report, Split, StopReason, Trainer,
};

/// The default of `--max-classes`: the most classes a label column may hold.
pub const DEFAULT_MAX_CLASSES: usize = 100;

/// Labels whose classes are this many times apart in size make a note about class imbalance.
pub const IMBALANCE_RATIO: f64 = 3.0;

/// The samples [`diagnose::class_noise_floor`] looks at, at most (it takes O(n²) time).
pub const NOISE_FLOOR_SAMPLES: usize = 4000;

/// How each class weighs in the loss (`--class-weights`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Weighting {
    /// Every sample weighs 1: a class weighs as much as it has samples.
    None,
    /// Every class weighs the same: scikit-learn's "balanced", `n / (K n_c)` from the training
    /// samples ([`metrics::balanced_weights`]).
    Balanced,
}

/// The samples of a classifier: inputs as numbers, each row's class, the classes' names.
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    /// The file they came from.
    pub path: std::path::PathBuf,
    /// Names of the input columns.
    pub input_names: Vec<String>,
    /// Name of the label column.
    pub target_name: String,
    /// Inputs, `n_in()` per sample.
    pub inputs: Vec<f32>,
    /// Each sample's class.
    pub labels: Vec<u16>,
    /// The classes' names, in their fixed order.
    pub classes: Vec<String>,
    /// Every label is a number.
    pub numeric: bool,
}

impl Labelled {
    /// The samples of a table read with [`Table::read_labelled`]: every column but the labels
    /// as inputs. Errors: no label column, no input column, a single class.
    pub fn from_table(table: &Table) -> Result<Self> {
        let Some(labels) = &table.labels else {
            return Err(Error::Columns {
                path: table.path.clone(),
                problem: "no column was read as class labels".into(),
            });
        };
        let n = table.header.len();
        if n < 2 {
            return Err(Error::Columns {
                path: table.path.clone(),
                problem: "only one column: a feature column and a label column are needed".into(),
            });
        }
        let mut input_names = table.header.clone();
        let target_name = input_names.remove(labels.column);
        let mut inputs = Vec::with_capacity(table.rows() * (n - 1));
        for row in table.values.chunks_exact(n) {
            for (k, v) in row.iter().enumerate() {
                if k != labels.column {
                    inputs.push(*v);
                }
            }
        }
        let labelled = Self {
            path: table.path.clone(),
            input_names,
            target_name,
            inputs,
            labels: labels.rows.clone(),
            classes: labels.names.clone(),
            numeric: labels.numeric,
        };
        if labelled.classes.len() < tinytrain_core::data::MIN_CLASSES {
            let only = labelled.classes.first().cloned().unwrap_or_default();
            return Err(Error::Classes {
                path: table.path.clone(),
                problem: format!(
                    "column `{}` holds one class only (`{only}`, {} samples): a classifier \
                     needs at least two",
                    labelled.target_name,
                    labelled.len()
                ),
            });
        }
        Ok(labelled)
    }

    /// Inputs per sample.
    pub fn n_in(&self) -> usize {
        self.input_names.len()
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// No sample (never, for samples from a table).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Number of classes: the network's outputs.
    pub fn n_classes(&self) -> usize {
        self.classes.len()
    }

    /// The data set the core trains on.
    pub fn dataset(&self) -> Result<Dataset<'_, u16>> {
        Dataset::classes(&self.inputs, &self.labels, self.n_in(), self.n_classes())
            .map_err(Error::core(self.path.display().to_string()))
    }

    /// The samples of each class among `rows` (all rows for `None`).
    pub fn counts(&self, rows: Option<&[u32]>) -> Vec<u32> {
        let mut counts = vec![0u32; self.n_classes()];
        let mut add = |c: u16| {
            if let Some(n) = counts.get_mut(usize::from(c)) {
                *n += 1;
            }
        };
        match rows {
            Some(rows) => rows
                .iter()
                .filter_map(|&r| self.labels.get(r as usize))
                .for_each(|&c| add(c)),
            None => self.labels.iter().for_each(|&c| add(c)),
        }
        counts
    }

    /// A class's name as messages quote it: `` `setosa` ``.
    pub fn quoted(&self, class: usize) -> String {
        format!("`{}`", self.classes.get(class).map_or("?", String::as_str))
    }

    /// The hint that regression may be meant, for labels that look like a measurement: numbers
    /// with fractions, or many of them.
    fn regression_hint(&self) -> &'static str {
        let fractional = self
            .classes
            .iter()
            .filter_map(|c| c.parse::<f64>().ok())
            .any(|v| v.fract() != 0.0);
        if self.numeric && (fractional || self.n_classes() > 20) {
            "; the labels are numbers: for a numeric target, regression (without --task \
             classify) may be meant"
        } else {
            ""
        }
    }
}

/// The split of a classifier's samples: drawn class by class with the seed (stratified), or read
/// from `file` and checked to hold every class in its training and validation parts. Every
/// error names the class by its label, with its count.
pub fn parts(
    labelled: &Labelled,
    val: f32,
    test: f32,
    seed: u64,
    file: Option<&std::path::Path>,
) -> Result<Parts> {
    let data = labelled.dataset()?;
    let parts = match file {
        Some(path) => {
            let parts = Parts::read(path, labelled.len())?;
            check_classes(labelled, &parts, path)?;
            return Ok(parts);
        }
        None => {
            let mut order = vec![0u32; labelled.len()];
            let split =
                Split::stratified(&mut order, &data, val, test, seed).map_err(|e| match e {
                    tinytrain_core::Error::ClassTooSmall {
                        class,
                        count,
                        needed,
                    } => Error::Classes {
                        path: labelled.path.clone(),
                        problem: format!(
                            "class {} has {count} sample{}: a stratified split into training, \
                             validation{} sets needs at least {needed}, one in each{}",
                            labelled.quoted(usize::from(class)),
                            if count == 1 { "" } else { "s" },
                            if test > 0.0 { " and test" } else { "" },
                            labelled.regression_hint()
                        ),
                    },
                    other => Error::Core {
                        context: format!("--val {val} --test {test} on {} samples", labelled.len()),
                        source: other,
                    },
                })?;
            Parts {
                train: split.train().to_vec(),
                val: split.validation().to_vec(),
                test: split.test().to_vec(),
            }
        }
    };
    Ok(parts)
}

/// Every class of the data in the training and the validation part of a split read from `path`.
fn check_classes(labelled: &Labelled, parts: &Parts, path: &std::path::Path) -> Result<()> {
    let all = labelled.counts(None);
    let train = labelled.counts(Some(&parts.train));
    let val = labelled.counts(Some(&parts.val));
    let test = labelled.counts(Some(&parts.test));
    for (class, &count) in all.iter().enumerate() {
        let missing = if train.get(class) == Some(&0) {
            "training"
        } else if val.get(class) == Some(&0) {
            "validation"
        } else {
            continue;
        };
        let held = test.get(class).copied().unwrap_or(0);
        let where_ = if held == count {
            format!(", all in the test set of {}", path.display())
        } else {
            format!(
                " in the data, none in the {missing} set of {}",
                path.display()
            )
        };
        return Err(Error::Classes {
            path: labelled.path.clone(),
            problem: format!(
                "class {} has {count} sample{}{where_}: a network cannot learn, or stop early \
                 on, a class its {missing} set lacks",
                labelled.quoted(class),
                if count == 1 { "" } else { "s" },
            ),
        });
    }
    Ok(())
}

/// The class weights of `weighting` from the training part (empty: every class 1).
pub fn class_weights(labelled: &Labelled, parts: &Parts, weighting: Weighting) -> Vec<f32> {
    match weighting {
        Weighting::None => Vec::new(),
        Weighting::Balanced => {
            let counts = labelled.counts(Some(&parts.train));
            let mut weights = vec![0.0; counts.len()];
            metrics::balanced_weights(&counts, &mut weights);
            weights
        }
    }
}

/// One epoch of a classifier's run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Epoch {
    /// 1-based.
    pub epoch: u32,
    /// Mean training cross-entropy over the epoch's batches, as weighted in training.
    pub train_loss: f32,
    /// Validation cross-entropy at the end of the epoch, as weighted in training.
    pub val_loss: f32,
    /// Training accuracy at the end of the epoch (`None` for the epoch training stopped at,
    /// whose weights were replaced by the best ones).
    pub train_accuracy: Option<f32>,
    /// Validation accuracy at the end of the epoch (`None` likewise).
    pub val_accuracy: Option<f32>,
}

/// A finished classifier run. The test set has not been looked at.
#[derive(Debug, Clone)]
pub struct Run {
    /// The best-validation network.
    pub net: Net,
    /// The trainer's report (losses in nats).
    pub report: Report,
    /// Every epoch.
    pub history: Vec<Epoch>,
    /// What the stopping rules saw that did not stop training, with its epoch.
    pub events: Vec<(u32, Event)>,
    /// The split the run used.
    pub parts: Parts,
    /// The class weights of the loss (empty: 1 each).
    pub weights: Vec<f32>,
    /// Ctrl-C stopped the run.
    pub interrupted: bool,
}

impl Ending for Run {
    fn report(&self) -> &Report {
        &self.report
    }

    fn interrupted(&self) -> bool {
        self.interrupted
    }
}

/// Samples run through the network at once (the same bits as one at a time).
const CHUNK: usize = 16;

/// Trains a classifier of `settings.layers` (the last width the number of classes) on the
/// cross-entropy, weighted by `weights`, until a stopping rule fires; the accuracies of every
/// epoch are measured on the way. Ctrl-C stops it after the current mini-batch with the best
/// weights so far.
pub fn fit(
    data: &Dataset<'_, u16>,
    settings: &TrainConfig,
    parts: &Parts,
    weights: &[f32],
    mut on_epoch: impl FnMut(&EpochSummary),
) -> Result<Run> {
    let widths = &settings.layers;
    let config = tinytrain_core::Config {
        loss: Loss::CrossEntropy,
        ..settings.config()
    };
    config.validate().map_err(Error::core("invalid settings"))?;
    // The trainer walks every row of its data set: rows outside the split are left out of a
    // copy, whose row k is the k-th row of the split.
    let rows = parts.rows();
    let copy;
    let (data, mut order) = if rows.len() == data.len() {
        (*data, rows.clone())
    } else {
        let (inputs, labels) = data
            .select(&rows)
            .map(|(x, c)| (x.to_vec(), c))
            .unzip::<_, _, Vec<_>, Vec<_>>();
        copy = (inputs.concat(), labels);
        let subset = Dataset::classes(&copy.0, &copy.1, data.n_in(), data.n_classes())
            .map_err(Error::core("the split's rows"))?;
        (subset, (0..rows.len() as u32).collect())
    };
    let split = parts.split(&mut order)?;
    let mut arena = vec![0.0; shape::train_arena_len_chunked(widths, config.optimizer, CHUNK)];
    let mut trainer = Trainer::<CHUNK, u16>::chunked(widths, config, data, split, &mut arena)
        .map_err(Error::core("training"))?;
    trainer
        .set_class_weights(weights)
        .map_err(Error::core("--class-weights"))?;
    let mut history = Vec::new();
    let mut events = Vec::new();
    let mut interrupted = false;
    let classes = data.n_classes();
    let mut counts = vec![0u32; metrics::confusion_len(classes)];
    let mut scratch = vec![0.0; shape::predict_scratch_len(widths)];
    while !interrupted {
        if let Progress::Epoch(summary) = trainer.step().map_err(Error::core("training"))? {
            let mut accuracy = |rows: &[u32]| -> Result<Option<f32>> {
                if summary.stop.is_some() {
                    return Ok(None);
                }
                let mut confusion =
                    Confusion::new(&mut counts, classes).map_err(Error::core("evaluate"))?;
                let model = trainer.model();
                let scores =
                    metrics::score(&model, trainer.data(), rows, &mut scratch, &mut confusion)
                        .map_err(Error::core("evaluate"))?;
                Ok(Some(scores.accuracy))
            };
            let train_accuracy = accuracy(trainer.split().train())?;
            let val_accuracy = accuracy(trainer.split().validation())?;
            history.push(Epoch {
                epoch: summary.loss.epoch,
                train_loss: summary.loss.train_mse,
                val_loss: summary.loss.val_mse,
                train_accuracy,
                val_accuracy,
            });
            if let Some(event) = summary.event {
                events.push((summary.loss.epoch, event));
            }
            on_epoch(&summary);
            if summary.stop.is_some() {
                break;
            }
        }
        interrupted = crate::interrupt::requested();
    }
    let report = trainer.report();
    let net = if interrupted {
        Net::from_model(&trainer.finish().model)
    } else {
        Net::from_model(&trainer.model())
    };
    Ok(Run {
        net,
        report,
        history,
        events,
        parts: parts.clone(),
        weights: weights.to_vec(),
        interrupted,
    })
}

/// One class's figures on a part.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassFigures {
    /// Its label.
    pub label: String,
    /// Its samples in the part.
    pub support: u64,
    /// Samples predicted as it.
    pub predicted: u64,
    /// Of those predicted as it, the fraction that are (`null` if never predicted).
    pub precision: Option<f64>,
    /// Of its samples, the fraction predicted as it (`null` without a sample).
    pub recall: Option<f64>,
}

/// A classifier's figures on one part of the split.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// Mean cross-entropy in nats (unweighted).
    pub cross_entropy: f64,
    /// Fraction of the samples predicted right.
    pub accuracy: f64,
    /// Mean of the classes' recalls over the classes present: the accuracy every class weighs
    /// the same in.
    pub balanced_accuracy: f64,
    /// Samples scored.
    pub samples: usize,
    /// Each class's precision and recall.
    pub classes: Vec<ClassFigures>,
    /// The confusion matrix: `confusion[t][p]` samples of class `t` predicted as `p`.
    pub confusion: Vec<Vec<u64>>,
}

/// A classifier's figures on the three parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scores {
    /// On the training samples.
    pub train: Figures,
    /// On the validation samples.
    pub val: Figures,
    /// On the test samples (`None` without a test set): evaluated once, never used to choose.
    pub test: Option<Figures>,
}

/// The figures of `net` on the samples of `data` at `rows` (`None` for no row).
pub fn figures(
    net: &Net,
    data: &Dataset<'_, u16>,
    classes: &[String],
    rows: &[u32],
) -> Result<Option<Figures>> {
    if rows.is_empty() {
        return Ok(None);
    }
    let k = data.n_classes();
    let mut counts = vec![0u32; metrics::confusion_len(k)];
    let mut confusion = Confusion::new(&mut counts, k).map_err(Error::core("evaluate"))?;
    let mut scratch = vec![0.0; shape::predict_scratch_len(&net.widths)];
    let scores = metrics::score(&net.model()?, data, rows, &mut scratch, &mut confusion)
        .map_err(Error::core("evaluate"))?;
    let per_class: Vec<ClassFigures> = (0..k)
        .map(|c| ClassFigures {
            label: classes.get(c).cloned().unwrap_or_default(),
            support: confusion.support(c),
            predicted: confusion.predicted(c),
            precision: confusion.precision(c).map(f64::from),
            recall: confusion.recall(c).map(f64::from),
        })
        .collect();
    let recalls: Vec<f64> = per_class.iter().filter_map(|c| c.recall).collect();
    Ok(Some(Figures {
        cross_entropy: f64::from(scores.cross_entropy),
        accuracy: f64::from(scores.accuracy),
        balanced_accuracy: recalls.iter().sum::<f64>() / recalls.len().max(1) as f64,
        samples: scores.samples,
        classes: per_class,
        confusion: (0..k)
            .map(|t| confusion.row(t).iter().map(|&c| u64::from(c)).collect())
            .collect(),
    }))
}

/// Scores a network on the three parts.
pub fn scores(net: &Net, labelled: &Labelled, parts: &Parts) -> Result<Scores> {
    let data = labelled.dataset()?;
    let empty = |part| Error::Core {
        context: "evaluate".into(),
        source: tinytrain_core::Error::EmptySplit { part },
    };
    let part = |rows: &[u32]| figures(net, &data, &labelled.classes, rows);
    Ok(Scores {
        train: part(&parts.train)?.ok_or_else(|| empty(tinytrain_core::SplitPart::Train))?,
        val: part(&parts.val)?.ok_or_else(|| empty(tinytrain_core::SplitPart::Validation))?,
        test: part(&parts.test)?,
    })
}

/// The majority class's figures on a part: it predicts the training majority class, and gives
/// each class its training frequency as probability (the prior).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PriorFigures {
    /// Mean cross-entropy in nats of the training frequencies.
    pub cross_entropy: f64,
    /// Fraction of the part in the majority class.
    pub accuracy: f64,
}

/// The baselines a classifier must beat.
#[derive(Debug, Clone)]
pub struct Baselines {
    /// The training split's majority class.
    pub majority: usize,
    /// Its figures on the three parts.
    pub prior: [Option<PriorFigures>; 3],
    /// The linear softmax model fitted to convergence.
    pub linear: Net,
    /// What the fit reports.
    pub fit: logistic::Fit,
    /// Its figures on the three parts.
    pub linear_scores: Scores,
}

/// Fits the baselines on the training part (the linear model with the run's class weights) and
/// scores them on every part.
pub fn baselines(labelled: &Labelled, parts: &Parts, weights: &[f32]) -> Result<Baselines> {
    let data = labelled.dataset()?;
    let train = labelled.counts(Some(&parts.train));
    let majority = metrics::majority(&train).ok_or(Error::Core {
        context: "the majority class".into(),
        source: tinytrain_core::Error::EmptySplit {
            part: tinytrain_core::SplitPart::Train,
        },
    })?;
    let prior = |rows: &[u32]| {
        metrics::prior_scores(&train, &labelled.counts(Some(rows)))
            .ok()
            .map(|s| PriorFigures {
                cross_entropy: f64::from(s.cross_entropy),
                accuracy: f64::from(s.accuracy),
            })
    };
    let widths = vec![labelled.n_in(), labelled.n_classes()];
    let mut params = vec![0.0; shape::param_len(&widths)];
    let mut stats = vec![0.0; shape::scaler_len(&widths)];
    let mut scratch = vec![0.0; logistic::scratch_len(labelled.n_in(), labelled.n_classes())];
    let fit = logistic::fit(
        &data,
        &parts.train,
        weights,
        &mut params,
        &mut stats,
        &mut scratch,
    )
    .map_err(Error::core("the logistic-regression baseline"))?;
    let linear = Net {
        widths,
        params,
        stats,
    };
    let linear_scores = scores(&linear, labelled, parts)?;
    Ok(Baselines {
        majority,
        prior: [prior(&parts.train), prior(&parts.val), prior(&parts.test)],
        linear,
        fit,
        linear_scores,
    })
}

/// What the numbers of a classifier's run mean: the `diagnostics` of its report. Every
/// comparison is on the validation set; the test set is reported, never used here.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostics {
    /// No epoch beat the initial weights.
    pub untrained: bool,
    /// The validation cross-entropy rose after the best epoch while the training one kept
    /// falling.
    pub overfitting: bool,
    /// The loss became non-finite or stayed far above its initial value.
    pub diverged: bool,
    /// The gradient vanished above the loss's floor.
    pub stalled: bool,
    /// The lowest error rate any classifier of these inputs reaches on the training and
    /// validation samples, from samples with equal inputs and different classes (`null` when
    /// no such samples).
    pub noise_floor_error_rate: Option<f64>,
    /// The classes with validation samples that the network never predicts.
    pub never_predicted: Vec<String>,
    /// The largest class has this many times the samples of the smallest.
    pub imbalance: f64,
    /// The network's validation accuracy minus the linear model's.
    pub accuracy_over_linear: f64,
    /// The network's validation accuracy minus the majority class's.
    pub accuracy_over_majority: f64,
    /// The above in sentences.
    pub notes: Vec<String>,
}

impl Diagnostics {
    /// Reads a run, its scores, the baselines' and the noise floor.
    pub fn new(
        labelled: &Labelled,
        run: &Run,
        scores: &Scores,
        baselines: &Baselines,
        noise: Option<ClassNoiseFloor>,
    ) -> Self {
        let stop = run.stop();
        let mut notes = run.ending_notes(run.stop_name());
        let counts = labelled.counts(None);
        let (small, large) = extremes(&counts);
        let imbalance = f64::from(counts[large]) / f64::from(counts[small].max(1));
        if imbalance >= IMBALANCE_RATIO {
            let weighted = if run.weights.is_empty() {
                "; --class-weights balanced weighs every class the same in the loss"
            } else {
                "; the loss weighs every class the same (--class-weights balanced)"
            };
            notes.push(format!(
                "class imbalance: {} has {} samples, {} {} ({:.1}×): accuracy rewards the \
                 majority class (always {}: validation accuracy {:.4}){weighted}",
                labelled.quoted(large),
                counts[large],
                labelled.quoted(small),
                counts[small],
                imbalance,
                labelled.quoted(baselines.majority),
                baselines.prior[1].map_or(f64::NAN, |p| p.accuracy),
            ));
        }
        let overfit = diagnose::overfitting(&run.report);
        if let Some(o) = overfit {
            notes.push(format!(
                "overfitting: after epoch {} the training cross-entropy fell from {:.6} to \
                 {:.6} while the validation cross-entropy rose from {:.6} to {:.6}; the \
                 epoch-{} weights were kept",
                o.best_epoch, o.train.0, o.train.1, o.val.0, o.val.1, o.best_epoch
            ));
        }
        if let Some(f) = noise {
            notes.push(format!(
                "label noise: {} samples share {} input values with different classes, so no \
                 classifier of these inputs can get below an error rate of {:.4} (a \
                 cross-entropy of {:.4}) on the training and validation samples",
                f.samples, f.groups, f.error_rate, f.cross_entropy
            ));
        }
        let never: Vec<usize> = scores
            .val
            .classes
            .iter()
            .enumerate()
            .filter(|(_, c)| c.support > 0 && c.predicted == 0)
            .map(|(k, _)| k)
            .collect();
        if let Some(&first) = never.first() {
            let names: Vec<String> = never.iter().map(|&k| labelled.quoted(k)).collect();
            notes.push(format!(
                "never predicted on the validation set: {} ({} validation sample{} of {} \
                 alone, all wrong){}",
                names.join(", "),
                scores.val.classes[first].support,
                if scores.val.classes[first].support == 1 {
                    ""
                } else {
                    "s"
                },
                labelled.quoted(first),
                if run.weights.is_empty() {
                    "; --class-weights balanced gives rare classes their share of the loss"
                } else {
                    ""
                }
            ));
        }
        if stop == StopReason::Diverged {
            notes.push(
                "diverged: the cross-entropy became NaN or infinite, or stayed far above its \
                 initial value; lower --lr"
                    .to_owned(),
            );
        }
        let (net, linear) = (&scores.val, &baselines.linear_scores.val);
        let majority = baselines.prior[1].map_or(f64::NAN, |p| p.accuracy);
        notes.push(
            if net.accuracy > linear.accuracy && net.accuracy > majority {
                format!(
                "the network's validation accuracy {:.4} beats the linear model's {:.4} and the \
                 majority class's {:.4} (cross-entropy {:.4} vs {:.4})",
                net.accuracy, linear.accuracy, majority, net.cross_entropy, linear.cross_entropy
            )
            } else if net.accuracy <= majority {
                format!(
                    "the network's validation accuracy {:.4} does not beat always predicting {} \
                 ({:.4}): it has learned nothing the inputs tell",
                    net.accuracy,
                    labelled.quoted(baselines.majority),
                    majority
                )
            } else {
                format!(
                    "the network's validation accuracy {:.4} does not beat the linear model's \
                 {:.4}: prefer the linear model, or train longer",
                    net.accuracy, linear.accuracy
                )
            },
        );
        Self {
            untrained: run.untrained(),
            overfitting: overfit.is_some(),
            diverged: stop == StopReason::Diverged,
            stalled: stop == StopReason::Stalled,
            noise_floor_error_rate: noise.map(|f| f64::from(f.error_rate)),
            never_predicted: never.iter().map(|&k| labelled.classes[k].clone()).collect(),
            imbalance,
            accuracy_over_linear: net.accuracy - linear.accuracy,
            accuracy_over_majority: net.accuracy - majority,
            notes,
        }
    }
}

/// The smallest and the largest class (the first of equals).
fn extremes(counts: &[u32]) -> (usize, usize) {
    let mut small = 0;
    let mut large = 0;
    for (k, &n) in counts.iter().enumerate() {
        if n < counts[small] {
            small = k;
        }
        if n > counts[large] {
            large = k;
        }
    }
    (small, large)
}

/// The classification noise floor of the training and validation samples.
pub fn noise_floor(labelled: &Labelled, parts: &Parts) -> Result<Option<ClassNoiseFloor>> {
    let data = labelled.dataset()?;
    let seen: Vec<u32> = parts
        .train
        .iter()
        .chain(&parts.val)
        .take(NOISE_FLOOR_SAMPLES)
        .copied()
        .collect();
    Ok(diagnose::class_noise_floor(&data, &seen))
}

/// Everything `tinytrain train --task classify` found.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The settings of the run.
    pub settings: TrainConfig,
    /// `--class-weights`.
    pub weighting: Weighting,
    /// The network's run.
    pub run: Run,
    /// Its scores on the three parts.
    pub scores: Scores,
    /// The baselines and their scores.
    pub baselines: Baselines,
    /// What the numbers mean.
    pub diagnostics: Diagnostics,
}

/// Scores a finished run and the baselines once, on the run's split, and reads what the numbers
/// mean.
pub fn outcome(
    labelled: &Labelled,
    settings: &TrainConfig,
    weighting: Weighting,
    run: Run,
    baselines: Baselines,
) -> Result<Outcome> {
    let scores = scores(&run.net, labelled, &run.parts)?;
    let noise = noise_floor(labelled, &run.parts)?;
    let diagnostics = Diagnostics::new(labelled, &run, &scores, &baselines, noise);
    Ok(Outcome {
        settings: settings.clone(),
        weighting,
        run,
        scores,
        baselines,
        diagnostics,
    })
}

/// Checks that `widths` fit a classifier of `n_in` inputs and `classes` classes.
pub fn check_widths(widths: &[usize], n_in: usize, classes: usize, file: &str) -> Result<()> {
    crate::train::check_network_widths(widths, n_in, classes, file, || {
        format!("the last width must be the number of classes: {file} has {classes}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labelled(csv: &str) -> Result<Labelled> {
        let table = Table::parse_labelled("d.csv".as_ref(), csv.as_bytes(), None, 100)?;
        Labelled::from_table(&table)
    }

    #[test]
    fn one_class_only_is_named_with_its_count() {
        let e = labelled("x,y\n1,cat\n2,cat\n3,cat\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "d.csv: column `y` holds one class only (`cat`, 3 samples): a classifier needs at \
             least two"
        );
    }

    #[test]
    fn a_class_too_small_to_split_is_named_with_its_count() {
        let rows: String = (0..30)
            .map(|i| format!("{i},{}\n", if i < 2 { "rare" } else { "common" }))
            .collect();
        let l = labelled(&format!("x,y\n{rows}")).unwrap();
        let e = parts(&l, 0.2, 0.2, 1, None).unwrap_err().to_string();
        assert_eq!(
            e,
            "d.csv: class `rare` has 2 samples: a stratified split into training, validation \
             and test sets needs at least 3, one in each"
        );
        assert!(
            parts(&l, 0.2, 0.0, 1, None).is_ok(),
            "two suffice without a test set"
        );
    }

    #[test]
    fn a_class_only_in_the_test_split_is_named() {
        let l = labelled("x,y\n1,a\n2,a\n3,b\n4,a\n5,b\n6,a\n").unwrap();
        let dir = std::env::temp_dir().join(format!("tinytrain-split-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("split.json");
        std::fs::write(&path, r#"{"train": [0, 1, 3], "val": [5], "test": [2, 4]}"#).unwrap();
        let e = parts(&l, 0.2, 0.2, 1, Some(&path)).unwrap_err().to_string();
        assert!(
            e.starts_with("d.csv: class `b` has 2 samples, all in the test set of"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn numeric_labels_that_look_measured_get_the_regression_hint() {
        let rows: String = (0..30).map(|i| format!("{i},{}.5\n", i % 15)).collect();
        let l = labelled(&format!("x,y\n{rows}")).unwrap();
        let e = parts(&l, 0.2, 0.2, 1, None).unwrap_err().to_string();
        assert!(
            e.contains("regression (without --task classify) may be meant"),
            "{e}"
        );
    }
}
