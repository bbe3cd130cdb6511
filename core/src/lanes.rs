//! Sums kept in eight interleaved lanes — eight independent chains of additions instead of one
//! long one, several times faster on a superscalar CPU — and added up in one fixed order, so
//! that every platform gets the same bits ([`crate::loss::sum_of_squares`], the optimizers'
//! gradient norm).

/// The eight partial sums, added in their fixed order: `((a + b) + (c + d)) + ((e + f) + (g + h))`.
#[inline(always)]
pub(crate) fn add_lanes([a, b, c, d, e, f, g, h]: [f32; 8]) -> f32 {
    ((a + b) + (c + d)) + ((e + f) + (g + h))
}
