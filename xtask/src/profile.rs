//! `cargo xtask bench profile`: where the instructions of a training step go, by function, on
//! the emulated Cortex-M4F.
//!
//! The firmware's `profile` binary trains each benchmark network a few mini-batches between two
//! marker functions. QEMU writes every executed instruction's address to a trace; the
//! instructions between the marks are counted per address, and each address is named by its
//! chain of inlined functions (`arm-none-eabi-addr2line -i`): the innermost one that is a part
//! of [`PARTS`] takes it, the rest is [`REST`].

use crate::bench::{expect_success, NETWORKS};
use crate::cmd::{self, Error};
use crate::firmware::{self, Board};
use crate::{qemu, setup};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// The firmware's profiling binary, on the emulated board.
pub const PROFILE: Board = Board {
    bin: "profile",
    feature: "qemu",
};

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
    let elf = PROFILE.build()?;
    let symbols = cmd::output(Command::new("arm-none-eabi-nm").arg("-C").arg(&elf))?;
    let marks = [START, STOP].map(|name| symbol_address(&symbols, name));
    let [Some(start), Some(stop)] = marks else {
        return Err(missing(&elf, "the profile's marker functions"));
    };
    let trace = firmware::dir().join("target").join("profile.trace");
    println!("tracing {} on QEMU {} (slow)", elf.display(), qemu::MACHINE);
    let mut samples = Vec::new();
    let mut macs = Vec::new();
    let code = qemu::trace(&elf, &trace, qemu::DEFAULT_TIMEOUT, |line| {
        if let Some((s, m)) = profiled(line) {
            samples.push(s);
            macs.push(m);
        }
    })?;
    expect_success(&elf, code)?;
    let segments = count(&trace, start, stop);
    let _ = std::fs::remove_file(&trace);
    let segments = segments?;
    if segments.len() != NETWORKS.len() || samples.len() != NETWORKS.len() {
        return Err(missing(&elf, "one profiled segment per network"));
    }
    let names = parts(&elf, segments.iter().flat_map(HashMap::keys))?;
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

/// Each address's part (an index into [`PARTS`]; none for the rest), from `addr2line`'s chains
/// of inlined functions.
fn parts<'a>(
    elf: &Path,
    addresses: impl Iterator<Item = &'a u32>,
) -> Result<HashMap<u32, usize>, Error> {
    let mut child = Command::new("arm-none-eabi-addr2line")
        .args(["-a", "-i", "-f", "-C", "-e"])
        .arg(elf)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| failed(Path::new("arm-none-eabi-addr2line"), e))?;
    let mut input: String = addresses.map(|a| format!("{a:#x}\n")).collect();
    if let Some(mut stdin) = child.stdin.take() {
        // Written on a thread: addr2line's output could fill its pipe before the input ends.
        let writer =
            std::thread::spawn(move || stdin.write_all(std::mem::take(&mut input).as_bytes()));
        let output = child.wait_with_output().map_err(|e| failed(elf, e))?;
        let _ = writer.join();
        return Ok(chains(&String::from_utf8_lossy(&output.stdout)));
    }
    Err(missing(elf, "addr2line's input"))
}

/// Parses `addr2line -a -i -f` output: an address line, then a function line and a location
/// line per inlined frame, innermost first.
fn chains(output: &str) -> HashMap<u32, usize> {
    let mut parts = HashMap::new();
    let mut address = None;
    let mut lines = output.lines();
    while let Some(line) = lines.next() {
        if let Some(hex) = line.strip_prefix("0x") {
            address = u32::from_str_radix(hex, 16).ok();
            continue;
        }
        let _location = lines.next();
        if let Some(at) = address {
            if let (false, Some(part)) = (parts.contains_key(&at), part_of(line)) {
                parts.insert(at, part);
            }
        }
    }
    parts
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

/// A symbol's address in `nm -C` output (`000035ac t name`), without the Thumb bit.
fn symbol_address(symbols: &str, name: &str) -> Option<u32> {
    symbols.lines().find_map(
        |line| match line.split_whitespace().collect::<Vec<_>>()[..] {
            [address, _, symbol] if symbol == name => {
                u32::from_str_radix(address, 16).ok().map(|a| a & !1)
            }
            _ => None,
        },
    )
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
    fn an_address_takes_the_innermost_part_of_its_inlining_chain() {
        let output = "0x000016b4\ntinytrain_core::dense::mul_add\n/core/src/dense.rs:460\n\
                      tinytrain_core::dense::forward_quads\n/core/src/dense.rs:79\n\
                      tinytrain_core::dense::forward<4>\n/core/src/dense.rs:48\n\
                      tinytrain_core::mlp::forward\n/core/src/mlp.rs:156\n\
                      0x000035b0\ntinytrain_core::trainer::Trainer<_>::accumulate\n\
                      /core/src/trainer.rs:398\n";
        let parts = chains(output);
        assert_eq!(
            parts.get(&0x16b4),
            Some(&0),
            "dense::forward, not forward_quads"
        );
        assert_eq!(parts.get(&0x35b0), None, "the rest");
    }

    #[test]
    fn the_log_line_gives_samples_and_macs() {
        assert_eq!(
            profiled("profiled [1, 16, 16, 1]: 64 samples, 868 MACs each"),
            Some((64, 868))
        );
        assert_eq!(profiled("board: mps2-an386"), None);
    }

    #[test]
    fn markers_are_found_without_the_thumb_bit() {
        let symbols = "000035ad t tinytrain_firmware::bench::profile_start\n00000400 T Reset\n";
        assert_eq!(symbol_address(symbols, START), Some(0x35ac));
        assert_eq!(symbol_address(symbols, STOP), None);
    }
}
