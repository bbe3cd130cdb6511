//! Where a PC's time goes while training: a sampling profile (pprof, 1 kHz) of each benchmark
//! network training 16 samples at a time, written as a flame graph to
//! `target/flame/<widths>.svg`, and the share of samples per part of the core printed as a
//! table. `cargo xtask bench flame` runs it:
//! `cargo run --release -p tinytrain-bench --features flame --example flame`.

use std::collections::HashMap;
use std::fs::{self, File};
use std::path::Path;
use std::time::{Duration, Instant};
use tinytrain_bench::{data, CONFIG, SAMPLES};
use tinytrain_core::{shape, Dataset, Split, Trainer};

/// The networks of the other benchmarks.
const NETWORKS: [&[usize]; 3] = [&[1, 16, 16, 1], &[10, 32, 16, 1], &[16, 64, 64, 4]];
/// Samples per chunk, as in the host benchmark.
const CHUNK: usize = 16;
/// How long each network trains under the profiler.
const RUN: Duration = Duration::from_secs(3);

/// The parts of a training step, each named by the core functions that do it: a sample is
/// counted for the first of them found on its stack, innermost (inlined) frame first.
const PARTS: [(&str, &[&str]); 5] = [
    (
        "forward pass, with ReLU (`dense::forward`)",
        &["dense::forward"],
    ),
    (
        "weight and bias gradients (`dense::accumulate`, `dense::transpose`)",
        &["dense::accumulate", "dense::transpose"],
    ),
    (
        "errors, with the ReLU mask (`dense::backprop`)",
        &["dense::backprop"],
    ),
    (
        "update, with the gradients' norm and reset (`Optimizer::update`)",
        &["Optimizer::update"],
    ),
    (
        "samples, scaling, loss, layer walk",
        &["trainer::", "mlp::"],
    ),
];

/// Trains `widths` for [`RUN`] under the profiler; returns its report and the steps taken.
fn profile(widths: &[usize]) -> (pprof::Report, u64) {
    let (n_in, n_out) = (widths[0], widths[widths.len() - 1]);
    let (xs, ys) = data(n_in, n_out, 1);
    let data = Dataset::new(&xs, &ys, n_in, n_out).expect("valid data");
    let mut order: Vec<u32> = (0..=SAMPLES as u32).collect();
    let split = Split::from_order(&mut order, SAMPLES, 1).expect("valid split");
    let mut arena = vec![0.0; shape::train_arena_len_chunked(widths, CONFIG.optimizer, CHUNK)];
    let mut trainer =
        Trainer::<CHUNK>::chunked(widths, CONFIG, data, split, &mut arena).expect("a trainer");
    let guard = pprof::ProfilerGuardBuilder::default()
        .frequency(1000)
        .blocklist(&["libc", "libgcc", "pthread", "vdso"])
        .build()
        .expect("the profiler starts");
    let (start, mut steps) = (Instant::now(), 0);
    while start.elapsed() < RUN {
        trainer.step().expect("a step");
        steps += 1;
    }
    (guard.report().build().expect("a report"), steps)
}

/// Samples per part of [`PARTS`], and the samples in all (the rest is outside the core).
fn shares(report: &pprof::Report) -> (HashMap<&'static str, isize>, isize) {
    let mut parts = HashMap::new();
    let mut total = 0;
    for (frames, count) in &report.data {
        total += count;
        let names = frames.frames.iter().flatten().map(|symbol| symbol.name());
        let part = names
            .filter(|name| name.contains("tinytrain_core"))
            .find_map(|name| {
                let mut parts = PARTS.iter();
                parts.find(|(_, keys)| keys.iter().any(|key| name.contains(key)))
            });
        if let Some((label, _)) = part {
            *parts.entry(*label).or_insert(0) += count;
        }
    }
    (parts, total)
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/flame");
    fs::create_dir_all(&dir).expect("target/flame is writable");
    let dir = dir.canonicalize().expect("target/flame exists");
    let mut columns = Vec::new();
    for widths in NETWORKS {
        let name = widths
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join("-");
        let (report, steps) = profile(widths);
        let svg = dir.join(format!("{name}.svg"));
        let file = File::create(&svg).expect("the flame graph is writable");
        report.flamegraph(file).expect("a flame graph");
        eprintln!("{name}: {steps} mini-batches in {RUN:?}, {}", svg.display());
        columns.push((name, shares(&report)));
    }

    println!();
    let header: Vec<&str> = columns.iter().map(|(name, _)| name.as_str()).collect();
    println!(
        "| share of profile samples, 16 at once | {} |",
        header.join(" | ")
    );
    println!("| ---{} |", " | ---".repeat(columns.len()));
    let row = |label: &str, count: &dyn Fn(&HashMap<&str, isize>, isize) -> isize| {
        let cells: Vec<String> = columns
            .iter()
            .map(|(_, (parts, total))| {
                format!(
                    "{:.1}%",
                    100.0 * count(parts, *total) as f64 / (*total).max(1) as f64
                )
            })
            .collect();
        println!("| {label} | {} |", cells.join(" | "));
    };
    for (label, _) in PARTS {
        row(label, &|parts, _| parts.get(label).copied().unwrap_or(0));
    }
    row("outside the core (profiler, start-up)", &|parts, total| {
        total - parts.values().sum::<isize>()
    });
}
