"""`tinytrain train` end to end (a CSV file in, a JSON report out, as a process) as a share of
the core's training throughput measured by criterion, side by side in one run.

Not a test (no test depends on a speed). From the repository's root, with the machine's
python3 (the standard library only):

    python3 bench/cli_share.py [--rounds 5] [--runs 5]

It builds the release command (`cargo build --release -p tinytrain-host-sim`) and criterion's
training benchmark, writes a CSV file of 4,096 samples of `y = sin(x)` (x uniform in [-2, 2],
float32 values in their shortest decimal text), then alternates `--rounds` times:
- criterion's `train/tinytrain-runtime/1-16-16-1` (`cargo bench -p tinytrain-bench --bench
  train`): one mini-batch of 16 samples of 1-16-16-1 with plain SGD per iteration, the core's
  `Trainer::<16>::chunked` on run-time widths; its median;
- `--runs` runs of `tinytrain train --data d.csv --layers 1,16,16,1 --optimizer sgd --lr 0.01
  --batch 16 --epochs 500 --patience 100000 --report r.json --quiet`: everything the command
  does — reading the CSV, the split, standardisation, the linear baseline and the noise floor,
  500 epochs with a validation pass after each, scoring, the report — timed on the wall clock
  and in CPU time (user + system, of the child process).

Samples/s: the core's is 16 / (median time per iteration); the command's is training samples ×
epochs / (median time). The share is the command's over the core's, for the medians of the
rounds. On a machine loaded by other work the wall clock counts time a process waited for a
core, and criterion's short iterations and a process of half a second wait differently; so
the same comparison is made in CPU time too: after each run of the command, the core alone
(`bench/examples/profile`: the benchmark's trainer, the same network, batch and update rule)
trains as many samples, and the CPU times (user + system) of the two processes are compared.
"""

import argparse
import json
import pathlib
import random
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
BENCH_ID = "train/tinytrain-runtime/1-16-16-1"
SAMPLES = 4096
EPOCHS = 500
BATCH = 16


def f32_text(v):
    """The shortest decimal text that reads back to the float32 nearest ``v``."""
    (x,) = struct.unpack("f", struct.pack("f", v))
    for digits in range(1, 10):
        text = f"{x:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == x:
            return text
    return repr(x)


def write_csv(path):
    import math

    rng = random.Random(3)
    rows = ["x,y"]
    for _ in range(SAMPLES):
        x = float(f32_text(rng.uniform(-2.0, 2.0)))
        rows.append(f"{f32_text(x)},{f32_text(math.sin(x))}")
    path.write_text("\n".join(rows) + "\n")


def cargo(*args):
    subprocess.run(["cargo", *args], cwd=ROOT, check=True)


def core_rate():
    """Runs criterion's benchmark once; returns its median in samples/s."""
    cargo("bench", "-q", "-p", "tinytrain-bench", "--bench", "train", "--", "--noplot",
          f"^{BENCH_ID}$")
    estimates = ROOT / "target" / "criterion" / BENCH_ID / "new" / "estimates.json"
    median_ns = json.loads(estimates.read_text())["median"]["point_estimate"]
    return BATCH / (median_ns * 1e-9)


def cpu_seconds(command):
    """Runs ``command``; returns its CPU time (user + system) in seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def core_cpu_rate(profile, samples):
    """The core alone training ``samples`` samples (``samples / 16`` mini-batches of the
    benchmark's network and settings, `bench/examples/profile`), in samples per CPU second."""
    return samples / cpu_seconds([profile, "1,16,16,1", "16", str(samples // BATCH)])


def cli_run(cli, data, report):
    """One run of the command: (wall seconds, CPU seconds, training samples × epochs)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [cli, "train", "--data", data, "--layers", "1,16,16,1", "--optimizer", "sgd", "--lr",
         "0.01", "--batch", str(BATCH), "--epochs", str(EPOCHS), "--patience", "100000",
         "--report", report, "--quiet"],
        check=True, capture_output=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    r = json.loads(pathlib.Path(report).read_text())
    assert r["epochs_run"] == EPOCHS, r["stop_reason"]
    return wall, cpu, r["samples"]["train"] * r["epochs_run"]


def si(v):
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if v >= scale:
            return f"{v / scale:.3g} {unit}"
    return f"{v:.3g}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5, help="runs of the command per round")
    parser.add_argument("--cli", help="a tinytrain command to time instead of the release build")
    args = parser.parse_args()
    if args.cli is None:
        cargo("build", "-q", "--release", "-p", "tinytrain-host-sim", "--bin", "tinytrain")
    cargo("bench", "-q", "-p", "tinytrain-bench", "--bench", "train", "--no-run")
    cargo("build", "-q", "--release", "-p", "tinytrain-bench", "--example", "profile")
    cli = args.cli or str(ROOT / "target" / "release" / "tinytrain")
    profile = str(ROOT / "target" / "release" / "examples" / "profile")
    cores, core_cpus, walls, cpus, trained = [], [], [], [], None
    with tempfile.TemporaryDirectory() as tmp:
        data = pathlib.Path(tmp) / "d.csv"
        write_csv(data)
        for round_ in range(args.rounds):
            cores.append(core_rate())
            for _ in range(args.runs):
                wall, cpu, trained = cli_run(cli, data, pathlib.Path(tmp) / "r.json")
                walls.append(wall)
                cpus.append(cpu)
                core_cpus.append(core_cpu_rate(profile, trained))
            print(f"round {round_ + 1}: core {si(cores[-1])} samples/s, command "
                  f"{statistics.median(walls[-args.runs:]):.3f} s wall, "
                  f"{statistics.median(cpus[-args.runs:]):.3f} s CPU; core alone "
                  f"{si(statistics.median(core_cpus[-args.runs:]))} samples per CPU second",
                  file=sys.stderr)
    core, core_cpu = statistics.median(cores), statistics.median(core_cpus)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    print(f"\n| 1-16-16-1, {SAMPLES:,} samples, {EPOCHS} epochs, batch {BATCH}, SGD | samples/s | share of the core |")
    print("| --- | --- | --- |")
    print(f"| core, criterion `{BENCH_ID}` (median of {args.rounds} runs' medians) | {si(core)} | 100 % |")
    print(f"| `tinytrain train` end to end, wall clock (median of {len(walls)} runs, {wall:.3f} s) | {si(trained / wall)} | **{100 * trained / wall / core:.0f} %** |")
    print()
    print("| the same, in CPU time (user + system) | samples per CPU second | share of the core |")
    print("| --- | --- | --- |")
    print(f"| core alone, `bench/examples/profile` training the same number of samples (median of {len(core_cpus)}) | {si(core_cpu)} | 100 % |")
    print(f"| `tinytrain train` end to end (median of {len(cpus)}, {cpu:.3f} s) | {si(trained / cpu)} | **{100 * trained / cpu / core_cpu:.0f} %** |")


if __name__ == "__main__":
    main()
