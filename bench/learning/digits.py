#!/usr/bin/env python3
"""Classification measured side by side: tinytrain and scikit-learn's MLPClassifier with the same
recipe on the same stratified splits of scikit-learn's digits (1,797 images of 8 × 8 pixels, 10
classes; it ships inside the scikit-learn wheel, no download).

The recipe, on both sides: inputs standardised with the training split's statistics (a constant
pixel is only shifted); one hidden ReLU layer of 32 units and one logit per digit (64-32-10); the
softmax cross-entropy, no L2 penalty; Adam (β₁ 0.9, β₂ 0.999, ε 1e-8), learning rate 0.001;
mini-batches of 32 reshuffled every epoch, the last partial batch kept; the validation
cross-entropy after every epoch; early stopping that
tolerates 20 epochs without improvement and keeps the best-validation weights; at most 300
epochs. Glorot-uniform initial weights (tinytrain `--init xavier`; scikit-learn draws its biases
from the same range, tinytrain starts them at 0). scikit-learn runs the recipe through
`MLPClassifier.partial_fit`, one epoch per call, with the early stopping written here (its own
early stopping watches accuracy on a split of its own).

Splits: N_SPLITS stratified splits, 60 % training, 20 % validation, 20 % test, drawn by
scikit-learn from seeds 3000…, committed in splits/digits-K.json (tinytrain's `--split` format).
Seeds: N_SEEDS initial-weight seeds per split for each tool.

Writes results/digits.json and prints the tables of LEARNING.md. Not part of `cargo xtask test`
(about six minutes on one core). Run from the repository root:
  cargo build --release -p tinytrain-host-sim
  python3 -m venv target/venv-learning
  target/venv-learning/bin/pip install -r bench/learning/requirements.txt
  target/venv-learning/bin/python bench/learning/digits.py
"""
import copy
import json
import os
import subprocess
import sys
import tempfile

for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = "1"

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

import recipe  # noqa: E402

TINYTRAIN = recipe.ROOT / "target" / "release" / "tinytrain"
DATA = recipe.ROOT / "target" / "learning" / "digits.csv"
N_SPLITS = 10
N_SEEDS = 5
HIDDEN = 32
RECIPE = {"lr": 0.001, "batch": 32, "epochs": 300, "patience": 20}


def write_data():
    """digits.csv: the 64 pixels (integers 0–16) and the digit as the label, last."""
    d = load_digits()
    DATA.parent.mkdir(parents=True, exist_ok=True)
    header = ",".join(f"p{k}" for k in range(64)) + ",digit"
    rows = [",".join(str(int(v)) for v in x) + f",{t}" for x, t in zip(d.data, d.target)]
    DATA.write_text(header + "\n" + "\n".join(rows) + "\n")
    return d.data.astype(np.float64), d.target


def split_path(k):
    return recipe.SPLITS / f"digits-{k}.json"


def write_splits(y):
    """The stratified splits, if missing: 60/20/20 by scikit-learn's train_test_split."""
    recipe.SPLITS.mkdir(exist_ok=True)
    rows = np.arange(len(y))
    for k in range(N_SPLITS):
        path = split_path(k)
        if path.exists():
            continue
        seed = 3000 + k
        train, rest = train_test_split(rows, test_size=0.4, stratify=y, random_state=seed)
        val, test = train_test_split(rest, test_size=0.5, stratify=y[rest], random_state=seed)
        parts = {"train": train.tolist(), "val": val.tolist(), "test": test.tolist()}
        path.write_text(json.dumps(parts) + "\n")


def tinytrain(k, seed, report):
    args = [
        str(TINYTRAIN), "train", "--data", str(DATA), "--task", "classify",
        "--split", str(split_path(k)), "--layers", f"64,{HIDDEN},10",
        "--optimizer", "adam", "--lr", str(RECIPE["lr"]), "--batch", str(RECIPE["batch"]),
        "--epochs", str(RECIPE["epochs"]), "--patience", str(RECIPE["patience"]),
        "--init", "xavier", "--seed", str(seed), "--report", report,
    ]
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode not in (0, 3):
        sys.exit(f"{' '.join(args)} failed:\n{done.stderr}")
    with open(report) as f:
        r = json.load(f)
    net = r["network"]
    return {
        "val_accuracy": net["val"]["accuracy"], "test_accuracy": net["test"]["accuracy"],
        "val_cross_entropy": net["val"]["cross_entropy"],
        "test_cross_entropy": net["test"]["cross_entropy"], "epochs": r["epochs_run"],
        "linear_test_accuracy": r["linear"]["test"]["accuracy"],
        "majority_test_accuracy": r["majority"]["test"]["accuracy"],
    }


def standardise(x, train):
    mean, dev = x[train].mean(0), x[train].std(0)
    dev[dev == 0] = 1.0
    return (x - mean) / dev


def cross_entropy(model, x, y):
    p = np.clip(model.predict_proba(x)[np.arange(len(y)), y], 1e-300, 1.0)
    return float(-np.mean(np.log(p)))


def sklearn_mlp(x, y, parts, seed):
    """The recipe through MLPClassifier.partial_fit; validation and test of the best epoch."""
    tr, va, te = (np.array(parts[p]) for p in ("train", "val", "test"))
    xs = standardise(x, tr)
    model = MLPClassifier(
        hidden_layer_sizes=(HIDDEN,), activation="relu", solver="adam", alpha=0.0,
        batch_size=RECIPE["batch"], learning_rate_init=RECIPE["lr"], beta_1=0.9,
        beta_2=0.999, epsilon=1e-8, shuffle=True, random_state=seed,
    )
    classes = np.arange(10)
    # partial_fit draws the initial weights in its first call and trains an epoch at once, so
    # the initial weights are not scored (tinytrain scores them as epoch 0; on this data the
    # first epoch always beats them, which makes no difference).
    best, best_model, since, epochs = float("inf"), None, 0, 0
    for epoch in range(1, RECIPE["epochs"] + 1):
        model.partial_fit(xs[tr], y[tr], classes=classes)
        epochs = epoch
        loss = cross_entropy(model, xs[va], y[va])
        if loss < best:
            best, best_model, since = loss, copy.deepcopy(model), 0
        else:
            since += 1
            if since > RECIPE["patience"]:
                break
    return {
        "val_accuracy": float(best_model.score(xs[va], y[va])),
        "test_accuracy": float(best_model.score(xs[te], y[te])),
        "val_cross_entropy": best,
        "test_cross_entropy": cross_entropy(best_model, xs[te], y[te]),
        "epochs": epochs,
    }


def sklearn_logistic(x, y, parts):
    """scikit-learn's LogisticRegression (C=1, lbfgs) on the same standardised rows."""
    tr, te = (np.array(parts[p]) for p in ("train", "test"))
    xs = standardise(x, tr)
    model = LogisticRegression(C=1.0, tol=1e-8, max_iter=10_000).fit(xs[tr], y[tr])
    return float(model.score(xs[te], y[te]))


def main():
    x, y = write_data()
    write_splits(y)
    results = {"recipe": RECIPE, "hidden": HIDDEN, "runs": [], "sklearn_logistic": []}
    with tempfile.TemporaryDirectory() as tmp:
        report = f"{tmp}/report.json"
        for k in range(N_SPLITS):
            parts = json.loads(split_path(k).read_text())
            results["sklearn_logistic"].append(sklearn_logistic(x, y, parts))
            for seed in range(1, N_SEEDS + 1):
                t = tinytrain(k, seed, report)
                s = sklearn_mlp(x, y, parts, seed)
                results["runs"].append({"split": k, "seed": seed, "tinytrain": t, "sklearn": s})
            print(f"split {k} done", file=sys.stderr)
    recipe.RESULTS.mkdir(exist_ok=True)
    (recipe.RESULTS / "digits.json").write_text(json.dumps(results, indent=1) + "\n")
    print_tables(results)


def per_split(runs, tool, key):
    """Each split's mean over its seeds."""
    return [
        float(np.mean([r[tool][key] for r in runs if r["split"] == k])) for k in range(N_SPLITS)
    ]


def print_tables(results):
    runs = results["runs"]
    print(f"| | tinytrain | scikit-learn MLPClassifier | difference | ({N_SPLITS} splits × "
          f"{N_SEEDS} seeds: mean ± standard error over the splits)")
    print("|---|---|---|---|")
    for key, name in [("test_accuracy", "test accuracy"), ("val_accuracy", "validation accuracy"),
                      ("test_cross_entropy", "test cross-entropy"), ("epochs", "epochs")]:
        t, s = per_split(runs, "tinytrain", key), per_split(runs, "sklearn", key)
        mt, ms, md = recipe.mean_and_se(t), recipe.mean_and_se(s), recipe.paired(t, s)
        print(f"| {name} | {mt[0]:.4f} ± {mt[1]:.4f} | {ms[0]:.4f} ± {ms[1]:.4f} | "
              f"{md[0]:+.4f} ± {md[1]:.4f} |")
    linear = recipe.mean_and_se(per_split(runs, "tinytrain", "linear_test_accuracy"))
    sk = recipe.mean_and_se(results["sklearn_logistic"])
    majority = recipe.mean_and_se(per_split(runs, "tinytrain", "majority_test_accuracy"))
    print()
    print(f"linear softmax baseline, test accuracy: tinytrain {linear[0]:.4f} ± {linear[1]:.4f}, "
          f"scikit-learn LogisticRegression {sk[0]:.4f} ± {sk[1]:.4f}; "
          f"majority class {majority[0]:.4f} ± {majority[1]:.4f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--tables":
        print_tables(json.loads((recipe.RESULTS / "digits.json").read_text()))
    else:
        main()
