//! User LED 0 of the MPS2+ FPGA I/O block (`FPGAIO`), a plain register whose bit 0 lights it.

use core::convert::Infallible;
use embedded_hal::digital::{ErrorType, OutputPin};

/// The LED whose register is at `ADDRESS` (the FPGA I/O block's `LED` word).
#[derive(Debug)]
pub struct FpgaLed<const ADDRESS: usize>(());

impl<const ADDRESS: usize> FpgaLed<ADDRESS> {
    /// The LED; the board creates one, once, in `init`.
    pub(super) fn new() -> Self {
        Self(())
    }

    #[allow(unsafe_code)]
    fn write(&mut self, value: u32) {
        // SAFETY: ADDRESS is the board's LED register, a plain read/write word that only this
        // (single, owned) `FpgaLed` writes.
        unsafe { core::ptr::write_volatile(ADDRESS as *mut u32, value) }
    }
}

impl<const ADDRESS: usize> ErrorType for FpgaLed<ADDRESS> {
    type Error = Infallible;
}

impl<const ADDRESS: usize> OutputPin for FpgaLed<ADDRESS> {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.write(0);
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        self.write(1);
        Ok(())
    }
}
