//! `tinytrain train --stream`: the CSV's rows fed one at a time, in order (or shuffled with
//! `--shuffle-stream`), to the core's stream driver ([`tinytrain_core::stream`]) — the learner a
//! device runs on samples as they arrive — with its report, figure and model.

use crate::error::{Error, Result};
use crate::net::Net;
use crate::numbers::number;
use crate::table::Samples;
use crate::train::{widths_text, OptimizerKind};
use serde::Serialize;
use tinytrain_core::stream::{
    ReplayPolicy, Stream, StreamConfig, StreamEpoch, StreamProgress, StreamReport,
};
use tinytrain_core::{shape, Config, Event, Lcg};

/// Samples of a mini-batch that go through the network at once (the same bits as one at a
/// time).
const CHUNK: usize = 16;

/// What the replay buffer keeps once full, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// A uniform sample of every training row seen (for a stationary signal).
    Reservoir,
    /// The most recent training rows (for a drifting signal).
    Window,
}

impl Policy {
    /// The core's policy.
    pub fn policy(self) -> ReplayPolicy {
        match self {
            Policy::Reservoir => ReplayPolicy::Reservoir,
            Policy::Window => ReplayPolicy::Window,
        }
    }
}

/// Everything chosen before a stream run: the `config` of its report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamSettings {
    /// Layer widths, input first.
    pub layers: Vec<usize>,
    /// The update rule.
    pub optimizer: OptimizerKind,
    /// Step size.
    pub learning_rate: f32,
    /// Samples per mini-batch.
    pub batch_size: usize,
    /// Epochs without validation improvement before the stream pauses.
    pub patience: u32,
    /// Seeds the initial weights, the reservoir and the mini-batches.
    pub seed: u64,
    /// Standardise with statistics fitted on the warm-up.
    pub standardize: bool,
    /// How the initial weights are drawn.
    #[serde(serialize_with = "crate::train::init_name")]
    pub init: tinytrain_core::Init,
    /// The first layer trained (0-based).
    pub trainable_from: usize,
    /// The order of the rows: `None` for file order, else the shuffle's seed.
    pub shuffle_stream: Option<u64>,
    /// The model the stream started from.
    pub model_in: Option<String>,
    /// Replay buffer size.
    pub replay: usize,
    /// Replay policy: `reservoir` or `window`.
    pub replay_policy: Policy,
    /// Every this many rows, one is held out for validation.
    pub holdout_every: u32,
    /// Validation window size.
    pub validation_window: usize,
    /// Every this many rows, one goes to the test window (0: none).
    pub test_every: u32,
    /// Test window size.
    pub test_window: usize,
    /// Warm-up rows.
    pub warmup: u32,
    /// Rows between scheduled steps.
    pub every: u32,
    /// Steps after every `every` rows.
    pub steps_per: u32,
    /// Drift threshold, a multiple of the typical validation loss.
    pub drift_factor: f32,
    /// Epochs above it that make a drift.
    pub drift_epochs: u32,
}

impl StreamSettings {
    /// The core's learner configuration.
    pub fn config(&self) -> Config {
        Config {
            learning_rate: self.learning_rate,
            batch_size: self.batch_size,
            patience: self.patience,
            seed: self.seed,
            optimizer: self.optimizer.optimizer(),
            standardize: self.standardize,
            init: self.init,
            trainable_from: self.trainable_from,
            ..Config::DEFAULT
        }
    }

    /// The core's stream settings.
    pub fn stream(&self) -> StreamConfig {
        StreamConfig {
            replay: self.replay,
            policy: self.replay_policy.policy(),
            holdout_every: self.holdout_every,
            validation: self.validation_window,
            test_every: self.test_every,
            test: self.test_window,
            warmup: self.warmup,
            every: self.every,
            steps_per: self.steps_per,
            drift_factor: self.drift_factor,
            drift_epochs: self.drift_epochs,
        }
    }
}

/// A finished stream run.
#[derive(Debug, Clone)]
pub struct StreamRun {
    /// Every epoch, in order.
    pub epochs: Vec<StreamEpoch>,
    /// The stream's report at the end.
    pub report: StreamReport,
    /// The checkpoint: the best-validation weights.
    pub net: Net,
    /// Their MSE on the test window (`None` without one).
    pub test_mse: Option<f32>,
    /// Ctrl-C stopped the stream before its last row.
    pub interrupted: bool,
}

/// The `f32` values of the arena of a stream of `widths` with `config` and `settings` (its
/// network, optimizer state and buffers, [`shape::stream_arena_len`] with 16 samples
/// at once), at most [`shape::MAX_PARAMS`]: [`Error::StreamTooLarge`] beyond (a replay buffer
/// of 10¹¹ samples would abort the allocation).
pub fn arena_len(widths: &[usize], config: &Config, settings: &StreamConfig) -> Result<usize> {
    let values = shape::stream_arena_len(widths, config, settings, CHUNK);
    if values > shape::MAX_PARAMS {
        return Err(Error::StreamTooLarge {
            replay: settings.replay,
            validation: settings.validation,
            test: settings.test,
            values,
            max: shape::MAX_PARAMS,
        });
    }
    Ok(values)
}

/// Feeds the rows of `samples` — in `order` (row indices; file order if `None`) — to a stream
/// learner, starting from `start` if given, calling `on_epoch` after every epoch with the
/// stream's report then (whose [`StreamReport::to_original_units`] converts its losses).
pub fn run(
    samples: &Samples,
    settings: &StreamSettings,
    start: Option<&Net>,
    order: Option<&[usize]>,
    mut on_epoch: impl FnMut(&StreamEpoch, &StreamReport),
) -> Result<StreamRun> {
    let widths = &settings.layers;
    let (config, stream_config) = (settings.config(), settings.stream());
    let mut arena = vec![0.0; arena_len(widths, &config, &stream_config)?];
    let mut moments = vec![0.0; shape::moments_len(widths)];
    let mut stream = Stream::<CHUNK>::new(widths, config, stream_config, &mut arena, &mut moments)
        .map_err(Error::core("--stream settings"))?;
    if let Some(net) = start {
        let model = net.model()?;
        stream
            .set_model(&model)
            .map_err(Error::core("--model-in"))?;
    }
    let n_in = samples.n_in();
    let rows = samples.len();
    let mut epochs = Vec::new();
    let mut interrupted = false;
    for k in 0..rows {
        if crate::interrupt::requested() {
            interrupted = true;
            break;
        }
        let row = order.and_then(|o| o.get(k).copied()).unwrap_or(k);
        let x = samples
            .inputs
            .get(row * n_in..(row + 1) * n_in)
            .unwrap_or(&[]);
        let y = samples.targets.get(row..=row).unwrap_or(&[]);
        stream.push(x, y).map_err(Error::core(format!(
            "row {} of {}",
            row + 1,
            samples.path.display()
        )))?;
        loop {
            match stream.step() {
                StreamProgress::Idle => break,
                StreamProgress::Step => {}
                StreamProgress::Epoch(epoch) => {
                    on_epoch(&epoch, &stream.report());
                    epochs.push(epoch);
                }
            }
        }
    }
    let report = stream.report();
    let done = stream.finish();
    Ok(StreamRun {
        epochs,
        report,
        net: Net::from_model(&done.model),
        test_mse: done.test_loss,
        interrupted,
    })
}

/// The order `--shuffle-stream SEED` feeds `rows` rows in: a permutation by the core's
/// seeded Fisher–Yates shuffle.
pub fn shuffled(rows: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<u32> = (0..rows as u32).collect();
    tinytrain_core::rng::shuffle(&mut order, &mut Lcg::new(seed));
    order.into_iter().map(|i| i as usize).collect()
}

/// One epoch of the report's `history`. MSEs in the target's units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EpochRow {
    /// 1-based, paused epochs included.
    pub epoch: u32,
    /// Rows taken in when it ended.
    pub arrivals: u64,
    /// Mean training MSE (`null` while paused, or diverged).
    pub train_mse: Option<f64>,
    /// Validation MSE (`null` before any row is held out).
    pub val_mse: Option<f64>,
    /// RMS of the steps' gradient norms (`null` while paused).
    pub grad_norm: Option<f32>,
    /// These weights became the checkpoint.
    pub best: bool,
    /// The stream is paused at its end.
    pub paused: bool,
}

impl EpochRow {
    /// The row of `epoch`; `report` converts its losses to the target's units.
    pub fn new(epoch: &StreamEpoch, report: &StreamReport) -> Self {
        let original = |v: f32| Some(report.to_original_units(v)).filter(|v| v.is_finite());
        Self {
            epoch: epoch.epoch,
            arrivals: epoch.arrivals,
            train_mse: epoch.train_loss.and_then(original),
            val_mse: epoch.val_loss.and_then(original),
            grad_norm: epoch.grad_norm.filter(|v| v.is_finite()),
            best: epoch.improved,
            paused: epoch.paused,
        }
    }
}

/// One event of the report. MSEs in the target's units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRow {
    /// `paused`, `drift`, `resumed` or `spike`.
    pub kind: &'static str,
    /// The epoch it happened at.
    pub epoch: u32,
    /// Rows taken in by then.
    pub arrivals: u64,
    /// For a pause: why (`early_stopped`, `converged`, `stalled`, `diverged`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// For a drift: the typical validation MSE before it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_mse: Option<f64>,
    /// For a drift: the validation MSE that confirmed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub val_mse: Option<f64>,
    /// For a drift: the best weights' MSE on the window then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint_mse: Option<f64>,
}

impl EventRow {
    fn new(kind: &'static str, epoch: &StreamEpoch) -> Self {
        Self {
            kind,
            epoch: epoch.epoch,
            arrivals: epoch.arrivals,
            reason: None,
            reference_mse: None,
            val_mse: None,
            checkpoint_mse: None,
        }
    }
}

/// Every event of a run, in order; `report` converts its losses to the target's units.
pub fn events(epochs: &[StreamEpoch], report: &StreamReport) -> Vec<EventRow> {
    let original = |v: f32| Some(report.to_original_units(v));
    let mut rows = Vec::new();
    for epoch in epochs {
        for event in epoch.events() {
            rows.push(match event {
                Event::Paused(reason) => EventRow {
                    reason: Some(reason.name()),
                    ..EventRow::new("paused", epoch)
                },
                Event::Drift(d) => EventRow {
                    reference_mse: original(d.reference),
                    val_mse: original(d.val),
                    checkpoint_mse: original(d.checkpoint_val),
                    ..EventRow::new("drift", epoch)
                },
                Event::Resumed => EventRow::new("resumed", epoch),
                Event::Spike(_) => EventRow::new("spike", epoch),
                _ => EventRow::new("other", epoch),
            });
        }
    }
    rows
}

/// The JSON report of `train --stream`. Every MSE is in the target's original units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The CSV file.
    pub data: String,
    /// Rows in it.
    pub rows: usize,
    /// Rows fed to the stream (fewer if interrupted).
    pub arrivals: u64,
    /// Epochs run, paused ones included.
    pub epochs_run: u32,
    /// The epoch of the checkpoint the model holds.
    pub best_epoch: u32,
    /// Its validation MSE (on the latest window it was scored on).
    pub best_val_mse: Option<f64>,
    /// Why the stream was paused at the end (`null`: training).
    pub paused: Option<&'static str>,
    /// Drifts seen.
    pub drifts: u32,
    /// The checkpoint's MSE on the test window, scored once (`null` without one).
    pub test_mse: Option<f64>,
    /// The target's variance fitted on the warm-up (or the starting model's): the factor
    /// from the standardised losses the stream judges in to the MSEs reported here.
    pub loss_scale: f64,
    /// Every pause, drift and resume.
    pub events: Vec<EventRow>,
    /// Every epoch.
    pub history: Vec<EpochRow>,
    /// The settings.
    pub config: StreamSettings,
}

impl Report {
    /// The report of `run` on `data` (the file's name) of `rows` rows.
    pub fn new(data: &str, rows: usize, settings: &StreamSettings, run: &StreamRun) -> Self {
        Self::of(data, rows, settings, &run.epochs, &run.report, run.test_mse)
    }

    /// The report of a stream on `data` of `rows` rows so far: its `epochs`, its report `r` and
    /// the checkpoint's test-window loss `test` (standardised; `None` until it is scored).
    pub fn of(
        data: &str,
        rows: usize,
        settings: &StreamSettings,
        epochs: &[StreamEpoch],
        r: &StreamReport,
        test: Option<f32>,
    ) -> Self {
        let original = |v: f32| Some(r.to_original_units(v)).filter(|v| v.is_finite());
        Self {
            data: data.to_owned(),
            rows,
            arrivals: r.arrivals,
            epochs_run: r.epochs,
            best_epoch: r.best_epoch,
            best_val_mse: original(r.best_val),
            paused: r.paused.map(|p| p.name()),
            drifts: r.drifts,
            test_mse: test.and_then(original),
            loss_scale: r.loss_scale,
            events: events(epochs, r),
            history: epochs.iter().map(|e| EpochRow::new(e, r)).collect(),
            config: settings.clone(),
        }
    }

    /// Pretty-printed JSON.
    pub fn to_json(&self) -> String {
        // A struct of numbers, strings and vectors always serialises.
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// The summary printed by `tinytrain train --stream`.
    pub fn summary(&self) -> String {
        let c = &self.config;
        let order = match c.shuffle_stream {
            Some(seed) => format!("shuffled (seed {seed})"),
            None => "in file order".to_owned(),
        };
        let mut s = format!(
            "data      {} ({} rows {order}, {} fed)\n\
             model     {} {}, lr {}, batch {}, seed {}{}\n\
             stream    replay {} ({}), every {}th row held out (window {}), warm-up {}, \
             {} step(s) every {} rows\n",
            self.data,
            self.rows,
            self.arrivals,
            widths_text(&c.layers),
            c.optimizer.name(),
            c.learning_rate,
            c.batch_size,
            c.seed,
            if c.trainable_from > 0 {
                format!(", layers below {} frozen", c.trainable_from)
            } else {
                String::new()
            },
            c.replay,
            match c.replay_policy {
                Policy::Reservoir => "reservoir",
                Policy::Window => "window",
            },
            c.holdout_every,
            c.validation_window,
            c.warmup,
            c.steps_per,
            c.every,
        );
        for e in &self.events {
            s += &format!(
                "event     {} at row {} (epoch {})",
                e.kind, e.arrivals, e.epoch
            );
            if let Some(reason) = e.reason {
                s += &format!(": {reason}");
            }
            if let (Some(val), Some(reference)) = (e.val_mse, e.reference_mse) {
                s += &format!(
                    ": validation MSE {} against a typical {}",
                    number(val),
                    number(reference)
                );
            }
            s += "\n";
        }
        let paused = self
            .paused
            .map_or(String::from("training"), |p| format!("paused ({p})"));
        s += &format!(
            "ended     {paused} after {} epochs; kept the weights of epoch {}\n",
            self.epochs_run, self.best_epoch
        );
        let opt = |v: Option<f64>| v.map_or("-".to_owned(), number);
        s += &format!(
            "mse       validation {}  test window {}\n",
            opt(self.best_val_mse),
            opt(self.test_mse)
        );
        s
    }
}

/// The figure of a stream run: training and validation MSE per epoch (in the target's units)
/// against the rows taken in, on a log scale, with every pause, drift and resume marked; as PNG
/// bytes (`path` names it in errors). `None`, drawing nothing, when no loss can be shown.
pub fn figure(path: &std::path::Path, run: &StreamRun, title: &str) -> Result<Option<Vec<u8>>> {
    use crate::plot::{bounds, drawable, failure, frame, legend, line_key, log_ticks, render};
    use crate::plot::{tick_label, FONT};
    use plotters::prelude::*;
    let fail = failure(path);
    let original = |v: f32| run.report.to_original_units(v);
    let shown = |v: &f64| v.is_finite() && *v > 0.0;
    let values = run
        .epochs
        .iter()
        .flat_map(|e| [e.train_loss, e.val_loss])
        .flatten()
        .map(original)
        .filter(shown);
    let Some((lo, hi)) = bounds(values).and_then(|(lo, hi)| drawable(lo / 1.5, hi * 1.5)) else {
        return Ok(None);
    };
    let last = run.epochs.last().map_or(1, |e| e.arrivals).max(1);
    let events = events(&run.epochs, &run.report);
    render(path, |root| {
        let mut chart = frame(root, title, 80)
            .build_cartesian_2d(
                0..last + last / 50 + 1,
                (lo..hi).log_scale().with_key_points(log_ticks(lo, hi)),
            )
            .map_err(&fail)?;
        chart
            .configure_mesh()
            .x_desc("rows taken in")
            .y_desc("MSE (log scale)")
            .axis_desc_style((FONT, 16))
            .y_label_formatter(&|v| tick_label(*v))
            .draw()
            .map_err(&fail)?;
        // A resume comes with its drift: drawn thinner, on top, so that both show.
        let marks: [(&str, RGBColor, u32); 3] = [
            ("paused", RGBColor(127, 127, 127), 2),
            ("drift", RGBColor(214, 39, 40), 6),
            ("resumed", RGBColor(44, 160, 44), 2),
        ];
        for (kind, color, width) in marks {
            let at: Vec<u64> = events
                .iter()
                .filter(|e| e.kind == kind)
                .map(|e| e.arrivals)
                .collect();
            if at.is_empty() {
                continue;
            }
            let lines = at
                .into_iter()
                .map(move |x| PathElement::new([(x, lo), (x, hi)], color.stroke_width(width)));
            chart
                .draw_series(lines)
                .map_err(&fail)?
                .label(kind)
                .legend(line_key(color.stroke_width(width)));
        }
        type Pick = fn(&StreamEpoch) -> Option<f32>;
        let curves: [(&str, RGBColor, Pick); 2] = [
            ("training", RGBColor(31, 119, 180), |e| e.train_loss),
            ("validation", RGBColor(255, 127, 14), |e| e.val_loss),
        ];
        for (name, color, pick) in curves {
            // A paused stretch has no training loss: the curve breaks there.
            let mut segments: Vec<Vec<(u64, f64)>> = vec![Vec::new()];
            for e in &run.epochs {
                match pick(e).map(original).filter(shown) {
                    Some(v) => segments
                        .last_mut()
                        .into_iter()
                        .for_each(|s| s.push((e.arrivals, v))),
                    None => segments.push(Vec::new()),
                }
            }
            let mut first = true;
            for segment in segments.into_iter().filter(|s| !s.is_empty()) {
                let drawn = chart
                    .draw_series(LineSeries::new(segment, color.stroke_width(2)))
                    .map_err(&fail)?;
                if std::mem::take(&mut first) {
                    drawn.label(name).legend(line_key(color.stroke_width(2)));
                }
            }
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight, &fail)
    })
    .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shuffled_stream_is_a_permutation_fixed_by_its_seed() {
        let order = shuffled(50, 3);
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_eq!(order, shuffled(50, 3));
        assert_ne!(order, shuffled(50, 4));
    }
}
