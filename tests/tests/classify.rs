//! Classification against independent references: the multinomial logistic baseline against
//! scikit-learn (`tests/golden/logistic.py`, its output committed in
//! `tests/golden/cases/logistic.txt`), on scikit-learn's iris data (`tests/golden/iris.csv`);
//! and the classification demo on the Cortex-M4F under QEMU against the host, bit for bit.

use std::time::Duration;
use tinytrain_core::metrics::{balanced_weights, class_counts};
use tinytrain_core::{logistic, shape, Dataset};
use xtask::firmware::{CLASSIFY, MPS2_AN386};

/// Iris: four measurements per flower and its species as a class index (in order of first
/// appearance: setosa 0, versicolor 1, virginica 2, as scikit-learn numbers them).
fn iris() -> (Vec<f32>, Vec<u16>) {
    let text = include_str!("../golden/iris.csv");
    let mut species: Vec<&str> = Vec::new();
    let (mut xs, mut labels) = (Vec::new(), Vec::new());
    for line in text.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let (label, values) = cells.split_last().expect("a label");
        xs.extend(values.iter().map(|v| v.parse::<f32>().expect("a number")));
        let class = species.iter().position(|s| s == label).unwrap_or_else(|| {
            species.push(label);
            species.len() - 1
        });
        labels.push(class as u16);
    }
    (xs, labels)
}

/// The rows a case of `logistic.txt` names.
fn rows(name: &str) -> Vec<u32> {
    match name {
        "all" => (0..150).collect(),
        "every3rd-not0" => (0..150).filter(|i| i % 3 != 0).collect(),
        "imbalanced" => (0..75).chain(100..110).collect(),
        other => panic!("unknown rows {other}"),
    }
}

#[test]
fn logistic_matches_scikit_learn() {
    let (xs, labels) = iris();
    let data = Dataset::classes(&xs, &labels, 4, 3).unwrap();
    let cases = include_str!("../golden/cases/logistic.txt");
    let mut checked = 0;
    for line in cases.lines().filter(|l| !l.starts_with('#')) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let [name, balanced, ce, objective] = words[..] else {
            panic!("a case of four words: {line}");
        };
        let (ce, objective): (f64, f64) = (ce.parse().unwrap(), objective.parse().unwrap());
        let indices = rows(name);
        let mut weights = vec![0.0f32; 3];
        if balanced == "1" {
            let mut counts = [0u32; 3];
            class_counts(&data, &indices, &mut counts);
            balanced_weights(&counts, &mut weights);
        } else {
            weights.clear();
        }
        const WIDTHS: [usize; 2] = [4, 3];
        let mut params = [0.0; shape::param_len(&WIDTHS)];
        let mut stats = [0.0; shape::scaler_len(&WIDTHS)];
        let mut scratch = vec![0.0; logistic::scratch_len(4, 3)];
        let fit = logistic::fit(
            &data,
            &indices,
            &weights,
            &mut params,
            &mut stats,
            &mut scratch,
        )
        .unwrap();
        assert!(fit.converged, "{name}: {fit:?}");
        let close = |a: f64, b: f64, tolerance: f64| (a - b).abs() <= tolerance * b.abs();
        // The objective is flat at its minimum: a gradient of 1e-6 leaves it within 1e-9, the
        // class weights' rounding to f32 within 1e-7. Its cross-entropy part still moves with
        // the parameters, to about 1e-5.
        assert!(
            close(fit.objective, objective, 1e-7),
            "{name}: {fit:?} vs {objective}"
        );
        assert!(
            close(fit.cross_entropy, ce, 1e-5),
            "{name}: {fit:?} vs {ce}"
        );
        checked += 1;
    }
    assert_eq!(checked, 3);
}

/// The `f32` bits printed after each loss: `0.0123 (0x3c4985f0)`.
fn loss_bits(line: &str) -> Vec<u32> {
    line.split("(0x")
        .skip(1)
        .filter_map(|rest| rest.split_once(')'))
        .filter_map(|(hex, _)| u32::from_str_radix(hex, 16).ok())
        .collect()
}

#[test]
fn the_classification_demo_on_the_device_matches_the_host_bit_for_bit() {
    let board = MPS2_AN386;
    let elf = board.build(CLASSIFY).unwrap_or_else(|e| {
        panic!("building the classification firmware failed ({e}); `cargo xtask setup` installs its tools")
    });
    let mut device = Vec::new();
    let code = board
        .run(&elf, Duration::from_secs(300), |line| {
            device.push(line.to_owned())
        })
        .unwrap_or_else(|e| panic!("running it under QEMU failed: {e}"));
    let mut host = Vec::new();
    let outcome = tinytrain_demo::host::run_classify_on_host(&mut host).expect("host run");
    let host = String::from_utf8(host).expect("UTF-8");
    let host: Vec<&str> = host.lines().collect();
    let story: Vec<&str> = device
        .iter()
        .map(String::as_str)
        .filter(|l| !l.starts_with("board: ") && !l.starts_with("cost: "))
        .collect();
    let log = device.join("\n");
    for (i, (d, h)) in story.iter().zip(&host).enumerate() {
        assert_eq!(d, h, "line {} differs", i + 1);
    }
    assert_eq!(story.len(), host.len(), "device log:\n{log}");
    let bits: Vec<u32> = host.iter().flat_map(|l| loss_bits(l)).collect();
    assert!(bits.len() >= 2 * outcome.epochs as usize, "{bits:?}");
    // The story's verdicts, as the host computed them: the network beats both baselines, the
    // linear model does no better than chance on the interleaved arms, and the network overfits
    // before early stopping ends it.
    assert!(outcome.pass && outcome.accuracy > 0.8, "{outcome:?}");
    assert!(outcome.linear < 0.5 && (outcome.majority - 1.0 / 3.0).abs() < 1e-6);
    assert!(host
        .iter()
        .any(|l| l.starts_with("diagnosis: overfitting after epoch")));
    assert!(
        host.iter()
            .filter(|l| l.starts_with("confusion: true class"))
            .count()
            == 3
    );
    let cost = device
        .iter()
        .find_map(|l| l.strip_prefix("cost: training ran "))
        .unwrap_or_else(|| panic!("no cost line in:\n{log}"));
    assert!(cost.contains("instructions per training sample"), "{cost}");
    assert_eq!(code, 0, "the firmware failed:\n{log}");
}
