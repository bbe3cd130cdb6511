//! How well a classifier does: its cross-entropy, accuracy, per-class precision and recall and
//! confusion matrix on a part of the data, the class counts behind class imbalance, and the
//! simplest baseline — always the majority class.
//!
//! A [`Confusion`] matrix counts `(true class, predicted class)` pairs in caller-provided
//! storage of [`confusion_len`]`(classes)` counts, so its capacity is a constant on a
//! microcontroller (`[u32; confusion_len(3)]`) and a choice on a PC. The predicted class is the
//! one with the largest logit ([`crate::softmax::argmax`]: the most probable one).

use crate::data::MIN_CLASSES;
use crate::model;
use crate::slices::{expect_len, expect_width};
use crate::softmax::{argmax, class_loss, shifted_sum};
use crate::{shape, Dataset, Error, Model};

/// Counts a confusion matrix of `classes` classes holds: `classes²` (saturating).
pub const fn confusion_len(classes: usize) -> usize {
    classes.saturating_mul(classes)
}

/// A confusion matrix: `count(t, p)` samples of true class `t` were predicted as class `p`.
/// Rows are true classes, columns predictions; the diagonal is right.
///
/// ```
/// use tinytrain_core::metrics::{confusion_len, Confusion};
/// let mut counts = [0u32; confusion_len(2)];
/// let mut m = Confusion::new(&mut counts, 2)?;
/// for (truth, predicted) in [(0, 0), (0, 0), (0, 1), (1, 1)] {
///     m.add(truth, predicted)?;
/// }
/// assert_eq!(m.accuracy(), Some(0.75));
/// assert_eq!((m.precision(1), m.recall(0)), (Some(0.5), Some(2.0 / 3.0)));
/// # Ok::<(), tinytrain_core::Error>(())
/// ```
#[derive(Debug, PartialEq, Eq)]
pub struct Confusion<'a> {
    counts: &'a mut [u32],
    classes: usize,
}

impl<'a> Confusion<'a> {
    /// An empty matrix of `classes` classes (at least [`MIN_CLASSES`]) in `counts` (at least
    /// [`confusion_len`]`(classes)` values, zeroed here).
    pub fn new(counts: &'a mut [u32], classes: usize) -> Result<Self, Error> {
        if classes < MIN_CLASSES {
            return Err(Error::TooFewClasses {
                classes,
                min: MIN_CLASSES,
            });
        }
        let (needed, found) = (confusion_len(classes), counts.len());
        let counts = counts
            .get_mut(..needed)
            .ok_or(Error::BufferSize { needed, found })?;
        counts.iter_mut().for_each(|c| *c = 0);
        Ok(Self { counts, classes })
    }

    /// The number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Counts one sample of class `truth` predicted as `predicted` (saturating at `u32::MAX`).
    /// Errors: a class out of range ([`Error::ClassOutOfRange`], sample 0).
    pub fn add(&mut self, truth: usize, predicted: usize) -> Result<(), Error> {
        let out_of_range = |class: usize| Error::ClassOutOfRange {
            sample: 0,
            class: u16::try_from(class).unwrap_or(u16::MAX),
            classes: self.classes,
        };
        for class in [truth, predicted] {
            if class >= self.classes {
                return Err(out_of_range(class));
            }
        }
        if let Some(c) = self.counts.get_mut(truth * self.classes + predicted) {
            *c = c.saturating_add(1);
        }
        Ok(())
    }

    /// Samples of class `truth` predicted as `predicted` (0 out of range).
    pub fn count(&self, truth: usize, predicted: usize) -> u32 {
        if truth >= self.classes || predicted >= self.classes {
            return 0;
        }
        self.counts
            .get(truth * self.classes + predicted)
            .copied()
            .unwrap_or(0)
    }

    /// The counts of true class `truth`, one per predicted class.
    pub fn row(&self, truth: usize) -> &[u32] {
        let at = truth.saturating_mul(self.classes);
        self.counts
            .get(at..at.saturating_add(self.classes))
            .unwrap_or(&[])
    }

    /// Samples counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|c| u64::from(*c)).sum()
    }

    /// Samples predicted right: the diagonal.
    pub fn correct(&self) -> u64 {
        (0..self.classes).map(|c| u64::from(self.count(c, c))).sum()
    }

    /// Samples whose true class is `class`: its row's sum (its *support*).
    pub fn support(&self, class: usize) -> u64 {
        self.row(class).iter().map(|c| u64::from(*c)).sum()
    }

    /// Samples predicted as `class`: its column's sum.
    pub fn predicted(&self, class: usize) -> u64 {
        (0..self.classes)
            .map(|t| u64::from(self.count(t, class)))
            .sum()
    }

    /// The fraction of samples predicted right; `None` for no sample.
    pub fn accuracy(&self) -> Option<f32> {
        ratio(self.correct(), self.total())
    }

    /// Of the samples predicted as `class`, the fraction that are: `None` when the class was
    /// never predicted.
    pub fn precision(&self, class: usize) -> Option<f32> {
        ratio(u64::from(self.count(class, class)), self.predicted(class))
    }

    /// Of the samples of `class`, the fraction predicted as it: `None` when there is none.
    pub fn recall(&self, class: usize) -> Option<f32> {
        ratio(u64::from(self.count(class, class)), self.support(class))
    }

    /// The classes that have samples but were never predicted, in increasing order: the
    /// network ignores them (often a minority class under class imbalance).
    pub fn never_predicted(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.classes).filter(|&c| self.support(c) > 0 && self.predicted(c) == 0)
    }
}

/// `part / whole` in `f64`, rounded once; `None` for a whole of 0.
fn ratio(part: u64, whole: u64) -> Option<f32> {
    (whole > 0).then(|| (part as f64 / whole as f64) as f32)
}

/// A classifier's scores on a part of the data.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Scores {
    /// Mean cross-entropy in nats (the loss a classifier trains on, unweighted).
    pub cross_entropy: f32,
    /// Fraction predicted right.
    pub accuracy: f32,
    /// Samples scored.
    pub samples: usize,
}

/// Scores a classifier on the samples of `data` at `indices`, counting its predictions into
/// `confusion` (which is not reset first: add several parts up, or reset with a new
/// [`Confusion`]). `scratch` holds [`shape::predict_scratch_len`] values.
///
/// The mean cross-entropy adds the samples' losses in `f32` in the order of `indices`, as
/// training's validation does: the same bits as the trainer's figure for the same model.
///
/// Errors: a model whose widths do not fit the data or the matrix ([`Error::WidthMismatch`]), a
/// scratch of the wrong length ([`Error::BufferSize`]), no sample ([`Error::EmptyData`]).
///
/// ```
/// use tinytrain_core::metrics::{confusion_len, score, Confusion};
/// use tinytrain_core::{shape, Dataset, Model};
/// // Two classes split at x = 0: logits (-x, x).
/// const W: [usize; 2] = [1, 2];
/// let params = [-1.0, 1.0, 0.0, 0.0];
/// let stats = [0.0, 1.0, 0.0, 0.0, 1.0, 1.0];
/// let model = Model::new(&W, &params, &stats)?;
/// let xs = [-2.0, -1.0, 1.0, 3.0];
/// let data = Dataset::classes(&xs, &[0, 0, 1, 0], 1, 2)?;
/// let mut counts = [0; confusion_len(2)];
/// let mut confusion = Confusion::new(&mut counts, 2)?;
/// let mut scratch = [0.0; shape::predict_scratch_len(&W)];
/// let s = score(&model, &data, &[0, 1, 2, 3], &mut scratch, &mut confusion)?;
/// assert_eq!((s.accuracy, s.samples), (0.75, 4));
/// assert_eq!(confusion.count(0, 1), 1); // x = 3 is class 0, predicted 1
/// # Ok::<(), tinytrain_core::Error>(())
/// ```
pub fn score(
    model: &Model<'_>,
    data: &Dataset<'_, u16>,
    indices: &[u32],
    scratch: &mut [f32],
    confusion: &mut Confusion<'_>,
) -> Result<Scores, Error> {
    let widths = model.widths();
    expect_width(data.n_in(), shape::input_width(widths))?;
    expect_width(data.n_classes(), shape::output_width(widths))?;
    expect_width(confusion.classes(), data.n_classes())?;
    expect_len(scratch.len(), shape::predict_scratch_len(widths))?;
    let (mut sum, mut samples, mut correct) = (0.0f32, 0usize, 0u64);
    for (x, class) in data.select(indices) {
        let logits = model::run(widths, model.params(), model.stats(), x, scratch);
        let (max, total) = shifted_sum(logits);
        let z = logits.get(usize::from(class)).copied().unwrap_or(f32::NAN);
        sum += class_loss(max, total, z);
        let truth = usize::from(class);
        // A NaN logit (weights so large that the network overflowed) predicts no class: it
        // counts as wrong, in the next class's column.
        let predicted = argmax(logits).unwrap_or((truth + 1) % data.n_classes().max(1));
        confusion.add(truth, predicted)?;
        correct += u64::from(predicted == truth);
        samples += 1;
    }
    if samples == 0 {
        return Err(Error::EmptyData);
    }
    Ok(Scores {
        cross_entropy: sum / samples as f32,
        accuracy: ratio(correct, samples as u64).unwrap_or(0.0),
        samples,
    })
}

/// How many samples of each class are at `indices`, into `counts` (one per class, zeroed
/// first; classes beyond it are not counted). Returns the number of samples counted.
///
/// ```
/// use tinytrain_core::{metrics::class_counts, Dataset};
/// let data = Dataset::classes(&[0.0; 5], &[1, 0, 1, 1, 2], 1, 3)?;
/// let mut counts = [0; 3];
/// assert_eq!(class_counts(&data, &[0, 1, 2, 3, 4], &mut counts), 5);
/// assert_eq!(counts, [1, 3, 1]);
/// # Ok::<(), tinytrain_core::Error>(())
/// ```
pub fn class_counts(data: &Dataset<'_, u16>, indices: &[u32], counts: &mut [u32]) -> usize {
    counts.iter_mut().for_each(|c| *c = 0);
    let mut n = 0;
    for (_, class) in data.select(indices) {
        if let Some(c) = counts.get_mut(usize::from(class)) {
            *c = c.saturating_add(1);
            n += 1;
        }
    }
    n
}

/// The class weights that make every class weigh the same in the loss — scikit-learn's
/// `"balanced"`: `w_c = n / (K × n_c)` for `n` samples of `K` classes present, `n_c` of class
/// `c`, so that `Σ_i w_{class(i)} = n` over the samples counted. A class with no sample gets
/// weight 0.
///
/// ```
/// use tinytrain_core::metrics::balanced_weights;
/// let mut w = [0.0; 2];
/// balanced_weights(&[30, 10], &mut w);
/// assert_eq!(w, [40.0 / 60.0, 2.0]);
/// ```
pub fn balanced_weights(counts: &[u32], weights: &mut [f32]) {
    let n: f64 = counts.iter().map(|c| f64::from(*c)).sum();
    let k = counts.iter().filter(|c| **c > 0).count() as f64;
    for (w, c) in weights.iter_mut().zip(counts) {
        *w = if *c == 0 {
            0.0
        } else {
            (n / (k * f64::from(*c))) as f32
        };
    }
}

/// The majority class of the samples whose class counts are `counts`: the most frequent, the
/// lowest index among equals; `None` without samples. Always predicting it is the baseline a
/// classifier must beat: its accuracy is that class's share.
///
/// ```
/// use tinytrain_core::metrics::majority;
/// assert_eq!(majority(&[3, 7, 7]), Some(1));
/// assert_eq!(majority(&[0, 0]), None);
/// ```
pub fn majority(counts: &[u32]) -> Option<usize> {
    let (class, count) =
        counts.iter().enumerate().fold(
            (0, 0),
            |best, (c, n)| if *n > best.1 { (c, *n) } else { best },
        );
    (count > 0).then_some(class)
}

/// The scores of the *prior*, the best classifier that ignores the inputs: it predicts the
/// majority class of `train_counts` and gives each class its training frequency as
/// probability. Its cross-entropy on samples of class counts `counts` is
/// `−Σ_c counts_c ln(train_c / n_train) / n`, the entropy of the classes when both counts are
/// the same — the loss a classifier must get below to use its inputs at all.
///
/// Errors: no training sample, or no sample to score ([`Error::EmptyData`]); a class to score
/// that training never saw has probability 0 and an infinite cross-entropy.
///
/// ```
/// use tinytrain_core::metrics::prior_scores;
/// let s = prior_scores(&[30, 10], &[6, 2])?;
/// assert_eq!(s.accuracy, 0.75);
/// let entropy = -(0.75f64 * 0.75f64.ln() + 0.25 * 0.25f64.ln());
/// assert!((f64::from(s.cross_entropy) - entropy).abs() < 1e-6);
/// # Ok::<(), tinytrain_core::Error>(())
/// ```
pub fn prior_scores(train_counts: &[u32], counts: &[u32]) -> Result<Scores, Error> {
    let n_train: f64 = train_counts.iter().map(|c| f64::from(*c)).sum();
    let n: u64 = counts.iter().map(|c| u64::from(*c)).sum();
    let class = majority(train_counts).ok_or(Error::EmptyData)?;
    if n == 0 {
        return Err(Error::EmptyData);
    }
    let mut loss = 0.0f64;
    for (c, k) in counts.iter().enumerate() {
        if *k == 0 {
            continue;
        }
        let p = f64::from(train_counts.get(c).copied().unwrap_or(0)) / n_train;
        loss -= f64::from(*k) * libm::log(p);
    }
    let right = counts.get(class).copied().unwrap_or(0);
    Ok(Scores {
        cross_entropy: (loss / n as f64) as f32,
        accuracy: ratio(u64::from(right), n).unwrap_or(0.0),
        samples: usize::try_from(n).unwrap_or(usize::MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::softmax::cross_entropy;

    #[test]
    fn a_matrix_needs_room_and_two_classes() {
        let mut counts = [7u32; 8];
        assert_eq!(
            Confusion::new(&mut counts, 3).unwrap_err(),
            Error::BufferSize {
                needed: 9,
                found: 8
            }
        );
        assert_eq!(
            Confusion::new(&mut counts, 1).unwrap_err(),
            Error::TooFewClasses {
                classes: 1,
                min: MIN_CLASSES
            }
        );
        let mut m = Confusion::new(&mut counts, 2).unwrap();
        assert_eq!(m.total(), 0, "zeroed");
        assert!(m.add(2, 0).is_err() && m.add(0, 2).is_err());
        assert_eq!(
            (m.accuracy(), m.precision(0), m.recall(1)),
            (None, None, None)
        );
    }

    #[test]
    fn a_class_never_predicted_is_found() {
        let mut counts = [0u32; 9];
        let mut m = Confusion::new(&mut counts, 3).unwrap();
        for (t, p) in [(0, 0), (1, 0), (1, 1), (2, 0), (2, 1)] {
            m.add(t, p).unwrap();
        }
        assert_eq!(m.never_predicted().collect::<std::vec::Vec<_>>(), [2]);
        assert_eq!((m.support(2), m.predicted(0)), (2, 3));
        assert_eq!(m.row(2), [1, 1, 0]);
        assert_eq!(m.precision(2), None);
        assert_eq!(m.recall(2), Some(0.0));
        // A class with no sample that is never predicted is not ignored: it is absent.
        let mut counts = [0u32; 9];
        let mut m = Confusion::new(&mut counts, 3).unwrap();
        m.add(0, 0).unwrap();
        m.add(1, 1).unwrap();
        assert_eq!(m.never_predicted().count(), 0);
    }

    #[test]
    fn scores_are_the_per_sample_losses_and_argmax() {
        const W: [usize; 3] = [2, 3, 3];
        let mut params = [0.0f32; shape::param_len(&W)];
        crate::Init::He.fill(&W, &mut params, &mut crate::Lcg::new(5));
        let stats = [0.5, -1.0, 2.0, 0.5, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let model = Model::new(&W, &params, &stats).unwrap();
        let xs: std::vec::Vec<f32> = (0..40).map(|i| (i as f32 * 0.37).sin() * 3.0).collect();
        let labels: std::vec::Vec<u16> = (0..20).map(|i| (i % 3) as u16).collect();
        let data = Dataset::classes(&xs, &labels, 2, 3).unwrap();
        let indices: std::vec::Vec<u32> = (0..20).rev().collect();
        let mut counts = [0u32; 9];
        let mut confusion = Confusion::new(&mut counts, 3).unwrap();
        let mut scratch = [0.0; shape::predict_scratch_len(&W)];
        let s = score(&model, &data, &indices, &mut scratch, &mut confusion).unwrap();
        let (mut sum, mut right) = (0.0f32, 0);
        for &i in &indices {
            let (x, c) = data.sample(i as usize).unwrap();
            let mut y = [0.0; 3];
            model.predict(x, &mut scratch, &mut y).unwrap();
            sum += cross_entropy(&y, usize::from(c));
            right += usize::from(argmax(&y) == Some(usize::from(c)));
        }
        assert_eq!(s.cross_entropy.to_bits(), (sum / 20.0).to_bits());
        assert_eq!(s.accuracy, right as f32 / 20.0);
        assert_eq!(confusion.correct(), right as u64);
        assert_eq!(confusion.total(), 20);
        assert_eq!(
            score(&model, &data, &[], &mut scratch, &mut confusion),
            Err(Error::EmptyData)
        );
    }

    #[test]
    fn balanced_weights_even_the_classes_out() {
        let counts = [90u32, 9, 1, 0];
        let mut w = [0.0f32; 4];
        balanced_weights(&counts, &mut w);
        let total: f32 = counts.iter().zip(&w).map(|(c, w)| *c as f32 * w).sum();
        assert!((total - 100.0).abs() < 1e-4);
        assert_eq!(w[3], 0.0);
        assert!(
            (w[0] * 90.0 - w[2]).abs() < 1e-4,
            "each class weighs the same"
        );
    }

    #[test]
    fn the_prior_of_an_unseen_class_is_infinitely_wrong() {
        let s = prior_scores(&[5, 0], &[1, 1]).unwrap();
        assert_eq!((s.cross_entropy, s.accuracy), (f32::INFINITY, 0.5));
        assert_eq!(prior_scores(&[0, 0], &[1, 1]), Err(Error::EmptyData));
        assert_eq!(prior_scores(&[1, 1], &[0, 0]), Err(Error::EmptyData));
    }
}
