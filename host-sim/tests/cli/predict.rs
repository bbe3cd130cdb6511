//! `tinytrain predict` and `tinytrain export` on a model saved by `tinytrain train`.

use crate::{arg, bad_input, data, json, num, ok, tinytrain};
use std::path::Path;
use tinytrain_host_sim::model_file::ModelFile;

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
    let net = &report["network"];
    let expected = (part("train") * num(net, "train_mse")
        + part("val") * num(net, "val_mse")
        + part("test") * num(net, "test_mse"))
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
    let net = ModelFile::read(&model).unwrap().net;
    let expected = format!(
        "x,prediction\n0,{}\n1.5,{}\n",
        net.predict(&[0.0]).unwrap()[0],
        net.predict(&[1.5]).unwrap()[0]
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
    std::fs::write(&inputs, "a,b,c\n0,1,2\n").unwrap();
    let err = bad_input(&["predict", "--model", arg(&model), "--data", arg(&inputs)]);
    assert!(
        err.contains("no column `x`, an input of the model"),
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
    let net = ModelFile::read(&model).unwrap().net;
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

/// Trains on the plane (target `y`, inputs `a,b,c`) and saves the model into `dir`.
fn plane_model(dir: &Path) -> std::path::PathBuf {
    let model = dir.join("plane.ttm");
    let plane = data::path("plane.csv");
    ok(&[
        "train",
        "--data",
        arg(&plane),
        "--target",
        "y",
        "--layers",
        "3,8,1",
        "--epochs",
        "10",
        "--model",
        arg(&model),
    ]);
    model
}

/// The plane's data with its columns in the order `columns` (names from the committed file);
/// `extra` adds a column of that name holding the row number.
fn plane_as(dir: &Path, columns: &[&str], extra: Option<&str>) -> std::path::PathBuf {
    let text = std::fs::read_to_string(data::path("plane.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let pick: Vec<usize> = columns
        .iter()
        .map(|c| header.iter().position(|h| h == c).unwrap())
        .collect();
    let mut out = columns.join(",");
    out += &extra.map(|e| format!(",{e}")).unwrap_or_default();
    out.push('\n');
    for (row, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        let picked: Vec<&str> = pick.iter().map(|&k| cells[k]).collect();
        out += &picked.join(",");
        out += &extra.map(|_| format!(",{row}")).unwrap_or_default();
        out.push('\n');
    }
    let path = dir.join(format!("{}.csv", columns.join("-")));
    std::fs::write(&path, out).unwrap();
    path
}

/// The prediction column of `predict`'s output.
fn predictions(stdout: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(stdout).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().to_owned())
        .collect()
}

#[test]
fn a_model_keeps_the_names_of_its_columns() {
    let dir = tempfile::tempdir().unwrap();
    let model = ModelFile::read(&plane_model(dir.path())).unwrap();
    assert_eq!(model.version, 2);
    let names = |n: &[&str]| Some(n.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(model.input_names, names(&["a", "b", "c"]));
    assert_eq!(model.output_names, names(&["y"]));
}

#[test]
fn columns_are_matched_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let model = plane_model(dir.path());
    let reference = plane_as(dir.path(), &["a", "b", "c", "y"], None);
    let out = tinytrain(&["predict", "--model", arg(&model), "--data", arg(&reference)]);
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("mse ") && stderr.contains("(target y)"),
        "{stderr}"
    );
    let expected = predictions(&out.stdout);
    assert_eq!(expected.len(), 300);

    // Reordered, with an extra column: the same predictions and MSE, a note for the extra.
    let shuffled = plane_as(dir.path(), &["c", "y", "a", "b"], Some("row"));
    let out = tinytrain(&["predict", "--model", arg(&model), "--data", arg(&shuffled)]);
    assert!(out.status.success());
    assert_eq!(predictions(&out.stdout), expected);
    let csv = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        csv.starts_with("a,b,c,prediction\n"),
        "inputs in the model's order"
    );
    let notes = String::from_utf8(out.stderr).unwrap();
    assert!(
        notes.contains(&format!(
            "note: column `row` of {} is not an input of the model: ignored",
            arg(&shuffled)
        )),
        "{notes}"
    );
    assert!(notes.ends_with(stderr.as_str()), "the same MSE: {notes}");

    // Without the target: predictions only.
    let inputs = plane_as(dir.path(), &["b", "c", "a"], None);
    let out = tinytrain(&["predict", "--model", arg(&model), "--data", arg(&inputs)]);
    assert!(out.status.success() && out.stderr.is_empty());
    assert_eq!(predictions(&out.stdout), expected);
}

#[test]
fn a_missing_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let model = plane_model(dir.path());
    let partial = plane_as(dir.path(), &["a", "c", "y"], None);
    let err = bad_input(&["predict", "--model", arg(&model), "--data", arg(&partial)]);
    assert_eq!(
        err,
        format!(
            "error: {}: no column `b`, an input of the model {} (its inputs: a, b, c; the \
             file's columns: a, c, y)\n",
            arg(&partial),
            arg(&model)
        )
    );
    let err = bad_input(&[
        "predict",
        "--model",
        arg(&model),
        "--data",
        arg(&plane_as(dir.path(), &["a", "b", "c", "y"], None)),
        "--target",
        "b",
    ]);
    assert!(err.contains("column `b` is an input of the model"), "{err}");
}

#[test]
fn a_header_naming_two_columns_alike_is_refused_in_train_and_predict() {
    let dir = tempfile::tempdir().unwrap();
    let twice = dir.path().join("twice.csv");
    std::fs::write(&twice, "x,x,y\n1,2,3\n4,5,6\n7,8,9\n10,11,12\n").unwrap();
    let expected = format!(
        "error: {}:1: column `x` is named twice in the header (columns 1 and 2): every column \
         needs a name of its own\n",
        arg(&twice)
    );
    assert_eq!(bad_input(&["train", "--data", arg(&twice)]), expected);
    let model = plane_model(dir.path());
    assert_eq!(
        bad_input(&["predict", "--model", arg(&model), "--data", arg(&twice)]),
        expected
    );
}

/// A committed version 1 model: columns by position, with a note, and the very predictions
/// the version that wrote it made.
#[test]
fn a_version_1_model_takes_columns_by_position() {
    let v1 = Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/data/v1");
    let model = v1.join("plane.ttm");
    let plane = data::path("plane.csv");
    let out = tinytrain(&[
        "predict",
        "--model",
        arg(&model),
        "--data",
        arg(&plane),
        "--target",
        "y",
    ]);
    assert!(out.status.success());
    let expected = std::fs::read_to_string(v1.join("plane.predictions.csv")).unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with(&format!(
            "note: {} holds no column names (model format version 1): the columns of {} are \
             taken by position\nmse ",
            arg(&model),
            arg(&plane)
        )),
        "{stderr}"
    );
}

/// Runs `tinytrain` under a limit on its address space; fails the test if it runs longer than
/// a minute (a reader that never stops).
fn tinytrain_limited(args: &[&str], kib: u64) -> std::process::Output {
    let script = format!("ulimit -v {kib} && exec \"$0\" \"$@\"");
    let mut child = std::process::Command::new("sh")
        .args(["-c", &script, env!("CARGO_BIN_EXE_tinytrain")])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("tinytrain {args:?} still runs after a minute");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_model_file_is_read_no_further_than_its_header_allows() {
    let sine = data::path("sine.csv");
    let run = |model: &str| {
        let out = tinytrain_limited(
            &["predict", "--model", model, "--data", arg(&sine)],
            256 * 1024,
        );
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        stderr
    };
    let err = run("/dev/zero");
    assert_eq!(
        err,
        "error: /dev/zero: not a valid tinytrain model: not a tinytrain model (bad magic bytes)\n"
    );
    // 56 bytes whose version 1 header claims 16383 × 16383 weights (1 GiB): refused, under a
    // 256 MiB limit on the address space, without allocating for the claim.
    let dir = tempfile::tempdir().unwrap();
    let forged = dir.path().join("forged.ttm");
    let mut bytes = b"TTNN".to_vec();
    for v in [1u16, 2, 16383, 16383] {
        bytes.extend(v.to_le_bytes());
    }
    bytes.resize(56, 0);
    std::fs::write(&forged, &bytes).unwrap();
    let err = run(arg(&forged));
    assert!(
        err.starts_with(&format!(
            "error: {}: not a valid tinytrain model: model is truncated: 56 bytes of ",
            arg(&forged)
        )),
        "{err}"
    );
}
