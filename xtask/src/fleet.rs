//! The fleet (`fleet/`): the Flower app's pinned requirements installed into the Python
//! package's environment (`target/venv`, beside the wheel), its tests run by pytest, and its
//! commands (`python -m tinytrain_fleet …`) run from the repository's root. For the emulated
//! board as a device of the fleet (`tinytrain_fleet.board`), the link firmware and the
//! `tinytrain` command are built and named, with QEMU, in the environment.

use crate::cmd::{self, Error};
use crate::firmware::{LINK, MPS2_AN386};
use crate::{python, setup, tools, workspace};
use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

/// Flower (pinned, with its simulation engine) and the data set's package.
pub const REQUIREMENTS: &str = "fleet/requirements.txt";
/// What the report adds: the plot's library.
pub const REPORT_REQUIREMENTS: &str = "fleet/requirements-report.txt";

/// Installs the requirements files `files` into `venv` (quick when they are there).
fn install(venv: &Path, files: &[&str]) -> Result<(), Error> {
    let mut pip = Command::new(python::bin(venv, "python"));
    pip.args(["-m", "pip", "install", "--disable-pip-version-check", "-q"]);
    for file in files {
        pip.arg("-r").arg(workspace::root().join(file));
    }
    cmd::run(&mut pip)
}

/// The fleet's Python, from the repository's root, with the app's package on its path.
fn fleet_python(venv: &Path) -> Command {
    let mut python = Command::new(python::bin(venv, "python"));
    python
        .current_dir(workspace::root())
        .env("PYTHONPATH", workspace::root().join("fleet"));
    python
}

/// Names the emulated board's tools in `python`'s environment, as `tinytrain_fleet.board`
/// reads them: the `tinytrain` command (the dev build, which the Python package's tests use
/// too), the link firmware for QEMU mps2-an386 (built), `qemu-system-arm` and the libraries of
/// one fetched into `target/tools`. Installs what is missing first (`cargo xtask setup`).
fn with_board(python: &mut Command) -> Result<(), Error> {
    setup::all()?;
    let elf = MPS2_AN386.build(LINK)?;
    cmd::run(workspace::cargo().args(["build", "-p", "tinytrain-host-sim", "--bin", "tinytrain"]))?;
    let qemu = tools::tool("qemu-system-arm")?;
    python
        .env(
            "TINYTRAIN_CLI",
            workspace::target_dir().join("debug").join("tinytrain"),
        )
        .env("TINYTRAIN_LINK_ELF", elf)
        .env("TINYTRAIN_QEMU", &qemu.path);
    let qemu = qemu.command();
    let libraries = qemu.get_envs().find(|(key, _)| *key == "LD_LIBRARY_PATH");
    if let Some((_, Some(path))) = libraries {
        python.env("TINYTRAIN_QEMU_LIBRARY_PATH", path);
    }
    Ok(())
}

/// Runs the fleet's tests in `venv`, which already holds the tinytrain wheel (see
/// [`python::test`]): its requirements, then pytest, with the emulated board's tools named.
pub fn test_in(venv: &Path) -> Result<(), Error> {
    install(venv, &[REQUIREMENTS])?;
    let mut python = fleet_python(venv);
    with_board(&mut python)?;
    cmd::run(python.args([
        "-m",
        "pytest",
        "fleet/tests",
        "-q",
        "-p",
        "no:cacheprovider",
    ]))
}

/// `cargo xtask fleet ARGS`: the environment, the wheel, the requirements (and the plot's for
/// `report`), the emulated board's tools with `--board`, then `python -m tinytrain_fleet ARGS`
/// (`simulate` when ARGS is empty or starts with an option: `cargo xtask fleet --board`).
pub fn run<S: AsRef<OsStr>>(args: &[S]) -> Result<(), Error> {
    let args: Vec<&OsStr> = args.iter().map(AsRef::as_ref).collect();
    let command = args
        .first()
        .filter(|a| !a.to_string_lossy().starts_with('-'));
    let venv = python::venv()?;
    python::install_wheel(&venv)?;
    if command.is_some_and(|c| *c == "report") {
        install(&venv, &[REQUIREMENTS, REPORT_REQUIREMENTS])?;
    } else {
        install(&venv, &[REQUIREMENTS])?;
    }
    let mut python = fleet_python(&venv);
    if args
        .iter()
        .any(|a| *a == "--board" || a.to_string_lossy().starts_with("--board="))
    {
        with_board(&mut python)?;
    }
    python.args(["-m", "tinytrain_fleet"]);
    if command.is_none() {
        python.arg("simulate");
    }
    cmd::run(python.args(args))
}
