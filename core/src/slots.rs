//! Power-loss-safe model storage: two slots on NOR flash, written in turn, committed last.
//!
//! A save never touches the slot that holds the model a load returns now. It erases the other
//! slot, writes the model blob ([`crate::format`]) into it and only then writes the slot's
//! header. Power lost at any moment leaves that slot without a valid header and CRC, so the next
//! load returns the old model or the new one, whole — never a mix, never garbage.
//!
//! Each slot holds one record (little-endian). `U` is the flash's access unit, the least common
//! multiple of its `READ_SIZE` and `WRITE_SIZE`; padding bytes are `0xFF`, which is erased flash.
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 4 | magic `b"TTSL"` |
//! | 4 | 4 | sequence number (u32, wraps around; one more than the other slot's) |
//! | 8 | 4 | blob length in bytes (u32) |
//! | 12 | 4 | CRC-32 ([`crate::crc`]) of bytes 0..12 and of the blob |
//! | 16 | | padding to a multiple of `U`: the header, written last |
//! | `H` | length | the model blob, then padding to a multiple of `U`: written first |
//!
//! A slot is valid for a network when its record is whole (magic, length, CRC), its blob has the
//! network's widths and passes [`format::inspect`] — every check [`format::load`] makes. A load
//! takes the valid slot with the newer sequence number and falls back to the other one; a save
//! writes the slot a load would not take, with the same notion of valid, so it never overwrites
//! the only model that loads. Records of format version 1 (written before version 2) load as
//! well.
//!
//! A slot holds any blob up to its size: [`ModelStore::slot_len`] sizes it, at compile time,
//! for the blob of a network and what is stored with it ([`format::encoded_len`]). Neither a
//! save nor a load holds the model's bytes in RAM: both stream them through a window of
//! [`ModelStore::scratch_len`] bytes (64 on most flash), so a device keeps a model — with its
//! optimizer's state — that is larger than its free RAM. A save reads what it wrote back and
//! checks it as a load would before it commits the header.
//!
//! ```
//! use tinytrain_core::format::{self, Buffers, Contents, Sections};
//! use tinytrain_core::slots::{sim::SimFlash, ModelStore, Slot};
//! use tinytrain_core::Model;
//!
//! // A flash with 4-byte words and 256-byte pages; slots sized for the model.
//! type Flash = SimFlash<1024, 4, 256>;
//! const W: [usize; 2] = [1, 1];
//! const BLOB: usize = format::encoded_len(&W, Sections::NONE);
//! const SLOT: usize = ModelStore::<Flash>::slot_len(BLOB);
//! assert_eq!(SLOT, 256);
//! let mut store = ModelStore::new(Flash::new(), 0, SLOT as u32)?;
//! // The window a model streams through, whatever its size.
//! let mut buf = [0u8; ModelStore::<Flash>::scratch_len()];
//!
//! let (params, stats) = ([2.0, 1.0], [0.0, 1.0, 0.0, 1.0]);
//! let saved = store.save(&Contents::new(Model::new(&W, &params, &stats)?), &mut buf)?;
//! assert_eq!((saved.slot, saved.sequence), (Slot::A, 1));
//!
//! let (mut p, mut s) = ([0.0; 2], [0.0; 4]);
//! let (loaded, _) = store.load(&W, Buffers::new(&mut p, &mut s), &mut buf)?;
//! assert_eq!((loaded, p, s), (saved, params, stats));
//! # Ok::<(), tinytrain_core::Error>(())
//! ```

pub mod sim;

use core::fmt;

use embedded_storage::nor_flash::{NorFlash, NorFlashError, NorFlashErrorKind};

use crate::crc::Crc32;
use crate::format::{self, Buffers, Contents, Loaded};
use crate::Error;

/// The least window a model streams through (see [`ModelStore::scratch_len`]).
const WINDOW: usize = 64;

const MAGIC: [u8; 4] = *b"TTSL";
/// Header bytes before padding: magic, sequence, length, CRC.
const HEADER_LEN: usize = 16;
/// Where the record CRC sits in the header; it covers the bytes before it.
const CRC_AT: usize = 12;

/// One of the two flash slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Slot {
    /// The slot at the start of the region.
    A,
    /// The slot right after slot A.
    B,
}

impl Slot {
    /// The other slot.
    pub const fn other(self) -> Self {
        match self {
            Slot::A => Slot::B,
            Slot::B => Slot::A,
        }
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Slot::A => "A",
            Slot::B => "B",
        })
    }
}

/// Where a model was saved or loaded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Stored {
    /// The slot that holds the model.
    pub slot: Slot,
    /// Its sequence number: each save counts one up (wrapping around after `u32::MAX`).
    pub sequence: u32,
}

/// Two model slots in a region of a NOR flash.
///
/// The store owns the flash driver; [`ModelStore::flash`] lends it back and
/// [`ModelStore::release`] returns it. [`save`](Self::save) and [`load`](Self::load) stream the
/// model between the flash and the caller's buffers through a small caller-provided window of
/// [`ModelStore::scratch_len`] bytes: no buffer the size of the model, and nothing allocated.
#[derive(Debug)]
pub struct ModelStore<F> {
    flash: F,
    base: u32,
    slot_size: u32,
}

impl<F: NorFlash> ModelStore<F> {
    /// Uses two slots of `slot_size` bytes at offset `base` of `flash`: slot A at `base`, slot
    /// B at `base + slot_size`.
    ///
    /// Both numbers must be multiples of the flash's `ERASE_SIZE` ([`Error::Flash`] with
    /// `NotAligned` otherwise) and the two slots must lie inside it (`OutOfBounds`).
    pub fn new(flash: F, base: u32, slot_size: u32) -> Result<Self, Error> {
        let aligned = |n: u32| usize::try_from(n).is_ok_and(|n| n % F::ERASE_SIZE.max(1) == 0);
        if slot_size == 0
            || !aligned(base)
            || !aligned(slot_size)
            || F::ERASE_SIZE.checked_rem(unit::<F>()) != Some(0)
        {
            return Err(Error::Flash(NorFlashErrorKind::NotAligned));
        }
        let end = slot_size
            .checked_mul(2)
            .and_then(|n| n.checked_add(base))
            .and_then(|n| usize::try_from(n).ok());
        match end {
            Some(end) if end <= flash.capacity() => Ok(Self {
                flash,
                base,
                slot_size,
            }),
            _ => Err(Error::Flash(NorFlashErrorKind::OutOfBounds)),
        }
    }

    /// Bytes of the record of a blob of `blob_len` bytes ([`format::encoded_len`]): the slot
    /// header and the blob, each padded to the flash's access unit.
    pub const fn record_len(blob_len: usize) -> usize {
        header_len::<F>().saturating_add(round_up(blob_len, unit::<F>()))
    }

    /// Bytes of a slot for a blob of `blob_len` bytes: its record, in whole erase pages. Two
    /// slots of this size hold the model; size them at compile time from the network and what
    /// is stored with it, e.g. `slot_len(format::encoded_len(WIDTHS, Sections::resume(ADAM)))`.
    pub const fn slot_len(blob_len: usize) -> usize {
        slot_len(blob_len, unit::<F>(), F::ERASE_SIZE)
    }

    /// Bytes of the window [`save`](Self::save) and [`load`](Self::load) stream a model
    /// through: 64, or the flash's access unit if that is larger. Whatever the model's size.
    pub const fn scratch_len() -> usize {
        round_up(WINDOW, unit::<F>())
    }

    /// Saves `contents` into the slot that does not hold the model [`load`](Self::load) would
    /// return now, with the next sequence number: erase, write the blob, read it back and check
    /// it as [`format::load`] would, then commit the header.
    ///
    /// If power fails or the flash reports an error, the other slot is untouched and still
    /// loads. Before anything is erased, a save refuses what [`format::load`] would refuse
    /// (with its error: a NaN weight, a deviation of 0, …: [`Contents::check`]), a record that
    /// does not fit in a slot ([`Error::SlotTooSmall`]) and a `scratch` window shorter than
    /// [`Self::scratch_len`] ([`Error::BufferSize`]). A blob that does not read back as written
    /// is not committed: the error is the check's.
    pub fn save(&mut self, contents: &Contents<'_>, scratch: &mut [u8]) -> Result<Stored, Error> {
        let widths = contents.model.widths();
        let blob_len = contents.encoded_len();
        let window = self.window(blob_len, scratch)?;
        contents.check()?;
        let (slot, sequence) = match self.newest(widths, window)? {
            Some(now) => (now.slot.other(), now.sequence.wrapping_add(1)),
            None => (Slot::A, 1),
        };
        let len = u32::try_from(blob_len).map_err(|_| Error::SlotTooSmall {
            needed: blob_len,
            capacity: self.slot_size as usize,
        })?;
        let fields = [MAGIC, sequence.to_le_bytes(), len.to_le_bytes()];
        let start = self.offset(slot, 0)?;
        let end = start.saturating_add(self.slot_size);
        self.flash.erase(start, end).map_err(flash_error)?;

        let blob = self.source(slot)?;
        let mut sink = SlotSink {
            flash: &mut self.flash,
            at: blob.at,
            window: &mut *window,
            filled: 0,
            crc: Crc32::new(),
        };
        sink.crc.update(fields.as_flattened());
        format::encode(contents, &mut sink)?;
        let crc = sink.finish()?;
        // Read back and checked as a load checks it, before it can ever be loaded.
        format::inspect_from(&mut blob.with(&mut self.flash), window)?;

        let head = window.get_mut(..header_len::<F>()).unwrap_or(&mut []);
        head.fill(0xFF);
        let crc = crc.to_le_bytes();
        for (dst, src) in head.chunks_exact_mut(4).zip(fields.iter().chain([&crc])) {
            dst.iter_mut().zip(src).for_each(|(d, s)| *d = *s);
        }
        self.flash.write(start, head).map_err(flash_error)?;
        Ok(Stored { slot, sequence })
    }

    /// Loads the newest valid model with these widths into `buffers` (as [`format::load`]),
    /// streaming it from the flash through `scratch` ([`Self::scratch_len`] bytes), and tells
    /// where it came from and what else it held.
    ///
    /// [`Error::NoValidModel`] when neither slot holds one — blank flash, a model of another
    /// network, or damage to both slots. A valid model that does not fit the buffers gives
    /// [`format::load`]'s error. On any error the buffers are left unchanged.
    pub fn load<'x>(
        &mut self,
        widths: &[usize],
        buffers: Buffers<'_, 'x>,
        scratch: &mut [u8],
    ) -> Result<(Stored, Loaded<'x>), Error> {
        let window = self.window(0, scratch)?;
        let stored = self.newest(widths, window)?.ok_or(Error::NoValidModel)?;
        let blob = self.source(stored.slot)?;
        let loaded = format::load_from(&mut blob.with(&mut self.flash), window, widths, buffers)?;
        Ok((stored, loaded))
    }

    /// The flash driver, for other uses of the device.
    pub fn flash(&mut self) -> &mut F {
        &mut self.flash
    }

    /// Gives the flash driver back.
    pub fn release(self) -> F {
        self.flash
    }

    /// The window of `scratch` to stream through, if it is long enough, and if a record of a
    /// blob of `blob_len` bytes fits in a slot.
    fn window<'w>(&self, blob_len: usize, scratch: &'w mut [u8]) -> Result<&'w mut [u8], Error> {
        let needed = Self::record_len(blob_len);
        let capacity = self.slot_size as usize;
        if needed > capacity {
            return Err(Error::SlotTooSmall { needed, capacity });
        }
        let (needed, found) = (Self::scratch_len(), scratch.len());
        scratch
            .get_mut(..needed)
            .ok_or(Error::BufferSize { needed, found })
    }

    /// Where the blob of `slot` lies: after its header, up to the slot's end.
    fn source(&self, slot: Slot) -> Result<SlotBlob, Error> {
        Ok(SlotBlob {
            at: self.offset(slot, header_len::<F>())?,
            capacity: (self.slot_size as usize).saturating_sub(header_len::<F>()),
        })
    }

    /// The newest slot whose record is whole and holds a valid blob with these widths.
    fn newest(&mut self, widths: &[usize], window: &mut [u8]) -> Result<Option<Stored>, Error> {
        let a = self.header(Slot::A, window)?.map(|h| h.sequence);
        let b = self.header(Slot::B, window)?.map(|h| h.sequence);
        let order = match (a, b) {
            (Some(a), Some(b)) if newer(b, a) => [Slot::B, Slot::A],
            _ => [Slot::A, Slot::B],
        };
        for slot in order {
            if let Some(sequence) = self.verify(slot, widths, window)? {
                return Ok(Some(Stored { slot, sequence }));
            }
        }
        Ok(None)
    }

    /// The header of a slot, if the magic is there.
    fn header(&mut self, slot: Slot, window: &mut [u8]) -> Result<Option<Header>, Error> {
        let Some(head) = window.get_mut(..header_len::<F>()) else {
            return Ok(None);
        };
        self.read(slot, head)?;
        Ok(parse(head))
    }

    /// Checks a slot's record, streamed through `window`: magic, length, the record CRC, and
    /// the blob with [`format::inspect_from`] and its widths. Returns its sequence number.
    fn verify(
        &mut self,
        slot: Slot,
        widths: &[usize],
        window: &mut [u8],
    ) -> Result<Option<u32>, Error> {
        let Some(header) = self.header(slot, window)? else {
            return Ok(None);
        };
        let blob = self.source(slot)?;
        if header.len < 4 || header.len > blob.capacity {
            return Ok(None);
        }
        let mut source = blob.with(&mut self.flash);
        if format::crc_from(&mut source, window, &header.fields, header.len)? != header.crc {
            return Ok(None);
        }
        let valid = format::holds(&mut source, window, widths);
        Ok(valid.then_some(header.sequence))
    }

    /// Reads the first `bytes.len()` bytes of `slot`.
    fn read(&mut self, slot: Slot, bytes: &mut [u8]) -> Result<(), Error> {
        let at = self.offset(slot, 0)?;
        self.flash.read(at, bytes).map_err(flash_error)
    }

    /// The flash offset of byte `offset` of `slot`.
    fn offset(&self, slot: Slot, offset: usize) -> Result<u32, Error> {
        let start = match slot {
            Slot::A => self.base,
            Slot::B => self.base.saturating_add(self.slot_size),
        };
        u32::try_from(offset)
            .ok()
            .and_then(|o| start.checked_add(o))
            .ok_or(Error::Flash(NorFlashErrorKind::OutOfBounds))
    }
}

/// A slot's blob as a [`format::Source`]: from `at` in the flash, `capacity` bytes.
#[derive(Debug, Clone, Copy)]
struct SlotBlob {
    at: u32,
    capacity: usize,
}

impl SlotBlob {
    /// The blob, read through `flash`.
    fn with<F: NorFlash>(self, flash: &mut F) -> SlotSource<'_, F> {
        SlotSource { flash, blob: self }
    }
}

/// A slot's blob, read through the flash driver.
struct SlotSource<'f, F> {
    flash: &'f mut F,
    blob: SlotBlob,
}

impl<F: NorFlash> format::Source for SlotSource<'_, F> {
    fn align(&self) -> usize {
        unit::<F>()
    }

    fn capacity(&self) -> usize {
        self.blob.capacity
    }

    fn read(&mut self, at: usize, buf: &mut [u8]) -> Result<(), Error> {
        let at = u32::try_from(at)
            .ok()
            .and_then(|at| self.blob.at.checked_add(at))
            .ok_or(Error::Flash(NorFlashErrorKind::OutOfBounds))?;
        self.flash.read(at, buf).map_err(flash_error)
    }
}

/// Writes a blob into an erased slot through a window: whole windows as they fill, the last
/// one padded with `0xFF` (erased flash) to the access unit; keeps the record CRC of the blob.
struct SlotSink<'a, F> {
    flash: &'a mut F,
    /// Where the window's bytes go.
    at: u32,
    window: &'a mut [u8],
    filled: usize,
    crc: Crc32,
}

impl<F: NorFlash> SlotSink<'_, F> {
    /// Writes the window's bytes, padded to the access unit, and moves on.
    fn flush(&mut self) -> Result<(), Error> {
        let len = round_up(self.filled, unit::<F>());
        let window = self.window.get_mut(..len).unwrap_or(&mut []);
        window.iter_mut().skip(self.filled).for_each(|b| *b = 0xFF);
        self.flash.write(self.at, window).map_err(flash_error)?;
        let len = u32::try_from(len).map_err(|_| Error::Flash(NorFlashErrorKind::OutOfBounds))?;
        self.at = self.at.saturating_add(len);
        self.filled = 0;
        Ok(())
    }

    /// Writes what is left; returns the record CRC.
    fn finish(mut self) -> Result<u32, Error> {
        if self.filled > 0 {
            self.flush()?;
        }
        Ok(self.crc.finish())
    }
}

impl<F: NorFlash> format::Sink for SlotSink<'_, F> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.crc.update(bytes);
        let mut rest = bytes;
        while !rest.is_empty() {
            let free = self.window.len() - self.filled;
            let (now, later) = rest.split_at(free.min(rest.len()));
            let dst = self.window.get_mut(self.filled..).unwrap_or(&mut []);
            dst.iter_mut().zip(now).for_each(|(d, s)| *d = *s);
            self.filled += now.len();
            rest = later;
            if self.filled == self.window.len() {
                self.flush()?;
            }
        }
        Ok(())
    }
}

/// [`ModelStore::slot_len`] for a flash whose access unit (the least common multiple of its read
/// and write sizes) is `unit` bytes and whose erase pages are `erase_size` bytes: for a program
/// that sizes its slots before it chooses a flash driver.
///
/// ```
/// use tinytrain_core::{format::{self, Sections}, slots, Optimizer};
/// const W: [usize; 4] = [1, 16, 16, 1];
/// let blob = format::encoded_len(&W, Sections::resume(Optimizer::ADAM));
/// assert_eq!(slots::slot_len(blob, 4, 4096), 4096);
/// assert_eq!(slots::slot_len(blob, 4, 1024), 4096);
/// assert_eq!(slots::slot_len(blob, 256, 256), 4096 + 256);
/// ```
pub const fn slot_len(blob_len: usize, unit: usize, erase_size: usize) -> usize {
    let record = round_up(HEADER_LEN, unit).saturating_add(round_up(blob_len, unit));
    round_up(record, erase_size)
}

/// The parsed fields of a slot header, and its first 12 bytes, which the record CRC covers.
struct Header {
    fields: [u8; CRC_AT],
    sequence: u32,
    len: usize,
    crc: u32,
}

/// Parses the header at the start of `bytes`, if the magic is there.
fn parse(bytes: &[u8]) -> Option<Header> {
    let word = |k: usize| -> Option<[u8; 4]> { bytes.get(4 * k..4 * k + 4)?.try_into().ok() };
    if word(0)? != MAGIC {
        return None;
    }
    let mut fields = [0u8; CRC_AT];
    fields.iter_mut().zip(bytes).for_each(|(d, s)| *d = *s);
    Some(Header {
        fields,
        sequence: u32::from_le_bytes(word(1)?),
        len: usize::try_from(u32::from_le_bytes(word(2)?)).ok()?,
        crc: u32::from_le_bytes(word(3)?),
    })
}

/// The record CRC: header fields before the CRC, then the blob.
#[cfg(test)]
fn record_crc(head: &[u8], blob: &[u8]) -> u32 {
    let mut crc = Crc32::new();
    crc.update(head.get(..CRC_AT).unwrap_or(&[]));
    crc.update(blob);
    crc.finish()
}

/// `a` is newer than `b` in serial-number order: at most 2³¹ − 1 saves ahead, wrapping around.
const fn newer(a: u32, b: u32) -> bool {
    let ahead = a.wrapping_sub(b);
    ahead != 0 && ahead < 1 << 31
}

fn flash_error(e: impl NorFlashError) -> Error {
    Error::Flash(e.kind())
}

/// The access unit: every read and write is a whole number of units at a unit boundary.
const fn unit<F: NorFlash>() -> usize {
    lcm(F::READ_SIZE, F::WRITE_SIZE)
}

/// The header, padded to the access unit.
const fn header_len<F: NorFlash>() -> usize {
    round_up(HEADER_LEN, unit::<F>())
}

const fn lcm(a: usize, b: usize) -> usize {
    let (a, b) = (if a == 0 { 1 } else { a }, if b == 0 { 1 } else { b });
    let (mut x, mut y) = (a, b);
    while y != 0 {
        (x, y) = (y, x % y);
    }
    // `x` is the greatest common divisor, at least 1: `checked_div` only says so.
    match a.checked_div(x) {
        Some(q) => q.saturating_mul(b),
        None => b,
    }
}

/// `n` rounded up to a multiple of `unit` (`n` itself for a unit of 0: no division by zero).
const fn round_up(n: usize, unit: usize) -> usize {
    match n.checked_rem(unit) {
        Some(0) | None => n,
        Some(r) => n.saturating_add(unit - r),
    }
}

#[cfg(test)]
mod tests {
    use super::sim::SimFlash;
    use super::*;
    use crate::{mlp, scaler, shape, Lcg, Model};
    use proptest::prelude::*;
    use std::vec;
    use std::vec::Vec;

    const W: [usize; 3] = [2, 3, 1];

    /// A network with seeded weights and statistics.
    struct Net {
        params: Vec<f32>,
        stats: Vec<f32>,
    }

    impl Net {
        fn new(seed: u64) -> Self {
            let mut params = vec![0.0; shape::param_len(&W)];
            mlp::init_he(&W, &mut params, &mut Lcg::new(seed));
            let mut stats = vec![0.0; shape::scaler_len(&W)];
            scaler::identity(&mut stats, W[0]);
            stats[0] = seed as f32;
            Self { params, stats }
        }

        fn model(&self) -> Model<'_> {
            Model::new(&W, &self.params, &self.stats).unwrap()
        }

        /// The bits of every value, to compare bit for bit.
        fn bits(&self) -> Vec<u32> {
            self.stats
                .iter()
                .chain(&self.params)
                .map(|v| v.to_bits())
                .collect()
        }
    }

    fn store<F: NorFlash>(flash: F, slot_size: u32) -> ModelStore<F> {
        ModelStore::new(flash, 0, slot_size).unwrap()
    }

    /// The blob of a model of `W` with nothing else.
    const BLOB: usize = format::encoded_len(&W, format::Sections::NONE);

    fn buf<F: NorFlash>() -> Vec<u8> {
        vec![0; ModelStore::<F>::scratch_len()]
    }

    /// The record a save of `contents` writes on flash `F`, with this sequence number: header,
    /// blob, `0xFF` padding.
    fn record_of<F: NorFlash>(sequence: u32, contents: &Contents<'_>) -> Vec<u8> {
        let len = contents.encoded_len();
        let mut record = vec![0xFF; ModelStore::<F>::record_len(len)];
        let head = header_len::<F>();
        format::save(contents, &mut record[head..head + len]).unwrap();
        seal::<F>(&mut record, sequence, len);
        record
    }

    /// Writes the header of a record whose blob of `len` bytes is in place: magic, sequence,
    /// length and the record CRC.
    fn seal<F: NorFlash>(record: &mut [u8], sequence: u32, len: usize) {
        let head = header_len::<F>();
        record[..4].copy_from_slice(&MAGIC);
        record[4..8].copy_from_slice(&sequence.to_le_bytes());
        record[8..12].copy_from_slice(&(len as u32).to_le_bytes());
        let crc = record_crc(&record[..CRC_AT], &record[head..head + len]);
        record[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_le_bytes());
    }

    fn save<F: NorFlash>(store: &mut ModelStore<F>, net: &Net) -> Result<Stored, Error> {
        store.save(&Contents::new(net.model()), &mut buf::<F>())
    }

    /// Loads the model; returns where it came from and its bits.
    fn load<F: NorFlash>(store: &mut ModelStore<F>) -> Result<(Stored, Vec<u32>), Error> {
        let mut net = Net {
            params: vec![f32::NAN; shape::param_len(&W)],
            stats: vec![f32::NAN; shape::scaler_len(&W)],
        };
        let buffers = Buffers::new(&mut net.params, &mut net.stats);
        let stored = store.load(&W, buffers, &mut buf::<F>()).map(|(s, _)| s);
        if stored.is_err() {
            assert!(
                net.bits().iter().all(|&b| b == f32::NAN.to_bits()),
                "written on error"
            );
        }
        Ok((stored?, net.bits()))
    }

    fn at(slot: Slot, sequence: u32) -> Stored {
        Stored { slot, sequence }
    }

    #[test]
    fn blank_flash_has_no_model_and_the_first_save_goes_to_slot_a() {
        let mut s = store(SimFlash::<1024, 4, 256>::new(), 256);
        assert_eq!(load(&mut s), Err(Error::NoValidModel));
        let net = Net::new(1);
        assert_eq!(save(&mut s, &net), Ok(at(Slot::A, 1)));
        assert_eq!(load(&mut s), Ok((at(Slot::A, 1), net.bits())));
        assert!(
            s.flash().bytes()[256..].iter().all(|&b| b == 0xFF),
            "slot B untouched"
        );
    }

    #[test]
    fn saves_alternate_between_slots_and_count_up() {
        let mut s = store(SimFlash::<1024, 8, 256>::new(), 512);
        for k in 1..=9u32 {
            let net = Net::new(u64::from(k));
            let slot = if k % 2 == 1 { Slot::A } else { Slot::B };
            assert_eq!(save(&mut s, &net), Ok(at(slot, k)));
            assert_eq!(load(&mut s), Ok((at(slot, k), net.bits())));
        }
    }

    #[test]
    fn a_damaged_slot_falls_back_to_the_other_and_is_written_next() {
        let (old, new, next) = (Net::new(1), Net::new(2), Net::new(3));
        let mut s = store(SimFlash::<1024, 4, 256>::new(), 256);
        save(&mut s, &old).unwrap();
        save(&mut s, &new).unwrap();
        for damage in [256 + 1, 256 + 5, 256 + 9, 256 + 13, 256 + 40] {
            let mut d = store(s.flash().clone(), 256);
            d.flash().bytes_mut()[damage] ^= 0x01;
            assert_eq!(
                load(&mut d),
                Ok((at(Slot::A, 1), old.bits())),
                "byte {damage}"
            );
            assert_eq!(save(&mut d, &next), Ok(at(Slot::B, 2)), "the damaged slot");
            assert_eq!(load(&mut d), Ok((at(Slot::B, 2), next.bits())));
        }
        s.flash().bytes_mut()[300] ^= 0x80;
        s.flash().bytes_mut()[20] ^= 0x80;
        assert_eq!(load(&mut s), Err(Error::NoValidModel));
    }

    #[test]
    fn sequence_numbers_wrap_around() {
        let mut s = store(SimFlash::<1024, 4, 256>::new(), 256);
        let nets = [Net::new(1), Net::new(2), Net::new(3)];
        let record = record_of::<SimFlash<1024, 4, 256>>(u32::MAX, &Contents::new(nets[0].model()));
        s.flash().bytes_mut()[..record.len()].copy_from_slice(&record);
        assert_eq!(load(&mut s), Ok((at(Slot::A, u32::MAX), nets[0].bits())));
        assert_eq!(save(&mut s, &nets[1]), Ok(at(Slot::B, 0)));
        assert_eq!(load(&mut s), Ok((at(Slot::B, 0), nets[1].bits())));
        assert_eq!(save(&mut s, &nets[2]), Ok(at(Slot::A, 1)));
        assert_eq!(load(&mut s), Ok((at(Slot::A, 1), nets[2].bits())));
        assert!(newer(0, u32::MAX) && newer(1 << 31, 1) && !newer(1 << 31, 0));
        assert!(!newer(5, 5) && !newer(2, 3));
    }

    #[test]
    fn bad_layouts_and_models_are_refused_before_erasing() {
        type Flash = SimFlash<1024, 4, 256>;
        let kind = |r: Result<ModelStore<Flash>, Error>| r.err();
        let aligned = Some(Error::Flash(NorFlashErrorKind::NotAligned));
        assert_eq!(kind(ModelStore::new(Flash::new(), 128, 256)), aligned);
        assert_eq!(kind(ModelStore::new(Flash::new(), 0, 100)), aligned);
        assert_eq!(kind(ModelStore::new(Flash::new(), 0, 0)), aligned);
        let bounds = Some(Error::Flash(NorFlashErrorKind::OutOfBounds));
        assert_eq!(kind(ModelStore::new(Flash::new(), 512, 512)), bounds);
        assert_eq!(
            kind(ModelStore::new(Flash::new(), 256, u32::MAX - 255)),
            bounds
        );

        let big = [4, 16, 16, 1];
        let (p, st) = (vec![0.0; shape::param_len(&big)], vec![1.0; 10]);
        let mut s = store(Flash::new(), 256);
        let big_model = Contents::new(Model::new(&big, &p, &st).unwrap());
        let needed = ModelStore::<Flash>::record_len(big_model.encoded_len());
        assert_eq!(
            s.save(&big_model, &mut vec![0; 2048]),
            Err(Error::SlotTooSmall {
                needed,
                capacity: 256
            })
        );
        let mut net = Net::new(1);
        assert_eq!(
            s.save(&Contents::new(net.model()), &mut [0; 40]),
            Err(Error::BufferSize {
                needed: buf::<Flash>().len(),
                found: 40
            })
        );
        net.params[4] = f32::INFINITY;
        assert_eq!(
            save(&mut s, &net),
            Err(Error::NonFiniteParameter { index: 4 })
        );
        assert_eq!(s.flash().steps(), 0, "nothing erased or written");
    }

    #[test]
    fn a_model_of_other_widths_is_not_loaded() {
        let mut s = store(SimFlash::<1024, 1, 256>::new(), 256);
        save(&mut s, &Net::new(1)).unwrap();
        let other = [2, 4, 1];
        let (mut p, mut st) = (vec![0.0; shape::param_len(&other)], vec![0.0; 6]);
        let mut b = vec![0; 512];
        assert_eq!(
            s.load(&other, Buffers::new(&mut p, &mut st), &mut b),
            Err(Error::NoValidModel)
        );
    }

    /// A record whose slot CRC holds but whose blob `format::load` refuses (a deviation of 0,
    /// its own CRC recomputed): a forged or buggy save.
    fn refused_record(sequence: u32) -> Vec<u8> {
        let net = Net::new(5);
        let mut record = record_of::<Small>(sequence, &Contents::new(net.model()));
        let blob_at = header_len::<Small>();
        // The header and widths, then the means of the two inputs, then the first deviation.
        let at = blob_at + 24 + 2 * 4;
        record[at..at + 4].copy_from_slice(&0.0f32.to_le_bytes());
        let end = blob_at + BLOB - 4;
        let crc = crate::crc::crc32(&record[blob_at..end]);
        record[end..end + 4].copy_from_slice(&crc.to_le_bytes());
        seal::<Small>(&mut record, sequence, BLOB);
        assert!(matches!(
            format::inspect(&record[blob_at..]),
            Err(Error::InvalidStatistic { .. })
        ));
        record
    }

    #[test]
    fn a_newer_record_that_load_refuses_never_makes_a_save_overwrite_the_only_model() {
        let mut s = store(Small::new(), 256);
        let only = Net::new(1);
        assert_eq!(save(&mut s, &only), Ok(at(Slot::A, 1)));
        let refused = refused_record(2);
        s.flash().bytes_mut()[256..256 + refused.len()].copy_from_slice(&refused);
        assert_eq!(load(&mut s), Ok((at(Slot::A, 1), only.bits())));
        // The save goes to slot B, over the refused record; slot A keeps the only model.
        let image = s.flash().bytes()[..256].to_vec();
        let next = Net::new(2);
        assert_eq!(save(&mut s, &next), Ok(at(Slot::B, 2)));
        assert_eq!(&s.flash().bytes()[..256], &image[..]);
        assert_eq!(load(&mut s), Ok((at(Slot::B, 2), next.bits())));

        // The same with the refused record in slot A, newer than the model in B.
        let mut s = store(Small::new(), 256);
        save(&mut s, &Net::new(1)).unwrap();
        assert_eq!(save(&mut s, &only), Ok(at(Slot::B, 2)));
        let refused = refused_record(3);
        s.flash().bytes_mut()[..256].fill(0xFF);
        s.flash().bytes_mut()[..refused.len()].copy_from_slice(&refused);
        assert_eq!(load(&mut s), Ok((at(Slot::B, 2), only.bits())));
        let image = s.flash().bytes()[256..].to_vec();
        assert_eq!(save(&mut s, &next), Ok(at(Slot::A, 3)));
        assert_eq!(&s.flash().bytes()[256..], &image[..]);
        assert_eq!(load(&mut s), Ok((at(Slot::A, 3), next.bits())));
    }

    #[test]
    fn a_save_refuses_what_a_load_refuses_before_erasing() {
        let mut s = store(Small::new(), 256);
        let mut net = Net::new(1);
        net.stats[5] = -1.0; // the target's deviation
        assert_eq!(
            save(&mut s, &net),
            Err(Error::InvalidStatistic {
                field: crate::Field::Target(0),
                statistic: crate::Statistic::Deviation
            })
        );
        net.stats[5] = 1.0;
        net.stats[0] = f32::NAN; // the first input's mean
        assert_eq!(
            save(&mut s, &net),
            Err(Error::InvalidStatistic {
                field: crate::Field::Input(0),
                statistic: crate::Statistic::Mean
            })
        );
        assert_eq!(s.flash().steps(), 0, "nothing erased or written");
    }

    #[test]
    fn records_of_format_version_1_still_load() {
        // The demo's flash as version 1 firmware left it: 4 KiB slots, 4-byte words.
        type Demo = SimFlash<8192, 4, 4096>;
        const WIDTHS: [usize; 4] = [1, 16, 16, 1];
        let mut flash = Demo::new();
        flash
            .bytes_mut()
            .copy_from_slice(include_bytes!("../tests/data/v1/demo-slots.bin"));
        let mut s = ModelStore::new(flash, 0, 4096).unwrap();
        let mut params = vec![0.0; shape::param_len(&WIDTHS)];
        let mut stats = vec![0.0; shape::scaler_len(&WIDTHS)];
        let mut b = vec![0; 4096];
        let (stored, loaded) = s
            .load(&WIDTHS, Buffers::new(&mut params, &mut stats), &mut b)
            .unwrap();
        assert_eq!(stored, at(Slot::A, 1));
        assert_eq!(loaded.summary.header.version, 1);
        // FNV-1a of the weights' bits, as the demo logged it.
        let hash = params.iter().fold(0x811c_9dc5u32, |h, p| {
            p.to_bits()
                .to_le_bytes()
                .iter()
                .fold(h, |h, b| (h ^ u32::from(*b)).wrapping_mul(0x0100_0193))
        });
        assert_eq!(hash, 0xbacd_2d29);
        // The next save, in version 2, goes to slot B.
        let contents = Contents::new(Model::new(&WIDTHS, &params, &stats).unwrap());
        assert_eq!(s.save(&contents, &mut b), Ok(at(Slot::B, 2)));
    }

    /// What the slots held before an interrupted save, and what it was saving.
    struct Scene<F> {
        before: F,
        old: Option<(Stored, Vec<u32>)>,
        new: (Stored, Vec<u32>),
    }

    /// Cuts the power after every step of the save in `scene`; returns the cut points tried.
    fn cut_everywhere<F: NorFlash + Clone + Steps>(scene: &Scene<F>, slot_size: u32) -> usize {
        let mut done = store(scene.before.clone(), slot_size);
        let net = Net::new(99);
        let start = done.flash().done();
        assert_eq!(save(&mut done, &net).unwrap(), scene.new.0);
        let steps = done.flash().done() - start;
        let (mut olds, mut news) = (0, 0);
        for cut in 0..steps {
            let mut s = store(scene.before.clone(), slot_size);
            s.flash().cut(cut);
            assert!(
                save(&mut s, &net).is_err(),
                "cut {cut} of {steps} went unnoticed"
            );
            s.flash().restore();
            // Commit last: while the blob is being written, the header is still blank.
            let head = header_len::<F>();
            if (2 * slot_size as usize..steps - 2 * head).contains(&cut) {
                let mut header = vec![0; head];
                let offset = s.offset(scene.new.0.slot, 0).unwrap();
                s.flash().read(offset, &mut header).unwrap();
                assert!(
                    header.iter().all(|&b| b == 0xFF),
                    "cut {cut}: header before blob"
                );
            }
            match load(&mut s) {
                Ok(got) if got == scene.new => news += 1,
                Ok(got) if Some(&got) == scene.old.as_ref() => olds += 1,
                Err(Error::NoValidModel) if scene.old.is_none() => olds += 1,
                other => panic!("cut {cut} of {steps}: {other:?}, expected {:?}", scene.old),
            }
            // The interrupted slot is written next, and the model that survived is kept.
            let kept = load(&mut s).ok();
            let next = save(&mut s, &Net::new(7)).unwrap();
            assert_ne!(Some(next.slot), kept.as_ref().map(|k| k.0.slot));
            assert_eq!(load(&mut s).unwrap(), (next, Net::new(7).bits()));
        }
        assert!(olds > steps / 2, "most cuts leave the old model");
        assert_eq!(olds + news, steps);
        steps
    }

    /// Power-cut control, for any flash geometry of the simulator.
    trait Steps {
        fn done(&self) -> usize;
        fn cut(&mut self, steps: usize);
        fn restore(&mut self);
    }

    impl<const S: usize, const WR: usize, const E: usize> Steps for SimFlash<S, WR, E> {
        fn done(&self) -> usize {
            self.steps()
        }
        fn cut(&mut self, steps: usize) {
            self.cut_power_after(steps);
        }
        fn restore(&mut self) {
            self.restore_power();
        }
    }

    /// Blank flash, one model saved, both slots full: each save interrupted at every step.
    fn every_cut_point<F: NorFlash + Clone + Steps + Default>(slot_size: u32) -> usize {
        let (first, second) = (Net::new(1), Net::new(2));
        let mut s = store(F::default(), slot_size);
        let blank = s.flash().clone();
        let mut tried = cut_everywhere(
            &Scene {
                before: blank,
                old: None,
                new: (at(Slot::A, 1), Net::new(99).bits()),
            },
            slot_size,
        );
        save(&mut s, &first).unwrap();
        let one = s.flash().clone();
        tried += cut_everywhere(
            &Scene {
                before: one,
                old: Some((at(Slot::A, 1), first.bits())),
                new: (at(Slot::B, 2), Net::new(99).bits()),
            },
            slot_size,
        );
        save(&mut s, &second).unwrap();
        tried += cut_everywhere(
            &Scene {
                before: s.release(),
                old: Some((at(Slot::B, 2), second.bits())),
                new: (at(Slot::A, 3), Net::new(99).bits()),
            },
            slot_size,
        );
        // Each save erases every byte of its slot and programs every byte of its record once.
        let record = ModelStore::<F>::record_len(BLOB);
        assert_eq!(tried, 3 * 2 * (slot_size as usize + record));
        tried
    }

    #[test]
    fn a_save_cut_at_any_step_leaves_the_old_model_or_the_new_one() {
        let tried = every_cut_point::<SimFlash<512, 1, 256>>(256)
            + every_cut_point::<SimFlash<1024, 4, 128>>(256)
            + every_cut_point::<SimFlash<4096, 8, 1024>>(1024)
            + every_cut_point::<SimFlash<2048, 32, 512>>(512);
        std::println!(
            "power cut at {tried} points of saves: each load gave the old or the new model"
        );
    }

    type Small = SimFlash<512, 4, 128>;

    /// Two saved models, A older than B.
    fn two_models() -> ModelStore<Small> {
        let mut s = store(Small::new(), 256);
        save(&mut s, &Net::new(1)).unwrap();
        save(&mut s, &Net::new(2)).unwrap();
        s
    }

    /// A load that succeeds returns exactly a model that was saved in that slot; and a save
    /// and a load still work afterwards.
    fn check_image(s: &mut ModelStore<Small>, saved: &[(Stored, Vec<u32>)]) {
        if let Ok(got) = load(s) {
            assert!(saved.contains(&got), "loaded {got:?}");
        }
        let next = save(s, &Net::new(3)).unwrap();
        assert_eq!(load(s).unwrap(), (next, Net::new(3).bits()));
    }

    proptest! {
        #[test]
        fn random_flash_images_never_panic(
            image in proptest::collection::vec(any::<u8>(), 512),
            magic: [bool; 2],
            len: [bool; 2],
        ) {
            let mut s = store(Small::new(), 256);
            let bytes = s.flash().bytes_mut();
            bytes.copy_from_slice(&image);
            for (k, slot) in bytes.chunks_exact_mut(256).enumerate() {
                if magic[k] { slot[..4].copy_from_slice(&MAGIC); }
                if len[k] { slot[8..12].copy_from_slice(&(BLOB as u32).to_le_bytes()); }
            }
            check_image(&mut s, &[]);
        }

        #[test]
        fn damaged_images_load_a_saved_model_or_nothing(
            flips in proptest::collection::vec((0..512usize, 1..=255u8), 1..6),
            wipe in proptest::option::of((0..512usize, 0..64usize, any::<u8>())),
        ) {
            let mut s = two_models();
            let saved = [(at(Slot::A, 1), Net::new(1).bits()), (at(Slot::B, 2), Net::new(2).bits())];
            let bytes = s.flash().bytes_mut();
            for &(k, x) in &flips { bytes[k] ^= x; }
            if let Some((from, len, v)) = wipe {
                bytes[from..(from + len).min(512)].fill(v);
            }
            let record = ModelStore::<Small>::record_len(BLOB);
            let intact = |slot: usize| {
                let r = 256 * slot..256 * slot + record;
                s.flash.bytes()[r.clone()] == two_models().flash.bytes()[r]
            };
            let (a_intact, b_intact) = (intact(0), intact(1));
            let got = load(&mut s);
            if b_intact {
                prop_assert_eq!(&got, &Ok(saved[1].clone()));
            } else if a_intact {
                prop_assert!(got.is_ok(), "an intact model was lost: {:?}", got);
            }
            check_image(&mut s, &saved);
        }
    }
}
