//! tinytrain's project automation, as a library so tests can use it too:
//!
//! - [`qemu`]: the firmware's runner — QEMU plus a defmt decoder, under a timeout;
//! - [`workspace`]: the repository's root, its build directory, `cargo` run there;
//! - [`firmware`]: where the firmware lives and how each board's binary is built;
//! - [`setup`]: installs what a fresh machine lacks (Rust targets, QEMU, flip-link);
//! - [`tools`]: where QEMU, the binutils and flip-link come from: the machine's, or fetched into
//!   the project's build directory;
//! - [`debian`]: Debian packages downloaded and unpacked there, never installed;
//! - [`mod@bench`]: the benchmarks' figures — on the emulated Cortex-M4F, the demo's size, the host;
//! - [`profile`]: instructions per training sample by function, from a trace under QEMU;
//! - [`python`]: the Python package's environment, wheel and tests;
//! - [`fleet`]: the Flower app's requirements, tests and commands, in that environment;
//! - [`symbols`]: a firmware ELF's sections, symbols and inlined functions, and the calls that
//!   can panic;
//! - [`template`]: the firmware template, built outside the repository and run under QEMU;
//! - [`cmd`]: running a tool, echoing it, and the errors of all of the above.

pub mod bench;
pub mod cmd;
pub mod debian;
pub mod firmware;
pub mod fleet;
pub mod profile;
pub mod python;
pub mod qemu;
pub mod setup;
pub mod symbols;
pub mod template;
pub mod tools;
pub mod workspace;

pub use cmd::Error;
