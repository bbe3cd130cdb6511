//! Arm's MPS2+ boards as QEMU emulates them, one memory map for three cores: `mps2-an385`
//! (Cortex-M3), `mps2-an386` (Cortex-M4F) and `mps2-an500` (Cortex-M7). 4 MiB of code memory at
//! 0, 4 MiB of SRAM at `0x2000_0000`, a 25 MHz system clock; the core is read from `CPUID`, so
//! one build for `thumbv7em-none-eabihf` runs on the M4F and the M7 alike.
//!
//! The model is kept in RAM that survives a software reset ([`RamFlash`]).

use super::cmsdk_uart::CmsdkUart;
use super::fpga_led::FpgaLed;
use super::ram_flash::RamFlash;
use super::systick::{self, Instructions, SpinDelay};
use super::{Board, Parts, SerialBoard};

/// System clock of the boards, Hz.
const CLOCK_HZ: u32 = 25_000_000;
/// The FPGA I/O block's LED register.
const FPGAIO_LED: usize = 0x4002_8000;
/// UART0 of the APB subsystem: QEMU's first `-serial`.
const UART0: usize = 0x4000_4000;
/// The System Control Block's `CPUID` register.
const CPUID: usize = 0xE000_ED00;

/// An emulated MPS2+ board.
#[derive(Debug)]
pub struct Mps2;

impl Board for Mps2 {
    type Led = FpgaLed<FPGAIO_LED>;
    type Delay = SpinDelay<CLOCK_HZ>;
    type Counter = Instructions<CLOCK_HZ>;
    type Flash = RamFlash;

    fn name() -> &'static str {
        match part() {
            0xc23 => "QEMU mps2-an385 (Cortex-M3, 25 MHz)",
            0xc24 => "QEMU mps2-an386 (Cortex-M4F, 25 MHz)",
            0xc27 => "QEMU mps2-an500 (Cortex-M7, 25 MHz)",
            _ => "QEMU MPS2+ (unknown core, 25 MHz)",
        }
    }

    fn init() -> Option<Parts<Self>> {
        let syst = cortex_m::Peripherals::take()?.SYST;
        Some(Parts {
            led: FpgaLed::new(),
            delay: SpinDelay,
            counter: Instructions::start(syst),
            flash: RamFlash::new(),
        })
    }

    fn reset() -> ! {
        systick::reset()
    }
}

impl SerialBoard for Mps2 {
    type Serial = CmsdkUart<UART0>;
    const BAUD: u32 = 115_200;
    /// Instructions: one per virtual nanosecond under `-icount shift=0`.
    const COUNTS_PER_SECOND: u64 = 1_000_000_000;

    fn core() -> &'static str {
        match part() {
            0xc23 => "Cortex-M3",
            0xc24 => "Cortex-M4F",
            0xc27 => "Cortex-M7",
            _ => "Cortex-M",
        }
    }

    fn init_serial() -> Option<(Parts<Self>, Self::Serial)> {
        let parts = Self::init()?;
        Some((parts, CmsdkUart::new(CLOCK_HZ, Self::BAUD)))
    }
}

/// `CPUID`'s part number, bits 4..16: `0xc24` for a Cortex-M4.
fn part() -> u32 {
    (cpuid() >> 4) & 0xfff
}

/// The core's `CPUID` word.
#[allow(unsafe_code)]
fn cpuid() -> u32 {
    // SAFETY: CPUID is a read-only word of the System Control Block, present on every
    // Cortex-M; reading it has no side effect.
    unsafe { core::ptr::read_volatile(CPUID as *const u32) }
}
