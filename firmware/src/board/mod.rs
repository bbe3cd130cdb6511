//! What the app needs from a board: a status LED, a delay, a work counter and flash for the
//! model — handed out once.
//!
//! A new board is a new [`Board`] implementation; the app does not change.

use embedded_hal::{delay::DelayNs, digital::OutputPin};
use embedded_storage::nor_flash::NorFlash;

#[cfg(feature = "qemu")]
pub mod mps2_an386;
#[cfg(feature = "qemu")]
pub use mps2_an386::Mps2An386;
#[cfg(feature = "qemu")]
pub mod ram_flash;

#[cfg(feature = "nrf52840dk")]
pub mod nrf52840_dk;
#[cfg(feature = "nrf52840dk")]
pub use nrf52840_dk::Nrf52840Dk;

/// A board the demo runs on.
pub trait Board: Sized {
    /// Its name, as logged at start.
    const NAME: &'static str;
    /// The status LED: high is lit.
    type Led: OutputPin;
    /// A blocking delay.
    type Delay: DelayNs;
    /// Counts the work the CPU does.
    type Counter: Counter;
    /// Where the model is kept: two [`tinytrain_demo::SLOT_SIZE`] slots of NOR flash that keep
    /// their contents across a reset.
    type Flash: NorFlash;

    /// Takes the peripherals and sets the board up; `None` if they were already taken.
    fn init() -> Option<Parts<Self>>;
}

/// The parts of board `B` the app uses.
pub struct Parts<B: Board> {
    /// The status LED.
    pub led: B::Led,
    /// A blocking delay.
    pub delay: B::Delay,
    /// The work counter.
    pub counter: B::Counter,
    /// The model's flash.
    pub flash: B::Flash,
}

/// A free-running count of work done: instructions under QEMU, cycles on silicon.
pub trait Counter {
    /// What one count is, in the plural ("instructions", "cycles").
    const UNIT: &'static str;
    /// The count now; it never decreases.
    fn now(&mut self) -> u64;
}
