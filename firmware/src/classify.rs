//! The classification demo on any [`Board`]: [`tinytrain_demo::classify`]'s story — the
//! spirals, two baselines, training on the softmax cross-entropy with early stopping, the test
//! with its confusion matrix — and what it cost. The LED is lit while training and toggles every
//! epoch; without a debugger to report to, it keeps showing the verdict (lit for success,
//! blinking for failure).

use crate::board::{Board, Counter, Parts};
use crate::{cost, stack::Stack};
use embedded_hal::digital::OutputPin;
use static_cell::ConstStaticCell;
use tinytrain_demo::classify::{self, Line, Log, Storage};

/// Training memory: in `.bss`, sized by the core's `const fn`s.
static STORAGE: ConstStaticCell<Storage> = ConstStaticCell::new(Storage::new());

/// Logs lines with `defmt::info!`, counts the work from the `Training` line to the
/// `Stopped` line, toggles the LED every epoch.
struct DeviceLog<'a, L, C> {
    led: &'a mut L,
    lit: bool,
    counter: C,
    started: u64,
    training: u64,
}

impl<L: OutputPin, C: Counter> Log for DeviceLog<'_, L, C> {
    fn line(&mut self, line: &Line) {
        if let Line::Stopped { .. } = line {
            self.training = self.counter.now().saturating_sub(self.started);
        }
        defmt::info!("{}", line);
        match line {
            Line::Training { .. } => self.started = self.counter.now(),
            Line::Epoch { .. } => {
                self.lit = !self.lit;
                // The LED only shows progress: a failing pin must not stop training.
                let _ = self.led.set_state(self.lit.into());
            }
            _ => {}
        }
    }
}

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
    let _ = led.set_high();
    let mut log = DeviceLog {
        led: &mut led,
        lit: true,
        counter,
        started: 0,
        training: 0,
    };
    let pass = match classify::run(storage, &mut log) {
        Ok(outcome) => {
            let per_sample =
                (log.training as f32 / outcome.trained_samples.max(1) as f32 + 0.5) as u32;
            defmt::info!(
                "cost: training ran {=u64} {=str} for {=u64} samples ({=u32} epochs): {=u32} \
                 {=str} per training sample (forward, softmax cross-entropy, backward, update; \
                 validation passes included)",
                log.training,
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
