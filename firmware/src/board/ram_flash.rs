//! NOR flash emulated in RAM that keeps its contents across a software reset: where the
//! emulated board stores its model.
//!
//! The region (`MODEL_FLASH` in `memory/mps2-an386.x`) lies outside every section of the
//! program. QEMU's loader writes only the ELF's segments, on start and again on a system reset,
//! and the start-up code only `.data` and `.bss`, so after `SCB::sys_reset()` the region holds
//! what was written before. At power-on it holds whatever RAM holds (zeros under QEMU), which
//! no slot's CRC accepts.
//!
//! It behaves as NOR flash: an erase sets whole 4 KiB pages to `0xFF`; a write programs whole
//! 4-byte words at word offsets and can only clear bits (it ANDs, as programming flash does).

use embedded_storage::nor_flash::{
    check_erase, check_read, check_write, ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash,
};

extern "C" {
    static __model_flash_start: u8;
    static __model_flash_end: u8;
}

/// The `MODEL_FLASH` region as NOR flash.
#[derive(Debug)]
pub struct RamFlash {
    start: usize,
    len: usize,
}

impl RamFlash {
    /// The region the linker script reserves. The board creates one, once, in `init`.
    pub(super) fn new() -> Self {
        let start = core::ptr::addr_of!(__model_flash_start) as usize;
        let end = core::ptr::addr_of!(__model_flash_end) as usize;
        Self {
            start,
            len: end.saturating_sub(start),
        }
    }

    /// Reads the byte at `offset`, which the caller checked is inside the region.
    #[allow(unsafe_code)]
    fn get(&self, offset: usize) -> u8 {
        // SAFETY: `offset < len`, so the address is inside MODEL_FLASH: RAM that no section,
        // stack or other code uses, reached only through this driver. Volatile: the contents
        // may be anything at power-on and must be read as found.
        unsafe { core::ptr::read_volatile((self.start + offset) as *const u8) }
    }

    /// Writes the byte at `offset`, which the caller checked is inside the region.
    #[allow(unsafe_code)]
    fn set(&mut self, offset: usize, value: u8) {
        // SAFETY: as in `get`; `&mut self` makes this the only access.
        unsafe { core::ptr::write_volatile((self.start + offset) as *mut u8, value) }
    }
}

impl ErrorType for RamFlash {
    type Error = NorFlashErrorKind;
}

impl ReadNorFlash for RamFlash {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), NorFlashErrorKind> {
        check_read(self, offset, bytes.len())?;
        for (k, byte) in (offset as usize..).zip(bytes) {
            *byte = self.get(k);
        }
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.len
    }
}

impl NorFlash for RamFlash {
    const WRITE_SIZE: usize = 4;
    const ERASE_SIZE: usize = 4096;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), NorFlashErrorKind> {
        check_erase(self, from, to)?;
        for k in from as usize..to as usize {
            self.set(k, 0xFF);
        }
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), NorFlashErrorKind> {
        check_write(self, offset, bytes.len())?;
        for (k, &value) in (offset as usize..).zip(bytes) {
            let old = self.get(k);
            self.set(k, old & value);
        }
        Ok(())
    }
}
