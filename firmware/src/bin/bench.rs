//! The device benchmark on QEMU's `mps2-an386`: `cargo run --release --bin bench`.
#![no_std]
#![no_main]

use tinytrain_firmware::{bench, board::Mps2An386, exit};

#[cortex_m_rt::entry]
fn main() -> ! {
    exit(bench::run::<Mps2An386>())
}
