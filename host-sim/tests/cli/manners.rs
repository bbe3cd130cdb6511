//! The command's manners: standard input and output as files (`-`), `--quiet`, shell
//! completions, CSV quoting.

use crate::{arg, data, json, ok, tinytrain};
use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `tinytrain` with `input` on its standard input.
fn with_input(args: &[&str], input: &[u8]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tinytrain"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tinytrain runs");
    let mut stdin = child.stdin.take().expect("a pipe");
    stdin.write_all(input).expect("the input is written");
    drop(stdin);
    child.wait_with_output().expect("tinytrain ends")
}

const TRAIN: [&str; 5] = ["train", "--epochs", "15", "--optimizer", "adam"];

#[test]
fn data_from_standard_input_and_the_report_to_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    let sine = data::path("sine.csv");
    let file = dir.path().join("report.json");
    ok(&[&TRAIN[..], &["--data", arg(&sine), "--report", arg(&file)]].concat());
    let csv = std::fs::read(&sine).unwrap();
    let out = with_input(
        &[&TRAIN[..], &["--data", "-", "--report", "-"]].concat(),
        &csv,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut piped: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON alone");
    let mut written = json(&file);
    // The pipe in the README reads a number from the report: its `jq` path names a field.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let jq = readme
        .lines()
        .find_map(|line| line.split("| jq .").nth(1))
        .expect("the README pipes the report into jq");
    let field = jq.trim().split('.').fold(&piped, |value, key| &value[key]);
    assert!(field.is_f64(), "`jq .{jq}` reads {field}");
    // The same report but for the file it names.
    assert_eq!(piped["data"], "-");
    piped["data"] = serde_json::Value::Null;
    written["data"] = serde_json::Value::Null;
    assert_eq!(piped, written);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("test"),
        "the summary goes to stderr: {stderr}"
    );
}

#[test]
fn bad_input_on_standard_input_is_named_so() {
    let out = with_input(&["train", "--data", "-"], b"x,y\n1,2\n3,four\n");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("standard input:3:2"), "{stderr}");
}

#[test]
fn quiet_prints_nothing_but_what_was_asked() {
    let sine = data::path("sine.csv");
    let out = tinytrain(&[&TRAIN[..], &["--quiet", "--data", arg(&sine)]].concat());
    assert!(out.status.success());
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let loud = tinytrain(&[&TRAIN[..], &["--data", arg(&sine)]].concat());
    assert!(!loud.stdout.is_empty() && !loud.stderr.is_empty());
}

#[test]
fn completions_cover_the_commands_and_their_options() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = ok(&["completions", shell]);
        // Options without their dashes: fish writes `-l data`.
        for word in ["train", "predict", "data", "quiet", "completions"] {
            assert!(script.contains(word), "{shell}: no {word}");
        }
    }
    assert_eq!(tinytrain(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn predictions_quote_names_that_need_it() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("temp.csv");
    let mut text = String::from("\"temp, C\",y\n");
    for k in 0..40 {
        text += &format!("{k},{}\n", 2 * k);
    }
    std::fs::write(&csv, text).unwrap();
    let model = dir.path().join("m.ttm");
    ok(&[
        "train",
        "--data",
        arg(&csv),
        "--epochs",
        "2",
        "--model",
        arg(&model),
    ]);
    let out = ok(&["predict", "--model", arg(&model), "--data", arg(&csv)]);
    let header = out.lines().next().unwrap();
    assert!(header.starts_with("\"temp, C\","), "{header}");
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    let names: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(names[0], "temp, C");
}
