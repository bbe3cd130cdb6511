//! Reading a blob a window at a time, from memory or from flash: [`Source`], and the sequential
//! reader the checks and the loader walk it with.
//!
//! A device checks and loads a model straight from its flash slot through a window of a few
//! dozen bytes, so no buffer the size of the model is ever needed; a blob in memory is read the
//! same way.

use crate::{Error, Section};

/// Where a blob is read from: memory, a flash slot, a link's receive buffer.
pub trait Source {
    /// Reads must start at a multiple of this and be a multiple of it long (a flash's read
    /// unit); 1 for memory.
    fn align(&self) -> usize {
        1
    }

    /// Bytes that can be read, from 0: the blob lies within them.
    fn capacity(&self) -> usize;

    /// Fills `buf` with the bytes at `at..at + buf.len()`, which lie within
    /// [`Self::capacity`] and are aligned as [`Self::align`] asks.
    fn read(&mut self, at: usize, buf: &mut [u8]) -> Result<(), Error>;
}

impl Source for &[u8] {
    fn capacity(&self) -> usize {
        self.len()
    }

    fn read(&mut self, at: usize, buf: &mut [u8]) -> Result<(), Error> {
        let found = self.len();
        let end = at.saturating_add(buf.len());
        let src = self
            .get(at..end)
            .ok_or(Error::Truncated { needed: end, found })?;
        buf.iter_mut().zip(src).for_each(|(d, s)| *d = *s);
        Ok(())
    }
}

/// Reads the bytes `at..end` of a source in order through `window`; errors name `section`.
pub(super) struct Stream<'s, S: Source + ?Sized> {
    source: &'s mut S,
    window: &'s mut [u8],
    /// The source's offset of `window[0]`, and how many bytes of the window hold data.
    start: usize,
    filled: usize,
    at: usize,
    end: usize,
    section: Section,
}

impl<'s, S: Source + ?Sized> Stream<'s, S> {
    pub(super) fn new(
        source: &'s mut S,
        window: &'s mut [u8],
        at: usize,
        end: usize,
        section: Section,
    ) -> Self {
        Self {
            source,
            window,
            start: 0,
            filled: 0,
            at,
            end,
            section,
        }
    }

    /// Where the next byte is read.
    pub(super) fn position(&self) -> usize {
        self.at
    }

    /// Bytes left before the end.
    pub(super) fn remaining(&self) -> usize {
        self.end.saturating_sub(self.at)
    }

    /// From here on, errors name `section`.
    pub(super) fn enter(&mut self, section: Section) {
        self.section = section;
    }

    /// Reads up to `end` from here on (within the source).
    pub(super) fn limit(&mut self, end: usize) {
        self.end = end;
    }

    /// The next `n` bytes (at most a window's worth, and never past the end), handed to `f` in
    /// pieces that follow each other.
    pub(super) fn pieces(
        &mut self,
        n: usize,
        mut f: impl FnMut(&[u8]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        if n > self.remaining() {
            return Err(self.malformed("it ends before its last field"));
        }
        let mut left = n;
        while left > 0 {
            self.fill()?;
            let from = self.at - self.start;
            let take = left.min(self.filled - from);
            let piece = self.window.get(from..from + take).unwrap_or(&[]);
            f(piece)?;
            self.at += take;
            left -= take;
        }
        Ok(())
    }

    /// The next byte.
    pub(super) fn byte(&mut self) -> Result<u8, Error> {
        let [b] = self.array()?;
        Ok(b)
    }

    /// The next `N` bytes.
    pub(super) fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut a = [0u8; N];
        let mut k = 0;
        self.pieces(N, |piece| {
            for (d, b) in a.iter_mut().skip(k).zip(piece) {
                *d = *b;
            }
            k += piece.len();
            Ok(())
        })?;
        Ok(a)
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

    /// `n` bytes that must be 0 (padding, and fields reserved for later versions, are 0, so
    /// that every blob has one encoding).
    pub(super) fn zeros(&mut self, n: usize) -> Result<(), Error> {
        let mut nonzero = false;
        self.pieces(n, |p| {
            nonzero |= p.iter().any(|&b| b != 0);
            Ok(())
        })?;
        if nonzero {
            return Err(self.malformed("a reserved or padding byte is not 0"));
        }
        Ok(())
    }

    /// Zero bytes up to the next multiple of 4.
    pub(super) fn zeros_to_4(&mut self) -> Result<(), Error> {
        self.zeros(super::bytes::padding(self.at))
    }

    /// The error for this part of the blob.
    pub(super) fn malformed(&self, problem: &'static str) -> Error {
        Error::MalformedSection {
            section: self.section,
            problem,
        }
    }

    /// Makes the window hold the byte at `at`: an aligned read of as much as the window takes.
    fn fill(&mut self) -> Result<(), Error> {
        if self.at >= self.start && self.at < self.start + self.filled {
            return Ok(());
        }
        let align = self.source.align().max(1);
        let size = self.window.len() - self.window.len() % align;
        let start = self.at - self.at % align;
        let n = size.min(self.source.capacity().saturating_sub(start));
        if n <= self.at - start {
            return Err(if size == 0 {
                Error::BufferSize {
                    needed: align,
                    found: self.window.len(),
                }
            } else {
                Error::Truncated {
                    needed: self.at + 1,
                    found: self.source.capacity(),
                }
            });
        }
        let window = self.window.get_mut(..n).unwrap_or(&mut []);
        self.source.read(start, window)?;
        (self.start, self.filled) = (start, n);
        Ok(())
    }
}

/// Validates UTF-8 a byte at a time, by the rules of `core::str::from_utf8` (the well-formed
/// byte sequences of the Unicode standard, table 3-7: no overlong forms, no surrogates, nothing
/// above U+10FFFF), so that a name is checked as it streams past.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Utf8 {
    /// Continuation bytes still needed, and the range the next one must lie in.
    need: u8,
    lo: u8,
    hi: u8,
}

impl Utf8 {
    /// Takes the next byte; false if it cannot continue a well-formed sequence.
    pub(super) fn push(&mut self, b: u8) -> bool {
        if self.need > 0 {
            if b < self.lo || b > self.hi {
                return false;
            }
            *self = Self {
                need: self.need - 1,
                lo: 0x80,
                hi: 0xBF,
            };
            return true;
        }
        let (need, lo, hi) = match b {
            0x00..=0x7F => return true,
            0xC2..=0xDF => (1, 0x80, 0xBF),
            0xE0 => (2, 0xA0, 0xBF),
            0xE1..=0xEC | 0xEE..=0xEF => (2, 0x80, 0xBF),
            0xED => (2, 0x80, 0x9F),
            0xF0 => (3, 0x90, 0xBF),
            0xF1..=0xF3 => (3, 0x80, 0xBF),
            0xF4 => (3, 0x80, 0x8F),
            _ => return false,
        };
        *self = Self { need, lo, hi };
        true
    }

    /// No sequence is left unfinished.
    pub(super) fn complete(&self) -> bool {
        self.need == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Byte by byte, the same verdict as `core::str::from_utf8` on the whole.
        #[test]
        fn utf8_as_the_standard_library_sees_it(bytes in proptest::collection::vec(any::<u8>(), 0..12)) {
            let mut v = Utf8::default();
            let ok = bytes.iter().all(|&b| v.push(b)) && v.complete();
            prop_assert_eq!(ok, core::str::from_utf8(&bytes).is_ok());
        }

        #[test]
        fn utf8_of_any_string(s in ".{0,8}") {
            let mut v = Utf8::default();
            prop_assert!(s.bytes().all(|b| v.push(b)) && v.complete());
        }
    }

    #[test]
    fn a_stream_reads_across_windows_of_any_alignment() {
        /// Bytes in memory that must be read four at a time.
        struct Words<'a>(&'a [u8]);
        impl Source for Words<'_> {
            fn align(&self) -> usize {
                4
            }
            fn capacity(&self) -> usize {
                self.0.len()
            }
            fn read(&mut self, at: usize, buf: &mut [u8]) -> Result<(), Error> {
                assert!(
                    at.is_multiple_of(4) && buf.len().is_multiple_of(4),
                    "{at} {}",
                    buf.len()
                );
                buf.copy_from_slice(&self.0[at..at + buf.len()]);
                Ok(())
            }
        }
        let bytes: std::vec::Vec<u8> = (0..40).collect();
        let mut source = Words(&bytes);
        let mut window = [0u8; 9]; // 8 usable
        let mut s = Stream::new(&mut source, &mut window, 3, 40, Section::Header);
        assert_eq!(s.byte(), Ok(3));
        assert_eq!(s.u32(), Ok(u32::from_le_bytes([4, 5, 6, 7])));
        assert_eq!(
            s.u64(),
            Ok(u64::from_le_bytes([8, 9, 10, 11, 12, 13, 14, 15]))
        );
        let mut seen = std::vec::Vec::new();
        s.pieces(20, |p| {
            seen.extend_from_slice(p);
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, (16..36).collect::<std::vec::Vec<u8>>());
        assert!(s.u64().is_err(), "past the end");
        let mut tiny = [0u8; 3];
        let mut s = Stream::new(&mut source, &mut tiny, 0, 40, Section::Header);
        assert_eq!(
            s.byte(),
            Err(Error::BufferSize {
                needed: 4,
                found: 3
            })
        );
    }
}
