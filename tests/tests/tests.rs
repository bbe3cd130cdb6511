//! Cross-crate tests: one test binary, one module per area.

mod classify;
mod edges;
mod firmware;
mod golden;
mod learning;
mod link;
mod lstsq;
mod resume;
mod robustness;
mod stream;
mod zero_chunk;
