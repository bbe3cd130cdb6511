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
        // Each arm turns: its points near the centre and at the rim point different ways.
        let angle = |i: usize| INPUTS[2 * i + 1].atan2(INPUTS[2 * i]);
        assert!((angle(0) - angle(3 * 79)).abs() > 1.0);
    }
}
