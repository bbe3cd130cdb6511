//! Strict reading of numpy arrays: `float32` only, the right number of dimensions, finite
//! values. Nothing is converted silently — a `float64` array is a `TypeError` that says how
//! to convert it (the scikit-learn wrapper converts, as scikit-learn's conventions ask).

use crate::errors;
use numpy::{
    dtype, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use std::borrow::Cow;
use tinytrain_core::Field;

/// A `float32` array read in place, as rows of equal length.
pub struct Rows<'py> {
    array: PyReadonlyArrayDyn<'py, f32>,
    /// Number of rows.
    pub rows: usize,
    /// Values per row.
    pub cols: usize,
}

impl<'py> Rows<'py> {
    /// The values row after row: the array's own memory when it is C-contiguous (no copy),
    /// else a copy in row order.
    pub fn values(&self) -> Cow<'_, [f32]> {
        match self.array.as_slice() {
            Ok(slice) => Cow::Borrowed(slice),
            Err(_) => Cow::Owned(self.array.as_array().iter().copied().collect()),
        }
    }
}

/// Reads `obj` as a `float32` array of shape `(n, d)` — or `(n,)` when `vector_ok`, read as
/// `(n, 1)`. `name` names the argument in messages (`"X"`, `"y"`).
pub fn rows<'py>(obj: &Bound<'py, PyAny>, name: &str, vector_ok: bool) -> PyResult<Rows<'py>> {
    let array = float32(obj, name)?;
    let shape = array.shape().to_vec();
    let (rows, cols) = match (shape.as_slice(), vector_ok) {
        ([n, d], _) => (*n, *d),
        ([n], true) => (*n, 1),
        _ => {
            let want = if vector_ok { "1 or 2" } else { "2" };
            return Err(PyValueError::new_err(format!(
                "{name} must have {want} dimensions (samples, values), not shape {shape:?}"
            )));
        }
    };
    if rows == 0 || cols == 0 {
        return Err(PyValueError::new_err(format!(
            "{name} has shape {shape:?}: it needs at least one sample and one value per sample"
        )));
    }
    let array = array.cast::<PyArrayDyn<f32>>()?.readonly();
    Ok(Rows { array, rows, cols })
}

/// `obj` as a numpy array of dtype `float32`, or a `TypeError` naming `name`.
fn float32<'a, 'py>(
    obj: &'a Bound<'py, PyAny>,
    name: &str,
) -> PyResult<&'a Bound<'py, PyUntypedArray>> {
    let py = obj.py();
    let Ok(array) = obj.cast::<PyUntypedArray>() else {
        return Err(PyTypeError::new_err(format!(
            "{name} must be a numpy.ndarray of dtype float32, not {}: convert it with \
             numpy.asarray({name}, dtype=numpy.float32)",
            obj.get_type().name()?
        )));
    };
    let found = array.dtype();
    if !found.is_equiv_to(&dtype::<f32>(py)) {
        return Err(PyTypeError::new_err(format!(
            "{name} must have dtype float32, not {found}: the device computes in float32, so \
             convert explicitly with {name}.astype(numpy.float32)"
        )));
    }
    Ok(array)
}

/// Fails with a [`errors::DataError`] naming the first NaN or infinity of `values` (rows of
/// `cols`), as the `field` `kind` makes of a column index.
pub fn check_finite(
    py: Python<'_>,
    what: &str,
    values: &[f32],
    cols: usize,
    kind: fn(usize) -> Field,
) -> PyResult<()> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(at) => Err(errors::non_finite(py, what, at / cols, kind(at % cols))),
    }
}

/// A `float32` array of any shape, copied out.
pub struct Tensor {
    shape: Vec<usize>,
    values: Vec<f32>,
}

impl Tensor {
    /// Its shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Its values in row-major order.
    pub fn values(self) -> Vec<f32> {
        self.values
    }
}

/// Reads `obj` as a `float32` numpy array of any shape; `what` names it in messages.
pub fn any_shape(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Tensor> {
    let array = float32(obj, what)?;
    let shape = array.shape().to_vec();
    let values = array
        .cast::<PyArrayDyn<f32>>()?
        .readonly()
        .as_array()
        .iter()
        .copied()
        .collect();
    Ok(Tensor { shape, values })
}
