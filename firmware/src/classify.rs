//! The classification demo on any [`Board`]: [`tinytrain_demo::classify`]'s story — the
//! spirals, two baselines, training on the softmax cross-entropy with early stopping, the test
//! with its confusion matrix — and what it cost. The LED is lit while training and toggles every
//! epoch; without a debugger to report to, it keeps showing the verdict (lit for success,
//! blinking for failure).

use crate::board::{Board, Counter, Parts};
use crate::device_log::DeviceLog;
use crate::watch::{EpochLed, TrainingWork};
use crate::{cost, stack::Stack};
use embedded_hal::digital::OutputPin;
use static_cell::ConstStaticCell;
use tinytrain_demo::classify::{self, Storage};

/// Training memory: in `.bss`, sized by the core's `const fn`s.
static STORAGE: ConstStaticCell<Storage> = ConstStaticCell::new(Storage::new());

/// Runs the classification demo on board `B` and reports its cost; whether the network beat
/// both baselines on the test set.
pub fn run<B: Board>() -> bool {
    let stack = Stack::paint();
    defmt::info!("board: {=str}", B::name());
    let Some(Parts {
        mut led,
        mut delay,
        counter,
        ..
    }) = B::init()
    else {
        defmt::error!("the board's peripherals were already taken");
        return false;
    };
    let Some(storage) = STORAGE.try_take() else {
        defmt::error!("the training memory was already taken");
        return false;
    };
    // The LED is lit while training.
    let mut log = (
        DeviceLog,
        (EpochLed::new(&mut led, true), TrainingWork::new(counter)),
    );
    let pass = match classify::run(storage, &mut log) {
        Ok(outcome) => {
            let work = log.1 .1.work();
            let per_sample = (work as f32 / outcome.trained_samples.max(1) as f32 + 0.5) as u32;
            defmt::info!(
                "cost: training ran {=u64} {=str} for {=u64} samples ({=u32} epochs): {=u32} \
                 {=str} per training sample (forward, softmax cross-entropy, backward, update; \
                 validation passes included)",
                work,
                B::Counter::UNIT,
                outcome.trained_samples,
                outcome.epochs,
                per_sample,
                B::Counter::UNIT
            );
            outcome.pass
        }
        Err(e) => {
            defmt::error!("the classification demo failed: {}", e);
            false
        }
    };
    defmt::info!(
        "cost: static RAM for the classifier: {=usize} B",
        core::mem::size_of::<Storage>()
    );
    cost::stack(stack.peak(), stack.size());
    if !B::debugger_attached() {
        crate::app::show_forever(pass, &mut led, &mut delay)
    }
    let _ = led.set_low();
    pass
}
