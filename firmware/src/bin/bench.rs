//! The device benchmark on the selected board: `cargo run --release --bin bench`.
#![no_std]
#![no_main]

use tinytrain_firmware::{bench, board::Selected, exit};

#[tinytrain_firmware::entry]
fn main() -> ! {
    exit(bench::run::<Selected>())
}
