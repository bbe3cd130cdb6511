//! Little-endian fields read from a buffer and written to a [`Sink`], with no panicking path: a
//! read past the end is an error naming the part of the blob; a write that fails is kept as the
//! error of the whole.

use crate::crc::Crc32;
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

/// Where an encoded blob goes, a few bytes at a time: a buffer, or a flash slot through a small
/// window ([`crate::slots`]).
pub trait Sink {
    /// Takes the next bytes of the blob.
    fn put(&mut self, bytes: &[u8]) -> Result<(), Error>;
}

/// A buffer as a [`Sink`]: bytes past its end are an error.
pub(super) struct SliceSink<'a> {
    pub(super) out: &'a mut [u8],
    pub(super) at: usize,
}

impl Sink for SliceSink<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let end = self.at.saturating_add(bytes.len());
        let found = self.out.len();
        let dst = self
            .out
            .get_mut(self.at..end)
            .ok_or(Error::BufferSize { needed: end, found })?;
        dst.iter_mut().zip(bytes).for_each(|(d, s)| *d = *s);
        self.at = end;
        Ok(())
    }
}

/// Writes fields one after the other into a [`Sink`], keeping the CRC of what it wrote and the
/// first error (later writes are then dropped).
pub(super) struct Writer<'k, K: Sink + ?Sized> {
    sink: &'k mut K,
    at: usize,
    crc: Crc32,
    error: Option<Error>,
}

impl<'k, K: Sink + ?Sized> Writer<'k, K> {
    pub(super) fn new(sink: &'k mut K) -> Self {
        Self {
            sink,
            at: 0,
            crc: Crc32::new(),
            error: None,
        }
    }

    /// The CRC of everything written so far.
    pub(super) fn crc(&self) -> u32 {
        self.crc.finish()
    }

    /// Bytes written, or the first error.
    pub(super) fn finish(self) -> Result<usize, Error> {
        self.error.map_or(Ok(self.at), Err)
    }

    pub(super) fn put(&mut self, bytes: &[u8]) {
        if self.error.is_some() {
            return;
        }
        match self.sink.put(bytes) {
            Ok(()) => {
                self.crc.update(bytes);
                self.at = self.at.saturating_add(bytes.len());
            }
            Err(e) => self.error = Some(e),
        }
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
        let zeros = [0u8; 3];
        self.put(zeros.get(..padding(self.at)).unwrap_or(&[]));
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
