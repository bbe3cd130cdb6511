//! A microcontroller that learns from its own data: it trains a small network on the samples in
//! [`INPUTS`] and [`TARGETS`], evaluates it once on held-out samples, saves it to flash
//! (power-loss safe: two slots, the older one rewritten), loads it back and checks it.
//!
//! Replace the data, the widths and [`CONFIG`] with yours; the sizes of every buffer follow from
//! them at compile time. `cargo run` (the nRF52840-DK, with probe-rs) or `cargo qemu` (QEMU).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use defmt::{debug, error, info};
use panic_probe as _;
use static_cell::ConstStaticCell;
use tinytrain_core::arena::{Architecture, TrainStorage};
use tinytrain_core::format::{self, Buffers, Contents, Sections};
use tinytrain_core::{shape, Config, Dataset, Error, ModelStore, Optimizer};

#[cfg(feature = "nrf52840")]
use defmt_rtt as _;
#[cfg(feature = "qemu")]
use defmt_semihosting as _;

/// Your inputs, one sample after another (here one input per sample): in flash, not RAM.
static INPUTS: [f32; SAMPLES] = [
    -1.0000, -0.9574, -0.9149, -0.8723, -0.8298, -0.7872, -0.7447, -0.7021, -0.6596, -0.6170,
    -0.5745, -0.5319, -0.4894, -0.4468, -0.4043, -0.3617, -0.3191, -0.2766, -0.2340, -0.1915,
    -0.1489, -0.1064, -0.0638, -0.0213, 0.0213, 0.0638, 0.1064, 0.1489, 0.1915, 0.2340, 0.2766,
    0.3191, 0.3617, 0.4043, 0.4468, 0.4894, 0.5319, 0.5745, 0.6170, 0.6596, 0.7021, 0.7447, 0.7872,
    0.8298, 0.8723, 0.9149, 0.9574, 1.0000,
];

/// What the network should answer for each sample: a sensor's curve, measured with some noise.
static TARGETS: [f32; SAMPLES] = [
    -0.4932, -0.4824, -0.5702, -0.5335, -0.5903, -0.6078, -0.5585, -0.6240, -0.6408, -0.6254,
    -0.6178, -0.6529, -0.6299, -0.6667, -0.6320, -0.6100, -0.6039, -0.5666, -0.5169, -0.4111,
    -0.3339, -0.2532, -0.1480, -0.0910, 0.0488, 0.1596, 0.2730, 0.3166, 0.4139, 0.4405, 0.5521,
    0.5591, 0.6327, 0.7521, 0.6913, 0.8152, 0.8315, 0.8403, 0.8895, 0.9163, 0.9559, 0.9413, 0.9540,
    0.9775, 0.9902, 1.0432, 1.0463, 1.1281,
];

/// Samples in the data set.
const SAMPLES: usize = 48;

/// The network: one input, two hidden layers of 8 ReLU units, one output.
struct Network;

impl Architecture for Network {
    const WIDTHS: &'static [usize] = &[1, 8, 8, 1];
    const OPTIMIZER: Optimizer = Optimizer::ADAM;
}

/// How it trains: Adam, mini-batches of 8, early stopping on the validation loss.
const CONFIG: Config = Config {
    learning_rate: 0.01,
    batch_size: 8,
    max_epochs: 400,
    patience: 40,
    ..Config::DEFAULT
};
/// A fifth of the samples for validation (early stopping), a fifth for the test, evaluated once.
const VAL_FRACTION: f32 = 0.2;
const TEST_FRACTION: f32 = 0.2;
/// Seeds the split (the weights and the shuffle are seeded by `CONFIG.seed`).
const SPLIT_SEED: u64 = 7;
/// The test MSE that counts as learned, for this data (its noise alone gives about 0.001).
const GOOD_ENOUGH: f32 = 0.01;

/// The training memory, sized at compile time, in `.bss`.
type Storage =
    TrainStorage<Network, { shape::train_arena_len(Network::WIDTHS, Network::OPTIMIZER) }, SAMPLES>;
static STORAGE: ConstStaticCell<Storage> = ConstStaticCell::new(TrainStorage::new());

/// The saved model's bytes (weights and standardisation; `Sections::resume` adds the
/// optimizer's state for fine-tuning), and the slot that holds them: its record in whole erase
/// pages, sized from the network at compile time.
const BLOB: usize = format::encoded_len(Network::WIDTHS, Sections::NONE);
const SLOT: usize = ModelStore::<board::Flash>::slot_len(BLOB);
/// The window the model streams through on its way to and from flash: a few dozen bytes,
/// whatever the network's size.
const SCRATCH: usize = ModelStore::<board::Flash>::scratch_len();

#[entry]
fn main() -> ! {
    let learned = match run() {
        Ok(learned) => learned,
        Err(e) => {
            error!("{}", e);
            false
        }
    };
    board::exit(learned)
}

/// Trains, tests, saves and loads back; whether the network learned the data.
fn run() -> Result<bool, Error> {
    let data = Dataset::new(&INPUTS, &TARGETS, 1, 1)?;
    let storage = STORAGE.take();
    let mut trainer = storage.trainer(CONFIG, data, VAL_FRACTION, TEST_FRACTION, SPLIT_SEED)?;
    info!("training {} on {=usize} samples", Network::WIDTHS, SAMPLES);
    let report = trainer.fit(|epoch| {
        let loss = epoch.loss;
        debug!(
            "epoch {=u32}: train MSE {=f32}, validation MSE {=f32}",
            loss.epoch, loss.train_mse, loss.val_mse
        );
    })?;
    let stop = report.stop.map_or("stopped", |reason| reason.name());
    info!(
        "{=str} after {=u32} epochs; kept epoch {=u32}, validation MSE {=f32}",
        stop, report.epochs_run, report.best_epoch, report.best_val_mse
    );
    let done = trainer.finish();
    let test_mse = done.test_mse.unwrap_or(f32::NAN);
    info!("test MSE {=f32} (evaluated once)", test_mse);

    let mut store = ModelStore::new(board::model_flash(), 0, SLOT as u32)?;
    let mut scratch = [0; SCRATCH];
    let saved = store.save(&Contents::new(done.model), &mut scratch)?;
    info!(
        "saved the model to slot {} (sequence {=u32})",
        saved.slot, saved.sequence
    );

    let mut params = [0.0; shape::param_len(Network::WIDTHS)];
    let mut stats = [0.0; shape::scaler_len(Network::WIDTHS)];
    let (loaded, _) = store.load(
        Network::WIDTHS,
        Buffers::new(&mut params, &mut stats),
        &mut scratch,
    )?;
    let same = loaded == saved && params == done.model.params() && stats == done.model.stats();
    info!(
        "loaded it back from slot {}: the same bits: {=bool}",
        loaded.slot, same
    );
    Ok(same && test_mse < GOOD_ENOUGH)
}

/// What differs between boards: where the model is kept and how a run ends.
mod board {
    #[cfg(all(feature = "qemu", feature = "nrf52840"))]
    compile_error!(
        "pick one board: the default nrf52840, or --no-default-features --features qemu"
    );

    #[cfg(feature = "qemu")]
    use {static_cell::ConstStaticCell, tinytrain_core::slots::sim::SimFlash};

    /// QEMU has no flash controller: the model goes to RAM that behaves as NOR flash (4 KiB
    /// pages, 4-byte words, bits cleared only by an erase), lost at power-off.
    #[cfg(feature = "qemu")]
    type RamFlash = SimFlash<{ 2 * 4096 }, 4, 4096>;
    #[cfg(feature = "qemu")]
    pub type Flash = &'static mut RamFlash;

    #[cfg(feature = "qemu")]
    pub fn model_flash() -> Flash {
        static FLASH: ConstStaticCell<RamFlash> = ConstStaticCell::new(SimFlash::new());
        FLASH.take()
    }

    /// The nRF52840's flash controller, over the `MODEL_FLASH` pages of `memory.x`.
    #[cfg(feature = "nrf52840")]
    pub type Flash = nrf52840_hal::nvmc::Nvmc<nrf52840_hal::pac::NVMC>;

    #[cfg(feature = "nrf52840")]
    pub fn model_flash() -> Flash {
        extern "C" {
            static mut __model_flash_start: u8;
            static __model_flash_end: u8;
        }
        let start = core::ptr::addr_of_mut!(__model_flash_start);
        let end = core::ptr::addr_of!(__model_flash_end) as usize;
        // SAFETY: the linker keeps MODEL_FLASH out of the program, so nothing else refers to it,
        // and this runs once (the peripherals can be taken once).
        let pages = unsafe { core::slice::from_raw_parts_mut(start, end - start as usize) };
        let nvmc = nrf52840_hal::pac::Peripherals::take()
            .expect("taken once")
            .NVMC;
        nrf52840_hal::nvmc::Nvmc::new(nvmc, pages)
    }

    /// Ends the run: with a debugger (`probe-rs run`) or under QEMU, a semihosting exit whose
    /// code is the verdict. A board running on its own would stop at that breakpoint, so there
    /// it sleeps instead.
    pub fn exit(success: bool) -> ! {
        if cfg!(feature = "qemu") || cortex_m::peripheral::DCB::is_debugger_attached() {
            semihosting::process::exit(if success { 0 } else { 1 })
        }
        loop {
            cortex_m::asm::wfi();
        }
    }

    /// A panic (panic-probe printed its message) or a fault ends the run as a failure.
    #[cortex_m_rt::exception]
    unsafe fn HardFault(_frame: &cortex_m_rt::ExceptionFrame) -> ! {
        exit(false)
    }
}

// Both slots fit in the `MODEL_FLASH` pages of `memory.x`.
const _: () = assert!(2 * SLOT <= 8 * 1024, "two slots must fit in MODEL_FLASH");
