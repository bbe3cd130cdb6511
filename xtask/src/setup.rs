//! Installs what a fresh machine lacks, changing nothing outside the project but the Rust
//! toolchain's targets: the Rust targets (`rustup target add`), then QEMU, the Arm binutils and
//! `flip-link` where the machine has none of its own (see [`tools`]).

use crate::cmd::{self, Error};
use crate::tools;
use std::process::Command;

/// The Rust targets: the firmware's, and Cortex-M0 to prove the core builds for the smallest.
pub const TARGETS: [&str; 2] = ["thumbv7em-none-eabihf", "thumbv6m-none-eabi"];

/// Everything the firmware needs.
pub fn all() -> Result<(), Error> {
    targets()?;
    tools::all()?;
    tools::flip_link()
}

/// `rustup target add` for [`TARGETS`] (quick when they are already there).
pub fn targets() -> Result<(), Error> {
    if !tools::on_path("rustup") {
        println!("note: no rustup; the targets {TARGETS:?} must already be installed");
        return Ok(());
    }
    cmd::run(Command::new("rustup").args(["target", "add"]).args(TARGETS))
}
