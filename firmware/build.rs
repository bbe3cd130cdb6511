//! Puts the chosen board's `memory.x` on the linker's search path and passes the link scripts.
//!
//! The link arguments are emitted here rather than as `rustflags` in `.cargo/config.toml`, so a
//! `RUSTFLAGS` environment variable (which replaces those) cannot drop them.

use std::{env, fs, path::PathBuf};

fn main() {
    let board = if env::var_os("CARGO_FEATURE_NRF52840DK").is_some() {
        "nrf52840"
    } else {
        "mps2-an386"
    };
    let source = format!("memory/{board}.x");
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default());
    if let Err(e) = fs::copy(&source, out.join("memory.x")) {
        eprintln!("cannot copy {source} to {}: {e}", out.display());
        std::process::exit(1);
    }
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed={source}");
    println!("cargo:rerun-if-changed=build.rs");
    for arg in ["--nmagic", "-Tlink.x", "-Tdefmt.x"] {
        println!("cargo:rustc-link-arg={arg}");
    }
}
