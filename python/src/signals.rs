//! Ctrl-C in a long training from Python. The interpreter's own handler of SIGINT only notes
//! the signal; its `KeyboardInterrupt` is raised when the interpreter next looks at its
//! signals, which it cannot do while Rust trains with the GIL released. So training asks it:
//! between mini-batches, at most every [`EVERY`], it takes the GIL and runs the interpreter's
//! pending signal handlers (`PyErr_CheckSignals`); if one raises, training stops as Ctrl-C
//! stops the command line's, and the exception is raised in place of the result.

use pyo3::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tinytrain_host_sim::interrupt;

/// How often, at most, training looks at the interpreter's signals: prompt for a person, and
/// rare enough that taking the GIL costs nothing measurable.
const EVERY: Duration = Duration::from_millis(20);

/// Runs `run` with the GIL released and the interpreter's signal handlers asked between
/// mini-batches; returns its result, or the exception a handler raised (`KeyboardInterrupt`
/// for Ctrl-C), in which case whatever `run` returned after stopping is dropped.
///
/// Signal handlers run in the main thread only (Python's rule): training in another thread
/// is not stopped by Ctrl-C.
pub fn detach_interruptible<T, F>(py: Python<'_>, run: F) -> PyResult<T>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    let (result, raised) = py.detach(|| {
        let raised: Rc<RefCell<Option<PyErr>>> = Rc::default();
        let slot = Rc::clone(&raised);
        let mut last = Instant::now();
        let check = move || {
            if last.elapsed() < EVERY {
                return false;
            }
            last = Instant::now();
            match Python::attach(|py| py.check_signals()) {
                Ok(()) => false,
                Err(e) => {
                    *slot.borrow_mut() = Some(e);
                    true
                }
            }
        };
        let result = interrupt::checking(check, run);
        let raised = raised.borrow_mut().take();
        (result, raised)
    });
    match raised {
        Some(e) => Err(e),
        None => Ok(result),
    }
}
