//! The on-device learning demo (placeholder until written).
#![no_std]
