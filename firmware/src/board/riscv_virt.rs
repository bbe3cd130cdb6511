//! QEMU's `virt` RISC-V board with a 32-bit core, run as an rv32imc microcontroller: the
//! program is loaded into its RAM (`-bios none`) and runs in machine mode. QEMU counts
//! instructions in `minstret` (with `-icount`, exactly those executed), and its test device
//! resets the machine. The board has no LED: the status LED is [`NoLed`].
//!
//! The model is kept in RAM that survives a reset ([`RamFlash`]): QEMU's loader rewrites only
//! the program's sections on a reset.

use super::ram_flash::RamFlash;
use super::{Board, Counter, Parts};
use core::convert::Infallible;
use core::sync::atomic::{AtomicBool, Ordering};
use embedded_hal::delay::DelayNs;
use embedded_hal::digital::{ErrorType, OutputPin};

/// QEMU's test device (SiFive's "test finisher"): writing [`RESET`] resets the machine.
const TEST_DEVICE: usize = 0x0010_0000;
const RESET: u32 = 0x7777;
/// The clock the delay assumes, Hz: `-icount shift=0` runs one instruction per nanosecond.
const CLOCK_HZ: u32 = 1_000_000_000;

/// Whether `init` handed out the parts.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// The emulated `virt` board.
#[derive(Debug)]
pub struct RiscvVirt;

impl Board for RiscvVirt {
    type Led = NoLed;
    type Delay = SpinDelay;
    type Counter = Instructions;
    type Flash = RamFlash;

    fn name() -> &'static str {
        "QEMU virt (RISC-V rv32imc)"
    }

    fn init() -> Option<Parts<Self>> {
        // A load and a store (rv32imc has no atomic read-modify-write): `init` runs on the one
        // hart, before any interrupt is enabled.
        if TAKEN.load(Ordering::Relaxed) {
            return None;
        }
        TAKEN.store(true, Ordering::Relaxed);
        Some(Parts {
            led: NoLed(()),
            delay: SpinDelay,
            counter: Instructions(()),
            flash: RamFlash::new(),
        })
    }

    #[allow(unsafe_code)]
    fn reset() -> ! {
        // SAFETY: TEST_DEVICE is QEMU's test device; writing RESET to it resets the machine.
        unsafe { core::ptr::write_volatile(TEST_DEVICE as *mut u32, RESET) };
        loop {
            riscv::asm::wfi();
        }
    }
}

/// Instructions retired, from `minstret`.
#[derive(Debug)]
pub struct Instructions(());

impl Counter for Instructions {
    const UNIT: &'static str = "instructions";

    fn now(&mut self) -> u64 {
        riscv::register::minstret::read64()
    }
}

/// A busy-wait delay.
#[derive(Debug)]
pub struct SpinDelay;

impl DelayNs for SpinDelay {
    fn delay_ns(&mut self, ns: u32) {
        let cycles = u64::from(ns) * u64::from(CLOCK_HZ) / 1_000_000_000;
        riscv::asm::delay(u32::try_from(cycles).unwrap_or(u32::MAX));
    }
}

/// A status LED on a board that has none: setting it does nothing.
#[derive(Debug)]
pub struct NoLed(());

impl ErrorType for NoLed {
    type Error = Infallible;
}

impl OutputPin for NoLed {
    fn set_low(&mut self) -> Result<(), Infallible> {
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}
