//! Little-endian fields read and written at a cursor, with no panicking path: a read past the
//! end is an error naming the part of the blob, a write past the end is dropped (the caller
//! sized the buffer first).

use crate::{Error, Section};

/// Reads fields one after the other from a part of a blob.
pub(super) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    section: Section,
}

impl<'a> Reader<'a> {
    /// Reads `bytes` from the start; errors name `section`.
    pub(super) fn new(bytes: &'a [u8], section: Section) -> Self {
        Self {
            bytes,
            at: 0,
            section,
        }
    }

    /// Bytes not read yet.
    pub(super) fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.at)
    }

    /// The next `n` bytes.
    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self.at.checked_add(n);
        let taken = end.and_then(|end| self.bytes.get(self.at..end));
        match (taken, end) {
            (Some(taken), Some(end)) => {
                self.at = end;
                Ok(taken)
            }
            _ => Err(self.malformed("it ends before its last field")),
        }
    }

    /// The next `N` bytes as an array.
    pub(super) fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut a = [0u8; N];
        a.iter_mut().zip(self.take(N)?).for_each(|(d, s)| *d = *s);
        Ok(a)
    }

    pub(super) fn u8(&mut self) -> Result<u8, Error> {
        Ok(u8::from_le_bytes(self.array()?))
    }

    pub(super) fn u16(&mut self) -> Result<u16, Error> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub(super) fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub(super) fn u64(&mut self) -> Result<u64, Error> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub(super) fn f32(&mut self) -> Result<f32, Error> {
        Ok(f32::from_le_bytes(self.array()?))
    }

    /// Zero bytes up to the next multiple of 4 (padding, and fields reserved for later
    /// versions, must be 0 so that every blob has one encoding).
    pub(super) fn zeros_to_4(&mut self) -> Result<(), Error> {
        let pad = padding(self.at);
        self.zeros(pad)
    }

    /// `n` bytes that must be 0.
    pub(super) fn zeros(&mut self, n: usize) -> Result<(), Error> {
        if self.take(n)?.iter().any(|&b| b != 0) {
            return Err(self.malformed("a reserved or padding byte is not 0"));
        }
        Ok(())
    }

    /// The error for this part of the blob.
    pub(super) fn malformed(&self, problem: &'static str) -> Error {
        Error::MalformedSection {
            section: self.section,
            problem,
        }
    }
}

/// Writes fields one after the other into a buffer that the caller sized.
pub(super) struct Writer<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl<'a> Writer<'a> {
    pub(super) fn new(out: &'a mut [u8]) -> Self {
        Self { out, at: 0 }
    }

    /// The bytes written so far.
    pub(super) fn written(&self) -> &[u8] {
        self.out.get(..self.at).unwrap_or(&[])
    }

    pub(super) fn put(&mut self, bytes: &[u8]) {
        let end = self.at.saturating_add(bytes.len());
        if let Some(dst) = self.out.get_mut(self.at..end) {
            // Element by element: lengths match, and no panicking path is left behind.
            dst.iter_mut().zip(bytes).for_each(|(d, s)| *d = *s);
        }
        self.at = end;
    }

    pub(super) fn u8(&mut self, v: u8) {
        self.put(&[v]);
    }

    pub(super) fn u16(&mut self, v: u16) {
        self.put(&v.to_le_bytes());
    }

    pub(super) fn u32(&mut self, v: u32) {
        self.put(&v.to_le_bytes());
    }

    pub(super) fn u64(&mut self, v: u64) {
        self.put(&v.to_le_bytes());
    }

    pub(super) fn f32(&mut self, v: f32) {
        self.put(&v.to_le_bytes());
    }

    /// Zero bytes up to the next multiple of 4.
    pub(super) fn zeros_to_4(&mut self) {
        for _ in 0..padding(self.at) {
            self.u8(0);
        }
    }
}

/// Bytes from `at` to the next multiple of 4.
pub(super) const fn padding(at: usize) -> usize {
    (4 - at % 4) % 4
}

/// `n` rounded up to a multiple of 4 (saturating).
pub(super) const fn round_to_4(n: usize) -> usize {
    n.saturating_add(padding(n))
}

/// The `f32` at value index `k` of little-endian `bytes` (0 past the end: callers check the
/// length first).
pub(super) fn f32_at(bytes: &[u8], k: usize) -> f32 {
    let mut a = [0u8; 4];
    let at = k.saturating_mul(4);
    if let Some(src) = bytes.get(at..at.saturating_add(4)) {
        a.iter_mut().zip(src).for_each(|(d, s)| *d = *s);
    }
    f32::from_le_bytes(a)
}
