//! The one place that turns the library's errors into Python exceptions.
//!
//! | failure | exception |
//! | --- | --- |
//! | an array of the wrong type, dtype or number of dimensions | `TypeError` |
//! | a sample holding NaN or an infinity | [`DataError`] (a `ValueError`) with `.sample`, `.field` (`"input"` or `"target"`) and `.index` |
//! | a model file or blob that is not a valid tinytrain model | [`ModelError`] (a `ValueError`) |
//! | a safetensors file that is not a plain MLP | [`ModelError`], naming the first unexpected tensor |
//! | a setting out of its range, shapes that disagree | `ValueError` |
//! | a file that cannot be read or written | `OSError` (`FileNotFoundError`, `PermissionError`, …) |

use pyo3::exceptions::{
    PyFileExistsError, PyFileNotFoundError, PyIsADirectoryError, PyOSError, PyPermissionError,
    PyValueError,
};
use pyo3::prelude::*;
use tinytrain_core::Field;
use tinytrain_host_sim::Error;

pyo3::create_exception!(
    tinytrain,
    DataError,
    PyValueError,
    "A sample holds NaN or an infinity. `sample` is its row, `field` is \"input\" or \"target\", \
     `index` the column within X or y."
);

pyo3::create_exception!(
    tinytrain,
    ModelError,
    PyValueError,
    "A model file, blob or state_dict that is not a valid tinytrain model (bad magic bytes, \
     version, CRC, sizes, or tensors that do not form a plain ReLU MLP)."
);

/// A [`DataError`] for the value `field` of sample `sample`; `what` names the array.
pub fn non_finite(py: Python<'_>, what: &str, sample: usize, field: Field) -> PyErr {
    let (kind, index, array) = match field {
        Field::Input(i) => ("input", i, "X"),
        Field::Target(i) => ("target", i, "y"),
    };
    let err = DataError::new_err(format!(
        "{what}: {array}[{sample}, {index}] (sample {sample}, {kind} {index}) is NaN or infinite"
    ));
    let value = err.value(py);
    // Setting attributes on a fresh exception object cannot fail short of memory exhaustion;
    // the message carries the same facts if it does.
    let _ = value.setattr("sample", sample);
    let _ = value.setattr("field", kind);
    let _ = value.setattr("index", index);
    err
}

/// The Python exception for an error of the host library.
pub fn to_py(py: Python<'_>, e: Error) -> PyErr {
    let message = e.to_string();
    match e {
        Error::Read { source, .. } | Error::Write { source, .. } => os_error(&source, message),
        Error::Core { source, context } => core(py, source, &context, message),
        Error::StateDict { .. } => ModelError::new_err(message),
        _ => PyValueError::new_err(message),
    }
}

/// The Python exception for a model file or blob that could not be read: [`ModelError`] for
/// every failure of its contents, `OSError` for the file itself.
pub fn model_file(py: Python<'_>, e: Error) -> PyErr {
    match e {
        Error::Core { .. } | Error::StateDict { .. } => ModelError::new_err(e.to_string()),
        other => to_py(py, other),
    }
}

/// The Python exception for an error of the core, with `context` saying what was being done.
pub fn core(
    py: Python<'_>,
    source: tinytrain_core::Error,
    context: &str,
    message: String,
) -> PyErr {
    use tinytrain_core::Error as E;
    match source {
        E::NonFinite { sample, field } => non_finite(py, context, sample, field),
        E::BadMagic
        | E::UnsupportedVersion { .. }
        | E::Truncated { .. }
        | E::CrcMismatch { .. }
        | E::NonFiniteParameter { .. } => ModelError::new_err(message),
        _ => PyValueError::new_err(message),
    }
}

/// The `OSError` subclass Python itself raises for this kind of I/O failure.
fn os_error(source: &std::io::Error, message: String) -> PyErr {
    use std::io::ErrorKind as K;
    match source.kind() {
        K::NotFound => PyFileNotFoundError::new_err(message),
        K::PermissionDenied => PyPermissionError::new_err(message),
        K::AlreadyExists => PyFileExistsError::new_err(message),
        K::IsADirectory => PyIsADirectoryError::new_err(message),
        _ => PyOSError::new_err(message),
    }
}

/// Adds the exception types to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("DataError", py.get_type::<DataError>())?;
    m.add("ModelError", py.get_type::<ModelError>())?;
    Ok(())
}
