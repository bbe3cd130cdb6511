//! Installs what a fresh machine lacks: the Rust targets, QEMU (and binutils for `size`) through
//! apt-get when running as root, and flip-link through `cargo install`.

use crate::cmd::{self, Error};
use crate::qemu::QEMU;
use std::path::Path;
use std::process::Command;

/// The Rust targets: the firmware's, and Cortex-M0 to prove the core builds for the smallest.
pub const TARGETS: [&str; 2] = ["thumbv7em-none-eabihf", "thumbv6m-none-eabi"];
/// The Debian packages for the emulated board and for reading ELF sizes.
pub const APT_PACKAGES: [&str; 2] = ["qemu-system-arm", "binutils-arm-none-eabi"];

/// Everything the firmware needs.
pub fn all() -> Result<(), Error> {
    targets()?;
    apt_packages()?;
    flip_link()
}

/// `rustup target add` for [`TARGETS`] (quick when they are already there).
pub fn targets() -> Result<(), Error> {
    if !on_path("rustup") {
        println!("note: no rustup; the targets {TARGETS:?} must already be installed");
        return Ok(());
    }
    cmd::run(Command::new("rustup").args(["target", "add"]).args(TARGETS))
}

/// QEMU and binutils for Arm; apt-get installs them when running as root. Without root, a
/// missing QEMU is an error that names the command to run.
pub fn apt_packages() -> Result<(), Error> {
    let size = on_path("arm-none-eabi-size");
    if on_path(QEMU) && size {
        return Ok(());
    }
    if is_root() && on_path("apt-get") {
        cmd::run(Command::new("apt-get").args(["update", "-q"]))?;
        return cmd::run(
            Command::new("apt-get")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .args(["install", "-y", "-q", "--no-install-recommends"])
                .args(APT_PACKAGES),
        );
    }
    if !on_path(QEMU) {
        return Err(Error::Missing(format!(
            "{QEMU} is not installed. Install it, then run this again:\n    sudo apt-get install -y {}",
            APT_PACKAGES.join(" ")
        )));
    }
    println!("note: arm-none-eabi-size is missing (apt-get install binutils-arm-none-eabi)");
    Ok(())
}

/// flip-link, the linker that puts the stack below the data so an overflow faults.
pub fn flip_link() -> Result<(), Error> {
    if on_path("flip-link") {
        return Ok(());
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    cmd::run(Command::new(cargo).args(["install", "--locked", "flip-link"]))
}

/// Whether an executable named `program` is on the `PATH`.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| is_executable(&dir.join(program)))
    })
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file() || path.with_extension("exe").is_file()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_programs_on_the_path() {
        assert!(on_path("sh"));
        assert!(!on_path("tinytrain-no-such-program"));
    }
}
