//! The link application on the board the cargo feature selects: a device that learns from the
//! samples a host streams over its serial port (`tinytrain device train`). QEMU's MPS2+ boards
//! and the nRF52840-DK have a serial port; on the other boards it stops at once.
#![no_std]
#![no_main]

use tinytrain_firmware::exit;

#[tinytrain_firmware::entry]
fn main() -> ! {
    #[cfg(any(feature = "mps2", feature = "nrf52840dk"))]
    let ran = tinytrain_firmware::link::run::<tinytrain_firmware::board::Selected>();
    #[cfg(not(any(feature = "mps2", feature = "nrf52840dk")))]
    let ran = {
        defmt::error!("this board has no serial port driver: the link runs on mps2 and nrf52840dk");
        false
    };
    exit(ran)
}
