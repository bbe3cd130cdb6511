//! The demo on any [`Board`]: the LED is lit while training, toggles every epoch, blinks on
//! failure.

use crate::board::{Board, Counter, Parts};
use crate::{cost, device_log::DeviceLog, stack::Stack};
use embedded_hal::{delay::DelayNs, digital::OutputPin};
use static_cell::ConstStaticCell;
use tinytrain_demo::Storage;

/// Training memory: in `.bss`, sized by the core's `const fn`s.
static STORAGE: ConstStaticCell<Storage> = ConstStaticCell::new(Storage::new());

/// Blinks shown on failure.
const FAILURE_BLINKS: u32 = 5;

/// Runs the demo on board `B` and reports its cost; true when the network beat the baseline
/// by the demo's factor.
pub fn run<B: Board>() -> bool {
    let stack = Stack::paint();
    defmt::println!("board: {=str}", B::NAME);
    let Some(Parts {
        mut led,
        mut delay,
        counter,
    }) = B::init()
    else {
        defmt::error!("the board's peripherals were already taken");
        return false;
    };
    let Some(storage) = STORAGE.try_take() else {
        defmt::error!("the training memory was already taken");
        return false;
    };

    let mut log = DeviceLog::new(&mut led, counter);
    let beat = match tinytrain_demo::run(storage, &mut log) {
        Ok(outcome) => {
            cost::training(log.training(), B::Counter::UNIT, &outcome);
            outcome.beat
        }
        Err(e) => {
            defmt::error!("the demo failed: {}", e);
            false
        }
    };
    cost::ram();
    cost::stack(stack.peak(), stack.size());

    if beat {
        let _ = led.set_low();
    } else {
        blink(&mut led, &mut delay);
    }
    beat
}

fn blink(led: &mut impl OutputPin, delay: &mut impl DelayNs) {
    for _ in 0..FAILURE_BLINKS {
        let _ = led.set_high();
        delay.delay_ms(100);
        let _ = led.set_low();
        delay.delay_ms(100);
    }
}
