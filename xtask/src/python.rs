//! The Python package (`python/`): a virtual environment in the build directory with the test
//! requirements from the package registry, the wheel built by maturin and installed there, and
//! its tests run by pytest.
//!
//! Nothing is installed outside `target/`: the machine's `python3` (or `$PYTHON`) only creates
//! the environment.

use crate::cmd::{self, Error};
use crate::workspace;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The requirements of the tests: the build backend, the test runner and the libraries the
/// tests check against.
pub const REQUIREMENTS: &str = "python/tests/requirements.txt";

/// The virtual environment, `target/venv`.
pub fn venv_dir() -> PathBuf {
    workspace::target_dir().join("venv")
}

/// A program of the virtual environment.
pub fn bin(venv: &Path, program: &str) -> PathBuf {
    venv.join("bin").join(program)
}

/// Creates the virtual environment if it has no working interpreter, and installs (or
/// upgrades to) the test requirements; quick when they are already there.
pub fn venv() -> Result<PathBuf, Error> {
    let venv = venv_dir();
    let python = bin(&venv, "python");
    let works = Command::new(&python)
        .args(["-c", "import sys; assert sys.version_info >= (3, 9)"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !works {
        let host = std::env::var_os("PYTHON").unwrap_or_else(|| "python3".into());
        cmd::run(
            Command::new(host)
                .args(["-m", "venv", "--clear"])
                .arg(&venv),
        )?;
    }
    cmd::run(
        Command::new(&python)
            .args(["-m", "pip", "install", "--disable-pip-version-check", "-q"])
            .arg("-r")
            .arg(workspace::root().join(REQUIREMENTS)),
    )?;
    Ok(venv)
}

/// Builds the wheel with maturin (the dev profile, whose dependencies the workspace's tests
/// share; the core is optimised in it) and installs it in `venv`, replacing any earlier one.
pub fn install_wheel(venv: &Path) -> Result<PathBuf, Error> {
    let out = workspace::target_dir().join("wheels").join("test");
    // One wheel in the directory: the one just built.
    if out.exists() {
        std::fs::remove_dir_all(&out).map_err(|e| Error::Failed {
            command: format!("rm -r {}", out.display()),
            reason: e.to_string(),
        })?;
    }
    cmd::run(
        Command::new(bin(venv, "maturin"))
            .current_dir(workspace::root())
            .args([
                "build",
                "--quiet",
                "-m",
                "python/Cargo.toml",
                "--interpreter",
            ])
            .arg(bin(venv, "python"))
            .arg("--out")
            .arg(&out),
    )?;
    let wheel = std::fs::read_dir(&out)
        .ok()
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|e| e == "whl"))
        .ok_or_else(|| Error::Failed {
            command: "maturin build".into(),
            reason: format!("no wheel in {}", out.display()),
        })?;
    cmd::run(
        Command::new(bin(venv, "python"))
            .args(["-m", "pip", "install", "--disable-pip-version-check", "-q"])
            .args(["--force-reinstall", "--no-deps"])
            .arg(&wheel),
    )?;
    Ok(wheel)
}

/// Runs the package's tests: the environment, the wheel, the `tinytrain` command they compare
/// with (`$TINYTRAIN_CLI`), then pytest.
pub fn test() -> Result<(), Error> {
    let venv = venv()?;
    install_wheel(&venv)?;
    cmd::run(workspace::cargo().args(["build", "-p", "tinytrain-host-sim", "--bin", "tinytrain"]))?;
    let cli = workspace::target_dir().join("debug").join("tinytrain");
    cmd::run(
        Command::new(bin(&venv, "python"))
            .current_dir(workspace::root())
            .env("TINYTRAIN_CLI", cli)
            .args([
                "-m",
                "pytest",
                "python/tests",
                "-q",
                "-p",
                "no:cacheprovider",
            ]),
    )
}
