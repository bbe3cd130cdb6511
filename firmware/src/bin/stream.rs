//! The stream story on the board the cargo feature selects: a simulated sensor's readings
//! learned as they arrive, its drift seen and tracked (`cargo run --release --bin stream`).
#![no_std]
#![no_main]

use tinytrain_firmware::{board::Selected, exit, stream_app};

#[tinytrain_firmware::entry]
fn main() -> ! {
    exit(stream_app::run::<Selected>())
}
