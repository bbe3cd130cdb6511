//! The report's schema and split, `train --split FILE.json` reading it back, and its errors.

use crate::{arg, bad_input, data, json, num, ok};
use std::path::Path;

fn train(data: &Path, report: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["train", "--data", arg(data), "--report", arg(report)];
    args.extend(extra);
    ok(&args);
    json(report)
}

#[test]
fn the_report_names_columns_and_rows_and_reads_back_as_a_split() {
    let dir = tempfile::tempdir().unwrap();
    let plane = data::path("plane.csv");
    let first = dir.path().join("first.json");
    let r = train(
        &plane,
        &first,
        &["--target", "y", "--epochs", "20", "--seed", "3"],
    );
    assert_eq!(r["schema_version"], 1);
    assert_eq!(r["columns"]["target"], "y");
    let features = r["columns"]["features"].as_array().unwrap();
    assert_eq!(features.len(), 3);
    assert!(!features.contains(&serde_json::json!("y")));
    let split = &r["split"];
    let rows = |k: &str| -> Vec<u64> {
        split[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect()
    };
    let mut all: Vec<u64> = ["train", "val", "test"]
        .iter()
        .flat_map(|k| rows(k))
        .collect();
    all.sort_unstable();
    let n = all.len() as u64;
    assert_eq!(all, (0..n).collect::<Vec<_>>(), "every row once");
    assert_eq!(r["samples"]["val"].as_u64(), Some(rows("val").len() as u64));
    for who in ["network", "baseline"] {
        for key in ["train_r2", "val_r2", "test_r2"] {
            assert!(num(&r[who], key) <= 1.0, "{who} {key}");
        }
    }
    // The report read back as a split (another seed for nothing else): the same run, the
    // same figures.
    let second = dir.path().join("second.json");
    let again = train(
        &plane,
        &second,
        &[
            "--target",
            "y",
            "--epochs",
            "20",
            "--seed",
            "3",
            "--split",
            arg(&first),
        ],
    );
    assert_eq!(again["network"], r["network"]);
    assert_eq!(again["split"], r["split"]);
}

#[test]
fn a_split_file_may_leave_rows_out_and_the_test_part_away() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("split.json");
    // Every other row trains, every fourth validates; a quarter is left out.
    let train_rows: Vec<u32> = (0..300).step_by(2).collect();
    let val_rows: Vec<u32> = (1..300).step_by(4).collect();
    let text = serde_json::json!({ "train": train_rows, "val": val_rows }).to_string();
    std::fs::write(&file, text).unwrap();
    let report = dir.path().join("r.json");
    let r = train(
        &data::path("sine.csv"),
        &report,
        &["--epochs", "5", "--split", arg(&file)],
    );
    assert_eq!(r["samples"]["train"], 150);
    assert_eq!(r["samples"]["test"], 0);
    assert!(r["network"]["test_mse"].is_null());
    assert_eq!(r["split"]["val"][1], 5);
}

#[test]
fn bad_split_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let sine = data::path("sine.csv");
    let cases = [
        (
            r#"{"train": [0, 1], "val": [300]}"#,
            "val: row 300 is out of range: the data has 300 rows (0 to 299)",
        ),
        (
            r#"{"train": [0, 1], "val": [1, 2]}"#,
            "row 1 is in train and in val",
        ),
        (
            r#"{"train": [0, 1], "val": [2], "test": [5, 5]}"#,
            "row 5 is twice in test",
        ),
        (r#"{"train": [], "val": [2]}"#, "train is empty"),
        (r#"{"train": [0], "val": [-1]}"#, "expected {\"train\""),
        ("not json", "expected {\"train\""),
    ];
    for (k, (text, message)) in cases.iter().enumerate() {
        let file = dir.path().join(format!("bad{k}.json"));
        std::fs::write(&file, text).unwrap();
        let e = bad_input(&["train", "--data", arg(&sine), "--split", arg(&file)]);
        assert!(
            e.contains(&format!("{}: ", file.display())) && e.contains(message),
            "{text}: {e}"
        );
    }
}

#[test]
fn a_large_file_keeps_its_report_small() {
    let dir = tempfile::tempdir().unwrap();
    let rows = tinytrain_host_sim::report::SPLIT_ROWS_MAX + 1;
    let text: String = (0..rows)
        .map(|i| format!("{},{}\n", i % 97, i % 89))
        .collect();
    let file = dir.path().join("large.csv");
    std::fs::write(&file, format!("x,y\n{text}")).unwrap();
    let report = dir.path().join("r.json");
    let r = train(&file, &report, &["--layers", "1,1", "--epochs", "1"]);
    assert!(r["split"].is_null());
    let note = r["split_note"].as_str().unwrap();
    assert!(
        note.contains("100001 rows") && note.contains("seed 1"),
        "{note}"
    );
    assert!(std::fs::metadata(&report).unwrap().len() < 100_000);
}
