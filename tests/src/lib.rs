//! Cross-crate tests live in `tests/`; this library only compiles the README's code.

/// The project's README: its Rust code runs as a doctest (`cargo test -p tinytrain-tests --doc`),
/// so the snippet a reader copies compiles and trains.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
