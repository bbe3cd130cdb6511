//! Every verdict true: each input here once made `tinytrain train` say something false (a
//! converged run called stalled, a constant target called diverged, random weights saved as a
//! success, an overflowing loss, a figure that never finished). Each test holds the right value.

use crate::{arg, json, num, tinytrain};
use std::path::{Path, PathBuf};
use std::process::Output;

/// Writes a CSV file `name` into `dir` with header `header` and one row per item of `rows`.
fn csv(dir: &Path, name: &str, header: &str, rows: impl IntoIterator<Item = String>) -> PathBuf {
    let path = dir.join(name);
    let body: String = rows.into_iter().map(|r| r + "\n").collect();
    std::fs::write(&path, format!("{header}\n{body}")).unwrap();
    path
}

/// Runs `train` on `data` with `extra` flags and a report; returns the process and the report.
fn train(dir: &Path, data: &Path, extra: &[&str]) -> (Output, serde_json::Value) {
    let report = dir.join("report.json");
    let _ = std::fs::remove_file(&report);
    let mut args = vec!["train", "--data", arg(data), "--report", arg(&report)];
    args.extend(extra);
    let out = tinytrain(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out, json(&report))
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// No NaN, no infinity, no ratio of nothing is ever printed as a result.
fn no_absurd_figures(text: &str) {
    for bad in ["NaN", "inf", "1.00×", "0.00×"] {
        assert!(!text.contains(bad), "{bad:?} in:\n{text}");
    }
}

#[test]
fn a_loss_at_its_floor_is_converged_not_stalled() {
    // y = x on 40 rows, the linear model: the loss goes to ~0 (it was called "stalled … stuck
    // at a critical point").
    let dir = tempfile::tempdir().unwrap();
    let data = csv(
        dir.path(),
        "y_eq_x.csv",
        "x,y",
        (0..40).map(|i| format!("{i},{i}")),
    );
    let (out, r) = train(
        dir.path(),
        &data,
        &["--layers", "1,1", "--epochs", "3000", "--patience", "3000"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(r["stop_reason"], "converged", "{r}");
    assert_eq!(r["diagnostics"]["converged"], true);
    assert_eq!(r["diagnostics"]["stalled"], false);
    assert!(num(&r["network"], "val_r2") > 0.999_999, "{r}");
    let text = stdout(&out);
    assert!(text.contains("training loss stayed at its floor"), "{text}");
    assert!(!text.contains("critical point"), "{text}");
    no_absurd_figures(&text);
}

#[test]
fn a_constant_target_is_no_divergence() {
    // Every MSE is 0.0: the old rule "train loss > 100 × its lowest" called it diverged.
    let dir = tempfile::tempdir().unwrap();
    for (name, value) in [("five", "5"), ("huge", "1e30"), ("tiny", "-3e-20")] {
        let data = csv(
            dir.path(),
            "c.csv",
            "x,y",
            (0..40).map(|i| format!("{i},{value}")),
        );
        let (out, r) = train(dir.path(), &data, &["--layers", "1,1"]);
        assert_eq!(out.status.code(), Some(0), "{name}: {r}");
        assert_ne!(r["stop_reason"], "diverged", "{name}: {r}");
        assert_eq!(r["diagnostics"]["diverged"], false, "{name}");
        for part in ["train_mse", "val_mse", "test_mse"] {
            let v = num(&r["network"], part);
            assert!(v.is_finite() && v >= 0.0, "{name} {part}: {v}");
        }
        // R² of a constant target is undefined: null, never NaN.
        assert!(r["network"]["test_r2"].is_null(), "{name}");
        no_absurd_figures(&stdout(&out));
    }
}

#[test]
fn huge_targets_train_in_standardised_units_and_report_finite_figures() {
    // y = x·1e19: the loss in the target's units is above f32::MAX; it was reported as inf and
    // the run called diverged.
    let dir = tempfile::tempdir().unwrap();
    let data = csv(
        dir.path(),
        "big.csv",
        "x,y",
        (0..10).map(|i| format!("{i},{i}e19")),
    );
    let (out, r) = train(
        dir.path(),
        &data,
        &[
            "--layers",
            "1,1",
            "--val",
            "0.3",
            "--epochs",
            "3000",
            "--patience",
            "3000",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{r}");
    assert_eq!(r["stop_reason"], "converged", "{r}");
    let mse = num(&r["network"], "train_mse");
    assert!(mse.is_finite() && mse < 1e30, "{mse}");
    assert!(num(&r["network"], "val_r2") > 0.9999);
    let history = r["history"].as_array().unwrap();
    let first = num(&history[0], "train_mse");
    assert!(first > f64::from(f32::MAX) && first.is_finite(), "{first}");
    no_absurd_figures(&stdout(&out));
    // Targets up to ±1e30 alternate in sign: finite figures all the same.
    let data = csv(
        dir.path(),
        "pm.csv",
        "x,y",
        (0..20).map(|i| format!("{i},{}e30", if i % 2 == 0 { 1 } else { -1 })),
    );
    let (out, r) = train(dir.path(), &data, &["--layers", "1,8,1"]);
    assert_ne!(r["stop_reason"], "diverged", "{r}");
    assert!(num(&r["network"], "val_mse").is_finite());
    assert!(num(&r["baseline"], "val_mse").is_finite());
    no_absurd_figures(&stdout(&out));
}

#[test]
fn an_untrained_model_is_no_success() {
    // A learning rate far too large on raw units: no epoch beats the initial weights.
    let dir = tempfile::tempdir().unwrap();
    let data = csv(
        dir.path(),
        "raw.csv",
        "x,y",
        (0..40).map(|i| format!("{i},{}", 3 * i)),
    );
    let model = dir.path().join("m.ttm");
    let flags = [
        "--layers",
        "1,1",
        "--no-standardize",
        "--lr",
        "0.5",
        "--model",
        arg(&model),
    ];
    let (out, r) = train(dir.path(), &data, &flags);
    assert_eq!(out.status.code(), Some(3), "{r}");
    assert_eq!(r["best_epoch"], 0);
    assert_eq!(r["stop_reason"], "diverged");
    assert_eq!(r["diagnostics"]["untrained"], true);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no epoch beat the initial weights: the model is untrained"),
        "{stderr}"
    );
    assert!(!model.exists(), "random weights are not saved");
    let text = stdout(&out);
    assert!(
        text.contains("standardising them is the likely fix"),
        "{text}"
    );
    // --keep-untrained writes it, and the exit code still says so.
    let mut kept = flags.to_vec();
    kept.push("--keep-untrained");
    let (out, _) = train(dir.path(), &data, &kept);
    assert_eq!(out.status.code(), Some(3));
    assert!(model.exists());
    // Standardised (the default), the same data trains: exit 0, no note about raw units.
    let (out, r) = train(dir.path(), &data, &["--layers", "1,1"]);
    assert_eq!(out.status.code(), Some(0), "{r}");
    assert!(num(&r, "best_epoch") > 0.0);
    assert!(!stdout(&out).contains("likely fix"));
    assert_eq!(r["config"]["standardize"], true);
}

#[test]
fn patience_counts_epochs_without_improvement() {
    let dir = tempfile::tempdir().unwrap();
    let data = crate::data::path("sine.csv");
    for patience in [0, 3] {
        let p = patience.to_string();
        let (out, r) = train(dir.path(), &data, &["--patience", &p, "--epochs", "2000"]);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(r["stop_reason"], "early_stopped", "{r}");
        // `patience` epochs without improvement are tolerated; the next one stops.
        assert_eq!(
            num(&r, "epochs_run"),
            num(&r, "best_epoch") + patience as f64 + 1.0
        );
    }
}

#[test]
fn advice_compares_on_validation_and_reports_test_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = crate::data::path("sine.csv");
    let (out, r) = train(dir.path(), &data, &["--layers", "1,2,1", "--epochs", "3"]);
    let text = stdout(&out);
    let advice: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("linear fit") && l.starts_with("note"))
        .collect();
    assert_eq!(advice.len(), 1, "{text}");
    assert!(
        advice[0].contains("validation") && !advice[0].contains("test"),
        "{text}"
    );
    let ratio = r["diagnostics"]["baseline_ratio"].as_f64().unwrap();
    let expected = num(&r["baseline"], "val_mse") / num(&r["network"], "val_mse");
    assert!((ratio / expected - 1.0).abs() < 1e-12);
    // A network no better than the line on validation: prefer the line.
    assert!(ratio < 1.0, "{r}");
    assert!(advice[0].contains("prefer the linear model"), "{text}");
}

#[test]
fn a_zero_noise_floor_is_worded_not_divided_by() {
    // Every input appears four times with the same target: the noise floor is 0.
    let dir = tempfile::tempdir().unwrap();
    let rows = (0..60).map(|i| {
        let x = i % 15;
        format!("{x},{}", x * x)
    });
    let data = csv(dir.path(), "exact.csv", "x,y", rows);
    let (out, r) = train(
        dir.path(),
        &data,
        &["--layers", "1,16,1", "--optimizer", "adam"],
    );
    let text = stdout(&out);
    assert_eq!(r["diagnostics"]["noise_floor_mse"], 0.0);
    assert!(
        text.contains("the noise floor is 0: the") && text.contains("may determine it exactly"),
        "{text}"
    );
    no_absurd_figures(&text);
}

#[test]
fn a_constant_column_is_only_shifted() {
    // c = 14.62 on 34 rows: its f32 statistics (mean 14.619998, deviation 1.9e-6) turned 14.63
    // and 14.60 into predictions of -407 and -5000.
    let dir = tempfile::tempdir().unwrap();
    let rows = (0..34).map(|i| format!("{},14.62,{}", i as f32 / 10.0, i as f32 / 5.0));
    let data = csv(dir.path(), "c.csv", "x,c,y", rows);
    let model = dir.path().join("c.ttm");
    let (out, _) = train(
        dir.path(),
        &data,
        &["--layers", "2,1", "--model", arg(&model)],
    );
    assert_eq!(out.status.code(), Some(0));
    let inputs = csv(
        dir.path(),
        "in.csv",
        "x,c",
        ["1,14.62", "1,14.63", "1,14.60"].map(String::from),
    );
    let out = tinytrain(&["predict", "--model", arg(&model), "--data", arg(&inputs)]);
    let text = stdout(&out);
    let predictions: Vec<f64> = text
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(predictions.len(), 3, "{text}");
    for p in &predictions {
        assert!((p - 2.0).abs() < 0.1, "{predictions:?}: y = 2x at x = 1");
    }
}

#[test]
fn divergence_factor_is_a_flag_with_a_checked_value() {
    let dir = tempfile::tempdir().unwrap();
    let data = crate::data::path("ramp.csv");
    let (out, r) = train(
        dir.path(),
        &data,
        &["--divergence-factor", "50", "--epochs", "2"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(r["config"]["divergence_factor"], 50.0);
    let e = crate::bad_input(&["train", "--data", arg(&data), "--divergence-factor", "1"]);
    assert!(e.contains("divergence_factor"), "{e}");
}

/// Whether a PNG has a pixel of `rgb`.
fn has_colour(path: &Path, rgb: [u8; 3]) -> bool {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    reader.next_frame(&mut pixels).unwrap();
    pixels.chunks(3).any(|p| p == rgb)
}

#[test]
fn figures_of_one_epoch_and_of_absurd_targets_finish() {
    let dir = tempfile::tempdir().unwrap();
    let plots = dir.path().join("one");
    let data = crate::data::path("sine.csv");
    let (out, _) = train(dir.path(), &data, &["--epochs", "1", "--plot", arg(&plots)]);
    assert_eq!(out.status.code(), Some(0));
    // The training curve's colour: a lone epoch is drawn as a dot.
    assert!(has_colour(&plots.join("loss.png"), [31, 119, 180]));
    // A target of 3e38 on 5 rows made --plot loop forever.
    let huge = csv(
        dir.path(),
        "huge.csv",
        "x,y",
        (0..5).map(|i| format!("{i},{}", if i == 4 { "3e38" } else { "0" })),
    );
    let plots = dir.path().join("huge");
    let started = std::time::Instant::now();
    let (out, _) = train(
        dir.path(),
        &huge,
        &["--layers", "1,4,1", "--plot", arg(&plots)],
    );
    assert!(started.elapsed().as_secs() < 60);
    let text = stdout(&out);
    assert!(
        text.contains("loss.png") && text.contains("fit.png"),
        "each figure is drawn or left out with a note: {text}"
    );
}
