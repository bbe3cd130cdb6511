//! A trained network that owns its storage (its file: `model_file`).

use crate::error::{Error, Result};
use tinytrain_core::{shape, Model};

/// Widths, parameters and standardisation statistics on the heap; [`Net::model`] lends them
/// to the core.
#[derive(Debug, Clone, PartialEq)]
pub struct Net {
    /// Layer widths, input first.
    pub widths: Vec<usize>,
    /// Weights and biases ([`shape::param_len`] values).
    pub params: Vec<f32>,
    /// Standardisation statistics ([`shape::scaler_len`] values).
    pub stats: Vec<f32>,
}

impl Net {
    /// Copies a model out of the core's buffers.
    pub fn from_model(model: &Model<'_>) -> Self {
        Self {
            widths: model.widths().to_vec(),
            params: model.params().to_vec(),
            stats: model.stats().to_vec(),
        }
    }

    /// The core's view of this network.
    pub fn model(&self) -> Result<Model<'_>> {
        Model::new(&self.widths, &self.params, &self.stats).map_err(Error::core("model"))
    }

    /// Predicts one sample's outputs, in the targets' units.
    ///
    /// ```
    /// use tinytrain_host_sim::Net;
    /// // y = 2x + 1 without standardisation.
    /// let net = Net { widths: vec![1, 1], params: vec![2.0, 1.0], stats: vec![0.0, 1.0, 0.0, 1.0] };
    /// assert_eq!(net.predict(&[3.0])?, [7.0]);
    /// # Ok::<(), tinytrain_host_sim::Error>(())
    /// ```
    pub fn predict(&self, input: &[f32]) -> Result<Vec<f32>> {
        let mut scratch = vec![0.0; shape::predict_scratch_len(&self.widths)];
        let mut out = vec![0.0; shape::output_width(&self.widths)];
        self.model()?
            .predict(input, &mut scratch, &mut out)
            .map_err(Error::core("predict"))?;
        Ok(out)
    }
}
