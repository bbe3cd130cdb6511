//! `tinytrain sweep`: every combination, the choice by validation loss, one test evaluation.

use crate::{arg, data, json, num, ok, tinytrain};

#[test]
fn chooses_the_lowest_validation_loss_and_tests_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("sweep.json");
    let sine = data::path("sine.csv");
    let out = ok(&[
        "sweep",
        "--data",
        arg(&sine),
        "--layers",
        "1,4,1",
        "--layers",
        "1,16,16,1",
        "--lr",
        "0.001,0.02",
        "--optimizer",
        "adam",
        "--epochs",
        "60",
        "--report",
        arg(&report),
    ]);
    let r = json(&report);
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    let vals: Vec<f64> = rows.iter().map(|row| num(row, "val_mse")).collect();
    let best = vals
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0;
    assert_eq!(num(&r, "chosen") as usize, best + 1);
    assert!(rows.iter().all(|row| row.get("test_mse").is_none()));
    assert!(
        num(&r, "test_mse") < 3.0 * f64::from(data::NOISE_VARIANCE),
        "{r}"
    );
    assert_eq!(
        out.lines().filter(|l| l.starts_with('*')).count(),
        1,
        "{out}"
    );
    assert!(
        out.contains(&format!("chosen  #{} by validation MSE", best + 1)),
        "{out}"
    );
    assert!(out.contains("evaluated once, for the chosen one only"));
}

#[test]
fn help_warns_about_overfitting_the_validation_set() {
    let out = tinytrain(&["sweep", "--help"]);
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    assert!(
        help.contains("tuning overfits the validation set"),
        "{help}"
    );
    assert!(help.contains("evaluated once, for the chosen configuration only"));
}
