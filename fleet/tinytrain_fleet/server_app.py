"""The ServerApp: standardisation round, then Flower's FedAvg (see
:mod:`tinytrain_fleet.strategy`), then the global model and the run's history.

1. Wait for ``devices`` SuperNodes (in simulation they are all there), ask each for its
   statistics' share and learn which device each node is; fix the run's standardisation
   (:mod:`tinytrain_fleet.standardize`). A device that fails this round is left out of the run.
2. The initial global model: ``tinytrain.Model.initial(widths, seed=seed)`` — the weights
   ``tinytrain.train`` would start from — with those statistics.
3. ``num-server-rounds`` rounds of FedAvg. The statistics travel in every round's
   ``ConfigRecord``, the weights in its ``ArrayRecord``.
4. With ``out-dir``: ``model.ttm`` (the global model in the device's format: ``tinytrain
   predict``, flash it) and ``history.json`` (per round: the devices trained and left out, the
   averaged training metrics, the devices' validation loss, the pooled test loss with
   ``server-test``, the time).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from logging import INFO, WARNING
from pathlib import Path

import numpy as np
import tinytrain
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MessageType, MetricRecord, RecordDict
from flwr.common.logger import log
from flwr.serverapp import Grid, ServerApp

from . import data, standardize, weights
from .client_app import mse
from .settings import Settings
from .strategy import FleetFedAvg


def wait_for_devices(grid: Grid, settings: Settings) -> list[int]:
    """The node ids of the connected SuperNodes, once ``devices`` of them are (sorted)."""
    deadline = time.monotonic() + settings.timeout
    while len(nodes := sorted(grid.get_node_ids())) < max(settings.devices, 1):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(nodes)} of {settings.devices} devices connected")
        log(INFO, "waiting for devices: %d of %d connected", len(nodes), max(settings.devices, 1))
        time.sleep(1)
    return nodes


def statistics_round(grid: Grid, nodes: list[int], settings: Settings):
    """Round 0: every device's share of the statistics. Returns ``(devices, stats, left_out)``:
    node id → device id, the run's statistics, ``[(device or node, reason)]``."""
    messages = [
        Message(content=RecordDict({"config": ConfigRecord({})}), dst_node_id=node,
                message_type=MessageType.QUERY)
        for node in nodes
    ]
    devices, shares, left_out = {}, {}, []
    for reply in grid.send_and_receive(messages, timeout=settings.timeout):
        node = reply.metadata.src_node_id
        if reply.has_error():
            left_out.append((f"node {node}", f"failed: {reply.error.reason}"))
            log(WARNING, "statistics: node %s left out: %s", node, reply.error.reason)
            continue
        share = dict(reply.content["moments"])
        device = int(share.pop("partition-id"))
        devices[node] = device
        shares[device] = share
    stats = standardize.combine(shares[d] for d in sorted(shares))
    log(INFO, "statistics of %d training samples from %d devices fixed for the run",
        int(sum(s["count"] for s in shares.values())), len(shares))
    return devices, stats, left_out


def initial_model(settings: Settings, stats: dict[str, np.ndarray]) -> tinytrain.Model:
    """The seed's initial weights with the run's statistics."""
    state = tinytrain.Model.initial(settings.widths, seed=settings.seed).state_dict()
    state.update(stats)
    return tinytrain.Model.from_state_dict(state)


def run_federation(grid: Grid, settings: Settings) -> tuple[tinytrain.Model, dict]:
    """The whole run on ``grid``; returns the global model and the history."""
    started = time.monotonic()
    nodes = wait_for_devices(grid, settings)
    devices, stats, unreachable = statistics_round(grid, nodes, settings)
    strategy = FleetFedAvg(devices, settings.seed, settings.fraction_train,
                           settings.fraction_evaluate)
    config = ConfigRecord({k: v.tolist() for k, v in stats.items()})
    rounds: dict[int, dict] = {}
    clock = [time.monotonic()]

    def evaluate(server_round: int, arrays: ArrayRecord) -> MetricRecord:
        now = time.monotonic()
        entry = rounds.setdefault(server_round, {})
        entry["seconds"] = now - clock[0]
        clock[0] = now
        if not settings.server_test:
            return MetricRecord({})
        fleet = data.fleet(len(nodes), settings.samples, settings.split_seed)
        model = weights.to_model(arrays, stats, settings.widths)
        loss = mse(model, *fleet.pooled("test"))
        entry["test-loss"] = loss
        return MetricRecord({"test-loss": loss})

    result = strategy.start(
        grid=grid,
        initial_arrays=weights.to_record(initial_model(settings, stats)),
        num_rounds=settings.num_server_rounds,
        timeout=settings.timeout,
        train_config=config,
        evaluate_config=ConfigRecord(dict(config)),
        evaluate_fn=evaluate,
    )
    model = weights.to_model(result.arrays, stats, settings.widths)
    for r in range(1, settings.num_server_rounds + 1):
        entry = rounds.setdefault(r, {})
        entry["trained"] = sorted(
            devices[n] for n in strategy.sample(r, settings.fraction_train,
                                                strategy.min_train_nodes, "train"))
        entry["left-out"] = [list(pair) for pair in strategy.left_out.get(r, [])]
        entry["train"] = dict(result.train_metrics_clientapp.get(r, {}))
        entry["evaluate"] = dict(result.evaluate_metrics_clientapp.get(r, {}))
    history = {
        "settings": settings.to_run_config(),
        "devices": len(devices),
        "statistics": {k: v.tolist() for k, v in stats.items()},
        "unreachable": [list(pair) for pair in unreachable],
        "rounds": [dict(round=r, **rounds[r]) for r in sorted(rounds)],
        "seconds": time.monotonic() - started,
        "model-sha256": hashlib.sha256(model.params.tobytes() + model.stats.tobytes()).hexdigest(),
    }
    if settings.out_dir:
        out = Path(settings.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        model.save(out / "model.ttm")
        write_json(out / "history.json", history)
    return model, history


def write_json(path: Path, value: dict) -> None:
    """Writes ``value`` as JSON atomically (a temporary file renamed over ``path``)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(value, indent=1) + "\n")
    os.replace(tmp, path)


def make_server_app(settings: Settings | None = None, outcome: list | None = None) -> ServerApp:
    """The ServerApp, with fixed ``settings`` or (``None``) those of Flower's run config.
    With ``outcome``, a list, the run appends ``(model, history)`` to it, or the exception
    that stopped it."""
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        try:
            done = run_federation(grid, settings or Settings.from_run_config(context.run_config))
        except Exception as e:
            if outcome is None:
                raise
            outcome.append(e)
            raise
        if outcome is not None:
            outcome.append(done)

    return app


#: The ServerApp of ``pyproject.toml`` (``flwr run``): settings from the run config.
app = make_server_app()
