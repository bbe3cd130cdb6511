//! The demo on any [`Board`]: one boot of [`tinytrain_demo::boot`]. A boot that saved a model
//! resets the device, and the next boot loads it back. The LED is lit while training, toggles
//! every epoch, blinks on failure. Without a debugger to report to, the LED keeps showing the
//! verdict: lit for success, blinking for failure.

use crate::board::{Board, Counter, Parts};
use crate::watch::{EpochLed, TrainingWork};
use crate::{cost, device_log::DeviceLog, handover, stack::Stack};
use embedded_hal::{delay::DelayNs, digital::OutputPin};
use static_cell::ConstStaticCell;
use tinytrain_core::ModelStore;
use tinytrain_demo::{Next, Policy, Storage, SLOT_SIZE};

/// Training memory: in `.bss`, sized by the core's `const fn`s.
static STORAGE: ConstStaticCell<Storage> = ConstStaticCell::new(Storage::new());

/// What a cold start does with a model in flash: evaluate it, or with the `fine-tune` feature
/// train on from it and save the result.
const POLICY: Policy = if cfg!(feature = "fine-tune") {
    Policy::FineTune
} else {
    Policy::Evaluate
};

/// Blinks shown on failure.
const FAILURE_BLINKS: u32 = 5;

/// Runs one boot of the demo on board `B` and reports its cost. Resets the device after saving
/// a model; otherwise returns whether the demo succeeded.
pub fn run<B: Board>() -> bool {
    let stack = Stack::paint();
    defmt::info!("board: {=str}", B::name());
    let Some(Parts {
        mut led,
        mut delay,
        counter,
        flash,
    }) = B::init()
    else {
        defmt::error!("the board's peripherals were already taken");
        return false;
    };
    let Some(storage) = STORAGE.try_take() else {
        defmt::error!("the training memory was already taken");
        return false;
    };
    let mut store = match ModelStore::new(flash, 0, SLOT_SIZE) {
        Ok(store) => store,
        Err(e) => {
            defmt::error!("the model's flash is unusable: {}", e);
            return false;
        }
    };
    defmt::debug!("flash: two model slots of {=u32} B", SLOT_SIZE);

    // The LED is lit while training.
    let mut log = (
        DeviceLog,
        (EpochLed::new(&mut led, true), TrainingWork::new(counter)),
    );
    let next = match tinytrain_demo::boot(storage, &mut store, handover::take(), POLICY, &mut log) {
        Ok(boot) => {
            if let Some(outcome) = boot.trained {
                cost::training(log.1 .1.work(), B::Counter::UNIT, &outcome);
            }
            boot.next
        }
        Err(e) => {
            defmt::error!("the demo failed: {}", e);
            Next::Exit(false)
        }
    };
    cost::ram();
    cost::stack(stack.peak(), stack.size());

    match next {
        Next::Reset(saved) => {
            handover::leave(&saved);
            defmt::flush();
            B::reset()
        }
        Next::Exit(success) => {
            if !B::debugger_attached() {
                show_forever(success, &mut led, &mut delay)
            }
            if success {
                let _ = led.set_low();
            } else {
                blink(&mut led, &mut delay);
            }
            success
        }
    }
}

/// The verdict on the LED, on a board without a debugger to report to: success lights it,
/// failure blinks it; the core sleeps between blinks.
pub(crate) fn show_forever(success: bool, led: &mut impl OutputPin, delay: &mut impl DelayNs) -> ! {
    if success {
        let _ = led.set_high();
        crate::sleep()
    }
    loop {
        blink(led, delay);
        delay.delay_ms(1000);
    }
}

fn blink(led: &mut impl OutputPin, delay: &mut impl DelayNs) {
    for _ in 0..FAILURE_BLINKS {
        let _ = led.set_high();
        delay.delay_ms(100);
        let _ = led.set_low();
        delay.delay_ms(100);
    }
}
