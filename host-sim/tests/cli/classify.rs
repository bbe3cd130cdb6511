//! `--task classify`: learning classes the linear model cannot separate, the report, the figures,
//! the saved model and `predict`; each classification verdict where it must fire and where it
//! must not; every bad input named by its label and count.

use crate::{arg, bad_input, json, num, ok, tinytrain};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use tinytrain_core::Lcg;

/// A standard normal sample (Box–Muller).
fn normal(rng: &mut Lcg) -> f32 {
    let u1 = 1.0 - rng.next_f32();
    let u2 = rng.next_f32();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

/// Writes `text` to `name` in `dir`.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Two inputs in [-1, 1]²; the class is the quadrant's diagonal: `same sign` when x and y have
/// the same sign, `opposite, "mixed"` (a label with a comma and quotes, as CSV quotes it)
/// otherwise — XOR, which no line separates.
fn xor(samples: usize, seed: u64) -> String {
    let mut rng = Lcg::new(seed);
    let mut csv = String::from("x,y,kind\n");
    for _ in 0..samples {
        let (x, y) = (rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0));
        let label = if (x > 0.0) == (y > 0.0) {
            "same sign"
        } else {
            "\"opposite, \"\"mixed\"\"\""
        };
        let _ = writeln!(csv, "{x:.4},{y:.4},{label}");
    }
    csv
}

#[test]
fn learns_xor_beats_both_baselines_and_predicts_labels() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "xor.csv", &xor(400, 1));
    let (report, plots, model) = (
        dir.path().join("r.json"),
        dir.path().join("plots"),
        dir.path().join("m.ttm"),
    );
    let out = ok(&[
        "train",
        "--data",
        arg(&data),
        "--task",
        "classify",
        "--optimizer",
        "adam",
        "--report",
        arg(&report),
        "--plot",
        arg(&plots),
        "--model",
        arg(&model),
    ]);
    assert!(out.contains("2 classes: opposite, \"mixed\" 2"), "{out}");
    assert!(
        out.contains("confusion (test; rows: true class, columns: predicted)"),
        "{out}"
    );
    let r = json(&report);
    assert_eq!(r["task"], "classification");
    assert_eq!(r["config"]["loss"], "cross_entropy");
    assert_eq!(r["config"]["layers"], serde_json::json!([2, 16, 16, 2]));
    // Classes in text order: `opposite, "mixed"` before `same sign`.
    assert_eq!(r["classes"][0]["label"], "opposite, \"mixed\"");
    let accuracy = |part: &serde_json::Value, key: &str| num(&part[key], "accuracy");
    let net_test = accuracy(&r["network"], "test");
    assert!(net_test > 0.9, "{r}");
    assert!(
        accuracy(&r["linear"], "val") < 0.7,
        "no line separates XOR: {r}"
    );
    assert!(r["linear"]["converged"].as_bool().unwrap());
    assert!(r["diagnostics"]["accuracy_over_linear"].as_f64().unwrap() > 0.2);
    // The stratified split keeps the classes' shares.
    for class in r["classes"].as_array().unwrap() {
        let (n, val) = (num(class, "samples"), num(class, "val"));
        assert!((val - 0.2 * n).abs() <= 1.0, "{class}");
    }
    // Accuracy per epoch, none at the stopping epoch (its weights were replaced).
    let history = r["history"].as_array().unwrap();
    assert!(history[0]["val_accuracy"].is_number());
    assert!(history.last().unwrap()["val_accuracy"].is_null());
    let test = &r["network"]["test"];
    let confusion: u64 = test["confusion"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()))
        .sum();
    assert_eq!(confusion, num(test, "samples") as u64);
    for figure in ["loss.png", "accuracy.png", "confusion.png", "regions.png"] {
        let bytes = std::fs::read(plots.join(figure)).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "{figure}");
    }

    // Predict: the label, quoted as CSV; with --probabilities each class's probability too;
    // accuracy on stderr.
    let plain = ok(&["predict", "--model", arg(&model), "--data", arg(&data)]);
    assert_eq!(plain.lines().next(), Some("x,y,label"));
    assert_eq!(plain.lines().count(), 401);
    let run = tinytrain(&[
        "predict",
        "--model",
        arg(&model),
        "--data",
        arg(&data),
        "--probabilities",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8(run.stdout).unwrap();
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next(),
        Some("x,y,label,\"probability_opposite, \"\"mixed\"\"\",probability_same sign")
    );
    let mut reader = csv::Reader::from_reader(stdout.as_bytes());
    let mut rows = 0;
    for record in reader.records() {
        let record = record.unwrap();
        let p: f32 = record[3].parse::<f32>().unwrap() + record[4].parse::<f32>().unwrap();
        assert!((p - 1.0).abs() < 1e-5, "{record:?}");
        assert!(["same sign", "opposite, \"mixed\""].contains(&&record[2]));
        let predicted = if record[3].parse::<f32>().unwrap() > 0.5 {
            "opposite, \"mixed\""
        } else {
            "same sign"
        };
        assert_eq!(
            &record[2], predicted,
            "the label is the most probable class"
        );
        rows += 1;
    }
    assert_eq!(rows, 400);
    let stderr = String::from_utf8(run.stderr).unwrap();
    let line = stderr.lines().find(|l| l.starts_with("accuracy ")).unwrap();
    let accuracy: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(accuracy > 0.9, "{stderr}");
    assert!(line.contains("over 400 samples"), "{line}");
}

#[test]
fn the_same_seed_gives_the_same_classifier() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "xor.csv", &xor(120, 2));
    let run = |name: &str| {
        let model = dir.path().join(name);
        ok(&[
            "train",
            "--data",
            arg(&data),
            "--task",
            "classify",
            "--epochs",
            "30",
            "--model",
            arg(&model),
        ]);
        std::fs::read(model).unwrap()
    };
    assert_eq!(run("a.ttm"), run("b.ttm"));
}

/// Class `rare` (1 in 11) is `common` shifted by one standard deviation: without weights the
/// best classifier hardly ever says `rare`; with balanced weights it must.
fn imbalanced() -> String {
    let mut rng = Lcg::new(5);
    let mut csv = String::from("x,class\n");
    for k in 0..660 {
        let rare = k % 11 == 0;
        let x = normal(&mut rng) + if rare { 1.0 } else { 0.0 };
        let _ = writeln!(csv, "{x:.4},{}", if rare { "rare" } else { "common" });
    }
    csv
}

#[test]
fn class_imbalance_is_reported_and_balanced_weights_predict_the_rare_class() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "imbalanced.csv", &imbalanced());
    let report = dir.path().join("r.json");
    let train = |extra: &[&str]| {
        let mut args = vec![
            "train",
            "--data",
            arg(&data),
            "--task",
            "classify",
            "--layers",
            "1,8,2",
            "--optimizer",
            "adam",
            "--report",
            arg(&report),
        ];
        args.extend(extra);
        let out = ok(&args);
        (out, json(&report))
    };
    let (out, plain) = train(&[]);
    assert!(
        out.contains("class imbalance: `common` has 600 samples, `rare` 60 (10.0×)"),
        "{out}"
    );
    assert_eq!(
        plain["diagnostics"]["never_predicted"],
        serde_json::json!(["rare"])
    );
    assert!(
        out.contains("never predicted on the validation set: `rare`"),
        "{out}"
    );
    let (out, balanced) = train(&["--class-weights", "balanced"]);
    assert!(out.contains("balanced class weights"), "{out}");
    assert_eq!(
        balanced["diagnostics"]["never_predicted"],
        serde_json::json!([])
    );
    let weight = |r: &serde_json::Value, k: usize| num(&r["classes"][k], "weight");
    assert!((weight(&balanced, 1) / weight(&balanced, 0) - 10.0).abs() < 0.01);
    assert_eq!(weight(&plain, 1), 1.0);
    let recall = |r: &serde_json::Value| {
        r["network"]["val"]["classes"][1]["recall"]
            .as_f64()
            .unwrap_or(0.0)
    };
    assert!(recall(&balanced) > 0.4, "{}", balanced["network"]["val"]);
    assert!(
        num(&balanced["network"]["val"], "balanced_accuracy")
            > num(&plain["network"]["val"], "balanced_accuracy")
    );
}

#[test]
fn label_noise_sets_a_floor_only_when_equal_inputs_disagree() {
    let dir = tempfile::tempdir().unwrap();
    // 40 inputs, each 5 times; one copy in five of every input has the wrong class.
    let mut noisy = String::from("x,c\n");
    let mut clean = String::from("x,c\n");
    for x in 0..40 {
        for copy in 0..5 {
            let class = x % 2;
            let wrong = if copy == 0 { 1 - class } else { class };
            let _ = writeln!(noisy, "{x},{wrong}");
            let _ = writeln!(clean, "{x},{class}");
        }
    }
    let report = dir.path().join("r.json");
    for (text, floor) in [(noisy, true), (clean, false)] {
        let data = write(dir.path(), "d.csv", &text);
        // Parity of x is beyond a short run: it may end untrained (exit code 3), with a report.
        let run = tinytrain(&[
            "train",
            "--data",
            arg(&data),
            "--task",
            "classify",
            "--epochs",
            "5",
            "--report",
            arg(&report),
        ]);
        assert!(matches!(run.status.code(), Some(0 | 3)), "{run:?}");
        let r = json(&report);
        let rate = &r["diagnostics"]["noise_floor_error_rate"];
        if floor {
            let rate = rate.as_f64().unwrap();
            assert!(
                (0.15..=0.25).contains(&rate),
                "about one in five is wrong: {rate}"
            );
        } else {
            assert!(rate.is_null(), "{r}");
        }
    }
}

#[test]
fn divergence_is_told() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "xor.csv", &xor(200, 3));
    let report = dir.path().join("r.json");
    let run = tinytrain(&[
        "train",
        "--data",
        arg(&data),
        "--task",
        "classify",
        "--lr",
        "1e6",
        "--report",
        arg(&report),
    ]);
    assert!(run.status.code() == Some(0) || run.status.code() == Some(3));
    let r = json(&report);
    assert_eq!(r["stop_reason"], "diverged", "{r}");
    assert_eq!(r["diagnostics"]["diverged"], true);
    // At a sane learning rate, no divergence.
    ok(&[
        "train",
        "--data",
        arg(&data),
        "--task",
        "classify",
        "--report",
        arg(&report),
    ]);
    assert_eq!(json(&report)["diagnostics"]["diverged"], false);
}

#[test]
fn sweep_chooses_on_validation_cross_entropy() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "xor.csv", &xor(200, 4));
    let report = dir.path().join("s.json");
    let out = ok(&[
        "sweep",
        "--data",
        arg(&data),
        "--task",
        "classify",
        "--layers",
        "2,2",
        "--layers",
        "2,16,16,2",
        "--optimizer",
        "adam",
        "--lr",
        "0.01",
        "--report",
        arg(&report),
    ]);
    assert!(out.contains("by mean validation cross-entropy"), "{out}");
    let r = json(&report);
    let rows = r["rows"].as_array().unwrap();
    let losses: Vec<f64> = rows.iter().map(|row| num(row, "val_loss")).collect();
    let lowest = losses
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0;
    assert_eq!(num(&r, "chosen") as usize, lowest + 1, "{losses:?}");
    assert_eq!(
        lowest, 1,
        "the MLP beats the linear model on XOR: {losses:?}"
    );
}

#[test]
fn a_label_column_with_one_class_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "d.csv", "x,y\n1,cat\n2,cat\n3,cat\n");
    let e = bad_input(&["train", "--data", arg(&data), "--task", "classify"]);
    assert!(
        e.contains("column `y` holds one class only (`cat`, 3 samples)"),
        "{e}"
    );
}

#[test]
fn an_empty_label_is_named_by_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "d.csv", "x,y\n1,a\n2, \n3,b\n");
    let e = bad_input(&["train", "--data", arg(&data), "--task", "classify"]);
    assert!(
        e.contains("d.csv:3: the label in column `y` is empty"),
        "{e}"
    );
}

#[test]
fn a_class_only_in_the_test_split_is_named_with_its_count() {
    let dir = tempfile::tempdir().unwrap();
    let rows: String = (0..12)
        .map(|i| format!("{i},{}\n", if i < 9 { "a" } else { "b" }))
        .collect();
    let data = write(dir.path(), "d.csv", &format!("x,y\n{rows}"));
    let split = write(
        dir.path(),
        "split.json",
        r#"{"train": [0, 1, 2, 3, 4, 5], "val": [6, 7, 8], "test": [9, 10, 11]}"#,
    );
    let e = bad_input(&[
        "train",
        "--data",
        arg(&data),
        "--task",
        "classify",
        "--split",
        arg(&split),
    ]);
    assert!(
        e.contains("class `b` has 3 samples, all in the test set"),
        "{e}"
    );
}

#[test]
fn a_class_too_small_for_the_split_is_named_with_its_count() {
    let dir = tempfile::tempdir().unwrap();
    let rows: String = (0..30)
        .map(|i| format!("{i},{}\n", if i == 7 { "lone" } else { "many" }))
        .collect();
    let data = write(dir.path(), "d.csv", &format!("x,y\n{rows}"));
    let e = bad_input(&["train", "--data", arg(&data), "--task", "classify"]);
    assert!(
        e.contains("class `lone` has 1 sample: a stratified split"),
        "{e}"
    );
}

#[test]
fn more_classes_than_the_capacity_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rows: String = ["a", "b", "c", "d", "a", "b"]
        .iter()
        .enumerate()
        .map(|(i, l)| format!("{i},{l}\n"))
        .collect();
    let data = write(dir.path(), "d.csv", &format!("x,y\n{rows}"));
    let e = bad_input(&[
        "train",
        "--data",
        arg(&data),
        "--task",
        "classify",
        "--max-classes",
        "3",
    ]);
    assert!(
        e.contains("column `y` holds more than 3 distinct labels (the first past it, \"d\", on line 5): more than --max-classes 3"),
        "{e}"
    );
    let e = bad_input(&["train", "--data", arg(&data), "--max-classes", "3"]);
    assert!(
        e.contains("--max-classes: applies to classifiers only"),
        "{e}"
    );
}

#[test]
fn a_numeric_target_of_thousands_of_values_hints_at_regression() {
    let dir = tempfile::tempdir().unwrap();
    let rows: String = (0..3000)
        .map(|i| format!("{i},{}\n", i as f32 * 0.37))
        .collect();
    let data = write(dir.path(), "d.csv", &format!("x,y\n{rows}"));
    let e = bad_input(&["train", "--data", arg(&data), "--task", "classify"]);
    assert!(
        e.contains("column `y` holds 3000 distinct labels: more than --max-classes 100; its labels are numbers: for a numeric target, regression (without --task classify) may be meant"),
        "{e}"
    );
}

#[test]
fn predict_names_a_label_the_model_does_not_know() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "xor.csv", &xor(100, 6));
    let model = dir.path().join("m.ttm");
    ok(&[
        "train",
        "--data",
        arg(&data),
        "--task",
        "classify",
        "--epochs",
        "3",
        "--model",
        arg(&model),
    ]);
    let other = write(
        dir.path(),
        "other.csv",
        "x,y,kind\n0.5,0.5,same sign\n0.1,0.2,dog\n0.3,0.1,dog\n",
    );
    let e = bad_input(&["predict", "--model", arg(&model), "--data", arg(&other)]);
    assert!(
        e.contains("label `dog` (2 rows) in column `kind` is not a class of the model"),
        "{e}"
    );
}

#[test]
fn overfitting_is_told_when_validation_cross_entropy_rises_and_not_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    // Labels that the inputs do not tell: a wide network learns the training samples by heart
    // while the validation cross-entropy rises.
    let mut rng = Lcg::new(9);
    let mut noise = String::from("a,b,c,d,e,f,label\n");
    for k in 0..80 {
        for _ in 0..6 {
            let _ = write!(noise, "{:.4},", normal(&mut rng));
        }
        let _ = writeln!(noise, "{}", ["red", "green"][k % 2]);
    }
    let report = dir.path().join("r.json");
    let train = |data: &Path, extra: &[&str]| {
        let mut args = vec![
            "train",
            "--data",
            arg(data),
            "--task",
            "classify",
            "--optimizer",
            "adam",
            "--patience",
            "60",
            "--report",
            arg(&report),
        ];
        args.extend(extra);
        let run = tinytrain(&args);
        assert!(matches!(run.status.code(), Some(0 | 3)), "{run:?}");
        let stdout = String::from_utf8(run.stdout).unwrap();
        (stdout, json(&report))
    };
    let noise = write(dir.path(), "noise.csv", &noise);
    let (out, r) = train(&noise, &["--layers", "6,64,64,2", "--lr", "0.01"]);
    assert_eq!(r["diagnostics"]["overfitting"], true, "{out}");
    assert!(out.contains("overfitting: after epoch"), "{out}");
    // XOR with enough samples: the validation cross-entropy follows the training one down.
    let xor = write(dir.path(), "xor.csv", &xor(400, 1));
    let (out, r) = train(&xor, &[]);
    assert_eq!(r["diagnostics"]["overfitting"], false, "{out}");
    assert!(!out.contains("overfitting"), "{out}");
}

#[test]
fn classification_flags_need_a_classifier_and_the_stream_learns_values() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "xor.csv", &xor(40, 7));
    let e = bad_input(&["train", "--data", arg(&data), "--class-weights", "balanced"]);
    assert!(
        e.contains("--class-weights: applies to classifiers only"),
        "{e}"
    );
    let e = bad_input(&[
        "train",
        "--data",
        arg(&data),
        "--task",
        "classify",
        "--max-classes",
        "1",
    ]);
    assert!(e.contains("--max-classes: 1 is not from 2 to 1000"), "{e}");
    let e = bad_input(&[
        "train",
        "--data",
        arg(&data),
        "--task",
        "classify",
        "--stream",
    ]);
    assert!(
        e.contains("--stream: learns values on the mean squared error"),
        "{e}"
    );
    let model = write(dir.path(), "m.ttm", "");
    let e = bad_input(&[
        "train",
        "--data",
        arg(&data),
        "--task",
        "classify",
        "--model-in",
        arg(&model),
    ]);
    assert!(
        e.contains("--model-in: fine-tunes regression models"),
        "{e}"
    );
}

#[test]
fn a_model_of_the_other_task_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "xor.csv", &xor(40, 7));
    let classifier = dir.path().join("c.ttm");
    crate::ok(&[
        "train",
        "--data",
        arg(&data),
        "--task",
        "classify",
        "--model",
        arg(&classifier),
    ]);
    // A classifier to train on from, by regression: each command says what the model is.
    for command in [
        &["train"][..],
        &["train", "--stream"],
        &["device", "train", "--elf", "/nonexistent/link"],
    ] {
        let mut args = command.to_vec();
        args.extend(["--data", arg(&data), "--model-in", arg(&classifier)]);
        let e = bad_input(&args);
        assert!(
            e.contains("--model-in: ") && e.contains("is a classifier (2 classes)"),
            "{command:?}: {e}"
        );
    }
    // Class probabilities of a regression model.
    let regression = dir.path().join("r.ttm");
    let plane = write(
        dir.path(),
        "plane.csv",
        "a,y\n1,2\n2,4\n3,6\n4,8\n5,10\n6,12\n",
    );
    crate::ok(&["train", "--data", arg(&plane), "--model", arg(&regression)]);
    let e = bad_input(&[
        "predict",
        "--model",
        arg(&regression),
        "--data",
        arg(&plane),
        "--probabilities",
    ]);
    assert!(
        e.contains("--probabilities: ") && e.contains("regression model"),
        "{e}"
    );
}

#[test]
fn a_classifiers_progress_names_its_loss() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "xor.csv", &xor(60, 3));
    let out = crate::tinytrain(&["train", "--data", arg(&data), "--task", "classify"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("epoch    1  cross-entropy train "),
        "{stderr}"
    );
    assert!(!stderr.contains("mse"), "{stderr}");
}
