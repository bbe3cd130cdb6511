//! On-target unit tests: the facts the host/device bit-for-bit equality rests on, and the
//! firmware's own measuring tools, checked on the Cortex-M4F (QEMU `mps2-an386`).
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
    use tinytrain_core::Lcg;
    use tinytrain_firmware::board::{mps2_an386::Instructions, Board, Counter, Mps2An386};
    use tinytrain_firmware::stack::Stack;

    #[init]
    fn init() -> Instructions {
        let Some(parts) = Mps2An386::init() else {
            defmt::panic!("the board was already taken");
        };
        parts.counter
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
    fn counter_counts_the_instructions_run(counter: &mut Instructions) {
        let before = counter.now();
        cortex_m::asm::delay(black_box(1_000_000));
        let spent = counter.now() - before;
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
}
