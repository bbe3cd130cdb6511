//! Where a PC's time goes while training: a sampling profile (pprof, 1 kHz) of each benchmark
//! network training 16 samples at a time, written as a flame graph to
//! `target/flame/<widths>.svg`, and the share of samples per part of the core printed as a
//! table. `cargo xtask bench flame` runs it:
//! `cargo run --release -p tinytrain-bench --features flame --example flame`.

use std::fs::{self, File};
use std::path::Path;
use std::time::{Duration, Instant};
use tinytrain_bench::{label, Run};

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
    let mut run = Run::<CHUNK>::new(widths);
    let mut trainer = run.trainer();
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

/// Samples per part of [`PARTS`], then those outside the core; and the samples in all.
fn shares(report: &pprof::Report) -> ([isize; PARTS.len() + 1], isize) {
    let mut counts = [0; PARTS.len() + 1];
    let mut total = 0;
    for (frames, count) in &report.data {
        total += count;
        let names = frames.frames.iter().flatten().map(|symbol| symbol.name());
        let part = names
            .filter(|name| name.contains("tinytrain_core"))
            .find_map(|name| {
                PARTS
                    .iter()
                    .position(|(_, keys)| keys.iter().any(|key| name.contains(key)))
            });
        counts[part.unwrap_or(PARTS.len())] += count;
    }
    (counts, total)
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/flame");
    fs::create_dir_all(&dir).expect("target/flame is writable");
    let dir = dir.canonicalize().expect("target/flame exists");
    let mut columns = Vec::new();
    for widths in NETWORKS {
        let name = label(widths);
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
    let labels = PARTS.iter().map(|(label, _)| *label);
    for (k, part) in labels
        .chain(["outside the core (profiler, start-up)"])
        .enumerate()
    {
        let cells: Vec<String> = columns
            .iter()
            .map(|(_, (counts, total))| {
                format!("{:.1}%", 100.0 * counts[k] as f64 / (*total).max(1) as f64)
            })
            .collect();
        println!("| {part} | {} |", cells.join(" | "));
    }
}
