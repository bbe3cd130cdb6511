//! Reading what happened: overfitting, the baseline to beat, and the noise floor.
//!
//! Divergence and stalls are reported by the trainer itself as a [`crate::StopReason`].

use crate::{Dataset, Report};

/// Validation loss must stay this much (relative) above its best to call it overfitting.
pub const OVERFIT_RISE: f32 = 0.05;
/// ... for this many epochs in a row, so that noise in one epoch's loss is not taken for it.
pub const OVERFIT_EPOCHS: usize = 5;

/// Training loss kept falling after the best epoch while validation loss rose: the network
/// learned the training samples' noise. Early stopping kept the best-validation weights.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Overfitting {
    /// The epoch with the lowest validation loss.
    pub best_epoch: u32,
    /// Training loss at the best epoch and at the last one.
    pub train: (f32, f32),
    /// Validation loss at the best epoch and at the last one.
    pub val: (f32, f32),
}

/// Looks for overfitting in a report: in each of the last [`OVERFIT_EPOCHS`] epochs (all after
/// the best one) the validation loss stayed more than [`OVERFIT_RISE`] above its best, while
/// the training loss of the last epoch is below the best epoch's.
///
/// ```
/// use tinytrain_core::{diagnose::overfitting, trainer::History, EpochLoss, Report};
/// let mut report = Report {
///     stop: None, epochs_run: 30, best_epoch: 10, best_val_mse: 1.0, train_mse_at_best: 0.9,
///     history: History::new(), loss_scale: 1.0,
/// };
/// for epoch in 26..=30 {
///     report.history.write(EpochLoss { epoch, train_mse: 0.5, val_mse: 1.3 });
/// }
/// assert!(overfitting(&report).is_some());
/// ```
pub fn overfitting(report: &Report) -> Option<Overfitting> {
    let last = report.last()?;
    let limit = report.best_val_mse * (1.0 + OVERFIT_RISE);
    let skip = report.history.len().saturating_sub(OVERFIT_EPOCHS);
    let recent = report.history.oldest_ordered().skip(skip);
    let (mut count, mut stayed_up) = (0, true);
    for e in recent {
        count += 1;
        stayed_up &= e.epoch > report.best_epoch && e.val_mse > limit;
    }
    let fell = last.train_mse < report.train_mse_at_best;
    (count == OVERFIT_EPOCHS && stayed_up && fell).then_some(Overfitting {
        best_epoch: report.best_epoch,
        train: (report.train_mse_at_best, last.train_mse),
        val: (report.best_val_mse, last.val_mse),
    })
}

/// The loss no function of these inputs can beat, estimated from samples whose inputs are equal
/// but whose targets differ: more input features are needed to do better.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NoiseFloor {
    /// Estimated noise variance (MSE of the best possible predictor), in the targets' units.
    pub mse: f32,
    /// Samples that share their inputs with at least one other sample.
    pub samples: usize,
    /// Distinct input values that occur more than once.
    pub groups: usize,
}

/// Estimates the noise floor from repeated inputs among the samples at `indices`: the pooled
/// within-group variance `Σ_groups Σ (t - mean_group)² / Σ_groups (size - 1)`, averaged over the
/// outputs. `None` when no input repeats. Takes O(n²) comparisons and no memory.
///
/// ```
/// use tinytrain_core::{diagnose::noise_floor, Dataset};
/// let xs = [0.0, 0.0, 1.0, 1.0, 2.0];
/// let ys = [1.0, 3.0, 5.0, 5.0, 9.0];
/// let floor = noise_floor(&Dataset::new(&xs, &ys, 1, 1)?, &[0, 1, 2, 3, 4]).unwrap();
/// assert_eq!((floor.mse, floor.samples, floor.groups), (1.0, 4, 2));
/// # Ok::<(), tinytrain_core::Error>(())
/// ```
pub fn noise_floor(data: &Dataset<'_>, indices: &[u32]) -> Option<NoiseFloor> {
    let mut sse = 0.0f64;
    let mut dof = 0usize;
    let mut samples = 0usize;
    let mut groups = 0usize;
    for (k, &i) in indices.iter().enumerate() {
        let Some((x, _)) = data.sample(i as usize) else {
            continue;
        };
        let before = indices.get(..k).unwrap_or(&[]);
        if data.select(before).any(|(y, _)| y == x) {
            continue; // this input's group was measured already
        }
        let rest = indices.get(k..).unwrap_or(&[]);
        let members = || data.select(rest).filter(move |(y, _)| *y == x);
        let size = members().count();
        if size < 2 {
            continue;
        }
        for out in 0..data.n_out() {
            let value = |t: &[f32]| f64::from(t.get(out).copied().unwrap_or(0.0));
            let mean = members().map(|(_, t)| value(t)).sum::<f64>() / size as f64;
            sse += members()
                .map(|(_, t)| (value(t) - mean) * (value(t) - mean))
                .sum::<f64>();
        }
        dof += size - 1;
        samples += size;
        groups += 1;
    }
    (groups > 0).then(|| NoiseFloor {
        mse: (sse / (dof * data.n_out()) as f64) as f32,
        samples,
        groups,
    })
}

/// "Start simple": a model's loss next to the linear baseline's on the same data.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Comparison {
    /// MSE of the linear model.
    pub baseline_mse: f32,
    /// MSE of the model under test.
    pub model_mse: f32,
}

impl Comparison {
    /// How many times lower the model's loss is than the baseline's (> 1: the model wins).
    pub fn improvement(&self) -> f32 {
        self.baseline_mse / self.model_mse
    }

    /// The model beats the baseline by at least `factor`.
    ///
    /// ```
    /// use tinytrain_core::diagnose::Comparison;
    /// let c = Comparison { baseline_mse: 0.5, model_mse: 0.01 };
    /// assert!(c.beats(10.0) && !c.beats(100.0));
    /// ```
    pub fn beats(&self, factor: f32) -> bool {
        self.model_mse * factor <= self.baseline_mse
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{trainer::History, EpochLoss};

    /// A report whose last five epochs all have the losses `last`.
    fn report(best: (u32, f32, f32), last: (u32, f32, f32)) -> Report {
        let mut history = History::new();
        for epoch in last.0 - 4..=last.0 {
            history.write(EpochLoss {
                epoch,
                train_mse: last.1,
                val_mse: last.2,
            });
        }
        Report {
            stop: None,
            epochs_run: last.0,
            best_epoch: best.0,
            best_val_mse: best.2,
            train_mse_at_best: best.1,
            history,
            loss_scale: 1.0,
        }
    }

    #[test]
    fn overfitting_needs_both_signals() {
        assert!(overfitting(&report((5, 1.0, 1.0), (10, 0.8, 1.2))).is_some());
        assert!(
            overfitting(&report((5, 1.0, 1.0), (9, 1.1, 1.2))).is_none(),
            "train rose too"
        );
        assert!(
            overfitting(&report((5, 1.0, 1.0), (9, 0.8, 1.01))).is_none(),
            "val flat"
        );
    }

    #[test]
    fn no_repeats_no_floor() {
        let d = Dataset::new(&[0.0, 1.0], &[0.0, 5.0], 1, 1).unwrap();
        assert_eq!(noise_floor(&d, &[0, 1]), None);
    }
}
