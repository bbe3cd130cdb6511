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
    assert!(rows.iter().all(|row| row.get("test").is_none()));
    assert!(
        num(&r["test"], "mse") < 3.0 * f64::from(data::NOISE_VARIANCE),
        "{r}"
    );
    assert_eq!(
        out.lines().filter(|l| l.starts_with('*')).count(),
        1,
        "{out}"
    );
    assert!(
        out.contains(&format!("chosen  #{} by mean validation MSE", best + 1)),
        "{out}"
    );
    assert!(out.contains("evaluated once, for the chosen network only"));
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

#[test]
fn repeats_choose_on_the_mean_of_several_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("sweep.json");
    let out = ok(&[
        "sweep",
        "--data",
        arg(&data::path("ramp.csv")),
        "--layers",
        "1,8,1",
        "--lr",
        "0.001,0.01",
        "--optimizer",
        "adam",
        "--epochs",
        "40",
        "--repeats",
        "3",
        "--seed",
        "7",
        "--report",
        arg(&report),
    ]);
    let r = json(&report);
    let rows = r["rows"].as_array().unwrap();
    for row in rows {
        let repeats = row["repeats"].as_array().unwrap();
        let seeds: Vec<u64> = repeats
            .iter()
            .map(|x| x["seed"].as_u64().unwrap())
            .collect();
        assert_eq!(seeds, [7, 8, 9]);
        let vals: Vec<f64> = repeats.iter().map(|x| num(x, "val_mse")).collect();
        let mean = vals.iter().sum::<f64>() / 3.0;
        assert!((num(row, "val_mse") / mean - 1.0).abs() < 1e-12);
        let sd = (vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
        assert!((num(row, "val_mse_sd") - sd).abs() <= 1e-12 * (1.0 + sd));
        assert!(num(row, "val_r2") < 1.0);
    }
    let means: Vec<f64> = rows.iter().map(|row| num(row, "val_mse")).collect();
    let best = if means[0] <= means[1] { 1 } else { 2 };
    assert_eq!(num(&r, "chosen") as usize, best);
    // The saved network is the chosen row's repeat of lowest validation loss.
    let chosen = rows[best - 1]["repeats"].as_array().unwrap();
    let kept = chosen
        .iter()
        .min_by(|a, b| num(a, "val_mse").total_cmp(&num(b, "val_mse")))
        .unwrap();
    assert_eq!(r["chosen_seed"], kept["seed"]);
    assert!(out.contains("3 repeats per row (seeds 7 to 9)"), "{out}");
    assert!(out.contains("± "), "{out}");
    assert!(
        out.contains("the exact least-squares fit: val MSE"),
        "{out}"
    );
}
