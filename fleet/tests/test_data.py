"""Regions of the input space, one per device, and their splits."""

import numpy as np
import pytest

from tinytrain_fleet import data


def test_the_diamonds_load_offline():
    X, y = data.diamonds()
    assert X.shape == (53920, 9) and y.shape == (53920,)
    assert X.dtype == y.dtype == np.float32
    assert np.isfinite(X).all() and np.isfinite(y).all()
    assert 2.5 < y.min() < y.max() < 4.3  # log10 of $326 … $18,823


@pytest.mark.parametrize("n, shape", [(50, (10, 5)), (5, (5, 1)), (8, (4, 2)), (1, (1, 1))])
def test_grid_shape(n, shape):
    assert data.grid_shape(n) == shape


def test_regions_cover_every_row_once_and_split_the_carats():
    X, _ = data.diamonds()
    regions = data.regions(X, 50)
    rows = np.concatenate(regions)
    assert len(rows) == len(X) and len(np.unique(rows)) == len(X)
    assert max(map(len, regions)) - min(map(len, regions)) <= 1
    carat = X[:, 0]
    # Ten bands along carat: each band's heaviest diamond is no heavier than the next's lightest.
    bands = [np.concatenate(regions[5 * b : 5 * b + 5]) for b in range(10)]
    for lighter, heavier in zip(bands, bands[1:]):
        assert carat[lighter].max() <= carat[heavier].min()
    assert carat[bands[0]].max() < 0.35 and carat[bands[-1]].min() > 1.4


def test_device_splits_are_disjoint_deterministic_and_pool_to_everything():
    fleet = data.fleet(50)
    assert data.fleet(50) is fleet  # cached: a ClientApp loads once per process
    total = sum(len(getattr(d, f"y_{p}")) for d in fleet.devices for p in ("train", "val", "test"))
    assert total == 53920
    device = fleet.devices[7]
    assert abs(len(device.y_test) / (total / 50) - 0.2) < 0.01
    X_test, _ = fleet.pooled("test")
    assert len(X_test) == sum(len(d.y_test) for d in fleet.devices)
    small = data.fleet(5, 1500, 0)
    assert sum(len(d.y_train) + len(d.y_val) + len(d.y_test) for d in small.devices) == 1500
    again = data.fleet.__wrapped__(5, 1500, 0)
    assert again.devices[3].X_train.tobytes() == small.devices[3].X_train.tobytes()
    other = data.fleet.__wrapped__(5, 1500, 1)
    assert other.devices[3].X_train.tobytes() != small.devices[3].X_train.tobytes()
    with pytest.raises(ValueError, match="samples=20"):
        data.fleet(5, 20)
