//! `tinytrain.Model`: a trained network — widths, weights and standardisation — that predicts
//! with the device's arithmetic and reads and writes the device's model format.

use crate::arrays::{self, Rows};
use crate::errors;
use crate::settings;
use numpy::{PyArray1, PyArray2, PyArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use std::path::PathBuf;
use tinytrain_core::format::Task;
use tinytrain_core::learner::Learner;
use tinytrain_core::optim::{BiasCorrection, OptimizerState};
use tinytrain_core::{shape, softmax, Config, Field};
use tinytrain_host_sim::model_file::{ModelFile, SavedOptimizer};
use tinytrain_host_sim::train::OptimizerKind;
use tinytrain_host_sim::{output, state_dict, Net};

/// Samples predicted at once, in the CPU's vector lanes (the same bits as one at a time).
const CHUNK: usize = 16;

/// A trained network: layer widths, weights and biases, and the standardisation statistics
/// fitted on the training split. Immutable; pickles as its model-format bytes.
#[pyclass(module = "tinytrain", frozen)]
pub struct Model {
    pub(crate) file: ModelFile,
}

impl Model {
    /// Wraps a model file's contents.
    pub fn new(file: ModelFile) -> Self {
        Self { file }
    }

    fn net(&self) -> &tinytrain_host_sim::Net {
        &self.file.net
    }

    fn n_in(&self) -> usize {
        shape::input_width(&self.net().widths)
    }

    fn n_out(&self) -> usize {
        shape::output_width(&self.net().widths)
    }
}

#[pymethods]
impl Model {
    /// Reads a model file (`tinytrain train --model`, `Model.save`), checking magic bytes,
    /// version, sizes, CRC-32 and that every value is finite.
    ///
    /// Raises `FileNotFoundError`/`OSError` if the file cannot be read, `ModelError` if it is
    /// not a valid model.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        ModelFile::read(&path)
            .map(Self::new)
            .map_err(|e| errors::model_file(py, e))
    }

    /// Writes the model file atomically: a crash leaves the old file or the new one, never a
    /// mix.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        self.file.write(&path).map_err(|e| errors::to_py(py, e))
    }

    /// The model in the device's binary format (the bytes of a model file).
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = self.file.to_bytes().map_err(|e| errors::to_py(py, e))?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Reads a model from the bytes of a model file. Raises `ModelError` if they are not one.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        ModelFile::from_bytes("bytes".as_ref(), data)
            .map(Self::new)
            .map_err(|e| errors::model_file(py, e))
    }

    /// Predicts the outputs of every row of `X`.
    ///
    /// `X`: `numpy.ndarray`, `float32`, shape `(n, n_inputs)`, finite, in the data's original
    /// units (the model standardises it with the training split's statistics). Returns a new
    /// `float32` array of shape `(n, n_outputs)`, in the targets' units — the bits the device
    /// computes. A C-contiguous `X` is read in place.
    ///
    /// Raises `TypeError` for another type or dtype, `ValueError` for another shape,
    /// `DataError` (with `.sample` and `.index`) for NaN or an infinity.
    #[allow(non_snake_case)]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        X: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let x: Rows<'_> = arrays::rows(X, "X", false)?;
        let (n_in, n_out) = (self.n_in(), self.n_out());
        if x.cols != n_in {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "X has {} columns, but the model takes {n_in} inputs (widths {:?})",
                x.cols,
                self.net().widths
            )));
        }
        let values = x.values();
        arrays::check_finite(py, "predict", &values, n_in, Field::Input)?;
        let mut out = vec![0.0f32; x.rows * n_out];
        let mut scratch = vec![0.0; CHUNK * shape::predict_scratch_len(&self.net().widths)];
        let model = self.net().model().map_err(|e| errors::to_py(py, e))?;
        model
            .predict_many::<CHUNK>(&values, &mut scratch, &mut out)
            .map_err(|e| errors::core(py, e, "predict", e.to_string()))?;
        PyArray1::from_vec(py, out).reshape([x.rows, n_out])
    }

    /// Each class's probability for every row of `X` (`float32`, shape `(n, n_inputs)`, in the
    /// data's units), for a classifier (`task == "classification"`): a new `float32` array of
    /// shape `(n, n_classes)`, the softmax of `predict`'s logits — the bits of `tinytrain predict
    /// --probabilities`. Each row sums to 1 within rounding.
    ///
    /// Raises `ValueError` for a regression model or another shape, `TypeError` for another
    /// type or dtype, `DataError` for NaN or an infinity.
    #[allow(non_snake_case)]
    fn predict_proba<'py>(
        &self,
        py: Python<'py>,
        X: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        if self.file.task != Task::Classification {
            return Err(PyValueError::new_err(
                "predict_proba: the model is a regression model; its predict gives values",
            ));
        }
        let logits = self.predict(py, X)?;
        let mut values = logits.to_vec()?;
        let k = self.n_out().max(1);
        let mut probs = vec![0.0f32; k];
        for row in values.chunks_exact_mut(k) {
            softmax::softmax(row, &mut probs);
            row.copy_from_slice(&probs);
        }
        let rows = values.len() / k;
        PyArray1::from_vec(py, values).reshape([rows, k])
    }

    /// `"regression"` (outputs are values in the targets' units) or `"classification"`
    /// (outputs are one logit per class, the classes named by `output_names`).
    #[getter]
    fn task(&self) -> &'static str {
        match self.file.task {
            Task::Classification => "classification",
            _ => "regression",
        }
    }

    /// The weights `tinytrain.train` starts from with these `layers`, `init` and `seed` (its
    /// first draws of the LCG seeded by `seed`), with no standardisation (means 0,
    /// deviations 1): the common starting point of a federation, or of any training from
    /// chosen weights (`train(..., initial_model=...)`).
    ///
    /// Raises `ValueError` for widths that are not a network or do not fit a model file, or an
    /// unknown `init`.
    #[staticmethod]
    #[pyo3(signature = (layers, *, init = None, seed = 1))]
    fn initial(
        py: Python<'_>,
        layers: Vec<usize>,
        init: Option<&str>,
        seed: u64,
    ) -> PyResult<Self> {
        settings::check_widths(&layers)?;
        let init = settings::init_named(init)?;
        let config = Config {
            init,
            seed,
            ..Config::DEFAULT
        };
        let mut arena = vec![0.0; shape::learner_arena_len(&layers, config.optimizer, 1)];
        let learner = Learner::<1>::new(&layers, config, &mut arena)
            .map_err(|e| errors::core(py, e, "initial", e.to_string()))?;
        Ok(Self::new(ModelFile::new(Net::from_model(&learner.model()))))
    }

    /// The optimizer's state saved with the model — what `train(..., initial_model=model)`
    /// resumes from — or `None`: a new dictionary with `"optimizer"` (`"sgd"`, `"momentum"`,
    /// `"adam"`), `"steps"` (updates taken, `int`), `"beta1_power"` and `"beta2_power"` (Adam's
    /// `β₁ᵗ` and `β₂ᵗ` for its bias correction, 1 for the others) and `"values"` (`float32`,
    /// shape `(state_per_param · len(params),)`: momentum's velocity, or Adam's first and
    /// second moments interleaved, `m₀, v₀, m₁, v₁, …`, in the order of `params`).
    fn optimizer_state<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(saved) = &self.file.optimizer else {
            return Ok(None);
        };
        let Some(rule) =
            OptimizerKind::of(&saved.optimizer).filter(|r| r.optimizer() == saved.optimizer)
        else {
            return Err(errors::ModelError::new_err(
                "the model's optimizer state has hyperparameters other than tinytrain.train's",
            ));
        };
        if saved.trainable_from != 0 {
            return Err(errors::ModelError::new_err(format!(
                "the model's optimizer state is for the layers from {} on only (frozen layers)",
                saved.trainable_from
            )));
        }
        let dict = PyDict::new(py);
        dict.set_item("optimizer", rule.name())?;
        dict.set_item("steps", saved.bias_correction.steps())?;
        dict.set_item("beta1_power", saved.bias_correction.beta1_t())?;
        dict.set_item("beta2_power", saved.bias_correction.beta2_t())?;
        dict.set_item("values", PyArray1::from_slice(py, &saved.values))?;
        Ok(Some(dict))
    }

    /// A copy of the model with the optimizer's state `state` (a dictionary of
    /// `Model.optimizer_state`'s layout), or with none (`None`). `"beta1_power"` and
    /// `"beta2_power"` default to 1, and `"steps"` to 0: a new optimizer, if `"values"` are
    /// zeros.
    ///
    /// Raises `ValueError` for a missing key or an unknown `"optimizer"`, `TypeError` for
    /// `"values"` that are not a `float32` array, `ModelError` for a state that does not fit
    /// the model (values of another length, NaN, negative second moments, powers that do not
    /// match the steps).
    fn with_optimizer_state(&self, state: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let mut file = self.file.clone();
        file.optimizer = match state {
            None => None,
            Some(dict) => Some(saved_optimizer(dict, &file.net.widths)?),
        };
        Ok(Self::new(file))
    }

    /// Layer widths, input first, e.g. `[1, 16, 16, 1]`.
    #[getter]
    fn widths(&self) -> Vec<usize> {
        self.net().widths.clone()
    }

    /// The names of the input columns (from the CSV header, `feature_names`, a data frame),
    /// or `None`.
    #[getter]
    fn input_names(&self) -> Option<Vec<String>> {
        self.file.input_names.clone()
    }

    /// The names of the targets, or `None`.
    #[getter]
    fn output_names(&self) -> Option<Vec<String>> {
        self.file.output_names.clone()
    }

    /// Inputs per sample (the first width).
    #[getter]
    fn n_inputs(&self) -> usize {
        self.n_in()
    }

    /// Outputs per sample (the last width).
    #[getter]
    fn n_outputs(&self) -> usize {
        self.n_out()
    }

    /// A copy of every weight and bias, layer after layer (each layer's weights row by row,
    /// `[fan_out, fan_in]` as in PyTorch's `nn.Linear`, then its biases), `float32`.
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        PyArray1::from_slice(py, &self.net().params)
    }

    /// A copy of the standardisation statistics, `float32`: input means, input standard
    /// deviations, target means, target standard deviations (means 0 and deviations 1 when the
    /// model was trained without standardisation).
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        PyArray1::from_slice(py, &self.net().stats)
    }

    /// The model as the `state_dict` of PyTorch's `nn.Sequential(Linear, ReLU, …, Linear)`:
    /// a new dictionary of `float32` arrays — `"0.weight"` `(fan_out, fan_in)`, `"0.bias"`
    /// `(fan_out,)`, `"2.weight"`, … — and the standardisation as `"input_mean"`,
    /// `"input_std"` `(n_inputs,)`, `"target_mean"`, `"target_std"` `(n_outputs,)`. The network
    /// computes `net((x − input_mean) / input_std) · target_std + target_mean`.
    fn state_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for t in state_dict::tensors(self.net()) {
            let array = PyArray1::from_vec(py, t.values).reshape(t.shape)?;
            dict.set_item(t.name, array)?;
        }
        Ok(dict)
    }

    /// A model from the `state_dict` layout of [`Model.state_dict`]: a mapping of names to
    /// `float32` numpy arrays (convert PyTorch tensors with `.detach().cpu().numpy()`, or use
    /// `tinytrain.torch.from_torch`). Without the four standardisation arrays the model has no
    /// standardisation.
    ///
    /// Raises `ModelError` naming the first unexpected array (a layer other than `Linear`,
    /// `Linear` layers not at positions 0, 2, 4, …, a missing bias, shapes that do not chain,
    /// NaN), `TypeError` for a value that is not a `float32` array.
    #[staticmethod]
    fn from_state_dict(py: Python<'_>, state_dict: &Bound<'_, PyDict>) -> PyResult<Self> {
        let mut tensors = Vec::with_capacity(state_dict.len());
        for (name, value) in state_dict.iter() {
            let name: String = name.extract().map_err(|_| {
                PyTypeError::new_err(format!("state_dict keys must be str, not {name}"))
            })?;
            let what = format!("state_dict[{name:?}]");
            let array = arrays::any_shape(&value, &what)?;
            tensors.push(state_dict::Tensor {
                name,
                shape: array.shape().to_vec(),
                values: array.values(),
            });
        }
        state_dict::from_tensors("state_dict", &tensors)
            .map(|net| Self::new(ModelFile::new(net)))
            .map_err(|e| errors::to_py(py, e))
    }

    /// Writes the model as a safetensors file in the layout of [`Model.state_dict`]
    /// (`tinytrain export --safetensors`), atomically.
    fn export_safetensors(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        state_dict::to_safetensors(&self.file)
            .and_then(|bytes| output::write(&path, &bytes))
            .map_err(|e| errors::to_py(py, e))
    }

    /// Reads a safetensors file holding the `state_dict` of `nn.Sequential(Linear, ReLU, …,
    /// Linear)`, optionally with the standardisation tensors (`tinytrain import
    /// --safetensors`). Raises `OSError`, or `ModelError` naming the first unexpected tensor.
    #[staticmethod]
    fn import_safetensors(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        state_dict::read(&path)
            .map(Self::new)
            .map_err(|e| errors::to_py(py, e))
    }

    /// Two models are equal when their tasks are, their widths, weights and statistics have the
    /// same bits and their column names are the same.
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        let Ok(other) = other.cast::<Model>() else {
            return false;
        };
        let (a, b) = (&self.file, &other.get().file);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        a.task == b.task
            && a.net.widths == b.net.widths
            && bits(&a.net.params) == bits(&b.net.params)
            && bits(&a.net.stats) == bits(&b.net.stats)
            && a.input_names == b.input_names
            && a.output_names == b.output_names
    }

    fn __repr__(&self) -> String {
        format!(
            "tinytrain.Model(widths={:?}, {} parameters)",
            self.net().widths,
            self.net().params.len()
        )
    }

    /// Pickles as the model-format bytes, so a pickle is as checked as a model file.
    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let from_bytes = py.get_type::<Model>().getattr("from_bytes")?;
        Ok((from_bytes, (self.to_bytes(py)?,)))
    }
}

/// Reads and checks an optimizer's state given as `Model.optimizer_state`'s dictionary.
fn saved_optimizer(dict: &Bound<'_, PyDict>, widths: &[usize]) -> PyResult<SavedOptimizer> {
    let item = |key: &str| {
        dict.get_item(key)?
            .ok_or_else(|| PyValueError::new_err(format!("optimizer state: no {key:?}")))
    };
    let name: String = item("optimizer")?.extract()?;
    let rule = settings::optimizer(&name)
        .map_err(|e| PyValueError::new_err(format!("optimizer state: {}", e.value(dict.py()))))?;
    let number = |key: &str, default: f32| -> PyResult<f32> {
        match dict.get_item(key)? {
            Some(v) => v.extract(),
            None => Ok(default),
        }
    };
    let steps: u64 = match dict.get_item("steps")? {
        Some(v) => v.extract()?,
        None => 0,
    };
    let values = crate::arrays::any_shape(&item("values")?, "optimizer state \"values\"")?.values();
    let saved = SavedOptimizer {
        optimizer: rule.optimizer(),
        bias_correction: BiasCorrection::resume(
            steps,
            number("beta1_power", 1.0)?,
            number("beta2_power", 1.0)?,
        ),
        trainable_from: 0,
        values,
    };
    let state: OptimizerState<'_> = saved.state();
    state
        .check(widths)
        .map_err(|e| errors::ModelError::new_err(format!("optimizer state: {e}")))?;
    Ok(saved)
}
