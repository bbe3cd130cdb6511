//! A seeded split of the sample indices into training, validation and test sets.

use crate::{rng::shuffle, Dataset, Error, Lcg, SplitPart};

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
    ///
    /// Errors: [`Error::EmptyData`] for an empty `order`; [`Error::CapacityExceeded`] beyond
    /// `u32::MAX` samples; [`Error::InvalidFraction`] for a fraction that is negative, not
    /// finite, or that leaves no training samples (`val_fraction + test_fraction >= 1`);
    /// [`Error::EmptySplit`] naming the part that rounds to no sample.
    pub fn new(
        order: &'a mut [u32],
        val_fraction: f32,
        test_fraction: f32,
        seed: u64,
    ) -> Result<Self, Error> {
        let len = order.len();
        check_fractions(len, val_fraction, test_fraction)?;
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

    /// Splits a classifier's samples class by class, so that each class is in every part in
    /// the proportions asked for (a *stratified* split): writes the order into `order` (one
    /// entry per sample of `data`).
    ///
    /// Each class of `n` samples gives `round(n × val_fraction)` to validation and
    /// `round(n × test_fraction)` to test — at least one to each part asked for, and at least
    /// one left for training. The samples of each class are drawn with the seeded [`Lcg`], and
    /// every part is shuffled once at the end, so no part is ordered by class.
    ///
    /// Errors: those of [`Split::new`], a wrong `order` length ([`Error::BufferSize`]), and
    /// [`Error::ClassTooSmall`] naming the first class with fewer samples than parts (2, or 3
    /// with a test set) — a class with no sample at all included.
    ///
    /// ```
    /// use tinytrain_core::{Dataset, Error, Split};
    /// // 40 samples of class 0, 10 of class 1.
    /// let xs: Vec<f32> = (0..50).map(|i| i as f32).collect();
    /// let labels: Vec<u16> = (0..50).map(|i| u16::from(i >= 40)).collect();
    /// let data = Dataset::classes(&xs, &labels, 1, 2)?;
    /// let mut order = [0u32; 50];
    /// let split = Split::stratified(&mut order, &data, 0.2, 0.2, 7)?;
    /// let ones = |part: &[u32]| part.iter().filter(|&&i| labels[i as usize] == 1).count();
    /// assert_eq!((ones(split.train()), ones(split.validation()), ones(split.test())), (6, 2, 2));
    ///
    /// // A third class with two samples cannot be in all three parts.
    /// let labels: Vec<u16> = (0..50).map(|i| if i < 2 { 2 } else { u16::from(i >= 40) }).collect();
    /// let data = Dataset::classes(&xs, &labels, 1, 3)?;
    /// assert_eq!(
    ///     Split::stratified(&mut order, &data, 0.2, 0.2, 7).unwrap_err(),
    ///     Error::ClassTooSmall { class: 2, count: 2, needed: 3 }
    /// );
    /// # Ok::<(), tinytrain_core::Error>(())
    /// ```
    pub fn stratified(
        order: &'a mut [u32],
        data: &Dataset<'_, u16>,
        val_fraction: f32,
        test_fraction: f32,
        seed: u64,
    ) -> Result<Self, Error> {
        let len = order.len();
        if len != data.len() {
            return Err(Error::BufferSize {
                needed: data.len(),
                found: len,
            });
        }
        check_fractions(len, val_fraction, test_fraction)?;
        let labels = data.labels();
        let with_test = test_fraction > 0.0;
        let needed = 2 + usize::from(with_test);
        // Fail before writing anything: the first class too small.
        for class in 0..data.n_classes() {
            let count = class_count(labels, class);
            if count < needed {
                return Err(Error::ClassTooSmall {
                    class: class as u16,
                    count,
                    needed,
                });
            }
        }
        let mut rng = Lcg::new(seed);
        // `order[..filled]` holds the classes so far as [train | validation | test], of sizes
        // `n_train`, `n_val` and `n_test`; each class joins as its own three parts, rotated
        // into place. No memory beyond `order`, O(len × classes) steps.
        let (mut n_train, mut n_val, mut n_test) = (0usize, 0usize, 0usize);
        for class in 0..data.n_classes() {
            let filled = n_train + n_val + n_test;
            let mut count = 0;
            let members = labels
                .iter()
                .enumerate()
                .filter(|(_, &l)| usize::from(l) == class);
            let free = order.get_mut(filled..).unwrap_or(&mut []);
            for (slot, (i, _)) in free.iter_mut().zip(members) {
                *slot = i as u32;
                count += 1;
            }
            let block = order.get_mut(filled..filled + count).unwrap_or(&mut []);
            shuffle(block, &mut rng);
            // At least one in each part; `count >= needed` leaves one for training.
            let most = |n: usize| n.max(1);
            let val = most(part_size(count, val_fraction)).min(count.saturating_sub(needed - 1));
            let test = if with_test {
                most(part_size(count, test_fraction)).min(count.saturating_sub(val + 1))
            } else {
                0
            };
            let train = count.saturating_sub(val + test);
            // [T | V | E | T_c | V_c | E_c] → [T | T_c | V | E | V_c | E_c]
            if let Some(s) = order.get_mut(n_train..filled + train) {
                rotate_left(s, n_val + n_test);
            }
            // → [T | T_c | V | V_c | E | E_c]
            let e_at = n_train + train + n_val;
            if let Some(s) = order.get_mut(e_at..e_at + n_test + val) {
                rotate_left(s, n_test);
            }
            n_train += train;
            n_val += val;
            n_test += test;
        }
        let (train, rest) = order.split_at_mut(n_train.min(len));
        let (val, test) = rest.split_at_mut(n_val.min(rest.len()));
        for part in [train, val, test] {
            shuffle(part, &mut rng);
        }
        Ok(Self {
            order,
            n_train,
            n_val,
        })
    }

    /// Checks that the training set holds a sample of every class the data has, and the
    /// validation set too: a class the network never trains on, or that early stopping never
    /// sees, cannot be learned (for example in a split made by hand or read from a file). The
    /// test set may miss a class.
    ///
    /// Errors: [`Error::ClassMissing`] naming the first class missing, its count in the data
    /// and the part.
    pub fn check_classes(&self, data: &Dataset<'_, u16>) -> Result<(), Error> {
        let labels = data.labels();
        let has = |part: &[u32], class: usize| {
            part.iter().any(|&i| {
                labels
                    .get(i as usize)
                    .is_some_and(|&l| usize::from(l) == class)
            })
        };
        for class in 0..data.n_classes() {
            let count = class_count(labels, class);
            if count == 0 {
                continue;
            }
            for (part, kind) in [
                (self.train(), SplitPart::Train),
                (self.validation(), SplitPart::Validation),
            ] {
                if !has(part, class) {
                    return Err(Error::ClassMissing {
                        class: class as u16,
                        count,
                        part: kind,
                    });
                }
            }
        }
        Ok(())
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

/// Checks a number of samples and the fractions of a split.
fn check_fractions(len: usize, val_fraction: f32, test_fraction: f32) -> Result<(), Error> {
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
    Ok(())
}

/// Rotates `items` left by `k` (at most their length) by three reversals: the standard
/// library's `rotate_left` asserts on `k`, which leaves a panicking path in firmware.
fn rotate_left(items: &mut [u32], k: usize) {
    if let Some((front, back)) = items.split_at_mut_checked(k) {
        front.reverse();
        back.reverse();
        items.reverse();
    }
}

/// How many of `labels` are `class`.
fn class_count(labels: &[u16], class: usize) -> usize {
    labels.iter().filter(|&&l| usize::from(l) == class).count()
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

    #[test]
    fn a_stratified_split_keeps_the_proportions_and_names_a_small_class() {
        // 60 of class 0, 30 of class 1, 10 of class 2, interleaved.
        let labels: std::vec::Vec<u16> = (0..100)
            .map(|i| match i % 10 {
                0 => 2,
                1..=3 => 1,
                _ => 0,
            })
            .collect();
        let xs: std::vec::Vec<f32> = (0..100).map(|i| i as f32).collect();
        let data = Dataset::classes(&xs, &labels, 1, 3).unwrap();
        let mut order = [0u32; 100];
        let split = Split::stratified(&mut order, &data, 0.2, 0.1, 3).unwrap();
        let count =
            |part: &[u32], c: u16| part.iter().filter(|&&i| labels[i as usize] == c).count();
        let parts = [split.train(), split.validation(), split.test()];
        let counts: std::vec::Vec<[usize; 3]> = parts
            .iter()
            .map(|p| [count(p, 0), count(p, 1), count(p, 2)])
            .collect();
        assert_eq!(counts, [[42, 21, 7], [12, 6, 2], [6, 3, 1]]);
        split.check_classes(&data).unwrap();
        // Not ordered by class.
        assert!(split.train()[..10].iter().any(|&i| labels[i as usize] != 0));
        let mut twice = [0u32; 100];
        let again = Split::stratified(&mut twice, &data, 0.2, 0.1, 3).unwrap();
        assert_eq!(again.train(), split.train(), "same seed, same split");

        // A fourth class the data lacks: an empty class.
        let data4 = Dataset::classes(&xs, &labels, 1, 4).unwrap();
        assert_eq!(
            Split::stratified(&mut order, &data4, 0.2, 0.1, 3).unwrap_err(),
            Error::ClassTooSmall {
                class: 3,
                count: 0,
                needed: 3
            }
        );
        // Two samples suffice without a test set.
        let few: std::vec::Vec<u16> = (0..10).map(|i| u16::from(i < 2)).collect();
        let data = Dataset::classes(&xs[..10], &few, 1, 2).unwrap();
        let mut order = [0u32; 10];
        let split = Split::stratified(&mut order, &data, 0.3, 0.0, 3).unwrap();
        assert_eq!(count(split.validation(), 1), 1);
        assert!(split.test().is_empty());
        assert_eq!(
            Split::stratified(&mut order, &data, 0.3, 0.2, 3).unwrap_err(),
            Error::ClassTooSmall {
                class: 1,
                count: 2,
                needed: 3
            }
        );
        assert!(matches!(
            Split::stratified(&mut order[..9], &data, 0.3, 0.2, 3),
            Err(Error::BufferSize { .. })
        ));
    }

    #[test]
    fn a_class_only_in_the_test_set_is_named() {
        let labels = [0u16, 0, 1, 0, 0, 1];
        let xs = [0.0f32; 6];
        let data = Dataset::classes(&xs, &labels, 1, 2).unwrap();
        let mut order = [0u32, 1, 3, 4, 2, 5];
        let split = Split::from_order(&mut order, 3, 1).unwrap();
        assert_eq!(
            split.check_classes(&data).unwrap_err(),
            Error::ClassMissing {
                class: 1,
                count: 2,
                part: SplitPart::Train
            }
        );
    }

    proptest! {
        /// Every class is in every part, the parts cover the data once, and each class's
        /// validation share is its rounded fraction (at least 1).
        #[test]
        fn stratified_parts_cover_the_data_with_every_class(
            labels in proptest::collection::vec(0u16..4, 12..300),
            val in 0.05f32..0.4,
            test in 0.0f32..0.4,
            seed: u64,
        ) {
            let xs = vec![0.0f32; labels.len()];
            let data = Dataset::classes(&xs, &labels, 1, 4).unwrap();
            let mut order = vec![0u32; labels.len()];
            match Split::stratified(&mut order, &data, val, test, seed) {
                Ok(split) => {
                    let mut seen = vec![0u8; labels.len()];
                    for &i in split.train().iter().chain(split.validation()).chain(split.test()) {
                        seen[i as usize] += 1;
                    }
                    prop_assert!(seen.iter().all(|&c| c == 1));
                    prop_assert!(split.check_classes(&data).is_ok());
                    for c in 0..4u16 {
                        let n = labels.iter().filter(|&&l| l == c).count();
                        let in_val = split.validation().iter().filter(|&&i| labels[i as usize] == c).count();
                        let in_test = split.test().iter().filter(|&&i| labels[i as usize] == c).count();
                        prop_assert!(in_val >= 1 && (test == 0.0 || in_test >= 1));
                        let want = part_size(n, val).max(1);
                        prop_assert!(in_val == want || in_val == n - 1 - usize::from(test > 0.0));
                    }
                }
                Err(Error::ClassTooSmall { class, count, needed }) => {
                    prop_assert!(count < needed);
                    prop_assert_eq!(labels.iter().filter(|&&l| l == class).count(), count);
                }
                Err(Error::InvalidFraction) => prop_assert!(val + test >= 1.0),
                Err(e) => prop_assert!(false, "{e}"),
            }
        }
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
