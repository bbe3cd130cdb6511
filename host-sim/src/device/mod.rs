//! `tinytrain device train`: the host's side of a device that learns. The samples of a CSV file
//! go, in order, over a link ([`tinytrain_wire`]) to a device running the firmware's link
//! application — the emulated board ([`emulator`]) or a real one on a serial port
//! ([`serial`]) — which learns from them with the core's stream driver and sends back its
//! epochs, its verdicts and the trained model.
//!
//! [`train`] is the conversation: hello (protocol version, arena, board), configure (the network
//! must fit the device's arena: the error says how much it needs), the samples in frames of
//! several, the end, and the model's download, checked by the core's format.

pub mod emulator;
pub mod serial;

use std::io::{Read, Write};
use std::time::Duration;

use tinytrain_core::stream::StreamConfig;
use tinytrain_core::{format, Config};
use tinytrain_wire::host::{Host, HostError, HostStats};
use tinytrain_wire::{
    Configure, DeviceError, Epoch, Event, F32s, Finished, Reply, Report, Request, Samples, Start,
    StreamSettings, Training, MAX_VALUES, PROTOCOL_VERSION,
};

use crate::error::{Error, Result};

/// How long the host waits for each reply before sending again, and how many times it sends.
pub const TIMEOUT: Duration = Duration::from_millis(500);
/// Tries per request: a device that answers none of them is not there.
pub const TRIES: u32 = 20;

/// What the device said about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Its protocol version.
    pub protocol: u16,
    /// The board.
    pub board: String,
    /// The core.
    pub core: String,
    /// `f32` values of its arena.
    pub arena: u32,
    /// Bytes of a flash slot.
    pub slot_size: u32,
    /// The most values one frame of samples carries.
    pub max_values: u16,
    /// The widest layer it trains.
    pub max_width: u16,
    /// What its work counter counts.
    pub work_unit: String,
}

/// Something the device told while it learned, in order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Told {
    /// An epoch's losses.
    Epoch(Epoch),
    /// An event of an epoch.
    Event {
        /// The epoch.
        epoch: u32,
        /// What.
        event: Event,
    },
    /// A save of the best model to flash.
    Saved {
        /// Its epoch.
        epoch: u32,
        /// The slot, 0 or 1.
        slot: u8,
        /// Its sequence number.
        sequence: u32,
        /// Pages erased so far.
        erases: u32,
    },
}

/// What a device run gave.
#[derive(Debug, Clone)]
pub struct DeviceRun {
    /// The device.
    pub info: DeviceInfo,
    /// What it told, in order.
    pub told: Vec<Told>,
    /// The end of the stream.
    pub finished: Finished,
    /// The trained model in the core's format, checked.
    pub model: Vec<u8>,
    /// The link's counts.
    pub link: HostStats,
    /// Samples per frame.
    pub per_frame: usize,
    /// `f32` values per sample: inputs and targets.
    pub values_per_sample: usize,
    /// Samples acknowledged before each reset of the device the run resumed after (its
    /// learning then started again from the model it had saved: the bits differ from a run
    /// without a reset).
    pub resumes: Vec<u64>,
}

impl DeviceRun {
    /// The epochs, in order.
    pub fn epochs(&self) -> impl Iterator<Item = &Epoch> {
        self.told.iter().filter_map(|t| match t {
            Told::Epoch(e) => Some(e),
            _ => None,
        })
    }
}

/// What the host sends: the network, its settings, the samples and where the weights start.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    /// Layer widths, input first.
    pub widths: &'a [usize],
    /// The learner's settings.
    pub config: Config,
    /// The stream's settings.
    pub stream: StreamConfig,
    /// Inputs, `widths[0]` per sample, in arrival order.
    pub inputs: &'a [f32],
    /// Targets, one per sample (the output width).
    pub targets: &'a [f32],
    /// A model to start from, in the core's format.
    pub start: Option<&'a [u8]>,
}

/// Progress of a device run, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Progress<'a> {
    /// The device answered hello.
    Hello(&'a DeviceInfo),
    /// Samples acknowledged so far, of all.
    Acknowledged(u64, u64),
    /// Something the device told.
    Told(&'a Told),
    /// The device reset after acknowledging this many samples, and the run resumed from there
    /// with the model it had saved.
    Resumed(u64),
}

/// Runs the conversation over `host`; see the [module docs](self).
pub fn train<P: Read + Write>(
    host: &mut Host<P>,
    plan: &Plan<'_>,
    mut progress: impl FnMut(Progress<'_>),
) -> Result<DeviceRun> {
    let info = hello(host)?;
    progress(Progress::Hello(&info));
    if let Some(&wide) = plan
        .widths
        .iter()
        .find(|&&w| w > usize::from(info.max_width))
    {
        return Err(Error::Flag {
            flag: "--layers",
            problem: format!(
                "the layers {:?} have a layer of {wide} units; {} trains layers of at most {}",
                plan.widths, info.board, info.max_width
            ),
        });
    }
    let training = Training::from_config(&plan.config).map_err(|e| Error::Flag {
        flag: "device train",
        problem: e.to_string(),
    })?;
    let widths = plan
        .widths
        .iter()
        .map(|&w| u16::try_from(w).ok())
        .collect::<Option<heapless::Vec<u16, { tinytrain_wire::message::MAX_LAYERS }>>>()
        .ok_or_else(|| Error::Flag {
            flag: "--layers",
            problem: format!("the widths {:?} do not fit the protocol", plan.widths),
        })?;
    let configure = Configure {
        widths,
        training,
        stream: StreamSettings::from_config(&plan.stream),
        start: if plan.start.is_some() {
            Start::Upload
        } else {
            Start::Fresh
        },
    };
    request(host, &Request::Configure(configure.clone()), |r| match r {
        Reply::Configured { .. } => Ok(()),
        Reply::Error(e) => Err(refused(e, &info)),
        other => Err(unexpected(other)),
    })??;
    let mut told = vec![];
    collect(host, &mut told, &mut progress)?;
    if let Some(model) = plan.start {
        upload(host, model)?;
    }

    let (n_in, n_out) = (plan.widths[0], *plan.widths.last().unwrap_or(&1));
    let per_sample = n_in + n_out;
    let most = (usize::from(info.max_values).min(MAX_VALUES) / per_sample).max(1);
    let total = (plan.inputs.len() / n_in.max(1)) as u64;
    let mut frame = Frames::new(most);
    let mut bytes = Vec::with_capacity(most * per_sample * 4);
    let mut first = 0u64;
    // Samples sent before the device's last reset: its arrival indices start again from 0.
    let mut base = 0u64;
    let mut resumes = vec![];
    while first < total {
        let count = (total - first).min(frame.size as u64) as usize;
        bytes.clear();
        for i in first as usize..first as usize + count {
            let x = &plan.inputs[i * n_in..(i + 1) * n_in];
            let y = &plan.targets[i * n_out..(i + 1) * n_out];
            for v in x.iter().chain(y) {
                bytes.extend(v.to_le_bytes());
            }
        }
        let samples = Request::Samples(Samples {
            first: first - base,
            values: F32s(&bytes),
        });
        let resent = host.stats().resent;
        let sent = request(host, &samples, |r| match r {
            Reply::Ack { arrivals } => Ok(*arrivals),
            Reply::Error(e) => Err(refused(e, &info)),
            other => Err(unexpected(other)),
        })
        // A reset shows as the link's error (the device lost its place in the sequence) or as
        // the device's refusal (it has no session): either way, the stream resumes.
        .and_then(|acked| acked)
        .map_err(|e| reset_after(e, first));
        let acked = match sent {
            Ok(acked) => acked + base,
            Err(Error::DeviceReset { acknowledged }) => {
                resume(host, &info, &configure, acknowledged)?;
                progress(Progress::Resumed(acknowledged));
                resumes.push(acknowledged);
                base = acknowledged;
                continue;
            }
            Err(e) => return Err(e),
        };
        frame.sent(host.stats().resent == resent);
        first += count as u64;
        if acked != first {
            return Err(Error::Device {
                problem: format!(
                    "the device took {acked} samples where the host sent {first}: the link lost \
                     its place"
                ),
            });
        }
        progress(Progress::Acknowledged(acked, total));
        // The device may reset while its reports are collected, too.
        match collect(host, &mut told, &mut progress).map_err(|e| reset_after(e, acked)) {
            Ok(_) => {}
            Err(Error::DeviceReset { acknowledged }) => {
                resume(host, &info, &configure, acknowledged)?;
                progress(Progress::Resumed(acknowledged));
                resumes.push(acknowledged);
                base = acknowledged;
            }
            Err(e) => return Err(e),
        }
    }
    request(host, &Request::Finish, |r| match r {
        Reply::Ack { .. } => Ok(()),
        Reply::Error(e) => Err(refused(e, &info)),
        other => Err(unexpected(other)),
    })
    .and_then(|finished| finished)
    .map_err(|e| reset_after(e, total))?;
    // The device reports the end with the reply to `Finish`, or soon after.
    let mut finished = collect(host, &mut told, &mut progress)?;
    for _ in 0..TRIES {
        if finished.is_some() {
            break;
        }
        request(host, &Request::Poll, |_| ())?;
        finished = collect(host, &mut told, &mut progress)?;
    }
    let finished = finished.ok_or_else(|| Error::Device {
        problem: "the device did not report the end of the stream".into(),
    })?;
    let model = download(host, finished.model_len)?;
    Ok(DeviceRun {
        info,
        told,
        finished,
        model,
        link: host.stats(),
        per_frame: most,
        values_per_sample: per_sample,
        resumes,
    })
}

/// Samples per frame, adapted to the link as TCP adapts its window (additive increase,
/// multiplicative decrease): halved when a frame had to be sent again, one more after every
/// [`Frames::CLEAN`] frames that went through at once. A noisy line gets short frames, which a
/// damaged byte costs less; a clean one the longest.
#[derive(Debug)]
struct Frames {
    size: usize,
    most: usize,
    clean: u32,
}

impl Frames {
    /// Clean frames before a frame grows by one sample.
    const CLEAN: u32 = 4;

    fn new(most: usize) -> Self {
        Self {
            size: most,
            most,
            clean: 0,
        }
    }

    fn sent(&mut self, at_once: bool) {
        if at_once {
            self.clean += 1;
            if self.clean >= Self::CLEAN {
                self.clean = 0;
                self.size = (self.size + 1).min(self.most);
            }
        } else {
            self.clean = 0;
            self.size = (self.size / 2).max(1);
        }
    }
}

fn told_of(report: Report) -> Option<Told> {
    match report {
        Report::Epoch(e) => Some(Told::Epoch(e)),
        Report::Event { epoch, event } => Some(Told::Event { epoch, event }),
        Report::Saved {
            epoch,
            slot,
            sequence,
            erases,
        } => Some(Told::Saved {
            epoch,
            slot,
            sequence,
            erases,
        }),
        Report::Finished(_) => None,
    }
}

/// Collects every report the device holds; the end of the stream if it came.
fn collect<P: Read + Write>(
    host: &mut Host<P>,
    told: &mut Vec<Told>,
    progress: &mut impl FnMut(Progress<'_>),
) -> Result<Option<Finished>> {
    let mut finished = None;
    loop {
        for report in host.take_reports().collect::<Vec<_>>() {
            match told_of(report) {
                Some(t) => {
                    told.push(t);
                    progress(Progress::Told(&t));
                }
                None => {
                    if let Report::Finished(f) = report {
                        finished = Some(f);
                    }
                }
            }
        }
        if host.pending_reports() == 0 {
            return Ok(finished);
        }
        request(host, &Request::Poll, |_| ())?;
    }
}

/// After a reset of the device: hello and the same configuration again, starting from the
/// model the device saved to flash. A device that has none, or another network, cannot resume:
/// the error says after which sample it reset.
fn resume<P: Read + Write>(
    host: &mut Host<P>,
    info: &DeviceInfo,
    configure: &Configure,
    acknowledged: u64,
) -> Result<()> {
    let again = hello(host)?;
    if again.board != info.board || again.arena != info.arena {
        return Err(Error::DeviceReset { acknowledged });
    }
    let configure = Configure {
        start: Start::Flash,
        ..configure.clone()
    };
    let resumed = request(host, &Request::Configure(configure), |r| match r {
        Reply::Configured { resumed, .. } => Ok(*resumed),
        Reply::Error(e) => Err(refused(e, info)),
        other => Err(unexpected(other)),
    })??;
    match resumed {
        Some(_) => Ok(()),
        None => Err(Error::DeviceReset { acknowledged }),
    }
}

/// Says hello: the device's description, or a clear error.
pub fn hello<P: Read + Write>(host: &mut Host<P>) -> Result<DeviceInfo> {
    let hello = Request::Hello {
        protocol: PROTOCOL_VERSION,
    };
    let info = request(host, &hello, |r| match r {
        Reply::Hello(info) => Ok(DeviceInfo {
            protocol: info.protocol,
            board: info.board.to_owned(),
            core: info.core.to_owned(),
            arena: info.arena,
            slot_size: info.slot_size,
            max_values: info.max_values,
            max_width: info.max_width,
            work_unit: info.work_unit.to_owned(),
        }),
        other => Err(unexpected(other)),
    })??;
    if info.protocol != PROTOCOL_VERSION {
        return Err(Error::ProtocolVersion {
            host: PROTOCOL_VERSION,
            device: info.protocol,
        });
    }
    Ok(info)
}

fn upload<P: Read + Write>(host: &mut Host<P>, model: &[u8]) -> Result<()> {
    let total = u32::try_from(model.len()).unwrap_or(u32::MAX);
    for (k, part) in model.chunks(tinytrain_wire::MAX_CHUNK).enumerate() {
        let chunk = tinytrain_wire::Chunk {
            offset: (k * tinytrain_wire::MAX_CHUNK) as u32,
            total,
            bytes: part,
        };
        request(host, &Request::Upload(chunk), |r| match r {
            Reply::Ack { .. } => Ok(()),
            Reply::Error(DeviceError::Model) => Err(Error::Device {
                problem: "the device refused the model to start from (its widths differ, or \
                          it is damaged)"
                    .into(),
            }),
            other => Err(unexpected(other)),
        })??;
    }
    Ok(())
}

/// Downloads the finished model and checks it with the core's format.
fn download<P: Read + Write>(host: &mut Host<P>, len: u32) -> Result<Vec<u8>> {
    let mut model = Vec::with_capacity(len as usize);
    while model.len() < len as usize {
        let offset = model.len() as u32;
        let part = request(host, &Request::Download { offset }, |r| match r {
            Reply::Chunk(c) if c.offset == offset && !c.bytes.is_empty() => Ok(c.bytes.to_vec()),
            other => Err(unexpected(other)),
        })??;
        model.extend(part);
    }
    format::inspect(&model).map_err(|source| Error::Core {
        context: "the model downloaded from the device".into(),
        source,
    })?;
    Ok(model)
}

fn request<P: Read + Write, R>(
    host: &mut Host<P>,
    request: &Request<'_>,
    read: impl FnOnce(&Reply<'_>) -> R,
) -> Result<R> {
    host.request(request, read).map_err(link_error)
}

fn link_error(e: HostError) -> Error {
    match e {
        HostError::NoAnswer { tries, timeout } => Error::NoDevice {
            tries,
            timeout_ms: timeout.as_millis() as u64,
        },
        other => Error::Device {
            problem: other.to_string(),
        },
    }
}

/// A device reset after `acknowledged` samples: say so.
fn reset_after(e: Error, acknowledged: u64) -> Error {
    match e {
        Error::Device { problem } if problem.contains("has reset") => {
            Error::DeviceReset { acknowledged }
        }
        other => other,
    }
}

fn unexpected(reply: &Reply<'_>) -> Error {
    Error::Device {
        problem: format!("the device answered out of turn: {reply:?}"),
    }
}

/// The device refused a request: say why, in the user's terms.
fn refused(e: &DeviceError<'_>, info: &DeviceInfo) -> Error {
    match *e {
        DeviceError::DoesNotFit { needed, capacity } => Error::DoesNotFit {
            board: info.board.clone(),
            needed: u64::from(needed),
            capacity: u64::from(capacity),
        },
        DeviceError::ProtocolVersion { device } => Error::ProtocolVersion {
            host: PROTOCOL_VERSION,
            device,
        },
        DeviceError::NotConfigured => Error::Device {
            problem: "the device has reset: it lost its session".into(),
        },
        ref other => Error::Device {
            problem: describe(other),
        },
    }
}

fn describe(e: &DeviceError<'_>) -> String {
    match *e {
        DeviceError::MomentsDoNotFit { needed, capacity } => format!(
            "the warm-up's statistics need {needed} f64 values; the device has {capacity} (fewer \
             inputs and outputs)"
        ),
        DeviceError::ModelDoesNotFit { needed, capacity } => format!(
            "a trained model of this network takes {needed} bytes; the device's flash slots \
             hold {capacity}"
        ),
        DeviceError::Invalid { setting } => {
            format!("the device refused the setting {setting}")
        }
        DeviceError::Sample { arrival } => {
            format!("the device refused sample {arrival} (0-based arrival index)")
        }
        DeviceError::Arrival { expected } => {
            format!("the device expected sample {expected} next")
        }
        DeviceError::ReportsLost { lost } => format!(
            "the device lost {lost} reports: its epochs come faster than the link carries them"
        ),
        DeviceError::Flash => "the device's flash failed".into(),
        ref other => format!("the device refused: {other:?}"),
    }
}
