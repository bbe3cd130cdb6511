//! What the app needs from a board: a status LED, a delay, a work counter and flash for the
//! model — handed out once — and a way to reset.
//!
//! A new board is a new [`Board`] implementation, selected by a cargo feature as [`Selected`];
//! the app does not change. The emulated boards share their parts: SysTick as an instruction
//! counter on the Cortex-M ([`systick`]), NOR flash emulated in RAM ([`ram_flash`]) where QEMU
//! has no flash controller.

use embedded_hal::{delay::DelayNs, digital::OutputPin};
use embedded_storage::nor_flash::NorFlash;

#[cfg(feature = "mps2")]
pub mod cmsdk_uart;
#[cfg(any(feature = "mps2", feature = "mps2-an505"))]
pub mod fpga_led;
#[cfg(any(feature = "mps2", feature = "mps2-an505", feature = "riscv-virt"))]
pub mod ram_flash;
#[cfg(all(feature = "qemu", target_arch = "arm"))]
pub mod systick;

#[cfg(feature = "mps2")]
pub mod mps2;
#[cfg(feature = "mps2")]
pub use mps2::Mps2 as Selected;

#[cfg(feature = "mps2-an505")]
pub mod mps2_an505;
#[cfg(feature = "mps2-an505")]
pub use mps2_an505::Mps2An505 as Selected;

#[cfg(feature = "microbit")]
pub mod microbit;
#[cfg(feature = "microbit")]
pub use microbit::Microbit as Selected;

#[cfg(feature = "riscv-virt")]
pub mod riscv_virt;
#[cfg(feature = "riscv-virt")]
pub use riscv_virt::RiscvVirt as Selected;

#[cfg(feature = "nrf52840dk")]
pub mod nrf52840_dk;
#[cfg(feature = "nrf52840dk")]
pub use nrf52840_dk::Nrf52840Dk as Selected;

/// A board the demo runs on.
pub trait Board: Sized {
    /// The status LED: high is lit.
    type Led: OutputPin;
    /// A blocking delay.
    type Delay: DelayNs;
    /// Counts the work the CPU does.
    type Counter: Counter;
    /// Where the model is kept: two [`tinytrain_demo::SLOT_SIZE`] slots of NOR flash that keep
    /// their contents across a reset.
    type Flash: NorFlash;

    /// Its name and core, as logged at start: `QEMU mps2-an386 (Cortex-M4F, 25 MHz)`.
    fn name() -> &'static str;

    /// Takes the peripherals and sets the board up; `None` if they were already taken.
    fn init() -> Option<Parts<Self>>;

    /// Resets the device as a software reset does: RAM outside the program's sections and the
    /// model's flash keep their contents.
    fn reset() -> !;

    /// Whether a debugger serves semihosting calls (QEMU always does). Without one, a
    /// semihosting call is a breakpoint that locks the core up: the run ends without it.
    fn debugger_attached() -> bool {
        true
    }
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

/// A board with a serial port to a host (a UART), for the link application
/// ([`crate::link`]): QEMU's MPS2+ boards and the nRF52840-DK.
pub trait SerialBoard: Board {
    /// The port.
    type Serial: embedded_io::Read + embedded_io::ReadReady + embedded_io::Write;
    /// Its speed, bits per second (8N1).
    const BAUD: u32;
    /// Counts of [`Board::Counter`] per second, for the link's timeouts.
    const COUNTS_PER_SECOND: u64;

    /// The core, as the link's hello names it: `Cortex-M4F`.
    fn core() -> &'static str;

    /// As [`Board::init`], with the serial port.
    fn init_serial() -> Option<(Parts<Self>, Self::Serial)>;
}
