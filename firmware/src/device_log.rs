//! The demos' lines over defmt at `info` level, and nothing else: what a device does beside
//! logging — its LED, its work counter — watches the same lines apart ([`crate::watch`]).

use tinytrain_demo::{classify, Line, Log};

/// Logs every line with `defmt::info!`.
pub struct DeviceLog;

impl Log for DeviceLog {
    fn line(&mut self, line: &Line) {
        defmt::info!("{}", line);
    }
}

impl classify::Log for DeviceLog {
    fn line(&mut self, line: &classify::Line) {
        defmt::info!("{}", line);
    }
}
