//! What the app needs from a board: a status LED, a delay and a work counter — handed out once.
//!
//! A new board is a new [`Board`] implementation; the app does not change.

use embedded_hal::{delay::DelayNs, digital::OutputPin};

#[cfg(feature = "qemu")]
pub mod mps2_an386;
#[cfg(feature = "qemu")]
pub use mps2_an386::Mps2An386;

#[cfg(feature = "nrf52840dk")]
pub mod nrf52840_dk;
#[cfg(feature = "nrf52840dk")]
pub use nrf52840_dk::Nrf52840Dk;

/// A board the demo runs on.
pub trait Board {
    /// Its name, as logged at start.
    const NAME: &'static str;
    /// The status LED: high is lit.
    type Led: OutputPin;
    /// A blocking delay.
    type Delay: DelayNs;
    /// Counts the work the CPU does.
    type Counter: Counter;

    /// Takes the peripherals and sets the board up; `None` if they were already taken.
    fn init() -> Option<Parts<Self::Led, Self::Delay, Self::Counter>>;
}

/// The parts of a board the app uses.
#[derive(Debug)]
pub struct Parts<L, D, C> {
    /// The status LED.
    pub led: L,
    /// A blocking delay.
    pub delay: D,
    /// The work counter.
    pub counter: C,
}

/// A free-running count of work done: instructions under QEMU, cycles on silicon.
pub trait Counter {
    /// What one count is, in the plural ("instructions", "cycles").
    const UNIT: &'static str;
    /// The count now; it never decreases.
    fn now(&mut self) -> u64;
}
