//! Nothing the user made is lost: outputs are checked before training, written atomically, a
//! failed one does not stop the others, and Ctrl-C keeps the best weights so far.

use crate::{arg, bad_input, data};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use tinytrain_host_sim::model_file::ModelFile;
use tinytrain_host_sim::output::{self, Step};
use tinytrain_host_sim::Net;

/// A model file of `widths` with weights that depend on `seed`.
fn model_bytes(widths: &[usize], seed: f32) -> Vec<u8> {
    let params = tinytrain_core::shape::param_len(widths);
    let net = Net {
        widths: widths.to_vec(),
        params: (0..params).map(|k| seed + k as f32 * 1e-3).collect(),
        stats: vec![0.0, 1.0, 0.0, 1.0],
    };
    ModelFile::new(net).to_bytes().unwrap()
}

/// Starts `tinytrain` with `args`, its stdout and stderr piped.
fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tinytrain"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads `child`'s stderr until a line starts with `prefix`; returns a thread that reads the
/// rest of it (so that the child never blocks on a full pipe).
fn wait_for(child: &mut Child, prefix: &str) -> std::thread::JoinHandle<String> {
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let mut line = String::new();
    while !line.starts_with(prefix) {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "no line {prefix:?}: {seen}"
        );
        seen += &line;
    }
    std::thread::spawn(move || {
        let mut rest = String::new();
        stderr.read_to_string(&mut rest).unwrap();
        rest
    })
}

/// Exit code, stdout of a child whose stderr was taken by [`wait_for`].
fn finish(mut child: Child) -> (Option<i32>, String) {
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    (child.wait().unwrap().code(), stdout)
}

/// The environment variables of [`save_then_wait_to_be_killed`].
const TARGET: &str = "TINYTRAIN_TEST_TARGET";
const KILL_AT: &str = "TINYTRAIN_TEST_KILL_AT";

/// The model saved over the old one: 1.05 MB, 17 pieces of [`output::PIECE`].
fn new_model() -> Vec<u8> {
    model_bytes(&[1, 512, 512, 1], 2.0)
}

#[test]
#[ignore = "the child process of a_kill_at_any_write_point_loses_nothing"]
fn save_then_wait_to_be_killed() {
    let (Ok(target), Ok(at)) = (std::env::var(TARGET), std::env::var(KILL_AT)) else {
        return;
    };
    let at: usize = at.parse().unwrap();
    let mut points = 0;
    output::write_with(Path::new(&target), &new_model(), |step| {
        points += 1;
        if points == at {
            println!("after {step:?}");
            loop {
                std::thread::park();
            }
        }
    })
    .unwrap();
    println!("points {points}");
}

/// Runs [`save_then_wait_to_be_killed`] in a child process, which saves over `target` and
/// waits at write point `at` (none if 0); kills it there (SIGKILL) and returns the last step.
fn save_and_kill(target: &Path, at: usize) -> String {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "outputs::save_then_wait_to_be_killed",
        ])
        .args(["--nocapture", "--test-threads=1"])
        .env(TARGET, target)
        .env(KILL_AT, at.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    // The test harness prints "test NAME ... " before the child's first line.
    let mut line = String::new();
    let said = loop {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "the child ended");
        if let Some(at) = line.find("after ").or_else(|| line.find("points ")) {
            break line[at..].trim().to_owned();
        }
    };
    child.kill().unwrap();
    child.wait().unwrap();
    said
}

#[test]
fn a_kill_at_any_write_point_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("model.ttm");
    let (old, new) = (model_bytes(&[1, 4, 1], 1.0), new_model());
    let done = save_and_kill(&target, 0);
    let points: usize = done.strip_prefix("points ").unwrap().parse().unwrap();
    assert_eq!(points, new.len().div_ceil(output::PIECE) + 4, "{done}");
    assert_eq!(std::fs::read(&target).unwrap(), new);
    let mut renamed = false;
    for at in 1..=points {
        std::fs::write(&target, &old).unwrap();
        let step = save_and_kill(&target, at);
        renamed |= step == format!("after {:?}", Step::Renamed);
        let now = std::fs::read(&target).unwrap();
        let want = if renamed { &new } else { &old };
        assert!(
            now == *want,
            "killed {step}: the target holds {} bytes",
            now.len()
        );
        assert!(ModelFile::from_bytes(&target, &now).is_ok());
    }
    assert!(renamed);
    eprintln!(
        "killed at each of {points} write points of a {} B model: 0 lost",
        new.len()
    );
}

#[test]
fn bad_output_locations_are_found_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let sine = data::path("sine.csv");
    let missing = dir.path().join("none/report.json");
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    let cases: [(&str, &Path, String); 5] = [
        (
            "--report",
            &missing,
            format!(
                "the directory {} does not exist",
                arg(&dir.path().join("none"))
            ),
        ),
        (
            "--report",
            Path::new("/dev/full"),
            "is not a regular file (a device, a pipe or a socket)".into(),
        ),
        ("--model", dir.path(), "is a directory".into()),
        ("--plot", &file, "is not a directory".into()),
        ("--model", &file.join("m.ttm"), "Not a directory".into()),
    ];
    for (flag, path, problem) in &cases {
        let args = ["train", "--data", arg(&sine), flag, arg(path)];
        let err = bad_input(&args);
        assert!(
            err.starts_with(&format!("error: {flag} {}: ", arg(path))) && err.contains(problem),
            "{err}"
        );
        assert!(
            !err.contains("epoch"),
            "no training before the check: {err}"
        );
    }
    let same = dir.path().join("out");
    let err = bad_input(&[
        "sweep",
        "--data",
        arg(&sine),
        "--report",
        arg(&same),
        "--model",
        arg(&same),
    ]);
    assert!(err.contains("the same place as --report"), "{err}");
    let model = dir.path().join("m.ttm");
    std::fs::write(&model, model_bytes(&[1, 4, 1], 1.0)).unwrap();
    let err = bad_input(&["export", "--model", arg(&model), "--rust", "/dev/full"]);
    assert!(
        err.starts_with("error: --rust /dev/full: is not a regular file"),
        "{err}"
    );
}

#[test]
fn an_output_that_fails_at_the_end_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let gone = dir.path().join("gone");
    std::fs::create_dir(&gone).unwrap();
    let report = gone.join("report.json");
    let model = dir.path().join("model.ttm");
    let sine = data::path("sine.csv");
    let mut child = spawn(&[
        "train",
        "--data",
        arg(&sine),
        "--epochs",
        "200",
        "--patience",
        "200",
        "--report",
        arg(&report),
        "--model",
        arg(&model),
    ]);
    // The check has passed once training reports; the directory goes away meanwhile.
    let stderr = wait_for(&mut child, "epoch");
    std::fs::remove_dir(&gone).unwrap();
    let (code, stdout) = finish(child);
    let stderr = stderr.join().unwrap();
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("wrote     {}", arg(&model))),
        "{stdout}"
    );
    assert!(!stdout.contains("report.json"), "{stdout}");
    let net = ModelFile::read(&model).unwrap().net;
    assert_eq!(net.widths, [1, 16, 16, 1]);
    let last = stderr.lines().last().unwrap();
    assert!(
        last.starts_with(&format!(
            "error: 1 of 2 outputs could not be written: cannot write {}: ",
            arg(&report)
        )),
        "{stderr}"
    );
}

/// Sends SIGINT, as Ctrl-C in a terminal does.
fn ctrl_c(child: &Child) {
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

#[test]
fn ctrl_c_during_train_saves_the_best_weights_so_far() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.ttm");
    let report = dir.path().join("report.json");
    let sine = data::path("sine.csv");
    let mut child = spawn(&[
        "train",
        "--data",
        arg(&sine),
        "--epochs",
        "100000",
        "--patience",
        "100000",
        "--optimizer",
        "adam",
        "--model",
        arg(&model),
        "--report",
        arg(&report),
    ]);
    wait_for(&mut child, "epoch   20");
    ctrl_c(&child);
    let (code, stdout) = finish(child);
    assert_eq!(code, Some(130), "{stdout}");
    assert!(
        stdout.starts_with("stopped   interrupted at epoch "),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("wrote     {}", arg(&model))),
        "{stdout}"
    );
    assert!(!report.exists(), "the report is of a finished run only");
    let epochs: u32 = stdout["stopped   interrupted at epoch ".len()..]
        .split(';')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((20..100000).contains(&epochs), "{stdout}");
    let out = crate::ok(&["predict", "--model", arg(&model), "--data", arg(&sine)]);
    assert_eq!(out.lines().count(), 301);
}

#[test]
fn ctrl_c_during_sweep_saves_the_best_so_far() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.ttm");
    let report = dir.path().join("sweep.json");
    let sine = data::path("sine.csv");
    // The first combination diverges at once; the second would train for long.
    let mut child = spawn(&[
        "sweep",
        "--data",
        arg(&sine),
        "--lr",
        "1e30,0.01",
        "--epochs",
        "100000",
        "--patience",
        "100000",
        "--model",
        arg(&model),
        "--report",
        arg(&report),
    ]);
    let stderr = wait_for(&mut child, "1/2");
    std::thread::sleep(std::time::Duration::from_millis(300));
    ctrl_c(&child);
    let (code, stdout) = finish(child);
    assert_eq!(code, Some(130), "{stdout}");
    assert!(stdout.contains(" interrupted "), "the second row: {stdout}");
    assert!(
        stdout.contains("test    not evaluated: the sweep was interrupted"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("wrote   {}", arg(&model))),
        "{stdout}"
    );
    assert!(!report.exists());
    assert_eq!(ModelFile::read(&model).unwrap().net.widths, [1, 16, 16, 1]);
    let stderr = stderr.join().unwrap();
    assert!(
        stderr.contains("interrupted by Ctrl-C: the best of the 2 combinations trained so far"),
        "{stderr}"
    );
}

#[test]
fn sweep_checks_every_value_before_training() {
    let sine = data::path("sine.csv");
    let err = bad_input(&["sweep", "--data", arg(&sine), "--lr", "0.01,0.02,0"]);
    assert!(
        err.starts_with("error: --lr 0: ") && err.contains("learning rate"),
        "{err}"
    );
    assert!(!err.contains("1/3"), "nothing trained: {err}");
    let err = bad_input(&["sweep", "--data", arg(&sine), "--batch", "8,0"]);
    assert!(err.starts_with("error: --batch 0: "), "{err}");
}
