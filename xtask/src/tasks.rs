//! The two commands of the README.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use xtask::firmware::{self, Board, BOARDS, CLASSIFY, DEMO, LINK, MINIMAL, MPS2_AN386, STREAM};
use xtask::setup::{self, TARGETS};
use xtask::{cmd, fleet, python, qemu, symbols, template, tools, workspace, Error};

/// The environment variable that names the board the firmware test runs on.
const BOARD_VARIABLE: &str = "TINYTRAIN_BOARD";

/// The main job: set up, build the firmware, run it on the emulated board, stream its log.
pub fn demo() -> Result<ExitCode, Error> {
    setup::all()?;
    let board = MPS2_AN386;
    let elf = board.build(DEMO)?;
    println!("running {} on QEMU {}", elf.display(), board.name);
    let code = board.run(&elf, qemu::DEFAULT_TIMEOUT, |line| println!("{line}"))?;
    if code != 0 {
        eprintln!("the firmware exited with {code}: the demo failed (see its log above)");
        return Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)));
    }
    your_csv_on_the_device(DEMO_CSV)?;
    Ok(ExitCode::SUCCESS)
}

/// The CSV the demo streams to the device: the committed noisy sine.
const DEMO_CSV: &str = "host-sim/tests/data/sine.csv";

/// The demo's second part: a CSV file's rows, streamed over the emulated board's UART to the
/// link firmware, which learns from them as they arrive and sends the model back
/// (`tinytrain device train`).
fn your_csv_on_the_device(csv: &str) -> Result<(), Error> {
    println!();
    println!("your CSV, learned on the device: {csv} streamed row by row to the link firmware");
    let elf = MPS2_AN386.build(LINK)?;
    let qemu = tools::tool("qemu-system-arm")?;
    let mut cli = workspace::cargo();
    cli.args([
        "run",
        "--release",
        "--quiet",
        "-p",
        "tinytrain-host-sim",
        "--",
    ])
    .args(["device", "train", "--data", csv, "--layers", "1,16,16,1"])
    .args(["--optimizer", "adam", "--replay", "64", "--every", "2"])
    .arg("--elf")
    .arg(&elf)
    .arg("--qemu")
    .arg(&qemu.path)
    .args(["--model", "target/demo-device.ttm"]);
    // The fetched QEMU's libraries.
    for (key, value) in qemu.command().get_envs() {
        if let Some(value) = value {
            cli.env(key, value);
        }
    }
    cmd::run(&mut cli)
}

/// Every check. The workspace's tests run last, so cargo test's summary closes the log.
pub fn test() -> Result<ExitCode, Error> {
    setup::all()?;
    cmd::run(workspace::cargo().args(["fmt", "--all", "--check"]))?;
    cmd::run(firmware::cargo("fmt").args(["--all", "--check"]))?;
    cmd::run(workspace::cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The host profiler's example, behind its feature (`cargo xtask bench flame`).
    cmd::run(workspace::cargo().args([
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
    docs()?;
    packages()?;
    // Each board's code once (the MPS2 boards share theirs).
    for board in BOARDS.iter().filter(|b| is_first_of_its_feature(b)) {
        cmd::run(
            board
                .cargo("clippy")
                .args(["--all-targets", "--", "-D", "warnings"]),
        )?;
    }
    for target in TARGETS {
        cmd::run(
            workspace::cargo()
                .args(["check", "-p", "tinytrain-core", "-p", "tinytrain-demo"])
                .args(["-p", "tinytrain-wire"])
                .args(["--target", target]),
        )?;
    }
    let mut times = Vec::new();
    for board in BOARDS {
        let start = Instant::now();
        check_board(board)?;
        times.push((board, start.elapsed()));
    }
    // The least firmware that trains: it exits with 0 only if the network learned the curve.
    let minimal = MPS2_AN386.build(MINIMAL)?;
    no_panicking_path(MPS2_AN386, &minimal)?;
    run_on_qemu(MPS2_AN386, &minimal)?;
    // The classification demo: the workspace's test `classify::` runs it against the host.
    let classify = MPS2_AN386.build(CLASSIFY)?;
    no_panicking_path(MPS2_AN386, &classify)?;
    for test in MPS2_AN386.build_tests()? {
        run_on_qemu(MPS2_AN386, &test)?;
    }
    // The link firmware on the boards with a serial port; the workspace's tests run it.
    let start = Instant::now();
    for board in [MPS2_AN386, firmware::NRF52840_DK] {
        let link = board.build(LINK)?;
        print_size(&link)?;
        no_panicking_path(board, &link)?;
    }
    let link_time = start.elapsed();
    // The core's examples, each of which fails unless its network learned.
    for example in ["host", "static_storage"] {
        cmd::run(workspace::cargo().args(["run", "-p", "tinytrain-core", "--example", example]))?;
    }
    let start = Instant::now();
    template::check()?;
    let template_time = start.elapsed();
    // The fuzz targets' checks, on fixed inputs (fuzzing itself needs nightly: see fuzz/).
    cmd::run(workspace::cargo().args(["test", "--manifest-path", "fuzz/Cargo.toml"]))?;
    print_times(&times);
    println!(
        "the firmware template, copied, checked for the nRF52840, built and run for QEMU: {:.0} s",
        template_time.as_secs_f64()
    );
    println!(
        "the link firmware, built for QEMU mps2-an386 and the nRF52840-DK, checked: {:.0} s",
        link_time.as_secs_f64()
    );
    // The Python package: wheel, virtual environment in target/, pytest.
    let start = Instant::now();
    python::test()?;
    println!(
        "python package (wheel, environment, pytest): {:.0} s",
        start.elapsed().as_secs_f64()
    );
    // The fleet on Flower, in the same environment: a small federation simulated, faulty
    // devices, a deployment on the loopback interface.
    let start = Instant::now();
    fleet::test_in(&python::venv_dir())?;
    println!(
        "fleet on Flower (requirements, pytest): {:.0} s",
        start.elapsed().as_secs_f64()
    );
    cmd::run(workspace::cargo().args(["test", "--workspace"]))?;
    Ok(ExitCode::SUCCESS)
}

/// The crates published on crates.io: they package and build from their `.crate` files alone.
const PUBLISHED: [&str; 2] = ["tinytrain-core", "tinytrain-wire"];

/// `cargo doc` without a warning: the published crates with every feature (as docs.rs builds
/// them), the rest as they build.
fn docs() -> Result<(), Error> {
    let mut published = workspace::cargo();
    published.args(["doc", "--no-deps", "--all-features"]);
    let mut rest = workspace::cargo();
    rest.args(["doc", "--no-deps", "--workspace"]);
    for name in PUBLISHED {
        published.args(["-p", name]);
        rest.args(["--exclude", name]);
    }
    for command in [&mut published, &mut rest] {
        cmd::run(command.env("RUSTDOCFLAGS", "-D warnings"))?;
    }
    Ok(())
}

/// `cargo publish --dry-run` of the published crates, which must not warn (the one warning a dry
/// run always gives, that it does not upload, aside). Uncommitted changes are packaged too.
fn packages() -> Result<(), Error> {
    forget_packaged_sources()?;
    let mut publish = workspace::cargo();
    publish.args(["publish", "--dry-run", "--allow-dirty"]);
    for name in PUBLISHED {
        publish.args(["-p", name]);
    }
    let log = cmd::errors(&mut publish)?;
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("warning:") && !l.contains("aborting upload due to dry run"))
        .collect();
    if warnings.is_empty() {
        return Ok(());
    }
    Err(Error::Failed {
        command: cmd::line(&publish),
        reason: format!("it warns:\n{}", warnings.join("\n")),
    })
}

/// Removes the sources of the published crates that an earlier dry run left unpacked in Cargo's
/// home. A multi-package dry run verifies each crate against a local registry of the packages
/// just made (under `target/package`), and Cargo unpacks those into
/// `$CARGO_HOME/registry/src/-<hash of that path>/<name>-<version>` — but only when that
/// directory is missing: a later dry run from the same path, with the same version and changed
/// code, built the dependent crates against the earlier run's code. Only directories of local
/// registries (their names start with `-`) holding our own crates are removed; Cargo unpacks
/// them again from the fresh packages.
fn forget_packaged_sources() -> Result<(), Error> {
    let home = match std::env::var_os("CARGO_HOME") {
        Some(home) => PathBuf::from(home),
        None => match std::env::var_os("HOME") {
            Some(home) => PathBuf::from(home).join(".cargo"),
            None => return Ok(()),
        },
    };
    forget_packaged_sources_in(&home)
}

/// [`forget_packaged_sources`] in the Cargo home `home`.
fn forget_packaged_sources_in(home: &Path) -> Result<(), Error> {
    let Ok(registries) = std::fs::read_dir(home.join("registry").join("src")) else {
        return Ok(());
    };
    for registry in registries.flatten() {
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        let Ok(sources) = std::fs::read_dir(registry.path()) else {
            continue;
        };
        for source in sources.flatten() {
            let name = source.file_name().to_string_lossy().into_owned();
            let ours = PUBLISHED
                .iter()
                .any(|crate_name| name.starts_with(&format!("{crate_name}-")));
            if ours {
                std::fs::remove_dir_all(source.path()).map_err(|e| Error::Failed {
                    command: format!("remove {}", source.path().display()),
                    reason: e.to_string(),
                })?;
            }
        }
    }
    Ok(())
}

/// Whether `board` is the first of [`BOARDS`] with its feature (and so its code).
fn is_first_of_its_feature(board: &Board) -> bool {
    BOARDS.iter().find(|b| b.feature == board.feature) == Some(board)
}

/// Builds the board's demo and stream story (unless an earlier board built the same), prints
/// their sizes, checks they have no panicking path and, on an emulated board, that the demo
/// tells the host's story bit for bit (the workspace's firmware test, run on this board; the
/// stream story's runs on the Cortex-M4F with the workspace's tests).
fn check_board(board: Board) -> Result<(), Error> {
    println!("== {} ({})", board.name, board.core);
    let built_before = BOARDS
        .iter()
        .take_while(|b| **b != board)
        .any(|b| b.target == board.target && b.feature == board.feature);
    if !built_before {
        for bin in [DEMO, STREAM] {
            let elf = board.build(bin)?;
            print_size(&elf)?;
            no_panicking_path(board, &elf)?;
        }
    }
    if board.machine.is_none() {
        println!("{} is a real board: built and checked, not run", board.name);
        return Ok(());
    }
    cmd::run(
        workspace::cargo()
            .args([
                "test",
                "-p",
                "tinytrain-tests",
                "--test",
                "tests",
                "firmware::",
            ])
            .env(BOARD_VARIABLE, board.name),
    )
}

/// The flash (`.vector_table`, `.text`, `.rodata`) and static RAM (`.data`, `.bss`) of `elf`.
fn print_size(elf: &Path) -> Result<(), Error> {
    let file = symbols::Elf::read(elf)?;
    let size = |names: &[&str]| -> Result<u64, Error> {
        names.iter().map(|name| file.section_size(name)).sum()
    };
    println!(
        "{}: {} B of flash, {} B of static RAM",
        elf.display(),
        size(&[".vector_table", ".text", ".rodata", ".data"])?,
        size(&[".data", ".bss"])?
    );
    Ok(())
}

/// The time each board's checks took.
fn print_times(times: &[(Board, Duration)]) {
    println!();
    println!("| board | core | build, checks and run (s) |");
    println!("| --- | --- | --- |");
    for (board, time) in times {
        println!(
            "| {} | {} | {:.0} |",
            board.name,
            board.core,
            time.as_secs_f64()
        );
    }
}

/// Runs a firmware ELF on the board's QEMU machine, streaming its log; it must exit with 0.
fn run_on_qemu(board: Board, elf: &Path) -> Result<(), Error> {
    println!(
        "$ cargo xtask qemu-run --machine {} {}",
        board.name,
        elf.display()
    );
    match board.run(elf, qemu::DEFAULT_TIMEOUT, |line| println!("{line}"))? {
        0 => Ok(()),
        code => Err(Error::Failed {
            command: format!("cargo xtask qemu-run {}", elf.display()),
            reason: format!("the firmware exited with {code}"),
        }),
    }
}

/// Fails if the firmware can panic from the core's or the demo's code (inlined anywhere): both
/// promise typed errors on every input.
fn no_panicking_path(board: Board, elf: &Path) -> Result<(), Error> {
    let calls = symbols::panicking_calls(board.binutils(), elf)?;
    println!(
        "{}: {} panicking calls from the core or the demo",
        elf.display(),
        calls.len()
    );
    match calls.first() {
        None => Ok(()),
        Some(chain) => Err(Error::Failed {
            command: format!("{}objdump -d {}", board.binutils().prefix, elf.display()),
            reason: format!(
                "{} calls to a panicking function come from the core or the demo; the first \
                 one, innermost function first: {}",
                calls.len(),
                chain.join(" <- ")
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgets_only_our_crates_in_local_registries() {
        let home = std::env::temp_dir().join(format!("xtask-cargo-home-{}", std::process::id()));
        let src = home.join("registry").join("src");
        let ours_local = src.join("-3ff8cd863cbd9173").join("tinytrain-core-0.1.0");
        let theirs_local = src.join("-3ff8cd863cbd9173").join("serde-1.0.229");
        let ours_remote = src
            .join("index.crates.io-1949cf8c6b5b557f")
            .join("tinytrain-wire-0.1.0");
        for dir in [&ours_local, &theirs_local, &ours_remote] {
            std::fs::create_dir_all(dir.join("src")).unwrap();
        }
        forget_packaged_sources_in(&home).unwrap();
        let kept = [
            ours_local.exists(),
            theirs_local.exists(),
            ours_remote.exists(),
        ];
        std::fs::remove_dir_all(&home).unwrap();
        assert_eq!(kept, [false, true, true]);
    }
}
