//! Arm's MPS2+ AN386 (Cortex-M4F) as QEMU emulates it.
//!
//! Under `qemu-system-arm -icount shift=0` every instruction advances the virtual clock by 1 ns,
//! and SysTick runs from the 25 MHz system clock, so one SysTick count is 40 instructions and
//! the count is the same on every run. (DWT's cycle counter reads 0 under QEMU.) The model is
//! kept in RAM that survives a software reset ([`RamFlash`]).

use super::{ram_flash::RamFlash, Board, Counter, Parts};
use core::convert::Infallible;
use core::sync::atomic::{AtomicU32, Ordering};
use cortex_m::peripheral::{syst::SystClkSource, SYST};
use cortex_m_rt::exception;
use embedded_hal::{delay::DelayNs, digital::OutputPin};

/// System clock of the board, Hz.
const CLOCK_HZ: u32 = 25_000_000;
/// Instructions per SysTick count with `-icount shift=0` (1 ns each): 1e9 / 25 MHz.
const INSTRUCTIONS_PER_TICK: u64 = 40;
/// SysTick's largest reload value: it wraps every 2²⁴ counts.
const RELOAD: u32 = 0x00ff_ffff;
/// The FPGA's LED register (bit 0: user LED 0).
const FPGAIO_LED: usize = 0x4002_8000;

/// The emulated MPS2+ AN386 board.
#[derive(Debug)]
pub struct Mps2An386;

impl Board for Mps2An386 {
    const NAME: &'static str = "QEMU mps2-an386 (Cortex-M4F, 25 MHz)";
    type Led = FpgaLed;
    type Delay = SpinDelay;
    type Counter = Instructions;
    type Flash = RamFlash;

    fn init() -> Option<Parts<Self>> {
        let mut syst = cortex_m::Peripherals::take()?.SYST;
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(RELOAD);
        syst.clear_current();
        syst.enable_interrupt();
        syst.enable_counter();
        Some(Parts {
            led: FpgaLed(()),
            delay: SpinDelay,
            counter: Instructions(syst),
            flash: RamFlash::new(),
        })
    }
}

/// User LED 0 of the FPGA I/O block.
#[derive(Debug)]
pub struct FpgaLed(());

impl FpgaLed {
    #[allow(unsafe_code)]
    fn write(&mut self, value: u32) {
        // SAFETY: FPGAIO_LED is the board's LED register, a plain read/write word that only
        // this (single, owned) `FpgaLed` writes.
        unsafe { core::ptr::write_volatile(FPGAIO_LED as *mut u32, value) }
    }
}

impl embedded_hal::digital::ErrorType for FpgaLed {
    type Error = Infallible;
}

impl OutputPin for FpgaLed {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.write(0);
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        self.write(1);
        Ok(())
    }
}

/// A busy-wait delay at the board's clock.
#[derive(Debug)]
pub struct SpinDelay;

impl DelayNs for SpinDelay {
    fn delay_ns(&mut self, ns: u32) {
        let cycles = u64::from(ns) * u64::from(CLOCK_HZ) / 1_000_000_000;
        cortex_m::asm::delay(u32::try_from(cycles).unwrap_or(u32::MAX));
    }
}

/// SysTick wraps, counted by its interrupt.
static WRAPS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    WRAPS.fetch_add(1, Ordering::Relaxed);
}

/// Instructions executed, from SysTick extended to 64 bits by its wrap interrupt (owns SysTick
/// so nothing else reprograms it).
pub struct Instructions(#[allow(dead_code)] SYST);

impl Counter for Instructions {
    const UNIT: &'static str = "instructions";

    fn now(&mut self) -> u64 {
        loop {
            let wraps = WRAPS.load(Ordering::Relaxed);
            let elapsed = RELOAD - SYST::get_current();
            if WRAPS.load(Ordering::Relaxed) == wraps {
                let ticks = (u64::from(wraps) << 24) + u64::from(elapsed);
                return ticks * INSTRUCTIONS_PER_TICK;
            }
        }
    }
}
