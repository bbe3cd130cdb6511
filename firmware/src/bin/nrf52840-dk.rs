//! The demo on an nRF52840-DK: `cargo nrf52840-dk` (flashes with `probe-rs run`).
#![no_std]
#![no_main]

use tinytrain_firmware::{app, board::Nrf52840Dk, exit};

#[cortex_m_rt::entry]
fn main() -> ! {
    exit(app::run::<Nrf52840Dk>())
}
