"""Training throughput: tinytrain from Python beside PyTorch eager on one thread, side by side in
one run. (The `tinytrain` command end to end beside the core's criterion throughput is
`bench/cli_share.py`.)

Not run in CI (PyTorch's wheel is several GB). In an environment with tinytrain (a release
build: `pip install ./python`) and torch:

    target/venv-torch/bin/python python/scripts/bench_torch.py

For 1-16-16-1 and 10-32-16-1 (batch 16, plain SGD, learning rate 0.01, 4,096 samples,
20 % held out for validation, checked every epoch, no early stop):
- tinytrain: `tinytrain.train(...)` as a user calls it — the split, standardisation, the
  network's epochs, the linear baseline, the diagnostics and the report all inside the time;
- PyTorch eager, one thread (`torch.set_num_threads(1)`, OMP/MKL variables at 1): the same
  `nn.Sequential`, `torch.optim.SGD`, `mse_loss`, a `randperm` shuffle and mini-batches of 16 by
  indexing, a validation pass under `no_grad` every epoch.
Samples/s = training samples × epochs / seconds, median of `--repeats` alternating runs.
"""

import argparse
import os
import statistics
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__} ({torch.get_num_threads()} thread), "
          f"tinytrain {tinytrain.__version__}, numpy {np.__version__}\n")
    part_python_vs_torch(args.repeats)


if __name__ == "__main__":
    main()
