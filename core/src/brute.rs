//! Brute force, for contrast: try every point of a grid instead of following the gradient.
//!
//! For `y = w·x + b` a 100 × 100 grid costs 10 000 full passes over the data and is only as
//! precise as its spacing; gradient descent gets closer in a few hundred cheap steps, and brute
//! force is hopeless for a network with hundreds of weights (100³²¹ grid points for 1-16-16-1).

use crate::slices::expect_width;
use crate::{Dataset, Error};

/// A grid over the weight and bias of a one-input linear model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    /// Smallest and largest weight tried.
    pub weight: (f32, f32),
    /// Smallest and largest bias tried.
    pub bias: (f32, f32),
    /// Points per axis (at least 2).
    pub steps: u32,
}

impl Grid {
    /// The models a search evaluates: `steps²`, which a `u64` always holds.
    ///
    /// ```
    /// use tinytrain_core::brute::Grid;
    /// let grid = Grid { weight: (-1.0, 1.0), bias: (-1.0, 1.0), steps: 65_537 };
    /// assert_eq!(grid.points(), 4_295_098_369); // more than u32::MAX
    /// ```
    pub const fn points(&self) -> u64 {
        (self.steps as u64) * (self.steps as u64)
    }
}

/// The best grid point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BruteForce {
    /// Best weight.
    pub weight: f32,
    /// Best bias.
    pub bias: f32,
    /// Its MSE over the samples.
    pub mse: f32,
    /// Models evaluated: [`Grid::points`].
    pub evaluations: u64,
}

/// Evaluates every `(w, b)` of the grid on the samples at `indices` and keeps the lowest MSE.
///
/// ```
/// use tinytrain_core::{brute::{search_line, Grid}, Dataset};
/// let xs = [0.0, 1.0, 2.0, 3.0];
/// let ys = [1.0, 3.0, 5.0, 7.0]; // y = 2x + 1
/// let data = Dataset::new(&xs, &ys, 1, 1)?;
/// let grid = Grid { weight: (-4.0, 4.0), bias: (-4.0, 4.0), steps: 9 };
/// let best = search_line(&data, &[0, 1, 2, 3], &grid)?;
/// assert_eq!((best.weight, best.bias, best.mse, best.evaluations), (2.0, 1.0, 0.0, 81));
/// # Ok::<(), tinytrain_core::Error>(())
/// ```
pub fn search_line(data: &Dataset<'_>, indices: &[u32], grid: &Grid) -> Result<BruteForce, Error> {
    expect_width(data.n_in(), 1)?;
    expect_width(data.n_out(), 1)?;
    if grid.steps < 2 {
        return Err(Error::InvalidHyperparameter { name: "steps" });
    }
    let finite = [grid.weight.0, grid.weight.1, grid.bias.0, grid.bias.1]
        .iter()
        .all(|v| v.is_finite());
    if !finite {
        return Err(Error::InvalidHyperparameter { name: "grid" });
    }
    let at = |(lo, hi): (f32, f32), k: u32| lo + (hi - lo) * (k as f32 / (grid.steps - 1) as f32);
    let mut best = BruteForce {
        weight: f32::NAN,
        bias: f32::NAN,
        mse: f32::INFINITY,
        evaluations: grid.points(),
    };
    for i in 0..grid.steps {
        let weight = at(grid.weight, i);
        for j in 0..grid.steps {
            let bias = at(grid.bias, j);
            let (sum, n) = data
                .select(indices)
                .fold((0.0f32, 0usize), |(s, n), (x, t)| {
                    let e = weight * x.first().copied().unwrap_or(0.0) + bias
                        - t.first().copied().unwrap_or(0.0);
                    (s + e * e, n.saturating_add(1))
                });
            let mse = sum / n.max(1) as f32;
            if mse < best.mse {
                (best.weight, best.bias, best.mse) = (weight, bias, mse);
            }
        }
    }
    Ok(best)
}
