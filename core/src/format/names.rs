//! Column names and class labels: a list of UTF-8 strings, encoded as a count (`u16`) and then
//! each name as its length in bytes (`u8`, at most [`MAX_NAME_LEN`]) and its bytes.
//!
//! A loaded model's names live in a byte area the caller provides ([`super::Buffers::names`]),
//! sized with [`names_len`] (names known in advance) or [`names_capacity`] (a bound), so a
//! device keeps them in a `static` and nothing is allocated.
//!
//! ```
//! use tinytrain_core::format::{names_capacity, names_len, Names};
//! const INPUTS: [&str; 2] = ["temperature", "humidity"];
//! const AREA: usize = names_len(&INPUTS);
//! assert_eq!(AREA, 2 + (1 + 11) + (1 + 8));
//! assert!(names_capacity(2, 11) >= AREA);
//!
//! let names = Names::new(&INPUTS)?;
//! assert_eq!((names.len(), names.get(1)), (2, Some("humidity")));
//! assert_eq!(names.position("humidity"), Some(1));
//! # Ok::<(), tinytrain_core::Error>(())
//! ```

use super::bytes::{Reader, Sink, Writer};
use super::source::{Source, Stream, Utf8};
use super::MAX_NAME_LEN;
use crate::{Error, Section};

/// Payload bytes of a list of names: 2 for the count, then one length byte and the bytes of
/// each name.
pub const fn names_len(names: &[&str]) -> usize {
    let mut total: usize = 2;
    let mut rest = names;
    while let [name, tail @ ..] = rest {
        total = total.saturating_add(1).saturating_add(name.len());
        rest = tail;
    }
    total
}

/// Payload bytes of at most `count` names of at most `max_len` bytes each: a name area that
/// fits any such list.
pub const fn names_capacity(count: usize, max_len: usize) -> usize {
    let max_len = if max_len < MAX_NAME_LEN {
        max_len
    } else {
        MAX_NAME_LEN
    };
    count.saturating_mul(1 + max_len).saturating_add(2)
}

/// A list of names: given by the caller to save, or read from a model's name area.
#[derive(Debug, Clone, Copy)]
pub struct Names<'a>(Repr<'a>);

#[derive(Debug, Clone, Copy)]
enum Repr<'a> {
    List(&'a [&'a str]),
    /// A checked encoding (see the module docs).
    Encoded(&'a [u8]),
}

impl<'a> Names<'a> {
    /// Wraps names to save; [`Error::NameTooLong`] names the first one longer than
    /// [`MAX_NAME_LEN`] bytes, [`Error::NameCount`] a list of more than 65,535.
    pub fn new(list: &'a [&'a str]) -> Result<Self, Error> {
        if let Some((index, name)) = list
            .iter()
            .enumerate()
            .find(|(_, n)| n.len() > MAX_NAME_LEN)
        {
            return Err(Error::NameTooLong {
                index,
                len: name.len(),
                max: MAX_NAME_LEN,
            });
        }
        if list.len() > usize::from(u16::MAX) {
            return Err(Error::NameCount {
                expected: usize::from(u16::MAX),
                found: list.len(),
            });
        }
        Ok(Self(Repr::List(list)))
    }

    /// Wraps an encoding that [`check`] accepted.
    pub(super) fn encoded(bytes: &'a [u8]) -> Self {
        Self(Repr::Encoded(bytes))
    }

    /// The number of names.
    pub fn len(&self) -> usize {
        match self.0 {
            Repr::List(list) => list.len(),
            Repr::Encoded(bytes) => {
                let mut r = Reader::new(bytes, Section::InputNames);
                r.u16().map_or(0, usize::from)
            }
        }
    }

    /// True when there is no name.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The names in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> {
        let (list, bytes): (&'a [&'a str], &'a [u8]) = match self.0 {
            Repr::List(list) => (list, &[]),
            Repr::Encoded(bytes) => (&[], bytes),
        };
        let mut r = Reader::new(bytes, Section::InputNames);
        let count = r.u16().map_or(0, usize::from);
        let decoded = (0..count).map_while(move |_| next(&mut r));
        list.iter().copied().chain(decoded)
    }

    /// The name at `index`.
    pub fn get(&self, index: usize) -> Option<&'a str> {
        self.iter().nth(index)
    }

    /// The index of the first name equal to `name`.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.iter().position(|n| n == name)
    }

    /// Payload bytes of the encoding ([`names_len`]).
    pub(super) fn encoded_len(&self) -> usize {
        match self.0 {
            Repr::List(list) => names_len(list),
            Repr::Encoded(bytes) => bytes.len(),
        }
    }

    /// Writes the encoding.
    pub(super) fn write<K: Sink + ?Sized>(&self, w: &mut Writer<'_, K>) {
        // `new` checked the count and every length, and an encoding was checked on load.
        w.u16(u16::try_from(self.len()).unwrap_or(u16::MAX));
        for name in self.iter() {
            w.u8(u8::try_from(name.len()).unwrap_or(u8::MAX));
            w.put(name.as_bytes());
        }
    }
}

impl PartialEq for Names<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

/// The next name of an encoding that [`check`] accepted.
fn next<'a>(r: &mut Reader<'a>) -> Option<&'a str> {
    let len = usize::from(r.u8().ok()?);
    core::str::from_utf8(r.take(len).ok()?).ok()
}

/// Checks the encoding of exactly `count` names that fills the stream up to its limit.
pub(super) fn check<S: Source + ?Sized>(s: &mut Stream<'_, S>, count: usize) -> Result<(), Error> {
    if usize::from(s.u16()?) != count {
        return Err(s.malformed("the number of names is not the number of columns"));
    }
    for _ in 0..count {
        let len = usize::from(s.byte()?);
        let (mut utf8, mut valid) = (Utf8::default(), true);
        s.pieces(len, |piece| {
            valid = valid && piece.iter().all(|&b| utf8.push(b));
            Ok(())
        })?;
        if !(valid && utf8.complete()) {
            return Err(s.malformed("a name is not UTF-8"));
        }
    }
    if s.remaining() != 0 {
        return Err(s.malformed("bytes follow the last name"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    #[test]
    fn an_encoding_reads_back_as_the_list() {
        let list = ["x", "", "température"];
        let names = Names::new(&list).unwrap();
        let mut bytes = vec![0u8; names.encoded_len()];
        let mut sink = super::super::bytes::SliceSink {
            out: &mut bytes,
            at: 0,
        };
        let mut w = Writer::new(&mut sink);
        names.write(&mut w);
        assert_eq!(w.finish(), Ok(names_len(&list)));
        let check = |bytes: &[u8], count, section| {
            let (mut source, mut window) = (bytes, [0u8; 5]);
            let end = bytes.len();
            check(
                &mut Stream::new(&mut source, &mut window, 0, end, section),
                count,
            )
        };
        check(&bytes, 3, Section::InputNames).unwrap();
        let read = Names::encoded(&bytes);
        assert_eq!(read, names);
        assert_eq!(read.get(2), Some("température"));
        assert_eq!(read.position(""), Some(1));
        assert_eq!(read.get(3), None);
        assert_eq!(
            check(&bytes, 2, Section::InputNames),
            Err(Error::MalformedSection {
                section: Section::InputNames,
                problem: "the number of names is not the number of columns"
            })
        );
        bytes[5] = 0xFF; // inside "température"
        assert!(check(&bytes, 3, Section::OutputNames).is_err());
    }

    #[test]
    fn a_name_too_long_is_named() {
        let long = "a".repeat(MAX_NAME_LEN + 1);
        let list = ["ok", long.as_str()];
        assert_eq!(
            Names::new(&list),
            Err(Error::NameTooLong {
                index: 1,
                len: MAX_NAME_LEN + 1,
                max: MAX_NAME_LEN
            })
        );
    }
}
