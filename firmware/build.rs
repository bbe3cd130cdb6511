//! Puts the chosen board's `memory.x` on the linker's search path and passes the link scripts.
//!
//! The link arguments are emitted here rather than as `rustflags` in `.cargo/config.toml`, so a
//! `RUSTFLAGS` environment variable (which replaces those) cannot drop them.

use std::{env, fs, path::PathBuf};

/// Each board feature and its memory map (`memory/<name>.x`).
const MEMORY: [(&str, &str); 5] = [
    ("CARGO_FEATURE_NRF52840DK", "nrf52840"),
    ("CARGO_FEATURE_MPS2_AN505", "mps2-an505"),
    ("CARGO_FEATURE_MICROBIT", "microbit"),
    ("CARGO_FEATURE_RISCV_VIRT", "riscv-virt"),
    ("CARGO_FEATURE_MPS2", "mps2"),
];

fn main() {
    let board = MEMORY
        .iter()
        .find(|(feature, _)| env::var_os(feature).is_some())
        .map_or("mps2", |(_, board)| board);
    let source = format!("memory/{board}.x");
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default());
    if let Err(e) = fs::copy(&source, out.join("memory.x")) {
        eprintln!("cannot copy {source} to {}: {e}", out.display());
        std::process::exit(1);
    }
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed={source}");
    println!("cargo:rerun-if-changed=build.rs");
    // cortex-m-rt and riscv-rt both name their script `link.x`; cortex-m-rt's includes
    // `memory.x`, riscv-rt's wants it first.
    let is_arm = env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|arch| arch == "arm");
    let args: &[&str] = if is_arm {
        &["--nmagic", "-Tlink.x", "-Tdefmt.x"]
    } else {
        &["-Tmemory.x", "-Tlink.x", "-Tdefmt.x"]
    };
    for arg in args {
        println!("cargo:rustc-link-arg={arg}");
    }
}
