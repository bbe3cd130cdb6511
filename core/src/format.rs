//! The model format: a checked, little-endian byte layout for widths, standardisation and
//! weights, so a model survives a trip through flash, a file or a radio.
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 4 | magic `b"TTNN"` |
//! | 4 | 2 | format version, `1` (u16) |
//! | 6 | 2 | number of widths `L`, 2 to [`MAX_LAYERS`] (u16) |
//! | 8 | 2·L | the widths, input first (u16 each) |
//! | … | 4·S | standardisation statistics (f32, [`crate::scaler`] layout, S = [`shape::scaler_len`]) |
//! | … | 4·P | parameters, layer after layer, weights row by row then biases (f32, P = [`shape::param_len`]) |
//! | end − 4 | 4 | CRC-32 ([`crate::crc`]) of every byte before it (u32) |
//!
//! [`load`] checks everything — magic, version, widths, length, CRC, finiteness — before it
//! writes a single parameter, and bytes after the blob are ignored, so a blob can sit at the
//! start of a larger flash slot.
//!
//! ```
//! use tinytrain_core::{format, Model};
//! let widths = [1, 1];
//! let (params, stats) = ([2.0, 1.0], [0.0, 1.0, 0.0, 1.0]);
//! let mut blob = [0u8; format::encoded_len(&[1, 1])];
//! format::save(&Model::new(&widths, &params, &stats)?, &mut blob)?;
//!
//! let read = format::read_widths(&blob)?;
//! let (mut p, mut s) = ([0.0; 2], [0.0; 4]);
//! format::load(&blob, &read, &mut p, &mut s)?;
//! assert_eq!((p, s), (params, stats));
//!
//! blob[30] ^= 1; // one flipped bit in a weight
//! assert!(matches!(format::load(&blob, &read, &mut p, &mut s), Err(tinytrain_core::Error::CrcMismatch { .. })));
//! # Ok::<(), tinytrain_core::Error>(())
//! ```

use crate::crc::{crc32, Crc32};
use crate::model::{expect_len, expect_width};
use crate::{shape, Error, Model};

/// The first four bytes of every model.
pub const MAGIC: [u8; 4] = *b"TTNN";
/// The format version this build writes and reads.
pub const VERSION: u16 = 1;
/// The largest number of widths (input, hidden layers, output) a model may have.
pub const MAX_LAYERS: usize = 16;

const HEADER: usize = 8;

/// The size in bytes of a model with these widths.
pub const fn encoded_len(widths: &[usize]) -> usize {
    let values = shape::scaler_len(widths).saturating_add(shape::param_len(widths));
    (HEADER + 4)
        .saturating_add(2usize.saturating_mul(widths.len()))
        .saturating_add(4usize.saturating_mul(values))
}

/// Writes `model` at the start of `out`; returns the number of bytes written.
pub fn save(model: &Model<'_>, out: &mut [u8]) -> Result<usize, Error> {
    let widths = model.widths();
    let len = encoded_len(widths);
    let found = out.len();
    let blob = out
        .get_mut(..len)
        .ok_or(Error::BufferSize { needed: len, found })?;
    let count = u16::try_from(widths.len()).map_err(|_| Error::InvalidWidths)?;
    if widths.len() > MAX_LAYERS {
        return Err(Error::InvalidWidths);
    }
    let mut w = Writer { out: blob, at: 0 };
    w.put(&MAGIC);
    w.put(&VERSION.to_le_bytes());
    w.put(&count.to_le_bytes());
    for &width in widths {
        let width = u16::try_from(width).map_err(|_| Error::InvalidWidths)?;
        w.put(&width.to_le_bytes());
    }
    for v in model.stats().iter().chain(model.params()) {
        w.put(&v.to_le_bytes());
    }
    let body = w.at;
    let crc = crc32(w.out.get(..body).unwrap_or(&[]));
    w.put(&crc.to_le_bytes());
    Ok(len)
}

/// Reads and checks the widths stored in a blob (magic, version and widths only; [`load`]
/// checks the rest).
pub fn read_widths(bytes: &[u8]) -> Result<heapless::Vec<usize, MAX_LAYERS>, Error> {
    let header = bytes.get(..HEADER).ok_or(Error::Truncated {
        needed: HEADER,
        found: bytes.len(),
    })?;
    if header.get(..4) != Some(&MAGIC[..]) {
        return Err(Error::BadMagic);
    }
    let version = u16_at(bytes, 4);
    if version != VERSION {
        return Err(Error::UnsupportedVersion { version });
    }
    let count = usize::from(u16_at(bytes, 6));
    if !(2..=MAX_LAYERS).contains(&count) {
        return Err(Error::InvalidWidths);
    }
    let needed = HEADER + 2 * count;
    if bytes.len() < needed {
        return Err(Error::Truncated {
            needed,
            found: bytes.len(),
        });
    }
    let mut widths = heapless::Vec::new();
    for k in 0..count {
        let width = usize::from(u16_at(bytes, HEADER + 2 * k));
        widths.push(width).map_err(|_| Error::CapacityExceeded {
            capacity: MAX_LAYERS,
        })?;
    }
    shape::check(&widths)?;
    Ok(widths)
}

/// Checks a blob completely and, if it is valid and its widths equal `widths`, writes its
/// parameters and statistics. On any error nothing is written.
pub fn load(
    bytes: &[u8],
    widths: &[usize],
    params: &mut [f32],
    stats: &mut [f32],
) -> Result<(), Error> {
    let stored = read_widths(bytes)?;
    expect_width(stored.len(), widths.len())?;
    for (s, w) in stored.iter().zip(widths) {
        expect_width(*s, *w)?;
    }
    expect_len(params.len(), shape::param_len(widths))?;
    expect_len(stats.len(), shape::scaler_len(widths))?;
    let len = encoded_len(widths);
    let blob = bytes.get(..len).ok_or(Error::Truncated {
        needed: len,
        found: bytes.len(),
    })?;
    let body = len - 4;
    let stored_crc = u32::from_le_bytes(array_at(blob, body));
    let mut crc = Crc32::new();
    crc.update(blob.get(..body).unwrap_or(&[]));
    let computed = crc.finish();
    if stored_crc != computed {
        return Err(Error::CrcMismatch {
            stored: stored_crc,
            computed,
        });
    }
    let values_at = HEADER + 2 * widths.len();
    let value = |k: usize| f32::from_le_bytes(array_at(blob, values_at + 4 * k));
    let n_stats = stats.len();
    if let Some(k) = (0..n_stats + params.len()).find(|&k| !value(k).is_finite()) {
        return Err(Error::NonFiniteParameter {
            index: k.saturating_sub(n_stats),
        });
    }
    for (k, s) in stats.iter_mut().enumerate() {
        *s = value(k);
    }
    for (k, p) in params.iter_mut().enumerate() {
        *p = value(n_stats + k);
    }
    Ok(())
}

struct Writer<'b> {
    out: &'b mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let end = self.at.saturating_add(bytes.len());
        if let Some(dst) = self.out.get_mut(self.at..end) {
            // Element by element: lengths match, and no panicking path is left behind.
            dst.iter_mut().zip(bytes).for_each(|(d, s)| *d = *s);
        }
        self.at = end;
    }
}

fn array_at<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut a = [0u8; N];
    if let Some(src) = bytes.get(at..at.saturating_add(N)) {
        a.iter_mut().zip(src).for_each(|(d, s)| *d = *s);
    }
    a
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(array_at(bytes, at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{mlp, Lcg};
    use proptest::prelude::*;
    use std::vec;
    use std::vec::Vec;

    fn blob_of(widths: &[usize], seed: u64) -> Vec<u8> {
        let mut params = vec![0.0; shape::param_len(widths)];
        mlp::init_he(widths, &mut params, &mut Lcg::new(seed));
        let mut stats = vec![0.0; shape::scaler_len(widths)];
        crate::scaler::identity(&mut stats, widths[0]);
        let model = Model::new(widths, &params, &stats).unwrap();
        let mut blob = vec![0u8; encoded_len(widths)];
        assert_eq!(save(&model, &mut blob).unwrap(), blob.len());
        blob
    }

    /// Loads whatever `bytes` claims to be; re-saves it when it loads.
    fn try_roundtrip(bytes: &[u8]) -> Result<Vec<u8>, Error> {
        let widths = read_widths(bytes)?;
        let mut params = vec![0.0; shape::param_len(&widths)];
        let mut stats = vec![0.0; shape::scaler_len(&widths)];
        load(bytes, &widths, &mut params, &mut stats)?;
        let mut out = vec![0u8; encoded_len(&widths)];
        save(&Model::new(&widths, &params, &stats)?, &mut out)?;
        Ok(out)
    }

    #[test]
    fn each_kind_of_damage_has_its_error() {
        let good = blob_of(&[2, 4, 1], 3);
        assert_eq!(try_roundtrip(&good).unwrap(), good);
        let mut b = good.clone();
        b[0] = b'X';
        assert_eq!(try_roundtrip(&b), Err(Error::BadMagic));
        let mut b = good.clone();
        b[4] = 9;
        assert_eq!(
            try_roundtrip(&b),
            Err(Error::UnsupportedVersion { version: 9 })
        );
        assert!(matches!(
            try_roundtrip(&good[..good.len() - 1]),
            Err(Error::Truncated { .. })
        ));
        let mut b = good.clone();
        b[20] ^= 0x10;
        assert!(matches!(try_roundtrip(&b), Err(Error::CrcMismatch { .. })));
        let (mut p, mut s) = (vec![0.0; 17], vec![0.0; 6]);
        assert_eq!(
            load(&good, &[2, 5, 1], &mut p, &mut s),
            Err(Error::WidthMismatch {
                expected: 5,
                found: 4
            })
        );
    }

    #[test]
    fn non_finite_parameters_are_rejected_even_with_a_valid_crc() {
        let widths = [1, 1];
        let (params, stats) = ([f32::NAN, 0.0], [0.0, 1.0, 0.0, 1.0]);
        let mut blob = [0u8; encoded_len(&[1, 1])];
        save(&Model::new(&widths, &params, &stats).unwrap(), &mut blob).unwrap();
        let (mut p, mut s) = ([7.0; 2], [7.0; 4]);
        assert_eq!(
            load(&blob, &widths, &mut p, &mut s),
            Err(Error::NonFiniteParameter { index: 0 })
        );
        assert_eq!(p, [7.0; 2], "nothing written on error");
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = try_roundtrip(&bytes);
        }

        #[test]
        fn mutated_blobs_load_as_themselves_or_fail(
            seed: u64,
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
            cut in any::<prop::sample::Index>(),
            truncate: bool,
        ) {
            let good = blob_of(&[3, 5, 2], seed);
            let mut b = good.clone();
            for (i, x) in &flips { let k = i.index(b.len()); b[k] ^= x; }
            if truncate { b.truncate(cut.index(b.len())); }
            if let Ok(resaved) = try_roundtrip(&b) {
                prop_assert_eq!(&resaved[..], &b[..resaved.len()]);
            }
        }
    }
}
