//! Model slots on any flash contents, and saves cut short by a power failure.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tinytrain_fuzz::{check_flash, FlashInput};

fuzz_target!(|input: FlashInput| check_flash(&input));
