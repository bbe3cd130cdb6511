//! The demo on a desktop: both boots, on simulated flash, with lines written to any
//! `std::io::Write`.

use crate::stream::{StreamOutcome, StreamStorage};
use crate::{boot, Log, Next, Outcome, Policy, Storage, SLOT_SIZE};
use core::fmt;
use std::io::{self, Write};
use tinytrain_core::slots::sim::SimFlash;
use tinytrain_core::ModelStore;

/// NOR flash as the nRF52840's (4-byte words, 4 KiB pages), two slots large, blank.
type HostFlash = SimFlash<{ 2 * SLOT_SIZE as usize }, 4, 4096>;

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

/// Every story's lines, one a line of text.
impl<W: Write, L: fmt::Display> Log<L> for Writer<W> {
    fn line(&mut self, line: &L) {
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

/// What the two boots found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Story {
    /// How the first boot trained the network.
    pub trained: Outcome,
    /// The second boot loaded the model the first one saved, bit for bit.
    pub reloaded: bool,
}

impl Story {
    /// The network beat the baseline and came back from flash intact.
    pub fn passed(&self) -> bool {
        self.trained.beat && self.reloaded
    }
}

/// Runs the demo on the host exactly as the firmware does — a cold start that trains and saves,
/// a reset, a warm start that loads the model back — writing its lines to `out`.
///
/// ```
/// let mut text = Vec::new();
/// let story = tinytrain_demo::host::run_on_host(&mut text)?;
/// let text = String::from_utf8(text)?;
/// assert!(text.contains("step 1, baseline") && text.contains("boot: warm start"));
/// assert!(story.passed());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn run_on_host(out: impl Write) -> Result<Story, HostError> {
    let mut store = ModelStore::new(HostFlash::new(), 0, SLOT_SIZE).map_err(HostError::Train)?;
    let mut log = Writer::new(out);
    let mut boot_once = |handover| {
        // Every boot starts from zeroed memory, as after a reset; only the flash persists.
        let mut storage = Box::new(Storage::new());
        boot(
            &mut storage,
            &mut store,
            handover,
            Policy::Evaluate,
            &mut log,
        )
    };
    let first = boot_once(None).map_err(HostError::Train)?;
    let reloaded = match first.next {
        Next::Reset(handover) => {
            let second = boot_once(Some(handover)).map_err(HostError::Train)?;
            second.next == Next::Exit(true)
        }
        Next::Exit(_) => false,
    };
    log.finish().map_err(HostError::Io)?;
    // The first boot starts on blank flash, so it trains.
    let trained = first
        .trained
        .ok_or(HostError::Train(tinytrain_core::Error::NoValidModel))?;
    Ok(Story { trained, reloaded })
}

/// Runs the stream story ([`crate::stream`]) on the host exactly as the firmware does, writing
/// its lines to `out`.
///
/// ```
/// let mut text = Vec::new();
/// let outcome = tinytrain_demo::host::stream_on_host(&mut text)?;
/// assert!(String::from_utf8(text)?.contains("drift at reading "));
/// assert!(outcome.pass);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn stream_on_host(out: impl Write) -> Result<StreamOutcome, HostError> {
    let mut log = Writer::new(out);
    let outcome = crate::stream::run(&mut Box::new(StreamStorage::new()), &mut log)
        .map_err(HostError::Train)?;
    log.finish().map_err(HostError::Io)?;
    Ok(outcome)
}

/// Runs the classification demo on the host exactly as the firmware does, writing its lines to
/// `out`.
///
/// ```
/// let mut text = Vec::new();
/// let outcome = tinytrain_demo::host::run_classify_on_host(&mut text)?;
/// let text = String::from_utf8(text)?;
/// assert!(text.contains("step 1, baseline: linear softmax") && outcome.pass);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn run_classify_on_host(out: impl Write) -> Result<crate::classify::Outcome, HostError> {
    let mut log = Writer::new(out);
    let mut storage = Box::new(crate::classify::Storage::new());
    let outcome = crate::classify::run(&mut storage, &mut log).map_err(HostError::Train)?;
    log.finish().map_err(HostError::Io)?;
    Ok(outcome)
}
