//! The firmware (`firmware/`, its own cargo workspace) and its boards.

use crate::cmd::{self, Error};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The firmware's Rust target: Cortex-M4F with hardware floating point.
pub const TARGET: &str = "thumbv7em-none-eabihf";

/// A board the firmware builds for: a cargo feature and a binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Board {
    /// The binary's name (`src/bin/<bin>.rs`).
    pub bin: &'static str,
    /// The cargo feature that selects the board.
    pub feature: &'static str,
}

/// QEMU's `mps2-an386`, the default board: runs everywhere.
pub const MPS2_AN386: Board = Board {
    bin: "mps2-an386",
    feature: "qemu",
};

/// The least firmware that trains, on the emulated board: the demo's network and data without
/// the rest of its story (`firmware/src/bin/minimal.rs`).
pub const MINIMAL: Board = Board {
    bin: "minimal",
    feature: "qemu",
};

/// The nRF52840-DK: built here, flashed with `probe-rs run` where a board is attached.
pub const NRF52840_DK: Board = Board {
    bin: "nrf52840-dk",
    feature: "nrf52840dk",
};

/// Every board.
pub const BOARDS: [Board; 2] = [MPS2_AN386, NRF52840_DK];

/// The repository's root.
pub fn root() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}

/// `cargo` at the repository's root, the host workspace.
pub fn root_cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root());
    command
}

/// The firmware's directory.
pub fn dir() -> PathBuf {
    root().join("firmware")
}

/// The host workspace's build directory: `target/`, or `CARGO_TARGET_DIR` (relative to the
/// root).
pub fn root_target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| root().join(d))
        .unwrap_or_else(|| root().join("target"))
}

/// `cargo <subcommand>` run inside the firmware's directory, where its `.cargo/config.toml`
/// (target, linker, runner) applies, with the project's tools (`flip-link`) on the `PATH`.
pub fn cargo(subcommand: &str) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .current_dir(dir())
        .arg(subcommand)
        .env("PATH", crate::tools::path_variable());
    command
}

impl Board {
    /// `cargo <subcommand>` with this board's feature only.
    pub fn cargo(&self, subcommand: &str) -> Command {
        let mut command = cargo(subcommand);
        command.args(["--no-default-features", "--features", self.feature]);
        command
    }

    /// Builds the release binary and returns the ELF's path.
    pub fn build(&self) -> Result<PathBuf, Error> {
        cmd::run(self.cargo("build").args(["--release", "--bin", self.bin]))?;
        Ok(self.elf())
    }

    /// Builds the board's on-target tests (`firmware/tests`, defmt-test) without running them,
    /// and returns their ELFs.
    pub fn build_tests(&self) -> Result<Vec<PathBuf>, Error> {
        let json = cmd::output(
            self.cargo("test")
                .args(["--no-run", "--message-format=json-render-diagnostics"]),
        )?;
        Ok(json.lines().filter_map(test_executable).collect())
    }

    /// Where [`Board::build`] puts the ELF.
    pub fn elf(&self) -> PathBuf {
        let target_dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(|d| dir().join(d))
            .unwrap_or_else(|| dir().join("target"));
        target_dir.join(TARGET).join("release").join(self.bin)
    }
}

/// The executable of a test target, from one line of cargo's JSON messages.
fn test_executable(message: &str) -> Option<PathBuf> {
    let message: serde_json::Value = serde_json::from_str(message).ok()?;
    let is_test = message["reason"] == "compiler-artifact" && message["profile"]["test"] == true;
    message["executable"]
        .as_str()
        .filter(|_| is_test)
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boards_build_distinct_binaries_in_the_firmware_workspace() {
        assert!(dir().join("Cargo.toml").is_file());
        assert_ne!(MPS2_AN386.elf(), NRF52840_DK.elf());
        let elf = MPS2_AN386.elf();
        assert!(
            elf.ends_with("thumbv7em-none-eabihf/release/mps2-an386"),
            "{elf:?}"
        );
        let line = crate::cmd::line(NRF52840_DK.cargo("build").arg("--release"));
        assert!(line.ends_with("cargo build --no-default-features --features nrf52840dk --release"));
    }

    #[test]
    fn test_executables_are_read_from_cargo_messages() {
        let test = r#"{"reason":"compiler-artifact","profile":{"test":true},"executable":"/t/on_target-1"}"#;
        let bin =
            r#"{"reason":"compiler-artifact","profile":{"test":false},"executable":"/t/app"}"#;
        assert_eq!(test_executable(test), Some(PathBuf::from("/t/on_target-1")));
        assert_eq!(test_executable(bin), None);
        assert_eq!(
            test_executable(r#"{"reason":"build-finished","success":true}"#),
            None
        );
        assert_eq!(test_executable("not json"), None);
    }
}
