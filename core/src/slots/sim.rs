//! A simulated NOR flash that can lose power in the middle of any operation, for tests.
//!
//! It is as strict as real flash, or stricter:
//! - erase works on whole pages (`ERASE` bytes) and sets them to `0xFF`;
//! - a write programs whole words (`WRITE` bytes) and only onto erased words, so no bit ever
//!   goes from 0 to 1 without an erase (flash with ECC demands the same): anything else is an
//!   error and changes nothing;
//! - each byte is erased or programmed in two steps, its high half then its low half.
//!
//! [`SimFlash::cut_power_after`] makes the power fail after a given number of steps: the
//! operation stops there, possibly leaving a torn byte, and every operation fails until
//! [`SimFlash::restore_power`]. Erase runs from the last byte of the range to the first, so a
//! header at the start of a page is the last thing to go.
//!
//! ```
//! use embedded_storage::nor_flash::{NorFlash, ReadNorFlash};
//! use tinytrain_core::slots::sim::{SimError, SimFlash};
//!
//! let mut flash = SimFlash::<64, 4, 32>::new();
//! flash.write(0, &[0x12, 0x34, 0x56, 0x78])?;
//! assert_eq!(flash.write(0, &[0; 4]), Err(SimError::NotErased));
//!
//! flash.cut_power_after(3); // 1½ bytes
//! assert_eq!(flash.write(4, &[0; 4]), Err(SimError::PowerLoss));
//! flash.restore_power();
//! let mut bytes = [0; 8];
//! flash.read(0, &mut bytes)?;
//! assert_eq!(bytes, [0x12, 0x34, 0x56, 0x78, 0x00, 0x0F, 0xFF, 0xFF]);
//! # Ok::<(), SimError>(())
//! ```

use embedded_storage::nor_flash::{
    check_erase, check_read, check_write, ErrorType, NorFlash, NorFlashError, NorFlashErrorKind,
    ReadNorFlash,
};

/// What went wrong in a [`SimFlash`] operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimError {
    /// An offset or length is not a multiple of the read, write or erase size.
    NotAligned,
    /// The range does not lie inside the flash.
    OutOfBounds,
    /// A write would turn a 0 bit into a 1: the words were not erased.
    NotErased,
    /// The power failed (see [`SimFlash::cut_power_after`]).
    PowerLoss,
}

impl NorFlashError for SimError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            SimError::NotAligned => NorFlashErrorKind::NotAligned,
            SimError::OutOfBounds => NorFlashErrorKind::OutOfBounds,
            SimError::NotErased | SimError::PowerLoss => NorFlashErrorKind::Other,
        }
    }
}

impl From<NorFlashErrorKind> for SimError {
    fn from(kind: NorFlashErrorKind) -> Self {
        match kind {
            NorFlashErrorKind::NotAligned => SimError::NotAligned,
            _ => SimError::OutOfBounds,
        }
    }
}

/// `SIZE` bytes of NOR flash with `WRITE`-byte words and `ERASE`-byte pages, blank (`0xFF`).
#[derive(Clone)]
pub struct SimFlash<const SIZE: usize, const WRITE: usize, const ERASE: usize> {
    bytes: [u8; SIZE],
    power: Power,
}

/// Counts steps and fails the power at the chosen one.
#[derive(Clone, Copy)]
struct Power {
    steps: usize,
    cut_at: Option<usize>,
}

impl Power {
    /// Takes one step, or fails if the power is (or just went) off.
    fn step(&mut self) -> Result<(), SimError> {
        if self.cut_at.is_some_and(|cut| self.steps >= cut) {
            return Err(SimError::PowerLoss);
        }
        self.steps = self.steps.saturating_add(1);
        Ok(())
    }

    fn on(&self) -> Result<(), SimError> {
        match self.cut_at {
            Some(cut) if self.steps >= cut => Err(SimError::PowerLoss),
            _ => Ok(()),
        }
    }
}

impl<const SIZE: usize, const WRITE: usize, const ERASE: usize> SimFlash<SIZE, WRITE, ERASE> {
    /// Blank flash. The sizes must fit: `WRITE` divides `ERASE`, which divides `SIZE`.
    pub const fn new() -> Self {
        const { assert!(WRITE > 0 && ERASE.is_multiple_of(WRITE) && SIZE.is_multiple_of(ERASE)) }
        Self {
            bytes: [0xFF; SIZE],
            power: Power {
                steps: 0,
                cut_at: None,
            },
        }
    }

    /// The contents, as a test or fuzzer reads them.
    pub fn bytes(&self) -> &[u8; SIZE] {
        &self.bytes
    }

    /// The contents, as a test or fuzzer damages them (no step is counted).
    pub fn bytes_mut(&mut self) -> &mut [u8; SIZE] {
        &mut self.bytes
    }

    /// Half-byte steps of erase and program done so far.
    pub fn steps(&self) -> usize {
        self.power.steps
    }

    /// Lets `steps` more half-byte steps happen, then fails the power.
    pub fn cut_power_after(&mut self, steps: usize) {
        self.power.cut_at = Some(self.power.steps.saturating_add(steps));
    }

    /// Turns the power back on, with no cut planned.
    pub fn restore_power(&mut self) {
        self.power.cut_at = None;
    }
}

impl<const SIZE: usize, const WRITE: usize, const ERASE: usize> Default
    for SimFlash<SIZE, WRITE, ERASE>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<const SIZE: usize, const WRITE: usize, const ERASE: usize> ErrorType
    for SimFlash<SIZE, WRITE, ERASE>
{
    type Error = SimError;
}

impl<const SIZE: usize, const WRITE: usize, const ERASE: usize> ReadNorFlash
    for SimFlash<SIZE, WRITE, ERASE>
{
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), SimError> {
        check_read(self, offset, bytes.len())?;
        self.power.on()?;
        let src = range(&mut self.bytes, offset, bytes.len())?;
        bytes.copy_from_slice(src);
        Ok(())
    }

    fn capacity(&self) -> usize {
        SIZE
    }
}

impl<const SIZE: usize, const WRITE: usize, const ERASE: usize> NorFlash
    for SimFlash<SIZE, WRITE, ERASE>
{
    const WRITE_SIZE: usize = WRITE;
    const ERASE_SIZE: usize = ERASE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), SimError> {
        check_erase(self, from, to)?;
        self.power.on()?;
        let len = to.saturating_sub(from) as usize;
        for byte in range(&mut self.bytes, from, len)?.iter_mut().rev() {
            self.power.step()?;
            *byte |= 0xF0;
            self.power.step()?;
            *byte = 0xFF;
        }
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), SimError> {
        check_write(self, offset, bytes.len())?;
        self.power.on()?;
        let dst = range(&mut self.bytes, offset, bytes.len())?;
        if dst.iter().any(|&b| b != 0xFF) {
            return Err(SimError::NotErased);
        }
        for (byte, &value) in dst.iter_mut().zip(bytes) {
            self.power.step()?;
            *byte &= value | 0x0F;
            self.power.step()?;
            *byte &= value;
        }
        Ok(())
    }
}

/// `len` bytes at `offset`, already checked by the `check_*` helpers.
fn range(bytes: &mut [u8], offset: u32, len: usize) -> Result<&mut [u8], SimError> {
    let start = offset as usize;
    bytes
        .get_mut(start..start.saturating_add(len))
        .ok_or(SimError::OutOfBounds)
}
