#!/usr/bin/env python3
"""Independent reference for tinytrain's least-squares baseline (`tinytrain_core::lstsq`).

Writes
  tests/golden/diabetes.csv     scikit-learn's bundled diabetes data (442 patients, 10 features,
                                unscaled, the target last), every value the shortest decimal of
                                its float32, so Rust and numpy read the same numbers;
  tests/golden/cases/lstsq.txt  numpy's least-squares training MSE (np.linalg.lstsq, an SVD, in
                                float64 on those float32 values, with a column of ones for the
                                bias) on a few row subsets and column choices.

The Rust test `golden::lstsq_matches_numpy` fits the same rows and compares the MSE (1e-6
relative). Run from the repository root:
  python3 -m venv target/venv-learning
  target/venv-learning/bin/pip install -r bench/learning/requirements.txt
  target/venv-learning/bin/python tests/golden/lstsq.py
"""
import pathlib

import numpy as np
from sklearn.datasets import load_diabetes

HERE = pathlib.Path(__file__).parent


def shortest(v):
    return np.format_float_positional(np.float32(v), unique=True, trim="-")


def write_data():
    d = load_diabetes(scaled=False)
    table = np.column_stack([d.data, d.target]).astype(np.float32)
    names = list(d.feature_names) + ["progression"]
    lines = [",".join(names)] + [",".join(shortest(v) for v in row) for row in table]
    (HERE / "diabetes.csv").write_text("\n".join(lines) + "\n")
    return names, table.astype(np.float64)


def lstsq_mse(x, t):
    a = np.column_stack([x, np.ones(len(x))])
    beta, *_ = np.linalg.lstsq(a, t, rcond=None)
    r = a @ beta - t
    return float(np.mean(r * r))


def main():
    names, table = write_data()
    x, t = table[:, :-1], table[:, -1]
    n = len(t)
    every = np.arange(n)
    cases = {
        # name: (rows, columns of x)
        "all": (every, list(range(10))),
        "two_thirds": (every[every % 3 != 0], list(range(10))),
        "first_20_rows": (every[:20], list(range(10))),
        "bmi_only": (every, [2]),
        # bmi twice and a constant column: rank-deficient, numpy's minimum-norm solution.
        "repeated_and_constant": (every, [2, 2, 3, "constant"]),
    }
    out = [
        "# Written by tests/golden/lstsq.py from scikit-learn's diabetes data (diabetes.csv).",
        "# case rows columns mse: rows are 0-based data rows (`all`, `every3rd-not0`,",
        "# `first20`), columns 0-based feature columns (`c` is a constant column of 14.62).",
    ]
    for name, (rows, cols) in cases.items():
        xs = np.column_stack(
            [np.full(n, np.float64(np.float32(14.62))) if c == "constant" else x[:, c] for c in cols]
        )
        mse = lstsq_mse(xs[rows], t[rows])
        kind = {"all": "all", "two_thirds": "every3rd-not0", "first_20_rows": "first20"}.get(
            name, "all"
        )
        col_text = ",".join("c" if c == "constant" else str(c) for c in cols)
        out.append(f"{name} {kind} {col_text} {mse!r}")
    (HERE / "cases" / "lstsq.txt").write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
