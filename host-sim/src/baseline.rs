//! The baseline every report compares with: the exact least-squares linear model of the training
//! samples ([`tinytrain_core::lstsq`]), not a linear network trained by gradient descent — so
//! "the network beats the linear model" means it beats the best linear model there is.

use crate::error::{Error, Result};
use crate::net::Net;
use tinytrain_core::{lstsq, shape, Dataset};

/// The fitted linear model and what the fit reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    /// The model `[n_in, n_out]` with its standardisation.
    pub net: Net,
    /// Training MSE from the `f64` coefficients, in original and standardised units.
    pub fit: lstsq::Fit,
}

/// Fits the least-squares linear model of the samples of `data` at `train`.
///
/// ```
/// use tinytrain_core::Dataset;
/// let xs = [0.0, 1.0, 2.0, 3.0];
/// let ys = [1.0, 3.0, 5.0, 7.0];
/// let b = tinytrain_host_sim::baseline::fit(&Dataset::new(&xs, &ys, 1, 1)?, &[0, 1, 2, 3])?;
/// assert!(b.fit.mse < 1e-12);
/// assert!((b.net.predict(&[10.0])?[0] - 21.0).abs() < 1e-4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn fit(data: &Dataset<'_>, train: &[u32]) -> Result<Baseline> {
    let widths = vec![data.n_in(), data.n_out()];
    let mut params = vec![0.0; shape::param_len(&widths)];
    let mut stats = vec![0.0; shape::scaler_len(&widths)];
    let mut scratch = vec![0.0; lstsq::scratch_len(data.n_in())];
    let fit = lstsq::fit(data, train, &mut params, &mut stats, &mut scratch)
        .map_err(Error::core("the least-squares baseline"))?;
    Ok(Baseline {
        net: Net {
            widths,
            params,
            stats,
        },
        fit,
    })
}
