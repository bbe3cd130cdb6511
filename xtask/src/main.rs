//! `cargo xtask <task>`: see `cargo xtask --help`.

mod tasks;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use xtask::{bench, profile, qemu, setup, Error};

/// tinytrain's project automation.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Install what is missing, build the firmware, run it on the emulated board (QEMU
    /// mps2-an386) and stream its log.
    Demo,
    /// Install what is missing (Rust targets; QEMU, binutils and flip-link into target/tools
    /// unless the machine has them) and say where each comes from.
    Setup,
    /// Install what is missing and run every check: fmt, clippy, docs, packaging, tests, no_std
    /// builds, every board's firmware, each emulated board's run under QEMU against the host,
    /// bit for bit, the firmware template, the Python package and the fleet on Flower.
    Test,
    /// Build the link firmware for the emulated board (QEMU mps2-an386) and print its path,
    /// for `tinytrain device train --elf PATH`; say which QEMU to pass as --qemu (for a QEMU
    /// fetched into target/tools, a launcher that sets its libraries: target/tools/bin).
    LinkFirmware,
    /// Build the Python package's wheel into a virtual environment in target/venv (with its
    /// test requirements) and run its tests.
    Python,
    /// The fleet on Flower (fleet/): install its pinned requirements beside the wheel in
    /// target/venv and run `python -m tinytrain_fleet ARGS` — `simulate` (50 devices on
    /// Flower's simulation engine, the default), `loopback` (a SuperLink and SuperNodes on
    /// 127.0.0.1), `report` (federated vs centralised vs each device alone); `--help` for each.
    /// With `--board`, device 0 is the emulated board (the link firmware and QEMU, built and
    /// installed on the way): `cargo xtask fleet --board`.
    Fleet {
        /// The command and its options (default: simulate).
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "ARGS"
        )]
        args: Vec<String>,
    },
    /// The figures of BENCHMARKS.md (device, size and host without a part).
    Bench {
        /// One part only.
        #[arg(value_enum)]
        part: Option<Part>,
    },
    /// Run a firmware ELF under QEMU, decode its defmt log and exit with the firmware's exit
    /// code (the firmware's cargo runner).
    QemuRun {
        /// Stop QEMU after this many seconds.
        #[arg(long, value_name = "S", default_value_t = qemu::DEFAULT_TIMEOUT.as_secs())]
        timeout: u64,
        /// The QEMU machine: mps2-an385, mps2-an386, mps2-an500, mps2-an505, microbit, virt.
        #[arg(long, value_name = "M", default_value = "mps2-an386", value_parser = machine)]
        machine: qemu::Machine,
        /// The firmware.
        elf: PathBuf,
    },
}

/// A part of `cargo xtask bench`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Part {
    /// Instructions per training sample and per MAC on the emulated Cortex-M4F.
    Device,
    /// Flash and RAM of the demo firmware and of the least one that trains.
    Size,
    /// Host throughput beside dfdx.
    Host,
    /// The same training on every core QEMU emulates: instructions per sample and per MAC,
    /// software floating point against the M4F, flash, RAM, stack.
    Cores,
    /// Instructions per training sample by function on the emulated Cortex-M4F, from a
    /// per-instruction trace (slow).
    Profile,
    /// A sampling profile of training on this PC: flame graphs in target/flame/.
    Flame,
    /// The link's tests, the 100,000-sample stream through the emulated board included (about
    /// 15 minutes).
    Link,
}

fn machine(name: &str) -> Result<qemu::Machine, String> {
    qemu::machine(name).ok_or_else(|| {
        let names: Vec<&str> = qemu::MACHINES.iter().map(|m| m.name).collect();
        format!("not one of {}", names.join(", "))
    })
}

fn main() -> ExitCode {
    let result = match Cli::parse().task {
        Task::Demo => tasks::demo(),
        Task::Test => tasks::test(),
        Task::Setup => setup::all().map(|()| ExitCode::SUCCESS),
        Task::Python => xtask::python::test().map(|()| ExitCode::SUCCESS),
        Task::LinkFirmware => link_firmware(),
        Task::Fleet { args } => xtask::fleet::run(&args).map(|()| ExitCode::SUCCESS),
        Task::Bench { part } => bench(part).map(|()| ExitCode::SUCCESS),
        Task::QemuRun {
            timeout,
            machine,
            elf,
        } => qemu_run(&machine, &elf, Duration::from_secs(timeout)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn bench(part: Option<Part>) -> Result<(), Error> {
    match part {
        None => bench::device()
            .and_then(|()| bench::size())
            .and_then(|()| bench::host()),
        Some(Part::Device) => bench::device(),
        Some(Part::Size) => bench::size(),
        Some(Part::Host) => bench::host(),
        Some(Part::Cores) => bench::cores(),
        Some(Part::Profile) => profile::profile(),
        Some(Part::Flame) => bench::flame(),
        Some(Part::Link) => setup::all().and_then(|()| {
            xtask::cmd::run(xtask::workspace::cargo().args([
                "test",
                "-p",
                "tinytrain-tests",
                "--test",
                "tests",
                "link::",
                "--",
                "--include-ignored",
            ]))
        }),
    }
}

/// `cargo xtask link-firmware`: the ELF's path on standard output (for `--elf "$(…)"`), and on
/// standard error the QEMU to pass as `--qemu`.
fn link_firmware() -> Result<ExitCode, Error> {
    setup::all()?;
    let elf = xtask::firmware::MPS2_AN386.build(xtask::firmware::LINK)?;
    let qemu = xtask::tools::tool("qemu-system-arm")?;
    let launcher = qemu.launcher(&xtask::tools::dir().join("bin"))?;
    println!("{}", elf.display());
    eprintln!(
        "tinytrain device train: --elf {} --qemu {}",
        elf.display(),
        launcher.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `elf` under QEMU, printing its log; exits as the firmware did.
fn qemu_run(machine: &qemu::Machine, elf: &Path, timeout: Duration) -> Result<ExitCode, Error> {
    let program = xtask::tools::command(machine.program)?;
    let code = qemu::run(program, machine, elf, timeout, |line| println!("{line}"))?;
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}
