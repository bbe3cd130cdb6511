//! Cross-crate tests: one test binary, one module per area.

mod firmware;
mod golden;
mod learning;
mod robustness;
