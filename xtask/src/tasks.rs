//! The two commands of the README.

use std::path::Path;
use std::process::ExitCode;
use xtask::firmware::{self, BOARDS, MINIMAL, MPS2_AN386};
use xtask::setup::{self, TARGETS};
use xtask::{cmd, qemu, symbols, tools, Error};

/// The main job: set up, build the firmware, run it on the emulated board, stream its log.
pub fn demo() -> Result<ExitCode, Error> {
    setup::all()?;
    let elf = MPS2_AN386.build()?;
    println!("running {} on QEMU {}", elf.display(), qemu::MACHINE);
    let code = qemu::run(&elf, qemu::DEFAULT_TIMEOUT, |line| println!("{line}"))?;
    if code != 0 {
        eprintln!("the firmware exited with {code}: the demo failed (see its log above)");
    }
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}

/// Every check. The workspace's tests run last, so cargo test's summary closes the log.
pub fn test() -> Result<ExitCode, Error> {
    setup::all()?;
    cmd::run(firmware::root_cargo().args(["fmt", "--all", "--check"]))?;
    cmd::run(firmware::cargo("fmt").args(["--all", "--check"]))?;
    cmd::run(firmware::root_cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The host profiler's example, behind its feature (`cargo xtask bench flame`).
    cmd::run(firmware::root_cargo().args([
        "clippy",
        "-p",
        "tinytrain-bench",
        "--features",
        "flame",
        "--examples",
        "--",
        "-D",
        "warnings",
    ]))?;
    for board in BOARDS {
        cmd::run(
            board
                .cargo("clippy")
                .args(["--all-targets", "--", "-D", "warnings"]),
        )?;
    }
    for target in TARGETS {
        cmd::run(
            firmware::root_cargo()
                .args(["check", "-p", "tinytrain-core", "-p", "tinytrain-demo"])
                .args(["--target", target]),
        )?;
    }
    for board in BOARDS {
        let elf = board.build()?;
        size(&elf)?;
        no_panicking_path(&elf)?;
    }
    run_on_qemu(&MPS2_AN386.elf())?;
    // The least firmware that trains: it exits with 0 only if the network learned the curve.
    let minimal = MINIMAL.build()?;
    no_panicking_path(&minimal)?;
    run_on_qemu(&minimal)?;
    for test in MPS2_AN386.build_tests()? {
        run_on_qemu(&test)?;
    }
    // The fuzz targets' checks, on fixed inputs (fuzzing itself needs nightly: see fuzz/).
    cmd::run(firmware::root_cargo().args(["test", "--manifest-path", "fuzz/Cargo.toml"]))?;
    cmd::run(firmware::root_cargo().args(["test", "--workspace"]))?;
    Ok(ExitCode::SUCCESS)
}

/// Runs a firmware ELF under QEMU, streaming its log; it must exit with 0.
fn run_on_qemu(elf: &Path) -> Result<(), Error> {
    println!("$ cargo xtask qemu-run {}", elf.display());
    match qemu::run(elf, qemu::DEFAULT_TIMEOUT, |line| println!("{line}"))? {
        0 => Ok(()),
        code => Err(Error::Failed {
            command: format!("cargo xtask qemu-run {}", elf.display()),
            reason: format!("the firmware exited with {code}"),
        }),
    }
}

/// Fails if the firmware can panic from the core's or the demo's code (inlined anywhere): both
/// promise typed errors on every input.
fn no_panicking_path(elf: &Path) -> Result<(), Error> {
    let calls = symbols::panicking_calls(elf)?;
    println!(
        "{}: {} panicking calls from the core or the demo",
        elf.display(),
        calls.len()
    );
    match calls.first() {
        None => Ok(()),
        Some(chain) => Err(Error::Failed {
            command: format!("arm-none-eabi-objdump -d {}", elf.display()),
            reason: format!(
                "{} calls to a panicking function come from the core or the demo; the first \
                 one, innermost function first: {}",
                calls.len(),
                chain.join(" <- ")
            ),
        }),
    }
}

/// Prints flash and RAM use of an ELF (`text`+`data` in flash, `data`+`bss` in RAM).
fn size(elf: &Path) -> Result<(), Error> {
    cmd::run(tools::command("arm-none-eabi-size")?.arg(elf))
}
