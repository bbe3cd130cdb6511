#!/usr/bin/env python3
"""Measures tinytrain's initialisation schemes on scikit-learn's diabetes data: every scheme of
`--init`, both architectures of recipe.py, N_SPLITS paired splits × N_SEEDS seeds, the recipe of
recipe.py; writes results/tinytrain.json and prints the tables of LEARNING.md (validation and
test R², mean ± standard error, and the paired differences with the standard error).

The default is chosen on validation R²; test R² is reported, never used to choose.

Run from the repository root (about two minutes on one core):
  cargo build --release -p tinytrain-host-sim
  python3 -m venv target/venv-learning
  target/venv-learning/bin/pip install -r bench/learning/requirements.txt
  target/venv-learning/bin/python bench/learning/measure.py
"""
import json
import subprocess
import sys
import tempfile

import recipe

TINYTRAIN = recipe.ROOT / "target" / "release" / "tinytrain"
INITS = ["he", "xavier", "lecun", "torch"]


def run(widths, init, split, seed, report):
    args = [
        str(TINYTRAIN), "train", "--data", str(recipe.DATA),
        "--split", str(recipe.split_path(split)),
        "--layers", ",".join(map(str, widths)),
        "--init", init, "--seed", str(seed),
        "--optimizer", recipe.RECIPE["optimizer"], "--lr", str(recipe.RECIPE["lr"]),
        "--batch", str(recipe.RECIPE["batch"]), "--epochs", str(recipe.RECIPE["epochs"]),
        "--patience", str(recipe.RECIPE["patience"]),
        "--report", report,
    ]
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode not in (0, 3):
        sys.exit(f"{' '.join(args)} failed:\n{done.stderr}")
    with open(report) as f:
        r = json.load(f)
    return r["network"], r["baseline"], r["epochs_run"]


def main():
    x, _ = recipe.load()
    recipe.write_splits(len(x))
    results = {"recipe": recipe.RECIPE, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        report = f"{tmp}/report.json"
        for name, widths in recipe.ARCHITECTURES.items():
            for init in INITS:
                for split in range(recipe.N_SPLITS):
                    for seed in range(recipe.N_SEEDS):
                        net, base, epochs = run(widths, init, split, seed + 1, report)
                        results["runs"].append({
                            "architecture": name, "init": init, "split": split, "seed": seed,
                            "val_r2": net["val_r2"], "test_r2": net["test_r2"],
                            "baseline_val_r2": base["val_r2"],
                            "baseline_test_r2": base["test_r2"], "epochs": epochs,
                        })
                print(f"{name}: {init} done", file=sys.stderr)
    recipe.RESULTS.mkdir(exist_ok=True)
    (recipe.RESULTS / "tinytrain.json").write_text(json.dumps(results, indent=1) + "\n")
    print_tables(results["runs"])


def column(runs, arch, init, key):
    rows = [r for r in runs if r["architecture"] == arch and r["init"] == init]
    rows.sort(key=lambda r: (r["split"], r["seed"]))
    return [r[key] for r in rows]


def print_tables(runs):
    n = recipe.N_SPLITS * recipe.N_SEEDS
    print(f"| architecture | init | validation R² | test R² | (mean ± standard error, {n} runs)")
    print("|---|---|---|---|")
    for arch in recipe.ARCHITECTURES:
        for init in INITS:
            v = recipe.mean_and_se(column(runs, arch, init, "val_r2"))
            t = recipe.mean_and_se(column(runs, arch, init, "test_r2"))
            print(f"| {arch} | {init} | {v[0]:.4f} ± {v[1]:.4f} | {t[0]:.4f} ± {t[1]:.4f} |")
    print()
    print("| architecture | init − he | validation R² | test R² | (paired: same split and seed)")
    print("|---|---|---|---|")
    for arch in recipe.ARCHITECTURES:
        for init in INITS[1:]:
            dv = recipe.paired(column(runs, arch, init, "val_r2"), column(runs, arch, "he", "val_r2"))
            dt = recipe.paired(
                column(runs, arch, init, "test_r2"), column(runs, arch, "he", "test_r2")
            )
            print(f"| {arch} | {init} | {dv[0]:+.4f} ± {dv[1]:.4f} | {dt[0]:+.4f} ± {dt[1]:.4f} |")
    # The baseline is exact: one figure per split, whatever the seed.
    once = [r for r in runs if r["architecture"] == "one hidden layer" and r["init"] == "he"
            and r["seed"] == 0]
    base_v = recipe.mean_and_se([r["baseline_val_r2"] for r in once])
    base_t = recipe.mean_and_se([r["baseline_test_r2"] for r in once])
    print()
    print(f"least-squares baseline: validation R² {base_v[0]:.4f} ± {base_v[1]:.4f}, "
          f"test R² {base_t[0]:.4f} ± {base_t[1]:.4f} ({len(once)} splits)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--tables":
        print_tables(json.loads((recipe.RESULTS / "tinytrain.json").read_text())["runs"])
    else:
        main()
