"""The recipe both tools train with, the data, the splits and the statistics of LEARNING.md.

Shared by measure.py (tinytrain) and torch_recipe.py (PyTorch), so that the two run on the same
rows with the same settings.
"""
import json
import math
import pathlib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
# scikit-learn's diabetes data (442 patients, 10 features), as tests/golden/lstsq.py wrote it.
DATA = ROOT / "tests" / "golden" / "diabetes.csv"
SPLITS = HERE / "splits"
RESULTS = HERE / "results"

# Paired splits: 60 % training, 20 % validation, 20 % test, drawn by numpy from these seeds.
N_SPLITS = 10
# Initial-weight seeds per split (each tool draws its own initial weights from them).
N_SEEDS = 10

# The recipe: standardised inputs and target (training-split statistics), MSE, Adam, mini-batches
# shuffled every epoch (the last, partial batch kept), the validation loss after every epoch,
# early stopping that keeps the best-validation weights (the initial weights count as epoch 0).
RECIPE = {
    "optimizer": "adam",  # beta1 0.9, beta2 0.999, eps 1e-8
    "lr": 0.001,
    "batch": 16,
    "epochs": 500,
    "patience": 20,  # epochs without improvement tolerated; the next one stops
}
ARCHITECTURES = {"one hidden layer": [10, 16, 1], "two hidden layers": [10, 16, 16, 1]}


def load():
    """The features (n × 10) and the target (n), as float32 values in float64 arrays."""
    table = np.loadtxt(DATA, delimiter=",", skiprows=1, dtype=np.float32).astype(np.float64)
    return table[:, :-1], table[:, -1]


def split_path(k):
    return SPLITS / f"split-{k}.json"


def write_splits(n_rows):
    """Writes the N_SPLITS split files (tinytrain's `--split` format) if they are missing."""
    SPLITS.mkdir(exist_ok=True)
    for k in range(N_SPLITS):
        path = split_path(k)
        if path.exists():
            continue
        order = np.random.default_rng(1000 + k).permutation(n_rows)
        n_val = n_test = round(0.2 * n_rows)
        n_train = n_rows - n_val - n_test
        parts = {
            "train": order[:n_train].tolist(),
            "val": order[n_train : n_train + n_val].tolist(),
            "test": order[n_train + n_val :].tolist(),
        }
        path.write_text(json.dumps(parts) + "\n")


def read_split(k):
    return json.loads(split_path(k).read_text())


def r2(predicted, target):
    """1 − SSE / SST about the part's own mean (the definition tinytrain reports)."""
    sse = float(np.sum((predicted - target) ** 2))
    sst = float(np.sum((target - target.mean()) ** 2))
    return 1.0 - sse / sst


def mean_and_se(values):
    """Mean and standard error of the mean."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) < 2:
        return float(v.mean()), float("nan")
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v)))


def paired(a, b):
    """Mean and standard error of the paired differences a − b over the same (split, seed)."""
    return mean_and_se([x - y for x, y in zip(a, b)])
