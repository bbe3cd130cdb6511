//! The classification demo's data set: three noisy spiral arms generated at build time (see
//! `build.rs`), kept in flash.

use tinytrain_core::{Dataset, Error};

include!(concat!(env!("OUT_DIR"), "/spirals.rs"));

/// The spirals as a two-input data set of [`CLASSES`] classes.
pub fn dataset() -> Result<Dataset<'static, u16>, Error> {
    Dataset::classes(&INPUTS, &LABELS, 2, CLASSES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_arms_of_eighty_points_inside_the_unit_disc() {
        let data = dataset().unwrap();
        assert_eq!((data.len(), SAMPLES), (240, 240));
        for c in 0..CLASSES as u16 {
            assert_eq!(LABELS.iter().filter(|&&l| l == c).count(), PER_CLASS);
        }
        for p in INPUTS.chunks(2) {
            let r = (p[0] * p[0] + p[1] * p[1]).sqrt();
            assert!(r < 1.0 + 1e-6, "{p:?}");
        }
        // Each arm turns once from the centre out: halfway, at r = 0.5, it points about half a
        // turn away from where it starts (the noise is 0.3 rad).
        let angle = |i: usize| f64::from(INPUTS[2 * i + 1]).atan2(f64::from(INPUTS[2 * i]));
        let tau = std::f64::consts::TAU;
        let turned = (angle(3 * 40) - angle(0)).rem_euclid(tau);
        assert!((turned - tau / 2.0).abs() < 1.2, "{turned}");
    }
}
