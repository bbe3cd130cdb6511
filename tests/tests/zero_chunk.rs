//! A chunk of zero samples does not compile: every function of the core that takes a chunk
//! size `C` holds `const { assert!(C > 0) }`, as heapless's containers do for their capacity.
//! The test builds a small program calling each of them, once with `C = 0` (the build must fail
//! at each call, with the assertion's message) and once with `C = 1` (it must build: the
//! program itself is right).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The calls, each on a line of its own; `C` is the chunk size.
const CALLS: &[(&str, &str)] = &[
    (
        "Model::predict_many",
        "let _ = model.predict_many::<C>(&x, &mut s, &mut y);",
    ),
    (
        "scaler::scale_inputs",
        "scaler::scale_inputs::<C>(&stats, &x, 0, &mut s);",
    ),
    (
        "scaler::scale_targets",
        "scaler::scale_targets::<C>(&stats, 1, &x, 0, &mut s);",
    ),
    ("mlp::forward", "mlp::forward::<C>(&W, &params, &mut s);"),
    (
        "mlp::backward",
        "mlp::backward::<C>(&W, 0, &params, &mut s, &mut g, &mut t);",
    ),
    (
        "dense::forward",
        "dense::forward::<C>(&params, &x, &x, &mut s, true);",
    ),
    (
        "dense::accumulate",
        "dense::accumulate::<C>(&x, &x, &mut g, &mut t);",
    ),
    ("dense::transpose", "dense::transpose::<C>(&x, &mut s);"),
    (
        "dense::backprop",
        "dense::backprop::<C>(&params, &x, &mut s);",
    ),
    (
        "Learner::new",
        "let _ = Learner::<C>::new(&W, Config::DEFAULT, &mut arena);",
    ),
    (
        "Trainer::chunked",
        "let _ = Trainer::<C>::chunked(&W, Config::DEFAULT, data, split, &mut arena2);",
    ),
];

/// The program, with chunks of `chunk` samples.
fn program(chunk: usize) -> String {
    let calls: Vec<&str> = CALLS.iter().map(|(_, call)| *call).collect();
    format!(
        "use tinytrain_core::{{dense, mlp, scaler, Config, Dataset, Learner, Model, Split, Trainer}};\n\
         const C: usize = {chunk};\n\
         const W: [usize; 3] = [1, 2, 1];\n\
         fn main() {{\n\
         let params = [0.5f32; 7];\n\
         let stats = [0.0f32, 1.0, 0.0, 1.0];\n\
         let model = Model::new(&W, &params, &stats).unwrap();\n\
         let x = [1.0f32; 4];\n\
         let (mut s, mut y, mut g, mut t) = ([0.0f32; 512], [0.0f32; 4], [0.0f32; 64], [0.0f32; 512]);\n\
         let mut arena = [0.0f32; 4096];\n\
         let mut arena2 = [0.0f32; 4096];\n\
         let mut order = [0u32; 4];\n\
         let data = Dataset::new(&x, &x, 1, 1).unwrap();\n\
         let split = Split::new(&mut order, 0.25, 0.0, 1).unwrap();\n\
         {}\n\
         }}\n",
        calls.join("\n")
    )
}

/// Builds the program in its own crate under `dir`; returns whether it built, and cargo's
/// messages.
fn build(dir: &Path, chunk: usize) -> (bool, String) {
    let core = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../core");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"zero-chunk\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
             publish = false\n\n[dependencies]\ntinytrain-core = {{ path = {:?} }}\n\n\
             [workspace]\n",
            core.canonicalize().unwrap()
        ),
    )
    .unwrap();
    // The workspace's lock file: the same versions, nothing to fetch.
    let lock = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
    std::fs::copy(lock, dir.join("Cargo.lock")).unwrap();
    std::fs::write(dir.join("src/main.rs"), program(chunk)).unwrap();
    let out = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--offline", "--message-format=short"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_zero_chunk_does_not_compile() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("zero-chunk");
    let (built, messages) = build(&dir, 1);
    assert!(built, "the program with C = 1 must build:\n{messages}");
    let (built, messages) = build(&dir, 0);
    assert!(!built, "C = 0 built");
    let failed = messages
        .lines()
        .filter(|l| l.contains("a chunk holds at least one sample: C must be greater than 0"))
        .count();
    let source = program(0);
    for (name, call) in CALLS {
        let line = 1 + source.lines().position(|l| l == *call).unwrap();
        let at = format!("src/main.rs:{line}:");
        assert!(
            messages
                .lines()
                .any(|l| l.starts_with(&at) && l.contains("encountered while instantiating")),
            "{name}::<0> compiled:\n{messages}"
        );
    }
    assert!(failed >= CALLS.len(), "{messages}");
}
