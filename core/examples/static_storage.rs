//! Training as firmware does it: nothing on the heap, every buffer a `static` whose size the
//! compiler checks, the data set in flash (`static` arrays). [`train`] uses nothing from `std`,
//! so it builds for a microcontroller as it is; `main` only prints what it returns.
//!
//! `cargo run -p tinytrain-core --example static_storage`

// The data set is computed by `const fn`s, which index arrays in a loop bounded by their length
// (iterators are not `const`).
#![allow(clippy::indexing_slicing)]

use static_cell::ConstStaticCell;
use std::process::ExitCode;
use tinytrain_core::arena::{Architecture, TrainStorage};
use tinytrain_core::{shape, Config, Dataset, Error, Optimizer, StopReason};

/// Samples in the data set.
const SAMPLES: usize = 64;

/// `y = x²` on [-1, 1], computed at compile time (a firmware would hold measurements here).
static INPUTS: [f32; SAMPLES] = inputs();
static TARGETS: [f32; SAMPLES] = targets();

const fn inputs() -> [f32; SAMPLES] {
    let mut xs = [0.0; SAMPLES];
    let mut i = 0;
    while i < SAMPLES {
        xs[i] = 2.0 * i as f32 / (SAMPLES - 1) as f32 - 1.0;
        i += 1;
    }
    xs
}

const fn targets() -> [f32; SAMPLES] {
    let mut ys = inputs();
    let mut i = 0;
    while i < SAMPLES {
        ys[i] = ys[i] * ys[i];
        i += 1;
    }
    ys
}

/// The network, fixed at compile time: one input, 16 ReLU units, one output, trained with SGD.
struct Parabola;

impl Architecture for Parabola {
    const WIDTHS: &'static [usize] = &[1, 16, 1];
    const OPTIMIZER: Optimizer = Optimizer::SGD;
}

/// The arena's length: a wrong number here does not compile.
const ARENA: usize = shape::train_arena_len(Parabola::WIDTHS, Parabola::OPTIMIZER);

/// Arena and sample order, zeroed in `.bss`; taken once.
static STORAGE: ConstStaticCell<TrainStorage<Parabola, ARENA, SAMPLES>> =
    ConstStaticCell::new(TrainStorage::new());

/// What training gave: why it stopped, after how many epochs, and the test MSE.
struct Trained {
    stop: Option<StopReason>,
    epochs: u32,
    test_mse: f32,
}

/// Trains on the static data set in the static storage. No allocation, no `std`.
fn train() -> Result<Trained, Error> {
    let storage = STORAGE.take();
    let data = Dataset::new(&INPUTS, &TARGETS, 1, 1)?;
    let config = Config {
        learning_rate: 0.05,
        batch_size: 8,
        ..Config::DEFAULT
    };
    let mut trainer = storage.trainer(config, data, 0.2, 0.2, 7)?;
    let report = trainer.fit(|_| {})?;
    let done = trainer.finish();
    Ok(Trained {
        stop: report.stop,
        epochs: report.epochs_run,
        test_mse: done.test_mse.unwrap_or(f32::NAN),
    })
}

fn main() -> ExitCode {
    let trained = match train() {
        Ok(trained) => trained,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "{} after {} epochs; test MSE {:.5}; {} B of static training memory",
        trained.stop.map_or("running", |stop| stop.name()),
        trained.epochs,
        trained.test_mse,
        core::mem::size_of::<TrainStorage<Parabola, ARENA, SAMPLES>>()
    );
    if trained.test_mse < 0.01 {
        ExitCode::SUCCESS
    } else {
        eprintln!("the network did not learn x²");
        ExitCode::FAILURE
    }
}
