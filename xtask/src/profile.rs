//! `cargo xtask bench profile`: where the instructions of a training step go, by function, on
//! the emulated Cortex-M4F.
//!
//! The firmware's `profile` binary trains each benchmark network a few mini-batches between two
//! marker functions. QEMU writes every executed instruction's address to a trace; the
//! instructions between the marks are counted per address, and each address is named by its
//! chain of inlined functions (the ELF's debug information, [`Elf::chains`]): the innermost one
//! that is a part
//! of [`PARTS`] takes it, the rest is [`REST`].

use crate::bench::{expect_success, NETWORKS};
use crate::cmd::Error;
use crate::firmware::{self, MPS2_AN386, PROFILE};
use crate::symbols::Elf;
use crate::{qemu, setup, tools};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// The parts a training step is counted in: a core function and what it does.
pub const PARTS: [(&str, &str); 4] = [
    ("tinytrain_core::dense::forward", "forward pass, with ReLU"),
    (
        "tinytrain_core::dense::accumulate",
        "weight and bias gradients",
    ),
    (
        "tinytrain_core::dense::backprop",
        "errors, with the ReLU mask",
    ),
    (
        "tinytrain_core::optim::Optimizer::update",
        "update, with the gradients' norm and reset",
    ),
];
/// Everything else: the samples' lookup and scaling, the loss, the walk over the layers.
pub const REST: &str = "samples, scaling, loss, layer walk";

/// The marker functions around the profiled work.
const START: &str = "tinytrain_firmware::bench::profile_start";
const STOP: &str = "tinytrain_firmware::bench::profile_stop";

/// Builds and traces the profiling firmware, then prints instructions per training sample by
/// part for every network.
pub fn profile() -> Result<(), Error> {
    setup::all()?;
    let board = MPS2_AN386;
    let elf = board.build(PROFILE)?;
    let file = Elf::read(&elf)?;
    let marks = [START, STOP].map(|name| file.symbol(name));
    let [Ok(Some(start)), Ok(Some(stop))] = marks.map(|m| m.map(|s| s.map(|s| s.address))) else {
        return Err(missing(&elf, "the profile's marker functions"));
    };
    let trace = firmware::dir().join("target").join("profile.trace");
    let machine = board.machine()?;
    println!("tracing {} on QEMU {} (slow)", elf.display(), machine.name);
    let mut samples = Vec::new();
    let mut macs = Vec::new();
    let program = tools::command(machine.program)?;
    let code = qemu::trace(
        program,
        &machine,
        &elf,
        &trace,
        qemu::DEFAULT_TIMEOUT,
        |line| {
            if let Some((s, m)) = profiled(line) {
                samples.push(s);
                macs.push(m);
            }
        },
    )?;
    expect_success(&elf, code)?;
    let segments = count(&trace, start, stop);
    let _ = std::fs::remove_file(&trace);
    let segments = segments?;
    if segments.len() != NETWORKS.len() || samples.len() != NETWORKS.len() {
        return Err(missing(&elf, "one profiled segment per network"));
    }
    let names = parts(&file, segments.iter().flat_map(HashMap::keys))?;
    print_table(&segments, &names, &samples, &macs);
    Ok(())
}

/// The table: instructions per training sample by part, one column per network.
fn print_table(
    segments: &[HashMap<u32, u64>],
    names: &HashMap<u32, usize>,
    samples: &[u64],
    macs: &[u64],
) {
    let mut rows = vec![[0u64; NETWORKS.len()]; PARTS.len() + 1];
    for (column, segment) in segments.iter().enumerate() {
        for (address, count) in segment {
            let part = names.get(address).copied().unwrap_or(PARTS.len());
            if let Some(cell) = rows.get_mut(part).and_then(|row| row.get_mut(column)) {
                *cell += count;
            }
        }
    }
    println!();
    println!(
        "| instructions per training sample, 4 at once | {} |",
        NETWORKS.join(" | ")
    );
    println!("| --- |{}", " --- |".repeat(NETWORKS.len()));
    let labels = PARTS.iter().map(|(function, what)| {
        let short = function.trim_start_matches("tinytrain_core::");
        format!("{what} (`{short}`)")
    });
    let per_sample = |counts: &[u64]| -> Vec<String> {
        let pairs = counts.iter().zip(samples);
        pairs.map(|(n, s)| (n / s.max(&1)).to_string()).collect()
    };
    for (label, row) in labels.chain([REST.to_owned()]).zip(&rows) {
        print_row(&label, &per_sample(row));
    }
    let totals: Vec<u64> = (0..NETWORKS.len())
        .map(|c| rows.iter().filter_map(|row| row.get(c)).sum())
        .collect();
    print_row("in all", &per_sample(&totals));
    print_row(
        "MACs per sample",
        &macs.iter().map(u64::to_string).collect::<Vec<_>>(),
    );
    let per_mac = totals.iter().zip(samples.iter().zip(macs));
    let per_mac: Vec<String> = per_mac
        .map(|(n, (s, m))| format!("{:.2}", *n as f64 / (*s * *m).max(1) as f64))
        .collect();
    print_row("instructions per MAC", &per_mac);
}

/// One Markdown table row.
fn print_row(label: &str, cells: &[String]) {
    println!("| {label} | {} |", cells.join(" | "));
}

/// Counts, per address, the instructions executed between each execution of `start` and the
/// next of `stop`: one map per profiled segment.
fn count(trace: &Path, start: u32, stop: u32) -> Result<Vec<HashMap<u32, u64>>, Error> {
    let file = std::fs::File::open(trace).map_err(|e| failed(trace, e))?;
    let mut segments = Vec::new();
    let mut current: Option<HashMap<u32, u64>> = None;
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| failed(trace, e))?;
        let Some(address) = traced_address(&line) else {
            continue;
        };
        if address == start {
            current = Some(HashMap::new());
        } else if address == stop {
            segments.extend(current.take());
        } else if let Some(counts) = current.as_mut() {
            *counts.entry(address).or_default() += 1;
        }
    }
    Ok(segments)
}

/// The address of one traced instruction: `Trace 0: 0x… [00800408/000035ac/00000110/…] name`.
fn traced_address(line: &str) -> Option<u32> {
    let fields = line.split_once('[')?.1;
    let address = fields.split('/').nth(1)?;
    u32::from_str_radix(address, 16).ok()
}

/// Each address's part (an index into [`PARTS`]; none for the rest): the innermost function of
/// its chain of inlined functions that is one of them.
fn parts<'a>(
    elf: &Elf,
    addresses: impl Iterator<Item = &'a u32>,
) -> Result<HashMap<u32, usize>, Error> {
    let chains = elf.chains(addresses.copied())?;
    let parts = chains.into_iter().filter_map(|(address, chain)| {
        let part = chain.iter().find_map(|function| part_of(function))?;
        Some((address, part))
    });
    Ok(parts.collect())
}

/// The part a function belongs to: its path is one of [`PARTS`], with or without generics.
fn part_of(function: &str) -> Option<usize> {
    PARTS.iter().position(|(path, _)| {
        function
            .strip_prefix(path)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('<'))
    })
}

/// What the profile firmware logs after each network: `profiled [1, 16, 16, 1]: 64 samples,
/// 868 MACs each`.
fn profiled(line: &str) -> Option<(u64, u64)> {
    let counts = line.strip_prefix("profiled ")?.split_once("]: ")?.1;
    let (samples, rest) = counts.split_once(" samples, ")?;
    let macs = rest.strip_suffix(" MACs each")?;
    Some((samples.parse().ok()?, macs.parse().ok()?))
}

fn failed(what: &Path, e: std::io::Error) -> Error {
    Error::Failed {
        command: format!("read {}", what.display()),
        reason: e.to_string(),
    }
}

fn missing(elf: &Path, what: &str) -> Error {
    Error::Failed {
        command: format!("cargo xtask bench profile ({})", elf.display()),
        reason: format!("no {what} found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trace_line_gives_its_address() {
        let line =
            "Trace 0: 0x7f44b8000240 [00800408/00009aae/00000110/ff020201] __defmt_timestamp";
        assert_eq!(traced_address(line), Some(0x9aae));
        assert_eq!(traced_address("Linking TBs"), None);
    }

    #[test]
    fn a_function_is_in_the_part_of_its_path_not_of_a_longer_name() {
        assert_eq!(part_of("tinytrain_core::dense::forward<4>"), Some(0));
        assert_eq!(part_of("tinytrain_core::dense::forward"), Some(0));
        assert_eq!(part_of("tinytrain_core::dense::forward_quads"), None);
        assert_eq!(
            part_of("tinytrain_core::trainer::Trainer<_>::accumulate"),
            None
        );
    }

    #[test]
    fn the_log_line_gives_samples_and_macs() {
        assert_eq!(
            profiled("profiled [1, 16, 16, 1]: 64 samples, 868 MACs each"),
            Some((64, 868))
        );
        assert_eq!(profiled("board: mps2-an386"), None);
    }
}
