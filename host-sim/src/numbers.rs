//! Numbers as people read them: losses with six decimals (or in scientific notation when that
//! would hide them), standardised losses in the targets' units.

/// A loss of the trainer (standardised) in the targets' units for people: `loss × scale` as
/// [`number`] writes it, or "not finite" (never NaN or inf).
///
/// ```
/// use tinytrain_host_sim::numbers::scaled_loss;
/// assert_eq!(scaled_loss(0.5, 4.0), "2.000000");
/// assert_eq!(scaled_loss(f32::NAN, 1.0), "not finite");
/// ```
pub fn scaled_loss(loss: f32, scale: f64) -> String {
    let v = f64::from(loss) * scale;
    if v.is_finite() {
        number(v)
    } else {
        "not finite".to_owned()
    }
}

/// A loss for people: six decimals, or scientific notation when that would hide it.
///
/// ```
/// use tinytrain_host_sim::numbers::number;
/// assert_eq!(number(0.0123456), "0.012346");
/// assert_eq!(number(1.5e35), "1.500e35");
/// assert_eq!(number(8.1e40), "8.100e40");
/// assert_eq!(number(2e-7), "2.000e-7");
/// assert_eq!(number(f64::NAN), "NaN");
/// ```
pub fn number(v: f64) -> String {
    let magnitude = v.abs();
    if magnitude != 0.0 && magnitude.is_finite() && !(1e-4..1e5).contains(&magnitude) {
        format!("{v:.3e}")
    } else {
        format!("{v:.6}")
    }
}
