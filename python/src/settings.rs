//! The settings the Python functions share, read from their Python values and checked: the
//! widths (`layers`) against the data and the model format, the initialisation and the update
//! rule by name. `train`, `train_classifier`, `Model.initial` and `Stream` all read them here.

use clap::ValueEnum;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use tinytrain_core::format::MAX_LAYERS;
use tinytrain_core::{shape, Config, Init};
use tinytrain_host_sim::train::{widths_text, OptimizerKind};

/// Checks that `layers` are a network's widths, input first, that a model file can hold: at
/// most [`MAX_LAYERS`] widths, each at most `u16::MAX`.
pub(crate) fn check_widths(layers: &[usize]) -> PyResult<()> {
    let bad = |problem: String| {
        PyValueError::new_err(format!("layers {}: {problem}", widths_text(layers)))
    };
    shape::check(layers).map_err(|e| bad(e.to_string()))?;
    if layers.len() > MAX_LAYERS {
        return Err(bad(format!("at most {MAX_LAYERS} widths fit a model file")));
    }
    if layers.iter().any(|&w| w > usize::from(u16::MAX)) {
        return Err(bad(format!(
            "widths above {} do not fit a model file",
            u16::MAX
        )));
    }
    Ok(())
}

/// Checks [`check_widths`], and that `layers` fit `d` inputs and `k` outputs (`outputs` names
/// what they are: `"targets per sample"`, `"classes"`).
pub(crate) fn check_layers(layers: &[usize], d: usize, k: usize, outputs: &str) -> PyResult<()> {
    check_widths(layers)?;
    let bad = |problem: String| {
        PyValueError::new_err(format!("layers {}: {problem}", widths_text(layers)))
    };
    if shape::input_width(layers) != d {
        return Err(bad(format!(
            "the first width must be the number of columns of X, {d}"
        )));
    }
    if shape::output_width(layers) != k {
        return Err(bad(format!(
            "the last width must be the number of {outputs}, {k}"
        )));
    }
    Ok(())
}

/// The initialisation scheme named `name` (`"he"`, `"xavier"`, `"lecun"`, `"torch"`), or a
/// `ValueError` listing them.
pub(crate) fn init(name: &str) -> PyResult<Init> {
    Init::ALL
        .into_iter()
        .find(|i| i.name() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = Init::ALL.iter().map(|i| i.name()).collect();
            PyValueError::new_err(format!("init {name:?}: expected one of {names:?}"))
        })
}

/// The initialisation named `name`, or the command line's default (`None`).
pub(crate) fn init_named(name: Option<&str>) -> PyResult<Init> {
    name.map_or(Ok(Config::DEFAULT.init), init)
}

/// The update rule named `name` (`"sgd"`, `"momentum"`, `"adam"`), or a `ValueError` listing
/// them.
pub(crate) fn optimizer(name: &str) -> PyResult<OptimizerKind> {
    OptimizerKind::from_str(name, false).map_err(|_| {
        PyValueError::new_err(format!(
            "optimizer {name:?}: expected \"sgd\", \"momentum\" or \"adam\""
        ))
    })
}
