"""Training throughput: tinytrain from Python beside PyTorch eager on one thread, side by side in
one run; and the `tinytrain` command end to end beside the core's criterion throughput.

Not run in CI (PyTorch's wheel is several GB). In an environment with tinytrain (a release
build: `pip install ./python`) and torch:

    target/venv-torch/bin/python python/scripts/bench_torch.py \
        --cli target/release/tinytrain --criterion target/criterion

Part 1, for 1-16-16-1 and 10-32-16-1 (batch 16, plain SGD, learning rate 0.01, 4,096 samples,
20 % held out for validation, checked every epoch, no early stop):
- tinytrain: `tinytrain.train(...)` as a user calls it — the split, standardisation, the
  network's epochs, the linear baseline, the diagnostics and the report all inside the time;
- PyTorch eager, one thread (`torch.set_num_threads(1)`, OMP/MKL variables at 1): the same
  `nn.Sequential`, `torch.optim.SGD`, `mse_loss`, a `randperm` shuffle and mini-batches of 16 by
  indexing, a validation pass under `no_grad` every epoch.
Samples/s = training samples × epochs / seconds, median of `--repeats` alternating runs.

Part 2 (with --cli and --criterion): `tinytrain train` on a CSV file of 4,096 samples of
1-16-16-1, 500 epochs (CSV in, report out, as a process), against the median of criterion's
`train/tinytrain-runtime/1-16-16-1` (run `cargo bench -p tinytrain-bench --bench train --
train/tinytrain-runtime/1-16-16-1` first: this script reads its estimates.json).
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import tinytrain  # noqa: E402

SAMPLES = 4096
BATCH = 16
LR = 0.01
VAL = 0.2


def data(n_in):
    rng = np.random.default_rng(3)
    X = rng.uniform(-2, 2, (SAMPLES, n_in)).astype(np.float32)
    y = np.sin(X).sum(axis=1).astype(np.float32)
    return X, y


def run_tinytrain(X, y, widths, epochs):
    start = time.perf_counter()
    _, report = tinytrain.train(
        X, y, widths, optimizer="sgd", learning_rate=LR, batch_size=BATCH, max_epochs=epochs,
        patience=10**9, val_fraction=VAL, test_fraction=0.0, standardize=True,
    )
    seconds = time.perf_counter() - start
    assert report["epochs_run"] == epochs, report["stop_reason"]
    return report["samples"]["train"] * epochs / seconds


def run_torch(X, y, widths, epochs):
    torch.manual_seed(0)
    layers = []
    for k, (i, o) in enumerate(zip(widths, widths[1:])):
        layers += [nn.ReLU()] if k else []
        layers.append(nn.Linear(i, o))
    net = nn.Sequential(*layers)
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    n_val = int(SAMPLES * VAL)
    X, y = torch.from_numpy(X), torch.from_numpy(y).reshape(-1, 1)
    xt, yt, xv, yv = X[n_val:], y[n_val:], X[:n_val], y[:n_val]
    n = len(xt)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(n)
        for at in range(0, n, BATCH):
            idx = order[at : at + BATCH]
            opt.zero_grad()
            nn.functional.mse_loss(net(xt[idx]), yt[idx]).backward()
            opt.step()
        with torch.no_grad():
            nn.functional.mse_loss(net(xv), yv).item()
    return n * epochs / (time.perf_counter() - start)


def si(v):
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if v >= scale:
            return f"{v / scale:.3g} {unit}"
    return f"{v:.3g}"


def part_python_vs_torch(repeats):
    print("| training, samples/s (batch 16, SGD) | tinytrain from Python | PyTorch eager, 1 thread | ratio |")
    print("| --- | --- | --- | --- |")
    for widths in ([1, 16, 16, 1], [10, 32, 16, 1]):
        X, y = data(widths[0])
        ours, theirs = [], []
        for _ in range(repeats):
            ours.append(run_tinytrain(X, y, widths, epochs=200))
            theirs.append(run_torch(X, y, widths, epochs=5))
        a, b = statistics.median(ours), statistics.median(theirs)
        name = "-".join(map(str, widths))
        print(f"| {name} | {si(a)} | {si(b)} | **{a / b:.0f}×** |")


def part_cli_vs_criterion(cli, criterion, repeats):
    estimates = pathlib.Path(criterion) / "train" / "tinytrain-runtime" / "1-16-16-1" / "new" / "estimates.json"
    per_batch = json.loads(estimates.read_text())["median"]["point_estimate"] * 1e-9
    core = BATCH / per_batch
    X, y = data(1)
    with tempfile.TemporaryDirectory() as tmp:
        csv = pathlib.Path(tmp) / "d.csv"
        rows = [f"{np.format_float_positional(a, unique=True)},{np.format_float_positional(b, unique=True)}"
                for a, b in zip(X[:, 0], y)]
        csv.write_text("x,y\n" + "\n".join(rows) + "\n")
        times, report = [], None
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run(
                [cli, "train", "--data", csv, "--layers", "1,16,16,1", "--optimizer", "sgd",
                 "--lr", str(LR), "--batch", str(BATCH), "--epochs", "500", "--patience", "100000",
                 "--report", pathlib.Path(tmp) / "r.json"],
                check=True, capture_output=True,
            )
            times.append(time.perf_counter() - start)
            report = json.loads((pathlib.Path(tmp) / "r.json").read_text())
    trained = report["samples"]["train"] * report["epochs_run"]
    end_to_end = trained / statistics.median(times)
    print()
    print("| 1-16-16-1, 4,096 samples, 500 epochs | samples/s |")
    print("| --- | --- |")
    print(f"| core, criterion median (one mini-batch of 16 per iteration) | {si(core)} |")
    print(f"| `tinytrain train` end to end (median of {repeats}, {statistics.median(times):.3f} s) | {si(end_to_end)} |")
    print(f"| share | **{100 * end_to_end / core:.0f} %** |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cli", help="the tinytrain command (a release build)")
    parser.add_argument("--criterion", help="criterion's output directory (target/criterion)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__} ({torch.get_num_threads()} thread), "
          f"tinytrain {tinytrain.__version__}, numpy {np.__version__}\n")
    part_python_vs_torch(args.repeats)
    if args.cli and args.criterion:
        part_cli_vs_criterion(args.cli, args.criterion, args.repeats)


if __name__ == "__main__":
    main()
