//! On-target unit tests: the facts the host/device bit-for-bit equality rests on, and the
//! firmware's own measuring tools, checked on the MPS2+ boards (`cargo xtask test` runs them on
//! the Cortex-M4F, QEMU `mps2-an386`).
#![no_std]
#![no_main]

use core::hint::black_box;
use tinytrain_firmware as _; // logger, panic handler, semihosting exit

/// Puts 4 KiB on the stack, below the caller's frame.
#[inline(never)]
fn use_4_kib_of_stack() -> u32 {
    let deep = black_box([1u32; 1024]);
    black_box(&deep).iter().sum()
}

#[defmt_test::tests]
mod tests {
    use super::use_4_kib_of_stack;
    use core::hint::black_box;
    use embedded_storage::nor_flash::{NorFlash, NorFlashErrorKind, ReadNorFlash};
    use tinytrain_core::{Lcg, Slot, Stored};
    use tinytrain_demo::Handover;
    use tinytrain_firmware::board::ram_flash::RamFlash;
    use tinytrain_firmware::board::{Board, Counter, Selected};
    use tinytrain_firmware::handover;
    use tinytrain_firmware::stack::Stack;

    struct State {
        counter: <Selected as Board>::Counter,
        flash: RamFlash,
    }

    #[init]
    fn init() -> State {
        let Some(parts) = Selected::init() else {
            defmt::panic!("the board was already taken");
        };
        State {
            counter: parts.counter,
            flash: parts.flash,
        }
    }

    #[test]
    fn multiply_then_add_rounds_twice() {
        // (1 + 2⁻²³)² = 1 + 2⁻²² + 2⁻⁴⁶: rounded, minus (1 + 2⁻²²), is 0; a fused
        // multiply-add would keep 2⁻⁴⁶ and break equality with the host.
        let x = black_box(f32::from_bits(0x3f80_0001));
        let y = black_box(f32::from_bits(0x3f80_0002));
        defmt::assert_eq!((x * x - y).to_bits(), 0);
    }

    #[test]
    fn square_root_is_correctly_rounded() {
        // Adam divides by a square root; √2 to the nearest f32, as computed on the host.
        defmt::assert_eq!(libm::sqrtf(black_box(2.0)).to_bits(), 0x3fb5_04f3);
    }

    #[test]
    fn lcg_draws_the_host_sequence() {
        // The split and every shuffle come from here; values computed on the host.
        let mut rng = Lcg::new(black_box(42));
        let drawn = [rng.next_u32(), rng.next_u32(), rng.next_u32()];
        defmt::assert_eq!(drawn, [0x9177_8aed, 0x39b7_f8a5, 0x69af_c5a5]);
    }

    #[test]
    fn counter_counts_the_instructions_run(state: &mut State) {
        let before = state.counter.now();
        cortex_m::asm::delay(black_box(1_000_000));
        let spent = state.counter.now() - before;
        // `delay` spins at least that many cycles; QEMU runs about one instruction per cycle.
        defmt::assert!((500_000..4_000_000).contains(&spent), "{=u64}", spent);
    }

    #[test]
    fn stack_peak_sees_a_deep_frame() {
        let stack = cortex_m::interrupt::free(|_| Stack::paint());
        let before = stack.peak();
        defmt::assert_eq!(use_4_kib_of_stack(), 1024);
        let peak = stack.peak();
        defmt::assert!(peak >= before + 4096, "{=usize} -> {=usize}", before, peak);
        defmt::assert!(peak < stack.size());
    }

    #[test]
    fn ram_flash_erases_to_ones_and_programs_only_zeros(state: &mut State) {
        let flash = &mut state.flash;
        defmt::assert_eq!(flash.capacity(), 2 * 4096);
        defmt::assert!(flash.erase(0, 2 * 4096).is_ok());
        let mut bytes = [0; 8];
        defmt::assert!(flash.read(4092, &mut bytes).is_ok());
        defmt::assert_eq!(bytes, [0xFF; 8]);

        // Programming clears bits and never sets them: a second write ANDs.
        defmt::assert!(flash
            .write(4092, &[0x0F, 0xF0, 0x12, 0x34, 1, 2, 3, 4])
            .is_ok());
        defmt::assert!(flash.write(4092, &[0xF0, 0xFF, 0xFF, 0xFF]).is_ok());
        defmt::assert!(flash.read(4092, &mut bytes).is_ok());
        defmt::assert_eq!(bytes, [0x00, 0xF0, 0x12, 0x34, 1, 2, 3, 4]);

        // An erase resets its own page only.
        defmt::assert!(flash.erase(0, 4096).is_ok());
        defmt::assert!(flash.read(4092, &mut bytes).is_ok());
        defmt::assert_eq!(bytes, [0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4]);

        // Words, pages and bounds are checked.
        let misaligned = Err(NorFlashErrorKind::NotAligned);
        defmt::assert_eq!(flash.write(2, &[0; 4]), misaligned);
        defmt::assert_eq!(flash.write(0, &[0; 3]), misaligned);
        defmt::assert_eq!(flash.erase(0, 100), misaligned);
        let outside = Err(NorFlashErrorKind::OutOfBounds);
        defmt::assert_eq!(flash.read(2 * 4096 - 2, &mut bytes), outside);
        defmt::assert_eq!(flash.erase(4096, 3 * 4096), outside);
    }

    #[test]
    fn a_handover_is_taken_once_and_garbage_is_a_cold_start() {
        let saved = Handover {
            saved: Stored {
                slot: Slot::B,
                sequence: 7,
            },
            test_mse: 0.25,
            weights_hash: 0xdead_beef,
        };
        handover::leave(&saved);
        defmt::assert!(handover::take() == Some(saved));
        defmt::assert!(handover::take().is_none(), "taken twice");

        handover::leave(&saved);
        extern "C" {
            static mut __retained_start: u32;
        }
        // Slot B becomes slot A: still a slot, so only the CRC can tell.
        // SAFETY: the retained words are plain RAM that only the handover module uses, and
        // nothing else runs.
        unsafe {
            let slot = core::ptr::addr_of_mut!(__retained_start).add(1);
            core::ptr::write_volatile(slot, 0);
        }
        defmt::assert!(handover::take().is_none(), "a damaged handover was taken");
    }
}
