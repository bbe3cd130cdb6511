//! The stream story under QEMU tells the host's story bit for bit: every epoch's losses, the
//! drift, the test window and the tracked weights' hash are equal, and it exits with success.
//!
//! It runs on `mps2-an386` (Cortex-M4F), or on the emulated board named by the environment
//! variable `TINYTRAIN_BOARD`.

use std::time::Duration;
use xtask::firmware::{self, Board, EMULATED, MPS2_AN386, STREAM};

/// Generous: the run takes a few seconds on the Cortex-M4F, a minute or two in software floats.
const TIMEOUT: Duration = Duration::from_secs(600);

/// The board the test runs on.
fn board() -> Board {
    match std::env::var("TINYTRAIN_BOARD") {
        Ok(name) => firmware::board(&name)
            .filter(|b| b.machine.is_some())
            .unwrap_or_else(|| {
                let names: Vec<&str> = EMULATED.iter().map(|b| b.name).collect();
                panic!("TINYTRAIN_BOARD={name}: not one of the emulated boards {names:?}")
            }),
        Err(_) => MPS2_AN386,
    }
}

/// The `f32` bits printed after each loss: `0.0123 (0x3c4985f0)`.
fn loss_bits(line: &str) -> Vec<u32> {
    line.split("(0x")
        .skip(1)
        .filter_map(|rest| rest.split_once(')'))
        .filter_map(|(hex, _)| u32::from_str_radix(hex, 16).ok())
        .collect()
}

#[test]
fn the_stream_story_under_qemu_matches_the_host_bit_for_bit() {
    let board = board();
    let elf = board.build(STREAM).unwrap_or_else(|e| {
        panic!("building the stream firmware failed ({e}); `cargo xtask test` installs its tools")
    });
    let mut device = Vec::new();
    let code = board
        .run(&elf, TIMEOUT, |line| device.push(line.to_owned()))
        .unwrap_or_else(|e| panic!("running the firmware under QEMU {} failed: {e}", board.name));
    let log = device.join("\n");
    let mut host = Vec::new();
    let outcome = tinytrain_demo::host::stream_on_host(&mut host).expect("host stream story");
    let host = String::from_utf8(host).expect("UTF-8");
    let host: Vec<&str> = host.lines().collect();
    let story: Vec<&str> = device
        .iter()
        .map(String::as_str)
        .filter(|l| !l.starts_with("board: ") && !l.starts_with("cost: "))
        .collect();
    let bits = |lines: &[&str]| lines.iter().flat_map(|l| loss_bits(l)).collect::<Vec<_>>();
    assert!(
        bits(&host).len() > 2 * outcome.epochs as usize / 2,
        "too few losses"
    );
    assert_eq!(bits(&story), bits(&host), "losses differ (f32 bits)");
    assert_eq!(story, host, "device log:\n{log}");
    let hash = format!("FNV-1a of their bits {:#010x}", outcome.weights_hash);
    assert!(
        story.iter().any(|l| l.ends_with(&hash)),
        "{hash} not in:\n{log}"
    );
    assert!(outcome.pass && outcome.drifts == 1, "{log}");
    // What a reading cost: thousands of instructions (four samples trained on average), not 0.
    let per_reading: u64 = device
        .iter()
        .find_map(|l| l.strip_prefix("cost: the stream ran "))
        .and_then(|rest| rest.split(": ").nth(1))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no cost per reading in:\n{log}"));
    assert!((1_000..10_000_000).contains(&per_reading), "{per_reading}");
    assert_eq!(code, 0, "the firmware failed:\n{log}");
}
