//! The classification demo on the board the cargo feature selects:
//! `cargo run --release --bin classify` on QEMU's `mps2-an386`.
#![no_std]
#![no_main]

use tinytrain_firmware::{board::Selected, classify, exit};

#[tinytrain_firmware::entry]
fn main() -> ! {
    exit(classify::run::<Selected>())
}
