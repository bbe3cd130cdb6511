//! A seeded split of the sample indices into training, validation and test sets.

use crate::{rng::shuffle, Error, Lcg, SplitPart};

/// Sample indices shuffled once with the [`Lcg`] and cut into three disjoint parts that cover
/// the data: training first, then validation, then test.
///
/// The sizes are `round(len × val_fraction)` for validation, `round(len × test_fraction)` for
/// test, and the rest for training. A fraction above 0 that leaves its part empty is an error,
/// as is an empty training or validation set (early stopping needs validation data). A test
/// fraction of 0 means no test set.
///
/// ```
/// use tinytrain_core::Split;
/// let mut order = [0u32; 10];
/// let split = Split::new(&mut order, 0.2, 0.2, 7)?;
/// assert_eq!((split.train().len(), split.validation().len(), split.test().len()), (6, 2, 2));
/// # Ok::<(), tinytrain_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Split<'a> {
    order: &'a mut [u32],
    n_train: usize,
    n_val: usize,
}

impl<'a> Split<'a> {
    /// Splits the indices `0..order.len()`, writing their shuffled order into `order`.
    pub fn new(
        order: &'a mut [u32],
        val_fraction: f32,
        test_fraction: f32,
        seed: u64,
    ) -> Result<Self, Error> {
        let len = order.len();
        if len == 0 {
            return Err(Error::EmptyData);
        }
        if u32::try_from(len).is_err() {
            return Err(Error::CapacityExceeded {
                capacity: u32::MAX as usize,
            });
        }
        let valid = |f: f32| f.is_finite() && f >= 0.0;
        if !valid(val_fraction) || !valid(test_fraction) || val_fraction + test_fraction >= 1.0 {
            return Err(Error::InvalidFraction);
        }
        let n_val = part_size(len, val_fraction);
        let n_test = part_size(len, test_fraction);
        if n_val == 0 {
            return Err(Error::EmptySplit {
                part: SplitPart::Validation,
            });
        }
        if n_test == 0 && test_fraction > 0.0 {
            return Err(Error::EmptySplit {
                part: SplitPart::Test,
            });
        }
        let n_train = len.saturating_sub(n_val).saturating_sub(n_test);
        if n_train == 0 || n_val + n_test > len {
            return Err(Error::EmptySplit {
                part: SplitPart::Train,
            });
        }
        for (i, slot) in order.iter_mut().enumerate() {
            *slot = i as u32;
        }
        shuffle(order, &mut Lcg::new(seed));
        Ok(Self {
            order,
            n_train,
            n_val,
        })
    }

    /// Uses an order the caller chose: the first `n_train` indices train, the next `n_val`
    /// validate, the rest test (e.g. a time series split by time, or a fixed batch order with
    /// [`crate::Config::shuffle`] off). Every index must be below `order.len()`.
    ///
    /// ```
    /// use tinytrain_core::Split;
    /// let mut order = [3u32, 0, 1, 2];
    /// let split = Split::from_order(&mut order, 2, 1)?;
    /// assert_eq!((split.train(), split.validation(), split.test()), (&[3, 0][..], &[1][..], &[2][..]));
    /// # Ok::<(), tinytrain_core::Error>(())
    /// ```
    pub fn from_order(order: &'a mut [u32], n_train: usize, n_val: usize) -> Result<Self, Error> {
        let len = order.len();
        if len == 0 {
            return Err(Error::EmptyData);
        }
        if n_train == 0 {
            return Err(Error::EmptySplit {
                part: SplitPart::Train,
            });
        }
        if n_val == 0 {
            return Err(Error::EmptySplit {
                part: SplitPart::Validation,
            });
        }
        if n_train.saturating_add(n_val) > len {
            return Err(Error::BufferSize {
                needed: n_train.saturating_add(n_val),
                found: len,
            });
        }
        if let Some(&bad) = order.iter().find(|&&i| i as usize >= len) {
            return Err(Error::IndexOutOfRange {
                index: bad as usize,
                len,
            });
        }
        Ok(Self {
            order,
            n_train,
            n_val,
        })
    }

    /// Training indices (their order changes every epoch while training).
    pub fn train(&self) -> &[u32] {
        self.order.get(..self.n_train).unwrap_or(&[])
    }

    /// Training indices, to be shuffled.
    pub(crate) fn train_mut(&mut self) -> &mut [u32] {
        self.order.get_mut(..self.n_train).unwrap_or(&mut [])
    }

    /// Validation indices.
    pub fn validation(&self) -> &[u32] {
        self.order
            .get(self.n_train..self.n_train + self.n_val)
            .unwrap_or(&[])
    }

    /// Test indices: the final exam, to be used once.
    pub fn test(&self) -> &[u32] {
        self.order.get(self.n_train + self.n_val..).unwrap_or(&[])
    }

    /// Number of samples in all three parts.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Always false: an empty split is rejected by [`Split::new`].
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// `round(len × fraction)`, halves away from zero, exactly and in integers (no soft-float `f64`
/// on a microcontroller): for `fraction` in `[0, 1)`, `fraction = m·2⁻ˢ` with `m < 2²⁴` and
/// `s ≥ 24`, and `len < 2³²`, so `len·m` fits in 64 bits.
fn part_size(len: usize, fraction: f32) -> usize {
    let bits = fraction.to_bits();
    let exponent = (bits >> 23) & 0xff;
    let hidden = if exponent == 0 { 0 } else { 1 << 23 };
    let m = u64::from((bits & 0x7f_ffff) | hidden);
    let shift = 150u32.saturating_sub(exponent.max(1));
    let product = (len as u64).saturating_mul(m);
    match shift {
        1..=63 => ((product >> (shift - 1)).saturating_add(1) >> 1) as usize,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec;

    #[test]
    fn fractions_that_empty_a_part_are_errors() {
        let mut o = [0u32; 4];
        assert_eq!(
            Split::new(&mut o, 0.1, 0.0, 1).unwrap_err(),
            Error::EmptySplit {
                part: SplitPart::Validation
            }
        );
        assert_eq!(
            Split::new(&mut o, 0.5, 0.1, 1).unwrap_err(),
            Error::EmptySplit {
                part: SplitPart::Test
            }
        );
        assert_eq!(
            Split::new(&mut o, 0.5, 0.5, 1).unwrap_err(),
            Error::InvalidFraction
        );
        assert_eq!(
            Split::new(&mut o, f32::NAN, 0.0, 1).unwrap_err(),
            Error::InvalidFraction
        );
        assert_eq!(
            Split::new(&mut [], 0.2, 0.2, 1).unwrap_err(),
            Error::EmptyData
        );
        let mut o = [0u32; 2];
        assert_eq!(
            Split::new(&mut o, 0.4, 0.4, 1).unwrap_err(),
            Error::EmptySplit {
                part: SplitPart::Train
            }
        );
    }

    proptest! {
        /// The integer rounding is the exact `round(len × fraction)`.
        #[test]
        fn part_sizes_round_exactly(len in 1usize..1 << 24, fraction in 0.0f32..1.0) {
            let exact = (len as f64 * f64::from(fraction)).round() as usize;
            prop_assert_eq!(part_size(len, fraction), exact);
        }

        #[test]
        fn parts_are_disjoint_and_cover_the_data(len in 1usize..500, val in 0.0f32..0.5, test in 0.0f32..0.45, seed: u64) {
            let mut order = vec![0u32; len];
            if let Ok(split) = Split::new(&mut order, val, test, seed) {
                let mut seen = vec![0u8; len];
                for &i in split.train().iter().chain(split.validation()).chain(split.test()) {
                    seen[i as usize] += 1;
                }
                prop_assert!(seen.iter().all(|&c| c == 1));
                prop_assert!(!split.train().is_empty() && !split.validation().is_empty());
            }
        }

        #[test]
        fn same_seed_same_split(len in 2usize..200, seed: u64) {
            let mut a = vec![0u32; len];
            let mut b = vec![0u32; len];
            let sa = Split::new(&mut a, 0.3, 0.2, seed).map(|s| s.test().to_vec());
            let sb = Split::new(&mut b, 0.3, 0.2, seed).map(|s| s.test().to_vec());
            prop_assert_eq!(sa, sb);
        }
    }
}
