//! The demo on a desktop: lines written to any `std::io::Write`.

use crate::{run, Line, Log, Outcome, Storage};
use std::io::{self, Write};

/// A [`Log`] that writes each line, then a newline, to `W`; keeps the first write error.
#[derive(Debug)]
pub struct Writer<W: Write> {
    out: W,
    error: Option<io::Error>,
}

impl<W: Write> Writer<W> {
    /// Writes to `out`.
    pub fn new(out: W) -> Self {
        Self { out, error: None }
    }

    /// The output, or the first error met while writing to it.
    pub fn finish(mut self) -> io::Result<W> {
        match self.error.take() {
            Some(e) => Err(e),
            None => self.out.flush().map(|()| self.out),
        }
    }
}

impl<W: Write> Log for Writer<W> {
    fn line(&mut self, line: &Line) {
        if self.error.is_none() {
            self.error = writeln!(self.out, "{line}").err();
        }
    }
}

/// Why the host demo could not finish.
#[derive(Debug)]
#[non_exhaustive]
pub enum HostError {
    /// Training failed (see the core's error).
    Train(tinytrain_core::Error),
    /// The output could not be written.
    Io(io::Error),
}

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostError::Train(e) => write!(f, "the demo failed: {e}"),
            HostError::Io(e) => write!(f, "cannot write the demo's output: {e}"),
        }
    }
}

impl std::error::Error for HostError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HostError::Train(e) => Some(e),
            HostError::Io(e) => Some(e),
        }
    }
}

/// Runs the demo on the host, exactly as the firmware does, writing its lines to `out`.
///
/// ```
/// let mut text = Vec::new();
/// let outcome = tinytrain_demo::host::run_on_host(&mut text)?;
/// let text = String::from_utf8(text)?;
/// assert!(text.contains("step 1, baseline") && outcome.beat);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn run_on_host(out: impl Write) -> Result<Outcome, HostError> {
    let mut storage = Box::new(Storage::new());
    let mut log = Writer::new(out);
    let outcome = run(&mut storage, &mut log).map_err(HostError::Train)?;
    log.finish().map_err(HostError::Io)?;
    Ok(outcome)
}
