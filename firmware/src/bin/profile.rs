//! The device profile on QEMU's `mps2-an386`: `cargo xtask bench profile` traces it.
#![no_std]
#![no_main]

use tinytrain_firmware::{bench, board::Mps2An386, exit};

#[cortex_m_rt::entry]
fn main() -> ! {
    exit(bench::profile::<Mps2An386>())
}
