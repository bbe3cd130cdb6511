//! `tinytrain train`: learning on the committed curves, the report, the figures, determinism.

use crate::data::{self, NOISE_VARIANCE};
use crate::{arg, json, num, ok, tinytrain};
use std::path::Path;

/// Trains `file` with Adam and returns the JSON report.
fn train(file: &str, extra: &[&str], dir: &Path) -> serde_json::Value {
    let report = dir.join("report.json");
    let data = data::path(file);
    let mut args = vec!["train", "--data", arg(&data), "--optimizer", "adam"];
    args.extend(extra);
    args.extend(["--report", arg(&report)]);
    ok(&args);
    json(&report)
}

/// The network reaches the noise floor of a 1-D curve and beats the linear baseline by far.
fn learns_curve(file: &str) {
    let dir = tempfile::tempdir().unwrap();
    let r = train(file, &["--layers", "1,16,16,1"], dir.path());
    let (val, test) = (
        num(&r["network"], "val_mse"),
        num(&r["network"], "test_mse"),
    );
    let noise = f64::from(NOISE_VARIANCE);
    assert!(
        val > 0.5 * noise && val < 1.5 * noise,
        "val {val} vs noise {noise}"
    );
    assert!(test < 2.0 * noise, "test {test}");
    assert!(num(&r["baseline"], "test_mse") > 5.0 * test, "{r}");
    assert!(num(&r["network"], "test_r2") > 0.9);
    assert!(num(&r["network"], "val_r2") > num(&r["baseline"], "val_r2"));
    let floor = r["diagnostics"]["noise_floor_mse"].as_f64().unwrap();
    assert!((floor / noise - 1.0).abs() < 0.3, "noise floor {floor}");
    let history = r["history"].as_array().unwrap();
    assert_eq!(history.len() as f64, num(&r, "epochs_run"));
    let best = num(&r, "best_epoch") as usize;
    assert!(best >= 1 && best <= history.len());
    // The history is the trainer's f32 loss in standardised units, scaled; the scores are
    // computed again in f64: the same to f32 rounding.
    let kept = num(&history[best - 1], "val_mse");
    assert!(
        (kept / val - 1.0).abs() < 1e-5,
        "kept weights are the best: {kept} vs {val}"
    );
    assert_eq!(r["stop_reason"], "early_stopped");
    assert_eq!(r["config"]["layers"], serde_json::json!([1, 16, 16, 1]));
    assert_eq!(r["config"]["optimizer"], "adam");
}

#[test]
fn learns_the_noisy_sine() {
    learns_curve("sine.csv");
}

#[test]
fn learns_the_piecewise_linear_tent() {
    learns_curve("ramp.csv");
}

#[test]
fn several_inputs_with_a_named_target_and_figures() {
    let dir = tempfile::tempdir().unwrap();
    let plots = dir.path().join("plots");
    let r = train(
        "plane.csv",
        &[
            "--target",
            "y",
            "--layers",
            "3,16,16,1",
            "--plot",
            arg(&plots),
        ],
        dir.path(),
    );
    assert!(
        num(&r["network"], "test_mse") * 5.0 < num(&r["baseline"], "test_mse"),
        "{r}"
    );
    assert_eq!(r["columns"]["target"], "y");
    assert_eq!(r["columns"]["features"].as_array().unwrap().len(), 3);
    for name in ["loss.png", "predicted_vs_actual.png"] {
        let decoder = png::Decoder::new(std::fs::File::open(plots.join(name)).unwrap());
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!(
            (info.width, info.height),
            tinytrain_host_sim::plot::SIZE,
            "{name}"
        );
        assert!(pixels.iter().any(|&p| p < 128), "{name} has dark pixels");
    }
    assert!(!plots.join("fit.png").exists());
}

#[test]
fn one_input_gets_the_learned_function_figure() {
    let dir = tempfile::tempdir().unwrap();
    let plots = dir.path().join("figs");
    let out = ok(&[
        "train",
        "--data",
        arg(&data::path("ramp.csv")),
        "--epochs",
        "5",
        "--plot",
        arg(&plots),
    ]);
    for name in ["loss.png", "fit.png"] {
        assert!(out.contains(&format!("wrote     {}", plots.join(name).display())));
        let decoder = png::Decoder::new(std::fs::File::open(plots.join(name)).unwrap());
        assert!(decoder.read_info().is_ok(), "{name}");
    }
}

#[test]
fn same_seed_same_numbers() {
    let file = data::path("sine.csv");
    let run = |seed: &str| {
        let args = [
            "train",
            "--data",
            arg(&file),
            "--epochs",
            "30",
            "--seed",
            seed,
        ];
        let out = tinytrain(&args);
        assert!(out.status.success());
        (String::from_utf8(out.stdout).unwrap(), out.stderr)
    };
    let first = run("5");
    assert_eq!(first, run("5"));
    assert_ne!(first.0, run("6").0);
    let progress = String::from_utf8(first.1).unwrap();
    assert!(progress.starts_with("epoch    1  mse train "), "{progress}");
}

#[test]
fn standardised_training_reports_losses_in_the_data_units() {
    // The sine with targets in centi-units: the noise variance grows by 100².
    let dir = tempfile::tempdir().unwrap();
    let scaled: String = data::sine()
        .lines()
        .skip(1)
        .map(|line| {
            let (x, y) = line.split_once(',').unwrap();
            format!("{x},{}\n", y.parse::<f32>().unwrap() * 100.0)
        })
        .collect();
    let file = dir.path().join("centi.csv");
    std::fs::write(&file, format!("x,y_centi\n{scaled}")).unwrap();
    let report = dir.path().join("report.json");
    let out = tinytrain(&[
        "train",
        "--data",
        arg(&file),
        "--optimizer",
        "adam",
        "--report",
        arg(&report),
    ]);
    assert!(out.status.success());
    let r = json(&report);
    let noise = 1e4 * f64::from(NOISE_VARIANCE);
    let val = num(&r["network"], "val_mse");
    assert!(
        val > 0.5 * noise && val < 1.5 * noise,
        "val {val} vs noise {noise}"
    );
    let last = r["history"].as_array().unwrap().last().unwrap().clone();
    assert!(num(&last, "train_mse") > 0.5 * noise, "{last}");
    assert_eq!(r["config"]["standardize"], true);

    // The progress lines speak the same units as the report: the last one is the last epoch.
    let progress = String::from_utf8(out.stderr).unwrap();
    let line = progress.lines().rfind(|l| l.starts_with("epoch")).unwrap();
    let shown: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    let val = num(&last, "val_mse");
    assert!((shown - val).abs() <= 1e-3 * val, "{line} vs {val}");
}
