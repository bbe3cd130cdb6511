//! Classification against independent references: the multinomial logistic baseline against
//! scikit-learn (`tests/golden/logistic.py`, its output committed in
//! `tests/golden/cases/logistic.txt`), on scikit-learn's iris data (`tests/golden/iris.csv`).

use tinytrain_core::metrics::{balanced_weights, class_counts};
use tinytrain_core::{logistic, shape, Dataset};

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
