//! Samples borrowed from slices in flash or RAM: inputs as `f32`, targets as `f32` values
//! (regression) or `u16` class indices (classification).

use crate::slices::expect_width;
use crate::{Error, Field};

/// One sample: its inputs and its target — `n_out` values (`&[f32]`, the default), or a class
/// index (`u16`) for a classifier of `n_out` classes.
pub type Sample<'d, T = &'d [f32]> = (&'d [f32], T);

/// How a data set stores its targets ([`Dataset`]'s `L`): `f32` values, `n_out` per sample, for
/// regression, or one `u16` class index per sample, for classification with `n_out` classes.
/// Sealed: these two are the kinds the losses know.
pub trait Label: Copy + Default + 'static + sealed::Sealed {
    /// A sample's target as the loss reads it: `&[f32]` of `n_out` values, or a `u16` class.
    type Target<'a>: Target;
    /// Whether the targets are class indices (never standardised).
    const CLASSES: bool;
    /// Stored labels per sample, for a network of `n_out` outputs.
    fn per_sample(n_out: usize) -> usize;
    /// The target of one sample's stored labels ([`Self::per_sample`] of them).
    fn target(row: &[Self]) -> Self::Target<'_>;
}

/// One sample's target, as a [`crate::loss::Loss`] reads it: values (`&[f32]`, one per output:
/// regression targets, or class probabilities) or a class index (`u16`). The `Default` is an
/// empty placeholder, never trained on.
pub trait Target: Copy + Default {
    /// Checks the target against a network of `n_out` outputs: `n_out` values
    /// ([`Error::WidthMismatch`]), or a class below `n_out` ([`Error::ClassOutOfRange`], sample
    /// 0: the caller knows which sample it is).
    fn check(&self, n_out: usize) -> Result<(), Error>;
    /// The target of output `k`: the `k`th value, or for a class 1 at the class and 0
    /// elsewhere (one-hot). 0 beyond the values.
    fn value(&self, k: usize) -> f32;
    /// The class, for a class index.
    fn class(&self) -> Option<usize>;
}

impl Target for &[f32] {
    fn check(&self, n_out: usize) -> Result<(), Error> {
        expect_width(self.len(), n_out)
    }

    #[inline(always)]
    fn value(&self, k: usize) -> f32 {
        self.get(k).copied().unwrap_or(0.0)
    }

    #[inline(always)]
    fn class(&self) -> Option<usize> {
        None
    }
}

impl Target for u16 {
    fn check(&self, n_out: usize) -> Result<(), Error> {
        if usize::from(*self) < n_out {
            Ok(())
        } else {
            Err(Error::ClassOutOfRange {
                sample: 0,
                class: *self,
                classes: n_out,
            })
        }
    }

    #[inline(always)]
    fn value(&self, k: usize) -> f32 {
        if k == usize::from(*self) {
            1.0
        } else {
            0.0
        }
    }

    #[inline(always)]
    fn class(&self) -> Option<usize> {
        Some(usize::from(*self))
    }
}

impl Label for f32 {
    type Target<'a> = &'a [f32];
    const CLASSES: bool = false;

    #[inline(always)]
    fn per_sample(n_out: usize) -> usize {
        n_out
    }

    #[inline(always)]
    fn target(row: &[f32]) -> &[f32] {
        row
    }
}

impl Label for u16 {
    type Target<'a> = u16;
    const CLASSES: bool = true;

    #[inline(always)]
    fn per_sample(_: usize) -> usize {
        1
    }

    #[inline(always)]
    fn target(row: &[u16]) -> u16 {
        row.first().copied().unwrap_or(0)
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for u16 {}
}

/// The fewest classes a classifier has.
pub const MIN_CLASSES: usize = 2;

/// A data set: `len` samples of `n_in` inputs and their targets, stored row by row in two
/// slices. Construction checks the shapes and that every input is finite, so training never
/// sees NaN from the data.
///
/// `L` says what a target is: for regression (`Dataset<f32>`, [`Dataset::new`]) `n_out` finite
/// values; for classification (`Dataset<u16>`, [`Dataset::classes`]) one class index below
/// `n_out`, the number of classes — the network's outputs are then the classes' logits.
///
/// ```
/// use tinytrain_core::{Dataset, Error, Field};
/// let xs = [0.0, 1.0, 2.0];
/// let ys = [1.0, 3.0, 5.0];
/// let data = Dataset::new(&xs, &ys, 1, 1)?;
/// assert_eq!(data.len(), 3);
/// assert_eq!(data.sample(1), Some((&[1.0][..], &[3.0][..])));
///
/// let bad = [1.0, f32::NAN];
/// assert_eq!(
///     Dataset::new(&bad, &ys[..2], 1, 1).unwrap_err(),
///     Error::NonFinite { sample: 1, field: Field::Input(0) }
/// );
///
/// // Three samples of two classes.
/// let labels = [0u16, 1, 1];
/// let data = Dataset::classes(&xs, &labels, 1, 2)?;
/// assert_eq!(data.sample(2), Some((&[2.0][..], 1)));
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Dataset<'a, L: Label = f32> {
    inputs: &'a [f32],
    targets: &'a [L],
    n_in: usize,
    n_out: usize,
}

impl<'a> Dataset<'a, f32> {
    /// Checks and wraps the data: `inputs` holds `n_in` values per sample, `targets` `n_out`.
    ///
    /// Errors: [`Error::DataShape`] when a width is 0, a slice does not hold whole samples or
    /// the two hold different numbers of samples; [`Error::EmptyData`] without a sample;
    /// [`Error::NonFinite`] naming the first sample and field (input or target column) that is
    /// NaN or infinite.
    pub fn new(
        inputs: &'a [f32],
        targets: &'a [f32],
        n_in: usize,
        n_out: usize,
    ) -> Result<Self, Error> {
        let data = Self::shaped(inputs, targets, n_in, n_out)?;
        for (sample, (x, t)) in data.iter().enumerate() {
            check_inputs(sample, x)?;
            if let Some(i) = t.iter().position(|v| !v.is_finite()) {
                return Err(Error::NonFinite {
                    sample,
                    field: Field::Target(i),
                });
            }
        }
        Ok(data)
    }
}

impl<'a> Dataset<'a, u16> {
    /// Checks and wraps the data of a classifier: `inputs` holds `n_in` values per sample,
    /// `labels` one class index per sample, each below `n_classes` (at least [`MIN_CLASSES`]).
    ///
    /// Errors: [`Error::TooFewClasses`], [`Error::ClassOutOfRange`] naming the sample, and the
    /// shape and finiteness errors of [`Dataset::new`].
    pub fn classes(
        inputs: &'a [f32],
        labels: &'a [u16],
        n_in: usize,
        n_classes: usize,
    ) -> Result<Self, Error> {
        if n_classes < MIN_CLASSES {
            return Err(Error::TooFewClasses {
                classes: n_classes,
                min: MIN_CLASSES,
            });
        }
        let data = Self::shaped(inputs, labels, n_in, n_classes)?;
        for (sample, (x, class)) in data.iter().enumerate() {
            check_inputs(sample, x)?;
            if usize::from(class) >= n_classes {
                return Err(Error::ClassOutOfRange {
                    sample,
                    class,
                    classes: n_classes,
                });
            }
        }
        Ok(data)
    }

    /// Every sample's class, in order.
    pub fn labels(&self) -> &'a [u16] {
        self.targets
    }

    /// The number of classes (the network's outputs).
    pub fn n_classes(&self) -> usize {
        self.n_out
    }
}

/// The first non-finite input of a sample, as an error.
fn check_inputs(sample: usize, x: &[f32]) -> Result<(), Error> {
    match x.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(Error::NonFinite {
            sample,
            field: Field::Input(i),
        }),
        None => Ok(()),
    }
}

impl<'a, L: Label> Dataset<'a, L> {
    /// Checks the shapes: whole samples, the same number of them on both sides, at least one.
    fn shaped(
        inputs: &'a [f32],
        targets: &'a [L],
        n_in: usize,
        n_out: usize,
    ) -> Result<Self, Error> {
        let per_sample = L::per_sample(n_out);
        let shape_error = Error::DataShape {
            inputs: inputs.len(),
            targets: targets.len(),
            n_in,
            n_out,
        };
        if n_in == 0
            || n_out == 0
            || !inputs.len().is_multiple_of(n_in)
            || !targets.len().is_multiple_of(per_sample)
        {
            return Err(shape_error);
        }
        if inputs.len() / n_in != targets.len() / per_sample {
            return Err(shape_error);
        }
        if inputs.is_empty() {
            return Err(Error::EmptyData);
        }
        Ok(Self {
            inputs,
            targets,
            n_in,
            n_out,
        })
    }

    /// Number of samples (never 0).
    pub fn len(&self) -> usize {
        self.inputs.len().checked_div(self.n_in).unwrap_or(0)
    }

    /// Always false: an empty data set is rejected by [`Dataset::new`].
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }

    /// Inputs per sample.
    pub fn n_in(&self) -> usize {
        self.n_in
    }

    /// The network's outputs: targets per sample, or the number of classes.
    pub fn n_out(&self) -> usize {
        self.n_out
    }

    /// The inputs and target of sample `index`.
    pub fn sample(&self, index: usize) -> Option<(&'a [f32], L::Target<'a>)> {
        self.row(index)
    }

    /// [`Dataset::sample`], inlined into [`Dataset::select`], which walks a split while training.
    #[inline(always)]
    fn row(&self, index: usize) -> Option<(&'a [f32], L::Target<'a>)> {
        fn row<T>(values: &[T], index: usize, n: usize) -> Option<&[T]> {
            values.get(index.checked_mul(n)?..)?.get(..n)
        }
        let x = row(self.inputs, index, self.n_in)?;
        let t = row(self.targets, index, L::per_sample(self.n_out))?;
        Some((x, L::target(t)))
    }

    /// All samples in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a [f32], L::Target<'a>)> + 'a {
        let per_sample = crate::slices::at_least_one(L::per_sample(self.n_out));
        self.inputs
            .chunks_exact(crate::slices::at_least_one(self.n_in))
            .zip(self.targets.chunks_exact(per_sample).map(L::target))
    }

    /// The samples at `indices`, in that order (indices out of range are skipped).
    pub fn select<'s>(
        &'s self,
        indices: &'s [u32],
    ) -> impl Iterator<Item = (&'a [f32], L::Target<'a>)> + 's {
        indices.iter().filter_map(|&i| self.row(i as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_checked() {
        assert!(matches!(
            Dataset::new(&[1.0, 2.0, 3.0], &[1.0], 2, 1),
            Err(Error::DataShape { .. })
        ));
        assert!(matches!(
            Dataset::new(&[1.0, 2.0], &[1.0], 1, 1),
            Err(Error::DataShape { .. })
        ));
        assert_eq!(Dataset::new(&[], &[], 1, 1).unwrap_err(), Error::EmptyData);
        assert!(matches!(
            Dataset::new(&[1.0], &[1.0], 0, 1),
            Err(Error::DataShape { .. })
        ));
    }

    #[test]
    fn non_finite_target_is_located() {
        let e = Dataset::new(&[1.0, 2.0, 3.0, 4.0], &[0.0, f32::INFINITY], 2, 1).unwrap_err();
        assert_eq!(
            e,
            Error::NonFinite {
                sample: 1,
                field: Field::Target(0)
            }
        );
    }

    #[test]
    fn class_labels_are_checked() {
        let xs = [0.0, 1.0, 2.0, 3.0];
        assert_eq!(
            Dataset::classes(&xs, &[0, 1, 2, 1], 1, 2).unwrap_err(),
            Error::ClassOutOfRange {
                sample: 2,
                class: 2,
                classes: 2
            }
        );
        assert_eq!(
            Dataset::classes(&xs, &[0, 0, 0, 0], 1, 1).unwrap_err(),
            Error::TooFewClasses {
                classes: 1,
                min: MIN_CLASSES
            }
        );
        assert!(matches!(
            Dataset::classes(&xs, &[0, 1, 1], 1, 2),
            Err(Error::DataShape { .. })
        ));
        let d = Dataset::classes(&xs, &[0, 1, 1, 0], 2, 2);
        assert!(
            matches!(d, Err(Error::DataShape { .. })),
            "two samples, four labels"
        );
        let d = Dataset::classes(&xs, &[1, 0], 2, 2).unwrap();
        let picked: std::vec::Vec<u16> = d.select(&[1, 0, 5]).map(|(_, c)| c).collect();
        assert_eq!(picked, [0, 1]);
        assert_eq!((d.len(), d.n_classes(), d.labels()), (2, 2, &[1u16, 0][..]));
        let nan = [0.0, f32::NAN];
        assert_eq!(
            Dataset::classes(&nan, &[0, 1], 1, 2).unwrap_err(),
            Error::NonFinite {
                sample: 1,
                field: Field::Input(0)
            }
        );
    }

    #[test]
    fn a_class_target_is_one_hot() {
        let t: u16 = 2;
        assert_eq!(
            (0..4).map(|k| t.value(k)).collect::<std::vec::Vec<_>>(),
            [0.0, 0.0, 1.0, 0.0]
        );
        assert_eq!(t.class(), Some(2));
        assert!(t.check(3).is_ok() && t.check(2).is_err());
        let v: &[f32] = &[0.5, 0.25];
        assert_eq!((v.value(1), v.value(9), v.class()), (0.25, 0.0, None));
        assert!(v.check(2).is_ok() && v.check(3).is_err());
    }

    #[test]
    fn select_follows_the_indices() {
        let d = Dataset::new(&[0.0, 1.0, 2.0], &[10.0, 11.0, 12.0], 1, 1).unwrap();
        let picked: std::vec::Vec<f32> = d.select(&[2, 0, 9]).map(|(_, t)| t[0]).collect();
        assert_eq!(picked, [12.0, 10.0]);
    }
}
