//! Arm's CMSDK APB UART, as on the MPS2+ boards: a one-byte receive buffer and a one-byte
//! transmit buffer behind a status register, through the embedded-io traits.
//!
//! QEMU connects a board's first UART to its first `-serial` device (a TCP socket, a pty), and
//! holds back the host's bytes while the receive buffer is full, so none is lost however long
//! the firmware takes between two reads.

use core::convert::Infallible;
use embedded_io::{ErrorType, Read, ReadReady, Write, WriteReady};

/// Register offsets (CMSDK APB UART, Arm DDI 0479).
const DATA: usize = 0x00;
const STATE: usize = 0x04;
const CTRL: usize = 0x08;
const BAUDDIV: usize = 0x10;
/// `STATE`: the transmit buffer is full; the receive buffer holds a byte.
const TX_FULL: u32 = 1 << 0;
const RX_FULL: u32 = 1 << 1;
/// `CTRL`: transmitter and receiver enabled.
const TX_ENABLE: u32 = 1 << 0;
const RX_ENABLE: u32 = 1 << 1;

/// The UART whose registers start at `BASE`.
#[derive(Debug)]
pub struct CmsdkUart<const BASE: usize>(());

impl<const BASE: usize> CmsdkUart<BASE> {
    /// Enables the UART at `baud` on a `clock_hz` bus clock; the board creates one, once, in
    /// `init`. The divider is at least 16, as the UART requires.
    pub(super) fn new(clock_hz: u32, baud: u32) -> Self {
        let mut uart = Self(());
        uart.write_reg(CTRL, 0);
        uart.write_reg(BAUDDIV, (clock_hz / baud.max(1)).max(16));
        uart.write_reg(CTRL, TX_ENABLE | RX_ENABLE);
        uart
    }

    #[allow(unsafe_code)]
    fn read_reg(&self, offset: usize) -> u32 {
        // SAFETY: BASE is the board's UART, whose registers are word-aligned words that only
        // this (single, owned) `CmsdkUart` touches; reading STATE has no side effect, and
        // reading DATA takes the byte the caller checked is there.
        unsafe { core::ptr::read_volatile((BASE + offset) as *const u32) }
    }

    #[allow(unsafe_code)]
    fn write_reg(&mut self, offset: usize, value: u32) {
        // SAFETY: as in `read_reg`; `&mut self` makes this the only access.
        unsafe { core::ptr::write_volatile((BASE + offset) as *mut u32, value) }
    }

    fn state(&self) -> u32 {
        self.read_reg(STATE)
    }
}

impl<const BASE: usize> ErrorType for CmsdkUart<BASE> {
    type Error = Infallible;
}

impl<const BASE: usize> ReadReady for CmsdkUart<BASE> {
    fn read_ready(&mut self) -> Result<bool, Infallible> {
        Ok(self.state() & RX_FULL != 0)
    }
}

impl<const BASE: usize> Read for CmsdkUart<BASE> {
    /// Waits for a byte, then takes it (the UART holds one at a time).
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let Some(first) = buf.first_mut() else {
            return Ok(0);
        };
        while self.state() & RX_FULL == 0 {
            core::hint::spin_loop();
        }
        *first = self.read_reg(DATA) as u8;
        Ok(1)
    }
}

impl<const BASE: usize> WriteReady for CmsdkUart<BASE> {
    fn write_ready(&mut self) -> Result<bool, Infallible> {
        Ok(self.state() & TX_FULL == 0)
    }
}

impl<const BASE: usize> Write for CmsdkUart<BASE> {
    /// Waits for room, then sends one byte.
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        let Some(&first) = buf.first() else {
            return Ok(0);
        };
        while self.state() & TX_FULL != 0 {
            core::hint::spin_loop();
        }
        self.write_reg(DATA, u32::from(first));
        Ok(1)
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        while self.state() & TX_FULL != 0 {
            core::hint::spin_loop();
        }
        Ok(())
    }
}
