//! The least-squares baseline against numpy: `tests/golden/lstsq.py` fits scikit-learn's diabetes
//! data (committed as `tests/golden/diabetes.csv`) with `np.linalg.lstsq` in float64 and commits
//! the training MSE of each case in `tests/golden/cases/lstsq.txt`; the core's fit must agree to
//! [`TOLERANCE`] relative.

use tinytrain_core::{lstsq, shape, Dataset};

/// Relative agreement of the training MSE: the core solves the normal equations with a ridge of
/// `1e-10·n`, numpy an SVD without one.
const TOLERANCE: f64 = 1e-6;

/// The diabetes table: rows of ten features and the target.
fn diabetes() -> Vec<Vec<f32>> {
    let text = include_str!("../golden/diabetes.csv");
    text.lines()
        .skip(1)
        .map(|line| line.split(',').map(|v| v.parse().unwrap()).collect())
        .collect()
}

/// The rows a case names.
fn rows(kind: &str, n: u32) -> Vec<u32> {
    match kind {
        "all" => (0..n).collect(),
        "every3rd-not0" => (0..n).filter(|i| i % 3 != 0).collect(),
        "first20" => (0..20).collect(),
        _ => panic!("unknown rows {kind}"),
    }
}

#[test]
fn lstsq_matches_numpy() {
    let table = diabetes();
    assert_eq!((table.len(), table[0].len()), (442, 11));
    let cases = include_str!("../golden/cases/lstsq.txt");
    let mut checked = 0;
    for line in cases.lines().filter(|l| !l.starts_with('#')) {
        let [name, kind, columns, mse] = line.split(' ').collect::<Vec<_>>()[..] else {
            panic!("bad line {line}");
        };
        let expected: f64 = mse.parse().unwrap();
        let columns: Vec<&str> = columns.split(',').collect();
        let inputs: Vec<f32> = table
            .iter()
            .flat_map(|row| {
                columns.iter().map(|c| match *c {
                    "c" => 14.62,
                    c => row[c.parse::<usize>().unwrap()],
                })
            })
            .collect();
        let targets: Vec<f32> = table.iter().map(|row| row[10]).collect();
        let n_in = columns.len();
        let data = Dataset::new(&inputs, &targets, n_in, 1).unwrap();
        let widths = [n_in, 1];
        let mut params = vec![0.0; shape::param_len(&widths)];
        let mut stats = vec![0.0; shape::scaler_len(&widths)];
        let mut scratch = vec![0.0; lstsq::scratch_len(n_in)];
        let rows = rows(kind, table.len() as u32);
        let fit = lstsq::fit(&data, &rows, &mut params, &mut stats, &mut scratch).unwrap();
        let error = (fit.mse / expected - 1.0).abs();
        assert!(
            error < TOLERANCE,
            "{name}: {} vs numpy's {expected} ({error:.1e} relative)",
            fit.mse
        );
        checked += 1;
    }
    assert_eq!(checked, 5);
}
