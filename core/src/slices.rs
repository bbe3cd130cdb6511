//! Slice helpers with no panicking path, shared by the kernels and the drivers, and the checks
//! of a buffer's length and a sample's width.

use core::num::NonZeroUsize;

use crate::Error;

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

/// A buffer of `found` values where `needed` are required: [`Error::BufferSize`] unless equal.
pub(crate) fn expect_len(found: usize, needed: usize) -> Result<(), Error> {
    if found == needed {
        Ok(())
    } else {
        Err(Error::BufferSize { needed, found })
    }
}

/// A sample or model `found` values wide where `expected` are: [`Error::WidthMismatch`] unless
/// equal.
pub(crate) fn expect_width(found: usize, expected: usize) -> Result<(), Error> {
    if found == expected {
        Ok(())
    } else {
        Err(Error::WidthMismatch { expected, found })
    }
}
