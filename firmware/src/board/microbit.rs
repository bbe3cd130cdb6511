//! The BBC micro:bit (v1) as QEMU emulates it: an nRF51822 with a Cortex-M0 at 16 MHz, 256 KiB
//! of flash and 16 KiB of RAM. The model is kept in the top 8 KiB of flash, written through the
//! flash controller ([`Nvmc`]), so it survives a reset and the training memory has the RAM.
//!
//! The nRF51 has no HAL crate of the embedded-hal 1.0 generation whose flash driver erases its
//! 1 KiB pages (`nrf-hal-common`'s assumes the nRF52's 4 KiB), so the few registers used here
//! are written directly, as the nRF51 Reference Manual (v3.0, chapters 6 and 14) gives them.

use super::systick::{self, Instructions, SpinDelay};
use super::{Board, Parts};
use core::convert::Infallible;
use embedded_hal::digital::{self, OutputPin};
use embedded_storage::nor_flash::{
    check_erase, check_read, check_write, ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash,
};

/// The core clock, Hz (HCLK: always 16 MHz on the nRF51).
const CLOCK_HZ: u32 = 16_000_000;

/// GPIO: set and clear output bits, make pins outputs.
const GPIO_OUTSET: usize = 0x5000_0508;
const GPIO_OUTCLR: usize = 0x5000_050C;
const GPIO_DIRSET: usize = 0x5000_0518;
/// The LED matrix's first row (driven high) and first column (driven low) light its top-left
/// LED.
const ROW_1: u32 = 1 << 13;
const COLUMN_1: u32 = 1 << 4;

/// NVMC: ready flag, write/erase enable, page erase.
const NVMC_READY: usize = 0x4001_E400;
const NVMC_CONFIG: usize = 0x4001_E504;
const NVMC_ERASEPAGE: usize = 0x4001_E508;
/// `CONFIG` values: read only, write enabled, erase enabled.
const READ_ONLY: u32 = 0;
const WRITE_ENABLED: u32 = 1;
const ERASE_ENABLED: u32 = 2;

extern "C" {
    static __model_flash_start: u8;
    static __model_flash_end: u8;
}

/// The emulated micro:bit.
#[derive(Debug)]
pub struct Microbit;

impl Board for Microbit {
    type Led = MatrixLed;
    type Delay = SpinDelay<CLOCK_HZ>;
    type Counter = Instructions<CLOCK_HZ>;
    type Flash = Nvmc;

    fn name() -> &'static str {
        "QEMU microbit (nRF51822, Cortex-M0, 16 MHz)"
    }

    fn init() -> Option<Parts<Self>> {
        let syst = cortex_m::Peripherals::take()?.SYST;
        write(GPIO_DIRSET, ROW_1 | COLUMN_1);
        write(GPIO_OUTCLR, ROW_1 | COLUMN_1);
        Some(Parts {
            led: MatrixLed(()),
            delay: SpinDelay,
            counter: Instructions::start(syst),
            flash: Nvmc::new(),
        })
    }

    fn reset() -> ! {
        systick::reset()
    }
}

/// Writes a peripheral register.
#[allow(unsafe_code)]
fn write(register: usize, value: u32) {
    // SAFETY: every caller passes one of the GPIO or NVMC registers above, write-only or plain
    // words of the nRF51's peripherals, which only this board's parts (each created once, in
    // `init`) write.
    unsafe { core::ptr::write_volatile(register as *mut u32, value) }
}

/// Reads a peripheral register.
#[allow(unsafe_code)]
fn read(register: usize) -> u32 {
    // SAFETY: as in `write`; reading NVMC's READY has no side effect.
    unsafe { core::ptr::read_volatile(register as *const u32) }
}

/// The top-left LED of the 5×5 matrix.
#[derive(Debug)]
pub struct MatrixLed(());

impl digital::ErrorType for MatrixLed {
    type Error = Infallible;
}

impl OutputPin for MatrixLed {
    fn set_low(&mut self) -> Result<(), Infallible> {
        write(GPIO_OUTCLR, ROW_1);
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        write(GPIO_OUTSET, ROW_1);
        Ok(())
    }
}

/// The `MODEL_FLASH` pages of `memory/microbit.x` through the nRF51's flash controller: an
/// erase sets a 1 KiB page to `0xFF`, a write programs whole words (clearing bits only).
#[derive(Debug)]
pub struct Nvmc {
    start: usize,
    len: usize,
}

impl Nvmc {
    fn new() -> Self {
        let start = core::ptr::addr_of!(__model_flash_start) as usize;
        let end = core::ptr::addr_of!(__model_flash_end) as usize;
        Self {
            start,
            len: end.saturating_sub(start),
        }
    }

    /// Waits until the controller has finished writing or erasing.
    fn wait(&self) {
        while read(NVMC_READY) & 1 == 0 {}
    }

    /// Programs the word at `offset` (checked by the caller: aligned, inside the region).
    #[allow(unsafe_code)]
    fn program(&mut self, offset: usize, word: u32) {
        // SAFETY: `offset` is a word inside MODEL_FLASH, flash that no section uses and only
        // this driver (created once) writes; writes are enabled, as programming requires.
        unsafe { core::ptr::write_volatile((self.start + offset) as *mut u32, word) };
        self.wait();
    }
}

impl ErrorType for Nvmc {
    type Error = NorFlashErrorKind;
}

impl ReadNorFlash for Nvmc {
    const READ_SIZE: usize = 1;

    #[allow(unsafe_code)]
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), NorFlashErrorKind> {
        check_read(self, offset, bytes.len())?;
        for (k, byte) in (offset as usize..).zip(bytes) {
            // SAFETY: `check_read` kept `k` inside MODEL_FLASH, readable flash. Volatile: the
            // controller changes it behind the compiler's back.
            *byte = unsafe { core::ptr::read_volatile((self.start + k) as *const u8) };
        }
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.len
    }
}

impl NorFlash for Nvmc {
    const WRITE_SIZE: usize = 4;
    const ERASE_SIZE: usize = 1024;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), NorFlashErrorKind> {
        check_erase(self, from, to)?;
        write(NVMC_CONFIG, ERASE_ENABLED);
        for page in (from as usize..to as usize).step_by(Self::ERASE_SIZE) {
            write(NVMC_ERASEPAGE, (self.start + page) as u32);
            self.wait();
        }
        write(NVMC_CONFIG, READ_ONLY);
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), NorFlashErrorKind> {
        check_write(self, offset, bytes.len())?;
        write(NVMC_CONFIG, WRITE_ENABLED);
        for (k, word) in (offset as usize..).step_by(4).zip(bytes.chunks_exact(4)) {
            // `chunks_exact(4)` gives four bytes; all ones would leave the word as it is.
            self.program(k, u32::from_le_bytes(word.try_into().unwrap_or([0xFF; 4])));
        }
        write(NVMC_CONFIG, READ_ONLY);
        Ok(())
    }
}
