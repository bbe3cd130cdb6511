//! Ctrl-C during training. The first press asks the run to stop after the current mini-batch:
//! the best weights so far are kept and saved, and the command exits with [`EXIT_CODE`]. A
//! second press ends the process at once, with the same code: every output is written
//! atomically (by the `output` module), so even then no file is left half-written.
//!
//! The signal handler comes from the `ctrlc` crate; it only sets a flag that the training loop
//! reads between mini-batches.
//!
//! A program with signal handling of its own (the Python module: the interpreter's handlers
//! raise `KeyboardInterrupt`) runs the training under [`checking`] instead, with a check of its
//! own that the loop asks at the same points.

use std::cell::RefCell;
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

/// A caller's check whether the run on this thread should stop (see [`checking`]).
type Check = Box<dyn FnMut() -> bool>;

thread_local! {
    static CHECK: RefCell<Option<Check>> = const { RefCell::new(None) };
}

/// True once Ctrl-C was pressed after [`watch`], or once the check of an enclosing
/// [`checking`] on this thread says so.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
        || CHECK.with(|check| check.borrow_mut().as_mut().is_some_and(|stop| stop()))
}

/// Runs `run` with `check` asked, by every [`requested`] on this thread, whether the run should
/// stop: the training loops then stop as after Ctrl-C, with the best weights so far. `check` is
/// asked after every mini-batch, so it should be cheap (or look at a clock first). The check
/// an enclosing call set is restored afterwards.
pub fn checking<R>(check: impl FnMut() -> bool + 'static, run: impl FnOnce() -> R) -> R {
    /// Puts the earlier check back, even if `run` unwinds.
    struct Restore(Option<Check>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let earlier = self.0.take();
            CHECK.with(|check| *check.borrow_mut() = earlier);
        }
    }
    let earlier = CHECK.with(|slot| slot.borrow_mut().replace(Box::new(check)));
    let _restore = Restore(earlier);
    run()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;

    #[test]
    fn a_check_is_asked_inside_checking_only_and_the_earlier_one_comes_back() {
        assert!(!requested());
        let asked = Rc::new(Cell::new(0));
        let counter = Rc::clone(&asked);
        let inner = checking(
            move || {
                counter.set(counter.get() + 1);
                counter.get() >= 2
            },
            || {
                let first = requested();
                let nested = checking(|| false, requested);
                (first, nested, requested())
            },
        );
        assert_eq!(inner, (false, false, true));
        assert_eq!(
            asked.get(),
            2,
            "the nested check replaced it, then it came back"
        );
        assert!(!requested(), "outside checking, only Ctrl-C counts");
    }
}
