//! The device profile on the selected board: `cargo xtask bench profile` traces it.
#![no_std]
#![no_main]

use tinytrain_firmware::{bench, board::Selected, exit};

#[tinytrain_firmware::entry]
fn main() -> ! {
    exit(bench::profile::<Selected>())
}
