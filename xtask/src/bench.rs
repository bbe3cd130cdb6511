//! `cargo xtask bench`: the figures of `BENCHMARKS.md`, one command each.
//!
//! - [`device`]: instructions per training sample and per multiply-accumulate on the emulated
//!   Cortex-M4F (the firmware's `bench` binary under QEMU, `-icount shift=0`), the update rules'
//!   cost and each network's arena beside the least training must store;
//! - [`size`]: flash and RAM of the demo firmware and of the least firmware that trains, with
//!   their peak stack from a run under QEMU;
//! - [`cores`]: the same training on every core QEMU emulates, side by side: instructions per
//!   sample and per MAC, the software floating point's cost against the M4F, flash, RAM, stack;
//! - [`host`]: criterion's training and inference throughput, tinytrain beside dfdx 0.13 in the
//!   same run, as medians and ratios;
//! - [`flame`]: where the host's training time goes, from a sampling profiler.

use crate::cmd::{self, Error};
use crate::firmware::{Board, BENCH, DEMO, EMULATED, MINIMAL, MPS2_AN386};
use crate::setup;
use crate::symbols::Elf;
use crate::workspace;
use std::path::{Path, PathBuf};

/// The networks of both benchmarks.
pub const NETWORKS: [&str; 3] = ["1-16-16-1", "10-32-16-1", "16-64-64-4"];

/// The network every core trains in [`cores`], the micro:bit's 16 KiB of RAM included.
const EVERY_CORE: &str = "1-16-16-1";
/// Samples per chunk on the chunked path (the firmware's `bench::CHUNK`).
const CHUNK: &str = "4";

/// Samples per iteration of the host benchmark (one mini-batch, or one predicted batch).
const BATCH: f64 = 16.0;

/// Runs the device benchmark under QEMU; its tables come from the firmware.
pub fn device() -> Result<(), Error> {
    setup::all()?;
    let board = MPS2_AN386;
    let elf = board.build(BENCH)?;
    println!("running {} on QEMU {}", elf.display(), board.name);
    let code = board.run(&elf, crate::qemu::DEFAULT_TIMEOUT, |line| {
        println!("{line}")
    })?;
    expect_success(&elf, code)
}

/// Builds and runs the demo firmware and the least firmware that trains, then prints their
/// flash and RAM side by side.
pub fn size() -> Result<(), Error> {
    setup::all()?;
    let board = MPS2_AN386;
    let demo = footprint(board, DEMO)?;
    let minimal = footprint(board, MINIMAL)?;
    println!();
    println!(
        "| firmware ({}) | the demo (`{DEMO}`) | training only (`{MINIMAL}`) |",
        board.name
    );
    println!("| --- | --- | --- |");
    for ((label, demo), (_, minimal)) in demo.rows().into_iter().zip(minimal.rows()) {
        println!("| {label} | {demo} | {minimal} |");
    }
    Ok(())
}

/// What one core measured.
struct Core {
    board: Board,
    /// The device benchmark's row for [`EVERY_CORE`], [`CHUNK`] samples at once: instructions
    /// per sample and hundredths of an instruction per MAC.
    per_sample: u64,
    per_mac: f64,
    /// The demo's own count per training sample (Adam, validation passes included).
    demo_per_sample: u64,
    footprint: Footprint,
}

/// Runs the device benchmark and the demo on every emulated core and prints them side by side.
pub fn cores() -> Result<(), Error> {
    setup::all()?;
    let mut measured = Vec::new();
    for board in EMULATED {
        let elf = board.build(BENCH)?;
        println!("running {} on QEMU {}", elf.display(), board.name);
        let mut row = None;
        let code = board.run(&elf, crate::qemu::DEFAULT_TIMEOUT, |line| {
            println!("{line}");
            row = row.take().or_else(|| bench_row(line, EVERY_CORE, CHUNK));
        })?;
        expect_success(&elf, code)?;
        let Some((per_sample, per_mac)) = row else {
            return Err(missing(
                &elf,
                &format!("a row for {EVERY_CORE}, {CHUNK} at once"),
            ));
        };
        let footprint = footprint(board, DEMO)?;
        measured.push(Core {
            board,
            per_sample,
            per_mac,
            demo_per_sample: footprint.per_sample,
            footprint,
        });
    }
    print_cores(&measured);
    Ok(())
}

/// The per-core table, each core's instructions beside the Cortex-M4F's.
fn print_cores(measured: &[Core]) {
    let m4f = measured.iter().find(|c| c.board == MPS2_AN386);
    let ratio = |value: f64, of: fn(&Core) -> f64| match m4f {
        Some(base) if of(base) > 0.0 => format!("{:.2}x", value / of(base)),
        _ => "-".into(),
    };
    println!();
    println!(
        "| core | QEMU machine | Rust target | floats | instructions per sample ({EVERY_CORE}, \
         SGD, {CHUNK} at once) | per MAC | vs M4F | demo: per training sample (Adam) | vs M4F \
         | flash (B) | static RAM (B) | peak stack (B) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for core in measured {
        let f = &core.footprint;
        println!(
            "| {} | `{}` | `{}` | {} | {} | {:.2} | {} | {} | {} | {} | {} | {} |",
            core.board.core,
            core.board.name,
            core.board.target,
            if core.board.has_fpu {
                "hardware"
            } else {
                "software"
            },
            core.per_sample,
            core.per_mac,
            ratio(core.per_mac, |c| c.per_mac),
            core.demo_per_sample,
            ratio(core.demo_per_sample as f64, |c| c.demo_per_sample as f64),
            f.text + f.rodata,
            f.data + f.bss,
            f.peak
        );
    }
}

/// A firmware's sections, its peak stack and the count per training sample it logs, in bytes
/// and instructions.
struct Footprint {
    text: usize,
    rodata: usize,
    data: usize,
    bss: usize,
    vectors: usize,
    data_set: usize,
    peak: usize,
    per_sample: u64,
}

impl Footprint {
    /// The table's rows: flash with and without the data set, RAM with the stack.
    fn rows(&self) -> [(&'static str, usize); 7] {
        let flash = self.text + self.rodata;
        let ram = self.data + self.bss;
        [
            ("flash: .text + .rodata", flash),
            ("of which the data set", self.data_set),
            ("flash without the data set", flash - self.data_set),
            ("vector table (besides)", self.vectors),
            ("RAM: .data + .bss", ram),
            ("peak stack", self.peak),
            ("RAM in all", ram + self.peak),
        ]
    }
}

/// Builds `board`'s binary `bin`, runs it under QEMU for its peak stack and reads its sizes.
fn footprint(board: Board, bin: &str) -> Result<Footprint, Error> {
    let elf = board.build(bin)?;
    println!(
        "running {} on QEMU {} for its peak stack",
        elf.display(),
        board.name
    );
    let mut peak = 0;
    let mut per_sample = 0;
    let code = board.run(&elf, crate::qemu::DEFAULT_TIMEOUT, |line| {
        peak = peak.max(peak_stack(line).unwrap_or(0));
        per_sample = per_sample.max(training_per_sample(line).unwrap_or(0));
    })?;
    expect_success(&elf, code)?;
    let file = Elf::read(&elf)?;
    let section = |name| file.section_size(name).map(|size| size as usize);
    let symbol = |name| {
        file.symbol(name)
            .map(|s| s.map_or(0, |symbol| symbol.size as usize))
    };
    Ok(Footprint {
        text: section(".text")?,
        rodata: section(".rodata")?,
        data: section(".data")?,
        bss: section(".bss")?,
        vectors: section(".vector_table")?,
        data_set: symbol("tinytrain_demo::data::INPUTS")?
            + symbol("tinytrain_demo::data::TARGETS")?,
        peak,
        per_sample,
    })
}

fn missing(elf: &Path, what: &str) -> Error {
    Error::Failed {
        command: format!("cargo xtask qemu-run {}", elf.display()),
        reason: format!("the firmware printed no {what}"),
    }
}

/// Profiles host training with pprof (the `flame` example of `tinytrain-bench`): writes a flame
/// graph per network to `target/flame/` and prints the share of samples per part of the core.
pub fn flame() -> Result<(), Error> {
    cmd::run(workspace::cargo().args([
        "run",
        "--release",
        "-p",
        "tinytrain-bench",
        "--features",
        "flame",
        "--example",
        "flame",
    ]))
}

/// Runs criterion with dfdx beside tinytrain, then prints the medians and ratios.
pub fn host() -> Result<(), Error> {
    cmd::run(workspace::cargo().args([
        "bench",
        "-p",
        "tinytrain-bench",
        "--features",
        "peer",
        "--bench",
        "train",
    ]))?;
    let dir = criterion_dir();
    let rate = |group: &str, id: &str, net: &str| throughput(&dir, group, id, net);
    println!();
    println!(
        "| training, samples/s | tinytrain | tinytrain, fixed-size API | dfdx 0.13 | tinytrain / dfdx \
         | fixed / run-time | tinytrain, one sample at a time |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for net in NETWORKS {
        let ours = rate("train", "tinytrain-runtime", net)?;
        let fixed = rate("train", "tinytrain-fixed", net)?;
        let peer = rate("train", "dfdx", net)?;
        let single = rate("train", "tinytrain-per-sample", net)?;
        println!(
            "| {net} | {} | {} | {} | {:.2}x | {:.2} | {} |",
            human(ours),
            human(fixed),
            human(peer),
            ours / peer,
            fixed / ours,
            human(single)
        );
    }
    println!();
    println!("| inference, samples/s | tinytrain, 16 at once | tinytrain, one at a time | dfdx 0.13 | tinytrain / dfdx |");
    println!("| --- | --- | --- | --- | --- |");
    for net in NETWORKS {
        let ours = rate("predict", "tinytrain", net)?;
        let single = rate("predict", "tinytrain-per-sample", net)?;
        let peer = rate("predict", "dfdx", net)?;
        println!(
            "| {net} | {} | {} | {} | {:.2}x |",
            human(ours),
            human(single),
            human(peer),
            ours / peer
        );
    }
    Ok(())
}

pub(crate) fn expect_success(elf: &Path, code: i32) -> Result<(), Error> {
    match code {
        0 => Ok(()),
        code => Err(Error::Failed {
            command: format!("cargo xtask qemu-run {}", elf.display()),
            reason: format!("the firmware exited with {code}"),
        }),
    }
}

/// A device benchmark row's instructions per sample and per MAC, for `network` trained
/// `chunk` samples at once: `| 1-16-16-1 | 4 | 1922 | 640 | 3.00 |`.
fn bench_row(line: &str, network: &str, chunk: &str) -> Option<(u64, f64)> {
    let cells: Vec<&str> = line.split('|').map(str::trim).collect();
    match cells.as_slice() {
        ["", net, c, per_sample, _, per_mac, ""] if *net == network && *c == chunk => {
            Some((per_sample.parse().ok()?, per_mac.parse().ok()?))
        }
        _ => None,
    }
}

/// The count per training sample a demo log line reports: `cost: training ran 76987000
/// instructions for 17248 samples (112 epochs): 4464 instructions per training sample (…)`.
fn training_per_sample(line: &str) -> Option<u64> {
    let rest = line.strip_prefix("cost: training ran ")?;
    rest.split("): ").nth(1)?.split(' ').next()?.parse().ok()
}

/// The peak stack a demo log line reports: `cost: peak stack 3260 B (of …)`.
fn peak_stack(line: &str) -> Option<usize> {
    line.strip_prefix("cost: peak stack ")?
        .split(' ')
        .next()?
        .parse()
        .ok()
}

/// Samples per second from criterion's median time of one iteration (16 samples).
fn throughput(dir: &Path, group: &str, id: &str, net: &str) -> Result<f64, Error> {
    let path = dir
        .join(group)
        .join(id)
        .join(net)
        .join("new/estimates.json");
    let missing = |reason: String| Error::Failed {
        command: format!("reading {}", path.display()),
        reason,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| missing(e.to_string()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| missing(e.to_string()))?;
    let nanos = json["median"]["point_estimate"]
        .as_f64()
        .ok_or_else(|| missing("no median".into()))?;
    Ok(BATCH * 1e9 / nanos)
}

/// A rate with three significant digits: `9.02 M`, `963 k`.
fn human(rate: f64) -> String {
    let (value, unit) = match rate {
        r if r >= 1e6 => (r / 1e6, " M"),
        r if r >= 1e3 => (r / 1e3, " k"),
        r => (r, ""),
    };
    let decimals = match value {
        v if v >= 100.0 => 0,
        v if v >= 10.0 => 1,
        _ => 2,
    };
    format!("{value:.decimals$}{unit}")
}

/// Where criterion keeps its results.
fn criterion_dir() -> PathBuf {
    workspace::target_dir().join("criterion")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_read_from_tool_output() {
        assert_eq!(
            peak_stack("cost: peak stack 3260 B (of 4173312 B)"),
            Some(3260)
        );
        assert_eq!(peak_stack("cost: data set: 256 samples"), None);
        let cost = "cost: training ran 76987000 instructions for 17248 samples (112 epochs): \
                    4464 instructions per training sample (forward, backward, update)";
        assert_eq!(training_per_sample(cost), Some(4464));
        assert_eq!(training_per_sample("cost: peak stack 3260 B"), None);
        let row = "| 1-16-16-1 | 4 | 1922 | 640 | 3.00 |";
        assert_eq!(bench_row(row, "1-16-16-1", "4"), Some((1922, 3.0)));
        assert_eq!(bench_row(row, "1-16-16-1", "1"), None);
        assert_eq!(
            bench_row("| --- | --- | --- | --- | --- |", "1-16-16-1", "4"),
            None
        );
    }

    #[test]
    fn rates_read_well() {
        assert_eq!(human(9_023_000.0), "9.02 M");
        assert_eq!(human(963_400.0), "963 k");
        assert_eq!(human(42.0), "42.0");
    }
}
