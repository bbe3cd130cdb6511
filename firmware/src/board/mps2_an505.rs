//! Arm's MPS2+ AN505 as QEMU emulates it: a Cortex-M33 (with FPU) in the IoT Kit subsystem,
//! 20 MHz. It boots in the Secure state with no SAU region set, so everything is Secure: the
//! program runs from the Secure alias of the code SRAM (`0x1000_0000`, where the Secure vector
//! table is) and uses the Secure alias of SSRAM2 and 3 (`0x3800_0000`, 4 MiB). The memory
//! protection controllers in front of them let Secure accesses through as they come out of
//! reset, and so does the peripheral protection controller in front of the FPGA I/O block.
//!
//! The model is kept in RAM that survives a software reset ([`RamFlash`]).

use super::fpga_led::FpgaLed;
use super::ram_flash::RamFlash;
use super::systick::{self, Instructions, SpinDelay};
use super::{Board, Parts};

/// System clock, Hz: SysTick counts it (the IoT Kit wires no reference clock).
const CLOCK_HZ: u32 = 20_000_000;
/// The FPGA I/O block's LED register, Secure alias.
const FPGAIO_LED: usize = 0x5030_2000;

/// The emulated MPS2+ AN505 board.
#[derive(Debug)]
pub struct Mps2An505;

impl Board for Mps2An505 {
    type Led = FpgaLed<FPGAIO_LED>;
    type Delay = SpinDelay<CLOCK_HZ>;
    type Counter = Instructions<CLOCK_HZ>;
    type Flash = RamFlash;

    fn name() -> &'static str {
        "QEMU mps2-an505 (Cortex-M33, Secure, 20 MHz)"
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
