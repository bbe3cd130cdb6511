//! Bad input: a clear message with its location, exit code 2, never a panic.

use crate::{arg, bad_input, data};
use std::path::{Path, PathBuf};

/// Writes `text` to `name` in `dir`.
fn file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `train` on a CSV holding `text` with `extra` flags; returns the error message and
/// the file's path.
fn train_on(text: &str, extra: &[&str]) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = file(dir.path(), "bad.csv", text);
    let mut args = vec!["train", "--data", arg(&path), "--epochs", "3"];
    args.extend(extra);
    (bad_input(&args), arg(&path).to_owned())
}

#[test]
fn missing_file() {
    let err = bad_input(&["train", "--data", "no/such/file.csv"]);
    assert!(
        err.starts_with("error: cannot read no/such/file.csv: "),
        "{err}"
    );
}

#[test]
fn non_numeric_cell_names_line_and_column() {
    let (err, path) = train_on("x,y\n1,2\n3,4\n5,six\n", &[]);
    assert_eq!(
        err,
        format!("error: {path}:4:2: \"six\" in column `y` is not a finite number\n")
    );
}

#[test]
fn ragged_row_names_its_line() {
    let (err, path) = train_on("x,y\n1,2\n3,4,5\n", &[]);
    assert_eq!(
        err,
        format!("error: {path}:3: 3 cells, but the header has 2\n")
    );
}

#[test]
fn empty_file_and_header_only() {
    let (err, path) = train_on("", &[]);
    assert_eq!(
        err,
        format!("error: {path}: the file is empty; expected a header row and data rows\n")
    );
    let (err, path) = train_on("x,y\n", &[]);
    assert_eq!(
        err,
        format!("error: {path}: no data rows after the header\n")
    );
}

#[test]
fn unknown_target_column() {
    let (err, path) = train_on("x,y\n1,2\n", &["--target", "z"]);
    assert_eq!(
        err,
        format!("error: {path}: no column \"z\" (--target); the columns are: x, y\n")
    );
    let (err, _) = train_on("x,y\n1,2\n", &["--target", "3"]);
    assert!(err.contains("no column \"3\""), "{err}");
}

#[test]
fn layers_that_do_not_fit_the_columns() {
    let sine = data::path("sine.csv");
    let err = bad_input(&["train", "--data", arg(&sine), "--layers", "2,16,1"]);
    assert_eq!(
        err,
        format!(
            "error: --layers 2,16,1: the first width must be the number of feature columns: \
             {} has 1 feature column\n",
            arg(&sine)
        )
    );
    let err = bad_input(&["train", "--data", arg(&sine), "--layers", "1,16,2"]);
    assert!(err.contains("the last width must be 1"), "{err}");
    let err = bad_input(&["train", "--data", arg(&sine), "--layers", "1,x,1"]);
    assert!(err.contains("\"x\" is not a width"), "{err}");
}

#[test]
fn fractions_that_leave_a_split_empty() {
    let rows: String = (0..20).map(|i| format!("{i},{}\n", i * 2)).collect();
    let text = format!("x,y\n{rows}");
    let (err, _) = train_on(&text, &["--val", "0.01"]);
    assert_eq!(
        err,
        "error: --val 0.01 --test 0.2 on 20 samples: the split leaves the validation set empty\n"
    );
    let (err, _) = train_on(&text, &["--test", "0.01"]);
    assert!(
        err.ends_with("the split leaves the test set empty\n"),
        "{err}"
    );
    let (err, _) = train_on(&text, &["--val", "0.5", "--test", "0.5"]);
    assert!(err.contains("add up to less than 1"), "{err}");
}

#[test]
fn bad_hyperparameters() {
    let sine = data::path("sine.csv");
    let err = bad_input(&["train", "--data", arg(&sine), "--lr=0"]);
    assert!(
        err.contains("learning rate must be a finite number greater than 0"),
        "{err}"
    );
    let err = bad_input(&["train", "--data", arg(&sine), "--batch", "0"]);
    assert!(err.contains("batch size must be at least 1"), "{err}");
}

#[test]
fn predict_with_a_file_that_is_not_a_model() {
    let dir = tempfile::tempdir().unwrap();
    let fake = file(dir.path(), "fake.ttm", "x,y\n1,2\n");
    let sine = data::path("sine.csv");
    let err = bad_input(&["predict", "--model", arg(&fake), "--data", arg(&sine)]);
    assert!(
        err.starts_with(&format!(
            "error: {}: not a valid tinytrain model: ",
            arg(&fake)
        )),
        "{err}"
    );
    let err = bad_input(&["export", "--model", "none.ttm", "--rust", "out.rs"]);
    assert!(err.starts_with("error: cannot read none.ttm: "), "{err}");
}

/// A model whose CRC holds but whose statistics `Trainer::set_model` would refuse is refused
/// on load, and the message names the statistic, not a parameter.
#[test]
fn a_model_with_a_bad_statistic_is_refused_by_name() {
    use tinytrain_host_sim::{model_file::ModelFile, Net};
    let dir = tempfile::tempdir().unwrap();
    let net = Net {
        widths: vec![1, 1],
        params: vec![2.0, 1.0],
        stats: vec![0.5, 2.0, 1.0, 3.0],
    };
    let good = ModelFile::new(net).to_bytes().unwrap();
    let sine = data::path("sine.csv");
    // The statistics start at byte 20 (16 of header, two widths): input mean, input deviation,
    // target mean, target deviation.
    let cases = [
        (
            1,
            0.0,
            "the standardisation standard deviation of input 0 is not a finite number above 0",
        ),
        (
            3,
            -1.0,
            "the standardisation standard deviation of target 0 is not a finite number above 0",
        ),
        (
            2,
            f32::NAN,
            "the standardisation mean of target 0 is NaN or infinite",
        ),
    ];
    for (k, value, message) in cases {
        let mut bytes = good.clone();
        let at = 20 + 4 * k;
        bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
        let end = bytes.len() - 4;
        let crc = tinytrain_core::crc::crc32(&bytes[..end]);
        bytes[end..].copy_from_slice(&crc.to_le_bytes());
        let model = file(dir.path(), "bad.ttm", "");
        std::fs::write(&model, &bytes).unwrap();
        let err = bad_input(&["predict", "--model", arg(&model), "--data", arg(&sine)]);
        assert_eq!(
            err,
            format!(
                "error: {}: not a valid tinytrain model: {message}\n",
                arg(&model)
            )
        );
    }
}

#[test]
fn a_network_too_large_says_so() {
    let (err, _) = train_on("x,y\n1,2\n3,4\n", &["--layers", "1,20000,20000,1"]);
    assert!(
        err.contains(
            "--layers 1,20000,20000,1: the network is too large: more than 268435456 parameters \
             or activations"
        ),
        "{err}"
    );
}
