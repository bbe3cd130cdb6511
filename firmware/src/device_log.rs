//! The demos' lines over defmt at `info` level, and nothing else: what a device does beside
//! logging — its LED, its work counter — watches the same lines apart ([`crate::watch`]).

use tinytrain_demo::Log;

/// Logs every line of any story with `defmt::info!`.
pub struct DeviceLog;

impl<L: defmt::Format> Log<L> for DeviceLog {
    fn line(&mut self, line: &L) {
        defmt::info!("{}", line);
    }
}
