//! # tinytrain-firmware
//!
//! A microcontroller that learns: the [`tinytrain_demo`] story — baseline, training with early
//! stopping, test — with its cost (instructions or cycles per training sample, static RAM, peak
//! stack) reported over `defmt`. The trained model is saved to flash; the device resets and
//! loads it back instead of training again.
//!
//! Board specifics sit behind [`board::Board`]; [`app::run`] is generic over it, and
//! [`board::Selected`] is the board the cargo feature picks. Every binary in `src/bin` is a few
//! lines: run on the selected board, [`exit`] with the verdict.
//!
//! | board | core | feature | target | log transport |
//! | --- | --- | --- | --- | --- |
//! | QEMU `mps2-an385` | Cortex-M3 | `mps2` (default) | `thumbv7m-none-eabi` | semihosting |
//! | QEMU `mps2-an386` | Cortex-M4F | `mps2` (default) | `thumbv7em-none-eabihf` | semihosting |
//! | QEMU `mps2-an500` | Cortex-M7 | `mps2` (default) | `thumbv7em-none-eabihf` | semihosting |
//! | QEMU `mps2-an505` | Cortex-M33 | `mps2-an505` | `thumbv8m.main-none-eabihf` | semihosting |
//! | QEMU `microbit` | Cortex-M0 | `microbit` | `thumbv6m-none-eabi` | semihosting |
//! | QEMU `virt` | RISC-V rv32imc | `riscv-virt` | `riscv32imc-unknown-none-elf` | semihosting |
//! | nRF52840-DK | Cortex-M4F | `nrf52840dk` | `thumbv7em-none-eabihf` | RTT |
#![no_std]
#![deny(unsafe_code, missing_docs)]

/// How many board features are on: exactly one must be.
const BOARDS: usize = cfg!(feature = "mps2") as usize
    + cfg!(feature = "mps2-an505") as usize
    + cfg!(feature = "microbit") as usize
    + cfg!(feature = "riscv-virt") as usize
    + cfg!(feature = "nrf52840dk") as usize;
const _: () = assert!(
    BOARDS == 1,
    "pick one board: the default `mps2`, or `--no-default-features --features` one of \
     mps2-an505, microbit, riscv-virt, nrf52840dk"
);

pub mod app;
pub mod bench;
pub mod board;
pub mod classify;
pub mod cost;
mod device_log;
pub mod handover;
#[cfg(any(feature = "mps2", feature = "nrf52840dk"))]
pub mod link;
pub mod stack;
pub mod stream_app;
pub mod watch;

#[cfg(target_arch = "arm")]
pub use cortex_m_rt::entry;
#[cfg(target_arch = "riscv32")]
pub use riscv_rt::entry;

#[cfg(feature = "nrf52840dk")]
use defmt_rtt as _;
#[cfg(feature = "qemu")]
use defmt_semihosting as _;

/// Ends the program. With a debugger attached (`probe-rs run`) or under QEMU, a semihosting exit
/// with 0 or 1; a board running on its own sleeps instead (a semihosting call without a debugger
/// is a breakpoint that locks the core up).
pub fn exit(success: bool) -> ! {
    use board::Board;
    if board::Selected::debugger_attached() {
        semihosting::process::exit(if success { 0 } else { 1 })
    }
    sleep()
}

/// Sleeps until the next reset.
pub fn sleep() -> ! {
    loop {
        #[cfg(target_arch = "arm")]
        cortex_m::asm::wfi();
        #[cfg(target_arch = "riscv32")]
        riscv::asm::wfi();
    }
}

/// Logs the panic's message and location, and ends the run as a failure.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    // A message without arguments is logged as it is. One with arguments would need core::fmt
    // on the device (2.6 KB of flash, as panic-probe's `print-defmt` links) to be formatted:
    // its location points at it instead.
    let message = info.message().as_str().unwrap_or("(a formatted message)");
    let (file, line) = info
        .location()
        .map_or(("?", 0), |at| (at.file(), at.line()));
    defmt::error!("panicked at {=str}:{=u32}: {=str}", file, line, message);
    exit(false)
}

/// A fault ends the run as a failure instead of spinning forever.
#[cfg(target_arch = "arm")]
#[allow(unsafe_code)] // cortex-m-rt requires the HardFault handler to be `unsafe fn`.
#[cortex_m_rt::exception]
unsafe fn HardFault(_frame: &cortex_m_rt::ExceptionFrame) -> ! {
    exit(false)
}

/// A trap (illegal instruction, misaligned or faulting access) ends the run as a failure.
#[cfg(target_arch = "riscv32")]
#[allow(unsafe_code)] // riscv-rt calls the handler by its symbol name.
#[unsafe(export_name = "ExceptionHandler")]
fn exception(_frame: &riscv_rt::TrapFrame) -> ! {
    exit(false)
}
