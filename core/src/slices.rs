//! Slice helpers with no panicking path, shared by the kernels and the drivers.

use core::num::NonZeroUsize;

/// Copies the common prefix of two slices (no panic on a length mismatch).
pub(crate) fn copy_prefix(dst: &mut [f32], src: &[f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// `n`, or 1 for 0, in a form the compiler knows is never 0: a `chunks_exact` of it has no
/// panicking path.
#[inline(always)]
pub(crate) fn at_least_one(n: usize) -> usize {
    NonZeroUsize::new(n).unwrap_or(NonZeroUsize::MIN).get()
}
