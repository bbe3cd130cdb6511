//! The demo on QEMU's `mps2-an386`: `cargo run --release`.
#![no_std]
#![no_main]

use tinytrain_firmware::{app, board::Mps2An386, exit};

#[cortex_m_rt::entry]
fn main() -> ! {
    exit(app::run::<Mps2An386>())
}
