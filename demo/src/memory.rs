//! All the memory the demo runs in, sized at compile time from [`crate::recipe`]: the
//! baseline's, the network's training arena, and the buffers of a model's trip to flash.

use crate::data::SAMPLES;
use crate::recipe::{Mlp, ARENA_LEN, BASELINE_WIDTHS, CHUNK, PREDICT_SCRATCH_LEN, WIDTHS};
use tinytrain_core::arena::TrainStorage;
use tinytrain_core::{lstsq, shape};

/// Bytes of the window a model streams through on its way to or from flash
/// ([`tinytrain_core::ModelStore::scratch_len`]): enough on any flash whose read and write units
/// divide 64 (checked at compile time for the flash used). The model itself never sits whole in
/// a buffer.
pub const SCRATCH_LEN: usize = 64;

/// The baseline's memory: its split's sample order, the fitted line and standardisation, and
/// the least-squares scratch (`f64`).
#[derive(Debug)]
pub struct BaselineStorage {
    pub(crate) order: [u32; SAMPLES],
    pub(crate) params: [f32; shape::param_len(BASELINE_WIDTHS)],
    pub(crate) stats: [f32; shape::scaler_len(BASELINE_WIDTHS)],
    pub(crate) scratch: [f64; lstsq::scratch_len(1)],
}

impl BaselineStorage {
    const fn new() -> Self {
        Self {
            order: [0; SAMPLES],
            params: [0.0; shape::param_len(BASELINE_WIDTHS)],
            stats: [0.0; shape::scaler_len(BASELINE_WIDTHS)],
            scratch: [0.0; lstsq::scratch_len(1)],
        }
    }
}
/// The network's training memory.
pub(crate) type NetworkStorage = TrainStorage<Mlp, ARENA_LEN, SAMPLES, CHUNK>;

/// All the memory the demo trains in; `const`-constructible so firmware can keep it `static`.
#[derive(Debug)]
pub struct Storage {
    pub(crate) baseline: BaselineStorage,
    pub(crate) network: NetworkStorage,
    /// A model's trip to flash and back: here rather than on the stack.
    pub(crate) flash: FlashBuffers,
}

/// The window a model streams through to or from flash, and the model read back (once a
/// trainer holds it, `params` is the predictions' scratch).
#[derive(Debug)]
pub(crate) struct FlashBuffers {
    pub(crate) scratch: [u8; SCRATCH_LEN],
    pub(crate) params: [f32; shape::param_len(WIDTHS)],
    pub(crate) stats: [f32; shape::scaler_len(WIDTHS)],
}

// The predictions' scratch fits in `FlashBuffers::params`.
const _: () = assert!(PREDICT_SCRATCH_LEN <= shape::param_len(WIDTHS));

impl Storage {
    /// Zeroed storage.
    pub const fn new() -> Self {
        Self {
            baseline: BaselineStorage::new(),
            network: TrainStorage::new(),
            flash: FlashBuffers {
                scratch: [0; SCRATCH_LEN],
                params: [0.0; shape::param_len(WIDTHS)],
                stats: [0.0; shape::scaler_len(WIDTHS)],
            },
        }
    }
}

impl Default for Storage {
    fn default() -> Self {
        Self::new()
    }
}
