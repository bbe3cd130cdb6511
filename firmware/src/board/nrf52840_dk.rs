//! Nordic's nRF52840-DK: LED1 (P0.13, lit when low) as status LED, cycles from DWT, the
//! model in the top two pages of flash through the flash controller (NVMC), and UARTE0 on the
//! J-Link's virtual COM port (P0.06 TXD, P0.08 RXD: `/dev/ttyACM0` on a Linux host).

use super::{Board, Counter, Parts, SerialBoard};
use cortex_m::peripheral::DWT;
use embedded_hal::digital::{ErrorType, OutputPin};
use nrf52840_hal::{
    gpio::{p0, Disconnected, Level, Output, Pin, PushPull},
    nvmc::Nvmc,
    pac,
    uarte::{self, Baudrate, Parity, Uarte, UarteRx, UarteTx},
    Delay,
};
use static_cell::ConstStaticCell;

extern "C" {
    static mut __model_flash_start: u8;
    static __model_flash_end: u8;
}

/// The nRF52840 development kit (PCA10056).
#[derive(Debug)]
pub struct Nrf52840Dk;

impl Board for Nrf52840Dk {
    type Led = ActiveLow<Pin<Output<PushPull>>>;
    type Delay = Delay;
    type Counter = Cycles;
    type Flash = Nvmc<pac::NVMC>;

    fn name() -> &'static str {
        "nRF52840-DK (Cortex-M4F, 64 MHz)"
    }

    fn init() -> Option<Parts<Self>> {
        take().map(|(parts, ..)| parts)
    }

    fn reset() -> ! {
        cortex_m::peripheral::SCB::sys_reset()
    }

    /// `C_DEBUGEN` in the Debug Halting Control and Status Register: a probe (`probe-rs run`)
    /// sets it when it connects, and it stays set until the next power-on reset.
    fn debugger_attached() -> bool {
        cortex_m::peripheral::DCB::is_debugger_attached()
    }
}

/// The pins of the J-Link's virtual COM port.
struct VcomPins {
    txd: p0::P0_06<Disconnected>,
    rxd: p0::P0_08<Disconnected>,
}

/// The board's parts, and what the serial port is made of.
fn take() -> Option<(Parts<Nrf52840Dk>, pac::UARTE0, VcomPins)> {
    let mut core = cortex_m::Peripherals::take()?;
    let device = pac::Peripherals::take()?;
    core.DCB.enable_trace();
    core.DWT.enable_cycle_counter();
    let port0 = p0::Parts::new(device.P0);
    let led1 = port0.p0_13.into_push_pull_output(Level::High).degrade();
    let parts = Parts {
        led: ActiveLow(led1),
        delay: Delay::new(core.SYST),
        counter: Cycles {
            last: DWT::cycle_count(),
            high: 0,
        },
        flash: Nvmc::new(device.NVMC, model_flash()),
    };
    let vcom = VcomPins {
        txd: port0.p0_06,
        rxd: port0.p0_08,
    };
    Some((parts, device.UARTE0, vcom))
}

impl SerialBoard for Nrf52840Dk {
    type Serial = Serial;
    const BAUD: u32 = 115_200;
    const COUNTS_PER_SECOND: u64 = 64_000_000;

    fn core() -> &'static str {
        "Cortex-M4F"
    }

    fn init_serial() -> Option<(Parts<Self>, Serial)> {
        /// The UARTE's DMA buffers: EasyDMA reads and writes RAM only, never flash.
        static TX: ConstStaticCell<[u8; 64]> = ConstStaticCell::new([0; 64]);
        static RX: ConstStaticCell<[u8; 1]> = ConstStaticCell::new([0; 1]);
        let (parts, uarte0, vcom) = take()?;
        let pins = uarte::Pins {
            txd: vcom.txd.into_push_pull_output(Level::High).degrade(),
            rxd: vcom.rxd.into_floating_input().degrade(),
            cts: None,
            rts: None,
        };
        let uarte = Uarte::new(uarte0, pins, Parity::EXCLUDED, Baudrate::BAUD115200);
        let (tx, rx) = uarte.split(TX.try_take()?, RX.try_take()?).ok()?;
        Some((parts, Serial { tx, rx }))
    }
}

/// UARTE0's two halves as one port.
pub struct Serial {
    tx: UarteTx<pac::UARTE0>,
    rx: UarteRx<pac::UARTE0>,
}

impl embedded_io::ErrorType for Serial {
    type Error = uarte::Error;
}

impl embedded_io::Read for Serial {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, uarte::Error> {
        self.rx.read(buf)
    }
}

impl embedded_io::ReadReady for Serial {
    fn read_ready(&mut self) -> Result<bool, uarte::Error> {
        self.rx.read_ready()
    }
}

impl embedded_io::Write for Serial {
    fn write(&mut self, buf: &[u8]) -> Result<usize, uarte::Error> {
        self.tx.write(buf)
    }

    fn flush(&mut self) -> Result<(), uarte::Error> {
        self.tx.flush()
    }
}

/// The `MODEL_FLASH` pages of `memory/nrf52840.x` (page-aligned: the linker script asserts it,
/// as `Nvmc::new` requires).
#[allow(unsafe_code)]
fn model_flash() -> &'static mut [u8] {
    let start = core::ptr::addr_of_mut!(__model_flash_start);
    let end = core::ptr::addr_of!(__model_flash_end) as usize;
    let len = end.saturating_sub(start as usize);
    // SAFETY: the linker reserves MODEL_FLASH outside the program's flash, so nothing else
    // refers to it; `init` runs once (it took the peripherals), so this is the only reference.
    // The NVMC driver reads and programs the pages through it.
    unsafe { core::slice::from_raw_parts_mut(start, len) }
}

/// An LED wired to light when its pin is low: `set_high` lights it.
#[derive(Debug)]
pub struct ActiveLow<P>(P);

impl<P: ErrorType> ErrorType for ActiveLow<P> {
    type Error = P::Error;
}

impl<P: OutputPin> OutputPin for ActiveLow<P> {
    fn set_low(&mut self) -> Result<(), P::Error> {
        self.0.set_high()
    }

    fn set_high(&mut self) -> Result<(), P::Error> {
        self.0.set_low()
    }
}

/// CPU cycles from DWT's 32-bit counter, extended to 64 bits at each read (reads must come
/// less than 2³² cycles — 67 s at 64 MHz — apart).
#[derive(Debug)]
pub struct Cycles {
    last: u32,
    high: u64,
}

impl Counter for Cycles {
    const UNIT: &'static str = "cycles";

    fn now(&mut self) -> u64 {
        let now = DWT::cycle_count();
        if now < self.last {
            self.high += 1 << 32;
        }
        self.last = now;
        self.high + u64::from(now)
    }
}
