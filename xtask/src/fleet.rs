//! The fleet (`fleet/`): the Flower app's pinned requirements installed into the Python
//! package's environment (`target/venv`, beside the wheel), its tests run by pytest, and its
//! commands (`python -m tinytrain_fleet …`) run from the repository's root.

use crate::cmd::{self, Error};
use crate::firmware::root;
use crate::python;
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
        pip.arg("-r").arg(root().join(file));
    }
    cmd::run(&mut pip)
}

/// The fleet's Python, from the repository's root, with the app's package on its path.
fn fleet_python(venv: &Path) -> Command {
    let mut python = Command::new(python::bin(venv, "python"));
    python
        .current_dir(root())
        .env("PYTHONPATH", root().join("fleet"));
    python
}

/// Runs the fleet's tests in `venv`, which already holds the tinytrain wheel (see
/// [`python::test`]): its requirements, then pytest.
pub fn test_in(venv: &Path) -> Result<(), Error> {
    install(venv, &[REQUIREMENTS])?;
    cmd::run(fleet_python(venv).args([
        "-m",
        "pytest",
        "fleet/tests",
        "-q",
        "-p",
        "no:cacheprovider",
    ]))
}

/// `cargo xtask fleet ARGS`: the environment, the wheel, the requirements (and the plot's for
/// `report`), then `python -m tinytrain_fleet ARGS`.
pub fn run<S: AsRef<OsStr>>(args: &[S]) -> Result<(), Error> {
    let venv = python::venv()?;
    python::install_wheel(&venv)?;
    let report = args.first().is_some_and(|a| a.as_ref() == "report");
    if report {
        install(&venv, &[REQUIREMENTS, REPORT_REQUIREMENTS])?;
    } else {
        install(&venv, &[REQUIREMENTS])?;
    }
    cmd::run(
        fleet_python(&venv)
            .args(["-m", "tinytrain_fleet"])
            .args(args),
    )
}
