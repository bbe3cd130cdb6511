//! `tinytrain predict` and `tinytrain export` on a model saved by `tinytrain train`.

use crate::{arg, bad_input, data, json, num, ok, tinytrain};
use std::path::Path;
use tinytrain_host_sim::Net;

/// Trains the sine for a few epochs and saves model and report into `dir`.
fn saved_model(dir: &Path) -> (std::path::PathBuf, serde_json::Value) {
    let model = dir.join("sine.ttm");
    let report = dir.join("report.json");
    let sine = data::path("sine.csv");
    ok(&[
        "train",
        "--data",
        arg(&sine),
        "--epochs",
        "20",
        "--optimizer",
        "adam",
        "--model",
        arg(&model),
        "--report",
        arg(&report),
    ]);
    (model, json(&report))
}

#[test]
fn predictions_match_the_reported_losses() {
    let dir = tempfile::tempdir().unwrap();
    let (model, report) = saved_model(dir.path());
    let sine = data::path("sine.csv");
    let out = tinytrain(&["predict", "--model", arg(&model), "--data", arg(&sine)]);
    assert!(out.status.success());
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("x,prediction"));
    assert_eq!(lines.count(), 300);
    // The MSE over all samples is the size-weighted mean of the three reported ones.
    let stderr = String::from_utf8(out.stderr).unwrap();
    let mse: f64 = stderr
        .strip_prefix("mse ")
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no MSE in {stderr:?}"));
    let s = &report["samples"];
    let part = |k: &str| s[k].as_f64().unwrap();
    let expected = (part("train") * num(&report, "train_mse")
        + part("validation") * num(&report, "val_mse")
        + part("test") * num(&report, "test_mse"))
        / 300.0;
    assert!((mse - expected).abs() < 1e-5, "{mse} vs {expected}");
    assert!(stderr.contains("over 300 samples (target y)"));
}

#[test]
fn inputs_only_give_predictions_without_mse() {
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = saved_model(dir.path());
    let inputs = dir.path().join("x.csv");
    std::fs::write(&inputs, "x\n0\n1.5\n").unwrap();
    let out = tinytrain(&["predict", "--model", arg(&model), "--data", arg(&inputs)]);
    assert!(out.status.success() && out.stderr.is_empty());
    let net = Net::read(&model).unwrap();
    let expected = format!(
        "x,prediction\n0,{}\n1.5,{}\n",
        net.predict(&[0.0]).unwrap()[0],
        net.predict(&[1.5]).unwrap()[0]
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
    std::fs::write(&inputs, "a,b,c\n0,1,2\n").unwrap();
    let err = bad_input(&["predict", "--model", arg(&model), "--data", arg(&inputs)]);
    assert!(
        err.contains("3 columns (a, b, c), but the model takes 1 input"),
        "{err}"
    );
}

#[test]
fn export_writes_rust_that_compiles_and_holds_the_exact_weights() {
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = saved_model(dir.path());
    let rust = dir.path().join("model.rs");
    let out = ok(&["export", "--model", arg(&model), "--rust", arg(&rust)]);
    assert!(out.contains("321 parameters, widths 1,16,16,1"), "{out}");
    let source = std::fs::read_to_string(&rust).unwrap();
    let net = Net::read(&model).unwrap();
    let values = |name: &str| -> Vec<f32> {
        let start = source.find(&format!("pub const {name}")).unwrap();
        let body = &source[start..];
        let body = &body[body.find("= [").unwrap() + 3..body.find("];").unwrap()];
        body.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect()
    };
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&values("PARAMS")), bits(&net.params));
    assert_eq!(bits(&values("STATS")), bits(&net.stats));
    assert!(source.contains("pub const WIDTHS: [usize; 4] = [1, 16, 16, 1];"));
    let rustc = std::process::Command::new(std::env::var("RUSTC").unwrap_or("rustc".into()))
        .args([
            "--crate-type=lib",
            "--edition=2021",
            "--emit=metadata",
            "-o",
        ])
        .arg(dir.path().join("model.rmeta"))
        .arg(&rust)
        .output()
        .expect("rustc runs");
    assert!(
        rustc.status.success(),
        "{}",
        String::from_utf8_lossy(&rustc.stderr)
    );
}
