//! `format::read_header`, `format::inspect` and `format::load` on any bytes, and on damaged real
//! blobs with any of their sections.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tinytrain_fuzz::{check_blob, BlobInput};

fuzz_target!(|input: BlobInput| check_blob(&input.bytes()));
