//! The firmware under QEMU tells the host's story bit for bit: every loss, every prediction and
//! the trained weights' hash are equal, across both boots (train and save, reset, load back),
//! and it exits with success.
//!
//! It runs on `mps2-an386` (Cortex-M4F), or on the emulated board named by the environment
//! variable `TINYTRAIN_BOARD` (`cargo xtask test` runs it on every one).

use std::sync::OnceLock;
use std::time::Duration;
use xtask::firmware::{self, Board, DEMO, EMULATED, MPS2_AN386};

/// Generous: the run takes about a second.
const TIMEOUT: Duration = Duration::from_secs(300);

/// Lines only the device prints: its board and what learning cost it.
fn device_only(line: &str) -> bool {
    line.starts_with("board: ") || line.starts_with("cost: ")
}

/// The `f32` bits printed after each loss: `0.0123 (0x3c4985f0)`.
fn loss_bits(line: &str) -> Vec<u32> {
    line.split("(0x")
        .skip(1)
        .filter_map(|rest| rest.split_once(')'))
        .filter_map(|(hex, _)| u32::from_str_radix(hex, 16).ok())
        .collect()
}

/// The firmware's log and exit code, from one build and run shared by the tests.
fn firmware_log() -> &'static (Vec<String>, i32) {
    static LOG: OnceLock<(Vec<String>, i32)> = OnceLock::new();
    LOG.get_or_init(build_and_run)
}

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

fn build_and_run() -> (Vec<String>, i32) {
    let board = board();
    let elf = board.build(DEMO).unwrap_or_else(|e| {
        panic!(
            "building the firmware failed ({e}); `cargo xtask test` installs its targets and \
             the flip-link linker"
        )
    });
    let mut lines = Vec::new();
    let code = board
        .run(&elf, TIMEOUT, |line| lines.push(line.to_owned()))
        .unwrap_or_else(|e| panic!("running the firmware under QEMU {} failed: {e}", board.name));
    (lines, code)
}

#[test]
fn firmware_under_qemu_matches_the_host_bit_for_bit() {
    let (device, code) = firmware_log();
    let code = *code;
    let mut host = Vec::new();
    let run = tinytrain_demo::host::run_on_host(&mut host).expect("host demo");
    let outcome = run.trained;
    let host = String::from_utf8(host).expect("UTF-8");
    let host: Vec<&str> = host.lines().collect();
    let story: Vec<&str> = device
        .iter()
        .map(String::as_str)
        .filter(|l| !device_only(l))
        .collect();

    let host_bits: Vec<u32> = host.iter().flat_map(|l| loss_bits(l)).collect();
    let device_bits: Vec<u32> = story.iter().flat_map(|l| loss_bits(l)).collect();
    assert!(
        host_bits.len() >= 2 * outcome.epochs as usize,
        "too few losses logged: {host_bits:?}"
    );
    assert_eq!(device_bits, host_bits, "losses differ (f32 bits)");
    let hash = format!("FNV-1a of their bits {:#010x}", outcome.weights_hash);
    assert!(
        host.iter().any(|l| l.ends_with(&hash)),
        "{hash} not in the host log"
    );
    assert!(
        story.iter().any(|l| l.ends_with(&hash)),
        "{hash} not in the device log"
    );
    for (i, (d, h)) in story.iter().zip(&host).enumerate() {
        assert_eq!(d, h, "line {} differs", i + 1);
    }
    assert_eq!(
        story.len(),
        host.len(),
        "device log:\n{}",
        device.join("\n")
    );
    assert!(run.passed());
    assert_eq!(code, 0, "the firmware failed:\n{}", device.join("\n"));
}

#[test]
fn firmware_loads_its_model_back_after_a_software_reset() {
    let (device, code) = firmware_log();
    let log = device.join("\n");
    let at = |prefix: &str| {
        device
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line in:\n{log}"))
    };
    let (first, second) = device.split_at(at("reset: software reset"));
    let expect = |boot: &[String], lines: &[&str]| {
        for line in lines {
            assert!(boot.iter().any(|l| l == line), "no `{line}` in:\n{log}");
        }
    };
    expect(
        first,
        &[
            "boot: cold start (power-on)",
            "flash: no valid model in either slot: training one",
            "flash: saved the model to slot A (sequence 1)",
        ],
    );
    expect(
        second,
        &[
            "boot: warm start (software reset)",
            "flash: loaded the model in slot A (sequence 1): evaluating it without retraining",
        ],
    );
    let test_mse = |boot: &[String], prefix: &str| {
        let line = boot
            .iter()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line in:\n{log}"));
        loss_bits(line)[0]
    };
    let trained = test_mse(first, "step 3, test (evaluated once): MLP MSE");
    let loaded = test_mse(
        second,
        "step 3, test (evaluated once): the loaded MLP's MSE",
    );
    assert_eq!(loaded, trained, "test MSE bits after the reset");
    let hash = |boot: &[String]| {
        boot.iter()
            .find(|l| l.starts_with("final weights: "))
            .cloned()
    };
    assert_eq!(hash(second), hash(first));
    assert!(
        !second.iter().any(|l| l.starts_with("epoch ")),
        "retrained after the reset:\n{log}"
    );
    let check = second.iter().rev().find(|l| !device_only(l));
    assert!(
        check.is_some_and(|l| l.starts_with("check: PASS") && loss_bits(l) == [trained]),
        "{check:?}"
    );
    assert_eq!(*code, 0, "{log}");
}

#[test]
fn firmware_reports_what_learning_cost() {
    let (device, _) = firmware_log();
    let cost = |prefix: &str| {
        device
            .iter()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line in:\n{}", device.join("\n")))
            .to_owned()
    };
    let training = cost("cost: training ran ");
    let per_sample: u64 = training
        .split(": ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count per sample in `{training}`"));
    // A forward and backward pass of 321 parameters takes thousands of instructions, not 0.
    assert!(
        (1_000..1_000_000).contains(&per_sample),
        "{per_sample} instructions per sample"
    );
    let stack = cost("cost: peak stack ");
    let peak: usize = stack
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no peak in `{stack}`"));
    assert!((256..64 * 1024).contains(&peak), "peak stack {peak} B");
    assert!(cost("cost: static RAM for the MLP: ").ends_with(" B in all"));
}

#[test]
fn loss_bits_are_read_from_a_line() {
    let line = "epoch 3: train MSE 0.5 (0x3f000000), validation MSE 0.25 (0x3e800000) (best)";
    assert_eq!(loss_bits(line), [0x3f00_0000, 0x3e80_0000]);
    assert!(loss_bits("no losses (best)").is_empty());
}
