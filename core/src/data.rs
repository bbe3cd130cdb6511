//! Samples borrowed from slices in flash or RAM.

use crate::{Error, Field};

/// A data set: `len` samples of `n_in` inputs and `n_out` targets, stored row by row in two
/// slices. Construction checks the shapes and that every value is finite, so training never
/// sees NaN from the data.
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
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Dataset<'a> {
    inputs: &'a [f32],
    targets: &'a [f32],
    n_in: usize,
    n_out: usize,
}

impl<'a> Dataset<'a> {
    /// Checks and wraps the data.
    pub fn new(
        inputs: &'a [f32],
        targets: &'a [f32],
        n_in: usize,
        n_out: usize,
    ) -> Result<Self, Error> {
        let shape_error = Error::DataShape {
            inputs: inputs.len(),
            targets: targets.len(),
            n_in,
            n_out,
        };
        if n_in == 0
            || n_out == 0
            || !inputs.len().is_multiple_of(n_in)
            || !targets.len().is_multiple_of(n_out)
        {
            return Err(shape_error);
        }
        if inputs.len() / n_in != targets.len() / n_out {
            return Err(shape_error);
        }
        if inputs.is_empty() {
            return Err(Error::EmptyData);
        }
        let data = Self {
            inputs,
            targets,
            n_in,
            n_out,
        };
        for (sample, (x, t)) in data.iter().enumerate() {
            if let Some(i) = x.iter().position(|v| !v.is_finite()) {
                return Err(Error::NonFinite {
                    sample,
                    field: Field::Input(i),
                });
            }
            if let Some(i) = t.iter().position(|v| !v.is_finite()) {
                return Err(Error::NonFinite {
                    sample,
                    field: Field::Target(i),
                });
            }
        }
        Ok(data)
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

    /// Targets per sample.
    pub fn n_out(&self) -> usize {
        self.n_out
    }

    /// The inputs and targets of sample `index`.
    pub fn sample(&self, index: usize) -> Option<(&'a [f32], &'a [f32])> {
        self.row(index)
    }

    /// [`Dataset::sample`], inlined into [`Dataset::select`], which walks a split while training.
    #[inline(always)]
    fn row(&self, index: usize) -> Option<(&'a [f32], &'a [f32])> {
        let row = |values: &'a [f32], n: usize| values.get(index.checked_mul(n)?..)?.get(..n);
        Some((row(self.inputs, self.n_in)?, row(self.targets, self.n_out)?))
    }

    /// All samples in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a [f32], &'a [f32])> + 'a {
        self.inputs
            .chunks_exact(crate::dense::at_least_one(self.n_in))
            .zip(
                self.targets
                    .chunks_exact(crate::dense::at_least_one(self.n_out)),
            )
    }

    /// The samples at `indices`, in that order (indices out of range are skipped).
    pub fn select<'s>(
        &'s self,
        indices: &'s [u32],
    ) -> impl Iterator<Item = (&'a [f32], &'a [f32])> + 's {
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
    fn select_follows_the_indices() {
        let d = Dataset::new(&[0.0, 1.0, 2.0], &[10.0, 11.0, 12.0], 1, 1).unwrap();
        let picked: std::vec::Vec<f32> = d.select(&[2, 0, 9]).map(|(_, t)| t[0]).collect();
        assert_eq!(picked, [12.0, 10.0]);
    }
}
