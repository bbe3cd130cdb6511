//! Nordic's nRF52840-DK: LED1 (P0.13, lit when low) as status LED, cycles from DWT, and the
//! model in the top two pages of flash through the flash controller (NVMC).

use super::{Board, Counter, Parts};
use cortex_m::peripheral::DWT;
use embedded_hal::digital::{ErrorType, OutputPin};
use nrf52840_hal::{
    gpio::{p0, Level, Output, Pin, PushPull},
    nvmc::Nvmc,
    pac, Delay,
};

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
        let mut core = cortex_m::Peripherals::take()?;
        let device = pac::Peripherals::take()?;
        core.DCB.enable_trace();
        core.DWT.enable_cycle_counter();
        let port0 = p0::Parts::new(device.P0);
        let led1 = port0.p0_13.into_push_pull_output(Level::High).degrade();
        Some(Parts {
            led: ActiveLow(led1),
            delay: Delay::new(core.SYST),
            counter: Cycles {
                last: DWT::cycle_count(),
                high: 0,
            },
            flash: Nvmc::new(device.NVMC, model_flash()),
        })
    }

    fn reset() -> ! {
        cortex_m::peripheral::SCB::sys_reset()
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
