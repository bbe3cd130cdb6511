//! `tinytrain._tinytrain._train_classifier`: the run of `tinytrain train --task classify` on numpy arrays
//! — the same library functions (`classify::parts`, `classify::fit`, `classify::report`), so
//! the same stratified split, weights and report. The package's `tinytrain.train_classifier`
//! turns labels of any sortable dtype into the class indices and names it takes.

use crate::arrays;
use crate::errors;
use crate::model::Model;
use crate::settings;
use crate::signals;
use numpy::{PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use tinytrain_core::format::Task;
use tinytrain_core::{Config, Field};
use tinytrain_host_sim::classify::{self, report::Report, Labelled, Weighting};
use tinytrain_host_sim::model_file::ModelFile;
use tinytrain_host_sim::train::TrainConfig;

/// Trains a classifier on `X` and the class indices `classes_of` as `tinytrain train --task
/// classify` does on a CSV file, and returns the best-validation model and the report.
///
/// - `X`: `numpy.ndarray`, `float32`, shape `(n, d)`, finite.
/// - `classes_of`: `numpy.ndarray`, `int64`, shape `(n,)`: each sample's class, an index into
///   `classes` (`numpy.unique(y, return_inverse=True)` makes them).
/// - `classes`: the `K ≥ 2` classes' names in the network's output order (the model's
///   `output_names`, the report's labels).
/// - The settings of `tinytrain.train` under the same names and defaults (`layers` default
///   `[d, 16, 16, K]`), and `class_weight`: `None` (every sample weighs 1), `"balanced"`
///   (each class weighs `n / (K n_c)` from the training split, `--class-weights balanced`) or
///   a sequence of `K` weights (finite, at least 0), which the report's `config` then lists.
/// - `feature_names` (`d` strings), `target_name` (the label column's name in the report).
///
/// The split is stratified: each class in the same proportions in training, validation and
/// test, drawn by the LCG from `seed`; a class needs a sample in each part.
///
/// Returns `(model, report)`: the model's task is classification, its outputs the logits of
/// `classes`; the report is the dictionary of the command line's JSON report (`task`,
/// `classes`, `network`, `linear`, `majority`, `history`, …; losses in nats).
///
/// Raises `TypeError` for arrays of another type or dtype, `ValueError` for shapes, settings
/// or classes out of range (naming a class too small to split, with its count), `DataError`
/// for NaN or an infinity in `X`, `KeyboardInterrupt` on Ctrl-C (training stops within
/// milliseconds).
#[pyfunction]
#[pyo3(name = "_train_classifier", signature = (
    X, classes_of, classes, layers = None, *, optimizer = "sgd", learning_rate = 0.01,
    batch_size = 16, max_epochs = 500, patience = 20, seed = 1, val_fraction = 0.2,
    test_fraction = 0.2, standardize = true, init = None, divergence_factor = None,
    class_weight = None, feature_names = None, target_name = None,
))]
#[allow(non_snake_case, clippy::too_many_arguments)]
pub fn train_classifier<'py>(
    py: Python<'py>,
    X: &Bound<'py, PyAny>,
    classes_of: PyReadonlyArray1<'py, i64>,
    classes: Vec<String>,
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
    class_weight: Option<&Bound<'py, PyAny>>,
    feature_names: Option<Vec<String>>,
    target_name: Option<String>,
) -> PyResult<(Model, Bound<'py, PyAny>)> {
    let x = arrays::rows(X, "X", false)?;
    let (n, d, k) = (x.rows, x.cols, classes.len());
    if classes_of.len() != n {
        return Err(PyValueError::new_err(format!(
            "X has {n} samples but y has {}",
            classes_of.len()
        )));
    }
    if k < tinytrain_core::data::MIN_CLASSES || k > usize::from(u16::MAX) {
        return Err(PyValueError::new_err(format!(
            "{k} class{}: a classifier needs from {} to {} classes",
            if k == 1 { "" } else { "es" },
            tinytrain_core::data::MIN_CLASSES,
            u16::MAX
        )));
    }
    let labels = classes_of
        .as_array()
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            u16::try_from(c)
                .ok()
                .filter(|&c| usize::from(c) < k)
                .ok_or_else(|| {
                    PyValueError::new_err(format!(
                        "label {i} is class {c}, outside 0..{k} (the classes given)"
                    ))
                })
        })
        .collect::<PyResult<Vec<u16>>>()?;
    let layers = layers.unwrap_or_else(|| vec![d, 16, 16, k]);
    settings::check_layers(&layers, d, k, "classes")?;
    let rule = settings::optimizer(optimizer)?;
    let (weighting, given) = class_weights(class_weight, &classes)?;
    if let Some(names) = feature_names.as_ref().filter(|f| f.len() != d) {
        return Err(PyValueError::new_err(format!(
            "feature_names has {} names for {d} columns",
            names.len()
        )));
    }
    let inputs = x.values().into_owned();
    arrays::check_finite(py, "train_classifier", &inputs, d, Field::Input)?;
    let numeric = classes.iter().all(|c| c.parse::<f64>().is_ok());
    let labelled = Labelled {
        path: "y".into(),
        input_names: feature_names
            .clone()
            .unwrap_or_else(|| (0..d).map(|i| format!("x{i}")).collect()),
        target_name: target_name.unwrap_or_else(|| "y".to_owned()),
        inputs,
        labels,
        classes,
        numeric,
    };
    let settings = TrainConfig {
        optimizer: rule,
        learning_rate,
        batch_size,
        max_epochs,
        patience,
        seed,
        val_fraction,
        test_fraction,
        standardize,
        init: settings::init_named(init)?,
        divergence_factor: divergence_factor.unwrap_or(Config::DEFAULT.divergence_factor),
        ..TrainConfig::new(layers)
    };
    let name = format!("numpy arrays X ({n}, {d}), labels ({n},) of {k} classes");
    let outcome = signals::detach_interruptible(py, || {
        let parts = classify::parts(&labelled, val_fraction, test_fraction, seed, None)?;
        let weights = match &given {
            Some(weights) => weights.clone(),
            None => classify::class_weights(&labelled, &parts, weighting),
        };
        let baselines = classify::baselines(&labelled, &parts, &weights)?;
        let data = labelled.dataset()?;
        let run = classify::fit(&data, &settings, &parts, &weights, |_| {})?;
        let outcome = classify::outcome(&labelled, &settings, weighting, run, baselines)?;
        let report = Report::new(&name, &labelled, &outcome);
        Ok((outcome.run.net, report))
    })?;
    let (net, report) = outcome.map_err(|e| errors::to_py(py, e))?;
    let report = py
        .import("json")?
        .call_method1("loads", (report.to_json(),))?;
    if let Some(weights) = &given {
        // Weights given one per class: the config lists them (each class's entry has its own).
        report
            .get_item("config")?
            .set_item("class_weights", weights.clone())?;
    }
    let file = ModelFile {
        task: Task::Classification,
        input_names: feature_names,
        output_names: Some(labelled.classes),
        ..ModelFile::new(net)
    };
    Ok((Model::new(file), report))
}

/// The class weights `class_weight` asks for: `None` (1 each), `"balanced"` (from the
/// training split), or one finite weight of at least 0 per class, in the order of `classes`.
fn class_weights(
    class_weight: Option<&Bound<'_, PyAny>>,
    classes: &[String],
) -> PyResult<(Weighting, Option<Vec<f32>>)> {
    let Some(given) = class_weight else {
        return Ok((Weighting::None, None));
    };
    if let Ok(name) = given.extract::<String>() {
        return match name.as_str() {
            "balanced" => Ok((Weighting::Balanced, None)),
            _ => Err(PyValueError::new_err(format!(
                "class_weight {name:?}: expected None, \"balanced\" or one weight per class"
            ))),
        };
    }
    let weights: Vec<f32> = given.extract().map_err(|_| {
        PyValueError::new_err(
            "class_weight: expected None, \"balanced\" or a sequence of one weight per class",
        )
    })?;
    if weights.len() != classes.len() {
        return Err(PyValueError::new_err(format!(
            "class_weight has {} weights for {} classes",
            weights.len(),
            classes.len()
        )));
    }
    if let Some((w, class)) = weights
        .iter()
        .zip(classes)
        .find(|(w, _)| !(w.is_finite() && **w >= 0.0))
    {
        return Err(PyValueError::new_err(format!(
            "class_weight of class `{class}` is {w}: weights are finite and at least 0"
        )));
    }
    Ok((Weighting::None, Some(weights)))
}
