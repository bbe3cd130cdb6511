"""The study of ``fleet/report/REPORT.md``: test loss per round of the federation against
centralised training on the pooled data and against each device alone, over several seeds.

For each seed ``s`` (the run's ``seed``: initial weights, sampling, shuffles — the devices'
regions and splits stay those of ``split-seed``):

- **federated** — the run on Flower's simulation engine; after each round, the global
  model's MSE on the pooled test set (the union of the devices' test splits);
- **centralised** — the same network from the same initial weights and statistics, trained by
  ``tinytrain.train`` on the pooled training split (watching the pooled validation split), one
  epoch at a time so that its test loss can be read at the same amount of work: a round of
  ``fraction-train · N`` devices of ``local-epochs`` epochs each passes
  ``fraction-train · local-epochs`` times over the pooled training set (the devices' splits
  have equal sizes to a sample); then on until early stopping (``patience`` 20) — the
  centralised model *converged*;
- **alone** — each device trains on its own splits only (its own standardisation, early
  stopping, ``max_epochs`` 300), scored on the pooled test set — what a device that never joins
  the fleet knows of the whole input space — and on its own test split.

The verdicts compare the last round's global model (no round is picked by its test loss) with
the mean of the devices alone, and with the converged centralised model. Everything the table
and the plot show is written to ``figures.json``.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np
import tinytrain

from . import data, standardize
from .client_app import mse
from .server_app import initial_model, write_json
from .settings import Settings
from .simulate import simulate, throughput

#: How far above the converged centralised model's test MSE the federation's may land: the
#: stated margin of the report. FedAvg over devices that each see one region of the inputs
#: plateaus above centralised training (client drift); more rounds, other learning rates,
#: local epochs or shares of devices moved the plateau by less than 10 % (fleet/README.md).
MARGIN = 3.0
#: Early stopping of the centralised model's run to convergence and of the devices alone.
PATIENCE = 20
MAX_EPOCHS = 300


def centralised(settings: Settings, fleet: data.Fleet, passes: int) -> tuple[list[float], float]:
    """Test MSE after each of ``passes`` epochs on the pooled training split (index 0: the
    initial model), and after training on to early stopping."""
    X, y = fleet.pooled("train")
    val = fleet.pooled("val")
    X_test, y_test = fleet.pooled("test")
    # The federation's statistics: the devices' shares combine to the pooled training set's.
    stats = standardize.combine([standardize.moments(X, y)])
    model = initial_model(settings, stats)
    curve = [mse(model, X_test, y_test)]
    for epoch in range(1, passes + 1):
        model, _ = train_on(settings, X, y, val, model, epochs=1, patience=1, seed=epoch)
        curve.append(mse(model, X_test, y_test))
    model, _ = train_on(settings, X, y, val, model, MAX_EPOCHS, PATIENCE, seed=passes + 1)
    return curve, mse(model, X_test, y_test)


def train_on(settings, X, y, val, start, epochs, patience, seed):
    """``epochs`` epochs of tinytrain's trainer from ``start`` (its statistics and optimizer
    state), keeping the best on ``val``."""
    return tinytrain.train(
        X, y, initial_model=start, validation_data=val, optimizer=settings.optimizer,
        learning_rate=settings.learning_rate, batch_size=settings.batch_size,
        max_epochs=epochs, patience=patience, seed=settings.seed * 1_000_003 + seed,
        warm_up=False,
    )


def alone(settings: Settings, fleet: data.Fleet) -> tuple[list[float], list[float]]:
    """Each device trained alone: its model's MSE on the pooled test set, and on its own."""
    X_test, y_test = fleet.pooled("test")
    pooled, own = [], []
    for device in fleet.devices:
        model, _ = tinytrain.train(
            device.X_train, device.y_train, settings.widths,
            validation_data=(device.X_val, device.y_val), optimizer=settings.optimizer,
            learning_rate=settings.learning_rate, batch_size=settings.batch_size,
            max_epochs=MAX_EPOCHS, patience=PATIENCE, seed=settings.seed,
        )
        pooled.append(mse(model, X_test, y_test))
        own.append(mse(model, device.X_test, device.y_test))
    return pooled, own


def study(settings: Settings, devices: int, seeds: int, out: Path) -> dict:
    """Runs the study for seeds ``1..seeds`` and writes ``REPORT.md``, ``test-loss.svg`` and
    ``figures.json`` into ``out``; returns the figures."""
    fleet = data.fleet(devices, settings.samples, settings.split_seed)
    passes_per_round = settings.fraction_train * settings.local_epochs
    passes = int(np.ceil(settings.num_server_rounds * passes_per_round))
    runs = []
    for seed in range(1, seeds + 1):
        s = settings.but(seed=seed, server_test=True, out_dir="")
        _, history = simulate(s, devices)
        curve, converged = centralised(s, fleet, passes)
        pooled, own = alone(s, fleet)
        runs.append({
            "seed": seed,
            "federated": [r["test-loss"] for r in history["rounds"]],
            "left-out": sum(len(r.get("left-out", [])) for r in history["rounds"]),
            "throughput": throughput(history),
            "centralised": curve,
            "centralised-converged": converged,
            "alone-pooled": pooled,
            "alone-own": own,
        })
        print(f"seed {seed}: federated {runs[-1]['federated'][-1]:.5f}, centralised "
              f"{converged:.5f}, alone {np.mean(pooled):.5f} (pooled test MSE)", flush=True)
    X_test, y_test = fleet.pooled("test")
    figures = {
        "settings": settings.to_run_config(),
        "devices": devices,
        "pooled": {part: len(fleet.pooled(part)[1]) for part in ("train", "val", "test")},
        "passes-per-round": passes_per_round,
        "mean-predictor-test-mse": float(np.var(y_test.astype(np.float64))),
        "runs": runs,
    }
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "figures.json", figures)
    plot(figures, out / "test-loss.svg")
    write_text(out / "REPORT.md", markdown(figures))
    return figures


def write_text(path: Path, text: str) -> None:
    """Writes ``text`` atomically."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def mean_sd(values: list[float]) -> str:
    """``mean ± sd`` of ``values`` (sd over seeds; none for one seed)."""
    m = statistics.fmean(values)
    return f"{m:.5f} ± {statistics.stdev(values):.5f}" if len(values) > 1 else f"{m:.5f}"


def verdicts(figures: dict) -> dict[str, float | bool]:
    """The last round's federated test MSE against the devices alone and centralised."""
    runs = figures["runs"]
    federated = statistics.fmean(r["federated"][-1] for r in runs)
    alone = statistics.fmean(statistics.fmean(r["alone-pooled"]) for r in runs)
    best_alone = statistics.fmean(min(r["alone-pooled"]) for r in runs)
    central = statistics.fmean(r["centralised-converged"] for r in runs)
    return {
        "federated": federated,
        "alone-mean": alone,
        "alone-best": best_alone,
        "centralised": central,
        "beats-alone": federated < alone,
        "ratio-to-centralised": federated / central,
        "within-margin": federated <= MARGIN * central,
    }


def markdown(figures: dict) -> str:
    """REPORT.md."""
    runs, s = figures["runs"], figures["settings"]
    v = verdicts(figures)
    k = figures["passes-per-round"]
    rounds = len(runs[0]["federated"]) - 1
    shown = sorted({0, 1, 2, 3, 5, 10, *range(20, rounds + 1, 10), rounds} & set(range(rounds + 1)))
    t = [r["throughput"] for r in runs]
    lines = [
        "# A fleet on Flower: federated vs centralised vs each device alone",
        "",
        f"Written by `python -m tinytrain_fleet report` (`cargo xtask fleet report`): "
        f"{figures['devices']} simulated devices, each one region of ggplot2's diamonds "
        f"(inputs: carat, cut, colour, clarity, depth, table, x, y, z; target: log10 of the "
        f"price in US$), network {s['hidden'] and '9-' + s['hidden'].replace(',', '-') + '-1'}, "
        f"{s['optimizer']} at {s['learning-rate']}, batch {s['batch-size']}; "
        f"{s['num-server-rounds']} rounds of FedAvg, {s['fraction-train']:.0%} of the devices "
        f"training {s['local-epochs']} local epochs per round; seeds 1..{len(runs)}. Pooled "
        f"sets: {figures['pooled']['train']} training, {figures['pooled']['val']} validation, "
        f"{figures['pooled']['test']} test samples. Test MSE in (log10 US$)², mean ± standard "
        f"deviation over the seeds, on the pooled test set; predicting the mean price scores "
        f"{figures['mean-predictor-test-mse']:.5f}.",
        "",
        "## Verdicts",
        "",
        f"- The federation's last global model: **{v['federated']:.5f}**; the devices alone "
        f"(mean over devices): {v['alone-mean']:.5f} — the federation "
        f"{'beats' if v['beats-alone'] else 'does NOT beat'} them "
        f"(their MSE is {v['alone-mean'] / v['federated']:.2f}× the federation's); the best "
        f"single device alone: {v['alone-best']:.5f}"
        f"{' — every device alone does worse' if v['federated'] < v['alone-best'] else ''}.",
        f"- Centralised training on the pooled data, to early stopping: {v['centralised']:.5f}; "
        f"the federation lands at {v['ratio-to-centralised']:.2f}× it — "
        f"{'within' if v['within-margin'] else 'OUTSIDE'} the stated margin of {MARGIN}×.",
        f"- A device alone on its own test split: "
        f"{mean_sd([statistics.fmean(r['alone-own']) for r in runs])} — it knows its region "
        f"well and the rest of the input space badly.",
        "",
        "## Test loss per round",
        "",
        f"One round does the work of {k:g} epochs over the pooled training set; centralised "
        f"training is read after as many epochs.",
        "",
        "| round | federated | centralised, same work | devices alone (mean) |",
        "| --- | --- | --- | --- |",
    ]
    alone_cell = mean_sd([statistics.fmean(r["alone-pooled"]) for r in runs])
    for r in shown:
        epoch = int(round(r * k))
        central = mean_sd([run["centralised"][epoch] for run in runs])
        lines.append(f"| {r} | {mean_sd([run['federated'][r] for run in runs])} | {central} "
                     f"| {alone_cell} |")
    lines += [
        "",
        "![test loss per round](test-loss.svg)",
        "",
        "## Speed on this machine (2 cores)",
        "",
        f"{statistics.median(x['rounds_per_s'] for x in t):.2f} rounds per second, "
        f"{statistics.median(x['trainings_per_s'] for x in t):.1f} client trainings per second "
        f"(medians over the seeds' runs; from the end of the statistics round to the end of the "
        f"last, Flower's simulation engine on Ray with one CPU per ClientApp; the engine's "
        f"start-up is left out). Devices left out of a round: "
        f"{sum(r['left-out'] for r in runs)}.",
        "",
    ]
    return "\n".join(lines)


def plot(figures: dict, path: Path) -> None:
    """Test MSE per round (log scale): federated and centralised (mean and range over seeds),
    the devices alone (mean), the mean predictor."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "tinytrain-fleet"  # the same SVG for the same figures

    runs = figures["runs"]
    k = figures["passes-per-round"]
    fed = np.array([r["federated"] for r in runs])
    rounds = np.arange(fed.shape[1])
    central = np.array([r["centralised"] for r in runs])
    epochs = np.arange(central.shape[1]) / k
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for curve, x, label in ((fed, rounds, "federated (FedAvg)"),
                            (central, epochs, "centralised, same work")):
        line, = ax.plot(x, curve.mean(0), label=label)
        ax.fill_between(x, curve.min(0), curve.max(0), color=line.get_color(), alpha=0.2)
    ax.axhline(statistics.fmean(r["centralised-converged"] for r in runs), color="C1",
               linestyle=":", label="centralised, converged")
    ax.axhline(statistics.fmean(statistics.fmean(r["alone-pooled"]) for r in runs),
               color="C3", linestyle="--", label="each device alone (mean)")
    ax.axhline(figures["mean-predictor-test-mse"], color="grey", linestyle="-.",
               label="predicting the mean")
    ax.set_yscale("log")
    ax.set_xlabel("round")
    ax.set_ylabel("pooled test MSE, (log10 US$)²")
    ax.set_title(f"{figures['devices']} devices, seeds 1..{len(runs)}")
    ax.legend(fontsize="small")
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.svg")
    fig.savefig(tmp, metadata={"Date": None})
    plt.close(fig)
    tmp.replace(path)


def from_figures(out: Path) -> None:
    """Writes REPORT.md and the plot again from ``figures.json`` (no training)."""
    figures = json.loads((out / "figures.json").read_text())
    plot(figures, out / "test-loss.svg")
    write_text(out / "REPORT.md", markdown(figures))
