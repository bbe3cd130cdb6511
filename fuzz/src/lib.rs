//! The properties the fuzz targets check. Each `check_*` function panics when one breaks; the
//! targets in `fuzz_targets/` only feed them, and the tests at the end run them on stable Rust.

use std::path::Path;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use tinytrain_core::format::{self, Buffers, Contents, Names, Training};
use tinytrain_core::optim::{BiasCorrection, OptimizerState};
use tinytrain_core::slots::sim::SimFlash;
use tinytrain_core::{mlp, scaler, shape, Error, Lcg, Model, ModelStore, Optimizer, Stored};
use tinytrain_host_sim::table::Table;

/// Bytes for `format::inspect` and `format::load`.
#[derive(Debug, Arbitrary)]
pub enum BlobInput {
    /// Any bytes.
    Raw(Vec<u8>),
    /// A real blob, with bytes XORed and maybe cut short.
    Damaged {
        /// Layer widths, each taken as 1 to 8.
        widths: Vec<u8>,
        /// Seeds the weights.
        seed: u64,
        /// Which optional sections it holds: bit 0 input names, 1 output names, 2 optimizer
        /// state, 3 training settings.
        sections: u8,
        /// `(offset, xor)`: offsets wrap around the blob.
        edits: Vec<(u16, u8)>,
        /// Recompute the blob's CRC after the edits, so that the checks behind it are reached.
        fix_crc: bool,
        /// Keep this many bytes.
        keep: Option<u16>,
    },
}

impl BlobInput {
    /// The bytes to load.
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            BlobInput::Raw(bytes) => bytes.clone(),
            BlobInput::Damaged {
                widths,
                seed,
                sections,
                edits,
                fix_crc,
                keep,
            } => {
                let mut widths: Vec<usize> =
                    widths.iter().map(|&w| 1 + usize::from(w % 8)).collect();
                widths.resize(widths.len().clamp(2, 6), 1);
                let mut blob = Net::new(&widths, *seed).blob_with(*sections);
                apply(&mut blob, edits);
                if *fix_crc && blob.len() >= 4 {
                    let end = blob.len() - 4;
                    let crc = tinytrain_core::crc::crc32(&blob[..end]);
                    blob[end..].copy_from_slice(&crc.to_le_bytes());
                }
                if let Some(keep) = keep {
                    blob.truncate(usize::from(*keep));
                }
                blob
            }
        }
    }
}

/// A flash image for the model slots, and maybe a power cut during the next save.
#[derive(Debug, Arbitrary)]
pub struct FlashInput {
    /// What the flash holds.
    pub image: Image,
    /// Cut the power after this many half-byte steps of the save (modulo its length).
    pub cut: Option<u16>,
}

/// Flash contents.
#[derive(Debug, Arbitrary)]
pub enum Image {
    /// Any bytes (the rest is erased).
    Raw(Vec<u8>),
    /// Two saved models, with bytes XORed: `(offset, xor)`, offsets wrapping around.
    Damaged(Vec<(u16, u8)>),
}

/// A network with seeded weights, names and Adam state.
pub struct Net {
    widths: Vec<usize>,
    params: Vec<f32>,
    stats: Vec<f32>,
    state: Vec<f32>,
}

impl Net {
    /// He-initialised weights from `seed`, identity statistics but for one mean.
    pub fn new(widths: &[usize], seed: u64) -> Self {
        let mut net = Self::zeros(widths);
        mlp::init_he(widths, &mut net.params, &mut Lcg::new(seed));
        scaler::identity(&mut net.stats, widths[0]);
        net.stats[0] = seed as f32;
        let mut rng = Lcg::new(seed ^ 0x5eed);
        for (k, v) in net.state.iter_mut().enumerate() {
            let x = rng.uniform(-0.1, 0.1);
            *v = if k % 2 == 1 { x * x } else { x };
        }
        net
    }

    fn zeros(widths: &[usize]) -> Self {
        Self {
            widths: widths.to_vec(),
            params: vec![0.0; shape::param_len(widths)],
            stats: vec![0.0; shape::scaler_len(widths)],
            state: vec![0.0; OptimizerState::values_len(widths, Optimizer::ADAM, 0)],
        }
    }

    fn model(&self) -> Model<'_> {
        Model::new(&self.widths, &self.params, &self.stats).unwrap()
    }

    /// The model as `format::save` writes it, with nothing else.
    pub fn blob(&self) -> Vec<u8> {
        self.blob_with(0)
    }

    /// The model as `format::save` writes it, with the sections of the bits of `sections`
    /// (see [`BlobInput::Damaged`]).
    pub fn blob_with(&self, sections: u8) -> Vec<u8> {
        let has = |bit: u8| sections & (1 << bit) != 0;
        let inputs: Vec<String> = (0..self.widths[0]).map(|k| format!("in{k}")).collect();
        let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let outputs: Vec<String> = (0..*self.widths.last().unwrap())
            .map(|k| format!("out{k}"))
            .collect();
        let outputs: Vec<&str> = outputs.iter().map(String::as_str).collect();
        let contents = Contents {
            input_names: has(0).then(|| Names::new(&inputs).unwrap()),
            output_names: has(1).then(|| Names::new(&outputs).unwrap()),
            optimizer: has(2).then_some(OptimizerState {
                optimizer: Optimizer::ADAM,
                bias_correction: BiasCorrection::resume(2, 0.81, 0.998001),
                trainable_from: 0,
                values: &self.state,
            }),
            training: has(3).then_some(Training {
                learning_rate: 0.01,
                batch_size: 8,
                clip_norm: 1.0,
                epochs: 5,
            }),
            ..Contents::new(self.model())
        };
        let mut blob = vec![0; contents.encoded_len()];
        format::save(&contents, &mut blob).unwrap();
        blob
    }

    fn bits(&self) -> Vec<u32> {
        self.stats
            .iter()
            .chain(&self.params)
            .map(|v| v.to_bits())
            .collect()
    }
}

/// Whatever the bytes, reading them returns; the header read from any prefix is the whole
/// blob's or asks for more bytes (a reader that receives a blob in chunks); nothing is sized from
/// a header the bytes do not back; `load` accepts exactly what `inspect` accepts; a blob that
/// loads re-saves to the same bytes.
pub fn check_blob(bytes: &[u8]) {
    let header = format::read_header(bytes);
    for n in 0..=format::MAX_HEADER_LEN.min(bytes.len()) {
        match format::read_header(&bytes[..n]) {
            Err(Error::Truncated { needed, found }) => assert!(needed > n && found == n),
            other => assert_eq!(other, header, "the header of {n} bytes"),
        }
    }
    let Ok(header) = header else { return };
    let summary = format::inspect(bytes);
    // Read through a small window from a source that reads four bytes at a time (as a flash
    // does), the checks come out the same.
    let mut window = [0u8; 10];
    let streamed = format::inspect_from(&mut Words(bytes), &mut window);
    match (&streamed, &summary) {
        // The source holds whole words: it may count a few bytes more.
        (Err(Error::Truncated { needed: a, .. }), Err(Error::Truncated { needed: b, .. })) => {
            assert_eq!(a, b)
        }
        _ => assert_eq!(streamed, summary, "streamed through a window"),
    }
    if header.len > bytes.len() {
        // Too short for its header, which may claim gigabytes: no buffers for those.
        assert!(matches!(summary, Err(Error::Truncated { .. })));
        return;
    }
    let widths = header.widths.to_vec();
    let mut net = Net::zeros(&widths);
    let Ok(summary) = summary else {
        let loaded = format::load(
            bytes,
            &widths,
            Buffers::new(&mut net.params, &mut net.stats),
        );
        assert!(loaded.is_err(), "load accepts what inspect refuses");
        return;
    };
    let mut area = vec![0u8; summary.sections.names_len()];
    let mut state = vec![0.0; summary.sections.state_len(&widths)];
    let buffers = Buffers {
        names: Some(&mut area),
        state: Some(&mut state),
        ..Buffers::new(&mut net.params, &mut net.stats)
    };
    let loaded = format::load(bytes, &widths, buffers).expect("load accepts what inspect accepts");
    let contents = loaded.contents(Model::new(&widths, &net.params, &net.stats).unwrap());
    let mut blob = vec![0; contents.encoded_len()];
    if header.version == format::VERSION {
        format::save(&contents, &mut blob).expect("what loads saves");
        assert_eq!(
            blob[..],
            bytes[..blob.len()],
            "a loaded blob re-saves to other bytes"
        );
    }
}

type Flash = SimFlash<512, 4, 128>;
const SLOT: usize = 256;
/// The slot header padded to the flash's 4-byte words (see `tinytrain_core::slots`).
const HEADER: usize = 16;
const W: [usize; 3] = [2, 3, 1];

fn store(flash: Flash) -> ModelStore<Flash> {
    ModelStore::new(flash, 0, SLOT as u32).unwrap()
}

fn buffer() -> Vec<u8> {
    vec![0; ModelStore::<Flash>::scratch_len()]
}

fn load(store: &mut ModelStore<Flash>) -> Result<(Stored, Vec<u32>), Error> {
    let mut net = Net::zeros(&W);
    let buffers = Buffers::new(&mut net.params, &mut net.stats);
    let (stored, _) = store.load(&W, buffers, &mut buffer())?;
    Ok((stored, net.bits()))
}

/// Whatever the flash holds, loading returns; a model that loads is bit for bit the blob in its
/// slot; a save then works and loads back; and a save cut short leaves what loaded before or the
/// new model.
pub fn check_flash(input: &FlashInput) {
    let mut flash = Flash::new();
    match &input.image {
        Image::Raw(bytes) => {
            for (dst, src) in flash.bytes_mut().iter_mut().zip(bytes) {
                *dst = *src;
            }
        }
        Image::Damaged(edits) => {
            let mut s = store(flash);
            for seed in [1, 2] {
                let net = Net::new(&W, seed);
                s.save(&Contents::new(net.model()), &mut buffer()).unwrap();
            }
            flash = s.release();
            apply(flash.bytes_mut(), edits);
        }
    }
    let mut s = store(flash.clone());
    let before = load(&mut s);
    if let Ok((stored, _)) = &before {
        let mut net = Net::zeros(&W);
        let buffers = Buffers::new(&mut net.params, &mut net.stats);
        s.load(&W, buffers, &mut buffer()).unwrap();
        let blob = net.blob();
        let at = if stored.slot == tinytrain_core::Slot::A {
            0
        } else {
            SLOT
        } + HEADER;
        assert_eq!(
            blob[..],
            flash.bytes()[at..at + blob.len()],
            "loaded other bytes"
        );
    }

    let new = Net::new(&W, 99);
    let mut s = store(flash.clone());
    let start = s.flash().steps();
    let saved = s
        .save(&Contents::new(new.model()), &mut buffer())
        .expect("a save works on any contents");
    let steps = s.flash().steps() - start;
    assert_eq!(load(&mut s), Ok((saved, new.bits())));

    let Some(cut) = input.cut else { return };
    let cut = usize::from(cut) % (steps + 1);
    let mut s = store(flash);
    s.flash().cut_power_after(cut);
    let result = s.save(&Contents::new(new.model()), &mut buffer());
    s.flash().restore_power();
    let after = load(&mut s);
    if let Ok((b, _)) = &before {
        // A save and a load agree on which slots are valid: a save never writes the slot a
        // load takes, whatever the other slot holds.
        assert_ne!(b.slot, saved.slot, "the save went to the slot that loads");
    }
    match result {
        Ok(stored) => assert_eq!(after, Ok((stored, new.bits()))),
        Err(_) => assert!(
            after == before || after.as_ref().is_ok_and(|(_, bits)| *bits == new.bits()),
            "after a cut at step {cut}: {after:?}, before: {before:?}"
        ),
    }
}

/// Whatever the bytes, the CSV reader returns; a table it reads holds finite numbers in whole
/// rows, and written back as CSV reads as the same table.
pub fn check_csv(bytes: &[u8]) {
    let path = Path::new("fuzz.csv");
    let Ok(table) = Table::parse(path, bytes) else {
        return;
    };
    let columns = table.header.len();
    assert!(columns > 0 && table.rows() > 0);
    assert_eq!(table.values.len(), columns * table.rows());
    assert!(table.values.iter().all(|v| v.is_finite()));

    let mut out = csv::Writer::from_writer(vec![]);
    out.write_record(&table.header).unwrap();
    for row in table.values.chunks(columns) {
        out.write_record(row.iter().map(f32::to_string)).unwrap();
    }
    let again = Table::parse(path, &out.into_inner().unwrap()).expect("written back, it reads");
    assert_eq!(again.header, table.header);
    let bits = |t: &Table| t.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&again), bits(&table));
    if let Ok(samples) = table.features_and_target(None) {
        let _ = samples.dataset();
    }
}

/// Bytes in memory that are read four at a time, zeros past the end (as flash reads whole words).
struct Words<'a>(&'a [u8]);

impl format::Source for Words<'_> {
    fn align(&self) -> usize {
        4
    }

    fn capacity(&self) -> usize {
        self.0.len().next_multiple_of(4)
    }

    fn read(&mut self, at: usize, buf: &mut [u8]) -> Result<(), Error> {
        assert!(
            at.is_multiple_of(4) && buf.len().is_multiple_of(4),
            "an unaligned read"
        );
        for (k, b) in buf.iter_mut().enumerate() {
            *b = self.0.get(at + k).copied().unwrap_or(0);
        }
        Ok(())
    }
}

/// XORs bytes; offsets wrap around.
fn apply(bytes: &mut [u8], edits: &[(u16, u8)]) {
    if bytes.is_empty() {
        return;
    }
    for &(at, x) in edits {
        let k = usize::from(at) % bytes.len();
        bytes[k] ^= x;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arbitrary::Unstructured;

    /// Builds inputs from pseudo-random bytes, as the fuzzer would, and checks each.
    fn run<T: for<'a> Arbitrary<'a>>(seed: u64, n: usize, check: impl Fn(&T)) {
        let mut rng = Lcg::new(seed);
        for _ in 0..n {
            let len = rng.below(700) as usize;
            let raw: Vec<u8> = (0..len).map(|_| rng.next_u32() as u8).collect();
            if let Ok(input) = T::arbitrary(&mut Unstructured::new(&raw)) {
                check(&input);
            }
        }
    }

    #[test]
    fn blobs() {
        run(1, 500, |input: &BlobInput| check_blob(&input.bytes()));
        for sections in 0..16 {
            check_blob(&Net::new(&[3, 4, 2], 7).blob_with(sections));
        }
        check_blob(include_bytes!("../../core/tests/data/v1/sine.ttm"));
        check_blob(include_bytes!("../../core/tests/data/v1/plane.ttm"));
    }

    #[test]
    fn flash_images() {
        run(2, 300, check_flash);
        for cut in [None, Some(0), Some(300), Some(1000)] {
            check_flash(&FlashInput {
                image: Image::Damaged(vec![(300, 4)]),
                cut,
            });
        }
    }

    #[test]
    fn csv_files() {
        run(3, 500, |bytes: &Vec<u8>| check_csv(bytes));
        check_csv(b"x, y\n1,2\n\"3\", -0\n");
    }
}
