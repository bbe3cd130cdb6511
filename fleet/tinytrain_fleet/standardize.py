"""Shared standardisation: one federated round of counts, sums and sums of squares, before
any training.

Averaging weights only makes sense if every device scales its inputs and targets the same way
(a weight multiplies ``(x − mean) / std``: with other statistics it means something else). So
the first round of a run asks every device for the count ``n`` of its training samples and, for
each input column and the target, the sum ``Σx`` and the sum of squares ``Σx²`` of its values —
in ``float64`` on the device and on the server, added up in the order of the devices' ids.
The server then fixes, for the whole run,

    mean = Σx / n,    std = sqrt(max(Σx² / n − mean², 0))      (population statistics),

and a column whose ``std`` is at most 1e-6 of ``|mean|`` (or not a normal ``float32``) is only
shifted (``std = 1``), as ``tinytrain``'s own scaler decides. These are the pooled training
set's statistics, as centralised training fits them, up to rounding: the one-pass formula
loses about ``(mean / std)² · 1e-16`` of relative precision, nothing for data whose spread is
not below a millionth of its mean — which the rule above treats as constant anyway.

Devices send aggregates only, never a sample.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np

#: Relative spread under which a column is constant: ``tinytrain``'s ``CONSTANT_RELATIVE_DEV``.
CONSTANT_RELATIVE_DEV = 1e-6


def moments(X: np.ndarray, y: np.ndarray) -> dict[str, float | list[float]]:
    """A device's share: ``count``, and ``input-sum``, ``input-sum-sq`` (one per column),
    ``target-sum``, ``target-sum-sq``, in float64 (Flower's ``MetricRecord`` values)."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(len(X), -1)
    return {
        "count": float(len(X)),
        "input-sum": X.sum(axis=0).tolist(),
        "input-sum-sq": (X * X).sum(axis=0).tolist(),
        "target-sum": y.sum(axis=0).tolist(),
        "target-sum-sq": (y * y).sum(axis=0).tolist(),
    }


def combine(shares: Iterable[Mapping[str, float | list[float]]]) -> dict[str, np.ndarray]:
    """The run's statistics from the devices' :func:`moments`, taken in the order given (the
    caller sorts them by device id): ``input_mean``, ``input_std``, ``target_mean``,
    ``target_std``, float32 arrays, the names of a model's ``state_dict``."""
    total: dict[str, np.ndarray] = {}
    for share in shares:
        for key, value in share.items():
            value = np.asarray(value, dtype=np.float64)
            total[key] = total[key] + value if key in total else value
    if not total or total["count"] <= 0:
        raise ValueError("no device reported a training sample: no statistics")
    n = total["count"]
    out = {}
    for side in ("input", "target"):
        mean = total[f"{side}-sum"] / n
        var = np.maximum(total[f"{side}-sum-sq"] / n - mean * mean, 0.0)
        std = np.sqrt(var)
        std32 = std.astype(np.float32)
        normal = np.isfinite(std32) & (std32 >= np.finfo(np.float32).tiny)
        spread = (std > CONSTANT_RELATIVE_DEV * np.abs(mean)) & normal
        out[f"{side}_mean"] = mean.astype(np.float32)
        out[f"{side}_std"] = np.where(spread, std, 1.0).astype(np.float32)
    return out
