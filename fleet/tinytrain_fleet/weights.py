"""A model on the wire: the global model's weights as Flower's ``ArrayRecord`` (the
``state_dict`` names of PyTorch's ``nn.Sequential``: ``0.weight`` ``(fan_out, fan_in)``,
``0.bias``, ``2.weight``, …), the standardisation travelling apart, as the run's fixed
statistics (see :mod:`tinytrain_fleet.standardize`). Averaging the statistics with the weights
would change their bits at every round."""

from __future__ import annotations

import numpy as np
import tinytrain
from flwr.app import Array, ArrayRecord

STATS = ("input_mean", "input_std", "target_mean", "target_std")


def to_record(model: tinytrain.Model) -> ArrayRecord:
    """The model's weights and biases, by name, float32."""
    state = model.state_dict()
    return ArrayRecord({k: Array(v) for k, v in state.items() if k not in STATS})


def widths_of(record: ArrayRecord) -> list[int]:
    """The layer widths the arrays of ``record`` make, input first; ``ValueError`` naming the
    array at fault if they are not a chain of ``Linear`` layers."""
    widths: list[int] = []
    for key, array in record.items():
        shape = tuple(array.shape)
        if key.endswith(".weight"):
            if len(shape) != 2 or (widths and widths[-1] != shape[1]):
                raise ValueError(f"array {key!r} of shape {shape} does not follow {widths}")
            widths = (widths or [shape[1]]) + [shape[0]]
        elif not (key.endswith(".bias") and shape == (widths[-1] if widths else -1,)):
            raise ValueError(f"array {key!r} of shape {shape} is not a layer's bias")
    return widths


def to_model(record: ArrayRecord, stats: dict[str, np.ndarray], widths: list[int]) -> tinytrain.Model:
    """The model of the weights in ``record`` and the statistics ``stats`` (the four arrays of
    :data:`STATS`). The record's widths must be ``widths``, or a ``ValueError`` says both."""
    got = widths_of(record)
    if got != widths:
        raise ValueError(
            f"the global model has widths {got}, but this device trains widths {widths}: "
            "server and devices must agree on the run's `hidden` setting"
        )
    state = {k: a.numpy() for k, a in record.items()}
    state.update({k: np.asarray(stats[k], dtype=np.float32) for k in STATS})
    return tinytrain.Model.from_state_dict(state)
