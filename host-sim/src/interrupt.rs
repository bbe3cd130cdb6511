//! Ctrl-C during training. The first press asks the run to stop after the current mini-batch:
//! the best weights so far are kept and saved, and the command exits with [`EXIT_CODE`]. A
//! second press ends the process at once, with the same code: every output is written
//! atomically (see [`crate::output`]), so even then no file is left half-written.
//!
//! The signal handler comes from the `ctrlc` crate; it only sets a flag that the training loop
//! reads between mini-batches.

use std::sync::atomic::{AtomicBool, Ordering};

/// The exit code of a command stopped by Ctrl-C: 128 + SIGINT, as a shell reports it.
pub const EXIT_CODE: u8 = 130;

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// From now on, Ctrl-C asks the run to stop instead of ending the process (see the
/// [module docs](self)). Calling it again does nothing.
pub fn watch() {
    // Fails only if a handler is already set (a second call): the first one stays.
    let _ = ctrlc::set_handler(|| {
        if REQUESTED.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(EXIT_CODE));
        }
    });
}

/// True once Ctrl-C was pressed after [`watch`].
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}
