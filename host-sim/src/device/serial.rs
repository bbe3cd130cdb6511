//! A real board on a serial port, through the `serialport` crate (8N1, no flow control).
//!
//! `serialport` is built without its default `libudev` feature: that feature only adds USB
//! details to port listings and needs libudev's headers to build, which a fresh machine lacks.
//! Its licence is MPL-2.0 (file-level copyleft: using it unchanged puts no condition on
//! tinytrain's own code).

use std::time::Duration;

use crate::error::{Error, Result};

/// How long a read waits before the link looks at its own clock.
pub const READ_TIMEOUT: Duration = Duration::from_millis(5);

/// Opens `port` at `baud` bits per second.
pub fn open(port: &str, baud: u32) -> Result<Box<dyn serialport::SerialPort>> {
    serialport::new(port, baud)
        .timeout(READ_TIMEOUT)
        .open()
        .map_err(|e| Error::SerialPort {
            port: port.to_owned(),
            problem: e.to_string(),
        })
}
