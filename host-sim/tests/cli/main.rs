//! End-to-end tests of the `tinytrain` command: one test binary, one module per area.

mod classify;
mod data;
mod demo;
mod errors;
mod fine_tune;
mod input;
mod manners;
mod outputs;
mod predict;
mod split;
mod state_dict;
mod stream;
mod sweep;
mod train;
mod verdicts;

use std::path::Path;
use std::process::{Command, Output};

/// Runs `tinytrain` with `args` (stderr is a pipe, so progress comes as plain lines).
pub fn tinytrain(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tinytrain"))
        .args(args)
        .output()
        .expect("tinytrain runs")
}

/// Standard output of a run that must succeed.
pub fn ok(args: &[&str]) -> String {
    let out = tinytrain(args);
    assert!(
        out.status.success(),
        "tinytrain {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Standard error of a run that must fail with exit code 2 and no panic.
pub fn bad_input(args: &[&str]) -> String {
    let out = tinytrain(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "tinytrain {args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

/// A path as a `&str` argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// Reads a JSON report.
pub fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("report written");
    serde_json::from_str(&text).expect("valid JSON")
}

/// A number of a JSON report.
pub fn num(report: &serde_json::Value, key: &str) -> f64 {
    report[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {report}"))
}
