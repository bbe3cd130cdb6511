//! CRC-32 (IEEE 802.3, as in zlib and PNG): reflected polynomial `0xEDB88320`, initial value and
//! final XOR `0xFFFFFFFF`. A 16-entry table keeps it small for flash.

// Evaluated at compile time: an out-of-range index here would fail the build, not the device.
#[allow(clippy::indexing_slicing)]
const TABLE: [u32; 16] = {
    let mut table = [0u32; 16];
    let mut i = 0;
    while i < 16 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 4 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// A running CRC-32.
///
/// ```
/// use tinytrain_core::crc::Crc32;
/// let mut crc = Crc32::new();
/// crc.update(b"123456789");
/// assert_eq!(crc.finish(), 0xCBF4_3926);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Crc32(u32);

impl Crc32 {
    /// An empty CRC.
    pub const fn new() -> Self {
        Self(0xFFFF_FFFF)
    }

    /// Adds `bytes`.
    ///
    /// Never inlined: one copy of the loop in flash, not one unrolled for each caller.
    #[inline(never)]
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            let mut c = self.0 ^ u32::from(b);
            for _ in 0..2 {
                let low = TABLE.get((c & 0xF) as usize).copied().unwrap_or(0);
                c = low ^ (c >> 4);
            }
            self.0 = c;
        }
    }

    /// The CRC of everything added.
    pub const fn finish(self) -> u32 {
        !self.0
    }
}

impl Default for Crc32 {
    fn default() -> Self {
        Self::new()
    }
}

/// The CRC-32 of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = Crc32::new();
    crc.update(bytes);
    crc.finish()
}
