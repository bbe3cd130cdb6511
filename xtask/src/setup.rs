//! Installs what a fresh machine lacks, changing nothing outside the project but the Rust
//! toolchain's targets: the Rust targets (`rustup target add`), then QEMU, the Arm binutils and
//! `flip-link` where the machine has none of its own (see [`tools`]).

use crate::cmd::{self, Error};
use crate::firmware::BOARDS;
use crate::tools;
use std::process::Command;

/// The Rust targets the core is checked for: the default board's, and the smallest core's.
pub const TARGETS: [&str; 2] = ["thumbv7em-none-eabihf", "thumbv6m-none-eabi"];

/// Everything the firmware needs.
pub fn all() -> Result<(), Error> {
    targets()?;
    tools::all()?;
    tools::flip_link()
}

/// `rustup target add` for every board's target (quick when they are already there).
pub fn targets() -> Result<(), Error> {
    let mut targets: Vec<&str> = BOARDS.iter().map(|b| b.target).chain(TARGETS).collect();
    targets.sort_unstable();
    targets.dedup();
    if !tools::on_path("rustup") {
        println!("note: no rustup; the targets {targets:?} must already be installed");
        return Ok(());
    }
    cmd::run(Command::new("rustup").args(["target", "add"]).args(targets))
}
