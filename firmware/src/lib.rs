//! # tinytrain-firmware
//!
//! A microcontroller that learns: the [`tinytrain_demo`] story — baseline, training with early
//! stopping, test — on a Cortex-M4F, with its cost (instructions or cycles per training sample,
//! static RAM, peak stack) reported over `defmt`. The trained model is saved to flash; the
//! device resets and loads it back instead of training again.
//!
//! Board specifics sit behind [`board::Board`]; [`app::run`] is generic over embedded-hal
//! traits. Every binary in `src/bin` is a few lines: pick a board, run, [`exit`] with the verdict.
//!
//! | board | feature | log transport | runner |
//! | --- | --- | --- | --- |
//! | QEMU `mps2-an386` | `qemu` (default) | semihosting | `cargo xtask qemu-run` |
//! | nRF52840-DK | `nrf52840dk` | RTT | `probe-rs run --chip nRF52840_xxAA` |
#![no_std]
#![deny(unsafe_code, missing_docs)]

#[cfg(all(feature = "qemu", feature = "nrf52840dk"))]
compile_error!(
    "pick one board: the default `qemu`, or `--no-default-features --features nrf52840dk`"
);
#[cfg(not(any(feature = "qemu", feature = "nrf52840dk")))]
compile_error!(
    "pick a board: the default `qemu`, or `--no-default-features --features nrf52840dk`"
);

pub mod app;
pub mod bench;
pub mod board;
pub mod cost;
mod device_log;
pub mod handover;
pub mod stack;

use cortex_m_rt::{exception, ExceptionFrame};

#[cfg(feature = "nrf52840dk")]
use defmt_rtt as _;
#[cfg(feature = "qemu")]
use defmt_semihosting as _;

/// Ends the program; a semihosting host (QEMU, `probe-rs run`) exits with 0 or 1.
pub fn exit(success: bool) -> ! {
    semihosting::process::exit(if success { 0 } else { 1 })
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    match info.location() {
        Some(at) => defmt::error!("panicked at {=str}:{=u32}", at.file(), at.line()),
        None => defmt::error!("panicked"),
    }
    exit(false)
}

/// A fault ends the run as a failure instead of spinning forever.
#[allow(unsafe_code)] // cortex-m-rt requires the HardFault handler to be `unsafe fn`.
#[exception]
unsafe fn HardFault(_frame: &ExceptionFrame) -> ! {
    exit(false)
}
