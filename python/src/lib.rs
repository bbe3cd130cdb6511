//! # tinytrain for Python
//!
//! The native module `tinytrain._tinytrain` behind the `tinytrain` package: training with the
//! device's arithmetic on numpy arrays, `Model` (load, save, predict, pickle), `Stream` (the
//! stream learner, sample by sample), the exceptions.
//! The package's Python side (`python/tinytrain/`) adds the scikit-learn estimators and the
//! PyTorch helpers; `python/README.md` documents both.
//!
//! Built by maturin against CPython's stable ABI (abi3) from Python 3.9 on.

mod arrays;
mod classification;
mod errors;
mod model;
mod settings;
mod signals;
mod stream;
mod training;

use pyo3::prelude::*;

/// The native half of the `tinytrain` package.
#[pymodule]
fn _tinytrain(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<model::Model>()?;
    m.add_class::<stream::Stream>()?;
    m.add_function(wrap_pyfunction!(training::train, m)?)?;
    m.add_function(wrap_pyfunction!(classification::train_classifier, m)?)?;
    errors::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
