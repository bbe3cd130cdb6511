//! Reading what happened: overfitting, the baseline to beat, and the noise floor.
//!
//! Divergence and stalls are reported by the trainer itself as a [`crate::StopReason`].

use crate::metrics::Confusion;
use crate::{Dataset, Error, Report};

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
    let mut pooled = Pooled::default();
    for (k, &i) in indices.iter().enumerate() {
        let Some((x, _)) = data.sample(i as usize) else {
            continue;
        };
        let before = indices.get(..k).unwrap_or(&[]);
        if data.select(before).any(|(y, _)| y == x) {
            continue; // this input's group was measured already
        }
        let rest = indices.get(k..).unwrap_or(&[]);
        pooled.add(data, || {
            data.select(rest)
                .filter(move |(y, _)| *y == x)
                .map(|(_, t)| t)
        });
    }
    pooled.floor(data.n_out())
}

/// The scratch [`noise_floor_sorted`] needs for `n` samples: two `u32` per sample.
pub const fn noise_floor_scratch_len(n: usize) -> usize {
    n.saturating_mul(2)
}

/// [`noise_floor`] in O(n log n) time instead of O(n²), for a caller with memory to spare (the
/// host): the same figure, bit for bit — the groups are summed in the same order — using
/// `scratch` of at least [`noise_floor_scratch_len`]`(indices.len())` values. The positions
/// are sorted by input values (then position), so that equal inputs lie next to each other.
///
/// Errors: a `scratch` too short ([`Error::BufferSize`]).
///
/// ```
/// use tinytrain_core::{diagnose, Dataset};
/// let xs = [0.0, 0.0, 1.0, 1.0, 2.0];
/// let ys = [1.0, 3.0, 5.0, 5.0, 9.0];
/// let data = Dataset::new(&xs, &ys, 1, 1)?;
/// let mut scratch = [0u32; diagnose::noise_floor_scratch_len(5)];
/// let fast = diagnose::noise_floor_sorted(&data, &[0, 1, 2, 3, 4], &mut scratch)?;
/// assert_eq!(fast, diagnose::noise_floor(&data, &[0, 1, 2, 3, 4]));
/// # Ok::<(), tinytrain_core::Error>(())
/// ```
pub fn noise_floor_sorted(
    data: &Dataset<'_>,
    indices: &[u32],
    scratch: &mut [u32],
) -> Result<Option<NoiseFloor>, Error> {
    let n = indices.len();
    let needed = noise_floor_scratch_len(n);
    let (order, run_of) = match scratch.get_mut(..needed) {
        Some(used) => used.split_at_mut(n),
        None => {
            return Err(Error::BufferSize {
                needed,
                found: scratch.len(),
            })
        }
    };
    let input = |k: u32| {
        indices
            .get(k as usize)
            .and_then(|&i| data.sample(i as usize))
            .map_or(&[][..], |(x, _)| x)
    };
    // Equal floats have equal bits once −0 is made +0 (a data set holds no NaN).
    let key = |v: &f32| if *v == 0.0 { 0 } else { v.to_bits() };
    for (k, slot) in order.iter_mut().enumerate() {
        *slot = k as u32;
    }
    order.sort_unstable_by(|&a, &b| {
        input(a)
            .iter()
            .map(key)
            .cmp(input(b).iter().map(key))
            .then(a.cmp(&b))
    });
    // Each position's run of equal inputs, by where the run starts in `order`.
    let mut start = 0;
    while start < n {
        let first = order.get(start).map_or(&[][..], |&k| input(k));
        // At least the run's first sample, even one unequal to itself.
        let end = order
            .get(start + 1..)
            .unwrap_or(&[])
            .iter()
            .position(|&k| input(k) != first)
            .map_or(n, |len| start + 1 + len);
        for &k in order.get(start..end).unwrap_or(&[]) {
            if let Some(slot) = run_of.get_mut(k as usize) {
                *slot = start as u32;
            }
        }
        start = end;
    }
    // The groups in the order of their first sample, as `noise_floor` meets them.
    let mut pooled = Pooled::default();
    for (k, &start) in run_of.iter().enumerate() {
        let run = order.get(start as usize..).unwrap_or(&[]);
        if run.first() != Some(&(k as u32)) {
            continue; // not the first sample of its group
        }
        let first = input(k as u32);
        pooled.add(data, || {
            run.iter()
                .take_while(move |&&m| input(m) == first)
                .filter_map(|&m| indices.get(m as usize))
                .filter_map(|&i| data.sample(i as usize))
                .map(|(_, t)| t)
        });
    }
    Ok(pooled.floor(data.n_out()))
}

/// The sums of the pooled within-group variance, group by group.
#[derive(Default)]
struct Pooled {
    sse: f64,
    dof: usize,
    samples: usize,
    groups: usize,
}

impl Pooled {
    /// Adds the group whose members' targets `members` gives (in sample order), if it has two
    /// or more.
    fn add<'t, I: Iterator<Item = &'t [f32]>>(
        &mut self,
        data: &Dataset<'_>,
        members: impl Fn() -> I,
    ) {
        let size = members().count();
        if size < 2 {
            return;
        }
        for out in 0..data.n_out() {
            let value = |t: &[f32]| f64::from(t.get(out).copied().unwrap_or(0.0));
            let mean = members().map(value).sum::<f64>() / size as f64;
            self.sse += members()
                .map(|t| (value(t) - mean) * (value(t) - mean))
                .sum::<f64>();
        }
        self.dof += size - 1;
        self.samples += size;
        self.groups += 1;
    }

    fn floor(&self, n_out: usize) -> Option<NoiseFloor> {
        (self.groups > 0).then(|| NoiseFloor {
            mse: (self.sse / (self.dof * n_out) as f64) as f32,
            samples: self.samples,
            groups: self.groups,
        })
    }
}

/// The error no classifier of these inputs can avoid, from samples whose inputs are equal but
/// whose classes differ (label noise, or inputs that do not tell the classes apart): more input
/// features, or cleaner labels, are needed to do better. The classification noise floor.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ClassNoiseFloor {
    /// The lowest error rate any function of the inputs reaches on the samples: in each group
    /// of equal inputs all but the group's most frequent class are wrong, whatever it predicts.
    pub error_rate: f32,
    /// The lowest mean cross-entropy in nats any function of the inputs reaches on the samples:
    /// each group's class entropy, weighted by its size.
    pub cross_entropy: f32,
    /// Samples in groups of equal inputs with more than one class.
    pub samples: usize,
    /// Such groups.
    pub groups: usize,
}

/// Finds the classification noise floor among the samples at `indices` (see
/// [`ClassNoiseFloor`]): `error_rate = Σ_groups (size − largest class count) / n` and
/// `cross_entropy = Σ_groups Σ_c n_c ln(size / n_c) / n` over the `n` samples. `None` when no
/// two samples with equal inputs have different classes. O(n²) comparisons, no memory.
///
/// ```
/// use tinytrain_core::{diagnose::class_noise_floor, Dataset};
/// // x = 0 three times: classes 0, 0, 1; x = 1 once.
/// let data = Dataset::classes(&[0.0, 0.0, 0.0, 1.0], &[0, 0, 1, 1], 1, 2)?;
/// let floor = class_noise_floor(&data, &[0, 1, 2, 3]).unwrap();
/// assert_eq!((floor.error_rate, floor.samples, floor.groups), (0.25, 3, 1));
/// # Ok::<(), tinytrain_core::Error>(())
/// ```
pub fn class_noise_floor(data: &Dataset<'_, u16>, indices: &[u32]) -> Option<ClassNoiseFloor> {
    let (mut wrong, mut entropy) = (0usize, 0.0f64);
    let (mut samples, mut groups) = (0usize, 0usize);
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
        // For each member, how many of the group share its class.
        let same = |class: u16| members().filter(|(_, c)| *c == class).count();
        let largest = members().map(|(_, c)| same(c)).max().unwrap_or(0);
        if largest == size {
            continue; // one class only: no noise
        }
        wrong += size - largest;
        entropy += members()
            .map(|(_, c)| libm::log(size as f64 / same(c) as f64))
            .sum::<f64>();
        samples += size;
        groups += 1;
    }
    let n = data.select(indices).count().max(1) as f64;
    (groups > 0).then(|| ClassNoiseFloor {
        error_rate: (wrong as f64 / n) as f32,
        cross_entropy: (entropy / n) as f32,
        samples,
        groups,
    })
}

/// A class the classifier never predicts although the data has samples of it: every one of
/// them is wrong (often the minority class under class imbalance — try class weights).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NeverPredicted {
    /// The first such class.
    pub class: usize,
    /// Its samples, all predicted as something else.
    pub support: u64,
    /// How many classes are never predicted.
    pub classes: usize,
}

/// Looks for classes with samples that a confusion matrix never predicts.
///
/// ```
/// use tinytrain_core::diagnose::never_predicted;
/// use tinytrain_core::metrics::Confusion;
/// let mut counts = [0; 4];
/// let mut m = Confusion::new(&mut counts, 2)?;
/// for (truth, predicted) in [(0, 0), (1, 0), (1, 0)] {
///     m.add(truth, predicted)?;
/// }
/// let found = never_predicted(&m).unwrap();
/// assert_eq!((found.class, found.support, found.classes), (1, 2, 1));
/// # Ok::<(), tinytrain_core::Error>(())
/// ```
pub fn never_predicted(confusion: &Confusion<'_>) -> Option<NeverPredicted> {
    let class = confusion.never_predicted().next()?;
    Some(NeverPredicted {
        class,
        support: confusion.support(class),
        classes: confusion.never_predicted().count(),
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

    proptest::proptest! {
        /// The sorted noise floor gives the quadratic one's figure, bit for bit, on inputs
        /// drawn from few values (so that many repeat, −0 and +0 among them), with 1–3 inputs
        /// and outputs, over any subset of the samples in any order.
        #[test]
        fn the_sorted_noise_floor_is_the_quadratic_one(
            n_in in 1usize..=3,
            n_out in 1usize..=3,
            picks in proptest::collection::vec(0usize..5, 3..240),
            targets in proptest::collection::vec(-10.0f32..10.0, 240),
            order in proptest::collection::vec(0u32..80, 0..120),
        ) {
            const VALUES: [f32; 5] = [0.0, -0.0, 1.5, -2.25, 1e-3];
            let n = picks.len() / n_in;
            let xs: std::vec::Vec<f32> = picks[..n * n_in].iter().map(|&p| VALUES[p]).collect();
            let ys: std::vec::Vec<f32> = targets.iter().cycle().take(n * n_out).copied().collect();
            let data = Dataset::new(&xs, &ys, n_in, n_out).unwrap();
            let indices: std::vec::Vec<u32> = order.iter().map(|&i| i % n as u32).collect();
            let mut scratch = std::vec![0u32; noise_floor_scratch_len(indices.len())];
            let fast = noise_floor_sorted(&data, &indices, &mut scratch).unwrap();
            let slow = noise_floor(&data, &indices);
            proptest::prop_assert_eq!(
                fast.map(|f| (f.mse.to_bits(), f.samples, f.groups)),
                slow.map(|f| (f.mse.to_bits(), f.samples, f.groups))
            );
        }
    }

    #[test]
    fn the_sorted_noise_floor_refuses_a_short_scratch() {
        let data = Dataset::new(&[0.0, 0.0], &[1.0, 2.0], 1, 1).unwrap();
        let mut scratch = [0u32; 3];
        assert_eq!(
            noise_floor_sorted(&data, &[0, 1], &mut scratch),
            Err(Error::BufferSize {
                needed: 4,
                found: 3
            })
        );
    }

    #[test]
    fn label_noise_sets_a_floor_on_the_error_rate() {
        // Inputs 0..20 each twice; for every fourth input the two copies disagree.
        let xs: std::vec::Vec<f32> = (0..40).map(|i| (i / 2) as f32).collect();
        let labels: std::vec::Vec<u16> = (0..40)
            .map(|i| {
                let x = i / 2;
                let base = (x % 3) as u16;
                if x % 4 == 0 && i % 2 == 1 {
                    (base + 1) % 3
                } else {
                    base
                }
            })
            .collect();
        let data = Dataset::classes(&xs, &labels, 1, 3).unwrap();
        let all: std::vec::Vec<u32> = (0..40).collect();
        let floor = class_noise_floor(&data, &all).unwrap();
        // 5 groups of 2 disagree: one of each pair is wrong whatever is predicted.
        assert_eq!((floor.groups, floor.samples), (5, 10));
        assert_eq!(floor.error_rate, 5.0 / 40.0);
        let ln2 = core::f64::consts::LN_2;
        assert!((f64::from(floor.cross_entropy) - 10.0 * ln2 / 40.0).abs() < 1e-7);
        // Repeats that agree are no noise.
        let clean: std::vec::Vec<u16> = (0..40).map(|i| ((i / 2) % 3) as u16).collect();
        let data = Dataset::classes(&xs, &clean, 1, 3).unwrap();
        assert_eq!(class_noise_floor(&data, &all), None);
    }

    #[test]
    fn no_repeats_no_floor() {
        let d = Dataset::new(&[0.0, 1.0], &[0.0, 5.0], 1, 1).unwrap();
        assert_eq!(noise_floor(&d, &[0, 1]), None);
    }
}
