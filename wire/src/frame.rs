//! Frames: a [`Header`] and a postcard message, a CRC-32 over both, COBS-encoded between two
//! zero bytes.
//!
//! ```text
//! 0x00 │ COBS( seq (varint u32) │ ack (varint u32) │ message (postcard) │ CRC-32 (4 bytes, LE) ) │ 0x00
//! ```
//!
//! COBS (Cheshire & Baker, *Consistent Overhead Byte Stuffing*, IEEE/ACM Trans. Networking,
//! 1999) leaves no zero byte inside a frame, so a zero always marks a frame's edge: a receiver
//! that starts in the middle of a frame, or sees line noise, loses at most that frame and is in
//! step again at the next zero. The leading zero ends whatever garbage came before, so the frame
//! after it arrives whole. The CRC is the core's ([`tinytrain_core::crc`], CRC-32/IEEE): a
//! damaged frame is dropped, never decoded. The cost is 2 delimiters, 4 CRC bytes, about 2
//! header bytes, and one COBS byte per 254 bytes of body.
//!
//! Encoding is one pass: postcard writes into a flavor that adds every byte to the CRC and to
//! the `cobs` crate's streaming encoder, so no second copy of the body is needed.

use postcard::ser_flavors::Flavor;
use serde::{Deserialize, Serialize};
use tinytrain_core::crc::Crc32;

/// Bytes of the largest frame body (header, message, CRC) before COBS.
pub const MAX_BODY: usize = 320;

/// Bytes of the largest frame on the wire: [`MAX_BODY`] COBS-encoded, and its two delimiters.
pub const MAX_FRAME: usize = cobs::max_encoding_length(MAX_BODY) + 2;

/// Bytes of the CRC at the end of a body.
pub const CRC_LEN: usize = 4;

/// What every frame starts with: the sender's sequence number and the next one it expects from
/// the other end (see the crate docs for how each end numbers its frames).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Header {
    /// This frame's sequence number.
    pub seq: u32,
    /// The next sequence number expected from the other end: everything before it arrived.
    pub ack: u32,
}

/// Why a frame could not be made or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum FrameError {
    /// The message does not fit [`MAX_BODY`] bytes (or the output buffer).
    TooLong,
    /// The bytes between two zeros are not valid COBS, or longer than [`MAX_BODY`].
    Cobs,
    /// The CRC does not match: the frame was damaged on the way.
    Crc,
    /// The CRC matched but the message does not decode (another protocol version, or a bug).
    Decode,
}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            FrameError::TooLong => "the message does not fit a frame",
            FrameError::Cobs => "a damaged frame (COBS)",
            FrameError::Crc => "a damaged frame (CRC mismatch)",
            FrameError::Decode => "a frame that does not decode as a message",
        })
    }
}

impl core::error::Error for FrameError {}

/// postcard writes into this: each byte goes into the CRC and the COBS encoder.
struct CrcCobs<'a> {
    crc: Crc32,
    cobs: cobs::CobsEncoder<'a>,
    len: usize,
}

impl Flavor for CrcCobs<'_> {
    type Output = usize;

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.len = self.len.saturating_add(data.len());
        if self.len > MAX_BODY - CRC_LEN {
            return Err(postcard::Error::SerializeBufferFull);
        }
        self.crc.update(data);
        self.cobs
            .push(data)
            .map_err(|_| postcard::Error::SerializeBufferFull)
    }

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.try_extend(&[data])
    }

    fn finalize(mut self) -> postcard::Result<usize> {
        let crc = self.crc.finish().to_le_bytes();
        self.cobs
            .push(&crc)
            .map_err(|_| postcard::Error::SerializeBufferFull)?;
        Ok(self.cobs.finalize())
    }
}

/// Writes `header` and `message` as one frame into `out` (at least [`MAX_FRAME`] bytes, or as
/// long as the frame); returns its length in bytes, delimiters included.
///
/// ```
/// use tinytrain_wire::frame::{self, Decoder, Header};
/// use tinytrain_wire::Request;
/// let mut out = [0u8; frame::MAX_FRAME];
/// let len = frame::encode(Header { seq: 7, ack: 0 }, &Request::Poll, &mut out)?;
/// let mut rx = Decoder::new();
/// let mut got = None;
/// for &b in &out[..len] {
///     if let Some(done) = rx.feed(b) {
///         got = Some(done?);
///     }
/// }
/// let (header, request): (Header, Request) = frame::decode(rx.body(got.unwrap()))?;
/// assert_eq!((header.seq, request), (7, Request::Poll));
/// # Ok::<(), tinytrain_wire::frame::FrameError>(())
/// ```
pub fn encode<T: Serialize>(
    header: Header,
    message: &T,
    out: &mut [u8],
) -> Result<usize, FrameError> {
    let (first, rest) = out.split_first_mut().ok_or(FrameError::TooLong)?;
    *first = 0;
    let mut flavor = CrcCobs {
        crc: Crc32::new(),
        cobs: cobs::CobsEncoder::new(rest),
        len: 0,
    };
    // The header and the message as one tuple: postcard writes them back to back.
    let encoded = postcard::serialize_with_flavor(&(header, message), flavor_ref(&mut flavor))
        .and_then(|()| flavor.finalize())
        .map_err(|_| FrameError::TooLong)?;
    let end = encoded.checked_add(1).ok_or(FrameError::TooLong)?;
    *out.get_mut(end).ok_or(FrameError::TooLong)? = 0;
    Ok(end + 1)
}

/// postcard's `serialize_with_flavor` consumes its flavor; this one lends it, so the CRC can be
/// appended afterwards.
struct Lent<'f, 'a>(&'f mut CrcCobs<'a>);

impl Flavor for Lent<'_, '_> {
    type Output = ();

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.try_extend(data)
    }

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.try_extend(&[data])
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

fn flavor_ref<'f, 'a>(flavor: &'f mut CrcCobs<'a>) -> Lent<'f, 'a> {
    Lent(flavor)
}

/// Reads a frame's checked body ([`Decoder::body`]) as a header and a message; bytes left over
/// are an error.
pub fn decode<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<(Header, T), FrameError> {
    match postcard::take_from_bytes::<(Header, T)>(body) {
        Ok((value, [])) => Ok(value),
        _ => Err(FrameError::Decode),
    }
}

/// Reads frames from a byte stream, one byte at a time, in [`MAX_BODY`] bytes of its own.
///
/// It skips everything up to a zero byte after a damaged frame, so garbage between frames costs
/// at most one frame. It keeps no time: a caller that sees no byte for a while in the middle of
/// a frame ([`Self::in_frame`]) calls [`Self::reset`] — half a frame never blocks the link.
#[derive(Debug)]
pub struct Decoder {
    buf: [u8; MAX_BODY],
    len: usize,
    state: cobs::DecoderState,
    /// A damaged frame is being skipped up to its closing zero.
    skipping: bool,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// Waits for the start of a frame.
    pub const fn new() -> Self {
        Self {
            buf: [0; MAX_BODY],
            len: 0,
            state: cobs::DecoderState::Idle,
            skipping: false,
        }
    }

    /// A frame has started and not ended.
    pub fn in_frame(&self) -> bool {
        self.skipping || !matches!(self.state, cobs::DecoderState::Idle)
    }

    /// Drops the frame under way.
    pub fn reset(&mut self) {
        self.state = cobs::DecoderState::Idle;
        self.len = 0;
        self.skipping = false;
    }

    /// Takes one byte. At the end of a frame: `Ok(len)` with its checked body in
    /// [`Self::body`]`(len)` (CRC removed), or the error that damaged it. `None` in between.
    pub fn feed(&mut self, byte: u8) -> Option<Result<usize, FrameError>> {
        if self.skipping {
            if byte == 0 {
                self.reset();
            }
            return None;
        }
        match self.state.feed(byte) {
            Ok(cobs::DecodeResult::NoData) => None,
            Ok(cobs::DecodeResult::DataStart) => {
                self.len = 0;
                None
            }
            Ok(cobs::DecodeResult::DataContinue(b)) => {
                match self.buf.get_mut(self.len) {
                    Some(slot) => {
                        *slot = b;
                        self.len += 1;
                        None
                    }
                    None => {
                        // Longer than any frame: damaged. Skip to its end.
                        self.reset();
                        self.skipping = byte != 0;
                        Some(Err(FrameError::Cobs))
                    }
                }
            }
            Ok(cobs::DecodeResult::DataComplete) => {
                let len = self.len;
                self.len = 0;
                Some(self.check(len))
            }
            // A zero where the encoding wanted more bytes: it ends the damaged frame.
            Err(_) => {
                self.reset();
                Some(Err(FrameError::Cobs))
            }
        }
    }

    fn check(&self, len: usize) -> Result<usize, FrameError> {
        let body_len = len.checked_sub(CRC_LEN).ok_or(FrameError::Crc)?;
        let (body, crc) = self
            .buf
            .get(..len)
            .and_then(|frame| frame.split_at_checked(body_len))
            .ok_or(FrameError::Crc)?;
        let mut sum = Crc32::new();
        sum.update(body);
        match <[u8; CRC_LEN]>::try_from(crc) {
            Ok(crc) if u32::from_le_bytes(crc) == sum.finish() => Ok(body_len),
            _ => Err(FrameError::Crc),
        }
    }

    /// The body of the frame [`Self::feed`] returned `Ok(len)` for.
    pub fn body(&self, len: usize) -> &[u8] {
        self.buf.get(..len).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{F32s, Request, Samples};
    use proptest::prelude::*;

    fn frame_of(seq: u32, values: &[u8]) -> Vec<u8> {
        let request = Request::Samples(Samples {
            first: u64::from(seq) * 10,
            values: F32s(values),
        });
        let mut out = [0u8; MAX_FRAME];
        let len = encode(Header { seq, ack: 3 }, &request, &mut out).unwrap();
        out[..len].to_vec()
    }

    /// Every complete frame `bytes` holds, in order: `Ok(seq)` or the error.
    fn read_all(bytes: &[u8]) -> Vec<Result<u32, FrameError>> {
        let mut rx = Decoder::new();
        let mut got = vec![];
        for &b in bytes {
            if let Some(done) = rx.feed(b) {
                got.push(
                    done.and_then(|len| {
                        decode::<Request>(rx.body(len)).map(|(header, _)| header.seq)
                    }),
                );
            }
        }
        got
    }

    #[test]
    fn a_frame_comes_back_whole_and_has_no_zero_inside() {
        let values: Vec<u8> = (0..=255u8).cycle().take(256).collect();
        let bytes = frame_of(41, &values);
        assert!(bytes.len() <= MAX_FRAME);
        assert_eq!((bytes[0], bytes[bytes.len() - 1]), (0, 0));
        assert!(!bytes[1..bytes.len() - 1].contains(&0));
        let mut rx = Decoder::new();
        let len = bytes.iter().find_map(|&b| rx.feed(b)).unwrap().unwrap();
        let (header, request) = decode::<Request>(rx.body(len)).unwrap();
        assert_eq!(header, Header { seq: 41, ack: 3 });
        let Request::Samples(samples) = request else {
            panic!("{request:?}")
        };
        assert_eq!((samples.first, samples.values.0), (410, &values[..]));
    }

    #[test]
    fn a_message_too_long_for_a_frame_is_refused() {
        let values = [1u8; MAX_BODY];
        let request = Request::Samples(Samples {
            first: 0,
            values: F32s(&values),
        });
        let mut out = [0u8; MAX_FRAME];
        let header = Header { seq: 0, ack: 0 };
        assert_eq!(encode(header, &request, &mut out), Err(FrameError::TooLong));
        assert_eq!(
            encode(header, &Request::Poll, &mut [0u8; 4]),
            Err(FrameError::TooLong)
        );
    }

    #[test]
    fn garbage_before_a_frame_costs_nothing_and_an_unfinished_frame_only_itself() {
        let mut bytes = vec![7, 1, 200, 3, 0, 0, 55];
        bytes.extend(frame_of(1, &[1, 2, 3, 4]));
        // Half a frame, then a whole one.
        let second = frame_of(2, &[5, 6, 7, 8]);
        bytes.extend(&second[..second.len() / 2]);
        bytes.extend(frame_of(3, &[9, 9, 9, 9]));
        let got = read_all(&bytes);
        let seqs: Vec<u32> = got.iter().filter_map(|r| r.ok()).collect();
        assert_eq!(seqs, [1, 3], "{got:?}");
        assert!(got.iter().any(|r| r.is_err()));
    }

    #[test]
    fn a_frame_longer_than_any_is_skipped_to_its_end() {
        let mut bytes = vec![0];
        bytes.extend(std::iter::repeat_n(9u8, 3 * MAX_BODY));
        bytes.push(0);
        bytes.extend(frame_of(5, &[1, 0, 0, 1]));
        let got = read_all(&bytes);
        assert_eq!(got.last(), Some(&Ok(5)), "{got:?}");
        assert_eq!(got.iter().filter(|r| r.is_err()).count(), 1, "{got:?}");
    }

    #[test]
    fn a_reset_drops_half_a_frame() {
        let bytes = frame_of(9, &[1, 2, 3, 4]);
        let mut rx = Decoder::new();
        for &b in &bytes[..bytes.len() / 2] {
            assert!(rx.feed(b).is_none());
        }
        assert!(rx.in_frame());
        rx.reset();
        assert!(!rx.in_frame());
        let tail: Vec<_> = bytes[bytes.len() / 2..]
            .iter()
            .filter_map(|&b| rx.feed(b))
            .collect();
        assert!(tail.iter().all(|r| r.is_err()), "{tail:?}");
    }

    proptest! {
        /// Any change to a frame's bytes between its delimiters is caught: it never decodes
        /// as a frame with the same sequence number and other contents, and the next frame
        /// still arrives.
        #[test]
        fn damage_is_detected_and_the_next_frame_survives(
            values in proptest::collection::vec(any::<u8>(), 0..64),
            at in any::<prop::sample::Index>(),
            xor in 1u8..,
        ) {
            let values: Vec<u8> = values.iter().copied().take(values.len() / 4 * 4).collect();
            let mut bytes = frame_of(1, &values);
            let i = 1 + at.index(bytes.len() - 2);
            bytes[i] ^= xor;
            bytes.extend(frame_of(2, &[1, 2, 3, 4]));
            let got = read_all(&bytes);
            prop_assert_eq!(got.last(), Some(&Ok(2)));
            prop_assert!(!got.contains(&Ok(1)), "{:?}", got);
        }

        #[test]
        fn any_bytes_fed_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let mut rx = Decoder::new();
            for b in bytes {
                if let Some(Ok(len)) = rx.feed(b) {
                    let _ = decode::<Request>(rx.body(len));
                }
            }
        }
    }
}
