//! `tinytrain.train`: the run of `tinytrain train` on numpy arrays — the same library
//! functions (`train::train`, `report::Report`), so the same split, weights and report.

use crate::arrays;
use crate::errors;
use crate::model::Model;
use clap::ValueEnum;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use tinytrain_core::{shape, Config, Dataset, Field, Init};
use tinytrain_host_sim::model_file::ModelFile;
use tinytrain_host_sim::parts::Parts;
use tinytrain_host_sim::report::{Columns, Report};
use tinytrain_host_sim::train::{layers_text, Rule, Settings};

/// What the report's `data` field says of arrays.
fn describe(n: usize, d: usize, k: usize, y_ndim: usize) -> String {
    let y = if y_ndim == 1 {
        format!("({n},)")
    } else {
        format!("({n}, {k})")
    };
    format!("numpy arrays X ({n}, {d}), y {y}")
}

/// Checks that `layers` fit `d` inputs and `k` targets and a model file.
pub(crate) fn check_layers(layers: &[usize], d: usize, k: usize) -> PyResult<()> {
    let bad = |problem: String| {
        PyValueError::new_err(format!("layers {}: {problem}", layers_text(layers)))
    };
    shape::check(layers).map_err(|e| bad(e.to_string()))?;
    if layers.len() > tinytrain_core::format::MAX_LAYERS {
        return Err(bad(format!(
            "at most {} widths fit a model file",
            tinytrain_core::format::MAX_LAYERS
        )));
    }
    if layers.iter().any(|&w| w > usize::from(u16::MAX)) {
        return Err(bad(format!(
            "widths above {} do not fit a model file",
            u16::MAX
        )));
    }
    if shape::input_width(layers) != d {
        return Err(bad(format!(
            "the first width must be the number of columns of X, {d}"
        )));
    }
    if shape::output_width(layers) != k {
        return Err(bad(format!(
            "the last width must be the number of targets per sample, {k}"
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

/// Trains a network on `X` and `y` as `tinytrain train` does on a CSV file, and returns the
/// best-validation model and the report.
///
/// - `X`: `numpy.ndarray`, `float32`, shape `(n, d)`, finite.
/// - `y`: `numpy.ndarray`, `float32`, shape `(n,)` or `(n, k)`, finite.
/// - `layers`: widths, input first (`d` first, `k` last); default `[d, 16, 16, k]`.
/// - `optimizer`: `"sgd"`, `"momentum"` (β = 0.9) or `"adam"` (β₁ = 0.9, β₂ = 0.999).
/// - `learning_rate`, `batch_size`, `max_epochs`, `patience` (epochs without validation
///   improvement before stopping early), `seed` (split, initial weights, shuffle),
///   `val_fraction` and `test_fraction` (of the samples, drawn by the LCG from `seed`),
///   `standardize` (inputs and targets, with the training split's statistics), `init`
///   (`"he"`, `"xavier"`, `"lecun"`, `"torch"`; default the command line's), `divergence_factor`.
/// - `feature_names` (`d` strings) and `target_names` (`k` strings): the columns' names, kept in
///   the model file and the report (default `x0`, `x1`, … and `y` or `y0`, `y1`, … in the
///   report, none in the model).
///
/// The defaults are those of `tinytrain train`. With the same data, split and seed, the
/// weights have the same bits as the command line's, and as the device's. The GIL is released
/// while training: other Python threads run meanwhile. `X` and `y` are copied once, so
/// changing them from another thread during training changes nothing.
///
/// Returns `(model, report)`; `report` is the dictionary of the command line's JSON report
/// (`samples`, `train_mse`, `val_mse`, `test_mse`, `test_r2`, the baseline's, `epochs_run`,
/// `best_epoch`, `stop_reason`, `diagnostics`, `history`, `config`), every MSE in the targets'
/// units.
///
/// Raises `TypeError` for arrays of another type or dtype, `ValueError` for shapes or settings
/// out of range (naming the setting), `DataError` for NaN or an infinity (naming the sample
/// and column).
#[pyfunction]
#[pyo3(signature = (
    X, y, layers = None, *, optimizer = "sgd", learning_rate = 0.01, batch_size = 16,
    max_epochs = 500, patience = 20, seed = 1, val_fraction = 0.2, test_fraction = 0.2,
    standardize = true, init = None, divergence_factor = None, feature_names = None,
    target_names = None,
))]
#[allow(non_snake_case, clippy::too_many_arguments)]
pub fn train<'py>(
    py: Python<'py>,
    X: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    layers: Option<Vec<usize>>,
    optimizer: &str,
    learning_rate: f32,
    batch_size: usize,
    max_epochs: u32,
    patience: u32,
    seed: u64,
    val_fraction: f32,
    test_fraction: f32,
    standardize: bool,
    init: Option<&str>,
    divergence_factor: Option<f32>,
    feature_names: Option<Vec<String>>,
    target_names: Option<Vec<String>>,
) -> PyResult<(Model, Bound<'py, PyAny>)> {
    let x = arrays::rows(X, "X", false)?;
    let t = arrays::rows(y, "y", true)?;
    let y_ndim = y.getattr("ndim")?.extract::<usize>()?;
    if t.rows != x.rows {
        return Err(PyValueError::new_err(format!(
            "X has {} samples but y has {}",
            x.rows, t.rows
        )));
    }
    let (n, d, k) = (x.rows, x.cols, t.cols);
    let layers = layers.unwrap_or_else(|| vec![d, 16, 16, k]);
    check_layers(&layers, d, k)?;
    let rule = Rule::from_str(optimizer, false).map_err(|_| {
        PyValueError::new_err(format!(
            "optimizer {optimizer:?}: expected \"sgd\", \"momentum\" or \"adam\""
        ))
    })?;
    let inputs = x.values().into_owned();
    let targets = t.values().into_owned();
    arrays::check_finite(py, "train", &inputs, d, Field::Input)?;
    arrays::check_finite(py, "train", &targets, k, Field::Target)?;
    let init = match init {
        None => Config::DEFAULT.init,
        Some(name) => self::init(name)?,
    };
    let settings = Settings {
        optimizer: rule,
        learning_rate,
        batch_size,
        max_epochs,
        patience,
        seed,
        val_fraction,
        test_fraction,
        standardize,
        init,
        divergence_factor: divergence_factor.unwrap_or(Config::DEFAULT.divergence_factor),
        ..Settings::new(layers)
    };
    let names = |given: &Option<Vec<String>>, what: &str, count: usize| -> PyResult<()> {
        match given {
            Some(list) if list.len() != count => Err(PyValueError::new_err(format!(
                "{what} has {} names for {count} columns",
                list.len()
            ))),
            _ => Ok(()),
        }
    };
    names(&feature_names, "feature_names", d)?;
    names(&target_names, "target_names", k)?;
    let columns = Columns {
        features: feature_names
            .clone()
            .unwrap_or_else(|| (0..d).map(|i| format!("x{i}")).collect()),
        target: match (&target_names, k) {
            (Some(list), _) => list.join(","),
            (None, 1) => "y".to_owned(),
            (None, _) => (0..k)
                .map(|i| format!("y{i}"))
                .collect::<Vec<_>>()
                .join(","),
        },
    };
    let name = describe(n, d, k, y_ndim);
    let outcome = py.detach(|| {
        let core = |context: &str| {
            let context = context.to_owned();
            move |source| tinytrain_host_sim::Error::Core { context, source }
        };
        let data = Dataset::new(&inputs, &targets, d, k).map_err(core("train"))?;
        let parts = Parts::draw(
            n,
            settings.val_fraction,
            settings.test_fraction,
            settings.seed,
        )?;
        tinytrain_host_sim::train::train(&data, &settings, &parts, |_, _| {}).map(|outcome| {
            let report = Report::new(&name, columns, &outcome);
            (outcome.run.net, report.to_json())
        })
    });
    let (net, json) = outcome.map_err(|e| errors::to_py(py, e))?;
    let report = py.import("json")?.call_method1("loads", (json,))?;
    let file = ModelFile {
        input_names: feature_names,
        output_names: target_names,
        ..ModelFile::new(net)
    };
    Ok((Model::new(file), report))
}
