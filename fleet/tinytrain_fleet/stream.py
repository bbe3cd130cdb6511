"""A device that trains the way the emulated board does: the stream driver.

The link firmware (``tinytrain device train``) learns with the core's stream driver — samples
arrive one at a time, go to a replay buffer or (every fifth) a validation window, and
mini-batches drawn from the buffer train on a schedule — not with the epoch trainer of the
fleet's other devices. A simulated device with ``driver = "stream"`` trains as the board does,
with ``tinytrain.Stream(model=…)``: from the global weights and the run's standardisation (no
warm-up), a fresh optimizer each round (the board is sent the weights and statistics alone),
fed its training split once, in an order shuffled by the round's seed, every due step run after
each arrival. It returns the stream's checkpoint — the weights that scored best on its
validation window (the global ones until some beat them). The same samples in the same order
with the same settings give the board's bits (tested: ``tests/test_board.py``).

One pass of the data per round, not ``local-epochs``: fed twice, a sample would be held out
for validation in one pass and trained on in the next. The amount of training per round is
set by ``stream-every`` and ``stream-steps-per`` instead. The defaults — a replay buffer of
256 samples, four steps after every arrival — make a round of a device with ``n`` training
samples ``4n`` steps (the trainer's ``local-epochs`` epochs make ``local-epochs · n /
batch-size``): one step per arrival left the first rounds, from the initial weights, barely
learning (a device of 160 samples: validation MSE 0.166 → 0.162 in its first round, against
0.003 with four).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tinytrain

from . import data
from .settings import Settings

#: Epochs of the stream (``⌈replay / batch-size⌉`` steps each) without a better validation
#: loss before it pauses for the rest of the round: ``tinytrain train --stream``'s default.
PATIENCE = 20


def stream_settings(settings: Settings, seed: int) -> dict[str, Any]:
    """The keyword arguments of ``tinytrain.Stream`` for a round of a device seeded ``seed``
    (the board's ``device train`` takes the same values as flags: see
    :func:`tinytrain_fleet.board.device_flags`)."""
    return {
        "optimizer": settings.optimizer,
        "learning_rate": settings.learning_rate,
        "batch_size": settings.batch_size,
        "patience": PATIENCE,
        "seed": seed,
        "replay": settings.stream_replay,
        "every": settings.stream_every,
        "steps_per": settings.stream_steps_per,
    }


def arrivals(device: data.Device, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The device's training split in the order its samples arrive in a round seeded
    ``seed``: inputs float32 ``(n, 9)``, targets float32 ``(n,)``."""
    order = np.random.default_rng(seed).permutation(len(device.y_train))
    return device.X_train[order], device.y_train[order]


def stream_training(
    settings: Settings, device: data.Device, start: tinytrain.Model, seed: int
) -> tuple[tinytrain.Model, dict]:
    """One pass of the device's training split through the stream driver from ``start``
    (weights and statistics); the checkpoint and the stream's report (``tinytrain train
    --stream --report``'s fields: ``history``, ``best_val_mse``, …, in the target's units)."""
    stream = tinytrain.Stream(model=start, **stream_settings(settings, seed))
    stream.feed(*arrivals(device, seed))
    model, _ = stream.finish()
    return model, stream.report()


def metrics(report: dict, device: data.Device) -> dict[str, float | int]:
    """A training reply's metrics from a stream's report (the stream driver's on the host,
    or the board's): ``num-examples`` (the samples sent: FedAvg's weight, as for the
    trainer), ``train-loss`` (the last epoch's training MSE), ``val-loss`` (the checkpoint's
    on the validation window). ``ValueError`` if the stream ended no epoch."""
    trained = [row["train_mse"] for row in report["history"] if row["train_mse"] is not None]
    best = report["best_val_mse"]
    if not trained or best is None:
        raise ValueError(
            f"device {device.id}: its {len(device.y_train)} samples ended no epoch of the "
            f"stream with a validation loss (an epoch is ⌈replay / batch-size⌉ steps): "
            "give the stream more steps (stream-every, stream-steps-per) or a smaller replay"
        )
    return {"num-examples": len(device.y_train), "train-loss": trained[-1], "val-loss": best}
