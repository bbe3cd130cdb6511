//! The messages: what the host asks ([`Request`]), what the device answers ([`Reply`]) and what it
//! tells on its own ([`Report`]), as postcard serialises them.
//!
//! postcard is not self-describing: a message is its fields in declaration order, integers as
//! varints, `f32` as four little-endian bytes, enums as a varint variant index. So every change
//! to a type here changes the protocol, and [`crate::PROTOCOL_VERSION`] with it — except
//! [`Request::Hello`] and [`DeviceInfo`], frozen forever so that two ends can always tell each
//! other their versions.

use serde::{Deserialize, Serialize};
use tinytrain_core::stopping::{self, StopReason};
use tinytrain_core::stream::{ReplayPolicy, StreamConfig, StreamEpoch};
use tinytrain_core::{Config, Init, Optimizer};

/// The largest number of widths (input, hidden layers, output) a configuration may carry, as the
/// model format allows.
pub const MAX_LAYERS: usize = tinytrain_core::format::MAX_LAYERS;

/// What the host asks; each request travels in a frame of its own and gets exactly one
/// [`Reply`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Request<'a> {
    /// Starts a session (frozen: variant 0 in every version). The device forgets any session
    /// before it, and answers [`Reply::Hello`] whatever its version.
    Hello {
        /// The host's [`crate::PROTOCOL_VERSION`].
        protocol: u16,
    },
    /// The network and how to train it. Answered by [`Reply::Configured`], or an error when it
    /// does not fit the device.
    Configure(Configure),
    /// A part of a model in the core's format ([`tinytrain_core::format`]) to start from, sent
    /// after [`Request::Configure`] with [`Start::Upload`] and before the first sample.
    #[serde(borrow)]
    Upload(Chunk<'a>),
    /// Arriving samples, in order.
    #[serde(borrow)]
    Samples(Samples<'a>),
    /// No more samples: the device finishes — puts the best weights back, scores the test
    /// window, saves the model — and reports [`Report::Finished`].
    Finish,
    /// Asks for the part of the finished model from `offset` on ([`Reply::Chunk`]).
    Download {
        /// Bytes of the model already received.
        offset: u32,
    },
    /// Nothing new: collects the device's pending reports.
    Poll,
}

/// A network and its training settings: everything that decides the bits of the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Configure {
    /// Layer widths, input first: `[1, 16, 16, 1]`.
    pub widths: heapless::Vec<u16, MAX_LAYERS>,
    /// The learner's settings.
    pub training: Training,
    /// The stream driver's settings.
    pub stream: StreamSettings,
    /// Where the weights start.
    pub start: Start,
}

impl Configure {
    /// The widths as the core takes them.
    pub fn widths_usize(&self) -> heapless::Vec<usize, MAX_LAYERS> {
        self.widths.iter().map(|&w| usize::from(w)).collect()
    }
}

/// Where a configured learner's weights start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Start {
    /// Drawn by the configured initialisation and seed.
    Fresh,
    /// A model the host uploads next ([`Request::Upload`]): a starting point for fine-tuning,
    /// or a federation's global weights.
    Upload,
    /// The model the device saved to flash, if it has one of these widths: a session that
    /// resumes after the device reset. The reply says whether it did
    /// ([`Reply::Configured::resumed`]).
    Flash,
}

/// The learner's settings: [`tinytrain_core::Config`] field for field.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Training {
    /// [`Config::learning_rate`].
    pub learning_rate: f32,
    /// [`Config::batch_size`].
    pub batch_size: u32,
    /// [`Config::patience`].
    pub patience: u32,
    /// [`Config::min_delta`].
    pub min_delta: f32,
    /// [`Config::target_loss`].
    pub target_loss: f32,
    /// [`Config::seed`].
    pub seed: u64,
    /// [`Config::init`].
    pub init: InitScheme,
    /// [`Config::optimizer`].
    pub optimizer: UpdateRule,
    /// [`Config::standardize`].
    pub standardize: bool,
    /// [`Config::clip_norm`].
    pub clip_norm: f32,
    /// [`Config::stall_grad_norm`].
    pub stall_grad_norm: f32,
    /// [`Config::stall_epochs`].
    pub stall_epochs: u32,
    /// [`Config::divergence_factor`].
    pub divergence_factor: f32,
    /// [`Config::trainable_from`].
    pub trainable_from: u16,
}

/// [`tinytrain_core::Init`] on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[allow(missing_docs)] // The core's names, documented there.
pub enum InitScheme {
    He,
    Xavier,
    Lecun,
    Torch,
}

/// [`tinytrain_core::Optimizer`] on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[allow(missing_docs)] // The core's names, documented there.
pub enum UpdateRule {
    Sgd,
    Momentum {
        beta: f32,
    },
    Adam {
        beta1: f32,
        beta2: f32,
        epsilon: f32,
    },
}

/// A core setting this protocol version cannot carry (a newer core's variant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Unsupported {
    /// The setting: `init`, `optimizer`, `loss`.
    pub setting: &'static str,
}

impl core::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "this protocol version cannot carry the {} chosen",
            self.setting
        )
    }
}

impl core::error::Error for Unsupported {}

fn count(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

impl Training {
    /// The settings of `config`, or the first one the protocol cannot carry.
    pub fn from_config(config: &Config) -> Result<Self, Unsupported> {
        let init = match config.init {
            Init::He => InitScheme::He,
            Init::Xavier => InitScheme::Xavier,
            Init::Lecun => InitScheme::Lecun,
            Init::Torch => InitScheme::Torch,
            _ => return Err(Unsupported { setting: "init" }),
        };
        let optimizer = match config.optimizer {
            Optimizer::Sgd => UpdateRule::Sgd,
            Optimizer::Momentum { beta } => UpdateRule::Momentum { beta },
            Optimizer::Adam {
                beta1,
                beta2,
                epsilon,
            } => UpdateRule::Adam {
                beta1,
                beta2,
                epsilon,
            },
            _ => {
                return Err(Unsupported {
                    setting: "optimizer",
                })
            }
        };
        if config.loss != tinytrain_core::loss::Loss::MeanSquaredError {
            return Err(Unsupported { setting: "loss" });
        }
        Ok(Self {
            learning_rate: config.learning_rate,
            batch_size: count(config.batch_size),
            patience: config.patience,
            min_delta: config.min_delta,
            target_loss: config.target_loss,
            seed: config.seed,
            init,
            optimizer,
            standardize: config.standardize,
            clip_norm: config.clip_norm,
            stall_grad_norm: config.stall_grad_norm,
            stall_epochs: config.stall_epochs,
            divergence_factor: config.divergence_factor,
            trainable_from: u16::try_from(config.trainable_from).unwrap_or(u16::MAX),
        })
    }

    /// The core's configuration; fields the protocol does not carry keep their defaults.
    pub fn to_config(&self) -> Config {
        Config {
            learning_rate: self.learning_rate,
            batch_size: usize::try_from(self.batch_size).unwrap_or(usize::MAX),
            patience: self.patience,
            min_delta: self.min_delta,
            target_loss: self.target_loss,
            seed: self.seed,
            init: match self.init {
                InitScheme::He => Init::He,
                InitScheme::Xavier => Init::Xavier,
                InitScheme::Lecun => Init::Lecun,
                InitScheme::Torch => Init::Torch,
            },
            optimizer: match self.optimizer {
                UpdateRule::Sgd => Optimizer::Sgd,
                UpdateRule::Momentum { beta } => Optimizer::Momentum { beta },
                UpdateRule::Adam {
                    beta1,
                    beta2,
                    epsilon,
                } => Optimizer::Adam {
                    beta1,
                    beta2,
                    epsilon,
                },
            },
            standardize: self.standardize,
            clip_norm: self.clip_norm,
            stall_grad_norm: self.stall_grad_norm,
            stall_epochs: self.stall_epochs,
            divergence_factor: self.divergence_factor,
            trainable_from: usize::from(self.trainable_from),
            ..Config::DEFAULT
        }
    }
}

/// The stream driver's settings: the replay buffer, the held-out windows, the warm-up and the
/// schedule ([`StreamConfig`], field for field).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StreamSettings {
    /// Training samples the replay buffer holds.
    pub replay: u32,
    /// What a full replay buffer keeps.
    pub policy: Replay,
    /// Every this many arrivals, one goes to validation.
    pub holdout_every: u32,
    /// Validation samples kept, the most recent.
    pub validation: u32,
    /// Every this many arrivals, one goes to the test window (0: none).
    pub test_every: u32,
    /// Test samples kept, the most recent.
    pub test: u32,
    /// Arrivals that fit the standardisation before training starts.
    pub warmup: u32,
    /// After every this many arrivals, `steps_per` steps are due.
    pub every: u32,
    /// Mini-batch steps due after every `every` arrivals.
    pub steps_per: u32,
    /// Validation loss above this multiple of the best is drift.
    pub drift_factor: f32,
    /// Epochs in a row above the drift factor that make a drift.
    pub drift_epochs: u32,
}

impl StreamSettings {
    /// The settings of `config`.
    pub fn from_config(config: &StreamConfig) -> Self {
        Self {
            replay: count(config.replay),
            policy: match config.policy {
                ReplayPolicy::Reservoir => Replay::Reservoir,
                ReplayPolicy::Window => Replay::Window,
            },
            holdout_every: config.holdout_every,
            validation: count(config.validation),
            test_every: config.test_every,
            test: count(config.test),
            warmup: config.warmup,
            every: config.every,
            steps_per: config.steps_per,
            drift_factor: config.drift_factor,
            drift_epochs: config.drift_epochs,
        }
    }

    /// The core's stream configuration.
    pub fn to_config(&self) -> StreamConfig {
        let size = |n: u32| usize::try_from(n).unwrap_or(usize::MAX);
        StreamConfig {
            replay: size(self.replay),
            policy: match self.policy {
                Replay::Reservoir => ReplayPolicy::Reservoir,
                Replay::Window => ReplayPolicy::Window,
            },
            holdout_every: self.holdout_every,
            validation: size(self.validation),
            test_every: self.test_every,
            test: size(self.test),
            warmup: self.warmup,
            every: self.every,
            steps_per: self.steps_per,
            drift_factor: self.drift_factor,
            drift_epochs: self.drift_epochs,
        }
    }
}

/// What a full replay buffer keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Replay {
    /// A uniform sample of everything seen (reservoir sampling).
    Reservoir,
    /// The most recent samples.
    Window,
}

/// Samples in arrival order: for each, its inputs then its targets, as `f32`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Samples<'a> {
    /// The arrival index (0-based) of the first sample: the device checks that none is
    /// missing or repeated.
    pub first: u64,
    /// The values.
    #[serde(borrow)]
    pub values: F32s<'a>,
}

/// `f32` values as little-endian bytes, borrowed from the frame they arrived in (no copy, no
/// alignment needed).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct F32s<'a>(#[serde(borrow)] pub &'a [u8]);

impl<'a> F32s<'a> {
    /// The values; `None` unless the byte count is a multiple of 4.
    pub fn values(&self) -> Option<impl Iterator<Item = f32> + 'a> {
        let bytes: &'a [u8] = self.0;
        if !bytes.len().is_multiple_of(4) {
            return None;
        }
        Some(
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().unwrap_or([0; 4]))),
        )
    }

    /// How many values there are (bytes / 4).
    pub fn len(&self) -> usize {
        self.0.len() / 4
    }

    /// No values.
    pub fn is_empty(&self) -> bool {
        self.0.len() < 4
    }
}

/// A part of a model's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Chunk<'a> {
    /// Where the part starts in the model.
    pub offset: u32,
    /// The model's whole length.
    pub total: u32,
    /// The bytes.
    #[serde(borrow)]
    pub bytes: &'a [u8],
}

/// The device's answer to one [`Request`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Reply<'a> {
    /// Answers [`Request::Hello`] (frozen: variant 0 in every version).
    #[serde(borrow)]
    Hello(DeviceInfo<'a>),
    /// The learner is set up.
    Configured {
        /// Values of the device's arena the network uses (of [`DeviceInfo::arena`]).
        arena_used: u32,
        /// With [`Start::Flash`]: the flash sequence number of the saved model it resumed
        /// from, or `None` when it had no model of these widths and starts fresh.
        resumed: Option<u32>,
    },
    /// The request is done: samples taken in so far.
    Ack {
        /// Samples the device has taken in.
        arrivals: u64,
    },
    /// A frame arrived damaged (or out of order): the host sends its frames again from the
    /// header's `ack`.
    Nack(Fault),
    /// A part of the finished model.
    #[serde(borrow)]
    Chunk(Chunk<'a>),
    /// The request was refused.
    #[serde(borrow)]
    Error(DeviceError<'a>),
}

/// What the device tells about itself in [`Reply::Hello`]. Frozen: its first field is the
/// protocol version in every version; fields are only ever added at the end (an older host
/// reads the version and stops).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DeviceInfo<'a> {
    /// The device's [`crate::PROTOCOL_VERSION`].
    pub protocol: u16,
    /// The board: `QEMU mps2-an386`, `nRF52840-DK`.
    pub board: &'a str,
    /// The core: `Cortex-M4F`.
    pub core: &'a str,
    /// `f32` values in the static arena a stream's learner and buffers are carved from
    /// ([`tinytrain_core::shape`] says what a network needs).
    pub arena: u32,
    /// `f64` values for the warm-up's running moments.
    pub moments: u32,
    /// The most widths (input, hidden, output) a network may have.
    pub max_layers: u16,
    /// The widest layer.
    pub max_width: u16,
    /// The most `f32` values a [`Request::Samples`] may carry.
    pub max_values: u16,
    /// The most bytes a [`Chunk`] carries.
    pub max_chunk: u16,
    /// Bytes of one flash slot: the largest model the device can save.
    pub slot_size: u32,
    /// What the device's work counter counts: `instructions` (QEMU), `cycles` (silicon).
    pub work_unit: &'a str,
}

/// Why a frame was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Fault {
    /// The frame's bytes were damaged (COBS, CRC or decoding failed).
    Damaged,
    /// The frame came after a missing one.
    Gap,
    /// The frame did not finish in time.
    Timeout,
}

/// Why the device refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DeviceError<'a> {
    /// The host speaks another protocol version; the device speaks this one.
    ProtocolVersion {
        /// The device's version.
        device: u16,
    },
    /// A request that needs a session (or a configuration) came before [`Request::Hello`]
    /// (or [`Request::Configure`]): the device has reset since.
    NotConfigured,
    /// The network does not fit the device's static arena.
    DoesNotFit {
        /// `f32` values it needs.
        needed: u32,
        /// `f32` values the device has.
        capacity: u32,
    },
    /// The warm-up's moments do not fit.
    MomentsDoNotFit {
        /// `f64` values needed.
        needed: u32,
        /// `f64` values the device has.
        capacity: u32,
    },
    /// A trained model of this network would not fit a flash slot.
    ModelDoesNotFit {
        /// Bytes needed.
        needed: u32,
        /// Bytes of a slot.
        capacity: u32,
    },
    /// A setting is out of range; the core's name for it.
    Invalid {
        /// `learning_rate`, `batch_size`, `widths`, `replay`, …
        setting: &'a str,
    },
    /// A sample was refused (wrong width, NaN or infinite): nothing of the frame from it on
    /// was taken.
    Sample {
        /// Its arrival index.
        arrival: u64,
    },
    /// Samples out of order: the device expected this arrival index next.
    Arrival {
        /// The arrival index the device expected.
        expected: u64,
    },
    /// An uploaded model was refused by the core's format checks.
    Model,
    /// The request is not valid now (samples before a configuration, a download before the
    /// end).
    Unexpected,
    /// The device made more reports than it could keep before the host collected them: send
    /// fewer samples per frame.
    ReportsLost {
        /// Reports lost.
        lost: u32,
    },
    /// The device's flash failed.
    Flash,
}

/// What the device tells on its own, carried in the replies in order, each exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Report {
    /// An epoch of the stream driver ended.
    Epoch(Epoch),
    /// Something happened in an epoch.
    Event {
        /// The epoch.
        epoch: u32,
        /// What.
        event: Event,
    },
    /// The best model so far went to flash.
    Saved {
        /// Its epoch.
        epoch: u32,
        /// The slot written, 0 (A) or 1 (B).
        slot: u8,
        /// Its sequence number (grows with every save).
        sequence: u32,
        /// Flash pages erased since the device started.
        erases: u32,
    },
    /// The stream finished ([`Request::Finish`]): the model can be downloaded.
    Finished(Finished),
}

/// The end of a stream's epoch (the core's stream epoch summary). Losses in the targets' units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Epoch {
    /// The epoch, 1-based.
    pub epoch: u32,
    /// Samples taken in when it ended.
    pub arrivals: u64,
    /// Mean training loss over its steps; `None` for a paused epoch.
    pub train_loss: Option<f32>,
    /// Loss on the validation window; `None` while it is empty.
    pub val_loss: Option<f32>,
    /// Root mean square of the steps' gradient norms; `None` when paused.
    pub grad_norm: Option<f32>,
    /// The validation loss improved: a new best model.
    pub improved: bool,
    /// Training is paused at its end.
    pub paused: bool,
}

impl From<&StreamEpoch> for Epoch {
    fn from(e: &StreamEpoch) -> Self {
        Self {
            epoch: e.epoch,
            arrivals: e.arrivals,
            train_loss: e.train_loss,
            val_loss: e.val_loss,
            grad_norm: e.grad_norm,
            improved: e.improved,
            paused: e.paused,
        }
    }
}

/// A verdict or event of training (the core's [`tinytrain_core::Event`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Event {
    /// The training loss spiked and came back.
    Spike {
        /// The first epoch above the threshold.
        epoch: u32,
        /// Epochs in a row above it.
        epochs: u32,
        /// The highest training loss (standardised units).
        peak: f32,
        /// The threshold crossed (standardised units).
        threshold: f32,
    },
    /// Training paused for this reason; samples are still taken in.
    Paused(Stop),
    /// The validation loss stayed above the drift threshold for the drift epochs.
    Drift {
        /// The first epoch of the rise.
        since_epoch: u32,
        /// The best weights' typical validation loss before it.
        reference: f32,
        /// The loss that confirmed it.
        val: f32,
        /// The threshold it stayed above.
        threshold: f32,
        /// The best weights' loss on the current validation window.
        checkpoint_val: f32,
    },
    /// A paused stream trains again.
    Resumed,
    /// An event this protocol version has no variant for.
    Other,
}

impl From<&stopping::Event> for Event {
    fn from(event: &stopping::Event) -> Self {
        match *event {
            stopping::Event::Spike(s) => Event::Spike {
                epoch: s.epoch,
                epochs: s.epochs,
                peak: s.peak,
                threshold: s.threshold,
            },
            stopping::Event::Paused(reason) => Event::Paused(reason.into()),
            stopping::Event::Drift(d) => Event::Drift {
                since_epoch: d.since_epoch,
                reference: d.reference,
                val: d.val,
                threshold: d.threshold,
                checkpoint_val: d.checkpoint_val,
            },
            stopping::Event::Resumed => Event::Resumed,
            _ => Event::Other,
        }
    }
}

/// Why training stopped or paused ([`StopReason`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[allow(missing_docs)] // The core's names, documented there.
pub enum Stop {
    MaxEpochs,
    EarlyStopped,
    TargetReached,
    Converged,
    Diverged,
    Stalled,
    Other,
}

impl From<StopReason> for Stop {
    fn from(reason: StopReason) -> Self {
        match reason {
            StopReason::MaxEpochs => Stop::MaxEpochs,
            StopReason::EarlyStopped => Stop::EarlyStopped,
            StopReason::TargetReached => Stop::TargetReached,
            StopReason::Converged => Stop::Converged,
            StopReason::Diverged => Stop::Diverged,
            StopReason::Stalled => Stop::Stalled,
            _ => Stop::Other,
        }
    }
}

impl Stop {
    /// The core's name: `early_stopped`, `converged`, …
    pub const fn name(&self) -> &'static str {
        match self {
            Stop::MaxEpochs => StopReason::MaxEpochs.name(),
            Stop::EarlyStopped => StopReason::EarlyStopped.name(),
            Stop::TargetReached => StopReason::TargetReached.name(),
            Stop::Converged => StopReason::Converged.name(),
            Stop::Diverged => StopReason::Diverged.name(),
            Stop::Stalled => StopReason::Stalled.name(),
            Stop::Other => "other",
        }
    }
}

/// The end of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Finished {
    /// Samples taken in.
    pub arrivals: u64,
    /// Epochs run.
    pub epochs: u32,
    /// The best model's epoch (0: the starting weights).
    pub best_epoch: u32,
    /// Its validation loss.
    pub best_val: f32,
    /// Its loss on the test window, if there is one.
    pub test_loss: Option<f32>,
    /// Bytes of the model in the core's format, to [`Request::Download`].
    pub model_len: u32,
    /// FNV-1a of the parameters' bits.
    pub weights_hash: u32,
    /// The device's work taking samples in and training on them ([`DeviceInfo::work_unit`]).
    pub learn_work: u64,
    /// The device's work since the stream was configured, the link's included.
    pub total_work: u64,
    /// The deepest the device's stack went, bytes.
    pub stack_peak: u32,
}
