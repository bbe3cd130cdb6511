//! Peak stack use: paint the free stack with a pattern at start, find the deepest overwrite later.
//!
//! The stack spans `_stack_end..._stack_start` (the runtime's symbols: cortex-m-rt's, where
//! flip-link moves them so the stack sits at the bottom of RAM and an overflow faults instead of
//! corrupting data, or riscv-rt's).

/// The pattern painted on the unused stack.
const PAINT: u32 = 0xcc_cc_cc_cc;
/// Bytes below the stack pointer left untouched while painting (the painting code's own frame).
const MARGIN: usize = 256;

extern "C" {
    static _stack_start: u32;
    static _stack_end: u32;
}

/// The stack's bounds, painted.
#[derive(Debug)]
pub struct Stack {
    bottom: usize,
    top: usize,
}

impl Stack {
    /// Paints the stack below the caller's frame. Call first thing, before any interrupt is
    /// enabled, so nothing below the stack pointer is in use.
    #[allow(unsafe_code)]
    #[inline(never)]
    pub fn paint() -> Self {
        let bottom = core::ptr::addr_of!(_stack_end) as usize;
        let top = core::ptr::addr_of!(_stack_start) as usize;
        // This frame's address: the stack pointer, give or take the frame (within MARGIN).
        let here = 0u32;
        let sp = core::hint::black_box(core::ptr::addr_of!(here)) as usize;
        let mut word = bottom;
        while word + 4 <= sp.saturating_sub(MARGIN) {
            // SAFETY: `word` lies in the stack region below the live stack (and below a margin for
            // this function's frame); no interrupt is enabled, so nothing else uses it.
            unsafe { core::ptr::write_volatile(word as *mut u32, PAINT) };
            word += 4;
        }
        Self { bottom, top }
    }

    /// Stack size in bytes.
    pub fn size(&self) -> usize {
        self.top - self.bottom
    }

    /// The most stack ever used since [`Stack::paint`], in bytes.
    #[allow(unsafe_code)]
    pub fn peak(&self) -> usize {
        let mut word = self.bottom;
        // SAFETY: reads of aligned words inside the stack region.
        while word < self.top && unsafe { core::ptr::read_volatile(word as *const u32) } == PAINT {
            word += 4;
        }
        self.top - word
    }
}
