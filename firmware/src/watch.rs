//! Observers of a demo's story, beside its log ([`crate::device_log`]): the status LED toggling
//! every epoch, and the work counter timing training. Each receives every line, as the log does
//! (a pair of receivers is a receiver), and acts on the few that mark a phase of training.

use crate::board::Counter;
use embedded_hal::digital::OutputPin;
use tinytrain_demo::stream::StreamLine;
use tinytrain_demo::{classify, Line, Log};

/// The moments of training the observers act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Training starts (the `Training` line).
    Starts,
    /// An epoch ended (an `Epoch` line).
    Epoch,
    /// A stopping rule fired (the `Stopped` line).
    Stops,
}

/// A story's line, as far as the observers are concerned.
pub trait Marks {
    /// The phase of training the line marks, if any.
    fn phase(&self) -> Option<Phase>;
}

impl Marks for Line {
    fn phase(&self) -> Option<Phase> {
        match self {
            Line::Training { .. } => Some(Phase::Starts),
            Line::Epoch { .. } => Some(Phase::Epoch),
            Line::Stopped { .. } => Some(Phase::Stops),
            _ => None,
        }
    }
}

impl Marks for classify::Line {
    fn phase(&self) -> Option<Phase> {
        match self {
            classify::Line::Training { .. } => Some(Phase::Starts),
            classify::Line::Epoch { .. } => Some(Phase::Epoch),
            classify::Line::Stopped { .. } => Some(Phase::Stops),
            _ => None,
        }
    }
}

impl Marks for StreamLine {
    fn phase(&self) -> Option<Phase> {
        match self {
            StreamLine::Epoch { .. } => Some(Phase::Epoch),
            _ => None,
        }
    }
}

/// The status LED, toggled every epoch. It only shows progress: a failing pin is ignored and
/// never stops training.
pub struct EpochLed<'a, L> {
    led: &'a mut L,
    lit: bool,
}

impl<'a, L: OutputPin> EpochLed<'a, L> {
    /// Drives `led`, lit or not to begin with.
    pub fn new(led: &'a mut L, lit: bool) -> Self {
        let _ = led.set_state(lit.into());
        Self { led, lit }
    }

    fn see(&mut self, phase: Option<Phase>) {
        if phase == Some(Phase::Epoch) {
            self.lit = !self.lit;
            let _ = self.led.set_state(self.lit.into());
            // A value at hand only: a level left out then costs no code at all.
            defmt::debug!("epoch: LED {=bool}", self.lit);
        }
    }
}

impl<L: OutputPin, M: Marks> Log<M> for EpochLed<'_, L> {
    fn line(&mut self, line: &M) {
        self.see(line.phase());
    }
}

/// The work counted from the start of training to its stop, validation passes included.
pub struct TrainingWork<C> {
    counter: C,
    started: u64,
    work: u64,
}

impl<C: Counter> TrainingWork<C> {
    /// Counts with `counter`.
    pub fn new(counter: C) -> Self {
        Self {
            counter,
            started: 0,
            work: 0,
        }
    }

    /// The work counted while training, in [`Counter::UNIT`] (0 if this boot did not train).
    pub fn work(&self) -> u64 {
        self.work
    }

    fn see(&mut self, phase: Option<Phase>) {
        match phase {
            Some(Phase::Starts) => self.started = self.counter.now(),
            Some(Phase::Stops) => self.work = self.counter.now().saturating_sub(self.started),
            _ => {}
        }
    }
}

impl<C: Counter, M: Marks> Log<M> for TrainingWork<C> {
    fn line(&mut self, line: &M) {
        self.see(line.phase());
    }
}
