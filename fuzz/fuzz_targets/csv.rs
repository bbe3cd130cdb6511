//! The host CLI's CSV reader on any bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tinytrain_fuzz::check_csv;

fuzz_target!(|bytes: &[u8]| check_csv(bytes));
