//! SysTick as an instruction counter, a busy-wait delay and the software reset: the parts every
//! emulated Cortex-M board shares.
//!
//! Under `qemu-system-arm -icount shift=0` every instruction advances the virtual clock by 1 ns,
//! and SysTick counts the core clock, so one SysTick count is `10⁹ / clock` instructions (40 at
//! 25 MHz) and the count is the same on every run. (DWT's cycle counter reads 0 under QEMU.)

use super::Counter;
use core::sync::atomic::{AtomicU32, Ordering};
use cortex_m::peripheral::{syst::SystClkSource, SCB, SYST};
use cortex_m_rt::exception;
use embedded_hal::delay::DelayNs;

/// SysTick's largest reload value: it wraps every 2²⁴ counts.
const RELOAD: u32 = 0x00ff_ffff;

/// SysTick wraps, counted by its interrupt (the only writer: a load and a store, which the
/// Cortex-M0 has, where it lacks read-modify-write atomics).
static WRAPS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    WRAPS.store(WRAPS.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
}

/// Instructions executed on a core clocked at `HZ`, from SysTick extended to 64 bits by its
/// wrap interrupt (owns SysTick so nothing else reprograms it).
pub struct Instructions<const HZ: u32>(#[allow(dead_code)] SYST);

impl<const HZ: u32> Instructions<HZ> {
    /// Half-instructions per SysTick count (125 at 16 MHz: 62.5 instructions), so that the
    /// conversion divides by two, a shift, rather than by the clock.
    const HALVES_PER_TICK: u64 = {
        assert!(2_000_000_000 % HZ == 0, "the clock must divide 2 GHz");
        2_000_000_000 / HZ as u64
    };

    /// Starts SysTick from the core clock, wrapping every 2²⁴ counts with an interrupt.
    pub fn start(mut syst: SYST) -> Self {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(RELOAD);
        syst.clear_current();
        syst.enable_interrupt();
        syst.enable_counter();
        // The cleared count reads 0 until SysTick loads the reload value at its first tick, and
        // 0 would read as a whole period elapsed: a count taken at once would be ahead of the
        // next one.
        while SYST::get_current() == 0 {}
        Self(syst)
    }
}

impl<const HZ: u32> Counter for Instructions<HZ> {
    const UNIT: &'static str = "instructions";

    fn now(&mut self) -> u64 {
        loop {
            let wraps = WRAPS.load(Ordering::Relaxed);
            let elapsed = RELOAD - SYST::get_current();
            if WRAPS.load(Ordering::Relaxed) == wraps {
                let ticks = (u64::from(wraps) << 24) + u64::from(elapsed);
                return ticks * Self::HALVES_PER_TICK / 2;
            }
        }
    }
}

/// A busy-wait delay on a core clocked at `HZ`.
#[derive(Debug)]
pub struct SpinDelay<const HZ: u32>;

impl<const HZ: u32> DelayNs for SpinDelay<HZ> {
    fn delay_ns(&mut self, ns: u32) {
        let cycles = u64::from(ns) * u64::from(HZ) / 1_000_000_000;
        cortex_m::asm::delay(u32::try_from(cycles).unwrap_or(u32::MAX));
    }
}

/// A software reset (`SYSRESETREQ`): QEMU reloads the program's sections, and RAM outside them
/// keeps its contents.
pub fn reset() -> ! {
    SCB::sys_reset()
}
