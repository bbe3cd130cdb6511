//! `tinytrain.train`: the run of `tinytrain train` on numpy arrays — the same library
//! functions (`train::train`, `report::Report`), so the same split, weights and report.

use crate::arrays;
use crate::errors;
use crate::model::Model;
use crate::settings;
use crate::signals;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::path::Path;
use tinytrain_core::optim::{BiasCorrection, OptimizerState};
use tinytrain_core::{scaler, Config, Dataset, Field};
use tinytrain_host_sim::model_file::{ModelFile, SavedOptimizer};
use tinytrain_host_sim::parts::Parts;
use tinytrain_host_sim::report::{Columns, Report};
use tinytrain_host_sim::train::{fit_from, outcome, widths_text, Reference, TrainConfig};

/// What the report's `data` field says of arrays.
fn describe(n: usize, d: usize, k: usize, y_ndim: usize) -> String {
    let y = if y_ndim == 1 {
        format!("({n},)")
    } else {
        format!("({n}, {k})")
    };
    format!("numpy arrays X ({n}, {d}), y {y}")
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
/// - `validation_data`: `(X_val, y_val)`, the samples that early stopping watches; every
///   sample of `X` then trains and none is held out for a test (`val_fraction` and
///   `test_fraction` are not allowed with it).
/// - `initial_model`: a `Model` to train on from (a federated round's global model, a model
///   to fine-tune): its weights and its standardisation — the statistics stay the model's,
///   none are fitted, and `standardize` is not used — and its widths (`layers` must be them, or left out). If it holds the
///   optimizer's state of `optimizer` (a model this function returned, `Model.with_optimizer_state`),
///   training resumes where that state stopped; otherwise the optimizer starts afresh and,
///   with `warm_up` (the default), its learning rate warms up linearly over
///   `Optimizer::warmup_steps` updates (2000 for Adam, none for SGD and momentum) so that the
///   first steps do not throw trained weights away; `warm_up=False` starts at the full rate.
///
/// The returned model holds the optimizer's state after the last update (see
/// `Model.optimizer_state`), to train on from later.
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
/// and column), `KeyboardInterrupt` on Ctrl-C (training stops within milliseconds; nothing is
/// returned).
#[pyfunction]
#[pyo3(signature = (
    X, y, layers = None, *, optimizer = "sgd", learning_rate = 0.01, batch_size = 16,
    max_epochs = 500, patience = 20, seed = 1, val_fraction = None, test_fraction = None,
    standardize = true, init = None, divergence_factor = None, feature_names = None,
    target_names = None, validation_data = None, initial_model = None, warm_up = true,
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
    val_fraction: Option<f32>,
    test_fraction: Option<f32>,
    standardize: bool,
    init: Option<&str>,
    divergence_factor: Option<f32>,
    feature_names: Option<Vec<String>>,
    target_names: Option<Vec<String>>,
    validation_data: Option<(Bound<'py, PyAny>, Bound<'py, PyAny>)>,
    initial_model: Option<PyRef<'py, Model>>,
    warm_up: bool,
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
    let (d, k) = (x.cols, t.cols);
    let start = initial_model.as_deref().map(|m| m.file.clone());
    let layers = match (layers, &start) {
        (Some(given), Some(file)) if given != file.net.widths => {
            return Err(PyValueError::new_err(format!(
                "layers {} differ from the widths of initial_model, {}",
                widths_text(&given),
                widths_text(&file.net.widths)
            )))
        }
        (Some(given), _) => given,
        (None, Some(file)) => file.net.widths.clone(),
        (None, None) => vec![d, 16, 16, k],
    };
    settings::check_layers(&layers, d, k, "targets per sample").map_err(|e| match &start {
        Some(_) => PyValueError::new_err(format!("initial_model: {}", e.value(py))),
        None => e,
    })?;
    let rule = settings::optimizer(optimizer)?;
    let mut inputs = x.values().into_owned();
    let mut targets = t.values().into_owned();
    arrays::check_finite(py, "train", &inputs, d, Field::Input)?;
    arrays::check_finite(py, "train", &targets, k, Field::Target)?;
    let n_train = x.rows;
    let held_out = match &validation_data {
        Some((x_val, y_val)) => {
            if val_fraction.is_some() || test_fraction.is_some() {
                return Err(PyValueError::new_err(
                    "validation_data replaces val_fraction and test_fraction: give one or the other",
                ));
            }
            let (xv, tv) = (
                arrays::rows(x_val, "X_val", false)?,
                arrays::rows(y_val, "y_val", true)?,
            );
            if (xv.cols, tv.cols) != (d, k) {
                return Err(PyValueError::new_err(format!(
                    "validation_data has {} columns and {} targets, but X has {d} and y {k}",
                    xv.cols, tv.cols
                )));
            }
            if tv.rows != xv.rows || xv.rows == 0 {
                return Err(PyValueError::new_err(format!(
                    "validation_data: X_val has {} samples and y_val {}; they must agree and not be empty",
                    xv.rows, tv.rows
                )));
            }
            arrays::check_finite(py, "train", &xv.values(), d, Field::Input)
                .and_then(|()| arrays::check_finite(py, "train", &tv.values(), k, Field::Target))
                .map_err(|e| PyValueError::new_err(format!("validation_data: {}", e.value(py))))?;
            inputs.extend_from_slice(&xv.values());
            targets.extend_from_slice(&tv.values());
            Some(xv.rows)
        }
        None => None,
    };
    let n = inputs.len() / d;
    let init = settings::init_named(init)?;
    let settings = TrainConfig {
        optimizer: rule,
        learning_rate,
        batch_size,
        max_epochs,
        patience,
        seed,
        // With validation data, the fractions the given samples make (the report's config).
        val_fraction: match held_out {
            Some(m) => m as f32 / n as f32,
            None => val_fraction.unwrap_or(0.2),
        },
        test_fraction: match held_out {
            Some(_) => 0.0,
            None => test_fraction.unwrap_or(0.2),
        },
        // From a model, the trainer judges losses in the units of the model's statistics.
        standardize: standardize || start.is_some(),
        init,
        divergence_factor: divergence_factor.unwrap_or(Config::DEFAULT.divergence_factor),
        ..TrainConfig::new(layers)
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
    let outcome = signals::detach_interruptible(py, || {
        let core = |context: &str| {
            let context = context.to_owned();
            move |source| tinytrain_host_sim::Error::Core { context, source }
        };
        let data = Dataset::new(&inputs, &targets, d, k).map_err(core("train"))?;
        let parts = match held_out {
            Some(_) => Parts {
                train: (0..n_train as u32).collect(),
                val: (n_train as u32..n as u32).collect(),
                test: Vec::new(),
            },
            None => Parts::draw(
                n,
                settings.val_fraction,
                settings.test_fraction,
                settings.seed,
            )?,
        };
        let reference = Reference::new(&data, &parts)?;
        let start = start.map(|file| starting(file, &settings, warm_up));
        let floor = reference
            .floor(&settings)
            .map(|f| in_units_of(f, &reference, start.as_ref(), d, k));
        let from = start
            .as_ref()
            .map(|file| (Path::new("initial_model"), file));
        let run = fit_from(&data, &settings, &parts, floor, from, |_, _| {})?;
        outcome(&data, &settings, run, reference).map(|outcome| {
            let report = Report::new(&name, columns, &outcome);
            let run = outcome.run;
            (run.net, run.optimizer, run.training, report.to_json())
        })
    })?;
    let (net, optimizer, training, json) = outcome.map_err(|e| errors::to_py(py, e))?;
    let report = py.import("json")?.call_method1("loads", (json,))?;
    let file = ModelFile {
        input_names: feature_names,
        output_names: target_names,
        optimizer: Some(optimizer),
        training: Some(training),
        ..ModelFile::new(net)
    };
    Ok((Model::new(file), report))
}

/// The model to start from: `file`, with a fresh optimizer's state for the settings' rule
/// when it holds none for it and `warm_up` is off (the trainer resumes from a zero state as
/// from a new optimizer, without the warm-up of a start from bare weights).
fn starting(mut file: ModelFile, settings: &TrainConfig, warm_up: bool) -> ModelFile {
    let optimizer = settings.optimizer.optimizer();
    let fits = file
        .optimizer
        .as_ref()
        .is_some_and(|s| s.optimizer == optimizer && s.trainable_from == 0);
    if !warm_up && !fits {
        let len = OptimizerState::values_len(&file.net.widths, optimizer, 0);
        file.optimizer = Some(SavedOptimizer {
            optimizer,
            bias_correction: BiasCorrection::new(),
            trainable_from: 0,
            values: vec![0.0; len],
        });
    }
    file
}

/// The floor `floor` of the reference, in standardised units of the targets' statistics
/// fitted on the training split, converted to those of the model training starts from (whose
/// statistics the trainer keeps): the same loss in the targets' units.
fn in_units_of(
    floor: f32,
    reference: &Reference,
    start: Option<&ModelFile>,
    d: usize,
    k: usize,
) -> f32 {
    let variance = |stats: &[f32]| {
        let (_, devs) = scaler::target_stats(stats, d, k);
        devs.iter()
            .map(|s| f64::from(*s) * f64::from(*s))
            .sum::<f64>()
            / k.max(1) as f64
    };
    match start {
        Some(file) => {
            let fitted = variance(&reference.baseline.net.stats);
            let kept = variance(&file.net.stats);
            (f64::from(floor) * fitted / kept) as f32
        }
        None => floor,
    }
}
