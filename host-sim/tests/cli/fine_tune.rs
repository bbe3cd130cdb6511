//! A saved model keeps what resuming needs, and `train --model-in` fine-tunes from it.

use crate::{arg, bad_input, data, tinytrain};
use std::path::{Path, PathBuf};
use tinytrain_core::Optimizer;
use tinytrain_host_sim::model_file::ModelFile;

/// Trains on the plane (target `y`) with `extra` flags and saves the model as `name` in `dir`;
/// returns its path and the run's standard error.
fn plane(dir: &Path, name: &str, extra: &[&str]) -> (PathBuf, String) {
    let model = dir.join(name);
    let plane = data::path("plane.csv");
    let mut args = vec![
        "train",
        "--data",
        arg(&plane),
        "--target",
        "y",
        "--model",
        arg(&model),
    ];
    args.extend(extra);
    let out = tinytrain(&args);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    (model, stderr)
}

#[test]
fn a_saved_model_holds_its_optimizer_state_and_training_resumes_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let first = ["--layers", "3,8,1", "--optimizer", "adam", "--lr", "0.005"];
    let (model, _) = plane(
        dir.path(),
        "m.ttm",
        &[&first[..], &["--epochs", "12"]].concat(),
    );
    let saved = ModelFile::read(&model).unwrap();
    let state = saved.optimizer.as_ref().unwrap();
    assert_eq!(state.optimizer, Optimizer::ADAM);
    let training = saved.training.unwrap();
    assert_eq!((training.learning_rate, training.batch_size), (0.005, 16));
    // 180 training samples in batches of 16: 12 updates an epoch.
    assert_eq!(
        state.bias_correction.steps(),
        12 * u64::from(training.epochs)
    );

    // Fine-tuning takes the model's rule, learning rate and batch size, and its state.
    let model_in = ["--model-in", arg(&model), "--epochs", "3"];
    let (tuned, notes) = plane(dir.path(), "tuned.ttm", &model_in);
    assert!(
        notes.contains(&format!(
            "note: resumed from {}: the adam optimizer's state came with it ({} updates before)",
            arg(&model),
            state.bias_correction.steps()
        )),
        "{notes}"
    );
    let tuned = ModelFile::read(&tuned).unwrap();
    assert_eq!(tuned.net.widths, [3, 8, 1]);
    let tuned_training = tuned.training.unwrap();
    assert_eq!(tuned_training.learning_rate, 0.005);
    assert_eq!(tuned_training.epochs, training.epochs + 3);
    assert_eq!(
        tuned.optimizer.unwrap().bias_correction.steps(),
        12 * u64::from(tuned_training.epochs)
    );
    assert_ne!(tuned.net.params, saved.net.params);
}

#[test]
fn parts_can_be_left_out_and_a_model_without_state_warms_up() {
    let dir = tempfile::tempdir().unwrap();
    let flags = ["--layers", "3,8,1", "--optimizer", "adam", "--epochs", "5"];
    let without = ["--model-without", "names,state"];
    let (bare, _) = plane(dir.path(), "bare.ttm", &[&flags[..], &without].concat());
    let bare_file = ModelFile::read(&bare).unwrap();
    assert_eq!(
        (
            bare_file.input_names,
            bare_file.optimizer,
            bare_file.training
        ),
        (None, None, None)
    );
    let (full, _) = plane(dir.path(), "full.ttm", &flags);
    let full_len = std::fs::metadata(&full).unwrap().len();
    let bare_len = std::fs::metadata(&bare).unwrap().len();
    // Adam's two moments per parameter (8·41 B) and the names, settings and section headers.
    assert!(full_len > bare_len + 8 * 41, "{full_len} vs {bare_len}");

    let model_in = [
        "--model-in",
        arg(&bare),
        "--optimizer",
        "adam",
        "--epochs",
        "2",
    ];
    let (_, notes) = plane(dir.path(), "warmed.ttm", &model_in);
    assert!(
        notes.contains(&format!(
            "note: {} holds no adam optimizer state: the optimizer starts afresh, its learning \
             rate warmed up over 2000 updates",
            arg(&bare)
        )),
        "{notes}"
    );
}

#[test]
fn a_model_in_of_other_widths_or_without_the_target_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = plane(dir.path(), "m.ttm", &["--layers", "3,8,1", "--epochs", "2"]);
    let plane = data::path("plane.csv");
    let base = ["train", "--data", arg(&plane), "--model-in", arg(&model)];
    let err = bad_input(&[&base[..], &["--target", "y", "--layers", "3,4,1"]].concat());
    assert!(
        err.contains("--layers 3,4,1: the --model-in model has the widths 3,8,1"),
        "{err}"
    );
    // Without `y`, the model's target, and no --target: the data has no target column.
    let no_y = dir.path().join("no-y.csv");
    std::fs::write(&no_y, "a,b,c\n1,2,3\n4,5,6\n").unwrap();
    let err = bad_input(&["train", "--data", arg(&no_y), "--model-in", arg(&model)]);
    assert!(
        err.contains("no column `y`, the target of the model"),
        "{err}"
    );
}
