//! The link application: a device that learns from the samples a host sends over its serial
//! port ([`tinytrain_wire`]), with the core's stream driver ([`tinytrain_core::stream`]).
//!
//! It waits for a host's hello and answers with what it has: a static arena of [`ARENA_LEN`]
//! `f32` values (the learner, its checkpoint, the replay buffer and the held-out windows are
//! carved from it: [`tinytrain_core::shape::stream_arena_len`]), [`MOMENTS_LEN`] `f64` values
//! for the warm-up, two flash slots of [`SLOT_SIZE`] bytes. Any network that fits is
//! configured at run time. Then, sample by sample, it learns, streams back each epoch's
//! losses and events, and saves the best model to flash when validation improves — at most once
//! every [`SAVE_GAP`] arrivals, each save erasing one slot — and when the stream ends or the
//! host goes silent for [`HOST_GONE_SECONDS`] seconds. The host downloads the finished model in
//! the core's format.
//!
//! Everything is static: nothing grows with the stream.

use crate::board::{Counter, Parts, SerialBoard};
use crate::stack::Stack;
use embedded_storage::nor_flash::NorFlash;
use static_cell::ConstStaticCell;
use tinytrain_core::format::{self, Buffers, Contents, Sections};
use tinytrain_core::stream::{Stream, StreamProgress};
use tinytrain_core::{shape, slots, Error, Model, ModelStore};
use tinytrain_wire::device::{Accept, Link, Received, Receiver};
use tinytrain_wire::message::MAX_LAYERS;
use tinytrain_wire::{
    Chunk, Configure, DeviceError, DeviceInfo, Epoch, Fault, Finished, Reply, Report, Request,
    Start, MAX_CHUNK, MAX_VALUES, PROTOCOL_VERSION,
};

/// `f32` values of the static arena every network and its buffers are carved from.
pub const ARENA_LEN: usize = if cfg!(feature = "nrf52840dk") {
    32 * 1024
} else {
    64 * 1024
};
/// `f64` values for the warm-up's running moments: `2 × (inputs + outputs)`.
pub const MOMENTS_LEN: usize = 2 * (2 * MAX_WIDTH);
/// The widest layer a network may have.
pub const MAX_WIDTH: usize = 256;
/// The network the flash slots are sized for (841 parameters, 18 statistics): the device saves
/// any network whose model ([`format::encoded_len`]) is no larger than this one's, and refuses
/// a larger one when it is configured ([`DeviceError::ModelDoesNotFit`], with the bytes it
/// needs). A network larger than that trains in the arena, but is not saved.
pub const SIZING_WIDTHS: [usize; 4] = [8, 24, 24, 1];
/// Bytes of one flash slot: the model of [`SIZING_WIDTHS`] as a slot record in whole 4 KiB
/// erase pages of 4-byte words, both boards' flash ([`slots::slot_len`]; checked against the
/// board's flash at compile time). Two of them fill the boards' 8 KiB `MODEL_FLASH` region
/// (`memory/*.x`).
pub const SLOT_SIZE: u32 = slots::slot_len(SIZING_BLOB, 4, 4096) as u32;
/// Bytes of the model of [`SIZING_WIDTHS`].
const SIZING_BLOB: usize = format::encoded_len(&SIZING_WIDTHS, Sections::NONE);
const _: () = assert!(2 * SLOT_SIZE <= 8 * 1024, "two slots fill MODEL_FLASH");
/// Arrivals at least between two saves on improvement: flash wears out (an nRF52840's pages
/// take 10,000 erases).
pub const SAVE_GAP: u64 = 1024;
/// Seconds without a frame after which the host counts as gone: the stream ends, and its best
/// model is saved.
pub const HOST_GONE_SECONDS: u64 = 30;
/// Milliseconds without a byte that end half a frame.
pub const BYTE_TIMEOUT_MS: u64 = 50;
/// Reports the device keeps until the host collects them.
const REPORTS: usize = 16;

static ARENA: ConstStaticCell<[f32; ARENA_LEN]> = ConstStaticCell::new([0.0; ARENA_LEN]);
static MOMENTS: ConstStaticCell<[f64; MOMENTS_LEN]> = ConstStaticCell::new([0.0; MOMENTS_LEN]);
/// A model's bytes: what is saved, uploaded or downloaded.
static MODEL: ConstStaticCell<[u8; SLOT_SIZE as usize]> =
    ConstStaticCell::new([0; SLOT_SIZE as usize]);
/// A model's values, to start from an uploaded or saved one.
static VALUES: ConstStaticCell<[f32; SLOT_SIZE as usize / 4]> =
    ConstStaticCell::new([0.0; SLOT_SIZE as usize / 4]);
static LINK: ConstStaticCell<Link<REPORTS>> = ConstStaticCell::new(Link::new());

/// The static memory, taken once.
struct Memory {
    arena: &'static mut [f32; ARENA_LEN],
    moments: &'static mut [f64; MOMENTS_LEN],
    model: &'static mut [u8; SLOT_SIZE as usize],
    values: &'static mut [f32; SLOT_SIZE as usize / 4],
}

/// The link's two ends on the device, the port and the clock.
struct Io<'l, B: SerialBoard> {
    port: B::Serial,
    counter: B::Counter,
    receiver: Receiver,
    link: &'l mut Link<REPORTS>,
    /// The hello named another protocol version: everything else is refused.
    foreign: Option<u16>,
    /// When the last frame arrived.
    last_frame: u64,
}

/// What a session ended with.
enum Next {
    /// No session: wait for a hello.
    Idle,
    /// A new configuration arrived: set it up.
    Configure(Configure),
}

/// Runs the link application on board `B`: never returns while the board works.
pub fn run<B: SerialBoard>() -> bool {
    const { assert!(ModelStore::<B::Flash>::slot_len(SIZING_BLOB) <= SLOT_SIZE as usize) }
    let stack = Stack::paint();
    defmt::println!("board: {=str}", B::name());
    let Some((parts, port)) = B::init_serial() else {
        defmt::error!("the board's peripherals were already taken");
        return false;
    };
    let Parts { counter, flash, .. } = parts;
    let (Some(arena), Some(moments), Some(model), Some(values), Some(link)) = (
        ARENA.try_take(),
        MOMENTS.try_take(),
        MODEL.try_take(),
        VALUES.try_take(),
        LINK.try_take(),
    ) else {
        defmt::error!("the link's memory was already taken");
        return false;
    };
    let mut memory = Memory {
        arena,
        moments,
        model,
        values,
    };
    let mut store = match ModelStore::new(flash, 0, SLOT_SIZE) {
        Ok(store) => store,
        Err(e) => {
            defmt::error!("the model's flash is unusable: {}", e);
            return false;
        }
    };
    let mut io = Io::<B> {
        port,
        counter,
        receiver: Receiver::new(B::COUNTS_PER_SECOND * BYTE_TIMEOUT_MS / 1000),
        link,
        foreign: None,
        last_frame: 0,
    };
    defmt::println!(
        "link: waiting for a host ({=u32} baud); arena {=usize} f32, flash slots of {=u32} B",
        B::BAUD,
        ARENA_LEN,
        SLOT_SIZE
    );
    let mut next = Next::Idle;
    loop {
        next = match next {
            Next::Idle => io.idle(),
            Next::Configure(configure) => {
                session(&mut io, &mut memory, &mut store, &stack, &configure)
            }
        };
    }
}

/// A learner that did not start: the device's answer.
fn refusal(e: Error, widths: &[usize], configure: &Configure) -> DeviceError<'static> {
    let config = configure.training.to_config();
    let settings = configure.stream.to_config();
    match e {
        Error::BufferSize { .. } => {
            let needed = shape::stream_arena_len(widths, &config, &settings, 1);
            if needed > ARENA_LEN {
                DeviceError::DoesNotFit {
                    needed: count(needed),
                    capacity: count(ARENA_LEN),
                }
            } else {
                DeviceError::MomentsDoNotFit {
                    needed: count(shape::moments_len(widths)),
                    capacity: count(MOMENTS_LEN),
                }
            }
        }
        Error::InvalidHyperparameter { name } => DeviceError::Invalid { setting: name },
        Error::InvalidLearningRate => DeviceError::Invalid {
            setting: "learning_rate",
        },
        Error::BatchSizeZero => DeviceError::Invalid {
            setting: "batch_size",
        },
        Error::TrainableFrom { .. } => DeviceError::Invalid {
            setting: "trainable_from",
        },
        _ => DeviceError::Invalid { setting: "widths" },
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One configured stream, until the host finishes it, configures another, says hello again or
/// goes away.
fn session<B: SerialBoard, F: NorFlash>(
    io: &mut Io<'_, B>,
    memory: &mut Memory,
    store: &mut ModelStore<F>,
    stack: &Stack,
    configure: &Configure,
) -> Next {
    let widths: heapless::Vec<usize, MAX_LAYERS> = configure.widths_usize();
    let config = configure.training.to_config();
    let settings = configure.stream.to_config();
    if widths.iter().any(|&w| w > MAX_WIDTH) {
        return io.refuse(DeviceError::Invalid { setting: "widths" });
    }
    let record = ModelStore::<F>::record_len(format::encoded_len(&widths, Sections::NONE));
    if record > SLOT_SIZE as usize {
        return io.refuse(DeviceError::ModelDoesNotFit {
            needed: count(record),
            capacity: SLOT_SIZE,
        });
    }
    let started = Stream::<1>::new(
        &widths,
        config,
        settings,
        &mut memory.arena[..],
        &mut memory.moments[..],
    );
    let mut stream = match started {
        Ok(stream) => stream,
        Err(e) => return io.refuse(refusal(e, &widths, configure)),
    };
    let mut resumed = None;
    if configure.start == Start::Flash {
        let (params, stats) = split_values(&mut memory.values[..], &widths);
        let buffers = Buffers::new(&mut *params, &mut *stats);
        if let Ok((stored, _)) = store.load(&widths, buffers, &mut memory.model[..]) {
            let set = Model::new(&widths, params, stats).and_then(|m| stream.set_model(&m));
            if set.is_ok() {
                resumed = Some(stored.sequence);
            }
        }
    }
    let arena_used = count(shape::stream_arena_len(&widths, &config, &settings, 1));
    defmt::println!(
        "link: configured {=[?]}: {=u32} of {=usize} arena values",
        &widths[..],
        arena_used,
        ARENA_LEN
    );
    io.answer(&Reply::Configured {
        arena_used,
        resumed,
    });

    let (n_in, n_out) = (shape::input_width(&widths), shape::output_width(&widths));
    let mut uploaded = 0usize;
    let mut saves = Saves::default();
    let mut work = Work::default();
    let start = io.counter.now();
    loop {
        let now = io.counter.now();
        if now.saturating_sub(io.last_frame) > B::COUNTS_PER_SECOND * HOST_GONE_SECONDS {
            defmt::warn!("link: the host is gone; saving the best model");
            let done = stream.finish();
            let (epoch, arrivals) = (done.report.best_epoch, done.report.arrivals);
            saves.save(
                io,
                store,
                &done.model,
                &mut memory.model[..],
                epoch,
                arrivals,
            );
            io.link.close();
            return Next::Idle;
        }
        let request = match io.receive() {
            Some(request) => request,
            None => continue,
        };
        let reply = match request {
            Incoming::Hello => return Next::Idle,
            Incoming::Configure(c) => return Next::Configure(c),
            Incoming::Poll => Reply::Ack {
                arrivals: stream.arrivals(),
            },
            Incoming::Samples { first, values } => {
                if first != stream.arrivals() {
                    Reply::Error(DeviceError::Arrival {
                        expected: stream.arrivals(),
                    })
                } else if values.len() % (n_in + n_out) != 0 {
                    Reply::Error(DeviceError::Invalid { setting: "values" })
                } else {
                    let before = io.counter.now();
                    let mut reply = None;
                    for sample in values.chunks_exact(n_in + n_out) {
                        let (x, y) = sample.split_at(n_in);
                        if stream.push(x, y).is_err() {
                            reply = Some(Reply::Error(DeviceError::Sample {
                                arrival: stream.arrivals(),
                            }));
                            break;
                        }
                        loop {
                            match stream.step() {
                                StreamProgress::Idle => break,
                                StreamProgress::Step => {}
                                StreamProgress::Epoch(epoch) => {
                                    io.link.report(Report::Epoch(Epoch::from(&epoch)));
                                    for event in epoch.events() {
                                        io.link.report(Report::Event {
                                            epoch: epoch.epoch,
                                            event: event.into(),
                                        });
                                    }
                                    if epoch.improved {
                                        saves.improved();
                                        if saves.due(epoch.arrivals) {
                                            let model = stream.model();
                                            let buf = &mut memory.model[..];
                                            saves.save(
                                                io,
                                                store,
                                                &model,
                                                buf,
                                                epoch.epoch,
                                                epoch.arrivals,
                                            );
                                        }
                                    }
                                }
                            }
                        }
                    }
                    work.learn += io.counter.now().saturating_sub(before);
                    let lost = io.link.take_lost();
                    reply.unwrap_or(if lost > 0 {
                        Reply::Error(DeviceError::ReportsLost { lost })
                    } else {
                        Reply::Ack {
                            arrivals: stream.arrivals(),
                        }
                    })
                }
            }
            Incoming::Upload {
                offset,
                total,
                bytes,
            } => {
                if configure.start != Start::Upload || stream.arrivals() > 0 {
                    Reply::Error(DeviceError::Unexpected)
                } else if offset != uploaded || total > memory.model.len() {
                    Reply::Error(DeviceError::Model)
                } else {
                    let end = offset + bytes.len();
                    if let Some(to) = memory.model.get_mut(offset..end) {
                        to.copy_from_slice(&bytes);
                        uploaded = end;
                    }
                    if uploaded < total {
                        Reply::Ack { arrivals: 0 }
                    } else {
                        let (params, stats) = split_values(&mut memory.values[..], &widths);
                        let blob = memory.model.get(..total).unwrap_or(&[]);
                        let buffers = Buffers::new(&mut *params, &mut *stats);
                        let loaded = format::load(blob, &widths, buffers).ok().and_then(|_| {
                            let model = Model::new(&widths, params, stats).ok()?;
                            stream.set_model(&model).ok()
                        });
                        match loaded {
                            Some(()) => Reply::Ack { arrivals: 0 },
                            None => Reply::Error(DeviceError::Model),
                        }
                    }
                }
            }
            Incoming::Finish => {
                {
                    let arrivals = stream.arrivals();
                    let total = io.counter.now().saturating_sub(start);
                    // The stream ends here; the session goes on for the download.
                    let done = stream.finish();
                    let weights_hash = tinytrain_demo::fnv1a_f32(done.model.params());
                    let contents = Contents::new(done.model);
                    let len = format::save(&contents, &mut memory.model[..]).unwrap_or(0);
                    if saves.dirty {
                        // Saving overwrites the model buffer: encode again afterwards.
                        let epoch = done.report.best_epoch;
                        saves.save(
                            io,
                            store,
                            &done.model,
                            &mut memory.model[..],
                            epoch,
                            arrivals,
                        );
                        let _ = format::save(&contents, &mut memory.model[..]);
                    }
                    io.link.report(Report::Finished(Finished {
                        arrivals,
                        epochs: done.report.epochs,
                        best_epoch: done.report.best_epoch,
                        best_val: done.report.best_val,
                        test_loss: done.test_loss,
                        model_len: count(len),
                        weights_hash,
                        learn_work: work.learn,
                        total_work: total,
                        stack_peak: count(stack.peak()),
                    }));
                    defmt::println!(
                        "link: finished after {=u64} arrivals, {=u32} epochs; {=u64} {=str} learning",
                        arrivals,
                        done.report.epochs,
                        work.learn,
                        B::Counter::UNIT
                    );
                    // The stream is gone: serve the download until the host is done.
                    return serve_download(io, memory, len);
                }
            }
            Incoming::Download { .. } => Reply::Error(DeviceError::Unexpected),
        };
        io.answer(&reply);
    }
}

/// After the stream: the model's bytes for `Download`, and acks for polls, until the host
/// configures again, says hello or goes away.
fn serve_download<B: SerialBoard>(io: &mut Io<'_, B>, memory: &mut Memory, len: usize) -> Next {
    io.answer(&Reply::Ack { arrivals: 0 });
    loop {
        let now = io.counter.now();
        if now.saturating_sub(io.last_frame) > B::COUNTS_PER_SECOND * HOST_GONE_SECONDS {
            io.link.close();
            return Next::Idle;
        }
        let reply = match io.receive() {
            None => continue,
            Some(Incoming::Hello) => return Next::Idle,
            Some(Incoming::Configure(c)) => return Next::Configure(c),
            Some(Incoming::Download { offset }) => {
                let from = usize::try_from(offset).unwrap_or(usize::MAX).min(len);
                let to = (from + MAX_CHUNK).min(len);
                let bytes = memory.model.get(from..to).unwrap_or(&[]);
                let reply = Reply::Chunk(Chunk {
                    offset: count(from),
                    total: count(len),
                    bytes,
                });
                io.answer(&reply);
                continue;
            }
            Some(Incoming::Poll) => Reply::Ack { arrivals: 0 },
            Some(_) => Reply::Error(DeviceError::Unexpected),
        };
        io.answer(&reply);
    }
}

/// A model's parameters and statistics in `values`.
fn split_values<'v>(values: &'v mut [f32], widths: &[usize]) -> (&'v mut [f32], &'v mut [f32]) {
    let (params, rest) = values.split_at_mut(shape::param_len(widths).min(values.len()));
    let stats_len = shape::scaler_len(widths).min(rest.len());
    (params, &mut rest[..stats_len])
}

/// Learning work in the board's counter units.
#[derive(Default)]
struct Work {
    learn: u64,
}

/// When the best model goes to flash.
#[derive(Default)]
struct Saves {
    /// Arrivals at the last save.
    last: Option<u64>,
    /// Validation improved since the last save.
    dirty: bool,
    /// Pages erased since the device started.
    erases: u32,
}

impl Saves {
    fn improved(&mut self) {
        self.dirty = true;
    }

    fn due(&self, arrivals: u64) -> bool {
        self.last
            .is_none_or(|last| arrivals.saturating_sub(last) >= SAVE_GAP)
    }

    fn save<B: SerialBoard, F: NorFlash>(
        &mut self,
        io: &mut Io<'_, B>,
        store: &mut ModelStore<F>,
        model: &Model<'_>,
        buf: &mut [u8],
        epoch: u32,
        arrivals: u64,
    ) {
        match store.save(&Contents::new(*model), buf) {
            Ok(stored) => {
                self.dirty = false;
                self.last = Some(arrivals);
                self.erases = self
                    .erases
                    .saturating_add(SLOT_SIZE.div_ceil(count(F::ERASE_SIZE).max(1)));
                io.link.report(Report::Saved {
                    epoch,
                    slot: stored.slot as u8,
                    sequence: stored.sequence,
                    erases: self.erases,
                });
            }
            Err(e) => defmt::warn!("link: saving the model failed: {}", e),
        }
    }
}

/// A request, copied out of the frame it came in (so the link can answer while it is handled).
enum Incoming {
    Hello,
    Configure(Configure),
    Upload {
        offset: usize,
        total: usize,
        bytes: heapless::Vec<u8, MAX_CHUNK>,
    },
    Samples {
        first: u64,
        values: heapless::Vec<f32, MAX_VALUES>,
    },
    Finish,
    Download {
        offset: u32,
    },
    Poll,
}

impl<B: SerialBoard> Io<'_, B> {
    /// Waits for a hello; answers everything else with `NotConfigured`.
    fn idle(&mut self) -> Next {
        loop {
            match self.receive() {
                Some(Incoming::Configure(c)) => return Next::Configure(c),
                Some(Incoming::Hello) | None => {}
                Some(_) => {
                    self.answer(&Reply::Error(DeviceError::NotConfigured));
                }
            }
        }
    }

    /// Sends `reply` to the request just received.
    fn answer(&mut self, reply: &Reply<'_>) {
        if self.link.reply(&mut self.port, reply).is_err() {
            defmt::warn!("link: the serial port failed to send");
        }
    }

    /// Refuses the configuration: the device waits for another.
    fn refuse(&mut self, error: DeviceError<'_>) -> Next {
        self.answer(&Reply::Error(error));
        Next::Idle
    }

    /// The next new request, if a frame completed one; everything else — hello, duplicates,
    /// damaged frames, foreign versions — is answered here.
    fn receive(&mut self) -> Option<Incoming> {
        let now = self.counter.now();
        let received = match self.receiver.poll(&mut self.port, now) {
            Ok(received) => received,
            Err(_) => return None,
        };
        let body = match received {
            Received::Nothing => return None,
            Received::Damaged | Received::TimedOut => {
                let _ = self.link.nack(&mut self.port, Fault::Damaged);
                return None;
            }
            Received::Frame(body) => body,
        };
        self.last_frame = now;
        let request = match self.link.accept(body) {
            Accept::New(request) => request,
            Accept::Duplicate => {
                let _ = self.link.resend(&mut self.port);
                return None;
            }
            Accept::NoSession => {
                let _ = self.link.not_configured(&mut self.port);
                return None;
            }
            Accept::Refused(fault) => {
                let _ = self.link.nack(&mut self.port, fault);
                return None;
            }
        };
        let incoming = match request {
            Request::Hello { protocol } => {
                self.foreign = (protocol != PROTOCOL_VERSION).then_some(protocol);
                let info = DeviceInfo {
                    protocol: PROTOCOL_VERSION,
                    board: B::name(),
                    core: B::core(),
                    arena: count(ARENA_LEN),
                    moments: count(MOMENTS_LEN),
                    max_layers: MAX_LAYERS as u16,
                    max_width: MAX_WIDTH as u16,
                    max_values: MAX_VALUES as u16,
                    max_chunk: MAX_CHUNK as u16,
                    slot_size: SLOT_SIZE,
                    work_unit: B::Counter::UNIT,
                };
                let _ = self.link.reply(&mut self.port, &Reply::Hello(info));
                return Some(Incoming::Hello);
            }
            _ if self.foreign.is_some() => {
                self.answer(&Reply::Error(DeviceError::ProtocolVersion {
                    device: PROTOCOL_VERSION,
                }));
                return None;
            }
            Request::Configure(c) => Incoming::Configure(c),
            Request::Upload(chunk) => Incoming::Upload {
                offset: usize::try_from(chunk.offset).unwrap_or(usize::MAX),
                total: usize::try_from(chunk.total).unwrap_or(usize::MAX),
                bytes: heapless::Vec::from_slice(chunk.bytes).unwrap_or_default(),
            },
            Request::Samples(samples) => Incoming::Samples {
                first: samples.first,
                values: samples
                    .values
                    .values()
                    .map(|v| v.take(MAX_VALUES).collect())
                    .unwrap_or_default(),
            },
            Request::Finish => Incoming::Finish,
            Request::Download { offset } => Incoming::Download { offset },
            Request::Poll => Incoming::Poll,
        };
        Some(incoming)
    }
}
