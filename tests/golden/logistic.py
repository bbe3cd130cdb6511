#!/usr/bin/env python3
"""Independent reference for tinytrain's classification baseline (`tinytrain_core::logistic`).

Writes
  tests/golden/iris.csv            scikit-learn's bundled iris data (150 flowers, 4 measurements,
                                   3 species as the label, last), every value the shortest
                                   decimal of its float32, so Rust and numpy read the same numbers;
  tests/golden/cases/logistic.txt  scikit-learn's multinomial logistic regression
                                   (LogisticRegression, lbfgs, C=1, a tolerance far below
                                   tinytrain's) on a few row subsets, with and without balanced
                                   class weights: its training mean cross-entropy and objective.

The arithmetic written down here, from the textbook and scikit-learn's documentation, not from
the Rust code:
  inputs      standardised with the population mean and standard deviation of the rows fitted
              on, each statistic rounded to float32 (as tinytrain stores them);
  objective   C Σ_i w_i CE_i + ½‖W‖² (scikit-learn), divided by C n: the mean weighted
              cross-entropy plus ‖W‖²/(2n) with C = 1 — the biases are not penalised;
  weights     "balanced": n / (K n_c).

The Rust test `classify::logistic_matches_scikit_learn` fits the same rows and compares the
objective (1e-7 relative: its class weights are float32) and the cross-entropy (1e-5). Run from the repository root:
  python3 -m venv target/venv-learning
  target/venv-learning/bin/pip install -r bench/learning/requirements.txt
  target/venv-learning/bin/python tests/golden/logistic.py
"""
import pathlib

import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

HERE = pathlib.Path(__file__).parent


def shortest(v):
    return np.format_float_positional(np.float32(v), unique=True, trim="-")


def write_data():
    d = load_iris()
    x = d.data.astype(np.float32)
    names = [n.replace(" (cm)", "").replace(" ", "_") for n in d.feature_names] + ["species"]
    lines = [",".join(names)]
    for row, label in zip(x, d.target):
        lines.append(",".join(shortest(v) for v in row) + "," + d.target_names[label])
    (HERE / "iris.csv").write_text("\n".join(lines) + "\n")
    return x.astype(np.float64), d.target


def standardise(x):
    mean = x.mean(axis=0).astype(np.float32).astype(np.float64)
    dev = x.std(axis=0).astype(np.float32).astype(np.float64)
    return (x - mean) / dev


def fit(x, y, balanced):
    model = LogisticRegression(
        C=1.0, tol=1e-12, max_iter=100_000, class_weight="balanced" if balanced else None
    )
    model.fit(x, y)
    z = x @ model.coef_.T + model.intercept_
    z -= z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    ce = -log_p[np.arange(len(y)), y]
    n, k = len(y), model.coef_.shape[0]
    counts = np.bincount(y, minlength=k)
    w = n / (k * counts[y]) if balanced else np.ones(n)
    objective = np.mean(w * ce) + np.sum(model.coef_**2) / (2 * n)
    return float(np.mean(ce)), float(objective)


def main():
    x, y = write_data()
    every = np.arange(len(y))
    cases = {
        # name: (rows, balanced)
        "all": (every, False),
        "every3rd-not0": (every[every % 3 != 0], False),
        # 50 setosa, 25 versicolor, 10 virginica: imbalanced, with balanced weights.
        "imbalanced": (np.concatenate([every[:50], every[50:75], every[100:110]]), True),
    }
    out = [
        "# Written by tests/golden/logistic.py from scikit-learn's iris data (iris.csv).",
        "# rows balanced cross_entropy objective: rows `all`, `every3rd-not0` (0-based rows not",
        "# divisible by 3) or `imbalanced` (rows 0-74 and 100-109); balanced 1 for class weights.",
    ]
    for name, (rows, balanced) in cases.items():
        ce, objective = fit(standardise(x[rows]), y[rows], balanced)
        out.append(f"{name} {int(balanced)} {ce!r} {objective!r}")
    (HERE / "cases" / "logistic.txt").write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
