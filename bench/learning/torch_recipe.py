#!/usr/bin/env python3
"""The recipe of recipe.py in PyTorch, on the same splits of the diabetes data: its default
initialisation (nn.Linear), Adam, mini-batches reshuffled every epoch with the last partial batch
kept, early stopping on the validation loss that keeps the best weights (the initial weights
count as epoch 0). Writes results/torch.json and prints test R² (mean ± standard error) beside
tinytrain's from results/tinytrain.json.

Not part of CI: PyTorch's wheel is several GB. Run from the repository root (about ten minutes
on one core):
  python3 -m venv target/venv-torch
  target/venv-torch/bin/pip install -r bench/learning/requirements-torch.txt
  target/venv-torch/bin/python bench/learning/torch_recipe.py
"""
import json
import os

for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402

import recipe  # noqa: E402

torch.set_num_threads(1)

# tinytrain's default initialisation (Config::DEFAULT.init), compared with PyTorch's.
DEFAULT_INIT = "torch"


def network(widths):
    layers = []
    for k, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(torch.nn.Linear(fan_in, fan_out))
        if k < len(widths) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def train(widths, x, y, parts, seed):
    """Trains one network; returns validation and test R² of its best-validation weights."""
    torch.manual_seed(seed)
    tr, va, te = (np.array(parts[k], dtype=np.int64) for k in ("train", "val", "test"))
    mx, sx = x[tr].mean(0), x[tr].std(0)
    sx[sx == 0] = 1.0
    my, sy = y[tr].mean(), y[tr].std()
    t = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    xs = {k: t((x[i] - mx) / sx) for k, i in (("train", tr), ("val", va), ("test", te))}
    ys = {k: t((y[i] - my) / sy).unsqueeze(1) for k, i in (("train", tr), ("val", va))}
    net = network(widths)
    opt = torch.optim.Adam(net.parameters(), lr=recipe.RECIPE["lr"], betas=(0.9, 0.999), eps=1e-8)
    loss = torch.nn.MSELoss()

    def val_loss():
        with torch.no_grad():
            return float(loss(net(xs["val"]), ys["val"]))

    best, best_state, since = val_loss(), {k: v.clone() for k, v in net.state_dict().items()}, 0
    n, batch = len(tr), recipe.RECIPE["batch"]
    for _ in range(recipe.RECIPE["epochs"]):
        order = torch.randperm(n)
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            opt.zero_grad()
            loss(net(xs["train"][idx]), ys["train"][idx]).backward()
            opt.step()
        v = val_loss()
        if v < best:
            best, since = v, 0
            best_state = {k: w.clone() for k, w in net.state_dict().items()}
        else:
            since += 1
            if since > recipe.RECIPE["patience"]:
                break
    net.load_state_dict(best_state)
    with torch.no_grad():
        predict = lambda k: net(xs[k]).squeeze(1).double().numpy() * sy + my  # noqa: E731
        return recipe.r2(predict("val"), y[va]), recipe.r2(predict("test"), y[te])


def main():
    x, y = recipe.load()
    recipe.write_splits(len(x))
    runs = []
    for name, widths in recipe.ARCHITECTURES.items():
        for split in range(recipe.N_SPLITS):
            parts = recipe.read_split(split)
            for seed in range(recipe.N_SEEDS):
                val_r2, test_r2 = train(widths, x, y, parts, seed)
                runs.append({"architecture": name, "split": split, "seed": seed,
                             "val_r2": val_r2, "test_r2": test_r2})
    recipe.RESULTS.mkdir(exist_ok=True)
    out = {"torch": torch.__version__, "recipe": recipe.RECIPE, "runs": runs}
    (recipe.RESULTS / "torch.json").write_text(json.dumps(out, indent=1) + "\n")
    if (recipe.RESULTS / "tinytrain.json").exists():
        compare(runs)
    for name in recipe.ARCHITECTURES:
        r2s = [r["test_r2"] for r in runs if r["architecture"] == name]
        print(f"PyTorch, {name}: test R² %.4f ± %.4f" % recipe.mean_and_se(r2s))


def compare(torch_runs):
    """Test R² of PyTorch and of tinytrain's default initialisation, and their difference."""
    ours = json.loads((recipe.RESULTS / "tinytrain.json").read_text())["runs"]
    default = DEFAULT_INIT
    print(f"| architecture | PyTorch test R² | tinytrain ({default}) test R² | difference |")
    print("|---|---|---|---|")
    for name in recipe.ARCHITECTURES:
        key = lambda r: (r["split"], r["seed"])  # noqa: E731
        theirs = sorted((r for r in torch_runs if r["architecture"] == name), key=key)
        mine = sorted(
            (r for r in ours if r["architecture"] == name and r["init"] == default), key=key
        )
        a = recipe.mean_and_se([r["test_r2"] for r in theirs])
        b = recipe.mean_and_se([r["test_r2"] for r in mine])
        # Per split: the seeds' mean of each tool (the seeds are not shared between tools).
        per_split = [
            np.mean([r["test_r2"] for r in mine if r["split"] == s])
            - np.mean([r["test_r2"] for r in theirs if r["split"] == s])
            for s in range(recipe.N_SPLITS)
        ]
        d = recipe.mean_and_se(per_split)
        print(f"| {name} | {a[0]:.4f} ± {a[1]:.4f} | {b[0]:.4f} ± {b[1]:.4f} "
              f"| {d[0]:+.4f} ± {d[1]:.4f} |")


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--compare"]:
        compare(json.loads((recipe.RESULTS / "torch.json").read_text())["runs"])
    else:
        main()
