//! The least firmware that trains: the demo's network, data and settings without the rest of its
//! story — no baseline, no flash storage, no per-epoch log. It splits the data, trains with early
//! stopping, evaluates the test set once and prints its MSE and its peak stack; the run fails if
//! the network did not learn the curve. What tinytrain itself costs in flash (`cargo xtask bench
//! size`), and the shortest start for a firmware of your own: `cargo run --release --bin minimal`.
//! It touches no board peripheral, so it builds for every board of the firmware.
#![no_std]
#![no_main]

use static_cell::ConstStaticCell;
use tinytrain_core::{arena::TrainStorage, Error};
use tinytrain_demo::data::{self, SAMPLES};
use tinytrain_demo::recipe::{
    Mlp, ARENA_LEN, CHUNK, CONFIG, SPLIT_SEED, TEST_FRACTION, VAL_FRACTION,
};
use tinytrain_demo::story::test_mse;
use tinytrain_firmware::{cost, exit, stack::Stack};

/// The network's training memory.
type Storage = TrainStorage<Mlp, ARENA_LEN, SAMPLES, CHUNK>;

/// The training memory, in `.bss`.
static STORAGE: ConstStaticCell<Storage> = ConstStaticCell::new(TrainStorage::new());

/// A test MSE the network reaches on the noisy sine (its noise alone gives 0.01; a straight
/// line, 0.44).
const GOOD_ENOUGH: f32 = 0.05;

/// Trains the network and returns its test MSE.
fn train(storage: &mut Storage) -> Result<f32, Error> {
    let data = data::dataset()?;
    let mut trainer = storage.trainer(CONFIG, data, VAL_FRACTION, TEST_FRACTION, SPLIT_SEED)?;
    let report = trainer.fit(|_| {})?;
    defmt::info!("trained {=u32} epochs", report.epochs_run);
    test_mse(&trainer.finish())
}

#[tinytrain_firmware::entry]
fn main() -> ! {
    let stack = Stack::paint();
    let Some(storage) = STORAGE.try_take() else {
        exit(false)
    };
    let learned = match train(storage) {
        Ok(mse) => {
            defmt::info!("test MSE {=f32}", mse);
            mse < GOOD_ENOUGH
        }
        Err(e) => {
            defmt::error!("training failed: {}", e);
            false
        }
    };
    cost::stack(stack.peak(), stack.size());
    exit(learned)
}
