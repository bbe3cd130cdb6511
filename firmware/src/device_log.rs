//! The demo's lines over defmt at `info` level, the LED's state at `debug`; the status LED
//! toggles every epoch and the counter times training.

use crate::board::Counter;
use embedded_hal::digital::OutputPin;
use tinytrain_demo::{Line, Log};

/// Logs lines with `defmt::info!` and watches them: training runs from the `Training`
/// line to the `Stopped` line, and each `Epoch` line toggles the LED.
pub struct DeviceLog<'a, L, C> {
    led: &'a mut L,
    lit: bool,
    counter: C,
    started: u64,
    training: u64,
}

impl<'a, L: OutputPin, C: Counter> DeviceLog<'a, L, C> {
    /// Logs with `led` lit (it is on while training).
    pub fn new(led: &'a mut L, counter: C) -> Self {
        // The LED only shows progress: a failing pin must not stop training.
        let _ = led.set_high();
        Self {
            led,
            lit: true,
            counter,
            started: 0,
            training: 0,
        }
    }

    /// The work counted while training, in [`Counter::UNIT`].
    pub fn training(&self) -> u64 {
        self.training
    }
}

impl<L: OutputPin, C: Counter> Log for DeviceLog<'_, L, C> {
    fn line(&mut self, line: &Line) {
        if let Line::Stopped { .. } = line {
            self.training = self.counter.now().saturating_sub(self.started);
        }
        defmt::info!("{}", line);
        match line {
            Line::Training { .. } => self.started = self.counter.now(),
            Line::Epoch { epoch, .. } => {
                self.lit = !self.lit;
                let _ = self.led.set_state(self.lit.into());
                // Values at hand only: a level left out then costs no code at all.
                defmt::debug!("epoch {=u32}: LED {=bool}", epoch, self.lit);
            }
            _ => {}
        }
    }
}
