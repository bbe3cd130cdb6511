//! Nordic's nRF52840-DK: LED1 (P0.13, lit when low) as status LED, cycles from DWT.

use super::{Board, Counter, Parts};
use cortex_m::peripheral::DWT;
use embedded_hal::digital::{ErrorType, OutputPin};
use nrf52840_hal::{
    gpio::{p0, Level, Output, Pin, PushPull},
    pac, Delay,
};

/// The nRF52840 development kit (PCA10056).
#[derive(Debug)]
pub struct Nrf52840Dk;

impl Board for Nrf52840Dk {
    const NAME: &'static str = "nRF52840-DK (Cortex-M4F, 64 MHz)";
    type Led = ActiveLow<Pin<Output<PushPull>>>;
    type Delay = Delay;
    type Counter = Cycles;

    fn init() -> Option<Parts<Self::Led, Delay, Cycles>> {
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
        })
    }
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
