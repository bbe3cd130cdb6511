//! How well a network fits a set of samples, in the targets' own units, computed in `f64` so
//! that no figure overflows: targets of 1e19 have squared errors far above `f32::MAX`.

use crate::error::{Error, Result};
use crate::net::Net;
use serde::Serialize;
use tinytrain_core::{shape, Dataset, SplitPart};

/// Rows predicted at once (the core's vector lanes; the same bits as one at a time).
const CHUNK: usize = 16;

/// MSE and R² of a network on one part of the split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Fit {
    /// Mean squared error over the part's samples and outputs, in the targets' units.
    pub mse: f64,
    /// Coefficient of determination, `1 − MSE / variance of the part's targets` (about their
    /// own mean); `None` when the targets are constant.
    pub r2: Option<f64>,
}

/// A network's fit on the three parts of a split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    /// On the training samples.
    pub train: Fit,
    /// On the validation samples.
    pub val: Fit,
    /// On the test samples (`None` without a test set): evaluated once, reported, never used
    /// to choose.
    pub test: Option<Fit>,
}

/// The network's [`Fit`] on the samples of `data` at `indices` (`None` for no index).
pub fn fit(net: &Net, data: &Dataset<'_>, indices: &[u32]) -> Result<Option<Fit>> {
    if indices.is_empty() {
        return Ok(None);
    }
    let model = net.model()?;
    let n_out = data.n_out();
    let mut scratch = vec![0.0; CHUNK * shape::predict_scratch_len(&net.widths)];
    let (mut sse, mut values) = (0.0f64, 0usize);
    for chunk in indices.chunks(CHUNK) {
        let inputs: Vec<f32> = data.select(chunk).flat_map(|(x, _)| x.to_vec()).collect();
        let mut outputs = vec![0.0; chunk.len() * n_out];
        model
            .predict_many::<CHUNK>(&inputs, &mut scratch, &mut outputs)
            .map_err(Error::core("evaluate"))?;
        let targets = data.select(chunk).flat_map(|(_, t)| t.iter());
        for (y, t) in outputs.iter().zip(targets) {
            let e = f64::from(*y) - f64::from(*t);
            sse += e * e;
            values += 1;
        }
    }
    let mse = sse / values.max(1) as f64;
    let r2 = target_variance(data, indices).map(|var| 1.0 - mse / var);
    Ok(Some(Fit { mse, r2 }))
}

/// Variance of the targets at `indices` about their mean, over every output (`None` if there
/// is none, or if they are constant).
pub fn target_variance(data: &Dataset<'_>, indices: &[u32]) -> Option<f64> {
    let values = || {
        data.select(indices)
            .flat_map(|(_, t)| t.iter().map(|&v| f64::from(v)))
    };
    let n = values().count() as f64;
    let mean = values().sum::<f64>() / n;
    let var = values().map(|t| (t - mean) * (t - mean)).sum::<f64>() / n;
    (var > 0.0 && var.is_finite()).then_some(var)
}

/// Scores a network on the three parts.
pub fn scores(net: &Net, data: &Dataset<'_>, parts: &crate::parts::Parts) -> Result<Scores> {
    let empty = |part| Error::Core {
        context: "evaluate".into(),
        source: tinytrain_core::Error::EmptySplit { part },
    };
    Ok(Scores {
        train: fit(net, data, &parts.train)?.ok_or_else(|| empty(SplitPart::Train))?,
        val: fit(net, data, &parts.val)?.ok_or_else(|| empty(SplitPart::Validation))?,
        test: fit(net, data, &parts.test)?,
    })
}
