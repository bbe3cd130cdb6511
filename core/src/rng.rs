//! A small, documented pseudo-random generator that gives the same numbers on every platform.
//!
//! [`Lcg`] is a 64-bit linear congruential generator with Knuth's MMIX constants:
//!
//! ```text
//! state ← state × 6364136223846793005 + 1442695040888963407   (mod 2⁶⁴)
//! output = state >> 32                                          (the high 32 bits)
//! ```
//!
//! The low bits of an LCG are weak, so only the high half is used. Integer ranges are drawn with
//! Lemire's multiply-and-reject method, which is unbiased; floats take the top 24 bits.

/// The multiplier of the LCG (Knuth, MMIX).
pub const MULTIPLIER: u64 = 6_364_136_223_846_793_005;
/// The increment of the LCG (Knuth, MMIX).
pub const INCREMENT: u64 = 1_442_695_040_888_963_407;

/// A 64-bit linear congruential generator; see the [module docs](self).
///
/// ```
/// use tinytrain_core::Lcg;
/// let mut a = Lcg::new(42);
/// let mut b = Lcg::new(42);
/// assert_eq!(a.next_u32(), b.next_u32());
/// let k = a.below(10);
/// assert!(k < 10);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lcg {
    state: u64,
}

impl Lcg {
    /// A generator whose first state is `seed`.
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        self.state = self.state.wrapping_mul(MULTIPLIER).wrapping_add(INCREMENT);
        (self.state >> 32) as u32
    }

    /// A uniform integer in `0..n` without bias (Lemire's method). Returns 0 when `n` is 0.
    pub fn below(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        let mut m = u64::from(self.next_u32()) * u64::from(n);
        if (m as u32) < n {
            // 2^32 mod n: the number of low products that would make the result biased.
            let threshold = n.wrapping_neg() % n;
            while (m as u32) < threshold {
                m = u64::from(self.next_u32()) * u64::from(n);
            }
        }
        (m >> 32) as u32
    }

    /// A uniform integer in `0..n` without bias, for any `u64` bound (0 when `n` is 0): below
    /// 2³² as [`Lcg::below`]; above, Lemire's method on 64 random bits (two outputs, high half
    /// first) with a 128-bit product. A reservoir that has seen more than 2³² samples draws its
    /// slots with it.
    ///
    /// ```
    /// use tinytrain_core::Lcg;
    /// let mut rng = Lcg::new(5);
    /// let n = 3 << 32;
    /// assert!((0..100).map(|_| rng.below_u64(n)).all(|k| k < n));
    /// ```
    pub fn below_u64(&mut self, n: u64) -> u64 {
        if let Ok(small) = u32::try_from(n) {
            return u64::from(self.below(small));
        }
        let mut m = u128::from(self.next_u64()) * u128::from(n);
        if (m as u64) < n {
            // 2^64 mod n: the number of low products that would make the result biased.
            let threshold = n.wrapping_neg() % n;
            while (m as u64) < threshold {
                m = u128::from(self.next_u64()) * u128::from(n);
            }
        }
        (m >> 64) as u64
    }

    /// 64 random bits: two outputs, the first in the high half.
    fn next_u64(&mut self) -> u64 {
        let high = u64::from(self.next_u32());
        (high << 32) | u64::from(self.next_u32())
    }

    /// A uniform float in `[0, 1)` with 24 random bits.
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0)
    }

    /// A uniform float in `[low, high)`.
    pub fn uniform(&mut self, low: f32, high: f32) -> f32 {
        low + (high - low) * self.next_f32()
    }
}

/// Shuffles `items` in place with the Fisher–Yates algorithm: every permutation is equally likely,
/// and the same generator state gives the same order on every platform.
///
/// ```
/// use tinytrain_core::{rng::shuffle, Lcg};
/// let mut v = [0u32, 1, 2, 3, 4];
/// shuffle(&mut v, &mut Lcg::new(1));
/// let mut sorted = v;
/// sorted.sort();
/// assert_eq!(sorted, [0, 1, 2, 3, 4]);
/// ```
pub fn shuffle<T>(items: &mut [T], rng: &mut Lcg) {
    for i in (1..items.len()).rev() {
        let bound = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let j = rng.below(bound) as usize;
        // `items.swap(i, j)` without its bounds check: `j ≤ i < items.len()`.
        let head = items.get_mut(..=i).and_then(|s| s.split_last_mut());
        if let Some((last, Some(other))) = head.map(|(last, rest)| (last, rest.get_mut(j))) {
            core::mem::swap(last, other);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_sequence() {
        // state1 = 0 * a + c = c; output = c >> 32.
        let mut r = Lcg::new(0);
        assert_eq!(r.next_u32(), (INCREMENT >> 32) as u32);
        let s2 = INCREMENT.wrapping_mul(MULTIPLIER).wrapping_add(INCREMENT);
        assert_eq!(r.next_u32(), (s2 >> 32) as u32);
    }

    #[test]
    fn below_is_roughly_uniform() {
        let mut r = Lcg::new(7);
        let mut counts = [0u32; 6];
        for _ in 0..60_000 {
            counts[r.below(6) as usize] += 1;
        }
        for c in counts {
            assert!((9_500..10_500).contains(&c), "{counts:?}");
        }
        assert_eq!(r.below(0), 0);
        assert_eq!(r.below(1), 0);
    }

    #[test]
    fn wide_bounds_are_drawn_without_bias() {
        // n = 3·2³²: each third of the range must get a third of the draws, and the draws above
        // 2³² must be there (a 32-bit draw would never reach them).
        let n = 3u64 << 32;
        let mut r = Lcg::new(11);
        let mut thirds = [0u32; 3];
        for _ in 0..30_000 {
            let k = r.below_u64(n);
            assert!(k < n);
            thirds[(k >> 32) as usize] += 1;
        }
        for c in thirds {
            assert!((9_500..10_500).contains(&c), "{thirds:?}");
        }
        // Below 2³² it is `below`, draw for draw.
        let (mut a, mut b) = (Lcg::new(4), Lcg::new(4));
        for n in [1u32, 7, 1000, u32::MAX] {
            assert_eq!(a.below_u64(u64::from(n)), u64::from(b.below(n)));
        }
        assert_eq!(a.below_u64(0), 0);
        assert!(a.below_u64(u64::MAX) < u64::MAX);
    }

    #[test]
    fn floats_in_range() {
        let mut r = Lcg::new(3);
        for _ in 0..10_000 {
            let x = r.uniform(-2.0, 3.0);
            assert!((-2.0..3.0).contains(&x));
        }
    }

    proptest! {
        #[test]
        fn shuffle_is_a_permutation(n in 0usize..300, seed: u64) {
            let mut v: std::vec::Vec<u32> = (0..n as u32).collect();
            shuffle(&mut v, &mut Lcg::new(seed));
            let mut seen = std::vec![false; n];
            for &x in &v { prop_assert!(!seen[x as usize]); seen[x as usize] = true; }
            prop_assert!(seen.iter().all(|&s| s));
        }

        #[test]
        fn same_seed_same_order(n in 0usize..100, seed: u64) {
            let mut a: std::vec::Vec<u32> = (0..n as u32).collect();
            let mut b = a.clone();
            shuffle(&mut a, &mut Lcg::new(seed));
            shuffle(&mut b, &mut Lcg::new(seed));
            prop_assert_eq!(a, b);
        }
    }
}
