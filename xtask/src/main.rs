//! `cargo xtask <task>`: see [`USAGE`].

mod tasks;

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;
use xtask::{bench, profile, qemu, setup, Error};

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  demo                      install what is missing, build the firmware, run it on the
                            emulated board (QEMU mps2-an386) and stream its log
  setup                     install what is missing (Rust targets; QEMU, binutils and
                            flip-link into target/tools unless the machine has them) and
                            say where each comes from
  test                      install what is missing and run every check: fmt, clippy, tests,
                            no_std builds, every board's firmware, each emulated board's
                            run under QEMU against the host, bit for bit
  python                    build the Python package's wheel into a virtual environment in
                            target/venv (with its test requirements) and run its tests
  bench [device|size|host]  the figures of BENCHMARKS.md: instructions per training sample
                            and per MAC on the emulated Cortex-M4F, the flash and RAM of the
                            demo firmware and of the least one that trains, host throughput
                            beside dfdx; all three without argument
  bench cores               the same training on every core QEMU emulates (Cortex-M0, M3,
                            M4F, M7, M33, RISC-V rv32imc): instructions per sample and per
                            MAC, software floating point against the M4F, flash, RAM, stack
  bench profile             instructions per training sample by function on the emulated
                            Cortex-M4F, from a per-instruction trace (slow)
  bench flame               a sampling profile of training on this PC: flame graphs in
                            target/flame/ and the time per part of the core
  qemu-run [--timeout S] [--machine M] ELF
                            run a firmware ELF under QEMU (machine mps2-an386 unless told:
                            mps2-an385, mps2-an500, mps2-an505, microbit, virt), decode its
                            defmt log, exit with the firmware's exit code (the firmware's
                            cargo runner)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["demo"] => tasks::demo(),
        ["test"] => tasks::test(),
        ["setup"] => setup::all().map(|()| ExitCode::SUCCESS),
        ["python"] => xtask::python::test().map(|()| ExitCode::SUCCESS),
        ["bench"] => bench::device()
            .and_then(|()| bench::size())
            .and_then(|()| bench::host())
            .map(|()| ExitCode::SUCCESS),
        ["bench", "device"] => bench::device().map(|()| ExitCode::SUCCESS),
        ["bench", "size"] => bench::size().map(|()| ExitCode::SUCCESS),
        ["bench", "cores"] => bench::cores().map(|()| ExitCode::SUCCESS),
        ["bench", "host"] => bench::host().map(|()| ExitCode::SUCCESS),
        ["bench", "profile"] => profile::profile().map(|()| ExitCode::SUCCESS),
        ["bench", "flame"] => bench::flame().map(|()| ExitCode::SUCCESS),
        ["qemu-run", rest @ ..] => match qemu_options(rest) {
            Some((timeout, machine, elf)) => qemu_run(&machine, Path::new(elf), timeout),
            None => return usage(),
        },
        _ => return usage(),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("{USAGE}");
    ExitCode::from(2)
}

/// `qemu-run`'s options: `[--timeout S] [--machine M] ELF`, in any order before the ELF.
fn qemu_options<'a>(mut args: &[&'a str]) -> Option<(Duration, qemu::Machine, &'a str)> {
    let mut timeout = qemu::DEFAULT_TIMEOUT;
    let mut machine = qemu::MPS2_AN386;
    loop {
        match args {
            ["--timeout", secs, rest @ ..] => {
                timeout = Duration::from_secs(secs.parse().ok()?);
                args = rest;
            }
            ["--machine", name, rest @ ..] => {
                machine = qemu::machine(name)?;
                args = rest;
            }
            [elf] if !elf.starts_with("--") => return Some((timeout, machine, elf)),
            _ => return None,
        }
    }
}

/// Runs `elf` under QEMU, printing its log; exits as the firmware did.
fn qemu_run(machine: &qemu::Machine, elf: &Path, timeout: Duration) -> Result<ExitCode, Error> {
    let code = qemu::run(machine, elf, timeout, |line| println!("{line}"))?;
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}
