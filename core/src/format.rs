//! The model format: a checked, little-endian byte layout for a trained network — its widths,
//! standardisation and weights, and optionally its column names, its optimizer's state and its
//! training settings — so that a model survives a trip through flash, a file or a radio link,
//! and training can resume from it.
//!
//! # Version 2 (written)
//!
//! Every field is little-endian; every part starts at a multiple of 4 bytes.
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 4 | magic `b"TTNN"` |
//! | 4 | 2 | format version, `2` (u16) |
//! | 6 | 1 | task: 0 regression, 1 classification ([`Task`]) |
//! | 7 | 1 | 0 (reserved) |
//! | 8 | 4 | `N`, the blob's length in bytes, CRC included (u32) |
//! | 12 | 2 | number of widths `L`, 2 to [`MAX_LAYERS`] (u16) |
//! | 14 | 2 | number of sections `K`, 0 to 4 (u16) |
//! | 16 | 2·L | the widths, input first (u16 each), then 0 or 2 zero bytes to a multiple of 4 |
//! | … | 4·S | standardisation statistics (f32, [`crate::scaler`] layout, S = [`shape::scaler_len`]) |
//! | … | 4·P | parameters, layer after layer, weights row by row then biases (f32, P = [`shape::param_len`]) |
//! | … | | `K` sections in increasing order of kind, each at most once: kind (u16), 0 (u16), payload length `n` (u32), `n` bytes of payload, zero bytes to a multiple of 4 |
//! | N − 4 | 4 | CRC-32 ([`crate::crc`]) of every byte before it (u32) |
//!
//! The sections, each optional:
//!
//! | kind | section | payload |
//! |---|---|---|
//! | 1 | input names | the names of the `L₀` input columns ([`Names`]: count u16, then each name's length u8 and its UTF-8 bytes) |
//! | 2 | output names | the names of the targets, or the class labels of a classifier, one per output |
//! | 3 | optimizer state | rule u8 (0 SGD, 1 momentum, 2 Adam), 0 u8, first trainable layer u16, three hyperparameters f32 (momentum's `β`, or Adam's `β₁ β₂ ε`; 0 where the rule has none), step count u64, Adam's `β₁ᵗ β₂ᵗ` f32 (1 for the other rules), then the state of the trainable layers' parameters, f32 ([`OptimizerState`]) |
//! | 4 | training settings | learning rate f32, batch size u32, clipping norm f32, epochs trained u32 ([`Training`]) |
//!
//! A reader refuses a section kind it does not know ([`Error::UnknownSection`]): a model is
//! understood whole or not at all. Reserved fields and padding are 0, so a model has exactly
//! one encoding, and a model that loads saves to the same bytes.
//!
//! # Version 1 (read)
//!
//! Magic, version `1` (u16), `L` (u16), the widths, the statistics, the parameters and the CRC,
//! with no padding, no length field and no sections: a regression model without names or
//! optimizer state. Version 1 models load as they always did.
//!
//! # Checks
//!
//! [`inspect`] checks a blob completely — magic, version, task, widths, length, CRC, that every
//! statistic is finite with deviations above 0 (as [`crate::Trainer::set_model`] requires),
//! finite parameters, and every section — without writing anything or needing any buffer;
//! [`load`] checks the same before it writes a single value, and [`save`] refuses what [`load`]
//! would refuse. [`read_header`] needs only the first bytes ([`MAX_HEADER_LEN`] at most) and
//! gives the blob's length, so a reader knows how much to read — and to allocate — before it
//! reads the rest. Bytes after the blob are ignored, so a blob can sit at the start of a larger
//! flash slot.
//!
//! ```
//! use tinytrain_core::format::{self, Buffers, Contents, Names, Sections};
//! use tinytrain_core::Model;
//! let widths = [1, 1];
//! let (params, stats) = ([2.0, 1.0], [0.0, 1.0, 0.0, 1.0]);
//! let (inputs, outputs) = (["x"], ["y"]);
//! let contents = Contents {
//!     input_names: Some(Names::new(&inputs)?),
//!     output_names: Some(Names::new(&outputs)?),
//!     ..Contents::new(Model::new(&widths, &params, &stats)?)
//! };
//! let mut blob = [0u8; format::encoded_len(&[1, 1], Sections::names(&["x"], &["y"]))];
//! format::save(&contents, &mut blob)?;
//!
//! let summary = format::inspect(&blob)?;
//! let (mut p, mut s, mut area) = ([0.0; 2], [0.0; 4], [0u8; 16]);
//! let loaded = format::load(&blob, &summary.header.widths, Buffers {
//!     names: Some(&mut area),
//!     ..Buffers::new(&mut p, &mut s)
//! })?;
//! assert_eq!(loaded.input_names.and_then(|n| n.get(0)), Some("x"));
//! assert_eq!((p, s), (params, stats));
//!
//! blob[40] ^= 1; // one flipped bit in a weight
//! assert!(matches!(format::inspect(&blob), Err(tinytrain_core::Error::CrcMismatch { .. })));
//! # Ok::<(), tinytrain_core::Error>(())
//! ```

mod bytes;
mod names;
mod sections;
mod source;

pub use bytes::Sink;
pub use names::{names_capacity, names_len, Names};
pub use sections::Training;
pub use source::Source;

use crate::crc::Crc32;
use crate::optim::OptimizerState;
use crate::slices::{expect_len, expect_width};
use crate::{scaler, shape, Error, Model, Optimizer, Section};
use bytes::{round_to_4, Reader, SliceSink, Writer};
use sections::SECTION_HEADER;
use source::Stream;

/// The first four bytes of every model.
pub const MAGIC: [u8; 4] = *b"TTNN";
/// The format version this build writes.
pub const VERSION: u16 = 2;
/// The oldest format version this build reads.
pub const OLDEST_VERSION: u16 = 1;
/// The largest number of widths (input, hidden layers, output) a model may have.
pub const MAX_LAYERS: usize = 16;
/// The longest name a model holds, in bytes of UTF-8.
pub const MAX_NAME_LEN: usize = u8::MAX as usize;
/// The most bytes [`read_header`] needs to find a blob's length.
pub const MAX_HEADER_LEN: usize = V2_HEADER + 2 * MAX_LAYERS;

/// Fixed header bytes of each version, before the widths.
const V1_HEADER: usize = 8;
const V2_HEADER: usize = 16;

/// What a model predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Task {
    /// Numbers, in the targets' units (the output names name the targets).
    Regression,
    /// A class, one output per class (the output names are the class labels).
    Classification,
}

impl Task {
    const fn code(self) -> u8 {
        match self {
            Task::Regression => 0,
            Task::Classification => 1,
        }
    }

    fn from_code(task: u8) -> Result<Self, Error> {
        match task {
            0 => Ok(Task::Regression),
            1 => Ok(Task::Classification),
            _ => Err(Error::UnknownTask { task }),
        }
    }
}

/// What [`read_header`] finds in a blob's first bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The format version, 1 or 2.
    pub version: u16,
    /// What the model predicts.
    pub task: Task,
    /// The layer widths, input first (checked with [`shape::check`]).
    pub widths: heapless::Vec<usize, MAX_LAYERS>,
    /// The blob's length in bytes, CRC included.
    pub len: usize,
}

impl Header {
    /// Nothing read yet.
    const EMPTY: Self = Self {
        version: 0,
        task: Task::Regression,
        widths: heapless::Vec::new(),
        len: 0,
    };
}

/// Reads and checks a blob's header: magic, version, task, widths and length. Needs the first
/// `16 + 2·L` bytes of a version 2 blob (`8 + 2·L` for version 1), at most [`MAX_HEADER_LEN`];
/// with fewer, [`Error::Truncated`] says how many.
///
/// The length it returns is at least what the widths need and at most `u32::MAX`: read that many
/// bytes, then [`inspect`] or [`load`] them.
///
pub fn read_header(bytes: &[u8]) -> Result<Header, Error> {
    let mut header = Header::EMPTY;
    read_header_into(bytes, &mut header)?;
    Ok(header)
}

/// [`read_header`] into `header`, left partly written on an error: a walk reads the header
/// where it keeps it, with no copy of it on the stack.
///
/// Not inlined: its locals are off the stack while a blob is walked ([`inspect_from`]).
#[inline(never)]
fn read_header_into(bytes: &[u8], header: &mut Header) -> Result<(), Error> {
    let short = |needed: usize| Error::Truncated {
        needed,
        found: bytes.len(),
    };
    let magic_len = bytes.len().min(MAGIC.len());
    if bytes.get(..magic_len) != MAGIC.get(..magic_len) {
        return Err(Error::BadMagic);
    }
    let mut r = Reader::new(bytes, Section::Header);
    r.take(MAGIC.len()).map_err(|_| short(V1_HEADER))?;
    let version = r.u16().map_err(|_| short(V1_HEADER))?;
    let fixed = match version {
        1 => V1_HEADER,
        2 => V2_HEADER,
        _ => return Err(Error::UnsupportedVersion { version }),
    };
    if bytes.len() < fixed {
        return Err(short(fixed));
    }
    let (task, declared, count) = if version == 1 {
        (Task::Regression, 0, r.u16()?)
    } else {
        let task = Task::from_code(r.u8()?)?;
        r.zeros(1)?;
        let declared = r.u32()?;
        let count = r.u16()?;
        r.u16()?; // the section count: `inspect` reads the sections
        (task, declared, count)
    };
    let count = usize::from(count);
    if count < 2 {
        return Err(Error::InvalidWidths);
    }
    if count > MAX_LAYERS {
        return Err(Error::TooManyLayers {
            widths: count,
            max: MAX_LAYERS,
        });
    }
    let widths_end = fixed + 2 * count;
    let header_len = if version == 1 {
        widths_end
    } else {
        round_to_4(widths_end)
    };
    if bytes.len() < header_len {
        return Err(short(header_len));
    }
    let widths = &mut header.widths;
    widths.clear();
    for _ in 0..count {
        let width = usize::from(r.u16()?);
        widths.push(width).map_err(|_| Error::TooManyLayers {
            widths: count,
            max: MAX_LAYERS,
        })?;
    }
    shape::check(widths)?;
    let len = if version == 1 {
        v1_len(widths)
    } else {
        r.zeros_to_4()?;
        let len = usize::try_from(declared).unwrap_or(usize::MAX);
        if len < encoded_len(widths, Sections::NONE) || len % 4 != 0 {
            return Err(
                r.malformed("the length is too short for the widths, or not a multiple of 4")
            );
        }
        len
    };
    header.version = version;
    header.task = task;
    header.len = len;
    Ok(())
}

/// Which optional sections a blob holds and how large they are: what [`encoded_len`] needs to
/// size a blob (or a flash slot) at compile time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sections {
    /// Payload bytes of the input names ([`names_len`]); 0 for none.
    pub input_names: usize,
    /// Payload bytes of the output names or class labels; 0 for none.
    pub output_names: usize,
    /// The optimizer whose state is stored; `None` for no state.
    pub optimizer: Option<Optimizer>,
    /// The first trainable layer of the stored state (0: every layer).
    pub trainable_from: usize,
    /// Whether the training settings are stored.
    pub training: bool,
}

impl Sections {
    /// No section: widths, statistics and parameters only.
    pub const NONE: Self = Self {
        input_names: 0,
        output_names: 0,
        optimizer: None,
        trainable_from: 0,
        training: false,
    };

    /// Input and output names, nothing else.
    pub const fn names(inputs: &[&str], outputs: &[&str]) -> Self {
        Self {
            input_names: names_len(inputs),
            output_names: names_len(outputs),
            ..Self::NONE
        }
    }

    /// What a trainer needs to resume: the state of `optimizer` for every layer and the
    /// training settings.
    pub const fn resume(optimizer: Optimizer) -> Self {
        Self {
            optimizer: Some(optimizer),
            training: true,
            ..Self::NONE
        }
    }

    /// Bytes of the name area that [`load`] fills with these names.
    pub const fn names_len(&self) -> usize {
        self.input_names.saturating_add(self.output_names)
    }

    /// Values of optimizer state for a network with these widths.
    pub const fn state_len(&self, widths: &[usize]) -> usize {
        match self.optimizer {
            Some(optimizer) => OptimizerState::values_len(widths, optimizer, self.trainable_from),
            None => 0,
        }
    }
}

/// The length in bytes of a version 2 blob with these widths and sections.
///
/// ```
/// use tinytrain_core::{format::{self, Sections}, Optimizer};
/// const W: [usize; 4] = [1, 16, 16, 1];
/// const BARE: usize = format::encoded_len(&W, Sections::NONE);
/// assert_eq!(BARE, 16 + 8 + 4 * (4 + 321) + 4);
/// const RESUMABLE: usize = format::encoded_len(&W, Sections::resume(Optimizer::ADAM));
/// assert_eq!(RESUMABLE, BARE + (8 + 32 + 4 * 2 * 321) + (8 + 16));
/// ```
pub const fn encoded_len(widths: &[usize], sections: Sections) -> usize {
    let values = shape::scaler_len(widths).saturating_add(shape::param_len(widths));
    let mut len = round_to_4(V2_HEADER.saturating_add(2usize.saturating_mul(widths.len())))
        .saturating_add(4usize.saturating_mul(values))
        .saturating_add(4);
    let names = [sections.input_names, sections.output_names];
    let mut rest = names.as_slice();
    while let [payload, tail @ ..] = rest {
        if *payload > 0 {
            len = len.saturating_add(section_len(*payload));
        }
        rest = tail;
    }
    if sections.optimizer.is_some() {
        let state = 4usize.saturating_mul(sections.state_len(widths));
        len = len.saturating_add(section_len(sections::OPTIMIZER_FIXED.saturating_add(state)));
    }
    if sections.training {
        len = len.saturating_add(section_len(sections::TRAINING_LEN));
    }
    len
}

/// Bytes of a section with a payload of `payload` bytes: its header, the payload, padding.
const fn section_len(payload: usize) -> usize {
    SECTION_HEADER.saturating_add(round_to_4(payload))
}

/// The length of a version 1 blob with these widths.
const fn v1_len(widths: &[usize]) -> usize {
    let values = shape::scaler_len(widths).saturating_add(shape::param_len(widths));
    (V1_HEADER + 4)
        .saturating_add(2usize.saturating_mul(widths.len()))
        .saturating_add(4usize.saturating_mul(values))
}

/// What [`inspect`] found in a valid blob: its header, which sections it holds and their sizes
/// (to size [`Buffers`]), and its training settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The header.
    pub header: Header,
    /// The sections and their sizes.
    pub sections: Sections,
    /// The training settings, if stored.
    pub training: Option<Training>,
}

/// Where each part of a checked blob starts.
struct Layout {
    summary: Summary,
    /// The blob offsets of the statistics (the parameters follow them), and of the payloads of
    /// the names.
    values_at: usize,
    input_names_at: usize,
    output_names_at: usize,
    optimizer: Option<sections::Saved>,
}

impl Layout {
    /// Nothing found yet: what [`walk`] fills in.
    const EMPTY: Self = Self {
        summary: Summary {
            header: Header::EMPTY,
            sections: Sections::NONE,
            training: None,
        },
        values_at: 0,
        input_names_at: 0,
        output_names_at: 0,
        optimizer: None,
    };
}

/// The bytes of the window [`inspect`] and [`load`] read a blob in memory through.
const WINDOW: usize = 64;

/// Checks a blob completely (see the module docs) without writing anything; bytes after the
/// blob's length are ignored. Every [`load`] of these bytes with buffers of the sizes it reports
/// succeeds.
pub fn inspect(bytes: &[u8]) -> Result<Summary, Error> {
    inspect_from(&mut { bytes }, &mut [0; WINDOW])
}

/// [`inspect`] on a blob read through `window` from `source` (a flash slot, say), with no
/// buffer the size of the blob: the CRC first, then each part in turn. `window` holds at least
/// the source's read unit ([`Source::align`]); a few dozen bytes read quickly.
pub fn inspect_from<S: Source + ?Sized>(
    source: &mut S,
    window: &mut [u8],
) -> Result<Summary, Error> {
    let mut layout = Layout::EMPTY;
    walk(source, window, &mut layout)?;
    Ok(layout.summary)
}

/// Whether the blob read through `window` from `source` passes [`inspect_from`] with these
/// widths (a flash slot's check in [`crate::slots`]). Not inlined: what the walk found is off
/// the caller's stack once it answers.
#[inline(never)]
pub(crate) fn holds<S: Source + ?Sized>(
    source: &mut S,
    window: &mut [u8],
    widths: &[usize],
) -> bool {
    let mut layout = Layout::EMPTY;
    walk(source, window, &mut layout).is_ok() && layout.summary.header.widths == widths
}

/// Reads the header, checks the CRC, then walks every part and checks it, filling in `layout`
/// (in the caller's frame: no copy of it is returned).
///
/// Two calls of their own, the header's and the body's: their frames are not stacked on each
/// other (on a microcontroller, a model's load is among the deepest chains of frames).
fn walk<S: Source + ?Sized>(
    source: &mut S,
    window: &mut [u8],
    layout: &mut Layout,
) -> Result<(), Error> {
    let (body, count) = walk_header(source, window, layout)?;
    walk_body(source, window, layout, body, count)
}

/// [`walk`]'s header: reads it into `layout` and checks the blob's CRC; returns the bytes
/// before the CRC and the number of sections (0 for version 1).
#[inline(never)]
fn walk_header<S: Source + ?Sized>(
    source: &mut S,
    window: &mut [u8],
    layout: &mut Layout,
) -> Result<(usize, u16), Error> {
    let capacity = source.capacity();
    let mut head = [0u8; MAX_HEADER_LEN];
    let head_len = MAX_HEADER_LEN.min(capacity);
    let mut s = Stream::new(source, window, 0, head_len, Section::Header);
    let mut at = 0;
    s.pieces(head_len, |piece| {
        for (d, b) in head.iter_mut().skip(at).zip(piece) {
            *d = *b;
        }
        at += piece.len();
        Ok(())
    })?;
    read_header_into(
        head.get(..head_len).unwrap_or(&[]),
        &mut layout.summary.header,
    )?;
    let len = layout.summary.header.len;
    if len > capacity {
        return Err(Error::Truncated {
            needed: len,
            found: capacity,
        });
    }
    let body = len - 4;
    let mut s = Stream::new(source, window, 0, len, Section::Header);
    let mut crc = Crc32::new();
    s.pieces(body, |piece| {
        crc.update(piece);
        Ok(())
    })?;
    let (stored, computed) = (s.u32()?, crc.finish());
    if stored != computed {
        return Err(Error::CrcMismatch { stored, computed });
    }

    // The sections' count, for a version 2 header (beyond the bytes of version 1).
    let count = u16::from_le_bytes([head.get(14), head.get(15)].map(|b| b.copied().unwrap_or(0)));
    Ok((body, count))
}

/// [`walk`] past the header and the CRC: the statistics and parameters (finite, in range),
/// then the `count` sections of a version 2 blob, in a blob of `body` bytes before its CRC.
///
/// Not inlined: the header's buffer and the CRC's reads are off the stack while the sections
/// are read.
#[inline(never)]
fn walk_body<S: Source + ?Sized>(
    source: &mut S,
    window: &mut [u8],
    layout: &mut Layout,
    body: usize,
    count: u16,
) -> Result<(), Error> {
    let version = layout.summary.header.version;
    let widths = &layout.summary.header.widths;
    layout.values_at = if version == 1 {
        V1_HEADER + 2 * widths.len()
    } else {
        round_to_4(V2_HEADER + 2 * widths.len())
    };
    let mut s = Stream::new(source, window, layout.values_at, body, Section::Header);
    let (n_in, n_out) = (shape::input_width(widths), shape::output_width(widths));
    for k in 0..shape::scaler_len(widths) {
        scaler::check_value(n_in, n_out, k, s.f32()?)?;
    }
    for index in 0..shape::param_len(widths) {
        if !s.f32()?.is_finite() {
            return Err(Error::NonFiniteParameter { index });
        }
    }
    if version == 1 {
        return Ok(());
    }
    let mut last = 0;
    for _ in 0..count {
        s.enter(Section::Header);
        let kind = s.u16()?;
        let section = sections::from_code(kind)?;
        if kind <= last {
            return Err(s.malformed("sections are not in increasing order of kind"));
        }
        last = kind;
        s.zeros(2)?;
        let payload = usize::try_from(s.u32()?).unwrap_or(usize::MAX);
        if payload > s.remaining() {
            return Err(s.malformed("it ends before its last field"));
        }
        let (at, end) = (s.position(), s.position() + payload);
        s.enter(section);
        s.limit(end);
        let found = &mut layout.summary.sections;
        match section {
            Section::InputNames => {
                names::check(&mut s, n_in)?;
                (found.input_names, layout.input_names_at) = (payload, at);
            }
            Section::OutputNames => {
                names::check(&mut s, n_out)?;
                (found.output_names, layout.output_names_at) = (payload, at);
            }
            Section::Optimizer => {
                let saved = sections::read_optimizer(&mut s, widths)?;
                found.optimizer = Some(saved.optimizer);
                found.trainable_from = saved.trainable_from;
                layout.optimizer = Some(saved);
            }
            Section::Training | Section::Header => {
                found.training = true;
                layout.summary.training = Some(sections::read_training(&mut s)?);
            }
        }
        s.limit(body);
        s.enter(Section::Header);
        s.zeros_to_4()?;
    }
    if s.remaining() != 0 {
        return Err(s.malformed("bytes follow the last section"));
    }
    Ok(())
}

/// The CRC-32 of `prefix` followed by the bytes `0..len` of `source`, read through `window`
/// (a record's CRC in [`crate::slots`]).
pub(crate) fn crc_from<S: Source + ?Sized>(
    source: &mut S,
    window: &mut [u8],
    prefix: &[u8],
    len: usize,
) -> Result<u32, Error> {
    let mut crc = Crc32::new();
    crc.update(prefix);
    let mut s = Stream::new(source, window, 0, len, Section::Header);
    s.pieces(len, |piece| {
        crc.update(piece);
        Ok(())
    })?;
    Ok(crc.finish())
}

/// Where [`load`] writes a model: parameters and statistics (exact lengths), and — if the
/// caller wants them — the names and the optimizer's state, which the [`Loaded`] result then
/// borrows (lifetime `'x`).
#[derive(Debug)]
pub struct Buffers<'m, 'x> {
    /// [`shape::param_len`] values.
    pub params: &'m mut [f32],
    /// [`shape::scaler_len`] values.
    pub stats: &'m mut [f32],
    /// An area of at least [`Sections::names_len`] bytes for the names; `None` skips them (a
    /// device that does not need names).
    pub names: Option<&'x mut [u8]>,
    /// Room for the optimizer's state ([`Sections::state_len`] values): it is written there if
    /// it fits — a buffer sized for Adam fits every rule's — and skipped otherwise (the
    /// [`Summary`] still says what was stored); `None` skips it.
    pub state: Option<&'x mut [f32]>,
}

impl<'m> Buffers<'m, '_> {
    /// Parameters and statistics only.
    pub fn new(params: &'m mut [f32], stats: &'m mut [f32]) -> Self {
        Self {
            params,
            stats,
            names: None,
            state: None,
        }
    }
}

/// What [`load`] found besides the parameters and statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded<'b> {
    /// The blob's header and sections.
    pub summary: Summary,
    /// The input names, in the name area (`None` if absent or skipped).
    pub input_names: Option<Names<'b>>,
    /// The output names or class labels, in the name area (`None` if absent or skipped).
    pub output_names: Option<Names<'b>>,
    /// The optimizer's state, its values in the state buffer (`None` if absent or skipped).
    pub optimizer: Option<OptimizerState<'b>>,
}

impl<'x> Loaded<'x> {
    /// What was loaded, around `model` (the parameters and statistics loaded): to save it
    /// again, e.g. after fine-tuning.
    pub fn contents<'a>(&self, model: Model<'a>) -> Contents<'a>
    where
        'x: 'a,
    {
        Contents {
            model,
            task: self.summary.header.task,
            input_names: self.input_names,
            output_names: self.output_names,
            optimizer: self.optimizer,
            training: self.summary.training,
        }
    }
}

/// Checks a blob completely ([`inspect`]) and, if it is valid, its widths equal `widths` and the
/// buffers are large enough, writes its contents into `buffers`. On any error nothing is
/// written.
///
/// Errors: those of [`inspect`]; [`Error::WidthMismatch`] for other widths;
/// [`Error::BufferSize`] for a parameter or statistics buffer of the wrong size;
/// [`Error::NameArea`] for a name area too small.
pub fn load<'x>(
    bytes: &[u8],
    widths: &[usize],
    buffers: Buffers<'_, 'x>,
) -> Result<Loaded<'x>, Error> {
    load_from(&mut { bytes }, &mut [0; WINDOW], widths, buffers)
}

/// [`load`] from a blob read through `window` from `source` (see [`inspect_from`]): the checks
/// first, then each part is read again into its buffer.
///
/// Not inlined: its locals are off the caller's stack (a slot store's, which first finds the
/// newest slot).
#[inline(never)]
pub fn load_from<'x, S: Source + ?Sized>(
    source: &mut S,
    window: &mut [u8],
    widths: &[usize],
    buffers: Buffers<'_, 'x>,
) -> Result<Loaded<'x>, Error> {
    let mut layout = Layout::EMPTY;
    walk(source, window, &mut layout)?;
    let stored = &layout.summary.header.widths;
    expect_width(stored.len(), widths.len())?;
    for (s, w) in stored.iter().zip(widths) {
        expect_width(*s, *w)?;
    }
    let Buffers {
        params,
        stats,
        names,
        state,
    } = buffers;
    expect_len(params.len(), shape::param_len(widths))?;
    expect_len(stats.len(), shape::scaler_len(widths))?;
    let sections = layout.summary.sections;
    let names = match names {
        Some(area) if sections.names_len() > 0 => {
            let needed = sections.names_len();
            let capacity = area.len();
            Some(
                area.get_mut(..needed)
                    .ok_or(Error::NameArea { needed, capacity })?,
            )
        }
        _ => None,
    };
    let state = match (state, &layout.optimizer) {
        (Some(buffer), Some(saved)) => buffer.get_mut(..saved.len),
        _ => None,
    };

    // Checked: from here on, only reads of what was checked, and writes.
    let end = layout.summary.header.len - 4;
    let mut s = Stream::new(source, window, layout.values_at, end, Section::Header);
    for v in stats.iter_mut().chain(params.iter_mut()) {
        *v = s.f32()?;
    }
    let (input_names, output_names) = match names {
        Some(area) => {
            let parts = [
                (layout.input_names_at, sections.input_names),
                (layout.output_names_at, sections.output_names),
            ];
            let mut filled = 0;
            for (at, len) in parts.into_iter().filter(|(_, len)| *len > 0) {
                let mut s = Stream::new(source, window, at, at + len, Section::Header);
                s.pieces(len, |piece| {
                    for (d, b) in area.iter_mut().skip(filled).zip(piece) {
                        *d = *b;
                    }
                    filled += piece.len();
                    Ok(())
                })?;
            }
            let area: &'x [u8] = area;
            let (inputs, outputs) = area.split_at(sections.input_names.min(area.len()));
            let view = |present: bool, bytes: &'x [u8]| present.then(|| Names::encoded(bytes));
            (
                view(sections.input_names > 0, inputs),
                view(sections.output_names > 0, outputs),
            )
        }
        None => (None, None),
    };
    let optimizer = match (state, layout.optimizer) {
        (Some(values), Some(saved)) => {
            let mut s = Stream::new(source, window, saved.values_at, end, Section::Optimizer);
            for v in values.iter_mut() {
                *v = s.f32()?;
            }
            let values: &'x [f32] = values;
            Some(OptimizerState {
                optimizer: saved.optimizer,
                bias_correction: saved.bias_correction,
                trainable_from: saved.trainable_from,
                values,
            })
        }
        _ => None,
    };
    Ok(Loaded {
        summary: layout.summary,
        input_names,
        output_names,
        optimizer,
    })
}

/// Everything a blob can hold: a model and its optional parts. Start from [`Contents::new`].
#[derive(Debug, Clone, Copy)]
pub struct Contents<'a> {
    /// The network and its standardisation.
    pub model: Model<'a>,
    /// What it predicts.
    pub task: Task,
    /// The names of the input columns.
    pub input_names: Option<Names<'a>>,
    /// The names of the targets, or the class labels.
    pub output_names: Option<Names<'a>>,
    /// The optimizer's state, to resume training.
    pub optimizer: Option<OptimizerState<'a>>,
    /// The training settings, to resume training.
    pub training: Option<Training>,
}

impl<'a> Contents<'a> {
    /// A regression model with nothing else.
    pub const fn new(model: Model<'a>) -> Self {
        Self {
            model,
            task: Task::Regression,
            input_names: None,
            output_names: None,
            optimizer: None,
            training: None,
        }
    }

    /// The sections these contents fill.
    pub fn sections(&self) -> Sections {
        let names = |n: &Option<Names<'_>>| n.map_or(0, |n| n.encoded_len());
        Sections {
            input_names: names(&self.input_names),
            output_names: names(&self.output_names),
            optimizer: self.optimizer.map(|s| s.optimizer),
            trainable_from: self.optimizer.map_or(0, |s| s.trainable_from),
            training: self.training.is_some(),
        }
    }

    /// The length of their blob in bytes.
    pub fn encoded_len(&self) -> usize {
        encoded_len(self.model.widths(), self.sections())
    }

    /// Checks everything [`load`] would check of their blob, before one is written: widths the
    /// format holds ([`Error::TooManyLayers`], [`Error::WidthTooLarge`]), statistics as
    /// [`crate::Trainer::set_model`] wants them, finite parameters, one name per column
    /// ([`Error::NameCount`]), optimizer state that fits the network ([`OptimizerState::check`])
    /// and valid training settings — with the errors [`load`] gives.
    pub fn check(&self) -> Result<(), Error> {
        let widths = self.model.widths();
        if widths.len() > MAX_LAYERS {
            return Err(Error::TooManyLayers {
                widths: widths.len(),
                max: MAX_LAYERS,
            });
        }
        let max = usize::from(u16::MAX);
        if let Some(&width) = widths.iter().find(|&&w| w > max) {
            return Err(Error::WidthTooLarge { width, max });
        }
        shape::check(widths)?;
        scaler::check(self.model.stats(), shape::input_width(widths))?;
        if let Some(index) = self.model.params().iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFiniteParameter { index });
        }
        let (n_in, n_out) = (shape::input_width(widths), shape::output_width(widths));
        for (names, expected) in [(self.input_names, n_in), (self.output_names, n_out)] {
            if let Some(found) = names.map(|n| n.len()).filter(|&found| found != expected) {
                return Err(Error::NameCount { expected, found });
            }
        }
        if let Some(state) = &self.optimizer {
            state.check(widths)?;
        }
        if let Some(training) = &self.training {
            training.check()?;
        }
        if u32::try_from(self.encoded_len()).is_err() {
            return Err(Error::NetworkTooLarge {
                max: shape::MAX_PARAMS,
            });
        }
        Ok(())
    }
}

/// Writes `contents` as a version 2 blob at the start of `out`; returns the number of bytes
/// written ([`Contents::encoded_len`]).
///
/// Refuses exactly what [`load`] would refuse, with the same error ([`Contents::check`]), and
/// checks what it wrote with [`inspect`]; [`Error::BufferSize`] for a buffer too small. On an
/// error `out` holds unspecified bytes.
pub fn save(contents: &Contents<'_>, out: &mut [u8]) -> Result<usize, Error> {
    let len = contents.encoded_len();
    let found = out.len();
    if found < len {
        return Err(Error::BufferSize { needed: len, found });
    }
    contents.check()?;
    encode(contents, &mut SliceSink { out, at: 0 })?;
    // The gate: what was written must pass every check of `load`.
    inspect(out)?;
    Ok(len)
}

/// Writes the blob of `contents` into `sink`, a few bytes at a time, and returns its length.
/// Call [`Contents::check`] first: this writes what it is given.
pub fn encode<K: Sink + ?Sized>(contents: &Contents<'_>, sink: &mut K) -> Result<usize, Error> {
    let widths = contents.model.widths();
    let len = u32::try_from(contents.encoded_len()).unwrap_or(u32::MAX);
    let mut w = Writer::new(sink);
    w.put(&MAGIC);
    w.u16(VERSION);
    w.u8(contents.task.code());
    w.u8(0);
    w.u32(len);
    w.u16(u16::try_from(widths.len()).unwrap_or(u16::MAX));
    let present = [
        contents.input_names.is_some(),
        contents.output_names.is_some(),
        contents.optimizer.is_some(),
        contents.training.is_some(),
    ];
    w.u16(present.iter().filter(|p| **p).count() as u16);
    for &width in widths {
        w.u16(u16::try_from(width).unwrap_or(u16::MAX));
    }
    w.zeros_to_4();
    for v in contents.model.stats().iter().chain(contents.model.params()) {
        w.f32(*v);
    }
    let names = [
        (Section::InputNames, contents.input_names),
        (Section::OutputNames, contents.output_names),
    ];
    for (section, names) in names {
        if let Some(names) = names {
            write_section(&mut w, section, names.encoded_len(), |w| names.write(w));
        }
    }
    if let Some(state) = &contents.optimizer {
        let payload = sections::OPTIMIZER_FIXED + 4 * state.values.len();
        write_section(&mut w, Section::Optimizer, payload, |w| {
            sections::write_optimizer(state, w)
        });
    }
    if let Some(training) = &contents.training {
        write_section(&mut w, Section::Training, sections::TRAINING_LEN, |w| {
            sections::write_training(training, w)
        });
    }
    let crc = w.crc();
    w.u32(crc);
    w.finish()
}

fn write_section<K: Sink + ?Sized>(
    w: &mut Writer<'_, K>,
    section: Section,
    len: usize,
    payload: impl FnOnce(&mut Writer<'_, K>),
) {
    w.u16(sections::code(section));
    w.u16(0);
    w.u32(u32::try_from(len).unwrap_or(u32::MAX));
    payload(w);
    w.zeros_to_4();
}

#[cfg(test)]
mod tests;
