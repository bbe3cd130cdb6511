//! What learning cost on the device: work per training sample, static RAM, peak stack.

use tinytrain_core::shape;
use tinytrain_demo::{data, memory, recipe, Outcome, Storage, SCRATCH_LEN, WIDTHS};

/// Work per training sample: the counted training work over the samples trained.
pub fn training(work: u64, unit: &str, outcome: &Outcome) {
    // In `f32`, rounded to the nearest unit: a 64-bit integer division would link 0.9 KB of
    // library code for this one line.
    let per_sample = (work as f32 / outcome.trained_samples.max(1) as f32 + 0.5) as u32;
    defmt::info!(
        "cost: training ran {=u64} {=str} for {=u64} samples ({=u32} epochs): {=u32} {=str} per \
         training sample (forward, backward, update; validation passes included)",
        work,
        unit,
        outcome.trained_samples,
        outcome.epochs,
        per_sample,
        unit
    );
}

/// Bytes of one `f32` or `u32`.
const WORD: usize = 4;
/// The network's weights and biases, bytes (gradients and the best-weights copy are as large).
const PARAMS: usize = shape::param_len(WIDTHS) * WORD;
/// The optimizer's state (Adam: two moments per parameter), bytes.
const OPTIMIZER_STATE: usize = PARAMS * recipe::CONFIG.optimizer.state_per_param();
/// Activations and back-propagated errors of one chunk of samples, bytes.
const SCRATCH: usize = shape::chunk_scratch_len(WIDTHS, recipe::CHUNK) * WORD;
/// Standardisation statistics, bytes.
const SCALING: usize = shape::scaler_len(WIDTHS) * WORD;
/// The shuffled sample order of one model's split, bytes.
const ORDER: usize = data::SAMPLES * WORD;
/// The least-squares baseline's sample order, line, standardisation and `f64` scratch, bytes.
const BASELINE: usize = core::mem::size_of::<memory::BaselineStorage>();
/// The window a model streams through to or from flash, and the model read back, bytes.
const FLASH: usize = SCRATCH_LEN + PARAMS + SCALING;

// The parts listed are all of the training memory.
const _: () = assert!(
    3 * PARAMS + OPTIMIZER_STATE + SCRATCH + SCALING + ORDER + BASELINE + FLASH
        == core::mem::size_of::<Storage>()
);

/// Static RAM, from the core's `const fn` sizes (the same numbers the storage was declared with).
pub fn ram() {
    defmt::info!(
        "cost: static RAM for the MLP: weights {=usize} B, gradients {=usize} B, optimizer state \
         {=usize} B, best-weights copy {=usize} B, activations and errors {=usize} B, scaling \
         {=usize} B, sample order {=usize} B; linear baseline {=usize} B; flash buffers \
         {=usize} B; {=usize} B in all",
        PARAMS,
        PARAMS,
        OPTIMIZER_STATE,
        PARAMS,
        SCRATCH,
        SCALING,
        ORDER,
        BASELINE,
        FLASH,
        core::mem::size_of::<Storage>()
    );
    defmt::info!(
        "cost: data set: {=usize} samples, {=usize} B in flash",
        data::SAMPLES,
        2 * data::SAMPLES * WORD
    );
}

/// The deepest the stack went.
pub fn stack(peak: usize, size: usize) {
    defmt::info!("cost: peak stack {=usize} B (of {=usize} B)", peak, size);
}
