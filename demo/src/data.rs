//! The built-in data set: a noisy sine generated at build time (see `build.rs`), kept in flash.

use tinytrain_core::{Dataset, Error};

include!(concat!(env!("OUT_DIR"), "/curve.rs"));

/// The curve as a one-input, one-target [`Dataset`].
pub fn dataset() -> Result<Dataset<'static>, Error> {
    Dataset::new(&INPUTS, &TARGETS, 1, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_curve_is_a_noisy_sine() {
        let data = dataset().unwrap();
        assert_eq!(data.len(), SAMPLES);
        assert_eq!((INPUTS[0], INPUTS[SAMPLES - 1]), (-1.0, 1.0));
        let residuals: f64 = INPUTS
            .iter()
            .zip(&TARGETS)
            .map(|(x, y)| f64::from(*y) - (2.0 * std::f64::consts::PI * f64::from(*x)).sin())
            .map(|r| r * r)
            .sum();
        let sigma = (residuals / SAMPLES as f64).sqrt();
        assert!((0.07..0.13).contains(&sigma), "noise σ {sigma}");
    }
}
