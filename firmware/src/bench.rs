//! The device benchmark: what training costs on the Cortex-M4F, printed as Markdown tables.
//!
//! For each network of the host benchmark it trains mini-batches of 16 with plain SGD — one
//! sample at a time (`C = 1`, the least memory) and [`CHUNK`] samples at a time — and divides the
//! work counted by the samples trained and by the multiply-accumulates (MACs) they need: every
//! weight once forward, once for its gradient and once backward (but the first layer's, which
//! has no error to pass on), plus each parameter's share of the batch's update. The counted
//! batches make one epoch, so the work includes the epoch's end (one validation sample and the
//! best-weights copy). It then compares the losses on the network of the most outputs (the mean
//! squared error on values, the softmax cross-entropy on class indices), times each update rule
//! alone, and lists the bytes each network's training arena takes beside the least that training
//! must store. Last, the stream driver ([`tinytrain_core::stream`]): its work per arriving sample
//! with the default schedule, every layer trained and the lower ones frozen, and its memory beside
//! the least a stream must store.

use crate::board::{Board, Counter, Parts};
use static_cell::ConstStaticCell;
use tinytrain_core::data::Label;
use tinytrain_core::loss::Loss;
use tinytrain_core::optim::BiasCorrection;
use tinytrain_core::stream::{Stream, StreamConfig};
use tinytrain_core::{mlp, shape, Config, Dataset, Lcg, Optimizer, Split, Trainer};

/// The networks measured: the host benchmark's.
#[cfg(not(feature = "microbit"))]
const NETWORKS: &[[usize; 4]] = &[[1, 16, 16, 1], [10, 32, 16, 1], [16, 64, 64, 4]];
/// The networks measured: the smallest of the host benchmark's, the one whose data and arena
/// fit the micro:bit's 16 KiB of RAM.
#[cfg(feature = "microbit")]
const NETWORKS: &[[usize; 4]] = &[[1, 16, 16, 1]];
/// Samples per mini-batch.
const BATCH: usize = 16;
/// Training samples: the batches counted, one epoch (one more sample is the validation set).
const SAMPLES: usize = 256;
/// Samples per chunk on the chunked path: four lanes of four outputs fill 16 of the Cortex-M4F's
/// 32 floating-point registers with sums (eight lanes would spill them).
const CHUNK: usize = 4;
/// Updates counted per update rule.
const UPDATES: usize = 8;
/// The widest input and output of the networks.
const MAX_IN: usize = max_width(0);
const MAX_OUT: usize = max_width(3);
/// The largest arena any measurement needs.
const ARENA: usize = max_arena();
/// The update rules, with the names they are printed with.
const RULES: [(&str, Optimizer); 3] = [
    ("SGD", Optimizer::SGD),
    ("momentum", Optimizer::MOMENTUM),
    ("Adam", Optimizer::ADAM),
];

/// The widest layer `k` of the networks.
const fn max_width(k: usize) -> usize {
    let mut max = 0;
    let mut rest: &[[usize; 4]] = NETWORKS;
    while let [widths, tail @ ..] = rest {
        if widths[k] > max {
            max = widths[k];
        }
        rest = tail;
    }
    max
}

const fn max_arena() -> usize {
    let mut max = 0;
    let mut rest: &[[usize; 4]] = NETWORKS;
    while let [widths, tail @ ..] = rest {
        let len = shape::train_arena_len_chunked(widths, Optimizer::ADAM, CHUNK);
        if len > max {
            max = len;
        }
        rest = tail;
    }
    max
}

/// Class labels, one per sample, when a network has the two outputs classes need.
const LABELS: usize = if MAX_OUT >= 2 { SAMPLES + 1 } else { 0 };

/// Training memory, inputs, targets (as values and as class indices) and sample order, in
/// `.bss`.
struct Memory {
    arena: [f32; ARENA],
    inputs: [f32; (SAMPLES + 1) * MAX_IN],
    targets: [f32; (SAMPLES + 1) * MAX_OUT],
    labels: [u16; LABELS],
    order: [u32; SAMPLES + 1],
}

static MEMORY: ConstStaticCell<Memory> = ConstStaticCell::new(Memory {
    arena: [0.0; ARENA],
    inputs: [0.0; (SAMPLES + 1) * MAX_IN],
    targets: [0.0; (SAMPLES + 1) * MAX_OUT],
    labels: [0; LABELS],
    order: [0; SAMPLES + 1],
});

/// Plain SGD, no shuffle, no standardisation, no stopping: the host benchmark's settings.
const CONFIG: Config = Config {
    learning_rate: 1e-4,
    batch_size: BATCH,
    max_epochs: u32::MAX,
    patience: u32::MAX,
    shuffle: false,
    standardize: false,
    stall_epochs: 0,
    divergence_factor: f32::MAX,
    optimizer: Optimizer::SGD,
    ..Config::DEFAULT
};

/// Runs every measurement on board `B`, printing the tables; false if one could not run.
pub fn run<B: Board>() -> bool {
    defmt::println!("board: {=str}", B::name());
    let (Some(Parts { mut counter, .. }), Some(memory)) = (B::init(), MEMORY.try_take()) else {
        defmt::error!("the board or the benchmark's memory was already taken");
        return false;
    };
    fill(memory);
    let trained = training(memory, &mut counter) && losses(memory, &mut counter);
    updates(memory, &mut counter);
    footprint();
    let streamed = streaming(memory, &mut counter);
    stream_footprint();
    trained && streamed
}

/// Mini-batches each network trains between the profile's marks: enough to average, few enough
/// for a per-instruction trace of the largest network.
const PROFILED_BATCHES: usize = 4;

/// Trains each network [`PROFILED_BATCHES`] mini-batches, [`CHUNK`] samples at a time, between
/// [`profile_start`] and [`profile_stop`], after one step that is not profiled (the first step
/// also scores the initial weights). `cargo xtask bench profile` traces the run under QEMU and
/// counts the instructions between the marks by function.
pub fn profile<B: Board>() -> bool {
    let (Some(_), Some(memory)) = (B::init(), MEMORY.try_take()) else {
        defmt::error!("the board or the benchmark's memory was already taken");
        return false;
    };
    fill(memory);
    NETWORKS.iter().all(|widths| {
        let Some(mut trainer) = trainer::<CHUNK>(widths, memory) else {
            return false;
        };
        let ready = trainer.step().is_ok();
        profile_start();
        let trained = (0..PROFILED_BATCHES).all(|_| trainer.step().is_ok());
        profile_stop();
        defmt::println!(
            "profiled {=[?]}: {=usize} samples, {=usize} MACs each",
            widths[..],
            PROFILED_BATCHES * BATCH,
            sixteenth_macs(widths) / 16
        );
        ready && trained
    })
}

/// Where the profiled work starts: the trace counts from this function's first instruction.
#[inline(never)]
pub fn profile_start() {
    core::hint::black_box(1u32);
}

/// Where the profiled work ends.
#[inline(never)]
pub fn profile_stop() {
    core::hint::black_box(2u32);
}

/// Inputs and targets uniform in [-1, 1).
fn fill(memory: &mut Memory) {
    let mut rng = Lcg::new(1);
    for v in memory.inputs.iter_mut().chain(memory.targets.iter_mut()) {
        *v = rng.uniform(-1.0, 1.0);
    }
}

/// MACs per training sample, in sixteenths (the update's share is a sixteenth per parameter).
fn sixteenth_macs(widths: &[usize]) -> usize {
    let mut macs = 0;
    for layer in mlp::layers(widths) {
        let passes = if layer.acts_at == 0 { 2 } else { 3 };
        macs += passes * layer.weights();
    }
    BATCH * macs + shape::param_len(widths)
}

fn training<K: Counter>(memory: &mut Memory, counter: &mut K) -> bool {
    defmt::println!(
        "| network | samples at once | {=str} per sample | MACs per sample | {=str} per MAC |",
        K::UNIT,
        K::UNIT
    );
    defmt::println!("| --- | --- | --- | --- | --- |");
    NETWORKS.iter().all(|widths| {
        train::<1, K>(widths, memory, counter) && train::<CHUNK, K>(widths, memory, counter)
    })
}

/// Trains one epoch of `widths`, `C` samples at a time, and prints a row.
fn train<const C: usize, K: Counter>(
    widths: &[usize; 4],
    memory: &mut Memory,
    counter: &mut K,
) -> bool {
    let Some(work) = trainer::<C>(widths, memory).and_then(|t| epoch(t, counter)) else {
        return false;
    };
    let samples = SAMPLES as u64;
    let sixteenths = sixteenth_macs(widths) as u64;
    // Hundredths of an instruction per MAC.
    let per_mac = work * 1600 / (samples * sixteenths);
    defmt::println!(
        "| {=usize}-{=usize}-{=usize}-{=usize} | {=usize} | {=u64} | {=u64} | {=u64}.{=u64:02} |",
        widths[0],
        widths[1],
        widths[2],
        widths[3],
        C,
        work / samples,
        sixteenths / 16,
        per_mac / 100,
        per_mac % 100
    );
    true
}

/// The work of one epoch of `trainer`, after a first step that is not counted (it also scores
/// the initial weights on the whole training set); `None` if a step fails.
fn epoch<const C: usize, L: Label, K: Counter>(
    mut trainer: Trainer<'_, C, L>,
    counter: &mut K,
) -> Option<u64> {
    trainer.step().ok()?;
    let start = counter.now();
    for _ in 0..SAMPLES / BATCH {
        trainer.step().ok()?;
    }
    Some(counter.now().saturating_sub(start))
}

/// Trains one epoch of the network of the most outputs on each loss, [`CHUNK`] samples at a
/// time, and prints a row per loss: what the softmax (an `exp` per output, a `ln` per sample,
/// libm's) costs beside the mean squared error. Nothing to compare for networks of one output.
fn losses<K: Counter>(memory: &mut Memory, counter: &mut K) -> bool {
    let Some(widths) = NETWORKS.iter().rev().find(|w| w[3] >= 2) else {
        return true;
    };
    defmt::println!(
        "| network | loss | {=str} per sample, {=usize} at once |",
        K::UNIT,
        CHUNK
    );
    defmt::println!("| --- | --- | --- |");
    let mse = trainer::<CHUNK>(widths, memory).and_then(|t| epoch(t, counter));
    let ce = classifier(widths, memory).and_then(|t| epoch(t, counter));
    let samples = SAMPLES as u64;
    for (name, work) in [("mean squared error", mse), ("softmax cross-entropy", ce)] {
        let Some(work) = work else {
            return false;
        };
        defmt::println!(
            "| {=usize}-{=usize}-{=usize}-{=usize} | {=str} | {=u64} |",
            widths[0],
            widths[1],
            widths[2],
            widths[3],
            name,
            work / samples
        );
    }
    true
}

/// A classifier of `widths` on the benchmark's memory, as [`trainer`] but on the softmax
/// cross-entropy, the samples' labels the classes in turn.
fn classifier<'m>(
    widths: &'m [usize; 4],
    memory: &'m mut Memory,
) -> Option<Trainer<'m, CHUNK, u16>> {
    let [n_in, .., n_out] = *widths;
    let inputs = memory.inputs.get(..(SAMPLES + 1) * n_in).unwrap_or(&[]);
    for (k, i) in memory.order.iter_mut().enumerate() {
        *i = k as u32;
    }
    for (k, label) in memory.labels.iter_mut().enumerate() {
        *label = (k % n_out.max(1)) as u16;
    }
    let config = Config {
        loss: Loss::CrossEntropy,
        ..CONFIG
    };
    let trainer = Dataset::classes(inputs, &memory.labels, n_in, n_out).and_then(|data| {
        let split = Split::from_order(&mut memory.order, SAMPLES, 1)?;
        Trainer::<CHUNK, u16>::chunked(widths, config, data, split, &mut memory.arena)
    });
    trainer
        .inspect_err(|e| defmt::error!("cannot train {=[?]}: {}", widths[..], e))
        .ok()
}

/// A trainer of `widths` on the benchmark's memory: one epoch of training samples and one
/// validation sample, in order.
fn trainer<'m, const C: usize>(
    widths: &'m [usize; 4],
    memory: &'m mut Memory,
) -> Option<Trainer<'m, C>> {
    let [n_in, .., n_out] = *widths;
    let inputs = memory.inputs.get(..(SAMPLES + 1) * n_in).unwrap_or(&[]);
    let targets = memory.targets.get(..(SAMPLES + 1) * n_out).unwrap_or(&[]);
    for (k, i) in memory.order.iter_mut().enumerate() {
        *i = k as u32;
    }
    let trainer = Dataset::new(inputs, targets, n_in, n_out).and_then(|data| {
        let split = Split::from_order(&mut memory.order, SAMPLES, 1)?;
        Trainer::<C>::chunked(widths, CONFIG, data, split, &mut memory.arena)
    });
    trainer
        .inspect_err(|e| defmt::error!("cannot train {=[?]}: {}", widths[..], e))
        .ok()
}

/// Times each update rule alone on the largest network's parameters.
fn updates<K: Counter>(memory: &mut Memory, counter: &mut K) {
    let p = NETWORKS
        .iter()
        .map(|w| shape::param_len(w))
        .max()
        .unwrap_or(0);
    defmt::println!("");
    defmt::println!("| update rule | {=str} per parameter |", K::UNIT);
    defmt::println!("| --- | --- |");
    for (name, rule) in RULES {
        // The rule as the trainer sees it: a value, not a constant to specialise on.
        let rule = core::hint::black_box(rule);
        let (params, rest) = memory.arena.split_at_mut(p);
        let (grads, state) = rest.split_at_mut(p);
        let state = state
            .get_mut(..p * rule.state_per_param())
            .unwrap_or(&mut []);
        state.iter_mut().for_each(|s| *s = 0.0);
        let mut correction = BiasCorrection::new();
        let mut work = 0;
        for _ in 0..UPDATES {
            // An update consumes the gradient sums: a fresh batch's, not counted.
            grads.iter_mut().for_each(|g| *g = 0.5);
            let start = counter.now();
            rule.update(
                params,
                grads,
                state,
                1e-3,
                1.0 / BATCH as f32,
                &mut correction,
            );
            work += counter.now().saturating_sub(start);
        }
        let hundredths = work * 100 / (UPDATES * p) as u64;
        defmt::println!(
            "| {=str} | {=u64}.{=u64:02} |",
            name,
            hundredths / 100,
            hundredths % 100
        );
    }
}

/// Each network's arena beside the least training must keep: parameters, their gradient sums,
/// the update rule's state, the best-weights copy, one sample's activations (the errors take
/// their place on the way back) and the standardisation statistics.
fn footprint() {
    defmt::println!("");
    defmt::println!(
        "| network | update rule | least (B) | arena, 1 at once (B) | beyond (B) | arena, {=usize} at once (B) |",
        CHUNK
    );
    defmt::println!("| --- | --- | --- | --- | --- | --- |");
    for widths in NETWORKS {
        for (name, rule) in RULES {
            let least = 4
                * (shape::param_len(widths) * (3 + rule.state_per_param())
                    + shape::activation_len(widths)
                    + shape::scaler_len(widths));
            let arena = 4 * shape::train_arena_len(widths, rule);
            defmt::println!(
                "| {=usize}-{=usize}-{=usize}-{=usize} | {=str} | {=usize} | {=usize} | {=usize} | {=usize} |",
                widths[0],
                widths[1],
                widths[2],
                widths[3],
                name,
                least,
                arena,
                arena.saturating_sub(least),
                4 * shape::train_arena_len_chunked(widths, rule, CHUNK)
            );
        }
    }
}

/// The networks of the stream benchmark.
#[cfg(not(feature = "microbit"))]
const STREAM_NETWORKS: &[[usize; 4]] = &[[1, 16, 16, 1], [10, 32, 16, 1]];
/// The networks of the stream benchmark that fit the micro:bit.
#[cfg(feature = "microbit")]
const STREAM_NETWORKS: &[[usize; 4]] = &[[1, 16, 16, 1]];
/// The first layer trained (0-based, [`Config::trainable_from`]) in each stream measurement:
/// every layer, the first frozen, all but the last frozen (fine-tuning the output layer).
const TRAINABLE_FROM: [usize; 3] = [0, 1, 2];
/// Arrivals counted after the warm-up: 32 epochs of the default schedule (a step every 4
/// arrivals, 8 steps an epoch).
const STREAM_ARRIVALS: usize = 1024;

/// The stream's learner settings: plain SGD, standardised on the warm-up, nothing that pauses
/// it (a paused stream does no steps).
const fn stream_config(trainable_from: usize) -> Config {
    Config {
        standardize: true,
        trainable_from,
        ..CONFIG
    }
}

/// Feeds each network [`STREAM_ARRIVALS`] samples after its warm-up with the default
/// [`StreamConfig`], [`CHUNK`] samples at a time, and prints the work per arriving sample: the
/// push, its share of the scheduled steps and of the epochs' validation.
fn streaming<K: Counter>(memory: &mut Memory, counter: &mut K) -> bool {
    defmt::println!("");
    defmt::println!(
        "| network | `trainable_from` | trained parameters | {=str} per arriving sample |",
        K::UNIT
    );
    defmt::println!("| --- | --- | --- | --- |");
    STREAM_NETWORKS.iter().all(|widths| {
        TRAINABLE_FROM
            .iter()
            .all(|&from| stream_row(widths, from, memory, counter))
    })
}

/// Streams `widths` with the layers from `trainable_from` on trained, and prints a row.
fn stream_row<K: Counter>(
    widths: &[usize; 4],
    trainable_from: usize,
    memory: &mut Memory,
    counter: &mut K,
) -> bool {
    let (config, settings) = (stream_config(trainable_from), StreamConfig::DEFAULT);
    let Memory {
        arena,
        inputs,
        targets,
        ..
    } = memory;
    let len = shape::stream_arena_len(widths, &config, &settings, CHUNK);
    let Some(arena) = arena.get_mut(..len) else {
        defmt::error!(
            "the benchmark's arena holds no stream of {=[?]}",
            widths[..]
        );
        return false;
    };
    let mut moments = [0.0f64; 2 * (MAX_IN + MAX_OUT)];
    let stream = Stream::<CHUNK>::new(widths, config, settings, arena, &mut moments);
    let Ok(mut stream) =
        stream.inspect_err(|e| defmt::error!("cannot stream {=[?]}: {}", widths[..], e))
    else {
        return false;
    };
    let [n_in, .., n_out] = *widths;
    let mut feed = |k: usize| {
        let k = k % (SAMPLES + 1);
        let x = inputs.get(k * n_in..(k + 1) * n_in).unwrap_or(&[]);
        let y = targets.get(k * n_out..(k + 1) * n_out).unwrap_or(&[]);
        stream.feed(x, y, |_| {}).is_ok()
    };
    // The warm-up only fits the standardisation: not counted.
    let warmup = settings.warmup as usize;
    if !(0..warmup).all(&mut feed) {
        return false;
    }
    let start = counter.now();
    if !(warmup..warmup + STREAM_ARRIVALS).all(&mut feed) {
        return false;
    }
    let work = counter.now().saturating_sub(start);
    if let Some(reason) = stream.report().paused {
        defmt::error!(
            "the stream of {=[?]} paused ({=str}): its steps were not all counted",
            widths[..],
            reason.name()
        );
        return false;
    }
    defmt::println!(
        "| {=usize}-{=usize}-{=usize}-{=usize} | {=usize} | {=usize} | {=u64} |",
        widths[0],
        widths[1],
        widths[2],
        widths[3],
        trainable_from,
        shape::trainable_param_len(widths, trainable_from),
        work / STREAM_ARRIVALS as u64
    );
    true
}

/// Each network's stream arena beside the least a stream must keep: the least a trainer keeps
/// for its trained layers (their gradient sums and the best-weights copy; SGD has no state),
/// every parameter, the samples of the replay buffer and validation window, one sample's
/// activations, the standardisation statistics, and the warm-up's running moments (`f64`).
fn stream_footprint() {
    let settings = StreamConfig::DEFAULT;
    defmt::println!("");
    defmt::println!(
        "| network | `trainable_from` | least (B) | arena, 1 at once, and moments (B) | beyond (B) | arena, {=usize} at once (B) |",
        CHUNK
    );
    defmt::println!("| --- | --- | --- | --- | --- | --- |");
    for widths in STREAM_NETWORKS {
        for from in TRAINABLE_FROM {
            let config = stream_config(from);
            let [n_in, .., n_out] = *widths;
            let moments = 8 * shape::moments_len(widths);
            let least = 4
                * (shape::param_len(widths)
                    + 2 * shape::trainable_param_len(widths, from)
                    + shape::activation_len(widths)
                    + shape::scaler_len(widths)
                    + settings.samples() * (n_in + n_out))
                + moments;
            let arena = 4 * shape::stream_arena_len(widths, &config, &settings, 1) + moments;
            defmt::println!(
                "| {=usize}-{=usize}-{=usize}-{=usize} | {=usize} | {=usize} | {=usize} | {=usize} | {=usize} |",
                widths[0],
                widths[1],
                widths[2],
                widths[3],
                from,
                least,
                arena,
                arena.saturating_sub(least),
                4 * shape::stream_arena_len(widths, &config, &settings, CHUNK) + moments
            );
        }
    }
}
