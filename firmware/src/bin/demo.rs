//! The demo on the board the cargo feature selects: `cargo run --release` on QEMU's
//! `mps2-an386`, `cargo microbit` or another board's alias (`.cargo/config.toml`).
#![no_std]
#![no_main]

use tinytrain_firmware::{app, board::Selected, exit};

#[tinytrain_firmware::entry]
fn main() -> ! {
    exit(app::run::<Selected>())
}
