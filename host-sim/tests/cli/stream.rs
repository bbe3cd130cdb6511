//! `tinytrain train --stream`: the device's stream on the command line, bit for bit; tracking a
//! drift that a frozen model misses, on the simulated sensor and on a real recorded signal;
//! fine-tuning the last layer of a saved model; bad settings.

use crate::{arg, bad_input, data, json, num, ok};
use std::path::{Path, PathBuf};
use tinytrain_demo::stream::{Sensor, ARRIVALS, CHANGE};
use tinytrain_host_sim::model_file::ModelFile;
use tinytrain_host_sim::Net;

/// The stream story's settings, as flags.
const STORY: [&str; 20] = [
    "--stream",
    "--layers",
    "1,16,16,1",
    "--optimizer",
    "adam",
    "--lr",
    "0.01",
    "--batch",
    "16",
    "--patience",
    "10",
    "--seed",
    "1",
    "--replay-policy",
    "window",
    "--test-every",
    "7",
    "--test-window",
    "32",
    "--warmup=32",
];

/// The simulated sensor's first `rows` readings as a CSV file in `dir`.
fn sensor_csv(dir: &Path, rows: u32) -> PathBuf {
    let mut csv = String::from("x,y\n");
    for ([x], [y]) in Sensor::new().take(rows as usize) {
        csv += &format!("{x},{y}\n");
    }
    let path = dir.join(format!("sensor-{rows}.csv"));
    std::fs::write(&path, csv).unwrap();
    path
}

/// The MSE of a saved model on `rows` of the sensor's readings.
fn mse(model: &Path, rows: std::ops::Range<usize>) -> f64 {
    let net = ModelFile::read(model).unwrap().net;
    mse_of(&net, rows)
}

fn mse_of(net: &Net, rows: std::ops::Range<usize>) -> f64 {
    let n = rows.len() as f64;
    Sensor::new()
        .skip(rows.start)
        .take(rows.len())
        .map(|([x], [y])| f64::from(net.predict(&[x]).unwrap()[0] - y).powi(2))
        .sum::<f64>()
        / n
}

#[test]
fn the_command_line_streams_the_devices_bits() {
    let dir = tempfile::tempdir().unwrap();
    let csv = sensor_csv(dir.path(), ARRIVALS);
    let (model, report, plots) = (
        dir.path().join("m.ttm"),
        dir.path().join("r.json"),
        dir.path().join("plots"),
    );
    let mut args = vec!["train", "--data", arg(&csv)];
    args.extend(STORY);
    args.extend(["--model", arg(&model), "--report", arg(&report)]);
    args.extend(["--plot", arg(&plots)]);
    let out = ok(&args);
    assert!(out.contains("event     drift at row "), "{out}");
    // The firmware's story on the host: the same readings, settings and bits.
    let story = tinytrain_demo::host::stream_on_host(std::io::sink()).unwrap();
    let net = ModelFile::read(&model).unwrap().net;
    assert_eq!(tinytrain_demo::fnv1a_f32(&net.params), story.weights_hash);
    let r = json(&report);
    // The report's MSEs are in the target's units, as the story's (which rounds them to f32).
    assert_eq!(num(&r, "test_mse") as f32, story.test_mse);
    assert_eq!(num(&r, "epochs_run") as u32, story.epochs);
    assert_eq!(num(&r, "arrivals") as u32, ARRIVALS);
    let kinds: Vec<&str> = r["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds[..3], ["paused", "drift", "resumed"], "{kinds:?}");
    let drift = &r["events"][1];
    assert!(num(drift, "arrivals") > f64::from(CHANGE));
    assert!(num(drift, "val_mse") > 3.0 * num(drift, "reference_mse"));
    let history = r["history"].as_array().unwrap();
    assert_eq!(history.len() as f64, num(&r, "epochs_run"));
    // The epoch after the first pause: paused, with no training loss.
    let after_pause = &history[num(&r["events"][0], "epoch") as usize];
    assert_eq!(after_pause["paused"], true);
    assert!(after_pause["train_mse"].is_null() && after_pause["val_mse"].is_number());
    let png = std::fs::read(plots.join("stream.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
}

#[test]
fn a_stream_writes_its_report_to_standard_output_and_quiet_keeps_the_rest_silent() {
    let dir = tempfile::tempdir().unwrap();
    let csv = sensor_csv(dir.path(), 600);
    let file = dir.path().join("r.json");
    let summary = ok(&[
        "train",
        "--data",
        arg(&csv),
        "--stream",
        "--report",
        arg(&file),
    ]);
    assert!(summary.contains("ended     "), "{summary}");
    let out = crate::tinytrain(&[
        "--quiet",
        "train",
        "--data",
        arg(&csv),
        "--stream",
        "--report",
        "-",
    ]);
    assert!(out.status.success());
    let piped: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON alone");
    assert_eq!(piped, json(&file));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Without --quiet the summary and the progress go to standard error, in the target's units.
    let out = crate::tinytrain(&["train", "--data", arg(&csv), "--stream", "--report", "-"]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("ended     ") && stderr.contains("validation MSE "),
        "{stderr}"
    );
    let last = &piped["history"][9];
    let line = format!(
        "epoch    10 row {:>7}  train MSE {}",
        last["arrivals"].as_u64().unwrap(),
        tinytrain_host_sim::numbers::number(last["train_mse"].as_f64().unwrap())
    );
    assert!(stderr.contains(&line), "{line} in {stderr}");
}

#[test]
fn a_stream_tracks_the_sensors_drift_that_a_model_frozen_before_it_misses() {
    let dir = tempfile::tempdir().unwrap();
    let (all, before) = (
        sensor_csv(dir.path(), ARRIVALS),
        sensor_csv(dir.path(), CHANGE),
    );
    let (tracked, frozen) = (dir.path().join("t.ttm"), dir.path().join("f.ttm"));
    for (csv, model) in [(&all, &tracked), (&before, &frozen)] {
        let mut args = vec!["train", "--data", arg(csv)];
        args.extend(STORY);
        args.extend(["--model", arg(model)]);
        ok(&args);
    }
    let last = ARRIVALS as usize - 1000..ARRIVALS as usize;
    let (t, f) = (mse(&tracked, last.clone()), mse(&frozen, last));
    // The new response's noise alone costs 0.0025.
    assert!(t < 0.01, "tracked {t}");
    assert!(f > 20.0 * t, "frozen {f} vs tracked {t}");
}

/// Rows `range` of the real signal's CSV, with its header, in `dir`.
fn co2_rows(dir: &Path, range: std::ops::Range<usize>) -> PathBuf {
    let text = std::fs::read_to_string(data::path("co2.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.skip(range.start).take(range.len()).collect();
    let path = dir.join(format!("co2-{}-{}.csv", range.start, range.end));
    std::fs::write(&path, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
    path
}

/// The MSE of a model on a CSV file, from `tinytrain predict`.
fn predict_mse(model: &Path, csv: &Path) -> f64 {
    let out = crate::tinytrain(&["predict", "--model", arg(model), "--data", arg(csv)]);
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    stderr
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no MSE in {stderr}"))
}

#[test]
fn a_stream_follows_the_rise_of_co2_that_a_model_frozen_early_misses() {
    // 2280 weeks of Mauna Loa CO2 (see data/co2.py), four lags a row; the level rises 60 ppm.
    // The last fifth scored by a model that streamed every row before it, and by one that
    // stopped after the first 700 rows (1958-1971), over five seeds.
    let dir = tempfile::tempdir().unwrap();
    let rows = 2280;
    let (all, early) = (co2_rows(dir.path(), 0..rows), co2_rows(dir.path(), 0..700));
    let tail = co2_rows(dir.path(), rows - 456..rows);
    let model = dir.path().join("m.ttm");
    let score = |csv: &Path, seed: &str| {
        let mut args = vec!["train", "--data", arg(csv), "--stream", "--seed", seed];
        args.extend(["--layers", "4,16,1", "--optimizer", "adam", "--lr", "0.005"]);
        // A rising signal: training never pauses.
        args.extend(["--patience", "1000000", "--model", arg(&model)]);
        ok(&args);
        predict_mse(&model, &tail)
    };
    let (mut tracked, mut frozen) = (0.0, 0.0);
    for seed in ["1", "2", "3", "4", "5"] {
        let t = score(&all, seed);
        // Week-to-week noise and the seasonal swing leave about 0.3 ppm².
        assert!(t < 0.4, "seed {seed}: tracked {t}");
        tracked += t / 5.0;
        frozen += score(&early, seed) / 5.0;
    }
    assert!(
        frozen > 3.0 * tracked,
        "frozen {frozen} vs tracked {tracked}"
    );
}

#[test]
fn the_last_layer_of_a_saved_model_is_fine_tuned_on_the_new_response() {
    let dir = tempfile::tempdir().unwrap();
    let before = sensor_csv(dir.path(), CHANGE);
    let base = dir.path().join("base.ttm");
    let mut args = vec!["train", "--data", arg(&before)];
    args.extend(STORY);
    args.extend(["--model", arg(&base)]);
    ok(&args);
    // The readings after the change only.
    let all = sensor_csv(dir.path(), ARRIVALS);
    let text = std::fs::read_to_string(&all).unwrap();
    let after: Vec<&str> = text.lines().skip(1 + CHANGE as usize).collect();
    let after_csv = dir.path().join("after.csv");
    std::fs::write(&after_csv, format!("x,y\n{}\n", after.join("\n"))).unwrap();
    let tuned = dir.path().join("tuned.ttm");
    ok(&[
        "train",
        "--data",
        arg(&after_csv),
        "--stream",
        "--model-in",
        arg(&base),
        "--trainable-from",
        "2",
        "--optimizer",
        "adam",
        "--lr",
        "0.01",
        "--model",
        arg(&tuned),
    ]);
    let (b, t) = (
        ModelFile::read(&base).unwrap().net,
        ModelFile::read(&tuned).unwrap().net,
    );
    // Widths 0 and 1 (1·16 + 16 and 16·16 + 16 parameters) kept their weights, and the
    // statistics are the base model's.
    let frozen = 32 + 272;
    assert_eq!(t.params[..frozen], b.params[..frozen]);
    assert_ne!(t.params[frozen..], b.params[frozen..]);
    assert_eq!(t.stats, b.stats);
    let last = ARRIVALS as usize - 1000..ARRIVALS as usize;
    let (before_mse, after_mse) = (mse_of(&b, last.clone()), mse_of(&t, last));
    assert!(after_mse < before_mse / 4.0, "{after_mse} vs {before_mse}");
}

#[test]
fn a_shuffled_stream_is_another_order_of_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let csv = sensor_csv(dir.path(), 600);
    let run = |extra: &[&str]| {
        let report = dir.path().join("r.json");
        let mut args = vec![
            "train",
            "--data",
            arg(&csv),
            "--stream",
            "--report",
            arg(&report),
        ];
        args.extend(extra);
        ok(&args);
        json(&report)["history"].clone()
    };
    let (a, b) = (
        run(&["--shuffle-stream", "5"]),
        run(&["--shuffle-stream", "5"]),
    );
    assert_eq!(a, b, "same seed, same bits");
    assert_ne!(a, run(&[]), "another order");
}

#[test]
fn bad_stream_settings_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let csv = sensor_csv(dir.path(), 100);
    let csv = arg(&csv);
    for (flags, words) in [
        (&["--replay", "0"][..], "--replay: 0: "),
        (&["--holdout-every", "1"], "--holdout-every: 1: "),
        (&["--holdout-every", "0"], "--holdout-every: 0: "),
        (&["--steps-per", "0"], "--steps-per: 0: "),
        (&["--every", "0"], "--every: 0: "),
        (&["--validation-window", "0"], "--validation-window: 0: "),
        (&["--test-every", "10"], "--test-every: 10: "),
        (
            &["--test-every", "3", "--test-window", "0"],
            "--test-window: 0: ",
        ),
        (&["--warmup", "0"], "--warmup: 0: "),
        (&["--drift-factor", "1"], "--drift-factor: 1: "),
        (&["--drift-factor", "NaN"], "--drift-factor: NaN: "),
        (&["--drift-epochs", "0"], "--drift-epochs: 0: "),
        (&["--trainable-from", "3"], "trainable_from 3"),
        // A mini-batch larger than the buffer it is drawn from (a batch of 10^11 would take
        // forever at every step), and buffers no memory holds.
        (&["--batch", "129"], "--batch: 129: "),
        (&["--batch", "100000000000"], "--batch: 100000000000: "),
        (
            &["--replay", "100000000000"],
            "replay 100000000000, validation 64",
        ),
        (
            &["--replay", "18446744073709551615"],
            "replay 18446744073709551615,",
        ),
        (
            &["--validation-window", "100000000000"],
            "validation 100000000000 and",
        ),
    ] {
        let mut args = vec!["train", "--data", csv, "--stream", "--layers", "1,16,16,1"];
        args.extend(flags);
        let err = bad_input(&args);
        assert!(err.contains(words), "{flags:?}: {err}");
        // `device train` takes the same flags, checked before a device is started.
        let mut args = vec!["device", "train", "--data", csv, "--layers", "1,16,16,1"];
        args.extend(flags);
        args.extend(["--elf", "/nonexistent/link"]);
        let err = bad_input(&args);
        assert!(err.contains(words), "device train {flags:?}: {err}");
    }
    // The device's log is an output like the others: checked before the device starts (it
    // was written after the run, and a bad path lost the trained model).
    let err = bad_input(&[
        "device",
        "train",
        "--data",
        csv,
        "--device-log",
        "/nonexistent/dir/log",
        "--elf",
        "/nonexistent/link",
    ]);
    assert!(err.contains("--device-log"), "{err}");
    // The emulated board's flags mean nothing to a real board on a serial port: refused, not
    // ignored.
    for flags in [
        &["--elf", "/nonexistent/link"][..],
        &["--qemu", "/nonexistent/qemu"],
        &["--count-instructions"],
        &["--device-log", "log"],
    ] {
        let mut args = vec!["device", "train", "--data", csv, "--port", "/dev/null"];
        args.extend(flags);
        let out = crate::tinytrain(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {err}");
        assert!(
            err.contains(flags[0]) && err.contains("--port"),
            "{flags:?}: {err}"
        );
    }
    // Stream flags need --stream.
    let out = crate::tinytrain(&["train", "--data", csv, "--replay", "5"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--stream"));
    // A saved model of other widths.
    let model = dir.path().join("m.ttm");
    ok(&[
        "train",
        "--data",
        csv,
        "--layers",
        "1,4,1",
        "--model",
        arg(&model),
    ]);
    let err = bad_input(&[
        "train",
        "--data",
        csv,
        "--stream",
        "--layers",
        "1,8,1",
        "--model-in",
        arg(&model),
    ]);
    assert!(err.contains("1,4,1"), "{err}");
}

/// The device's failures are not bad input: exit code 4, the link firmware missing is (2).
#[test]
fn a_device_that_never_answers_is_exit_code_4_a_missing_firmware_2() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let csv = sensor_csv(dir.path(), 100);
    let csv = arg(&csv);
    // A QEMU that connects to the host's end of the serial line and never answers.
    let qemu = dir.path().join("silent-qemu");
    std::fs::write(
        &qemu,
        "#!/bin/bash\n\
         while [ $# -gt 0 ]; do\n\
           if [ \"$1\" = -serial ]; then addr=${2#tcp:}; addr=${addr%%,*}; fi\n\
           shift\n\
         done\n\
         exec 3<>\"/dev/tcp/${addr%:*}/${addr##*:}\"\n\
         sleep 60\n",
    )
    .expect("the script");
    std::fs::set_permissions(&qemu, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    // Any existing file passes for the firmware: the fake QEMU does not read it.
    let out = crate::tinytrain(&[
        "device",
        "train",
        "--data",
        csv,
        "--layers",
        "1,8,1",
        "--qemu",
        arg(&qemu),
        "--elf",
        csv,
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("no device answers"), "{err}");
    let err = bad_input(&[
        "device",
        "train",
        "--data",
        csv,
        "--elf",
        "/nonexistent/link",
    ]);
    assert!(
        err.contains("--elf: no link firmware at /nonexistent/link"),
        "{err}"
    );
}

#[test]
fn a_stream_that_never_scored_an_epoch_leaves_its_model_untrained_and_unsaved() {
    // Fewer rows than the warm-up: not one epoch, so the weights are the initial ones. As
    // `train` does for a run no epoch improved: exit code 3, no model unless --keep-untrained.
    let dir = tempfile::tempdir().unwrap();
    let csv = sensor_csv(dir.path(), 20);
    let model = dir.path().join("m.ttm");
    let args = [
        "train",
        "--data",
        arg(&csv),
        "--stream",
        "--model",
        arg(&model),
    ];
    let out = crate::tinytrain(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("the model is untrained"), "{stderr}");
    assert!(stderr.contains("--keep-untrained"), "{stderr}");
    assert!(!model.exists());
    let out = crate::tinytrain(&[&args[..], &["--keep-untrained"]].concat());
    assert_eq!(out.status.code(), Some(3));
    assert!(model.exists());
    // Enough rows for epochs: trained, saved, exit code 0.
    let long = sensor_csv(dir.path(), 400);
    ok(&[
        "train",
        "--data",
        arg(&long),
        "--stream",
        "--model",
        arg(&model),
    ]);
    // From a saved model, the few rows leave its weights, which are kept and saved.
    let tuned = dir.path().join("tuned.ttm");
    let from = ["--model-in", arg(&model), "--model", arg(&tuned)];
    ok(&[&["train", "--data", arg(&csv), "--stream"][..], &from].concat());
    let (start, kept) = (
        ModelFile::read(&model).unwrap(),
        ModelFile::read(&tuned).unwrap(),
    );
    assert_eq!(start.net.params, kept.net.params);
}

#[test]
fn a_streams_model_leaves_out_the_names_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let csv = sensor_csv(dir.path(), 400);
    let model = dir.path().join("m.ttm");
    let args = [
        "train",
        "--data",
        arg(&csv),
        "--stream",
        "--model",
        arg(&model),
    ];
    ok(&args);
    let named = ModelFile::read(&model).unwrap();
    assert_eq!(named.input_names, Some(vec!["x".to_owned()]));
    ok(&[&args[..], &["--model-without", "names"]].concat());
    let bare = ModelFile::read(&model).unwrap();
    assert_eq!((bare.input_names, bare.output_names), (None, None));
    assert_eq!(bare.net.params, named.net.params);
}
