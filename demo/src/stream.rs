//! The stream story: a device learns from a simulated sensor's readings as they arrive, sees its
//! response change halfway, notices the drift and learns the new response — in memory that does
//! not grow with the stream, the same bits on every platform.
//!
//! [`Sensor`] makes the readings: `x` uniform in `[-1, 1)` from the core's [`Lcg`], and
//! `y = 0.8 sin(πx) + ε` until reading [`CHANGE`], then `y = 0.5 x - 0.5 sin(πx) + 0.2 + ε`
//! (ε Gaussian, σ = 0.05: the sum of 12 uniforms minus 6). `sinf` is the `libm` crate's on every
//! platform, so host and device compute the same readings. [`run`] feeds [`ARRIVALS`] of them
//! to a [`Stream`] and logs every epoch and event as a [`StreamLine`]; for comparison it freezes
//! a copy of the model at the change and scores both on the test window at the end.

use crate::hash::fnv1a_f32;
use crate::line::{Log, Loss, F};
use core::fmt;
use tinytrain_core::loss::Loss as LossFn;
use tinytrain_core::stream::{
    ReplayPolicy, Stream, StreamConfig, StreamEpoch, StreamProgress, StreamReport,
};
use tinytrain_core::{shape, Config, Error, Event, Lcg, Model, Optimizer, StopReason};

/// Readings the story feeds to the stream.
pub const ARRIVALS: u32 = 6000;
/// The reading from which the sensor responds differently.
pub const CHANGE: u32 = 3000;
/// The network: one input, two hidden ReLU layers of 16 units, one output.
pub const WIDTHS: &[usize] = &[1, 16, 16, 1];
/// Samples of a mini-batch that go through the network at once.
pub const CHUNK: usize = 4;
/// The noise of the readings (standard deviation).
pub const NOISE_SIGMA: f32 = 0.05;
/// The tracked model must beat the one frozen at the change by this factor on the test window.
pub const FACTOR: f32 = 4.0;

/// How the network learns.
pub const CONFIG: Config = Config {
    learning_rate: 0.01,
    batch_size: 16,
    patience: 10,
    seed: 1,
    optimizer: Optimizer::ADAM,
    ..Config::DEFAULT
};

/// How the stream keeps its samples: the defaults, with a window (the signal drifts) and a test
/// window of every seventh reading.
pub const SETTINGS: StreamConfig = StreamConfig {
    policy: ReplayPolicy::Window,
    test_every: 7,
    test: 32,
    ..StreamConfig::DEFAULT
};

/// Values of the stream's arena.
pub const ARENA_LEN: usize = shape::stream_arena_len(WIDTHS, &CONFIG, &SETTINGS, CHUNK);
/// `f64`s of the warm-up's running moments.
pub const MOMENTS_LEN: usize = shape::moments_len(WIDTHS);
const PARAMS: usize = shape::param_len(WIDTHS);
const STATS: usize = shape::scaler_len(WIDTHS);

/// The story's memory; `const`-constructible so firmware can keep it `static`.
#[derive(Debug)]
pub struct StreamStorage {
    arena: [f32; ARENA_LEN],
    moments: [f64; MOMENTS_LEN],
    /// The copy of the model frozen at the change: parameters, statistics, prediction scratch.
    frozen: [f32; PARAMS + STATS],
    scratch: [f32; shape::predict_scratch_len(WIDTHS)],
}

impl StreamStorage {
    /// Zeroed storage.
    pub const fn new() -> Self {
        Self {
            arena: [0.0; ARENA_LEN],
            moments: [0.0; MOMENTS_LEN],
            frozen: [0.0; PARAMS + STATS],
            scratch: [0.0; shape::predict_scratch_len(WIDTHS)],
        }
    }
}

impl Default for StreamStorage {
    fn default() -> Self {
        Self::new()
    }
}

/// The simulated sensor; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Sensor {
    rng: Lcg,
    reading: u32,
}

impl Sensor {
    /// Seed of the sensor's generator.
    pub const SEED: u64 = 2025;

    /// Before the first reading.
    pub const fn new() -> Self {
        Self {
            rng: Lcg::new(Self::SEED),
            reading: 0,
        }
    }

    /// The next reading: its input `x` and target `y`.
    pub fn next_reading(&mut self) -> ([f32; 1], [f32; 1]) {
        let x = self.rng.uniform(-1.0, 1.0);
        let noise: f32 = (0..12).map(|_| self.rng.next_f32()).sum::<f32>() - 6.0;
        let wave = libm::sinf(core::f32::consts::PI * x);
        let y = if self.reading < CHANGE {
            0.8 * wave
        } else {
            0.5 * x - 0.5 * wave + 0.2
        };
        self.reading = self.reading.saturating_add(1);
        ([x], [y + NOISE_SIGMA * noise])
    }
}

impl Default for Sensor {
    fn default() -> Self {
        Self::new()
    }
}

impl Iterator for Sensor {
    type Item = ([f32; 1], [f32; 1]);

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.next_reading())
    }
}

/// One line of the stream story.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum StreamLine {
    /// What the sensor sends.
    Sensor {
        /// Readings in all.
        arrivals: u32,
        /// The reading from which it responds differently.
        change: u32,
    },
    /// The network and how the stream learns.
    Settings {
        /// Layer widths.
        widths: &'static [usize],
        /// Weights and biases.
        params: u32,
        /// Samples of the replay buffer.
        replay: u32,
        /// Every this many readings one is held out for validation.
        holdout_every: u32,
        /// Validation samples kept.
        validation: u32,
        /// Readings of the warm-up.
        warmup: u32,
        /// A mini-batch step after every this many readings.
        every: u32,
        /// Samples per mini-batch.
        batch: u32,
        /// Bytes of memory the stream takes, whatever the number of readings.
        bytes: u32,
    },
    /// An epoch of the stream ended.
    Epoch {
        /// The epoch, from 1.
        epoch: u32,
        /// Readings taken in by then.
        arrivals: u32,
        /// Mean training MSE over the epoch (`None` while paused).
        train_mse: Option<Loss>,
        /// Validation MSE (`None` while no sample is held out yet).
        val_mse: Option<Loss>,
        /// The best validation loss so far.
        best: bool,
    },
    /// The stream stopped training.
    Paused {
        /// Why.
        reason: StopReason,
        /// Readings taken in by then.
        arrivals: u32,
    },
    /// The stream saw its data change.
    Drift {
        /// Readings taken in by then.
        arrivals: u32,
        /// The typical validation loss before.
        reference: Loss,
        /// The validation loss that confirmed the drift.
        val_mse: Loss,
        /// The best weights' loss on the current window.
        checkpoint_mse: Loss,
    },
    /// The stream trains again.
    Resumed {
        /// Readings taken in by then.
        arrivals: u32,
    },
    /// A copy of the model was frozen at the change, for the comparison at the end.
    Frozen {
        /// The reading.
        arrival: u32,
    },
    /// The test window, scored once: the tracked model against the frozen copy.
    Test {
        /// Test readings scored.
        samples: u32,
        /// The tracked (best) model's MSE, in the targets' units as every loss of the story.
        mse: Loss,
        /// The MSE of the copy frozen at the change.
        frozen_mse: Loss,
        /// `frozen_mse / mse`.
        ratio: f32,
    },
    /// A fingerprint of the tracked model's weights.
    Weights {
        /// Number of weights and biases.
        params: u32,
        /// FNV-1a (32 bits) of their little-endian bits.
        hash: u32,
    },
    /// Whether the stream saw the drift and the tracked model beat the frozen one by
    /// [`FACTOR`].
    Verdict {
        /// Drifts seen.
        drifts: u32,
        /// It did.
        pass: bool,
    },
}

/// What the stream story found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamOutcome {
    /// Epochs run.
    pub epochs: u32,
    /// Drifts seen.
    pub drifts: u32,
    /// The tracked model's test MSE, in the targets' units.
    pub test_mse: f32,
    /// The frozen copy's test MSE, in the targets' units.
    pub frozen_mse: f32,
    /// FNV-1a of the tracked model's weights.
    pub weights_hash: u32,
    /// It saw the drift and beat the frozen copy by [`FACTOR`].
    pub pass: bool,
}

/// Feeds the sensor's readings to a stream on `storage`, telling the story to `log`.
///
/// Errors come from the core: a bad constant in this module.
pub fn run(
    storage: &mut StreamStorage,
    log: &mut impl Log<StreamLine>,
) -> Result<StreamOutcome, Error> {
    let StreamStorage {
        arena,
        moments,
        frozen,
        scratch,
    } = storage;
    let mut stream = Stream::<CHUNK>::new(WIDTHS, CONFIG, SETTINGS, arena, moments)?;
    log.line(&StreamLine::Sensor {
        arrivals: ARRIVALS,
        change: CHANGE,
    });
    log.line(&settings_line());
    for (reading, (x, y)) in (0..ARRIVALS).zip(Sensor::new()) {
        if reading == CHANGE {
            freeze(&stream.model(), frozen);
            log.line(&StreamLine::Frozen { arrival: reading });
        }
        stream.push(&x, &y)?;
        loop {
            match stream.step() {
                StreamProgress::Idle => break,
                StreamProgress::Step => {}
                StreamProgress::Epoch(epoch) => log_epoch(&epoch, &stream.report(), log),
            }
        }
    }
    let report = stream.report();
    let (params, stats) = frozen.split_at(PARAMS);
    let frozen_mse = test_mse(&stream, &Model::new(WIDTHS, params, stats)?, scratch)?;
    let samples = stream.buffered()[2] as u32;
    let done = stream.finish();
    let mse = done
        .test_loss
        .map_or(f32::NAN, |l| report.to_original_units(l) as f32);
    let ratio = frozen_mse / mse;
    log.line(&StreamLine::Test {
        samples,
        mse: Loss(mse),
        frozen_mse: Loss(frozen_mse),
        ratio,
    });
    let weights_hash = fnv1a_f32(done.model.params());
    log.line(&StreamLine::Weights {
        params: PARAMS as u32,
        hash: weights_hash,
    });
    let pass = report.drifts > 0 && ratio >= FACTOR;
    log.line(&StreamLine::Verdict {
        drifts: report.drifts,
        pass,
    });
    Ok(StreamOutcome {
        epochs: report.epochs,
        drifts: report.drifts,
        test_mse: mse,
        frozen_mse,
        weights_hash,
        pass,
    })
}

/// The settings, as logged.
fn settings_line() -> StreamLine {
    StreamLine::Settings {
        widths: WIDTHS,
        params: PARAMS as u32,
        replay: SETTINGS.replay as u32,
        holdout_every: SETTINGS.holdout_every,
        validation: SETTINGS.validation as u32,
        warmup: SETTINGS.warmup,
        every: SETTINGS.every,
        batch: CONFIG.batch_size as u32,
        bytes: (4 * (ARENA_LEN + 2 * MOMENTS_LEN)) as u32,
    }
}

/// Copies the current model (weights and statistics) into `frozen`.
fn freeze(model: &Model<'_>, frozen: &mut [f32]) {
    for (f, v) in frozen
        .iter_mut()
        .zip(model.params().iter().chain(model.stats()))
    {
        *f = *v;
    }
}

/// The MSE of `model` on the stream's test window, in the targets' own units.
fn test_mse<const C: usize>(
    stream: &Stream<'_, C>,
    model: &Model<'_>,
    scratch: &mut [f32],
) -> Result<f32, Error> {
    let (mut sum, mut n) = (0.0, 0u32);
    let mut y = [0.0];
    for (x, t) in stream.test_window() {
        model.predict(x, scratch, &mut y)?;
        sum += LossFn::MeanSquaredError.value(&y, t);
        n += 1;
    }
    Ok(sum / n.max(1) as f32)
}

/// One epoch's lines: the epoch, then its events, every loss in the targets' units (`units`
/// converts the stream's standardised losses).
fn log_epoch(epoch: &StreamEpoch, units: &StreamReport, log: &mut impl Log<StreamLine>) {
    let arrivals = epoch.arrivals as u32;
    let original = |loss: f32| Loss(units.to_original_units(loss) as f32);
    log.line(&StreamLine::Epoch {
        epoch: epoch.epoch,
        arrivals,
        train_mse: epoch.train_loss.map(original),
        val_mse: epoch.val_loss.map(original),
        best: epoch.improved,
    });
    for event in epoch.events() {
        let line = match *event {
            Event::Paused(reason) => StreamLine::Paused { reason, arrivals },
            Event::Drift(d) => StreamLine::Drift {
                arrivals,
                reference: original(d.reference),
                val_mse: original(d.val),
                checkpoint_mse: original(d.checkpoint_val),
            },
            Event::Resumed => StreamLine::Resumed { arrivals },
            _ => continue,
        };
        log.line(&line);
    }
}

const fn best_mark(best: bool) -> &'static str {
    if best {
        " (best)"
    } else {
        ""
    }
}

const fn verdict_word(pass: bool) -> &'static str {
    if pass {
        "PASS: the stream saw the drift and the tracked model beat"
    } else {
        "FAIL: the stream did not see the drift, or the tracked model did not beat"
    }
}

impl fmt::Display for StreamLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            StreamLine::Sensor { arrivals, change } => write!(
                f,
                "stream: {arrivals} readings of a simulated sensor, y = f(x) + noise, x in \
                 [-1, 1]; its response changes at reading {change}"
            ),
            StreamLine::Settings {
                widths,
                params,
                replay,
                holdout_every,
                validation,
                warmup,
                every,
                batch,
                bytes,
            } => write!(
                f,
                "learner: ReLU MLP {widths:?} ({params} parameters), Adam; replay window of \
                 {replay}, every {holdout_every}th reading held out (validation window of \
                 {validation}), warm-up {warmup} readings, a batch of {batch} after every \
                 {every} readings; {bytes} B of memory for any number of readings"
            ),
            StreamLine::Epoch {
                epoch,
                arrivals,
                train_mse,
                val_mse,
                best,
            } => {
                write!(f, "epoch {epoch} at reading {arrivals}:")?;
                match train_mse {
                    Some(l) => write!(f, " train MSE {l},")?,
                    None => f.write_str(" paused,")?,
                }
                match val_mse {
                    Some(l) => write!(f, " validation MSE {l}{}", best_mark(best)),
                    None => f.write_str(" no validation sample yet"),
                }
            }
            StreamLine::Paused { reason, arrivals } => write!(
                f,
                "paused at reading {arrivals}: {} (readings are still taken in and scored)",
                reason.name()
            ),
            StreamLine::Drift {
                arrivals,
                reference,
                val_mse,
                checkpoint_mse,
            } => write!(
                f,
                "drift at reading {arrivals}: validation MSE {val_mse} against a typical \
                 {reference}; the best weights score {checkpoint_mse} now"
            ),
            StreamLine::Resumed { arrivals } => {
                write!(
                    f,
                    "resumed at reading {arrivals}: learning the new response"
                )
            }
            StreamLine::Frozen { arrival } => write!(
                f,
                "reading {arrival}: a copy of the model is frozen here, for comparison"
            ),
            StreamLine::Test {
                samples,
                mse,
                frozen_mse,
                ratio,
            } => write!(
                f,
                "test window ({samples} readings, scored once): tracked MSE {mse} vs {frozen_mse} \
                 frozen at the change: {}x lower",
                F(ratio)
            ),
            StreamLine::Weights { params, hash } => write!(
                f,
                "final weights: {params} parameters, FNV-1a of their bits {hash:#010x}"
            ),
            StreamLine::Verdict { drifts, pass } => write!(
                f,
                "{} the frozen copy by {}x ({drifts} drift seen)",
                verdict_word(pass),
                F(FACTOR)
            ),
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for StreamLine {
    fn format(&self, f: defmt::Formatter<'_>) {
        match *self {
            StreamLine::Sensor { arrivals, change } => defmt::write!(
                f,
                "stream: {=u32} readings of a simulated sensor, y = f(x) + noise, x in \
                 [-1, 1]; its response changes at reading {=u32}",
                arrivals,
                change
            ),
            StreamLine::Settings {
                widths,
                params,
                replay,
                holdout_every,
                validation,
                warmup,
                every,
                batch,
                bytes,
            } => defmt::write!(
                f,
                "learner: ReLU MLP {=[?]} ({=u32} parameters), Adam; replay window of \
                 {=u32}, every {=u32}th reading held out (validation window of \
                 {=u32}), warm-up {=u32} readings, a batch of {=u32} after every \
                 {=u32} readings; {=u32} B of memory for any number of readings",
                widths,
                params,
                replay,
                holdout_every,
                validation,
                warmup,
                batch,
                every,
                bytes
            ),
            StreamLine::Epoch {
                epoch,
                arrivals,
                train_mse,
                val_mse,
                best,
            } => {
                defmt::write!(f, "epoch {=u32} at reading {=u32}:", epoch, arrivals);
                match train_mse {
                    Some(l) => defmt::write!(f, " train MSE {},", l),
                    None => defmt::write!(f, " paused,"),
                }
                match val_mse {
                    Some(l) => defmt::write!(f, " validation MSE {}{=str}", l, best_mark(best)),
                    None => defmt::write!(f, " no validation sample yet"),
                }
            }
            StreamLine::Paused { reason, arrivals } => defmt::write!(
                f,
                "paused at reading {=u32}: {=str} (readings are still taken in and scored)",
                arrivals,
                reason.name()
            ),
            StreamLine::Drift {
                arrivals,
                reference,
                val_mse,
                checkpoint_mse,
            } => defmt::write!(
                f,
                "drift at reading {=u32}: validation MSE {} against a typical \
                 {}; the best weights score {} now",
                arrivals,
                val_mse,
                reference,
                checkpoint_mse
            ),
            StreamLine::Resumed { arrivals } => defmt::write!(
                f,
                "resumed at reading {=u32}: learning the new response",
                arrivals
            ),
            StreamLine::Frozen { arrival } => defmt::write!(
                f,
                "reading {=u32}: a copy of the model is frozen here, for comparison",
                arrival
            ),
            StreamLine::Test {
                samples,
                mse,
                frozen_mse,
                ratio,
            } => defmt::write!(
                f,
                "test window ({=u32} readings, scored once): tracked MSE {} vs {} \
                 frozen at the change: {=f32}x lower",
                samples,
                mse,
                frozen_mse,
                ratio
            ),
            StreamLine::Weights { params, hash } => defmt::write!(
                f,
                "final weights: {=u32} parameters, FNV-1a of their bits {=u32:#010x}",
                params,
                hash
            ),
            StreamLine::Verdict { drifts, pass } => defmt::write!(
                f,
                "{=str} the frozen copy by {=f32}x ({=u32} drift seen)",
                verdict_word(pass),
                FACTOR,
                drifts
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::{String, ToString};
    use std::vec::Vec;

    struct Lines(Vec<String>);

    impl Log<StreamLine> for Lines {
        fn line(&mut self, line: &StreamLine) {
            self.0.push(line.to_string());
        }
    }

    #[test]
    fn the_sensor_changes_its_response_at_the_change() {
        let readings: Vec<([f32; 1], [f32; 1])> = Sensor::new().take(2 * CHANGE as usize).collect();
        let residual = |range: core::ops::Range<usize>, f: &dyn Fn(f32) -> f32| {
            let n = range.len() as f32;
            readings[range]
                .iter()
                .map(|([x], [y])| (y - f(*x)) * (y - f(*x)))
                .sum::<f32>()
                / n
        };
        fn wave(x: f32) -> f32 {
            libm::sinf(core::f32::consts::PI * x)
        }
        let before = |x: f32| 0.8 * wave(x);
        let after = |x: f32| 0.5 * x - 0.5 * wave(x) + 0.2;
        let c = CHANGE as usize;
        let sigma2 = NOISE_SIGMA * NOISE_SIGMA;
        assert!((residual(0..c, &before) / sigma2 - 1.0).abs() < 0.1);
        assert!((residual(c..2 * c, &after) / sigma2 - 1.0).abs() < 0.1);
        assert!(
            residual(c..2 * c, &before) > 100.0 * sigma2,
            "a real change"
        );
    }

    #[test]
    fn the_stream_tracks_the_drift_and_beats_the_frozen_copy() {
        let mut lines = Lines(Vec::new());
        let outcome = run(&mut std::boxed::Box::new(StreamStorage::new()), &mut lines).unwrap();
        let text = lines.0.join("\n");
        assert!(outcome.pass, "{text}");
        assert_eq!(outcome.drifts, 1, "{text}");
        let drift = lines
            .0
            .iter()
            .position(|l| l.starts_with("drift at reading "))
            .unwrap();
        let at: u32 = lines.0[drift]
            .trim_start_matches("drift at reading ")
            .split(':')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!((CHANGE..CHANGE + 500).contains(&at), "{at}");
        assert!(
            lines.0.iter().any(|l| l.starts_with("paused at reading ")),
            "{text}"
        );
    }
}
