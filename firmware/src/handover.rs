//! What a boot that saved a model tells the next one, in RAM that a software reset keeps.
//!
//! Six words at the start of the `RETAINED` region of the board's `memory.x`, which holds no
//! section (neither the loader nor the start-up code writes it): a magic word, the slot, the
//! sequence number, the test MSE's bits, the weights' hash and a CRC-32 of the five. At
//! power-on the region holds garbage (zeros under QEMU) that fails the check: a cold start.

use tinytrain_core::crc::crc32;
use tinytrain_core::{Slot, Stored};
use tinytrain_demo::Handover;

extern "C" {
    static __retained_start: u32;
    static __retained_end: u32;
}

/// "TTHO": a tinytrain handover.
const MAGIC: u32 = u32::from_le_bytes(*b"TTHO");
/// Words kept: magic, slot, sequence, test MSE, weights hash, CRC.
const WORDS: usize = 6;

/// Leaves `handover` for the next boot, to be read after a software reset.
pub fn leave(handover: &Handover) {
    let slot = match handover.saved.slot {
        Slot::A => 0,
        Slot::B => 1,
    };
    let mut words = [
        MAGIC,
        slot,
        handover.saved.sequence,
        handover.test_mse.to_bits(),
        handover.weights_hash,
        0,
    ];
    words[WORDS - 1] = check(&words);
    store(&words);
}

/// Takes what the previous boot left, clearing it; `None` on a cold start.
pub fn take() -> Option<Handover> {
    let words = load()?;
    store(&[0; WORDS]);
    let [magic, slot, sequence, test_mse, weights_hash, crc] = words;
    let slot = match slot {
        0 => Slot::A,
        1 => Slot::B,
        _ => return None,
    };
    (magic == MAGIC && crc == check(&words)).then_some(Handover {
        saved: Stored { slot, sequence },
        test_mse: f32::from_bits(test_mse),
        weights_hash,
    })
}

/// CRC-32 of every word but the last (the CRC's place).
fn check(words: &[u32; WORDS]) -> u32 {
    let mut bytes = [0; 4 * (WORDS - 1)];
    for (dst, word) in bytes.chunks_exact_mut(4).zip(words) {
        dst.copy_from_slice(&word.to_le_bytes());
    }
    crc32(&bytes)
}

/// The retained words' address, if the region is large enough for them.
fn region() -> Option<*mut u32> {
    let start = core::ptr::addr_of!(__retained_start) as usize;
    let end = core::ptr::addr_of!(__retained_end) as usize;
    (end.saturating_sub(start) >= 4 * WORDS && start.is_multiple_of(4)).then_some(start as *mut u32)
}

/// Reads the retained words; `None` if the region is too small.
#[allow(unsafe_code)]
fn load() -> Option<[u32; WORDS]> {
    let start = region()?;
    let mut words = [0; WORDS];
    for (k, word) in words.iter_mut().enumerate() {
        // SAFETY: `region` checked that the RETAINED region, RAM that nothing else uses, holds
        // these aligned words. Volatile: after a power-on they hold anything.
        *word = unsafe { core::ptr::read_volatile(start.add(k)) };
    }
    Some(words)
}

/// Writes the retained words (nothing if the region is too small).
#[allow(unsafe_code)]
fn store(words: &[u32; WORDS]) {
    let Some(start) = region() else { return };
    for (k, &word) in words.iter().enumerate() {
        // SAFETY: as in `load`; only this module writes the region, from one thread.
        unsafe { core::ptr::write_volatile(start.add(k), word) };
    }
}
