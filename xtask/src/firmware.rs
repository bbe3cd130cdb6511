//! The firmware (`firmware/`, its own cargo workspace) and the boards it builds for.

use crate::cmd::{self, Error};
use crate::qemu::{self, Machine};
use crate::tools::{self, Binutils};
use crate::workspace;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A board the firmware builds for: its core, Rust target and cargo feature, and the QEMU
/// machine that emulates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Board {
    /// The board's name: the QEMU machine's, or the real board's.
    pub name: &'static str,
    /// Its core, as the tables name it (`Cortex-M4F`).
    pub core: &'static str,
    /// Whether the core computes `f32` in hardware.
    pub has_fpu: bool,
    /// The Rust target.
    pub target: &'static str,
    /// The cargo feature that selects the board's code.
    pub feature: &'static str,
    /// The QEMU machine that runs it; `None` for a real board only.
    pub machine: Option<Machine>,
}

/// The demo: the whole story, with flash storage and a reset (`src/bin/demo.rs`).
pub const DEMO: &str = "demo";
/// The least firmware that trains: the demo's network and data without the rest of its story
/// (`src/bin/minimal.rs`).
pub const MINIMAL: &str = "minimal";
/// The stream story: a simulated sensor learned as it arrives, its drift tracked
/// (`src/bin/stream.rs`).
pub const STREAM: &str = "stream";
/// The classification demo: the spirals, two baselines, the softmax cross-entropy, a confusion
/// matrix (`src/bin/classify.rs`).
pub const CLASSIFY: &str = "classify";
/// The device benchmark (`src/bin/bench.rs`).
pub const BENCH: &str = "bench";
/// The per-instruction profile's firmware (`src/bin/profile.rs`).
pub const PROFILE: &str = "profile";
/// The link application: a device that learns from a host's samples over its serial port
/// (`src/bin/link.rs`; `tinytrain device train`).
pub const LINK: &str = "link";

/// QEMU's `mps2-an385`: a Cortex-M3, no FPU.
pub const MPS2_AN385: Board = Board {
    name: "mps2-an385",
    core: "Cortex-M3",
    has_fpu: false,
    target: "thumbv7m-none-eabi",
    feature: "mps2",
    machine: Some(qemu::MPS2_AN385),
};

/// QEMU's `mps2-an386`, the default board: a Cortex-M4F.
pub const MPS2_AN386: Board = Board {
    name: "mps2-an386",
    core: "Cortex-M4F",
    has_fpu: true,
    target: "thumbv7em-none-eabihf",
    feature: "mps2",
    machine: Some(qemu::MPS2_AN386),
};

/// QEMU's `mps2-an500`: a Cortex-M7, running the very build of the M4F.
pub const MPS2_AN500: Board = Board {
    name: "mps2-an500",
    core: "Cortex-M7",
    has_fpu: true,
    target: "thumbv7em-none-eabihf",
    feature: "mps2",
    machine: Some(qemu::MPS2_AN500),
};

/// QEMU's `mps2-an505`: a Cortex-M33 with FPU, in the Secure state.
pub const MPS2_AN505: Board = Board {
    name: "mps2-an505",
    core: "Cortex-M33",
    has_fpu: true,
    target: "thumbv8m.main-none-eabihf",
    feature: "mps2-an505",
    machine: Some(qemu::MPS2_AN505),
};

/// QEMU's `microbit`: an nRF51822's Cortex-M0, no FPU, 16 KiB of RAM.
pub const MICROBIT: Board = Board {
    name: "microbit",
    core: "Cortex-M0",
    has_fpu: false,
    target: "thumbv6m-none-eabi",
    feature: "microbit",
    machine: Some(qemu::MICROBIT),
};

/// QEMU's `virt` RISC-V board as an rv32imc microcontroller, no FPU.
pub const RISCV_VIRT: Board = Board {
    name: "virt",
    core: "RISC-V rv32imc",
    has_fpu: false,
    target: "riscv32imc-unknown-none-elf",
    feature: "riscv-virt",
    machine: Some(qemu::RISCV_VIRT),
};

/// The nRF52840-DK: built here, flashed with `probe-rs run` where a board is attached.
pub const NRF52840_DK: Board = Board {
    name: "nrf52840-dk",
    core: "Cortex-M4F",
    has_fpu: true,
    target: "thumbv7em-none-eabihf",
    feature: "nrf52840dk",
    machine: None,
};

/// Every board QEMU emulates, the default first.
pub const EMULATED: [Board; 6] = [
    MPS2_AN386, MPS2_AN385, MPS2_AN500, MPS2_AN505, MICROBIT, RISCV_VIRT,
];

/// Every board.
pub const BOARDS: [Board; 7] = [
    MPS2_AN386,
    MPS2_AN385,
    MPS2_AN500,
    MPS2_AN505,
    MICROBIT,
    RISCV_VIRT,
    NRF52840_DK,
];

/// The board named `name`.
pub fn board(name: &str) -> Option<Board> {
    BOARDS.into_iter().find(|b| b.name == name)
}

/// The firmware's directory.
pub fn dir() -> PathBuf {
    workspace::root().join("firmware")
}

/// `cargo <subcommand>` run inside the firmware's directory, where its `.cargo/config.toml`
/// (linker, runner, flags) applies, with the project's tools (`flip-link`) on the `PATH`.
pub fn cargo(subcommand: &str) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .current_dir(dir())
        .arg(subcommand)
        .env("PATH", tools::path_variable());
    command
}

/// The firmware workspace's build directory.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| dir().join(d))
        .unwrap_or_else(|| dir().join("target"))
}

impl Board {
    /// `cargo <subcommand>` for this board's target, with its feature only, building into
    /// [`Board::target_dir`].
    pub fn cargo(&self, subcommand: &str) -> Command {
        let mut command = cargo(subcommand);
        command
            .env("CARGO_TARGET_DIR", self.target_dir())
            .args(["--target", self.target])
            .args(["--no-default-features", "--features", self.feature]);
        command
    }

    /// The firmware's build directory for this board: the firmware workspace's, unless an
    /// earlier board of [`BOARDS`] builds the same Rust target with another feature — then
    /// `<that>/<feature>`. Cargo puts a binary at `<target dir>/<target>/release/<bin>` whatever
    /// its features, so without this the nRF52840-DK's build would replace the MPS2 Cortex-M4F's
    /// ELF of the same name (both thumbv7em-none-eabihf), and each build would relink the other.
    pub fn target_dir(&self) -> PathBuf {
        match BOARDS.iter().find(|b| b.target == self.target) {
            Some(first) if first.feature != self.feature => target_dir().join(self.feature),
            _ => target_dir(),
        }
    }

    /// Builds the release binary `bin` and returns the ELF's path.
    pub fn build(&self, bin: &str) -> Result<PathBuf, Error> {
        cmd::run(self.cargo("build").args(["--release", "--bin", bin]))?;
        Ok(self.elf(bin))
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

    /// Where [`Board::build`] puts the ELF of `bin`.
    pub fn elf(&self, bin: &str) -> PathBuf {
        self.target_dir()
            .join(self.target)
            .join("release")
            .join(bin)
    }

    /// The binutils that read this board's ELFs.
    pub fn binutils(&self) -> Binutils {
        Binutils::for_target(self.target)
    }

    /// The QEMU machine, or an error saying the board is not emulated.
    pub fn machine(&self) -> Result<Machine, Error> {
        self.machine.ok_or_else(|| {
            Error::Missing(format!("{} is a real board: QEMU cannot run it", self.name))
        })
    }

    /// Runs `elf` on the board's QEMU machine, calling `on_line` with every log line; returns
    /// the firmware's exit code.
    pub fn run(
        &self,
        elf: &Path,
        timeout: Duration,
        on_line: impl FnMut(&str),
    ) -> Result<i32, Error> {
        let machine = self.machine()?;
        let program = tools::command(machine.program)?;
        Ok(qemu::run(program, &machine, elf, timeout, on_line)?)
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
    fn boards_build_in_the_firmware_workspace_by_target() {
        assert!(dir().join("Cargo.toml").is_file());
        assert_ne!(MPS2_AN386.elf(DEMO), MICROBIT.elf(DEMO));
        assert_eq!(
            MPS2_AN386.elf(DEMO),
            MPS2_AN500.elf(DEMO),
            "the M7 runs the M4F's build"
        );
        let elf = MPS2_AN386.elf(DEMO);
        assert!(
            elf.ends_with("thumbv7em-none-eabihf/release/demo"),
            "{elf:?}"
        );
        assert_ne!(
            MPS2_AN386.elf(DEMO),
            NRF52840_DK.elf(DEMO),
            "the nRF52840-DK's build must not replace the M4F's: same target, other feature"
        );
        assert!(NRF52840_DK.elf(DEMO).starts_with(MPS2_AN386.target_dir()));
        let line = crate::cmd::line(MICROBIT.cargo("build").arg("--release"));
        assert!(line.ends_with(
            "cargo build --target thumbv6m-none-eabi --no-default-features --features microbit \
             --release"
        ));
    }

    #[test]
    fn every_emulated_board_has_its_machine_and_a_distinct_name() {
        for board in EMULATED {
            let machine = board.machine().unwrap();
            assert_eq!(machine.name, board.name);
            assert_eq!(crate::firmware::board(board.name), Some(board));
        }
        assert!(NRF52840_DK.machine().is_err());
        let mut names: Vec<&str> = BOARDS.iter().map(|b| b.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), BOARDS.len());
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
