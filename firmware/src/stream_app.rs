//! The stream story on any [`Board`]: [`tinytrain_demo::stream`] — a simulated sensor's
//! readings learned as they arrive, a drift seen and tracked — with its cost: work per reading,
//! static RAM, peak stack. The LED toggles every epoch.

use crate::board::{Board, Counter, Parts};
use crate::watch::EpochLed;
use crate::{cost, device_log::DeviceLog, stack::Stack};
use static_cell::ConstStaticCell;
use tinytrain_demo::stream::{self, StreamStorage, ARRIVALS};

/// The stream's memory: in `.bss`, sized by the core's `const fn`s.
static STORAGE: ConstStaticCell<StreamStorage> = ConstStaticCell::new(StreamStorage::new());

/// Runs the stream story on board `B` and reports its cost; returns whether it passed.
pub fn run<B: Board>() -> bool {
    let stack = Stack::paint();
    defmt::println!("board: {=str}", B::name());
    let Some(Parts {
        mut led,
        mut counter,
        ..
    }) = B::init()
    else {
        defmt::error!("the board's peripherals were already taken");
        return false;
    };
    let Some(storage) = STORAGE.try_take() else {
        defmt::error!("the stream's memory was already taken");
        return false;
    };
    let mut log = (DeviceLog, EpochLed::new(&mut led, false));
    let start = counter.now();
    let outcome = stream::run(storage, &mut log);
    let work = counter.now().saturating_sub(start);
    let passed = match outcome {
        Ok(outcome) => outcome.pass,
        Err(e) => {
            defmt::error!("the stream failed: {}", e);
            false
        }
    };
    // In `f32`, rounded: a 64-bit integer division would link library code for one line.
    let per_reading = (work as f32 / ARRIVALS as f32 + 0.5) as u32;
    defmt::println!(
        "cost: the stream ran {=u64} {=str} for {=u32} readings: {=u32} {=str} per reading \
         (push, its share of the steps and of the epochs' validation)",
        work,
        B::Counter::UNIT,
        ARRIVALS,
        per_reading,
        B::Counter::UNIT
    );
    defmt::println!(
        "cost: static RAM for the stream: {=usize} B, whatever the number of readings",
        core::mem::size_of::<StreamStorage>()
    );
    cost::stack(stack.peak(), stack.size());
    passed
}
